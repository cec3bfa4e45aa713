#pragma once

#include <cstdint>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../model/generative.hpp"
#include "../core/phases.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "concepts.hpp"
#include "hooks.hpp"
#include "model_variant.hpp"

namespace accelbench {

/// Greedy generation with decoder-only models (GPT-2, Llama, Qwen2) and
/// encoder-decoders (T5), with a key-value cache. One item is one generated
/// sequence; a run generates new_tokens tokens after a prompt of
/// prompt_length tokens for batch_size sequences. Phases: prefill (the
/// prompt, up to the first token: time to first token) and decode (one
/// token per sequence, new_tokens - 1 times per run). The sweep is
/// batch_sizes x prompt_lengths x new_tokens.
///
/// The family runs the architectures of `Architectures` (a list of
/// GenerativeArchitecture entries); TextGeneration runs the library's. A
/// program adds its own architecture with one line:
///
///   using MyTextGeneration = TextGenerationOf<append_t<GenerativeArchitectures, MyArchitecture>>;
template <class Architectures>
struct TextGenerationOf {
  static_assert(all_generative_architectures<Architectures>,
                "every entry of TextGenerationOf's list must satisfy GenerativeArchitecture (model/generative.hpp)");
  static constexpr std::string_view name = "text-generation";
  static constexpr std::string_view item_unit = "sequences";

  using Preset = GenerativeConfig;

  struct Cell {
    int batch_size = 1;
    int prompt_length = 1;
    int new_tokens = 1;
  };

  /// A loaded model: GPT-2, Llama (and Qwen2) or T5, by the preset's
  /// architecture. Generation dispatches on it once per run.
  template <GenerationOps B>
  class Model : public EachModel<B, Architectures, ModelVariant> {
    using Base = EachModel<B, Architectures, ModelVariant>;
    static_assert(all_model_architectures<B, Architectures>,
                  "every architecture's Model<B> must satisfy ModelArchitecture (model/common/architecture.hpp)");

   public:
    using Base::Base;
    [[nodiscard]] const GenerativeConfig& config() const {
      return std::visit([](const auto& m) -> const GenerativeConfig& { return m.config(); }, this->impl());
    }
  };

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(generative_presets<Architectures>(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() {
    return detail::preset_names_of(generative_presets<Architectures>());
  }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x prompt_lengths x new_tokens.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "prompt_lengths",
             .item = "prompt length",
             .help = "prompt lengths in tokens",
             .defaults = {32},
             .small = {8}},
            {.name = "new_tokens",
             .item = "number of new tokens",
             .help = "tokens generated per sequence",
             .defaults = {16},
             .small = {4}}};
  }

