#pragma once

// LLaVA's and LLaVA-NeXT's configuration (transformers' LlavaConfig and
// LlavaNextConfig): a CLIP vision tower, the multimodal projector and a
// Llama, Qwen2 or Mistral decoder; LLaVA-NeXT also tiles an image of any
// size (image_grid_pinpoints) and packs the tiles' features with an
// image-newline embedding. Presets, validation, the layout of an image's
// features, tensor shapes, FLOPs and reading a checkpoint folder; the model
// is in llava.hpp.

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clip_config.hpp"
#include "common/activation.hpp"
#include "common/checkpoint.hpp"
#include "common/clip_vision.hpp"
#include "common/config_json.hpp"
#include "common/generative_config.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"
#include "llama.hpp"

namespace accelbench {

/// Where one image's features go (LLaVA-NeXT's any-resolution layout):
/// the image is covered by a grid of tiles at the tower's size (besides the
/// base image, resized whole), the tiles' patch features form a grid of
/// rows x cols after the padding is cropped away, and each row ends with the
/// image-newline embedding. For LLaVA: one tile, the base image.
struct LlavaImageLayout {
  int tile_rows = 0, tile_cols = 0;  ///< NeXT: the grid of tiles besides the base image
  int rows = 0, cols = 0;            ///< NeXT: the feature grid kept after unpadding
  int row_offset = 0, col_offset = 0;  ///< NeXT: its first row and column in the padded grid
  int tokens = 0;                    ///< features (and image tokens) of the image
  [[nodiscard]] int tiles() const noexcept { return 1 + tile_rows * tile_cols; }
};

/// LlavaForConditionalGeneration's (LlavaNextForConditionalGeneration's)
/// dimensions and choices.
struct LlavaConfig {
  std::string name;
  std::string architecture = "llava";  ///< "llava" or "llava_next"
  ClipVisionConfig vision;
  GenerativeConfig text;  ///< the decoder: architecture "llama", "qwen2" or "mistral"
  /// The prompt's placeholder token: each sequence holds image_tokens() of
  /// them in one run, replaced by the image's projected features.
  int image_token_id = 32000;
  /// The vision tower's hidden states that are projected: hidden_states[k]
  /// (0: the embeddings, k: after k layers; negative from the end, -1 the last).
  int feature_layer = -2;
  /// vision_feature_select_strategy "full": every token of the layer;
  /// "default" (false): the class token dropped.
  bool full_features = false;
  Activation projector_activation = Activation::gelu;
  bool projector_bias = true;
  /// LLaVA-NeXT: the resolutions (height, width) an image may be tiled to.
  std::vector<std::array<int, 2>> grid_pinpoints;
  std::vector<std::string> aliases;

  [[nodiscard]] bool any_resolution() const noexcept { return architecture == "llava_next"; }

  /// Layers of the vision tower that run: the rest cannot change the output.
  [[nodiscard]] int vision_layers_run() const noexcept {
    return feature_layer < 0 ? vision.layers + 1 + feature_layer : feature_layer;
  }
  /// Features of one tile: its patches, and the class token with "full".
  [[nodiscard]] int tile_tokens() const noexcept { return full_features ? vision.tokens() : vision.tokens() - 1; }
  /// The layout of an image of height x width pixels (0: the tower's size).
  [[nodiscard]] LlavaImageLayout image_layout(int height = 0, int width = 0) const;
  /// Image tokens of one image in the prompt (features of one image).
  [[nodiscard]] int image_tokens(int height = 0, int width = 0) const { return image_layout(height, width).tokens; }

  [[nodiscard]] TensorShapes tensor_shapes() const;
  [[nodiscard]] std::int64_t parameter_count() const { return shape_parameter_count(tensor_shapes()); }

