#pragma once

// wav2vec2's configuration: the configuration section of model/wav2vec2.hpp (its
// fields, presets, validation and reading config.json), in a file of its own
// to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "common/config_json.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

struct Wav2Vec2Config {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  std::vector<int> conv_dim;     ///< channels of each feature-encoder layer
  std::vector<int> conv_kernel;
  std::vector<int> conv_stride;
  bool conv_bias = false;
  /// feat_extract_norm "layer": a LayerNorm over the channels after every
  /// feature-encoder convolution (the large models); otherwise "group", a
  /// GroupNorm after the first one only (wav2vec2-base).
  bool conv_layer_norm = false;
  /// do_stable_layer_norm: pre-norm layers, the encoder's LayerNorm after
  /// the last layer (the large models); otherwise post-norm layers, the
  /// encoder's LayerNorm after the positional convolution.
  bool stable_layer_norm = false;
  int pos_conv_kernel = 128;  ///< num_conv_pos_embeddings
  int pos_conv_groups = 16;   ///< num_conv_pos_embedding_groups
  float norm_eps = 1e-5f;     ///< layer_norm_eps (the group norm's is PyTorch's 1e-5)
  std::vector<std::string> aliases;

  static constexpr int sample_rate = 16000;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int feature_dim() const noexcept { return conv_dim.empty() ? 0 : conv_dim.back(); }

  /// Frames out of the feature encoder for `samples` samples (0 when too few).
  [[nodiscard]] int frames(std::int64_t samples) const noexcept {
    std::int64_t n = samples;
    for (std::size_t i = 0; i < conv_kernel.size(); ++i) {
      if (n < conv_kernel[i]) return 0;
      n = (n - conv_kernel[i]) / conv_stride[i] + 1;
    }
    return static_cast<int>(n);
  }

  /// Parameters of the tensors the model uses, as stored (the positional
  /// convolution's weight norm as its magnitude g and direction v). Not
  /// counted: masked_spec_embed, the SpecAugment vector that
  /// Wav2Vec2Model holds for training only (hidden values).
  [[nodiscard]] std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [name, shape] : tensor_shapes()) n += shape[0] * shape[1];
    return n;
  }

  /// Floating-point operations of one forward pass over `batch` clips of
  /// `samples` samples (a multiply-add counts as two): the convolutions,
  /// the projection, and the layers' projections, feed-forward and
  /// attention. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, std::int64_t samples) const noexcept {
    const double b = batch;
    double total = 0;
    std::int64_t n = samples;
    int in = 1;
    for (std::size_t i = 0; i < conv_dim.size(); ++i) {
      if (n < conv_kernel[i]) return total;
      n = (n - conv_kernel[i]) / conv_stride[i] + 1;
      total += 2.0 * b * static_cast<double>(n) * conv_dim[i] * in * conv_kernel[i];
      in = conv_dim[i];
    }
    const double t = static_cast<double>(n);
    const double h = hidden;
    total += 2.0 * b * t * feature_dim() * h;
    total += 2.0 * b * (t + 1.0) * h * (h / pos_conv_groups) * pos_conv_kernel;
    total += layers * (2.0 * b * t * (4.0 * h * h + 2.0 * h * intermediate) + 4.0 * b * t * t * h);
    return total;
  }

  /// Every tensor by its Hugging Face name (defined under "tensor names and
  /// shapes" in wav2vec2.hpp).
  [[nodiscard]] TensorShapes tensor_shapes() const;
};

/// The presets with the dimensions of the published checkpoints.
inline const std::vector<Wav2Vec2Config>& wav2vec2_presets() {
  static const std::vector<Wav2Vec2Config> presets = {
      {.name = "wav2vec2-base", .layers = 12, .hidden = 768, .heads = 12, .intermediate = 3072,
       .conv_dim = {512, 512, 512, 512, 512, 512, 512}, .conv_kernel = {10, 3, 3, 3, 3, 2, 2},
       .conv_stride = {5, 2, 2, 2, 2, 2, 2}, .conv_bias = false, .pos_conv_kernel = 128, .pos_conv_groups = 16,
       .norm_eps = 1e-5f, .aliases = {"facebook/wav2vec2-base"}},
      {.name = "wav2vec2-large-lv60", .layers = 24, .hidden = 1024, .heads = 16, .intermediate = 4096,
       .conv_dim = {512, 512, 512, 512, 512, 512, 512}, .conv_kernel = {10, 3, 3, 3, 3, 2, 2},
       .conv_stride = {5, 2, 2, 2, 2, 2, 2}, .conv_bias = true, .conv_layer_norm = true, .stable_layer_norm = true,
       .pos_conv_kernel = 128, .pos_conv_groups = 16, .norm_eps = 1e-5f, .aliases = {"facebook/wav2vec2-large-lv60"}},
  };
  return presets;
}

