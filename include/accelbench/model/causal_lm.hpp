#pragma once

// Decoder-only transformers as in Hugging Face transformers: GPT-2
// (GPT2LMHeadModel: learned positions, LayerNorm, tanh-GELU MLP, tied LM
// head) and Llama / Qwen2 (LlamaForCausalLM, Qwen2ForCausalLM: RMSNorm,
// rotary positions, grouped-query attention, SwiGLU MLP; Qwen2 with q/k/v
// biases). One forward pass over the backend's GenerationOps, with a
// key-value cache: prefill runs the prompt, decode one token per sequence.

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
class CausalLm {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// Activations of one pass; prefill and decode keep their own so that a
  /// repeated generation reuses every buffer.
  struct Activations {
    Tensor x, h, q, k, v, context, ff, gate_up, last, logits;
  };

  /// One batch of sequences being generated: prompt, key-value cache and
  /// activations. `length` is the number of positions in the cache.
  struct Session {
    int batch = 0;
    int prompt_len = 0;
    int capacity = 0;
    int length = 0;
    IndexTensor prompt_ids;
    IndexTensor last_rows;  ///< the row of each sequence's last prompt token
    IndexTensor next_ids;   ///< the token chosen for each sequence by the last step
    std::vector<Tensor> k_cache, v_cache;
    Activations prefill, step;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them.
  CausalLm(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_generative_config(config_);
    if (config_.is_encoder_decoder()) {
      throw std::invalid_argument("CausalLm: " + config_.name + " is an encoder-decoder (" + config_.architecture + ")");
    }
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index kvw = config_.kv_width();
    const Eigen::Index i = config_.intermediate;
    auto take_host = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
      HostMatrix m = weights.take(name, rows, cols);
      weight_bytes_ += static_cast<std::uint64_t>(m.size()) * sizeof(float);
      parameters_ += m.size();
      return m;
    };
    auto take = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
      return backend.upload(take_host(name, rows, cols));
    };
    layers_.resize(static_cast<std::size_t>(config_.layers));
    if (config_.is_gpt2()) {
      embed_ = take("wte.weight", config_.vocab_size, h);
      positions_ = take("wpe.weight", config_.max_positions, h);
      for (int l = 0; l < config_.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        Layer& L = layers_[static_cast<std::size_t>(l)];
        L.norm1_g = take(p + "ln_1.weight", 1, h);
        L.norm1_b = take(p + "ln_1.bias", 1, h);
        // Conv1D weights are [in, out]: split the fused projection and
        // transpose each part to the [out, in] layout of linear().
        const HostMatrix qkv = take_host(p + "attn.c_attn.weight", h, 3 * h);
        const HostMatrix qkv_b = take_host(p + "attn.c_attn.bias", 1, 3 * h);
        L.q_w = backend.upload(HostMatrix(qkv.middleCols(0, h).transpose()));
        L.k_w = backend.upload(HostMatrix(qkv.middleCols(h, h).transpose()));
        L.v_w = backend.upload(HostMatrix(qkv.middleCols(2 * h, h).transpose()));
        L.q_b = backend.upload(HostMatrix(qkv_b.middleCols(0, h)));
        L.k_b = backend.upload(HostMatrix(qkv_b.middleCols(h, h)));
        L.v_b = backend.upload(HostMatrix(qkv_b.middleCols(2 * h, h)));
        L.o_w = backend.upload(HostMatrix(take_host(p + "attn.c_proj.weight", h, h).transpose()));
        L.o_b = take(p + "attn.c_proj.bias", 1, h);
        L.norm2_g = take(p + "ln_2.weight", 1, h);
        L.norm2_b = take(p + "ln_2.bias", 1, h);
        L.up_w = backend.upload(HostMatrix(take_host(p + "mlp.c_fc.weight", h, i).transpose()));
        L.up_b = take(p + "mlp.c_fc.bias", 1, i);
        L.down_w = backend.upload(HostMatrix(take_host(p + "mlp.c_proj.weight", i, h).transpose()));
        L.down_b = take(p + "mlp.c_proj.bias", 1, h);
      }
      final_g_ = take("ln_f.weight", 1, h);
      final_b_ = take("ln_f.bias", 1, h);
      tied_ = true;
      // A checkpoint of GPT2LMHeadModel may also store the (tied) head.
      if (weights.contains("lm_head.weight")) (void)weights.take("lm_head.weight", config_.vocab_size, h);
      return;
    }
    embed_ = take("model.embed_tokens.weight", config_.vocab_size, h);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.norm1_g = take(p + "input_layernorm.weight", 1, h);
      L.q_w = take(p + "self_attn.q_proj.weight", aw, h);
      L.k_w = take(p + "self_attn.k_proj.weight", kvw, h);
      L.v_w = take(p + "self_attn.v_proj.weight", kvw, h);
      if (config_.qkv_bias) {
        L.q_b = take(p + "self_attn.q_proj.bias", 1, aw);
        L.k_b = take(p + "self_attn.k_proj.bias", 1, kvw);
        L.v_b = take(p + "self_attn.v_proj.bias", 1, kvw);
      }
      L.o_w = take(p + "self_attn.o_proj.weight", h, aw);
      L.norm2_g = take(p + "post_attention_layernorm.weight", 1, h);
      // Gate and up projections as one [2i, h] matrix: one product, then swiglu.
      HostMatrix gate_up(2 * i, h);
      gate_up.topRows(i) = take_host(p + "mlp.gate_proj.weight", i, h);
      gate_up.bottomRows(i) = take_host(p + "mlp.up_proj.weight", i, h);
      L.up_w = backend.upload(std::move(gate_up));
      L.down_w = take(p + "mlp.down_proj.weight", h, i);
    }
    final_g_ = take("model.norm.weight", 1, h);
    tied_ = config_.tied_embeddings;
    if (!tied_) {
      lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    } else if (weights.contains("lm_head.weight")) {
      (void)weights.take("lm_head.weight", config_.vocab_size, h);
    }
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return parameters_; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return weight_bytes_; }

  /// A session for `batch` prompts of `prompt_len` tokens (row-major ids)
  /// with room for `max_new_tokens` more; the cache is allocated here.
  [[nodiscard]] Session start(B& be, std::span<const std::int32_t> prompt_ids, int batch, int prompt_len,
                              int max_new_tokens) const {
    detail::check_token_batch(config_.name, prompt_ids.size(), batch, prompt_len);
    if (max_new_tokens < 0) throw std::invalid_argument("CausalLm: max_new_tokens must not be negative");
    Session s;
    s.batch = batch;
    s.prompt_len = prompt_len;
    s.capacity = prompt_len + max_new_tokens;
    if (s.capacity > config_.max_positions) {
      throw std::invalid_argument("CausalLm: prompt length " + std::to_string(prompt_len) + " + " +
                                  std::to_string(max_new_tokens) + " new tokens exceed " + config_.name + "'s " +
                                  std::to_string(config_.max_positions) + " positions");
    }
    s.prompt_ids = be.upload_indices(prompt_ids);
    std::vector<std::int32_t> last(static_cast<std::size_t>(batch));
    for (int b = 0; b < batch; ++b) last[static_cast<std::size_t>(b)] = (b + 1) * prompt_len - 1;
    s.last_rows = be.upload_indices(last);
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * s.capacity, config_.kv_width());
    for (int l = 0; l < config_.layers; ++l) {
      s.k_cache.push_back(be.upload(zeros));
      s.v_cache.push_back(be.upload(zeros));
    }
    return s;
  }

  /// Runs the prompt through the model, filling the cache; the logits of each
  /// sequence's last position go to s.prefill.logits and its greedy choice
  /// to s.next_ids. s.prefill.h keeps the final hidden states of every position.
  void prefill(B& be, Session& s) const {
    Activations& a = s.prefill;
    be.embedding_lookup(embed_, s.prompt_ids, a.x);
    run_layers(be, s, a, s.prompt_len, 0);
    be.embedding_lookup(a.h, s.last_rows, a.last);
    head(be, a.last, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length = s.prompt_len;
  }

  /// Feeds s.next_ids (one token per sequence) and chooses the next ones;
  /// logits in s.step.logits.
  void decode(B& be, Session& s) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range("CausalLm: the cache's " + std::to_string(s.capacity) + " positions are full");
    }
    Activations& a = s.step;
    be.embedding_lookup(embed_, s.next_ids, a.x);
    run_layers(be, s, a, 1, s.length);
    head(be, a.h, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  /// The logits of every prompt position, after prefill (for verification).
  void prompt_logits(B& be, Session& s, Tensor& logits) const { head(be, s.prefill.h, logits); }

 private:
  struct Layer {
    Tensor norm1_g, norm1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
    Tensor norm2_g, norm2_b, up_w, up_b, down_w, down_b;
  };

  void norm(B& be, const Tensor& x, const Tensor& g, const Tensor& b, Tensor& y) const {
    if (config_.is_gpt2()) {
      be.layer_norm(x, g, b, config_.norm_eps, y);
    } else {
      be.rms_norm(x, g, config_.norm_eps, y);
    }
  }

  /// `len` new positions per sequence starting at `start`: a.x holds their
  /// embeddings; a.h gets the final-normed hidden states.
  void run_layers(B& be, Session& s, Activations& a, int len, int start) const {
    const int hd = config_.effective_head_dim();
    if (config_.is_gpt2()) be.add_positions(positions_, start, s.batch, len, a.x);
    const AttentionDims dims{.batch = s.batch,
                             .query_len = len,
                             .key_len = start + len,
                             .heads = config_.heads,
                             .head_dim = hd,
                             .kv_heads = config_.effective_kv_heads(),
                             .key_stride = s.capacity,
                             .causal = true};
    const CacheDims cache{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      norm(be, a.x, L.norm1_g, L.norm1_b, a.h);
      be.linear(a.h, L.q_w, L.q_b, a.q);
      be.linear(a.h, L.k_w, L.k_b, a.k);
      be.linear(a.h, L.v_w, L.v_b, a.v);
      if (config_.uses_rotary()) {
        be.rotary(a.q, RotaryDims{s.batch, len, config_.heads, hd, start, config_.rope_theta});
        be.rotary(a.k, RotaryDims{s.batch, len, config_.effective_kv_heads(), hd, start, config_.rope_theta});
      }
      be.cache_write(a.k, cache, s.k_cache[l]);
      be.cache_write(a.v, cache, s.v_cache[l]);
      be.attention(a.q, s.k_cache[l], s.v_cache[l], none_, dims, a.context);
      be.linear(a.context, L.o_w, L.o_b, a.h);
      be.add(a.h, a.x);
      norm(be, a.x, L.norm2_g, L.norm2_b, a.h);
      if (config_.is_gpt2()) {
        be.linear(a.h, L.up_w, L.up_b, a.ff);
        be.gelu_tanh(a.ff);
      } else {
        be.linear(a.h, L.up_w, none_, a.gate_up);
        be.swiglu(a.gate_up, a.ff);
      }
      be.linear(a.ff, L.down_w, L.down_b, a.h);
      be.add(a.h, a.x);
    }
    norm(be, a.x, final_g_, final_b_, a.h);
  }

  void head(B& be, const Tensor& hidden, Tensor& logits) const {
    be.linear(hidden, tied_ ? embed_ : lm_head_, none_, logits);
  }

  GenerativeConfig config_;
  Tensor embed_, positions_, final_g_, final_b_, lm_head_;
  Tensor none_;  // an empty tensor: no bias, no mask
  bool tied_ = false;
  std::vector<Layer> layers_;
  std::int64_t parameters_ = 0;
  std::uint64_t weight_bytes_ = 0;
};

}  // namespace accelbench
