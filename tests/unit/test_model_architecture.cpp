// Static tests of the ModelArchitecture concept: every architecture's model
// class has the common shape, on the reference backend and on the plain-loop
// backend; a minimal class satisfies it and one without tensor shapes does not.

#include <accelbench/backend/cpu.hpp>
#include <accelbench/model/bert.hpp>
#include <accelbench/model/clip.hpp>
#include <accelbench/model/common/architecture.hpp>
#include <accelbench/model/generative.hpp>
#include <accelbench/model/vit.hpp>
#include <accelbench/model/wav2vec2.hpp>
#include <accelbench/model/whisper.hpp>

#include "naive_backend.hpp"

using namespace accelbench;
using test::NaiveBackend;

namespace {

// The least a ModelArchitecture needs.
struct ToyConfig {
  int width = 1;
};
struct ToyModel {
  using Config = ToyConfig;
  ToyModel(Cpu&, ToyConfig config, WeightMap) : config_(config) {}
  [[nodiscard]] const ToyConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return config_.width; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return 4u * static_cast<std::uint64_t>(config_.width); }
  [[nodiscard]] static TensorShapes tensor_shapes(const ToyConfig& c) { return {{"weight", {1, c.width}}}; }
  ToyConfig config_;
};

// Everything but the tensor shapes of its configuration.
struct NoShapes {
  using Config = ToyConfig;
  NoShapes(Cpu&, ToyConfig config, WeightMap) : config_(config) {}
  [[nodiscard]] const ToyConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return 0; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return 0; }
  ToyConfig config_;
};

// Built from a configuration alone, without weights.
struct NoWeights {
  using Config = ToyConfig;
  NoWeights(Cpu&, ToyConfig config) : config_(config) {}
  [[nodiscard]] const ToyConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return 0; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return 0; }
  [[nodiscard]] static TensorShapes tensor_shapes(const ToyConfig&) { return {}; }
  ToyConfig config_;
};

static_assert(ModelArchitecture<ToyModel, Cpu>);
static_assert(!ModelArchitecture<NoShapes, Cpu>, "a model without tensor_shapes is not a ModelArchitecture");
static_assert(!ModelArchitecture<NoWeights, Cpu>, "a model that takes no WeightMap is not a ModelArchitecture");
static_assert(!ModelArchitecture<BertConfig, Cpu>, "a configuration is not a model");

template <class B>
constexpr bool every_architecture =
    ModelArchitecture<Bert<B>, B> && ModelArchitecture<Gpt2<B>, B> && ModelArchitecture<Llama<B>, B> &&
    ModelArchitecture<T5<B>, B> && ModelArchitecture<ViT<B>, B> && ModelArchitecture<Clip<B>, B> &&
    ModelArchitecture<Whisper<B>, B> && ModelArchitecture<Wav2Vec2<B>, B>;

static_assert(every_architecture<Cpu>, "every architecture has the common shape on Cpu");
static_assert(every_architecture<NaiveBackend>, "every architecture has the common shape on the plain-loop backend");

// The generative registry's entries build those classes.
static_assert(std::is_same_v<Gpt2Architecture::Model<Cpu>, Gpt2<Cpu>>);
static_assert(std::is_same_v<LlamaArchitecture::Model<Cpu>, Llama<Cpu>>);
static_assert(std::is_same_v<T5Architecture::Model<Cpu>, T5<Cpu>>);

}  // namespace
