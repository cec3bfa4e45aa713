#pragma once

// What hardware this machine has, as the operating system and the vendors'
// drivers describe it: the CPU (machine/cpu.hpp), the OpenCL platforms and
// devices (backend/opencl/devices.hpp) and the CUDA devices
// (backend/cuda/devices.hpp). The OpenCL and CUDA libraries are opened at
// run time, so detection works in any build and says why a library or
// device is missing. `accelbench check` prints the report, with the devices
// of every further backend that describes its own (describe_machine);
// docs/hardware.md describes it.

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../machine/cpu.hpp"
#include "../machine/device_report.hpp"
#include "cuda/devices.hpp"
#include "hooks.hpp"
#include "opencl/devices.hpp"

namespace accelbench {

struct HardwareReport {
  CpuHardware cpu;
  OpenClHardware opencl;
  CudaHardware cuda;
  friend bool operator==(const HardwareReport&, const HardwareReport&) = default;
};

/// The CPU, OpenCL and CUDA sections together.
[[nodiscard]] inline HardwareReport detect_hardware(const HardwareRoots& roots = {}) {
  return {detect_cpu(roots), detect_opencl(), detect_cuda()};
}

/// The report as text: a "CPU", an "OpenCL" and a "CUDA" section; what is
/// not available says why.
[[nodiscard]] inline std::string format_hardware(const HardwareReport& r) {
  return "CPU\n" + format_cpu_hardware(r.cpu) + "\nOpenCL\n" + format_opencl_hardware(r.opencl) + "\nCUDA\n" +
         format_cuda_hardware(r.cuda);
}

/// The report as JSON; unknown values are null. hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const HardwareReport& r) {
  return Json{{"cpu", to_json(r.cpu)}, {"opencl", to_json(r.opencl)}, {"cuda", to_json(r.cuda)}};
}

/// A report from its JSON form (to_json's); throws nlohmann::json's errors
/// when a field has the wrong type.
[[nodiscard]] inline HardwareReport hardware_from_json(const Json& j) {
  return {cpu_hardware_from_json(j.at("cpu")), opencl_hardware_from_json(j.at("opencl")),
          cuda_hardware_from_json(j.at("cuda"))};
}

/// The sections of `accelbench check` for a list of backends (the
/// registry's TypeList<Bs...>): the CPU, OpenCL and CUDA sections, which
/// need no backend compiled in, then the section of each backend of the list
/// that describes its own devices (HasDescribeDevices) under another key.
template <template <class...> class List, class... Bs>
[[nodiscard]] std::vector<DeviceReport> describe_machine(List<Bs...>) {
  std::vector<DeviceReport> out{describe_cpu_devices(), describe_opencl_devices(), describe_cuda_devices()};
  const auto add = [&]<class B>(std::type_identity<B>) {
    if constexpr (HasDescribeDevices<B>) {
      DeviceReport report = B::describe_devices();
      for (const auto& r : out) {
        if (r.key == report.key) return;
      }
      out.push_back(std::move(report));
    }
  };
  (add(std::type_identity<Bs>{}), ...);
  return out;
}

}  // namespace accelbench
