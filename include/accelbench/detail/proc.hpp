#pragma once

// Reading the operating system's description of this process and machine.
// Linux reads /proc; elsewhere the functions return what portable calls give.

#include <charconv>
#include <cmath>
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

#include "checked_math.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sched.h>
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

/// "NNN kB" (the leading number of a /proc field) in bytes; nothing when
/// there is no number or the bytes do not fit in 64 bits.
inline std::optional<std::uint64_t> kilobytes_to_bytes(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto kb = parse_decimal<std::uint64_t>(text.substr(0, digits));
  if (!kb) return std::nullopt;
  return checked_mul(*kb, std::uint64_t{1024});
}

/// A "NNN kB" field of /proc/self/status, in bytes.
inline std::optional<std::uint64_t> self_status_bytes(std::string_view key) {
  const auto text = read_text_file("/proc/self/status");
  if (!text) return std::nullopt;
  const auto value = proc_field(*text, key);
  if (!value) return std::nullopt;
  return kilobytes_to_bytes(*value);
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
      "sve2",        "i8mm",       "bf16",        "neon"};
  return names;
}

/// What /proc/cpuinfo says: x86 ("model name", "vendor_id", "flags") and
/// ARM ("Features", "CPU implementer") spellings are both understood.
struct CpuInfoText {
  std::string model;
  std::string vendor;
  std::string part;    ///< ARM "CPU part", e.g. 0xd4f
  int processors = 0;  ///< "processor" entries: logical CPUs
  std::set<std::string> packages;                      ///< "physical id" values: sockets
  std::set<std::pair<std::string, std::string>> cores;  ///< (physical id, core id): physical cores
  std::set<std::string> flags;
  std::optional<double> mhz;  ///< "cpu MHz" of the first CPU
};

/// The name of an ARM "CPU implementer" code, or the code itself.
inline std::string arm_implementer_name(const std::string& code) {
  static const std::vector<std::pair<std::string_view, std::string_view>> names = {
      {"0x41", "ARM"},    {"0x42", "Broadcom"}, {"0x43", "Cavium"},   {"0x48", "HiSilicon"},
      {"0x4e", "NVIDIA"}, {"0x51", "Qualcomm"}, {"0x53", "Samsung"},  {"0x61", "Apple"},
      {"0x6d", "Microsoft"}, {"0xc0", "Ampere"}};
  for (const auto& [c, n] : names) {
    if (c == code) return std::string(n);
  }
  return "implementer " + code;
}

inline CpuInfoText parse_cpuinfo(const std::string& text) {
  CpuInfoText info;
  std::string physical_id;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto key = trim(std::string_view(line).substr(0, colon));
    const auto value = trim(std::string_view(line).substr(colon + 1));
    if (key == "processor") {
      ++info.processors;
    } else if (info.model.empty() && (key == "model name" || key == "Model" || key == "cpu model")) {
      info.model = value;
    } else if (info.vendor.empty() && key == "vendor_id") {
      info.vendor = value;
    } else if (info.vendor.empty() && key == "CPU implementer") {
      info.vendor = arm_implementer_name(value);
    } else if (info.part.empty() && key == "CPU part") {
      info.part = value;
    } else if (key == "physical id") {
      physical_id = value;
      info.packages.insert(value);
    } else if (key == "core id") {
      info.cores.emplace(physical_id, value);
    } else if ((key == "flags" || key == "Features") && info.flags.empty()) {
      std::istringstream words(value);
      std::string word;
      while (words >> word) info.flags.insert(word);
    } else if (!info.mhz && key == "cpu MHz") {
      try {
        info.mhz = std::stod(value);
      } catch (...) {
      }
    }
  }
  return info;
}

/// The reported_cpu_features() among `flags`, in that order.
inline std::vector<std::string> reported_features_of(const std::set<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto name : reported_cpu_features()) {
    if (flags.count(std::string(name)) != 0) out.emplace_back(name);
  }
  return out;
}

inline CpuDescription describe_cpu() {
  CpuDescription cpu;
  cpu.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  if (const auto text = read_text_file("/proc/cpuinfo")) {
    const auto info = parse_cpuinfo(*text);
    cpu.model = info.model;
    cpu.physical_cores = static_cast<int>(info.cores.size());
    cpu.features = reported_features_of(info.flags);
  }
  if (cpu.model.empty()) cpu.model = "unknown CPU";
  if (cpu.physical_cores == 0) cpu.physical_cores = cpu.logical_cores;
  return cpu;
}

/// A "NNN kB" field of a /proc/meminfo text, in bytes.
inline std::optional<std::uint64_t> meminfo_bytes(const std::string& text, std::string_view key) {
  const auto value = proc_field(text, key);
  if (!value) return std::nullopt;
  return kilobytes_to_bytes(*value);
}

