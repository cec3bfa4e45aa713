#pragma once

// wav2vec 2.0 (Baevski et al., 2020) as in Hugging Face transformers'
// Wav2Vec2Model: a feature encoder of 1-D convolutions over the raw 16 kHz
// waveform, each followed by GELU (wav2vec2-base: group normalisation on the
// first layer's channels; the large models: a LayerNorm over the channels
// after every convolution), a feature projection (LayerNorm, linear), a
// grouped positional convolution (weight-normalised; its last frame
// dropped, GELU) added to the projected features, then either LayerNorm and
// post-norm transformer layers as in BERT (wav2vec2-base) or pre-norm
// layers and a LayerNorm at the end (do_stable_layer_norm, the large
// models). Written once over the backend's PerceptionOps.

#include <algorithm>
#include <array>
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
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "wav2vec2_config.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

// In wav2vec2_config.hpp: Wav2Vec2Config, wav2vec2_presets(), validate_wav2vec2_config(),
// wav2vec2_config_from_checkpoint().

// ---- tensor names and shapes ----

/// Every tensor the model uses by its Hugging Face name (Wav2Vec2Model's),
/// with its shape as read from a checkpoint: a 1-D tensor as [1, n], a
/// convolution's [out, in, kernel] as [out * in, kernel]. The positional
/// convolution's weight is in transformers 5's parametrised form.
inline TensorShapes Wav2Vec2Config::tensor_shapes() const {
  TensorShapes s;
  const Eigen::Index h = hidden;
  const auto norm = [&](const std::string& p, Eigen::Index n) {
    s.push_back({p + ".weight", {1, n}});
    s.push_back({p + ".bias", {1, n}});
  };
  Eigen::Index in = 1;
  for (std::size_t i = 0; i < conv_dim.size(); ++i) {
    const std::string p = "feature_extractor.conv_layers." + std::to_string(i) + ".";
    s.push_back({p + "conv.weight", {conv_dim[i] * in, conv_kernel[i]}});
    if (conv_bias) s.push_back({p + "conv.bias", {1, conv_dim[i]}});
    if (i == 0 || conv_layer_norm) norm(p + "layer_norm", conv_dim[i]);
    in = conv_dim[i];
  }
  norm("feature_projection.layer_norm", feature_dim());
  s.push_back({"feature_projection.projection.weight", {h, feature_dim()}});
  s.push_back({"feature_projection.projection.bias", {1, h}});
  s.push_back({"encoder.pos_conv_embed.conv.parametrizations.weight.original0", {1, pos_conv_kernel}});
  s.push_back({"encoder.pos_conv_embed.conv.parametrizations.weight.original1",
               {h * (h / pos_conv_groups), pos_conv_kernel}});
  s.push_back({"encoder.pos_conv_embed.conv.bias", {1, h}});
  norm("encoder.layer_norm", h);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      s.push_back({p + "attention." + proj + ".weight", {h, h}});
      s.push_back({p + "attention." + proj + ".bias", {1, h}});
    }
    norm(p + "layer_norm", h);
    s.push_back({p + "feed_forward.intermediate_dense.weight", {intermediate, h}});
    s.push_back({p + "feed_forward.intermediate_dense.bias", {1, intermediate}});
    s.push_back({p + "feed_forward.output_dense.weight", {h, intermediate}});
    s.push_back({p + "feed_forward.output_dense.bias", {1, h}});
    norm(p + "final_layer_norm", h);
  }
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights under the checkpoint names: matrices and
/// convolution directions with standard deviation 0.02, biases small, norm
/// scales and the weight norm's magnitudes g near one.
inline WeightMap synthetic_wav2vec2_weights(const Wav2Vec2Config& c, std::uint64_t seed) {
  validate_wav2vec2_config(c);
  return synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) {
    return name_contains_any(n, {"norm"}) || n.ends_with("original0");
  });
}

