#pragma once

// DETR's dimensions (transformers' DetrConfig with its own ResNet backbone,
// ResNetConfig), presets, the tensors of DetrForObjectDetection, synthetic
// weights and the reading of Hugging Face checkpoints. The model is in
// detr.hpp.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

/// transformers' ResNet as a backbone (ResNetBackbone): a 7x7 stride-2 stem
/// with max pooling, then stages of bottleneck (1x1, 3x3, 1x1) or basic
/// (3x3, 3x3) residual layers; every convolution is followed by a batch norm,
/// frozen in DETR and folded into the convolution when the model is loaded.
struct ResNetConfig {
  int channels = 3;
  int embedding = 64;                         ///< the stem's output channels (embedding_size)
  std::vector<int> widths{256, 512, 1024, 2048};  ///< each stage's output channels (hidden_sizes)
  std::vector<int> depths{3, 4, 6, 3};          ///< layers per stage
  bool bottleneck = true;                     ///< layer_type "bottleneck", else "basic"
  bool downsample_in_first_stage = false;     ///< the first stage strides by 2
  bool downsample_in_bottleneck = false;      ///< the stride on the first 1x1 convolution, not the 3x3

  [[nodiscard]] int stages() const noexcept { return static_cast<int>(widths.size()); }
  [[nodiscard]] int out_channels() const noexcept { return widths.empty() ? 0 : widths.back(); }
  /// The stride of stage s's first layer.
  [[nodiscard]] int stage_stride(int s) const noexcept { return s == 0 && !downsample_in_first_stage ? 1 : 2; }
};

/// DetrForObjectDetection: the ResNet backbone, a 1x1 input projection, the
/// 2-D sine position embedding, a post-norm encoder over the feature map's
/// pixels, a post-norm decoder over num_queries object queries, the class
/// head and the three-layer box head.
struct DetrConfig {
  std::string name;
  ResNetConfig backbone;
  int d_model = 256;
  int encoder_layers = 6;
  int decoder_layers = 6;
  int encoder_heads = 8;
  int decoder_heads = 8;
  int encoder_ffn = 2048;
  int decoder_ffn = 2048;
  int num_queries = 100;
  int num_labels = 91;  ///< object classes; the class head has one more, "no object"
  Activation activation = Activation::relu;
  bool auxiliary_loss = false;  ///< the decoder's layernorm after every layer, as transformers applies it
  int image_height = 800;       ///< the benchmark's default image (a 4:3 image resized as DETR's processor does)
  int image_width = 1066;
  std::vector<std::string> aliases;

  [[nodiscard]] int layers() const noexcept { return encoder_layers + decoder_layers; }
  /// The feature map's side for an image side of `pixels`: the stem halves
  /// it twice (convolution, max pooling), each strided stage once more.
  [[nodiscard]] int feature_side(int pixels) const noexcept {
    int s = (pixels + 2 * 3 - 7) / 2 + 1;
    s = (s + 2 - 3) / 2 + 1;
    for (int i = 0; i < backbone.stages(); ++i) {
      if (backbone.stage_stride(i) == 2) s = (s + 2 - 3) / 2 + 1;  // 3x3 (or 1x1) with padding k / 2
    }
    return s;
  }
  /// The encoder's tokens for an image of height x width pixels.
  [[nodiscard]] std::int64_t tokens(int height, int width) const noexcept {
    return std::int64_t{feature_side(height)} * feature_side(width);
  }

  [[nodiscard]] std::int64_t parameter_count() const noexcept;
  [[nodiscard]] double flops(int batch, int height, int width) const noexcept;
  [[nodiscard]] std::uint64_t activation_bytes(int batch, int height, int width) const noexcept;
};

/// One convolution of the backbone with its frozen batch norm: the names of
/// its tensors (prefix + "convolution.weight", prefix + "normalization.*").
struct ResNetConv {
  std::string prefix;
  int in = 0;
  int out = 0;
  int kernel = 1;
  int stride = 1;
  bool relu = true;  ///< followed by the activation
};

/// One residual layer: its convolutions in order, and the projection
/// shortcut (empty prefix: the identity).
struct ResNetLayer {
  std::vector<ResNetConv> convs;
  ResNetConv shortcut;
};

