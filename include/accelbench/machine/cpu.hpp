#pragma once

// The CPU and memory of this machine, as the operating system describes them
// (/proc and /sys): `accelbench check`'s CPU section. The devices of the
// other backends are found by each backend (backend/opencl/devices.hpp,
// backend/cuda/devices.hpp); docs/hardware.md describes the report.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../detail/checked_math.hpp"
#include "../detail/proc.hpp"
#include "device_report.hpp"

namespace accelbench {

/// Where the operating system's descriptions are read from; tests point
/// these at fake trees.
struct HardwareRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
};

/// One cache of the first CPU, from /sys/devices/system/cpu/cpu0/cache/index*.
struct CpuCache {
  int level = 0;
  std::string type;             ///< "data", "instruction" or "unified"
  std::uint64_t size_bytes = 0;
  int shared_by = 0;            ///< logical CPUs that share it (0 when unknown)

  /// "L1d", "L1i", "L2", "L3".
  [[nodiscard]] std::string name() const {
    std::string n(1, 'L');  // not "L" + to_string: GCC 12's -Wrestrict misfires on it at -O3
    n += std::to_string(level);
    if (type == "data") n += 'd';
    if (type == "instruction") n += 'i';
    return n;
  }
  friend bool operator==(const CpuCache&, const CpuCache&) = default;
};

struct CpuHardware {
  std::string model;         ///< "unknown CPU" when the system does not say
  std::string vendor;        ///< vendor_id on x86, the implementer's name on ARM; "" when unknown
  std::string architecture;  ///< the kernel's machine name (x86_64, aarch64)
  int logical_cores = 0;
  int physical_cores = 0;
  int sockets = 0;           ///< 0 when unknown
  std::vector<std::string> simd;  ///< SIMD and matrix extensions, in detail::reported_cpu_features() order
  std::vector<CpuCache> caches;   ///< by level, data before instruction
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_available_bytes = 0;
  std::optional<double> mhz;      ///< clock of the first CPU when read
  std::optional<double> max_mhz;  ///< highest clock cpufreq allows
  friend bool operator==(const CpuHardware&, const CpuHardware&) = default;
};

namespace detail {

/// The first line of a small file such as /sys's, trimmed; "" when unreadable.
inline std::string sys_value(const std::filesystem::path& path) {
  const auto text = read_text_file(path.string());
  if (!text) return {};
  return trim(std::string_view(*text).substr(0, text->find('\n')));
}

/// "32K" -> 32768, "1M" -> 1048576, "512" -> 512; nullopt when not a size
/// or when it does not fit in 64 bits.
inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  const std::string s = trim(text);
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
  const auto n = parse_decimal<std::uint64_t>(std::string_view(s).substr(0, i));
  if (!n) return std::nullopt;
  std::string unit = s.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  unit = trim(unit);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  if (unit == "K" || unit == "KB" || unit == "KIB") scale = std::uint64_t{1} << 10;
  if (unit == "M" || unit == "MB" || unit == "MIB") scale = std::uint64_t{1} << 20;
  if (unit == "G" || unit == "GB" || unit == "GIB") scale = std::uint64_t{1} << 30;
  if (scale == 0) return std::nullopt;
  return checked_mul(*n, scale);
}

/// The CPUs of a list such as "0-3,8-11" (8); 0 when empty, malformed, or
/// when a number or the count does not fit in an int.
inline int count_cpu_list(std::string_view text) {
  int count = 0;
  std::istringstream items{std::string(text)};
  std::string item;
  const auto cpu_number = [](std::string_view digits) -> std::optional<int> {
    const auto v = parse_decimal<std::uint32_t>(trim(digits));
    if (!v || *v > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) return std::nullopt;
    return static_cast<int>(*v);
  };
  while (std::getline(items, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    const auto dash = item.find('-');
    std::optional<int> added;
    if (dash == std::string::npos) {
      if (cpu_number(item)) added = 1;
    } else {
      const auto first = cpu_number(std::string_view(item).substr(0, dash));
      const auto last = cpu_number(std::string_view(item).substr(dash + 1));
      if (!first || !last || *last < *first) return 0;
      added = checked_add(*last - *first, 1);
    }
    if (!added) return 0;
    const auto sum = checked_add(count, *added);
    if (!sum) return 0;
    count = *sum;
  }
  return count;
}

/// The CPUs of a hexadecimal mask such as "00000000,0000000f" (4).
inline int count_cpu_mask(std::string_view text) {
  int count = 0;
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) != 0 ? c - '0' : std::tolower(c) - 'a' + 10;
    for (int b = 0; b < 4; ++b) count += (v >> b) & 1;
  }
  return count;
}