/// Checks that a configuration describes a wav2vec2 that can be built.
inline void validate_wav2vec2_config(const Wav2Vec2Config& c) {
  const auto check = detail::FieldCheck::of_model(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("pos_conv_kernel", c.pos_conv_kernel);
  check.positive("pos_conv_groups", c.pos_conv_groups);
  if (c.conv_dim.empty() || c.conv_kernel.size() != c.conv_dim.size() || c.conv_stride.size() != c.conv_dim.size()) {
    check.fail("conv_dim", std::to_string(c.conv_dim.size()) + " layers",
               "conv_dim, conv_kernel and conv_stride must name the same number (at least one) of layers; "
               "conv_kernel has " + std::to_string(c.conv_kernel.size()) + ", conv_stride " +
                   std::to_string(c.conv_stride.size()));
  }
  for (std::size_t i = 0; i < c.conv_dim.size(); ++i) {
    check.positive("conv_dim[" + std::to_string(i) + "]", c.conv_dim[i]);
    check.positive("conv_kernel[" + std::to_string(i) + "]", c.conv_kernel[i]);
    check.positive("conv_stride[" + std::to_string(i) + "]", c.conv_stride[i]);
  }
  check.divides("heads", c.heads, c.hidden);
  check.divides("pos_conv_groups", c.pos_conv_groups, c.hidden);
  check.positive("norm_eps", c.norm_eps);
}

/// The fields of a wav2vec2 config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields wav2vec2_config_fields() {
  using F = ConfigField;
  ConfigFields f = {
      F::read("model_type", "must be \"wav2vec2\""),
      F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
      F::read("feat_extract_activation", "the feature encoder's activation; only the erf GELU (\"gelu\") is implemented"),
      F::read("feat_extract_norm",
              "the feature encoder's normalisation: \"group\" (a GroupNorm after the first convolution) or "
              "\"layer\" (a LayerNorm over the channels after every convolution)"),
      F::read("do_stable_layer_norm",
              "pre-norm layers with the encoder's LayerNorm after the last layer (true) or post-norm layers with it "
              "after the positional convolution (false)"),
      F::read("add_adapter", "an adapter after the encoder; only false is implemented"),
      F::read("num_hidden_layers", "layers"),
      F::read("hidden_size", "width"),
      F::read("num_attention_heads", "attention heads"),
      F::read("intermediate_size", "feed-forward width"),
      F::read("conv_dim", "channels of each feature-encoder convolution"),
      F::read("conv_kernel", "kernel of each feature-encoder convolution"),
      F::read("conv_stride", "stride of each feature-encoder convolution"),
      F::read("conv_bias", "biases on the feature-encoder convolutions"),
      F::read("num_conv_pos_embeddings", "kernel of the positional convolution"),
      F::read("num_conv_pos_embedding_groups", "groups of the positional convolution"),
      F::read("layer_norm_eps", "LayerNorm epsilon"),
      F::refused("adapter_attn_dim", nullptr, "attention adapters in every layer (MMS) are not implemented"),
      F::no_effect("num_feat_extract_layers", "the number of conv_dim entries, which are read"),
      F::no_effect("vocab_size", "the CTC head of Wav2Vec2ForCTC, not part of Wav2Vec2Model"),
      F::no_effect("ctc_loss_reduction", "the CTC loss, in training only"),
      F::no_effect("ctc_zero_infinity", "the CTC loss, in training only"),
      F::no_effect("use_weighted_layer_sum", "the heads of sequence classification and speaker verification"),
      F::no_effect("classifier_proj_size", "the head of Wav2Vec2ForSequenceClassification")};
  add_spec_augment_fields(f);
  for (const char* n : {"codevector_dim", "proj_codevector_dim", "num_codevector_groups", "num_codevectors_per_group",
                        "num_negatives", "contrastive_logits_temperature", "diversity_loss_weight"}) {
    f.push_back(F::no_effect(n, "the quantizer and losses of Wav2Vec2ForPreTraining, in pre-training only"));
  }
  for (const char* n : {"adapter_kernel_size", "adapter_stride", "num_adapter_layers", "output_hidden_size"}) {
    f.push_back(F::no_effect(n, "the adapter, which add_adapter turns on (refused)"));
  }
  for (const char* n : {"tdnn_dim", "tdnn_kernel", "tdnn_dilation", "xvector_output_dim"}) {
    f.push_back(F::no_effect(n, "the head of Wav2Vec2ForXVector"));
  }
  return f;
}

/// Wav2Vec2Config from a checkpoint's config.json (model_type "wav2vec2");
/// the preset is named after the folder. What the model does not
/// implement is refused with its field: adapters, activations other than
/// GELU, feature-encoder normalisations other than "group" and "layer".
[[nodiscard]] inline Wav2Vec2Config wav2vec2_config_from_checkpoint(const std::filesystem::path& dir,
                                                                    std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  const std::string type = c.text("model_type");
  if (type != "wav2vec2") c.fail("model_type", "\"" + type + "\"", "expected a wav2vec2 checkpoint (\"wav2vec2\")");
  for (const char* key : {"hidden_act", "feat_extract_activation"}) {
    (void)detail::read_activation(c, key, "gelu", "wav2vec2", {Activation::gelu});
  }
  const std::string norm = c.text("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer") {
    c.fail("feat_extract_norm", "\"" + norm + "\"", "expected \"group\" or \"layer\", as transformers does");
  }
  if (c.boolean("add_adapter", false)) c.fail("add_adapter", "true", "adapters are not implemented");
  Wav2Vec2Config w;
  w.name = checkpoint_name(dir);
  w.layers = c.integer("num_hidden_layers");
  w.hidden = c.integer("hidden_size");
  w.heads = c.integer("num_attention_heads");
  w.intermediate = c.integer("intermediate_size");
  w.conv_dim = c.integers("conv_dim");
  w.conv_kernel = c.integers("conv_kernel");
  w.conv_stride = c.integers("conv_stride");
  w.conv_bias = c.boolean("conv_bias", false);
  w.conv_layer_norm = norm == "layer";
  w.stable_layer_norm = c.boolean("do_stable_layer_norm", false);
  w.pos_conv_kernel = c.integer("num_conv_pos_embeddings", 128);
  w.pos_conv_groups = c.integer("num_conv_pos_embedding_groups", 16);
  w.norm_eps = c.number("layer_norm_eps", 1e-5f);
  c.check_fields(wav2vec2_config_fields());
  validate_wav2vec2_config(w);
  return w;
}

}  // namespace accelbench