namespace detail {

/// The backbone's stem convolution and its residual layers, in order, with
/// the names transformers gives them under "model.backbone.model.".
inline std::pair<ResNetConv, std::vector<ResNetLayer>> resnet_plan(const ResNetConfig& r) {
  const std::string root = "model.backbone.model.";
  ResNetConv stem{root + "embedder.embedder.", r.channels, r.embedding, 7, 2, true};
  std::vector<ResNetLayer> layers;
  int in = r.embedding;
  for (int s = 0; s < r.stages(); ++s) {
    const int out = r.widths[static_cast<std::size_t>(s)];
    for (int l = 0; l < r.depths[static_cast<std::size_t>(s)]; ++l) {
      const int stride = l == 0 ? r.stage_stride(s) : 1;
      const std::string p = root + "encoder.stages." + std::to_string(s) + ".layers." + std::to_string(l) + ".";
      ResNetLayer L;
      if (in != out || stride != 1) L.shortcut = {p + "shortcut.", in, out, 1, stride, false};
      if (r.bottleneck) {
        const int mid = out / 4;
        const bool first = r.downsample_in_bottleneck;
        L.convs = {{p + "layer.0.", in, mid, 1, first ? stride : 1, true},
                   {p + "layer.1.", mid, mid, 3, first ? 1 : stride, true},
                   {p + "layer.2.", mid, out, 1, 1, false}};
      } else {
        L.convs = {{p + "layer.0.", in, out, 3, stride, true}, {p + "layer.1.", out, out, 3, 1, false}};
      }
      layers.push_back(std::move(L));
      in = out;
    }
  }
  return {stem, layers};
}

inline void add_resnet_conv_shapes(TensorShapes& s, const ResNetConv& c) {
  s.push_back({c.prefix + "convolution.weight", {c.out, Eigen::Index{c.in} * c.kernel * c.kernel}});
  for (const char* n : {"weight", "bias", "running_mean", "running_var"}) {
    s.push_back({c.prefix + "normalization." + n, {1, c.out}});
  }
}

inline std::string detr_layer_prefix(bool encoder, int i) {
  return std::string(encoder ? "model.encoder.layers." : "model.decoder.layers.") + std::to_string(i) + ".";
}

inline void add_detr_attention_shapes(TensorShapes& s, const std::string& p, Eigen::Index d) {
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
    s.push_back({p + n + ".weight", {d, d}});
    s.push_back({p + n + ".bias", {1, d}});
  }
}

inline void add_layer_norm_shapes(TensorShapes& s, const std::string& p, Eigen::Index d) {
  s.push_back({p + ".weight", {1, d}});
  s.push_back({p + ".bias", {1, d}});
}

}  // namespace detail

/// The shape of every tensor of a DetrForObjectDetection by its name in
/// transformers 5 (the frozen batch norms' four vectors included); convolution
/// weights as [out, in * kernel * kernel].
inline TensorShapes detr_tensor_shapes(const DetrConfig& c) {
  using detail::add_layer_norm_shapes;
  TensorShapes s;
  const auto [stem, layers] = detail::resnet_plan(c.backbone);
  detail::add_resnet_conv_shapes(s, stem);
  for (const auto& L : layers) {
    for (const auto& conv : L.convs) detail::add_resnet_conv_shapes(s, conv);
    if (!L.shortcut.prefix.empty()) detail::add_resnet_conv_shapes(s, L.shortcut);
  }
  const Eigen::Index d = c.d_model;
  s.push_back({"model.input_projection.weight", {d, c.backbone.out_channels()}});
  s.push_back({"model.input_projection.bias", {1, d}});
  s.push_back({"model.query_position_embeddings.weight", {c.num_queries, d}});
  const auto mlp = [&](const std::string& p, Eigen::Index ffn) {
    s.push_back({p + "mlp.fc1.weight", {ffn, d}});
    s.push_back({p + "mlp.fc1.bias", {1, ffn}});
    s.push_back({p + "mlp.fc2.weight", {d, ffn}});
    s.push_back({p + "mlp.fc2.bias", {1, d}});
  };
  for (int l = 0; l < c.encoder_layers; ++l) {
    const std::string p = detail::detr_layer_prefix(true, l);
    detail::add_detr_attention_shapes(s, p + "self_attn.", d);
    add_layer_norm_shapes(s, p + "self_attn_layer_norm", d);
    mlp(p, c.encoder_ffn);
    add_layer_norm_shapes(s, p + "final_layer_norm", d);
  }
  for (int l = 0; l < c.decoder_layers; ++l) {
    const std::string p = detail::detr_layer_prefix(false, l);
    detail::add_detr_attention_shapes(s, p + "self_attn.", d);
    add_layer_norm_shapes(s, p + "self_attn_layer_norm", d);
    detail::add_detr_attention_shapes(s, p + "encoder_attn.", d);
    add_layer_norm_shapes(s, p + "encoder_attn_layer_norm", d);
    mlp(p, c.decoder_ffn);
    add_layer_norm_shapes(s, p + "final_layer_norm", d);
  }
  add_layer_norm_shapes(s, "model.decoder.layernorm", d);
  s.push_back({"class_labels_classifier.weight", {c.num_labels + 1, d}});
  s.push_back({"class_labels_classifier.bias", {1, c.num_labels + 1}});
  for (int i = 0; i < 3; ++i) {
    const Eigen::Index out = i == 2 ? 4 : d;
    s.push_back({"bbox_predictor.layers." + std::to_string(i) + ".weight", {out, d}});
    s.push_back({"bbox_predictor.layers." + std::to_string(i) + ".bias", {1, out}});
  }
  return s;
}

