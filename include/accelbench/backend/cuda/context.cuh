#pragma once

// What the Cuda backend builds on (backend/cuda.cuh): the kernels of
// backend/device/gpu_kernels.hpp and gpu_detection_kernels.hpp compiled as
// CUDA C++, CUDA's and cuBLAS's errors, the choice of a device, and what
// every Cuda object on one device shares.

#if !defined(__CUDACC__)
#error "accelbench/backend/cuda/context.cuh is CUDA C++: include it from a .cu file compiled by nvcc"
#endif

// What the rest of accelbench needs under nvcc; accelbench::cuda defines both
// for CUDA sources, these cover a build without it (they must come before
// the first include of fmt or Eigen). fmt 9 turns its constexpr functions
// off when __NVCC__ is defined while still calling them from constexpr and
// consteval code, which neither nvcc nor the host compiler accepts; Eigen
// compiles host code only.
#ifndef FMT_USE_CONSTEXPR
#define FMT_USE_CONSTEXPR 1
#endif
#ifndef EIGEN_NO_CUDA
#define EIGEN_NO_CUDA
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../device/device_memory.hpp"
#include "../device/runtime.hpp"

namespace accelbench {

namespace detail {

// ---- the kernels: gpu_kernels.hpp and gpu_detection_kernels.hpp expanded as CUDA C++ ----
//
// `static`: each translation unit that includes this header has its own
// copy, so a program of several .cu files links.

#define KERNEL static __global__
#define DEVICE_FN static __device__ __forceinline__
#define AS_FLOAT(u) __uint_as_float(u)
#define GLOBAL
#define SHARED __shared__
#define BARRIER __syncthreads()
#define GID0 ((long)blockIdx.x * blockDim.x + threadIdx.x)
#define LID0 ((int)threadIdx.x)
#define LID1 ((int)threadIdx.y)
#define GRP0 ((int)blockIdx.x)
#define GRP1 ((int)blockIdx.y)
#define ABK_WG 128
#define ABK_TS 16
#define ABK_LOWEST (-3.40282347e+38f)
#define ACCELBENCH_GPU_KERNELS(...) __VA_ARGS__
#include "../device/gpu_kernels.hpp"
#include "../device/gpu_detection_kernels.hpp"
#undef ACCELBENCH_GPU_KERNELS
#undef ABK_LOWEST
#undef ABK_TS
#undef ABK_WG
#undef GRP1
#undef GRP0
#undef LID1
#undef LID0
#undef GID0
#undef BARRIER
#undef SHARED
#undef GLOBAL
#undef AS_FLOAT
#undef DEVICE_FN
#undef KERNEL

static_assert(gpu_row_group == 128 && gpu_tile == 16, "the Cuda dialect's ABK_WG and ABK_TS must match backend/device/runtime.hpp");
static_assert(sizeof(long) == sizeof(std::int64_t), "the kernels' `long` indices must be 64-bit");

template <GpuKernel>
inline constexpr bool no_cuda_kernel = false;

/// The kernel function of K: an `if constexpr` chain over GpuKernel, each
/// entry checked against gpu_kernel_names.
template <GpuKernel K>
constexpr auto cuda_kernel() noexcept {
#define ACCELBENCH_CUDA_KERNEL(k)                                                                         \
  if constexpr (K == GpuKernel::k) {                                                                      \
    static_assert(std::string_view(gpu_kernel_names[static_cast<int>(GpuKernel::k)]) == "ab_" #k,         \
                  "gpu_kernel_names and GpuKernel disagree on ab_" #k);                                   \
    return &ab_##k;                                                                                       \
  } else
  ACCELBENCH_CUDA_KERNEL(matmul_nt)
  ACCELBENCH_CUDA_KERNEL(matmul_nt_few)
  ACCELBENCH_CUDA_KERNEL(add_bias)
  ACCELBENCH_CUDA_KERNEL(add)
  ACCELBENCH_CUDA_KERNEL(activation)
  ACCELBENCH_CUDA_KERNEL(gated)
  ACCELBENCH_CUDA_KERNEL(row_norm)
  ACCELBENCH_CUDA_KERNEL(row_scale)
  ACCELBENCH_CUDA_KERNEL(argmax_rows)
  ACCELBENCH_CUDA_KERNEL(attention)
  ACCELBENCH_CUDA_KERNEL(embedding_lookup)
  ACCELBENCH_CUDA_KERNEL(masked_mean_pool)
  ACCELBENCH_CUDA_KERNEL(rotary)
  ACCELBENCH_CUDA_KERNEL(add_positions)
  ACCELBENCH_CUDA_KERNEL(cache_write)
  ACCELBENCH_CUDA_KERNEL(relative_bias)
  ACCELBENCH_CUDA_KERNEL(im2col_2d)
  ACCELBENCH_CUDA_KERNEL(im2col_1d)
  ACCELBENCH_CUDA_KERNEL(group_norm)
  ACCELBENCH_CUDA_KERNEL(prepend_row)
  ACCELBENCH_CUDA_KERNEL(im2col_rows)
  ACCELBENCH_CUDA_KERNEL(max_pool2d)
  ACCELBENCH_CUDA_KERNEL(mul)
  {
    static_assert(no_cuda_kernel<K>, "a GpuKernel has no Cuda kernel: add it to cuda_kernel()");
  }
#undef ACCELBENCH_CUDA_KERNEL
}

template <int... I>
constexpr bool every_cuda_kernel_mapped(std::integer_sequence<int, I...>) {
  return (std::is_pointer_v<decltype(cuda_kernel<static_cast<GpuKernel>(I)>())> && ...);
}
static_assert(every_cuda_kernel_mapped(std::make_integer_sequence<int, gpu_kernel_count>{}),
              "every GpuKernel must have a Cuda kernel");

// ---- errors ----

/// "call returned 100 (cudaErrorNoDevice): no CUDA-capable device is detected"
inline std::string cuda_error_text(cudaError_t e, std::string_view call) {
  return std::string(call) + " returned " + std::to_string(static_cast<int>(e)) + " (" + cudaGetErrorName(e) +
         "): " + cudaGetErrorString(e);
}

/// Throws "cuda: <call> returned ..." unless e is cudaSuccess. The runtime's
/// last error is cleared, so that it is not reported again by a later check.
inline void cuda_check(cudaError_t e, std::string_view call) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error("cuda: " + cuda_error_text(e, call));
  }
}

inline void cublas_check(cublasStatus_t s, std::string_view call) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error("cuda: " + std::string(call) + " returned " + std::to_string(static_cast<int>(s)) + " (" +
                             cublasGetStatusName(s) + "): " + cublasGetStatusString(s));
  }
}

