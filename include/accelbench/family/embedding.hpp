#pragma once

#include <cstdint>
#include <filesystem>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../model/common/checkpoint.hpp"
#include "../model/bert.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// Sentence embeddings with BERT-family encoders. One item is one sequence;
/// the timed operation is a forward pass with mean pooling; the sweep is
/// batch_sizes x sequence_lengths.
struct Embedding {
  static constexpr std::string_view name = "embedding";
  static constexpr std::string_view item_unit = "sequences";

  using Preset = BertConfig;

  struct Cell {
    int batch_size = 1;
    int sequence_length = 1;
  };

  template <EncoderOps B>
  using Model = Bert<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(bert_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(bert_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "bert"; }

  /// The sweep: batch_sizes x sequence_lengths.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "sequence_lengths",
             .item = "sequence length",
             .help = "sequence lengths in tokens",
             .defaults = {128},
             .small = {16}}};
  }

  /// The model's limits: every sequence length must fit its position table.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> lengths = sweep_of<Embedding>(config, "sequence_lengths");
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const int s = lengths[i];
      if (s > preset.max_positions) {
        throw ConfigError("sequence_lengths[" + std::to_string(i) + "]", std::to_string(s),
                          "exceeds " + preset.name + "'s maximum of " + std::to_string(preset.max_positions) +
                              " positions (max_position_embeddings)");
      }
    }
  }

  /// Bytes one cell's activations take, known before its workload is made
  /// (the Benchmark refuses a cell that needs more than the machine has).
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    return preset.activation_bytes(c.batch_size, c.sequence_length);
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    std::vector<Cell> out;
    const std::vector<int> lengths = sweep_of<Embedding>(config, "sequence_lengths");
    for (int b : config.batch_sizes) {
      for (int s : lengths) out.push_back({b, s});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"sequence_length", c.sequence_length}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double tokens(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.sequence_length;
  }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.sequence_length);
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_bert_weights(preset, seed);
  }

  /// Builds the model on the backend from host weights.
  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return bert_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, [[maybe_unused]] const Preset& preset) {
    return bert_weights_from_checkpoint(dir);
  }

  template <EncoderOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <EncoderOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell's inputs on the device; run() is one forward pass.
  template <EncoderOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend,
                            make_bert_input(model.config(), cell.batch_size, cell.sequence_length, seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// Bytes of the activations a forward pass keeps (the backend's own scratch aside).
    [[nodiscard]] std::uint64_t activation_bytes() const noexcept {
      return model_->config().activation_bytes(ws_.batch, ws_.seq);
    }

    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"last_hidden_state", backend_->download(ws_.hidden)});
      out.push_back({"pooled_embedding", backend_->download(ws_.pooled)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Embedding>, "Embedding must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasTokens<Embedding>);
static_assert(HasFlops<Embedding>);
static_assert(HasCheckpoints<Embedding>);
static_assert(HasWeightLoading<Embedding, Cpu>);
static_assert(HasActivationBytes<Embedding::Workload<Cpu>>);
static_assert(HasParameterCount<Embedding::Preset>);
static_assert(HasCellBytes<Embedding>);

}  // namespace accelbench