  /// Encoding `images` images of height x width: the tower's layers that
  /// run and the projector, over every tile.
  [[nodiscard]] double image_flops(int images, int height = 0, int width = 0) const {
    const int tiles = images * image_layout(height, width).tiles();
    const double n = tile_tokens();
    const double vh = vision.hidden;
    const double th = text.hidden;
    return vision.encoder_flops(tiles, vision_layers_run()) + 2.0 * tiles * n * (vh * th + th * th);
  }
};

namespace detail {

/// transformers' select_best_resolution: of the (height, width)
/// resolutions, the one that keeps most of an image of height x width
/// pixels scaled to fit, then wastes least.
[[nodiscard]] inline std::array<int, 2> best_resolution(int height, int width,
                                                        const std::vector<std::array<int, 2>>& resolutions) {
  std::array<int, 2> best{0, 0};
  double most = 0;
  double least_wasted = std::numeric_limits<double>::infinity();
  for (const auto& [h, w] : resolutions) {
    const double scale = std::min(double(w) / width, double(h) / height);
    const double scaled_w = std::trunc(width * scale);
    const double scaled_h = std::trunc(height * scale);
    const double effective = std::min(scaled_w * scaled_h, double(width) * height);
    const double wasted = double(w) * h - effective;
    if (effective > most || (effective == most && wasted < least_wasted)) {
      most = effective;
      least_wasted = wasted;
      best = {h, w};
    }
  }
  return best;
}

/// Python's int(round(x, 7)) for a positive x.
[[nodiscard]] inline int truncate_rounded(double x) { return static_cast<int>(std::round(x * 1e7) / 1e7); }

}  // namespace detail

inline LlavaImageLayout LlavaConfig::image_layout(int height, int width) const {
  LlavaImageLayout l;
  if (!any_resolution()) {
    l.tokens = tile_tokens();
    return l;
  }
  if (height <= 0) height = vision.image_size;
  if (width <= 0) width = vision.image_size;
  // transformers' get_anyres_image_grid_shape, then unpad_image over the
  // grid of the tiles' patches.
  const auto [best_h, best_w] = detail::best_resolution(height, width, grid_pinpoints);
  l.tile_rows = best_h / vision.image_size;
  l.tile_cols = best_w / vision.image_size;
  const int grid_h = l.tile_rows * vision.grid();
  const int grid_w = l.tile_cols * vision.grid();
  l.rows = grid_h;
  l.cols = grid_w;
  if (double(width) / height > double(grid_w) / grid_h) {
    const int kept = detail::truncate_rounded(height * (double(grid_w) / width));
    l.row_offset = (grid_h - kept) / 2;
    l.rows = grid_h - 2 * l.row_offset;
  } else {
    const int kept = detail::truncate_rounded(width * (double(grid_h) / height));
    l.col_offset = (grid_w - kept) / 2;
    l.cols = grid_w - 2 * l.col_offset;
  }
  l.tokens = tile_tokens() + l.rows * (l.cols + 1);
  return l;
}

/// Presets with the dimensions of the published checkpoints, and a tiny one.
[[nodiscard]] inline const std::vector<LlavaConfig>& llava_presets() {
  static const std::vector<LlavaConfig> presets = [] {
    std::vector<LlavaConfig> p;
    LlavaConfig big;
    big.name = "llava-1.5-7b";
    big.vision = {24, 1024, 16, 4096, 14, 336, 3, 1e-5f, Activation::quick_gelu};
    big.text = {.name = big.name, .architecture = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 32,
                .intermediate = 11008, .vocab_size = 32064, .max_positions = 4096, .norm_eps = 1e-5f,
                .rope_theta = 10000.0f, .aliases = {}};
    big.aliases = {"llava-hf/llava-1.5-7b-hf"};
    p.push_back(big);
    // LLaVA's structure at llama-tiny's scale: a 112-pixel image of 64 patches.
    LlavaConfig tiny;
    tiny.name = "llava-tiny";
    tiny.vision = {4, 128, 4, 512, 14, 112, 3, 1e-5f, Activation::quick_gelu};
    tiny.text = {.name = tiny.name, .architecture = "llama", .layers = 4, .hidden = 256, .heads = 8, .kv_heads = 2,
                 .intermediate = 704, .vocab_size = 32064, .max_positions = 2048, .norm_eps = 1e-5f,
                 .rope_theta = 10000.0f, .aliases = {}};
    p.push_back(tiny);
    // llava-v1.6-mistral-7b: llava-1.5's tower, Mistral-7B-Instruct-v0.2
    // (no sliding window, rope_theta 1e6), five tilings up to 672 x 672.
    LlavaConfig next = big;
    next.name = "llava-v1.6-mistral-7b";
    next.architecture = "llava_next";
    next.text = {.name = next.name, .architecture = "mistral", .layers = 32, .hidden = 4096, .heads = 32,
                 .kv_heads = 8, .intermediate = 14336, .vocab_size = 32064, .max_positions = 32768,
                 .norm_eps = 1e-5f, .rope_theta = 1000000.0f, .aliases = {}};
    next.grid_pinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    next.aliases = {"llava-hf/llava-v1.6-mistral-7b-hf"};
    p.push_back(next);
    // LLaVA-NeXT's structure at llava-tiny's scale, a Mistral decoder with
    // a sliding window of 128 (mistral-tiny's).
    LlavaConfig next_tiny = tiny;
    next_tiny.name = "llava-next-tiny";
    next_tiny.architecture = "llava_next";
    next_tiny.text.name = next_tiny.name;
    next_tiny.text.architecture = "mistral";
    next_tiny.text.max_positions = 4096;
    next_tiny.text.sliding_window = 128;
    next_tiny.grid_pinpoints = {{112, 224}, {224, 112}, {224, 224}, {336, 112}, {112, 336}};
    p.push_back(next_tiny);
    for (LlavaConfig& c : p) c.text.functions = &architecture_functions<LlamaArchitecture>;
    return p;
  }();
  return presets;
}

/// Checks that a configuration describes a LLaVA that can be built.
inline void validate_llava_config(const LlavaConfig& c) {
  const auto check = detail::FieldCheck::of_model(c.name);
  detail::validate_clip_vision(check, c.vision);
  if (!LlamaArchitecture::reads(c.text.architecture)) {
    check.fail("text.architecture", "\"" + c.text.architecture + "\"",
               "LLaVA's decoder is one of " + std::string(LlamaArchitecture::names));
  }
  LlamaArchitecture::validate_config(c.text);
  if (c.image_token_id < 0 || c.image_token_id >= c.text.vocab_size) {
    check.fail("image_token_id", std::to_string(c.image_token_id),
               "must be a token of the decoder's vocabulary [0, " + std::to_string(c.text.vocab_size) + ")");
  }
  if (c.architecture != "llava" && c.architecture != "llava_next") {
    check.fail("architecture", "\"" + c.architecture + "\"", "must be \"llava\" or \"llava_next\"");
  }
  if (c.any_resolution()) {
    if (c.grid_pinpoints.empty()) check.fail("grid_pinpoints", "[]", "LLaVA-NeXT tiles an image to one of them");
    for (std::size_t i = 0; i < c.grid_pinpoints.size(); ++i) {
      for (const int side : c.grid_pinpoints[i]) {
        if (side <= 0 || side % c.vision.image_size != 0 || side > (1 << 16)) {
          check.fail("grid_pinpoints[" + std::to_string(i) + "]",
                     "[" + std::to_string(c.grid_pinpoints[i][0]) + ", " + std::to_string(c.grid_pinpoints[i][1]) + "]",
                     "each side must be a positive multiple of the tower's image size (" +
                         std::to_string(c.vision.image_size) + ")");
        }
      }
    }
    if (c.full_features) {
      check.fail("full_features", "true",
                 "LLaVA-NeXT packs the tiles' patches without the class token (vision_feature_select_strategy "
                 "\"default\")");
    }
  } else if (!c.grid_pinpoints.empty()) {
    check.fail("grid_pinpoints", std::to_string(c.grid_pinpoints.size()) + " resolutions", "only LLaVA-NeXT tiles images");
  }
  if (c.feature_layer < -(c.vision.layers + 1) || c.feature_layer > c.vision.layers) {
    check.fail("feature_layer", std::to_string(c.feature_layer),
               "must name one of the vision tower's " + std::to_string(c.vision.layers + 1) +
                   " hidden states (from -" + std::to_string(c.vision.layers + 1) + " to " +
                   std::to_string(c.vision.layers) + ")");
  }
}

/// The tensors the model takes: the vision tower up to the feature layer
/// ("vision_model.*"), the projector ("multi_modal_projector.*") and the
/// decoder under Llama's names.
inline TensorShapes LlavaConfig::tensor_shapes() const {
  TensorShapes s;
  detail::add_clip_vision_shapes(s, vision, vision_layers_run());
  const Eigen::Index vh = vision.hidden;
  const Eigen::Index th = text.hidden;
  s.push_back({"multi_modal_projector.linear_1.weight", {th, vh}});
  if (projector_bias) s.push_back({"multi_modal_projector.linear_1.bias", {1, th}});
  s.push_back({"multi_modal_projector.linear_2.weight", {th, th}});
  if (projector_bias) s.push_back({"multi_modal_projector.linear_2.bias", {1, th}});
  if (any_resolution()) s.push_back({"image_newline", {1, th}});
  for (auto& t : LlamaArchitecture::tensor_shapes(text)) s.push_back(std::move(t));
  return s;
}

/// Deterministic synthetic weights (see synthetic_weights): norm scales near one.
[[nodiscard]] inline WeightMap synthetic_llava_weights(const LlavaConfig& c, std::uint64_t seed) {
  validate_llava_config(c);
  return synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) { return name_contains_any(n, {"norm"}); });
}