namespace detail {
/// A frozen batch norm's vectors: buffers in transformers, not parameters.
[[nodiscard]] inline bool is_batch_norm_tensor(std::string_view name) noexcept {
  return name.find(".normalization.") != std::string_view::npos;
}
}  // namespace detail

/// Parameters as transformers counts them (num_parameters()): the frozen
/// batch norms' weights, biases and statistics are buffers, left out.
inline std::int64_t DetrConfig::parameter_count() const noexcept {
  std::int64_t n = 0;
  for (const auto& [name, shape] : detr_tensor_shapes(*this)) {
    if (!detail::is_batch_norm_tensor(name)) n += shape[0] * shape[1];
  }
  return n;
}

/// Floating-point operations of one forward pass (a multiply-add counts as
/// two): every convolution of the backbone, the input projection, the
/// encoder's and decoder's projections, feed-forwards and attention products,
/// and the heads. Element-wise work is left out.
inline double DetrConfig::flops(int batch, int height, int width) const noexcept {
  double total = 0;
  int h = (height + 6 - 7) / 2 + 1;
  int w = (width + 6 - 7) / 2 + 1;
  const auto conv = [&](const ResNetConv& c, int in_h, int in_w) {
    const int pad = c.kernel / 2;
    const int oh = (in_h + 2 * pad - c.kernel) / c.stride + 1;
    const int ow = (in_w + 2 * pad - c.kernel) / c.stride + 1;
    total += 2.0 * batch * oh * ow * c.out * double(c.in) * c.kernel * c.kernel;
    return std::pair{oh, ow};
  };
  const auto [stem, layers] = detail::resnet_plan(backbone);
  total += 2.0 * batch * h * w * stem.out * double(stem.in) * 49;
  h = (h + 2 - 3) / 2 + 1;
  w = (w + 2 - 3) / 2 + 1;
  for (const auto& L : layers) {
    int lh = h, lw = w;
    for (const auto& c : L.convs) std::tie(lh, lw) = conv(c, lh, lw);
    if (!L.shortcut.prefix.empty()) (void)conv(L.shortcut, h, w);
    h = lh;
    w = lw;
  }
  const double n = double(h) * w;
  const double q = num_queries;
  const double d = d_model;
  total += 2.0 * batch * n * backbone.out_channels() * d;
  total += encoder_layers * 2.0 * batch * (n * (4 * d * d + 2 * d * encoder_ffn) + 2 * n * n * d);
  const double self_attention = q * 4 * d * d + 2 * q * q * d;
  const double cross = 2 * q * d * d + 2 * n * d * d + 2 * q * n * d;
  total += decoder_layers * 2.0 * batch * (self_attention + cross + 2 * q * d * decoder_ffn);
  total += 2.0 * batch * q * (d * (num_labels + 1) + 2 * d * d + 4 * d);
  return total;
}

/// Bytes of a forward pass's activations: the pixels, the largest pair of
/// backbone maps with a bottleneck's scratch (the stem's output is the
/// largest map), the encoder's [tokens, d_model] tensors (hidden, position
/// rows, queries and keys' input, q, k, v, context, attention output,
/// feed-forward) and the decoder's, with the heads.
inline std::uint64_t DetrConfig::activation_bytes(int batch, int height, int width) const noexcept {
  using detail::saturating_product, detail::saturating_sum;
  const std::int64_t stem_h = (height + 6 - 7) / 2 + 1;
  const std::int64_t stem_w = (width + 6 - 7) / 2 + 1;
  const std::int64_t pooled = ((stem_h + 2 - 3) / 2 + 1) * ((stem_w + 2 - 3) / 2 + 1);
  const std::int64_t first = backbone.widths.empty() ? 0 : backbone.widths.front();
  const std::int64_t largest_map = std::max(stem_h * stem_w * backbone.embedding, pooled * first);
  const std::int64_t n = tokens(height, width);
  const std::uint64_t floats = saturating_sum(
      saturating_product(batch, backbone.channels, height, width), saturating_product(batch, largest_map, 4),
      saturating_product(batch, n, 9 * std::int64_t{d_model} + encoder_ffn),
      saturating_product(batch, num_queries, 12 * std::int64_t{d_model} + decoder_ffn + num_labels + 5));
  return saturating_product(floats, sizeof(float));
}

