#pragma once

// The reading of CLAP's Hugging Face checkpoints: config.json (ClapConfig
// with text_config and audio_config), every field that changes the
// computation read or refused by name, and the tensors of ClapModel.

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "clap_config.hpp"
#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"

namespace accelbench {

/// The top-level fields of a CLAP config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields clap_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"clap\""),
          F::read("text_config", "the RoBERTa text tower's fields (below)"),
          F::read("audio_config", "the HTSAT audio encoder's fields (below)"),
          F::read("projection_dim", "width of the shared embedding space (both towers' projections)"),
          F::read("projection_hidden_act", "the activation between the two layers of each projection"),
          F::no_effect("logit_scale_init_value", "the initial logit scales; a checkpoint stores logit_scale_a and _t"),
          F::no_effect("hidden_size", "the text tower's width, copied here by ClapConfig"),
          F::no_effect("num_hidden_layers", "a count of both towers' layers, copied here by ClapConfig")};
}

/// Fields that ClapConfig overwrites in both sub-configs with its own.
inline void add_clap_overwritten_fields(ConfigFields& f) {
  f.push_back(ConfigField::no_effect("projection_dim", "ClapConfig sets it to its own projection_dim"));
  f.push_back(ConfigField::no_effect("projection_hidden_act", "ClapConfig sets it to its own projection_hidden_act"));
}

/// The fields of CLAP's text_config (ClapTextConfig: RoBERTa).
[[nodiscard]] inline ConfigFields clap_text_config_fields() {
  using F = ConfigField;
  ConfigFields f{F::read("vocab_size", "rows of the token embedding"),
                 F::read("hidden_size", "width"),
                 F::read("num_hidden_layers", "layers"),
                 F::read("num_attention_heads", "attention heads"),
                 F::read("intermediate_size", "feed-forward width"),
                 F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
                 F::read("max_position_embeddings", "rows of the position embedding"),
                 F::read("type_vocab_size", "rows of the token-type embedding"),
                 F::read("layer_norm_eps", "LayerNorm epsilon"),
                 F::read("pad_token_id", "RoBERTa counts positions from pad_token_id + 1"),
                 F::read("model_type", "must be \"clap_text_model\" where present"),
                 F::refused("position_embedding_type", "absolute", "only absolute position embeddings are implemented"),
                 F::refused("is_decoder", false, "a decoder (causal self-attention) is not implemented"),
                 F::refused("add_cross_attention", false, "cross-attention layers are not implemented"),
                 F::no_effect("classifier_dropout", "a classification head's dropout")};
  add_clap_overwritten_fields(f);
  return f;
}

/// The fields of CLAP's audio_config (ClapAudioConfig: HTSAT).
[[nodiscard]] inline ConfigFields clap_audio_config_fields() {
  using F = ConfigField;
  ConfigFields f{
      F::read("model_type", "must be \"clap_audio_model\" where present"),
      F::read("num_mel_bins", "mel bins of the input (the batch norm's channels)"),
      F::read("spec_size", "side of the folded spectrogram image"),
      F::read("window_size", "side of the attention windows"),
      F::read("patch_size", "the patch embedding's kernel; must equal patch_stride"),
      F::read("patch_stride", "the patch embedding's stride"),
      F::read("patch_embeds_hidden_size", "the first stage's width"),
      F::read("depths", "blocks per stage"),
      F::read("num_attention_heads", "attention heads per stage"),
      F::read("hidden_size", "the last stage's width: patch_embeds_hidden_size * 2^(stages - 1)"),
      F::read("mlp_ratio", "a block's feed-forward width over its width"),
      F::read("qkv_bias", "biases of the query, key and value projections"),
      F::read("enable_patch_layer_norm", "the patch embedding's LayerNorm"),
      F::read("layer_norm_eps", "the blocks' LayerNorm epsilon"),
      F::read("hidden_act", "the blocks' feed-forward activation"),
      F::read("enable_fusion", "the fusion of a longer clip's three local crops (four input channels)"),
      F::read("fusion_type", "with fusion: null or \"aff_2d\", the attentional feature fusion transformers implements "
                             "(\"channel_map\" and the others are refused)"),
      F::read("aff_block_r", "with fusion: the fusion block's channels are patch_embeds_hidden_size / aff_block_r"),
      F::refused("patch_embed_input_channels", 1, "the patch embeddings take one channel (a crop each with fusion)"),
      F::refused("flatten_patch_embeds", true, "ClapAudioEncoder needs flattened patch embeddings"),
      F::no_effect("num_hidden_layers", "not read by ClapAudioEncoder (depths is)"),
      F::no_effect("num_classes", "ClapModel has no audio classification head"),
      F::no_effect("drop_path_rate", "stochastic depth, in training only")};
  add_clap_overwritten_fields(f);
  return f;
}

namespace detail {

/// patch_size or patch_stride: an integer, or a pair of equal integers.
inline int clap_square(const HfConfigReader& a, std::string_view key, int fallback) {
  if (!a.has(key)) return fallback;
  const nlohmann::json& v = a.raw(key);
  if (v.is_number_integer()) return a.integer(key);
  const std::vector<int> pair = a.integers(key);
  if (pair.size() != 2 || pair[0] != pair[1]) {
    a.fail(key, v.dump(), "expected an integer or two equal integers: non-square patches are not implemented");
  }
  return pair[0];
}

}  // namespace detail

