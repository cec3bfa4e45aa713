#pragma once

// The generative architectures of the TextGeneration family, listed once:
// GPT-2 (gpt2.hpp), Llama and Qwen2 (llama.hpp) and T5 (t5.hpp). Each entry
// of GenerativeArchitectures (Gpt2Architecture, ...) is defined in its
// architecture's file and names the checkpoint model types it reads, its
// model class, and its configuration, shape, FLOP and weight functions; a
// GenerativeConfig is matched to its entry by `architecture` once (when it
// is read, validated or loaded), never inside a forward pass. Adding a
// generative architecture is its own file plus one entry here.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/generative_config.hpp"
#include "common/weights.hpp"
#include "gpt2.hpp"
#include "llama.hpp"
#include "t5.hpp"

namespace accelbench {

template <class... A>
struct ArchitectureList {};

/// The registry of generative architectures.
using GenerativeArchitectures = ArchitectureList<Gpt2Architecture, LlamaArchitecture, T5Architecture>;

/// Wrap<model class on B> for every architecture of a list, as one type:
/// EachModel<B, GenerativeArchitectures, std::variant> is
/// std::variant<Gpt2<B>, Llama<B>, T5<B>>.
template <class B, class List, template <class...> class Wrap>
struct EachModelOf;
template <class B, class... A, template <class...> class Wrap>
struct EachModelOf<B, ArchitectureList<A...>, Wrap> {
  using type = Wrap<typename A::template Model<B>...>;
};
template <class B, class List, template <class...> class Wrap>
using EachModel = typename EachModelOf<B, List, Wrap>::type;

namespace detail {

template <class... A>
bool reads_any(std::string_view model_type, ArchitectureList<A...>) noexcept {
  return (A::reads(model_type) || ...);
}

template <class... A>
std::string names_of(ArchitectureList<A...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(A::names)), ...);
  return out;
}

/// f(A{}) for the architecture A that reads `model_type`; an architecture
/// that none reads is an error naming `field`.
template <class F, class... A>
decltype(auto) with_architecture(std::string_view model_type, F&& f, ArchitectureList<A...> list,
                                 const std::string& field = "architecture") {
  using R = decltype(f(std::declval<typename std::tuple_element<0, std::tuple<A...>>::type>()));
  std::optional<R> result;
  const auto try_architecture = [&](auto a) {
    if (!result && decltype(a)::reads(model_type)) result.emplace(f(a));
  };
  (try_architecture(A{}), ...);
  if (!result) {
    throw ConfigError(field, "\"" + std::string(model_type) + "\"", "must be one of " + names_of(list));
  }
  return R(std::move(*result));
}

template <class F>
decltype(auto) with_generative_architecture(const GenerativeConfig& c, F&& f) {
  const std::string field = (c.name.empty() ? std::string("model") : c.name) + ".architecture";
  return with_architecture(c.architecture, std::forward<F>(f), GenerativeArchitectures{}, field);
}

}  // namespace detail

// The members of GenerativeConfig that depend on the architecture.

inline bool GenerativeConfig::is_encoder_decoder() const {
  return detail::with_generative_architecture(*this, [](auto a) { return decltype(a)::encoder_decoder; });
}
inline TensorShapes GenerativeConfig::tensor_shapes() const {
  return detail::with_generative_architecture(*this, [&](auto a) { return decltype(a)::tensor_shapes(*this); });
}
inline std::int64_t GenerativeConfig::parameter_count() const { return shape_parameter_count(tensor_shapes()); }
inline std::uint64_t GenerativeConfig::kv_cache_bytes(int batch, int capacity, int encoder_len) const {
  return detail::with_generative_architecture(
      *this, [&](auto a) { return decltype(a)::kv_cache_bytes(*this, batch, capacity, encoder_len); });
}
inline double GenerativeConfig::generation_flops(int batch, int prompt, int new_tokens) const {
  return detail::with_generative_architecture(
      *this, [&](auto a) { return decltype(a)::generation_flops(*this, batch, prompt, new_tokens); });
}

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

/// Checks that a configuration describes a model that can be built, by the
/// checks of its architecture.
inline void validate_generative_config(const GenerativeConfig& c) {
  detail::with_generative_architecture(c, [&](auto a) {
    decltype(a)::validate_config(c);
    return true;
  });
}

/// Deterministic synthetic weights under the checkpoint names (see
/// synthetic_weights): matrices and embeddings with standard deviation
/// 0.02, biases small, norm scales near one.
inline WeightMap synthetic_generative_weights(const GenerativeConfig& c, std::uint64_t seed) {
  validate_generative_config(c);
  return detail::with_generative_architecture(c, [&](auto a) {
    return synthetic_weights(decltype(a)::tensor_shapes(c), seed, [](std::string_view n) { return decltype(a)::is_scale(n); });
  });
}

/// GenerativeConfig from a checkpoint's config.json (model_type "gpt2",
/// "llama", "qwen2" or "t5"); the preset is named after the folder.
[[nodiscard]] inline GenerativeConfig generative_config_from_checkpoint(const std::filesystem::path& dir) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir);
  GenerativeConfig g;
  g.name = checkpoint_name(dir);
  g.architecture = c.text("model_type");
  if (!detail::reads_any(g.architecture, GenerativeArchitectures{})) {
    c.fail("model_type", "\"" + g.architecture + "\"", "the text-generation family reads gpt2, llama, qwen2 and t5 checkpoints");
  }
  detail::with_generative_architecture(g, [&](auto a) {
    decltype(a)::read_config(c, g);
    return true;
  });
  validate_generative_config(g);
  return g;
}

/// A generative checkpoint's weights under the names the models take.
[[nodiscard]] inline WeightMap generative_weights_from_checkpoint(const std::filesystem::path& dir,
                                                                   const GenerativeConfig& config) {
  return detail::with_generative_architecture(config, [&](auto a) { return decltype(a)::checkpoint_weights(dir); });
}

}  // namespace accelbench
