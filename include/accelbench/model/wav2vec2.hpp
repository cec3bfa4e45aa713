#pragma once

// wav2vec 2.0 (Baevski et al., 2020) as in Hugging Face transformers'
// Wav2Vec2Model, the configuration of wav2vec2-base: a feature encoder of
// 1-D convolutions over the raw 16 kHz waveform (group normalisation on the
// first layer's channels, GELU), a feature projection (LayerNorm, linear), a
// grouped positional convolution (weight-normalised; its last frame
// dropped, GELU) added to the projected features, LayerNorm, and post-norm
// transformer layers as in BERT. Written once over the backend's
// PerceptionOps.

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
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/upload.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

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

  /// Every tensor the model uses by its Hugging Face name (Wav2Vec2Model's),
  /// with its shape as read from a checkpoint: a 1-D tensor as [1, n], a
  /// convolution's [out, in, kernel] as [out * in, kernel]. The positional
  /// convolution's weight is in transformers 5's parametrised form.
  [[nodiscard]] std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>> tensor_shapes() const {
    std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>> s;
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
      if (i == 0) norm(p + "layer_norm", conv_dim[i]);
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
};

/// The preset with the dimensions of the published checkpoint.
inline const std::vector<Wav2Vec2Config>& wav2vec2_presets() {
  static const std::vector<Wav2Vec2Config> presets = {
      {.name = "wav2vec2-base", .layers = 12, .hidden = 768, .heads = 12, .intermediate = 3072,
       .conv_dim = {512, 512, 512, 512, 512, 512, 512}, .conv_kernel = {10, 3, 3, 3, 3, 2, 2},
       .conv_stride = {5, 2, 2, 2, 2, 2, 2}, .conv_bias = false, .pos_conv_kernel = 128, .pos_conv_groups = 16,
       .norm_eps = 1e-5f, .aliases = {"facebook/wav2vec2-base"}},
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

/// Deterministic synthetic weights under the checkpoint names: matrices and
/// convolution directions with standard deviation 0.02, biases small, norm
/// scales and the weight norm's magnitudes g near one.
inline WeightMap synthetic_wav2vec2_weights(const Wav2Vec2Config& c, std::uint64_t seed) {
  validate_wav2vec2_config(c);
  return synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) {
    return name_contains_any(n, {"norm"}) || n.ends_with("original0");
  });
}

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

namespace detail {
/// An array of positive integers from config.json (conv_dim and the like).
inline std::vector<int> read_int_list(const HfConfigReader& c, std::string_view key) {
  const auto& v = c.raw(key);
  if (!v.is_array() || v.empty()) c.fail(key, v.dump(), "expected a non-empty array of integers");
  std::vector<int> out;
  for (const auto& e : v) {
    if (!e.is_number_integer()) c.fail(key, v.dump(), "expected a non-empty array of integers");
    out.push_back(e.get<int>());
  }
  return out;
}
}  // namespace detail

/// Wav2Vec2Config from a checkpoint's config.json (model_type "wav2vec2");
/// the preset is named after the folder. What the model does not
/// implement is refused with its field: the layer-normalised feature
/// encoder and stable layer norm of the large models, adapters, activations
/// other than GELU.
[[nodiscard]] inline Wav2Vec2Config wav2vec2_config_from_checkpoint(const std::filesystem::path& dir) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir);
  const std::string type = c.text("model_type");
  if (type != "wav2vec2") c.fail("model_type", "\"" + type + "\"", "expected a wav2vec2 checkpoint (\"wav2vec2\")");
  for (const char* key : {"hidden_act", "feat_extract_activation"}) {
    const std::string act = c.text(key, "gelu");
    if (act != "gelu") c.fail(key, "\"" + act + "\"", "only the erf GELU (\"gelu\") is implemented");
  }
  const std::string norm = c.text("feat_extract_norm", "group");
  if (norm != "group") {
    c.fail("feat_extract_norm", "\"" + norm + "\"",
           "only the group-normalised feature encoder of wav2vec2-base (\"group\") is implemented");
  }
  if (c.boolean("do_stable_layer_norm", false)) {
    c.fail("do_stable_layer_norm", "true", "only the post-norm layers of wav2vec2-base are implemented");
  }
  if (c.boolean("add_adapter", false)) c.fail("add_adapter", "true", "adapters are not implemented");
  Wav2Vec2Config w;
  w.name = checkpoint_name(dir);
  w.layers = c.integer("num_hidden_layers");
  w.hidden = c.integer("hidden_size");
  w.heads = c.integer("num_attention_heads");
  w.intermediate = c.integer("intermediate_size");
  w.conv_dim = detail::read_int_list(c, "conv_dim");
  w.conv_kernel = detail::read_int_list(c, "conv_kernel");
  w.conv_stride = detail::read_int_list(c, "conv_stride");
  w.conv_bias = c.boolean("conv_bias", false);
  w.pos_conv_kernel = c.integer("num_conv_pos_embeddings", 128);
  w.pos_conv_groups = c.integer("num_conv_pos_embedding_groups", 16);
  w.norm_eps = c.number("layer_norm_eps", 1e-5f);
  validate_wav2vec2_config(w);
  return w;
}

/// A wav2vec2 checkpoint's weights under Wav2Vec2Model's names: the
/// "wav2vec2." prefix of the task models is removed, and what no forward
/// pass here uses is dropped (masked_spec_embed, the CTC head, the
/// pre-training quantizer and projections).
[[nodiscard]] inline WeightMap wav2vec2_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"wav2vec2."}, [](std::string_view n) {
    return n == "masked_spec_embed" || n.starts_with("lm_head.") || n.starts_with("quantizer.") ||
           n.starts_with("project_q.") || n.starts_with("project_hid.");
  });
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
      if (l == 0) {
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
      if (l == 0) {
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
