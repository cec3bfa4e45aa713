#pragma once

// T5 (Raffel et al., 2020) as in Hugging Face transformers'
// T5ForConditionalGeneration: pre-norm blocks with T5's layer norm (RMS, no
// bias), relative position bias shared by the layers of each stack, unscaled
// attention scores, ReLU feed-forward, cross-attention over the encoder's
// output, and the tied LM head scaled by d_model^-1/2. Written once over the
// backend's GenerationOps; the decoder keeps a key-value cache.

#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "generative.hpp"
#include "common/weights.hpp"

namespace accelbench {

template <GenerationOps B>
class T5 {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  struct Activations {
    Tensor x, h, q, k, v, context, ff, bias, logits;
  };

  /// One batch being generated: the encoder's input and output, the cross
  /// keys and values, the decoder's cache.
  struct Session {
    int batch = 0;
    int input_len = 0;
    int capacity = 0;  ///< decoder positions
    int length = 0;    ///< decoder positions in the cache
    IndexTensor input_ids;
    IndexTensor start_ids;  ///< the decoder start token for each sequence
    IndexTensor next_ids;   ///< greedy choice of the last step, the next step's input
    Tensor encoder_out;    ///< [batch * input_len, hidden]
    std::vector<Tensor> cross_k, cross_v, self_k, self_v;
    Activations enc, dec;
  };

