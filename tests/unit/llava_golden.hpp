#pragma once

// The LLaVA golden checks on any backend: the checkpoint through the
// loader, then image features, the prompt's hidden states and logits, the
// logits of each greedy step and the generated tokens against
// transformers' LlavaForConditionalGeneration (tools/golden/generate.py).

#include <accelbench/family/vision_language.hpp>

#include <array>
#include <string>
#include <vector>

#include "golden.hpp"

namespace accelbench::test {

/// A golden file's images: LLaVA's pixel_values [images, channels, size,
/// size]; LLaVA-NeXT's [images, tiles, channels, size, size] with each
/// image's (height, width) in image_sizes.
struct LlavaGoldenImages {
  ImageBatch tiles;
  std::vector<std::array<int, 2>> sizes;

  explicit LlavaGoldenImages(const GoldenIo& io) {
    if (io.file.info("pixel_values").shape.size() == 4) {
      tiles = io.images("pixel_values");
      return;
    }
    const int images = io.dim("pixel_values", 0);
    tiles.batch = images * io.dim("pixel_values", 1);
    tiles.channels = io.dim("pixel_values", 2);
    tiles.size = io.dim("pixel_values", 3);
    const HostMatrix m = io.floats("pixel_values");
    tiles.pixels = Eigen::Map<const HostMatrix>(m.data(), tiles.batch, Eigen::Index{tiles.channels} * tiles.size * tiles.size);
    const std::vector<std::int32_t> hw = io.ids("image_sizes");
    for (int i = 0; i < images; ++i) sizes.push_back({hw[std::size_t(2 * i)], hw[std::size_t(2 * i + 1)]});
  }
};

/// Golden checkpoint `arch` on backend `be`; returns the configuration the
/// model was built with.
template <class B>
LlavaConfig check_llava_golden(B& be, const std::string& arch) {
  const auto dir = golden_dir(arch);
  const LlavaConfig config = VisionLanguage::checkpoint_preset(dir);
  const auto model = VisionLanguage::load_weights(be, config, VisionLanguage::checkpoint_weights(dir, config));
  CHECK(model.parameters() == model.config().parameter_count());
  const std::string on = arch + " on " + std::string(B::name) + ": ";
  const GoldenIo io(arch);
  const int batch = io.dim("input_ids", 0);
  const int prompt = io.dim("input_ids", 1);
  const int new_tokens = io.dim("generated_ids", 1);
  const LlavaGoldenImages images(io);
  auto s = model.start(be, images.tiles, images.sizes, io.ids("input_ids"), batch, prompt, new_tokens);
  model.encode_images(be, s);
  check_close(on + "image_features", be.download(s.image_features(config.any_resolution())), io.floats("image_features"));
  model.prefill(be, s);
  check_close(on + "last_hidden_state", be.download(s.text.prefill.h), io.floats("last_hidden_state"));
  typename B::Tensor logits;
  model.prompt_logits(be, s, logits);
  check_close(on + "logits", be.download(logits), io.floats("logits"));
  const HostMatrix expected = io.floats("step_logits");
  HostMatrix steps(expected.rows(), expected.cols());
  std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t > 0) model.decode(be, s);
    const HostMatrix step = be.download(t == 0 ? s.text.prefill.logits : s.text.step.logits);
    const auto ids = be.download_indices(s.text.next_ids);
    for (int b = 0; b < batch; ++b) {
      steps.row(b * new_tokens + t) = step.row(b);
      generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
    }
  }
  check_close(on + "step logits", steps, expected);
  CHECK(generated == io.ids("generated_ids"));
  return model.config();
}

}  // namespace accelbench::test
