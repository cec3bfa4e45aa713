#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../model/common/checkpoint.hpp"
#include "../model/wav2vec2.hpp"
#include "../model/whisper.hpp"
#include "../core/phases.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "concepts.hpp"
#include "hooks.hpp"
#include "model_variant.hpp"

namespace accelbench {

/// The ops of the audio family: convolutions and group norm (PerceptionOps)
/// and Whisper's decoder with its key-value cache (GenerationOps).
template <class B>
concept AudioOps = PerceptionOps<B> && GenerationOps<B>;

/// A preset of the audio family: a Whisper or a wav2vec2 configuration, with
/// the fields every family's presets show (name, encoder layers, hidden
/// width, heads, aliases, parameters) copied from it.
struct AudioConfig {
  std::string name;
  std::string architecture;  ///< "whisper" or "wav2vec2"
  int layers = 0;            ///< encoder layers
  int hidden = 0;
  int heads = 0;
  std::vector<std::string> aliases;
  std::variant<WhisperConfig, Wav2Vec2Config> model;

  AudioConfig() = default;
  explicit AudioConfig(WhisperConfig c)
      : name(c.name), architecture("whisper"), layers(c.layers), hidden(c.hidden), heads(c.heads), aliases(c.aliases),
        model(std::move(c)) {}
  explicit AudioConfig(Wav2Vec2Config c)
      : name(c.name), architecture("wav2vec2"), layers(c.layers), hidden(c.hidden), heads(c.heads), aliases(c.aliases),
        model(std::move(c)) {}

  [[nodiscard]] bool is_whisper() const noexcept { return std::holds_alternative<WhisperConfig>(model); }
  [[nodiscard]] const WhisperConfig& whisper() const { return std::get<WhisperConfig>(model); }
  [[nodiscard]] const Wav2Vec2Config& wav2vec2() const { return std::get<Wav2Vec2Config>(model); }
  [[nodiscard]] std::int64_t parameter_count() const {
    return std::visit([](const auto& c) { return c.parameter_count(); }, model);
  }
};

/// The presets of both architectures: whisper-tiny, whisper-base, wav2vec2-base.
inline const std::vector<AudioConfig>& audio_presets() {
  static const std::vector<AudioConfig> presets = [] {
    std::vector<AudioConfig> p;
    for (const auto& w : whisper_presets()) p.emplace_back(w);
    for (const auto& w : wav2vec2_presets()) p.emplace_back(w);
    return p;
  }();
  return presets;
}

/// Speech models over 16 kHz audio: Whisper (WhisperForConditionalGeneration,
/// transcribing greedily with a key-value cache) and wav2vec2 (Wav2Vec2Model,
/// an encoder). One item is one second of audio, so items/s is audio seconds
/// processed per second of wall time: the inverse of the real-time factor
/// (real_time_factor() gives it). A run takes batch_size clips of
/// audio_seconds seconds each; Whisper pads every clip to its 30-second
/// window (its encoder's work does not depend on the clip's length) and
/// generates new_tokens tokens; wav2vec2 encodes the clip's samples.
///
/// Phases: Whisper's "encoder" (the encoder, every decoder layer's cross
/// keys and values and the first decoder step, up to the first token: the
/// time to first token, in audio seconds) and "decode" (one token per clip,
/// new_tokens - 1 times per run); wav2vec2's "encoder" (the whole forward
/// pass). The sweep is batch_sizes x audio_seconds x new_tokens for
/// Whisper and batch_sizes x audio_seconds for wav2vec2, which generates
/// nothing: its cells have new_tokens 0, and keep that axis so that Whisper
/// and wav2vec2 cells share the columns of one table.
struct Audio {
  static constexpr std::string_view name = "audio";
  static constexpr std::string_view item_unit = "audio seconds";
  static constexpr int sample_rate = 16000;

  using Preset = AudioConfig;

  struct Cell {
    int batch_size = 1;
    int audio_seconds = 1;
    int new_tokens = 1;  ///< Whisper's generated tokens; 0 for wav2vec2
  };

