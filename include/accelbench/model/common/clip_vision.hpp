#pragma once

// CLIP's vision tower as in transformers' CLIPVisionTransformer, up to the
// encoder's output: the patch convolution without bias, the class
// embedding, learned positions, pre_layrnorm and pre-norm layers. CLIP
// (clip.hpp) pools its class token after it; LLaVA (llava.hpp) takes the
// hidden states of one of its layers. Its tensors are named as in
// CLIPVisionModel ("vision_model.*").

#include <string>
#include <vector>

#include "../../backend/concepts.hpp"
#include "../../core/tensor.hpp"
#include "../clip_config.hpp"
#include "encoder_layers.hpp"
#include "upload.hpp"
#include "weights.hpp"

namespace accelbench {

namespace detail {

/// CLIP's CLIPEncoderLayer (encoder.layers.{i}.*).
inline constexpr PreNormLayerNames clip_layer_names{"layer_norm1",      "self_attn.q_proj",   "self_attn.k_proj",
                                                    "self_attn.v_proj", "self_attn.out_proj", "layer_norm2",
                                                    "mlp.fc1",          "mlp.fc2"};

inline std::string clip_layer_prefix(const char* tower, int i) {
  return std::string(tower) + ".encoder.layers." + std::to_string(i) + ".";
}

/// The tensors of the vision tower's embeddings, pre_layrnorm and first
/// `layers` layers. The patch convolution is [hidden, channels * patch * patch].
inline void add_clip_vision_shapes(TensorShapes& s, const ClipVisionConfig& v, int layers) {
  const Eigen::Index vh = v.hidden;
  const Eigen::Index p = v.patch_size;
  s.push_back({"vision_model.embeddings.class_embedding", {1, vh}});
  s.push_back({"vision_model.embeddings.patch_embedding.weight", {vh, Eigen::Index{v.channels} * p * p}});
  s.push_back({"vision_model.embeddings.position_embedding.weight", {v.tokens(), vh}});
  s.push_back({"vision_model.pre_layrnorm.weight", {1, vh}});
  s.push_back({"vision_model.pre_layrnorm.bias", {1, vh}});
  for (int l = 0; l < layers; ++l) {
    add_pre_norm_layer_shapes(s, clip_layer_prefix("vision_model", l), clip_layer_names, vh, v.intermediate);
  }
}

/// The tensors of CLIP's text tower ("text_model.*": embeddings, layers,
/// final_layer_norm), as CLIP and X-CLIP have it.
inline void add_clip_text_shapes(TensorShapes& s, const ClipTextConfig& t) {
  const Eigen::Index th = t.hidden;
  s.push_back({"text_model.embeddings.token_embedding.weight", {t.vocab_size, th}});
  s.push_back({"text_model.embeddings.position_embedding.weight", {t.max_positions, th}});
  for (int l = 0; l < t.layers; ++l) {
    add_pre_norm_layer_shapes(s, clip_layer_prefix("text_model", l), clip_layer_names, th, t.intermediate);
  }
  s.push_back({"text_model.final_layer_norm.weight", {1, th}});
  s.push_back({"text_model.final_layer_norm.bias", {1, th}});
}

}  // namespace detail

/// The embeddings and the first `layers` layers of a CLIP vision tower on backend B.
template <PerceptionOps B>
class ClipVisionTower {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  ClipVisionTower() = default;

  /// Takes the tower's tensors ("vision_model.*", the patch convolution
  /// already [hidden, channels * patch * patch]) through `take`.
  ClipVisionTower(WeightUploader<B>& take, const ClipVisionConfig& v, int layers) : config_(v) {
    const Eigen::Index vh = v.hidden;
    class_ = take("vision_model.embeddings.class_embedding", 1, vh);
    patch_w_ = take("vision_model.embeddings.patch_embedding.weight", vh,
                    Eigen::Index{v.channels} * v.patch_size * v.patch_size);
    positions_ = take("vision_model.embeddings.position_embedding.weight", v.tokens(), vh);
    pre_g_ = take("vision_model.pre_layrnorm.weight", 1, vh);
    pre_b_ = take("vision_model.pre_layrnorm.bias", 1, vh);
    for (int l = 0; l < layers; ++l) {
      layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::clip_layer_prefix("vision_model", l),
                                                       detail::clip_layer_names, vh, v.intermediate));
    }
  }

  /// `hidden` = the tower's states after its layers, [images * tokens,
  /// hidden], from `pixels` [images, channels * size * size]; `position_ids`
  /// are 0..tokens-1 for each image, `patches` and `s` scratch.
  void encode(B& be, const Tensor& pixels, const IndexTensor& position_ids, int images, Tensor& patches,
              Tensor& hidden, detail::EncoderScratch<B>& s) const {
    const ClipVisionConfig& v = config_;
    Conv2dDims conv;
    conv.batch = images;
    conv.channels = v.channels;
    conv.height = v.image_size;
    conv.width = v.image_size;
    conv.out_channels = v.hidden;
    conv.kernel = v.patch_size;
    conv.stride = v.patch_size;
    be.conv2d(pixels, patch_w_, none_, conv, patches);
    be.prepend_row(patches, class_, images, hidden);
    detail::add_learned_positions(be, positions_, position_ids, images, v.tokens(), hidden, s.tmp);
    be.layer_norm(hidden, pre_g_, pre_b_, v.layer_norm_eps, hidden);
    const AttentionDims dims{images, v.tokens(), v.tokens(), v.heads, v.head_dim()};
    for (const auto& L : layers_) detail::pre_norm_layer(be, L, v.layer_norm_eps, v.activation, none_, dims, hidden, s);
  }

 private:
  ClipVisionConfig config_;
  Tensor class_, patch_w_, positions_, pre_g_, pre_b_;
  std::vector<detail::PreNormLayer<B>> layers_;
  Tensor none_;  // an empty tensor: no bias, no mask
};

}  // namespace accelbench
