#pragma once

// The argument descriptors of the backend ops (attention, rotary, caches,
// T5's relative bias, convolutions, group norm): the vocabulary shared by
// every backend and by the model layers that call them.

#include <cmath>
#include <vector>

namespace accelbench {

/// Dimensions of one multi-head attention call. Queries are laid out as
/// [batch * query_len, heads * head_dim]; head h occupies columns
/// [h * head_dim, (h + 1) * head_dim). Keys and values are
/// [batch * key_stride, kv_heads * head_dim], of which the first key_len rows
/// of each sequence are attended (a key-value cache has key_stride =
/// its capacity). Query head h reads key-value head h / (heads / kv_heads):
/// grouped-query attention when kv_heads < heads. A causal window w > 0
/// narrows the causal mask to the last w positions: query i, at position
/// p = key_len - query_len + i, sees the keys at positions p - w + 1 .. p
/// (transformers' sliding-window causal mask, kv_idx > q_idx - w). A
/// position bias (GenerationOps' attention) is [bias_blocks * heads *
/// query_len, key_len]: sequence b, head h, query i adds its row
/// ((b % bias_blocks) * heads + h) * query_len + i.
struct AttentionDims {
  int batch = 0;
  int query_len = 0;
  int key_len = 0;
  int heads = 0;
  int head_dim = 0;
  int kv_heads = 0;    ///< 0: as many as heads
  int key_stride = 0;  ///< rows per sequence in keys and values; 0: key_len
  /// Query i sits at position key_len - query_len + i and sees the keys up
  /// to that position only.
  bool causal = false;
  /// Causal attention only: the keys a query sees, its own position
  /// included (sliding-window attention); 0: all up to its position.
  int window = 0;
  float scale = 0.0f;  ///< score scale; 0: 1 / sqrt(head_dim)
  /// The position bias holds bias_blocks blocks of [heads * query_len,
  /// key_len]; sequence b adds block b % bias_blocks (Swin's windows: one
  /// block per window position, the shift mask included).
  int bias_blocks = 1;

  [[nodiscard]] int effective_kv_heads() const noexcept { return kv_heads > 0 ? kv_heads : heads; }
  [[nodiscard]] int effective_key_stride() const noexcept { return key_stride > 0 ? key_stride : key_len; }
  /// The keys query i sees: [first_key(i), end_key(i)).
  [[nodiscard]] int end_key(int i) const noexcept { return causal ? key_len - query_len + i + 1 : key_len; }
  [[nodiscard]] int first_key(int i) const noexcept {
    return causal && window > 0 && end_key(i) > window ? end_key(i) - window : 0;
  }
};

/// transformers' rotary types that scale the inverse frequencies
/// (modeling_rope_utils.py): none is rope_type "default"; linear divides
/// every inverse frequency by factor; llama3 divides those of wavelengths
/// above original_max_positions / low_freq_factor by factor, keeps those
/// below original_max_positions / high_freq_factor, and blends the ones
/// between. dynamic (NTK) is a model's setting, never an op's: a model
/// passes the default frequencies of the grown theta its positions call for
/// (dynamic_rope_theta, model/common/rope_config.hpp), so backends treat it as
/// none.
enum class RotaryScaling { none, linear, llama3, dynamic };

/// Rotary position embedding of [batch * len, heads * head_dim] rows: row
/// (b, i) is at position start + i; inverse frequencies theta^(-2j / head_dim),
/// scaled as `scaling` says (rotary_inv_freq).
struct RotaryDims {
  int batch = 0;
  int len = 0;
  int heads = 0;
  int head_dim = 0;
  int start = 0;
  float theta = 10000.0f;
  RotaryScaling scaling = RotaryScaling::none;
  float factor = 1.0f;                ///< linear and llama3: the scaling factor
  float low_freq_factor = 1.0f;       ///< llama3
  float high_freq_factor = 4.0f;      ///< llama3
  int original_max_positions = 8192;  ///< llama3: the pretraining context length
};

/// Whether two RotaryDims give the same inverse frequencies (the same
/// tables of angles).
[[nodiscard]] inline bool same_rotary_frequencies(const RotaryDims& a, const RotaryDims& b) noexcept {
  if (a.theta != b.theta || a.head_dim != b.head_dim || a.scaling != b.scaling) return false;
  if (a.scaling == RotaryScaling::none) return true;
  if (a.factor != b.factor) return false;
  return a.scaling == RotaryScaling::linear ||
         (a.low_freq_factor == b.low_freq_factor && a.high_freq_factor == b.high_freq_factor &&
          a.original_max_positions == b.original_max_positions);
}

/// The inverse frequency of pair j (j < head_dim / 2), in float with the
/// operations of transformers' _compute_default_rope_parameters,
/// _compute_linear_scaling_rope_parameters and _compute_llama3_parameters
/// (PyTorch evaluates `s / t` for a tensor t as t.reciprocal() * s).
[[nodiscard]] inline float rotary_inv_freq(const RotaryDims& r, int j) noexcept {
  const float exponent = static_cast<float>(2 * j) / static_cast<float>(r.head_dim);
  const float inv_freq = 1.0f / std::pow(r.theta, exponent);
  if (r.scaling == RotaryScaling::linear) return inv_freq / r.factor;
  if (r.scaling != RotaryScaling::llama3) return inv_freq;
  const double context = r.original_max_positions;
  const auto low_wavelen = static_cast<float>(context / double(r.low_freq_factor));
  const auto high_wavelen = static_cast<float>(context / double(r.high_freq_factor));
  const float wavelen = (1.0f / inv_freq) * static_cast<float>(2.0 * 3.141592653589793);
  const float scaled = wavelen > low_wavelen ? inv_freq / r.factor : inv_freq;
  const float smooth = ((1.0f / wavelen) * static_cast<float>(context) - r.low_freq_factor) /
                       static_cast<float>(double(r.high_freq_factor) - double(r.low_freq_factor));
  const float smoothed = (1.0f - smooth) * scaled / r.factor + smooth * scaled;
  const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
  return medium ? smoothed : scaled;
}

/// rotary_inv_freq of every pair, j = 0 .. head_dim / 2 - 1.
[[nodiscard]] inline std::vector<float> rotary_inv_freqs(const RotaryDims& r) {
  std::vector<float> f(static_cast<std::size_t>(r.head_dim / 2));
  for (int j = 0; j < r.head_dim / 2; ++j) f[static_cast<std::size_t>(j)] = rotary_inv_freq(r, j);
  return f;
}

/// Writing [batch * len, width] new rows into a [batch * capacity, width]
/// cache at rows b * capacity + start + i.
struct CacheDims {
  int batch = 0;
  int len = 0;
  int capacity = 0;
  int start = 0;
};

/// T5's relative position bias for queries at positions query_start + i
/// (i < query_len) against keys 0..key_len-1.
struct RelativeBiasDims {
  int query_len = 0;
  int key_len = 0;
  int query_start = 0;
  bool bidirectional = true;  ///< encoder: true; decoder self-attention: false
  int num_buckets = 32;
  int max_distance = 128;
};

/// A 2-D convolution of a batch of images. Input [batch, channels * height *
/// width], one image per row in PyTorch's channel-major order; weight
/// [out_channels, channels * kernel * kernel] (PyTorch's [out, in, kh, kw]
/// flattened); output [batch * out_height * out_width, out_channels], one row
/// per output position in row-major (y, x) order: the token layout of a
/// patch embedding. conv2d_rows takes its input in that row layout too
/// ([batch * height * width, channels]; see DetectionOps).
struct Conv2dDims {
  int batch = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  int out_channels = 0;
  int kernel = 0;
  int stride = 1;
  int padding = 0;

