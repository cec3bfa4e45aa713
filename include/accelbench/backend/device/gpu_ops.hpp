#pragma once

// Every op of the five op sets for a device runtime (runtime.hpp): argument
// checks, output shapes and launches of the kernels of gpu_kernels.hpp. A
// device backend derives from GpuOps<Derived, Buffer>, where Derived
// provides the primitives of DeviceRuntime<Derived, Buffer>. The ops of
// DetectionOps and WindowOps are defined in gpu_detection_ops.hpp, linear
// and the linear layers' weights at a precision in gpu_linear_ops.hpp, which
// this header includes at its end.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "../../detail/rotary.hpp"
#include "../op_dims.hpp"
#include "runtime.hpp"

namespace accelbench {

/// The ops of EncoderOps, GenerationOps, PerceptionOps, DetectionOps and
/// WindowOps, and the Backend concept's transfers, written once over the
/// primitives of Derived.
template <class Derived, class Buffer>
class GpuOps {
 public:
  using Tensor = GpuTensor<Buffer>;
  using IndexTensor = GpuIndices<Buffer>;
  using Weight = GpuWeight<Buffer>;  // a linear layer's weight at a Precision

  // ---- transfers ----

  [[nodiscard]] Tensor upload(const HostMatrix& m) {
    Tensor t;
    ensure(t, static_cast<long>(m.rows()), static_cast<long>(m.cols()));
    if (m.size() > 0) d().write(t.buffer, m.data(), bytes(t));
    return t;
  }

  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) {
    IndexTensor t;
    ensure_indices(t, ids.size());
    if (!ids.empty()) d().write(t.buffer, ids.data(), ids.size() * sizeof(std::int32_t));
    t.host.assign(ids.begin(), ids.end());
    t.host_valid = true;
    return t;
  }

