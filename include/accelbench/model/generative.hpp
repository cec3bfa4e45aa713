#pragma once

// The generative architectures of the TextGeneration family, listed once:
// GPT-2 (gpt2.hpp), Llama and Qwen2 (llama.hpp) and T5 (t5.hpp). Each entry
// of a list of generative architectures (Gpt2Architecture, ...) is defined
// in its architecture's file and names the checkpoint model types it reads,
// its model class, its presets, and its configuration, shape, FLOP and
// weight functions (the GenerativeArchitecture concept). A configuration is
// matched to its entry once (when it is read, validated or loaded), never
// inside a forward pass. The functions below take the list as a template
// parameter, the library's GenerativeArchitectures by default; adding a
// generative architecture is its own file plus one entry in a list.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/type_list.hpp"
#include "common/architecture.hpp"
#include "common/checkpoint.hpp"
#include "common/config_json.hpp"
#include "common/generative_config.hpp"
#include "common/weights.hpp"
#include "gpt2.hpp"
#include "llama.hpp"
#include "t5.hpp"

namespace accelbench {

/// A list of architectures: ArchitectureList<Gpt2Architecture, ...>.
template <class... A>
using ArchitectureList = TypeList<A...>;

/// An entry of a list of generative architectures: the model types it
/// reads, its presets, and the functions a GenerativeConfig answers with.
/// Its model class, `Model<B>`, is a ModelArchitecture on each backend B
/// (checked by the family that runs it).
template <class A>
concept GenerativeArchitecture =
    requires(std::string_view model_type, const GenerativeConfig& c, GenerativeConfig& g,
             const detail::HfConfigReader& reader, const std::filesystem::path& dir) {
      { A::names } -> std::convertible_to<std::string_view>;
      { A::reads(model_type) } -> std::same_as<bool>;
      { A::encoder_decoder } -> std::convertible_to<bool>;
      { A::presets() } -> std::same_as<std::vector<GenerativeConfig>>;
      A::read_config(reader, g);
      A::validate_config(c);
      { A::tensor_shapes(c) } -> std::same_as<TensorShapes>;
      { A::kv_cache_bytes(c, 1, 1, 0) } -> std::same_as<std::uint64_t>;
      { A::generation_flops(c, 1, 1, 1) } -> std::same_as<double>;
      { A::is_scale(model_type) } -> std::same_as<bool>;
      { A::checkpoint_weights(dir) } -> std::same_as<WeightMap>;
      { A::config_fields() } -> std::same_as<ConfigFields>;
      { A::unused_tensors() } -> std::same_as<UnusedTensors>;
    };

/// True when every entry of a list is a GenerativeArchitecture.
template <class List>
inline constexpr bool all_generative_architectures = false;
template <class... A>
inline constexpr bool all_generative_architectures<ArchitectureList<A...>> = (GenerativeArchitecture<A> && ...);

/// True when the model class of every entry of a list is a
/// ModelArchitecture on backend B.
template <class B, class List>
inline constexpr bool all_model_architectures = false;
template <class B, class... A>
inline constexpr bool all_model_architectures<B, ArchitectureList<A...>> =
    (ModelArchitecture<typename A::template Model<B>, B> && ...);

/// The registry of the library's generative architectures.
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
std::string architecture_names_of(ArchitectureList<A...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(A::names)), ...);
  return out;
}

/// f(A{}) for the architecture A of the list that reads `model_type`; an
/// architecture that none reads is an error naming `field`.
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
    throw ConfigError(field, "\"" + std::string(model_type) + "\"", "must be one of " + architecture_names_of(list));
  }
  return R(std::move(*result));
}

/// f(A{}) for the entry of `List` that reads the configuration's architecture.
template <class List = GenerativeArchitectures, class F>
decltype(auto) with_generative_architecture(const GenerativeConfig& c, F&& f) {
  const std::string field = (c.name.empty() ? std::string("model") : c.name) + ".architecture";
  return with_architecture(c.architecture, std::forward<F>(f), List{}, field);
}

}  // namespace detail

// The members of GenerativeConfig that depend on the architecture.

