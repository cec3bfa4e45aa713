#pragma once

// Whisper (Radford et al., 2022) as in Hugging Face transformers'
// WhisperForConditionalGeneration: an encoder over log-mel features (two
// 1-D convolutions with GELU, sinusoidal positions, pre-norm layers) and a
// decoder (token embedding plus learned positions, causal self-attention
// with a key-value cache, cross-attention over the encoder's output, GELU
// feed-forward) whose LM head is the token embedding (proj_out, tied).
// Keys carry no bias; queries, values and outputs do. Written once over the
// backend's PerceptionOps (convolutions) and GenerationOps (the cache).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../detail/rng.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "whisper_config.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/generation.hpp"
#include "common/tied_head.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

// In whisper_config.hpp: WhisperConfig, whisper_presets(), validate_whisper_config(),
// whisper_config_from_checkpoint().

// ---- tensor names and shapes ----

/// Every tensor by its Hugging Face name (WhisperForConditionalGeneration
/// without the "model." prefix), with its shape as read from a checkpoint:
/// a 1-D tensor as [1, n], a convolution's [out, in, kernel] as
/// [out * in, kernel].
inline TensorShapes WhisperConfig::tensor_shapes() const {
  TensorShapes s;
  const Eigen::Index d = hidden;
  const auto attention = [&](const std::string& p) {
    s.push_back({p + "q_proj.weight", {d, d}});
    s.push_back({p + "q_proj.bias", {1, d}});
    s.push_back({p + "k_proj.weight", {d, d}});
    s.push_back({p + "v_proj.weight", {d, d}});
    s.push_back({p + "v_proj.bias", {1, d}});
    s.push_back({p + "out_proj.weight", {d, d}});
    s.push_back({p + "out_proj.bias", {1, d}});
  };
  const auto norm = [&](const std::string& p) {
    s.push_back({p + ".weight", {1, d}});
    s.push_back({p + ".bias", {1, d}});
  };
  const auto feed_forward = [&](const std::string& p, Eigen::Index f) {
    s.push_back({p + "fc1.weight", {f, d}});
    s.push_back({p + "fc1.bias", {1, f}});
    s.push_back({p + "fc2.weight", {d, f}});
    s.push_back({p + "fc2.bias", {1, d}});
  };
  s.push_back({"encoder.conv1.weight", {d * mel_bins, 3}});
  s.push_back({"encoder.conv1.bias", {1, d}});
  s.push_back({"encoder.conv2.weight", {d * d, 3}});
  s.push_back({"encoder.conv2.bias", {1, d}});
  s.push_back({"encoder.embed_positions.weight", {max_source_positions, d}});
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    attention(p + "self_attn.");
    norm(p + "self_attn_layer_norm");
    feed_forward(p, intermediate);
    norm(p + "final_layer_norm");
  }
  norm("encoder.layer_norm");
  s.push_back({"decoder.embed_tokens.weight", {vocab_size, d}});
  s.push_back({"decoder.embed_positions.weight", {max_target_positions, d}});
  for (int l = 0; l < decoder_layers; ++l) {
    const std::string p = "decoder.layers." + std::to_string(l) + ".";
    attention(p + "self_attn.");
    norm(p + "self_attn_layer_norm");
    attention(p + "encoder_attn.");
    norm(p + "encoder_attn_layer_norm");
    feed_forward(p, decoder_intermediate);
    norm(p + "final_layer_norm");
  }
  norm("decoder.layer_norm");
  if (!tied_embeddings) s.push_back({"proj_out.weight", {vocab_size, d}});
  return s;
}

// ---- weights ----

/// Whisper's sinusoidal encoder positions, [length, channels]: sines in the
/// first half of the columns, cosines in the second, computed as
/// transformers' `sinusoids` computes them, in float: inverse timescales
/// exp(-log(10000) / (channels / 2 - 1) * j), then position times timescale.
/// exp, sin and cos are rounded correctly here, PyTorch's vectorised ones
/// to within an ulp, so a few entries differ: by one ulp at 50 x 32, by up
/// to 3e-5 at 1500 x 384, where an ulp of a timescale is multiplied by
/// positions up to 1499. Checkpoints store the table (embed_positions), so
/// only synthetic weights use this.
[[nodiscard]] inline HostMatrix whisper_sinusoids(int length, int channels) {
  if (channels % 2 != 0 || channels < 4 || length < 0) {
    throw std::invalid_argument("whisper_sinusoids: channels = " + std::to_string(channels) +
                                " must be even and at least 4");
  }
  const int half = channels / 2;
  const auto increment = static_cast<float>(-std::log(10000.0) / (half - 1));
  std::vector<float> inv(static_cast<std::size_t>(half));
  for (int j = 0; j < half; ++j) inv[static_cast<std::size_t>(j)] = std::exp(increment * static_cast<float>(j));
  HostMatrix m(length, channels);
  for (int t = 0; t < length; ++t) {
    for (int j = 0; j < half; ++j) {
      const float x = static_cast<float>(t) * inv[static_cast<std::size_t>(j)];
      m(t, j) = static_cast<float>(std::sin(static_cast<double>(x)));
      m(t, half + j) = static_cast<float>(std::cos(static_cast<double>(x)));
    }
  }
  return m;
}