/// The top-level fields of a LLaVA config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields llava_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "\"llava\" or \"llava_next\""),
          F::read("vision_config", "the CLIP vision tower's fields (model_type \"clip_vision_model\")"),
          F::read("text_config", "the decoder's fields, as a Llama, Qwen2 or Mistral config.json"),
          F::read("image_token_index", "the image placeholder token (also image_token_id)"),
          F::read("image_token_id", "the image placeholder token (also image_token_index)"),
          F::read("vision_feature_layer", "the vision hidden state projected; a list of layers is refused"),
          F::read("vision_feature_select_strategy", "\"default\" (class token dropped) or \"full\""),
          F::read("projector_hidden_act", "the projector's activation"),
          F::read("multimodal_projector_bias", "biases on the projector's two products"),
          F::read("tie_word_embeddings", "the head is the decoder's token embedding; it decides, not text_config's"),
          F::read("image_grid_pinpoints", "LLaVA-NeXT: the resolutions [height, width] an image is tiled to"),
          F::no_effect("image_seq_length", "the processor's count of image tokens; the model replaces the prompt's")};
}

/// LlavaConfig from a checkpoint's config.json (model_type "llava"); the
/// preset is named after the folder. Every field of the three objects is
/// held to its list: a field that would change the computation and is not
/// implemented is refused by name.
[[nodiscard]] inline LlavaConfig llava_config_from_checkpoint(const std::filesystem::path& dir,
                                                              std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  LlavaConfig m;
  m.architecture = c.text("model_type");
  if (m.architecture != "llava" && m.architecture != "llava_next") {
    c.fail("model_type", "\"" + m.architecture + "\"",
           "the vision-language family reads LLaVA and LLaVA-NeXT checkpoints (\"llava\", \"llava_next\")");
  }
  m.name = checkpoint_name(dir);
  const detail::HfConfigReader v = c.object("vision_config", "LLaVA's config.json has vision_config and text_config");
  v.require_text("model_type", "clip_vision_model", "clip_vision_model", "LLaVA's vision tower here is CLIP's");
  m.vision = detail::read_clip_vision(v);
  v.check_fields(clip_tower_config_fields(false));
  const detail::HfConfigReader t = c.object("text_config", "LLaVA's config.json has vision_config and text_config");
  m.text.name = m.name;
  m.text.architecture = t.text("model_type", "llama");
  if (!LlamaArchitecture::reads(m.text.architecture)) {
    t.fail("model_type", "\"" + m.text.architecture + "\"", "LLaVA's decoder here is one of " + std::string(LlamaArchitecture::names));
  }
  LlamaArchitecture::read_config(t, m.text);
  t.check_fields(LlamaArchitecture::config_fields());
  m.text.functions = &architecture_functions<LlamaArchitecture>;
  m.text.tied_embeddings = c.boolean("tie_word_embeddings", false);
  const bool has_id = c.has("image_token_id");
  const bool has_index = c.has("image_token_index");
  m.image_token_id = has_id ? c.integer("image_token_id") : c.integer("image_token_index", 32000);
  if (has_id && has_index && c.integer("image_token_index") != m.image_token_id) {
    c.fail("image_token_index", std::to_string(c.integer("image_token_index")),
           "differs from image_token_id (" + std::to_string(m.image_token_id) + ")");
  }
  if (c.present("vision_feature_layer") && !c.raw("vision_feature_layer").is_number_integer()) {
    c.fail("vision_feature_layer", c.raw("vision_feature_layer").dump(),
           "only one layer is implemented (a list concatenates several)");
  }
  m.feature_layer = c.integer("vision_feature_layer", -2);
  const std::string strategy = c.text("vision_feature_select_strategy", "default");
  if (strategy != "default" && strategy != "full") {
    c.fail("vision_feature_select_strategy", "\"" + strategy + "\"", "must be \"default\" or \"full\"");
  }
  m.full_features = strategy == "full";
  m.projector_activation =
      detail::read_activation(c, "projector_hidden_act", "gelu", "LLaVA's projector",
                              {Activation::gelu, Activation::gelu_tanh, Activation::relu, Activation::silu,
                               Activation::quick_gelu});
  m.projector_bias = c.boolean("multimodal_projector_bias", true);
  if (m.any_resolution()) {
    const nlohmann::json& pins = c.present("image_grid_pinpoints") ? c.raw("image_grid_pinpoints") : nlohmann::json();
    if (!pins.is_array() || pins.empty()) {
      c.fail("image_grid_pinpoints", c.present("image_grid_pinpoints") ? pins.dump() : "(missing)",
             "LLaVA-NeXT needs the resolutions [[height, width], ...] it tiles images to");
    }
    for (std::size_t i = 0; i < pins.size(); ++i) {
      const auto& p = pins[i];
      if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer()) {
        c.fail("image_grid_pinpoints[" + std::to_string(i) + "]", p.dump(), "expected [height, width] in pixels");
      }
      m.grid_pinpoints.push_back({p[0].get<int>(), p[1].get<int>()});
    }
  } else if (c.has("image_grid_pinpoints")) {
    c.fail("image_grid_pinpoints", c.raw("image_grid_pinpoints").dump(), "LLaVA does not tile images (LLaVA-NeXT does)");
  }
  (void)c.has("image_seq_length");
  c.check_fields(llava_config_fields());
  validate_llava_config(m);
  return m;
}

