#pragma once

// X-CLIP's dimensions (transformers' XCLIPConfig with XCLIPVisionConfig and
// XCLIPTextConfig), presets, the tensors of XCLIPModel, synthetic weights
// and the reading of Hugging Face checkpoints. The model is in xclip.hpp.

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "clip_config.hpp"
#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/encoder_layers.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

/// XCLIPModel: CLIP's towers, the vision tower's layers exchanging one
/// message token per frame across the frames of a video, the multi-frame
/// integration transformer (MIT) over the frames' projected class tokens,
/// and the video-specific prompt generator, whose cross-attention from the
/// texts to the video's patch features shifts each text's embedding.
struct XClipConfig {
  std::string name;
  ClipVisionConfig vision;
  ClipTextConfig text;
  int frames = 8;  ///< num_frames: the frames of a video (the MIT's positions)
  int mit_hidden = 512;
  int mit_intermediate = 2048;
  int mit_layers = 1;
  int mit_heads = 8;
  int projection_dim = 512;
  int prompt_layers = 2;
  int prompt_heads = 8;
  Activation prompt_activation = Activation::quick_gelu;
  float prompt_alpha = 0.1f;         ///< synthetic weights' alpha (a checkpoint stores it)
  float logit_scale_init = 2.6592f;  ///< synthetic weights' logit_scale
  std::vector<std::string> aliases;

  /// Parameters of XCLIPModel (TensorShapes' total, logit_scale included).
  [[nodiscard]] std::int64_t parameter_count() const noexcept;
  /// Floating-point operations of encoding `videos` videos of `frames_run`
  /// frames and `texts` texts of `seq` tokens (a multiply-add counts as two):
  /// both towers with the message attention, the MIT, the prompt generator.
  [[nodiscard]] double flops(int videos, int frames_run, int texts, int seq) const noexcept;
};

/// Presets: xclip-base-patch32 (microsoft/xclip-base-patch32's dimensions:
/// CLIP ViT-B/32's towers, 8 frames) and xclip-tiny.
inline const std::vector<XClipConfig>& xclip_presets() {
  static const std::vector<XClipConfig> presets = [] {
    XClipConfig base;
    base.name = "xclip-base-patch32";
    base.aliases = {"microsoft/xclip-base-patch32"};
    base.vision = {12, 768, 12, 3072, 32, 224, 3, 1e-5f, Activation::quick_gelu};
    base.text = {12, 512, 8, 2048, 49408, 77, 1e-5f, Activation::quick_gelu, 49406, 49407};
    XClipConfig tiny;
    tiny.name = "xclip-tiny";
    tiny.vision = {2, 128, 4, 512, 32, 224, 3, 1e-5f, Activation::quick_gelu};
    tiny.text = {2, 128, 4, 512, 49408, 77, 1e-5f, Activation::quick_gelu, 49406, 49407};
    tiny.frames = 8;
    tiny.projection_dim = tiny.mit_hidden = 128;
    tiny.mit_intermediate = 512;
    tiny.mit_heads = 4;
    tiny.prompt_heads = 4;
    return std::vector<XClipConfig>{base, tiny};
  }();
  return presets;
}

/// Checks that a configuration describes an X-CLIP that can be built.
inline void validate_xclip_config(const XClipConfig& c) {
  const detail::FieldCheck check(c.name);
  detail::validate_clip_vision(check, c.vision);
  detail::validate_clip_text(check, c.text);
  check.positive("frames", c.frames);
  check.positive("projection_dim", c.projection_dim);
  check.positive("mit_layers", c.mit_layers);
  check.positive("mit_heads", c.mit_heads);
  check.positive("mit_intermediate", c.mit_intermediate);
  if (c.mit_hidden != c.projection_dim) {
    check.fail("mit_hidden", std::to_string(c.mit_hidden),
               "must equal projection_dim (" + std::to_string(c.projection_dim) +
                   "): the MIT runs over the frames' projected class tokens");
  }
  check.divides("mit_heads", c.mit_heads, c.mit_hidden);
  check.positive("prompt_layers", c.prompt_layers);
  check.positive("prompt_heads", c.prompt_heads);
  check.divides("prompt_heads", c.prompt_heads, c.projection_dim);
}

namespace detail {

/// The tensors of an attention block (q, k, v and out_proj with biases) under `p`.
inline void add_xclip_attention_shapes(TensorShapes& s, const std::string& p, Eigen::Index d) {
  for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
    s.push_back({p + n + ".weight", {d, d}});
    s.push_back({p + n + ".bias", {1, d}});
  }
}

}  // namespace detail