/// 13000 -> "13.0", as cudaDriverGetVersion and cudaRuntimeGetVersion count.
inline std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

/// The architectures nvcc compiled the kernels for, e.g. "sm_80, sm_90".
inline std::string cuda_compiled_architectures() {
#if defined(__CUDA_ARCH_LIST__)
#define ACCELBENCH_STRINGIFY2(...) #__VA_ARGS__
#define ACCELBENCH_STRINGIFY(...) ACCELBENCH_STRINGIFY2(__VA_ARGS__)
  const std::string list = ACCELBENCH_STRINGIFY(__CUDA_ARCH_LIST__);
#undef ACCELBENCH_STRINGIFY
#undef ACCELBENCH_STRINGIFY2
  std::string out;
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string arch = list.substr(start, end - start);
    arch.erase(std::remove_if(arch.begin(), arch.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
               arch.end());
    if (arch.size() > 1 && arch.back() == '0') arch.pop_back();  // 800 -> sm_80, 1200 -> sm_120
    out += (out.empty() ? "sm_" : ", sm_") + arch;
    start = end + 1;
  }
  return out;
#else
  return "unknown";
#endif
}

// ---- device selection ----

/// The index in ACCELBENCH_CUDA_DEVICE, else 0.
inline int cuda_device_from_environment() {
  const char* env = std::getenv("ACCELBENCH_CUDA_DEVICE");
  if (env == nullptr || *env == '\0') return 0;
  const std::string s = env;
  if (s.size() > 4 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    throw std::runtime_error("ACCELBENCH_CUDA_DEVICE is \"" + s + "\": expected a device index (0, 1, ...)");
  }
  return std::stoi(s);
}

