#pragma once

// The Cpu backend: Eigen kernels that are both the reference every other
// backend is verified against and what the CPU is timed with. Every matrix
// product goes through Eigen's blocked GEMM; element-wise work is vectorised
// Eigen array code over whole rows, split across threads with OpenMP.

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

#include "../detail/eigen.hpp"
#include "../detail/proc.hpp"
#include "../detail/rotary.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../machine/cpu.hpp"
#include "concepts.hpp"

namespace accelbench {

class Cpu {
 public:
  using Tensor = HostMatrix;
  using IndexTensor = std::vector<std::int32_t>;
  using Index = Eigen::Index;

  static constexpr std::string_view name = "cpu";

  struct Options {
    /// Threads for GEMM and the other ops; 0 means one per logical core.
    /// Without OpenMP the backend runs on one thread whatever is asked.
    int threads = 0;
  };

  Cpu() : Cpu(Options{}) {}

  explicit Cpu(Options options) {
    if (options.threads < 0) {
      throw std::invalid_argument("Cpu: threads = " + std::to_string(options.threads) + ": must be >= 0");
    }
#if defined(_OPENMP)
    const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    threads_ = options.threads == 0 ? hw : options.threads;
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
#else
    d.properties.emplace_back("openmp", "off");
#endif
    return d;
  }

  /// Every Cpu instance works on host memory: models are shared between them.
  [[nodiscard]] static std::string device_key() { return "host"; }

  /// The CPU section of `accelbench check`: the CPU and memory of this
  /// machine, from /proc and /sys.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_cpu_devices(); }

  /// Work on the CPU is synchronous: nothing to wait for.
  void synchronize() noexcept {}

  [[nodiscard]] Tensor upload(const HostMatrix& m) const { return m; }
  [[nodiscard]] Tensor upload(HostMatrix&& m) const noexcept { return std::move(m); }
  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) const {
    return IndexTensor(ids.begin(), ids.end());
  }
  [[nodiscard]] HostMatrix download(const Tensor& t) const { return t; }

  // ---- ops (see EncoderOps) ----

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.cols() != w.cols()) {
      throw std::invalid_argument("linear: input has " + std::to_string(x.cols()) + " columns, weight expects " +
                                  std::to_string(w.cols()));
    }
    if (b.size() != 0 && (b.rows() != 1 || b.cols() != w.rows())) {
      throw std::invalid_argument("linear: bias must be [1, " + std::to_string(w.rows()) + "]");
    }
    y.resize(x.rows(), w.rows());
#if defined(_OPENMP)
    // A few rows (a decode step) make a matrix-vector product, which Eigen
    // runs on one thread: split the outputs across the threads instead.
    if (threads_ > 1 && x.rows() < few_rows && w.rows() >= 4 * threads_ && w.size() >= parallel_threshold) {
      const Index parts = threads_;
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (Index p = 0; p < parts; ++p) {
        const Index o0 = w.rows() * p / parts;
        const Index o1 = w.rows() * (p + 1) / parts;
        y.middleCols(o0, o1 - o0).noalias() = x * w.middleRows(o0, o1 - o0).transpose();
      }
    } else {
      set_gemm_threads();
      y.noalias() = x * w.transpose();
    }
#else
    y.noalias() = x * w.transpose();
