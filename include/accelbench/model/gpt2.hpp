#pragma once

// GPT-2 (Radford et al., 2019) as in Hugging Face transformers'
// GPT2LMHeadModel: learned positions, pre-norm blocks with LayerNorm, a
// tanh-GELU MLP and the LM head, tied to the token embedding unless
// tie_word_embeddings is false (or the checkpoint stores a different head),
// with config.json's attention scaling options. Written once
// over the backend's GenerationOps, with the key-value cache and the
// prefill / decode steps of common/generation.hpp.

#include <cmath>
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
#include "common/tied_head.hpp"
#include "common/upload.hpp"
#include "common/validate.hpp"
#include "common/weights.hpp"

namespace accelbench {

// ---- configuration ----

template <GenerationOps B>
class Gpt2;

/// GPT2LMHeadModel's entry in the list of generative architectures
/// (GenerativeArchitectures, model/generative.hpp): the checkpoint model
/// types it reads, its model class, and its configuration, shape, FLOP and
/// weight functions.
struct Gpt2Architecture : DecoderOnlyArchitecture {
  static constexpr std::string_view names = "gpt2";
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept { return model_type == "gpt2"; }
  template <GenerationOps B>
  using Model = Gpt2<B>;

  /// The preset with the dimensions of the published checkpoint.
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    return {{.name = "gpt2", .architecture = "gpt2", .layers = 12, .hidden = 768, .heads = 12,
             .intermediate = 3072, .vocab_size = 50257, .max_positions = 1024, .norm_eps = 1e-5f,
             .qkv_bias = true, .tied_embeddings = true, .aliases = {"openai-community/gpt2"}}};
  }