/// Deterministic synthetic weights under the checkpoint names: matrices,
/// convolutions and embeddings with standard deviation 0.02, biases small,
/// LayerNorm scales near one, and the encoder's positions the sinusoids
/// that transformers initialises them with.
inline WeightMap synthetic_whisper_weights(const WhisperConfig& c, std::uint64_t seed) {
  validate_whisper_config(c);
  WeightMap w = synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) { return name_contains_any(n, {"layer_norm"}); });
  (void)w.take("encoder.embed_positions.weight", c.max_source_positions, c.hidden);
  w.insert("encoder.embed_positions.weight", whisper_sinusoids(c.max_source_positions, c.hidden));
  return w;
}

/// The tensors of a Whisper checkpoint that the model leaves out: none
/// (its tied head, proj_out.weight, must equal the token embedding).
[[nodiscard]] inline UnusedTensors whisper_unused_tensors() { return {}; }

/// A Whisper checkpoint's weights under the names the model takes
/// (WhisperForConditionalGeneration's without "model.").
[[nodiscard]] inline WeightMap whisper_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"model."}, whisper_unused_tensors());
}

// ---- forward entry points ----

/// Deterministic synthetic log-mel features of `batch` clips of
/// `audio_seconds` seconds, in transformers' layout [batch, mel_bins, frames]
/// as a 2-D matrix [batch * mel_bins, frames] (row b * mel_bins + m is mel
/// bin m of clip b). Every clip fills the model's whole input window
/// (3000 frames for 30 s, as WhisperFeatureExtractor pads): frame t of clip
/// b's first audio_seconds * 100 frames is
///   0.3 sin(2π (t / 50 + m / 20 + b / 7)) + 0.2 cos(6π m / mel_bins) + u,
/// u uniform in [-0.1, 0.1) from the seed, and the frames after the clip are
/// silence at the clip's largest value minus 2, the floor the feature
/// extractor gives silence (log10 clamped at its maximum minus 8, then
/// scaled by 1/4).
[[nodiscard]] inline HostMatrix make_whisper_features(const WhisperConfig& c, int batch, int audio_seconds,
                                                      std::uint64_t seed) {
  if (batch <= 0 || audio_seconds <= 0) {
    throw std::invalid_argument("make_whisper_features: batch = " + std::to_string(batch) + ", audio_seconds = " +
                                std::to_string(audio_seconds) + ": both must be >= 1");
  }
  constexpr double two_pi = 6.283185307179586;
  const int frames = c.input_frames();
  const int voiced = std::min(frames, audio_seconds * 100);
  const std::uint64_t stream = detail::stream_seed(seed, "whisper.input_features");
  HostMatrix m(Eigen::Index{batch} * c.mel_bins, frames);
  for (int b = 0; b < batch; ++b) {
    float peak = -1e30f;
    for (int bin = 0; bin < c.mel_bins; ++bin) {
      const Eigen::Index row = Eigen::Index{b} * c.mel_bins + bin;
      for (int t = 0; t < voiced; ++t) {
        const auto i = static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(frames) + static_cast<std::uint64_t>(t);
        const double v = 0.3 * std::sin(two_pi * (t / 50.0 + bin / 20.0 + b / 7.0)) +
                         0.2 * std::cos(3.0 * two_pi * bin / c.mel_bins) +
                         0.2 * (static_cast<double>(detail::random_unit(stream, i)) - 0.5);
        m(row, t) = static_cast<float>(v);
        peak = std::max(peak, m(row, t));
      }
    }
    const float silence = peak - 2.0f;
    for (int bin = 0; bin < c.mel_bins; ++bin) {
      m.row(Eigen::Index{b} * c.mel_bins + bin).tail(frames - voiced).setConstant(silence);
    }
  }
  return m;
}

