#pragma once

// Descriptions of the machine and of the build, recorded with every result.

#include "../detail/eigen.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/proc.hpp"
#include "../core/result.hpp"
#include "../core/timestamp.hpp"
#include "../core/version.hpp"

namespace accelbench {

/// The machine: OS, kernel, CPU and memory.
inline SystemInfo system_info() {
  SystemInfo info;
  const auto cpu = detail::describe_cpu();
  info.cpu_model = cpu.model;
  info.logical_cores = cpu.logical_cores;
  info.physical_cores = cpu.physical_cores;
  info.cpu_features = cpu.features;
  info.memory_bytes = detail::total_memory_bytes();
#if defined(__unix__) || defined(__APPLE__)
  utsname u{};
  if (uname(&u) == 0) {
    info.hostname = u.nodename;
    info.os = u.sysname;
    info.kernel = u.release;
    info.architecture = u.machine;
  }
#endif
  if (const auto release = detail::read_text_file("/etc/os-release")) {
    std::istringstream lines(*release);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        auto value = line.substr(12);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        info.os = value;
      }
    }
  }
  return info;
}

namespace detail {

/// The SIMD and matrix extensions this translation unit was compiled for,
/// from the compiler's predefined macros, named and ordered as
/// reported_cpu_features() (the names of /proc/cpuinfo).
inline std::vector<std::string> compiled_cpu_features() {
  // One array, one allocation: a vector grown name by name trips GCC 12's
  // -Warray-bounds where this is inlined.
  static constexpr const char* names[] = {
#if defined(__SSE4_2__)
      "sse4_2",
#endif
#if defined(__AVX__)
      "avx",
#endif
#if defined(__AVX2__)
      "avx2",
#endif
#if defined(__FMA__)
      "fma",
#endif
#if defined(__F16C__)
      "f16c",
#endif
#if defined(__AVXVNNI__)
      "avx_vnni",
#endif
#if defined(__AVX512F__)
      "avx512f",
#endif
#if defined(__AVX512BW__)
      "avx512bw",
#endif
#if defined(__AVX512VL__)
      "avx512vl",
#endif
#if defined(__AVX512VNNI__)
      "avx512_vnni",
#endif
#if defined(__AVX512BF16__)
      "avx512_bf16",
#endif
#if defined(__AVX512FP16__)
      "avx512_fp16",
#endif
#if defined(__AMX_TILE__)
      "amx_tile",
#endif
#if defined(__AMX_BF16__)
      "amx_bf16",
#endif
#if defined(__AMX_INT8__)
      "amx_int8",
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
      "asimd",
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
      "asimdhp",
#endif
#if defined(__ARM_FEATURE_SVE)
      "sve",
#endif
#if defined(__ARM_FEATURE_SVE2)
      "sve2",
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
      "i8mm",
#endif
#if defined(__ARM_FEATURE_BF16)
      "bf16",
#endif
#if !defined(__aarch64__) && defined(__ARM_NEON)
      "neon",
#endif
      nullptr};
  return std::vector<std::string>(std::begin(names), std::end(names) - 1);
}

/// The vector extensions Eigen's kernels use, among reported_cpu_features():
/// a CPU with one of them runs a build without it below its speed.
inline const std::vector<std::string_view>& eigen_vector_features() {
  static const std::vector<std::string_view> names = {"sse4_2", "avx", "avx2", "fma", "avx512f", "asimd", "neon"};
  return names;
}

}  // namespace detail

/// How this translation unit was compiled. The build records its flags, type
/// and commit by defining ACCELBENCH_BUILD_FLAGS, ACCELBENCH_BUILD_TYPE and
/// ACCELBENCH_GIT_COMMIT (accelbench's own programs do); what is not recorded
/// is derived from the compiler's predefined macros.
inline BuildInfo build_info() {
  BuildInfo b;
  b.library_version = version_string;
#if defined(__clang__)
  b.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  b.compiler = "gcc " __VERSION__;
#elif defined(_MSC_VER)
  b.compiler = "msvc " + std::to_string(_MSC_FULL_VER);
#else
  b.compiler = "unknown compiler";
#endif
#if defined(__OPTIMIZE__) || (defined(_MSC_VER) && !defined(_DEBUG))
  b.optimized = true;
#endif
#if !defined(NDEBUG)
  b.assertions = true;
#endif
#if defined(ACCELBENCH_BUILD_FLAGS)
  b.flags = ACCELBENCH_BUILD_FLAGS;
#else
  b.flags = "not recorded (define ACCELBENCH_BUILD_FLAGS)";
#endif
#if defined(ACCELBENCH_BUILD_TYPE)
  b.build_type = ACCELBENCH_BUILD_TYPE;
#endif
  if (b.build_type.empty()) {
    b.build_type = !b.optimized ? "Debug" : (b.assertions ? "optimized with assertions" : "Release");
  }
#if defined(ACCELBENCH_GIT_COMMIT)
  b.git_commit = ACCELBENCH_GIT_COMMIT;
#endif
  b.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
  b.eigen_simd = Eigen::SimdInstructionSetsInUse();
  b.simd = detail::compiled_cpu_features();
#if defined(_OPENMP)
  b.openmp = true;
#endif
  return b;
}

/// Run-wide warnings from the build against the CPU it runs on
/// (`cpu_features` as SystemInfo::cpu_features): vector extensions the CPU
/// has that the build was not compiled for, and a build without OpenMP.
inline std::vector<std::string> build_machine_warnings(const BuildInfo& b,
                                                       const std::vector<std::string>& cpu_features) {
  std::vector<std::string> w;
  std::string missing;
  for (const auto name : detail::eigen_vector_features()) {
    const auto has = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), name) != list.end();
    };
    if (has(cpu_features) && !has(b.simd)) {
      if (!missing.empty()) missing += ", ";
      missing += name;
    }
  }
  if (!missing.empty()) {
    w.push_back("vector extensions: the CPU has " + missing + " but the program was compiled without " +
                (missing.find(',') == std::string::npos ? "it" : "them") + " (Eigen uses " +
                (b.eigen_simd.empty() ? std::string("no SIMD") : b.eigen_simd) +
                "): Cpu timings are below what this CPU does; compile with -march=native "
                "(accelbench::accelbench's default, option ACCELBENCH_NATIVE)");
  }
  if (!b.openmp) {
    w.emplace_back("OpenMP: the program was compiled without it (_OPENMP undefined): the Cpu backend runs on "
                   "one thread; compile and link with -fopenmp (accelbench::accelbench links "
                   "OpenMP::OpenMP_CXX unless ACCELBENCH_USE_OPENMP is OFF)");
  }
  return w;
}

/// Run-wide warnings that follow from how the program was built.
inline std::vector<std::string> build_warnings(const BuildInfo& b) {
  std::vector<std::string> w;
  if (!b.optimized) w.emplace_back("debug build: compiled without optimisation; timings are not representative");
  if (b.assertions) w.emplace_back("assertions enabled (NDEBUG not defined); timings include their cost");
  return w;
}

}  // namespace accelbench
