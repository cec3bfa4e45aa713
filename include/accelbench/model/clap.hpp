#pragma once

// CLAP (Wu et al., 2023) as in Hugging Face transformers' ClapModel: the
// HTSAT audio encoder (with the fusion of longer clips where the config
// enables it, clap_fusion.hpp) (a Swin transformer over the log-mel
// spectrogram folded into an image) and a RoBERTa text encoder, each with a
// two-layer projection, and similarity logits. Written once over the
// backend's WindowOps: the spectrogram's batch norm is a product with a
// diagonal, the time interpolation a 1 x 1 convolution whose weights are
// PyTorch's bicubic coefficients (which also turns the frames into the
// image's columns), the folding and the windows are row gathers, and each
// window's relative position bias (with the shift mask) is a bias block of
// the attention (AttentionDims::bias_blocks).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "bert.hpp"
#include "clap_config.hpp"
#include "clap_fusion.hpp"
#include "clap_swin.hpp"
#include "common/activation.hpp"
#include "common/encoder_layers.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"

namespace accelbench {

/// The ops CLAP needs.
template <class B>
concept ClapOps = WindowOps<B>;

/// A CLAP whose weights live on backend B.
template <ClapOps B>
class Clap {
 public:
  using Config = ClapConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// The gathers of one stage at one batch size.
  struct StageRows {
    IndexTensor windows, unwindows;                  ///< blocks without a shift
    IndexTensor shifted_windows, shifted_unwindows;  ///< blocks with one (where the stage has them)
    IndexTensor merge;                               ///< 2 x 2 patch merging (all but the last stage)
  };

  /// A batch of clips and texts with the activations of their passes.
  struct Workspace {
    int audios = 0;
    int frames = 0;
    int texts = 0;
    Tensor features;      ///< [audios * channels * frames, mel_bins]
    Tensor interpolation;  ///< [spec_width, frames]: the bicubic time interpolation as a 1 x 1 convolution
    IndexTensor patch_rows;
    std::vector<StageRows> stages;
    Tensor normed, flat, spectrogram, image;  ///< the batch norm, its reshape, [audios * mel, spec_width], the folded image
    Tensor tokens;        ///< the audio encoder's state, [audios * grid², width], row-major over the grid
    Tensor windows, merged, pool_mask;
    Tensor audio_pooled;  ///< the mean of the final tokens, [audios, hidden]
    Tensor audio_embeds;  ///< projected and normalised, [audios, projection_dim]
    typename Bert<B>::Workspace text;
    IndexTensor first_rows;
    Tensor text_sigmoid;  ///< sigmoid(2 pooler(x)): the pooler's tanh is 2 of it - 1
    Tensor text_embeds;   ///< projected and normalised, [texts, projection_dim]
    Tensor logits_per_audio, logits_per_text;
    Tensor q, k, v, context, attn, inter, tmp;
    detail::ClapFusionWork<B> fusion;  ///< with fusion: the crops' tables and activations
  };

