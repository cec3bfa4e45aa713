#pragma once

// The shape every architecture's model class shares.

#include <concepts>
#include <cstdint>

#include "weights.hpp"

namespace accelbench {

/// A model architecture on backend B: the class an architecture's file
/// defines (Bert<B>, Gpt2<B>, Llama<B>, T5<B>, ViT<B>, Clip<B>, Whisper<B>,
/// Wav2Vec2<B>). It names its configuration type `Config`; it is built
/// from a backend, a configuration and the weights by their Hugging Face
/// names (taking each tensor from the WeightMap and checking its shape);
/// it gives back its configuration, how many parameters it took and how
/// many bytes they fill on the device; and it lists, for any configuration,
/// every tensor it takes with its shape (`tensor_shapes`, a static member),
/// from which synthetic weights and the parameter count are derived. What
/// the forward entry points are depends on the family that runs the model
/// (forward, prefill and decode, encode), so they are not part of the concept.
template <class M, class B>
concept ModelArchitecture =
    requires { typename M::Config; } && std::constructible_from<M, B&, typename M::Config, WeightMap> &&
    requires(const M& model, const typename M::Config& config) {
      { model.config() } -> std::same_as<const typename M::Config&>;
      { model.parameters() } -> std::convertible_to<std::int64_t>;
      { model.weight_bytes() } -> std::convertible_to<std::uint64_t>;
      { M::tensor_shapes(config) } -> std::same_as<TensorShapes>;
    };

}  // namespace accelbench
