#pragma once

// What the OpenCL backend builds on (backend/opencl.hpp): the kernels of
// backend/device/gpu_kernels.hpp and gpu_detection_kernels.hpp as OpenCL C
// source, OpenCL's errors, the choice of a device, and the context, program
// and memory count that every OpenCL object on one device shares.

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#if defined(__APPLE__)
#include <OpenCL/opencl.h>
#else
#include <CL/cl.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../device/device_memory.hpp"
#include "../device/runtime.hpp"

namespace accelbench {

namespace detail {

#define ACCELBENCH_GPU_KERNELS(...) inline constexpr const char opencl_kernel_body[] = #__VA_ARGS__;
#include "../device/gpu_kernels.hpp"
#undef ACCELBENCH_GPU_KERNELS
#define ACCELBENCH_GPU_KERNELS(...) inline constexpr const char opencl_detection_kernel_body[] = #__VA_ARGS__;
#include "../device/gpu_detection_kernels.hpp"
#undef ACCELBENCH_GPU_KERNELS

/// The dialect of gpu_kernels.hpp (and gpu_detection_kernels.hpp) in OpenCL C.
inline constexpr const char opencl_dialect[] =
    "#define KERNEL __kernel\n"
    "#define DEVICE_FN\n"
    "#define AS_FLOAT(u) as_float(u)\n"
    "#define GLOBAL __global\n"
    "#define SHARED __local\n"
    "#define BARRIER barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)\n"
    "#define GID0 ((long)get_global_id(0))\n"
    "#define LID0 ((int)get_local_id(0))\n"
    "#define LID1 ((int)get_local_id(1))\n"
    "#define GRP0 ((int)get_group_id(0))\n"
    "#define GRP1 ((int)get_group_id(1))\n"
    "#define ABK_WG 128\n"
    "#define ABK_TS 16\n"
    "#define ABK_LOWEST (-3.40282347e+38f)\n";

inline const char* opencl_error_name(cl_int e) {
  switch (e) {
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL platform installed)";
    default: return "an OpenCL error";
  }
}

inline void cl_check(cl_int e, const char* what) {
  if (e != CL_SUCCESS) {
    throw std::runtime_error(std::string("opencl: ") + what + " returned " + std::to_string(e) + " (" +
                             opencl_error_name(e) + ")");
  }
}

inline std::string cl_platform_string(cl_platform_id p, cl_platform_info what) {
  std::size_t n = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  clGetPlatformInfo(p, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

inline std::string cl_device_string(cl_device_id d, cl_device_info what) {
  std::size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

template <class T>
T cl_device_value(cl_device_id d, cl_device_info what) {
  T v{};
  clGetDeviceInfo(d, what, sizeof(T), &v, nullptr);
  return v;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Where a device is: indices of its platform and of the device in it.
struct OpenClLocation {
  int platform = 0;
  int device = 0;
  cl_platform_id platform_id = nullptr;
  cl_device_id device_id = nullptr;
};

/// Picks the device asked for (see the header comment), or says why not.
inline OpenClLocation select_opencl_device(std::string platform_spec, std::string device_spec) {
  if (platform_spec.empty() && device_spec.empty()) {
    if (const char* env = std::getenv("ACCELBENCH_OPENCL_DEVICE"); env != nullptr && *env != '\0') {
      const std::string e = env;
      const auto colon = e.find(':');
      platform_spec = e.substr(0, colon);
      device_spec = colon == std::string::npos ? std::string() : e.substr(colon + 1);
    }
  }
  cl_uint n_platforms = 0;
  const cl_int e = clGetPlatformIDs(0, nullptr, &n_platforms);
  if (e == -1001 || n_platforms == 0) {
    throw std::runtime_error("no OpenCL platform is installed (no ICD found; install pocl-opencl-icd or a GPU driver)");
  }
  cl_check(e, "clGetPlatformIDs");
  std::vector<cl_platform_id> platforms(n_platforms);
  cl_check(clGetPlatformIDs(n_platforms, platforms.data(), nullptr), "clGetPlatformIDs");

  auto matches = [](const std::string& spec, int index, const std::string& name) {
    if (spec.empty()) return true;
    if (std::all_of(spec.begin(), spec.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return std::stoi(spec) == index;
    }
    return lower(name).find(lower(spec)) != std::string::npos;
  };

  std::optional<OpenClLocation> first, first_gpu;
  std::string seen;
  for (int p = 0; p < static_cast<int>(n_platforms); ++p) {
    const std::string pname = cl_platform_string(platforms[std::size_t(p)], CL_PLATFORM_NAME);
    if (!matches(platform_spec, p, pname)) continue;
    cl_uint n_devices = 0;
    if (clGetDeviceIDs(platforms[std::size_t(p)], CL_DEVICE_TYPE_ALL, 0, nullptr, &n_devices) != CL_SUCCESS) continue;
    std::vector<cl_device_id> devices(n_devices);
    clGetDeviceIDs(platforms[std::size_t(p)], CL_DEVICE_TYPE_ALL, n_devices, devices.data(), nullptr);
    for (int d = 0; d < static_cast<int>(n_devices); ++d) {
      const std::string dname = cl_device_string(devices[std::size_t(d)], CL_DEVICE_NAME);
      const auto type = cl_device_value<cl_device_type>(devices[std::size_t(d)], CL_DEVICE_TYPE);
      const std::string kind = (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator";
      seen += (seen.empty() ? "" : ", ") + std::to_string(p) + ":" + std::to_string(d) + " " + dname;
      if (!matches(device_spec, d, dname + " " + kind)) continue;
      const OpenClLocation loc{p, d, platforms[std::size_t(p)], devices[std::size_t(d)]};
      if (!first) first = loc;
      if (!first_gpu && (type & CL_DEVICE_TYPE_GPU)) first_gpu = loc;
    }
  }
  const bool explicit_choice = !platform_spec.empty() || !device_spec.empty();
  if (explicit_choice && first) return *first;
  if (first_gpu) return *first_gpu;
  if (first) return *first;
  if (explicit_choice) {
    throw std::runtime_error("no OpenCL device matches platform \"" + platform_spec + "\" device \"" + device_spec +
                             "\"; devices: " + (seen.empty() ? "none" : seen));
  }
  throw std::runtime_error("the OpenCL platforms have no device");
}

/// One device's context and compiled program, shared by every OpenCL object
/// on that device; also counts the device memory they hold.
struct OpenClDevice : DeviceMemoryCounter {
  using Handle = cl_mem;

  OpenClLocation location;
  cl_context context = nullptr;
  cl_program program = nullptr;
  double compile_seconds = 0;

  OpenClDevice() = default;
  OpenClDevice(const OpenClDevice&) = delete;
  OpenClDevice& operator=(const OpenClDevice&) = delete;
  ~OpenClDevice() {
    if (program != nullptr) clReleaseProgram(program);
    if (context != nullptr) clReleaseContext(context);
  }

  /// Frees a buffer of this device (CountedBuffer).
  void release(cl_mem mem) const noexcept { clReleaseMemObject(mem); }

  /// The shared context of the device at `loc`, its program compiled on first use.
  static std::shared_ptr<OpenClDevice> get(const OpenClLocation& loc) {
    static std::mutex mutex;
    static std::map<std::pair<int, int>, std::shared_ptr<OpenClDevice>> devices;
    const std::lock_guard lock(mutex);
    auto& slot = devices[{loc.platform, loc.device}];
    if (!slot) {
      auto dev = std::make_shared<OpenClDevice>();
      dev->location = loc;
      cl_int e = CL_SUCCESS;
      const cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                             reinterpret_cast<cl_context_properties>(loc.platform_id), 0};
      dev->context = clCreateContext(props, 1, &loc.device_id, nullptr, nullptr, &e);
      cl_check(e, "clCreateContext");
      const std::string source = std::string(opencl_dialect) + opencl_kernel_body + "\n" + opencl_detection_kernel_body;
      const char* text = source.c_str();
      const std::size_t length = source.size();
      dev->program = clCreateProgramWithSource(dev->context, 1, &text, &length, &e);
      cl_check(e, "clCreateProgramWithSource");
      const auto t0 = std::chrono::steady_clock::now();
      e = clBuildProgram(dev->program, 1, &loc.device_id, "-cl-std=CL1.2", nullptr, nullptr);
      dev->compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (e != CL_SUCCESS) {
        std::size_t n = 0;
        clGetProgramBuildInfo(dev->program, loc.device_id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
        std::string log(n, '\0');
        clGetProgramBuildInfo(dev->program, loc.device_id, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
        throw std::runtime_error("opencl: the kernels do not compile on " +
                                 cl_device_string(loc.device_id, CL_DEVICE_NAME) + ": " + log);
      }
      slot = std::move(dev);
    }
    return slot;
  }
};

/// A device buffer; releases itself and updates its device's count.
using OpenClBuffer = CountedBuffer<OpenClDevice>;

}  // namespace detail

}  // namespace accelbench
