# Builds and runs tests/consumer against accelbench.
#   MODE=find_package: installs accelbench with the README's install line (a
#     fresh configure, nothing built), then builds the consumer through
#     find_package and through pkg-config; a consumer configured with
#     ACCELBENCH_NATIVE=OFF compiles without -march=native.
#   MODE=add_subdirectory: builds the consumer with accelbench as a
#     subdirectory; neither CUDA nor accelbench's install rules reach it. A
#     FetchContent consumer (configured only) gets the same, and CUDA, the
#     install rules and the portable flags when it asks.
#   MODE=runner: builds tests/consumer/runner (a runner with its own backend)
#     against the package installed from BUILD_DIR and runs `run` and `matrix`;
#     with PRECOMPILED, the package must have accelbench::precompiled.
# Every consumer built must print the build level REFERENCE_PROGRAM prints.
#   cmake -DMODE=... -DSOURCE_DIR=... -DBUILD_DIR=... -DWORK_DIR=... -DCXX_COMPILER=...
#         [-DREFERENCE_PROGRAM=...] [-DPKG_CONFIG=...] [-DPRECOMPILED=ON] -P run_consumer.cmake

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
  if(PRECOMPILED)
    # Built before installing: the package has accelbench::precompiled.
    run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/precompiled
        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
        -DACCELBENCH_CONSUMER_MODE=find_package -DACCELBENCH_CONSUMER_PRECOMPILED=ON)
  endif()
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

# The line "build level: ..." of a program's output.
function(build_level output var)
  if(NOT output MATCHES "build level: [^\n]*")
    message(FATAL_ERROR "no \"build level:\" line in the output")
  endif()
  set(${var} "${CMAKE_MATCH_0}" PARENT_SCOPE)
endfunction()

# The consumer's output: every cell ok, and the build level of accelbench's own programs.
function(check_consumer program what)
  execute_process(COMMAND ${program} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT status EQUAL 0 OR NOT out MATCHES "consumer: bert-tiny on cpu, 2 cells ok")
    message(FATAL_ERROR "${what}: the consumer failed (${status})")
  endif()
  build_level("${out}" level)
  if(NOT level STREQUAL reference_level)
    message(FATAL_ERROR "${what}: the consumer's build differs from accelbench's own:\n"
                        "  consumer:   ${level}\n  accelbench: ${reference_level}")
  endif()
  message("${what}: ${level}, as accelbench's own build")
endfunction()

# Whether the compile commands of a configured consumer have -march=native.
function(check_native build_dir expected what)
  file(READ ${build_dir}/compile_commands.json commands)
  string(FIND "${commands}" "-march=native" at)
  if(expected AND at EQUAL -1)
    message(FATAL_ERROR "${what}: the consumer is compiled without -march=native:\n${commands}")
  elseif(NOT expected AND NOT at EQUAL -1)
    message(FATAL_ERROR "${what}: the consumer is compiled with -march=native:\n${commands}")
  endif()
endfunction()

# Whether a consumer's configure looked for a CUDA compiler.
function(check_cuda build_dir expected what)
  file(STRINGS ${build_dir}/CMakeCache.txt cuda REGEX "^CMAKE_CUDA_COMPILER:")
  if(expected AND NOT cuda)
    message(FATAL_ERROR "${what}: ACCELBENCH_WITH_CUDA=ON, but no CUDA compiler was looked for")
  elseif(NOT expected AND cuda)
    message(FATAL_ERROR "${what}: accelbench looked for CUDA in a project that did not ask (${cuda})")
  endif()
endfunction()

# Whether `cmake --install` of a consumer installs accelbench's headers and package.
function(check_install build_dir expected what)
  set(prefix ${build_dir}-prefix)
  run(${CMAKE_COMMAND} --install ${build_dir} --prefix ${prefix})
  if(expected AND NOT EXISTS ${prefix}/include/accelbench/accelbench.hpp)
    message(FATAL_ERROR "${what}: ACCELBENCH_INSTALL=ON, but accelbench was not installed")
  elseif(NOT expected)
    file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
    list(FILTER installed EXCLUDE REGEX "^bin/consumer$")
    if(installed)
      message(FATAL_ERROR "${what}: installing the consumer installed accelbench's files: ${installed}")
    endif()
  endif()
endfunction()

if(NOT REFERENCE_PROGRAM)
  message(FATAL_ERROR "REFERENCE_PROGRAM: the program printing accelbench's own build level is needed")
