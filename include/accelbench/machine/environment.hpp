#pragma once

// The state of the machine that makes timings more or less trustworthy:
// frequency scaling, boost, virtualisation, the kernel's clock source.

#include <string>
#include <vector>

#include "../detail/proc.hpp"
#include "../core/result.hpp"
#include "system.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <cstring>
#endif

namespace accelbench {

namespace detail {

inline std::string first_line(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) return {};
  return trim(text->substr(0, text->find('\n')));
}

/// The hypervisor's name when the CPU says it runs under one, else "".
inline std::string hypervisor_name() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 31)) != 0) {
    __cpuid(0x40000000u, a, b, c, d);
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &c, 4);
    std::memcpy(vendor + 8, &d, 4);
    const std::string v = vendor;
    if (v == "KVMKVMKVM") return "KVM";
    if (v == "Microsoft Hv") return "Hyper-V";
    if (v == "VMwareVMware") return "VMware";
    if (v == "XenVMMXenVMM") return "Xen";
    if (v == "TCGTCGTCGTCG") return "QEMU (TCG)";
    if (v.rfind("VBox", 0) == 0) return "VirtualBox";
    return v.empty() ? "unknown hypervisor" : v;
  }
#endif
  const std::string sys = first_line("/sys/hypervisor/type");
  return sys;
}

}  // namespace detail

[[nodiscard]] inline EnvironmentInfo environment_info() {
  EnvironmentInfo e;
  e.governor = detail::first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  const std::string boost = detail::first_line("/sys/devices/system/cpu/cpufreq/boost");
  const std::string no_turbo = detail::first_line("/sys/devices/system/cpu/intel_pstate/no_turbo");
  if (boost == "1" || boost == "0") {
    e.boost = boost == "1";
  } else if (no_turbo == "1" || no_turbo == "0") {
    e.boost = no_turbo == "0";
  }
  e.hypervisor = detail::hypervisor_name();
  e.virtualized = !e.hypervisor.empty();
  e.clocksource = detail::first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (const auto cpuinfo = detail::read_text_file("/proc/cpuinfo")) {
    if (const auto mhz = detail::proc_field(*cpuinfo, "cpu MHz")) {
      try {
        e.cpu_mhz = std::stod(*mhz);
      } catch (...) {
      }
    }
  }
  return e;
}

/// Warnings that apply to every timing taken in this environment.
[[nodiscard]] inline std::vector<std::string> environment_warnings(const EnvironmentInfo& e) {
  std::vector<std::string> w;
  if (!e.governor.empty() && e.governor != "performance") {
    w.push_back("CPU frequency scaling: the governor is '" + e.governor +
                "'; 'performance' gives steadier timings");
  }
  if (e.boost.value_or(false)) {
    w.push_back("frequency boost is on: the clock speed depends on load and temperature");
  }
  if (e.virtualized) {
    w.push_back("virtual machine (" + e.hypervisor + "): timings include interference from the host and other guests");
  }
  return w;
}

/// A new run's results, with the start time, the machine, the build, the
/// environment and the run-wide warnings that follow from them filled in.
[[nodiscard]] inline RunResult describe_run() {
  RunResult r;
  r.started_at = utc_timestamp();
  r.system = system_info();
  r.build = build_info();
  r.environment = environment_info();
  r.warnings = build_warnings(r.build);
  for (auto& w : build_machine_warnings(r.build, r.system.cpu_features)) r.warnings.push_back(std::move(w));
  for (auto& w : environment_warnings(r.environment)) r.warnings.push_back(std::move(w));
  return r;
}

}  // namespace accelbench
