#pragma once

// Configuration of the generative architectures: decoder-only transformers
// (GPT-2, Llama, Qwen2) and the T5 encoder-decoder. One flat struct serves
// all of them so that the TextGeneration family has one preset type; each
// architecture reads the fields it uses. Tensor names follow Hugging Face
// transformers' checkpoints.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/rng.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "common/weights.hpp"

namespace accelbench {

struct GenerativeConfig {
  std::string name;
  /// "gpt2", "llama", "qwen2" (decoder-only) or "t5" (encoder-decoder).
  std::string architecture;
  int layers = 0;          ///< decoder layers; T5: encoder layers
  int decoder_layers = 0;  ///< T5 only
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;  ///< key-value heads (grouped-query attention); 0: heads
  int head_dim = 0;  ///< 0: hidden / heads
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 0;  ///< longest sequence; 0: no limit (T5's relative positions)
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;  ///< Llama, Qwen2
  bool qkv_bias = false;        ///< biases on the query, key and value projections (Qwen2)
  bool tied_embeddings = false; ///< the LM head is the token embedding
  int relative_buckets = 32;        ///< T5
  int relative_max_distance = 128;  ///< T5
  int decoder_start_token = 0;      ///< T5
  std::vector<std::string> aliases;

  [[nodiscard]] bool is_encoder_decoder() const noexcept { return architecture == "t5"; }
  [[nodiscard]] bool is_gpt2() const noexcept { return architecture == "gpt2"; }
  [[nodiscard]] bool uses_rotary() const noexcept { return architecture == "llama" || architecture == "qwen2"; }
  [[nodiscard]] int effective_kv_heads() const noexcept { return kv_heads > 0 ? kv_heads : heads; }
  [[nodiscard]] int effective_head_dim() const noexcept {
    return head_dim > 0 ? head_dim : (heads > 0 ? hidden / heads : 0);
  }
  [[nodiscard]] std::int64_t attention_width() const noexcept {
    return std::int64_t{heads} * effective_head_dim();
  }
  [[nodiscard]] std::int64_t kv_width() const noexcept {
    return std::int64_t{effective_kv_heads()} * effective_head_dim();
  }
  /// Layers that keep a key-value cache while generating.
  [[nodiscard]] int generating_layers() const noexcept { return is_encoder_decoder() ? decoder_layers : layers; }

  /// Parameters, the tied LM head counted once.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    std::int64_t n = 0;
    for (const auto& [name, shape] : tensor_shapes()) n += shape[0] * shape[1];
    return n;
  }

  /// Bytes of the key-value cache for `batch` sequences of up to `capacity`
  /// tokens (T5: plus the cross-attention keys and values of `encoder_len` tokens).
  [[nodiscard]] std::uint64_t kv_cache_bytes(int batch, int capacity, int encoder_len = 0) const noexcept {
    const auto rows = static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(capacity);
    std::uint64_t floats = 2u * rows * static_cast<std::uint64_t>(kv_width()) * static_cast<std::uint64_t>(generating_layers());
    if (is_encoder_decoder()) {
      floats += 2u * static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(encoder_len) *
                static_cast<std::uint64_t>(attention_width()) * static_cast<std::uint64_t>(decoder_layers);
    }
    return floats * sizeof(float);
  }

  /// Floating-point operations of generating `new_tokens` tokens after a
  /// prompt of `prompt` tokens for `batch` sequences, with a key-value cache
  /// (a multiply-add counts as two): matrix products of the projections,
  /// feed-forward, attention and the LM head (one position per step).
  /// Element-wise work is left out.
  [[nodiscard]] double generation_flops(int batch, int prompt, int new_tokens) const noexcept {
    const double b = batch;
    const double h = hidden;
    const double aw = static_cast<double>(attention_width());
    const double kvw = static_cast<double>(kv_width());
    const double ffn_factor = is_gpt2() || is_encoder_decoder() ? 2.0 : 3.0;  // SwiGLU has three matrices
    const double layer_weights = h * aw * 2.0 + h * kvw * 2.0 + ffn_factor * h * intermediate;
    const double head = 2.0 * b * h * vocab_size;
    double total = 0;
    if (is_encoder_decoder()) {
      const double p = prompt;
      total += layers * (2.0 * b * p * layer_weights + 4.0 * b * p * p * aw);     // encoder
      total += decoder_layers * 2.0 * b * p * 2.0 * h * aw;                       // cross keys and values
      const double dec_weights = layer_weights + 2.0 * h * aw;                    // + cross queries and output
      for (int t = 0; t < new_tokens; ++t) {
        const double ctx = t + 1.0;
        total += decoder_layers * (2.0 * b * dec_weights + 4.0 * b * ctx * aw + 4.0 * b * p * aw) + head;
      }
      return total;
    }
    const double p = prompt;
    total += layers * (2.0 * b * p * layer_weights + 4.0 * b * aw * p * (p + 1.0) / 2.0) + head;
    for (int t = 1; t < new_tokens; ++t) {
      const double ctx = p + t + 1.0;
      total += layers * (2.0 * b * layer_weights + 4.0 * b * ctx * aw) + head;
    }
    return total;
  }

