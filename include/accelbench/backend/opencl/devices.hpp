#pragma once

// The OpenCL platforms and devices of this machine, through the ICD loader
// (libOpenCL.so.1) opened at run time: `accelbench check`'s OpenCL section
// and the OpenCL backend's describe_devices(). It needs neither the OpenCL
// link target nor a device, only <CL/cl.h> where it is installed (without
// it, the section says so), and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/json.hpp"
#include "../../detail/dynamic_library.hpp"
#include "../../detail/proc.hpp"
#include "../../machine/device_report.hpp"

#if __has_include(<CL/cl.h>)
#if !defined(CL_TARGET_OPENCL_VERSION)
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#define ACCELBENCH_HAS_OPENCL_HEADERS 1
#endif

namespace accelbench {

struct OpenClDeviceInfo {
  std::string name;
  std::string vendor;
  std::string type;  ///< "cpu", "gpu", "accelerator", "custom", joined by '+' when several
  std::string version;
  std::string driver_version;
  std::string opencl_c_version;
  int compute_units = 0;
  int max_clock_mhz = 0;
  std::uint64_t global_memory_bytes = 0;
  std::uint64_t local_memory_bytes = 0;
  std::uint64_t max_work_group_size = 0;
  bool fp64 = false;  ///< cl_khr_fp64 among the extensions
  bool fp16 = false;  ///< cl_khr_fp16 among the extensions
  friend bool operator==(const OpenClDeviceInfo&, const OpenClDeviceInfo&) = default;
};

struct OpenClPlatformInfo {
  std::string name;
  std::string vendor;
  std::string version;
  std::vector<OpenClDeviceInfo> devices;
  std::string error;  ///< why its devices could not be listed; "" when they could
  friend bool operator==(const OpenClPlatformInfo&, const OpenClPlatformInfo&) = default;
};

struct OpenClHardware {
  bool available = false;  ///< at least one device
  std::string reason;      ///< why not, when not available
  std::string library;     ///< the ICD loader that was opened
  std::vector<OpenClPlatformInfo> platforms;
  friend bool operator==(const OpenClHardware&, const OpenClHardware&) = default;
};

namespace detail {

/// The name of an OpenCL error code, and what it means where that helps.
inline std::string opencl_error_text(int code) {
  switch (code) {
    case -1: return "CL_DEVICE_NOT_FOUND: no device of the requested type";
    case -2: return "CL_DEVICE_NOT_AVAILABLE";
    case -5: return "CL_OUT_OF_RESOURCES";
    case -6: return "CL_OUT_OF_HOST_MEMORY";
    case -30: return "CL_INVALID_VALUE";
    case -32: return "CL_INVALID_PLATFORM";
    case -33: return "CL_INVALID_DEVICE";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR: no OpenCL platform (ICD) installed";
    default: return "unknown OpenCL error";
  }
}

inline std::string opencl_call_error(std::string_view call, int code) {
  const std::string text = opencl_error_text(code);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, code, text);
  return fmt::format("{} returned {} ({}):{}", call, code, text.substr(0, colon), text.substr(colon + 1));
}

inline std::vector<std::string> opencl_library_names() {
#if defined(_WIN32)
  return {"OpenCL.dll"};
#elif defined(__APPLE__)
  return {"/System/Library/Frameworks/OpenCL.framework/OpenCL", "libOpenCL.dylib"};
#else
  return {"libOpenCL.so.1", "libOpenCL.so"};
#endif
}

#if defined(ACCELBENCH_HAS_OPENCL_HEADERS)

struct OpenClApi {
  using GetPlatformIDs = cl_int(CL_API_CALL*)(cl_uint, cl_platform_id*, cl_uint*);
  using GetPlatformInfo = cl_int(CL_API_CALL*)(cl_platform_id, cl_platform_info, std::size_t, void*, std::size_t*);
  using GetDeviceIDs = cl_int(CL_API_CALL*)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
  using GetDeviceInfo = cl_int(CL_API_CALL*)(cl_device_id, cl_device_info, std::size_t, void*, std::size_t*);
  GetPlatformIDs get_platform_ids = nullptr;
  GetPlatformInfo get_platform_info = nullptr;
  GetDeviceIDs get_device_ids = nullptr;
  GetDeviceInfo get_device_info = nullptr;

