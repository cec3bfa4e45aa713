#pragma once

// The Vision Transformer (Dosovitskiy et al., 2020) as in Hugging Face
// transformers' ViTModel (without its pooler): a patch embedding (a
// convolution with kernel = stride = patch size), a class token before the
// patches, learned position embeddings, pre-norm encoder layers with erf
// GELU, and a final LayerNorm. The forward pass is written once over the
// backend's PerceptionOps. Images of another size than the checkpoint's get
// position embeddings interpolated as transformers' interpolate_pos_encoding
// does (bicubic, align_corners=False), on the host when a batch is prepared.
//
// The pieces CLIP shares with ViT (pre-norm encoder layers, learned
// positions, synthetic images) are here too; model/clip.hpp uses them.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../detail/rng.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "common/checkpoint.hpp"
#include "common/weights.hpp"

namespace accelbench {

/// The activation of an encoder's feed-forward block.
enum class Activation {
  gelu,        ///< erf GELU (ViT, transformers' "gelu")
  quick_gelu,  ///< x * sigmoid(1.702 x) (CLIP, transformers' "quick_gelu")
};

[[nodiscard]] constexpr std::string_view to_string(Activation a) noexcept {
  return a == Activation::gelu ? "gelu" : "quick_gelu";
}

struct ViTConfig {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int patch_size = 0;
  int image_size = 0;  ///< the checkpoint's square image size in pixels
  int channels = 3;
  float layer_norm_eps = 1e-12f;
  std::vector<std::string> aliases;  ///< other names of the preset, e.g. the Hugging Face id

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  /// Patches per side of a square image of `size` pixels.
  [[nodiscard]] int grid(int size) const noexcept { return patch_size > 0 ? size / patch_size : 0; }
  /// Tokens of one image of `size` pixels: its patches and the class token.
  [[nodiscard]] int tokens(int size) const noexcept { return grid(size) * grid(size) + 1; }

  /// Parameters of ViTModel without its pooler: embeddings (class token,
  /// positions of the checkpoint's image size, patch projection with bias),
  /// the layers and the final LayerNorm.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const std::int64_t h = hidden;
    const std::int64_t i = intermediate;
    const std::int64_t patch = std::int64_t{channels} * patch_size * patch_size;
    const std::int64_t embeddings = h + std::int64_t{tokens(image_size)} * h + (h * patch + h);
    const std::int64_t layer = 2 * h + 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h);
    return embeddings + layers * layer + 2 * h;
  }

  /// Floating-point operations of one forward pass over `batch` square
  /// images of `size` pixels (a multiply-add counts as two): the patch
  /// projection, and the projections, feed-forward and attention products of
  /// every layer. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, int size) const noexcept {
    const double n = tokens(size);
    const double patches = n - 1;
    const double h = hidden;
    const double patch = static_cast<double>(channels) * patch_size * patch_size;
    const double embedding = 2.0 * batch * patches * patch * h;
    const double projections = 2.0 * batch * n * (4.0 * h * h + 2.0 * h * intermediate);
    const double attention = 2.0 * 2.0 * batch * n * n * h;
    return embedding + layers * (projections + attention);
  }

  /// Bytes of a forward pass's activations over `batch` images of `size`
  /// pixels: the pixels, the patches, eight [tokens, hidden] tensors (hidden
  /// state, normed, q, k, v, context, attention output, feed-forward
  /// output), the [tokens, intermediate] feed-forward, the class tokens, an
  /// interpolated position table (another size than the model's) and the
  /// position and class-row ids.
  [[nodiscard]] std::uint64_t activation_bytes(int batch, int size) const noexcept {
    const auto b = static_cast<std::uint64_t>(batch);
    const auto n = static_cast<std::uint64_t>(tokens(size));
    const auto h = static_cast<std::uint64_t>(hidden);
    const auto s = static_cast<std::uint64_t>(size);
    const std::uint64_t floats = b * static_cast<std::uint64_t>(channels) * s * s + b * (n - 1) * h +
                                 b * n * (8u * h + static_cast<std::uint64_t>(intermediate)) + b * h +
                                 (size != image_size ? n * h : 0u);
    return floats * sizeof(float) + (b * n + b) * sizeof(std::int32_t);
  }
};

