#pragma once

// CLIP (Radford et al., 2021) as in Hugging Face transformers' CLIPModel: a
// vision tower (patch convolution without bias, class embedding, learned
// positions, pre_layrnorm, pre-norm layers with quick GELU, post_layernorm
// on the class token), a text tower (token and position embeddings, causal
// and padding masks, pre-norm layers with quick GELU, final_layer_norm,
// pooled at the end-of-text token), projections without bias, L2
// normalisation, and logits_per_image = exp(logit_scale) * image_embeds ·
// text_embedsᵀ. Written once over the backend's PerceptionOps.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../detail/rng.hpp"
#include "../core/tensor.hpp"
#include "clip_config.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/clip_vision.hpp"
#include "common/encoder_layers.hpp"
#include "common/images.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

// In clip_config.hpp: ClipConfig (ClipVisionConfig, ClipTextConfig), clip_presets(),
// validate_clip_config(), clip_config_from_checkpoint().

// ---- tensor names and shapes ----

/// The shape of every tensor of a CLIPModel, by its Hugging Face name. The
/// patch convolution is [hidden, channels * patch * patch].
inline TensorShapes clip_tensor_shapes(const ClipConfig& c) {
  const Eigen::Index vh = c.vision.hidden;
  const Eigen::Index th = c.text.hidden;
  TensorShapes s;
  detail::add_clip_vision_shapes(s, c.vision, c.vision.layers);
  s.push_back({"vision_model.post_layernorm.weight", {1, vh}});
  s.push_back({"vision_model.post_layernorm.bias", {1, vh}});
  detail::add_clip_text_shapes(s, c.text);
  s.push_back({"visual_projection.weight", {c.projection_dim, vh}});
  s.push_back({"text_projection.weight", {c.projection_dim, th}});
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): the LayerNorms'
/// scales near one, and logit_scale at its initial value.
inline WeightMap synthetic_clip_weights(const ClipConfig& c, std::uint64_t seed) {
  validate_clip_config(c);
  WeightMap w = synthetic_weights(clip_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"norm"}); });
  w.insert("logit_scale", HostMatrix::Constant(1, 1, c.logit_scale_init));
  return w;
}

/// The tensors of a CLIP checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors clip_unused_tensors() {
  return {unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A CLIP checkpoint's weights under CLIPModel's names (position-id buffers
/// dropped), the patch convolution reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap clip_weights_from_checkpoint(const std::filesystem::path& dir, const ClipConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {}, clip_unused_tensors());
  detail::reshape_conv2d_weight(w, "vision_model.embeddings.patch_embedding.weight", config.vision.hidden,
                                config.vision.channels, config.vision.patch_size);
  return w;
}

// ---- forward entry points ----

/// A batch of token ids and their attention mask.
struct ClipTextInput {
  int batch = 0;
  int seq = 0;
  std::vector<std::int32_t> input_ids;  ///< [batch * seq]
  HostMatrix attention_mask;            ///< [batch, seq], 1 = token, 0 = padding
};

/// Deterministic synthetic texts of `seq` tokens each, no padding:
/// <|startoftext|>, random ids, <|endoftext|> last. The random ids are
/// drawn from the counter-based stream "clip.input_ids" under `seed`,
/// uniform over the vocabulary without the two special tokens; a special
/// token outside the vocabulary (a tiny test config) is replaced by a
/// random id. With a legacy config (eos_token_id 2) the last token is the
/// vocabulary's highest id, the real <|endoftext|>, which the legacy rule
/// (the highest id of the sequence) then finds.
[[nodiscard]] inline ClipTextInput make_clip_text_input(const ClipConfig& c, int batch, int seq, std::uint64_t seed) {
  if (batch <= 0) throw std::invalid_argument("make_clip_text_input: batch = " + std::to_string(batch) + ": must be >= 1");
  if (seq <= 0 || seq > c.text.max_positions) {
    throw std::invalid_argument("make_clip_text_input: seq = " + std::to_string(seq) + ": must lie in [1, " +
                                std::to_string(c.text.max_positions) + "]");
  }
  const int vocab = c.text.vocab_size;
  const auto in_vocab = [&](int id) { return id >= 0 && id < vocab; };
  const int eos = c.text.legacy_eos() ? vocab - 1 : c.text.eos_token_id;
  const int bos = c.text.bos_token_id;
  std::set<int> special;
  if (in_vocab(bos)) special.insert(bos);
  if (in_vocab(eos)) special.insert(eos);
  const auto words = static_cast<std::uint64_t>(std::max<int>(1, vocab - static_cast<int>(special.size())));
  const std::uint64_t stream = detail::stream_seed(seed, "clip.input_ids");
  ClipTextInput in;
  in.batch = batch;
  in.seq = seq;
  in.input_ids.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq));
  in.attention_mask = HostMatrix::Ones(batch, seq);
  for (std::size_t i = 0; i < in.input_ids.size(); ++i) {
    const auto s = static_cast<int>(i % static_cast<std::size_t>(seq));
    int id = static_cast<int>(detail::random_bits(stream, i) % words);
    for (int skip : special) {
      if (id >= skip) ++id;  // the id-th of the non-special ids
    }
    if (s == 0 && seq > 1 && in_vocab(bos)) id = bos;
    if (s == seq - 1 && in_vocab(eos)) id = eos;
    in.input_ids[i] = id;
  }
  return in;
}

