#pragma once

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <variant>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/precision.hpp"
#include "../model/detr.hpp"
#include "../model/detr_checkpoint.hpp"
#include "../model/vit.hpp"
#include "../model/common/images.hpp"
#include "model_variant.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "concepts.hpp"
#include "hooks.hpp"

namespace accelbench {

/// The ops of the vision family: ViT's (PerceptionOps) and DETR's
/// convolutional backbone (DetectionOps, which includes them).
template <class B>
concept VisionOps = DetectionOps<B>;

/// A preset of the vision family: a ViT or a DETR configuration, with the
/// fields every family's presets show (name, encoder layers, hidden width,
/// heads, aliases, parameters) copied from it.
struct VisionConfig {
  std::string name;
  std::string architecture;  ///< "vit" or "detr"
  int layers = 0;            ///< encoder layers
  int hidden = 0;
  int heads = 0;
  std::vector<std::string> aliases;
  std::variant<ViTConfig, DetrConfig> model;
  /// The linear weights' precision (Config::precision): ViT's encoder
  /// layers at bf16 or fp16 on a backend with HasWeightPrecision; DETR
  /// refuses any but fp32 by name.
  Precision weight_precision = Precision::fp32;

  VisionConfig() = default;
  explicit VisionConfig(ViTConfig c)
      : name(c.name), architecture("vit"), layers(c.layers), hidden(c.hidden), heads(c.heads), aliases(c.aliases),
        model(std::move(c)) {}
  explicit VisionConfig(DetrConfig c)
      : name(c.name), architecture("detr"), layers(c.encoder_layers), hidden(c.d_model), heads(c.encoder_heads),
        aliases(c.aliases), model(std::move(c)) {}

  [[nodiscard]] bool is_vit() const noexcept { return std::holds_alternative<ViTConfig>(model); }
  [[nodiscard]] const ViTConfig& vit() const { return std::get<ViTConfig>(model); }
  [[nodiscard]] const DetrConfig& detr() const { return std::get<DetrConfig>(model); }
  [[nodiscard]] std::int64_t parameter_count() const {
    return std::visit([](const auto& c) { return c.parameter_count(); }, model);
  }
  /// The image the preset is for: ViT's square size, DETR's default image.
  [[nodiscard]] int default_height() const noexcept { return is_vit() ? vit().image_size : detr().image_height; }
  [[nodiscard]] int default_width() const noexcept { return is_vit() ? vit().image_size : detr().image_width; }
};

/// The presets of both architectures: vit-base-patch16-224, vit-tiny,
/// detr-resnet-50, detr-tiny.
inline const std::vector<VisionConfig>& vision_presets() {
  static const std::vector<VisionConfig> presets = [] {
    std::vector<VisionConfig> p;
    for (const auto& v : vit_presets()) p.emplace_back(v);
    for (const auto& d : detr_presets()) p.emplace_back(d);
    return p;
  }();
  return presets;
}

/// Image models: Vision Transformers (ViTModel) encoding images, and DETR
/// (DetrForObjectDetection) detecting objects. One item is one image; the
/// timed operation is a forward pass over batch_size synthetic images (see
/// make_pixels). The sweep is batch_sizes x image_sizes for ViT (square
/// images) and batch_sizes x image_sizes x image_widths for DETR (image
/// heights by widths); ViT ignores image_widths, its cells report their
/// width as their size, so that ViT and DETR cells share the columns of one
/// table. A size of 0 is the preset's own. A ViT size must be a multiple of
/// the patch size, and gets the position embeddings interpolated
/// bicubically as transformers' interpolate_pos_encoding does, when the cell
/// is prepared (not timed); DETR takes any size, its sine positions computed
/// when the cell is prepared.
struct Vision {
  static constexpr std::string_view name = "vision";
  static constexpr std::string_view item_unit = "images";

  using Preset = VisionConfig;

  struct Cell {
    int batch_size = 1;
    int image_size = 0;   ///< pixels per side (DETR: the height); 0: the model's own
    int image_width = 0;  ///< DETR's width; 0: the model's own (ViT: the size)
  };