/// Presets with the dimensions of the published checkpoints. vit-tiny is
/// ViT-Ti/16 (DeiT-tiny's dimensions), as in WinKawaks/vit-tiny-patch16-224.
inline const std::vector<ViTConfig>& vit_presets() {
  static const std::vector<ViTConfig> presets = {
      {"vit-base-patch16-224", 12, 768, 12, 3072, 16, 224, 3, 1e-12f, {"google/vit-base-patch16-224"}},
      {"vit-tiny", 12, 192, 3, 768, 16, 224, 3, 1e-12f, {"WinKawaks/vit-tiny-patch16-224"}},
  };
  return presets;
}

/// Checks that a configuration describes a ViT that can be built.
inline void validate_vit_config(const ViTConfig& c) {
  const auto positive = [&](std::string_view field, int v) {
    if (v <= 0) throw ConfigError(c.name + "." + std::string(field), std::to_string(v), "must be positive");
  };
  positive("layers", c.layers);
  positive("hidden", c.hidden);
  positive("heads", c.heads);
  positive("intermediate", c.intermediate);
  positive("patch_size", c.patch_size);
  positive("image_size", c.image_size);
  positive("channels", c.channels);
  if (c.hidden % c.heads != 0) {
    throw ConfigError(c.name + ".heads", std::to_string(c.heads),
                      "must divide hidden (" + std::to_string(c.hidden) + ")");
  }
  if (c.image_size % c.patch_size != 0) {
    throw ConfigError(c.name + ".image_size", std::to_string(c.image_size),
                      "must be a multiple of patch_size (" + std::to_string(c.patch_size) + ")");
  }
  if (!(c.layer_norm_eps > 0)) {
    throw ConfigError(c.name + ".layer_norm_eps", std::to_string(c.layer_norm_eps), "must be positive");
  }
}

using TensorShapes = std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>>;

