#pragma once

// LLaVA's configuration (transformers' LlavaConfig): a CLIP vision tower,
// the multimodal projector and a Llama, Qwen2 or Mistral decoder. Presets,
// validation, tensor shapes, FLOPs and reading a checkpoint folder; the
// model is in llava.hpp.

#include <cstdint>
#include <filesystem>
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

/// LlavaForConditionalGeneration's dimensions and choices.
struct LlavaConfig {
  std::string name;
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
  std::vector<std::string> aliases;

  /// Layers of the vision tower that run: the rest cannot change the output.
  [[nodiscard]] int vision_layers_run() const noexcept {
    return feature_layer < 0 ? vision.layers + 1 + feature_layer : feature_layer;
  }
  /// Image tokens of one image in the prompt (features of one image).
  [[nodiscard]] int image_tokens() const noexcept { return full_features ? vision.tokens() : vision.tokens() - 1; }

  [[nodiscard]] TensorShapes tensor_shapes() const;
  [[nodiscard]] std::int64_t parameter_count() const { return shape_parameter_count(tensor_shapes()); }

  /// Encoding `images` images: the tower's layers that run and the projector.
  [[nodiscard]] double image_flops(int images) const noexcept {
    const double n = image_tokens();
    const double vh = vision.hidden;
    const double th = text.hidden;
    return vision.encoder_flops(images, vision_layers_run()) + 2.0 * images * n * (vh * th + th * th);
  }
};

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
  return {F::read("model_type", "must be \"llava\""),
          F::read("vision_config", "the CLIP vision tower's fields (model_type \"clip_vision_model\")"),
          F::read("text_config", "the decoder's fields, as a Llama, Qwen2 or Mistral config.json"),
          F::read("image_token_index", "the image placeholder token (also image_token_id)"),
          F::read("image_token_id", "the image placeholder token (also image_token_index)"),
          F::read("vision_feature_layer", "the vision hidden state projected; a list of layers is refused"),
          F::read("vision_feature_select_strategy", "\"default\" (class token dropped) or \"full\""),
          F::read("projector_hidden_act", "the projector's activation"),
          F::read("multimodal_projector_bias", "biases on the projector's two products"),
          F::read("tie_word_embeddings", "the head is the decoder's token embedding; it decides, not text_config's"),
          F::no_effect("image_seq_length", "the processor's count of image tokens; the model replaces the prompt's")};
}

/// LlavaConfig from a checkpoint's config.json (model_type "llava"); the
/// preset is named after the folder. Every field of the three objects is
/// held to its list: a field that would change the computation and is not
/// implemented is refused by name.
[[nodiscard]] inline LlavaConfig llava_config_from_checkpoint(const std::filesystem::path& dir,
                                                              std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "llava", "the vision-language family reads LLaVA checkpoints (\"llava\")");
  LlavaConfig m;
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
      {"language_model.lm_head.", "lm_head."}};
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