  /// Every tensor of the architecture by its Hugging Face name, with its
  /// shape as stored in checkpoints (a 1-D tensor as [1, n]). GPT-2's
  /// projections are Conv1D layers, stored [in, out].
  [[nodiscard]] std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>> tensor_shapes() const {
    std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>> s;
    const Eigen::Index h = hidden;
    const Eigen::Index aw = attention_width();
    const Eigen::Index kvw = kv_width();
    const Eigen::Index i = intermediate;
    const Eigen::Index v = vocab_size;
    if (is_gpt2()) {
      s.push_back({"wte.weight", {v, h}});
      s.push_back({"wpe.weight", {max_positions, h}});
      for (int l = 0; l < layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        s.push_back({p + "ln_1.weight", {1, h}});
        s.push_back({p + "ln_1.bias", {1, h}});
        s.push_back({p + "attn.c_attn.weight", {h, 3 * h}});
        s.push_back({p + "attn.c_attn.bias", {1, 3 * h}});
        s.push_back({p + "attn.c_proj.weight", {h, h}});
        s.push_back({p + "attn.c_proj.bias", {1, h}});
        s.push_back({p + "ln_2.weight", {1, h}});
        s.push_back({p + "ln_2.bias", {1, h}});
        s.push_back({p + "mlp.c_fc.weight", {h, i}});
        s.push_back({p + "mlp.c_fc.bias", {1, i}});
        s.push_back({p + "mlp.c_proj.weight", {i, h}});
        s.push_back({p + "mlp.c_proj.bias", {1, h}});
      }
      s.push_back({"ln_f.weight", {1, h}});
      s.push_back({"ln_f.bias", {1, h}});
      return s;
    }
    if (is_encoder_decoder()) {
      s.push_back({"shared.weight", {v, h}});
      const auto attention = [&](const std::string& p) {
        s.push_back({p + "q.weight", {aw, h}});
        s.push_back({p + "k.weight", {aw, h}});
        s.push_back({p + "v.weight", {aw, h}});
        s.push_back({p + "o.weight", {h, aw}});
      };
      for (int l = 0; l < layers; ++l) {
        const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
        attention(p + "0.SelfAttention.");
        if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {relative_buckets, heads}});
        s.push_back({p + "0.layer_norm.weight", {1, h}});
        s.push_back({p + "1.DenseReluDense.wi.weight", {i, h}});
        s.push_back({p + "1.DenseReluDense.wo.weight", {h, i}});
        s.push_back({p + "1.layer_norm.weight", {1, h}});
      }
      s.push_back({"encoder.final_layer_norm.weight", {1, h}});
      for (int l = 0; l < decoder_layers; ++l) {
        const std::string p = "decoder.block." + std::to_string(l) + ".layer.";
        attention(p + "0.SelfAttention.");
        if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {relative_buckets, heads}});
        s.push_back({p + "0.layer_norm.weight", {1, h}});
        attention(p + "1.EncDecAttention.");
        s.push_back({p + "1.layer_norm.weight", {1, h}});
        s.push_back({p + "2.DenseReluDense.wi.weight", {i, h}});
        s.push_back({p + "2.DenseReluDense.wo.weight", {h, i}});
        s.push_back({p + "2.layer_norm.weight", {1, h}});
      }
      s.push_back({"decoder.final_layer_norm.weight", {1, h}});
      if (!tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
      return s;
    }
    s.push_back({"model.embed_tokens.weight", {v, h}});
    for (int l = 0; l < layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      s.push_back({p + "input_layernorm.weight", {1, h}});
      s.push_back({p + "self_attn.q_proj.weight", {aw, h}});
      s.push_back({p + "self_attn.k_proj.weight", {kvw, h}});
      s.push_back({p + "self_attn.v_proj.weight", {kvw, h}});
      if (qkv_bias) {
        s.push_back({p + "self_attn.q_proj.bias", {1, aw}});
        s.push_back({p + "self_attn.k_proj.bias", {1, kvw}});
        s.push_back({p + "self_attn.v_proj.bias", {1, kvw}});
      }
      s.push_back({p + "self_attn.o_proj.weight", {h, aw}});
      s.push_back({p + "post_attention_layernorm.weight", {1, h}});
      s.push_back({p + "mlp.gate_proj.weight", {i, h}});
      s.push_back({p + "mlp.up_proj.weight", {i, h}});
      s.push_back({p + "mlp.down_proj.weight", {h, i}});
    }
    s.push_back({"model.norm.weight", {1, h}});
    if (!tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
    return s;
  }
};

