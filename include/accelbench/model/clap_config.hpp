#pragma once

// CLAP's dimensions (transformers' ClapConfig with ClapAudioConfig and
// ClapTextConfig), presets, the tensors of ClapModel, synthetic inputs and
// weights. The model is in clap.hpp, the reading of checkpoints in
// clap_checkpoint.hpp.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../detail/rng.hpp"
#include "bert.hpp"
#include "common/activation.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

/// The HTSAT audio encoder of ClapAudioModel: a batch norm
/// per mel bin, the spectrogram folded into a spec_size x spec_size image
/// (time interpolated to spec_size * freq_ratio frames first), a patch
/// embedding, Swin stages of window attention with relative position bias
/// (every second block on windows shifted by half a window), 2 x 2 patch
/// merging between stages, a final layer norm and the mean over tokens.
/// With fusion (clap-htsat-fused) the input has four channels, the whole
/// clip and three local crops of a longer one; for a clip longer than the
/// window the crops' patch embeddings (a patch x 3 patch convolution) are
/// fused into the whole clip's by an attentional feature fusion block.
struct ClapAudioConfig {
  int mel_bins = 64;                   ///< num_mel_bins
  int spec_size = 256;                 ///< the side of the folded spectrogram image
  int window = 8;                      ///< window_size
  int patch = 4;                       ///< patch_size = patch_stride
  int embed = 96;                      ///< patch_embeds_hidden_size: the first stage's width
  std::vector<int> depths{2, 2, 6, 2};  ///< blocks per stage
  std::vector<int> heads{4, 8, 16, 32};  ///< attention heads per stage
  double mlp_ratio = 4.0;              ///< a block's feed-forward is int(mlp_ratio * width) wide
  bool qkv_bias = true;
  bool patch_norm = true;              ///< enable_patch_layer_norm
  float layer_norm_eps = 1e-5f;        ///< the blocks' (the other norms use PyTorch's 1e-5)
  Activation activation = Activation::gelu;
  int frames = 1001;                   ///< the input's frames by default: ClapFeatureExtractor's 10 s clips
  bool fusion = false;                 ///< enable_fusion
  int aff_ratio = 4;                   ///< aff_block_r: the fusion block's channels are embed / aff_ratio

  [[nodiscard]] int stages() const noexcept { return static_cast<int>(depths.size()); }
  [[nodiscard]] int freq_ratio() const noexcept { return mel_bins > 0 ? spec_size / mel_bins : 0; }
  /// The frames the model takes: shorter inputs are interpolated to it.
  [[nodiscard]] int spec_width() const noexcept { return spec_size * freq_ratio(); }
  [[nodiscard]] int grid() const noexcept { return patch > 0 ? spec_size / patch : 0; }
  [[nodiscard]] int width(int stage) const noexcept { return embed << stage; }
  /// hidden_size: the last stage's width.
  [[nodiscard]] int hidden() const noexcept { return stages() > 0 ? width(stages() - 1) : 0; }
  [[nodiscard]] int resolution(int stage) const noexcept { return grid() >> stage; }
  /// The window of a stage: the whole grid where it is no larger than window_size.
  [[nodiscard]] int window_of(int stage) const noexcept { return std::min(window, resolution(stage)); }
  /// The cyclic shift of block `block` of a stage: half a window in every
  /// second block, none where the window covers the grid.
  [[nodiscard]] int shift(int stage, int block) const noexcept {
    return block % 2 == 1 && resolution(stage) > window ? window / 2 : 0;
  }
  [[nodiscard]] int intermediate(int stage) const noexcept {
    return static_cast<int>(mlp_ratio * static_cast<double>(width(stage)));
  }
  /// The input's channels: the clip, and with fusion its three local crops.
  [[nodiscard]] int channels() const noexcept { return fusion ? 4 : 1; }
  /// The fusion block's inner channels.
  [[nodiscard]] int aff_channels() const noexcept { return aff_ratio > 0 ? embed / aff_ratio : 0; }
  /// Columns of a local crop's patch x 3 patch embedding (floor(spec_size / (3 patch))).
  [[nodiscard]] int local_columns() const noexcept { return patch > 0 ? spec_size / (3 * patch) : 0; }
};

