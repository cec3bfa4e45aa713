#pragma once

// The reading of X-CLIP's Hugging Face checkpoints: config.json (XCLIPConfig
// with text_config and vision_config), every field that changes the
// computation read or refused by name, and the tensors of XCLIPModel.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "clip_config.hpp"
#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "xclip_config.hpp"

namespace accelbench {

/// The top-level fields of an X-CLIP config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields xclip_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"xclip\""),
          F::read("text_config", "the text tower's fields (below)"),
          F::read("vision_config", "the vision tower's and the MIT's fields (below)"),
          F::read("projection_dim", "width of the shared embedding space"),
          F::read("prompt_layers", "layers of the video-specific prompt generator"),
          F::read("prompt_num_attention_heads", "the prompt generator's attention heads"),
          F::read("prompt_hidden_act", "the prompt generator's feed-forward activation"),
          F::no_effect("prompt_alpha", "the initial alpha; a checkpoint stores prompts_generator.alpha itself"),
          F::no_effect("logit_scale_init_value", "the initial logit_scale; a checkpoint stores logit_scale itself")};
}

/// The fields of X-CLIP's text_config (`text`) or vision_config: CLIP's, the
/// vision tower's frames and MIT besides; the text tower pools each text's
/// highest id whatever eos_token_id says (XCLIPTextModel's rule).
[[nodiscard]] inline ConfigFields xclip_tower_config_fields(bool text) {
  using F = ConfigField;
  ConfigFields f = clip_tower_config_fields(text);
  for (auto& field : f) {
    if (field.name == "eos_token_id") {
      field = F::no_effect("eos_token_id", "XCLIPTextModel pools each text's highest id, whatever this says");
    }
    if (field.name == "bos_token_id") field = F::no_effect("bos_token_id", "a tokenizer setting");
  }
  if (!text) {
    f.push_back(F::read("num_frames", "frames of a video: the MIT's positions"));
    f.push_back(F::read("mit_hidden_size", "the MIT's width (the projection's)"));
    f.push_back(F::read("mit_intermediate_size", "the MIT's feed-forward width"));
    f.push_back(F::read("mit_num_hidden_layers", "the MIT's layers"));
    f.push_back(F::read("mit_num_attention_heads", "the MIT's attention heads"));
    f.push_back(F::no_effect("drop_path_rate", "stochastic depth, in training only"));
  }
  return f;
}

/// XClipConfig from a checkpoint's config.json (model_type "xclip"); the
/// preset is named after the folder. Missing fields take transformers'
/// defaults (XCLIPTextConfig, XCLIPVisionConfig, XCLIPConfig).
[[nodiscard]] inline XClipConfig xclip_config_from_checkpoint(const std::filesystem::path& dir,
                                                              std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "xclip", "X-CLIP checkpoints have model_type \"xclip\"");
  XClipConfig m;
  m.name = checkpoint_name(dir);
  const detail::HfConfigReader v = c.object("vision_config", "X-CLIP's config.json has text_config and vision_config");
  m.vision = detail::read_clip_vision(v);
  m.frames = v.integer("num_frames", 8);
  m.mit_hidden = v.integer("mit_hidden_size", 512);
  m.mit_intermediate = v.integer("mit_intermediate_size", 2048);
  m.mit_layers = v.integer("mit_num_hidden_layers", 1);
  m.mit_heads = v.integer("mit_num_attention_heads", 8);
  const detail::HfConfigReader t = c.object("text_config", "X-CLIP's config.json has text_config and vision_config");
  m.text = detail::read_clip_text(t);
  m.text.bos_token_id = 49406;
  m.text.eos_token_id = m.text.vocab_size - 1;  // the highest id, which XCLIPTextModel pools
  m.projection_dim = c.integer("projection_dim", 512);
  m.prompt_layers = c.integer("prompt_layers", 2);
  m.prompt_heads = c.integer("prompt_num_attention_heads", 8);
  m.prompt_activation = detail::read_activation(c, "prompt_hidden_act", "quick_gelu", "X-CLIP's prompt generator",
                                                {Activation::quick_gelu, Activation::gelu});
  c.check_fields(xclip_config_fields());
  v.check_fields(xclip_tower_config_fields(false));
  t.check_fields(xclip_tower_config_fields(true));
  validate_xclip_config(m);
  return m;
}

/// The tensors of an X-CLIP checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors xclip_unused_tensors() {
  return {unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// An X-CLIP checkpoint's weights under XCLIPModel's names, the patch
/// convolution reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap xclip_weights_from_checkpoint(const std::filesystem::path& dir, const XClipConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {}, xclip_unused_tensors());
  detail::reshape_conv2d_weight(w, "vision_model.embeddings.patch_embedding.weight", config.vision.hidden,
                                config.vision.channels, config.vision.patch_size);
  return w;
}

}  // namespace accelbench