  /// A loaded model: ViT or DETR, by the preset's architecture.
  template <VisionOps B>
  class Model : public ModelVariant<ViT<B>, Detr<B>> {
   public:
    using ModelVariant<ViT<B>, Detr<B>>::ModelVariant;
    [[nodiscard]] bool is_vit() const noexcept { return this->template holds<ViT<B>>(); }
  };

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(vision_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(vision_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x image_sizes, x image_widths for DETR; a size
  /// of 0 being the preset's own.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "image_sizes",
             .item = "image size",
             .help = "square image sizes in pixels (DETR: image heights), 0 for the preset's",
             .defaults = {0},
             .min = 0,
             .small = {0}},
            {.name = "image_widths",
             .item = "image width",
             .help = "DETR's image widths in pixels, 0 for the preset's (ViT's images are square)",
             .defaults = {0},
             .min = 0,
             .small = {0}}};
  }

  /// DETR's weights are fp32 only: another precision is refused by name.
  static void refuse_precision(const Preset& preset) {
    if (preset.is_vit() || preset.weight_precision == Precision::fp32) return;
    throw ConfigError("precision", std::string(precision_name(preset.weight_precision)),
                      preset.name + ": DETR stores its weights as fp32 only");
  }

  /// ViT: every image size a multiple of the patch size; DETR: any. No
  /// two sizes (or widths) may be the same once 0 is read as the preset's.
  static void validate(const Config& config, const Preset& preset) {
    refuse_precision(preset);
    const auto distinct = [&](const char* axis, int own) {
      std::vector<int> seen;
      const std::vector<int> sizes = sweep_of<Vision>(config, axis);
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        const int size = sizes[i] == 0 ? own : sizes[i];
        for (int earlier : seen) {
          if (earlier == size) {
            throw ConfigError(std::string(axis) + "[" + std::to_string(i) + "]", std::to_string(sizes[i]),
                              "duplicate " + std::string(axis == std::string_view("image_sizes") ? "image size" : "image width") +
                                  " (0 is " + preset.name + "'s own " + std::to_string(own) + ")");
          }
        }
        seen.push_back(size);
      }
    };
    distinct("image_sizes", preset.default_height());
    if (!preset.is_vit()) {
      distinct("image_widths", preset.default_width());
      return;
    }
    const ViTConfig& vit = preset.vit();
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const int s = sizes[i];
      const std::string field = "image_sizes[" + std::to_string(i) + "]";
      if (s != 0 && s % vit.patch_size != 0) {
        throw ConfigError(field, std::to_string(s),
                          "must be a multiple of " + preset.name + "'s patch size (" + std::to_string(vit.patch_size) +
                              " pixels), or 0 for its own " + std::to_string(vit.image_size));
      }
      const int size = s == 0 ? vit.image_size : s;
      const std::int64_t grid = vit.patch_size > 0 ? size / vit.patch_size : 0;
      if (grid * grid + 1 > std::numeric_limits<int>::max()) {
        throw ConfigError(field, std::to_string(s),
                          "gives " + std::to_string(grid * grid) + " patches of " + std::to_string(vit.patch_size) +
                              " pixels, more than an int counts");
      }
    }
  }

  /// Bytes one cell's activations take, known before its workload is made
  /// (the Benchmark refuses a cell that needs more than the machine has).
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) noexcept {
    const int h = c.image_size > 0 ? c.image_size : preset.default_height();
    if (preset.is_vit()) return preset.vit().activation_bytes(c.batch_size, h);
    return preset.detr().activation_bytes(c.batch_size, h, c.image_width > 0 ? c.image_width : preset.default_width());
  }

  /// ViT: batch_sizes x image_sizes (image_width = image_size); DETR:
  /// batch_sizes x image_sizes x image_widths; 0 read as the model's own
  /// (the preset's, or the checkpoint's), so that results show pixels.
  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    const std::vector<int> widths = preset.is_vit() ? std::vector<int>{0} : sweep_of<Vision>(config, "image_widths");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : sizes) {
        const int h = s == 0 ? preset.default_height() : s;
        for (int w : widths) out.push_back({b, h, preset.is_vit() ? h : (w == 0 ? preset.default_width() : w)});
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"image_size", c.image_size}, {"image_width", c.image_width}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) {
    const int h = c.image_size > 0 ? c.image_size : p.default_height();
    if (p.is_vit()) return p.vit().flops(c.batch_size, h);
    return p.detr().flops(c.batch_size, h, c.image_width > 0 ? c.image_width : p.default_width());
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    if (preset.is_vit()) return synthetic_vit_weights(preset.vit(), seed);
    return synthetic_detr_weights(preset.detr(), seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder: config.json's
  /// model_type "vit" or "detr".
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    const std::string type = [&] {
      const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
      const std::string t = c.text("model_type");
      if (t != "vit" && t != "detr") c.fail("model_type", "\"" + t + "\"", "the vision family reads vit and detr checkpoints");
      return t;
    }();
    if (type == "vit") return Preset(vit_config_from_checkpoint(dir, accepted));
    return Preset(detr_config_from_checkpoint(dir, accepted));
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    if (preset.is_vit()) return vit_weights_from_checkpoint(dir, preset.vit());
    return detr_weights_from_checkpoint(dir, preset.detr());
  }

  /// Builds the model on the backend from host weights.
  template <VisionOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    refuse_precision(preset);
    if (preset.is_vit()) {
      ViTConfig vit = preset.vit();
      vit.weight_precision = preset.weight_precision;
      return Model<B>(typename Model<B>::Impl(std::in_place_type<ViT<B>>, backend, std::move(vit), std::move(weights)));
    }
    return Model<B>(typename Model<B>::Impl(std::in_place_type<Detr<B>>, backend, preset.detr(), std::move(weights)));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <VisionOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell's images on the device (ViT: and its interpolated
  /// positions; DETR: its sine positions); run() is one forward pass.
  template <VisionOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed) : backend_(&backend) {
      if (const auto* v = std::get_if<ViT<B>>(&model.impl())) {
        const int size = cell.image_size > 0 ? cell.image_size : v->config().image_size;
        run_.template emplace<VitRun>(VitRun{v, v->prepare(backend, make_images(cell.batch_size, v->config().channels, size, seed))});
      } else {
        const auto& d = std::get<Detr<B>>(model.impl());
        const int h = cell.image_size > 0 ? cell.image_size : d.config().image_height;
        const int w = cell.image_width > 0 ? cell.image_width : d.config().image_width;
        run_.template emplace<DetrRun>(
            DetrRun{&d, d.prepare(backend, make_pixels(cell.batch_size, d.config().backbone.channels, h, w, seed), h, w)});
      }
    }

    void run() {
      std::visit(
          [&](auto& r) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(r)>, std::monostate>) r.model->forward(*backend_, r.ws);
          },
          run_);
    }

    /// Bytes of the activations a forward pass keeps (the backend's own scratch aside).
    [[nodiscard]] std::uint64_t activation_bytes() const noexcept {
      if (const auto* r = std::get_if<VitRun>(&run_)) return r->model->config().activation_bytes(r->ws.batch, r->ws.image_size);
      const auto& d = std::get<DetrRun>(run_);
      return d.model->config().activation_bytes(d.ws.batch, d.ws.height, d.ws.width);
    }

    /// ViT: the last hidden state [batch * tokens, hidden] and each image's
    /// class token's row of it [batch, hidden]. DETR: the class logits
    /// [batch * queries, labels + 1] and the boxes [batch * queries, 4].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      if (const auto* r = std::get_if<VitRun>(&run_)) {
        out.push_back({"last_hidden_state", backend_->download(r->ws.hidden)});
        out.push_back({"class_token", backend_->download(r->ws.class_token)});
      } else {
        const auto& d = std::get<DetrRun>(run_);
        out.push_back({"logits", backend_->download(d.ws.logits)});
        out.push_back({"pred_boxes", backend_->download(d.ws.boxes)});
      }
      return out;
    }

   private:
    struct VitRun {
      const ViT<B>* model = nullptr;
      typename ViT<B>::Workspace ws;
    };
    struct DetrRun {
      const Detr<B>* model = nullptr;
      typename Detr<B>::Workspace ws;
    };

    B* backend_;
    std::variant<std::monostate, VitRun, DetrRun> run_;
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
