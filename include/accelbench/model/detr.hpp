#pragma once

// DETR (Carion et al., 2020) as in Hugging Face transformers'
// DetrForObjectDetection with its own ResNet backbone: a convolutional
// backbone whose frozen batch norms are folded into the convolutions when the
// model is loaded, a 1x1 projection of the last feature map, the 2-D sine
// position embedding (computed on the host once per image size), a post-norm
// encoder whose queries and keys see the positions, a post-norm decoder over
// object queries (zeros, with learned query positions) with cross-attention
// to the encoder, then the class logits and the boxes (a three-layer MLP and
// a sigmoid). Written once over the backend's DetectionOps; images are laid
// out as rows (one per pixel) from the stem on.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "common/encoder_layers.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"
#include "detr_config.hpp"

namespace accelbench {

/// DETR's sine position embedding of an h x w feature map without padding,
/// [h * w, d_model], one row per feature pixel in row-major (y, x) order:
/// the first d_model / 2 columns encode the row, the others the column, each
/// as alternating sines and cosines of the normalised position (1-based,
/// divided by the side plus 1e-6, times 2 pi) over temperature 10000 raised
/// to 2 floor(j / 2) / (d_model / 2). The float32 operations of transformers'
/// DetrSinePositionEmbedding (normalize=True).
[[nodiscard]] inline HostMatrix detr_sine_positions(int h, int w, int d_model) {
  const int features = d_model / 2;
  const auto scale = static_cast<float>(2.0 * 3.141592653589793);
  std::vector<float> dim_t(static_cast<std::size_t>(features));
  for (int j = 0; j < features; ++j) {
    const float exponent = (2.0f * static_cast<float>(j / 2)) / static_cast<float>(features);
    dim_t[static_cast<std::size_t>(j)] = std::pow(10000.0f, exponent);
  }
  const auto embed = [&](int i, int side) {
    return static_cast<float>(i + 1) / (static_cast<float>(side) + 1e-6f) * scale;
  };
  HostMatrix out(Eigen::Index{h} * w, d_model);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const Eigen::Index row = Eigen::Index{y} * w + x;
      for (int half = 0; half < 2; ++half) {
        const float e = half == 0 ? embed(y, h) : embed(x, w);
        for (int j = 0; j < features; ++j) {
          const float v = e / dim_t[static_cast<std::size_t>(j)];
          out(row, half * features + j) = j % 2 == 0 ? std::sin(v) : std::cos(v);
        }
      }
    }
  }
  return out;
}

/// A DETR whose weights live on backend B.
template <DetectionOps B>
class Detr {
 public:
  using Config = DetrConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// A batch of images and the activations of its forward pass, kept
  /// between passes so that a repeated pass allocates nothing.
  struct Workspace {
    int batch = 0;
    int height = 0;
    int width = 0;
    int feature_height = 0;
    int feature_width = 0;
    int tokens = 0;              ///< per image: feature_height * feature_width
    Tensor pixels;               ///< [batch, channels * height * width]
    Tensor positions;            ///< the sine embedding, [tokens, d_model]
    IndexTensor position_ids;    ///< 0..tokens-1 per image
    IndexTensor query_ids;       ///< 0..num_queries-1 per image
    IndexTensor zero_ids;        ///< row 0 for every query: the decoder's zero input
    Tensor map, a, b, shortcut;  ///< backbone maps, [batch * pixels, channels]
    Tensor memory;               ///< the encoder's output, [batch * tokens, d_model]
    Tensor memory_keys;          ///< memory + positions: the cross-attention's key input
    Tensor hidden;               ///< the decoder's output, [batch * num_queries, d_model]
    Tensor logits;               ///< [batch * num_queries, num_labels + 1]
    Tensor boxes;                ///< (cx, cy, w, h) in [0, 1], [batch * num_queries, 4]
    Tensor qk, q, k, v, context, attn, inter, tmp, box_tmp;
  };