/// ClapModel: the HTSAT audio encoder, a RoBERTa text encoder with its
/// pooler (dense + tanh of the first token), two-layer projections into a
/// shared space, and similarity logits scaled by exp(logit_scale_a) per
/// audio and exp(logit_scale_t) per text.
struct ClapConfig {
  std::string name;
  ClapAudioConfig audio;
  BertConfig text;           ///< RoBERTa: BERT's layers, positions counted from pad_token_id + 1
  int pad_token_id = 1;
  int text_length = 77;      ///< the benchmark's texts: LAION-CLAP's tokenizer pads to 77
  int projection_dim = 512;
  Activation projection_activation = Activation::relu;
  float logit_scale_init = 2.65926f;  ///< synthetic weights' logit scales: log(1 / 0.07)
  std::vector<std::string> aliases;

  /// Parameters of ClapModel (both logit scales included, the batch norm's statistics not).
  [[nodiscard]] std::int64_t parameter_count() const noexcept;
  /// Floating-point operations of `audios` clips of `frames` frames and
  /// `texts` texts of `seq` tokens (a multiply-add counts as two).
  [[nodiscard]] double flops(int audios, int frames, int texts, int seq) const noexcept;
};

/// Presets: clap-htsat-unfused and clap-htsat-fused (laion's checkpoints'
/// dimensions: HTSAT-tiny and RoBERTa-base, the second with the fusion of
/// longer clips) and clap-tiny.
inline const std::vector<ClapConfig>& clap_presets() {
  static const std::vector<ClapConfig> presets = [] {
    ClapConfig base;
    base.name = "clap-htsat-unfused";
    base.aliases = {"laion/clap-htsat-unfused"};
    base.text = {"", 12, 768, 12, 3072, 50265, 514, 1, 1e-12f, {}};
    ClapConfig fused = base;
    fused.name = "clap-htsat-fused";
    fused.aliases = {"laion/clap-htsat-fused"};
    fused.audio.fusion = true;
    ClapConfig tiny;
    tiny.name = "clap-tiny";
    tiny.audio.embed = 16;
    tiny.audio.depths = {2, 2, 2, 2};
    tiny.audio.heads = {1, 2, 4, 8};
    tiny.text = {"", 2, 128, 2, 512, 50265, 514, 1, 1e-12f, {}};
    tiny.projection_dim = 128;
    return std::vector<ClapConfig>{base, fused, tiny};
  }();
  return presets;
}

