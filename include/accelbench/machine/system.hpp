#pragma once

// Descriptions of the machine and of the build, recorded with every result.

#include "../detail/eigen.hpp"

#include <chrono>
#include <ctime>
#include <string>

#include "../detail/proc.hpp"
#include "../core/result.hpp"
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
  return b;
}

/// Run-wide warnings that follow from how the program was built.
inline std::vector<std::string> build_warnings(const BuildInfo& b) {
  std::vector<std::string> w;
  if (!b.optimized) w.emplace_back("debug build: compiled without optimisation; timings are not representative");
  if (b.assertions) w.emplace_back("assertions enabled (NDEBUG not defined); timings include their cost");
  return w;
}

/// Now, as ISO 8601 in UTC with a trailing Z.
inline std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
#if defined(_WIN32)
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace accelbench
