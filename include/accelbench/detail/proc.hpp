#pragma once

// Reading the operating system's description of this process and machine.
// Linux reads /proc; elsewhere the functions return what portable calls give.

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#endif

namespace accelbench::detail {

inline std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

/// "key: value" lines of a /proc file, the first value of `key`.
inline std::optional<std::string> proc_field(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (trim(std::string_view(line).substr(0, colon)) == key) {
      return trim(std::string_view(line).substr(colon + 1));
    }
  }
  return std::nullopt;
}

/// A "NNN kB" field of /proc/self/status, in bytes.
inline std::optional<std::uint64_t> self_status_bytes(std::string_view key) {
  const auto text = read_text_file("/proc/self/status");
  if (!text) return std::nullopt;
  const auto value = proc_field(*text, key);
  if (!value) return std::nullopt;
  try {
    return static_cast<std::uint64_t>(std::stoull(*value)) * 1024u;
  } catch (...) {
    return std::nullopt;
  }
}

/// Resident set size of this process now (0 where the system does not say).
inline std::uint64_t current_rss_bytes() { return self_status_bytes("VmRSS").value_or(0); }

/// High-water mark of the resident set: since the last reset_peak_rss(), or
/// since the process started when resetting is not possible.
inline std::uint64_t peak_rss_bytes() {
  if (auto v = self_status_bytes("VmHWM")) return *v;
#if defined(__unix__) || defined(__APPLE__)
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
#if defined(__APPLE__)
    return static_cast<std::uint64_t>(usage.ru_maxrss);  // bytes on macOS
#else
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024u;  // kilobytes elsewhere
#endif
  }
#endif
  return 0;
}

/// Resets the resident-set high-water mark to the current resident set
/// (Linux 4.0+: "5" written to /proc/self/clear_refs). Returns false where
/// that is not possible; the peak then covers the whole process lifetime.
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

struct CpuDescription {
  std::string model;
  int logical_cores = 0;
  int physical_cores = 0;
  std::vector<std::string> features;
};

/// SIMD and matrix extensions worth reporting, in the order they are listed.
inline const std::vector<std::string_view>& reported_cpu_features() {
  static const std::vector<std::string_view> names = {
      "sse4_2",      "avx",        "avx2",        "fma",         "f16c",       "avx_vnni",
      "avx512f",     "avx512bw",   "avx512vl",    "avx512_vnni", "avx512_bf16", "avx512_fp16",
      "amx_tile",    "amx_bf16",   "amx_int8",    "asimd",       "asimdhp",    "sve",
      "sve2",        "i8mm",       "bf16"};
  return names;
}

inline CpuDescription describe_cpu() {
  CpuDescription cpu;
  cpu.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  const auto text = read_text_file("/proc/cpuinfo");
  if (text) {
    std::set<std::string> flags;
    std::set<std::pair<std::string, std::string>> cores;
    std::string physical_id;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const auto key = trim(std::string_view(line).substr(0, colon));
      const auto value = trim(std::string_view(line).substr(colon + 1));
      if (cpu.model.empty() && (key == "model name" || key == "Model" || key == "cpu model")) {
        cpu.model = value;
      } else if (key == "physical id") {
        physical_id = value;
      } else if (key == "core id") {
        cores.emplace(physical_id, value);
      } else if ((key == "flags" || key == "Features") && flags.empty()) {
        std::istringstream words(value);
        std::string word;
        while (words >> word) flags.insert(word);
      }
    }
    cpu.physical_cores = static_cast<int>(cores.size());
    for (const auto name : reported_cpu_features()) {
      if (flags.count(std::string(name)) != 0) cpu.features.emplace_back(name);
    }
  }
  if (cpu.model.empty()) cpu.model = "unknown CPU";
  if (cpu.physical_cores == 0) cpu.physical_cores = cpu.logical_cores;
  return cpu;
}

/// Physical memory of the machine in bytes (0 when unknown).
inline std::uint64_t total_memory_bytes() {
  if (const auto text = read_text_file("/proc/meminfo")) {
    if (const auto v = proc_field(*text, "MemTotal")) {
      try {
        return static_cast<std::uint64_t>(std::stoull(*v)) * 1024u;
      } catch (...) {
      }
    }
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

}  // namespace accelbench::detail