/// Checks that a configuration describes a CLAP that can be built: the
/// spectrogram folds into whole patches, every stage's grid is whole windows
/// and halves evenly, and the text tower's positions hold text_length tokens.
inline void validate_clap_config(const ClapConfig& c) {
  const detail::FieldCheck check = detail::FieldCheck::of_model(c.name);
  const ClapAudioConfig& a = c.audio;
  check.positive("audio.mel_bins", a.mel_bins);
  check.positive("audio.spec_size", a.spec_size);
  check.positive("audio.window", a.window);
  check.positive("audio.patch", a.patch);
  check.positive("audio.embed", a.embed);
  check.positive("audio.frames", a.frames);
  check.positive("audio.layer_norm_eps", a.layer_norm_eps);
  if (a.fusion) {
    check.positive("audio.aff_ratio", a.aff_ratio);
    check.positive("audio.aff_channels", a.aff_channels());
    check.positive("audio.local_columns", a.local_columns());
  }
  if (a.spec_size % a.mel_bins != 0) {
    check.fail("audio.spec_size", std::to_string(a.spec_size),
               "must be a multiple of num_mel_bins (" + std::to_string(a.mel_bins) +
                   "): interpolating the frequency axis is not implemented");
  }
  if (a.mel_bins % a.patch != 0 || a.spec_size % a.patch != 0) {
    check.fail("audio.patch", std::to_string(a.patch),
               "must divide num_mel_bins (" + std::to_string(a.mel_bins) + ") and spec_size (" +
                   std::to_string(a.spec_size) + "): patches across the spectrogram's folds are not implemented");
  }
  if (a.depths.empty() || a.depths.size() > 16 || a.heads.size() != a.depths.size()) {
    check.fail("audio.depths", std::to_string(a.depths.size()) + " stages",
               "must be 1 to 16 stages, one number of heads each (" + std::to_string(a.heads.size()) + " given)");
  }
  if (a.frames > a.spec_width()) {
    check.fail("audio.frames", std::to_string(a.frames),
               "exceeds the " + std::to_string(a.spec_width()) + " frames the model takes (spec_size * freq_ratio)");
  }
  for (int s = 0; s < a.stages(); ++s) {
    std::string stage(1, '[');  // appended piece by piece: GCC 12's -Wrestrict misfires on "[" + std::string at -O3
    stage += std::to_string(s);
    stage += ']';
    check.positive("audio.depths" + stage, a.depths[static_cast<std::size_t>(s)]);
    check.positive("audio.heads" + stage, a.heads[static_cast<std::size_t>(s)]);
    check.divides("audio.heads" + stage, a.heads[static_cast<std::size_t>(s)], a.width(s));
    const int res = a.resolution(s);
    if (res < a.window || res % a.window != 0 || (s + 1 < a.stages() && res % 2 != 0)) {
      check.fail("audio.window", std::to_string(a.window),
                 "stage " + std::to_string(s) + "'s grid of " + std::to_string(res) + " x " + std::to_string(res) +
                     " tokens must be whole windows and halve evenly: padding is not implemented");
    }
    if (a.intermediate(s) <= 0) check.fail("audio.mlp_ratio", std::to_string(a.mlp_ratio), "must be positive");
  }
  const int last = a.resolution(a.stages() - 1);
  if (last % a.freq_ratio() != 0) {
    check.fail("audio.spec_size", std::to_string(a.spec_size),
               "the last stage's " + std::to_string(last) + " rows must split into freq_ratio (" +
                   std::to_string(a.freq_ratio()) + ") groups, as ClapAudioEncoder's final reshape needs");
  }
  BertConfig text = c.text;
  text.name = c.name.empty() ? "text" : c.name + ".text";
  validate_bert_config(text);
  if (c.pad_token_id < 0 || c.pad_token_id >= c.text.vocab_size) {
    check.fail("pad_token_id", std::to_string(c.pad_token_id), "must be a token id of the vocabulary");
  }
  check.positive("text_length", c.text_length);
  if (c.text_length + c.pad_token_id + 1 > c.text.max_positions) {
    check.fail("text_length", std::to_string(c.text_length),
               "exceeds the text tower's positions: RoBERTa counts them from pad_token_id + 1, so at most " +
                   std::to_string(c.text.max_positions - c.pad_token_id - 1) + " tokens");
  }
  check.positive("projection_dim", c.projection_dim);
}

