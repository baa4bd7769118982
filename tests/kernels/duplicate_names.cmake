# cmake -DTABLE_SCRIPT=cmake/kernel_table.cmake -DOUT=dir -P duplicate_names.cmake
# The kernel table generator refuses a name given twice (two kernels/*.cl with one name would
# make one of them unreachable), and writes the table of distinct names.
file(MAKE_DIRECTORY "${OUT}")
file(REMOVE "${OUT}/dup.c" "${OUT}/ok.c")
execute_process(COMMAND ${CMAKE_COMMAND} -DNAMES=dtype,eltwise,dtype -DOUTPUT=${OUT}/dup.c -P ${TABLE_SCRIPT}
                RESULT_VARIABLE dup_result ERROR_VARIABLE dup_error)
if(dup_result EQUAL 0)
  message(FATAL_ERROR "a duplicate name was accepted")
endif()
if(NOT dup_error MATCHES "kernel name 'dtype' appears twice")
  message(FATAL_ERROR "the refusal does not name the duplicate: ${dup_error}")
endif()
if(EXISTS "${OUT}/dup.c")
  message(FATAL_ERROR "a table was written despite the duplicate")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -DNAMES=dtype,eltwise -DOUTPUT=${OUT}/ok.c -P ${TABLE_SCRIPT}
                RESULT_VARIABLE ok_result ERROR_VARIABLE ok_error)
file(READ "${OUT}/ok.c" table)
if(NOT ok_result EQUAL 0 OR NOT table MATCHES "\"dtype\", lcl__kernel_dtype" OR NOT table MATCHES "\"eltwise\", lcl__kernel_eltwise")
  message(FATAL_ERROR "distinct names were not written as a table (${ok_result}): ${ok_error}")
endif()
message(STATUS "kernel_table.cmake refuses a duplicate name and writes distinct ones")