  Clap(B& backend, ClapConfig config, WeightMap weights)
      : config_(std::move(config)), text_(backend, text_config(config_), text_weights(weights)) {
    const ClapAudioConfig& a = config_.audio;
    const Eigen::Index p = config_.projection_dim, th = config_.text.hidden, ah = a.hidden();
    const std::string enc = "audio_model.audio_encoder.";
    detail::reshape_clap_convolutions(weights, a);
    WeightUploader<B> take(backend, weights, tally_);
    // logit_scale_a.exp() and logit_scale_t.exp() in float, as transformers.
    scale_a_ = std::exp(take.host("logit_scale_a", 1, 1)(0, 0));
    scale_t_ = std::exp(take.host("logit_scale_t", 1, 1)(0, 0));
    // The batch norm in PyTorch's inference form x * alpha + beta, alpha =
    // weight / sqrt(var + eps), beta = bias - mean * alpha: a product with
    // diag(alpha) plus beta.
    const HostMatrix g = take.host(enc + "batch_norm.weight", 1, a.mel_bins);
    const HostMatrix b = take.host(enc + "batch_norm.bias", 1, a.mel_bins);
    // The running statistics are buffers, not parameters (as transformers counts).
    const HostMatrix mean = weights.take(enc + "batch_norm.running_mean", 1, a.mel_bins);
    const HostMatrix var = weights.take(enc + "batch_norm.running_var", 1, a.mel_bins);
    HostMatrix alpha(1, a.mel_bins), beta(1, a.mel_bins);
    for (int f = 0; f < a.mel_bins; ++f) {
      alpha(0, f) = g(0, f) * (1.0f / std::sqrt(var(0, f) + 1e-5f));
      beta(0, f) = b(0, f) - mean(0, f) * alpha(0, f);
    }
    bn_scale_ = take.upload(HostMatrix(alpha.row(0).asDiagonal()));
    bn_shift_ = take.upload(beta);
    patch_w_ = take(enc + "patch_embed.proj.weight", a.embed, Eigen::Index{a.patch} * a.patch);
    patch_b_ = take(enc + "patch_embed.proj.bias", 1, a.embed);
    if (a.patch_norm) patch_norm_ = norm(take, enc + "patch_embed.norm", a.embed);
    if (a.fusion) fusion_ = detail::ClapFusion<B>(take, weights, a);
    const detail::PreNormLayerNames names{"layernorm_before", "attention.self.query", "attention.self.key",
                                          "attention.self.value", "attention.output.dense", "layernorm_after",
                                          "intermediate.dense", "output.dense"};
    for (int s = 0; s < a.stages(); ++s) {
      Stage S;
      const int w = a.window_of(s), heads = a.heads[static_cast<std::size_t>(s)];
      const Eigen::Index cells = Eigen::Index{2 * a.window - 1} * (2 * a.window - 1);
      for (int blk = 0; blk < a.depths[static_cast<std::size_t>(s)]; ++blk) {
        const std::string q = detail::clap_block_prefix(s, blk);
        Block L;
        L.layer = detail::take_pre_norm_layer<B>(take, q, names, a.width(s), a.intermediate(s), a.qkv_bias);
        const HostMatrix table = take.host(q + "attention.self.relative_position_bias_table", cells, heads);
        L.shift = a.shift(s, blk);
        const HostMatrix bias = detail::swin_attention_bias(table, heads, a.window, w, a.resolution(s), L.shift);
        L.bias_blocks = static_cast<int>(bias.rows() / (Eigen::Index{heads} * w * w));
        L.bias = take.upload(bias);
        S.blocks.push_back(std::move(L));
      }
      if (s + 1 < a.stages()) {
        S.merge_norm = norm(take, detail::clap_merge_prefix(s) + "norm", 4 * Eigen::Index{a.width(s)});
        S.reduction = take(detail::clap_merge_prefix(s) + "reduction.weight", 2 * Eigen::Index{a.width(s)},
                           4 * Eigen::Index{a.width(s)});
      }
      stages_.push_back(std::move(S));
    }
    final_norm_ = norm(take, enc + "norm", ah);
    audio_projection_ = projection(take, "audio_projection", ah, p, false);
    // The pooler's tanh as 2 sigmoid(2x) - 1: the dense layer doubled, and
    // the 2 and - 1 folded into the text projection's first layer (W (2s - 1)
    // + b = (2W) s + (b - W 1)).
    pooler_w_ = take.upload(2.0f * take.host("text_model.pooler.dense.weight", th, th));
    pooler_b_ = take.upload(2.0f * take.host("text_model.pooler.dense.bias", 1, th));
    text_projection_ = projection(take, "text_projection", th, p, true);
    take.finish("CLAP");
  }

