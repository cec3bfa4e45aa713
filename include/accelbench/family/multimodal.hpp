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
#include "../model/clip.hpp"
#include "../core/phases.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// Image-text similarity with CLIP. One item is one image-text pair; a run
/// encodes batch_size synthetic images (at the model's image size, see
/// make_images) and batch_size synthetic texts (the model's longest: 77
/// tokens for the OpenAI checkpoints, see make_clip_text_input), then scores
/// every image against every text. Phases: image_encode (the vision tower
/// and projection), text_encode (the text tower and projection) and
/// similarity (the batch_size x batch_size logits), each timed on the steady
/// clock after the backend is synchronised. The sweep is batch_sizes.
struct Multimodal {
  static constexpr std::string_view name = "multimodal";
  static constexpr std::string_view item_unit = "pairs";

  using Preset = ClipConfig;

  struct Cell {
    int batch_size = 1;
  };

  template <PerceptionOps B>
  using Model = Clip<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(clip_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(clip_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "clip"; }

  /// The sweep is batch_sizes alone: images and texts take the model's own sizes.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() { return {}; }

  /// Nothing of the sweep can exceed the model: images and texts take the
  /// model's own sizes.
  static void validate(const Config&, const Preset&) {}

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    std::vector<Cell> out;
    for (int b : config.batch_sizes) out.push_back({b});
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) { return {{"batch_size", c.batch_size}}; }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept { return p.flops(c.batch_size); }

  /// image_encode (images), text_encode (texts) and similarity (image-text
  /// pairs scored: batch_size squared), once per run each.
  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    const double b = c.batch_size;
    return {{"image_encode", "images", b, 1}, {"text_encode", "texts", b, 1}, {"similarity", "pairs", b * b, 1}};
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_clip_weights(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return clip_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return clip_weights_from_checkpoint(dir, preset);
  }

  /// Builds the model on the backend from host weights.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// Bytes one cell needs besides the weights, known before its workload
  /// is made (the Benchmark refuses a cell that needs more than the machine
  /// has): the pixels, each tower's hidden states (eight [tokens, hidden]
  /// tensors and the feed-forward's [tokens, intermediate]) and the
  /// [batch, batch] logits. Saturates instead of overflowing.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    using detail::saturating_product, detail::saturating_sum;
    const auto& v = preset.vision;
    const auto& t = preset.text;
    const std::int64_t side = v.patch_size > 0 ? v.image_size / v.patch_size : 0;
    const std::uint64_t floats = saturating_sum(
        saturating_product(c.batch_size, v.channels, v.image_size, v.image_size),
        saturating_product(c.batch_size, side * side + 1, 8 * std::int64_t{v.hidden} + v.intermediate),
        saturating_product(c.batch_size, t.max_positions, 8 * std::int64_t{t.hidden} + t.intermediate),
        saturating_product(c.batch_size, c.batch_size));
    return saturating_product(floats, sizeof(float));
  }

  /// One cell's images and texts on the device; run() encodes both and
  /// computes the similarity logits.
  template <PerceptionOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend,
                            make_images(cell.batch_size, model.config().vision.channels,
                                        model.config().vision.image_size, seed),
                            make_clip_text_input(model.config(), cell.batch_size,
                                                 model.config().text.max_positions, seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// The same pass, marking the end of the image tower (phase 0), the text
    /// tower (1) and the similarity (2).
    template <PhaseMarks P>
    void run(P& phases) {
      model_->encode_images(*backend_, ws_);
      phases.end(0);
      model_->encode_texts(*backend_, ws_);
      phases.end(1);
      model_->similarity(*backend_, ws_);
      phases.end(2);
    }

    /// The normalised image and text embeddings [batch, projection_dim] and
    /// the logits [batch images, batch texts].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"image_embeds", backend_->download(ws_.image_embeds)});
      out.push_back({"text_embeds", backend_->download(ws_.text_embeds)});
      out.push_back({"logits_per_image", backend_->download(ws_.logits_per_image)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Multimodal>, "Multimodal must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<Multimodal>);
static_assert(HasCellPhases<Multimodal>);
static_assert(HasCheckpoints<Multimodal>);
static_assert(HasWeightLoading<Multimodal, Cpu>);
static_assert(HasPhasedRun<Multimodal::Workload<Cpu>>);
static_assert(HasParameterCount<Multimodal::Preset>);
static_assert(HasCellBytes<Multimodal>);

}  // namespace accelbench
