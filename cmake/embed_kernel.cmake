# cmake -DINPUT=file.cl -DOUTPUT=file.c -DNAME=name -P embed_kernel.cmake
# Writes the kernel source as a byte array (C11 has no raw strings and caps string literals).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${NAME}.cl by cmake/embed_kernel.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "const char lcl__kernel_${NAME}[] = {\n    ${bytes}0x00};\n"
  "const size_t lcl__kernel_${NAME}_size = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
