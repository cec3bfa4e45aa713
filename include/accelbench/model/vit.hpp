#pragma once

// The Vision Transformer (Dosovitskiy et al., 2020) as in Hugging Face
// transformers' ViTModel (without its pooler): a patch embedding (a
// convolution with kernel = stride = patch size), a class token before the
// patches, learned position embeddings, pre-norm encoder layers with erf
// GELU (q/k/v biases or, with qkv_bias false, none), and a final
// LayerNorm. The forward pass is written once over the backend's
// PerceptionOps. Images of another size than the checkpoint's get
// position embeddings interpolated as transformers' interpolate_pos_encoding
// does (bicubic, align_corners=False), on the host when a batch is prepared.
//
// The pieces CLIP shares with ViT are in common/: the pre-norm encoder layer
// and learned positions (encoder_layers.hpp), images and the position
// interpolation (images.hpp).

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/precision.hpp"
#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/encoder_layers.hpp"
#include "common/images.hpp"
#include "common/upload.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

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
  bool qkv_bias = true;  ///< biases on the query, key and value projections (ViTConfig's qkv_bias)
  std::vector<std::string> aliases;  ///< other names of the preset, e.g. the Hugging Face id
  /// The encoder layers' linear weights' precision (Config::precision):
  /// fp32, or bf16 / fp16 on a backend with HasWeightPrecision; the patch
  /// embedding, positions and norms stay fp32.
  Precision weight_precision = Precision::fp32;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  /// Patches per side of a square image of `size` pixels.
  [[nodiscard]] int grid(int size) const noexcept { return patch_size > 0 ? size / patch_size : 0; }
  /// Tokens of one image of `size` pixels: its patches and the class token.
  [[nodiscard]] int tokens(int size) const noexcept { return grid(size) * grid(size) + 1; }

  /// Parameters of ViTModel without its pooler: embeddings (class token,
  /// positions of the checkpoint's image size, patch projection with bias),
  /// the layers (q/k/v biases where qkv_bias) and the final LayerNorm.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const std::int64_t h = hidden;
    const std::int64_t i = intermediate;
    const std::int64_t patch = std::int64_t{channels} * patch_size * patch_size;
    const std::int64_t embeddings = h + std::int64_t{tokens(image_size)} * h + (h * patch + h);
    const std::int64_t layer = 2 * h + 4 * (h * h) + (qkv_bias ? 4 : 1) * h + 2 * h + (h * i + i) + (i * h + h);
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
    using detail::saturating_product, detail::saturating_sum;
    const std::int64_t side = size / std::max(patch_size, 1);
    const std::int64_t n = side * side + 1;  // the patches and the class token
    const std::uint64_t floats = saturating_sum(
        saturating_product(batch, channels, size, size), saturating_product(batch, n - 1, hidden),
        saturating_product(batch, n, 8 * std::int64_t{hidden} + intermediate), saturating_product(batch, hidden),
        size != image_size ? saturating_product(n, hidden) : std::uint64_t{0});
    return saturating_sum(saturating_product(floats, sizeof(float)),
                          saturating_product(saturating_sum(saturating_product(batch, n), saturating_product(batch)),
                                             sizeof(std::int32_t)));
  }
};

/// Presets with the dimensions of the published checkpoints. vit-tiny is
/// ViT-Ti/16 (DeiT-tiny's dimensions), as in WinKawaks/vit-tiny-patch16-224.
inline const std::vector<ViTConfig>& vit_presets() {
  static const std::vector<ViTConfig> presets = {
      {"vit-base-patch16-224", 12, 768, 12, 3072, 16, 224, 3, 1e-12f, true, {"google/vit-base-patch16-224"}},
      {"vit-tiny", 12, 192, 3, 768, 16, 224, 3, 1e-12f, true, {"WinKawaks/vit-tiny-patch16-224"}},
  };
  return presets;
}

/// Checks that a configuration describes a ViT that can be built.
inline void validate_vit_config(const ViTConfig& c) {
  const detail::FieldCheck check(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("patch_size", c.patch_size);
  check.positive("image_size", c.image_size);
  check.positive("channels", c.channels);
  check.divides("heads", c.heads, c.hidden);
  if (c.image_size % c.patch_size != 0) {
    check.fail("image_size", std::to_string(c.image_size),
               "must be a multiple of patch_size (" + std::to_string(c.patch_size) + ")");
  }
  check.positive("layer_norm_eps", c.layer_norm_eps);
}

/// The fields of a ViT config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields vit_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"vit\""),
          F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
          F::read("qkv_bias", "biases on the query, key and value projections, or none"),
          F::read("num_hidden_layers", "layers"),
          F::read("hidden_size", "width"),
          F::read("num_attention_heads", "attention heads"),
          F::read("intermediate_size", "feed-forward width"),
          F::read("patch_size", "side of a square patch"),
          F::read("image_size", "side of the square image the position embedding is for"),
          F::read("num_channels", "image channels"),
          F::read("layer_norm_eps", "LayerNorm epsilon"),
          F::no_effect("encoder_stride", "the decoder of ViTForMaskedImageModeling, not part of ViTModel"),
          F::no_effect("pooler_act", "ViTModel's pooler, whose output the benchmark does not use"),
          F::no_effect("pooler_output_size", "ViTModel's pooler, whose output the benchmark does not use")};
}

