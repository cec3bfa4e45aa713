#pragma once

// A complete accelbench backend written with plain loops: the worked example
// of docs/writing-a-backend.md. Its "device" is host memory and its kernels
// are the textbook loops, accumulating in double, so that it is easy to read
// and independent of the Eigen kernels of the Cpu reference backend (the
// unit tests use it as the oracle the Cpu ops are checked against).
//
// It provides every op of the five op sets, so every family runs on it:
//
//   EncoderOps     Embedding (BERT)
//   GenerationOps  TextGeneration (GPT-2, Llama, Qwen2, T5); with PerceptionOps, Audio
//   PerceptionOps  Vision (ViT), Multimodal (CLIP); with GenerationOps, Audio
//   DetectionOps   Vision (DETR's convolutional backbone)
//   WindowOps      windowed vision transformers (Swin, CLAP's HTSAT audio encoder)
//
// A backend for real hardware has the same shape: a tensor type that owns
// device memory, transfers, a way to wait for queued work, and the ops. The
// layouts the ops read and write are those of docs/concepts.md#op-sets.

#include <accelbench/backend/concepts.hpp>
#include <accelbench/core/result.hpp>
#include <accelbench/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plain {

// [snippet tensor]
using accelbench::Availability;
using accelbench::DeviceInfo;
using accelbench::HostMatrix;

// The device tensor: a 2-D float matrix, row-major, in a std::vector. A GPU
// backend would hold a device pointer (and its shape) here instead. The
// Backend concept asks only that it be movable and default-constructible;
// a default-constructed tensor is empty, which the ops read as "no bias" or
// "no mask".
struct PlainTensor {
  long rows = 0;
  long cols = 0;
  std::vector<float> data;

  float& at(long r, long c) { return data[static_cast<std::size_t>(r * cols + c)]; }
  [[nodiscard]] float at(long r, long c) const { return data[static_cast<std::size_t>(r * cols + c)]; }
  [[nodiscard]] long size() const { return rows * cols; }
  // Ops resize their output argument; this one also zeroes it.
  void resize(long r, long c) {
    rows = r;
    cols = c;
    data.assign(static_cast<std::size_t>(r * c), 0.0f);
  }
};
// [end snippet]

using accelbench::AttentionDims;
using accelbench::CacheDims;
using accelbench::Conv1dDims;
using accelbench::Conv2dDims;
using accelbench::GroupNormDims;
using accelbench::Pool2dDims;
using accelbench::RelativeBiasDims;
using accelbench::RotaryDims;
using accelbench::RotaryScaling;

// [snippet device]
class PlainBackend {
 public:
  // ---- the device basics (the Backend concept) ----

  using Tensor = PlainTensor;                        // floats on the device
  using IndexTensor = std::vector<std::int32_t>;     // token ids and positions on the device
  static constexpr std::string_view name = "plain";  // what suites and reports call it

  // Whether the device can run here, and if not, why. Must not throw; a GPU
  // backend asks its runtime for a device here and returns
  // Availability::no("...") with the runtime's reason when there is none.
  static Availability available() { return Availability::yes(); }