  [[nodiscard]] const ClapConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters + text_.parameters(); }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes + text_.weight_bytes(); }
  [[nodiscard]] static TensorShapes tensor_shapes(const ClapConfig& c) { return clap_tensor_shapes(c); }
  /// exp(logit_scale_a) and exp(logit_scale_t), the factors of the logits per audio and per text.
  [[nodiscard]] float logit_scale_audio() const noexcept { return scale_a_; }
  [[nodiscard]] float logit_scale_text() const noexcept { return scale_t_; }

  /// Uploads `features` ([audios * channels * frames, mel_bins]: ClapModel's
  /// input_features (audios, channels, frames, mel_bins) row by row, at
  /// most spec_width frames; four channels with fusion, one without) and the
  /// texts, whose positions are counted from their ids as RoBERTa does. With
  /// fusion, `longer` says which clips take the fusion path (transformers'
  /// is_longer; empty: none).
  [[nodiscard]] Workspace prepare(B& backend, const HostMatrix& features, int audios, BertInput text,
                                  std::vector<std::int32_t> longer = {}) const {
    const ClapAudioConfig& a = config_.audio;
    const Eigen::Index per_clip = Eigen::Index{audios} * a.channels();
    if (audios <= 0 || features.rows() % per_clip != 0 || features.rows() == 0 || features.cols() != a.mel_bins ||
        features.rows() / per_clip > a.spec_width()) {
      throw std::invalid_argument("Clap: features are [" + std::to_string(features.rows()) + ", " +
                                  std::to_string(features.cols()) + "], expected [audios * " +
                                  std::to_string(a.channels()) + " channels * frames, " + std::to_string(a.mel_bins) +
                                  "] for " + std::to_string(audios) + " audios of 1 to " +
                                  std::to_string(a.spec_width()) + " frames");
    }
    if (longer.empty()) longer.assign(static_cast<std::size_t>(audios), 0);
    if (longer.size() != static_cast<std::size_t>(audios) || (!a.fusion && std::count(longer.begin(), longer.end(), 0) != audios)) {
      throw std::invalid_argument("Clap: is_longer has " + std::to_string(longer.size()) + " values for " +
                                  std::to_string(audios) + " audios" +
                                  (a.fusion ? "" : "; without fusion no clip takes the fusion path"));
    }
    if (text.batch <= 0 || text.seq <= 0 || text.seq + config_.pad_token_id + 1 > config_.text.max_positions ||
        text.input_ids.size() != static_cast<std::size_t>(text.batch) * static_cast<std::size_t>(text.seq)) {
      throw std::invalid_argument("Clap: texts must be [batch * seq] ids with seq in [1, " +
                                  std::to_string(config_.text.max_positions - config_.pad_token_id - 1) + "]");
    }
    Workspace ws;
    ws.audios = audios;
    ws.frames = static_cast<int>(features.rows() / per_clip);
    ws.texts = text.batch;
    ws.features = backend.upload(features);
    ws.interpolation = backend.upload(detail::bicubic_interpolation(ws.frames, a.spec_width()));
    ws.patch_rows = backend.upload_indices(detail::clap_patch_rows(a, audios));
    if (a.fusion) ws.fusion = detail::clap_fusion_work(backend, a, audios, longer);
    for (int s = 0; s < a.stages(); ++s) {
      StageRows R;
      const int res = a.resolution(s), w = a.window_of(s);
      const auto partition = [&](int shift, IndexTensor& windows, IndexTensor& unwindows) {
        const auto rows = detail::swin_window_rows(audios, res, w, shift);
        windows = backend.upload_indices(rows);
        unwindows = backend.upload_indices(detail::inverse_rows(rows));
      };
      partition(0, R.windows, R.unwindows);
      if (a.depths[static_cast<std::size_t>(s)] > 1 && a.shift(s, 1) > 0) {
        partition(a.shift(s, 1), R.shifted_windows, R.shifted_unwindows);
      }
      if (s + 1 < a.stages()) R.merge = backend.upload_indices(detail::swin_merge_rows(audios, res));
      ws.stages.push_back(std::move(R));
    }
    const int last = a.resolution(a.stages() - 1);
    ws.pool_mask = backend.upload(HostMatrix::Ones(audios, Eigen::Index{last} * last));
    text.token_type_ids.assign(text.input_ids.size(), 0);
    text.position_ids = clap_position_ids(text.input_ids, text.seq, config_.pad_token_id);
    if (text.attention_mask.size() == 0) text.attention_mask = HostMatrix::Ones(text.batch, text.seq);
    ws.text = text_.prepare(backend, text);
    ws.first_rows = backend.upload_indices(detail::sequence_rows(text.batch, text.seq));
    return ws;
  }

  /// The clips through the audio encoder and its projection: ws.tokens (the
  /// final norm's output), ws.audio_pooled and the normalised ws.audio_embeds.
  void encode_audio(B& be, Workspace& ws) const {
    const ClapAudioConfig& a = config_.audio;
    const int n = ws.audios, mel = a.mel_bins, width = a.spec_width(), channels = a.channels();
    be.linear(ws.features, bn_scale_, bn_shift_, ws.normed);
    // Each clip's (and crop's) frames become the channels of a 1 x mel image, so that
    // the 1 x 1 convolution interpolates time and lays each mel bin out as a row.
    be.reshape(ws.normed, n * channels, ws.frames * mel, ws.flat);
    be.conv2d(ws.flat, ws.interpolation, none_, Conv2dDims{n * channels, ws.frames, 1, mel, width, 1, 1, 0},
              ws.spectrogram);
    if (a.fusion) {  // the whole clip is channel 0
      be.embedding_lookup(ws.spectrogram, ws.fusion.global_rows, ws.fusion.channel0);
      be.reshape(ws.fusion.channel0, n, mel * width, ws.image);
    } else {
      be.reshape(ws.spectrogram, n, mel * width, ws.image);
    }
    // The patch embedding over the [mel, spec_width] spectrogram, whose
    // patches are those of the folded spec_size x spec_size image in another
    // order; patch_rows puts them in the image's.
    be.conv2d(ws.image, patch_w_, patch_b_, Conv2dDims{n, 1, mel, width, a.embed, a.patch, a.patch, 0}, ws.tmp);
    be.embedding_lookup(ws.tmp, ws.patch_rows, ws.tokens);
    if (a.fusion && ws.fusion.any_longer) detail::clap_fuse(be, fusion_, a, n, ws.spectrogram, ws.tokens, ws.fusion);
    if (a.patch_norm) be.layer_norm(ws.tokens, patch_norm_.g, patch_norm_.b, 1e-5f, ws.tokens);
    for (int s = 0; s < a.stages(); ++s) {
      const Stage& S = stages_[static_cast<std::size_t>(s)];
      const StageRows& R = ws.stages[static_cast<std::size_t>(s)];
      const int res = a.resolution(s), w = a.window_of(s), heads = a.heads[static_cast<std::size_t>(s)];
      for (const Block& L : S.blocks) {
        const bool shifted = L.shift > 0;
        AttentionDims dims{n * (res / w) * (res / w), w * w, w * w, heads, a.width(s) / heads};
        dims.bias_blocks = L.bias_blocks;
        be.layer_norm(ws.tokens, L.layer.norm1_g, L.layer.norm1_b, a.layer_norm_eps, ws.tmp);
        be.embedding_lookup(ws.tmp, shifted ? R.shifted_windows : R.windows, ws.windows);
        be.linear(ws.windows, L.layer.q_w, L.layer.q_b, ws.q);
        be.linear(ws.windows, L.layer.k_w, L.layer.k_b, ws.k);
        be.linear(ws.windows, L.layer.v_w, L.layer.v_b, ws.v);
        be.attention(ws.q, ws.k, ws.v, none_, L.bias, dims, ws.context);
        be.linear(ws.context, L.layer.o_w, L.layer.o_b, ws.attn);
        be.embedding_lookup(ws.attn, shifted ? R.shifted_unwindows : R.unwindows, ws.tmp);
        be.add(ws.tmp, ws.tokens);
        be.layer_norm(ws.tokens, L.layer.norm2_g, L.layer.norm2_b, a.layer_norm_eps, ws.tmp);
        be.linear(ws.tmp, L.layer.fc1_w, L.layer.fc1_b, ws.inter);
        detail::activate(be, a.activation, ws.inter);
        be.linear(ws.inter, L.layer.fc2_w, L.layer.fc2_b, ws.tmp);
        be.add(ws.tmp, ws.tokens);
      }
      if (s + 1 < a.stages()) {
        be.embedding_lookup(ws.tokens, R.merge, ws.tmp);
        be.reshape(ws.tmp, n * (res / 2) * (res / 2), 4 * a.width(s), ws.merged);
        be.layer_norm(ws.merged, S.merge_norm.g, S.merge_norm.b, 1e-5f, ws.merged);
        be.linear(ws.merged, S.reduction, none_, ws.tokens);
      }
    }
    be.layer_norm(ws.tokens, final_norm_.g, final_norm_.b, 1e-5f, ws.tokens);
    be.masked_mean_pool(ws.tokens, ws.pool_mask, ws.audio_pooled);
    project(be, audio_projection_, ws.audio_pooled, ws.audio_embeds, ws);
  }

  /// The texts through RoBERTa, its pooler and the projection:
  /// ws.text.hidden, ws.text_sigmoid and the normalised ws.text_embeds.
  void encode_texts(B& be, Workspace& ws) const {
    text_.encode(be, ws.text);
    be.embedding_lookup(ws.text.hidden, ws.first_rows, ws.tmp);
    be.linear(ws.tmp, pooler_w_, pooler_b_, ws.text_sigmoid);
    be.sigmoid(ws.text_sigmoid);
    project(be, text_projection_, ws.text_sigmoid, ws.text_embeds, ws);
  }

  /// logits_per_audio [audios, texts] and logits_per_text [texts, audios].
  void similarity(B& be, Workspace& ws) const {
    be.linear(ws.audio_embeds, ws.text_embeds, none_, ws.logits_per_audio);
    be.scale(ws.logits_per_audio, scale_a_);
    be.linear(ws.text_embeds, ws.audio_embeds, none_, ws.logits_per_text);
    be.scale(ws.logits_per_text, scale_t_);
  }

  void forward(B& be, Workspace& ws) const {
    encode_audio(be, ws);
    encode_texts(be, ws);
    similarity(be, ws);
  }

  /// The text pooler's output tanh(dense(first token)), [texts, hidden].
  [[nodiscard]] HostMatrix text_pooled(B& be, const Workspace& ws) const {
    return (2.0f * be.download(ws.text_sigmoid).array() - 1.0f).matrix();
  }

 private:
  struct Norm {
    Tensor g, b;
  };
  struct Block {
    detail::PreNormLayer<B> layer;
    Tensor bias;  ///< [bias_blocks * heads * window², window²]
    int bias_blocks = 1;
    int shift = 0;
  };
  struct Stage {
    std::vector<Block> blocks;
    Norm merge_norm;
    Tensor reduction;
  };
  struct Projection {
    Tensor w1, b1, w2, b2;
  };

  /// The text tower's configuration, once the whole is checked.
  static BertConfig text_config(const ClapConfig& c) {
    validate_clap_config(c);
    BertConfig t = c.text;
    t.name = c.name + " text";
    return t;
  }

  /// The text tower's tensors (text_model.*, the pooler's left for CLAP) under BertModel's names.
  static WeightMap text_weights(WeightMap& all) {
    WeightMap out;
    for (const std::string& name : all.names()) {
      if (!name.starts_with("text_model.") || name.starts_with("text_model.pooler.")) continue;
      all.move_to(name, out, name.substr(11));
    }
    return out;
  }

  static Norm norm(WeightUploader<B>& take, const std::string& p, Eigen::Index d) {
    return {take(p + ".weight", 1, d), take(p + ".bias", 1, d)};
  }

  /// linear1, activation, linear2; `from_sigmoid`: linear1 takes the
  /// pooler's sigmoid(2x) in place of tanh(x) (see the constructor).
  Projection projection(WeightUploader<B>& take, const std::string& p, Eigen::Index in, Eigen::Index out,
                        bool from_sigmoid) const {
    Projection P;
    HostMatrix w1 = take.host(p + ".linear1.weight", out, in);
    HostMatrix b1 = take.host(p + ".linear1.bias", 1, out);
    if (from_sigmoid) {
      b1 = (b1.cast<double>() - w1.cast<double>().rowwise().sum().transpose()).cast<float>();
      w1 *= 2.0f;
    }
    P.w1 = take.upload(w1);
    P.b1 = take.upload(b1);
    P.w2 = take(p + ".linear2.weight", out, out);
    P.b2 = take(p + ".linear2.bias", 1, out);
    return P;
  }

  void project(B& be, const Projection& P, const Tensor& x, Tensor& y, Workspace& ws) const {
    be.linear(x, P.w1, P.b1, ws.inter);
    detail::activate(be, config_.projection_activation, ws.inter);
    be.linear(ws.inter, P.w2, P.b2, y);
    be.normalize_rows(y);
  }

  ClapConfig config_;
  Bert<B> text_;
  Tensor bn_scale_, bn_shift_, patch_w_, patch_b_;
  Norm patch_norm_, final_norm_;
  detail::ClapFusion<B> fusion_;
  std::vector<Stage> stages_;
  Projection audio_projection_, text_projection_;
  Tensor pooler_w_, pooler_b_;
  float scale_a_ = 1, scale_t_ = 1;
  Tensor none_;
  WeightTally tally_;
};

}  // namespace accelbench