/// The position of each sequence's pooled token, as transformers'
/// CLIPTextModel: the first <|endoftext|> (0 where there is none), or with
/// a legacy config (eos_token_id 2) the first occurrence of the highest id.
[[nodiscard]] inline std::vector<int> clip_eos_positions(const ClipConfig& c, const ClipTextInput& in) {
  std::vector<int> out(static_cast<std::size_t>(in.batch), 0);
  for (int b = 0; b < in.batch; ++b) {
    const auto row = in.input_ids.begin() + static_cast<std::ptrdiff_t>(b) * in.seq;
    if (c.text.legacy_eos()) {
      out[static_cast<std::size_t>(b)] = static_cast<int>(std::max_element(row, row + in.seq) - row);
    } else {
      const auto it = std::find(row, row + in.seq, c.text.eos_token_id);
      out[static_cast<std::size_t>(b)] = it == row + in.seq ? 0 : static_cast<int>(it - row);
    }
  }
  return out;
}

/// A CLIP whose weights live on backend B.
template <PerceptionOps B>
class Clip {
 public:
  using Config = ClipConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of images and one of texts with the activations of their
  /// passes, kept between passes so that a repeated pass allocates nothing.
  struct Workspace {
    int images = 0;
    int texts = 0;
    int seq = 0;
    // vision
    Tensor pixels;                  ///< [images, channels * size * size]
    IndexTensor vision_position_ids, class_rows;
    Tensor patches;                 ///< [images * patches, hidden]
    Tensor vision_hidden;           ///< last hidden state (no final norm, as transformers), [images * tokens, hidden]
    Tensor vision_pooled;           ///< post_layernorm of the class token, [images, hidden]
    Tensor image_embeds;            ///< projected and normalised, [images, projection_dim]
    // text
    IndexTensor input_ids, text_position_ids, eos_rows;
    Tensor mask;                    ///< [texts, seq]
    Tensor text_hidden;             ///< last hidden state (after final_layer_norm), [texts * seq, hidden]
    Tensor text_pooled;             ///< the pooled token's row of it, [texts, hidden]
    Tensor text_embeds;             ///< projected and normalised, [texts, projection_dim]
    Tensor logits_per_image;        ///< [images, texts]
    Tensor scale_matrix;            ///< exp(logit_scale) * identity [texts, texts], for a backend without scale()
    detail::EncoderScratch<B> s;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  Clip(B& backend, ClipConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_clip_config(config_);
    const auto& v = config_.vision;
    const auto& t = config_.text;
    const Eigen::Index vh = v.hidden;
    const Eigen::Index th = t.hidden;
    detail::reshape_conv2d_weight(weights, "vision_model.embeddings.patch_embedding.weight", vh, v.channels,
                                  v.patch_size);
    WeightUploader<B> take(backend, weights, tally_);
    vision_ = ClipVisionTower<B>(take, v, v.layers);
    post_g_ = take("vision_model.post_layernorm.weight", 1, vh);
    post_b_ = take("vision_model.post_layernorm.bias", 1, vh);
    token_ = take("text_model.embeddings.token_embedding.weight", t.vocab_size, th);
    text_positions_ = take("text_model.embeddings.position_embedding.weight", t.max_positions, th);
    for (int l = 0; l < t.layers; ++l) {
      text_layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::clip_layer_prefix("text_model", l),
                                                            detail::clip_layer_names, th, t.intermediate));
    }
    final_g_ = take("text_model.final_layer_norm.weight", 1, th);
    final_b_ = take("text_model.final_layer_norm.bias", 1, th);
    visual_projection_ = take("visual_projection.weight", config_.projection_dim, vh);
    text_projection_ = take("text_projection.weight", config_.projection_dim, th);
    logit_scale_ = take.host("logit_scale", 1, 1)(0, 0);
    // transformers: logit_scale.exp() in float.
    scale_ = std::exp(logit_scale_);
    take.finish("CLIP");
  }

  [[nodiscard]] const ClipConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const ClipConfig& c) { return clip_tensor_shapes(c); }
  /// exp(logit_scale), the factor of the similarity logits.
  [[nodiscard]] float logit_scale() const noexcept { return scale_; }

  /// Uploads a batch of images (at the model's image size) and one of texts
  /// into a new workspace. Each text's pooled row is found here, on the host.
  [[nodiscard]] Workspace prepare(B& backend, const ImageBatch& images, const ClipTextInput& text) const {
    const auto& v = config_.vision;
    if (images.channels != v.channels || images.size != v.image_size) {
      throw std::invalid_argument("Clip: images are " + std::to_string(images.channels) + " x " +
                                  std::to_string(images.size) + " x " + std::to_string(images.size) + ", " +
                                  config_.name + " takes " + std::to_string(v.channels) + " x " +
                                  std::to_string(v.image_size) + " x " + std::to_string(v.image_size));
    }
    if (images.batch <= 0 || images.pixels.rows() != images.batch ||
        images.pixels.cols() != Eigen::Index{images.channels} * images.size * images.size) {
      throw std::invalid_argument("Clip: pixels must be [batch, channels * size * size]");
    }
    if (text.batch <= 0 || text.seq <= 0 || text.seq > config_.text.max_positions) {
      throw std::invalid_argument("Clip: text length " + std::to_string(text.seq) + " must lie in [1, " +
                                  std::to_string(config_.text.max_positions) + "] (" + config_.name + "'s positions)");
    }
    if (text.input_ids.size() != static_cast<std::size_t>(text.batch) * static_cast<std::size_t>(text.seq) ||
        text.attention_mask.rows() != text.batch || text.attention_mask.cols() != text.seq) {
      throw std::invalid_argument("Clip: input_ids must be [batch * seq] and the attention mask [batch, seq]");
    }
    Workspace ws;
    ws.images = images.batch;
    ws.texts = text.batch;
    ws.seq = text.seq;
    ws.pixels = backend.upload(images.pixels);
    ws.vision_position_ids = backend.upload_indices(detail::position_ids(ws.images, v.tokens()));
    ws.class_rows = backend.upload_indices(detail::sequence_rows(ws.images, v.tokens()));
    ws.input_ids = backend.upload_indices(text.input_ids);
    ws.text_position_ids = backend.upload_indices(detail::position_ids(ws.texts, ws.seq));
    const std::vector<int> eos = clip_eos_positions(config_, text);
    std::vector<std::int32_t> eos_rows(eos.size());
    for (std::size_t b = 0; b < eos.size(); ++b) eos_rows[b] = static_cast<std::int32_t>(b) * ws.seq + eos[b];
    ws.eos_rows = backend.upload_indices(eos_rows);
    ws.mask = backend.upload(text.attention_mask);
    if constexpr (!has_scale) {
      // Without a scale op, the scaling is a product with scale * identity
      // [texts, texts], which gives the same floats.
      const HostMatrix scaled = HostMatrix::Identity(ws.texts, ws.texts) * scale_;
      ws.scale_matrix = backend.upload(scaled);
    }
    return ws;
  }

  /// The vision tower and its projection: ws.vision_hidden,
  /// ws.vision_pooled and the normalised ws.image_embeds.
  void encode_images(B& be, Workspace& ws) const {
    vision_.encode(be, ws.pixels, ws.vision_position_ids, ws.images, ws.patches, ws.vision_hidden, ws.s);
    be.embedding_lookup(ws.vision_hidden, ws.class_rows, ws.vision_pooled);
    be.layer_norm(ws.vision_pooled, post_g_, post_b_, config_.vision.layer_norm_eps, ws.vision_pooled);
    be.linear(ws.vision_pooled, visual_projection_, none_, ws.image_embeds);
    be.normalize_rows(ws.image_embeds);
  }

  /// The text tower and its projection: ws.text_hidden, ws.text_pooled and
  /// the normalised ws.text_embeds.
  void encode_texts(B& be, Workspace& ws) const {
    const auto& t = config_.text;
    be.embedding_lookup(token_, ws.input_ids, ws.text_hidden);
    detail::add_learned_positions(be, text_positions_, ws.text_position_ids, ws.texts, ws.seq, ws.text_hidden, ws.s.tmp);
    AttentionDims dims{ws.texts, ws.seq, ws.seq, t.heads, t.head_dim()};
    dims.causal = true;
    for (const auto& L : text_layers_) {
      detail::pre_norm_layer(be, L, t.layer_norm_eps, t.activation, ws.mask, dims, ws.text_hidden, ws.s);
    }
    be.layer_norm(ws.text_hidden, final_g_, final_b_, t.layer_norm_eps, ws.text_hidden);
    be.embedding_lookup(ws.text_hidden, ws.eos_rows, ws.text_pooled);
    be.linear(ws.text_pooled, text_projection_, none_, ws.text_embeds);
    be.normalize_rows(ws.text_embeds);
  }

  /// ws.logits_per_image = exp(logit_scale) * image_embeds · text_embedsᵀ.
  void similarity(B& be, Workspace& ws) const {
    if constexpr (has_scale) {
      be.linear(ws.image_embeds, ws.text_embeds, none_, ws.logits_per_image);
      be.scale(ws.logits_per_image, scale_);
    } else {
      be.linear(ws.image_embeds, ws.text_embeds, none_, ws.s.tmp);
      be.linear(ws.s.tmp, ws.scale_matrix, none_, ws.logits_per_image);
    }
  }

  /// All three.
  void forward(B& be, Workspace& ws) const {
    encode_images(be, ws);
    encode_texts(be, ws);
    similarity(be, ws);
  }

 private:
  static constexpr bool has_scale = requires(B& b, Tensor& x, float s) { b.scale(x, s); };

  ClipConfig config_;
  ClipVisionTower<B> vision_;
  Tensor post_g_, post_b_;
  Tensor token_, text_positions_, final_g_, final_b_;
  std::vector<detail::PreNormLayer<B>> text_layers_;
  Tensor visual_projection_, text_projection_;
  float logit_scale_ = 0;
  float scale_ = 1;
  Tensor none_;  // an empty tensor: no bias, no mask
  WeightTally tally_;
};

}  // namespace accelbench
