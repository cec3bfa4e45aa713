#pragma once

// CLIP's configuration: the configuration section of model/clip.hpp (the
// vision and text towers' fields, presets, validation and reading
// config.json), in a file of its own to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/config_json.hpp"
#include "common/encoder_layers.hpp"
#include "common/validate.hpp"

namespace accelbench {

// ---- configuration ----

/// CLIP's image encoder (transformers' CLIPVisionConfig).
struct ClipVisionConfig {
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int patch_size = 0;
  int image_size = 0;
  int channels = 3;
  float layer_norm_eps = 1e-5f;
  Activation activation = Activation::quick_gelu;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int grid() const noexcept { return patch_size > 0 ? image_size / patch_size : 0; }
  /// Tokens of one image: its patches and the class embedding.
  [[nodiscard]] int tokens() const noexcept { return grid() * grid() + 1; }

  /// Floating-point operations of the patch convolution and `layers_run`
  /// layers over `images` images (a multiply-add counts as two): the
  /// projections, feed-forward and attention products.
  [[nodiscard]] double encoder_flops(int images, int layers_run) const noexcept {
    const double n = tokens();
    const double h = hidden;
    const double patch = static_cast<double>(channels) * patch_size * patch_size;
    return 2.0 * images * (n - 1) * patch * h +
           layers_run * (2.0 * images * n * (4.0 * h * h + 2.0 * h * intermediate) + 4.0 * images * n * n * h);
  }
};

/// CLIP's text encoder (transformers' CLIPTextConfig).
struct ClipTextConfig {
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 77;
  float layer_norm_eps = 1e-5f;
  Activation activation = Activation::quick_gelu;
  int bos_token_id = 49406;  ///< <|startoftext|>
  /// <|endoftext|>: the text's embedding is the hidden state at its first
  /// occurrence. 2, as in the configs written before transformers PR
  /// #24773 (openai's among them), means the highest id of the sequence
  /// instead, as transformers still does for such configs.
  int eos_token_id = 49407;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] bool legacy_eos() const noexcept { return eos_token_id == 2; }
};

struct ClipConfig {
  std::string name;
  ClipVisionConfig vision;
  ClipTextConfig text;
  int projection_dim = 512;
  /// logit_scale of synthetic weights: transformers' initial value, log(1 / 0.07).
  float logit_scale_init = 2.6592f;
  std::vector<std::string> aliases;

  /// Parameters of CLIPModel: both towers, both projections and logit_scale.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const auto layer = [](std::int64_t h, std::int64_t i) {
      return 2 * h + 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h);
    };
    const std::int64_t vh = vision.hidden;
    const std::int64_t vision_params = vh + std::int64_t{vision.channels} * vision.patch_size * vision.patch_size * vh +
                                       std::int64_t{vision.tokens()} * vh + 2 * vh +
                                       vision.layers * layer(vh, vision.intermediate) + 2 * vh;
    const std::int64_t th = text.hidden;
    const std::int64_t text_params = (std::int64_t{text.vocab_size} + text.max_positions) * th +
                                     text.layers * layer(th, text.intermediate) + 2 * th;
    return vision_params + text_params + std::int64_t{projection_dim} * (vh + th) + 1;
  }

  /// Floating-point operations of encoding `images` images, and of encoding
  /// `texts` texts of `text_length` tokens (a multiply-add counts as two):
  /// the matrix products of the patch convolution, projections, feed-forward,
  /// attention and output projection.
  [[nodiscard]] double image_flops(int images) const noexcept {
    return vision.encoder_flops(images, vision.layers) + 2.0 * images * vision.hidden * projection_dim;
  }
  [[nodiscard]] double text_flops(int texts, int text_length) const noexcept {
    const double n = text_length;
    const double h = text.hidden;
    return text.layers * (2.0 * texts * n * (4.0 * h * h + 2.0 * h * text.intermediate) + 4.0 * texts * n * n * h) +
           2.0 * texts * h * projection_dim;
  }
  [[nodiscard]] double similarity_flops(int images, int texts) const noexcept {
    return 2.0 * images * texts * projection_dim;
  }
  /// All three for `batch` images and `batch` texts of the longest length.
  [[nodiscard]] double flops(int batch) const noexcept {
    return image_flops(batch) + text_flops(batch, text.max_positions) + similarity_flops(batch, batch);
  }
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<ClipConfig>& clip_presets() {
  static const std::vector<ClipConfig> presets = {
      {"clip-vit-base-patch32",
       {12, 768, 12, 3072, 32, 224, 3, 1e-5f, Activation::quick_gelu},
       {12, 512, 8, 2048, 49408, 77, 1e-5f, Activation::quick_gelu, 49406, 49407},
       512,
       2.6592f,
       {"openai/clip-vit-base-patch32"}},
  };
  return presets;
}