namespace detail {

/// Names of a pre-norm encoder layer's tensors under its prefix (each with
/// ".weight" and ".bias").
struct PreNormLayerNames {
  const char* norm1;
  const char* query;
  const char* key;
  const char* value;
  const char* out;
  const char* norm2;
  const char* fc1;
  const char* fc2;
};

/// ViTModel's layer (encoder.layer.{i}.*).
inline constexpr PreNormLayerNames vit_layer_names{"layernorm_before",       "attention.attention.query",
                                                   "attention.attention.key", "attention.attention.value",
                                                   "attention.output.dense", "layernorm_after",
                                                   "intermediate.dense",     "output.dense"};

/// CLIP's CLIPEncoderLayer (encoder.layers.{i}.*).
inline constexpr PreNormLayerNames clip_layer_names{"layer_norm1",      "self_attn.q_proj",   "self_attn.k_proj",
                                                    "self_attn.v_proj", "self_attn.out_proj", "layer_norm2",
                                                    "mlp.fc1",          "mlp.fc2"};

inline void add_pre_norm_layer_shapes(TensorShapes& s, const std::string& p, const PreNormLayerNames& n,
                                      Eigen::Index h, Eigen::Index i) {
  const auto both = [&](const char* name, Eigen::Index out, Eigen::Index in) {
    s.push_back({p + name + ".weight", {out, in}});
    s.push_back({p + name + ".bias", {1, out}});
  };
  s.push_back({p + n.norm1 + ".weight", {1, h}});
  s.push_back({p + n.norm1 + ".bias", {1, h}});
  both(n.query, h, h);
  both(n.key, h, h);
  both(n.value, h, h);
  both(n.out, h, h);
  s.push_back({p + n.norm2 + ".weight", {1, h}});
  s.push_back({p + n.norm2 + ".bias", {1, h}});
  both(n.fc1, i, h);
  both(n.fc2, h, i);
}

/// Deterministic synthetic weights for every tensor of `shapes`: norm
/// scales near one, biases and norm shifts small, everything else (matrices,
/// embeddings, class tokens) with standard deviation 0.02.
inline WeightMap synthetic_weights_for(const TensorShapes& shapes, std::uint64_t seed) {
  WeightMap w;
  for (const auto& [name, shape] : shapes) {
    const std::string_view n = name;
    const bool is_norm = n.find("norm") != std::string_view::npos;
    const bool is_bias = n.ends_with(".bias");
    const float mean = is_norm && !is_bias ? 1.0f : 0.0f;
    const float stddev = is_norm || is_bias ? 0.01f : 0.02f;
    w.insert(name, synthetic_tensor(name, shape[0], shape[1], seed, mean, stddev));
  }
  return w;
}

/// A pre-norm transformer encoder layer's weights on the backend.
template <class B>
struct PreNormLayer {
  typename B::Tensor norm1_g, norm1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  typename B::Tensor norm2_g, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

/// Takes a layer's tensors through `take(name, rows, cols)`.
template <class B, class Take>
PreNormLayer<B> take_pre_norm_layer(Take&& take, const std::string& p, const PreNormLayerNames& n, Eigen::Index h,
                                    Eigen::Index i) {
  const auto w = [&](const char* name) { return p + name + ".weight"; };
  const auto b = [&](const char* name) { return p + name + ".bias"; };
  PreNormLayer<B> L;
  L.norm1_g = take(w(n.norm1), 1, h);
  L.norm1_b = take(b(n.norm1), 1, h);
  L.q_w = take(w(n.query), h, h);
  L.q_b = take(b(n.query), 1, h);
  L.k_w = take(w(n.key), h, h);
  L.k_b = take(b(n.key), 1, h);
  L.v_w = take(w(n.value), h, h);
  L.v_b = take(b(n.value), 1, h);
  L.o_w = take(w(n.out), h, h);
  L.o_b = take(b(n.out), 1, h);
  L.norm2_g = take(w(n.norm2), 1, h);
  L.norm2_b = take(b(n.norm2), 1, h);
  L.fc1_w = take(w(n.fc1), i, h);
  L.fc1_b = take(b(n.fc1), 1, i);
  L.fc2_w = take(w(n.fc2), h, i);
  L.fc2_b = take(b(n.fc2), 1, h);
  return L;
}

/// Activations of an encoder layer, kept between forward passes.
template <class B>
struct EncoderScratch {
  typename B::Tensor normed, q, k, v, context, attn, inter, tmp;
};

/// hidden += attention(norm1(hidden)); hidden += mlp(norm2(hidden)): the
/// pre-norm layer of ViT (ViTLayer) and CLIP (CLIPEncoderLayer).
template <PerceptionOps B>
void pre_norm_layer(B& be, const PreNormLayer<B>& L, float eps, Activation act, const typename B::Tensor& mask,
                    const AttentionDims& dims, typename B::Tensor& hidden, EncoderScratch<B>& s) {
  be.layer_norm(hidden, L.norm1_g, L.norm1_b, eps, s.normed);
  be.linear(s.normed, L.q_w, L.q_b, s.q);
  be.linear(s.normed, L.k_w, L.k_b, s.k);
  be.linear(s.normed, L.v_w, L.v_b, s.v);
  be.attention(s.q, s.k, s.v, mask, dims, s.context);
  be.linear(s.context, L.o_w, L.o_b, s.attn);
  be.add(s.attn, hidden);
  be.layer_norm(hidden, L.norm2_g, L.norm2_b, eps, s.normed);
  be.linear(s.normed, L.fc1_w, L.fc1_b, s.inter);
  if (act == Activation::gelu) {
    be.gelu(s.inter);
  } else {
    be.quick_gelu(s.inter);
  }
  be.linear(s.inter, L.fc2_w, L.fc2_b, s.tmp);
  be.add(s.tmp, hidden);
}

/// y[b * len + i] += table[i]: learned positions. With the backend's
/// add_positions where it has one (GenerationOps), else a lookup of
/// `position_ids` (0..len-1 per sequence) into `tmp` and an add; both add
/// the same values.
template <PerceptionOps B>
void add_learned_positions(B& be, const typename B::Tensor& table, const typename B::IndexTensor& position_ids,
                           int batch, int len, typename B::Tensor& y, typename B::Tensor& tmp) {
  if constexpr (requires { be.add_positions(table, 0, batch, len, y); }) {
    (void)position_ids;
    (void)tmp;
    be.add_positions(table, 0, batch, len, y);
  } else {
    be.embedding_lookup(table, position_ids, tmp);
    be.add(tmp, y);
  }
}

/// 0..len-1 for each of `batch` sequences.
inline std::vector<std::int32_t> position_ids(int batch, int len) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(batch) * static_cast<std::size_t>(len));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(len));
  return ids;
}

