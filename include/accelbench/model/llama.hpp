#pragma once

// Llama, Qwen2 and Mistral as in Hugging Face transformers' LlamaForCausalLM,
// Qwen2ForCausalLM and MistralForCausalLM: RMSNorm, rotary positions,
// grouped-query attention and
// a SwiGLU MLP, with Llama's optional biases (attention_bias: q, k, v and
// o; mlp_bias: gate, up and down) and a head tied to the token embedding
// when tie_word_embeddings says so (and the checkpoint does not store a
// different one). Qwen2 is Llama with biases on the query, key and value
// projections only (qkv_bias) and sliding-window attention in the layers
// its configuration names; Mistral is Llama without biases, its attention
// sliding in every layer when sliding_window is set. Written once over the backend's
// GenerationOps, with the key-value cache and the prefill / decode steps of
// common/generation.hpp.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/generation.hpp"
#include "common/generative_config.hpp"
#include "common/rope_config.hpp"
#include "common/tied_head.hpp"
#include "common/upload.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

template <GenerationOps B>
class Llama;

/// LlamaForCausalLM, Qwen2ForCausalLM and MistralForCausalLM's entry in the list of generative
/// architectures (GenerativeArchitectures, model/generative.hpp): the
/// checkpoint model types it reads, its model class, and its configuration,
/// shape, FLOP and weight functions.
struct LlamaArchitecture : DecoderOnlyArchitecture {
  static constexpr std::string_view names = "llama, qwen2, mistral";
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept {
    return model_type == "llama" || model_type == "qwen2" || model_type == "mistral";
  }
  template <GenerationOps B>
  using Model = Llama<B>;