inline std::vector<CpuCache> read_cpu_caches(const std::filesystem::path& cache_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, CpuCache>> found;
  std::error_code ec;
  for (fs::directory_iterator it(cache_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (dir.rfind("index", 0) != 0) continue;
    int index = 0;
    try {
      index = std::stoi(dir.substr(5));
    } catch (...) {
      continue;
    }
    CpuCache c;
    try {
      c.level = std::stoi(sys_value(it->path() / "level"));
    } catch (...) {
      continue;
    }
    std::string type = sys_value(it->path() / "type");
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char ch) { return std::tolower(ch); });
    c.type = type;
    c.size_bytes = parse_size(sys_value(it->path() / "size")).value_or(0);
    const std::string list = sys_value(it->path() / "shared_cpu_list");
    c.shared_by = !list.empty() ? count_cpu_list(list) : count_cpu_mask(sys_value(it->path() / "shared_cpu_map"));
    found.emplace_back(index, std::move(c));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.second.level, a.first) < std::pair(b.second.level, b.first);
  });
  std::vector<CpuCache> out;
  for (auto& [index, c] : found) out.push_back(std::move(c));
  return out;
}

/// ARM core names of the commonest "CPU part" codes of ARM Ltd (implementer 0x41).
inline std::string arm_part_name(const std::string& part) {
  static const std::vector<std::pair<std::string_view, std::string_view>> names = {
      {"0xd03", "Cortex-A53"},  {"0xd07", "Cortex-A57"},  {"0xd08", "Cortex-A72"},  {"0xd0b", "Cortex-A76"},
      {"0xd0c", "Neoverse-N1"}, {"0xd40", "Neoverse-V1"}, {"0xd49", "Neoverse-N2"}, {"0xd4f", "Neoverse-V2"},
      {"0xd8e", "Neoverse-N3"}, {"0xd84", "Neoverse-V3"}};
  for (const auto& [p, n] : names) {
    if (p == part) return std::string(n);
  }
  return {};
}

