# cmake -DBUILD_DIR=... -DTARGET=... -DCONCEPT=... -DREQUIREMENT=... -P expect_failure.cmake
# or, for a static_assert's message: -DMESSAGE=... (its text) with -DBACKEND=...
# and -DFAMILY=... (names the compiler must print around it) instead of -DCONCEPT.
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it should not")
endif()
if(DEFINED MESSAGE)
  string(FIND "${output}" "${MESSAGE}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${TARGET} failed to compile, but without the message \"${MESSAGE}\":\n${output}")
  endif()
  foreach(name BACKEND FAMILY REQUIREMENT)
    if(NOT output MATCHES "${${name}}")
      message(FATAL_ERROR "${TARGET} failed to compile, but the message does not name ${${name}}:\n${output}")
    endif()
  endforeach()
  message(STATUS "${TARGET}: failed to compile with the message \"${MESSAGE}\", naming ${BACKEND}, ${FAMILY} and ${REQUIREMENT}")
  return()
endif()
# The template header lists every concept, so its mere name proves nothing:
# look for the compiler saying that this concept is the one not satisfied.
#   GCC:   required for the satisfaction of 'Backend<B>' [with B = NoSync]
#   Clang: because 'NoSync' does not satisfy 'Backend'
if(NOT output MATCHES "(satisfaction of|does not satisfy) [^A-Za-z]*${CONCEPT}[^A-Za-z]")
  message(FATAL_ERROR "${TARGET} failed to compile, but the message does not say that ${CONCEPT} is unsatisfied:\n${output}")
endif()
if(NOT output MATCHES "${REQUIREMENT}")
  message(FATAL_ERROR "${TARGET} failed to compile, but the message does not name ${REQUIREMENT}:\n${output}")
endif()
message(STATUS "${TARGET}: failed to compile; the message names ${CONCEPT} and ${REQUIREMENT}")
