# Checks that every code block of README.md announced by a line
#     <!-- snippet: <path> -->
# is that file, byte for byte: the README's code comes from examples that are built and run.
#     cmake -DROOT=<repository> -P check_readme.cmake
file(READ "${ROOT}/README.md" readme)
string(REGEX MATCHALL "<!-- snippet: [^ ]+ -->\n```[a-z]*\n" markers "${readme}")
if(NOT markers)
    message(FATAL_ERROR "README.md announces no snippet")
endif()
foreach(marker IN LISTS markers)
    string(REGEX REPLACE "<!-- snippet: ([^ ]+) -->.*" "\\1" path "${marker}")
    string(FIND "${readme}" "${marker}" start)
    string(LENGTH "${marker}" marker_length)
    math(EXPR start "${start} + ${marker_length}")
    string(SUBSTRING "${readme}" ${start} -1 rest)
    string(FIND "${rest}" "```" end)
    string(SUBSTRING "${rest}" 0 ${end} block)
    file(READ "${ROOT}/${path}" source)
    if(NOT block STREQUAL source)
        message(FATAL_ERROR "README.md's snippet of ${path} differs from the file")
    endif()
    message(STATUS "README snippet ${path}: same as the file")
endforeach()