/// Per-CPU (package, core) pairs of /sys/devices/system/cpu/cpuN/topology.
inline std::set<std::pair<std::string, std::string>> sys_core_topology(const std::filesystem::path& cpu_dir) {
  namespace fs = std::filesystem;
  std::set<std::pair<std::string, std::string>> cores;
  std::error_code ec;
  for (fs::directory_iterator it(cpu_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (dir.size() < 4 || dir.rfind("cpu", 0) != 0 ||
        !std::all_of(dir.begin() + 3, dir.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    const std::string package = sys_value(it->path() / "topology" / "physical_package_id");
    const std::string core = sys_value(it->path() / "topology" / "core_id");
    if (!package.empty() && !core.empty()) cores.emplace(package, core);
  }
  return cores;
}

inline std::optional<double> sys_khz_as_mhz(const std::filesystem::path& path) {
  const std::string v = sys_value(path);
  if (v.empty()) return std::nullopt;
  try {
    return std::stod(v) / 1000.0;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace detail

/// The CPU and memory of this machine: /proc/cpuinfo (model, vendor, cores,
/// sockets, flags, clock), /proc/meminfo (memory), /sys/devices/system/cpu
/// (caches of cpu0, online CPUs, topology, cpufreq's limits).
[[nodiscard]] inline CpuHardware detect_cpu(const HardwareRoots& roots = {}) {
  namespace fs = std::filesystem;
  CpuHardware cpu;
  const fs::path cpu_dir = fs::path(roots.sys) / "devices" / "system" / "cpu";
  detail::CpuInfoText info;
  if (const auto text = detail::read_text_file((fs::path(roots.proc) / "cpuinfo").string())) {
    info = detail::parse_cpuinfo(*text);
  }
  cpu.model = info.model;
  cpu.vendor = info.vendor;
  if (cpu.model.empty() && info.vendor == "ARM") {
    const std::string part = detail::arm_part_name(info.part);
    if (!part.empty()) cpu.model = "ARM " + part;
  }
  if (cpu.model.empty()) cpu.model = "unknown CPU";
#if defined(__unix__) || defined(__APPLE__)
  utsname u{};
  if (uname(&u) == 0) cpu.architecture = u.machine;
#endif

  cpu.logical_cores = info.processors;
  if (cpu.logical_cores == 0) cpu.logical_cores = detail::count_cpu_list(detail::sys_value(cpu_dir / "online"));
  if (cpu.logical_cores == 0) cpu.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  auto cores = info.cores;
  std::set<std::string> packages = info.packages;
  if (cores.empty()) {
    cores = detail::sys_core_topology(cpu_dir);
    for (const auto& [package, core] : cores) packages.insert(package);
  }
  cpu.physical_cores = cores.empty() ? cpu.logical_cores : static_cast<int>(cores.size());
  cpu.sockets = static_cast<int>(packages.size());

  cpu.simd = detail::reported_features_of(info.flags);
  cpu.caches = detail::read_cpu_caches(cpu_dir / "cpu0" / "cache");

  if (const auto text = detail::read_text_file((fs::path(roots.proc) / "meminfo").string())) {
    cpu.memory_total_bytes = detail::meminfo_bytes(*text, "MemTotal").value_or(0);
    cpu.memory_available_bytes =
        detail::meminfo_bytes(*text, "MemAvailable").value_or(detail::meminfo_bytes(*text, "MemFree").value_or(0));
  }

  cpu.mhz = info.mhz;
  if (!cpu.mhz) cpu.mhz = detail::sys_khz_as_mhz(cpu_dir / "cpu0" / "cpufreq" / "scaling_cur_freq");
  cpu.max_mhz = detail::sys_khz_as_mhz(cpu_dir / "cpu0" / "cpufreq" / "cpuinfo_max_freq");
  return cpu;
}

/// The CPU section's lines (without its "CPU" heading).
[[nodiscard]] inline std::string format_cpu_hardware(const CpuHardware& c) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  hardware_line(out, 2, "model", c.model);
  hardware_line(out, 2, "vendor", c.vendor.empty() ? "unknown" : c.vendor);
  hardware_line(out, 2, "architecture", c.architecture.empty() ? "unknown" : c.architecture);
  std::string cores = fmt::format("{} logical, {} physical", c.logical_cores, c.physical_cores);
  if (c.sockets > 0) cores += ", " + detail::plural(c.sockets, "socket", "sockets");
  hardware_line(out, 2, "cores", cores);
  std::string clock = c.mhz ? fmt::format("{:.0f} MHz", *c.mhz) : "unknown";
  if (c.max_mhz) clock += fmt::format(", max {:.0f} MHz", *c.max_mhz);
  hardware_line(out, 2, "clock", clock);
  std::string simd;
  for (const auto& s : c.simd) simd += (simd.empty() ? "" : " ") + s;
  hardware_line(out, 2, "SIMD", simd.empty() ? "none reported" : simd);
  for (const auto& cache : c.caches) {
    std::string v = binary_size(cache.size_bytes);
    if (cache.shared_by > 0) v += ", shared by " + detail::plural(cache.shared_by, "CPU", "CPUs");
    hardware_line(out, 2, cache.name() + " cache", v);
  }
  if (c.caches.empty()) hardware_line(out, 2, "caches", "unknown");
  hardware_line(out, 2, "memory",
                c.memory_total_bytes == 0 ? std::string("unknown")
                                          : binary_size(c.memory_total_bytes) + " total, " +
                                                binary_size(c.memory_available_bytes) + " available");
  return out;
}

/// The CPU section as JSON; unknown values are null. cpu_hardware_from_json
/// reads it back.
[[nodiscard]] inline Json to_json(const CpuHardware& c) {
  using detail::optional_text;
  Json caches = Json::array();
  for (const auto& k : c.caches) {
    caches.push_back(Json{{"name", k.name()},
                          {"level", k.level},
                          {"type", k.type},
                          {"size_bytes", k.size_bytes},
                          {"shared_by", k.shared_by > 0 ? Json(k.shared_by) : Json(nullptr)}});
  }
  return Json{{"model", c.model},
           {"vendor", optional_text(c.vendor)},
           {"architecture", optional_text(c.architecture)},
           {"logical_cores", c.logical_cores},
           {"physical_cores", c.physical_cores},
           {"sockets", c.sockets > 0 ? Json(c.sockets) : Json(nullptr)},
           {"simd", c.simd},
           {"caches", caches},
           {"memory_total_bytes", c.memory_total_bytes},
           {"memory_available_bytes", c.memory_available_bytes},
           {"mhz", detail::optional_value(c.mhz)},
           {"max_mhz", detail::optional_value(c.max_mhz)}};
}

/// A CPU section from its JSON form (to_json's); throws nlohmann::json's
/// errors when a field has the wrong type.
[[nodiscard]] inline CpuHardware cpu_hardware_from_json(const Json& c) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  CpuHardware cpu;
  cpu.model = hardware_json_text(c, "model");
  cpu.vendor = hardware_json_text(c, "vendor");
  cpu.architecture = hardware_json_text(c, "architecture");
  cpu.logical_cores = hardware_json_number<int>(c, "logical_cores");
  cpu.physical_cores = hardware_json_number<int>(c, "physical_cores");
  cpu.sockets = hardware_json_number<int>(c, "sockets");
  cpu.simd = c.value("simd", std::vector<std::string>{});
  for (const auto& k : c.value("caches", Json::array())) {
    cpu.caches.push_back(CpuCache{.level = hardware_json_number<int>(k, "level"),
                                    .type = hardware_json_text(k, "type"),
                                    .size_bytes = hardware_json_number<std::uint64_t>(k, "size_bytes"),
                                    .shared_by = hardware_json_number<int>(k, "shared_by")});
  }
  cpu.memory_total_bytes = hardware_json_number<std::uint64_t>(c, "memory_total_bytes");
  cpu.memory_available_bytes = hardware_json_number<std::uint64_t>(c, "memory_available_bytes");
  cpu.mhz = detail::hardware_json_optional(c, "mhz");
  cpu.max_mhz = detail::hardware_json_optional(c, "max_mhz");
  return cpu;
}

/// The CPU section of `accelbench check` (the Cpu backend's describe_devices).
[[nodiscard]] inline DeviceReport describe_cpu_devices(const HardwareRoots& roots = {}) {
  const CpuHardware cpu = detect_cpu(roots);
  return DeviceReport{.title = "CPU",
                      .key = "cpu",
                      .available = true,
                      .reason = {},
                      .text = format_cpu_hardware(cpu),
                      .json = to_json(cpu)};
}

}  // namespace accelbench
