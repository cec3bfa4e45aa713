#pragma once

// The Cpu backend's class: its members, with the ops declared here and
// defined by op set in encoder_ops.hpp, generation_ops.hpp,
// perception_ops.hpp and detection_ops.hpp. Include
// <accelbench/backend/cpu.hpp>, which brings all five.
//
// The Cpu backend: Eigen kernels that are both the reference every other
// backend is verified against and what the CPU is timed with. A linear
// layer's product is detail::gemm_nt (cpu/gemm.hpp) on AVX2 or AVX-512, on
// weights packed once at load (Cpu::Weight), and Eigen's GEMM elsewhere; the
// other products are Eigen's; element-wise work is vectorised Eigen array
// code over whole rows. Work is split across threads with OpenMP where each
// thread gets enough of it (detail::worth_threads, omp_policy.hpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../../detail/eigen.hpp"
#include "../../detail/free_cores.hpp"
#include "../../detail/omp_policy.hpp"
#include "../../detail/proc.hpp"
#include "../../detail/rotary.hpp"
#include "../../core/result.hpp"
#include "../../core/tensor.hpp"
#include "../../machine/cpu.hpp"
#include "../concepts.hpp"
#include "weight.hpp"

namespace accelbench {

class Cpu {
 public:
  using Tensor = HostMatrix;
  using IndexTensor = std::vector<std::int32_t>;
  using Index = Eigen::Index;
  using Weight = CpuWeight;  // a linear layer's weight at a Precision

  static constexpr std::string_view name = "cpu";

  struct Options {
    /// Threads for GEMM and the other ops; 0 means one per logical core
    /// (one per free core with fit_free_cores). Without OpenMP the backend
    /// runs on one thread whatever is asked.
    int threads = 0;
    /// With threads = 0: no more threads than the logical cores free when
    /// the process first asked (detail::free_cores_at_first_use, 100 ms of
    /// /proc/stat). An explicit thread count is kept as asked; describe()
    /// says when it is above the free cores.
    bool fit_free_cores = true;
  };

  Cpu() : Cpu(Options{}) {}

  explicit Cpu(Options options) {
    if (options.threads < 0) {
      throw std::invalid_argument("Cpu: threads = " + std::to_string(options.threads) + ": must be >= 0");
    }
#if defined(_OPENMP)
    const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    threads_ = options.threads == 0 ? hw : options.threads;
    if (options.threads == 0 && options.fit_free_cores) {
      free_cores_ = detail::free_cores_at_first_use();
      threads_ = std::min(hw, free_cores_);
    }
#else
    threads_ = 1;
#endif
    scratch_.resize(static_cast<std::size_t>(threads_));
    conv_scratch_.resize(static_cast<std::size_t>(threads_));
    norm_scratch_.resize(static_cast<std::size_t>(threads_));
  }

  [[nodiscard]] static Availability available() { return Availability::yes(); }

  [[nodiscard]] int threads() const noexcept { return threads_; }

  [[nodiscard]] DeviceInfo describe() const {
    const auto cpu = detail::describe_cpu();
    DeviceInfo d;
    d.backend = std::string(name);
    d.name = cpu.model;
    d.kind = "cpu";
    d.compute_units = cpu.logical_cores;
    d.threads = threads_;
    d.memory_bytes = detail::total_memory_bytes();
    d.features = cpu.features;
    d.properties.emplace_back("physical_cores", std::to_string(cpu.physical_cores));
    d.properties.emplace_back("eigen_simd", Eigen::SimdInstructionSetsInUse());
#if defined(_OPENMP)
    d.properties.emplace_back("openmp", std::to_string(_OPENMP));
    d.properties.emplace_back("omp_wait_policy", detail::omp_wait_policy());
#else
    d.properties.emplace_back("openmp", "off");
#endif
    // One thread always fits: the free cores are measured (once per
    // process) only where the thread count could exceed them.
    const int free = free_cores_ > 0 ? free_cores_ : threads_ > 1 ? detail::free_cores_at_first_use() : 0;
    d.properties.emplace_back("free_cores", free > 0 ? std::to_string(free) : std::string("not measured (1 thread)"));
    if (free > 0 && threads_ > free) d.properties.emplace_back("threads_above_free_cores", "yes");
    return d;
  }

  /// Every Cpu instance works on host memory: models are shared between them.
  [[nodiscard]] static std::string device_key() { return "host"; }

