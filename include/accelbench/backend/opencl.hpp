#pragma once

// The OpenCL backend: any OpenCL 1.2 device (GPUs, and CPUs through PoCL).
// Kernels are compiled at run time from backend/device/gpu_kernels.hpp, once per
// device: every OpenCL object on the same device shares one context and one
// program, so a model loaded by one is usable by the others. Each object has
// its own in-order command queue, with profiling for OpenCLEventTimer.
//
// Link accelbench::opencl (CMake) or -lOpenCL.
//
// Device selection: OpenCL::Options{platform, device}, each an index or a
// case-insensitive part of the name; empty means the environment variable
// ACCELBENCH_OPENCL_DEVICE ("platform:device", e.g. "0:1" or "pocl:cpu"),
// and without it the first GPU, else the first device of any type.

// opencl/context.hpp brings the OpenCL headers (at OpenCL 1.2 unless
// CL_TARGET_OPENCL_VERSION says otherwise) and what every object shares.
#include "opencl/context.hpp"
#include "device/device_memory.hpp"
#include "device/gpu_ops.hpp"
#include "opencl/devices.hpp"
#include "../core/result.hpp"
#include "concepts.hpp"

namespace accelbench {

class OpenCLEventTimer;

class OpenCL : public GpuOps<OpenCL, detail::OpenClBuffer> {
  using Base = GpuOps<OpenCL, detail::OpenClBuffer>;
  friend Base;

 public:
  using Tensor = Base::Tensor;
  using IndexTensor = Base::IndexTensor;
  using DefaultTimer = OpenCLEventTimer;

  static constexpr std::string_view name = "opencl";

  struct Options {
    std::string platform{};  ///< index or part of the name; empty: ACCELBENCH_OPENCL_DEVICE, then the default
    std::string device{};    ///< index or part of the name (or "gpu", "cpu")
  };

