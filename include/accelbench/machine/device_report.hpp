#pragma once

// One section of `accelbench check`: the devices of one kind on this machine
// (the CPU, OpenCL's, CUDA's, a vendor backend's), as text and as JSON. Each
// backend brings its own (the HasDescribeDevices hook); docs/hardware.md
// describes the sections.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../core/json.hpp"

namespace accelbench {

struct DeviceReport {
  std::string title;       ///< the section's heading: "CPU", "OpenCL", "CUDA"
  std::string key;         ///< its key in the JSON report: "cpu", "opencl", "cuda"
  bool available = false;  ///< at least one device
  std::string reason;      ///< why not, when not available
  std::string text;        ///< the section's lines, each indented by two spaces or more
  Json json;               ///< the same as a JSON object
};

/// The sections as text, each under its title, separated by a blank line.
[[nodiscard]] inline std::string format_device_reports(const std::vector<DeviceReport>& reports) {
  std::string out;
  for (const auto& r : reports) out += (out.empty() ? "" : "\n") + r.title + "\n" + r.text;
  return out;
}

/// The sections as one JSON object, each under its key.
[[nodiscard]] inline Json to_json(const std::vector<DeviceReport>& reports) {
  Json j = Json::object();
  for (const auto& r : reports) j[r.key] = r.json;
  return j;
}

namespace detail {

/// 32768 -> "32 KiB", 25276502016 -> "23.5 GiB".
inline std::string binary_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (v == static_cast<double>(static_cast<std::uint64_t>(v))) return fmt::format("{} {}", v, units[u]);
  return fmt::format("{:.1f} {}", v, units[u]);
}

/// One "key   value" line of a section, the values aligned.
inline void hardware_line(std::string& out, int indent, std::string_view key, std::string_view value) {
  out += fmt::format("{:{}}{:<{}} {}\n", "", indent, key, 22 - indent, value);
}

inline std::string plural(int n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

/// Readers of a section's JSON that take null or a missing key as empty.
inline std::string hardware_json_text(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

template <class T>
T hardware_json_number(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? T{} : it->get<T>();
}

inline std::optional<double> hardware_json_optional(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<double>();
}

}  // namespace detail

}  // namespace accelbench
