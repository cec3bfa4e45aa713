#pragma once

// The configuration the generative architectures share (GPT-2, Llama and
// Qwen2, T5): one struct so that the TextGeneration family has one preset
// type; each architecture reads the fields it uses. What depends on the
// architecture (tensor names and shapes, parameter count, key-value cache
// and FLOP formulas) lives in the architecture's own file (gpt2.hpp,
// llama.hpp, t5.hpp). A configuration made by a family (its presets, a
// checkpoint's config.json) points at its architecture's functions, chosen
// once among the family's architectures; one made by hand finds them among
// the library's (model/generative.hpp) by `architecture`.

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../../backend/op_dims.hpp"
#include "../../core/precision.hpp"
#include "../../detail/checked_math.hpp"
#include "../../detail/rng.hpp"
#include "validate.hpp"
#include "weights.hpp"

namespace accelbench {

struct GenerativeConfig;

/// The functions of a generative architecture that a configuration answers
/// with (see GenerativeConfig): architecture_functions<A> for an entry A of
/// a list of architectures.
struct GenerativeArchitectureFunctions {
  bool (*reads)(std::string_view model_type) noexcept = nullptr;
  bool encoder_decoder = false;
  TensorShapes (*tensor_shapes)(const GenerativeConfig&) = nullptr;
  std::uint64_t (*kv_cache_bytes)(const GenerativeConfig&, int batch, int capacity, int encoder_len) = nullptr;
  double (*generation_flops)(const GenerativeConfig&, int batch, int prompt, int new_tokens) = nullptr;
};

template <class A>
inline constexpr GenerativeArchitectureFunctions architecture_functions{
    &A::reads, A::encoder_decoder, &A::tensor_shapes, &A::kv_cache_bytes, &A::generation_flops};

struct GenerativeConfig {
  std::string name;
  /// The checkpoint's model_type: "gpt2", "llama", "qwen2", "mistral" (decoder-only) or
  /// "t5" (encoder-decoder).
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
  /// Llama, Qwen2, Mistral: the scaled rotary frequencies of rope_type
  /// "linear" or "dynamic" (rope_factor; dynamic past max_positions only) or
  /// "llama3" (all four; RotaryDims' fields of those names); none: rope_type
  /// "default".
  RotaryScaling rope_scaling = RotaryScaling::none;
  float rope_factor = 1.0f;
  float rope_low_freq_factor = 1.0f;
  float rope_high_freq_factor = 4.0f;
  int rope_original_max_positions = 8192;
  bool qkv_bias = false;        ///< biases on the query, key and value projections (Qwen2)
  /// Llama: a bias on the attention's output projection (o_proj), which
  /// config.json's attention_bias adds with the q/k/v biases.
  bool attention_output_bias = false;
  /// Llama: biases on the MLP's gate, up and down projections (mlp_bias).
  bool mlp_bias = false;
  /// The LM head is the token embedding. A model built from a checkpoint
  /// unties it when the checkpoint stores a head that differs from the
  /// embedding, as transformers does (see resolve_tied_head).
  bool tied_embeddings = false;
  /// GPT-2: attention scores scaled by head_dim^-1/2 (scale_attn_weights);
  /// false: unscaled.
  bool scale_attn_weights = true;
  /// GPT-2: the scores of layer l (from 0) further divided by l + 1
  /// (scale_attn_by_inverse_layer_idx).
  bool scale_attn_by_inverse_layer_idx = false;
  /// T5: the decoder's final hidden states multiplied by hidden^-1/2 before
  /// the LM head (transformers 5's scale_decoder_outputs; older configs say
  /// it with tie_word_embeddings).
  bool scale_decoder_outputs = true;
  /// T5: the gated feed-forward of T5 v1.1 and Flan-T5 (feed_forward_proj
  /// "gated-gelu"): wo(gelu_tanh(wi_0 x) * wi_1 x); false: wo(relu(wi x)).
  bool gated_gelu = false;
  int relative_buckets = 32;        ///< T5
  int relative_max_distance = 128;  ///< T5
  int decoder_start_token = 0;      ///< T5
  /// Mistral, Qwen2: sliding-window attention, a query seeing the last
  /// sliding_window positions (its own included) in the layers of
  /// sliding_layers; 0: none.
  int sliding_window = 0;
  /// The layers whose attention slides (transformers' layer_types
  /// "sliding_attention"), ascending; empty with sliding_window > 0: every layer.
  std::vector<int> sliding_layers = {};
  /// The precision the linear layers' weights are stored in (the run's
  /// Config::precision; GPT-2 and Llama, on a backend with
  /// HasWeightPrecision); embeddings, norms and biases stay fp32.
  Precision weight_precision = Precision::fp32;
  std::vector<std::string> aliases;
  /// The architecture's functions, set where the architecture is chosen (a
  /// family's presets and checkpoints); null, or not the functions of
  /// `architecture`: those of the library's architecture of that name.
  const GenerativeArchitectureFunctions* functions = nullptr;

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
  /// The longest sequence (prompt plus new tokens) the model runs:
  /// max_positions, or 0 for none where positions have no table or
  /// pretraining length to stay within: T5's relative positions, and rotary
  /// scaling "dynamic", whose frequencies grow past max_positions.
  [[nodiscard]] int sequence_limit() const noexcept {
    return rope_scaling == RotaryScaling::dynamic ? 0 : max_positions;
  }
  /// The attention window of `layer` (AttentionDims::window): sliding_window
  /// where the layer slides, else 0 (every earlier position).
  [[nodiscard]] int attention_window(int layer) const noexcept {
    if (sliding_window <= 0) return 0;
    if (sliding_layers.empty()) return sliding_window;
    return std::find(sliding_layers.begin(), sliding_layers.end(), layer) != sliding_layers.end() ? sliding_window : 0;
  }

