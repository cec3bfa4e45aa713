// libFuzzer target: the parsers of /proc and /sys text (detail/proc.hpp,
// machine/cpu.hpp): CPU lists ("0-3,8"), CPU masks, cache sizes ("32K"),
// "NNN kB" fields, /proc/meminfo and /proc/cpuinfo. They return nothing (an
// empty optional, 0) for text they cannot read and never throw.

#include <accelbench/machine/cpu.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = accelbench::detail;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string_view view(text);
  (void)d::trim(view);
  (void)d::parse_decimal<std::uint64_t>(view);
  (void)d::parse_decimal<std::uint32_t>(view);
  (void)d::count_cpu_list(view);
  (void)d::count_cpu_mask(view);
  (void)d::parse_size(view);
  (void)d::kilobytes_to_bytes(view);
  (void)d::meminfo_bytes(text, "MemTotal");
  if (const auto v = d::proc_field(text, "VmRSS")) (void)d::kilobytes_to_bytes(*v);
  const auto info = d::parse_cpuinfo(text);
  (void)info;
  // The first line as a key, the rest as the file.
  const auto newline = view.find('\n');
  if (newline != std::string_view::npos) {
    const std::string key(view.substr(0, newline));
    const std::string rest(view.substr(newline + 1));
    if (const auto v = d::proc_field(rest, key)) {
      (void)d::kilobytes_to_bytes(*v);
      (void)d::parse_size(*v);
      (void)d::count_cpu_list(*v);
    }
    (void)d::meminfo_bytes(rest, key);
  }
  return 0;
}