  /// A loaded model: Whisper or wav2vec2, by the preset's architecture.
  template <AudioOps B>
  class Model : public ModelVariant<Whisper<B>, Wav2Vec2<B>> {
   public:
    using ModelVariant<Whisper<B>, Wav2Vec2<B>>::ModelVariant;
    [[nodiscard]] bool is_whisper() const noexcept { return this->template holds<Whisper<B>>(); }
  };

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(audio_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(audio_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x audio_seconds, x new_tokens for Whisper.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "audio_seconds",
             .item = "clip length",
             .help = "clip lengths in seconds of 16 kHz audio",
             .defaults = {10},
             .small = {1}},
            {.name = "new_tokens",
             .item = "number of new tokens",
             .help = "tokens generated per clip (Whisper; wav2vec2 generates none)",
             .defaults = {16},
             .small = {4}}};
  }

  /// The model's limits: Whisper takes clips up to its input window (30 s)
  /// and generates up to max_target_positions tokens; a wav2vec2 clip must
  /// give at least one frame.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> seconds = sweep_of<Audio>(config, "audio_seconds");
    for (std::size_t i = 0; i < seconds.size(); ++i) {
      const int s = seconds[i];
      const std::string field = "audio_seconds[" + std::to_string(i) + "]";
      if (preset.is_whisper()) {
        const WhisperConfig& w = preset.whisper();
        if (s > w.max_audio_seconds()) {
          throw ConfigError(field, std::to_string(s),
                            "exceeds " + preset.name + "'s input window of " + std::to_string(w.max_audio_seconds()) + " s (" +
                                std::to_string(w.input_frames()) +
                                " log-mel frames); Whisper transcribes longer audio window by window");
        }
      } else if (preset.wav2vec2().frames(std::int64_t{s} * sample_rate) < 1) {
        throw ConfigError(field, std::to_string(s), "is too short for " + preset.name + "'s feature encoder");
      }
    }
    if (!preset.is_whisper()) return;
    const std::vector<int> new_tokens = sweep_of<Audio>(config, "new_tokens");
    for (std::size_t i = 0; i < new_tokens.size(); ++i) {
      const int n = new_tokens[i];
      if (n > preset.whisper().max_target_positions) {
        throw ConfigError("new_tokens[" + std::to_string(i) + "]", std::to_string(n),
                          "exceeds " + preset.name + "'s " + std::to_string(preset.whisper().max_target_positions) +
                              " decoder positions (max_target_positions)");
      }
    }
  }

  /// Whisper: batch_sizes x audio_seconds x new_tokens; wav2vec2 (named by
  /// config.model or config.weights): batch_sizes x audio_seconds, new_tokens 0.
  /// Bytes one cell needs besides the weights, known before its workload
  /// is made (the Benchmark refuses a cell that needs more than the machine
  /// has): the audio samples and Whisper's decoder caches.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    const std::uint64_t samples = detail::saturating_product(c.batch_size, c.audio_seconds, sample_rate, sizeof(float));
    return preset.is_whisper()
               ? detail::saturating_sum(samples, preset.whisper().kv_cache_bytes(c.batch_size, c.new_tokens))
               : samples;
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    const std::vector<int> tokens = preset.is_whisper() ? sweep_of<Audio>(config, "new_tokens") : std::vector<int>{0};
    const std::vector<int> seconds = sweep_of<Audio>(config, "audio_seconds");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : seconds) {
        for (int n : tokens) out.push_back({b, s, n});
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"audio_seconds", c.audio_seconds}, {"new_tokens", c.new_tokens}};
  }

  /// Audio seconds per run.
  [[nodiscard]] static double items(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.audio_seconds;
  }
  /// The real-time factor of a run that took `run_seconds`: processing time
  /// per second of audio (below 1: faster than real time); 1 / (items/s).
  [[nodiscard]] static double real_time_factor(const Cell& c, double run_seconds) noexcept {
    return run_seconds / items(c);
  }

  [[nodiscard]] static double flops(const Preset& p, const Cell& c) {
    if (p.is_whisper()) return p.whisper().flops(c.batch_size, c.new_tokens);
    return p.wav2vec2().flops(c.batch_size, std::int64_t{c.audio_seconds} * sample_rate);
  }

  [[nodiscard]] static std::vector<PhaseSpec> phases(const Preset& p, const Cell& c) {
    std::vector<PhaseSpec> out{{"encoder", std::string(item_unit), items(c), 1}};
    if (p.is_whisper()) {
      out.push_back({"decode", "tokens", static_cast<double>(c.batch_size),
                     static_cast<std::size_t>(c.new_tokens > 1 ? c.new_tokens - 1 : 0)});
    }
    return out;
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    if (preset.is_whisper()) return synthetic_whisper_weights(preset.whisper(), seed);
    return synthetic_wav2vec2_weights(preset.wav2vec2(), seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder: config.json's
  /// model_type "whisper" or "wav2vec2".
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    const std::string type = [&] {
      const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
      const std::string t = c.text("model_type");
      if (t != "whisper" && t != "wav2vec2") {
        c.fail("model_type", "\"" + t + "\"", "the audio family reads whisper and wav2vec2 checkpoints");
      }
      return t;
    }();
    if (type == "whisper") return Preset(whisper_config_from_checkpoint(dir, accepted));
    return Preset(wav2vec2_config_from_checkpoint(dir, accepted));
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    if (preset.is_whisper()) return whisper_weights_from_checkpoint(dir);
    return wav2vec2_weights_from_checkpoint(dir);
  }

  template <AudioOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    if (preset.is_whisper()) {
      return Model<B>(typename Model<B>::Impl(std::in_place_type<Whisper<B>>, backend, preset.whisper(), std::move(weights)));
    }
    return Model<B>(typename Model<B>::Impl(std::in_place_type<Wav2Vec2<B>>, backend, preset.wav2vec2(), std::move(weights)));
  }

  template <AudioOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// The synthetic input of a cell: Whisper's log-mel features
  /// (make_whisper_features) or wav2vec2's waveform (make_wav2vec2_waveform).
  template <AudioOps B>
  [[nodiscard]] static HostMatrix synthetic_input(const Model<B>& model, const Cell& cell, std::uint64_t seed) {
    if (const auto* w = std::get_if<Whisper<B>>(&model.impl())) {
      return make_whisper_features(w->config(), cell.batch_size, cell.audio_seconds, seed);
    }
    return make_wav2vec2_waveform(cell.batch_size, std::int64_t{cell.audio_seconds} * sample_rate, seed);
  }

  /// One cell's input on the device, with Whisper's session (its cache) or
  /// wav2vec2's workspace; run() transcribes or encodes the batch.
  template <AudioOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : Workload(backend, model, cell, seed, synthetic_input(model, cell, seed)) {}

    /// With a given input: Whisper's log-mel features in transformers'
    /// layout ([batch_size * mel_bins, frames]), or wav2vec2's waveform
    /// ([batch_size, samples], any number of samples).
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t /*seed*/, const HostMatrix& input)
        : backend_(&backend), cell_(cell) {
      if (const auto* w = std::get_if<Whisper<B>>(&model.impl())) {
        if (cell.new_tokens < 1) throw std::invalid_argument("Audio: Whisper's new_tokens must be at least 1");
        run_.template emplace<WhisperRun>(WhisperRun{w, w->start(backend, input, cell.batch_size, cell.new_tokens)});
        tokens_.resize(static_cast<std::size_t>(cell.batch_size) * static_cast<std::size_t>(cell.new_tokens));
      } else {
        const auto& m = std::get<Wav2Vec2<B>>(model.impl());
        if (input.rows() != cell.batch_size) {
          throw std::invalid_argument("Audio: " + std::to_string(input.rows()) + " waveforms for batch_size " +
                                      std::to_string(cell.batch_size));
        }
        run_.template emplace<Wav2Vec2Run>(Wav2Vec2Run{&m, m.prepare(backend, input)});
      }
    }

    void run() {
      NoPhaseMarks none;
      run(none);
    }

    /// One run, marking the end of each phase: Whisper's prefill (0) and
    /// decode steps (1), wav2vec2's forward pass (0).
    template <PhaseMarks P>
    void run(P& phases) {
      if (auto* r = std::get_if<WhisperRun>(&run_)) {
        transcribe(*r, phases);
      } else {
        auto& e = std::get<Wav2Vec2Run>(run_);
        e.model->forward(*backend_, e.ws);
        phases.end(0);
      }
    }

    /// Bytes of Whisper's decoder cache and cross keys and values (0 for wav2vec2).
    [[nodiscard]] std::uint64_t kv_cache_bytes() const noexcept {
      if (const auto* r = std::get_if<WhisperRun>(&run_)) {
        return r->model->config().kv_cache_bytes(cell_.batch_size, cell_.new_tokens);
      }
      return 0;
    }

    /// Whisper's greedy tokens of the last run, [batch, new_tokens] row-major (empty for wav2vec2).
    [[nodiscard]] const std::vector<std::int32_t>& tokens() const noexcept { return tokens_; }

    /// Whisper: the generated tokens (as floats, [batch, new_tokens]) and the
    /// last step's logits. wav2vec2: the last hidden state, [batch * frames, hidden].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      if (const auto* r = std::get_if<WhisperRun>(&run_)) {
        HostMatrix tokens(cell_.batch_size, cell_.new_tokens);
        for (int b = 0; b < cell_.batch_size; ++b) {
          for (int t = 0; t < cell_.new_tokens; ++t) {
            tokens(b, t) = static_cast<float>(
                tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)]);
          }
        }
        out.push_back({"generated_tokens", std::move(tokens)});
        out.push_back({"last_logits", backend_->download(r->session.dec.logits)});
      } else {
        out.push_back({"last_hidden_state", backend_->download(std::get<Wav2Vec2Run>(run_).ws.hidden)});
      }
      return out;
    }

   private:
    struct WhisperRun {
      const Whisper<B>* model = nullptr;
      typename Whisper<B>::Session session;
    };
    struct Wav2Vec2Run {
      const Wav2Vec2<B>* model = nullptr;
      typename Wav2Vec2<B>::Workspace ws;
    };

    /// Keeps the chosen tokens; the download is where the host waits for the device.
    void take_tokens(const WhisperRun& r, int t) {
      const std::vector<std::int32_t> ids = backend_->download_indices(r.session.next_ids);
      for (int b = 0; b < cell_.batch_size; ++b) {
        tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)] =
            ids[static_cast<std::size_t>(b)];
      }
    }

    template <PhaseMarks P>
    void transcribe(WhisperRun& r, P& phases) {
      r.model->prefill(*backend_, r.session);
      take_tokens(r, 0);
      phases.end(0);
      for (int t = 1; t < cell_.new_tokens; ++t) {
        r.model->decode(*backend_, r.session);
        take_tokens(r, t);
        phases.end(1);
      }
    }

    B* backend_;
    Cell cell_;
    std::variant<std::monostate, WhisperRun, Wav2Vec2Run> run_;
    std::vector<std::int32_t> tokens_;
  };
};

static_assert(ModelFamily<Audio>, "Audio must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasRealTimeFactor<Audio>);
static_assert(HasFlops<Audio>);
static_assert(HasPresetPhases<Audio>);
static_assert(HasCheckpoints<Audio>);
static_assert(HasWeightLoading<Audio, Cpu>);
static_assert(HasPhasedRun<Audio::Workload<Cpu>>);
static_assert(HasKvCacheBytes<Audio::Workload<Cpu>>);
static_assert(HasParameterCount<Audio::Preset>);
static_assert(HasCellBytes<Audio>);

}  // namespace accelbench