/// Row b * len + offset of every sequence b: the class token (offset 0).
inline std::vector<std::int32_t> sequence_rows(int batch, int len, int offset = 0) {
  std::vector<std::int32_t> rows(static_cast<std::size_t>(batch));
  for (int b = 0; b < batch; ++b) rows[static_cast<std::size_t>(b)] = b * len + offset;
  return rows;
}

/// A 4-D convolution weight [out, channels, k, k] arrives from safetensors
/// as [out * channels * k, k]; the same values as [out, channels * k * k],
/// the layout conv2d takes. A tensor already in that layout is kept.
inline void reshape_conv2d_weight(WeightMap& w, const std::string& name, Eigen::Index out, Eigen::Index channels,
                                  Eigen::Index k) {
  if (!w.contains(name)) return;
  const HostMatrix& t = w.at(name);
  if (t.rows() == out * channels * k && t.cols() == k && !(t.rows() == out && t.cols() == channels * k * k)) {
    HostMatrix m = w.take(name, t.rows(), t.cols());
    HostMatrix r = Eigen::Map<const HostMatrix>(m.data(), out, channels * k * k);
    w.insert(name, std::move(r));
  }
}

/// PyTorch's cubic convolution coefficients (upsample_bicubic2d, A = -0.75)
/// for a fractional offset t in [0, 1], computed in float as its CPU kernel.
inline std::array<float, 4> cubic_coefficients(float t) noexcept {
  constexpr float A = -0.75f;
  const auto near = [](float x) { return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f; };
  const auto far = [](float x) { return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A; };
  return {far(t + 1.0f), near(t), near(1.0f - t), far(2.0f - t)};
}

/// Source indices (clamped to the input) and weights of each output index
/// of a bicubic resize from `in` to `out` samples with align_corners=False:
/// the source coordinate is (dst + 0.5) * in / out - 0.5, not clamped, its
/// floor the second of four taps, as in PyTorch.
struct CubicTaps {
  std::vector<std::array<int, 4>> index;
  std::vector<std::array<float, 4>> weight;
};

inline CubicTaps cubic_taps(int in, int out) {
  CubicTaps taps;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int d = 0; d < out; ++d) {
    const float real = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
    const int i0 = std::min(static_cast<int>(std::floor(real)), in - 1);
    const float t = std::min(std::max(real - static_cast<float>(i0), 0.0f), 1.0f);
    std::array<int, 4> idx{};
    for (int j = 0; j < 4; ++j) idx[static_cast<std::size_t>(j)] = std::clamp(i0 - 1 + j, 0, in - 1);
    taps.index.push_back(idx);
    taps.weight.push_back(cubic_coefficients(t));
  }
  return taps;
}

}  // namespace detail