  /// Takes the weights it needs from `weights` (checking each shape), folds
  /// each frozen batch norm into its convolution and uploads them.
  Detr(B& backend, DetrConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_detr_config(config_);
    WeightUploader<B> take(backend, weights, tally_);
    const auto [stem, layers] = detail::resnet_plan(config_.backbone);
    stem_ = fold(backend, take, weights, stem, true);
    for (const auto& L : layers) {
      ResidualLayer out;
      for (const auto& c : L.convs) out.convs.push_back(fold(backend, take, weights, c));
      out.projected = !L.shortcut.prefix.empty();
      if (out.projected) out.shortcut = fold(backend, take, weights, L.shortcut);
      backbone_.push_back(std::move(out));
    }
    const Eigen::Index d = config_.d_model;
    proj_w_ = take("model.input_projection.weight", d, config_.backbone.out_channels());
    proj_b_ = take("model.input_projection.bias", 1, d);
    query_pos_ = take("model.query_position_embeddings.weight", config_.num_queries, d);
    for (int l = 0; l < config_.encoder_layers; ++l) {
      const std::string p = detail::detr_layer_prefix(true, l);
      encoder_.push_back({attention(take, p + "self_attn."), norm(take, p + "self_attn_layer_norm"),
                          Attention{}, Norm{}, mlp(take, p, config_.encoder_ffn), norm(take, p + "final_layer_norm")});
    }
    for (int l = 0; l < config_.decoder_layers; ++l) {
      const std::string p = detail::detr_layer_prefix(false, l);
      decoder_.push_back({attention(take, p + "self_attn."), norm(take, p + "self_attn_layer_norm"),
                          attention(take, p + "encoder_attn."), norm(take, p + "encoder_attn_layer_norm"),
                          mlp(take, p, config_.decoder_ffn), norm(take, p + "final_layer_norm")});
    }
    decoder_norm_ = norm(take, "model.decoder.layernorm");
    class_w_ = take("class_labels_classifier.weight", config_.num_labels + 1, d);
    class_b_ = take("class_labels_classifier.bias", 1, config_.num_labels + 1);
    for (int i = 0; i < 3; ++i) {
      const std::string p = "bbox_predictor.layers." + std::to_string(i) + ".";
      box_w_[i] = take(p + "weight", i == 2 ? 4 : d, d);
      box_b_[i] = take(p + "bias", 1, i == 2 ? 4 : d);
    }
    zero_row_ = take.upload(HostMatrix::Zero(1, d));
    take.finish("DETR");
  }

