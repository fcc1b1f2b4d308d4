# Checks one compile-fail case (see tests/compile_fail/CMakeLists.txt).
#
#   cmake -DSOURCE=<case.cpp> -DARGS_FILE=<compiler arguments, one per line> -P check_compile_fail.cmake
#
# Passes when compiling SOURCE fails and the compiler's output matches the regex on the file's
# first line, "// expect: <regex>".

if(NOT SOURCE OR NOT ARGS_FILE)
    message(FATAL_ERROR "usage: cmake -DSOURCE=<file> -DARGS_FILE=<file> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^//[ \t]*expect:[ \t]*(.*[^ \t])[ \t]*$")
    message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: <regex>`")
endif()
set(expect "${CMAKE_MATCH_1}")

# Empty lines and a bare -I/-D (an empty list in the generated file) are not arguments.
file(STRINGS "${ARGS_FILE}" lines)
set(command "")
foreach(arg IN LISTS lines)
    if(NOT arg STREQUAL "" AND NOT arg STREQUAL "-I" AND NOT arg STREQUAL "-D")
        list(APPEND command "${arg}")
    endif()
endforeach()

execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${command} "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

# Details go out through NOTICE, which prints them as they are; FATAL_ERROR would rewrap them.
if(result EQUAL 0)
    message(NOTICE "${output}")
    message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT output MATCHES "${expect}")
    message(NOTICE "compiler output:\n${output}")
    message(FATAL_ERROR "${SOURCE} failed to compile, but its diagnostics do not match "
                        "the expected regex: ${expect}")
endif()
message(STATUS "failed to compile as expected; matched: ${CMAKE_MATCH_0}")