/// Bicubic resize of a grid of vectors, as torch.nn.functional.interpolate
/// (mode="bicubic", align_corners=False) on a [1, dim, rows, cols] tensor:
/// `grid` is [rows * cols, dim], one row per grid point in row-major (y, x)
/// order; the result is [out_rows * out_cols, dim] in the same order. Each
/// output is sum_i wy_i * (sum_j wx_j * src), in float, with indices beyond
/// the border clamped to it, which is PyTorch's CPU kernel.
[[nodiscard]] inline HostMatrix bicubic_resize(const HostMatrix& grid, int rows, int cols, int out_rows,
                                               int out_cols) {
  if (rows <= 0 || cols <= 0 || out_rows <= 0 || out_cols <= 0 || grid.rows() != Eigen::Index{rows} * cols) {
    throw std::invalid_argument("bicubic_resize: a [" + std::to_string(grid.rows()) + ", " +
                                std::to_string(grid.cols()) + "] grid is not " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " (to " + std::to_string(out_rows) + " x " +
                                std::to_string(out_cols) + ")");
  }
  const detail::CubicTaps ty = detail::cubic_taps(rows, out_rows);
  const detail::CubicTaps tx = detail::cubic_taps(cols, out_cols);
  const Eigen::Index dim = grid.cols();
  HostMatrix out(Eigen::Index{out_rows} * out_cols, dim);
  Eigen::Array<float, 1, Eigen::Dynamic> acc(dim), inner(dim);
  for (int y = 0; y < out_rows; ++y) {
    for (int x = 0; x < out_cols; ++x) {
      acc.setZero();
      for (int i = 0; i < 4; ++i) {
        const Eigen::Index sy = ty.index[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
        inner.setZero();
        for (int j = 0; j < 4; ++j) {
          const Eigen::Index sx = tx.index[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
          inner += grid.row(sy * cols + sx).array() * tx.weight[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
        }
        acc += inner * ty.weight[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
      }
      out.row(Eigen::Index{y} * out_cols + x) = acc.matrix();
    }
  }
  return out;
}

/// Position embeddings for square images of `grid` x `grid` patches from a
/// table [1 + g * g, dim] learned for g x g (the class token's first), as
/// transformers' ViTEmbeddings.interpolate_pos_encoding: the class token's
/// row is kept and the patch rows are resized bicubically. The table is
/// returned as it is when the grid is its own.
[[nodiscard]] inline HostMatrix interpolate_positions(const HostMatrix& table, int grid) {
  const auto patches = table.rows() - 1;
  const auto g = static_cast<int>(std::lround(std::sqrt(static_cast<double>(patches))));
  if (patches < 1 || Eigen::Index{g} * g != patches) {
    throw std::invalid_argument("interpolate_positions: the table's " + std::to_string(table.rows()) +
                                " rows are not a class token and a square grid of patches");
  }
  if (grid == g) return table;
  HostMatrix out(Eigen::Index{grid} * grid + 1, table.cols());
  out.row(0) = table.row(0);
  out.bottomRows(out.rows() - 1) = bicubic_resize(table.bottomRows(patches), g, g, grid, grid);
  return out;
}

/// A batch of square images, one per row of `pixels` in PyTorch's
/// channel-major order: [batch, channels * size * size].
struct ImageBatch {
  int batch = 0;
  int channels = 3;
  int size = 0;
  HostMatrix pixels;
};

/// Deterministic synthetic images: every value uniform in [-1, 1), the
/// range of pixels normalised with mean 0.5 and standard deviation 0.5 (as
/// ViT's image processor does), drawn from the counter-based generator's
/// stream "pixel_values" under `seed`: value k of the batch (row-major
/// [batch, channel, y, x]) is element k of the stream, so a larger batch
/// extends a smaller one.
[[nodiscard]] inline ImageBatch make_images(int batch, int channels, int size, std::uint64_t seed) {
  if (batch <= 0 || channels <= 0 || size <= 0) {
    throw std::invalid_argument("make_images: batch " + std::to_string(batch) + ", channels " +
                                std::to_string(channels) + " and size " + std::to_string(size) +
                                " must be positive");
  }
  ImageBatch in;
  in.batch = batch;
  in.channels = channels;
  in.size = size;
  in.pixels.resize(batch, Eigen::Index{channels} * size * size);
  const std::uint64_t stream = detail::stream_seed(seed, "pixel_values");
  float* data = in.pixels.data();
  for (Eigen::Index k = 0; k < in.pixels.size(); ++k) {
    data[k] = 2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(k)) - 1.0f;
  }
  return in;
}

namespace detail {
inline std::string vit_layer_prefix(int i) { return "encoder.layer." + std::to_string(i) + "."; }
}  // namespace detail

/// The shape of every tensor of a ViTModel (without pooler), by its Hugging
/// Face name. The patch projection is [hidden, channels * patch * patch].
inline TensorShapes vit_tensor_shapes(const ViTConfig& c) {
  const Eigen::Index h = c.hidden;
  TensorShapes s = {
      {"embeddings.cls_token", {1, h}},
      {"embeddings.position_embeddings", {c.tokens(c.image_size), h}},
      {"embeddings.patch_embeddings.projection.weight", {h, Eigen::Index{c.channels} * c.patch_size * c.patch_size}},
      {"embeddings.patch_embeddings.projection.bias", {1, h}},
  };
  for (int l = 0; l < c.layers; ++l) {
    detail::add_pre_norm_layer_shapes(s, detail::vit_layer_prefix(l), detail::vit_layer_names, h, c.intermediate);
  }
  s.push_back({"layernorm.weight", {1, h}});
  s.push_back({"layernorm.bias", {1, h}});
  return s;
}

/// Deterministic synthetic weights (see detail::synthetic_weights_for).
inline WeightMap synthetic_vit_weights(const ViTConfig& c, std::uint64_t seed) {
  validate_vit_config(c);
  return detail::synthetic_weights_for(vit_tensor_shapes(c), seed);
}

/// A ViT whose weights live on backend B.
template <PerceptionOps B>
class ViT {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of images and the activations of its forward pass, kept
  /// between passes so that a repeated pass allocates nothing.
  struct Workspace {
    int batch = 0;
    int image_size = 0;
    int tokens = 0;             ///< per image: patches and the class token
    bool own_positions = false;  ///< positions interpolated for this image size
    Tensor positions;           ///< [tokens, hidden] when own_positions
    Tensor pixels;              ///< [batch, channels * size * size]
    IndexTensor position_ids;   ///< 0..tokens-1 per image
    IndexTensor class_rows;     ///< row of each image's class token
    Tensor patches;             ///< [batch * (tokens - 1), hidden]
    Tensor hidden;              ///< last hidden state, [batch * tokens, hidden]
    Tensor class_token;         ///< the class token's last hidden state, [batch, hidden]
    detail::EncoderScratch<B> s;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  ViT(B& backend, ViTConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_vit_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    const Eigen::Index p = config_.patch_size;
    detail::reshape_conv2d_weight(weights, "embeddings.patch_embeddings.projection.weight", h, config_.channels, p);
    auto take_host = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
      HostMatrix m = weights.take(name, rows, cols);
      weight_bytes_ += static_cast<std::uint64_t>(m.size()) * sizeof(float);
      parameters_ += m.size();
      return m;
    };
    auto take = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
      return backend.upload(take_host(name, rows, cols));
    };
    cls_ = take("embeddings.cls_token", 1, h);
    position_host_ = take_host("embeddings.position_embeddings", config_.tokens(config_.image_size), h);
    positions_ = backend.upload(position_host_);
    patch_w_ = take("embeddings.patch_embeddings.projection.weight", h, Eigen::Index{config_.channels} * p * p);
    patch_b_ = take("embeddings.patch_embeddings.projection.bias", 1, h);
    layers_.reserve(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::vit_layer_prefix(l), detail::vit_layer_names, h, i));
    }
    norm_g_ = take("layernorm.weight", 1, h);
    norm_b_ = take("layernorm.bias", 1, h);
  }

  [[nodiscard]] const ViTConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return parameters_; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return weight_bytes_; }

  /// Uploads a batch of images into a new workspace. Images of another size
  /// than the checkpoint's get position embeddings interpolated here, on the
  /// host, once per workspace.
  [[nodiscard]] Workspace prepare(B& backend, const ImageBatch& in) const {
    if (in.channels != config_.channels) {
      throw std::invalid_argument("ViT: images have " + std::to_string(in.channels) + " channels, " + config_.name +
                                  " takes " + std::to_string(config_.channels));
    }
    if (in.size <= 0 || in.size % config_.patch_size != 0) {
      throw std::invalid_argument("ViT: image size " + std::to_string(in.size) + " is not a multiple of " +
                                  config_.name + "'s patch size " + std::to_string(config_.patch_size));
    }
    if (in.batch <= 0 || in.pixels.rows() != in.batch ||
        in.pixels.cols() != Eigen::Index{in.channels} * in.size * in.size) {
      throw std::invalid_argument("ViT: pixels must be [batch, channels * size * size]");
    }
    Workspace ws;
    ws.batch = in.batch;
    ws.image_size = in.size;
    ws.tokens = config_.tokens(in.size);
    if (in.size != config_.image_size) {
      ws.own_positions = true;
      ws.positions = backend.upload(interpolate_positions(position_host_, config_.grid(in.size)));
    }
    ws.pixels = backend.upload(in.pixels);
    ws.position_ids = backend.upload_indices(detail::position_ids(ws.batch, ws.tokens));
    ws.class_rows = backend.upload_indices(detail::sequence_rows(ws.batch, ws.tokens));
    return ws;
  }

  /// One forward pass: ws.hidden gets the last hidden state (after the final
  /// LayerNorm) and ws.class_token the class token's row of it.
  void forward(B& be, Workspace& ws) const {
    const float eps = config_.layer_norm_eps;
    Conv2dDims conv;
    conv.batch = ws.batch;
    conv.channels = config_.channels;
    conv.height = ws.image_size;
    conv.width = ws.image_size;
    conv.out_channels = config_.hidden;
    conv.kernel = config_.patch_size;
    conv.stride = config_.patch_size;
    be.conv2d(ws.pixels, patch_w_, patch_b_, conv, ws.patches);
    be.prepend_row(ws.patches, cls_, ws.batch, ws.hidden);
    detail::add_learned_positions(be, ws.own_positions ? ws.positions : positions_, ws.position_ids, ws.batch,
                                  ws.tokens, ws.hidden, ws.s.tmp);
    const AttentionDims dims{ws.batch, ws.tokens, ws.tokens, config_.heads, config_.head_dim()};
    for (const auto& L : layers_) {
      detail::pre_norm_layer(be, L, eps, Activation::gelu, none_, dims, ws.hidden, ws.s);
    }
    be.layer_norm(ws.hidden, norm_g_, norm_b_, eps, ws.hidden);
    be.embedding_lookup(ws.hidden, ws.class_rows, ws.class_token);
  }

 private:
  ViTConfig config_;
  HostMatrix position_host_;  // for interpolation to other image sizes
  Tensor cls_, positions_, patch_w_, patch_b_, norm_g_, norm_b_;
  std::vector<detail::PreNormLayer<B>> layers_;
  Tensor none_;  // an empty tensor: no mask
  std::int64_t parameters_ = 0;
  std::uint64_t weight_bytes_ = 0;
};

