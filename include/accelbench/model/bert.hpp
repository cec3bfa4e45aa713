#pragma once

// BERT (Devlin et al., 2018) as in Hugging Face transformers' BertModel:
// embeddings (word + position + token type, then LayerNorm) and post-norm
// encoder layers, with the mean-pooled sentence embedding of
// sentence-transformers on top. The forward pass is written once over the
// backend's EncoderOps.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../detail/rng.hpp"
#include "../core/precision.hpp"
#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "../detail/checked_math.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/upload.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

struct BertConfig {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 0;
  int type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  std::vector<std::string> aliases;  ///< other names of the preset, e.g. the Hugging Face id
  /// The linear layers' weights' precision (Config::precision): fp32, or
  /// bf16 / fp16 on a backend with HasWeightPrecision; the embeddings and
  /// norms stay fp32.
  Precision weight_precision = Precision::fp32;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }

  /// Parameters of the embeddings and encoder (the unused pooler is not counted).
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const std::int64_t h = hidden;
    const std::int64_t i = intermediate;
    const std::int64_t embeddings = (std::int64_t{vocab_size} + max_positions + type_vocab_size) * h + 2 * h;
    const std::int64_t layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
    return embeddings + layers * layer;
  }

  /// Bytes of a forward pass's activations at this batch shape: seven
  /// [tokens, hidden] tensors, the [tokens, intermediate] feed-forward, the
  /// pooled output, the mask and three id arrays.
  [[nodiscard]] std::uint64_t activation_bytes(int batch, int seq) const noexcept {
    using detail::saturating_product, detail::saturating_sum;
    const std::uint64_t tokens = saturating_product(batch, seq);
    const std::uint64_t floats =
        saturating_sum(saturating_product(tokens, 7 * std::int64_t{hidden} + intermediate),
                       saturating_product(batch, hidden), tokens);
    return saturating_sum(saturating_product(floats, sizeof(float)), saturating_product(3, tokens, sizeof(std::int32_t)));
  }

  /// Floating-point operations of one forward pass (a multiply-add counts as
  /// two): the matrix products of the projections, feed-forward and attention.
  /// Element-wise work (norms, GELU, softmax) is left out.
  [[nodiscard]] double flops(int batch, int seq) const noexcept {
    const double tokens = static_cast<double>(batch) * seq;
    const double h = hidden;
    const double projections = 2.0 * tokens * (4.0 * h * h + 2.0 * h * intermediate);
    const double attention = 2.0 * 2.0 * static_cast<double>(batch) * seq * seq * h;
    return layers * (projections + attention);
  }
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<BertConfig>& bert_presets() {
  static const std::vector<BertConfig> presets = {
      {"bert-tiny", 2, 128, 2, 512, 30522, 512, 2, 1e-12f, {"prajjwal1/bert-tiny"}},
      {"all-MiniLM-L6-v2", 6, 384, 12, 1536, 30522, 512, 2, 1e-12f, {"sentence-transformers/all-MiniLM-L6-v2"}},
      {"bert-base-uncased", 12, 768, 12, 3072, 30522, 512, 2, 1e-12f, {"google-bert/bert-base-uncased"}},
  };
  return presets;
}

/// Checks that a configuration describes a BERT that can be built.
inline void validate_bert_config(const BertConfig& c) {
  const detail::FieldCheck check(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("vocab_size", c.vocab_size);
  check.positive("max_positions", c.max_positions);
  check.positive("type_vocab_size", c.type_vocab_size);
  check.divides("heads", c.heads, c.hidden);
  check.positive("layer_norm_eps", c.layer_norm_eps);
}

/// The fields of a BERT config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields bert_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"bert\""),
          F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
          F::read("num_hidden_layers", "layers"),
          F::read("hidden_size", "width"),
          F::read("num_attention_heads", "attention heads"),
          F::read("intermediate_size", "feed-forward width"),
          F::read("vocab_size", "rows of the token embedding"),
          F::read("max_position_embeddings", "rows of the position embedding"),
          F::read("type_vocab_size", "rows of the token-type embedding"),
          F::read("layer_norm_eps", "LayerNorm epsilon"),
          F::refused("is_decoder", false, "a BERT decoder (causal self-attention) is not implemented"),
          F::refused("add_cross_attention", false, "cross-attention layers are not implemented"),
          F::refused("position_embedding_type", "absolute", "only absolute position embeddings are implemented"),
          F::no_effect("tie_word_embeddings", "BertModel has no LM head to tie")};
}