  template <class Handle, class Param, class Get>
  static std::string text(Get get, Handle h, Param p) {
    std::size_t size = 0;
    if (get(h, p, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
    std::string s(size, '\0');
    if (get(h, p, size, s.data(), nullptr) != CL_SUCCESS) return {};
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return trim(s);
  }
  template <class T>
  T device_value(cl_device_id d, cl_device_info p) const {
    T v{};
    if (get_device_info(d, p, sizeof v, &v, nullptr) != CL_SUCCESS) return T{};
    return v;
  }
};

inline std::string opencl_device_type(cl_device_type t) {
  std::string out;
  const auto add = [&](cl_device_type bit, const char* name) {
    if ((t & bit) != 0) out += (out.empty() ? "" : "+") + std::string(name);
  };
  add(CL_DEVICE_TYPE_CPU, "cpu");
  add(CL_DEVICE_TYPE_GPU, "gpu");
  add(CL_DEVICE_TYPE_ACCELERATOR, "accelerator");
#if defined(CL_DEVICE_TYPE_CUSTOM)
  add(CL_DEVICE_TYPE_CUSTOM, "custom");
#endif
  return out.empty() ? "unknown" : out;
}

inline OpenClDeviceInfo describe_opencl_device(const OpenClApi& api, cl_device_id id) {
  OpenClDeviceInfo d;
  d.name = OpenClApi::text(api.get_device_info, id, CL_DEVICE_NAME);
  d.vendor = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VENDOR);
  d.version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VERSION);
  d.driver_version = OpenClApi::text(api.get_device_info, id, CL_DRIVER_VERSION);
  d.opencl_c_version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_OPENCL_C_VERSION);
  d.type = opencl_device_type(api.device_value<cl_device_type>(id, CL_DEVICE_TYPE));
  d.compute_units = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS));
  d.max_clock_mhz = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_CLOCK_FREQUENCY));
  d.global_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  d.local_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_LOCAL_MEM_SIZE);
  d.max_work_group_size = api.device_value<std::size_t>(id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
  std::istringstream extensions(OpenClApi::text(api.get_device_info, id, CL_DEVICE_EXTENSIONS));
  std::string e;
  while (extensions >> e) {
    if (e == "cl_khr_fp64") d.fp64 = true;
    if (e == "cl_khr_fp16") d.fp16 = true;
  }
  return d;
}

#endif  // ACCELBENCH_HAS_OPENCL_HEADERS

/// detect_opencl() with the loader looked for under `libraries`, in order.
inline OpenClHardware detect_opencl_from(const std::vector<std::string>& libraries) {
  OpenClHardware cl;
#if !defined(ACCELBENCH_HAS_OPENCL_HEADERS)
  (void)libraries;
  cl.reason = "built without OpenCL headers (<CL/cl.h> was not found when this program was compiled)";
  return cl;
#else
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cl.reason = "OpenCL ICD loader not found (" + lib.error() + ")";
    return cl;
  }
  cl.library = lib.name();
  OpenClApi api;
  api.get_platform_ids = lib.function<OpenClApi::GetPlatformIDs>("clGetPlatformIDs");
  api.get_platform_info = lib.function<OpenClApi::GetPlatformInfo>("clGetPlatformInfo");
  api.get_device_ids = lib.function<OpenClApi::GetDeviceIDs>("clGetDeviceIDs");
  api.get_device_info = lib.function<OpenClApi::GetDeviceInfo>("clGetDeviceInfo");
  if (api.get_platform_ids == nullptr || api.get_platform_info == nullptr || api.get_device_ids == nullptr ||
      api.get_device_info == nullptr) {
    cl.reason = lib.name() + " lacks clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs or clGetDeviceInfo";
    return cl;
  }
  cl_uint count = 0;
  if (const cl_int rc = api.get_platform_ids(0, nullptr, &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  if (count == 0) {
    cl.reason = "no OpenCL platform (ICD) installed: clGetPlatformIDs found none";
    return cl;
  }
  std::vector<cl_platform_id> platforms(count);
  if (const cl_int rc = api.get_platform_ids(count, platforms.data(), &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  platforms.resize(count);
  std::size_t devices_found = 0;
  for (const auto p : platforms) {
    OpenClPlatformInfo platform;
    platform.name = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_NAME);
    platform.vendor = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VENDOR);
    platform.version = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VERSION);
    cl_uint n = 0;
    cl_int rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n);
    std::vector<cl_device_id> ids;
    if (rc == CL_SUCCESS && n > 0) {
      ids.resize(n);
      rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, n, ids.data(), &n);
      ids.resize(rc == CL_SUCCESS ? n : 0);
    }
    if (rc != CL_SUCCESS) {
      platform.error = opencl_call_error("clGetDeviceIDs", rc);
    } else if (ids.empty()) {
      platform.error = "the platform has no device";
    }
    for (const auto id : ids) platform.devices.push_back(describe_opencl_device(api, id));
    devices_found += platform.devices.size();
    cl.platforms.push_back(std::move(platform));
  }
  cl.available = devices_found > 0;
  if (!cl.available) {
    cl.reason = fmt::format("{} OpenCL platform{} but no device", cl.platforms.size(),
                            cl.platforms.size() == 1 ? "" : "s");
  }
  return cl;
#endif
}

}  // namespace detail

/// Every OpenCL platform and its devices, through the ICD loader
/// (libOpenCL.so.1) opened at run time; `available` is false, with the
/// reason, when there is no loader, no platform or no device.
[[nodiscard]] inline OpenClHardware detect_opencl() {
  return detail::detect_opencl_from(detail::opencl_library_names());
}