/// ViTConfig from a checkpoint's config.json (model_type "vit"); the preset
/// is named after the folder. Square images and patches only, erf GELU and
/// q/k/v biases, as every published ViT checkpoint has.
[[nodiscard]] inline ViTConfig vit_config_from_checkpoint(const std::filesystem::path& dir) {
  const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
  const std::string type = c.text("model_type");
  if (type != "vit") c.fail("model_type", "\"" + type + "\"", "the vision family reads ViT checkpoints (\"vit\")");
  const std::string act = c.text("hidden_act", "gelu");
  if (act != "gelu") c.fail("hidden_act", "\"" + act + "\"", "only ViT's erf GELU (\"gelu\") is implemented");
  if (!c.boolean("qkv_bias", true)) c.fail("qkv_bias", "false", "only query, key and value projections with biases are implemented");
  ViTConfig v;
  v.name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (v.name.empty()) v.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  v.layers = c.integer("num_hidden_layers", 12);
  v.hidden = c.integer("hidden_size", 768);
  v.heads = c.integer("num_attention_heads", 12);
  v.intermediate = c.integer("intermediate_size", 3072);
  v.patch_size = c.integer("patch_size", 16);
  v.image_size = c.integer("image_size", 224);
  v.channels = c.integer("num_channels", 3);
  v.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  validate_vit_config(v);
  return v;
}

/// A ViT checkpoint's weights under ViTModel's names: the "vit." prefix of
/// task models is removed, the pooler and classifier are dropped, and the
/// patch projection is reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap vit_weights_from_checkpoint(const std::filesystem::path& dir, const ViTConfig& config) {
  WeightMap w = normalize_tensor_names(read_checkpoint_tensors(dir), {"vit."}, [](std::string_view n) {
    return n.starts_with("pooler.") || n.starts_with("classifier.") || n.ends_with("position_ids");
  });
  detail::reshape_conv2d_weight(w, "embeddings.patch_embeddings.projection.weight", config.hidden, config.channels,
                                config.patch_size);
  return w;
}

}  // namespace accelbench