/// BertConfig from a checkpoint's config.json (model_type "bert"); the
/// preset is named after the folder. Every field is held to
/// bert_config_fields(); `accepted` names unknown fields to let pass.
[[nodiscard]] inline BertConfig bert_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "bert", "the embedding family reads BERT checkpoints (\"bert\")");
  (void)detail::read_activation(c, "hidden_act", "gelu", "BERT", {Activation::gelu});
  BertConfig b;
  b.name = checkpoint_name(dir);
  b.layers = c.integer("num_hidden_layers");
  b.hidden = c.integer("hidden_size");
  b.heads = c.integer("num_attention_heads");
  b.intermediate = c.integer("intermediate_size");
  b.vocab_size = c.integer("vocab_size");
  b.max_positions = c.integer("max_position_embeddings");
  b.type_vocab_size = c.integer("type_vocab_size", 2);
  b.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  c.check_fields(bert_config_fields());
  validate_bert_config(b);
  return b;
}

// ---- tensor names and shapes ----

namespace detail {
inline std::string bert_layer_prefix(int i) { return "encoder.layer." + std::to_string(i) + "."; }
}  // namespace detail

/// The shape of every tensor of a BERT, by its Hugging Face name.
inline TensorShapes bert_tensor_shapes(const BertConfig& c) {
  const Eigen::Index h = c.hidden;
  const Eigen::Index i = c.intermediate;
  TensorShapes s = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}},
      {"embeddings.position_embeddings.weight", {c.max_positions, h}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}},
      {"embeddings.LayerNorm.weight", {1, h}},
      {"embeddings.LayerNorm.bias", {1, h}},
  };
  for (int l = 0; l < c.layers; ++l) {
    const auto p = detail::bert_layer_prefix(l);
    for (const char* proj : {"query", "key", "value"}) {
      s.push_back({p + "attention.self." + proj + ".weight", {h, h}});
      s.push_back({p + "attention.self." + proj + ".bias", {1, h}});
    }
    s.push_back({p + "attention.output.dense.weight", {h, h}});
    s.push_back({p + "attention.output.dense.bias", {1, h}});
    s.push_back({p + "attention.output.LayerNorm.weight", {1, h}});
    s.push_back({p + "attention.output.LayerNorm.bias", {1, h}});
    s.push_back({p + "intermediate.dense.weight", {i, h}});
    s.push_back({p + "intermediate.dense.bias", {1, i}});
    s.push_back({p + "output.dense.weight", {h, i}});
    s.push_back({p + "output.dense.bias", {1, h}});
    s.push_back({p + "output.LayerNorm.weight", {1, h}});
    s.push_back({p + "output.LayerNorm.bias", {1, h}});
  }
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): matrices and
/// embeddings with standard deviation 0.02 (BERT's initializer range), biases
/// small, LayerNorm scales near one.
inline WeightMap synthetic_bert_weights(const BertConfig& c, std::uint64_t seed) {
  validate_bert_config(c);
  return synthetic_weights(bert_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"LayerNorm"}); });
}

/// The tensors of a BERT checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors bert_unused_tensors() {
  return {unused_prefix("pooler.", "BertModel's pooler (a dense layer on the first token), whose output the embedding "
                                   "benchmark does not use: it mean-pools the last hidden states"),
          unused_prefix("cls.", "the pre-training heads of BertForPreTraining and BertForMaskedLM, not part of BertModel"),
          unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A BERT checkpoint's weights under BertModel's names.
[[nodiscard]] inline WeightMap bert_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"bert."}, bert_unused_tensors());
}

// ---- forward entry points ----

