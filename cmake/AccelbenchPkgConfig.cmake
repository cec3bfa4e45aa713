# accelbench.pc, for builds without CMake:
#   g++ -std=c++20 -O2 my_bench.cpp $(pkg-config --cflags --libs accelbench)
# The flags are those of accelbench::accelbench as configured here: the
# include folders of accelbench, Eigen, fmt and nlohmann_json, OpenMP,
# -march=native unless ACCELBENCH_NATIVE is OFF, and the fmt and dl libraries.
# The compiler's C++20 mode is the user's to set.

set(_accelbench_pc_includes "")
set(_accelbench_pc_defines "")
foreach(_dep Eigen3::Eigen fmt::fmt nlohmann_json::nlohmann_json)
  list(APPEND _accelbench_pc_includes "$<TARGET_PROPERTY:${_dep},INTERFACE_INCLUDE_DIRECTORIES>")
  list(APPEND _accelbench_pc_defines "$<TARGET_PROPERTY:${_dep},INTERFACE_COMPILE_DEFINITIONS>")
endforeach()
set(_accelbench_pc_includes "$<REMOVE_DUPLICATES:$<FILTER:${_accelbench_pc_includes},EXCLUDE,^$>>")
set(_accelbench_pc_defines "$<REMOVE_DUPLICATES:$<FILTER:${_accelbench_pc_defines},EXCLUDE,^$>>")
set(_accelbench_pc_cflags "-I\${includedir}")
string(APPEND _accelbench_pc_cflags "$<$<BOOL:${_accelbench_pc_includes}>: -I$<JOIN:${_accelbench_pc_includes}, -I>>")
string(APPEND _accelbench_pc_cflags "$<$<BOOL:${_accelbench_pc_defines}>: -D$<JOIN:${_accelbench_pc_defines}, -D>>")
set(_accelbench_pc_libs "")
get_target_property(_accelbench_fmt_type fmt::fmt TYPE)
if(NOT _accelbench_fmt_type STREQUAL "INTERFACE_LIBRARY")
  string(APPEND _accelbench_pc_libs " $<TARGET_LINKER_FILE:fmt::fmt>")
endif()
if(ACCELBENCH_USE_OPENMP)
  string(APPEND _accelbench_pc_cflags " ${OpenMP_CXX_FLAGS}")
  string(APPEND _accelbench_pc_libs " ${OpenMP_CXX_FLAGS}")
endif()
if(ACCELBENCH_NATIVE_FLAGS_ON)
  string(APPEND _accelbench_pc_cflags " -march=native")
endif()
foreach(_lib ${CMAKE_DL_LIBS})
  string(APPEND _accelbench_pc_libs " -l${_lib}")
endforeach()
string(STRIP "${_accelbench_pc_libs}" _accelbench_pc_libs)

# The prefix relative to the .pc file, so that `cmake --install --prefix`
# may put the package anywhere.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(_accelbench_pc_prefix "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _accelbench_pc_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
  string(REGEX REPLACE "/$" "" _accelbench_pc_up "${_accelbench_pc_up}")
  set(_accelbench_pc_prefix "\${pcfiledir}/${_accelbench_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(_accelbench_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(_accelbench_pc_includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# One file per configuration: the fmt library's file can differ between them.
set(_accelbench_pc_dir "${PROJECT_BINARY_DIR}/pkgconfig/$<CONFIG>")
file(GENERATE OUTPUT "${_accelbench_pc_dir}/accelbench.pc" CONTENT
"prefix=${_accelbench_pc_prefix}
includedir=${_accelbench_pc_includedir}

Name: accelbench
Description: ${PROJECT_DESCRIPTION}
Version: ${PROJECT_VERSION}
Cflags: ${_accelbench_pc_cflags}
Libs: ${_accelbench_pc_libs}
")
install(FILES "${_accelbench_pc_dir}/accelbench.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
