#pragma once

// A toy generative architecture, written as an architecture of the library
// is (configuration, tensor names and shapes, weights, forward entry points)
// but outside it: each position's next token depends on that token alone,
// through `layers` residual MLP blocks (LayerNorm, up projection, tanh GELU,
// down projection), a final LayerNorm and the LM head tied to the token
// embedding. It reads checkpoint folders whose config.json says
// "model_type": "toy-mlp". test_toy_architecture.cpp adds it to the
// text-generation family with one line.

#include <accelbench/model/common/checkpoint.hpp>
#include <accelbench/model/common/config_json.hpp>
#include <accelbench/model/common/generation.hpp>
#include <accelbench/model/common/generative_config.hpp>
#include <accelbench/model/common/upload.hpp>
#include <accelbench/model/common/validate.hpp>
#include <accelbench/model/common/weights.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accelbench::test {

template <GenerationOps B>
class ToyMlp;

// ---- configuration ----

struct ToyMlpArchitecture : DecoderOnlyArchitecture {
  static constexpr std::string_view names = "toy-mlp";
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept { return model_type == "toy-mlp"; }
  template <GenerationOps B>
  using Model = ToyMlp<B>;

  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    return {{.name = "toy-mlp-tiny", .architecture = "toy-mlp", .layers = 2, .hidden = 16, .heads = 1,
             .intermediate = 32, .vocab_size = 64, .max_positions = 64, .norm_eps = 1e-5f,
             .tied_embeddings = true, .aliases = {}}};
  }

  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    g.layers = c.integer("num_layers");
    g.hidden = c.integer("hidden_size");
    g.heads = 1;
    g.intermediate = c.integer("intermediate_size");
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("max_positions");
    g.norm_eps = c.number("layer_norm_eps", 1e-5f);
    g.tied_embeddings = true;
  }

  [[nodiscard]] static ConfigFields config_fields() {
    return {ConfigField::read("model_type", "must be \"toy-mlp\""), ConfigField::read("num_layers", "blocks"),
            ConfigField::read("hidden_size", "width"), ConfigField::read("intermediate_size", "MLP width"),
            ConfigField::read("vocab_size", "rows of the token embedding"),
            ConfigField::read("max_positions", "longest sequence"),
            ConfigField::read("layer_norm_eps", "LayerNorm epsilon")};
  }

  [[nodiscard]] static UnusedTensors unused_tensors() { return {}; }

  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"toy-mlp"}, "the toy MLP");
    check.positive("max_positions", c.max_positions);
  }

  // ---- tensor names and shapes ----

  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index i = c.intermediate;
    s.push_back({"embed.weight", {c.vocab_size, h}});
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".";
      s.push_back({p + "norm.weight", {1, h}});
      s.push_back({p + "norm.bias", {1, h}});
      s.push_back({p + "up.weight", {i, h}});
      s.push_back({p + "up.bias", {1, i}});
      s.push_back({p + "down.weight", {h, i}});
      s.push_back({p + "down.bias", {1, h}});
    }
    s.push_back({"final_norm.weight", {1, h}});
    s.push_back({"final_norm.bias", {1, h}});
    return s;
  }

  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    const double per_token = 2.0 * c.layers * 2.0 * c.hidden * c.intermediate + 2.0 * c.hidden * c.vocab_size;
    return static_cast<double>(batch) * (prompt + new_tokens - 1) * per_token;
  }

  // ---- weights ----

  [[nodiscard]] static bool is_scale(std::string_view name) { return name.ends_with("norm.weight"); }

  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class ToyMlp : public DecoderOnly<ToyMlp<B>, B> {
  using Base = DecoderOnly<ToyMlp<B>, B>;
  friend Base;

 public:
  using Config = GenerativeConfig;
  using typename Base::Activations;
  using typename Base::IndexTensor;
  using typename Base::Session;
  using typename Base::Tensor;
  static constexpr std::string_view model_name = "toy MLP";

  ToyMlp(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    ToyMlpArchitecture::validate_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    embed_ = take("embed.weight", config_.vocab_size, h);
    blocks_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".";
      Block& k = blocks_[static_cast<std::size_t>(l)];
      k.norm_g = take(p + "norm.weight", 1, h);
      k.norm_b = take(p + "norm.bias", 1, h);
      k.up_w = take(p + "up.weight", i, h);
      k.up_b = take(p + "up.bias", 1, i);
      k.down_w = take(p + "down.weight", h, i);
      k.down_b = take(p + "down.bias", 1, h);
    }
    final_g_ = take("final_norm.weight", 1, h);
    final_b_ = take("final_norm.bias", 1, h);
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return ToyMlpArchitecture::tensor_shapes(c);
  }

 private:
  struct Block {
    Tensor norm_g, norm_b, up_w, up_b, down_w, down_b;
  };

  void embed(B& be, const IndexTensor& ids, Session&, Activations& a, int, int) const {
    be.embedding_lookup(embed_, ids, a.x);
  }

  void run_layers(B& be, Session&, Activations& a, int, int) const {
    for (const Block& k : blocks_) {
      be.layer_norm(a.x, k.norm_g, k.norm_b, config_.norm_eps, a.h);
      be.linear(a.h, k.up_w, k.up_b, a.ff);
      be.gelu_tanh(a.ff);
      be.linear(a.ff, k.down_w, k.down_b, a.h);
      be.add(a.h, a.x);
    }
    be.layer_norm(a.x, final_g_, final_b_, config_.norm_eps, a.h);
  }

  void head(B& be, const Tensor& hidden, Tensor& logits) const { be.linear(hidden, embed_, none_, logits); }

  GenerativeConfig config_;
  Tensor embed_, final_g_, final_b_;
  Tensor none_;
  std::vector<Block> blocks_;
  WeightTally tally_;
};

}  // namespace accelbench::test