/// Picks device `requested` (negative: ACCELBENCH_CUDA_DEVICE, else 0) and
/// checks that the kernels in the program run on it, or says why not. The
/// device becomes the calling thread's current device.
inline int select_cuda_device(int requested) {
  const int device = requested >= 0 ? requested : cuda_device_from_environment();
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    std::string why = cuda_error_text(e, "cudaGetDeviceCount");
    if (e == cudaErrorInsufficientDriver) {
      int driver = 0, runtime = 0;
      (void)cudaDriverGetVersion(&driver);
      (void)cudaRuntimeGetVersion(&runtime);
      (void)cudaGetLastError();
      why += driver == 0 ? std::string(" (no NVIDIA driver is installed: libcuda.so.1 was not found)")
                         : " (the driver supports CUDA " + cuda_version_string(driver) + ", the program's runtime is " +
                               cuda_version_string(runtime) + ")";
    }
    throw std::runtime_error(why);
  }
  if (count <= 0) throw std::runtime_error("cudaGetDeviceCount found no CUDA device");
  if (device >= count) {
    std::string seen;
    for (int d = 0; d < count; ++d) {
      cudaDeviceProp p{};
      const bool named = cudaGetDeviceProperties(&p, d) == cudaSuccess;
      seen += (seen.empty() ? "" : ", ") + std::to_string(d) + " " + (named ? std::string(p.name) : "(unnamed)");
    }
    (void)cudaGetLastError();
    throw std::runtime_error("no CUDA device " + std::to_string(device) +
                             (requested >= 0 ? std::string() : std::string(" (from ACCELBENCH_CUDA_DEVICE)")) +
                             "; devices: " + seen);
  }
  if (const cudaError_t s = cudaSetDevice(device); s != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(cuda_error_text(s, "cudaSetDevice(" + std::to_string(device) + ")"));
  }
  // A device older than every architecture compiled for (and with no PTX to
  // compile from) has no image of the kernels: say so now, not at the first op.
  cudaFuncAttributes attributes{};
  const cudaError_t k = cudaFuncGetAttributes(&attributes, ab_add);
  if (k != cudaSuccess) {
    (void)cudaGetLastError();
    cudaDeviceProp p{};
    const std::string cc = cudaGetDeviceProperties(&p, device) == cudaSuccess
                               ? "sm_" + std::to_string(p.major) + std::to_string(p.minor)
                               : std::string("unknown");
    (void)cudaGetLastError();
    throw std::runtime_error(cuda_error_text(k, "cudaFuncGetAttributes") + "; device " + std::to_string(device) +
                             " is " + cc + ", the kernels were compiled for " + cuda_compiled_architectures() +
                             " (CMAKE_CUDA_ARCHITECTURES)");
  }
  return device;
}

/// What every Cuda object on one device shares: the device's properties and
/// the count of the memory their buffers hold.
struct CudaDevice : DeviceMemoryCounter {
  using Handle = void*;

  int index = 0;
  cudaDeviceProp properties{};

  /// Frees memory of this device (CountedBuffer). cudaFree waits for the
  /// device's queued work. Its errors are ignored: at exit the runtime may
  /// already be unloaded.
  void release(void* ptr) const noexcept {
    if (cudaSetDevice(index) == cudaSuccess) (void)cudaFree(ptr);
    (void)cudaGetLastError();
  }

  /// The device of index `index` (valid: from select_cuda_device).
  static std::shared_ptr<CudaDevice> get(int index) {
    static std::mutex mutex;
    static std::map<int, std::shared_ptr<CudaDevice>> devices;
    const std::lock_guard lock(mutex);
    auto& slot = devices[index];
    if (!slot) {
      auto dev = std::make_shared<CudaDevice>();
      dev->index = index;
      cuda_check(cudaGetDeviceProperties(&dev->properties, index), "cudaGetDeviceProperties");
      slot = std::move(dev);
    }
    return slot;
  }
};

/// Device memory from cudaMalloc; frees itself and updates its device's count.
using CudaBuffer = CountedBuffer<CudaDevice>;

}  // namespace detail

}  // namespace accelbench
