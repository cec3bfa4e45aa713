#pragma once

// X-CLIP (Ni et al., 2022) as in Hugging Face transformers' XCLIPModel: the
// frames of each video through CLIP's vision tower whose every layer first
// exchanges information across the frames (a message token per frame from
// its class token, attention over the video's frames, appended to the
// frame's tokens for the layer's attention and dropped before its
// feed-forward); the multi-frame integration transformer over the frames'
// projected class tokens, averaged into the video's embedding; CLIP's text
// tower; and the video-specific prompt generator, whose cross-attention from
// each text to the video's frame-averaged patch features shifts the text's
// embedding. Similarity logits per video against every text. Written once
// over the backend's PerceptionOps and GenerationOps (cache_write appends
// the message tokens).

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "clip.hpp"
#include "common/activation.hpp"
#include "common/encoder_layers.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"
#include "xclip_config.hpp"

namespace accelbench {

/// The ops X-CLIP needs.
template <class B>
concept XClipOps = PerceptionOps<B> && GenerationOps<B>;

/// An X-CLIP whose weights live on backend B.
template <XClipOps B>
class XClip {
 public:
  using Config = XClipConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// A batch of videos and texts with the activations of their passes.
  struct Workspace {
    int videos = 0;
    int frames = 0;
    int texts = 0;
    int seq = 0;
    Tensor pixels;          ///< [videos * frames, channels * size * size], frames of a video consecutive
    IndexTensor position_ids, class_rows, keep_rows, patch_rows, frame_ids, text_rows;
    IndexTensor input_ids, text_position_ids, eos_rows;
    Tensor text_mask, frame_mask, patch_mask;
    Tensor patches, extended;  ///< the patch embedding; the tokens with each frame's message token
    Tensor vision_hidden;      ///< last hidden state (no post layernorm), [videos * frames * tokens, hidden]
    Tensor vision_pooled;      ///< post_layernorm of each frame's class token, [videos * frames, hidden]
    Tensor frame_embeds;       ///< visual_projection of it, [videos * frames, projection_dim]
    Tensor mit_hidden;         ///< the MIT's output plus its input, [videos * frames, projection_dim]
    Tensor video_embeds;       ///< mean over frames, normalised, [videos, projection_dim]
    Tensor img_features;       ///< per video and patch, the frames' mean, [videos * patches, projection_dim]
    Tensor text_hidden;        ///< after final_layer_norm, [texts * seq, hidden]
    Tensor text_pooled;        ///< [texts, hidden]
    Tensor text_raw;           ///< text_projection, [texts, projection_dim]
    Tensor prompts;            ///< the prompt generator's state, [videos * texts, projection_dim]
    Tensor text_embeds;        ///< text_raw + alpha * prompts, normalised, [videos * texts, projection_dim]
    Tensor logits;             ///< exp(logit_scale) video_embeds · text_embedsᵀ, [videos, videos * texts]
    Tensor message, visual, cls, q, k, v, context, attn, normed, inter, tmp;
    detail::EncoderScratch<B> s;
  };