/// The shape of every tensor of an XCLIPModel by its name; the patch
/// convolution as [hidden, channels * patch * patch], 1-D tensors as [1, n].
inline TensorShapes xclip_tensor_shapes(const XClipConfig& c) {
  const Eigen::Index vh = c.vision.hidden, th = c.text.hidden, p = c.projection_dim;
  TensorShapes s;
  detail::add_clip_vision_shapes(s, c.vision, 0);
  s.back().first = "vision_model.pre_layernorm.bias";  // X-CLIP spells it pre_layernorm, CLIP pre_layrnorm
  s[s.size() - 2].first = "vision_model.pre_layernorm.weight";
  for (int l = 0; l < c.vision.layers; ++l) {
    const std::string prefix = detail::clip_layer_prefix("vision_model", l);
    detail::add_pre_norm_layer_shapes(s, prefix, detail::clip_layer_names, vh, c.vision.intermediate);
    s.push_back({prefix + "message_fc.weight", {vh, vh}});
    s.push_back({prefix + "message_fc.bias", {1, vh}});
    s.push_back({prefix + "message_ln.weight", {1, vh}});
    s.push_back({prefix + "message_ln.bias", {1, vh}});
    detail::add_xclip_attention_shapes(s, prefix + "message_attn.", vh);
  }
  s.push_back({"vision_model.post_layernorm.weight", {1, vh}});
  s.push_back({"vision_model.post_layernorm.bias", {1, vh}});
  detail::add_clip_text_shapes(s, c.text);
  s.push_back({"visual_projection.weight", {p, vh}});
  s.push_back({"text_projection.weight", {p, th}});
  s.push_back({"logit_scale", {1, 1}});
  s.push_back({"prompts_visual_layernorm.weight", {1, vh}});
  s.push_back({"prompts_visual_layernorm.bias", {1, vh}});
  s.push_back({"prompts_visual_projection", {vh, p}});
  s.push_back({"mit.position_embedding", {c.frames, c.mit_hidden}});
  for (int l = 0; l < c.mit_layers; ++l) {
    detail::add_pre_norm_layer_shapes(s, "mit.encoder.layers." + std::to_string(l) + ".", detail::clip_layer_names,
                                      c.mit_hidden, c.mit_intermediate);
  }
  s.push_back({"prompts_generator.layernorm.weight", {1, p}});
  s.push_back({"prompts_generator.layernorm.bias", {1, p}});
  for (int l = 0; l < c.prompt_layers; ++l) {
    const std::string q = "prompts_generator.decoder." + std::to_string(l) + ".";
    for (const char* n : {"cross_attn.q_proj", "cross_attn.k_proj", "cross_attn.v_proj"}) {
      s.push_back({q + n + ".weight", {p, p}});
    }
    s.push_back({q + "cross_attn.proj.weight", {p, p}});
    s.push_back({q + "cross_attn.proj.bias", {1, p}});
    for (const char* n : {"norm1", "norm3"}) {
      s.push_back({q + n + ".weight", {1, p}});
      s.push_back({q + n + ".bias", {1, p}});
    }
    s.push_back({q + "mlp.0.weight", {4 * p, p}});
    s.push_back({q + "mlp.0.bias", {1, 4 * p}});
    s.push_back({q + "mlp.3.weight", {p, 4 * p}});
    s.push_back({q + "mlp.3.bias", {1, p}});
  }
  s.push_back({"prompts_generator.alpha", {1, p}});
  return s;
}

inline std::int64_t XClipConfig::parameter_count() const noexcept { return shape_parameter_count(xclip_tensor_shapes(*this)); }

inline double XClipConfig::flops(int videos, int frames_run, int texts, int seq) const noexcept {
  const double images = double(videos) * frames_run;
  const double n = vision.tokens();
  const double vh = vision.hidden;
  const double patch = double(vision.channels) * vision.patch_size * vision.patch_size;
  double total = 2.0 * images * (n - 1) * patch * vh;
  // each vision layer: message fc and attention over the frames, then the layer over n + 1 tokens (the
  // feed-forward over n)
  const double message = 2.0 * images * 5.0 * vh * vh + 4.0 * videos * frames_run * double(frames_run) * vh;
  total += vision.layers * (message + 2.0 * images * (n + 1) * 4.0 * vh * vh + 4.0 * images * (n + 1) * (n + 1) * vh +
                            2.0 * images * n * 2.0 * vh * vision.intermediate);
  const double th = text.hidden;
  total += text.layers * (2.0 * texts * seq * (4.0 * th * th + 2.0 * th * text.intermediate) + 4.0 * texts * seq * double(seq) * th);
  const double p = projection_dim;
  total += 2.0 * images * vh * p + 2.0 * texts * th * p + 2.0 * images * (n - 1) * vh * p;
  total += mit_layers * (2.0 * images * (4.0 * p * p + 2.0 * p * mit_intermediate) + 4.0 * images * frames_run * p);
  const double pairs = double(videos) * texts;
  total += prompt_layers * (2.0 * pairs * (2.0 * p * p + 8.0 * p * p) + 2.0 * videos * (n - 1) * 2.0 * p * p +
                            4.0 * pairs * (n - 1) * p);
  return total + 2.0 * pairs * p * (1.0 + videos);
}

/// Deterministic synthetic weights (see synthetic_weights): norms' scales
/// near one, alpha at prompt_alpha, logit_scale at its initial value.
inline WeightMap synthetic_xclip_weights(const XClipConfig& c, std::uint64_t seed) {
  validate_xclip_config(c);
  WeightMap w = synthetic_weights(xclip_tensor_shapes(c), seed, [](std::string_view n) {
    return name_contains_any(n, {"layer_norm", "layernorm", "message_ln", ".norm1.", ".norm3."});
  });
  (void)w.take("logit_scale", 1, 1);
  w.insert("logit_scale", HostMatrix::Constant(1, 1, c.logit_scale_init));
  (void)w.take("prompts_generator.alpha", 1, c.projection_dim);
  w.insert("prompts_generator.alpha", HostMatrix::Constant(1, c.projection_dim, c.prompt_alpha));
  return w;
}

}  // namespace accelbench