/// Presets with the dimensions of the published checkpoints, and tiny ones
/// for quick runs.
inline const std::vector<GenerativeConfig>& generative_presets() {
  static const std::vector<GenerativeConfig> presets = [] {
    std::vector<GenerativeConfig> p;
    p.push_back({.name = "gpt2", .architecture = "gpt2", .layers = 12, .hidden = 768, .heads = 12,
                 .intermediate = 3072, .vocab_size = 50257, .max_positions = 1024, .norm_eps = 1e-5f,
                 .qkv_bias = true, .tied_embeddings = true, .aliases = {"openai-community/gpt2"}});
    p.push_back({.name = "llama-tiny", .architecture = "llama", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .aliases = {}});
    p.push_back({.name = "tinyllama-1.1b", .architecture = "llama", .layers = 22, .hidden = 2048, .heads = 32,
                 .kv_heads = 4, .intermediate = 5632, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f,
                 .aliases = {"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"}});
    p.push_back({.name = "qwen2-0.5b", .architecture = "qwen2", .layers = 24, .hidden = 896, .heads = 14,
                 .kv_heads = 2, .intermediate = 4864, .vocab_size = 151936, .max_positions = 131072,
                 .norm_eps = 1e-6f, .rope_theta = 1000000.0f, .qkv_bias = true, .tied_embeddings = true,
                 .aliases = {"Qwen/Qwen2-0.5B"}});
    // Qwen2's features (q/k/v biases, grouped-query attention, tied head,
    // theta 1e6) at llama-tiny's scale, for quick runs of the architecture.
    p.push_back({.name = "qwen2-tiny", .architecture = "qwen2", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 4096,
                 .norm_eps = 1e-6f, .rope_theta = 1000000.0f, .qkv_bias = true, .tied_embeddings = true,
                 .aliases = {}});
    p.push_back({.name = "t5-small", .architecture = "t5", .layers = 6, .decoder_layers = 6, .hidden = 512,
                 .heads = 8, .head_dim = 64, .intermediate = 2048, .vocab_size = 32128, .max_positions = 0,
                 .norm_eps = 1e-6f, .tied_embeddings = true, .relative_buckets = 32, .relative_max_distance = 128,
                 .decoder_start_token = 0, .aliases = {"google-t5/t5-small"}});
    return p;
  }();
  return presets;
}

