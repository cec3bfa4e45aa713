#pragma once

// The Cuda backend: an NVIDIA GPU through the CUDA runtime. The kernels of
// backend/device/gpu_kernels.hpp (the same source as the OpenCL backend's) are
// compiled into the program by nvcc, for the architectures of
// CMAKE_CUDA_ARCHITECTURES; matrix products are cuBLAS's cublasSgemm in
// float32. Each object has its own non-blocking stream, with a cuBLAS handle
// bound to it; every Cuda object on the same device shares that device's
// memory count, and a model loaded by one is usable by the others.
//
// Include it from a .cu file compiled by nvcc and link accelbench::cuda
// (CMake), or -lcudart -lcublas.
//
// Device selection: Cuda::Options{device}, an index among the devices the
// CUDA runtime sees (after CUDA_VISIBLE_DEVICES); -1 means the environment
// variable ACCELBENCH_CUDA_DEVICE (an index), and without it device 0.

#if !defined(__CUDACC__)
#error "accelbench/backend/cuda.cuh is CUDA C++: include it from a .cu file compiled by nvcc"
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

#include "device/device_memory.hpp"
#include "device/gpu_ops.hpp"
#include "cuda/devices.hpp"
#include "../core/result.hpp"
#include "concepts.hpp"

namespace accelbench {

namespace detail {

// ---- the kernels: gpu_kernels.hpp expanded as CUDA C++ ----
//
// `static`: each translation unit that includes this header has its own
// copy, so a program of several .cu files links.

#define KERNEL static __global__
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
#include "device/gpu_kernels.hpp"
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
  ACCELBENCH_CUDA_KERNEL(swiglu)
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

class CudaEventTimer;

class Cuda : public GpuOps<Cuda, detail::CudaBuffer> {
  using Base = GpuOps<Cuda, detail::CudaBuffer>;
  friend Base;

 public:
  using Tensor = Base::Tensor;
  using IndexTensor = Base::IndexTensor;
  using DefaultTimer = CudaEventTimer;

  static constexpr std::string_view name = "cuda";

  struct Options {
    int device = -1;  ///< index among the visible devices; -1: ACCELBENCH_CUDA_DEVICE, else 0
  };