namespace detail {

/// Checks the vision tower's fields ("vision.*" of `check`'s model).
inline void validate_clip_vision(const FieldCheck& check, const ClipVisionConfig& v) {
  check.positive("vision.layers", v.layers);
  check.positive("vision.hidden", v.hidden);
  check.positive("vision.heads", v.heads);
  check.positive("vision.intermediate", v.intermediate);
  check.positive("vision.patch_size", v.patch_size);
  check.positive("vision.image_size", v.image_size);
  check.positive("vision.channels", v.channels);
  check.divides("vision.heads", v.heads, v.hidden);
  if (v.image_size % v.patch_size != 0) {
    check.fail("vision.image_size", std::to_string(v.image_size),
               "must be a multiple of patch_size (" + std::to_string(v.patch_size) + ")");
  }
  check.positive("vision.layer_norm_eps", v.layer_norm_eps);
}

inline void validate_clip_text(const FieldCheck& check, const ClipTextConfig& t) {
  check.positive("text.layers", t.layers);
  check.positive("text.hidden", t.hidden);
  check.positive("text.heads", t.heads);
  check.positive("text.intermediate", t.intermediate);
  check.positive("text.vocab_size", t.vocab_size);
  check.positive("text.max_positions", t.max_positions);
  check.divides("text.heads", t.heads, t.hidden);
  check.positive("text.layer_norm_eps", t.layer_norm_eps);
}

}  // namespace detail

/// Checks that a configuration describes a CLIP that can be built.
inline void validate_clip_config(const ClipConfig& c) {
  const detail::FieldCheck check(c.name);
  detail::validate_clip_vision(check, c.vision);
  detail::validate_clip_text(check, c.text);
  check.positive("projection_dim", c.projection_dim);
}


/// The top-level fields of a CLIP config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields clip_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"clip\""),
          F::read("text_config", "the text tower's fields (below)"),
          F::read("vision_config", "the vision tower's fields (below)"),
          F::read("projection_dim", "width of the shared embedding space"),
          F::no_effect("logit_scale_init_value", "the initial logit_scale; a checkpoint stores logit_scale itself")};
}

namespace detail {

inline Activation clip_activation(const HfConfigReader& r) {
  return read_activation(r, "hidden_act", "quick_gelu", "CLIP", {Activation::quick_gelu, Activation::gelu});
}

/// A CLIPVisionConfig object (CLIP's vision_config, LLaVA's), missing
/// fields at CLIPVisionConfig's defaults; its fields are checked by the caller
/// (clip_tower_config_fields(false)).
inline ClipVisionConfig read_clip_vision(const HfConfigReader& v) {
  ClipVisionConfig out;
  out.layers = v.integer("num_hidden_layers", 12);
  out.hidden = v.integer("hidden_size", 768);
  out.heads = v.integer("num_attention_heads", 12);
  out.intermediate = v.integer("intermediate_size", 3072);
  out.patch_size = v.integer("patch_size", 32);
  out.image_size = v.integer("image_size", 224);
  out.channels = v.integer("num_channels", 3);
  out.layer_norm_eps = v.number("layer_norm_eps", 1e-5f);
  out.activation = clip_activation(v);
  return out;
}

/// A CLIPTextConfig object's dimensions (CLIP's text_config, X-CLIP's),
/// missing fields at CLIPTextConfig's defaults; the special tokens are the
/// caller's, and so is the check of its fields.
inline ClipTextConfig read_clip_text(const HfConfigReader& t) {
  ClipTextConfig out;
  out.layers = t.integer("num_hidden_layers", 12);
  out.hidden = t.integer("hidden_size", 512);
  out.heads = t.integer("num_attention_heads", 8);
  out.intermediate = t.integer("intermediate_size", 2048);
  out.vocab_size = t.integer("vocab_size", 49408);
  out.max_positions = t.integer("max_position_embeddings", 77);
  out.layer_norm_eps = t.number("layer_norm_eps", 1e-5f);
  out.activation = clip_activation(t);
  return out;
}

}  // namespace detail