endif()
execute_process(COMMAND ${REFERENCE_PROGRAM} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${REFERENCE_PROGRAM} failed (${status}): ${out}")
endif()
build_level("${out}" reference_level)
set(consumer_args -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)

if(MODE STREQUAL "find_package")
  # The README's install line, with the source, build and prefix folders in WORK_DIR.
  file(STRINGS ${SOURCE_DIR}/README.md readme_line REGEX "^cmake -S \\. -B build .*&& cmake --install build --prefix /opt/accelbench$")
  list(LENGTH readme_line lines)
  if(NOT lines EQUAL 1)
    message(FATAL_ERROR "README.md: expected one line \"cmake -S . -B build ... && cmake --install build --prefix /opt/accelbench\", found ${lines}")
  endif()
  set(prefix ${WORK_DIR}/prefix)
  string(REPLACE " && " ";" commands "${readme_line}")
  foreach(command IN LISTS commands)
    separate_arguments(args UNIX_COMMAND "${command}")
    list(POP_FRONT args program)
    if(NOT program STREQUAL "cmake")
      message(FATAL_ERROR "README.md: the install line runs ${program}, not cmake")
    endif()
    list(TRANSFORM args REPLACE "^\\.$" "${SOURCE_DIR}")
    list(TRANSFORM args REPLACE "^/opt/accelbench$" "${prefix}")
    message("README: ${command}")
    execute_process(COMMAND ${CMAKE_COMMAND} ${args} WORKING_DIRECTORY ${WORK_DIR}
                    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT status EQUAL 0)
      message("${out}")
      message(FATAL_ERROR "README.md's install line failed (${status}) at: ${command}")
    endif()
  endforeach()
  foreach(file include/accelbench/accelbench.hpp lib/cmake/accelbench/accelbenchConfig.cmake lib/pkgconfig/accelbench.pc)
    if(NOT EXISTS ${prefix}/${file})
      message(FATAL_ERROR "README.md's install line did not install ${file}")
    endif()
  endforeach()

  # README's build folder is WORK_DIR/build; the consumer's, WORK_DIR/consumer.
  set(mode_args -DACCELBENCH_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/consumer ${consumer_args} ${mode_args})
  check_native(${WORK_DIR}/consumer TRUE "find_package")
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
  check_consumer(${WORK_DIR}/consumer/consumer "find_package")
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/portable ${consumer_args} ${mode_args}
      -DACCELBENCH_NATIVE=OFF)
  check_native(${WORK_DIR}/portable FALSE "find_package with ACCELBENCH_NATIVE=OFF")
  # Nothing was built before installing: no accelbench::precompiled, and a
  # consumer that requires it is told why.
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/precompiled
                    ${consumer_args} ${mode_args} -DACCELBENCH_CONSUMER_PRECOMPILED=ON
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(status EQUAL 0 OR NOT out MATCHES "accelbench::precompiled was not installed")
    message("${out}")
    message(FATAL_ERROR "find_package(accelbench COMPONENTS precompiled) on a package installed unbuilt: "
                        "expected a failure naming accelbench::precompiled (${status})")
  endif()

  # pkg-config: the consumer compiled with the flags accelbench.pc gives.
  if(NOT PKG_CONFIG)
    message(FATAL_ERROR "pkg-config was not found: install it (scripts/install-deps.sh does)")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig
                    ${PKG_CONFIG} --cflags --libs accelbench
                  RESULT_VARIABLE status OUTPUT_VARIABLE flags ERROR_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs accelbench failed (${status}): ${flags}")
  endif()
  message("pkg-config --cflags --libs accelbench: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX_COMPILER} -std=c++20 -O2 -DNDEBUG ${SOURCE_DIR}/tests/consumer/main.cpp ${flags}
      -o ${WORK_DIR}/consumer_pkg_config)
  check_consumer(${WORK_DIR}/consumer_pkg_config "pkg-config")
elseif(MODE STREQUAL "add_subdirectory")
  set(mode_args -DACCELBENCH_CONSUMER_MODE=add_subdirectory -DACCELBENCH_SOURCE_DIR=${SOURCE_DIR})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build ${consumer_args} ${mode_args})
  check_cuda(${WORK_DIR}/build FALSE "add_subdirectory")
  check_native(${WORK_DIR}/build TRUE "add_subdirectory")
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  check_consumer(${WORK_DIR}/build/consumer "add_subdirectory")
  check_install(${WORK_DIR}/build FALSE "add_subdirectory")
  if(NOT EXISTS ${WORK_DIR}/build-prefix/bin/consumer)
    message(FATAL_ERROR "add_subdirectory: the consumer's own install rule installed nothing")
  endif()

  # FetchContent, configured only: by default as add_subdirectory; with
  # ACCELBENCH_WITH_CUDA, ACCELBENCH_INSTALL and ACCELBENCH_NATIVE=OFF, what was asked.
  set(mode_args -DACCELBENCH_CONSUMER_MODE=FetchContent -DACCELBENCH_SOURCE_DIR=${SOURCE_DIR})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/fetch ${consumer_args} ${mode_args})
  check_cuda(${WORK_DIR}/fetch FALSE "FetchContent")
  check_native(${WORK_DIR}/fetch TRUE "FetchContent")
  check_install(${WORK_DIR}/fetch FALSE "FetchContent")
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/fetch-asked ${consumer_args} ${mode_args}
      -DACCELBENCH_WITH_CUDA=ON -DACCELBENCH_INSTALL=ON -DACCELBENCH_NATIVE=OFF)
  check_cuda(${WORK_DIR}/fetch-asked TRUE "FetchContent with ACCELBENCH_WITH_CUDA=ON")
  check_native(${WORK_DIR}/fetch-asked FALSE "FetchContent with ACCELBENCH_NATIVE=OFF")
  check_install(${WORK_DIR}/fetch-asked TRUE "FetchContent with ACCELBENCH_INSTALL=ON")
else()
  message(FATAL_ERROR "MODE = ${MODE}: use find_package, add_subdirectory or runner")
endif()
message("consumer project (${MODE}): all checks passed")