  /// The device of ACCELBENCH_CUDA_DEVICE, else device 0. Without one the
  /// object is made all the same (available() says why) and its operations
  /// throw that reason, so that a Benchmark can report the backend
  /// unavailable.
  Cuda() {
    try {
      open(detail::select_cuda_device(-1));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  /// The device `options` names; throws when there is none.
  explicit Cuda(const Options& options) { open(detail::select_cuda_device(options.device)); }

  Cuda(Cuda&& o) noexcept
      : Base(std::move(o)),
        device_(std::move(o.device_)),
        stream_(std::exchange(o.stream_, nullptr)),
        blas_(std::exchange(o.blas_, nullptr)),
        error_(std::move(o.error_)) {}
  Cuda& operator=(Cuda&& o) noexcept {
    if (this != &o) {
      release();
      Base::operator=(std::move(o));
      device_ = std::move(o.device_);
      stream_ = std::exchange(o.stream_, nullptr);
      blas_ = std::exchange(o.blas_, nullptr);
      error_ = std::move(o.error_);
    }
    return *this;
  }
  Cuda(const Cuda&) = delete;
  Cuda& operator=(const Cuda&) = delete;
  ~Cuda() { release(); }

  /// Whether a device can be selected (as the default constructor would) and
  /// runs the program's kernels; otherwise the CUDA runtime's reason, e.g.
  /// "cudaGetDeviceCount returned 100 (cudaErrorNoDevice): no CUDA-capable
  /// device is detected". Never throws.
  [[nodiscard]] static Availability available() {
    try {
      (void)detail::select_cuda_device(-1);
      return Availability::yes();
    } catch (const std::exception& e) {
      return Availability::no(e.what());
    }
  }

  [[nodiscard]] DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    if (!device_) return d;
    const cudaDeviceProp& p = device_->properties;
    const int cc = p.major * 10 + p.minor;
    d.name = p.name;
    d.kind = "gpu";
    d.compute_units = p.multiProcessorCount;
    d.memory_bytes = p.totalGlobalMem;
    d.features.push_back("sm_" + std::to_string(cc));
    if (cc >= 53) d.features.emplace_back("fp16");
    if (cc >= 80) d.features.emplace_back("bf16");
    if (cc >= 80) d.features.emplace_back("tf32");
    d.properties.emplace_back("compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor));
    d.properties.emplace_back("location", device_key());
    (void)cudaSetDevice(device_->index);
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), device_->index) == cudaSuccess) {
      d.properties.emplace_back("pci_bus_id", bus);
    }
    int version = 0;
    if (cudaDriverGetVersion(&version) == cudaSuccess) {
      d.properties.emplace_back("driver_version", detail::cuda_version_string(version));
    }
    if (cudaRuntimeGetVersion(&version) == cudaSuccess) {
      d.properties.emplace_back("runtime_version", detail::cuda_version_string(version));
    }
    int major = 0, minor = 0, patch = 0;
    if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
      d.properties.emplace_back("cublas_version",
                                std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
    }
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device_->index) == cudaSuccess) {
      d.properties.emplace_back("clock_mhz", std::to_string(khz / 1000));
    }
    d.properties.emplace_back("memory_bus_width_bits", std::to_string(p.memoryBusWidth));
    d.properties.emplace_back("l2_cache_bytes", std::to_string(p.l2CacheSize));
    d.properties.emplace_back("shared_memory_per_block_bytes", std::to_string(p.sharedMemPerBlock));
    // What every process and context on the device holds (this program's
    // CUDA context, cuBLAS's workspace, other programs), unlike
    // device_memory(), which counts accelbench's buffers.
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      d.properties.emplace_back("memory_used_by_all_bytes", std::to_string(total_bytes - free_bytes));
      d.properties.emplace_back("memory_free_bytes", std::to_string(free_bytes));
    }
    (void)cudaGetLastError();
    d.properties.emplace_back("kernels_compiled_for", detail::cuda_compiled_architectures());
    d.properties.emplace_back("matmul", "cublasSgemm (float32)");
    return d;
  }

  /// The CUDA section of `accelbench check`: every device, through the
  /// driver API, whether or not this backend can open one.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_cuda_devices(); }

  /// The device's index: objects on the same device may share loaded models
  /// (a ResourcePool keys them as "cuda:<index>").
  [[nodiscard]] std::string device_key() const {
    if (!device_) return "none";
    return std::to_string(device_->index);
  }

  /// Waits for the work queued on this object's stream.
  void synchronize() {
    (void)dev();
    make_current();
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  /// Device memory held by every Cuda object's buffers on this device
  /// (used, peak and time-weighted average are accelbench's buffers only;
  /// the CUDA context, cuBLAS's workspace and other programs are not
  /// counted: describe()'s memory_used_by_all_bytes has those); total_bytes
  /// is cudaMemGetInfo's total.
  [[nodiscard]] DeviceMemory device_memory() const {
    if (!device_) return {};
    DeviceMemory m = device_->memory();
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(device_->index) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      m.total_bytes = total_bytes;
    } else {
      (void)cudaGetLastError();
      m.total_bytes = device_->properties.totalGlobalMem;
    }
    return m;
  }
  /// Starts a new peak and mean (the Benchmark calls it at each cell's start).
  void reset_device_memory() {
    if (device_) device_->reset();
  }

  /// This object's stream (nullptr without a device).
  [[nodiscard]] cudaStream_t stream() const noexcept { return stream_; }
  /// The device's index (-1 without a device).
  [[nodiscard]] int device_index() const noexcept { return device_ ? device_->index : -1; }
  /// The cuBLAS handle bound to stream() (nullptr without a device).
  [[nodiscard]] cublasHandle_t cublas() const noexcept { return blas_; }

 private:
  friend class CudaEventTimer;

  void open(int index) {
    device_ = detail::CudaDevice::get(index);
    try {
      make_current();
      detail::cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
      detail::cublas_check(cublasCreate(&blas_), "cublasCreate");
      detail::cublas_check(cublasSetStream(blas_, stream_), "cublasSetStream");
      // Float32 products, as Cpu's: no TF32 unless NVIDIA_TF32_OVERRIDE asks.
      detail::cublas_check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
      release();
      device_.reset();
      throw;
    }
  }

  /// The device, or the reason there is none.
  const detail::CudaDevice& dev() const {
    if (!device_ || stream_ == nullptr) throw std::runtime_error("cuda: no device: " + error_);
    return *device_;
  }

  /// The CUDA runtime's current device is per thread: set it before each
  /// call, since a backend may be used from several threads.
  void make_current() const {
    detail::cuda_check(cudaSetDevice(device_->index), "cudaSetDevice");
  }

 public:
  // ---- the device runtime (DeviceRuntime), on which GpuOps builds every op ----

  detail::CudaBuffer allocate(std::size_t bytes) {
    (void)dev();
    make_current();
    void* ptr = nullptr;
    if (const cudaError_t e = cudaMalloc(&ptr, bytes); e != cudaSuccess) {
      detail::cuda_check(e, "cudaMalloc of " + std::to_string(bytes) + " bytes (accelbench's buffers hold " +
                                std::to_string(device_->memory().used_bytes) + " bytes on this device)");
    }
    return detail::CudaBuffer(ptr, bytes, device_);
  }
  void write(detail::CudaBuffer& b, const void* data, std::size_t bytes) {
    (void)dev();
    make_current();
    detail::cuda_check(cudaMemcpyAsync(b.get(), data, bytes, cudaMemcpyHostToDevice, stream_),
                       "cudaMemcpyAsync (host to device)");
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  void read(const detail::CudaBuffer& b, void* data, std::size_t bytes) {
    (void)dev();
    make_current();
    detail::cuda_check(cudaMemcpyAsync(data, b.get(), bytes, cudaMemcpyDeviceToHost, stream_),
                       "cudaMemcpyAsync (device to host)");
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  static float* handle(const detail::CudaBuffer& b) noexcept { return static_cast<float*>(b.get()); }
  static std::int32_t* index_handle(const detail::CudaBuffer& b) noexcept {
    return static_cast<std::int32_t*>(b.get());
  }

  template <GpuKernel K, class... A>
  void launch(const GpuRange& range, A... args) {
    static_assert(((std::is_same_v<A, float*> || std::is_same_v<A, std::int32_t*> || std::is_same_v<A, int> ||
                    std::is_same_v<A, std::int64_t> || std::is_same_v<A, float>) && ...),
                  "kernel arguments are buffers, int, std::int64_t (long) or float");
    (void)dev();
    const char* kernel_name = gpu_kernel_names[static_cast<int>(K)];
    const std::size_t blocks0 = range.global0 / range.local0;
    const std::size_t blocks1 = range.global1 / range.local1;
    if (blocks0 == 0 || blocks0 > 0x7fffffffu || blocks1 == 0 || blocks1 > 65535u) {
      throw std::invalid_argument(std::string("cuda ") + kernel_name + ": a grid of " + std::to_string(blocks0) +
                                  " x " + std::to_string(blocks1) + " blocks is outside CUDA's limits");
    }
    make_current();
    (void)cudaGetLastError();  // so that the check below sees this launch's error only
    const dim3 grid(static_cast<unsigned>(blocks0), static_cast<unsigned>(blocks1));
    const dim3 block(static_cast<unsigned>(range.local0), static_cast<unsigned>(range.local1));
    const auto kernel = detail::cuda_kernel<K>();
    kernel<<<grid, block, 0, stream_>>>(args...);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
      detail::cuda_check(e, std::string("the launch of ") + kernel_name);
    }
  }

  /// Row-major y[n, m] = x[n, k] wᵀ (w is [m, k]) is column-major
  /// yᵀ = w xᵀ: cuBLAS's A is w's buffer read transposed, B is x's.
  void gemm_nt(const GemmArgs<detail::CudaBuffer>& g) {
    (void)dev();
    make_current();
    float* y = handle(*g.y) + g.yoff;
    if (g.k == 0) {  // an empty sum: y = 0 (cuBLAS rejects leading dimensions of 0)
      detail::cuda_check(cudaMemset2DAsync(y, std::size_t(g.ldy) * sizeof(float), 0, std::size_t(g.m) * sizeof(float),
                                           std::size_t(g.n), stream_),
                         "cudaMemset2DAsync");
      return;
    }
    const float one = 1.0f;
    const float zero = 0.0f;
    detail::cublas_check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, g.m, g.n, g.k, &one, handle(*g.w) + g.woff,
                                     g.ldw, handle(*g.x) + g.xoff, g.ldx, &zero, y, g.ldy),
                         "cublasSgemm");
  }

 private:
  void release() noexcept {
    if (device_ && (blas_ != nullptr || stream_ != nullptr)) (void)cudaSetDevice(device_->index);
    if (blas_ != nullptr) (void)cublasDestroy(blas_);
    blas_ = nullptr;
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
    stream_ = nullptr;
    (void)cudaGetLastError();
  }

  std::shared_ptr<detail::CudaDevice> device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  std::string error_;
};