  // What the device is, for the results' `devices`.
  DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    d.name = "plain loops";
    d.kind = "cpu";
    d.compute_units = 1;
    d.threads = 1;
    return d;
  }

  // Optional: the memory space the tensors live in. Every PlainBackend works
  // on host memory, so a ResourcePool may share one loaded model between
  // PlainBackend objects. Without it, models are shared within one object.
  static std::string device_key() { return "host"; }

  // Waits until queued work is done: the timer stops after it. Every op
  // here has finished when it returns, so there is nothing to wait for; an
  // asynchronous device waits for its queue or stream here.
  void synchronize() {}

  // Host to device (weights and inputs, outside the timed loop).
  Tensor upload(const HostMatrix& m) const {
    Tensor t;
    t.resize(m.rows(), m.cols());
    for (long r = 0; r < t.rows; ++r)
      for (long c = 0; c < t.cols; ++c) t.at(r, c) = m(r, c);
    return t;
  }

  // Host to device, token ids and positions.
  IndexTensor upload_indices(std::span<const std::int32_t> ids) const { return {ids.begin(), ids.end()}; }

  // Device to host (outputs, for verification against Cpu).
  HostMatrix download(const Tensor& t) const {
    HostMatrix m(t.rows, t.cols);
    for (long r = 0; r < t.rows; ++r)
      for (long c = 0; c < t.cols; ++c) m(r, c) = t.at(r, c);
    return m;
  }
  // [end snippet]

  // ---- EncoderOps: what BERT needs (the Embedding family) ----

  // [snippet linear]
  // y = x wᵀ + b. x is [n, in]; w is [out, in] as in PyTorch; b is [1, out],
  // or empty for no bias; y becomes [n, out]. The result is built in a fresh
  // tensor and moved into y, so that y may alias x.
  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.cols != w.cols) throw std::invalid_argument("plain linear: shape");
    Tensor out;
    out.resize(x.rows, w.rows);
    for (long i = 0; i < x.rows; ++i) {
      for (long o = 0; o < w.rows; ++o) {
        double acc = b.size() ? b.at(0, o) : 0.0;
        for (long k = 0; k < x.cols; ++k) acc += double(x.at(i, k)) * w.at(o, k);
        out.at(i, o) = static_cast<float>(acc);
      }
    }
    y = std::move(out);
  }
  // [end snippet]

  // y += x, element by element (the residual connection).
  void add(const Tensor& x, Tensor& y) {
    if (x.rows != y.rows || x.cols != y.cols) throw std::invalid_argument("plain add: shape");
    for (long i = 0; i < y.size(); ++i) y.data[std::size_t(i)] += x.data[std::size_t(i)];
  }

  // Per row: (x - mean) / sqrt(var + eps) * g + b, with the biased variance;
  // g and b are [1, cols]; y may be x.
  void layer_norm(const Tensor& x, const Tensor& g, const Tensor& b, float eps, Tensor& y) {
    Tensor out;
    out.resize(x.rows, x.cols);
    for (long r = 0; r < x.rows; ++r) {
      double mean = 0, var = 0;
      for (long c = 0; c < x.cols; ++c) mean += x.at(r, c);
      mean /= double(x.cols);
      for (long c = 0; c < x.cols; ++c) var += (x.at(r, c) - mean) * (x.at(r, c) - mean);
      var /= double(x.cols);
      for (long c = 0; c < x.cols; ++c) {
        out.at(r, c) = static_cast<float>((x.at(r, c) - mean) / std::sqrt(var + eps) * g.at(0, c) + b.at(0, c));
      }
    }
    y = std::move(out);
  }

  // In place, the exact (erf) GELU: x/2 (1 + erf(x / sqrt 2)).
  void gelu(Tensor& x) {
    for (auto& v : x.data) v = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }

  // In place, a softmax over each row.
  void softmax(Tensor& x) {
    for (long r = 0; r < x.rows; ++r) softmax_row(&x.data[std::size_t(r * x.cols)], x.cols);
  }

  // Scaled dot-product attention for every sequence and head, with an
  // optional padding mask [batch, key_len] (1 attend, 0 padding). The
  // encoder's form of the general attention below, with no position bias.
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionDims& d,
                 Tensor& out) {
    attention(q, k, v, mask, Tensor{}, d, out);
  }

  // y[i] = table[ids[i]]: one row of the table per id; an id outside the
  // table throws.
  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out) {
    Tensor result;
    result.resize(static_cast<long>(ids.size()), table.cols);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= table.rows) throw std::out_of_range("plain embedding_lookup: id");
      for (long c = 0; c < table.cols; ++c) result.at(long(i), c) = table.at(ids[i], c);
    }
    out = std::move(result);
  }

  // y[b] = the mean of sequence b's rows of x ([batch * len, width]) where
  // mask[b] ([batch, len]) is 1: sentence-transformers' mean pooling.
  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out) {
    Tensor result;
    result.resize(mask.rows, x.cols);
    for (long b = 0; b < mask.rows; ++b) {
      double count = 0;
      for (long s = 0; s < mask.cols; ++s) count += mask.at(b, s);
      for (long c = 0; c < x.cols; ++c) {
        double acc = 0;
        for (long s = 0; s < mask.cols; ++s) acc += double(mask.at(b, s)) * x.at(b * mask.cols + s, c);
        result.at(b, c) = static_cast<float>(acc / std::max(count, 1e-9));
      }
    }
    out = std::move(result);
  }

  // ---- GenerationOps: what GPT-2, Llama, Qwen2 and T5 add (TextGeneration) ----

  // Scaled dot-product attention, straight from the spec of AttentionDims.
  // Queries are [batch * query_len, heads * head_dim]; keys and values are
  // [batch * key_stride, kv_heads * head_dim], of which each sequence's first
  // key_len rows are attended (a key-value cache of capacity key_stride).
  // Query head h reads key-value head h / (heads / kv_heads) (grouped-query
  // attention); sequence b's bias row ((b % bias_blocks) * heads + h) *
  // query_len + i ([bias_blocks * heads * query_len, key_len]: T5's one
  // block, or Swin's one per window) is added to query i's scores; a padded
  // key gets the lowest float added; under a causal mask query i (at
  // position key_len - query_len + i) sees keys 0..that position only, and
  // with a window w > 0 the last w of them only (positions p - w + 1 .. p).
  // Scores are scaled by d.scale, or by 1 / sqrt(head_dim) when it is 0.
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& bias,
                 const AttentionDims& d, Tensor& out) {
    const long heads = d.heads;
    const long kv_heads = d.kv_heads == 0 ? d.heads : d.kv_heads;
    const long stride = d.key_stride == 0 ? d.key_len : d.key_stride;
    const long hd = d.head_dim;
    if (d.batch <= 0 || d.query_len <= 0 || d.key_len <= 0 || heads <= 0 || hd <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || stride < d.key_len || (d.causal && d.query_len > d.key_len) || d.window < 0 ||
        (d.window > 0 && !d.causal)) {
      throw std::invalid_argument("plain attention: dimensions");
    }
    if (d.bias_blocks < 1) {
      throw std::invalid_argument("plain attention: bias_blocks = " + std::to_string(d.bias_blocks) + ", not positive");
    }
    if (q.rows != long(d.batch) * d.query_len || q.cols != heads * hd) {
      throw std::invalid_argument("plain attention: queries");
    }
    if (k.rows != long(d.batch) * stride || v.rows != k.rows || k.cols != kv_heads * hd || v.cols != k.cols) {
      throw std::invalid_argument("plain attention: keys or values");
    }
    if (mask.size() && (mask.rows != d.batch || mask.cols != d.key_len)) {
      throw std::invalid_argument("plain attention: mask");
    }
    if (bias.size() && (bias.rows != d.bias_blocks * heads * d.query_len || bias.cols != d.key_len)) {
      throw std::invalid_argument("plain attention: bias must be [bias_blocks * heads * query_len, key_len]");
    }
    const double scale = d.scale != 0.0f ? double(d.scale) : 1.0 / std::sqrt(double(hd));
    const long heads_per_kv = heads / kv_heads;
    Tensor result;
    result.resize(q.rows, q.cols);
    std::vector<double> w(static_cast<std::size_t>(d.key_len));
    for (long b = 0; b < d.batch; ++b) {
      for (long h = 0; h < heads; ++h) {
        const long g = h / heads_per_kv;  // the key-value head
        for (long i = 0; i < d.query_len; ++i) {
          const long qrow = b * d.query_len + i;
          const long position = d.key_len - d.query_len + i;  // under a causal mask
          const long seen = d.causal ? position + 1 : d.key_len;
          const long first = d.causal && d.window > 0 ? std::max(0L, position - d.window + 1) : 0;
          double top = -std::numeric_limits<double>::infinity();
          for (long j = first; j < seen; ++j) {
            double dot = 0;
            for (long e = 0; e < hd; ++e) dot += double(q.at(qrow, h * hd + e)) * double(k.at(b * stride + j, g * hd + e));
            double s = dot * scale;
            if (bias.size()) s += bias.at(((b % d.bias_blocks) * heads + h) * d.query_len + i, j);
            if (mask.size() && mask.at(b, j) == 0.0f) s += double(std::numeric_limits<float>::lowest());
            w[std::size_t(j)] = s;
            top = std::max(top, s);
          }
          double total = 0;
          for (long j = first; j < seen; ++j) {
            w[std::size_t(j)] = std::exp(w[std::size_t(j)] - top);
            total += w[std::size_t(j)];
          }
          for (long e = 0; e < hd; ++e) {
            double acc = 0;
            for (long j = first; j < seen; ++j) acc += w[std::size_t(j)] * double(v.at(b * stride + j, g * hd + e));
            result.at(qrow, h * hd + e) = static_cast<float>(acc / total);
          }
        }
      }
    }
    out = std::move(result);
  }

  // Per row: x / sqrt(mean(x²) + eps) * g (Llama's RMSNorm, T5's layer
  // norm); g has one value per column; y may be x.
  void rms_norm(const Tensor& x, const Tensor& g, float eps, Tensor& y) {
    if (g.size() != x.cols) throw std::invalid_argument("plain rms_norm: gamma");
    Tensor out;
    out.resize(x.rows, x.cols);
    for (long r = 0; r < x.rows; ++r) {
      double sq = 0;
      for (long c = 0; c < x.cols; ++c) sq += double(x.at(r, c)) * double(x.at(r, c));
      const double inv = 1.0 / std::sqrt(sq / double(x.cols) + double(eps));
      for (long c = 0; c < x.cols; ++c) out.at(r, c) = static_cast<float>(double(x.at(r, c)) * inv * double(g.data[std::size_t(c)]));
    }
    y = std::move(out);
  }

  // In place, GPT-2's GELU: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))).
  void gelu_tanh(Tensor& x) {
    const double c = std::sqrt(2.0 / 3.14159265358979323846);
    for (auto& f : x.data) {
      const double v = f;
      f = static_cast<float>(0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))));
    }
  }

  // In place, max(x, 0) (T5's feed-forward).
  void relu(Tensor& x) {
    for (auto& f : x.data) f = f > 0.0f ? f : 0.0f;
  }

  // In place, x * sigmoid(x).
  void silu(Tensor& x) {
    for (auto& f : x.data) f = static_cast<float>(double(f) / (1.0 + std::exp(-double(f))));
  }

  // x is [n, 2i], the gate's columns then the up projection's:
  // y = silu(x[:, :i]) * x[:, i:], [n, i] (Llama's feed-forward).
  void swiglu(const Tensor& x, Tensor& y) {
    if (x.cols % 2 != 0) throw std::invalid_argument("plain swiglu: odd width");
    const long n = x.cols / 2;
    Tensor out;
    out.resize(x.rows, n);
    for (long r = 0; r < x.rows; ++r) {
      for (long c = 0; c < n; ++c) {
        const double gate = x.at(r, c);
        out.at(r, c) = static_cast<float>(gate / (1.0 + std::exp(-gate)) * double(x.at(r, n + c)));
      }
    }
    y = std::move(out);
  }

  // x is [n, 2i], the gate's columns then the up projection's:
  // y = gelu_tanh(x[:, :i]) * x[:, i:], [n, i] (T5 v1.1's gated-gelu feed-forward).
  void geglu_tanh(const Tensor& x, Tensor& y) {
    if (x.cols % 2 != 0) throw std::invalid_argument("plain geglu_tanh: odd width");
    const double k = std::sqrt(2.0 / 3.14159265358979323846);
    const long n = x.cols / 2;
    Tensor out;
    out.resize(x.rows, n);
    for (long r = 0; r < x.rows; ++r) {
      for (long c = 0; c < n; ++c) {
        const double g = x.at(r, c);
        const double act = 0.5 * g * (1.0 + std::tanh(k * (g + 0.044715 * g * g * g)));
        out.at(r, c) = static_cast<float>(act * double(x.at(r, n + c)));
      }
    }
    y = std::move(out);
  }

  // In place, x *= s.
  void scale(Tensor& x, float s) {
    for (auto& f : x.data) f = static_cast<float>(double(f) * double(s));
  }

  // In place, rotary position embedding in transformers' rotate_half
  // layout: in each head, the pair (j, j + head_dim / 2) of row (b, i) is
  // rotated by the angle (start + i) * theta^(-2j / head_dim), computed in
  // double, that inverse frequency scaled as r.scaling says.
  static double inv_freq(const RotaryDims& r, long j) {
    const double f = 1.0 / std::pow(double(r.theta), double(2 * j) / double(r.head_dim));
    if (r.scaling == RotaryScaling::linear) return f / r.factor;
    if (r.scaling != RotaryScaling::llama3) return f;
    // Llama 3: long wavelengths divided by factor, short ones kept, a
    // linear blend (in original_max_positions / wavelength) between.
    const double wavelen = 2.0 * 3.141592653589793 / f;
    if (wavelen < r.original_max_positions / double(r.high_freq_factor)) return f;
    if (wavelen > r.original_max_positions / double(r.low_freq_factor)) return f / r.factor;
    const double smooth =
        (r.original_max_positions / wavelen - r.low_freq_factor) / (double(r.high_freq_factor) - r.low_freq_factor);
    return (1.0 - smooth) * f / r.factor + smooth * f;
  }

  void rotary(Tensor& x, const RotaryDims& r) {
    if (r.batch <= 0 || r.len <= 0 || r.heads <= 0 || r.head_dim <= 0 || r.head_dim % 2 != 0 || r.start < 0) {
      throw std::invalid_argument("plain rotary: dimensions");
    }
    if (x.rows != long(r.batch) * r.len || x.cols != long(r.heads) * r.head_dim) {
      throw std::invalid_argument("plain rotary: shape");
    }
    const long half = r.head_dim / 2;
    for (long row = 0; row < x.rows; ++row) {
      const double pos = double(r.start + row % r.len);
      for (long h = 0; h < r.heads; ++h) {
        for (long j = 0; j < half; ++j) {
          const double angle = pos * inv_freq(r, j);
          float& lo = x.at(row, h * r.head_dim + j);
          float& hi = x.at(row, h * r.head_dim + j + half);
          const double a = lo;
          const double b = hi;
          lo = static_cast<float>(a * std::cos(angle) - b * std::sin(angle));
          hi = static_cast<float>(b * std::cos(angle) + a * std::sin(angle));
        }
      }
    }
  }

  // y[b * len + i] += table[start + i] for every sequence b: GPT-2's learned
  // positions for tokens at positions start .. start + len - 1.
  void add_positions(const Tensor& t, int start, int batch, int len, Tensor& y) {
    if (start < 0 || len < 0 || long(start) + len > t.rows) throw std::out_of_range("plain add_positions: positions");
    if (y.rows != long(batch) * len || y.cols != t.cols) throw std::invalid_argument("plain add_positions: shape");
    for (long b = 0; b < batch; ++b)
      for (long i = 0; i < len; ++i)
        for (long c = 0; c < t.cols; ++c) y.at(b * len + i, c) += t.at(start + i, c);
  }

  // Copies new keys or values [batch * len, width] into a key-value cache
  // [batch * capacity, width], row (b, i) to row b * capacity + start + i.
  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
    if (x.rows != long(c.batch) * c.len || cache.rows != long(c.batch) * c.capacity || x.cols != cache.cols) {
      throw std::invalid_argument("plain cache_write: shape");
    }
    if (c.start < 0 || c.start + c.len > c.capacity) throw std::out_of_range("plain cache_write: rows");
    for (long b = 0; b < c.batch; ++b)
      for (long i = 0; i < c.len; ++i)
        for (long col = 0; col < x.cols; ++col) cache.at(b * c.capacity + c.start + i, col) = x.at(b * c.len + i, col);
  }

  // T5's position bias [heads * query_len, key_len] from its [buckets, heads]
  // table: entry (h, i, j) is the table's value for head h at the bucket of
  // key position j minus query position query_start + i
  // (accelbench::t5_relative_bucket, shared with Cpu).
  void relative_position_bias(const Tensor& t, const RelativeBiasDims& r, Tensor& out) {
    if (t.rows != r.num_buckets || r.query_len < 0 || r.key_len < 0) {
      throw std::invalid_argument("plain relative_position_bias: shape");
    }
    const long heads = t.cols;
    Tensor result;
    result.resize(heads * r.query_len, r.key_len);
    for (long h = 0; h < heads; ++h) {
      for (long i = 0; i < r.query_len; ++i) {
        for (long j = 0; j < r.key_len; ++j) {
          const int rel = int(j) - (r.query_start + int(i));  // key position minus query position
          result.at(h * r.query_len + i, j) =
              t.at(accelbench::t5_relative_bucket(rel, r.bidirectional, r.num_buckets, r.max_distance), h);
        }
      }
    }
    out = std::move(result);
  }

  // ids[r] = the column of row r's largest value, the first on ties (greedy
  // decoding picks the next token with it).
  void argmax_rows(const Tensor& x, IndexTensor& ids) {
    if (x.cols <= 0) throw std::invalid_argument("plain argmax_rows: no columns");
    ids.assign(static_cast<std::size_t>(x.rows), 0);
    for (long r = 0; r < x.rows; ++r) {
      long best = 0;
      for (long c = 1; c < x.cols; ++c)
        if (x.at(r, c) > x.at(r, best)) best = c;
      ids[std::size_t(r)] = static_cast<std::int32_t>(best);
    }
  }

  // The ids in host memory: where a generation loop waits for the device
  // (a device backend synchronises and copies here).
  std::vector<std::int32_t> download_indices(const IndexTensor& ids) const { return ids; }

  // ---- PerceptionOps: what ViT, CLIP, Whisper and wav2vec2 add ----
  // (Vision and Multimodal; with GenerationOps, Audio.) Direct loops over the
  // output, no im2col.

  // 2-D convolution of images x [batch, channels * height * width] (PyTorch's
  // channel-major order) with w [out, channels * kernel * kernel], into
  // [batch * out_h * out_w, out]: one row per output position, the token
  // layout of a patch embedding. Output row (b, oy, ox), channel o: bias +
  // the sum over input channels c and taps (ky, kx) of image b's pixel
  // (c, oy * stride - padding + ky, ox * stride - padding + kx), zero outside
  // the image, times w(o, (c * kernel + ky) * kernel + kx).
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0 || d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("plain conv2d: dimensions");
    }
    const long k = d.kernel;
    if (x.rows != d.batch || x.cols != long(d.channels) * d.height * d.width) throw std::invalid_argument("plain conv2d: input");
    if (w.rows != d.out_channels || w.cols != long(d.channels) * k * k) throw std::invalid_argument("plain conv2d: weight");
    if (b.size() && (b.rows != 1 || b.cols != d.out_channels)) throw std::invalid_argument("plain conv2d: bias");
    const long out_h = (d.height + 2L * d.padding - k) / d.stride + 1;
    const long out_w = (d.width + 2L * d.padding - k) / d.stride + 1;
    Tensor out;
    out.resize(d.batch * out_h * out_w, d.out_channels);
    for (long img = 0; img < d.batch; ++img) {
      for (long oy = 0; oy < out_h; ++oy) {
        for (long ox = 0; ox < out_w; ++ox) {
          for (long o = 0; o < d.out_channels; ++o) {
            double acc = b.size() ? double(b.at(0, o)) : 0.0;
            for (long c = 0; c < d.channels; ++c) {
              for (long ky = 0; ky < k; ++ky) {
                for (long kx = 0; kx < k; ++kx) {
                  const long iy = oy * d.stride - d.padding + ky;
                  const long ix = ox * d.stride - d.padding + kx;
                  if (iy < 0 || iy >= d.height || ix < 0 || ix >= d.width) continue;
                  acc += double(x.at(img, (c * d.height + iy) * d.width + ix)) * double(w.at(o, (c * k + ky) * k + kx));
                }
              }
            }
            out.at((img * out_h + oy) * out_w + ox, o) = static_cast<float>(acc);
          }
        }
      }
    }
    y = std::move(out);
  }

  // 1-D convolution over time of x [batch * length, in] with w
  // [out, (in / groups) * kernel] into [batch * out_length, out]. Output row
  // (b, t), channel o of group g = o / (out / groups): bias + the sum over
  // the group's input channels c and taps j of
  // x(b * length + t * stride - padding + j, g * (in / groups) + c), zero
  // outside the sequence, times w(o, c * kernel + j).
  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y) {
    if (d.batch <= 0 || d.length <= 0 || d.in_channels <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0 || d.groups <= 0 || d.in_channels % d.groups != 0 ||
        d.out_channels % d.groups != 0 || d.length + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("plain conv1d: dimensions");
    }
    const long group_in = d.in_channels / d.groups;
    const long group_out = d.out_channels / d.groups;
    if (x.rows != long(d.batch) * d.length || x.cols != d.in_channels) throw std::invalid_argument("plain conv1d: input");
    if (w.rows != d.out_channels || w.cols != group_in * d.kernel) throw std::invalid_argument("plain conv1d: weight");
    if (b.size() && (b.rows != 1 || b.cols != d.out_channels)) throw std::invalid_argument("plain conv1d: bias");
    const long out_len = (d.length + 2L * d.padding - d.kernel) / d.stride + 1;
    Tensor out;
    out.resize(d.batch * out_len, d.out_channels);
    for (long s = 0; s < d.batch; ++s) {
      for (long t = 0; t < out_len; ++t) {
        for (long o = 0; o < d.out_channels; ++o) {
          const long g = o / group_out;
          double acc = b.size() ? double(b.at(0, o)) : 0.0;
          for (long c = 0; c < group_in; ++c) {
            for (long j = 0; j < d.kernel; ++j) {
              const long it = t * d.stride - d.padding + j;
              if (it < 0 || it >= d.length) continue;
              acc += double(x.at(s * d.length + it, g * group_in + c)) * double(w.at(o, c * d.kernel + j));
            }
          }
          out.at(s * out_len + t, o) = static_cast<float>(acc);
        }
      }
    }
    y = std::move(out);
  }

  // PyTorch's GroupNorm of x [batch * length, channels]: the channels split
  // into d.groups consecutive groups, each normalised with the mean and
  // biased variance of its channels over all of one sequence's time steps
  // (in double), then scaled by g and shifted by b ([1, channels]).
  void group_norm(const Tensor& x, const Tensor& g, const Tensor& b, const GroupNormDims& d, float eps, Tensor& y) {
    if (d.batch <= 0 || d.length <= 0 || d.groups <= 0 || x.rows != long(d.batch) * d.length || x.cols % d.groups != 0 ||
        g.size() != x.cols || b.size() != x.cols) {
      throw std::invalid_argument("plain group_norm: shape");
    }
    const long size = x.cols / d.groups;
    Tensor out;
    out.resize(x.rows, x.cols);
    for (long s = 0; s < d.batch; ++s) {
      for (long grp = 0; grp < d.groups; ++grp) {
        double mean = 0;
        for (long t = 0; t < d.length; ++t)
          for (long c = grp * size; c < (grp + 1) * size; ++c) mean += x.at(s * d.length + t, c);
        mean /= double(d.length * size);
        double var = 0;
        for (long t = 0; t < d.length; ++t)
          for (long c = grp * size; c < (grp + 1) * size; ++c) {
            const double dev = x.at(s * d.length + t, c) - mean;
            var += dev * dev;
          }
        var /= double(d.length * size);
        for (long t = 0; t < d.length; ++t)
          for (long c = grp * size; c < (grp + 1) * size; ++c) {
            const long r = s * d.length + t;
            out.at(r, c) = static_cast<float>((x.at(r, c) - mean) / std::sqrt(var + double(eps)) * g.at(0, c) + b.at(0, c));
          }
      }
    }
    y = std::move(out);
  }

  // In place, CLIP's x * sigmoid(1.702 x).
  void quick_gelu(Tensor& x) {
    for (auto& f : x.data) f = static_cast<float>(double(f) / (1.0 + std::exp(-1.702 * double(f))));
  }

  // y is x ([batch * n, width]) with the row r ([1, width]) put before each
  // sequence: [batch * (n + 1), width] (ViT's and CLIP's class token).
  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
    if (batch <= 0 || x.rows % batch != 0 || row.rows != 1 || row.cols != x.cols) {
      throw std::invalid_argument("plain prepend_row: shape");
    }
    const long n = x.rows / batch;
    Tensor out;
    out.resize(batch * (n + 1), x.cols);
    for (long s = 0; s < batch; ++s) {
      for (long c = 0; c < x.cols; ++c) out.at(s * (n + 1), c) = row.at(0, c);
      for (long i = 0; i < n; ++i)
        for (long c = 0; c < x.cols; ++c) out.at(s * (n + 1) + 1 + i, c) = x.at(s * n + i, c);
    }
    y = std::move(out);
  }

  // In place, each row divided by its Euclidean norm; a row of zeros stays
  // zeros, as in Cpu (CLIP's embeddings before the similarity).
  void normalize_rows(Tensor& x) {
    for (long r = 0; r < x.rows; ++r) {
      double sq = 0;
      for (long c = 0; c < x.cols; ++c) sq += double(x.at(r, c)) * double(x.at(r, c));
      if (sq == 0.0) continue;
      const double norm = std::sqrt(sq);
      for (long c = 0; c < x.cols; ++c) x.at(r, c) = static_cast<float>(double(x.at(r, c)) / norm);
    }
  }

  // ---- DetectionOps: what DETR's ResNet backbone adds (with PerceptionOps) ----
  // Images laid out as rows: [batch * height * width, channels], one row per
  // pixel in row-major (y, x) order. Direct loops over the output.

  // 2-D convolution of row-laid-out images x with w [out, kernel * kernel *
  // channels], ordered (ky, kx, c), into [batch * out_h * out_w, out]. Output
  // row (b, oy, ox), channel o: bias + the sum over taps (ky, kx) and input
  // channels c of x's pixel (b, oy * stride - padding + ky, ox * stride -
  // padding + kx), zero outside the image, times w(o, (ky * kernel + kx) *
  // channels + c).
  void conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0 || d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("plain conv2d_rows: dimensions");
    }
    const long k = d.kernel;
    const long channels = d.channels;
    if (x.rows != long(d.batch) * d.height * d.width || x.cols != channels) throw std::invalid_argument("plain conv2d_rows: input");
    if (w.rows != d.out_channels || w.cols != k * k * channels) throw std::invalid_argument("plain conv2d_rows: weight");
    if (b.size() && (b.rows != 1 || b.cols != d.out_channels)) throw std::invalid_argument("plain conv2d_rows: bias");
    const long out_h = d.out_height();
    const long out_w = d.out_width();
    Tensor out;
    out.resize(d.batch * out_h * out_w, d.out_channels);
    for (long img = 0; img < d.batch; ++img) {
      for (long oy = 0; oy < out_h; ++oy) {
        for (long ox = 0; ox < out_w; ++ox) {
          for (long o = 0; o < d.out_channels; ++o) {
            double acc = b.size() ? double(b.at(0, o)) : 0.0;
            for (long ky = 0; ky < k; ++ky) {
              for (long kx = 0; kx < k; ++kx) {
                const long iy = oy * d.stride - d.padding + ky;
                const long ix = ox * d.stride - d.padding + kx;
                if (iy < 0 || iy >= d.height || ix < 0 || ix >= d.width) continue;
                for (long c = 0; c < channels; ++c) {
                  acc += double(x.at((img * d.height + iy) * d.width + ix, c)) * double(w.at(o, (ky * k + kx) * channels + c));
                }
              }
            }
            out.at((img * out_h + oy) * out_w + ox, o) = static_cast<float>(acc);
          }
        }
      }
    }
    y = std::move(out);
  }

  // Max pooling of row-laid-out images x into [batch * out_h * out_w,
  // channels]: output row (b, oy, ox), channel c is the largest of x's pixels
  // (b, oy * stride - padding + ky, ox * stride - padding + kx), c for taps
  // ky, kx < kernel inside the image (PyTorch's MaxPool2d pads with -inf, and
  // a NaN is the largest). PyTorch's padding <= kernel / 2 leaves every
  // window a pixel.
  void max_pool2d(const Tensor& x, const Pool2dDims& d, Tensor& y) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.kernel <= 0 || d.stride <= 0 ||
        d.padding < 0 || 2 * d.padding > d.kernel || d.height + 2 * d.padding < d.kernel ||
        d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("plain max_pool2d: dimensions");
    }
    if (x.rows != long(d.batch) * d.height * d.width || x.cols != d.channels) throw std::invalid_argument("plain max_pool2d: input");
    const long out_h = d.out_height();
    const long out_w = d.out_width();
    Tensor out;
    out.resize(d.batch * out_h * out_w, d.channels);
    for (long img = 0; img < d.batch; ++img) {
      for (long oy = 0; oy < out_h; ++oy) {
        for (long ox = 0; ox < out_w; ++ox) {
          for (long c = 0; c < d.channels; ++c) {
            float best = -std::numeric_limits<float>::infinity();
            for (long ky = 0; ky < d.kernel; ++ky) {
              for (long kx = 0; kx < d.kernel; ++kx) {
                const long iy = oy * d.stride - d.padding + ky;
                const long ix = ox * d.stride - d.padding + kx;
                if (iy < 0 || iy >= d.height || ix < 0 || ix >= d.width) continue;
                const float v = x.at((img * d.height + iy) * d.width + ix, c);
                if (v > best || std::isnan(v)) best = v;  // once NaN, it stays
              }
            }
            out.at((img * out_h + oy) * out_w + ox, c) = best;
          }
        }
      }
    }
    y = std::move(out);
  }

  // In place, the logistic sigmoid 1 / (1 + exp(-x)) (DETR's box coordinates).
  void sigmoid(Tensor& x) {
    for (auto& f : x.data) f = static_cast<float>(1.0 / (1.0 + std::exp(-double(f))));
  }

  // ---- WindowOps: what Swin transformers (CLAP's HTSAT) add (with GenerationOps and DetectionOps) ----

  // y = x's values, in row-major order, as [rows, cols]; rows * cols must be
  // x's element count, and y must not be x.
  void reshape(const Tensor& x, int rows, int cols, Tensor& y) {
    if (rows < 0 || cols < 0 || long(rows) * cols != x.size()) {
      throw std::invalid_argument("plain reshape: [" + std::to_string(x.rows) + ", " + std::to_string(x.cols) +
                                  "] cannot be reshaped to [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    if (&y == &x) throw std::invalid_argument("plain reshape: the output must not be the input");
    y.rows = rows;
    y.cols = cols;
    y.data = x.data;
  }

  // y *= x, element by element (a gate's weights); the shapes must be equal.
  void mul(const Tensor& x, Tensor& y) {
    if (x.rows != y.rows || x.cols != y.cols) {
      throw std::invalid_argument("plain mul: shapes differ, [" + std::to_string(x.rows) + ", " +
                                  std::to_string(x.cols) + "] and [" + std::to_string(y.rows) + ", " +
                                  std::to_string(y.cols) + "]");
    }
    for (long i = 0; i < y.size(); ++i) y.data[std::size_t(i)] *= x.data[std::size_t(i)];
  }

 private:
  // A numerically stable softmax of n values: exp(x - max) / sum, in double.
  static void softmax_row(float* row, long n) {
    double m = row[0];
    for (long j = 1; j < n; ++j) m = std::max(m, double(row[j]));
    double sum = 0;
    for (long j = 0; j < n; ++j) sum += std::exp(double(row[j]) - m);
    for (long j = 0; j < n; ++j) row[j] = static_cast<float>(std::exp(double(row[j]) - m) / sum);
  }
};

// [snippet checks]
// The concepts check the backend where it is defined: a missing or
// misspelt op is reported here, naming the op set and the op, rather than
// deep inside a model's code.
static_assert(accelbench::Backend<PlainBackend>);
static_assert(accelbench::EncoderOps<PlainBackend>);     // Embedding
static_assert(accelbench::GenerationOps<PlainBackend>);  // TextGeneration (and, with PerceptionOps, Audio)
static_assert(accelbench::PerceptionOps<PlainBackend>);  // Vision, Multimodal
static_assert(accelbench::DetectionOps<PlainBackend>);   // Vision (DETR)
// [end snippet]
static_assert(accelbench::WindowOps<PlainBackend>);  // windowed attention (Swin, CLAP's HTSAT)

}  // namespace plain
