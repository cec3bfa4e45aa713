# `accelbench regress` on real runs of a benchmark program built twice
# (regress_bench.cpp): two runs of the normal build compare without a
# regression (exit status 0), the normal build and the one made slower on
# purpose with one (exit status 5, every cell regressed).
#   cmake -DPROGRAM=accelbench -DNORMAL=... -DSLOW=... -DWORK_DIR=... -P regress.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs a command; fails unless its exit status is `expected_status` and its
# output (standard output and error together) matches `expected_output`.
function(expect expected_status expected_output)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("$ ${ARGN}\n${out}")
  if(NOT status STREQUAL "${expected_status}")
    message(FATAL_ERROR "exit status ${status}, expected ${expected_status}")
  endif()
  if(NOT out MATCHES "${expected_output}")
    message(FATAL_ERROR "the output does not match ${expected_output}")
  endif()
endfunction()

expect(0 "" "${NORMAL}" "${WORK_DIR}/normal.json")
expect(0 "" "${NORMAL}" "${WORK_DIR}/normal-again.json")
expect(0 "" "${SLOW}" "${WORK_DIR}/slow.json")
# The slow build waits twice as long; 25% leaves room for a busy machine.
expect(0 "no regression" "${PROGRAM}" regress --baseline "${WORK_DIR}/normal.json"
  --contender "${WORK_DIR}/normal-again.json" --max-slowdown 25%)
expect(5 "delay/delay/cpu/n=1\n.*latency .*regression.*delay/delay/cpu/n=2\n.*latency .*regression.*regression: 2 cells slower than allowed"
  "${PROGRAM}" regress --baseline "${WORK_DIR}/normal.json" --contender "${WORK_DIR}/slow.json" --max-slowdown 25%)
# The three runs in the order they ran (runs that started in the same second
# keep the order given).
expect(0 "3 runs.*delay/delay/cpu/n=1: latency\n.*1  [^\n]*normal.json.*2  [^\n]*normal-again.json.*3  [^\n]*slow.json"
  "${PROGRAM}" history "${WORK_DIR}/normal.json" "${WORK_DIR}/normal-again.json" "${WORK_DIR}/slow.json")
message("regress: ok")