/// Physical memory of the machine in bytes (0 when unknown).
inline std::uint64_t total_memory_bytes() {
  if (const auto text = read_text_file("/proc/meminfo")) {
    if (const auto v = meminfo_bytes(*text, "MemTotal")) return *v;
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

/// The aggregate "cpu" line of /proc/stat, in clock ticks (USER_HZ) summed
/// over every CPU. Fields a kernel does not report are 0.
struct CpuTicks {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;

  /// Time spent running something (guest time is already within user and nice).
  [[nodiscard]] std::uint64_t busy() const noexcept { return user + nice + system + irq + softirq; }
  /// Every tick accounted: busy, idle, waiting for I/O and stolen by the hypervisor.
  [[nodiscard]] std::uint64_t total() const noexcept { return busy() + idle + iowait + steal; }
};

/// What /proc/stat says about the CPUs.
struct ProcStat {
  CpuTicks all;  ///< the "cpu" line
  int cpus = 0;  ///< "cpuN" lines: the CPUs the counters cover
  std::vector<std::pair<int, CpuTicks>> per_cpu;  ///< each "cpuN" line, by N
};

/// A decimal unsigned integer that is the whole of `text`, or nullopt
/// (a sign, other characters or a value beyond 64 bits).
inline std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

/// The counters after a "cpu" or "cpuN" name: at least user, nice, system
/// and idle, each a non-negative integer; fields after steal (guest,
/// guest_nice, already within user and nice) are ignored.
inline std::optional<CpuTicks> parse_cpu_ticks(std::string_view fields_text) {
  CpuTicks t;
  std::uint64_t* fields[] = {&t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq, &t.softirq, &t.steal};
  std::size_t count = 0;
  while (true) {
    const auto start = fields_text.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    fields_text = fields_text.substr(start);
    const auto stop = fields_text.find_first_of(" \t\r");
    const auto value = parse_u64(fields_text.substr(0, stop));
    if (!value) return std::nullopt;
    if (count < std::size(fields)) *fields[count] = *value;
    ++count;
    if (stop == std::string_view::npos) break;
    fields_text = fields_text.substr(stop);
  }
  if (count < 4) return std::nullopt;
  return t;
}

/// The text of /proc/stat, or nullopt unless it has one well-formed "cpu"
/// line and at least one "cpuN" line, all well-formed (see parse_cpu_ticks)
/// with distinct N. Other lines are ignored.
inline std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat out;
  bool aggregate = false;
  std::set<int> seen;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.rfind("cpu", 0) != 0) continue;
    const auto space = line.find_first_of(" \t");
    const std::string_view name = line.substr(0, space);
    const bool one_cpu = name.size() > 3;  // "cpuN", not the aggregate "cpu"
    std::uint64_t index = 0;
    if (one_cpu) {
      const auto n = parse_u64(name.substr(3));
      if (!n || *n > (1u << 20)) continue;  // not a CPU's line
      index = *n;
    }
    if (space == std::string_view::npos) return std::nullopt;
    const auto ticks = parse_cpu_ticks(line.substr(space));
    if (!ticks) return std::nullopt;
    if (!one_cpu) {
      if (aggregate) return std::nullopt;  // a second "cpu" line
      out.all = *ticks;
      aggregate = true;
      continue;
    }
    const int n = static_cast<int>(index);
    if (!seen.insert(n).second) return std::nullopt;  // the same CPU twice
    out.per_cpu.emplace_back(n, *ticks);
  }
  out.cpus = static_cast<int>(out.per_cpu.size());
  if (!aggregate || out.cpus == 0) return std::nullopt;
  return out;
}

/// The CPUs this process may run on (its affinity mask), or nullopt where
/// the system does not say.
inline std::optional<std::vector<int>> allowed_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return std::nullopt;
  std::vector<int> cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) return std::nullopt;
  return cpus;
#else
  return std::nullopt;
#endif
}

/// The 1-minute load average, the first field of /proc/loadavg: nullopt
/// unless it is a finite number of 0 or more.
inline std::optional<double> parse_loadavg(std::string_view text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return std::nullopt;
  text = text.substr(start);
  const std::string_view field = text.substr(0, text.find_first_of(" \t\r\n"));
  double v = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

/// CPU time this process has used so far, user and system, all its threads
/// (nullopt where the system does not say).
inline std::optional<double> process_cpu_seconds() {
#if defined(__unix__) || defined(__APPLE__)
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return std::nullopt;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
#else
  return std::nullopt;
#endif
}

}  // namespace accelbench::detail
