#pragma once

// T5 (Raffel et al., 2020) as in Hugging Face transformers'
// T5ForConditionalGeneration: pre-norm blocks with T5's layer norm (RMS, no
// bias), relative position bias shared by the layers of each stack, unscaled
// attention scores, ReLU or T5 v1.1's gated GELU feed-forward (feed_forward_proj
// "gated-gelu"), cross-attention over the encoder's output, and the LM head:
// the shared embedding unless the checkpoint stores a different lm_head.weight,
// the decoder's output scaled by d_model^-1/2 first unless scale_decoder_outputs
// is false (T5 v1.1). Written over GenerationOps; the decoder keeps a cache.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "../detail/checked_math.hpp"
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
class T5;

/// T5ForConditionalGeneration's entry in the list of generative architectures
/// (GenerativeArchitectures, model/generative.hpp): the checkpoint model
/// types it reads, its model class, and its configuration, shape, FLOP and
/// weight functions.
struct T5Architecture {
  static constexpr std::string_view names = "t5";
  static constexpr bool encoder_decoder = true;
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept { return model_type == "t5"; }
  template <GenerationOps B>
  using Model = T5<B>;

  /// The presets with the dimensions of the published checkpoints: T5 and
  /// Flan-T5 (T5 v1.1's gated GELU feed-forward and separate, unscaled head).
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    return {{.name = "t5-small", .architecture = "t5", .layers = 6, .decoder_layers = 6, .hidden = 512,
             .heads = 8, .head_dim = 64, .intermediate = 2048, .vocab_size = 32128, .max_positions = 0,
             .norm_eps = 1e-6f, .tied_embeddings = true, .relative_buckets = 32, .relative_max_distance = 128,
             .decoder_start_token = 0, .aliases = {"google-t5/t5-small"}},
            {.name = "flan-t5-small", .architecture = "t5", .layers = 8, .decoder_layers = 8, .hidden = 512,
             .heads = 6, .head_dim = 64, .intermediate = 1024, .vocab_size = 32128, .max_positions = 0,
             .norm_eps = 1e-6f, .tied_embeddings = false, .scale_decoder_outputs = false, .gated_gelu = true,
             .relative_buckets = 32, .relative_max_distance = 128, .decoder_start_token = 0,
             .aliases = {"google/flan-t5-small"}}};
  }

  /// The fields of a T5 config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "must be \"t5\""),
            F::read("feed_forward_proj", "the feed-forward: \"relu\" (T5) or \"gated-gelu\" (T5 v1.1, Flan-T5: "
                                         "gelu_new(wi_0 x) * wi_1 x); other activations are refused"),
            F::read("num_layers", "encoder layers"),
            F::read("num_decoder_layers", "decoder layers (default num_layers)"),
            F::read("d_model", "width"),
            F::read("num_heads", "attention heads"),
            F::read("d_kv", "width of a head"),
            F::read("d_ff", "feed-forward width"),
            F::read("vocab_size", "rows of the shared embedding"),
            F::read("layer_norm_epsilon", "RMS norm epsilon"),
            F::read("relative_attention_num_buckets", "relative position buckets"),
            F::read("relative_attention_max_distance", "largest distance the buckets tell apart"),
            F::read("decoder_start_token_id", "the first decoder token"),
            F::read("tie_word_embeddings", "the default of scale_decoder_outputs (transformers 5 ties T5's head either way; "
                                           "a stored lm_head.weight that differs unties it)"),
            F::read("scale_decoder_outputs", "the decoder output scaled by d_model^-0.5 before the head, or not"),
            F::no_effect("is_decoder", "T5ForConditionalGeneration sets it for each of its stacks itself"),
            F::no_effect("n_positions", "older configs' maximum length; T5's relative positions have none"),
            F::no_effect("is_encoder_decoder", "T5ForConditionalGeneration is an encoder-decoder either way"),
            F::no_effect("dense_act_fn", "derived by transformers from feed_forward_proj, which is read"),
            F::no_effect("is_gated_act", "derived by transformers from feed_forward_proj, which is read")};
  }

  /// The fields of a T5 config.json (model_type "t5"). transformers 5 ties
  /// T5's head whatever tie_word_embeddings says (T5Config sets it true); the
  /// field only gives scale_decoder_outputs its default, for older configs. A
  /// checkpoint that stores its own lm_head.weight unties the head.
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const std::string ff = c.text("feed_forward_proj", "relu");  // "ACT" or "gated-ACT"; T5Config: gated-gelu is gelu_new
    const auto act = detail::activation_named(ff == "gated-gelu" ? "gelu_new" : ff.substr(ff.starts_with("gated-") ? 6 : 0));
    g.gated_gelu = ff.starts_with("gated-");
    if (act != (g.gated_gelu ? Activation::gelu_tanh : Activation::relu)) {
      c.fail("feed_forward_proj", "\"" + ff + "\"", "only \"relu\" and \"gated-gelu\" feed-forwards are implemented");
    }
    g.layers = c.integer("num_layers");
    g.decoder_layers = c.integer("num_decoder_layers", g.layers);
    g.hidden = c.integer("d_model");
    g.heads = c.integer("num_heads");
    g.head_dim = c.integer("d_kv");
    g.intermediate = c.integer("d_ff");
    g.vocab_size = c.integer("vocab_size");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-6f);
    g.relative_buckets = c.integer("relative_attention_num_buckets", 32);
    g.relative_max_distance = c.integer("relative_attention_max_distance", 128);
    g.decoder_start_token = c.integer("decoder_start_token_id", 0);
    g.scale_decoder_outputs = c.boolean("scale_decoder_outputs", c.boolean("tie_word_embeddings", true));
    g.tied_embeddings = true;
  }

  /// Checks that a configuration describes a T5 that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"t5"}, "T5");
    check.positive("decoder_layers", c.decoder_layers);
    check.positive("relative_buckets", c.relative_buckets);
    check.positive("relative_max_distance", c.relative_max_distance);
    if (c.relative_buckets < 4) check.fail("relative_buckets", std::to_string(c.relative_buckets), "must be at least 4");
    detail::refuse_weight_precision(c, "T5");
    detail::reject_foreign_feature(check, "qkv_bias", c.qkv_bias, false, "Qwen2's and Llama");
    detail::reject_foreign_feature(check, "attention_output_bias", c.attention_output_bias, false, "Llama");
    detail::reject_foreign_feature(check, "mlp_bias", c.mlp_bias, false, "Llama");
    detail::reject_foreign_feature(check, "scale_attn_weights", c.scale_attn_weights, true, "GPT-2");
    detail::reject_foreign_feature(check, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, false, "GPT-2");
  }

  // ---- tensor names and shapes ----

  /// T5ForConditionalGeneration's tensors; the relative position bias is the
  /// first layer's of each stack.
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index aw = c.attention_width();
    const Eigen::Index i = c.intermediate;
    const Eigen::Index v = c.vocab_size;
    s.push_back({"shared.weight", {v, h}});
    const auto attention = [&](const std::string& p) {
      s.push_back({p + "q.weight", {aw, h}});
      s.push_back({p + "k.weight", {aw, h}});
      s.push_back({p + "v.weight", {aw, h}});
      s.push_back({p + "o.weight", {h, aw}});
    };
    const auto feed_forward = [&](const std::string& p) {
      if (c.gated_gelu) s.push_back({p + "wi_0.weight", {i, h}});
      s.push_back({p + (c.gated_gelu ? "wi_1.weight" : "wi.weight"), {i, h}});
      s.push_back({p + "wo.weight", {h, i}});
    };
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
      attention(p + "0.SelfAttention.");
      if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {c.relative_buckets, c.heads}});
      s.push_back({p + "0.layer_norm.weight", {1, h}});
      feed_forward(p + "1.DenseReluDense.");
      s.push_back({p + "1.layer_norm.weight", {1, h}});
    }
    s.push_back({"encoder.final_layer_norm.weight", {1, h}});
    for (int l = 0; l < c.decoder_layers; ++l) {
      const std::string p = "decoder.block." + std::to_string(l) + ".layer.";
      attention(p + "0.SelfAttention.");
      if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {c.relative_buckets, c.heads}});
      s.push_back({p + "0.layer_norm.weight", {1, h}});
      attention(p + "1.EncDecAttention.");
      s.push_back({p + "1.layer_norm.weight", {1, h}});
      feed_forward(p + "2.DenseReluDense.");
      s.push_back({p + "2.layer_norm.weight", {1, h}});
    }
    s.push_back({"decoder.final_layer_norm.weight", {1, h}});
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
    return s;
  }

  /// Encoding a `prompt` for `batch` sequences and generating `new_tokens`
  /// (see GenerativeConfig::generation_flops): the encoder, the cross keys
  /// and values once, then each decoder step with its cross-attention.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    const double b = batch;
    const double h = c.hidden;
    const double aw = static_cast<double>(c.attention_width());
    const double kvw = static_cast<double>(c.kv_width());
    const double ff_matrices = c.gated_gelu ? 3.0 : 2.0;
    const double layer_weights = h * aw * 2.0 + h * kvw * 2.0 + ff_matrices * h * c.intermediate;
    const double head = 2.0 * b * h * c.vocab_size;
    const double p = prompt;
    double total = c.layers * (2.0 * b * p * layer_weights + 4.0 * b * p * p * aw);  // encoder
    total += c.decoder_layers * 2.0 * b * p * 2.0 * h * aw;                         // cross keys and values
    const double dec_weights = layer_weights + 2.0 * h * aw;                         // + cross queries and output
    for (int t = 0; t < new_tokens; ++t) {
      const double ctx = t + 1.0;
      total += c.decoder_layers * (2.0 * b * dec_weights + 4.0 * b * ctx * aw + 4.0 * b * p * aw) + head;
    }
    return total;
  }

  /// Bytes of the decoder's key-value cache of `batch` sequences of up to
  /// `capacity` tokens, plus the cross-attention keys and values of
  /// `encoder_len` tokens.
  [[nodiscard]] static std::uint64_t kv_cache_bytes(const GenerativeConfig& c, int batch, int capacity,
                                                    int encoder_len) noexcept {
    const std::uint64_t floats = detail::saturating_sum(
        detail::self_attention_cache_floats(batch, capacity, c.kv_width(), c.decoder_layers),
        detail::saturating_product(2, batch, encoder_len, c.attention_width(), c.decoder_layers));
    return detail::saturating_mul(floats, sizeof(float));
  }

  // ---- weights ----

  /// Synthetic weights: the layer norms' scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"layer_norm"}); }

  /// The tensors of a T5 checkpoint that the model leaves out: none (the
  /// stacks' copies of shared.weight must equal it).
  [[nodiscard]] static UnusedTensors unused_tensors() { return {}; }

  /// A checkpoint's tensors, under the names they are stored with.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class T5 {
 public:
  using Config = GenerativeConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  struct Activations {
    Tensor x, h, q, k, v, context, gate, ff, bias, logits;
  };

  /// One batch being generated: the encoder's input and output, the cross
  /// keys and values, the decoder's cache.
  struct Session : EncoderDecoderCache<B> {
    int batch = 0;
    int input_len = 0;
    int capacity = 0;  ///< decoder positions
    int length = 0;    ///< decoder positions in the cache
    IndexTensor input_ids;
    IndexTensor next_ids;   ///< greedy choice of the last step, the next step's input
    Tensor encoder_out;    ///< [batch * input_len, hidden]
    Activations enc, dec;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// shared.weight is untied, as transformers does (config().tied_embeddings
  /// says so); the stacks' embed_tokens copies must equal shared.weight.
  T5(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    T5Architecture::validate_config(config_);
    for (const char* copy : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
      if (!resolve_tied_head(weights, "shared.weight", copy)) {
        throw std::invalid_argument(std::string("T5: ") + copy +
                                    " differs from shared.weight: separate embeddings per stack are not implemented");
      }
    }
    if (config_.tied_embeddings) config_.tied_embeddings = resolve_tied_head(weights, "shared.weight", "lm_head.weight");
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    // The gated feed-forward's wi_0 and wi_1 as one [2i, h] matrix (one product, then geglu_tanh).
    auto wi = [&](const std::string& p) {
      if (!config_.gated_gelu) return take(p + "wi.weight", i, h);
      HostMatrix both(2 * i, h);
      both.topRows(i) = take.host(p + "wi_0.weight", i, h);
      both.bottomRows(i) = take.host(p + "wi_1.weight", i, h);
      return take.upload(both);
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
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
      EncoderLayer L;
      L.self = attention(p + "0.SelfAttention.");
      if (l == 0) enc_bias_ = take(p + "0.SelfAttention.relative_attention_bias.weight", config_.relative_buckets, config_.heads);
      L.norm1 = take(p + "0.layer_norm.weight", 1, h);
      L.wi = wi(p + "1.DenseReluDense.");
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
      L.wi = wi(p + "2.DenseReluDense.");
      L.wo = take(p + "2.DenseReluDense.wo.weight", h, i);
      L.norm3 = take(p + "2.layer_norm.weight", 1, h);
      decoder_.push_back(std::move(L));
    }
    dec_final_ = take("decoder.final_layer_norm.weight", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    take.finish("T5");
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return T5Architecture::tensor_shapes(c);
  }

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
    s.allocate(be, config_.decoder_layers, batch, s.capacity, config_.attention_width(), config_.decoder_start_token);
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
      feed_forward(be, a, L.wi, L.wo);
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
    be.rms_norm(a.x, dec_final_, config_.norm_eps, a.h);  // the head may scale its input in place
    head(be, a.h, logits);
  }

 private:
  struct Attention {
    Tensor q, k, v, o;
  };
  struct EncoderLayer {
    Attention self;
    Tensor norm1, wi, wo, norm2;  // wi: [i, h], or wi_0 and wi_1 stacked, [2i, h]
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
      feed_forward(be, a, L.wi, L.wo);
    }
  }

  /// The feed-forward of a layer on a.h, added to a.x: wo(relu(wi h)), or
  /// wo(gelu_tanh(wi_0 h) * wi_1 h) with wi_0 and wi_1 stacked in wi.
  void feed_forward(B& be, Activations& a, const Tensor& wi, const Tensor& wo) const {
    if (config_.gated_gelu) {
      be.linear(a.h, wi, none_, a.gate);
      be.geglu_tanh(a.gate, a.ff);
    } else {
      be.linear(a.h, wi, none_, a.ff);
      be.relu(a.ff);
    }
    be.linear(a.ff, wo, none_, a.h);
    be.add(a.h, a.x);
  }

  /// The LM head (the shared embedding, or lm_head.weight when untied),
  /// after scaling the hidden states by d_model^-1/2 in place when
  /// scale_decoder_outputs is set.
  void head(B& be, Tensor& hidden, Tensor& logits) const {
    if (config_.scale_decoder_outputs) be.scale(hidden, 1.0f / std::sqrt(static_cast<float>(config_.hidden)));
    be.linear(hidden, config_.tied_embeddings ? shared_ : lm_head_, none_, logits);
  }

  GenerativeConfig config_;
  Tensor shared_, enc_bias_, dec_bias_, enc_final_, dec_final_, lm_head_;
  Tensor none_;
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  WeightTally tally_;
};

}  // namespace accelbench