/// ClapConfig from a checkpoint's config.json (model_type "clap"); the
/// preset is named after the folder. Missing fields take transformers'
/// defaults (ClapTextConfig, ClapAudioConfig, ClapConfig).
[[nodiscard]] inline ClapConfig clap_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "clap", "CLAP checkpoints have model_type \"clap\"");
  ClapConfig m;
  m.name = checkpoint_name(dir);
  const std::string hint = "CLAP's config.json has text_config and audio_config";
  const detail::HfConfigReader a = c.object("audio_config", hint);
  a.require_text("model_type", "clap_audio_model", "clap_audio_model", "the audio tower of CLAP");
  ClapAudioConfig& au = m.audio;
  au.mel_bins = a.integer("num_mel_bins", 64);
  au.spec_size = a.integer("spec_size", 256);
  au.window = a.integer("window_size", 8);
  au.patch = detail::clap_square(a, "patch_size", 4);
  const int stride = detail::clap_square(a, "patch_stride", 4);
  if (stride != au.patch) {
    a.fail("patch_stride", std::to_string(stride),
           "must equal patch_size (" + std::to_string(au.patch) + "): overlapping patches are not implemented");
  }
  au.embed = a.integer("patch_embeds_hidden_size", 96);
  au.depths = a.has("depths") ? a.integers("depths") : std::vector<int>{2, 2, 6, 2};
  au.heads = a.has("num_attention_heads") ? a.integers("num_attention_heads") : std::vector<int>{4, 8, 16, 32};
  if (a.has("mlp_ratio")) {
    (void)a.number("mlp_ratio");  // a finite number, or the reader's error naming the field
    au.mlp_ratio = a.raw("mlp_ratio").get<double>();  // Python's float: int(mlp_ratio * width) in double
  }
  au.qkv_bias = a.boolean("qkv_bias", true);
  au.patch_norm = a.boolean("enable_patch_layer_norm", true);
  au.layer_norm_eps = a.number("layer_norm_eps", 1e-5f);
  au.activation = detail::read_activation(a, "hidden_act", "gelu", "CLAP's audio encoder",
                                          {Activation::gelu, Activation::gelu_tanh, Activation::relu,
                                           Activation::silu, Activation::quick_gelu});
  const int hidden = a.integer("hidden_size", 768);
  if (!au.depths.empty() && au.depths.size() <= 16 && hidden != au.embed << (au.depths.size() - 1)) {
    a.fail("hidden_size", std::to_string(hidden),
           "must equal patch_embeds_hidden_size * 2^(stages - 1) = " +
               std::to_string(au.embed << (au.depths.size() - 1)) + ": the audio projection takes the last stage");
  }
  // 1001 frames (ClapFeatureExtractor's 10-second clips at its defaults) where the encoder takes that many.
  au.frames = std::min(au.frames, au.spec_width());
  au.fusion = a.boolean("enable_fusion", false);
  const std::string fusion_type = a.text("fusion_type", "aff_2d");  // null: transformers' AFF block too
  if (au.fusion && fusion_type != "aff_2d") {
    a.fail("fusion_type", "\"" + fusion_type + "\"",
           "only the 2-D attentional feature fusion (\"aff_2d\", ClapAudioAFFBlock) is implemented, as in transformers");
  }
  au.aff_ratio = a.integer("aff_block_r", 4);
  const detail::HfConfigReader t = c.object("text_config", hint);
  t.require_text("model_type", "clap_text_model", "clap_text_model", "the text tower of CLAP");
  (void)detail::read_activation(t, "hidden_act", "gelu", "CLAP's text tower", {Activation::gelu});
  m.text.name = m.name + ".text";
  m.text.layers = t.integer("num_hidden_layers", 12);
  m.text.hidden = t.integer("hidden_size", 768);
  m.text.heads = t.integer("num_attention_heads", 12);
  m.text.intermediate = t.integer("intermediate_size", 3072);
  m.text.vocab_size = t.integer("vocab_size", 50265);
  m.text.max_positions = t.integer("max_position_embeddings", 514);
  m.text.type_vocab_size = t.integer("type_vocab_size", 1);
  m.text.layer_norm_eps = t.number("layer_norm_eps", 1e-12f);
  m.pad_token_id = t.integer("pad_token_id", 1);
  m.text_length = std::min(m.text_length, m.text.max_positions - m.pad_token_id - 1);
  m.projection_dim = c.integer("projection_dim", 512);
  m.projection_activation = detail::read_activation(c, "projection_hidden_act", "relu", "CLAP's projections",
                                                    {Activation::relu, Activation::gelu, Activation::gelu_tanh,
                                                     Activation::silu, Activation::quick_gelu});
  c.check_fields(clap_config_fields());
  a.check_fields(clap_audio_config_fields());
  t.check_fields(clap_text_config_fields());
  validate_clap_config(m);
  return m;
}

/// The tensors of a CLAP checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors clap_unused_tensors() {
  return {unused_suffix("relative_position_index",
                        "a buffer of each window's relative positions, which the model computes itself"),
          unused_suffix("num_batches_tracked", "the batch norm's training counter"),
          unused_name("text_model.embeddings.position_ids", "a buffer of the positions 0, 1, 2, ...; RoBERTa's "
                                                            "positions are counted from the ids"),
          unused_name("text_model.embeddings.token_type_ids", "a buffer of zeros, the token types the model uses")};
}

/// A CLAP checkpoint's weights under ClapModel's names, the convolutions
/// reshaped to [out, in * kernel height * kernel width].
[[nodiscard]] inline WeightMap clap_weights_from_checkpoint(const std::filesystem::path& dir, const ClapConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {}, clap_unused_tensors());
  detail::reshape_clap_convolutions(w, config.audio);
  return w;
}

}  // namespace accelbench