  [[nodiscard]] const DetrConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const DetrConfig& c) { return detr_tensor_shapes(c); }

  /// Uploads `pixels` ([batch, channels * height * width], PyTorch's
  /// channel-major order per image) into a new workspace, with the sine
  /// positions of its feature map.
  [[nodiscard]] Workspace prepare(B& backend, const HostMatrix& pixels, int height, int width) const {
    const int channels = config_.backbone.channels;
    if (height <= 0 || width <= 0 || pixels.rows() <= 0 || pixels.cols() != Eigen::Index{channels} * height * width) {
      throw std::invalid_argument("DETR: pixels are [" + std::to_string(pixels.rows()) + ", " +
                                  std::to_string(pixels.cols()) + "], expected [batch, " + std::to_string(channels) +
                                  " * " + std::to_string(height) + " * " + std::to_string(width) + "]");
    }
    Workspace ws;
    ws.batch = static_cast<int>(pixels.rows());
    ws.height = height;
    ws.width = width;
    ws.feature_height = config_.feature_side(height);
    ws.feature_width = config_.feature_side(width);
    if (ws.feature_height < 1 || ws.feature_width < 1) {
      throw std::invalid_argument("DETR: an image of " + std::to_string(height) + " x " + std::to_string(width) +
                                  " pixels is too small for " + config_.name + "'s backbone");
    }
    ws.tokens = ws.feature_height * ws.feature_width;
    ws.pixels = backend.upload(pixels);
    ws.positions = backend.upload(detr_sine_positions(ws.feature_height, ws.feature_width, config_.d_model));
    ws.position_ids = backend.upload_indices(detail::position_ids(ws.batch, ws.tokens));
    ws.query_ids = backend.upload_indices(detail::position_ids(ws.batch, config_.num_queries));
    ws.zero_ids = backend.upload_indices(std::vector<std::int32_t>(
        static_cast<std::size_t>(ws.batch) * static_cast<std::size_t>(config_.num_queries), 0));
    return ws;
  }

  /// One forward pass: ws.logits and ws.boxes get the detections, ws.hidden
  /// the decoder's last hidden state, ws.memory the encoder's.
  void forward(B& be, Workspace& ws) const {
    backbone(be, ws);
    encode(be, ws);
    decode(be, ws);
    be.linear(ws.hidden, class_w_, class_b_, ws.logits);
    be.linear(ws.hidden, box_w_[0], box_b_[0], ws.tmp);
    be.relu(ws.tmp);
    be.linear(ws.tmp, box_w_[1], box_b_[1], ws.box_tmp);
    be.relu(ws.box_tmp);
    be.linear(ws.box_tmp, box_w_[2], box_b_[2], ws.boxes);
    be.sigmoid(ws.boxes);
  }

  /// The backbone alone: ws.map gets the last feature map,
  /// [batch * feature pixels, channels] (forward runs it first).
  void backbone(B& be, Workspace& ws) const {
    Conv2dDims stem{ws.batch, config_.backbone.channels, ws.height, ws.width, config_.backbone.embedding, 7, 2, 3};
    be.conv2d(ws.pixels, stem_.w, stem_.b, stem, ws.a);
    be.relu(ws.a);
    const Pool2dDims pool{ws.batch, stem.out_channels, stem.out_height(), stem.out_width(), 3, 2, 1};
    be.max_pool2d(ws.a, pool, ws.map);
    int h = pool.out_height(), w = pool.out_width();
    for (const auto& L : backbone_) {
      int lh = h, lw = w;
      const Tensor* in = &ws.map;
      Tensor* outs[2] = {&ws.a, &ws.b};
      for (std::size_t i = 0; i < L.convs.size(); ++i) {
        Tensor* out = outs[i % 2];
        std::tie(lh, lw) = conv(be, L.convs[i], *in, ws.batch, lh, lw, *out);
        in = out;
      }
      Tensor& out = *outs[(L.convs.size() - 1) % 2];
      if (L.projected) {
        (void)conv(be, L.shortcut, ws.map, ws.batch, h, w, ws.shortcut);
        be.add(ws.shortcut, out);
      } else {
        be.add(ws.map, out);
      }
      be.relu(out);
      std::swap(ws.map, out);
      h = lh;
      w = lw;
    }
    if (h != ws.feature_height || w != ws.feature_width) {
      throw std::logic_error("DETR: the backbone's feature map is " + std::to_string(h) + " x " + std::to_string(w) +
                             ", expected " + std::to_string(ws.feature_height) + " x " +
                             std::to_string(ws.feature_width));
    }
  }

 private:
  struct FoldedConv {
    Tensor w, b;  ///< w [out, kernel * kernel * in] ordered (ky, kx, c), the batch norm folded in
    int in = 0, out = 0, kernel = 1, stride = 1;
    bool relu = true;
  };
  struct ResidualLayer {
    std::vector<FoldedConv> convs;
    bool projected = false;
    FoldedConv shortcut;
  };
  struct Attention {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  };
  struct Norm {
    Tensor g, b;
  };
  struct Mlp {
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };
  struct Layer {
    Attention self;
    Norm self_norm;
    Attention cross;  ///< the decoder's only
    Norm cross_norm;
    Mlp mlp;
    Norm final_norm;
  };

  static constexpr float layer_norm_eps = 1e-5f;  // nn.LayerNorm's default

  /// A convolution with its frozen batch norm folded in: w' = w * s and
  /// b' = beta - mean * s per output channel, s = gamma / sqrt(var + 1e-5)
  /// (DetrFrozenBatchNorm2d's epsilon), the weight permuted to (ky, kx, c).
  /// The stem, which reads the channel-major pixels, keeps (c, ky, kx).
  FoldedConv fold(B& backend, WeightUploader<B>& take, WeightMap& weights, const ResNetConv& c, bool stem = false) {
    const Eigen::Index k2 = Eigen::Index{c.kernel} * c.kernel;
    const HostMatrix w = take.host(c.prefix + "convolution.weight", c.out, c.in * k2);
    const auto vec = [&](const char* n) { return weights.take(c.prefix + "normalization." + n, 1, c.out); };
    const HostMatrix gamma = vec("weight"), beta = vec("bias"), mean = vec("running_mean"), var = vec("running_var");
    HostMatrix folded(c.out, c.in * k2), bias(1, c.out);
    for (int o = 0; o < c.out; ++o) {
      const float s = gamma(0, o) * (1.0f / std::sqrt(var(0, o) + 1e-5f));
      bias(0, o) = beta(0, o) - mean(0, o) * s;
      for (int ch = 0; ch < c.in; ++ch) {
        for (Eigen::Index t = 0; t < k2; ++t) {
          const Eigen::Index to = stem ? ch * k2 + t : t * c.in + ch;
          folded(o, to) = w(o, ch * k2 + t) * s;
        }
      }
    }
    tally_.bytes += static_cast<std::uint64_t>(bias.size()) * sizeof(float);
    return {backend.upload(folded), backend.upload(bias), c.in, c.out, c.kernel, c.stride, c.relu};
  }

  /// Runs one folded convolution (padding kernel / 2) and its activation;
  /// returns the output's height and width.
  std::pair<int, int> conv(B& be, const FoldedConv& c, const Tensor& x, int batch, int h, int w, Tensor& y) const {
    const Conv2dDims d{batch, c.in, h, w, c.out, c.kernel, c.stride, c.kernel / 2};
    be.conv2d_rows(x, c.w, c.b, d, y);
    if (c.relu) be.relu(y);
    return {d.out_height(), d.out_width()};
  }

  Attention attention(WeightUploader<B>& take, const std::string& p) const {
    const Eigen::Index d = config_.d_model;
    Attention a;
    const auto pair = [&](const char* n, Tensor& w, Tensor& b) {
      w = take(p + n + ".weight", d, d);
      b = take(p + n + ".bias", 1, d);
    };
    pair("q_proj", a.q_w, a.q_b);
    pair("k_proj", a.k_w, a.k_b);
    pair("v_proj", a.v_w, a.v_b);
    pair("o_proj", a.o_w, a.o_b);
    return a;
  }

  Norm norm(WeightUploader<B>& take, const std::string& p) const {
    return {take(p + ".weight", 1, config_.d_model), take(p + ".bias", 1, config_.d_model)};
  }

  Mlp mlp(WeightUploader<B>& take, const std::string& p, Eigen::Index ffn) const {
    const Eigen::Index d = config_.d_model;
    return {take(p + "mlp.fc1.weight", ffn, d), take(p + "mlp.fc1.bias", 1, ffn), take(p + "mlp.fc2.weight", d, ffn),
            take(p + "mlp.fc2.bias", 1, d)};
  }

  /// hidden = norm(hidden + o(attention(q(query_in), k(key_in), v(value_in)))).
  void attend(B& be, const Attention& A, const Norm& N, const Tensor& query_in, const Tensor& key_in,
              const Tensor& value_in, const AttentionDims& dims, Tensor& hidden, Workspace& ws) const {
    be.linear(query_in, A.q_w, A.q_b, ws.q);
    be.linear(key_in, A.k_w, A.k_b, ws.k);
    be.linear(value_in, A.v_w, A.v_b, ws.v);
    be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
    be.linear(ws.context, A.o_w, A.o_b, ws.attn);
    be.add(ws.attn, hidden);
    be.layer_norm(hidden, N.g, N.b, layer_norm_eps, hidden);
  }

  /// hidden = norm(hidden + fc2(act(fc1(hidden)))).
  void feed_forward(B& be, const Mlp& M, const Norm& N, Tensor& hidden, Workspace& ws) const {
    be.linear(hidden, M.fc1_w, M.fc1_b, ws.inter);
    detail::activate(be, config_.activation, ws.inter);
    be.linear(ws.inter, M.fc2_w, M.fc2_b, ws.tmp);
    be.add(ws.tmp, hidden);
    be.layer_norm(hidden, N.g, N.b, layer_norm_eps, hidden);
  }

  /// ws.qk = table's rows (by ids) + x: a position embedding added to a
  /// copy of x, for the queries and keys.
  static void with_positions(B& be, const Tensor& table, const IndexTensor& ids, const Tensor& x, Tensor& out) {
    be.embedding_lookup(table, ids, out);
    be.add(x, out);
  }

  /// The input projection and the encoder: ws.memory.
  void encode(B& be, Workspace& ws) const {
    be.linear(ws.map, proj_w_, proj_b_, ws.memory);
    const AttentionDims dims{ws.batch, ws.tokens, ws.tokens, config_.encoder_heads, config_.d_model / config_.encoder_heads};
    for (const Layer& L : encoder_) {
      with_positions(be, ws.positions, ws.position_ids, ws.memory, ws.qk);
      attend(be, L.self, L.self_norm, ws.qk, ws.qk, ws.memory, dims, ws.memory, ws);
      feed_forward(be, L.mlp, L.final_norm, ws.memory, ws);
    }
    with_positions(be, ws.positions, ws.position_ids, ws.memory, ws.memory_keys);
  }

  /// The decoder over zero queries with their learned positions: ws.hidden.
  void decode(B& be, Workspace& ws) const {
    const int q = config_.num_queries;
    const int head_dim = config_.d_model / config_.decoder_heads;
    const AttentionDims self{ws.batch, q, q, config_.decoder_heads, head_dim};
    const AttentionDims cross{ws.batch, q, ws.tokens, config_.decoder_heads, head_dim};
    be.embedding_lookup(zero_row_, ws.zero_ids, ws.hidden);
    for (const Layer& L : decoder_) {
      with_positions(be, query_pos_, ws.query_ids, ws.hidden, ws.qk);
      attend(be, L.self, L.self_norm, ws.qk, ws.qk, ws.hidden, self, ws.hidden, ws);
      with_positions(be, query_pos_, ws.query_ids, ws.hidden, ws.qk);
      attend(be, L.cross, L.cross_norm, ws.qk, ws.memory_keys, ws.memory, cross, ws.hidden, ws);
      feed_forward(be, L.mlp, L.final_norm, ws.hidden, ws);
      if (config_.auxiliary_loss) be.layer_norm(ws.hidden, decoder_norm_.g, decoder_norm_.b, layer_norm_eps, ws.hidden);
    }
    be.layer_norm(ws.hidden, decoder_norm_.g, decoder_norm_.b, layer_norm_eps, ws.hidden);
  }

  DetrConfig config_;
  FoldedConv stem_;
  std::vector<ResidualLayer> backbone_;
  Tensor proj_w_, proj_b_, query_pos_, zero_row_, class_w_, class_b_;
  Tensor box_w_[3], box_b_[3];
  std::vector<Layer> encoder_, decoder_;
  Norm decoder_norm_;
  Tensor none_;
  WeightTally tally_;
};

}  // namespace accelbench