/// Checks that a configuration describes a model that can be built.
inline void validate_generative_config(const GenerativeConfig& c) {
  const auto field = [&](std::string_view f) { return (c.name.empty() ? std::string("model") : c.name) + "." + std::string(f); };
  if (c.architecture != "gpt2" && c.architecture != "llama" && c.architecture != "qwen2" && c.architecture != "t5") {
    throw ConfigError(field("architecture"), "\"" + c.architecture + "\"", "must be gpt2, llama, qwen2 or t5");
  }
  const auto positive = [&](std::string_view f, int v) {
    if (v <= 0) throw ConfigError(field(f), std::to_string(v), "must be positive");
  };
  positive("layers", c.layers);
  positive("hidden", c.hidden);
  positive("heads", c.heads);
  positive("intermediate", c.intermediate);
  positive("vocab_size", c.vocab_size);
  if (c.is_encoder_decoder()) {
    positive("decoder_layers", c.decoder_layers);
    positive("relative_buckets", c.relative_buckets);
    positive("relative_max_distance", c.relative_max_distance);
    if (c.relative_buckets < 4) throw ConfigError(field("relative_buckets"), std::to_string(c.relative_buckets), "must be at least 4");
  } else {
    positive("max_positions", c.max_positions);
  }
  if (c.kv_heads < 0 || c.head_dim < 0) {
    throw ConfigError(field(c.kv_heads < 0 ? "kv_heads" : "head_dim"), std::to_string(std::min(c.kv_heads, c.head_dim)),
                      "must not be negative");
  }
  if (c.head_dim == 0 && c.hidden % c.heads != 0) {
    throw ConfigError(field("heads"), std::to_string(c.heads), "must divide hidden (" + std::to_string(c.hidden) + ")");
  }
  if (c.heads % c.effective_kv_heads() != 0) {
    throw ConfigError(field("kv_heads"), std::to_string(c.kv_heads), "must divide heads (" + std::to_string(c.heads) + ")");
  }
  if (c.uses_rotary() && c.effective_head_dim() % 2 != 0) {
    throw ConfigError(field("head_dim"), std::to_string(c.effective_head_dim()), "must be even for rotary embeddings");
  }
  if (c.is_gpt2() && (c.kv_heads != 0 && c.kv_heads != c.heads)) {
    throw ConfigError(field("kv_heads"), std::to_string(c.kv_heads), "GPT-2 has as many key-value heads as heads");
  }
  if (!(c.norm_eps > 0)) throw ConfigError(field("norm_eps"), std::to_string(c.norm_eps), "must be positive");
  if (c.uses_rotary() && !(c.rope_theta > 0)) {
    throw ConfigError(field("rope_theta"), std::to_string(c.rope_theta), "must be positive");
  }
}

/// Deterministic synthetic weights under the checkpoint names: matrices and
/// embeddings with standard deviation 0.02, biases small, norm scales near one.
inline WeightMap synthetic_generative_weights(const GenerativeConfig& c, std::uint64_t seed) {
  validate_generative_config(c);
  WeightMap w;
  for (const auto& [name, shape] : c.tensor_shapes()) {
    const std::string_view n = name;
    const bool is_bias = n.ends_with(".bias");
    const bool is_norm = n.find("ln_") != std::string_view::npos || n.find("norm") != std::string_view::npos;
    const float mean = is_norm && !is_bias ? 1.0f : 0.0f;
    const float stddev = is_norm || is_bias ? 0.01f : 0.02f;
    w.insert(name, synthetic_tensor(name, shape[0], shape[1], seed, mean, stddev));
  }
  return w;
}

namespace detail {
/// Throws unless `ids` token ids are `batch` sequences of `length`, both positive.
inline void check_token_batch(std::string_view model, std::size_t ids, int batch, int length) {
  if (batch <= 0 || length <= 0) {
    throw std::invalid_argument(std::string(model) + ": batch = " + std::to_string(batch) + ", length = " +
                                std::to_string(length) + ": both must be positive");
  }
  if (ids != static_cast<std::size_t>(batch) * static_cast<std::size_t>(length)) {
    throw std::invalid_argument(std::string(model) + ": " + std::to_string(ids) + " token ids for " +
                                std::to_string(batch) + " x " + std::to_string(length));
  }
}
}  // namespace detail

/// `batch` prompts of `length` token ids each (row-major), drawn from the
/// vocabulary above its first few special ids.
[[nodiscard]] inline std::vector<std::int32_t> make_prompt_ids(const GenerativeConfig& c, int batch, int length,
                                                               std::uint64_t seed) {
  if (batch <= 0 || length <= 0) {
    throw std::invalid_argument("make_prompt_ids: batch = " + std::to_string(batch) + ", length = " +
                                std::to_string(length) + ": both must be >= 1");
  }
  const int first = c.vocab_size > 1000 ? 100 : 1;
  const auto words = static_cast<std::uint64_t>(std::max(1, c.vocab_size - first));
  const std::uint64_t stream = detail::stream_seed(seed, "generation.prompt_ids");
  std::vector<std::int32_t> ids(static_cast<std::size_t>(batch) * static_cast<std::size_t>(length));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = first + static_cast<std::int32_t>(detail::random_bits(stream, i) % words);
  }
  return ids;
}

}  // namespace accelbench