  /// The fields of a GPT-2 config.json (model_type "gpt2").
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    (void)detail::read_activation(c, "activation_function", "gelu_new", "GPT-2", {Activation::gelu_tanh});
    g.layers = c.integer("n_layer");
    g.hidden = c.integer("n_embd");
    g.heads = c.integer("n_head");
    g.intermediate = c.integer("n_inner", 4 * g.hidden);
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("n_positions");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-5f);
    g.qkv_bias = true;
    g.tied_embeddings = c.boolean("tie_word_embeddings", true);
    g.scale_attn_weights = c.boolean("scale_attn_weights", true);
    g.scale_attn_by_inverse_layer_idx = c.boolean("scale_attn_by_inverse_layer_idx", false);
  }

  /// The fields of a GPT-2 config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "must be \"gpt2\""),
            F::read("activation_function", "the MLP activation; only the tanh GELU (\"gelu_new\") is implemented"),
            F::read("n_layer", "layers"),
            F::read("n_embd", "width"),
            F::read("n_head", "attention heads"),
            F::read("n_inner", "MLP width (default 4 n_embd)"),
            F::read("vocab_size", "rows of the token embedding"),
            F::read("n_positions", "rows of the position embedding"),
            F::read("layer_norm_epsilon", "LayerNorm epsilon"),
            F::read("tie_word_embeddings", "the head is the token embedding, or lm_head.weight (a stored head that differs unties it)"),
            F::read("scale_attn_weights", "attention scores scaled by 1/sqrt(head_dim), or not"),
            F::read("scale_attn_by_inverse_layer_idx", "attention scores also divided by the layer's number (index + 1)"),
            F::refused("add_cross_attention", false, "cross-attention layers are not implemented"),
            F::no_effect("reorder_and_upcast_attn", "computes the attention scores in float32, as accelbench does throughout"),
            F::no_effect("n_ctx", "an older name of n_positions that transformers does not read"),
            F::no_effect("summary_type", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_use_proj", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_activation", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_proj_to_labels", "the multiple-choice head of GPT2DoubleHeadsModel")};
  }

  /// Checks that a configuration describes a GPT-2 that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"gpt2"}, "GPT-2");
    check.positive("max_positions", c.max_positions);
    if (c.kv_heads != 0 && c.kv_heads != c.heads) {
      check.fail("kv_heads", std::to_string(c.kv_heads), "GPT-2 has as many key-value heads as heads");
    }
    detail::reject_foreign_feature(check, "attention_output_bias", c.attention_output_bias, false, "Llama");
    detail::reject_foreign_feature(check, "mlp_bias", c.mlp_bias, false, "Llama");
    detail::reject_foreign_feature(check, "scale_decoder_outputs", c.scale_decoder_outputs, true, "T5");
  }

  // ---- tensor names and shapes ----

  /// GPT2LMHeadModel's tensors without the "transformer." prefix (and an
  /// untied lm_head.weight). Its projections are Conv1D layers, stored [in, out].
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index i = c.intermediate;
    s.push_back({"wte.weight", {c.vocab_size, h}});
    s.push_back({"wpe.weight", {c.max_positions, h}});
    for (int l = 0; l < c.layers; ++l) {
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
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {c.vocab_size, h}});
    return s;
  }

  /// Generating `new_tokens` after a `prompt` for `batch` sequences (see
  /// GenerativeConfig::generation_flops): a two-matrix MLP.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    return detail::decoder_only_flops(c, batch, prompt, new_tokens, 2.0);
  }

  // ---- weights ----

  /// Synthetic weights: the LayerNorms' (ln_1, ln_2, ln_f) scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"ln_"}); }

  /// The tensors of a GPT-2 checkpoint that the model leaves out.
  [[nodiscard]] static UnusedTensors unused_tensors() {
    return {unused_suffix(".attn.bias", "the causal-mask buffer older checkpoints store; the mask is computed"),
            unused_suffix(".attn.masked_bias", "the masked-score buffer older checkpoints store; not used")};
  }

  /// A checkpoint's tensors under GPT2LMHeadModel's names without
  /// "transformer.", its attention-mask buffers dropped.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {"transformer."}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class Gpt2 : public DecoderOnly<Gpt2<B>, B> {
  using Base = DecoderOnly<Gpt2<B>, B>;
  friend Base;

 public:
  using Config = GenerativeConfig;
  using typename Base::Activations;
  using typename Base::IndexTensor;
  using typename Base::Session;
  using typename Base::Tensor;
  static constexpr std::string_view model_name = "GPT-2";

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// wte.weight is untied, as transformers does (config().tied_embeddings
  /// says so).
  Gpt2(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    Gpt2Architecture::validate_config(config_);
    if (config_.tied_embeddings) config_.tied_embeddings = resolve_tied_head(weights, "wte.weight", "lm_head.weight");
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_, config_.weight_precision);
    HostMatrix embed = take.host("wte.weight", config_.vocab_size, h);
    // A tied head is a copy of the table as a Weight unless the table serves
    // (head_is_table); the lookup keeps the fp32 table.
    if (config_.tied_embeddings && !head_is_table()) lm_head_ = take.copy_weight(embed);
    embed_ = take.upload(std::move(embed));
    positions_ = take("wpe.weight", config_.max_positions, h);
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.norm1_g = take(p + "ln_1.weight", 1, h);
      L.norm1_b = take(p + "ln_1.bias", 1, h);
      // Conv1D weights are [in, out]: split the fused projection and
      // transpose each part to the [out, in] layout of linear().
      auto qkv = take.transposed_weights(p + "attn.c_attn.weight", h, 3 * h, 3);
      const HostMatrix qkv_b = take.host(p + "attn.c_attn.bias", 1, 3 * h);
      L.q_w = std::move(qkv[0]);
      L.k_w = std::move(qkv[1]);
      L.v_w = std::move(qkv[2]);
      L.q_b = take.upload(HostMatrix(qkv_b.middleCols(0, h)));
      L.k_b = take.upload(HostMatrix(qkv_b.middleCols(h, h)));
      L.v_b = take.upload(HostMatrix(qkv_b.middleCols(2 * h, h)));
      L.o_w = std::move(take.transposed_weights(p + "attn.c_proj.weight", h, h)[0]);
      L.o_b = take(p + "attn.c_proj.bias", 1, h);
      L.norm2_g = take(p + "ln_2.weight", 1, h);
      L.norm2_b = take(p + "ln_2.bias", 1, h);
      L.fc_w = std::move(take.transposed_weights(p + "mlp.c_fc.weight", h, i)[0]);
      L.fc_b = take(p + "mlp.c_fc.bias", 1, i);
      L.proj_w = std::move(take.transposed_weights(p + "mlp.c_proj.weight", i, h)[0]);
      L.proj_b = take(p + "mlp.c_proj.bias", 1, h);
    }
    final_g_ = take("ln_f.weight", 1, h);
    final_b_ = take("ln_f.bias", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take.weight("lm_head.weight", config_.vocab_size, h);
    take.finish("GPT-2");
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return Gpt2Architecture::tensor_shapes(c);
  }

  // start(), prefill(), decode() and prompt_logits() come from DecoderOnly.

 private:
  using Weight = weight_t<B>;  // linear layers' weights, at config().weight_precision

  struct Layer {
    Tensor norm1_g, norm1_b, q_b, k_b, v_b, o_b;
    Tensor norm2_g, norm2_b, fc_b, proj_b;
    Weight q_w, k_w, v_w, o_w, fc_w, proj_w;
  };

  /// Token embeddings plus learned positions start .. start + len - 1.
  void embed(B& be, const IndexTensor& ids, Session& s, Activations& a, int len, int start) const {
    be.embedding_lookup(embed_, ids, a.x);
    be.add_positions(positions_, start, s.batch, len, a.x);
  }

  void run_layers(B& be, Session& s, Activations& a, int len, int start) const {
    AttentionDims dims = this->attention_dims(s, len, start);
    const CacheDims cache = Base::cache_dims(s, len, start);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      dims.scale = attention_scale(l);
      be.layer_norm(a.x, L.norm1_g, L.norm1_b, config_.norm_eps, a.h);
      be.linear(a.h, L.q_w, L.q_b, a.q);
      be.linear(a.h, L.k_w, L.k_b, a.k);
      be.linear(a.h, L.v_w, L.v_b, a.v);
      be.cache_write(a.k, cache, s.k_cache[l]);
      be.cache_write(a.v, cache, s.v_cache[l]);
      be.attention(a.q, s.k_cache[l], s.v_cache[l], none_, dims, a.context);
      be.linear(a.context, L.o_w, L.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2_g, L.norm2_b, config_.norm_eps, a.h);
      be.linear(a.h, L.fc_w, L.fc_b, a.ff);
      be.gelu_tanh(a.ff);
      be.linear(a.ff, L.proj_w, L.proj_b, a.h);
      be.add(a.h, a.x);
    }
    be.layer_norm(a.x, final_g_, final_b_, config_.norm_eps, a.h);
  }

  /// GPT2Attention.scaling of layer `l`: head_dim^-1/2 (1 without
  /// scale_attn_weights), divided by l + 1 with scale_attn_by_inverse_layer_idx;
  /// 0 (the backends' head_dim^-1/2) for the default.
  [[nodiscard]] float attention_scale(std::size_t l) const {
    if (config_.scale_attn_weights && !config_.scale_attn_by_inverse_layer_idx) return 0.0f;
    float scale = config_.scale_attn_weights ? 1.0f / std::sqrt(static_cast<float>(config_.effective_head_dim())) : 1.0f;
    if (config_.scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(l + 1);
    return scale;
  }

  /// Whether the head is the fp32 token table itself: tied, at fp32, on a
  /// backend that takes a Tensor as a linear layer's weight as it stands
  /// (not PacksWeights: Cpu reads a decode step's head from packed panels).
  [[nodiscard]] bool head_is_table() const noexcept {
    return config_.tied_embeddings && config_.weight_precision == Precision::fp32 && !PacksWeights<B>;
  }

  /// The LM head: the token embedding, or lm_head.weight when untied.
  void head(B& be, const Tensor& hidden, Tensor& logits) const {
    if (head_is_table()) {
      be.linear(hidden, embed_, none_, logits);
    } else {
      be.linear(hidden, lm_head_, none_, logits);
    }
  }

  GenerativeConfig config_;
  Tensor embed_, positions_, final_g_, final_b_;
  Weight lm_head_;  // untied, or tied where the table does not serve (head_is_table)
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