#endif
    if (b.size() != 0) {
      parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0).rowwise() += b.row(0); });
    }
  }

  void add(const Tensor& x, Tensor& y) {
    require_same_shape("add", x, y);
    parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0) += x.middleRows(r0, r1 - r0); });
  }

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
    if (gamma.size() != x.cols() || beta.size() != x.cols()) {
      throw std::invalid_argument("layer_norm: gamma and beta must have " + std::to_string(x.cols()) + " elements");
    }
    if (&x != &y) y.resize(x.rows(), x.cols());
    const float inv_n = 1.0f / static_cast<float>(x.cols());
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) {
        const auto xr = x.row(r).array();
        const float mean = xr.sum() * inv_n;
        const float var = (xr - mean).square().sum() * inv_n;
        const float inv_std = 1.0f / std::sqrt(var + eps);
        y.row(r).array() = (xr - mean) * inv_std * gamma.row(0).array() + beta.row(0).array();
      }
    });
  }

  void gelu(Tensor& x) {
    constexpr float inv_sqrt2 = 0.70710678118654752440f;
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      auto a = x.middleRows(r0, r1 - r0).array();
      a = 0.5f * a * (1.0f + (a * inv_sqrt2).erf());
    });
  }

  void softmax(Tensor& x) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) softmax_row(x.row(r));
    });
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const AttentionDims& d,
                 Tensor& out) {
    attention(q, k, v, key_mask, no_bias_, d, out);
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const Tensor& position_bias, const AttentionDims& d, Tensor& out) {
    check_attention(q, k, v, key_mask, position_bias, d);
    out.resize(q.rows(), q.cols());
    // Additive mask as in transformers: 0 where attended, the lowest float
    // where padded, so a fully padded row still gives a uniform softmax.
    const bool masked = key_mask.size() != 0;
    if (masked) {
      mask_bias_ = (1.0f - key_mask.array()) * std::numeric_limits<float>::lowest();
    }
    const bool biased = position_bias.size() != 0;
    const float scale = d.scale != 0.0f ? d.scale : 1.0f / std::sqrt(static_cast<float>(d.head_dim));
    const Index group = d.heads / d.effective_kv_heads();
    const Index stride = d.effective_key_stride();
    const Index offset = d.key_len - d.query_len;  // position of query 0 under a causal mask
    const Index tasks = static_cast<Index>(d.batch) * d.heads;
    parallel_tasks(tasks, [&](Index t, int thread) {
      const Index b = t / d.heads;
      const Index h = t % d.heads;
      const Index kv = h / group;
      Tensor& s = scratch_[static_cast<std::size_t>(thread)];
      s.resize(d.query_len, d.key_len);
      const auto qb = q.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim);
      const auto kb = k.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
      const auto vb = v.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
      s.noalias() = (scale * qb) * kb.transpose();
      if (biased) s += position_bias.block(h * d.query_len, 0, d.query_len, d.key_len);
      if (masked) s.rowwise() += mask_bias_.row(b);
      for (Index r = 0; r < s.rows(); ++r) {
        const Index visible = d.causal ? offset + r + 1 : s.cols();
        softmax_row(s.row(r).head(visible));
        s.row(r).tail(s.cols() - visible).setZero();
      }
      out.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim).noalias() = s * vb;
    });
  }

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
    if (gamma.size() != x.cols()) {
      throw std::invalid_argument("rms_norm: gamma must have " + std::to_string(x.cols()) + " elements");
    }
    if (&x != &y) y.resize(x.rows(), x.cols());
    const float inv_n = 1.0f / static_cast<float>(x.cols());
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) {
        const float inv_rms = 1.0f / std::sqrt(x.row(r).squaredNorm() * inv_n + eps);
        y.row(r).array() = x.row(r).array() * inv_rms * gamma.row(0).array();
      }
    });
  }

  void gelu_tanh(Tensor& x) {
    constexpr float sqrt_2_over_pi = 0.79788456080286535588f;
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      auto a = x.middleRows(r0, r1 - r0).array();
      a = 0.5f * a * (1.0f + (sqrt_2_over_pi * (a + 0.044715f * a.cube())).tanh());
    });
  }

  void relu(Tensor& x) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      auto a = x.middleRows(r0, r1 - r0).array();
      a = a.max(0.0f);
    });
  }

  void silu(Tensor& x) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      auto a = x.middleRows(r0, r1 - r0).array();
      a = a / (1.0f + (-a).exp());
    });
  }

  void swiglu(const Tensor& x, Tensor& y) {
    if (x.cols() % 2 != 0) {
      throw std::invalid_argument("swiglu: input has " + std::to_string(x.cols()) + " columns, not an even number");
    }
    const Index half = x.cols() / 2;
    y.resize(x.rows(), half);
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      const auto gate = x.block(r0, 0, r1 - r0, half).array();
      const auto up = x.block(r0, half, r1 - r0, half).array();
      y.middleRows(r0, r1 - r0).array() = gate / (1.0f + (-gate).exp()) * up;
    });
  }

  void scale(Tensor& x, float s) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) { x.middleRows(r0, r1 - r0) *= s; });
  }

  void rotary(Tensor& x, const RotaryDims& r) {
    if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
      throw std::invalid_argument("rotary: head_dim must be even and every dimension positive");
    }
    if (x.rows() != Index{r.batch} * r.len || x.cols() != Index{r.heads} * r.head_dim) {
      throw std::invalid_argument("rotary: input must be [batch * len, heads * head_dim]");
    }
    const RotaryTable& table = rotary_table(r.theta, r.head_dim, r.start + r.len);
    const Index half = r.head_dim / 2;
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      for (Index row = r0; row < r1; ++row) {
        const Index pos = r.start + row % r.len;
        const auto cos = table.cos.row(pos).array();
        const auto sin = table.sin.row(pos).array();
        for (Index h = 0; h < r.heads; ++h) {
          auto x1 = x.row(row).segment(h * r.head_dim, half).array();
          auto x2 = x.row(row).segment(h * r.head_dim + half, half).array();
          for (Index j = 0; j < half; ++j) {
            const float a = x1(j);
            const float b = x2(j);
            x1(j) = a * cos(j) - b * sin(j);
            x2(j) = b * cos(j) + a * sin(j);
          }
        }
      }
    });
  }

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
    if (start < 0 || start + len > table.rows()) {
      throw std::out_of_range("add_positions: positions " + std::to_string(start) + ".." +
                              std::to_string(start + len - 1) + " are outside the table's " +
                              std::to_string(table.rows()) + " rows");
    }
    if (y.rows() != Index{batch} * len || y.cols() != table.cols()) {
      throw std::invalid_argument("add_positions: output must be [batch * len, " + std::to_string(table.cols()) + "]");
    }
    for (Index b = 0; b < batch; ++b) y.middleRows(b * len, len) += table.middleRows(start, len);
  }

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
    if (x.rows() != Index{c.batch} * c.len || cache.rows() != Index{c.batch} * c.capacity || x.cols() != cache.cols()) {
      throw std::invalid_argument("cache_write: new rows must be [batch * len, width] and the cache [batch * capacity, width]");
    }
    if (c.start < 0 || c.start + c.len > c.capacity) {
      throw std::out_of_range("cache_write: rows " + std::to_string(c.start) + ".." + std::to_string(c.start + c.len - 1) +
                              " exceed the cache's capacity of " + std::to_string(c.capacity));
    }
    for (Index b = 0; b < c.batch; ++b) {
      cache.middleRows(b * c.capacity + c.start, c.len) = x.middleRows(b * c.len, c.len);
    }
  }

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& out) {
    if (table.rows() != r.num_buckets) {
      throw std::invalid_argument("relative_position_bias: the table has " + std::to_string(table.rows()) +
                                  " rows, not num_buckets = " + std::to_string(r.num_buckets));
    }
    const Index heads = table.cols();
    out.resize(heads * r.query_len, r.key_len);
    for (Index i = 0; i < r.query_len; ++i) {
      for (Index j = 0; j < r.key_len; ++j) {
        const int bucket = t5_relative_bucket(static_cast<int>(j - (r.query_start + i)), r.bidirectional,
                                              r.num_buckets, r.max_distance);
        for (Index h = 0; h < heads; ++h) out(h * r.query_len + i, j) = table(bucket, h);
      }
    }
  }

  void argmax_rows(const Tensor& x, IndexTensor& ids) {
    ids.resize(static_cast<std::size_t>(x.rows()));
    for (Index r = 0; r < x.rows(); ++r) {
      Index best = 0;
      x.row(r).maxCoeff(&best);
      ids[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(best);
    }
  }

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) const { return ids; }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= table.rows()) {
        throw std::out_of_range("embedding_lookup: id " + std::to_string(ids[i]) + " at position " +
                                std::to_string(i) + " is outside the table's " + std::to_string(table.rows()) +
                                " rows");
      }
    }
    out.resize(static_cast<Index>(ids.size()), table.cols());
    parallel_rows(out.rows(), out.cols(), [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) out.row(r) = table.row(ids[static_cast<std::size_t>(r)]);
    });
  }

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out) {
    const Index batch = mask.rows();
    const Index seq = mask.cols();
    if (batch * seq != x.rows()) {
      throw std::invalid_argument("masked_mean_pool: mask is [" + std::to_string(batch) + ", " + std::to_string(seq) +
                                  "] but the input has " + std::to_string(x.rows()) + " rows");
    }
    out.resize(batch, x.cols());
    for (Index b = 0; b < batch; ++b) {
      const float count = std::max(mask.row(b).sum(), 1e-9f);
      out.row(b).noalias() = mask.row(b) * x.middleRows(b * seq, seq);
      out.row(b) /= count;
    }
  }

  // ---- ops (see PerceptionOps) ----

  /// im2col into a [batch * out_height * out_width, channels * kernel *
  /// kernel] scratch matrix (zeros where a window reaches into the padding),
  /// then one GEMM with the weight. A patch embedding (kernel = stride, no
  /// padding) copies each window's kernel-wide image rows as they are.
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
    check_conv2d(x, w, b, d);
    check_distinct("conv2d", x, w, b, y);
    const Index out_h = d.out_height();
    const Index out_w = d.out_width();
    const Index k = d.kernel;
    const Index height = d.height;
    const Index width = d.width;
    const Index plane = height * width;
    const Index depth = Index{d.channels} * k * k;
    const Index rows = Index{d.batch} * out_h * out_w;
    conv_cols_.resize(rows, depth);
    parallel_rows(rows, depth, [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) {
        const Index image = r / (out_h * out_w);
        const Index oy = r % (out_h * out_w) / out_w;
        const Index ox = r % out_w;
        const Index x0 = ox * d.stride - d.padding;
        const bool inside = x0 >= 0 && x0 + k <= width;
        const float* src = x.data() + image * x.cols();
        float* dst = conv_cols_.data() + r * depth;
        for (Index c = 0; c < d.channels; ++c) {
          for (Index ky = 0; ky < k; ++ky, dst += k) {
            const Index iy = oy * d.stride - d.padding + ky;
            if (iy < 0 || iy >= height) {
              std::fill_n(dst, k, 0.0f);
              continue;
            }
            const float* line = src + c * plane + iy * width;
            if (inside) {
              std::copy_n(line + x0, k, dst);
            } else {
              for (Index kx = 0; kx < k; ++kx) {
                const Index ix = x0 + kx;
                dst[kx] = ix >= 0 && ix < width ? line[ix] : 0.0f;
              }
            }
          }
        }
      }
    });
    linear(conv_cols_, w, b, y);
  }

  /// im2col and one GEMM per sequence and group. The column matrix is not
  /// copied out: with the weight reordered to [out, kernel * in / groups]
  /// (time-major windows), the window of output t is kernel consecutive rows
  /// of the group's channels, contiguous in a zero-padded copy of them, so
  /// the column matrix is a strided view of that copy whose rows overlap (a
  /// window advances by stride rows). Eigen's GEMM packs it block by block,
  /// so a long kernel (wav2vec2's positional convolution: 128) costs no
  /// kernel-times-larger scratch. Without padding and groups the view is of
  /// the input itself.
  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y) {
    check_conv1d(x, w, b, d);
    check_distinct("conv1d", x, w, b, y);
    const Index length = d.length;
    const Index groups = d.groups;
    const Index group_in = Index{d.in_channels} / groups;
    const Index group_out = Index{d.out_channels} / groups;
    const Index k = d.kernel;
    const Index depth = group_in * k;
    const Index out_len = d.out_length();
    // PyTorch's weight is (channel, tap) within a group; the windows are (tap, channel).
    const bool reorder = group_in > 1 && k > 1;
    if (reorder) {
      conv_weight_.resize(w.rows(), w.cols());
      parallel_rows(w.rows(), w.cols(), [&](Index r0, Index r1) {
        for (Index o = r0; o < r1; ++o)
          for (Index c = 0; c < group_in; ++c)
            for (Index t = 0; t < k; ++t) conv_weight_(o, t * group_in + c) = w(o, c * k + t);
      });
    }
    const Tensor& weight = reorder ? conv_weight_ : w;
    const bool direct = groups == 1 && d.padding == 0;
    y.resize(Index{d.batch} * out_len, d.out_channels);
    const auto task = [&](Index t, int thread) {
      const Index seq = t / groups;
      const Index g = t % groups;
      const float* base = x.data() + seq * length * x.cols();
      Index pitch = x.cols();
      if (!direct) {
        Tensor& padded = conv_scratch_[static_cast<std::size_t>(thread)];
        padded.resize(length + 2 * Index{d.padding}, group_in);
        padded.topRows(d.padding).setZero();
        padded.bottomRows(d.padding).setZero();
        padded.middleRows(d.padding, length) = x.block(seq * length, g * group_in, length, group_in);
        base = padded.data();
        pitch = group_in;
      }
      using Windows = Eigen::Map<const Tensor, Eigen::Unaligned, Eigen::OuterStride<>>;
      const Windows cols(base, out_len, depth, Eigen::OuterStride<>(d.stride * pitch));
      auto out = y.block(seq * out_len, g * group_out, out_len, group_out);
      out.noalias() = cols * weight.middleRows(g * group_out, group_out).transpose();
      if (b.size() != 0) out.rowwise() += b.row(0).segment(g * group_out, group_out);
    };
    const Index tasks = Index{d.batch} * groups;
    if (threads_ > 1 && tasks >= threads_) {
      parallel_tasks(tasks, task);  // one single-threaded GEMM per task
    } else {
      set_gemm_threads();
      for (Index t = 0; t < tasks; ++t) task(t, 0);
    }
  }

  /// PyTorch's GroupNorm with the biased variance; statistics in double. y
  /// may be x. Each task takes whole groups of one sequence, so the rows it
  /// reads are contiguous segments even with one channel per group.
  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d, float eps,
                  Tensor& y) {
    check_group_norm(x, gamma, beta, d);
    if (&x != &y) y.resize(x.rows(), x.cols());
    const Index length = d.length;
    const Index groups = d.groups;
    const Index group_size = x.cols() / groups;
    const double count = static_cast<double>(length) * static_cast<double>(group_size);
    Index chunks = 1;  // column chunks of whole groups per sequence
    if (threads_ > 1 && x.size() >= parallel_threshold) {
      chunks = std::min<Index>(groups, (threads_ + d.batch - 1) / d.batch);
    }
    const auto task = [&](Index t, int thread) {
      const Index seq = t / chunks;
      const Index g0 = groups * (t % chunks) / chunks;
      const Index g1 = groups * (t % chunks + 1) / chunks;
      const Index c0 = g0 * group_size;
      const Index n = (g1 - g0) * group_size;
      const auto rows = [&](const Tensor& m) { return m.block(seq * length, c0, length, n).array(); };
      NormScratch& s = norm_scratch_[static_cast<std::size_t>(thread)];
      s.sum.setZero(n);
      for (Index r = 0; r < length; ++r) s.sum += rows(x).row(r).cast<double>();
      s.mean.resize(n);
      for (Index g = 0; g < g1 - g0; ++g) {
        s.mean.segment(g * group_size, group_size).setConstant(s.sum.segment(g * group_size, group_size).sum() / count);
      }
      s.sum.setZero();
      for (Index r = 0; r < length; ++r) s.sum += (rows(x).row(r).cast<double>() - s.mean).square();
      s.shift.resize(n);
      s.factor.resize(n);
      for (Index g = 0; g < g1 - g0; ++g) {
        const double var = s.sum.segment(g * group_size, group_size).sum() / count;
        const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps));
        for (Index c = g * group_size; c < (g + 1) * group_size; ++c) {
          s.shift(c) = static_cast<float>(s.mean(c));
          s.factor(c) = static_cast<float>(inv_std * static_cast<double>(gamma(c0 + c)));
        }
      }
      const auto bias = beta.row(0).segment(c0, n).array();
      auto out = y.block(seq * length, c0, length, n).array();
      for (Index r = 0; r < length; ++r) {
        out.row(r) = (rows(x).row(r) - s.shift) * s.factor + bias;
      }
    };
    const Index tasks = Index{d.batch} * chunks;
    if (x.size() >= parallel_threshold) {
      parallel_tasks(tasks, task);
    } else {
      for (Index t = 0; t < tasks; ++t) task(t, 0);
    }
  }

  void quick_gelu(Tensor& x) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      auto a = x.middleRows(r0, r1 - r0).array();
      a = a / (1.0f + (-1.702f * a).exp());
    });
  }

  /// y is x with `row` before each of the batch's sequences; y must not be x.
  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
    if (batch <= 0 || x.rows() % batch != 0) {
      throw std::invalid_argument("prepend_row: input is " + shape(x) + ", whose rows do not split into batch = " +
                                  std::to_string(batch) + " sequences");
    }
    if (row.rows() != 1 || row.cols() != x.cols()) {
      throw std::invalid_argument("prepend_row: the row is " + shape(row) + ", expected [1, " +
                                  std::to_string(x.cols()) + "]");
    }
    if (&y == &x || &y == &row) throw std::invalid_argument("prepend_row: the output must not be an input");
    const Index n = x.rows() / batch;
    y.resize(Index{batch} * (n + 1), x.cols());
    parallel_rows(batch, (n + 1) * x.cols(), [&](Index b0, Index b1) {
      for (Index b = b0; b < b1; ++b) {
        y.row(b * (n + 1)) = row.row(0);
        y.middleRows(b * (n + 1) + 1, n) = x.middleRows(b * n, n);
      }
    });
  }

  /// Each row divided by its Euclidean norm, computed in double (no overflow
  /// or underflow for any float row); a row of zeros stays zeros.
  void normalize_rows(Tensor& x) {
    parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) {
        const double squared = x.row(r).cast<double>().squaredNorm();
        if (squared > 0.0) x.row(r) = (x.row(r).cast<double>() / std::sqrt(squared)).cast<float>();
      }
    });
  }

 private:
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

  /// Calls f(task, thread) for each task, spread over the threads.
  template <class F>
  void parallel_tasks(Index tasks, F&& f) const {
#if defined(_OPENMP)
    if (threads_ > 1 && tasks > 1) {
#pragma omp parallel for num_threads(threads_) schedule(static)
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
    if (bias.size() != 0 && (bias.rows() != Index{d.heads} * d.query_len || bias.cols() != d.key_len)) {
      throw std::invalid_argument("attention: the position bias must be [heads * query_len, key_len]");
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

  static void check_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0) {
      throw std::invalid_argument("conv2d: batch " + std::to_string(d.batch) + ", channels " +
                                  std::to_string(d.channels) + ", height " + std::to_string(d.height) + ", width " +
                                  std::to_string(d.width) + ", out_channels " + std::to_string(d.out_channels) +
                                  ", kernel " + std::to_string(d.kernel) + ", stride " + std::to_string(d.stride) +
                                  ": must be positive, padding " + std::to_string(d.padding) + " >= 0");
    }
    if (d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("conv2d: kernel " + std::to_string(d.kernel) + " exceeds the padded " +
                                  std::to_string(d.height) + " x " + std::to_string(d.width) + " image (padding " +
                                  std::to_string(d.padding) + ")");
    }
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
    float theta = 0;
    int head_dim = 0;
    Tensor cos, sin;  // [positions, head_dim / 2]
  };

  /// detail::rotary_angles, kept and grown on demand.
  const RotaryTable& rotary_table(float theta, int head_dim, Index positions) {
    for (const auto& t : rotary_) {
      if (t.theta == theta && t.head_dim == head_dim && t.cos.rows() >= positions) return t;
    }
    const Index rows = std::max<Index>(positions, 256);
    auto angles = detail::rotary_angles(theta, head_dim, rows);
    RotaryTable t{theta, head_dim, std::move(angles.cos), std::move(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return old.theta == theta && old.head_dim == head_dim; });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  int threads_ = 1;
  std::vector<Tensor> scratch_;  // one score matrix per thread
  Tensor mask_bias_;
  Tensor no_bias_;
  std::vector<RotaryTable> rotary_;
  Tensor conv_cols_;                     // conv2d's im2col matrix
  Tensor conv_weight_;                   // conv1d's weight in (tap, channel) order
  std::vector<Tensor> conv_scratch_;     // one zero-padded conv1d input group per thread
  std::vector<NormScratch> norm_scratch_;  // one per thread
};

static_assert(EncoderOps<Cpu>, "Cpu must provide every encoder op");
static_assert(GenerationOps<Cpu>, "Cpu must provide every text-generation op");
static_assert(PerceptionOps<Cpu>, "Cpu must provide every vision, audio and multimodal op");

}  // namespace accelbench