namespace detail {

inline std::string clap_block_prefix(int stage, int block) {
  return "audio_model.audio_encoder.layers." + std::to_string(stage) + ".blocks." + std::to_string(block) + ".";
}

inline std::string clap_merge_prefix(int stage) {
  return "audio_model.audio_encoder.layers." + std::to_string(stage) + ".downsample.";
}

/// The fusion block's convolutions under "...fusion_model.": local_att.0
/// and .3, global_att.1 and .4 (each followed by its batch norm).
inline const char* const clap_fusion_convs[4] = {"local_att.0", "local_att.3", "global_att.1", "global_att.4"};

/// The convolutions of a checkpoint as the model takes them, [out, in *
/// kernel height * kernel width] (safetensors' 4-D [out, in, kh, kw] arrives
/// as [out * in * kh, kw]): the patch embedding, and with fusion the crops'
/// patch x 3 patch one and the fusion block's 1 x 1 ones.
inline void reshape_clap_convolutions(WeightMap& w, const ClapAudioConfig& a) {
  const std::string p = "audio_model.audio_encoder.patch_embed.";
  const auto to_rows = [&](const std::string& name, Eigen::Index out, Eigen::Index in) {
    if (!w.contains(name)) return;
    const HostMatrix& t = w.at(name);
    if (t.size() != out * in || (t.rows() == out && t.cols() == in)) return;
    HostMatrix m = w.take(name, t.rows(), t.cols());
    w.insert(name, HostMatrix(Eigen::Map<const HostMatrix>(m.data(), out, in)));
  };
  to_rows(p + "proj.weight", a.embed, Eigen::Index{a.patch} * a.patch);
  if (!a.fusion) return;
  to_rows(p + "mel_conv2d.weight", a.embed, 3 * Eigen::Index{a.patch} * a.patch);
  for (int k = 0; k < 4; ++k) {
    const bool down = k % 2 == 0;
    to_rows(p + "fusion_model." + clap_fusion_convs[k] + ".weight", down ? a.aff_channels() : a.embed,
            down ? a.embed : a.aff_channels());
  }
}

}  // namespace detail

/// The shape of every tensor of a ClapModel by its name; the patch
/// convolution as [embed, patch * patch], 1-D tensors as [1, n].
inline TensorShapes clap_tensor_shapes(const ClapConfig& c) {
  const ClapAudioConfig& a = c.audio;
  const Eigen::Index p = c.projection_dim, ah = a.hidden(), th = c.text.hidden;
  const std::string enc = "audio_model.audio_encoder.";
  TensorShapes s;
  const auto vec = [&](const std::string& name, Eigen::Index n) { s.push_back({name, {1, n}}); };
  const auto linear = [&](const std::string& name, Eigen::Index out, Eigen::Index in, bool bias = true) {
    s.push_back({name + ".weight", {out, in}});
    if (bias) vec(name + ".bias", out);
  };
  const auto norm = [&](const std::string& name, Eigen::Index n) {
    vec(name + ".weight", n);
    vec(name + ".bias", n);
  };
  s.push_back({"logit_scale_a", {1, 1}});
  s.push_back({"logit_scale_t", {1, 1}});
  for (const char* n : {"weight", "bias", "running_mean", "running_var"}) vec(enc + "batch_norm." + n, a.mel_bins);
  linear(enc + "patch_embed.proj", a.embed, Eigen::Index{a.patch} * a.patch);
  if (a.patch_norm) norm(enc + "patch_embed.norm", a.embed);
  if (a.fusion) {
    const Eigen::Index e = a.embed, in = a.aff_channels();
    linear(enc + "patch_embed.mel_conv2d", e, 3 * Eigen::Index{a.patch} * a.patch);
    const std::string aff = enc + "patch_embed.fusion_model.";
    const auto bn = [&](const std::string& name, Eigen::Index n) {
      for (const char* v : {"weight", "bias", "running_mean", "running_var"}) vec(name + "." + v, n);
    };
    for (const std::string att : {"local_att.", "global_att."}) {
      const int first = att == "local_att." ? 0 : 1;  // global_att starts with its pooling
      linear(aff + att + std::to_string(first), in, e);
      bn(aff + att + std::to_string(first + 1), in);
      linear(aff + att + std::to_string(first + 3), e, in);
      bn(aff + att + std::to_string(first + 4), e);
    }
  }
  for (int st = 0; st < a.stages(); ++st) {
    const Eigen::Index w = a.width(st), inter = a.intermediate(st), table = 2 * Eigen::Index{a.window} - 1;
    for (int b = 0; b < a.depths[static_cast<std::size_t>(st)]; ++b) {
      const std::string q = detail::clap_block_prefix(st, b);
      norm(q + "layernorm_before", w);
      s.push_back({q + "attention.self.relative_position_bias_table", {table * table, a.heads[static_cast<std::size_t>(st)]}});
      for (const char* n : {"query", "key", "value"}) linear(q + "attention.self." + n, w, w, a.qkv_bias);
      linear(q + "attention.output.dense", w, w);
      norm(q + "layernorm_after", w);
      linear(q + "intermediate.dense", inter, w);
      linear(q + "output.dense", w, inter);
    }
    if (st + 1 < a.stages()) {
      norm(detail::clap_merge_prefix(st) + "norm", 4 * w);
      linear(detail::clap_merge_prefix(st) + "reduction", 2 * w, 4 * w, false);
    }
  }
  norm(enc + "norm", ah);
  linear("audio_projection.linear1", p, ah);
  linear("audio_projection.linear2", p, p);
  for (auto& [name, shape] : bert_tensor_shapes(c.text)) s.push_back({"text_model." + name, shape});
  linear("text_model.pooler.dense", th, th);
  linear("text_projection.linear1", p, th);
  linear("text_projection.linear2", p, p);
  return s;
}

