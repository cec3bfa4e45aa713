#pragma once

// Whisper's configuration: the configuration section of model/whisper.hpp (its
// fields, presets, validation and reading config.json), in a file of its own
// to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "../detail/checked_math.hpp"
#include "common/config_json.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

struct WhisperConfig {
  std::string name;
  int layers = 0;          ///< encoder layers
  int decoder_layers = 0;
  int hidden = 0;          ///< d_model
  int heads = 0;           ///< encoder attention heads
  int decoder_heads = 0;
  int intermediate = 0;          ///< encoder_ffn_dim
  int decoder_intermediate = 0;  ///< decoder_ffn_dim
  int vocab_size = 0;
  int mel_bins = 80;
  int max_source_positions = 1500;  ///< encoder positions: the input has twice as many frames
  int max_target_positions = 448;   ///< decoder positions
  int decoder_start_token = 50258;  ///< <|startoftranscript|> of the published checkpoints
  float norm_eps = 1e-5f;           ///< nn.LayerNorm's default; Whisper's config has no field for it
  bool tied_embeddings = true;      ///< proj_out is decoder.embed_tokens
  std::vector<std::string> aliases;

  /// Log-mel frames of the (padded) input: 100 per second, 3000 for 30 s.
  [[nodiscard]] int input_frames() const noexcept { return 2 * max_source_positions; }
  /// The longest clip in whole seconds that fits the input window (30 s).
  [[nodiscard]] int max_audio_seconds() const noexcept { return input_frames() / 100; }
  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int decoder_head_dim() const noexcept { return decoder_heads > 0 ? hidden / decoder_heads : 0; }

  /// Parameters, the tied head counted once (as transformers' num_parameters()).
  [[nodiscard]] std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [name, shape] : tensor_shapes()) n += shape[0] * shape[1];
    return n;
  }

  /// Bytes of the decoder's self-attention cache for `batch` sequences of up
  /// to `capacity` positions, plus the cross-attention keys and values.
  [[nodiscard]] std::uint64_t kv_cache_bytes(int batch, int capacity) const noexcept {
    return detail::saturating_product(2, batch, std::int64_t{capacity} + max_source_positions, hidden, decoder_layers,
                                      sizeof(float));
  }

  /// Floating-point operations of transcribing `batch` clips greedily for
  /// `new_tokens` tokens (a multiply-add counts as two): the convolutions,
  /// the encoder's projections, feed-forward and attention over every
  /// position, the cross keys and values, then one position per decoder
  /// step and the LM head. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, int new_tokens) const noexcept {
    const double b = batch;
    const double d = hidden;
    const double frames = input_frames();
    const double s = max_source_positions;
    double total = 2.0 * b * frames * d * mel_bins * 3.0 + 2.0 * b * s * d * d * 3.0;
    total += layers * (2.0 * b * s * (4.0 * d * d + 2.0 * d * intermediate) + 4.0 * b * s * s * d);
    total += decoder_layers * 2.0 * b * s * 2.0 * d * d;
    for (int t = 0; t < new_tokens; ++t) {
      total += decoder_layers * (2.0 * b * (6.0 * d * d + 2.0 * d * decoder_intermediate) + 4.0 * b * (t + 1.0) * d +
                                 4.0 * b * s * d) +
               2.0 * b * d * vocab_size;
    }
    return total;
  }

  /// Every tensor by its Hugging Face name (defined under "tensor names and
  /// shapes" in whisper.hpp).
  [[nodiscard]] TensorShapes tensor_shapes() const;
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<WhisperConfig>& whisper_presets() {
  static const std::vector<WhisperConfig> presets = [] {
    std::vector<WhisperConfig> p;
    p.push_back({.name = "whisper-tiny", .layers = 4, .decoder_layers = 4, .hidden = 384, .heads = 6,
                 .decoder_heads = 6, .intermediate = 1536, .decoder_intermediate = 1536, .vocab_size = 51865,
                 .aliases = {"openai/whisper-tiny"}});
    p.push_back({.name = "whisper-base", .layers = 6, .decoder_layers = 6, .hidden = 512, .heads = 8,
                 .decoder_heads = 8, .intermediate = 2048, .decoder_intermediate = 2048, .vocab_size = 51865,
                 .aliases = {"openai/whisper-base"}});
    return p;
  }();
  return presets;
}

