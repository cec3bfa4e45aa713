#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/phases.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "../model/clap.hpp"
#include "../model/clap_checkpoint.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// Audio-text retrieval with CLAP. One item is one audio-text pair; a run
/// encodes batch_size synthetic clips of log-mel features (`frames` frames
/// each, see make_clap_features) and batch_size synthetic texts of
/// text_length tokens (see make_clap_text_input), then scores every clip
/// against every text (with fusion, clap-htsat-fused, every clip has four
/// channels and takes the fusion path of a clip longer than the window). Phases: audio_encode (the audio encoder and its
/// projection), text_encode (RoBERTa, its pooler and projection) and
/// similarity (the logits both ways), each timed on the steady clock after
/// the backend is synchronised. The sweep is batch_sizes x frames; 0 frames
/// is the model's default (1001: ClapFeatureExtractor's 10-second clips),
/// at most spec_size * freq_ratio (1024), the frames the encoder takes.
struct AudioText {
  static constexpr std::string_view name = "audio-text";
  static constexpr std::string_view item_unit = "pairs";

  using Preset = ClapConfig;

  struct Cell {
    int batch_size = 1;
    int frames = 0;  ///< mel frames per clip; 0: the model's default
  };

  template <ClapOps B>
  using Model = Clap<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(clap_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(clap_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "clap"; }

  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "frames",
             .item = "number of mel frames",
             .help = "mel frames per clip, 0 for the model's default (10-second clips); shorter clips are "
                     "interpolated to the frames the model takes",
             .defaults = {0},
             .min = 0,
             .small = {0}}};
  }

  /// Every number of frames at most the model's spec_width, none twice
  /// once 0 is read as the default.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> frames = sweep_of<AudioText>(config, "frames");
    std::vector<int> seen;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const std::string field = "frames[" + std::to_string(i) + "]";
      const int f = frames[i] == 0 ? preset.audio.frames : frames[i];
      if (f > preset.audio.spec_width()) {
        throw ConfigError(field, std::to_string(frames[i]),
                          "exceeds the " + std::to_string(preset.audio.spec_width()) + " frames " + preset.name +
                              " takes (spec_size * freq_ratio)");
      }
      for (int earlier : seen) {
        if (earlier == f) {
          throw ConfigError(field, std::to_string(frames[i]),
                            "duplicate number of frames (0 is " + preset.name + "'s default " +
                                std::to_string(preset.audio.frames) + ")");
        }
      }
      seen.push_back(f);
    }
  }

  /// batch_sizes x frames, 0 read as the model's default.
  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int f : sweep_of<AudioText>(config, "frames")) out.push_back({b, f == 0 ? preset.audio.frames : f});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"frames", c.frames}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }

  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.frames > 0 ? c.frames : p.audio.frames, c.batch_size, p.text_length);
  }

  /// audio_encode (clips), text_encode (texts) and similarity (pairs
  /// scored: batch_size squared), once per run each.
  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    const double b = c.batch_size;
    return {{"audio_encode", "clips", b, 1}, {"text_encode", "texts", b, 1}, {"similarity", "pairs", b * b, 1}};
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_clap_weights(preset, seed);
  }

  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return clap_config_from_checkpoint(dir, accepted);
  }

  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return clap_weights_from_checkpoint(dir, preset);
  }

  template <ClapOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  template <ClapOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// Bytes one cell needs besides the weights: the features, the
  /// interpolated spectrogram and its image, the first stage's states (eight
  /// [tokens, width] tensors and the feed-forward; later stages are smaller),
  /// each block's gathers, and the text tower's. Saturates.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    using detail::saturating_product, detail::saturating_sum;
    const ClapAudioConfig& a = preset.audio;
    const std::int64_t frames = c.frames > 0 ? c.frames : a.frames;
    const std::int64_t tokens = std::int64_t{a.grid()} * a.grid();
    const std::uint64_t floats =
        saturating_sum(saturating_product(c.batch_size, a.channels(), frames, 3 * std::int64_t{a.mel_bins}),
                       saturating_product(c.batch_size, a.channels(), 2 * std::int64_t{a.mel_bins}, a.spec_width()),
                       saturating_product(c.batch_size, tokens, 8 * std::int64_t{a.embed} + a.intermediate(0)),
                       saturating_product(a.spec_width(), frames),
                       saturating_product(c.batch_size, preset.text_length,
                                          8 * std::int64_t{preset.text.hidden} + preset.text.intermediate),
                       saturating_product(c.batch_size, c.batch_size, 2));
    return saturating_sum(saturating_product(floats, sizeof(float)),
                          saturating_product(c.batch_size, tokens, 5 * sizeof(std::int32_t)));
  }

  /// One cell's clips and texts on the device; run() encodes both and
  /// scores every clip against every text.
  template <ClapOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(
              backend,
              make_clap_features(model.config(), cell.batch_size,
                                 cell.frames > 0 ? cell.frames : model.config().audio.frames, seed),
              cell.batch_size, make_clap_text_input(model.config(), cell.batch_size, model.config().text_length, seed),
              // With fusion every synthetic clip is longer than the window, so each takes the fusion path.
              std::vector<std::int32_t>(static_cast<std::size_t>(cell.batch_size), model.config().audio.fusion ? 1 : 0))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// The same pass, marking the end of the clips (phase 0), the texts (1)
    /// and the similarity (2).
    template <PhaseMarks P>
    void run(P& phases) {
      model_->encode_audio(*backend_, ws_);
      phases.end(0);
      model_->encode_texts(*backend_, ws_);
      phases.end(1);
      model_->similarity(*backend_, ws_);
      phases.end(2);
    }

    /// The normalised audio and text embeddings [batch, projection_dim] and
    /// the logits [batch clips, batch texts].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"audio_embeds", backend_->download(ws_.audio_embeds)});
      out.push_back({"text_embeds", backend_->download(ws_.text_embeds)});
      out.push_back({"logits_per_audio", backend_->download(ws_.logits_per_audio)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<AudioText>, "AudioText must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<AudioText>);
static_assert(HasCellPhases<AudioText>);
static_assert(HasCheckpoints<AudioText>);
static_assert(HasWeightLoading<AudioText, Cpu>);
static_assert(HasPhasedRun<AudioText::Workload<Cpu>>);
static_assert(HasParameterCount<AudioText::Preset>);
static_assert(HasCellBytes<AudioText>);

}  // namespace accelbench
