#pragma once

// The CUDA devices of this machine, through the driver API of libcuda.so.1
// opened at run time: `accelbench check`'s CUDA section and the Cuda
// backend's describe_devices(). It needs no CUDA header, no nvcc and no
// link to the CUDA libraries, and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/json.hpp"
#include "../../detail/dynamic_library.hpp"
#include "../../machine/device_report.hpp"

namespace accelbench {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  std::string compute_capability;  ///< "9.0"
  int multiprocessors = 0;
  std::uint64_t memory_bytes = 0;
  int clock_mhz = 0;               ///< 0 when the driver does not say
  int memory_clock_mhz = 0;
  int memory_bus_width_bits = 0;
  std::uint64_t l2_cache_bytes = 0;
  std::string pci_bus_id;
  friend bool operator==(const CudaDeviceInfo&, const CudaDeviceInfo&) = default;
};

struct CudaHardware {
  bool available = false;      ///< at least one device
  std::string reason;          ///< why not, when not available
  std::string library;         ///< the driver library that was opened
  std::string driver_version;  ///< "13.0"; "" when unknown
  std::vector<CudaDeviceInfo> devices;
  friend bool operator==(const CudaHardware&, const CudaHardware&) = default;
};

namespace detail {

/// The name of a CUresult, and what it means, for the codes met when
/// there is no usable GPU; "" for the others.
inline std::string cuda_error_text(int code) {
  switch (code) {
    case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY: libcuda is the toolkit's stub, not an NVIDIA driver";
    case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER: the NVIDIA kernel driver is older than libcuda";
    case 46: return "CUDA_ERROR_DEVICES_UNAVAILABLE: every device is busy or unavailable";
    case 100: return "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected";
    case 101: return "CUDA_ERROR_INVALID_DEVICE";
    case 304: return "CUDA_ERROR_OPERATING_SYSTEM";
    case 803: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: the kernel driver and libcuda differ in version";
    case 999: return "CUDA_ERROR_UNKNOWN";
    default: return {};
  }
}

inline std::vector<std::string> cuda_library_names() {
#if defined(_WIN32)
  return {"nvcuda.dll"};
#else
  return {"libcuda.so.1", "libcuda.so"};
#endif
}

/// "13.0" for cuDriverGetVersion's 13000, "12.4" for 12040.
inline std::string cuda_version_text(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

/// detect_cuda() with the driver looked for under `libraries`, in order.
inline CudaHardware detect_cuda_from(const std::vector<std::string>& libraries) {
  // The few driver API functions used, declared here so that no CUDA header
  // is needed: CUresult is an int, CUdevice an int.
  using Init = int (*)(unsigned);
  using DriverGetVersion = int (*)(int*);
  using DeviceGetCount = int (*)(int*);
  using DeviceGet = int (*)(int*, int);
  using DeviceGetName = int (*)(char*, int, int);
  using DeviceTotalMem = int (*)(std::size_t*, int);
  using DeviceGetAttribute = int (*)(int*, int, int);
  using DeviceGetPciBusId = int (*)(char*, int, int);
  using GetErrorText = int (*)(int, const char**);

  CudaHardware cu;
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cu.reason = "CUDA driver library not found (" + lib.error() + ")";
    return cu;
  }
  cu.library = lib.name();
  const auto init = lib.function<Init>("cuInit");
  const auto driver_version = lib.function<DriverGetVersion>("cuDriverGetVersion");
  const auto device_count = lib.function<DeviceGetCount>("cuDeviceGetCount");
  const auto device_get = lib.function<DeviceGet>("cuDeviceGet");
  const auto device_name = lib.function<DeviceGetName>("cuDeviceGetName");
  const auto total_mem = lib.function<DeviceTotalMem>("cuDeviceTotalMem_v2");
  const auto attribute = lib.function<DeviceGetAttribute>("cuDeviceGetAttribute");
  const auto pci_bus_id = lib.function<DeviceGetPciBusId>("cuDeviceGetPCIBusId");
  const auto error_name = lib.function<GetErrorText>("cuGetErrorName");
  const auto error_string = lib.function<GetErrorText>("cuGetErrorString");
  if (init == nullptr || device_count == nullptr || device_get == nullptr || device_name == nullptr ||
      attribute == nullptr) {
    cu.reason = lib.name() + " lacks cuInit, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName or cuDeviceGetAttribute";
    return cu;
  }
  const auto call_error = [&](std::string_view call, int rc) {
    std::string text = cuda_error_text(rc);
    if (text.empty()) {
      const char* name = nullptr;
      const char* what = nullptr;
      if (error_name != nullptr && error_name(rc, &name) == 0 && name != nullptr) text = name;
      if (error_string != nullptr && error_string(rc, &what) == 0 && what != nullptr) {
        text += (text.empty() ? "" : ": ") + std::string(what);
      }
      if (text.empty()) text = "unknown CUresult";
    }
    const auto colon = text.find(':');
    if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, rc, text);
    return fmt::format("{} returned {} ({}):{}", call, rc, text.substr(0, colon), text.substr(colon + 1));
  };
  int version = 0;
  if (driver_version != nullptr && driver_version(&version) == 0 && version > 0) {
    cu.driver_version = cuda_version_text(version);
  }
  if (const int rc = init(0); rc != 0) {
    cu.reason = call_error("cuInit", rc);
    return cu;
  }
  int count = 0;
  if (const int rc = device_count(&count); rc != 0) {
    cu.reason = call_error("cuDeviceGetCount", rc);
    return cu;
  }
  for (int i = 0; i < count; ++i) {
    int dev = 0;
    if (device_get(&dev, i) != 0) continue;
    CudaDeviceInfo d;
    d.index = i;
    char name[256] = {};
    if (device_name(name, static_cast<int>(sizeof name) - 1, dev) == 0) d.name = name;
    const auto attr = [&](int which) {
      int v = 0;
      return attribute(&v, which, dev) == 0 ? v : 0;
    };
    // CUdevice_attribute values of cuda.h.
    d.compute_capability = fmt::format("{}.{}", attr(75), attr(76));
    d.multiprocessors = attr(16);
    d.clock_mhz = attr(13) / 1000;         // kHz
    d.memory_clock_mhz = attr(36) / 1000;  // kHz
    d.memory_bus_width_bits = attr(37);
    d.l2_cache_bytes = static_cast<std::uint64_t>(attr(38));
    std::size_t bytes = 0;
    if (total_mem != nullptr && total_mem(&bytes, dev) == 0) d.memory_bytes = bytes;
    char bus[64] = {};
    if (pci_bus_id != nullptr && pci_bus_id(bus, static_cast<int>(sizeof bus) - 1, dev) == 0) d.pci_bus_id = bus;
    cu.devices.push_back(std::move(d));
  }
  cu.available = !cu.devices.empty();
  if (!cu.available) cu.reason = fmt::format("cuInit succeeded but cuDeviceGetCount found {} devices", count);
  return cu;
}

}  // namespace detail