  /// Presets with the dimensions of the published checkpoints, and tiny
  /// ones for quick runs.
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    std::vector<GenerativeConfig> p;
    p.push_back({.name = "llama-tiny", .architecture = "llama", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .aliases = {}});
    p.push_back({.name = "tinyllama-1.1b", .architecture = "llama", .layers = 22, .hidden = 2048, .heads = 32,
                 .kv_heads = 4, .intermediate = 5632, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f,
                 .aliases = {"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"}});
    p.push_back({.name = "llama-3.2-1b", .architecture = "llama", .layers = 16, .hidden = 2048, .heads = 32,
                 .kv_heads = 8, .head_dim = 64, .intermediate = 8192, .vocab_size = 128256, .max_positions = 131072,
                 .norm_eps = 1e-5f, .rope_theta = 500000.0f, .rope_scaling = RotaryScaling::llama3,
                 .rope_factor = 32.0f, .rope_low_freq_factor = 1.0f, .rope_high_freq_factor = 4.0f,
                 .rope_original_max_positions = 8192, .tied_embeddings = true, .aliases = {"meta-llama/Llama-3.2-1B"}});
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
    p.push_back({.name = "mistral-7b", .architecture = "mistral", .layers = 32, .hidden = 4096, .heads = 32,
                 .kv_heads = 8, .intermediate = 14336, .vocab_size = 32000, .max_positions = 32768,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .sliding_window = 4096,
                 .aliases = {"mistralai/Mistral-7B-v0.1"}});
    // Mistral's features (grouped-query attention, a sliding window in every
    // layer) at llama-tiny's scale, the window shorter than long runs.
    p.push_back({.name = "mistral-tiny", .architecture = "mistral", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 4096,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .sliding_window = 128,
                 .aliases = {}});
    return p;
  }

  /// The fields of a Llama, Qwen2 or Mistral config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "\"llama\", \"qwen2\" or \"mistral\""),
            F::read("hidden_act", "the MLP activation; only SwiGLU with SiLU (\"silu\") is implemented"),
            F::read("num_hidden_layers", "layers"),
            F::read("hidden_size", "width"),
            F::read("num_attention_heads", "attention heads"),
            F::read("num_key_value_heads", "key-value heads (grouped-query attention)"),
            F::read("head_dim", "width of a head (default hidden_size / num_attention_heads)"),
            F::read("intermediate_size", "MLP width"),
            F::read("vocab_size", "rows of the token embedding"),
            F::read("max_position_embeddings", "longest sequence"),
            F::read("rms_norm_eps", "RMS norm epsilon"),
            F::read("rope_parameters", "rotary embedding: rope_type \"default\", \"linear\" (factor), \"dynamic\" (factor; NTK, past max_position_embeddings) or \"llama3\" (factor, low_freq_factor, high_freq_factor, original_max_position_embeddings) with rope_theta; other types and parameters refused"),
            F::read("rope_theta", "rotary base of older configs (default 10000); must agree with rope_parameters where both are given"),
            F::read("rope_scaling", "older configs' rope_parameters (\"type\" for rope_type), as rope_parameters; where both are given they must agree"),
            F::read("tie_word_embeddings", "the head is the token embedding, or lm_head.weight (a stored head that differs unties it)"),
            F::read("use_sliding_window", "Qwen2: sliding-window attention in the layers layer_types or max_window_layers name (Llama: only false; Mistral ignores it)"),
            F::read("sliding_window", "Qwen2 and Mistral: the positions a query sees in a sliding layer, its own included (Mistral: every layer; null: none; absent: 4096)"),
            F::read("max_window_layers", "Qwen2 without layer_types: layers from this one on slide (default 28)"),
            F::read("layer_types", "Qwen2: each layer's attention, \"full_attention\" or \"sliding_attention\" (Llama: full only; Mistral: as sliding_window says)"),
            F::read("attention_bias", "Llama: biases on the q, k, v and o projections (Qwen2 has q, k and v biases always, Mistral none)"),
            F::read("mlp_bias", "Llama: biases on the gate, up and down projections (Qwen2 and Mistral have none)"),
            F::no_effect("pretraining_tp", "older transformers split the projections into slices; the same products")};
  }

  /// The fields of a Llama, Qwen2 or Mistral config.json (model_type
  /// "llama", "qwen2" or "mistral"). Qwen2's difference: q/k/v biases
  /// always, no other biases, sliding-window layers; Mistral's: no biases, a
  /// sliding window in every layer.
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const bool qwen2 = g.architecture == "qwen2";
    const bool mistral = g.architecture == "mistral";
    (void)detail::read_activation(c, "hidden_act", "silu", "the SwiGLU MLP", {Activation::silu});
    g.layers = c.integer("num_hidden_layers");
    read_sliding_window(c, g);
    g.hidden = c.integer("hidden_size");
    g.heads = c.integer("num_attention_heads");
    g.kv_heads = c.integer("num_key_value_heads", g.heads);
    g.head_dim = c.integer("head_dim", 0);
    g.intermediate = c.integer("intermediate_size");
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("max_position_embeddings");
    g.norm_eps = c.number("rms_norm_eps", 1e-6f);
    // transformers 5 moved rope_theta into rope_parameters; older configs
    // give it at the top, and the scaling as rope_scaling.
    detail::read_rope_parameters(c, g);
    // Qwen2 and Mistral read neither: Qwen2's q, k and v projections always
    // have biases, its o and MLP projections never, and Mistral has none (as
    // in transformers' Qwen2 and Mistral classes).
    if (qwen2 || mistral) {
      (void)c.has("attention_bias");
      (void)c.has("mlp_bias");
    }
    g.qkv_bias = qwen2 ? true : (mistral ? false : c.boolean("attention_bias", false));
    g.attention_output_bias = qwen2 || mistral ? false : g.qkv_bias;
    g.mlp_bias = qwen2 || mistral ? false : c.boolean("mlp_bias", false);
    g.tied_embeddings = c.boolean("tie_word_embeddings", false);  // LlamaConfig's and Qwen2Config's default
  }

  /// The sliding window of a config.json with num_hidden_layers read, by
  /// transformers' rules. Qwen2Config: the window only with
  /// use_sliding_window, in the layers layer_types calls "sliding_attention",
  /// or without layer_types in the layers from max_window_layers on.
  /// MistralConfig: sliding_window (default 4096, null: none) in every layer;
  /// MistralForCausalLM ignores layer_types, which must then agree.
  /// LlamaForCausalLM has no sliding window.
  static void read_sliding_window(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const bool qwen2 = g.architecture == "qwen2";
    const bool mistral = g.architecture == "mistral";
    const bool use = qwen2 ? c.boolean("use_sliding_window", false) : false;
    if (!qwen2 && !mistral && c.boolean("use_sliding_window", false)) {
      c.fail("use_sliding_window", "true", "Llama has no sliding-window attention");
    }
    if (mistral) (void)c.has("use_sliding_window");  // MistralConfig has no such field
    int window = 0;
    if ((qwen2 && use) || mistral) {
      window = c.present("sliding_window") ? c.integer("sliding_window", 0) : 4096;
      if (c.has("sliding_window") && window <= 0) {
        c.fail("sliding_window", std::to_string(window), "must be positive (a query sees its own position)");
      }
    } else {
      (void)c.has("sliding_window");  // Qwen2 without use_sliding_window, Llama: no effect
    }
    const int first_sliding = qwen2 ? c.integer("max_window_layers", 28) : 0;
    if (!qwen2) (void)c.has("max_window_layers");
    std::vector<bool> slides(static_cast<std::size_t>(std::max(g.layers, 0)), false);
    for (int l = 0; l < g.layers; ++l) slides[std::size_t(l)] = window > 0 && (mistral || l >= first_sliding);
    if (c.has("layer_types")) {
      const auto& types = c.raw("layer_types");
      if (!types.is_array()) c.fail("layer_types", types.dump(), "expected an array of strings");
      if (static_cast<int>(types.size()) != g.layers) {
        c.fail("layer_types", types.dump(), "expected one entry per layer (" + std::to_string(g.layers) + ")");
      }
      for (std::size_t l = 0; l < types.size(); ++l) {
        const std::string key = "layer_types[" + std::to_string(l) + "]";
        const bool full = types[l] == "full_attention";
        const bool sliding = types[l] == "sliding_attention";
        if (!full && !sliding) {
          c.fail(key, types[l].dump(), "only \"full_attention\" and \"sliding_attention\" are implemented");
        }
        if (!qwen2 && sliding != slides[l]) {
          c.fail(key, types[l].dump(),
                 mistral ? "MistralForCausalLM ignores layer_types: its layers all slide when sliding_window is set"
                         : "Llama has no sliding-window attention");
        }
        if (qwen2 && sliding && window == 0) {
          c.fail(key, types[l].dump(), "a sliding layer needs use_sliding_window and a sliding_window");
        }
        slides[l] = sliding;
      }
    }
    g.sliding_window = 0;
    g.sliding_layers.clear();
    for (int l = 0; l < g.layers; ++l) {
      if (slides[std::size_t(l)]) g.sliding_layers.push_back(l);
    }
    if (g.sliding_layers.empty()) return;  // no layer slides: full attention
    g.sliding_window = window;
    if (static_cast<int>(g.sliding_layers.size()) == g.layers) g.sliding_layers.clear();  // every layer
  }

  /// Checks that a configuration describes a Llama, Qwen2 or Mistral that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"llama", "qwen2", "mistral"}, "Llama's, Qwen2's or Mistral");
    check.positive("max_positions", c.max_positions);
    if (c.effective_head_dim() % 2 != 0) {
      check.fail("head_dim", std::to_string(c.effective_head_dim()), "must be even for rotary embeddings");
    }
    detail::validate_rope_parameters(check, c);
    if (c.architecture == "qwen2") {
      if (c.attention_output_bias || c.mlp_bias) {
        check.fail(c.mlp_bias ? "mlp_bias" : "attention_output_bias", "true", "Qwen2 has biases on q, k and v only");
      }
    } else if (c.architecture == "mistral") {
      if (c.qkv_bias || c.attention_output_bias || c.mlp_bias) {
        check.fail(c.mlp_bias ? "mlp_bias" : (c.qkv_bias ? "qkv_bias" : "attention_output_bias"), "true",
                   "Mistral has no biases");
      }
    } else if (c.attention_output_bias != c.qkv_bias) {
      check.fail("attention_output_bias", c.attention_output_bias ? "true" : "false",
                 "Llama's attention_bias puts biases on q, k, v and o alike (qkv_bias is " +
                     std::string(c.qkv_bias ? "true" : "false") + ")");
    }
    detail::reject_foreign_feature(check, "scale_attn_weights", c.scale_attn_weights, true, "GPT-2");
    detail::reject_foreign_feature(check, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, false, "GPT-2");
    detail::reject_foreign_feature(check, "scale_decoder_outputs", c.scale_decoder_outputs, true, "T5");
    if (c.architecture == "llama" && c.sliding_window != 0) {
      check.fail("sliding_window", std::to_string(c.sliding_window), "Llama has no sliding-window attention");
    }
  }

  // ---- tensor names and shapes ----

  /// LlamaForCausalLM's (Qwen2ForCausalLM's, MistralForCausalLM's) tensors.
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index aw = c.attention_width();
    const Eigen::Index kvw = c.kv_width();
    const Eigen::Index i = c.intermediate;
    const Eigen::Index v = c.vocab_size;
    s.push_back({"model.embed_tokens.weight", {v, h}});
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      s.push_back({p + "input_layernorm.weight", {1, h}});
      s.push_back({p + "self_attn.q_proj.weight", {aw, h}});
      s.push_back({p + "self_attn.k_proj.weight", {kvw, h}});
      s.push_back({p + "self_attn.v_proj.weight", {kvw, h}});
      if (c.qkv_bias) {
        s.push_back({p + "self_attn.q_proj.bias", {1, aw}});
        s.push_back({p + "self_attn.k_proj.bias", {1, kvw}});
        s.push_back({p + "self_attn.v_proj.bias", {1, kvw}});
      }
      s.push_back({p + "self_attn.o_proj.weight", {h, aw}});
      if (c.attention_output_bias) s.push_back({p + "self_attn.o_proj.bias", {1, h}});
      s.push_back({p + "post_attention_layernorm.weight", {1, h}});
      s.push_back({p + "mlp.gate_proj.weight", {i, h}});
      s.push_back({p + "mlp.up_proj.weight", {i, h}});
      s.push_back({p + "mlp.down_proj.weight", {h, i}});
      if (c.mlp_bias) {
        s.push_back({p + "mlp.gate_proj.bias", {1, i}});
        s.push_back({p + "mlp.up_proj.bias", {1, i}});
        s.push_back({p + "mlp.down_proj.bias", {1, h}});
      }
    }
    s.push_back({"model.norm.weight", {1, h}});
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
    return s;
  }

  /// Generating `new_tokens` after a `prompt` for `batch` sequences (see
  /// GenerativeConfig::generation_flops): SwiGLU's three MLP matrices.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    return detail::decoder_only_flops(c, batch, prompt, new_tokens, 3.0);
  }

  // ---- weights ----

  /// Synthetic weights: the RMSNorms' scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"norm"}); }

  /// The tensors of a Llama, Qwen2 or Mistral checkpoint that the model leaves out.
  [[nodiscard]] static UnusedTensors unused_tensors() {
    return {unused_suffix("rotary_emb.inv_freq",
                          "the rotary frequencies older checkpoints store; computed from the rope parameters")};
  }

  /// A checkpoint's tensors, the rotary inverse frequencies dropped.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class Llama : public DecoderOnly<Llama<B>, B> {
  using Base = DecoderOnly<Llama<B>, B>;
  friend Base;

 public:
  using Config = GenerativeConfig;
  using typename Base::Activations;
  using typename Base::IndexTensor;
  using typename Base::Session;
  using typename Base::Tensor;
  static constexpr std::string_view model_name = "Llama";

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// the token embedding is untied, as transformers does
  /// (config().tied_embeddings says so).
  Llama(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    LlamaArchitecture::validate_config(config_);
    if (config_.tied_embeddings) {
      config_.tied_embeddings = resolve_tied_head(weights, "model.embed_tokens.weight", "lm_head.weight");
    }
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index kvw = config_.kv_width();
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_, config_.weight_precision);
    HostMatrix embed = take.host("model.embed_tokens.weight", config_.vocab_size, h);
    // A tied head is a copy of the table as a Weight unless the table serves
    // (head_is_table); the lookup keeps the fp32 table.
    if (config_.tied_embeddings && !head_is_table()) lm_head_ = take.copy_weight(embed);
    embed_ = take.upload(std::move(embed));
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.norm1 = take(p + "input_layernorm.weight", 1, h);
      L.q_w = take.weight(p + "self_attn.q_proj.weight", aw, h);
      L.k_w = take.weight(p + "self_attn.k_proj.weight", kvw, h);
      L.v_w = take.weight(p + "self_attn.v_proj.weight", kvw, h);
      if (config_.qkv_bias) {
        L.q_b = take(p + "self_attn.q_proj.bias", 1, aw);
        L.k_b = take(p + "self_attn.k_proj.bias", 1, kvw);
        L.v_b = take(p + "self_attn.v_proj.bias", 1, kvw);
      }
      L.o_w = take.weight(p + "self_attn.o_proj.weight", h, aw);
      if (config_.attention_output_bias) L.o_b = take(p + "self_attn.o_proj.bias", 1, h);
      L.norm2 = take(p + "post_attention_layernorm.weight", 1, h);
      // Gate and up projections as one [2i, h] matrix: one product, then swiglu.
      L.gate_up_w = take.stacked_weight({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}, i, h);
      L.down_w = take.weight(p + "mlp.down_proj.weight", h, i);
      if (config_.mlp_bias) {
        HostMatrix gate_up_b(1, 2 * i);
        gate_up_b.leftCols(i) = take.host(p + "mlp.gate_proj.bias", 1, i);
        gate_up_b.rightCols(i) = take.host(p + "mlp.up_proj.bias", 1, i);
        L.gate_up_b = take.upload(gate_up_b);
        L.down_b = take(p + "mlp.down_proj.bias", 1, h);
      }
    }
    final_g_ = take("model.norm.weight", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take.weight("lm_head.weight", config_.vocab_size, h);
    take.finish(model_name);
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return LlamaArchitecture::tensor_shapes(c);
  }

  // start(), prefill(), decode() and prompt_logits() come from DecoderOnly.

 private:
  using Weight = weight_t<B>;  // linear layers' weights, at config().weight_precision

  struct Layer {
    Tensor norm1, q_b, k_b, v_b, o_b;  // biases empty where the configuration has none
    Tensor norm2, gate_up_b, down_b;
    Weight q_w, k_w, v_w, o_w, gate_up_w, down_w;
  };

  /// Token embeddings; positions enter through the rotary embedding.
  void embed(B& be, const IndexTensor& ids, Session&, Activations& a, int, int) const {
    be.embedding_lookup(embed_, ids, a.x);
  }

  void run_layers(B& be, Session& s, Activations& a, int len, int start) const {
    AttentionDims dims = this->attention_dims(s, len, start);
    const CacheDims cache = Base::cache_dims(s, len, start);
    const RotaryDims q_rotary = rotary_dims(config_, s.batch, len, config_.heads, start);
    const RotaryDims k_rotary = rotary_dims(config_, s.batch, len, config_.effective_kv_heads(), start);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      dims.window = config_.attention_window(static_cast<int>(l));  // over cache positions
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.q_w, L.q_b, a.q);
      be.linear(a.h, L.k_w, L.k_b, a.k);
      be.linear(a.h, L.v_w, L.v_b, a.v);
      be.rotary(a.q, q_rotary);
      be.rotary(a.k, k_rotary);
      be.cache_write(a.k, cache, s.k_cache[l]);
      be.cache_write(a.v, cache, s.v_cache[l]);
      be.attention(a.q, s.k_cache[l], s.v_cache[l], none_, dims, a.context);
      be.linear(a.context, L.o_w, L.o_b, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      be.linear(a.h, L.gate_up_w, L.gate_up_b, a.gate_up);
      be.swiglu(a.gate_up, a.ff);
      be.linear(a.ff, L.down_w, L.down_b, a.h);
      be.add(a.h, a.x);
    }
    be.rms_norm(a.x, final_g_, config_.norm_eps, a.h);
  }

  /// Whether the head is the fp32 token table itself: tied, at fp32, on a
  /// backend that takes a Tensor as a linear layer's weight as it stands
  /// (not PacksWeights: Cpu reads a decode step's head from packed panels).
  [[nodiscard]] bool head_is_table() const noexcept {
    return config_.tied_embeddings && config_.weight_precision == Precision::fp32 && !PacksWeights<B>;
  }

  void head(B& be, const Tensor& hidden, Tensor& logits) const {
    if (head_is_table()) {
      be.linear(hidden, embed_, none_, logits);
    } else {
      be.linear(hidden, lm_head_, none_, logits);
    }
  }

  GenerativeConfig config_;
  Tensor embed_, final_g_;
  Weight lm_head_;  // untied, or tied where the table does not serve (head_is_table)
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