/// The tensors of a wav2vec2 checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors wav2vec2_unused_tensors() {
  return {unused_name("masked_spec_embed", "the vector that replaces masked frames in training (SpecAugment)"),
          unused_prefix("lm_head.", "the CTC head of Wav2Vec2ForCTC, not part of Wav2Vec2Model"),
          unused_prefix("quantizer.", "the quantizer of Wav2Vec2ForPreTraining, used in pre-training only"),
          unused_prefix("project_q.", "a projection of Wav2Vec2ForPreTraining, used in pre-training only"),
          unused_prefix("project_hid.", "a projection of Wav2Vec2ForPreTraining, used in pre-training only")};
}

/// A wav2vec2 checkpoint's weights under Wav2Vec2Model's names: the
/// "wav2vec2." prefix of the task models is removed, and what no forward
/// pass here uses is dropped (masked_spec_embed, the CTC head, the
/// pre-training quantizer and projections).
[[nodiscard]] inline WeightMap wav2vec2_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"wav2vec2."}, wav2vec2_unused_tensors());
}

/// The positional convolution's weight from its weight norm: w = g v / |v|,
/// the norm taken over every dimension but the kernel's (weight_norm with
/// dim=2). `g` is [1, kernel]; `v` is [out * in, kernel] (as read) and so is
/// the result.
[[nodiscard]] inline HostMatrix fold_weight_norm(const HostMatrix& g, const HostMatrix& v) {
  if (g.rows() != 1 || g.cols() != v.cols()) {
    throw std::invalid_argument("fold_weight_norm: g must be [1, " + std::to_string(v.cols()) + "]");
  }
  HostMatrix w(v.rows(), v.cols());
  for (Eigen::Index k = 0; k < v.cols(); ++k) {
    double sum = 0;
    for (Eigen::Index r = 0; r < v.rows(); ++r) sum += static_cast<double>(v(r, k)) * v(r, k);
    const auto scale = static_cast<float>(static_cast<double>(g(0, k)) / std::sqrt(sum));
    w.col(k) = v.col(k) * scale;
  }
  return w;
}

// ---- forward entry points ----