  T5(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_generative_config(config_);
    if (!config_.is_encoder_decoder()) {
      throw std::invalid_argument("T5: " + config_.name + " is not an encoder-decoder (" + config_.architecture + ")");
    }
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index i = config_.intermediate;
    auto take = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
      HostMatrix m = weights.take(name, rows, cols);
      weight_bytes_ += static_cast<std::uint64_t>(m.size()) * sizeof(float);
      parameters_ += m.size();
      return backend.upload(std::move(m));
    };
    auto attention = [&](const std::string& p) {
      Attention a;
      a.q = take(p + "q.weight", aw, h);
      a.k = take(p + "k.weight", aw, h);
      a.v = take(p + "v.weight", aw, h);
      a.o = take(p + "o.weight", h, aw);
      return a;
    };
    shared_ = take("shared.weight", config_.vocab_size, h);
    // Checkpoints may repeat the shared embedding under the stacks' names.
    for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
      if (weights.contains(alias)) (void)weights.take(alias, config_.vocab_size, h);
    }
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
      EncoderLayer L;
      L.self = attention(p + "0.SelfAttention.");
      if (l == 0) enc_bias_ = take(p + "0.SelfAttention.relative_attention_bias.weight", config_.relative_buckets, config_.heads);
      L.norm1 = take(p + "0.layer_norm.weight", 1, h);
      L.wi = take(p + "1.DenseReluDense.wi.weight", i, h);
      L.wo = take(p + "1.DenseReluDense.wo.weight", h, i);
      L.norm2 = take(p + "1.layer_norm.weight", 1, h);
      encoder_.push_back(std::move(L));
    }
    enc_final_ = take("encoder.final_layer_norm.weight", 1, h);
    for (int l = 0; l < config_.decoder_layers; ++l) {
      const std::string p = "decoder.block." + std::to_string(l) + ".layer.";
      DecoderLayer L;
      L.self = attention(p + "0.SelfAttention.");
      if (l == 0) dec_bias_ = take(p + "0.SelfAttention.relative_attention_bias.weight", config_.relative_buckets, config_.heads);
      L.norm1 = take(p + "0.layer_norm.weight", 1, h);
      L.cross = attention(p + "1.EncDecAttention.");
      L.norm2 = take(p + "1.layer_norm.weight", 1, h);
      L.wi = take(p + "2.DenseReluDense.wi.weight", i, h);
      L.wo = take(p + "2.DenseReluDense.wo.weight", h, i);
      L.norm3 = take(p + "2.layer_norm.weight", 1, h);
      decoder_.push_back(std::move(L));
    }
    dec_final_ = take("decoder.final_layer_norm.weight", 1, h);
    if (!config_.tied_embeddings) {
      lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    } else if (weights.contains("lm_head.weight")) {
      (void)weights.take("lm_head.weight", config_.vocab_size, h);
    }
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return parameters_; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return weight_bytes_; }

  /// A session for `batch` encoder inputs of `input_len` tokens with room
  /// for `max_new_tokens` decoder steps.
  [[nodiscard]] Session start(B& be, std::span<const std::int32_t> input_ids, int batch, int input_len,
                              int max_new_tokens) const {
    detail::check_token_batch(config_.name, input_ids.size(), batch, input_len);
    if (max_new_tokens < 1) throw std::invalid_argument("T5: max_new_tokens must be at least 1");
    Session s;
    s.batch = batch;
    s.input_len = input_len;
    s.capacity = max_new_tokens;
    s.input_ids = be.upload_indices(input_ids);
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * s.capacity, config_.attention_width());
    for (int l = 0; l < config_.decoder_layers; ++l) {
      s.self_k.push_back(be.upload(zeros));
      s.self_v.push_back(be.upload(zeros));
    }
    s.cross_k.resize(static_cast<std::size_t>(config_.decoder_layers));
    s.cross_v.resize(static_cast<std::size_t>(config_.decoder_layers));
    s.start_ids = be.upload_indices(std::vector<std::int32_t>(static_cast<std::size_t>(batch), config_.decoder_start_token));
    return s;
  }

  /// Encodes the input, computes every decoder layer's cross keys and
  /// values, and runs the first decoder step from the start token.
  void prefill(B& be, Session& s) const {
    encode(be, s);
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      be.linear(s.encoder_out, decoder_[l].cross.k, none_, s.cross_k[l]);
      be.linear(s.encoder_out, decoder_[l].cross.v, none_, s.cross_v[l]);
    }
    s.length = 0;
    step(be, s, s.start_ids);
  }

  /// Feeds s.next_ids and chooses the next tokens (logits in s.dec.logits).
  void decode(B& be, Session& s) const { step(be, s, s.next_ids); }

  /// The encoder alone: s.encoder_out gets its final hidden states.
  void encode(B& be, Session& s) const {
    Activations& a = s.enc;
    be.embedding_lookup(shared_, s.input_ids, a.x);
    be.relative_position_bias(enc_bias_,
                              RelativeBiasDims{s.input_len, s.input_len, 0, true, config_.relative_buckets,
                                               config_.relative_max_distance},
                              a.bias);
    const AttentionDims dims{.batch = s.batch,
                             .query_len = s.input_len,
                             .key_len = s.input_len,
                             .heads = config_.heads,
                             .head_dim = config_.effective_head_dim(),
                             .scale = 1.0f};
    for (const EncoderLayer& L : encoder_) {
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q, none_, a.q);
      be.linear(a.h, L.self.k, none_, a.k);
      be.linear(a.h, L.self.v, none_, a.v);
      be.attention(a.q, a.k, a.v, none_, a.bias, dims, a.context);
      be.linear(a.context, L.self.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      be.linear(a.h, L.wi, none_, a.ff);
      be.relu(a.ff);
      be.linear(a.ff, L.wo, none_, a.h);
      be.add(a.h, a.x);
    }
    be.rms_norm(a.x, enc_final_, config_.norm_eps, s.encoder_out);
  }

  /// Teacher-forced decoder pass over `decoder_ids` ([batch, len], from
  /// position 0) after prefill's encoder: `hidden` gets the final-normed
  /// decoder states and `logits` the LM head's output for every position.
  void decode_sequence(B& be, Session& s, std::span<const std::int32_t> decoder_ids, int len, Tensor& hidden,
                       Tensor& logits) const {
    if (len > s.capacity) throw std::invalid_argument("T5: decoder sequence longer than the session's capacity");
    Activations a;
    be.embedding_lookup(shared_, be.upload_indices(decoder_ids), a.x);
    run_decoder(be, s, a, len, 0);
    be.rms_norm(a.x, dec_final_, config_.norm_eps, hidden);
    Tensor scaled = hidden;
    head(be, scaled, logits);
  }

 private:
  struct Attention {
    Tensor q, k, v, o;
  };
  struct EncoderLayer {
    Attention self;
    Tensor norm1, wi, wo, norm2;
  };
  struct DecoderLayer {
    Attention self, cross;
    Tensor norm1, norm2, wi, wo, norm3;
  };

  /// One decoder position per sequence with `input` as its tokens.
  void step(B& be, Session& s, const IndexTensor& input) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range("T5: the decoder cache's " + std::to_string(s.capacity) + " positions are full");
    }
    Activations& a = s.dec;
    be.embedding_lookup(shared_, input, a.x);
    run_decoder(be, s, a, 1, s.length);
    be.rms_norm(a.x, dec_final_, config_.norm_eps, a.h);
    head(be, a.h, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  void run_decoder(B& be, Session& s, Activations& a, int len, int start) const {
    const int hd = config_.effective_head_dim();
    be.relative_position_bias(dec_bias_,
                              RelativeBiasDims{len, start + len, start, false, config_.relative_buckets,
                                               config_.relative_max_distance},
                              a.bias);
    const AttentionDims self_dims{.batch = s.batch,
                                  .query_len = len,
                                  .key_len = start + len,
                                  .heads = config_.heads,
                                  .head_dim = hd,
                                  .key_stride = s.capacity,
                                  .causal = true,
                                  .scale = 1.0f};
    const AttentionDims cross_dims{.batch = s.batch,
                                   .query_len = len,
                                   .key_len = s.input_len,
                                   .heads = config_.heads,
                                   .head_dim = hd,
                                   .scale = 1.0f};
    const CacheDims cache{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      const DecoderLayer& L = decoder_[l];
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q, none_, a.q);
      be.linear(a.h, L.self.k, none_, a.k);
      be.linear(a.h, L.self.v, none_, a.v);
      be.cache_write(a.k, cache, s.self_k[l]);
      be.cache_write(a.v, cache, s.self_v[l]);
      be.attention(a.q, s.self_k[l], s.self_v[l], none_, a.bias, self_dims, a.context);
      be.linear(a.context, L.self.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      be.linear(a.h, L.cross.q, none_, a.q);
      be.attention(a.q, s.cross_k[l], s.cross_v[l], none_, none_, cross_dims, a.context);
      be.linear(a.context, L.cross.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm3, config_.norm_eps, a.h);
      be.linear(a.h, L.wi, none_, a.ff);
      be.relu(a.ff);
      be.linear(a.ff, L.wo, none_, a.h);
      be.add(a.h, a.x);
    }
  }

  /// The LM head; a tied head scales the hidden states by d_model^-1/2 first
  /// (in place).
  void head(B& be, Tensor& hidden, Tensor& logits) const {
    if (config_.tied_embeddings) {
      be.scale(hidden, 1.0f / std::sqrt(static_cast<float>(config_.hidden)));
      be.linear(hidden, shared_, none_, logits);
    } else {
      be.linear(hidden, lm_head_, none_, logits);
    }
  }

  GenerativeConfig config_;
  Tensor shared_, enc_bias_, dec_bias_, enc_final_, dec_final_, lm_head_;
  Tensor none_;
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  std::int64_t parameters_ = 0;
  std::uint64_t weight_bytes_ = 0;
};

}  // namespace accelbench
