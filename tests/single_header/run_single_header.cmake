# Builds tests/single_header against single_include/ and runs its programs.
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DCXX_COMPILER=... -P run_single_header.cmake

function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${result}): ${cmd}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/single_header -B ${WORK_DIR}/build
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DACCELBENCH_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
run(${WORK_DIR}/build/quickstart)
if(NOT EXISTS ${WORK_DIR}/results/quickstart.json)
  message(FATAL_ERROR "the quickstart ran but wrote no results/quickstart.json")
endif()
message("single header: quickstart and consumer built and ran")
