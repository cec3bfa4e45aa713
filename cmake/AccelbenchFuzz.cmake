# The libFuzzer targets of fuzz/ as tests: fuzz/ is a project of its own,
# configured and built with clang++ (-fsanitize=fuzzer) whatever compiler
# builds the rest; each target then runs a fixed number of inputs over its
# seed corpus (fuzz/corpus/T) and the inputs that once failed
# (fuzz/regressions/T). scripts/fuzz.sh runs them for longer.

find_program(ACCELBENCH_FUZZ_CXX NAMES clang++ clang++-16 clang++-15 clang++-14
             DOC "clang++ that builds the libFuzzer targets of fuzz/")
set(_accelbench_fuzz_default OFF)
if(PROJECT_IS_TOP_LEVEL AND ACCELBENCH_FUZZ_CXX)
  if(NOT DEFINED ACCELBENCH_FUZZ_CXX_WORKS)
    # try_compile with another compiler than the project's: a direct call.
    set(_dir ${PROJECT_BINARY_DIR}/CMakeFiles/accelbench_fuzz_check)
    file(WRITE ${_dir}/check.cpp
         "#include <cstddef>\n#include <cstdint>\n"
         "extern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }\n")
    execute_process(COMMAND ${ACCELBENCH_FUZZ_CXX} -std=c++20 -fsanitize=fuzzer,address,undefined
                            ${_dir}/check.cpp -o ${_dir}/check
                    RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
      set(ACCELBENCH_FUZZ_CXX_WORKS TRUE CACHE INTERNAL "")
    else()
      set(ACCELBENCH_FUZZ_CXX_WORKS FALSE CACHE INTERNAL "")
    endif()
  endif()
  if(ACCELBENCH_FUZZ_CXX_WORKS)
    set(_accelbench_fuzz_default ON)
  endif()
endif()
option(ACCELBENCH_BUILD_FUZZERS "Build and briefly run the libFuzzer targets of fuzz/ as tests (needs clang++)"
       ${_accelbench_fuzz_default})
set(ACCELBENCH_FUZZ_RUNS 5000 CACHE STRING "Inputs each fuzz target runs as a test")

if(ACCELBENCH_BUILD_FUZZERS AND ACCELBENCH_BUILD_TESTS)
  if(NOT ACCELBENCH_FUZZ_CXX)
    message(FATAL_ERROR "ACCELBENCH_BUILD_FUZZERS needs clang++ with libFuzzer (Debian: clang, libclang-rt-dev)")
  endif()
  set(_fuzz_dir ${PROJECT_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_build
           COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR}/fuzz -DBINARY=${_fuzz_dir}
                   -DCXX=${ACCELBENCH_FUZZ_CXX} -DGENERATOR=${CMAKE_GENERATOR}
                   -P ${PROJECT_SOURCE_DIR}/fuzz/build.cmake)
  set_tests_properties(fuzz_build PROPERTIES FIXTURES_SETUP accelbench_fuzzers TIMEOUT 1800 LABELS fuzz)
  set(_fuzz_targets safetensors checkpoint suite proc)
  if(CLI11_FOUND)  # fuzz/ builds fuzz_cli when it finds CLI11 too
    list(APPEND _fuzz_targets cli)
  endif()
  foreach(t IN LISTS _fuzz_targets)
    # New inputs go to the first folder, in the build tree: the seed corpus
    # and the regressions in the source tree are only read.
    file(MAKE_DIRECTORY ${_fuzz_dir}/found/${t})
    set(_dict)
    if(EXISTS ${PROJECT_SOURCE_DIR}/fuzz/${t}.dict)
      set(_dict -dict=${PROJECT_SOURCE_DIR}/fuzz/${t}.dict)
    endif()
    add_test(NAME fuzz_${t}
             COMMAND ${_fuzz_dir}/fuzz_${t} -runs=${ACCELBENCH_FUZZ_RUNS} -seed=1 -timeout=20
                     -rss_limit_mb=2048 -max_len=8192 -artifact_prefix=${_fuzz_dir}/ ${_dict}
                     ${_fuzz_dir}/found/${t}
                     ${PROJECT_SOURCE_DIR}/fuzz/corpus/${t} ${PROJECT_SOURCE_DIR}/fuzz/regressions/${t})
    set_tests_properties(fuzz_${t} PROPERTIES FIXTURES_REQUIRED accelbench_fuzzers TIMEOUT 300 LABELS fuzz)
  endforeach()
endif()
