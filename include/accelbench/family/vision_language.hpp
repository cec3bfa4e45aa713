#pragma once

#include <algorithm>
#include <array>
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
#include "../core/phases.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../detail/checked_math.hpp"
#include "../model/generative.hpp"
#include "../model/llava.hpp"
#include "concepts.hpp"
#include "text_generation.hpp"
#include "vision.hpp"
#include "hooks.hpp"

namespace accelbench {

/// The ops of the vision-language family: a vision tower (PerceptionOps)
/// and a decoder with its key-value cache (GenerationOps).
template <class B>
concept VisionLanguageOps = PerceptionOps<B> && GenerationOps<B>;

/// Deterministic synthetic prompts for LLaVA: `batch` sequences of one text
/// token, the run of `image_tokens` image tokens, then text_len - 1 more text
/// tokens (text_len tokens of text in all, drawn as make_prompt_ids draws
/// them, the image token never among them).
[[nodiscard]] inline std::vector<std::int32_t> make_llava_prompt(const LlavaConfig& c, int batch, int text_len,
                                                                 int image_tokens, std::uint64_t seed) {
  std::vector<std::int32_t> text = make_prompt_ids(c.text, batch, text_len, seed);
  for (std::int32_t& id : text) {
    if (id == c.image_token_id) id = c.image_token_id > 0 ? c.image_token_id - 1 : c.image_token_id + 1;
  }
  const int n = image_tokens;
  std::vector<std::int32_t> ids;
  ids.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(text_len + n));
  for (int b = 0; b < batch; ++b) {
    const auto row = text.begin() + static_cast<std::ptrdiff_t>(b) * text_len;
    ids.push_back(row[0]);
    ids.insert(ids.end(), static_cast<std::size_t>(n), c.image_token_id);
    ids.insert(ids.end(), row + 1, row + text_len);
  }
  return ids;
}

/// Greedy generation from an image and a prompt with LLaVA and LLaVA-NeXT.
/// One item is one image (one per sequence); a run encodes batch_size
/// synthetic images of image_size pixels square (0: the tower's size; LLaVA
/// sees every image at the tower's size, LLaVA-NeXT tiles it, see
/// LlavaConfig::image_layout; the tiles are made directly, as the image
/// processor would give them), places their features in prompts of
/// prompt_length text tokens (see make_llava_prompt) and generates
/// new_tokens tokens for each. Phases: image_encode (the vision tower and
/// projector over every tile, and LLaVA-NeXT's packing), prefill (the
/// prompt with its image tokens, up to the first token) and decode (one
/// token per sequence, new_tokens - 1 times per run). The sweep is
/// batch_sizes x image_sizes x prompt_lengths x new_tokens.
struct VisionLanguage {
  static constexpr std::string_view name = "vision-language";
  static constexpr std::string_view item_unit = "images";

  using Preset = LlavaConfig;

  struct Cell {
    int batch_size = 1;
    int image_size = 0;     ///< the images' side in pixels; 0: the tower's
    int prompt_length = 1;  ///< text tokens, besides the image's
    int new_tokens = 1;
  };

