# Builds and runs tests/consumer against accelbench, either installed
# (MODE=find_package) or as a subdirectory (MODE=add_subdirectory); with
# MODE=runner, builds tests/consumer/runner (a runner with its own backend)
# against the installed package and runs its `run` and `matrix`.
#   cmake -DMODE=... -DSOURCE_DIR=... -DBUILD_DIR=... -DWORK_DIR=... -DCXX_COMPILER=... -P run_consumer.cmake

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${result}): ${cmd}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

if(MODE STREQUAL "runner")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/runner -B ${WORK_DIR}/build
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DACCELBENCH_EXAMPLES_DIR=${SOURCE_DIR}/examples)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  set(runner ${WORK_DIR}/build/vendor_runner)
  execute_process(COMMAND ${runner} run --hardware cpu,plain --models bert-tiny --batch-sizes 1
                    --sequence-lengths 8 --min-iterations 2 --min-time 0 --max-time 1 --no-concurrent-loading
                    --quiet --out ${WORK_DIR}/results
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT status EQUAL 0 OR NOT out MATCHES "plain")
    message(FATAL_ERROR "vendor runner: run on cpu and plain failed (${status})")
  endif()
  execute_process(COMMAND ${runner} matrix --backends plain --families embedding --models bert-tiny
                    --max-time 0.5 --quiet --out ${WORK_DIR}/results
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT status EQUAL 0 OR NOT out MATCHES "\\| bert-tiny \\| plain \\| ok \\|")
    message(FATAL_ERROR "vendor runner: matrix on plain failed (${status})")
  endif()
  message("vendor runner: run and matrix on plain ok")
  return()
endif()

if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  set(mode_args -DACCELBENCH_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
elseif(MODE STREQUAL "add_subdirectory")
  set(mode_args -DACCELBENCH_CONSUMER_MODE=add_subdirectory -DACCELBENCH_SOURCE_DIR=${SOURCE_DIR})
else()
  message(FATAL_ERROR "MODE = ${MODE}: use find_package or add_subdirectory")
endif()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${mode_args})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