  /// The CPU section of `accelbench check`: the CPU and memory of this
  /// machine, from /proc and /sys.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_cpu_devices(); }

  void synchronize() noexcept {}  // work on the CPU is synchronous
  [[nodiscard]] Tensor upload(const HostMatrix& m) const { return m; }
  [[nodiscard]] Tensor upload(HostMatrix&& m) const noexcept { return std::move(m); }
  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) const {
    return IndexTensor(ids.begin(), ids.end());
  }
  [[nodiscard]] HostMatrix download(const Tensor& t) const { return t; }

  // ---- ops (see EncoderOps and GenerationOps; defined in cpu/encoder_ops.hpp and cpu/generation_ops.hpp) ----

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y);

  /// y = x wᵀ + b with w stored at its precision (fp32, bf16 or fp16),
  /// widened to float as it is read; products and sums in fp32.
  void linear(const Tensor& x, const Weight& w, const Tensor& b, Tensor& y);
  [[nodiscard]] static Weight upload_weight(const HostMatrix& m, Precision p) { return Weight(m, p); }
  [[nodiscard]] static Weight upload_weight_bits(Precision p, const HalfBitsMatrix& m) {
    return Weight::from_bits(p, m.rows(), m.cols(), {m.data(), static_cast<std::size_t>(m.size())});
  }

  void add(const Tensor& x, Tensor& y);

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y);

  void gelu(Tensor& x);

  void softmax(Tensor& x);

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const AttentionDims& d,
                 Tensor& out);

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const Tensor& position_bias, const AttentionDims& d, Tensor& out);

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y);

  void gelu_tanh(Tensor& x);

  void relu(Tensor& x);

  void silu(Tensor& x);

  void swiglu(const Tensor& x, Tensor& y);

  void geglu_tanh(const Tensor& x, Tensor& y);

  void scale(Tensor& x, float s);

  void rotary(Tensor& x, const RotaryDims& r);

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y);

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache);

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& out);

  void argmax_rows(const Tensor& x, IndexTensor& ids);

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) const { return ids; }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out);

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out);

  // ---- ops (see PerceptionOps; defined in cpu/perception_ops.hpp) ----

  /// im2col into a [batch * out_height * out_width, channels * kernel *
  /// kernel] scratch matrix (zeros where a window reaches into the padding),
  /// then one GEMM with the weight. A patch embedding (kernel = stride, no
  /// padding) copies each window's kernel-wide image rows as they are.
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y);

  /// im2col and one GEMM per sequence and group. The column matrix is not
  /// copied out: with the weight reordered to [out, kernel * in / groups]
  /// (time-major windows), the window of output t is kernel consecutive rows
  /// of the group's channels, contiguous in a zero-padded copy of them, so
  /// the column matrix is a strided view of that copy whose rows overlap (a
  /// window advances by stride rows). Eigen's GEMM packs it block by block,
  /// so a long kernel (wav2vec2's positional convolution: 128) costs no
  /// kernel-times-larger scratch. Without padding and groups the view is of
  /// the input itself.
  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y);

  /// PyTorch's GroupNorm with the biased variance; statistics in double. y
  /// may be x. Each task takes whole groups of one sequence, so the rows it
  /// reads are contiguous segments even with one channel per group.
  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d, float eps,
                  Tensor& y);

  void quick_gelu(Tensor& x);

  /// y is x with `row` before each of the batch's sequences; y must not be x.
  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y);

  /// Each row divided by its Euclidean norm, computed in double (no overflow
  /// or underflow for any float row); a row of zeros stays zeros.
  void normalize_rows(Tensor& x);

  // ---- ops (see DetectionOps; defined in cpu/detection_ops.hpp) ----

  /// im2col into a [batch * out_height * out_width, kernel * kernel *
  /// channels] scratch matrix, then linear. In the row layout the taps of one
  /// kernel row of a window are kernel adjacent pixels, one contiguous run of
  /// kernel * channels floats (zeros where it reaches into the padding). A
  /// 1x1 convolution with stride 1 and no padding is linear itself; with a
  /// larger stride the im2col gathers the strided pixels.
  void conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y);

  /// PyTorch's MaxPool2d: padding never wins, and a NaN in a window is its
  /// maximum. y must not be x.
  void max_pool2d(const Tensor& x, const Pool2dDims& d, Tensor& y);

  void sigmoid(Tensor& x);

  // ---- ops (see WindowOps; defined in cpu/detection_ops.hpp) ----

  /// y = x's values in row-major order as [rows, cols]; y must not be x.
  void reshape(const Tensor& x, int rows, int cols, Tensor& y);

  /// y *= x element by element; the shapes must be equal.
  void mul(const Tensor& x, Tensor& y);

 private:
  template <class W> void linear_eigen(const Tensor& x, const W& w, const Tensor& b, Tensor& y);  // W: Tensor, or a map
  // Below this many elements, element-wise work stays on one thread.
  static constexpr Index parallel_threshold = 1 << 15;
  // Products with fewer input rows split their outputs across threads.
  static constexpr Index few_rows = 32;

  template <class Row>
  static void softmax_row(Row&& row) {
    const float m = row.maxCoeff();
    row.array() = (row.array() - m).exp();
    row /= row.sum();
  }

  void set_gemm_threads() const { Eigen::setNbThreads(threads_); }

  /// Calls f(begin, end) on contiguous row ranges, one per thread.
  template <class F>
  void parallel_rows(Index rows, Index cols, F&& f) const {
#if defined(_OPENMP)
    if (threads_ > 1 && rows > 1 && rows * cols >= parallel_threshold) {
      const Index parts = std::min<Index>(threads_, rows);
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (Index p = 0; p < parts; ++p) {
        f(rows * p / parts, rows * (p + 1) / parts);
      }
      return;
    }
#else
    (void)cols;
#endif
    f(Index{0}, rows);
  }

  /// Calls f(task, thread) for each task, spread over the threads (at most
  /// `threads` of them, when given).
  template <class F>
  void parallel_tasks(Index tasks, F&& f, int threads = 0) const {
    threads = threads > 0 ? std::min(threads, threads_) : threads_;
#if defined(_OPENMP)
    if (threads > 1 && tasks > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (Index t = 0; t < tasks; ++t) f(t, omp_get_thread_num());
      return;
    }
#endif
    for (Index t = 0; t < tasks; ++t) f(t, 0);
  }

  static void require_same_shape(const char* op, const Tensor& a, const Tensor& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      throw std::invalid_argument(std::string(op) + ": shapes differ, [" + std::to_string(a.rows()) + ", " +
                                  std::to_string(a.cols()) + "] and [" + std::to_string(b.rows()) + ", " +
                                  std::to_string(b.cols()) + "]");
    }
  }

  static void check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                              const Tensor& bias, const AttentionDims& d) {
    if (d.batch <= 0 || d.query_len <= 0 || d.key_len <= 0 || d.heads <= 0 || d.head_dim <= 0 || d.kv_heads < 0 ||
        d.key_stride < 0) {
      throw std::invalid_argument("attention: every dimension must be positive");
    }
    if (d.heads % d.effective_kv_heads() != 0) {
      throw std::invalid_argument("attention: kv_heads = " + std::to_string(d.kv_heads) + " must divide heads = " +
                                  std::to_string(d.heads));
    }
    if (d.effective_key_stride() < d.key_len) {
      throw std::invalid_argument("attention: key_stride = " + std::to_string(d.key_stride) + " is below key_len = " +
                                  std::to_string(d.key_len));
    }
    if (d.causal && d.key_len < d.query_len) {
      throw std::invalid_argument("attention: a causal mask needs key_len >= query_len");
    }
    if (d.window < 0 || (d.window > 0 && !d.causal)) {
      throw std::invalid_argument("attention: window = " + std::to_string(d.window) +
                                  " must be 0, or positive with a causal mask");
    }
    if (d.bias_blocks < 1) {
      throw std::invalid_argument("attention: bias_blocks = " + std::to_string(d.bias_blocks) + " must be positive");
    }
    const Index width = static_cast<Index>(d.heads) * d.head_dim;
    const Index kv_width = static_cast<Index>(d.effective_kv_heads()) * d.head_dim;
    if (q.rows() != Index{d.batch} * d.query_len || q.cols() != width) {
      throw std::invalid_argument("attention: queries must be [batch * query_len, heads * head_dim]");
    }
    const Index kv_rows = Index{d.batch} * d.effective_key_stride();
    if (k.rows() != kv_rows || k.cols() != kv_width || v.rows() != kv_rows || v.cols() != kv_width) {
      throw std::invalid_argument("attention: keys and values must be [batch * key_stride, kv_heads * head_dim]");
    }
    if (key_mask.size() != 0 && (key_mask.rows() != d.batch || key_mask.cols() != d.key_len)) {
      throw std::invalid_argument("attention: the key mask must be [batch, key_len]");
    }
    const Index bias_rows = Index{d.bias_blocks} * d.heads * d.query_len;
    if (bias.size() != 0 && (bias.rows() != bias_rows || bias.cols() != d.key_len)) {
      throw std::invalid_argument("attention: the position bias is " + shape(bias) +
                                  ", expected [bias_blocks * heads * query_len, key_len] = [" +
                                  std::to_string(bias_rows) + ", " + std::to_string(d.key_len) + "]");
    }
  }

  static std::string shape(const Tensor& t) {
    // Appended piece by piece: GCC 12's -Wrestrict misfires on "[" + std::string at -O3.
    std::string s = "[";
    s += std::to_string(t.rows());
    s += ", ";
    s += std::to_string(t.cols());
    s += "]";
    return s;
  }

  static void check_distinct(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
    if (&y == &x || &y == &w || &y == &b) {
      throw std::invalid_argument(std::string(op) + ": the output must not be the input, weight or bias");
    }
  }

  static void check_bias(const char* op, const Tensor& b, Index out_channels) {
    if (b.size() != 0 && (b.rows() != 1 || b.cols() != out_channels)) {
      throw std::invalid_argument(std::string(op) + ": bias is " + shape(b) + ", expected [1, " +
                                  std::to_string(out_channels) + "] or empty");
    }
  }

  static void check_conv2d_dims(const char* op, const Conv2dDims& d) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0) {
      throw std::invalid_argument(std::string(op) + ": batch " + std::to_string(d.batch) + ", channels " +
                                  std::to_string(d.channels) + ", height " + std::to_string(d.height) + ", width " +
                                  std::to_string(d.width) + ", out_channels " + std::to_string(d.out_channels) +
                                  ", kernel " + std::to_string(d.kernel) + ", stride " + std::to_string(d.stride) +
                                  ": must be positive, padding " + std::to_string(d.padding) + " >= 0");
    }
    if (d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(d.kernel) + " exceeds the padded " +
                                  std::to_string(d.height) + " x " + std::to_string(d.width) + " image (padding " +
                                  std::to_string(d.padding) + ")");
    }
  }

  static void check_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d) {
    check_conv2d_dims("conv2d", d);
    const Index pixels = Index{d.channels} * d.height * d.width;
    if (x.rows() != d.batch || x.cols() != pixels) {
      throw std::invalid_argument("conv2d: input is " + shape(x) + ", expected [batch, channels * height * width] = [" +
                                  std::to_string(d.batch) + ", " + std::to_string(pixels) + "]");
    }
    const Index depth = Index{d.channels} * d.kernel * d.kernel;
    if (w.rows() != d.out_channels || w.cols() != depth) {
      throw std::invalid_argument("conv2d: weight is " + shape(w) +
                                  ", expected [out_channels, channels * kernel * kernel] = [" +
                                  std::to_string(d.out_channels) + ", " + std::to_string(depth) + "]");
    }
    check_bias("conv2d", b, d.out_channels);
  }

  // DetectionOps' checks, defined in cpu/detection_ops.hpp.
  static void check_conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d);
  static void check_pool2d(const Tensor& x, const Pool2dDims& d);

  static void check_conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d) {
    if (d.batch <= 0 || d.length <= 0 || d.in_channels <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.groups <= 0 || d.padding < 0) {
      throw std::invalid_argument("conv1d: batch " + std::to_string(d.batch) + ", length " +
                                  std::to_string(d.length) + ", in_channels " + std::to_string(d.in_channels) +
                                  ", out_channels " + std::to_string(d.out_channels) + ", kernel " +
                                  std::to_string(d.kernel) + ", stride " + std::to_string(d.stride) + ", groups " +
                                  std::to_string(d.groups) + ": must be positive, padding " +
                                  std::to_string(d.padding) + " >= 0");
    }
    if (d.in_channels % d.groups != 0 || d.out_channels % d.groups != 0) {
      throw std::invalid_argument("conv1d: groups = " + std::to_string(d.groups) + " must divide in_channels = " +
                                  std::to_string(d.in_channels) + " and out_channels = " +
                                  std::to_string(d.out_channels));
    }
    if (d.length + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("conv1d: kernel " + std::to_string(d.kernel) + " exceeds the padded length " +
                                  std::to_string(d.length) + " (padding " + std::to_string(d.padding) + ")");
    }
    if (x.rows() != Index{d.batch} * d.length || x.cols() != d.in_channels) {
      throw std::invalid_argument("conv1d: input is " + shape(x) + ", expected [batch * length, in_channels] = [" +
                                  std::to_string(Index{d.batch} * d.length) + ", " + std::to_string(d.in_channels) +
                                  "]");
    }
    const Index depth = Index{d.in_channels} / d.groups * d.kernel;
    if (w.rows() != d.out_channels || w.cols() != depth) {
      throw std::invalid_argument("conv1d: weight is " + shape(w) +
                                  ", expected [out_channels, in_channels / groups * kernel] = [" +
                                  std::to_string(d.out_channels) + ", " + std::to_string(depth) + "]");
    }
    check_bias("conv1d", b, d.out_channels);
  }

  static void check_group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d) {
    if (d.batch <= 0 || d.length <= 0 || d.groups <= 0) {
      throw std::invalid_argument("group_norm: batch " + std::to_string(d.batch) + ", length " +
                                  std::to_string(d.length) + ", groups " + std::to_string(d.groups) +
                                  ": must be positive");
    }
    if (x.rows() != Index{d.batch} * d.length || x.cols() == 0) {
      throw std::invalid_argument("group_norm: input is " + shape(x) + ", expected [batch * length, channels] with " +
                                  std::to_string(Index{d.batch} * d.length) + " rows");
    }
    if (x.cols() % d.groups != 0) {
      throw std::invalid_argument("group_norm: groups = " + std::to_string(d.groups) + " does not divide the " +
                                  std::to_string(x.cols()) + " channels");
    }
    if (gamma.rows() != 1 || gamma.cols() != x.cols() || beta.rows() != 1 || beta.cols() != x.cols()) {
      throw std::invalid_argument("group_norm: gamma is " + shape(gamma) + " and beta " + shape(beta) +
                                  ", expected [1, " + std::to_string(x.cols()) + "]");
    }
  }

  struct NormScratch {
    Eigen::Array<double, 1, Eigen::Dynamic> sum, mean;
    Eigen::Array<float, 1, Eigen::Dynamic> shift, factor;
  };

  struct RotaryTable {
    RotaryDims frequencies;  // theta, head_dim and the scaling
    Tensor cos, sin;         // [positions, head_dim / 2]
  };

  /// detail::rotary_angles, kept and grown on demand.
  const RotaryTable& rotary_table(const RotaryDims& r, Index positions) {
    for (const auto& t : rotary_) {
      if (same_rotary_frequencies(t.frequencies, r) && t.cos.rows() >= positions) return t;
    }
    const Index rows = std::max<Index>(positions, 256);
    auto angles = detail::rotary_angles(rotary_inv_freqs(r), rows);
    RotaryTable t{r, std::move(angles.cos), std::move(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return same_rotary_frequencies(old.frequencies, r); });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  int threads_ = 1;
  int free_cores_ = 0;  // measured by the constructor (threads = 0, fit_free_cores), else 0
  std::vector<Tensor> scratch_;  // one score matrix per thread
  Tensor mask_bias_;
  Tensor no_bias_;
  std::vector<RotaryTable> rotary_;
  Tensor conv_cols_;                     // conv2d's and conv2d_rows' im2col matrix
  Tensor conv_weight_;                   // conv1d's weight in (tap, channel) order
  std::vector<Tensor> conv_scratch_;     // one zero-padded conv1d input group per thread
  std::vector<NormScratch> norm_scratch_;  // one per thread
};

static_assert(EncoderOps<Cpu>, "Cpu must provide every encoder op");
static_assert(GenerationOps<Cpu>, "Cpu must provide every text-generation op");
static_assert(PerceptionOps<Cpu>, "Cpu must provide every vision, audio and multimodal op");
static_assert(DetectionOps<Cpu>, "Cpu must provide every detection (convolutional backbone) op");
static_assert(WindowOps<Cpu>, "Cpu must provide every windowed vision transformer (Swin) op");

}  // namespace accelbench
