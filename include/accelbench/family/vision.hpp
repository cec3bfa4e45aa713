#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../model/vit.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// Image encoding with Vision Transformers (ViT). One item is one image; the
/// timed operation is a forward pass over batch_size synthetic square images
/// (see make_images); the sweep is batch_sizes x image_sizes. An image size
/// of 0 is the preset's own; another size must be a multiple of the patch
/// size, and gets the position embeddings interpolated bicubically as
/// transformers' interpolate_pos_encoding does, when the cell is prepared
/// (not timed).
struct Vision {
  static constexpr std::string_view name = "vision";
  static constexpr std::string_view item_unit = "images";

  using Preset = ViTConfig;

  struct Cell {
    int batch_size = 1;
    int image_size = 0;  ///< pixels per side; 0: the model's own
  };

  template <PerceptionOps B>
  using Model = ViT<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(vit_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(vit_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "vit"; }

  /// The sweep: batch_sizes x image_sizes, an image size of 0 being the
  /// preset's own.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "image_sizes",
             .item = "image size",
             .help = "square image sizes in pixels, 0 for the preset's",
             .defaults = {0},
             .min = 0,
             .small = {0}}};
  }

  /// Every image size must be a multiple of the patch size, and no two may
  /// be the same once 0 is read as the preset's size.
  static void validate(const Config& config, const Preset& preset) {
    std::vector<int> seen;
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const int s = sizes[i];
      const std::string field = "image_sizes[" + std::to_string(i) + "]";
      if (s != 0 && s % preset.patch_size != 0) {
        throw ConfigError(field, std::to_string(s),
                          "must be a multiple of " + preset.name + "'s patch size (" +
                              std::to_string(preset.patch_size) + " pixels), or 0 for its own " +
                              std::to_string(preset.image_size));
      }
      const int size = s == 0 ? preset.image_size : s;
      const std::int64_t grid = preset.patch_size > 0 ? size / preset.patch_size : 0;
      if (grid * grid + 1 > std::numeric_limits<int>::max()) {
        throw ConfigError(field, std::to_string(s),
                          "gives " + std::to_string(grid * grid) + " patches of " + std::to_string(preset.patch_size) +
                              " pixels, more than an int counts");
      }
      for (int earlier : seen) {
        if (earlier == size) {
          throw ConfigError(field, std::to_string(s),
                            "duplicate image size (0 is " + preset.name + "'s own " +
                                std::to_string(preset.image_size) + ")");
        }
      }
      seen.push_back(size);
    }
  }

  /// batch_sizes x image_sizes, with an image size of 0 read as the model's
  /// own (the preset's, or the checkpoint's), so that results show pixels.
  /// Bytes one cell's activations take, known before its workload is made
  /// (the Benchmark refuses a cell that needs more than the machine has).
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    return preset.activation_bytes(c.batch_size, c.image_size > 0 ? c.image_size : preset.image_size);
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : sizes) out.push_back({b, s == 0 ? preset.image_size : s});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"image_size", c.image_size}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.image_size > 0 ? c.image_size : p.image_size);
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_vit_weights(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return vit_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return vit_weights_from_checkpoint(dir, preset);
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

  /// One cell's images on the device (and its interpolated positions);
  /// run() is one forward pass.
  template <PerceptionOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend, make_images(cell.batch_size, model.config().channels,
                                                 cell.image_size > 0 ? cell.image_size : model.config().image_size,
                                                 seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// Bytes of the activations a forward pass keeps (the backend's own scratch aside).
    [[nodiscard]] std::uint64_t activation_bytes() const noexcept {
      return model_->config().activation_bytes(ws_.batch, ws_.image_size);
    }

    /// The last hidden state [batch * tokens, hidden] and each image's class
    /// token's row of it [batch, hidden].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"last_hidden_state", backend_->download(ws_.hidden)});
      out.push_back({"class_token", backend_->download(ws_.class_token)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Vision>, "Vision must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<Vision>);
static_assert(HasCheckpoints<Vision>);
static_assert(HasWeightLoading<Vision, Cpu>);
static_assert(HasActivationBytes<Vision::Workload<Cpu>>);
static_assert(HasParameterCount<Vision::Preset>);
static_assert(HasCellBytes<Vision>);

}  // namespace accelbench
