#pragma once

// The CLAP golden check on any backend: the checkpoint through the loader,
// then every stored intermediate (the audio encoder's final tokens and
// pooled output, the text tower and its pooler, the embeddings) and the
// logits both ways against transformers' ClapModel (tools/golden/generate.py),
// for clips shorter than the model takes (interpolated) and of its length;
// "clap_fused" with the fusion of the longer clips (two of its three) and
// their crops' embedding.

#include <accelbench/model/clap.hpp>
#include <accelbench/model/clap_checkpoint.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "golden.hpp"

namespace accelbench::test {

/// Runs the golden CLAP `arch` ("clap" or "clap_fused") on `be` and checks
/// every stored output within golden_tolerance; returns the largest error.
template <class B>
double check_clap_golden(B& be, const std::string& arch = "clap") {
  const auto dir = golden_dir(arch);
  const ClapConfig config = clap_config_from_checkpoint(dir);
  const Clap<B> model(be, config, clap_weights_from_checkpoint(dir, config));
  const GoldenIo io(arch);
  const std::vector<std::int32_t> longer = config.audio.fusion ? io.ids("is_longer") : std::vector<std::int32_t>{};
  BertInput text;
  text.batch = io.dim("input_ids", 0);
  text.seq = io.dim("input_ids", 1);
  text.input_ids = io.ids("input_ids");
  text.attention_mask = io.mask("attention_mask");  // two of the texts are padded
  const int audios = io.dim("logits_per_audio", 0);
  double worst = 0;
  const auto check = [&](const std::string& what, const HostMatrix& got) {
    const HostMatrix expected = io.floats(what);
    const double err = max_abs_error(got, expected);
    MESSAGE(arch << " on " << B::name << ": " << what << ": max abs error " << err << " (largest reference value "
                       << expected.cwiseAbs().maxCoeff() << ")");
    CHECK(err <= golden_tolerance);
    worst = std::max(worst, err);
  };
  auto ws = model.prepare(be, io.floats("input_features"), audios, text, longer);
  model.forward(be, ws);
  if (config.audio.fusion) {  // the crops' embedding of the longer clips, zero-padded
    const HostMatrix local = be.download(ws.fusion.local);
    const Eigen::Index grid = local.rows() / audios;
    HostMatrix longer_local(0, local.cols());
    for (int b = 0; b < audios; ++b) {
      if (longer[static_cast<std::size_t>(b)] == 0) continue;
      longer_local.conservativeResize(longer_local.rows() + grid, Eigen::NoChange);
      longer_local.bottomRows(grid) = local.middleRows(b * grid, grid);
    }
    check("local_patches", longer_local);
  }
  check("audio_final_tokens", be.download(ws.tokens));
  check("audio_pooled", be.download(ws.audio_pooled));
  check("audio_embeds", be.download(ws.audio_embeds));
  check("text_last_hidden_state", be.download(ws.text.hidden));
  check("text_pooled", model.text_pooled(be, ws));
  check("text_embeds", be.download(ws.text_embeds));
  check("logits_per_audio", be.download(ws.logits_per_audio));
  check("logits_per_text", be.download(ws.logits_per_text));
  check("logit_scale_a", HostMatrix::Constant(1, 1, model.logit_scale_audio()));
  check("logit_scale_t", HostMatrix::Constant(1, 1, model.logit_scale_text()));
  auto full = model.prepare(be, io.floats("input_features_full"), audios, text, longer);
  model.forward(be, full);
  check("audio_embeds_full", be.download(full.audio_embeds));
  check("logits_per_audio_full", be.download(full.logits_per_audio));
  return worst;
}

}  // namespace accelbench::test