/// ViTConfig from a checkpoint's config.json (model_type "vit"); the preset
/// is named after the folder. Square images and patches only and erf GELU,
/// as every published ViT checkpoint has; q/k/v biases or none (qkv_bias).
[[nodiscard]] inline ViTConfig vit_config_from_checkpoint(const std::filesystem::path& dir,
                                                          std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "vit", "the vision family reads ViT checkpoints (\"vit\")");
  (void)detail::read_activation(c, "hidden_act", "gelu", "ViT", {Activation::gelu});
  ViTConfig v;
  v.name = checkpoint_name(dir);
  v.layers = c.integer("num_hidden_layers", 12);
  v.hidden = c.integer("hidden_size", 768);
  v.heads = c.integer("num_attention_heads", 12);
  v.intermediate = c.integer("intermediate_size", 3072);
  v.patch_size = c.integer("patch_size", 16);
  v.image_size = c.integer("image_size", 224);
  v.channels = c.integer("num_channels", 3);
  v.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  v.qkv_bias = c.boolean("qkv_bias", true);
  c.check_fields(vit_config_fields());
  validate_vit_config(v);
  return v;
}

// ---- tensor names and shapes ----

namespace detail {

/// ViTModel's layer (encoder.layer.{i}.*).
inline constexpr PreNormLayerNames vit_layer_names{"layernorm_before",       "attention.attention.query",
                                                   "attention.attention.key", "attention.attention.value",
                                                   "attention.output.dense", "layernorm_after",
                                                   "intermediate.dense",     "output.dense"};


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
    detail::add_pre_norm_layer_shapes(s, detail::vit_layer_prefix(l), detail::vit_layer_names, h, c.intermediate,
                                      c.qkv_bias);
  }
  s.push_back({"layernorm.weight", {1, h}});
  s.push_back({"layernorm.bias", {1, h}});
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): the LayerNorms'
/// scales near one.
inline WeightMap synthetic_vit_weights(const ViTConfig& c, std::uint64_t seed) {
  validate_vit_config(c);
  return synthetic_weights(vit_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"norm"}); });
}

/// The tensors of a ViT checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors vit_unused_tensors() {
  return {unused_prefix("pooler.", "ViTModel's pooler, whose output the vision benchmark does not use: it reports the "
                                   "last hidden states"),
          unused_prefix("classifier.", "the head of ViTForImageClassification, not part of ViTModel"),
          unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A ViT checkpoint's weights under ViTModel's names: the "vit." prefix of
/// task models is removed, the pooler and classifier are dropped, and the
/// patch projection is reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap vit_weights_from_checkpoint(const std::filesystem::path& dir, const ViTConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {"vit."}, vit_unused_tensors());
  detail::reshape_conv2d_weight(w, "embeddings.patch_embeddings.projection.weight", config.hidden, config.channels,
                                config.patch_size);
  return w;
}

// ---- forward entry points ----

/// A ViT whose weights live on backend B.
template <PerceptionOps B>
class ViT {
 public:
  using Config = ViTConfig;
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
    WeightUploader<B> take(backend, weights, tally_, config_.weight_precision);
    cls_ = take("embeddings.cls_token", 1, h);
    position_host_ = take.host("embeddings.position_embeddings", config_.tokens(config_.image_size), h);
    positions_ = backend.upload(position_host_);
    patch_w_ = take("embeddings.patch_embeddings.projection.weight", h, Eigen::Index{config_.channels} * p * p);
    patch_b_ = take("embeddings.patch_embeddings.projection.bias", 1, h);
    layers_.reserve(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      layers_.push_back(
          detail::take_pre_norm_layer<B>(take, detail::vit_layer_prefix(l), detail::vit_layer_names, h, i, config_.qkv_bias));
    }
    norm_g_ = take("layernorm.weight", 1, h);
    norm_b_ = take("layernorm.bias", 1, h);
    take.finish("ViT");
  }

  [[nodiscard]] const ViTConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const ViTConfig& c) { return vit_tensor_shapes(c); }

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
  WeightTally tally_;
};

}  // namespace accelbench