  XClip(B& backend, XClipConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_xclip_config(config_);
    const auto& vc = config_.vision;
    const auto& tc = config_.text;
    const Eigen::Index vh = vc.hidden, th = tc.hidden, p = config_.projection_dim;
    detail::reshape_conv2d_weight(weights, "vision_model.embeddings.patch_embedding.weight", vh, vc.channels,
                                  vc.patch_size);
    WeightUploader<B> take(backend, weights, tally_);
    class_ = take("vision_model.embeddings.class_embedding", 1, vh);
    patch_w_ = take("vision_model.embeddings.patch_embedding.weight", vh,
                    Eigen::Index{vc.channels} * vc.patch_size * vc.patch_size);
    positions_ = take("vision_model.embeddings.position_embedding.weight", vc.tokens(), vh);
    pre_ = norm(take, "vision_model.pre_layernorm", vh);
    for (int l = 0; l < vc.layers; ++l) {
      const std::string prefix = detail::clip_layer_prefix("vision_model", l);
      VisionLayer L;
      L.layer = detail::take_pre_norm_layer<B>(take, prefix, detail::clip_layer_names, vh, vc.intermediate);
      L.message_fc_w = take(prefix + "message_fc.weight", vh, vh);
      L.message_fc_b = take(prefix + "message_fc.bias", 1, vh);
      L.message_ln = norm(take, prefix + "message_ln", vh);
      L.message = attention(take, prefix + "message_attn.", vh, true);
      vision_layers_.push_back(std::move(L));
    }
    post_ = norm(take, "vision_model.post_layernorm", vh);
    token_ = take("text_model.embeddings.token_embedding.weight", tc.vocab_size, th);
    text_positions_ = take("text_model.embeddings.position_embedding.weight", tc.max_positions, th);
    for (int l = 0; l < tc.layers; ++l) {
      text_layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::clip_layer_prefix("text_model", l),
                                                            detail::clip_layer_names, th, tc.intermediate));
    }
    final_ = norm(take, "text_model.final_layer_norm", th);
    visual_projection_ = take("visual_projection.weight", p, vh);
    text_projection_ = take("text_projection.weight", p, th);
    // transformers: logit_scale.exp() in float.
    scale_ = std::exp(take.host("logit_scale", 1, 1)(0, 0));
    prompts_visual_ln_ = norm(take, "prompts_visual_layernorm", vh);
    // x @ prompts_visual_projection ([hidden, projection_dim]) as a linear with its transpose.
    prompts_visual_projection_ = take.upload(take.host("prompts_visual_projection", vh, p).transpose());
    mit_positions_ = take("mit.position_embedding", config_.frames, config_.mit_hidden);
    for (int l = 0; l < config_.mit_layers; ++l) {
      mit_layers_.push_back(detail::take_pre_norm_layer<B>(take, "mit.encoder.layers." + std::to_string(l) + ".",
                                                           detail::clip_layer_names, config_.mit_hidden,
                                                           config_.mit_intermediate));
    }
    prompt_ln_ = norm(take, "prompts_generator.layernorm", p);
    for (int l = 0; l < config_.prompt_layers; ++l) {
      const std::string q = "prompts_generator.decoder." + std::to_string(l) + ".";
      PromptLayer L;
      L.cross = attention(take, q + "cross_attn.", p, false);
      L.norm1 = norm(take, q + "norm1", p);
      L.norm3 = norm(take, q + "norm3", p);
      L.fc1_w = take(q + "mlp.0.weight", 4 * p, p);
      L.fc1_b = take(q + "mlp.0.bias", 1, 4 * p);
      L.fc2_w = take(q + "mlp.3.weight", p, 4 * p);
      L.fc2_b = take(q + "mlp.3.bias", 1, p);
      prompt_layers_.push_back(std::move(L));
    }
    // alpha * x, per channel, as a product with diag(alpha): the same floats.
    const HostMatrix alpha = take.host("prompts_generator.alpha", 1, p);
    alpha_ = take.upload(HostMatrix(alpha.row(0).asDiagonal()));
    take.finish("X-CLIP");
  }

  [[nodiscard]] const XClipConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const XClipConfig& c) { return xclip_tensor_shapes(c); }
  /// exp(logit_scale), the factor of the similarity logits.
  [[nodiscard]] float logit_scale() const noexcept { return scale_; }

  /// Uploads `frames` ([videos * frames, channels * size * size] at the
  /// model's image size, a video's frames consecutive) and the texts. Any
  /// number of frames up to the MIT's positions (num_frames) is taken.
  [[nodiscard]] Workspace prepare(B& backend, const HostMatrix& frames, int videos, const ClipTextInput& text) const {
    const auto& vc = config_.vision;
    if (videos <= 0 || frames.rows() % videos != 0 || frames.rows() / videos < 1 ||
        frames.cols() != Eigen::Index{vc.channels} * vc.image_size * vc.image_size) {
      throw std::invalid_argument("XClip: frames are [" + std::to_string(frames.rows()) + ", " +
                                  std::to_string(frames.cols()) + "], expected [videos * frames, " +
                                  std::to_string(vc.channels) + " * " + std::to_string(vc.image_size) + " * " +
                                  std::to_string(vc.image_size) + "] for " + std::to_string(videos) + " videos");
    }
    const int per_video = static_cast<int>(frames.rows() / videos);
    if (per_video > config_.frames) {
      throw std::invalid_argument("XClip: " + std::to_string(per_video) + " frames per video, " + config_.name +
                                  "'s multi-frame transformer has " + std::to_string(config_.frames) + " positions");
    }
    if (text.batch <= 0 || text.seq <= 0 || text.seq > config_.text.max_positions ||
        text.input_ids.size() != static_cast<std::size_t>(text.batch) * static_cast<std::size_t>(text.seq)) {
      throw std::invalid_argument("XClip: texts must be [batch * seq] ids with seq in [1, " +
                                  std::to_string(config_.text.max_positions) + "]");
    }
    Workspace ws;
    ws.videos = videos;
    ws.frames = per_video;
    ws.texts = text.batch;
    ws.seq = text.seq;
    const int images = videos * per_video;
    const int n = vc.tokens();
    const int patches = n - 1;
    ws.pixels = backend.upload(frames);
    ws.position_ids = backend.upload_indices(detail::position_ids(images, n));
    ws.class_rows = backend.upload_indices(detail::sequence_rows(images, n));
    std::vector<std::int32_t> keep, patch_rows, text_rows;
    for (int i = 0; i < images; ++i) {
      for (int t = 0; t < n; ++t) keep.push_back(i * (n + 1) + t);
    }
    for (int v = 0; v < videos; ++v) {
      for (int p = 0; p < patches; ++p) {
        for (int f = 0; f < per_video; ++f) patch_rows.push_back((v * per_video + f) * n + 1 + p);
      }
      for (int t = 0; t < ws.texts; ++t) text_rows.push_back(t);
    }
    ws.keep_rows = backend.upload_indices(keep);
    ws.patch_rows = backend.upload_indices(patch_rows);
    ws.text_rows = backend.upload_indices(text_rows);
    ws.frame_ids = backend.upload_indices(detail::position_ids(videos, per_video));
    ws.frame_mask = backend.upload(HostMatrix::Ones(videos, per_video));
    ws.patch_mask = backend.upload(HostMatrix::Ones(Eigen::Index{videos} * patches, per_video));
    ws.extended = backend.upload(HostMatrix::Zero(Eigen::Index{images} * (n + 1), vc.hidden));
    ws.input_ids = backend.upload_indices(text.input_ids);
    ws.text_position_ids = backend.upload_indices(detail::position_ids(ws.texts, ws.seq));
    // XCLIPTextModel pools the highest id of each text (its legacy rule, whatever eos_token_id says).
    std::vector<std::int32_t> eos_rows;
    for (int b = 0; b < ws.texts; ++b) {
      const auto row = text.input_ids.begin() + static_cast<std::ptrdiff_t>(b) * ws.seq;
      eos_rows.push_back(b * ws.seq + static_cast<std::int32_t>(std::max_element(row, row + ws.seq) - row));
    }
    ws.eos_rows = backend.upload_indices(eos_rows);
    ws.text_mask = backend.upload(text.attention_mask.size() > 0 ? text.attention_mask : HostMatrix::Ones(ws.texts, ws.seq));
    return ws;
  }

  /// The frames through the vision tower, the MIT and the patch features:
  /// ws.vision_hidden, ws.vision_pooled, ws.mit_hidden, ws.video_embeds
  /// (normalised) and ws.img_features.
  void encode_videos(B& be, Workspace& ws) const {
    const auto& vc = config_.vision;
    const int images = ws.videos * ws.frames;
    const int n = vc.tokens();
    Conv2dDims conv{images, vc.channels, vc.image_size, vc.image_size, vc.hidden, vc.patch_size, vc.patch_size, 0};
    be.conv2d(ws.pixels, patch_w_, none_, conv, ws.patches);
    be.prepend_row(ws.patches, class_, images, ws.vision_hidden);
    be.add_positions(positions_, 0, images, n, ws.vision_hidden);
    be.layer_norm(ws.vision_hidden, pre_.g, pre_.b, vc.layer_norm_eps, ws.vision_hidden);
    const AttentionDims across{ws.videos, ws.frames, ws.frames, vc.heads, vc.head_dim()};
    const AttentionDims within{images, n + 1, n + 1, vc.heads, vc.head_dim()};
    for (const VisionLayer& L : vision_layers_) {
      be.embedding_lookup(ws.vision_hidden, ws.class_rows, ws.cls);
      be.linear(ws.cls, L.message_fc_w, L.message_fc_b, ws.message);
      be.layer_norm(ws.message, L.message_ln.g, L.message_ln.b, vc.layer_norm_eps, ws.normed);
      attend(be, L.message, ws.normed, ws.normed, across, ws);
      be.add(ws.attn, ws.message);
      be.cache_write(ws.vision_hidden, CacheDims{images, n, n + 1, 0}, ws.extended);
      be.cache_write(ws.message, CacheDims{images, 1, n + 1, n}, ws.extended);
      be.layer_norm(ws.extended, L.layer.norm1_g, L.layer.norm1_b, vc.layer_norm_eps, ws.normed);
      be.linear(ws.normed, L.layer.q_w, L.layer.q_b, ws.q);
      be.linear(ws.normed, L.layer.k_w, L.layer.k_b, ws.k);
      be.linear(ws.normed, L.layer.v_w, L.layer.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, none_, within, ws.context);
      be.linear(ws.context, L.layer.o_w, L.layer.o_b, ws.attn);
      be.add(ws.attn, ws.extended);
      be.embedding_lookup(ws.extended, ws.keep_rows, ws.vision_hidden);  // the message tokens dropped
      be.layer_norm(ws.vision_hidden, L.layer.norm2_g, L.layer.norm2_b, vc.layer_norm_eps, ws.normed);
      be.linear(ws.normed, L.layer.fc1_w, L.layer.fc1_b, ws.inter);
      detail::activate(be, vc.activation, ws.inter);
      be.linear(ws.inter, L.layer.fc2_w, L.layer.fc2_b, ws.tmp);
      be.add(ws.tmp, ws.vision_hidden);
    }
    be.embedding_lookup(ws.vision_hidden, ws.class_rows, ws.vision_pooled);
    be.layer_norm(ws.vision_pooled, post_.g, post_.b, vc.layer_norm_eps, ws.vision_pooled);
    be.linear(ws.vision_pooled, visual_projection_, none_, ws.frame_embeds);
    // The MIT: positions added, the layers, its input added back, the mean over frames.
    be.embedding_lookup(mit_positions_, ws.frame_ids, ws.mit_hidden);
    be.add(ws.frame_embeds, ws.mit_hidden);
    const AttentionDims mit{ws.videos, ws.frames, ws.frames, config_.mit_heads, config_.mit_hidden / config_.mit_heads};
    for (const auto& L : mit_layers_) {
      detail::pre_norm_layer(be, L, vc.layer_norm_eps, vc.activation, none_, mit, ws.mit_hidden, ws.s);
    }
    be.add(ws.frame_embeds, ws.mit_hidden);
    be.masked_mean_pool(ws.mit_hidden, ws.frame_mask, ws.video_embeds);
    be.normalize_rows(ws.video_embeds);
    // The patch features, averaged over each video's frames.
    be.embedding_lookup(ws.vision_hidden, ws.patch_rows, ws.tmp);
    be.layer_norm(ws.tmp, prompts_visual_ln_.g, prompts_visual_ln_.b, vc.layer_norm_eps, ws.tmp);
    be.linear(ws.tmp, prompts_visual_projection_, none_, ws.inter);
    be.masked_mean_pool(ws.inter, ws.patch_mask, ws.img_features);
  }

  /// The text tower and its projection: ws.text_hidden, ws.text_pooled, ws.text_raw.
  void encode_texts(B& be, Workspace& ws) const {
    const auto& tc = config_.text;
    be.embedding_lookup(token_, ws.input_ids, ws.text_hidden);
    be.add_positions(text_positions_, 0, ws.texts, ws.seq, ws.text_hidden);
    AttentionDims dims{ws.texts, ws.seq, ws.seq, tc.heads, tc.head_dim()};
    dims.causal = true;
    for (const auto& L : text_layers_) {
      detail::pre_norm_layer(be, L, tc.layer_norm_eps, tc.activation, ws.text_mask, dims, ws.text_hidden, ws.s);
    }
    be.layer_norm(ws.text_hidden, final_.g, final_.b, tc.layer_norm_eps, ws.text_hidden);
    be.embedding_lookup(ws.text_hidden, ws.eos_rows, ws.text_pooled);
    be.linear(ws.text_pooled, text_projection_, none_, ws.text_raw);
  }

  /// The prompt generator per video and text, the normalised ws.text_embeds
  /// and ws.logits (every video against every video's texts; a video's own
  /// are logits_per_video).
  void similarity(B& be, Workspace& ws) const {
    const auto& vc = config_.vision;
    const float text_eps = config_.text.layer_norm_eps;
    const int p = config_.projection_dim;
    const int patches = vc.tokens() - 1;
    be.layer_norm(ws.img_features, prompt_ln_.g, prompt_ln_.b, vc.layer_norm_eps, ws.visual);
    be.embedding_lookup(ws.text_raw, ws.text_rows, ws.prompts);
    const AttentionDims cross{ws.videos, ws.texts, patches, config_.prompt_heads, p / config_.prompt_heads};
    for (const PromptLayer& L : prompt_layers_) {
      be.layer_norm(ws.prompts, L.norm1.g, L.norm1.b, text_eps, ws.normed);
      attend(be, L.cross, ws.normed, ws.visual, cross, ws);
      be.add(ws.attn, ws.prompts);
      be.layer_norm(ws.prompts, L.norm3.g, L.norm3.b, text_eps, ws.normed);
      be.linear(ws.normed, L.fc1_w, L.fc1_b, ws.inter);
      detail::activate(be, config_.prompt_activation, ws.inter);
      be.linear(ws.inter, L.fc2_w, L.fc2_b, ws.tmp);
      be.add(ws.tmp, ws.prompts);
    }
    be.linear(ws.prompts, alpha_, none_, ws.tmp);
    be.embedding_lookup(ws.text_raw, ws.text_rows, ws.text_embeds);
    be.add(ws.tmp, ws.text_embeds);
    be.normalize_rows(ws.text_embeds);
    be.linear(ws.video_embeds, ws.text_embeds, none_, ws.logits);
    be.scale(ws.logits, scale_);
  }

  void forward(B& be, Workspace& ws) const {
    encode_videos(be, ws);
    encode_texts(be, ws);
    similarity(be, ws);
  }

  /// logits_per_video [videos, texts]: each video against its own texts
  /// (the texts after its prompts), from ws.logits.
  [[nodiscard]] HostMatrix logits_per_video(B& be, const Workspace& ws) const {
    const HostMatrix all = be.download(ws.logits);
    HostMatrix out(ws.videos, ws.texts);
    for (int v = 0; v < ws.videos; ++v) {
      for (int t = 0; t < ws.texts; ++t) out(v, t) = all(v, Eigen::Index{v} * ws.texts + t);
    }
    return out;
  }

 private:
  struct Norm {
    Tensor g, b;
  };
  struct Attention {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  };
  struct VisionLayer {
    detail::PreNormLayer<B> layer;
    Tensor message_fc_w, message_fc_b;
    Norm message_ln;
    Attention message;
  };
  struct PromptLayer {
    Attention cross;  ///< q, k, v without biases; the output projection ("proj") with one
    Norm norm1, norm3;
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };

  static Norm norm(WeightUploader<B>& take, const std::string& p, Eigen::Index d) {
    return {take(p + ".weight", 1, d), take(p + ".bias", 1, d)};
  }

  /// The message attention (q, k, v, out_proj with biases) or the prompt
  /// generator's cross-attention (q, k, v without, proj with).
  static Attention attention(WeightUploader<B>& take, const std::string& p, Eigen::Index d, bool message) {
    Attention a;
    a.q_w = take(p + "q_proj.weight", d, d);
    a.k_w = take(p + "k_proj.weight", d, d);
    a.v_w = take(p + "v_proj.weight", d, d);
    if (message) {
      a.q_b = take(p + "q_proj.bias", 1, d);
      a.k_b = take(p + "k_proj.bias", 1, d);
      a.v_b = take(p + "v_proj.bias", 1, d);
    }
    const std::string out = message ? "out_proj" : "proj";
    a.o_w = take(p + out + ".weight", d, d);
    a.o_b = take(p + out + ".bias", 1, d);
    return a;
  }

  /// ws.attn = o(attention(q(queries), k(keys), v(keys))).
  void attend(B& be, const Attention& A, const Tensor& queries, const Tensor& keys, const AttentionDims& dims,
              Workspace& ws) const {
    be.linear(queries, A.q_w, A.q_b, ws.q);
    be.linear(keys, A.k_w, A.k_b, ws.k);
    be.linear(keys, A.v_w, A.v_b, ws.v);
    be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
    be.linear(ws.context, A.o_w, A.o_b, ws.attn);
  }

  XClipConfig config_;
  Tensor class_, patch_w_, positions_;
  Norm pre_, post_, final_, prompts_visual_ln_, prompt_ln_;
  std::vector<VisionLayer> vision_layers_;
  Tensor token_, text_positions_;
  std::vector<detail::PreNormLayer<B>> text_layers_, mit_layers_;
  Tensor visual_projection_, text_projection_, prompts_visual_projection_, mit_positions_, alpha_;
  std::vector<PromptLayer> prompt_layers_;
  float scale_ = 1;
  Tensor none_;
  WeightTally tally_;
};

}  // namespace accelbench
