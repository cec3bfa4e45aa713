# Runs a command and checks its exit status and its output (standard output
# and standard error together):
#   cmake -DPROGRAM=... -DARGS="run --help" -DEXIT=0 -DEXPECT=<regex> -P expect.cmake
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT status STREQUAL "${EXIT}")
  message(FATAL_ERROR "accelbench ${ARGS}: exit status ${status}, expected ${EXIT}")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "accelbench ${ARGS}: the output does not match ${EXPECT}")
endif()
