#pragma once

// LLaVA (Liu et al., 2023) as in Hugging Face transformers'
// LlavaForConditionalGeneration: a CLIP vision tower whose hidden states of
// the configured layer (without the class token by default) pass through
// the multimodal projector (linear, activation, linear); the prompt's run of
// image tokens is replaced by those features, and a Llama, Qwen2 or Mistral
// decoder (llama.hpp) generates from there with its key-value cache.
// LLaVA-NeXT (LlavaNextForConditionalGeneration) runs the tower over every
// tile of an image and its base image, and packs the tiles' features into
// one grid, cropped to the image's aspect ratio, each row ended by the
// image-newline embedding (a gather from the features with that row put
// first). Written once over the backend's GenerationOps and PerceptionOps.
// The configuration is in llava_config.hpp.

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "common/activation.hpp"
#include "common/clip_vision.hpp"
#include "common/encoder_layers.hpp"
#include "common/images.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"
#include "llama.hpp"
#include "llava_config.hpp"

namespace accelbench {

/// Where the image tokens stand in a batch of prompts: one run of `count`
/// tokens per sequence, at the same position `start` in each.
struct ImageTokenRun {
  int start = 0;
  int count = 0;
};

/// The run of `image_token_id` in each of `batch` prompts of `prompt_len`
/// tokens (row-major); each must hold exactly `count` of them, in one run at
/// the same position, or the error says which sequence does not.
[[nodiscard]] inline ImageTokenRun find_image_tokens(std::span<const std::int32_t> ids, int batch, int prompt_len,
                                                     int image_token_id, int count) {
  ImageTokenRun run{-1, count};
  for (int b = 0; b < batch; ++b) {
    const auto row = ids.subspan(static_cast<std::size_t>(b) * static_cast<std::size_t>(prompt_len),
                                 static_cast<std::size_t>(prompt_len));
    int first = -1;
    int n = 0;
    for (int i = 0; i < prompt_len; ++i) {
      if (row[static_cast<std::size_t>(i)] != image_token_id) continue;
      if (first < 0) first = i;
      if (i != first + n) {
        throw std::invalid_argument("LLaVA: sequence " + std::to_string(b) + "'s image tokens (" +
                                    std::to_string(image_token_id) + ") are not one run");
      }
      ++n;
    }
    if (n != count) {
      throw std::invalid_argument("LLaVA: sequence " + std::to_string(b) + " holds " + std::to_string(n) +
                                  " image tokens (" + std::to_string(image_token_id) + "); its image has " +
                                  std::to_string(count) + " features");
    }
    if (b > 0 && first != run.start) {
      throw std::invalid_argument("LLaVA: sequence " + std::to_string(b) + "'s image tokens start at " +
                                  std::to_string(first) + ", sequence 0's at " + std::to_string(run.start));
    }
    run.start = first;
  }
  return run;
}

/// A LLaVA whose weights live on backend B.
template <class B>
  requires GenerationOps<B> && PerceptionOps<B>
class Llava {
 public:
  using Config = LlavaConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;
  using TextSession = typename Llama<B>::Session;
  static constexpr std::string_view model_name = "LLaVA";

  /// One batch of images and prompts being generated: the decoder's
  /// session (cache and activations) and the image path's tensors.
  struct Session {
    TextSession text;
    int images = 0;
    int tiles = 0;              ///< images x tiles per image (LLaVA: one)
    ImageTokenRun image_run;
    Tensor pixels;              ///< [tiles, channels * size * size]
    IndexTensor position_ids;   ///< 0..tokens-1 per image
    IndexTensor feature_rows;   ///< the rows of the feature layer that are projected
    Tensor patches;
    Tensor vision_hidden;       ///< the feature layer's states, [images * tokens, vision hidden]
    Tensor features;            ///< the selected rows
    Tensor projected;           ///< the projector's output, [tiles * tile_tokens, text hidden]
    Tensor projector_mid;       ///< after linear_1 and the activation
    IndexTensor pack_rows;      ///< NeXT: each image token's row of `table`
    Tensor table;               ///< NeXT: the image-newline row, then `projected`
    Tensor packed;              ///< NeXT: the image features in prompt order, [images * tokens, text hidden]
    detail::EncoderScratch<B> s;

    /// The image features that replace the image tokens, in prompt order.
    [[nodiscard]] const Tensor& image_features(bool any_resolution) const { return any_resolution ? packed : projected; }
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them: the vision tower and projector here, the rest by the decoder.
  Llava(B& backend, LlavaConfig config, WeightMap weights)
      : Llava(backend, std::move(config), split(std::move(weights))) {}

