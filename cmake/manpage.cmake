# Writes a tool's manual page (section 1, gzip -9n as Debian wants it) from the tool's own help
# texts, so that the page and --help cannot disagree. Run at build time (cmake/packaging.cmake):
#   cmake -DTOOL=path -DNAME=leakycl -DSUMMARY=text -DVERSION=x.y.z -DDATE=yyyy-mm-dd
#         -DHELP="--help|help devices|..." -DSEE_ALSO=leakycl-bench -DGZIP=gzip -DOUTPUT=f.1.gz
#         -P manpage.cmake
# HELP: the tool's arguments for each help text, '|' between them; each becomes a section.

# Troff: backslashes as \e, '-' as a minus sign (\-), a leading '.' or "'" kept as text.
function(manpage_escape text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

string(TOUPPER "${NAME}" title)
manpage_escape("${NAME}" name_escaped)
manpage_escape("${SUMMARY}" summary_escaped)
set(page ".TH ${title} 1 \"${DATE}\" \"leakycl ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\n${name_escaped} \\- ${summary_escaped}\n")

string(REPLACE "|" ";" help_calls "${HELP}")
set(first ON)
foreach(call IN LISTS help_calls)
  separate_arguments(args UNIX_COMMAND "${call}")
  execute_process(COMMAND ${TOOL} ${args} OUTPUT_VARIABLE text RESULT_VARIABLE status
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0 OR text STREQUAL "")
    message(FATAL_ERROR "manpage: '${TOOL} ${call}' failed (${status}) or printed nothing")
  endif()
  manpage_escape("${text}" text)
  if(first)
    string(APPEND page ".SH DESCRIPTION\n")
    set(first OFF)
  else()
    manpage_escape("${NAME} ${call}" heading)
    string(APPEND page ".SH \"${heading}\"\n")
  endif()
  string(APPEND page ".nf\n${text}\n.fi\n")
endforeach()
if(SEE_ALSO)
  string(APPEND page ".SH \"SEE ALSO\"\n")
  foreach(other IN LISTS SEE_ALSO)
    manpage_escape("${other}" other)
    string(APPEND page ".BR ${other} (1)\n")
  endforeach()
endif()

string(REGEX REPLACE "\\.gz$" "" plain "${OUTPUT}")
file(WRITE "${plain}" "${page}")
execute_process(COMMAND ${GZIP} -9nf "${plain}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "manpage: gzip ${plain} failed: ${status}")
endif()
