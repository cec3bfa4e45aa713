#pragma once

// The X-CLIP golden check on any backend: the checkpoint through the loader,
// then every stored intermediate (the vision tower's last hidden state and
// pooled class tokens, the MIT, the patch features, the text tower, the
// embeddings) and the logits against transformers' XCLIPModel
// (tools/golden/generate.py).

#include <accelbench/model/xclip.hpp>
#include <accelbench/model/xclip_checkpoint.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "golden.hpp"

namespace accelbench::test {

/// Runs the golden X-CLIP on `be` and checks every stored output within
/// golden_tolerance; returns the largest error.
template <class B>
double check_xclip_golden(B& be) {
  const auto dir = golden_dir("xclip");
  const XClipConfig config = xclip_config_from_checkpoint(dir);
  const XClip<B> model(be, config, xclip_weights_from_checkpoint(dir, config));
  const GoldenIo io("xclip");
  ClipTextInput text;
  text.batch = io.dim("input_ids", 0);
  text.seq = io.dim("input_ids", 1);
  text.input_ids = io.ids("input_ids");
  text.attention_mask = io.mask("attention_mask");  // two of the texts are padded
  const HostMatrix pixels = io.floats("pixel_values");
  const int videos = io.dim("logits_per_video", 0);
  auto ws = model.prepare(be, pixels, videos, text);
  model.forward(be, ws);
  double worst = 0;
  const auto check = [&](const std::string& what, const HostMatrix& got) {
    const HostMatrix expected = io.floats(what);
    const double err = max_abs_error(got, expected);
    MESSAGE("xclip on " << B::name << ": " << what << ": max abs error " << err << " (largest reference value "
                        << expected.cwiseAbs().maxCoeff() << ")");
    CHECK(err <= golden_tolerance);
    worst = std::max(worst, err);
  };
  check("vision_last_hidden_state", be.download(ws.vision_hidden));
  check("vision_pooled", be.download(ws.vision_pooled));
  check("mit_last_hidden_state", be.download(ws.mit_hidden));
  check("video_embeds", be.download(ws.video_embeds));
  check("img_features", be.download(ws.img_features));
  check("text_last_hidden_state", be.download(ws.text_hidden));
  check("text_embeds_raw", be.download(ws.text_raw));
  check("text_embeds", be.download(ws.text_embeds));
  check("logits_per_video", model.logits_per_video(be, ws));
  check("logit_scale", HostMatrix::Constant(1, 1, model.logit_scale()));  // exp(logit_scale)
  return worst;
}

}  // namespace accelbench::test
