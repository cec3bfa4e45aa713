# Settings for accelbench's own programs (tests, examples, benchmarks, apps).
# Nothing here reaches a project that consumes accelbench::accelbench.

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_CUDA_EXTENSIONS OFF)

# Warnings are errors (ACCELBENCH_WARNINGS_AS_ERRORS=OFF shows them without
# stopping the build, for compilers and flags the project is not tested
# with: GCC's flow-based warnings change with the optimisation level).
option(ACCELBENCH_WARNINGS_AS_ERRORS "Compile accelbench's own programs with -Werror" ON)
add_library(accelbench_project_options INTERFACE)
target_compile_options(accelbench_project_options INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic>)
if(ACCELBENCH_WARNINGS_AS_ERRORS)
  target_compile_options(accelbench_project_options INTERFACE $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Werror>)
endif()
# CUDA sources (nvcc): the same warnings from the host compiler, and nvcc's
# own, as errors. No -Wpedantic: GCC would flag the line markers of the code
# nvcc hands it.
target_compile_options(accelbench_project_options INTERFACE
  $<$<COMPILE_LANG_AND_ID:CUDA,NVIDIA>:-Xcompiler=-Wall,-Wextra,-Werror --Werror=all-warnings>)
# -march=native comes with accelbench::accelbench (ACCELBENCH_NATIVE).

# What the reports say about the build: the flags the programs were compiled
# with, the build type and the commit they came from.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _accelbench_bt)
set(_accelbench_flags "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_accelbench_bt}}")
if(ACCELBENCH_NATIVE_FLAGS_ON)
  string(APPEND _accelbench_flags " -march=native")
endif()
if(ACCELBENCH_USE_OPENMP)
  string(APPEND _accelbench_flags " ${OpenMP_CXX_FLAGS}")
endif()
string(STRIP "${_accelbench_flags}" _accelbench_flags)
string(REGEX REPLACE "  +" " " _accelbench_flags "${_accelbench_flags}")

set(ACCELBENCH_GIT_COMMIT "" CACHE STRING "Commit recorded in reports (detected when empty)")
set(_accelbench_commit "${ACCELBENCH_GIT_COMMIT}")
if(NOT _accelbench_commit)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE _accelbench_commit
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
    execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE _accelbench_dirty
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
    if(_accelbench_commit AND _accelbench_dirty)
      string(APPEND _accelbench_commit "-dirty")
    endif()
  endif()
endif()

target_compile_definitions(accelbench_project_options INTERFACE
  "ACCELBENCH_BUILD_FLAGS=\"${_accelbench_flags}\""
  "ACCELBENCH_BUILD_TYPE=\"${CMAKE_BUILD_TYPE}\""
  "ACCELBENCH_GIT_COMMIT=\"${_accelbench_commit}\"")
