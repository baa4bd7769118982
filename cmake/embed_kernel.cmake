# cmake -DINPUT=file.cl -DOUTPUT=file.c -DNAME=name -P embed_kernel.cmake
# Writes the kernel source as a NUL-terminated byte array (C11 has no raw strings and caps string
# literals).
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${NAME}.cl by cmake/embed_kernel.cmake: do not edit. */\n"
  "const char lcl__kernel_${NAME}[] = {\n    ${bytes}0x00};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