  /// The device of ACCELBENCH_OPENCL_DEVICE, else the default. Without one
  /// the object is made all the same (available() says why) and its
  /// operations throw that reason, so that a Benchmark can report the
  /// backend unavailable.
  OpenCL() {
    try {
      open(detail::select_opencl_device({}, {}));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  /// The device `options` names; throws when there is none.
  explicit OpenCL(const Options& options) { open(detail::select_opencl_device(options.platform, options.device)); }

  OpenCL(OpenCL&& o) noexcept
      : Base(std::move(o)),
        device_(std::move(o.device_)),
        queue_(std::exchange(o.queue_, nullptr)),
        kernels_(std::exchange(o.kernels_, {})),
        error_(std::move(o.error_)) {}
  OpenCL& operator=(OpenCL&& o) noexcept {
    if (this != &o) {
      release();
      Base::operator=(std::move(o));
      device_ = std::move(o.device_);
      queue_ = std::exchange(o.queue_, nullptr);
      kernels_ = std::exchange(o.kernels_, {});
      error_ = std::move(o.error_);
    }
    return *this;
  }
  OpenCL(const OpenCL&) = delete;
  OpenCL& operator=(const OpenCL&) = delete;
  ~OpenCL() { release(); }

  /// Whether a device can be selected (as the default constructor would).
  [[nodiscard]] static Availability available() {
    try {
      (void)detail::select_opencl_device({}, {});
      return Availability::yes();
    } catch (const std::exception& e) {
      return Availability::no(e.what());
    }
  }

  [[nodiscard]] DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    if (!device_) return d;
    const cl_device_id dev = device_->location.device_id;
    d.name = detail::cl_device_string(dev, CL_DEVICE_NAME);
    const auto type = detail::cl_device_value<cl_device_type>(dev, CL_DEVICE_TYPE);
    d.kind = (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator";
    d.compute_units = static_cast<int>(detail::cl_device_value<cl_uint>(dev, CL_DEVICE_MAX_COMPUTE_UNITS));
    d.memory_bytes = detail::cl_device_value<cl_ulong>(dev, CL_DEVICE_GLOBAL_MEM_SIZE);
    const std::string ext = detail::cl_device_string(dev, CL_DEVICE_EXTENSIONS);
    if (ext.find("cl_khr_fp64") != std::string::npos) d.features.emplace_back("fp64");
    if (ext.find("cl_khr_fp16") != std::string::npos) d.features.emplace_back("fp16");
    d.properties.emplace_back("platform", detail::cl_platform_string(device_->location.platform_id, CL_PLATFORM_NAME));
    d.properties.emplace_back("platform_version",
                              detail::cl_platform_string(device_->location.platform_id, CL_PLATFORM_VERSION));
    d.properties.emplace_back("vendor", detail::cl_device_string(dev, CL_DEVICE_VENDOR));
    d.properties.emplace_back("device_version", detail::cl_device_string(dev, CL_DEVICE_VERSION));
    d.properties.emplace_back("driver_version", detail::cl_device_string(dev, CL_DRIVER_VERSION));
    d.properties.emplace_back("location", device_key());
    d.properties.emplace_back("max_work_group_size",
                              std::to_string(detail::cl_device_value<std::size_t>(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE)));
    d.properties.emplace_back("local_memory_bytes",
                              std::to_string(detail::cl_device_value<cl_ulong>(dev, CL_DEVICE_LOCAL_MEM_SIZE)));
    d.properties.emplace_back("kernel_compile_s", std::to_string(device_->compile_seconds));
    return d;
  }

  /// The OpenCL section of `accelbench check`: every platform and device,
  /// through the ICD loader, whether or not this backend can open one.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_opencl_devices(); }

  /// The device's platform and index: objects on the same device share
  /// one context, so they may share loaded models.
  [[nodiscard]] std::string device_key() const {
    if (!device_) return "none";
    return std::to_string(device_->location.platform) + ":" + std::to_string(device_->location.device);
  }

  void synchronize() {
    (void)dev();
    detail::cl_check(clFinish(queue_), "clFinish");
  }

  /// Device memory held by every OpenCL object on this device (buffers
  /// allocated through the backend; the driver's own use is not counted).
  [[nodiscard]] DeviceMemory device_memory() const {
    if (!device_) return {};
    DeviceMemory m = device_->memory();
    m.total_bytes = detail::cl_device_value<cl_ulong>(device_->location.device_id, CL_DEVICE_GLOBAL_MEM_SIZE);
    return m;
  }
  /// Starts a new peak and mean (the Benchmark calls it at each cell's start).
  void reset_device_memory() {
    if (device_) device_->reset();
  }

  [[nodiscard]] cl_command_queue queue() const noexcept { return queue_; }

 private:
  friend class OpenCLEventTimer;

  void open(const detail::OpenClLocation& location) {
    device_ = detail::OpenClDevice::get(location);
    cl_int e = CL_SUCCESS;
    queue_ = clCreateCommandQueue(device_->context, location.device_id, CL_QUEUE_PROFILING_ENABLE, &e);
    detail::cl_check(e, "clCreateCommandQueue");
    for (int k = 0; k < gpu_kernel_count; ++k) {
      kernels_[std::size_t(k)] = clCreateKernel(device_->program, gpu_kernel_names[k], &e);
      detail::cl_check(e, gpu_kernel_names[k]);
    }
    const auto max_group = detail::cl_device_value<std::size_t>(location.device_id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    if (max_group < std::size_t(gpu_row_group) || max_group < std::size_t(gpu_tile * gpu_tile)) {
      release();
      throw std::runtime_error("opencl: the device's work-groups hold " + std::to_string(max_group) +
                               " work-items; the kernels need 256");
    }
  }

  /// The device, or the reason there is none.
  const detail::OpenClDevice& dev() const {
    if (!device_ || queue_ == nullptr) throw std::runtime_error("opencl: no device: " + error_);
    return *device_;
  }

 public:
  // ---- the device runtime (DeviceRuntime), on which GpuOps builds every op ----

  detail::OpenClBuffer allocate(std::size_t bytes) {
    cl_int e = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(dev().context, CL_MEM_READ_WRITE, bytes, nullptr, &e);
    detail::cl_check(e, ("clCreateBuffer of " + std::to_string(bytes) + " bytes").c_str());
    return detail::OpenClBuffer(mem, bytes, device_);
  }
  void write(detail::OpenClBuffer& b, const void* data, std::size_t bytes) {
    detail::cl_check(clEnqueueWriteBuffer(queue_, b.get(), CL_TRUE, 0, bytes, data, 0, nullptr, nullptr),
                     "clEnqueueWriteBuffer");
  }
  void read(const detail::OpenClBuffer& b, void* data, std::size_t bytes) {
    detail::cl_check(clEnqueueReadBuffer(queue_, b.get(), CL_TRUE, 0, bytes, data, 0, nullptr, nullptr),
                     "clEnqueueReadBuffer");
  }
  static cl_mem handle(const detail::OpenClBuffer& b) noexcept { return b.get(); }
  static cl_mem index_handle(const detail::OpenClBuffer& b) noexcept { return b.get(); }
  static cl_mem half_handle(const detail::OpenClBuffer& b) noexcept { return b.get(); }

  template <GpuKernel K, class... A>
  void launch(const GpuRange& range, A... args) {
    (void)dev();
    cl_kernel kernel = kernels_[static_cast<std::size_t>(K)];
    cl_uint index = 0;
    (set_arg(kernel, index++, args), ...);
    const std::size_t global[2] = {range.global0, range.global1};
    const std::size_t local[2] = {range.local0, range.local1};
    const cl_uint dims = (range.global1 > 1 || range.local1 > 1) ? 2 : 1;
    const cl_int e = clEnqueueNDRangeKernel(queue_, kernel, dims, nullptr, global, local, 0, nullptr, nullptr);
    if (e != CL_SUCCESS) {
      detail::cl_check(e, (std::string("clEnqueueNDRangeKernel(") + gpu_kernel_names[static_cast<int>(K)] + ")").c_str());
    }
  }

 private:
  template <class A>
  static void set_arg(cl_kernel kernel, cl_uint index, const A& value) {
    static_assert(std::is_same_v<A, cl_mem> || std::is_same_v<A, int> || std::is_same_v<A, std::int64_t> ||
                      std::is_same_v<A, float>,
                  "kernel arguments are buffers, int, std::int64_t (long) or float");
    detail::cl_check(clSetKernelArg(kernel, index, sizeof(A), &value), "clSetKernelArg");
  }

 public:
  void gemm_nt(const GemmArgs<detail::OpenClBuffer>& g) {
    const cl_mem no_bits = nullptr;  // the weight is floats (wkind 0)
    if (g.n <= gpu_few_rows) {
      launch<GpuKernel::matmul_nt_few>(GpuRange::elements(g.m), g.x->get(), g.xoff, g.ldx, g.w->get(), g.woff, g.ldw,
                                       no_bits, 0, g.y->get(), g.yoff, g.ldy, g.n, g.m, g.k);
      return;
    }
    launch<GpuKernel::matmul_nt>(GpuRange::matmul_tiles(g.n, g.m), g.x->get(), g.xoff, g.ldx, g.w->get(), g.woff,
                                 g.ldw, no_bits, 0, g.y->get(), g.yoff, g.ldy, g.n, g.m, g.k);
  }

 private:
  void release() noexcept {
    for (auto& k : kernels_) {
      if (k != nullptr) clReleaseKernel(k);
      k = nullptr;
    }
    if (queue_ != nullptr) clReleaseCommandQueue(queue_);
    queue_ = nullptr;
  }

  std::shared_ptr<detail::OpenClDevice> device_;
  cl_command_queue queue_ = nullptr;
  std::array<cl_kernel, gpu_kernel_count> kernels_{};
  std::string error_;
};

static_assert(DeviceRuntime<OpenCL, detail::OpenClBuffer>);

/// Timer policy from OpenCL profiling events: markers enqueued at start()
/// and stop() on the backend's queue; the time between their completions on
/// the device, in seconds.
class OpenCLEventTimer {
 public:
  static constexpr std::string_view name = "opencl_events";

  explicit OpenCLEventTimer(OpenCL& backend) : queue_(backend.queue()) {}
  OpenCLEventTimer(OpenCLEventTimer&& o) noexcept
      : queue_(o.queue_), start_(std::exchange(o.start_, nullptr)) {}
  OpenCLEventTimer& operator=(OpenCLEventTimer&& o) noexcept {
    if (this != &o) {
      release();
      queue_ = o.queue_;
      start_ = std::exchange(o.start_, nullptr);
    }
    return *this;
  }
  OpenCLEventTimer(const OpenCLEventTimer&) = delete;
  OpenCLEventTimer& operator=(const OpenCLEventTimer&) = delete;
  ~OpenCLEventTimer() { release(); }

  void start() {
    release();
    detail::cl_check(clEnqueueMarkerWithWaitList(queue_, 0, nullptr, &start_), "clEnqueueMarkerWithWaitList");
  }

  /// Seconds between the start marker and a marker enqueued now, waiting for it.
  [[nodiscard]] double stop() {
    cl_event end = nullptr;
    detail::cl_check(clEnqueueMarkerWithWaitList(queue_, 0, nullptr, &end), "clEnqueueMarkerWithWaitList");
    const cl_int waited = clWaitForEvents(1, &end);
    cl_ulong t0 = 0, t1 = 0;
    const cl_int e0 = clGetEventProfilingInfo(start_, CL_PROFILING_COMMAND_END, sizeof(t0), &t0, nullptr);
    const cl_int e1 = clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_END, sizeof(t1), &t1, nullptr);
    clReleaseEvent(end);
    detail::cl_check(waited, "clWaitForEvents");
    detail::cl_check(e0 != CL_SUCCESS ? e0 : e1, "clGetEventProfilingInfo");
    return t1 > t0 ? static_cast<double>(t1 - t0) * 1e-9 : 0.0;
  }

 private:
  void release() noexcept {
    if (start_ != nullptr) clReleaseEvent(start_);
    start_ = nullptr;
  }
  cl_command_queue queue_ = nullptr;
  cl_event start_ = nullptr;
};

static_assert(EncoderOps<OpenCL>, "OpenCL must provide every encoder op");
static_assert(GenerationOps<OpenCL>, "OpenCL must provide every text-generation op");
static_assert(PerceptionOps<OpenCL>, "OpenCL must provide every vision, audio and multimodal op");
static_assert(DetectionOps<OpenCL>, "OpenCL must provide every detection (convolutional backbone) op");
static_assert(WindowOps<OpenCL>, "OpenCL must provide every windowed vision transformer (Swin) op");

}  // namespace accelbench
