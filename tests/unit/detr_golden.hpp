#pragma once

// The DETR golden checks on any backend: the checkpoint through the loader
// (its batch norms folded), then the backbone's feature map, the encoder's
// and decoder's last hidden states, the class logits and the boxes against
// transformers' DetrForObjectDetection (tools/golden/generate.py), at the
// golden file's two image sizes.

#include <accelbench/model/detr.hpp>
#include <accelbench/model/detr_checkpoint.hpp>

#include <string>

#include "golden.hpp"

namespace accelbench::test {

/// The golden files' images: two of 96 x 128 pixels ("pixel_values") and
/// one of 64 x 64 ("pixel_values_small"), one image per row.
struct DetrGoldenSize {
  const char* suffix;
  int height;
  int width;
};
inline constexpr DetrGoldenSize detr_golden_sizes[] = {{"", 96, 128}, {"_small", 64, 64}};

/// Runs architecture `arch`'s golden checkpoint on `be` and checks every
/// stored output within golden_tolerance; returns the largest error.
template <class B>
double check_detr_golden(B& be, const std::string& arch) {
  const auto dir = golden_dir(arch);
  const DetrConfig config = detr_config_from_checkpoint(dir);
  const Detr<B> model(be, config, detr_weights_from_checkpoint(dir, config));
  const GoldenIo io(arch);
  double worst = 0;
  const auto check = [&](const std::string& what, const typename B::Tensor& t) {
    const HostMatrix expected = io.floats(what);
    const double err = max_abs_error(be.download(t), expected);
    MESSAGE(arch << " on " << B::name << ": " << what << ": max abs error " << err << " (largest reference value "
                 << expected.cwiseAbs().maxCoeff() << ")");
    CHECK(err <= golden_tolerance);
    worst = std::max(worst, err);
  };
  for (const DetrGoldenSize& size : detr_golden_sizes) {
    const std::string s = size.suffix;
    auto ws = model.prepare(be, io.floats("pixel_values" + s), size.height, size.width);
    model.forward(be, ws);
    check("feature_map" + s, ws.map);
    check("encoder_last_hidden_state" + s, ws.memory);
    check("logits" + s, ws.logits);
    check("pred_boxes" + s, ws.boxes);
    if (s.empty()) {
      check("last_hidden_state", ws.hidden);
      check("position_embedding", ws.positions);
    }
  }
  return worst;
}

}  // namespace accelbench::test