/// The tensors of a LLaVA checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors llava_unused_tensors() {
  return {unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself"),
          unused_suffix("rotary_emb.inv_freq", "the rotary frequencies older checkpoints store; computed from the rope parameters"),
          unused_prefix("vision_model.post_layernorm.", "pools the class token, which LLaVA does not use")};
}

/// A LLaVA checkpoint's tensors under the names the model takes. transformers
/// 5's save_pretrained writes the Hub's names ("vision_tower.*",
/// "multi_modal_projector.*", "language_model.model.*",
/// "language_model.lm_head.weight"); the Hub's llava-hf checkpoints have
/// "vision_tower.vision_model.*"; the module names of transformers 5
/// ("model.vision_tower.*", "model.language_model.*", "lm_head.weight") are
/// read as well. The vision layers after the feature
/// layer are dropped (they cannot change the output), with the tensors
/// llava_unused_tensors() lists; the patch convolution is reshaped to
/// [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap llava_weights_from_checkpoint(const std::filesystem::path& dir, const LlavaConfig& c) {
  static constexpr std::pair<std::string_view, std::string_view> renames[] = {
      {"model.vision_tower.vision_model.", "vision_model."},
      {"vision_tower.vision_model.", "vision_model."},
      {"model.vision_tower.", "vision_model."},
      {"vision_tower.", "vision_model."},
      {"model.multi_modal_projector.", "multi_modal_projector."},
      {"model.language_model.", "model."},
      {"language_model.model.", "model."},
      {"language_model.lm_head.", "lm_head."},
      {"model.image_newline", "image_newline"}};
  WeightMap stored = read_checkpoint_tensors(dir);
  WeightMap out;
  const UnusedTensors unused = llava_unused_tensors();
  for (const auto& name : stored.names()) {
    std::string n = name;
    for (const auto& [from, to] : renames) {
      if (n.starts_with(from)) {
        n = std::string(to) + n.substr(from.size());
        break;
      }
    }
    bool drop = false;
    for (const auto& u : unused) drop = drop || u.matches(n);
    for (int l = c.vision_layers_run(); l < c.vision.layers && !drop; ++l) {
      drop = n.starts_with(detail::clip_layer_prefix("vision_model", l));
    }
    const HostMatrix& t = stored.at(name);
    HostMatrix m = stored.take(name, t.rows(), t.cols());
    if (!drop) out.insert(n, std::move(m));
  }
  detail::reshape_conv2d_weight(out, "vision_model.embeddings.patch_embedding.weight", c.vision.hidden,
                                c.vision.channels, c.vision.patch_size);
  return out;
}

}  // namespace accelbench