/// The OpenCL section's lines (without its "OpenCL" heading).
[[nodiscard]] inline std::string format_opencl_hardware(const OpenClHardware& cl) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cl.library.empty()) hardware_line(out, 2, "loader", cl.library);
  for (std::size_t p = 0; p < cl.platforms.size(); ++p) {
    const auto& platform = cl.platforms[p];
    hardware_line(out, 2, fmt::format("platform {}", p),
                  fmt::format("{} ({}), {}", platform.name, platform.vendor, platform.version));
    if (!platform.error.empty()) hardware_line(out, 4, "devices", "none: " + platform.error);
    for (std::size_t i = 0; i < platform.devices.size(); ++i) {
      const auto& d = platform.devices[i];
      hardware_line(out, 4, fmt::format("device {}", i), d.name);
      hardware_line(out, 6, "type", d.type);
      hardware_line(out, 6, "vendor", d.vendor);
      hardware_line(out, 6, "version", d.version);
      hardware_line(out, 6, "driver", d.driver_version);
      hardware_line(out, 6, "OpenCL C", d.opencl_c_version);
      hardware_line(out, 6, "compute units", std::to_string(d.compute_units));
      hardware_line(out, 6, "max clock", fmt::format("{} MHz", d.max_clock_mhz));
      hardware_line(out, 6, "global memory", binary_size(d.global_memory_bytes));
      hardware_line(out, 6, "local memory", binary_size(d.local_memory_bytes));
      hardware_line(out, 6, "max work-group", std::to_string(d.max_work_group_size));
      hardware_line(out, 6, "fp64, fp16", fmt::format("{}, {}", d.fp64 ? "yes" : "no", d.fp16 ? "yes" : "no"));
    }
  }
  if (!cl.available) hardware_line(out, 2, "not available", cl.reason);
  return out;
}

/// The OpenCL section as JSON; unknown values are null.
/// opencl_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const OpenClHardware& cl) {
  using detail::optional_text;
  Json platforms = Json::array();
  for (const auto& p : cl.platforms) {
    Json devices = Json::array();
    for (const auto& d : p.devices) {
      devices.push_back(Json{{"name", d.name},
                             {"vendor", d.vendor},
                             {"type", d.type},
                             {"version", d.version},
                             {"driver_version", d.driver_version},
                             {"opencl_c_version", d.opencl_c_version},
                             {"compute_units", d.compute_units},
                             {"max_clock_mhz", d.max_clock_mhz},
                             {"global_memory_bytes", d.global_memory_bytes},
                             {"local_memory_bytes", d.local_memory_bytes},
                             {"max_work_group_size", d.max_work_group_size},
                             {"fp64", d.fp64},
                             {"fp16", d.fp16}});
    }
    platforms.push_back(Json{{"name", p.name},
                             {"vendor", p.vendor},
                             {"version", p.version},
                             {"error", optional_text(p.error)},
                             {"devices", devices}});
  }
  return Json{{"available", cl.available},
              {"reason", optional_text(cl.reason)},
              {"library", optional_text(cl.library)},
              {"platforms", platforms}};
}

/// An OpenCL section from its JSON form (to_json's).
[[nodiscard]] inline OpenClHardware opencl_hardware_from_json(const Json& cl) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  OpenClHardware opencl;
  opencl.available = cl.value("available", false);
  opencl.reason = hardware_json_text(cl, "reason");
  opencl.library = hardware_json_text(cl, "library");
  for (const auto& p : cl.value("platforms", Json::array())) {
    OpenClPlatformInfo platform{.name = hardware_json_text(p, "name"),
                            .vendor = hardware_json_text(p, "vendor"),
                            .version = hardware_json_text(p, "version"),
                            .devices = {},
                            .error = hardware_json_text(p, "error")};
    for (const auto& d : p.value("devices", Json::array())) {
      platform.devices.push_back(OpenClDeviceInfo{.name = hardware_json_text(d, "name"),
                                              .vendor = hardware_json_text(d, "vendor"),
                                              .type = hardware_json_text(d, "type"),
                                              .version = hardware_json_text(d, "version"),
                                              .driver_version = hardware_json_text(d, "driver_version"),
                                              .opencl_c_version = hardware_json_text(d, "opencl_c_version"),
                                              .compute_units = hardware_json_number<int>(d, "compute_units"),
                                              .max_clock_mhz = hardware_json_number<int>(d, "max_clock_mhz"),
                                              .global_memory_bytes = hardware_json_number<std::uint64_t>(d, "global_memory_bytes"),
                                              .local_memory_bytes = hardware_json_number<std::uint64_t>(d, "local_memory_bytes"),
                                              .max_work_group_size = hardware_json_number<std::uint64_t>(d, "max_work_group_size"),
                                              .fp64 = d.value("fp64", false),
                                              .fp16 = d.value("fp16", false)});
    }
    opencl.platforms.push_back(std::move(platform));
  }
  return opencl;
}

/// The OpenCL section of `accelbench check` (the OpenCL backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_opencl_devices() {
  const OpenClHardware cl = detect_opencl();
  return DeviceReport{.title = "OpenCL",
                      .key = "opencl",
                      .available = cl.available,
                      .reason = cl.reason,
                      .text = format_opencl_hardware(cl),
                      .json = to_json(cl)};
}

}  // namespace accelbench
