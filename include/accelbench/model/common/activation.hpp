#pragma once

// The activations of every architecture's feed-forward: one type for the
// names config.json files use (transformers' ACT2FN), read by one function
// that refuses, by field and value, a name it does not know and one the
// architecture does not implement, and applied by one function over the
// backend's ops.

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../../backend/concepts.hpp"
#include "config_json.hpp"

namespace accelbench {

/// A feed-forward activation, by what it computes.
enum class Activation {
  gelu,        ///< erf GELU: "gelu" (BERT, ViT, Whisper, wav2vec2)
  gelu_tanh,   ///< tanh GELU: "gelu_new", "gelu_pytorch_tanh" (GPT-2, T5 v1.1's gated-gelu)
  relu,        ///< "relu" (T5)
  silu,        ///< x * sigmoid(x): "silu", "swish" (Llama's SwiGLU gate)
  quick_gelu,  ///< x * sigmoid(1.702 x): "quick_gelu" (CLIP)
};

/// The name transformers gives the activation (the first of its names).
[[nodiscard]] constexpr std::string_view to_string(Activation a) noexcept {
  switch (a) {
    case Activation::gelu: return "gelu";
    case Activation::gelu_tanh: return "gelu_new";
    case Activation::relu: return "relu";
    case Activation::silu: return "silu";
    case Activation::quick_gelu: return "quick_gelu";
  }
  return "?";
}

namespace detail {

/// The activation a config.json name stands for; none for a name this type
/// does not cover (ACT2FN's "gelu_fast", "mish", "tanh", ...).
[[nodiscard]] inline std::optional<Activation> activation_named(std::string_view name) noexcept {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  if (name == "silu" || name == "swish") return Activation::silu;
  if (name == "quick_gelu") return Activation::quick_gelu;
  return std::nullopt;
}

/// The names `implemented` stands for, for a message: "gelu" or "gelu_new, relu".
[[nodiscard]] inline std::string activation_names(std::initializer_list<Activation> implemented) {
  std::string out;
  for (Activation a : implemented) out += (out.empty() ? "\"" : ", \"") + std::string(to_string(a)) + "\"";
  return out;
}

/// The activation of config.json's `field` (`fallback` where it is
/// absent), which `arch` implements only as one of `implemented`: a name no
/// activation has, or one `arch` does not implement, is refused by field and
/// value.
[[nodiscard]] inline Activation read_activation(const HfConfigReader& c, const std::string& field,
                                                std::string_view fallback, std::string_view arch,
                                                std::initializer_list<Activation> implemented) {
  const std::string name = c.text(field, std::string(fallback));
  const std::optional<Activation> a = activation_named(name);
  if (!a) {
    c.fail(field, "\"" + name + "\"",
           "not an activation accelbench knows (gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, quick_gelu)");
  }
  for (Activation i : implemented) {
    if (i == *a) return *a;
  }
  c.fail(field, "\"" + name + "\"", std::string(arch) + " implements only " + activation_names(implemented) + " here");
}

/// x = act(x), in place, with the backend's op for it.
template <EncoderOps B>
void activate(B& be, Activation act, typename B::Tensor& x) {
  switch (act) {
    case Activation::gelu: be.gelu(x); return;
    case Activation::gelu_tanh:
      if constexpr (GenerationOps<B>) { be.gelu_tanh(x); return; }
      break;
    case Activation::relu:
      if constexpr (GenerationOps<B>) { be.relu(x); return; }
      break;
    case Activation::silu:
      if constexpr (GenerationOps<B>) { be.silu(x); return; }
      break;
    case Activation::quick_gelu:
      if constexpr (PerceptionOps<B>) { be.quick_gelu(x); return; }
      break;
  }
  throw std::invalid_argument("activation \"" + std::string(to_string(act)) + "\": the backend has no op for it");
}

}  // namespace detail

}  // namespace accelbench