/// Parameters as transformers counts them (num_parameters()): the batch
/// norms' running statistics are buffers, left out.
inline std::int64_t ClapConfig::parameter_count() const noexcept {
  std::int64_t n = 0;
  for (const auto& [name, shape] : clap_tensor_shapes(*this)) {
    if (!name.ends_with("running_mean") && !name.ends_with("running_var")) n += shape[0] * shape[1];
  }
  return n;
}

inline double ClapConfig::flops(int audios, int frames_run, int texts, int seq) const noexcept {
  const ClapAudioConfig& a = audio;
  const double n = audios;
  const double grid = a.grid();
  // batch norm, the time interpolation (a product with the [spec_width, frames] matrix) and the patch embedding
  const double channels = a.channels();
  double total = channels * (2.0 * n * a.mel_bins * double(a.spec_width()) * frames_run +
                             2.0 * n * double(frames_run) * a.mel_bins) +
                 2.0 * n * grid * grid * a.embed * a.patch * a.patch;
  if (a.fusion) {  // every clip longer: the crops' embedding and the fusion block's 1 x 1 convolutions
    total += 2.0 * n * 3.0 * grid * a.local_columns() * a.embed * 3.0 * a.patch * a.patch +
             2.0 * n * grid * grid * 2.0 * a.embed * a.aff_channels();
  }
  for (int st = 0; st < a.stages(); ++st) {
    const double tokens = n * double(a.resolution(st)) * a.resolution(st);
    const double w = a.width(st);
    const double window_tokens = double(a.window_of(st)) * a.window_of(st);
    const double block = 2.0 * tokens * (4.0 * w * w + 2.0 * w * a.intermediate(st)) + 4.0 * tokens * window_tokens * w;
    total += a.depths[static_cast<std::size_t>(st)] * block;
    if (st + 1 < a.stages()) total += 2.0 * (tokens / 4.0) * 4.0 * w * 2.0 * w;
  }
  const double p = projection_dim;
  total += 2.0 * n * (a.hidden() * p + p * p);
  BertConfig t = text;
  total += t.flops(texts, seq) + 2.0 * texts * (double(t.hidden) * t.hidden + t.hidden * p + p * p);
  return total + 4.0 * n * texts * p;
}

/// Deterministic synthetic weights (see synthetic_weights): norms' scales
/// and the batch norm's variances near one, both logit scales at
/// logit_scale_init.
inline WeightMap synthetic_clap_weights(const ClapConfig& c, std::uint64_t seed) {
  validate_clap_config(c);
  WeightMap w = synthetic_weights(clap_tensor_shapes(c), seed, [](std::string_view n) {
    return name_contains_any(n, {"LayerNorm", "layernorm", "norm.", "batch_norm.weight", "running_var"});
  });
  for (const char* n : {"logit_scale_a", "logit_scale_t"}) {
    (void)w.take(n, 1, 1);
    w.insert(n, HostMatrix::Constant(1, 1, c.logit_scale_init));
  }
  return w;
}