/// Deterministic synthetic 16 kHz waveforms, [batch, samples]: for clip b
/// at time t = n / 16000 s,
///   (0.6 sin(2π f t) + 0.3 sin(2π 3f t)) · (0.2 + 0.8 sin²(4π t)) + u,
/// a voice at f = 150 + 25 b Hz with its third harmonic, in syllables of
/// 4 per second, and u uniform in [-0.05, 0.05) from the seed; then each
/// clip is normalised to zero mean and unit variance, as
/// Wav2Vec2FeatureExtractor does (do_normalize).
[[nodiscard]] inline HostMatrix make_wav2vec2_waveform(int batch, std::int64_t samples, std::uint64_t seed) {
  if (batch <= 0 || samples <= 0) {
    throw std::invalid_argument("make_wav2vec2_waveform: batch = " + std::to_string(batch) + ", samples = " +
                                std::to_string(samples) + ": both must be >= 1");
  }
  constexpr double two_pi = 6.283185307179586;
  const std::uint64_t stream = detail::stream_seed(seed, "wav2vec2.input_values");
  HostMatrix m(batch, samples);
  for (int b = 0; b < batch; ++b) {
    const double f = 150.0 + 25.0 * b;
    std::vector<double> x(static_cast<std::size_t>(samples));
    double sum = 0;
    for (std::int64_t n = 0; n < samples; ++n) {
      const double t = static_cast<double>(n) / Wav2Vec2Config::sample_rate;
      const double envelope = 0.2 + 0.8 * std::pow(std::sin(0.5 * two_pi * 4.0 * t), 2);
      const auto i = static_cast<std::uint64_t>(b) * static_cast<std::uint64_t>(samples) + static_cast<std::uint64_t>(n);
      const double u = 0.1 * (static_cast<double>(detail::random_unit(stream, i)) - 0.5);
      x[static_cast<std::size_t>(n)] =
          (0.6 * std::sin(two_pi * f * t) + 0.3 * std::sin(two_pi * 3.0 * f * t)) * envelope + u;
      sum += x[static_cast<std::size_t>(n)];
    }
    const double mean = sum / static_cast<double>(samples);
    double var = 0;
    for (double v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(samples);
    const double inv_std = 1.0 / std::sqrt(var + 1e-7);
    for (std::int64_t n = 0; n < samples; ++n) {
      m(b, n) = static_cast<float>((x[static_cast<std::size_t>(n)] - mean) * inv_std);
    }
  }
  return m;
}

/// A wav2vec2 whose weights live on backend B.
template <PerceptionOps B>
class Wav2Vec2 {
 public:
  using Config = Wav2Vec2Config;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of waveforms and the activations of a forward pass, kept
  /// between passes.
  struct Workspace {
    int batch = 0;
    std::int64_t samples = 0;
    int frames = 0;
    Tensor input;          ///< [batch * samples, 1]
    IndexTensor pos_rows;  ///< the rows of the positional convolution kept (its last frame dropped)
    Tensor features;       ///< extract_features: the normalised encoder output, [batch * frames, conv_dim.back()]
    Tensor hidden;         ///< last_hidden_state, [batch * frames, hidden]
    Tensor conv_a, conv_b, pos_full, pos, q, k, v, context, attn, inter, tmp;
  };

  Wav2Vec2(B& backend, Wav2Vec2Config config, WeightMap weights) : config_(std::move(config)) {
    validate_wav2vec2_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    // [out, in, kernel] read as [out * in, kernel], in conv1d's [out, in * kernel].
    auto reshape = [](const HostMatrix& m, Eigen::Index out) {
      return HostMatrix(Eigen::Map<const HostMatrix>(m.data(), out, m.size() / out));
    };
    Eigen::Index in = 1;
    for (std::size_t l = 0; l < config_.conv_dim.size(); ++l) {
      const std::string p = "feature_extractor.conv_layers." + std::to_string(l) + ".";
      const Eigen::Index out = config_.conv_dim[l];
      ConvLayer L;
      L.w = backend.upload(reshape(take.host(p + "conv.weight", out * in, config_.conv_kernel[l]), out));
      if (config_.conv_bias) L.b = take(p + "conv.bias", 1, out);
      if (l == 0 || config_.conv_layer_norm) {
        L.norm_g = take(p + "layer_norm.weight", 1, out);
        L.norm_b = take(p + "layer_norm.bias", 1, out);
      }
      conv_.push_back(std::move(L));
      in = out;
    }
    const Eigen::Index f = config_.feature_dim();
    fp_norm_g_ = take("feature_projection.layer_norm.weight", 1, f);
    fp_norm_b_ = take("feature_projection.layer_norm.bias", 1, f);
    proj_w_ = take("feature_projection.projection.weight", h, f);
    proj_b_ = take("feature_projection.projection.bias", 1, h);
    // The positional convolution's weight norm, folded: transformers 5 names
    // its parts parametrizations.weight.original0 (g) and original1 (v),
    // older checkpoints weight_g and weight_v; a plain weight is taken as is.
    const std::string pc = "encoder.pos_conv_embed.conv.";
    const Eigen::Index pos_rows = h * (h / config_.pos_conv_groups);
    const Eigen::Index kernel = config_.pos_conv_kernel;
    HostMatrix pos_w;
    if (weights.contains(pc + "weight")) {
      pos_w = take.host(pc + "weight", pos_rows, kernel);
    } else {
      const bool parametrized = weights.contains(pc + "parametrizations.weight.original0");
      const HostMatrix g = take.host(pc + (parametrized ? "parametrizations.weight.original0" : "weight_g"), 1, kernel);
      const HostMatrix v = take.host(pc + (parametrized ? "parametrizations.weight.original1" : "weight_v"), pos_rows, kernel);
      pos_w = fold_weight_norm(g, v);
      tally_.bytes -= static_cast<std::uint64_t>(g.size()) * sizeof(float);  // g is folded into the weight
    }
    pos_w_ = backend.upload(reshape(pos_w, h));
    pos_b_ = take(pc + "bias", 1, h);
    enc_norm_g_ = take("encoder.layer_norm.weight", 1, h);
    enc_norm_b_ = take("encoder.layer_norm.bias", 1, h);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.layers." + std::to_string(l) + ".";
      Layer L;
      L.q_w = take(p + "attention.q_proj.weight", h, h);
      L.q_b = take(p + "attention.q_proj.bias", 1, h);
      L.k_w = take(p + "attention.k_proj.weight", h, h);
      L.k_b = take(p + "attention.k_proj.bias", 1, h);
      L.v_w = take(p + "attention.v_proj.weight", h, h);
      L.v_b = take(p + "attention.v_proj.bias", 1, h);
      L.o_w = take(p + "attention.out_proj.weight", h, h);
      L.o_b = take(p + "attention.out_proj.bias", 1, h);
      L.ln1_g = take(p + "layer_norm.weight", 1, h);
      L.ln1_b = take(p + "layer_norm.bias", 1, h);
      L.i_w = take(p + "feed_forward.intermediate_dense.weight", i, h);
      L.i_b = take(p + "feed_forward.intermediate_dense.bias", 1, i);
      L.out_w = take(p + "feed_forward.output_dense.weight", h, i);
      L.out_b = take(p + "feed_forward.output_dense.bias", 1, h);
      L.ln2_g = take(p + "final_layer_norm.weight", 1, h);
      L.ln2_b = take(p + "final_layer_norm.bias", 1, h);
      layers_.push_back(std::move(L));
    }
    take.finish("wav2vec2");
  }

  [[nodiscard]] const Wav2Vec2Config& config() const noexcept { return config_; }
  [[nodiscard]] static TensorShapes tensor_shapes(const Wav2Vec2Config& c) { return c.tensor_shapes(); }
  /// Parameters as stored (g and v of the weight norm), masked_spec_embed not counted.
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  /// Bytes of the weights on the device (the weight norm folded).
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }

  /// Uploads `waveform`, [batch, samples] of 16 kHz audio, as the
  /// [batch * samples, 1] input of the first convolution.
  [[nodiscard]] Workspace prepare(B& be, const HostMatrix& waveform) const {
    Workspace ws;
    ws.batch = static_cast<int>(waveform.rows());
    ws.samples = waveform.cols();
    ws.frames = config_.frames(ws.samples);
    if (ws.batch <= 0 || ws.frames <= 0) {
      throw std::invalid_argument("Wav2Vec2: " + std::to_string(ws.samples) + " samples in " + std::to_string(ws.batch) +
                                  " clips give no frame");
    }
    ws.input = be.upload(HostMatrix(Eigen::Map<const HostMatrix>(waveform.data(), waveform.size(), 1)));
    const int pos_len = pos_conv_dims(ws).out_length();
    std::vector<std::int32_t> rows;
    for (int b = 0; b < ws.batch; ++b) {
      for (int t = 0; t < ws.frames; ++t) rows.push_back(b * pos_len + t);
    }
    ws.pos_rows = be.upload_indices(rows);
    return ws;
  }

  /// One forward pass: ws.features gets extract_features and ws.hidden the
  /// last hidden state.
  void forward(B& be, Workspace& ws) const {
    const Tensor* x = &ws.input;
    Tensor* buffers[2] = {&ws.conv_a, &ws.conv_b};
    int next = 0;
    std::int64_t length = ws.samples;
    int in = 1;
    for (std::size_t l = 0; l < conv_.size(); ++l) {
      const Conv1dDims dims{.batch = ws.batch,
                            .length = static_cast<int>(length),
                            .in_channels = in,
                            .out_channels = config_.conv_dim[l],
                            .kernel = config_.conv_kernel[l],
                            .stride = config_.conv_stride[l]};
      Tensor& y = *buffers[next];
      next ^= 1;
      be.conv1d(*x, conv_[l].w, conv_[l].b, dims, y);
      length = dims.out_length();
      in = config_.conv_dim[l];
      if (config_.conv_layer_norm) {
        // LayerNorm over the channels of each frame (PyTorch's default eps).
        be.layer_norm(y, conv_[l].norm_g, conv_[l].norm_b, 1e-5f, y);
        be.gelu(y);
        x = &y;
      } else if (l == 0) {
        // GroupNorm with one group per channel: each channel over time.
        Tensor& z = *buffers[next];
        next ^= 1;
        be.group_norm(y, conv_[l].norm_g, conv_[l].norm_b,
                      GroupNormDims{.batch = ws.batch, .length = static_cast<int>(length), .groups = in}, 1e-5f, z);
        be.gelu(z);
        x = &z;
      } else {
        be.gelu(y);
        x = &y;
      }
    }
    const float eps = config_.norm_eps;
    be.layer_norm(*x, fp_norm_g_, fp_norm_b_, eps, ws.features);
    be.linear(ws.features, proj_w_, proj_b_, ws.hidden);

    const Conv1dDims pos_dims = pos_conv_dims(ws);
    if (pos_dims.out_length() == ws.frames) {  // an odd kernel: nothing to drop
      be.conv1d(ws.hidden, pos_w_, pos_b_, pos_dims, ws.pos);
    } else {
      be.conv1d(ws.hidden, pos_w_, pos_b_, pos_dims, ws.pos_full);
      be.embedding_lookup(ws.pos_full, ws.pos_rows, ws.pos);
    }
    be.gelu(ws.pos);
    be.add(ws.pos, ws.hidden);
    if (config_.stable_layer_norm) {
      stable_layers(be, ws);
      be.layer_norm(ws.hidden, enc_norm_g_, enc_norm_b_, eps, ws.hidden);
      return;
    }
    be.layer_norm(ws.hidden, enc_norm_g_, enc_norm_b_, eps, ws.hidden);

    const AttentionDims dims{ws.batch, ws.frames, ws.frames, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.linear(ws.hidden, L.q_w, L.q_b, ws.q);
      be.linear(ws.hidden, L.k_w, L.k_b, ws.k);
      be.linear(ws.hidden, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
      be.linear(ws.context, L.o_w, L.o_b, ws.attn);
      be.add(ws.hidden, ws.attn);
      be.layer_norm(ws.attn, L.ln1_g, L.ln1_b, eps, ws.hidden);
      be.linear(ws.hidden, L.i_w, L.i_b, ws.inter);
      be.gelu(ws.inter);
      be.linear(ws.inter, L.out_w, L.out_b, ws.tmp);
      be.add(ws.hidden, ws.tmp);
      be.layer_norm(ws.tmp, L.ln2_g, L.ln2_b, eps, ws.hidden);
    }
  }

 private:
  struct ConvLayer {
    Tensor w, b, norm_g, norm_b;
  };
  struct Layer {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_g, ln1_b;
    Tensor i_w, i_b, out_w, out_b, ln2_g, ln2_b;
  };

  /// The pre-norm layers of do_stable_layer_norm (transformers'
  /// Wav2Vec2EncoderLayerStableLayerNorm): h += attention(layer_norm(h)),
  /// then h += feed_forward(final_layer_norm(h)).
  void stable_layers(B& be, Workspace& ws) const {
    const float eps = config_.norm_eps;
    const AttentionDims dims{ws.batch, ws.frames, ws.frames, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.layer_norm(ws.hidden, L.ln1_g, L.ln1_b, eps, ws.tmp);
      be.linear(ws.tmp, L.q_w, L.q_b, ws.q);
      be.linear(ws.tmp, L.k_w, L.k_b, ws.k);
      be.linear(ws.tmp, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
      be.linear(ws.context, L.o_w, L.o_b, ws.attn);
      be.add(ws.attn, ws.hidden);
      be.layer_norm(ws.hidden, L.ln2_g, L.ln2_b, eps, ws.tmp);
      be.linear(ws.tmp, L.i_w, L.i_b, ws.inter);
      be.gelu(ws.inter);
      be.linear(ws.inter, L.out_w, L.out_b, ws.attn);
      be.add(ws.attn, ws.hidden);
    }
  }

  /// The positional convolution: grouped, padded by kernel / 2 on each side
  /// (one frame too many for an even kernel, which SamePad drops).
  [[nodiscard]] Conv1dDims pos_conv_dims(const Workspace& ws) const noexcept {
    return Conv1dDims{.batch = ws.batch,
                      .length = ws.frames,
                      .in_channels = config_.hidden,
                      .out_channels = config_.hidden,
                      .kernel = config_.pos_conv_kernel,
                      .stride = 1,
                      .padding = config_.pos_conv_kernel / 2,
                      .groups = config_.pos_conv_groups};
  }

  Wav2Vec2Config config_;
  std::vector<ConvLayer> conv_;
  Tensor fp_norm_g_, fp_norm_b_, proj_w_, proj_b_, pos_w_, pos_b_, enc_norm_g_, enc_norm_b_;
  Tensor none_;
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
