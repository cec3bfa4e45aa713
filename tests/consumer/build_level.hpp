#pragma once

// The vector extensions and the OpenMP state a program was compiled with, as
// one line: the consumer prints it, and so does tests/consumer/build_level.cpp,
// built with accelbench's own settings, to compare.

#if __has_include(<accelbench/machine/system.hpp>)
#include <accelbench/machine/system.hpp>
#else  // the single header alone (tests/single_header)
#include <accelbench/accelbench.hpp>
#endif

#include <cstdio>
#include <string>

inline void print_build_level() {
  const accelbench::BuildInfo b = accelbench::build_info();
  std::string simd;
  for (const auto& name : b.simd) simd += (simd.empty() ? "" : ",") + name;
  std::printf("build level: simd=%s; eigen=%s; openmp=%s\n", simd.c_str(), b.eigen_simd.c_str(),
              b.openmp ? "on" : "off");
}