  /// The model's limits: every prompt length plus every number of new
  /// tokens must fit its positions, and, for every model, an int (the
  /// cache's capacity).
  static void validate(const Config& config, const Preset& preset) {
    const int limit = preset.sequence_limit();  // 0: none but the cache's int
    const std::vector<int> prompts = sweep_of<TextGenerationOf>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<TextGenerationOf>(config, "new_tokens");
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      for (int n : new_tokens) {
        const int p = prompts[i];
        const std::int64_t positions = std::int64_t{p} + n;
        const bool limited = limit > 0;
        if (positions > (limited ? limit : std::numeric_limits<int>::max())) {
          throw ConfigError("prompt_lengths[" + std::to_string(i) + "]", std::to_string(p),
                            "with new_tokens " + std::to_string(n) + " exceeds " +
                                (limited ? preset.name + "'s maximum of " + std::to_string(limit) + " positions"
                                         : "the largest cache of " + std::to_string(std::numeric_limits<int>::max()) +
                                               " positions"));
        }
      }
    }
  }

  /// Bytes one cell needs besides the weights, known before its workload
  /// is made (the Benchmark refuses a cell that needs more than the
  /// machine has): the key-value cache, the prompts, the prefill's hidden
  /// states (eight [tokens, hidden] tensors and the feed-forward's
  /// [tokens, intermediate]), one sequence's attention scores (T5: of every
  /// head, its position bias) and the last step's logits. Saturates instead
  /// of overflowing.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) {
    const std::int64_t positions = std::int64_t{c.prompt_length} + c.new_tokens;
    const int capacity = preset.is_encoder_decoder()
                             ? c.new_tokens
                             : static_cast<int>(std::min<std::int64_t>(positions, std::numeric_limits<int>::max()));
    const std::uint64_t floats = detail::saturating_sum(
        detail::saturating_product(c.batch_size, c.prompt_length, 8 * std::int64_t{preset.hidden} + preset.intermediate),
        detail::saturating_product(c.prompt_length, c.prompt_length, preset.is_encoder_decoder() ? preset.heads : 1),
        detail::saturating_product(c.batch_size, preset.vocab_size));
    return detail::saturating_sum(preset.kv_cache_bytes(c.batch_size, capacity, c.prompt_length),
                                  detail::saturating_product(c.batch_size, c.prompt_length, sizeof(std::int32_t)),
                                  detail::saturating_mul(floats, sizeof(float)));
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    const std::vector<int> prompts = sweep_of<TextGenerationOf>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<TextGenerationOf>(config, "new_tokens");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int p : prompts) {
        for (int n : new_tokens) out.push_back({b, p, n});
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"prompt_length", c.prompt_length}, {"new_tokens", c.new_tokens}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  /// Generated tokens of one run.
  [[nodiscard]] static double tokens(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.new_tokens;
  }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.generation_flops(c.batch_size, c.prompt_length, c.new_tokens);
  }

  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    return {{"prefill", "prompt tokens", static_cast<double>(c.batch_size) * c.prompt_length, 1},
            {"decode", "tokens", static_cast<double>(c.batch_size), static_cast<std::size_t>(c.new_tokens - 1)}};
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_generative_weights<Architectures>(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return generative_config_from_checkpoint<Architectures>(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, [[maybe_unused]] const Preset& preset) {
    return generative_weights_from_checkpoint<Architectures>(dir, preset);
  }

  /// Builds the preset's architecture (chosen here, once).
  template <GenerationOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return detail::with_generative_architecture<Architectures>(preset, [&](auto a) {
      using M = typename decltype(a)::template Model<B>;
      return Model<B>(typename Model<B>::Impl(std::in_place_type<M>, backend, preset, std::move(weights)));
    });
  }

  template <GenerationOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell: the prompts on the device and a session with its cache;
  /// run() generates new_tokens tokens greedily.
  template <GenerationOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : Workload(backend, model, cell, seed,
                   make_prompt_ids(model.config(), cell.batch_size, cell.prompt_length, seed)) {}

    /// With given prompts: batch_size x prompt_length token ids, row-major.
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t /*seed*/,
             const std::vector<std::int32_t>& prompt)
        : backend_(&backend), cell_(cell), config_(&model.config()) {
      if (cell.new_tokens < 1) throw std::invalid_argument("TextGeneration: new_tokens must be at least 1");
      std::visit(
          [&](const auto& m) {
            using M = std::remove_cvref_t<decltype(m)>;
            run_ = Run<M>{&m, m.start(backend, prompt, cell.batch_size, cell.prompt_length, cell.new_tokens)};
          },
          model.impl());
      tokens_.resize(static_cast<std::size_t>(cell.batch_size) * static_cast<std::size_t>(cell.new_tokens));
    }

    void run() {
      NoPhaseMarks none;
      run(none);
    }

    /// One generation, marking the end of prefill (phase 0) and of each
    /// decode step (phase 1).
    template <PhaseMarks P>
    void run(P& phases) {
      std::visit([&](auto& r) { generate(*r.model, r.session, phases); }, run_);
    }

    [[nodiscard]] std::uint64_t kv_cache_bytes() const noexcept {
      return config_->kv_cache_bytes(cell_.batch_size,
                                     config_->is_encoder_decoder() ? cell_.new_tokens
                                                                   : cell_.prompt_length + cell_.new_tokens,
                                     cell_.prompt_length);
    }

    /// The greedy tokens of the last run, [batch, new_tokens], row b holding sequence b's.
    [[nodiscard]] const std::vector<std::int32_t>& tokens() const noexcept { return tokens_; }

    /// Generated tokens (as floats, [batch, new_tokens]) and the last step's logits.
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      HostMatrix tokens(cell_.batch_size, cell_.new_tokens);
      for (int b = 0; b < cell_.batch_size; ++b) {
        for (int t = 0; t < cell_.new_tokens; ++t) tokens(b, t) = static_cast<float>(token(b, t));
      }
      std::vector<NamedOutput> out;
      out.push_back({"generated_tokens", std::move(tokens)});
      out.push_back({"last_logits", std::visit([&](auto& r) { return backend_->download(last_logits(r.session)); }, run_)});
      return out;
    }

   private:
    template <class M>
    struct Run {
      const M* model = nullptr;
      typename M::Session session;
    };

    [[nodiscard]] std::int32_t token(int b, int t) const {
      return tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)];
    }

    template <class Session>
    static const typename B::Tensor& last_logits(const Session& s) {
      if constexpr (requires { s.dec; }) {
        return s.dec.logits;
      } else {
        return s.length > s.prompt_len ? s.step.logits : s.prefill.logits;
      }
    }

    /// Keeps the chosen tokens; the download is where the host waits for the device.
    template <class Session>
    void take_tokens(const Session& s, int t) {
      const std::vector<std::int32_t> ids = backend_->download_indices(s.next_ids);
      for (int b = 0; b < cell_.batch_size; ++b) {
        tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)] =
            ids[static_cast<std::size_t>(b)];
      }
    }

    template <class M, PhaseMarks P>
    void generate(const M& model, typename M::Session& s, P& phases) {
      model.prefill(*backend_, s);
      take_tokens(s, 0);
      phases.end(0);
      for (int t = 1; t < cell_.new_tokens; ++t) {
        model.decode(*backend_, s);
        take_tokens(s, t);
        phases.end(1);
      }
    }

    B* backend_;
    Cell cell_;
    const GenerativeConfig* config_;
    template <class... Models>
    using Runs = std::variant<Run<Models>...>;
    EachModel<B, Architectures, Runs> run_;
    std::vector<std::int32_t> tokens_;
  };
};

/// The family over the library's generative architectures.
using TextGeneration = TextGenerationOf<GenerativeArchitectures>;

static_assert(ModelFamily<TextGeneration>, "TextGeneration must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasTokens<TextGeneration>);
static_assert(HasFlops<TextGeneration>);
static_assert(HasCellPhases<TextGeneration>);
static_assert(HasCheckpoints<TextGeneration>);
static_assert(HasWeightLoading<TextGeneration, Cpu>);
static_assert(HasPhasedRun<TextGeneration::Workload<Cpu>>);
static_assert(HasKvCacheBytes<TextGeneration::Workload<Cpu>>);
static_assert(HasParameterCount<TextGeneration::Preset>);
static_assert(HasCellBytes<TextGeneration>);

}  // namespace accelbench