static_assert(DeviceRuntime<Cuda, detail::CudaBuffer>);

/// Timer policy from CUDA events: an event recorded on the backend's stream
/// at start() and at stop(); the time between them on the device, in
/// seconds (cudaEventElapsedTime, resolution about half a microsecond).
class CudaEventTimer {
 public:
  static constexpr std::string_view name = "cuda_events";

  explicit CudaEventTimer(Cuda& backend) : stream_(backend.stream()), device_(backend.device_index()) {}
  CudaEventTimer(CudaEventTimer&& o) noexcept
      : stream_(std::exchange(o.stream_, nullptr)),
        device_(std::exchange(o.device_, -1)),
        start_(std::exchange(o.start_, nullptr)),
        stop_(std::exchange(o.stop_, nullptr)) {}
  CudaEventTimer& operator=(CudaEventTimer&& o) noexcept {
    if (this != &o) {
      release();
      stream_ = std::exchange(o.stream_, nullptr);
      device_ = std::exchange(o.device_, -1);
      start_ = std::exchange(o.start_, nullptr);
      stop_ = std::exchange(o.stop_, nullptr);
    }
    return *this;
  }
  CudaEventTimer(const CudaEventTimer&) = delete;
  CudaEventTimer& operator=(const CudaEventTimer&) = delete;
  ~CudaEventTimer() { release(); }