  template <VisionLanguageOps B>
  using Model = Llava<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(llava_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(llava_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x image_sizes x prompt_lengths (text tokens) x
  /// new_tokens: Vision's image sizes and TextGeneration's lengths, the same
  /// axes (a suite's --image-sizes and --prompt-lengths reach both).
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    std::vector<SweepAxis> axes{Vision::sweep_axes().front()};  // image_sizes; LLaVA's images are square
    for (SweepAxis& a : TextGeneration::sweep_axes()) axes.push_back(std::move(a));
    return axes;
  }

  /// Every prompt (its text and image tokens) plus every number of new
  /// tokens must fit the decoder's positions.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> prompts = sweep_of<VisionLanguage>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<VisionLanguage>(config, "new_tokens");
    const std::vector<int> sizes = sweep_of<VisionLanguage>(config, "image_sizes");
    const int limit = preset.text.max_positions;
    for (std::size_t s = 0; s < sizes.size(); ++s) {
      if (sizes[s] > (1 << 16)) {
        throw ConfigError("image_sizes[" + std::to_string(s) + "]", std::to_string(sizes[s]), "must be at most 65536 pixels");
      }
      const int image = preset.image_tokens(sizes[s], sizes[s]);
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        for (int n : new_tokens) {
          const std::int64_t positions = std::int64_t{prompts[i]} + image + n;
          if (positions > limit) {
            throw ConfigError("prompt_lengths[" + std::to_string(i) + "]", std::to_string(prompts[i]),
                              "with " + std::to_string(image) + " image tokens (image size " + std::to_string(sizes[s]) +
                                  ") and new_tokens " + std::to_string(n) + " exceeds " + preset.name +
                                  "'s maximum of " + std::to_string(limit) + " positions");
          }
        }
      }
    }
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    const std::vector<int> prompts = sweep_of<VisionLanguage>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<VisionLanguage>(config, "new_tokens");
    const std::vector<int> sizes = sweep_of<VisionLanguage>(config, "image_sizes");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : sizes) {
        for (int p : prompts) {
          for (int n : new_tokens) out.push_back({b, s, p, n});
        }
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size},
            {"image_size", c.image_size},
            {"prompt_length", c.prompt_length},
            {"new_tokens", c.new_tokens}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  /// Generated tokens of one run.
  [[nodiscard]] static double tokens(const Cell& c) noexcept { return static_cast<double>(c.batch_size) * c.new_tokens; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) {
    return p.image_flops(c.batch_size, c.image_size, c.image_size) +
           LlamaArchitecture::generation_flops(p.text, c.batch_size,
                                               c.prompt_length + p.image_tokens(c.image_size, c.image_size),
                                               c.new_tokens);
  }

  /// image_encode (images), prefill (prompt tokens, the image's included)
  /// and decode (tokens, new_tokens - 1 steps).
  [[nodiscard]] static std::vector<PhaseSpec> phases(const Preset& p, const Cell& c) {
    const double b = c.batch_size;
    return {{"image_encode", "images", b, 1},
            {"prefill", "prompt tokens", b * (c.prompt_length + p.image_tokens(c.image_size, c.image_size)), 1},
            {"decode", "tokens", b, static_cast<std::size_t>(c.new_tokens - 1)}};
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_llava_weights(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return llava_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return llava_weights_from_checkpoint(dir, preset);
  }

  template <VisionLanguageOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  template <VisionLanguageOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// Bytes one cell needs besides the weights: the decoder's key-value
  /// cache, prompts and prefill states (as TextGeneration counts them), the
  /// pixels and the vision tower's states (eight [tokens, hidden] tensors and
  /// the feed-forward's). Saturates instead of overflowing.
  [[nodiscard]] static std::uint64_t cell_bytes(const Preset& preset, const Cell& c) {
    using detail::saturating_product, detail::saturating_sum;
    const GenerativeConfig& t = preset.text;
    const auto& v = preset.vision;
    const LlavaImageLayout layout = preset.image_layout(c.image_size, c.image_size);
    const std::int64_t tiles = std::int64_t{c.batch_size} * layout.tiles();
    const std::int64_t prompt = std::int64_t{c.prompt_length} + layout.tokens;
    const std::int64_t positions = std::min<std::int64_t>(prompt + c.new_tokens, std::numeric_limits<int>::max());
    const std::uint64_t floats = saturating_sum(
        saturating_product(c.batch_size, prompt, 8 * std::int64_t{t.hidden} + t.intermediate),
        saturating_product(prompt, prompt), saturating_product(c.batch_size, t.vocab_size),
        saturating_product(tiles, v.channels, v.image_size, v.image_size),
        saturating_product(tiles, v.tokens(), 8 * std::int64_t{v.hidden} + v.intermediate));
    return saturating_sum(LlamaArchitecture::kv_cache_bytes(t, c.batch_size, static_cast<int>(positions)),
                          saturating_product(c.batch_size, prompt, sizeof(std::int32_t)),
                          saturating_product(floats, sizeof(float)));
  }

  /// One cell: images and prompts on the device and a session with its
  /// cache; run() encodes the images and generates new_tokens tokens greedily.
  template <VisionLanguageOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend), model_(&model), cell_(cell) {
      if (cell.new_tokens < 1) throw std::invalid_argument("VisionLanguage: new_tokens must be at least 1");
      const LlavaConfig& c = model.config();
      const LlavaImageLayout layout = c.image_layout(cell.image_size, cell.image_size);
      const int prompt = cell.prompt_length + layout.tokens;
      const std::vector<std::array<int, 2>> sizes(static_cast<std::size_t>(cell.batch_size),
                                                  {cell.image_size, cell.image_size});
      session_ = model.start(
          backend, make_images(cell.batch_size * layout.tiles(), c.vision.channels, c.vision.image_size, seed), sizes,
          make_llava_prompt(c, cell.batch_size, cell.prompt_length, layout.tokens, seed), cell.batch_size, prompt,
          cell.new_tokens);
      tokens_.resize(static_cast<std::size_t>(cell.batch_size) * static_cast<std::size_t>(cell.new_tokens));
    }

    void run() {
      NoPhaseMarks none;
      run(none);
    }

    /// One generation, marking the end of the image encoding (phase 0), of
    /// prefill (1) and of each decode step (2).
    template <PhaseMarks P>
    void run(P& phases) {
      model_->encode_images(*backend_, session_);
      phases.end(0);
      model_->prefill(*backend_, session_);
      take_tokens(0);
      phases.end(1);
      for (int t = 1; t < cell_.new_tokens; ++t) {
        model_->decode(*backend_, session_);
        take_tokens(t);
        phases.end(2);
      }
    }

    [[nodiscard]] std::uint64_t kv_cache_bytes() const noexcept {
      return LlamaArchitecture::kv_cache_bytes(model_->language_model().config(), cell_.batch_size,
                                               session_.text.capacity);
    }

    /// The greedy tokens of the last run, [batch, new_tokens].
    [[nodiscard]] const std::vector<std::int32_t>& tokens() const noexcept { return tokens_; }

    /// The projected image features, the generated tokens (as floats,
    /// [batch, new_tokens]) and the last step's logits.
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      HostMatrix tokens(cell_.batch_size, cell_.new_tokens);
      for (int b = 0; b < cell_.batch_size; ++b) {
        for (int t = 0; t < cell_.new_tokens; ++t) {
          tokens(b, t) = static_cast<float>(tokens_[static_cast<std::size_t>(b * cell_.new_tokens + t)]);
        }
      }
      const auto& text = session_.text;
      std::vector<NamedOutput> out;
      out.push_back({"image_features", backend_->download(session_.image_features(model_->config().any_resolution()))});
      out.push_back({"generated_tokens", std::move(tokens)});
      out.push_back({"last_logits", backend_->download(text.length > text.prompt_len ? text.step.logits
                                                                                       : text.prefill.logits)});
      return out;
    }

   private:
    /// Keeps the chosen tokens; the download is where the host waits for the device.
    void take_tokens(int t) {
      const std::vector<std::int32_t> ids = backend_->download_indices(session_.text.next_ids);
      for (int b = 0; b < cell_.batch_size; ++b) {
        tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)] =
            ids[static_cast<std::size_t>(b)];
      }
    }

    B* backend_;
    const Model<B>* model_;
    Cell cell_;
    typename Model<B>::Session session_;
    std::vector<std::int32_t> tokens_;
  };
};

static_assert(ModelFamily<VisionLanguage>, "VisionLanguage must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasTokens<VisionLanguage>);
static_assert(HasFlops<VisionLanguage>);
static_assert(HasPresetPhases<VisionLanguage>);
static_assert(HasCheckpoints<VisionLanguage>);
static_assert(HasWeightLoading<VisionLanguage, Cpu>);
static_assert(HasPhasedRun<VisionLanguage::Workload<Cpu>>);
static_assert(HasKvCacheBytes<VisionLanguage::Workload<Cpu>>);
static_assert(HasParameterCount<VisionLanguage::Preset>);
static_assert(HasCellBytes<VisionLanguage>);

}  // namespace accelbench