inline const GenerativeArchitectureFunctions& GenerativeConfig::resolved_functions() const {
  if (functions != nullptr && functions->reads(architecture)) return *functions;
  return *detail::with_generative_architecture(
      *this, [](auto a) { return &architecture_functions<decltype(a)>; });
}
inline bool GenerativeConfig::is_encoder_decoder() const { return resolved_functions().encoder_decoder; }
inline TensorShapes GenerativeConfig::tensor_shapes() const { return resolved_functions().tensor_shapes(*this); }
inline std::int64_t GenerativeConfig::parameter_count() const { return shape_parameter_count(tensor_shapes()); }
inline std::uint64_t GenerativeConfig::kv_cache_bytes(int batch, int capacity, int encoder_len) const {
  return resolved_functions().kv_cache_bytes(*this, batch, capacity, encoder_len);
}
inline double GenerativeConfig::generation_flops(int batch, int prompt, int new_tokens) const {
  return resolved_functions().generation_flops(*this, batch, prompt, new_tokens);
}

/// The presets of every architecture of `List`, in its order, each pointing
/// at its architecture's functions.
template <class List = GenerativeArchitectures>
[[nodiscard]] const std::vector<GenerativeConfig>& generative_presets() {
  static const std::vector<GenerativeConfig> presets = []<class... A>(ArchitectureList<A...>) {
    std::vector<GenerativeConfig> all;
    const auto add = [&](auto a) {
      for (GenerativeConfig& p : decltype(a)::presets()) {
        p.functions = &architecture_functions<decltype(a)>;
        all.push_back(std::move(p));
      }
    };
    (add(A{}), ...);
    return all;
  }(List{});
  return presets;
}

/// Checks that a configuration describes a model that can be built, by the
/// checks of its architecture in `List`.
template <class List = GenerativeArchitectures>
void validate_generative_config(const GenerativeConfig& c) {
  detail::with_generative_architecture<List>(c, [&](auto a) {
    decltype(a)::validate_config(c);
    return true;
  });
}

/// Deterministic synthetic weights under the checkpoint names (see
/// synthetic_weights): matrices and embeddings with standard deviation
/// 0.02, biases small, norm scales near one.
template <class List = GenerativeArchitectures>
[[nodiscard]] WeightMap synthetic_generative_weights(const GenerativeConfig& c, std::uint64_t seed) {
  validate_generative_config<List>(c);
  return detail::with_generative_architecture<List>(c, [&](auto a) {
    return synthetic_weights(decltype(a)::tensor_shapes(c), seed, [](std::string_view n) { return decltype(a)::is_scale(n); });
  });
}

/// GenerativeConfig from a checkpoint's config.json, read by the entry of
/// `List` whose model types include its model_type, every field held to
/// the entry's config_fields() (`accepted` names unknown fields to let
/// pass); the preset is named after the folder.
template <class List = GenerativeArchitectures>
[[nodiscard]] GenerativeConfig generative_config_from_checkpoint(const std::filesystem::path& dir,
                                                                 std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  GenerativeConfig g;
  g.name = checkpoint_name(dir);
  g.architecture = c.text("model_type");
  if (!detail::reads_any(g.architecture, List{})) {
    c.fail("model_type", "\"" + g.architecture + "\"", "the text-generation family reads " + detail::architecture_names_of(List{}) + " checkpoints");
  }
  detail::with_generative_architecture<List>(g, [&](auto a) {
    decltype(a)::read_config(c, g);
    c.check_fields(decltype(a)::config_fields());
    g.functions = &architecture_functions<decltype(a)>;
    return true;
  });
  validate_generative_config<List>(g);
  return g;
}

/// A generative checkpoint's weights under the names the models take.
template <class List = GenerativeArchitectures>
[[nodiscard]] WeightMap generative_weights_from_checkpoint(const std::filesystem::path& dir,
                                                           const GenerativeConfig& config) {
  return detail::with_generative_architecture<List>(config,
                                                    [&](auto a) { return decltype(a)::checkpoint_weights(dir); });
}

}  // namespace accelbench
