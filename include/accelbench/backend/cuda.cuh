#pragma once

// The Cuda backend: an NVIDIA GPU through the CUDA runtime. The kernels of
// backend/device/gpu_kernels.hpp (the same source as the OpenCL backend's) are
// compiled into the program by nvcc, for the architectures of
// CMAKE_CUDA_ARCHITECTURES; matrix products are cuBLAS's cublasSgemm in
// float32, or, with weights stored in bf16 or fp16 (upload_weight), the
// shared kernels, which widen each weight as they read it. Each object has its own non-blocking stream, with a cuBLAS handle
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

// cuda/context.cuh comes first: it sets what fmt and Eigen need under nvcc
// before anything includes them, and brings the CUDA runtime and cuBLAS.
#include "cuda/context.cuh"
#include "device/device_memory.hpp"
#include "device/gpu_ops.hpp"
#include "cuda/devices.hpp"
#include "../core/result.hpp"
#include "concepts.hpp"

namespace accelbench {

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
  static std::uint16_t* half_handle(const detail::CudaBuffer& b) noexcept {
    return static_cast<std::uint16_t*>(b.get());
  }

  template <GpuKernel K, class... A>
  void launch(const GpuRange& range, A... args) {
    static_assert(((std::is_same_v<A, float*> || std::is_same_v<A, std::int32_t*> || std::is_same_v<A, std::uint16_t*> ||
                    std::is_same_v<A, int> || std::is_same_v<A, std::int64_t> || std::is_same_v<A, float>) && ...),
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
static_assert(DetectionOps<Cuda>, "Cuda must provide every detection (convolutional backbone) op");
static_assert(WindowOps<Cuda>, "Cuda must provide every windowed vision transformer (Swin) op");

}  // namespace accelbench