/// Token ids, positions, token types and attention mask of a batch of sequences.
struct BertInput {
  int batch = 0;
  int seq = 0;
  std::vector<std::int32_t> input_ids;       ///< [batch * seq]
  std::vector<std::int32_t> token_type_ids;  ///< [batch * seq]
  std::vector<std::int32_t> position_ids;    ///< [batch * seq], 0..seq-1 per sequence
  HostMatrix attention_mask;                 ///< [batch, seq], 1 = token, 0 = padding
};

/// A batch of synthetic sequences: [CLS] random tokens [SEP], then padding.
/// `lengths` gives each sequence's number of real tokens (default: all `seq`).
inline BertInput make_bert_input(const BertConfig& c, int batch, int seq, std::uint64_t seed,
                                 std::vector<int> lengths = {}) {
  if (batch <= 0) throw std::invalid_argument("make_bert_input: batch = " + std::to_string(batch) + ": must be >= 1");
  if (seq <= 0 || seq > c.max_positions) {
    throw std::invalid_argument("make_bert_input: seq = " + std::to_string(seq) + ": must lie in [1, " +
                                std::to_string(c.max_positions) + "]");
  }
  if (lengths.empty()) lengths.assign(static_cast<std::size_t>(batch), seq);
  if (lengths.size() != static_cast<std::size_t>(batch)) {
    throw std::invalid_argument("make_bert_input: one length per sequence is needed");
  }
  // BERT's uncased vocabulary: [PAD] = 0, [CLS] = 101, [SEP] = 102, words from 1996.
  const bool real_vocab = c.vocab_size > 2000;
  const std::int32_t pad = 0;
  const std::int32_t cls = real_vocab ? 101 : 1;
  const std::int32_t sep = real_vocab ? 102 : 2;
  const std::int32_t first_word = real_vocab ? 1996 : 3;
  const auto words = static_cast<std::uint64_t>(std::max(1, c.vocab_size - first_word));

  BertInput in;
  in.batch = batch;
  in.seq = seq;
  const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
  in.input_ids.assign(n, pad);
  in.token_type_ids.assign(n, 0);
  in.position_ids.resize(n);
  in.attention_mask = HostMatrix::Zero(batch, seq);
  const std::uint64_t stream = detail::stream_seed(seed, "bert.input_ids");
  for (int b = 0; b < batch; ++b) {
    const int len = lengths[static_cast<std::size_t>(b)];
    if (len < 1 || len > seq) {
      throw std::invalid_argument("make_bert_input: length " + std::to_string(len) + " of sequence " +
                                  std::to_string(b) + " must lie in [1, " + std::to_string(seq) + "]");
    }
    for (int s = 0; s < seq; ++s) {
      const auto i = static_cast<std::size_t>(b) * static_cast<std::size_t>(seq) + static_cast<std::size_t>(s);
      in.position_ids[i] = s;
      if (s >= len) continue;
      in.attention_mask(b, s) = 1.0f;
      if (s == 0 && len > 1) {
        in.input_ids[i] = cls;
      } else if (s == len - 1 && len > 1) {
        in.input_ids[i] = sep;
      } else {
        in.input_ids[i] = first_word + static_cast<std::int32_t>(detail::random_bits(stream, i) % words);
      }
    }
  }
  return in;
}

