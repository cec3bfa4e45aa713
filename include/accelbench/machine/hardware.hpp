#pragma once

// What hardware this machine has, as the operating system and the vendors'
// drivers describe it: the CPU (from /proc and /sys), the OpenCL platforms
// and devices (through the ICD loader) and the CUDA devices (through the
// driver API). The OpenCL and CUDA libraries are opened at run time, so
// detection works in any build and says why a library or device is missing.
// `accelbench check` prints the report; docs/hardware.md describes it.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../detail/dynamic_library.hpp"
#include "../detail/proc.hpp"
#include "../core/json.hpp"

#if __has_include(<CL/cl.h>)
#if !defined(CL_TARGET_OPENCL_VERSION)
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#define ACCELBENCH_HAS_OPENCL_HEADERS 1
#endif

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

struct HardwareReport {
  CpuHardware cpu;
  OpenClHardware opencl;
  CudaHardware cuda;
  friend bool operator==(const HardwareReport&, const HardwareReport&) = default;
};

namespace detail {

/// The first line of a small file such as /sys's, trimmed; "" when unreadable.
inline std::string sys_value(const std::filesystem::path& path) {
  const auto text = read_text_file(path.string());
  if (!text) return {};
  return trim(std::string_view(*text).substr(0, text->find('\n')));
}

/// "32K" -> 32768, "1M" -> 1048576, "512" -> 512; nullopt when not a size.
inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  const std::string s = trim(text);
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
    n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  unit = trim(unit);
  if (unit.empty() || unit == "B") return n;
  if (unit == "K" || unit == "KB" || unit == "KIB") return n << 10;
  if (unit == "M" || unit == "MB" || unit == "MIB") return n << 20;
  if (unit == "G" || unit == "GB" || unit == "GIB") return n << 30;
  return std::nullopt;
}

/// The CPUs of a list such as "0-3,8-11" (8); 0 when empty or malformed.
inline int count_cpu_list(std::string_view text) {
  int count = 0;
  std::istringstream items{std::string(text)};
  std::string item;
  while (std::getline(items, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    try {
      const auto dash = item.find('-');
      if (dash == std::string::npos) {
        (void)std::stoi(item);
        ++count;
      } else {
        const int first = std::stoi(item.substr(0, dash));
        const int last = std::stoi(item.substr(dash + 1));
        if (last < first) return 0;
        count += last - first + 1;
      }
    } catch (...) {
      return 0;
    }
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

// ---- OpenCL -------------------------------------------------------------

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

// ---- CUDA ---------------------------------------------------------------

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

/// The CPU, OpenCL and CUDA sections together.
[[nodiscard]] inline HardwareReport detect_hardware(const HardwareRoots& roots = {}) {
  return {detect_cpu(roots), detect_opencl(), detect_cuda()};
}

// ---- text ---------------------------------------------------------------

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

inline void hardware_line(std::string& out, int indent, std::string_view key, std::string_view value) {
  out += fmt::format("{:{}}{:<{}} {}\n", "", indent, key, 22 - indent, value);
}

inline std::string plural(int n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace detail

/// The report as text: a "CPU", an "OpenCL" and a "CUDA" section; what is
/// not available says why.
[[nodiscard]] inline std::string format_hardware(const HardwareReport& r) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  const auto& c = r.cpu;
  out += "CPU\n";
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

  out += "\nOpenCL\n";
  const auto& cl = r.opencl;
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

  out += "\nCUDA\n";
  const auto& cu = r.cuda;
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

// ---- JSON ---------------------------------------------------------------

namespace detail {

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

/// The report as JSON; unknown values are null. hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const HardwareReport& r) {
  using detail::optional_text;
  const auto& c = r.cpu;
  Json caches = Json::array();
  for (const auto& k : c.caches) {
    caches.push_back(Json{{"name", k.name()},
                          {"level", k.level},
                          {"type", k.type},
                          {"size_bytes", k.size_bytes},
                          {"shared_by", k.shared_by > 0 ? Json(k.shared_by) : Json(nullptr)}});
  }
  Json cpu{{"model", c.model},
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
  Json platforms = Json::array();
  for (const auto& p : r.opencl.platforms) {
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
  Json cuda_devices = Json::array();
  for (const auto& d : r.cuda.devices) {
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
  return Json{{"cpu", cpu},
              {"opencl",
               Json{{"available", r.opencl.available},
                    {"reason", optional_text(r.opencl.reason)},
                    {"library", optional_text(r.opencl.library)},
                    {"platforms", platforms}}},
              {"cuda",
               Json{{"available", r.cuda.available},
                    {"reason", optional_text(r.cuda.reason)},
                    {"library", optional_text(r.cuda.library)},
                    {"driver_version", optional_text(r.cuda.driver_version)},
                    {"devices", cuda_devices}}}};
}

/// A report from its JSON form (to_json's); throws nlohmann::json's errors
/// when a field has the wrong type.
[[nodiscard]] inline HardwareReport hardware_from_json(const Json& j) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  HardwareReport r;
  const Json& c = j.at("cpu");
  r.cpu.model = hardware_json_text(c, "model");
  r.cpu.vendor = hardware_json_text(c, "vendor");
  r.cpu.architecture = hardware_json_text(c, "architecture");
  r.cpu.logical_cores = hardware_json_number<int>(c, "logical_cores");
  r.cpu.physical_cores = hardware_json_number<int>(c, "physical_cores");
  r.cpu.sockets = hardware_json_number<int>(c, "sockets");
  r.cpu.simd = c.value("simd", std::vector<std::string>{});
  for (const auto& k : c.value("caches", Json::array())) {
    r.cpu.caches.push_back(CpuCache{.level = hardware_json_number<int>(k, "level"),
                                    .type = hardware_json_text(k, "type"),
                                    .size_bytes = hardware_json_number<std::uint64_t>(k, "size_bytes"),
                                    .shared_by = hardware_json_number<int>(k, "shared_by")});
  }
  r.cpu.memory_total_bytes = hardware_json_number<std::uint64_t>(c, "memory_total_bytes");
  r.cpu.memory_available_bytes = hardware_json_number<std::uint64_t>(c, "memory_available_bytes");
  r.cpu.mhz = detail::hardware_json_optional(c, "mhz");
  r.cpu.max_mhz = detail::hardware_json_optional(c, "max_mhz");

  const Json& cl = j.at("opencl");
  r.opencl.available = cl.value("available", false);
  r.opencl.reason = hardware_json_text(cl, "reason");
  r.opencl.library = hardware_json_text(cl, "library");
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
    r.opencl.platforms.push_back(std::move(platform));
  }

  const Json& cu = j.at("cuda");
  r.cuda.available = cu.value("available", false);
  r.cuda.reason = hardware_json_text(cu, "reason");
  r.cuda.library = hardware_json_text(cu, "library");
  r.cuda.driver_version = hardware_json_text(cu, "driver_version");
  for (const auto& d : cu.value("devices", Json::array())) {
    r.cuda.devices.push_back(CudaDeviceInfo{.index = hardware_json_number<int>(d, "index"),
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
  return r;
}

}  // namespace accelbench
