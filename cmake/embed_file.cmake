# A file's bytes as a C array: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_file.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed_file.cmake. */\n"
  "const char ${NAME}[] = {${bytes} 0};\n"
  "const unsigned long ${NAME}_len = sizeof(${NAME}) - 1;\n")
