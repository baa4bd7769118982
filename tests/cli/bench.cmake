# cmake -DBENCH=path/to/leakycl -DOUT=dir -P bench.cmake
# `leakycl bench` on the CPU backend and the OpenCL device at two small sizes: it must exit 0,
# print a row per point, and write CSV and JSON holding the same rows.
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
execute_process(
  COMMAND "${BENCH}" bench --device opencl --min 10 --max 12 --step 2 --time 0.002 --samples 3
          --csv "${OUT}/bench.csv" --json "${OUT}/bench.json"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "leakycl bench exited ${rc}\n${out}\n${err}")
endif()
# 2 devices x 4 dtypes (f64 where supported) x 2 sizes x (3 resident + 2 offload) rows at most
string(REGEX MATCHALL "\n(cpu|opencl) +(resident|offload) +[a-z_]+ +[a-z0-9]+ +2\\^1[02] " rows "${out}")
list(LENGTH rows row_count)
if(row_count LESS 40)
  message(FATAL_ERROR "expected at least 40 rows (cpu and opencl, f32 f16 bf16, 2 sizes, 5 ops), got ${row_count}\n${out}")
endif()
file(STRINGS "${OUT}/bench.csv" csv_lines)
list(LENGTH csv_lines csv_count)
math(EXPR csv_rows "${csv_count} - 1")
if(NOT csv_rows EQUAL row_count)
  message(FATAL_ERROR "the CSV has ${csv_rows} rows, the table ${row_count}")
endif()
file(READ "${OUT}/bench.json" json)
string(JSON json_count LENGTH "${json}")
if(NOT json_count EQUAL row_count)
  message(FATAL_ERROR "the JSON has ${json_count} rows, the table ${row_count}")
endif()
foreach(i RANGE 0 ${json_count})
  if(i EQUAL json_count)
    break()
  endif()
  string(JSON gbps GET "${json}" ${i} gbps)
  if(NOT gbps GREATER 0)
    message(FATAL_ERROR "row ${i} has no speed: ${gbps}")
  endif()
endforeach()
message(STATUS "leakycl bench: ${row_count} rows in the table, CSV and JSON")

# --plot without gnuplot on PATH: a clear message and exit 1, the table and files still written.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env PATH=/nonexistent
          "${BENCH}" bench --device cpu --ops forward --dtypes f32 --min 10 --max 10 --time 0.002 --samples 3
          --csv "${OUT}/noplot.csv" --plot "${OUT}/noplot.png"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "needs gnuplot" OR NOT EXISTS "${OUT}/noplot.csv" OR EXISTS "${OUT}/noplot.png")
  message(FATAL_ERROR "--plot without gnuplot: exit ${rc}, expected 1 with a message naming gnuplot\n${out}\n${err}")
endif()
# With gnuplot (where the machine has it): a PNG.
find_program(GNUPLOT gnuplot)
if(GNUPLOT)
  execute_process(
    COMMAND "${BENCH}" bench --device cpu --ops forward --dtypes f32 --min 10 --max 12 --step 2 --time 0.002
            --samples 3 --plot "${OUT}/plot.png"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(SIZE "${OUT}/plot.png" png_size)
  if(NOT rc EQUAL 0 OR png_size LESS 1000)
    message(FATAL_ERROR "--plot with ${GNUPLOT}: exit ${rc}, ${png_size} bytes\n${out}\n${err}")
  endif()
  message(STATUS "leakycl bench --plot: ${png_size} bytes of PNG")
endif()