/// A BERT whose weights live on backend B.
template <EncoderOps B>
class Bert {
 public:
  using Config = BertConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// Activations of one batch shape, kept between forward passes so that a
  /// repeated forward pass allocates nothing.
  struct Workspace {
    int batch = 0;
    int seq = 0;
    IndexTensor input_ids, token_type_ids, position_ids;
    Tensor mask;    ///< [batch, seq]
    Tensor hidden;  ///< last hidden state, [batch * seq, hidden]
    Tensor pooled;  ///< mean-pooled embedding, [batch, hidden]
    Tensor q, k, v, context, attn, inter, tmp;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  Bert(B& backend, BertConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_bert_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_, config_.weight_precision);
    word_ = take("embeddings.word_embeddings.weight", config_.vocab_size, h);
    position_ = take("embeddings.position_embeddings.weight", config_.max_positions, h);
    token_type_ = take("embeddings.token_type_embeddings.weight", config_.type_vocab_size, h);
    emb_ln_g_ = take("embeddings.LayerNorm.weight", 1, h);
    emb_ln_b_ = take("embeddings.LayerNorm.bias", 1, h);
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const auto p = detail::bert_layer_prefix(l);
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.q_w = take.weight(p + "attention.self.query.weight", h, h);
      L.q_b = take(p + "attention.self.query.bias", 1, h);
      L.k_w = take.weight(p + "attention.self.key.weight", h, h);
      L.k_b = take(p + "attention.self.key.bias", 1, h);
      L.v_w = take.weight(p + "attention.self.value.weight", h, h);
      L.v_b = take(p + "attention.self.value.bias", 1, h);
      L.o_w = take.weight(p + "attention.output.dense.weight", h, h);
      L.o_b = take(p + "attention.output.dense.bias", 1, h);
      L.ln1_g = take(p + "attention.output.LayerNorm.weight", 1, h);
      L.ln1_b = take(p + "attention.output.LayerNorm.bias", 1, h);
      L.i_w = take.weight(p + "intermediate.dense.weight", i, h);
      L.i_b = take(p + "intermediate.dense.bias", 1, i);
      L.out_w = take.weight(p + "output.dense.weight", h, i);
      L.out_b = take(p + "output.dense.bias", 1, h);
      L.ln2_g = take(p + "output.LayerNorm.weight", 1, h);
      L.ln2_b = take(p + "output.LayerNorm.bias", 1, h);
    }
    take.finish("BERT");
  }

  [[nodiscard]] const BertConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const BertConfig& c) { return bert_tensor_shapes(c); }

  /// Uploads a batch of inputs into a new workspace.
  [[nodiscard]] Workspace prepare(B& backend, const BertInput& in) const {
    if (in.seq > config_.max_positions) {
      throw std::invalid_argument("Bert: sequence length " + std::to_string(in.seq) + " exceeds " + config_.name +
                                  "'s " + std::to_string(config_.max_positions) + " positions");
    }
    Workspace ws;
    ws.batch = in.batch;
    ws.seq = in.seq;
    ws.input_ids = backend.upload_indices(in.input_ids);
    ws.token_type_ids = backend.upload_indices(in.token_type_ids);
    ws.position_ids = backend.upload_indices(in.position_ids);
    ws.mask = backend.upload(in.attention_mask);
    return ws;
  }

  /// One forward pass: ws.hidden gets the last hidden state and ws.pooled the
  /// mean-pooled embedding.
  void forward(B& be, Workspace& ws) const {
    encode(be, ws);
    be.masked_mean_pool(ws.hidden, ws.mask, ws.pooled);
  }

  /// The encoder alone: ws.hidden gets the last hidden state (a model that
  /// pools otherwise, CLAP's text tower, stops here).
  void encode(B& be, Workspace& ws) const {
    const float eps = config_.layer_norm_eps;
    be.embedding_lookup(word_, ws.input_ids, ws.hidden);
    be.embedding_lookup(position_, ws.position_ids, ws.tmp);
    be.add(ws.tmp, ws.hidden);
    be.embedding_lookup(token_type_, ws.token_type_ids, ws.tmp);
    be.add(ws.tmp, ws.hidden);
    be.layer_norm(ws.hidden, emb_ln_g_, emb_ln_b_, eps, ws.hidden);

    const AttentionDims dims{ws.batch, ws.seq, ws.seq, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.linear(ws.hidden, L.q_w, L.q_b, ws.q);
      be.linear(ws.hidden, L.k_w, L.k_b, ws.k);
      be.linear(ws.hidden, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, ws.mask, dims, ws.context);
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
  struct Layer {
    weight_t<B> q_w, k_w, v_w, o_w, i_w, out_w;  // the linear layers' (packed once, on Cpu)
    Tensor q_b, k_b, v_b, o_b, ln1_g, ln1_b, i_b, out_b, ln2_g, ln2_b;
  };

  BertConfig config_;
  Tensor word_, position_, token_type_, emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
