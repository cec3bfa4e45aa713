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
#include "../model/common/images.hpp"
#include "../model/xclip.hpp"
#include "../model/xclip_checkpoint.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// Video-text retrieval with X-CLIP. One item is one video; a run encodes
/// batch_size synthetic videos of `frames` frames each (at the model's image
/// size, see make_images) and batch_size synthetic texts (the model's
/// longest, see make_clip_text_input), then, per video, shifts every text by
/// the video's prompts and scores it. Phases: video_encode (the vision tower
/// over every frame, the MIT, the frames' patch features), text_encode (the
/// text tower and projection) and similarity (the prompt generator for every
/// video-text pair and the logits), each timed on the steady clock after the
/// backend is synchronised. The sweep is batch_sizes x frames; 0 frames is
/// the model's own num_frames, the most its multi-frame transformer takes.
struct VideoText {
  static constexpr std::string_view name = "video-text";
  static constexpr std::string_view item_unit = "videos";

  using Preset = XClipConfig;

  struct Cell {
    int batch_size = 1;
    int frames = 0;  ///< frames per video; 0: the model's own
  };

  template <XClipOps B>
  using Model = XClip<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(xclip_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(xclip_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "xclip"; }

  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "frames",
             .item = "number of frames",
             .help = "frames per video, 0 for the model's own (X-CLIP's num_frames, the most it takes)",
             .defaults = {0},
             .min = 0,
             .small = {0}}};
  }

  /// Every number of frames at most the model's num_frames, none twice
  /// once 0 is read as it.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> frames = sweep_of<VideoText>(config, "frames");
    std::vector<int> seen;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const std::string field = "frames[" + std::to_string(i) + "]";
      const int f = frames[i] == 0 ? preset.frames : frames[i];
      if (f > preset.frames) {
        throw ConfigError(field, std::to_string(frames[i]),
                          "exceeds " + preset.name + "'s " + std::to_string(preset.frames) +
                              " frames (num_frames: the positions of its multi-frame transformer)");
      }
      for (int earlier : seen) {
        if (earlier == f) {
          throw ConfigError(field, std::to_string(frames[i]),
                            "duplicate number of frames (0 is " + preset.name + "'s own " +
                                std::to_string(preset.frames) + ")");
        }
      }
      seen.push_back(f);
    }
  }

  /// batch_sizes x frames, 0 read as the model's own.
  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int f : sweep_of<VideoText>(config, "frames")) out.push_back({b, f == 0 ? preset.frames : f});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"frames", c.frames}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }

  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.frames > 0 ? c.frames : p.frames, c.batch_size, p.text.max_positions);
  }

  /// video_encode (videos), text_encode (texts) and similarity (video-text
  /// pairs scored: batch_size squared), once per run each.
  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    const double b = c.batch_size;
    return {{"video_encode", "videos", b, 1}, {"text_encode", "texts", b, 1}, {"similarity", "pairs", b * b, 1}};
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_xclip_weights(preset, seed);
  }

  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return xclip_config_from_checkpoint(dir, accepted);
  }

  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return xclip_weights_from_checkpoint(dir, preset);
  }

  template <XClipOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  template <XClipOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// Bytes one cell needs besides the weights: the frames' pixels, the
  /// vision tower's states over every frame (nine [tokens + 1, hidden]
  /// tensors and the feed-forward), the text tower's, and the prompt
  /// generator's and logits' [videos * texts, ...] tensors. Saturates.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    using detail::saturating_product, detail::saturating_sum;
    const auto& v = preset.vision;
    const auto& t = preset.text;
    const std::int64_t images = std::int64_t{c.batch_size} * (c.frames > 0 ? c.frames : preset.frames);
    const std::uint64_t floats = saturating_sum(
        saturating_product(images, v.channels, v.image_size, v.image_size),
        saturating_product(images, v.tokens() + 1, 9 * std::int64_t{v.hidden} + v.intermediate),
        saturating_product(c.batch_size, t.max_positions, 8 * std::int64_t{t.hidden} + t.intermediate),
        saturating_product(c.batch_size, c.batch_size, 10 * std::int64_t{preset.projection_dim}),
        saturating_product(c.batch_size, v.tokens(), 6 * std::int64_t{preset.projection_dim}));
    return saturating_product(floats, sizeof(float));
  }

  /// The synthetic texts of a cell: the model's longest, as CLIP's.
  [[nodiscard]] static ClipTextInput synthetic_texts(const Preset& preset, int batch, std::uint64_t seed) {
    ClipConfig text_only;
    text_only.text = preset.text;
    return make_clip_text_input(text_only, batch, preset.text.max_positions, seed);
  }

  /// One cell's frames and texts on the device; run() encodes both and
  /// scores every video against every text.
  template <XClipOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend,
                            make_images(cell.batch_size * (cell.frames > 0 ? cell.frames : model.config().frames),
                                        model.config().vision.channels, model.config().vision.image_size, seed)
                                .pixels,
                            cell.batch_size, synthetic_texts(model.config(), cell.batch_size, seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// The same pass, marking the end of the videos (phase 0), the texts
    /// (1) and the similarity (2).
    template <PhaseMarks P>
    void run(P& phases) {
      model_->encode_videos(*backend_, ws_);
      phases.end(0);
      model_->encode_texts(*backend_, ws_);
      phases.end(1);
      model_->similarity(*backend_, ws_);
      phases.end(2);
    }

    /// The normalised video embeddings [batch, projection_dim], the texts'
    /// after each video's prompts [batch * batch, projection_dim] and the
    /// logits [batch videos, batch texts].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"video_embeds", backend_->download(ws_.video_embeds)});
      out.push_back({"text_embeds", backend_->download(ws_.text_embeds)});
      out.push_back({"logits_per_video", model_->logits_per_video(*backend_, ws_)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<VideoText>, "VideoText must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<VideoText>);
static_assert(HasCellPhases<VideoText>);
static_assert(HasCheckpoints<VideoText>);
static_assert(HasWeightLoading<VideoText, Cpu>);
static_assert(HasPhasedRun<VideoText::Workload<Cpu>>);
static_assert(HasParameterCount<VideoText::Preset>);
static_assert(HasCellBytes<VideoText>);

}  // namespace accelbench