  [[nodiscard]] const LlavaConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters + language_.parameters(); }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes + language_.weight_bytes(); }
  [[nodiscard]] static TensorShapes tensor_shapes(const LlavaConfig& c) { return c.tensor_shapes(); }
  /// The decoder, with its own configuration (the head's tying resolved).
  [[nodiscard]] const Llama<B>& language_model() const noexcept { return language_; }

  /// A session for one image per sequence and `batch` prompts of
  /// `prompt_len` tokens (row-major), each holding the image's tokens in one
  /// run at the same position, with room for `max_new_tokens` more. `tiles`
  /// are every image's tiles at the tower's size, image by image (LLaVA: the
  /// image itself; LLaVA-NeXT: the base image, then the tiles row by row);
  /// `sizes` the images' (height, width) before tiling, which LLaVA-NeXT
  /// needs (all alike: their tokens must be as many) and LLaVA ignores.
  [[nodiscard]] Session start(B& be, const ImageBatch& tiles, std::span<const std::array<int, 2>> sizes,
                              std::span<const std::int32_t> prompt_ids, int batch, int prompt_len,
                              int max_new_tokens) const {
    const ClipVisionConfig& v = config_.vision;
    const std::array<int, 2> size = sizes.empty() ? std::array<int, 2>{0, 0} : sizes.front();
    const LlavaImageLayout layout = config_.image_layout(size[0], size[1]);
    for (const auto& other : sizes) {
      if (config_.any_resolution() && config_.image_layout(other[0], other[1]).tokens != layout.tokens) {
        throw std::invalid_argument("LLaVA-NeXT: the images of a batch must give as many features each (an image of " +
                                    std::to_string(other[0]) + " x " + std::to_string(other[1]) + " differs from one of " +
                                    std::to_string(size[0]) + " x " + std::to_string(size[1]) + ")");
      }
    }
    if (config_.any_resolution() && static_cast<int>(sizes.size()) != batch) {
      throw std::invalid_argument("LLaVA-NeXT: " + std::to_string(sizes.size()) + " image sizes for " +
                                  std::to_string(batch) + " sequences");
    }
    if (tiles.batch != batch * layout.tiles() || tiles.channels != v.channels || tiles.size != v.image_size ||
        tiles.pixels.rows() != tiles.batch ||
        tiles.pixels.cols() != Eigen::Index{tiles.channels} * tiles.size * tiles.size) {
      throw std::invalid_argument("LLaVA: images are " + std::to_string(tiles.batch) + " x " +
                                  std::to_string(tiles.channels) + " x " + std::to_string(tiles.size) + " x " +
                                  std::to_string(tiles.size) + ", " + config_.name + " takes " +
                                  std::to_string(layout.tiles()) + " per sequence (" + std::to_string(batch) +
                                  " sequences) of " + std::to_string(v.channels) + " x " +
                                  std::to_string(v.image_size) + " x " + std::to_string(v.image_size));
    }
    detail::check_token_batch(config_.name, prompt_ids.size(), batch, prompt_len);
    Session s;
    s.image_run = find_image_tokens(prompt_ids, batch, prompt_len, config_.image_token_id, layout.tokens);
    s.text = language_.start(be, prompt_ids, batch, prompt_len, max_new_tokens);
    s.images = batch;
    s.tiles = tiles.batch;
    s.pixels = be.upload(tiles.pixels);
    s.position_ids = be.upload_indices(detail::position_ids(s.tiles, v.tokens()));
    if (!config_.full_features) {
      std::vector<std::int32_t> rows;
      for (int i = 0; i < s.tiles; ++i) {
        for (int t = 1; t < v.tokens(); ++t) rows.push_back(i * v.tokens() + t);
      }
      s.feature_rows = be.upload_indices(rows);
    }
    if (config_.any_resolution()) s.pack_rows = be.upload_indices(pack_rows(layout, batch));
    return s;
  }

  /// The vision tower up to the feature layer and the projector over every
  /// tile (s.projected); LLaVA-NeXT packs them (s.packed).
  void encode_images(B& be, Session& s) const {
    vision_.encode(be, s.pixels, s.position_ids, s.tiles, s.patches, s.vision_hidden, s.s);
    if (!config_.full_features) be.embedding_lookup(s.vision_hidden, s.feature_rows, s.features);
    be.linear(config_.full_features ? s.vision_hidden : s.features, l1_w_, l1_b_, s.projector_mid);
    detail::activate(be, config_.projector_activation, s.projector_mid);
    be.linear(s.projector_mid, l2_w_, l2_b_, s.projected);
    if (config_.any_resolution()) {
      be.prepend_row(s.projected, newline_, 1, s.table);
      be.embedding_lookup(s.table, s.pack_rows, s.packed);
    }
  }