/// The fields of CLIP's text_config (`text`) or vision_config.
[[nodiscard]] inline ConfigFields clip_tower_config_fields(bool text) {
  using F = ConfigField;
  ConfigFields f = {
      F::read("hidden_act", "the feed-forward activation: \"quick_gelu\" or the erf \"gelu\""),
      F::read("num_hidden_layers", "layers"),
      F::read("hidden_size", "width"),
      F::read("num_attention_heads", "attention heads"),
      F::read("intermediate_size", "feed-forward width"),
      F::read("layer_norm_eps", "LayerNorm epsilon"),
      F::no_effect("model_type", "names the tower's class"),
      F::no_effect("is_decoder", "older configs' default; each tower's class decides its attention"),
      F::no_effect("is_encoder_decoder", "older configs' default; each tower's class decides its attention"),
      F::no_effect("add_cross_attention", "older configs' default; CLIP's towers have no cross-attention"),
      F::no_effect("cross_attention_hidden_size", "older configs' default; CLIP's towers have no cross-attention"),
      F::no_effect("tie_word_embeddings", "older configs' default; CLIP's towers have no LM head"),
      F::no_effect("projection_dim", "used by the towers' own *WithProjection classes; CLIPModel takes the top-level one")};
  if (text) {
    f.push_back(F::read("vocab_size", "rows of the token embedding"));
    f.push_back(F::read("max_position_embeddings", "rows of the position embedding"));
    f.push_back(F::read("bos_token_id", "the start token of the synthetic sequences"));
    f.push_back(F::read("eos_token_id", "the end token, whose hidden state is pooled"));
  } else {
    f.push_back(F::read("patch_size", "side of a square patch"));
    f.push_back(F::read("image_size", "side of the square image the position embedding is for"));
    f.push_back(F::read("num_channels", "image channels"));
  }
  return f;
}

/// ClipConfig from a checkpoint's config.json (model_type "clip", with
/// text_config and vision_config objects); the preset is named after the
/// folder. Fields missing from those objects take transformers' defaults
/// (CLIPTextConfig, CLIPVisionConfig), as transformers does.
[[nodiscard]] inline ClipConfig clip_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "clip", "the multimodal family reads CLIP checkpoints (\"clip\")");
  ClipConfig m;
  m.name = checkpoint_name(dir);
  const detail::HfConfigReader v = c.object("vision_config", "CLIP's config.json has text_config and vision_config");
  m.vision = detail::read_clip_vision(v);
  const detail::HfConfigReader t = c.object("text_config", "CLIP's config.json has text_config and vision_config");
  m.text = detail::read_clip_text(t);
  m.text.bos_token_id = t.integer("bos_token_id", 49406);
  m.text.eos_token_id = t.integer("eos_token_id", 49407);
  m.projection_dim = c.integer("projection_dim", 512);
  m.logit_scale_init = c.number("logit_scale_init_value", 2.6592f);
  c.check_fields(clip_config_fields());
  v.check_fields(clip_tower_config_fields(false));
  t.check_fields(clip_tower_config_fields(true));
  validate_clip_config(m);
  return m;
}

}  // namespace accelbench