/// Presets: detr-resnet-50 (facebook/detr-resnet-50's dimensions: ResNet-50,
/// six encoder and six decoder layers of width 256, 100 queries, COCO's 91
/// label ids) and detr-tiny (a small ResNet and transformer for quick runs).
inline const std::vector<DetrConfig>& detr_presets() {
  static const std::vector<DetrConfig> presets = [] {
    DetrConfig big;
    big.name = "detr-resnet-50";
    big.aliases = {"facebook/detr-resnet-50"};
    DetrConfig tiny;
    tiny.name = "detr-tiny";
    tiny.backbone.embedding = 16;
    tiny.backbone.widths = {64, 128, 256, 512};
    tiny.backbone.depths = {1, 1, 1, 1};
    tiny.d_model = 64;
    tiny.encoder_layers = 2;
    tiny.decoder_layers = 2;
    tiny.encoder_heads = 4;
    tiny.decoder_heads = 4;
    tiny.encoder_ffn = 128;
    tiny.decoder_ffn = 128;
    tiny.num_queries = 20;
    tiny.image_height = 224;
    tiny.image_width = 288;
    return std::vector<DetrConfig>{big, tiny};
  }();
  return presets;
}

/// Checks that a configuration describes a DETR that can be built.
inline void validate_detr_config(const DetrConfig& c) {
  const detail::FieldCheck check(c.name);
  const ResNetConfig& r = c.backbone;
  check.positive("backbone.channels", r.channels);
  check.positive("backbone.embedding", r.embedding);
  if (r.widths.empty() || r.widths.size() != r.depths.size()) {
    check.fail("backbone.widths", std::to_string(r.widths.size()) + " stages",
               "must be one or more, as many as backbone.depths (" + std::to_string(r.depths.size()) + ")");
  }
  for (std::size_t s = 0; s < r.widths.size(); ++s) {
    check.positive("backbone.widths[" + std::to_string(s) + "]", r.widths[s]);
    check.positive("backbone.depths[" + std::to_string(s) + "]", r.depths[s]);
    if (r.bottleneck && r.widths[s] % 4 != 0) {
      check.fail("backbone.widths[" + std::to_string(s) + "]", std::to_string(r.widths[s]),
                 "must be a multiple of 4: a bottleneck layer narrows to a quarter");
    }
  }
  check.positive("d_model", c.d_model);
  check.positive("encoder_layers", c.encoder_layers);
  check.positive("decoder_layers", c.decoder_layers);
  check.positive("encoder_heads", c.encoder_heads);
  check.positive("decoder_heads", c.decoder_heads);
  check.divides("encoder_heads", c.encoder_heads, c.d_model);
  check.divides("decoder_heads", c.decoder_heads, c.d_model);
  check.positive("encoder_ffn", c.encoder_ffn);
  check.positive("decoder_ffn", c.decoder_ffn);
  check.positive("num_queries", c.num_queries);
  check.positive("num_labels", c.num_labels);
  if (c.d_model % 4 != 0) {
    check.fail("d_model", std::to_string(c.d_model), "must be a multiple of 4: the sine position embedding splits it into "
                                                     "sine and cosine halves for y and x");
  }
  check.positive("image_height", c.image_height);
  check.positive("image_width", c.image_width);
}

/// Deterministic synthetic weights (see synthetic_weights), with the
/// backbone's convolutions drawn with standard deviation sqrt(2 / fan-in)
/// (He's initialisation) so that the feature maps keep their scale through
/// the ResNet, and every batch norm near the identity.
inline WeightMap synthetic_detr_weights(const DetrConfig& c, std::uint64_t seed) {
  validate_detr_config(c);
  WeightMap w;
  for (const auto& [name, shape] : detr_tensor_shapes(c)) {
    const std::string_view n = name;
    float mean = 0.0f, stddev = 0.02f;
    if (n.ends_with("convolution.weight")) {
      stddev = std::sqrt(2.0f / static_cast<float>(shape[1]));
    } else if (n.ends_with("running_var") || (name_contains_any(n, {"norm"}) && n.ends_with(".weight"))) {
      mean = 1.0f;
      stddev = 0.01f;
    } else if (n.ends_with(".bias") || n.ends_with("running_mean")) {
      stddev = 0.01f;
    }
    w.insert(name, synthetic_tensor(name, shape[0], shape[1], seed, mean, stddev));
  }
  return w;
}

}  // namespace accelbench