  [[nodiscard]] HostMatrix download(const Tensor& t) {
    HostMatrix m(t.rows(), t.cols());
    if (t.size() > 0) d().read(t.buffer, m.data(), bytes(t));
    return m;
  }

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) {
    if (ids.host_valid) return ids.host;
    std::vector<std::int32_t> out(ids.count);
    if (!out.empty()) d().read(ids.buffer, out.data(), out.size() * sizeof(std::int32_t));
    return out;
  }

  // ---- EncoderOps ----

  // linear, and linear layers' weights at a precision for a runtime with
  // half_handle: defined in gpu_linear_ops.hpp.
  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y);
  [[nodiscard]] Weight upload_weight(const HostMatrix& m, Precision precision) requires HasHalfHandle<Derived, Buffer>;
  [[nodiscard]] Weight upload_weight_bits(Precision precision, const HalfBitsMatrix& bits)
    requires HasHalfHandle<Derived, Buffer>;
  void linear(const Tensor& x, const Weight& w, const Tensor& b, Tensor& y) requires HasHalfHandle<Derived, Buffer>;

  void add(const Tensor& x, Tensor& y) {
    same_shape("add", x, y);
    d().template launch<GpuKernel::add>(GpuRange::elements(y.size()), h(x), h(y), i64(y.size()));
  }

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
    if (gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("layer_norm", "gamma and beta must have " + std::to_string(x.cols()) + " elements");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(beta), h(y),
                                             int(x.cols()), eps, 0);
  }

  void gelu(Tensor& x) { activation(x, 0, 0.0f); }

  void softmax(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 0);
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionDims& dims,
                 Tensor& y) {
    attention(q, k, v, mask, Tensor{}, dims, y);
  }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& y) {
    if (ids.host_valid) {
      for (std::size_t i = 0; i < ids.host.size(); ++i) {
        if (ids.host[i] < 0 || ids.host[i] >= table.rows()) {
          throw std::out_of_range(std::string(Derived::name) + " embedding_lookup: id " +
                                  std::to_string(ids.host[i]) + " at position " + std::to_string(i) +
                                  " is outside the table's " + std::to_string(table.rows()) + " rows");
        }
      }
    }
    ensure(y, static_cast<long>(ids.count), table.cols());
    if (y.size() == 0) return;
    d().template launch<GpuKernel::embedding_lookup>(GpuRange::elements(y.size()), h(table), h(ids), h(y),
                                                     i64(y.size()), int(table.cols()), int(table.rows()));
  }

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& y) {
    const long batch = mask.rows();
    const long len = mask.cols();
    if (batch * len != x.rows()) {
      fail("masked_mean_pool", "mask [" + std::to_string(batch) + ", " + std::to_string(len) + "] does not cover " +
                                   std::to_string(x.rows()) + " rows");
    }
    with_output(y, &x == &y || &mask == &y, [&](Tensor& out) {
      ensure(out, batch, x.cols());
      if (out.size() == 0) return;
      d().template launch<GpuKernel::masked_mean_pool>(GpuRange::elements(out.size()), h(x), h(mask), h(out),
                                                       int(batch), int(len), int(x.cols()));
    });
  }

  // ---- GenerationOps ----

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& bias,
                 const AttentionDims& dims, Tensor& y) {
    const int heads = dims.heads;
    const int kv_heads = dims.effective_kv_heads();
    const int stride = dims.effective_key_stride();
    const int hd = dims.head_dim;
    if (dims.batch <= 0 || dims.query_len <= 0 || dims.key_len <= 0 || heads <= 0 || hd <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || stride < dims.key_len || (dims.causal && dims.query_len > dims.key_len) ||
        dims.window < 0 || (dims.window > 0 && !dims.causal)) {
      fail("attention", "invalid dimensions (batch " + std::to_string(dims.batch) + ", query_len " +
                            std::to_string(dims.query_len) + ", key_len " + std::to_string(dims.key_len) +
                            ", heads " + std::to_string(heads) + ", kv_heads " + std::to_string(kv_heads) +
                            ", head_dim " + std::to_string(hd) + ", key_stride " + std::to_string(stride) +
                            ", window " + std::to_string(dims.window) + ")");
    }
    if (dims.bias_blocks < 1) {
      fail("attention", "bias_blocks = " + std::to_string(dims.bias_blocks) + " must be positive");
    }
    if (q.rows() != long(dims.batch) * dims.query_len || q.cols() != long(heads) * hd) {
      fail("attention", "queries must be [batch * query_len, heads * head_dim]");
    }
    if (k.rows() != long(dims.batch) * stride || v.rows() != k.rows() || k.cols() != long(kv_heads) * hd ||
        v.cols() != k.cols()) {
      fail("attention", "keys and values must be [batch * key_stride, kv_heads * head_dim]");
    }
    if (!mask.empty() && (mask.rows() != dims.batch || mask.cols() != dims.key_len)) {
      fail("attention", "mask must be [batch, key_len]");
    }
    const long bias_rows = long(dims.bias_blocks) * heads * dims.query_len;
    if (!bias.empty() && (bias.rows() != bias_rows || bias.cols() != dims.key_len)) {
      fail("attention", "position bias is [" + std::to_string(bias.rows()) + ", " + std::to_string(bias.cols()) +
                            "], expected [bias_blocks * heads * query_len, key_len] = [" + std::to_string(bias_rows) +
                            ", " + std::to_string(dims.key_len) + "]");
    }
    const float scale = dims.scale != 0.0f ? dims.scale : 1.0f / std::sqrt(static_cast<float>(hd));
    const long groups = long(dims.batch) * heads * dims.query_len;
    ensure(scores_, groups, dims.key_len);
    with_output(y, &y == &q || &y == &k || &y == &v, [&](Tensor& out) {
      ensure(out, q.rows(), q.cols());
      d().template launch<GpuKernel::attention>(GpuRange::rows(groups), h(q), h(k), h(v), h(mask), int(!mask.empty()),
                                                h(bias), int(!bias.empty()), dims.bias_blocks, h(out), h(scores_),
                                                dims.query_len, dims.key_len, heads, hd, kv_heads, stride,
                                                int(dims.causal), dims.window, scale);
    });
  }

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
    if (gamma.size() != x.cols()) fail("rms_norm", "gamma must have " + std::to_string(x.cols()) + " elements");
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(Tensor{}), h(y),
                                             int(x.cols()), eps, 1);
  }

  void gelu_tanh(Tensor& x) { activation(x, 1, 0.0f); }
  void relu(Tensor& x) { activation(x, 2, 0.0f); }
  void silu(Tensor& x) { activation(x, 3, 0.0f); }
  void quick_gelu(Tensor& x) { activation(x, 4, 0.0f); }
  void scale(Tensor& x, float s) { activation(x, 5, s); }

  void swiglu(const Tensor& x, Tensor& y) { gated("swiglu", x, y, 0); }
  void geglu_tanh(const Tensor& x, Tensor& y) { gated("geglu_tanh", x, y, 1); }

  void rotary(Tensor& x, const RotaryDims& r) {
    if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
      fail("rotary", "head_dim must be even and every dimension positive");
    }
    if (x.rows() != long(r.batch) * r.len || x.cols() != long(r.heads) * r.head_dim) {
      fail("rotary", "input must be [batch * len, heads * head_dim]");
    }
    const RotaryTable& t = rotary_table(r, long(r.start) + r.len);
    const std::int64_t count = std::int64_t{x.rows()} * r.heads * (r.head_dim / 2);
    d().template launch<GpuKernel::rotary>(GpuRange::elements(count), h(x), h(t.cos), h(t.sin), i64(x.rows()), r.len,
                                           r.heads, r.head_dim, r.start);
  }

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
    if (start < 0 || len < 0 || long(start) + len > table.rows()) {
      throw std::out_of_range(std::string(Derived::name) + " add_positions: positions " + std::to_string(start) +
                              ".." + std::to_string(start + len - 1) + " are outside the table's " +
                              std::to_string(table.rows()) + " rows");
    }
    if (y.rows() != long(batch) * len || y.cols() != table.cols()) {
      fail("add_positions", "output must be [batch * len, " + std::to_string(table.cols()) + "]");
    }
    if (y.size() == 0) return;
    d().template launch<GpuKernel::add_positions>(GpuRange::elements(y.size()), h(table), h(y), start, len,
                                                  i64(y.size()), int(y.cols()));
  }

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
    if (x.rows() != long(c.batch) * c.len || cache.rows() != long(c.batch) * c.capacity || x.cols() != cache.cols()) {
      fail("cache_write", "new rows must be [batch * len, width] and the cache [batch * capacity, width]");
    }
    if (c.start < 0 || c.start + c.len > c.capacity) {
      throw std::out_of_range(std::string(Derived::name) + " cache_write: rows " + std::to_string(c.start) + ".." +
                              std::to_string(c.start + c.len - 1) + " are outside the capacity " +
                              std::to_string(c.capacity));
    }
    if (x.size() == 0) return;
    d().template launch<GpuKernel::cache_write>(GpuRange::elements(x.size()), h(x), h(cache), c.len, c.capacity,
                                                c.start, i64(x.size()), int(x.cols()));
  }

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& y) {
    if (table.rows() != r.num_buckets || r.query_len < 0 || r.key_len < 0 || r.query_start < 0) {
      fail("relative_position_bias", "table must be [num_buckets, heads] and lengths non-negative");
    }
    const int heads = static_cast<int>(table.cols());
    ensure(y, long(heads) * r.query_len, r.key_len);
    if (y.size() == 0) return;
    // One bucket per relative position, from -(query_start + query_len - 1) to key_len - 1.
    const int lowest = -(r.query_start + r.query_len - 1);
    std::vector<std::int32_t> buckets(static_cast<std::size_t>(r.key_len - lowest));
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      buckets[i] = t5_relative_bucket(lowest + static_cast<int>(i), r.bidirectional, r.num_buckets, r.max_distance);
    }
    ensure_indices(buckets_, buckets.size());
    d().write(buckets_.buffer, buckets.data(), buckets.size() * sizeof(std::int32_t));
    d().template launch<GpuKernel::relative_bias>(GpuRange::elements(y.size()), h(table), h(buckets_), h(y), heads,
                                                  r.query_len, r.key_len, r.query_start);
  }

  void argmax_rows(const Tensor& x, IndexTensor& ids) {
    if (x.cols() <= 0) fail("argmax_rows", "input has no columns");
    ensure_indices(ids, static_cast<std::size_t>(x.rows()));
    ids.host_valid = false;
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::argmax_rows>(GpuRange::rows(x.rows()), h(x), h(ids), int(x.cols()));
  }

  // ---- PerceptionOps ----

  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.channels <= 0 || c.height <= 0 || c.width <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.height + 2 * c.padding < c.kernel || c.width + 2 * c.padding < c.kernel) {
      fail("conv2d", "invalid dimensions");
    }
    const long k = long(c.channels) * c.kernel * c.kernel;
    if (x.rows() != c.batch || x.cols() != long(c.channels) * c.height * c.width) {
      fail("conv2d", "input must be [batch, channels * height * width]");
    }
    if (w.rows() != c.out_channels || w.cols() != k) fail("conv2d", "weight must be [out, channels * kernel * kernel]");
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv2d", "bias must be [1, out]");
    const long positions = long(c.batch) * c.out_height() * c.out_width();
    ensure(columns_, positions, k);
    d().template launch<GpuKernel::im2col_2d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.channels,
                                              c.height, c.width, c.kernel, c.stride, c.padding, c.out_height(),
                                              c.out_width(), i64(columns_.size()));
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, positions, c.out_channels);
      gemm(columns_, w, 0, c.out_channels, out, 0, int(positions), int(k));
      if (!b.empty()) add_bias(out, 0, b, int(positions), c.out_channels);
    });
  }

  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.length <= 0 || c.in_channels <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.groups <= 0 || c.in_channels % c.groups != 0 ||
        c.out_channels % c.groups != 0 || c.length + 2 * c.padding < c.kernel) {
      fail("conv1d", "invalid dimensions");
    }
    const int group_in = c.in_channels / c.groups;
    const int group_out = c.out_channels / c.groups;
    if (x.rows() != long(c.batch) * c.length || x.cols() != c.in_channels) {
      fail("conv1d", "input must be [batch * length, in_channels]");
    }
    if (w.rows() != c.out_channels || w.cols() != long(group_in) * c.kernel) {
      fail("conv1d", "weight must be [out, in / groups * kernel]");
    }
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv1d", "bias must be [1, out]");
    const long rows = long(c.batch) * c.out_length();
    const long k = long(group_in) * c.kernel;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, rows, c.out_channels);
      ensure(columns_, rows, k);
      for (int g = 0; g < c.groups; ++g) {
        d().template launch<GpuKernel::im2col_1d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.length,
                                                  c.in_channels, group_in, g, c.kernel, c.stride, c.padding,
                                                  c.out_length(), i64(columns_.size()));
        gemm(columns_, w, std::int64_t{g} * group_out * k, group_out, out, std::int64_t{g} * group_out, int(rows), int(k),
             c.out_channels);
      }
      if (!b.empty()) add_bias(out, 0, b, int(rows), c.out_channels);
    });
  }

  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& g, float eps,
                  Tensor& y) {
    if (g.batch <= 0 || g.length <= 0 || g.groups <= 0 || x.rows() != long(g.batch) * g.length ||
        x.cols() % g.groups != 0 || gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("group_norm", "input must be [batch * length, channels] with channels a multiple of groups");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    d().template launch<GpuKernel::group_norm>(GpuRange::rows(std::int64_t{g.batch} * g.groups), h(x), h(gamma),
                                               h(beta), h(y), g.length, int(x.cols()), g.groups, eps);
  }

  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
    if (batch <= 0 || x.rows() % batch != 0 || row.rows() != 1 || row.cols() != x.cols()) {
      fail("prepend_row", "x must be [batch * n, width] and the row [1, width]");
    }
    const long n = x.rows() / batch;
    with_output(y, &x == &y || &row == &y, [&](Tensor& out) {
      ensure(out, long(batch) * (n + 1), x.cols());
      d().template launch<GpuKernel::prepend_row>(GpuRange::elements(out.size()), h(x), h(row), h(out), int(n),
                                                  i64(out.size()), int(x.cols()));
    });
  }

  void normalize_rows(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 1);
  }

  // ---- DetectionOps (defined in gpu_detection_ops.hpp) ----

  /// im2col (ab_im2col_rows) then one GEMM and the bias; a 1x1 convolution
  /// with stride 1 and no padding is linear itself. y must not be an input.
  void conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& c, Tensor& y);
  /// y must not be x.
  void max_pool2d(const Tensor& x, const Pool2dDims& p, Tensor& y);
  void sigmoid(Tensor& x) { activation(x, 6, 0.0f); }

  // ---- WindowOps (defined in gpu_detection_ops.hpp) ----

  /// A device-to-device copy (ab_cache_write, one sequence); y must not be x.
  void reshape(const Tensor& x, int rows, int cols, Tensor& y);
  /// y *= x element by element (ab_mul); the shapes must be equal.
  void mul(const Tensor& x, Tensor& y);

 protected:
  /// Resizes t, reallocating only when it needs more room than it has.
  void ensure(Tensor& t, long rows, long cols) {
    const auto n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(float));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.rows_ = rows;
    t.cols_ = cols;
  }

  void ensure_indices(IndexTensor& t, std::size_t n) {
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(std::int32_t));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.count = n;
  }

 private:
  struct RotaryTable {
    RotaryDims frequencies;  // theta, head_dim and the scaling
    Tensor cos, sin;
  };

  Derived& d() {
    static_assert(DeviceRuntime<Derived, Buffer>,
                  "GpuOps<Derived, Buffer>: Derived must provide the primitives of DeviceRuntime (allocate, write, "
                  "read, handle, index_handle, launch<GpuKernel>, gemm_nt; see backend/device/runtime.hpp); the "
                  "notes below name the one that is missing");
    return static_cast<Derived&>(*this);
  }
  static std::size_t bytes(const Tensor& t) { return static_cast<std::size_t>(t.size()) * sizeof(float); }
  static std::int64_t i64(long v) { return static_cast<std::int64_t>(v); }
  auto h(const Tensor& t) { return d().handle(t.buffer); }
  auto h(const IndexTensor& t) { return d().index_handle(t.buffer); }

  [[noreturn]] static void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(Derived::name) + " " + op + ": " + what);
  }
  static void same_shape(const char* op, const Tensor& a, const Tensor& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      fail(op, "shapes differ: [" + std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + "] and [" +
                   std::to_string(b.rows()) + ", " + std::to_string(b.cols()) + "]");
    }
  }

  /// Runs f on y, or on a fresh tensor moved into y afterwards when y is
  /// also an input of the op.
  template <class F>
  void with_output(Tensor& y, bool aliased, F&& f) {
    if (!aliased) {
      f(y);
      return;
    }
    Tensor fresh;
    f(fresh);
    y = std::move(fresh);
  }

  void activation(Tensor& x, int kind, float s) {
    if (x.size() == 0) return;
    d().template launch<GpuKernel::activation>(GpuRange::elements(x.size()), h(x), i64(x.size()), kind, s);
  }

  /// y = act(x[:, :i]) * x[:, i:] for x [n, 2i]: act SiLU (kind 0) or tanh GELU (kind 1).
  void gated(const char* op, const Tensor& x, Tensor& y, int kind) {
    if (x.cols() % 2 != 0) fail(op, "input width " + std::to_string(x.cols()) + " is odd");
    const long half = x.cols() / 2;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, x.rows(), half);
      if (out.size() == 0) return;
      d().template launch<GpuKernel::gated>(GpuRange::elements(out.size()), h(x), h(out), i64(x.rows()), int(half), kind);
    });
  }

  void check_linear(const Tensor& x, long w_rows, long w_cols, const Tensor& b);

  /// y[:, yoff..] = x wᵀ with w's rows from element woff: x [n, k], m rows of w.
  void gemm(const Tensor& x, const Tensor& w, std::int64_t woff, int m, Tensor& y, std::int64_t yoff, int n, int k,
            int ldy = 0) {
    GemmArgs<Buffer> g;
    g.x = &x.buffer;
    g.xoff = 0;
    g.ldx = k;
    g.w = &w.buffer;
    g.woff = woff;
    g.ldw = k;
    g.y = &y.buffer;
    g.yoff = yoff;
    g.ldy = ldy > 0 ? ldy : m;
    g.n = n;
    g.m = m;
    g.k = k;
    if (n > 0 && m > 0) d().gemm_nt(g);
  }

  void add_bias(Tensor& y, std::int64_t yoff, const Tensor& b, int n, int m) {
    if (n <= 0 || m <= 0) return;
    d().template launch<GpuKernel::add_bias>(GpuRange::elements(std::int64_t{n} * m), h(y), yoff, m, h(b), n, m);
  }

  const RotaryTable& rotary_table(const RotaryDims& r, long positions) {
    for (const auto& t : rotary_) {
      if (same_rotary_frequencies(t.frequencies, r) && t.cos.rows() >= positions) return t;
    }
    const auto angles = detail::rotary_angles(rotary_inv_freqs(r), std::max<long>(positions, 256));
    RotaryTable t{r, upload(angles.cos), upload(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return same_rotary_frequencies(old.frequencies, r); });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  Tensor scores_;    // attention's scores, [groups, key_len]
  Tensor columns_;   // im2col of the convolutions
  IndexTensor buckets_;  // relative_position_bias's buckets
  std::vector<RotaryTable> rotary_;
};

}  // namespace accelbench

#include "gpu_detection_ops.hpp"
#include "gpu_linear_ops.hpp"