  /// The prompt with the image features in place of its image tokens
  /// (encode_images() first), through the decoder: the cache filled, the
  /// first token chosen (as Llama::prefill).
  void prefill(B& be, Session& s) const {
    language_.embed_prompt(be, s.text);
    const CacheDims rows{.batch = s.text.batch, .len = s.image_run.count, .capacity = s.text.prompt_len,
                         .start = s.image_run.start};
    be.cache_write(s.image_features(config_.any_resolution()), rows, s.text.prefill.x);
    language_.prefill_embedded(be, s.text);
  }

  /// One more token per sequence (as Llama::decode).
  void decode(B& be, Session& s) const { language_.decode(be, s.text); }

  /// The logits of every prompt position, after prefill.
  void prompt_logits(B& be, Session& s, Tensor& logits) const { language_.prompt_logits(be, s.text, logits); }

 private:
  struct Parts {
    WeightMap image;  ///< "vision_model.*" and "multi_modal_projector.*"
    WeightMap text;   ///< the decoder's
  };

  /// LLaVA-NeXT's packing as rows of the table [newline; projected]: per
  /// image, the base image's features, then the kept grid row by row (a
  /// grid position (y, x) is tile (y / g, x / g)'s patch (y % g, x % g)),
  /// each row followed by the newline (row 0).
  [[nodiscard]] std::vector<std::int32_t> pack_rows(const LlavaImageLayout& l, int images) const {
    const int g = config_.vision.grid();
    const int per_tile = config_.tile_tokens();
    std::vector<std::int32_t> rows;
    rows.reserve(static_cast<std::size_t>(images) * static_cast<std::size_t>(l.tokens));
    for (int i = 0; i < images; ++i) {
      const int first = 1 + i * l.tiles() * per_tile;  // the image's base features in the table
      for (int r = 0; r < per_tile; ++r) rows.push_back(first + r);
      for (int y = l.row_offset; y < l.row_offset + l.rows; ++y) {
        for (int x = l.col_offset; x < l.col_offset + l.cols; ++x) {
          const int tile = 1 + (y / g) * l.tile_cols + x / g;
          rows.push_back(first + tile * per_tile + (y % g) * g + x % g);
        }
        rows.push_back(0);
      }
    }
    return rows;
  }

  static Parts split(WeightMap weights) {
    Parts p;
    for (const auto& name : weights.names()) {
      const bool image = name.starts_with("vision_model.") || name.starts_with("multi_modal_projector.") ||
                         name == "image_newline";
      weights.move_to(name, image ? p.image : p.text, name);
    }
    return p;
  }

  Llava(B& backend, LlavaConfig config, Parts parts)
      : config_((validate_llava_config(config), std::move(config))),
        language_(backend, config_.text, std::move(parts.text)) {
    const ClipVisionConfig& v = config_.vision;
    detail::reshape_conv2d_weight(parts.image, "vision_model.embeddings.patch_embedding.weight", v.hidden,
                                  v.channels, v.patch_size);
    const Eigen::Index vh = v.hidden;
    const Eigen::Index th = config_.text.hidden;
    WeightUploader<B> take(backend, parts.image, tally_);
    vision_ = ClipVisionTower<B>(take, v, config_.vision_layers_run());
    l1_w_ = take("multi_modal_projector.linear_1.weight", th, vh);
    l2_w_ = take("multi_modal_projector.linear_2.weight", th, th);
    if (config_.projector_bias) {
      l1_b_ = take("multi_modal_projector.linear_1.bias", 1, th);
      l2_b_ = take("multi_modal_projector.linear_2.bias", 1, th);
    }
    if (config_.any_resolution()) newline_ = take("image_newline", 1, th);
    take.finish(model_name);
    config_.text = language_.config();  // the head's tying as resolved
  }

  LlavaConfig config_;
  Llama<B> language_;
  ClipVisionTower<B> vision_;
  Tensor l1_w_, l1_b_, l2_w_, l2_b_;
  Tensor newline_;  ///< LLaVA-NeXT's image_newline, [1, text hidden]
  WeightTally tally_;
};

}  // namespace accelbench