/// The CUDA devices, through the driver API of libcuda.so.1 opened at run
/// time; `available` is false, with the reason, when there is no driver or
/// no device.
[[nodiscard]] inline CudaHardware detect_cuda() { return detail::detect_cuda_from(detail::cuda_library_names()); }

/// The CUDA section's lines (without its "CUDA" heading).
[[nodiscard]] inline std::string format_cuda_hardware(const CudaHardware& cu) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cu.library.empty()) hardware_line(out, 2, "driver library", cu.library);
  if (!cu.driver_version.empty()) hardware_line(out, 2, "driver version", cu.driver_version);
  for (const auto& d : cu.devices) {
    hardware_line(out, 2, fmt::format("device {}", d.index), d.name);
    hardware_line(out, 4, "compute capability", d.compute_capability);
    hardware_line(out, 4, "multiprocessors", std::to_string(d.multiprocessors));
    hardware_line(out, 4, "memory", binary_size(d.memory_bytes));
    if (d.clock_mhz > 0) hardware_line(out, 4, "clock", fmt::format("{} MHz", d.clock_mhz));
    if (d.memory_clock_mhz > 0 || d.memory_bus_width_bits > 0) {
      hardware_line(out, 4, "memory bus",
                    fmt::format("{} MHz, {} bits", d.memory_clock_mhz, d.memory_bus_width_bits));
    }
    if (d.l2_cache_bytes > 0) hardware_line(out, 4, "L2 cache", binary_size(d.l2_cache_bytes));
    if (!d.pci_bus_id.empty()) hardware_line(out, 4, "PCI bus", d.pci_bus_id);
  }
  if (!cu.available) hardware_line(out, 2, "not available", cu.reason);
  return out;
}

/// The CUDA section as JSON; unknown values are null.
/// cuda_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const CudaHardware& cu) {
  using detail::optional_text;
  Json cuda_devices = Json::array();
  for (const auto& d : cu.devices) {
    cuda_devices.push_back(Json{{"index", d.index},
                                {"name", d.name},
                                {"compute_capability", d.compute_capability},
                                {"multiprocessors", d.multiprocessors},
                                {"memory_bytes", d.memory_bytes},
                                {"clock_mhz", d.clock_mhz},
                                {"memory_clock_mhz", d.memory_clock_mhz},
                                {"memory_bus_width_bits", d.memory_bus_width_bits},
                                {"l2_cache_bytes", d.l2_cache_bytes},
                                {"pci_bus_id", optional_text(d.pci_bus_id)}});
  }
  return Json{{"available", cu.available},
              {"reason", optional_text(cu.reason)},
              {"library", optional_text(cu.library)},
              {"driver_version", optional_text(cu.driver_version)},
              {"devices", cuda_devices}};
}

/// A CUDA section from its JSON form (to_json's).
[[nodiscard]] inline CudaHardware cuda_hardware_from_json(const Json& cu) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  CudaHardware cuda;
  cuda.available = cu.value("available", false);
  cuda.reason = hardware_json_text(cu, "reason");
  cuda.library = hardware_json_text(cu, "library");
  cuda.driver_version = hardware_json_text(cu, "driver_version");
  for (const auto& d : cu.value("devices", Json::array())) {
    cuda.devices.push_back(CudaDeviceInfo{.index = hardware_json_number<int>(d, "index"),
                                        .name = hardware_json_text(d, "name"),
                                        .compute_capability = hardware_json_text(d, "compute_capability"),
                                        .multiprocessors = hardware_json_number<int>(d, "multiprocessors"),
                                        .memory_bytes = hardware_json_number<std::uint64_t>(d, "memory_bytes"),
                                        .clock_mhz = hardware_json_number<int>(d, "clock_mhz"),
                                        .memory_clock_mhz = hardware_json_number<int>(d, "memory_clock_mhz"),
                                        .memory_bus_width_bits = hardware_json_number<int>(d, "memory_bus_width_bits"),
                                        .l2_cache_bytes = hardware_json_number<std::uint64_t>(d, "l2_cache_bytes"),
                                        .pci_bus_id = hardware_json_text(d, "pci_bus_id")});
  }
  return cuda;
}

/// The CUDA section of `accelbench check` (the Cuda backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_cuda_devices() {
  const CudaHardware cu = detect_cuda();
  return DeviceReport{.title = "CUDA",
                      .key = "cuda",
                      .available = cu.available,
                      .reason = cu.reason,
                      .text = format_cuda_hardware(cu),
                      .json = to_json(cu)};
}

}  // namespace accelbench