  void start() {
    prepare();
    detail::cuda_check(cudaEventRecord(start_, stream_), "cudaEventRecord");
  }

  /// Seconds between the start event and an event recorded now, waiting for it.
  [[nodiscard]] double stop() {
    prepare();
    detail::cuda_check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
    detail::cuda_check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    float ms = 0.0f;
    detail::cuda_check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return ms > 0.0f ? static_cast<double>(ms) * 1e-3 : 0.0;
  }

 private:
  /// Makes the device current and creates the events on first use.
  void prepare() {
    if (stream_ == nullptr || device_ < 0) throw std::runtime_error("cuda: the event timer's backend has no device");
    detail::cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    if (start_ == nullptr) detail::cuda_check(cudaEventCreate(&start_), "cudaEventCreate");
    if (stop_ == nullptr) detail::cuda_check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  void release() noexcept {
    if (start_ != nullptr || stop_ != nullptr) (void)cudaSetDevice(device_);
    if (start_ != nullptr) (void)cudaEventDestroy(start_);
    if (stop_ != nullptr) (void)cudaEventDestroy(stop_);
    start_ = stop_ = nullptr;
    (void)cudaGetLastError();
  }
  cudaStream_t stream_ = nullptr;
  int device_ = -1;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

static_assert(EncoderOps<Cuda>, "Cuda must provide every encoder op");
static_assert(GenerationOps<Cuda>, "Cuda must provide every text-generation op");
static_assert(PerceptionOps<Cuda>, "Cuda must provide every vision, audio and multimodal op");

}  // namespace accelbench