/// Deterministic synthetic log-mel features of `audios` clips of `frames`
/// frames: [audios * channels * frames, mel_bins] (ClapModel's
/// input_features (audios, channels, frames, mel_bins) row by row; four
/// channels with fusion), uniform in [-1, 1), drawn from the counter-based
/// generator's stream "clap.input_features".
[[nodiscard]] inline HostMatrix make_clap_features(const ClapConfig& c, int audios, int frames, std::uint64_t seed) {
  if (audios <= 0 || frames <= 0) {
    throw std::invalid_argument("make_clap_features: audios " + std::to_string(audios) + " and frames " +
                                std::to_string(frames) + " must be positive");
  }
  HostMatrix f(Eigen::Index{audios} * c.audio.channels() * frames, c.audio.mel_bins);
  const std::uint64_t stream = detail::stream_seed(seed, "clap.input_features");
  for (Eigen::Index k = 0; k < f.size(); ++k) {
    f.data()[k] = 2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(k)) - 1.0f;
  }
  return f;
}

/// RoBERTa's positions of `ids` ([batch * seq]): the count of non-padding
/// tokens so far plus pad_token_id for every token that is not the pad id,
/// pad_token_id for those that are (transformers'
/// create_position_ids_from_input_ids).
[[nodiscard]] inline std::vector<std::int32_t> clap_position_ids(const std::vector<std::int32_t>& ids, int seq, int pad) {
  std::vector<std::int32_t> out(ids.size());
  for (std::size_t b = 0; seq > 0 && b * static_cast<std::size_t>(seq) < ids.size(); ++b) {
    std::int32_t count = 0;
    for (int i = 0; i < seq; ++i) {
      const std::size_t k = b * static_cast<std::size_t>(seq) + static_cast<std::size_t>(i);
      const bool token = ids[k] != pad;
      count += token ? 1 : 0;
      out[k] = (token ? count : 0) + pad;
    }
  }
  return out;
}

/// A batch of synthetic texts in RoBERTa's form, every one `seq` tokens
/// long: <s> (0), ordinary tokens (above the special ids 0-3 of RoBERTa's
/// vocabulary), </s> (2). Positions follow RoBERTa (see clap_position_ids).
[[nodiscard]] inline BertInput make_clap_text_input(const ClapConfig& c, int batch, int seq, std::uint64_t seed) {
  if (batch <= 0 || seq < 2 || seq + c.pad_token_id + 1 > c.text.max_positions) {
    throw std::invalid_argument("make_clap_text_input: batch " + std::to_string(batch) + " and seq " +
                                std::to_string(seq) + ": seq must lie in [2, " +
                                std::to_string(c.text.max_positions - c.pad_token_id - 1) + "]");
  }
  const std::int32_t first_word = c.text.vocab_size > 4 ? 4 : 3;
  const auto words = static_cast<std::uint64_t>(std::max(1, c.text.vocab_size - first_word));
  BertInput in;
  in.batch = batch;
  in.seq = seq;
  const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
  in.input_ids.resize(n);
  in.token_type_ids.assign(n, 0);
  in.attention_mask = HostMatrix::Ones(batch, seq);
  const std::uint64_t stream = detail::stream_seed(seed, "clap.input_ids");
  for (std::size_t k = 0; k < n; ++k) {
    const auto i = static_cast<int>(k % static_cast<std::size_t>(seq));
    in.input_ids[k] = i == 0 ? 0 : i == seq - 1 ? 2 : first_word + static_cast<std::int32_t>(detail::random_bits(stream, k) % words);
  }
  in.position_ids = clap_position_ids(in.input_ids, seq, c.pad_token_id);
  return in;
}

}  // namespace accelbench