  // Answered by the architecture's own file, through `functions`.

  /// True for an encoder-decoder (T5).
  [[nodiscard]] bool is_encoder_decoder() const;
  /// Every tensor of the architecture by its Hugging Face name, with its
  /// shape as stored in checkpoints (a 1-D tensor as [1, n]).
  [[nodiscard]] TensorShapes tensor_shapes() const;
  /// Parameters, the tied LM head counted once.
  [[nodiscard]] std::int64_t parameter_count() const;
  /// Bytes of the key-value cache for `batch` sequences of up to `capacity`
  /// tokens (T5: plus the cross-attention keys and values of `encoder_len` tokens).
  [[nodiscard]] std::uint64_t kv_cache_bytes(int batch, int capacity, int encoder_len = 0) const;
  /// Floating-point operations of generating `new_tokens` tokens after a
  /// prompt of `prompt` tokens for `batch` sequences, with a key-value cache
  /// (a multiply-add counts as two): matrix products of the projections,
  /// feed-forward, attention and the LM head (one position per step).
  /// Element-wise work is left out.
  [[nodiscard]] double generation_flops(int batch, int prompt, int new_tokens) const;

 private:
  /// `functions` when they are `architecture`'s, otherwise the library's
  /// architecture of that name (defined in model/generative.hpp).
  [[nodiscard]] const GenerativeArchitectureFunctions& resolved_functions() const;
};

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

/// The checks every generative configuration has; each architecture's
/// validate_config adds its own. Throws unless `c.architecture` is one of
/// `model_types` (the architecture's file would build another model).
inline void validate_generative_dims(const FieldCheck& check, const GenerativeConfig& c,
                                     std::initializer_list<std::string_view> model_types, std::string_view model) {
  bool known = false;
  for (const auto t : model_types) known = known || c.architecture == t;
  if (!known) check.fail("architecture", "\"" + c.architecture + "\"", "is not " + std::string(model) + "'s");
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("vocab_size", c.vocab_size);
  if (c.kv_heads < 0 || c.head_dim < 0) {
    check.fail(c.kv_heads < 0 ? "kv_heads" : "head_dim", std::to_string(std::min(c.kv_heads, c.head_dim)),
               "must not be negative");
  }
  if (c.head_dim == 0) check.divides("heads", c.heads, c.hidden);
  if (c.heads % c.effective_kv_heads() != 0) {
    check.fail("kv_heads", std::to_string(c.kv_heads), "must divide heads (" + std::to_string(c.heads) + ")");
  }
  check.positive("norm_eps", c.norm_eps);
  if (c.gated_gelu && c.architecture != "t5") {
    check.fail("gated_gelu", "true", "is T5's feature; this architecture has no such option");
  }
  if (c.sliding_window < 0) check.fail("sliding_window", std::to_string(c.sliding_window), "must not be negative");
  bool slides = false;  // the architectures with sliding-window attention
  for (const auto t : model_types) slides = slides || t == "qwen2" || t == "mistral";
  if (c.sliding_window != 0 && !slides) {
    check.fail("sliding_window", std::to_string(c.sliding_window), "is Mistral's and Qwen2's feature; " +
                                                                      std::string(model) + " has no sliding window");
  }
  if (!c.sliding_layers.empty() && c.sliding_window == 0) {
    check.fail("sliding_layers", std::to_string(c.sliding_layers.size()) + " layers", "need a sliding_window");
  }
  for (std::size_t i = 0; i < c.sliding_layers.size(); ++i) {
    const int l = c.sliding_layers[i];
    if (l < 0 || l >= c.layers || (i > 0 && l <= c.sliding_layers[i - 1])) {
      check.fail("sliding_layers", std::to_string(l), "must be ascending layers below layers (" + std::to_string(c.layers) + ")");
    }
  }
}

/// Throws when `field`, a feature that only `owner` has, is not at its
/// default in the configuration of another architecture.
inline void reject_foreign_feature(const FieldCheck& check, std::string_view field, bool value, bool fallback,
                                   std::string_view owner) {
  if (value != fallback) {
    check.fail(field, value ? "true" : "false", "is " + std::string(owner) + "'s feature; this architecture has no such option");
  }
}

/// Floats of a decoder's self-attention cache: keys and values of `layers`
/// layers, `batch` x `capacity` rows of `width`.
[[nodiscard]] inline std::uint64_t self_attention_cache_floats(int batch, int capacity, std::int64_t width,
                                                                int layers) noexcept {
  return saturating_product(2, batch, capacity, width, layers);
}

/// Floating-point operations of a decoder-only transformer generating
/// `new_tokens` after a `prompt` for `batch` sequences with a key-value
/// cache, its MLP of `mlp_matrices` [hidden, intermediate] matrices (see
/// GenerativeConfig::generation_flops); a sliding layer's queries attend
/// their window's keys only.
[[nodiscard]] inline double decoder_only_flops(const GenerativeConfig& c, int batch, int prompt, int new_tokens,
                                               double mlp_matrices) noexcept {
  const double b = batch;
  const double h = c.hidden;
  const double aw = static_cast<double>(c.attention_width());
  const double kvw = static_cast<double>(c.kv_width());
  const double layer_weights = h * aw * 2.0 + h * kvw * 2.0 + mlp_matrices * h * c.intermediate;
  const double head = 2.0 * b * h * c.vocab_size;
  const double p = prompt;
  if (c.sliding_window == 0) {
    double total = c.layers * (2.0 * b * p * layer_weights + 4.0 * b * aw * p * (p + 1.0) / 2.0) + head;
    for (int t = 1; t < new_tokens; ++t) {
      const double ctx = p + t + 1.0;
      total += c.layers * (2.0 * b * layer_weights + 4.0 * b * ctx * aw) + head;
    }
    return total;
  }
  // Keys a query at position i (from 0) attends in `layer`: i + 1, or the window.
  const auto keys = [&](int layer, double i) {
    const int w = c.attention_window(layer);
    return w > 0 ? std::min(i + 1.0, double(w)) : i + 1.0;
  };
  double total = head;
  for (int l = 0; l < c.layers; ++l) {
    double prefill_keys = 0;  // summed over the prompt's positions
    const int w = c.attention_window(l);
    if (w > 0 && w < prompt) {
      prefill_keys = double(w) * (w + 1.0) / 2.0 + (p - w) * w;
    } else {
      prefill_keys = p * (p + 1.0) / 2.0;
    }
    total += 2.0 * b * p * layer_weights + 4.0 * b * aw * prefill_keys;
    for (int t = 1; t < new_tokens; ++t) total += 2.0 * b * layer_weights + 4.0 * b * keys(l, p + t) * aw;
  }
  for (int t = 1; t < new_tokens; ++t) total += head;
  return total;
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

namespace detail {

/// Throws a ConfigError naming the precision unless the configuration's
/// weights are fp32: for an architecture that stores its weights as fp32 only.
inline void refuse_weight_precision(const GenerativeConfig& c, const std::string& architecture) {
  if (c.weight_precision == Precision::fp32) return;
  throw ConfigError("precision", std::string(precision_name(c.weight_precision)),
                    architecture + " stores its weights as fp32 only (bf16 and fp16: GPT-2 and Llama-type models)");
}

}  // namespace detail

}  // namespace accelbench