/// Checks that a configuration describes a Whisper that can be built.
inline void validate_whisper_config(const WhisperConfig& c) {
  const auto check = detail::FieldCheck::of_model(c.name);
  check.positive("layers", c.layers);
  check.positive("decoder_layers", c.decoder_layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("decoder_heads", c.decoder_heads);
  check.positive("intermediate", c.intermediate);
  check.positive("decoder_intermediate", c.decoder_intermediate);
  check.positive("vocab_size", c.vocab_size);
  check.positive("mel_bins", c.mel_bins);
  check.positive("max_source_positions", c.max_source_positions);
  check.positive("max_target_positions", c.max_target_positions);
  check.divides("heads", c.heads, c.hidden);
  check.divides("decoder_heads", c.decoder_heads, c.hidden);
  if (c.hidden % 2 != 0 || c.hidden < 4) {
    check.fail("hidden", std::to_string(c.hidden), "must be even and at least 4 (sinusoidal positions)");
  }
  if (c.decoder_start_token < 0 || c.decoder_start_token >= c.vocab_size) {
    check.fail("decoder_start_token", std::to_string(c.decoder_start_token),
               "must be a token id below vocab_size (" + std::to_string(c.vocab_size) + ")");
  }
  check.positive("norm_eps", c.norm_eps);
}

/// The fields of a Whisper config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields whisper_config_fields() {
  using F = ConfigField;
  ConfigFields f = {F::read("model_type", "must be \"whisper\""),
                    F::read("activation_function", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
                    F::read("d_model", "width"),
                    F::read("encoder_layers", "encoder layers"),
                    F::read("decoder_layers", "decoder layers"),
                    F::read("encoder_attention_heads", "encoder attention heads"),
                    F::read("decoder_attention_heads", "decoder attention heads"),
                    F::read("encoder_ffn_dim", "encoder feed-forward width"),
                    F::read("decoder_ffn_dim", "decoder feed-forward width"),
                    F::read("vocab_size", "rows of the token embedding"),
                    F::read("num_mel_bins", "log-mel bins of the input"),
                    F::read("max_source_positions", "encoder positions (after the stride-2 convolution)"),
                    F::read("max_target_positions", "decoder positions"),
                    F::read("decoder_start_token_id", "the first decoder token"),
                    F::read("tie_word_embeddings", "the head is the token embedding, or proj_out.weight"),
                    F::refused("scale_embedding", false, "scaling the token embedding by sqrt(d_model) is not implemented"),
                    F::no_effect("is_encoder_decoder", "Whisper is an encoder-decoder either way"),
                    F::no_effect("num_hidden_layers", "another name of encoder_layers, which is read"),
                    F::no_effect("median_filter_width", "word timestamps in generate()"),
                    F::no_effect("use_weighted_layer_sum", "the head of WhisperForAudioClassification"),
                    F::no_effect("classifier_proj_size", "the head of WhisperForAudioClassification")};
  add_spec_augment_fields(f);
  return f;
}

/// WhisperConfig from a checkpoint's config.json (model_type "whisper");
/// the preset is named after the folder.
[[nodiscard]] inline WhisperConfig whisper_config_from_checkpoint(const std::filesystem::path& dir,
                                                                  std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  const std::string type = c.text("model_type");
  if (type != "whisper") c.fail("model_type", "\"" + type + "\"", "expected a Whisper checkpoint (\"whisper\")");
  (void)detail::read_activation(c, "activation_function", "gelu", "Whisper", {Activation::gelu});
  WhisperConfig w;
  w.name = checkpoint_name(dir);
  w.hidden = c.integer("d_model");
  w.layers = c.integer("encoder_layers");
  w.decoder_layers = c.integer("decoder_layers");
  w.heads = c.integer("encoder_attention_heads");
  w.decoder_heads = c.integer("decoder_attention_heads");
  w.intermediate = c.integer("encoder_ffn_dim");
  w.decoder_intermediate = c.integer("decoder_ffn_dim");
  w.vocab_size = c.integer("vocab_size");
  w.mel_bins = c.integer("num_mel_bins", 80);
  w.max_source_positions = c.integer("max_source_positions", 1500);
  w.max_target_positions = c.integer("max_target_positions", 448);
  w.decoder_start_token = c.integer("decoder_start_token_id", 50257);
  w.tied_embeddings = c.boolean("tie_word_embeddings", true);
  c.check_fields(whisper_config_fields());
  validate_whisper_config(w);
  return w;
}

}  // namespace accelbench