  [[nodiscard]] int out_height() const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
  [[nodiscard]] int out_width() const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
};

/// Max pooling of images laid out as rows ([batch * height * width,
/// channels], see DetectionOps): each output pixel is the largest input value
/// of its kernel x kernel window, the window of output (y, x) starting at
/// input (y * stride - padding, x * stride - padding); pixels outside the
/// image are left out (PyTorch's MaxPool2d pads with -infinity).
struct Pool2dDims {
  int batch = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  int kernel = 0;
  int stride = 1;
  int padding = 0;

  [[nodiscard]] int out_height() const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
  [[nodiscard]] int out_width() const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
};

/// A 1-D convolution over time. Input [batch * length, in_channels], one row
/// per time step; weight [out_channels, (in_channels / groups) * kernel]
/// (PyTorch's [out, in / groups, kernel] flattened); output
/// [batch * out_length, out_channels].
struct Conv1dDims {
  int batch = 0;
  int length = 0;
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 0;
  int stride = 1;
  int padding = 0;
  int groups = 1;

  [[nodiscard]] int out_length() const noexcept { return (length + 2 * padding - kernel) / stride + 1; }
};

/// Group normalisation of [batch * length, channels] rows: the channels are
/// split into `groups` consecutive groups, each normalised over its channels
/// and all `length` time steps of one sequence (PyTorch's GroupNorm over
/// [batch, channels, length]).
struct GroupNormDims {
  int batch = 0;
  int length = 0;
  int groups = 1;
};

/// T5's bucket of a relative position (key position minus query position),
/// computed in float like transformers' T5Attention._relative_position_bucket.
[[nodiscard]] inline int t5_relative_bucket(int relative_position, bool bidirectional, int num_buckets,
                                            int max_distance) noexcept {
  int bucket = 0;
  int n = num_buckets;
  int rel = relative_position;
  if (bidirectional) {
    n /= 2;
    if (rel > 0) bucket += n;
    rel = rel < 0 ? -rel : rel;
  } else {
    rel = rel < 0 ? -rel : 0;
  }
  const int max_exact = n / 2;
  if (rel < max_exact) return bucket + rel;
  const float ratio = std::log(static_cast<float>(rel) / static_cast<float>(max_exact)) /
                      static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  int large = max_exact + static_cast<int>(ratio * static_cast<float>(n - max_exact));
  if (large > n - 1) large = n - 1;
  return bucket + large;
}

}  // namespace accelbench