/// A Whisper whose weights live on backend B.
template <class B>
  requires PerceptionOps<B> && GenerationOps<B>
class Whisper {
 public:
  using Config = WhisperConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  struct Activations {
    Tensor x, h, q, k, v, context, ff, logits;
  };

  /// One batch being transcribed: the features, the encoder's output, the
  /// cross keys and values and the decoder's cache.
  struct Session : EncoderDecoderCache<B> {
    int batch = 0;
    int capacity = 0;  ///< decoder positions
    int length = 0;    ///< decoder positions in the cache
    Tensor features;   ///< [batch * frames, mel_bins], time-major
    IndexTensor next_ids;   ///< greedy choice of the last step, the next step's input
    Tensor encoder_out;     ///< [batch * max_source_positions, hidden]
    Activations enc, dec;
  };

  Whisper(B& backend, WhisperConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_whisper_config(config_);
    const Eigen::Index d = config_.hidden;
    // transformers' rule for a stored head (common/tied_head.hpp): one that
    // differs from the token embedding unties it.
    if (config_.tied_embeddings) {
      config_.tied_embeddings = resolve_tied_head(weights, "decoder.embed_tokens.weight", "proj_out.weight");
    }
    WeightUploader<B> take(backend, weights, tally_);
    // A convolution's [out, in, kernel], read as [out * in, kernel], in the
    // [out, in * kernel] layout of conv1d.
    auto take_conv = [&](const std::string& name, Eigen::Index out, Eigen::Index in, Eigen::Index kernel) {
      const HostMatrix m = take.host(name, out * in, kernel);
      return backend.upload(HostMatrix(Eigen::Map<const HostMatrix>(m.data(), out, in * kernel)));
    };
    auto attention = [&](const std::string& p) {
      Attention a;
      a.q_w = take(p + "q_proj.weight", d, d);
      a.q_b = take(p + "q_proj.bias", 1, d);
      a.k_w = take(p + "k_proj.weight", d, d);
      a.v_w = take(p + "v_proj.weight", d, d);
      a.v_b = take(p + "v_proj.bias", 1, d);
      a.o_w = take(p + "out_proj.weight", d, d);
      a.o_b = take(p + "out_proj.bias", 1, d);
      return a;
    };
    auto norm = [&](const std::string& p) {
      return Norm{take(p + ".weight", 1, d), take(p + ".bias", 1, d)};
    };
    conv1_w_ = take_conv("encoder.conv1.weight", d, config_.mel_bins, 3);
    conv1_b_ = take("encoder.conv1.bias", 1, d);
    conv2_w_ = take_conv("encoder.conv2.weight", d, d, 3);
    conv2_b_ = take("encoder.conv2.bias", 1, d);
    enc_positions_ = take("encoder.embed_positions.weight", config_.max_source_positions, d);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.layers." + std::to_string(l) + ".";
      EncoderLayer L;
      L.self = attention(p + "self_attn.");
      L.norm1 = norm(p + "self_attn_layer_norm");
      L.fc1_w = take(p + "fc1.weight", config_.intermediate, d);
      L.fc1_b = take(p + "fc1.bias", 1, config_.intermediate);
      L.fc2_w = take(p + "fc2.weight", d, config_.intermediate);
      L.fc2_b = take(p + "fc2.bias", 1, d);
      L.norm2 = norm(p + "final_layer_norm");
      encoder_.push_back(std::move(L));
    }
    enc_norm_ = norm("encoder.layer_norm");
    embed_ = take("decoder.embed_tokens.weight", config_.vocab_size, d);
    dec_positions_ = take("decoder.embed_positions.weight", config_.max_target_positions, d);
    for (int l = 0; l < config_.decoder_layers; ++l) {
      const std::string p = "decoder.layers." + std::to_string(l) + ".";
      DecoderLayer L;
      L.self = attention(p + "self_attn.");
      L.norm1 = norm(p + "self_attn_layer_norm");
      L.cross = attention(p + "encoder_attn.");
      L.norm2 = norm(p + "encoder_attn_layer_norm");
      L.fc1_w = take(p + "fc1.weight", config_.decoder_intermediate, d);
      L.fc1_b = take(p + "fc1.bias", 1, config_.decoder_intermediate);
      L.fc2_w = take(p + "fc2.weight", d, config_.decoder_intermediate);
      L.fc2_b = take(p + "fc2.bias", 1, d);
      L.norm3 = norm(p + "final_layer_norm");
      decoder_.push_back(std::move(L));
    }
    dec_norm_ = norm("decoder.layer_norm");
    if (!config_.tied_embeddings) proj_out_ = take("proj_out.weight", config_.vocab_size, d);
    take.finish("Whisper");
  }

  [[nodiscard]] const WhisperConfig& config() const noexcept { return config_; }
  [[nodiscard]] static TensorShapes tensor_shapes(const WhisperConfig& c) { return c.tensor_shapes(); }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }

  /// A session for `batch` clips with room for `max_new_tokens` decoder
  /// steps. `features` are in transformers' layout, [batch * mel_bins,
  /// input_frames()] (see make_whisper_features); they are transposed here,
  /// on the host, to the time-major rows of conv1d.
  [[nodiscard]] Session start(B& be, const HostMatrix& features, int batch, int max_new_tokens) const {
    const int frames = config_.input_frames();
    if (batch <= 0 || max_new_tokens < 1) throw std::invalid_argument("Whisper: batch and new tokens must be positive");
    if (max_new_tokens > config_.max_target_positions) {
      throw std::invalid_argument("Whisper: " + std::to_string(max_new_tokens) + " new tokens exceed " + config_.name +
                                  "'s " + std::to_string(config_.max_target_positions) + " decoder positions");
    }
    if (features.rows() != Eigen::Index{batch} * config_.mel_bins || features.cols() != frames) {
      throw std::invalid_argument("Whisper: features are [" + std::to_string(features.rows()) + ", " +
                                  std::to_string(features.cols()) + "], expected [" + std::to_string(batch) + " * " +
                                  std::to_string(config_.mel_bins) + ", " + std::to_string(frames) + "]");
    }
    HostMatrix time_major(Eigen::Index{batch} * frames, config_.mel_bins);
    for (int b = 0; b < batch; ++b) {
      time_major.middleRows(Eigen::Index{b} * frames, frames) =
          features.middleRows(Eigen::Index{b} * config_.mel_bins, config_.mel_bins).transpose();
    }
    Session s;
    s.batch = batch;
    s.capacity = max_new_tokens;
    s.features = be.upload(time_major);
    s.allocate(be, config_.decoder_layers, batch, s.capacity, config_.hidden, config_.decoder_start_token);
    return s;
  }

  /// Encodes the features, computes every decoder layer's cross keys and
  /// values, and runs the first decoder step from the start token.
  void prefill(B& be, Session& s) const {
    encode(be, s);
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      be.linear(s.encoder_out, decoder_[l].cross.k_w, none_, s.cross_k[l]);
      be.linear(s.encoder_out, decoder_[l].cross.v_w, decoder_[l].cross.v_b, s.cross_v[l]);
    }
    s.length = 0;
    step(be, s, s.start_ids);
  }

  /// Feeds s.next_ids and chooses the next tokens (logits in s.dec.logits).
  void decode(B& be, Session& s) const { step(be, s, s.next_ids); }

  /// The encoder alone: s.encoder_out gets its final hidden states.
  void encode(B& be, Session& s) const {
    Activations& a = s.enc;
    const int frames = config_.input_frames();
    const int d = config_.hidden;
    be.conv1d(s.features, conv1_w_, conv1_b_,
              Conv1dDims{.batch = s.batch, .length = frames, .in_channels = config_.mel_bins, .out_channels = d,
                         .kernel = 3, .stride = 1, .padding = 1},
              a.h);
    be.gelu(a.h);
    be.conv1d(a.h, conv2_w_, conv2_b_,
              Conv1dDims{.batch = s.batch, .length = frames, .in_channels = d, .out_channels = d, .kernel = 3,
                         .stride = 2, .padding = 1},
              a.x);
    be.gelu(a.x);
    be.add_positions(enc_positions_, 0, s.batch, config_.max_source_positions, a.x);
    // Queries scaled by head_dim^-1/2 before the product, as transformers does.
    const AttentionDims dims{.batch = s.batch,
                             .query_len = config_.max_source_positions,
                             .key_len = config_.max_source_positions,
                             .heads = config_.heads,
                             .head_dim = config_.head_dim()};
    for (const EncoderLayer& L : encoder_) {
      be.layer_norm(a.x, L.norm1.g, L.norm1.b, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q_w, L.self.q_b, a.q);
      be.linear(a.h, L.self.k_w, none_, a.k);
      be.linear(a.h, L.self.v_w, L.self.v_b, a.v);
      be.attention(a.q, a.k, a.v, none_, dims, a.context);
      be.linear(a.context, L.self.o_w, L.self.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2.g, L.norm2.b, config_.norm_eps, a.h);
      be.linear(a.h, L.fc1_w, L.fc1_b, a.ff);
      be.gelu(a.ff);
      be.linear(a.ff, L.fc2_w, L.fc2_b, a.h);
      be.add(a.h, a.x);
    }
    be.layer_norm(a.x, enc_norm_.g, enc_norm_.b, config_.norm_eps, s.encoder_out);
  }

  /// Teacher-forced decoder pass over `decoder_ids` ([batch, len], from
  /// position 0) after prefill's encoder and cross keys and values: `hidden`
  /// gets the final-normed decoder states and `logits` the LM head's output
  /// for every position. Overwrites the session's self-attention cache.
  void decode_sequence(B& be, Session& s, std::span<const std::int32_t> decoder_ids, int len, Tensor& hidden,
                       Tensor& logits) const {
    if (len > s.capacity) throw std::invalid_argument("Whisper: decoder sequence longer than the session's capacity");
    Activations a;
    be.embedding_lookup(embed_, be.upload_indices(decoder_ids), a.x);
    run_decoder(be, s, a, len, 0);
    be.layer_norm(a.x, dec_norm_.g, dec_norm_.b, config_.norm_eps, hidden);
    be.linear(hidden, head(), none_, logits);
  }

 private:
  struct Attention {
    Tensor q_w, q_b, k_w, v_w, v_b, o_w, o_b;
  };
  struct Norm {
    Tensor g, b;
  };
  struct EncoderLayer {
    Attention self;
    Norm norm1, norm2;
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };
  struct DecoderLayer {
    Attention self, cross;
    Norm norm1, norm2, norm3;
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };

  [[nodiscard]] const Tensor& head() const noexcept { return config_.tied_embeddings ? embed_ : proj_out_; }

  /// One decoder position per sequence with `input` as its tokens.
  void step(B& be, Session& s, const IndexTensor& input) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range("Whisper: the decoder cache's " + std::to_string(s.capacity) + " positions are full");
    }
    Activations& a = s.dec;
    be.embedding_lookup(embed_, input, a.x);
    run_decoder(be, s, a, 1, s.length);
    be.layer_norm(a.x, dec_norm_.g, dec_norm_.b, config_.norm_eps, a.h);
    be.linear(a.h, head(), none_, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  /// `len` new positions per sequence from `start`: a.x holds their token
  /// embeddings and ends with the last layer's output (before the final norm).
  void run_decoder(B& be, Session& s, Activations& a, int len, int start) const {
    be.add_positions(dec_positions_, start, s.batch, len, a.x);
    const int hd = config_.decoder_head_dim();
    const AttentionDims self_dims{.batch = s.batch,
                                  .query_len = len,
                                  .key_len = start + len,
                                  .heads = config_.decoder_heads,
                                  .head_dim = hd,
                                  .key_stride = s.capacity,
                                  .causal = true};
    const AttentionDims cross_dims{.batch = s.batch,
                                   .query_len = len,
                                   .key_len = config_.max_source_positions,
                                   .heads = config_.decoder_heads,
                                   .head_dim = hd};
    const CacheDims cache{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
    const float eps = config_.norm_eps;
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      const DecoderLayer& L = decoder_[l];
      be.layer_norm(a.x, L.norm1.g, L.norm1.b, eps, a.h);
      be.linear(a.h, L.self.q_w, L.self.q_b, a.q);
      be.linear(a.h, L.self.k_w, none_, a.k);
      be.linear(a.h, L.self.v_w, L.self.v_b, a.v);
      be.cache_write(a.k, cache, s.self_k[l]);
      be.cache_write(a.v, cache, s.self_v[l]);
      be.attention(a.q, s.self_k[l], s.self_v[l], none_, self_dims, a.context);
      be.linear(a.context, L.self.o_w, L.self.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2.g, L.norm2.b, eps, a.h);
      be.linear(a.h, L.cross.q_w, L.cross.q_b, a.q);
      be.attention(a.q, s.cross_k[l], s.cross_v[l], none_, cross_dims, a.context);
      be.linear(a.context, L.cross.o_w, L.cross.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm3.g, L.norm3.b, eps, a.h);
      be.linear(a.h, L.fc1_w, L.fc1_b, a.ff);
      be.gelu(a.ff);
      be.linear(a.ff, L.fc2_w, L.fc2_b, a.h);
      be.add(a.h, a.x);
    }
  }

  WhisperConfig config_;
  Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_, enc_positions_, embed_, dec_positions_, proj_out_;
  Norm enc_norm_, dec_norm_;
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  WeightTally tally_;
};

}  // namespace accelbench
