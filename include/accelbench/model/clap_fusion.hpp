#pragma once

// CLAP's fusion of longer clips (clap-htsat-fused; transformers'
// ClapAudioPatchEmbed with enable_fusion and ClapAudioAFFBlock): the three
// local crops' patch x 3 patch embedding, laid out across the grid's
// columns and padded with zeros, and the attentional feature fusion
// 2 g w + 2 l (1 - w), w = sigmoid(local_att(g + l) + global_att(g + l)),
// of the whole clip's patch embeddings g with the crops' l; written over
// the backend's WindowOps (with mul). clap.hpp calls it for the clips that
// are longer than the window.

#include <cstdint>
#include <string>
#include <vector>

#include "../backend/concepts.hpp"
#include "../core/tensor.hpp"
#include "clap_config.hpp"
#include "common/upload.hpp"
#include "common/weights.hpp"

namespace accelbench::detail {

/// Rows of channels first .. first + count - 1 of every clip's
/// [channels * mel_bins, spec_width] spectrograms.
[[nodiscard]] inline std::vector<std::int32_t> clap_channel_rows(int audios, int channels, int mel, int first,
                                                                 int count) {
  std::vector<std::int32_t> rows;
  for (int b = 0; b < audios; ++b) {
    for (int c = first; c < first + count; ++c) {
      for (int f = 0; f < mel; ++f) rows.push_back((b * channels + c) * mel + f);
    }
  }
  return rows;
}

/// The crops' patch x 3 patch embedding from the patch x patch one: the
/// convolution of each crop with the three taps stacked ([3 embed] columns
/// per patch, in the spectrogram's patch order, see clap_patch_rows) read
/// as rows of one tap each; output column x = c * local_columns + x3 of grid
/// row y takes crop c's taps t = 0, 1, 2 of its patches (y, 3 x3 + t), in
/// that order (transformers' permute of the crops into the columns).
[[nodiscard]] inline std::vector<std::int32_t> clap_crop_rows(const ClapAudioConfig& a, int audios) {
  const int g = a.grid(), q_count = a.mel_bins / a.patch, columns = a.freq_ratio() * g, local = a.local_columns();
  std::vector<std::int32_t> rows;
  for (int b = 0; b < audios; ++b) {
    for (int y = 0; y < g; ++y) {
      const int k = y / q_count, q = y % q_count;
      for (int x = 0; x < 3 * local; ++x) {
        const int crop = x / local, x3 = x % local;
        for (int t = 0; t < 3; ++t) {
          const int patch = (b * 3 + crop) * g * g + q * columns + k * g + 3 * x3 + t;
          rows.push_back(patch * 3 + t);
        }
      }
    }
  }
  return rows;
}

/// The fusion's weights on the backend, each batch norm folded into the
/// 1 x 1 convolution before it.
template <class B>
struct ClapFusion {
  using Tensor = typename B::Tensor;
  Tensor taps;     ///< mel_conv2d's taps stacked: [3 embed, patch²]
  Tensor tap_sum;  ///< [embed, 3 embed]: three identities, the taps' sum
  Tensor mel_b;    ///< mel_conv2d's bias
  Tensor local1_w, local1_b, local2_w, local2_b, global1_w, global1_b, global2_w, global2_b;

  ClapFusion() = default;

  ClapFusion(WeightUploader<B>& take, WeightMap& weights, const ClapAudioConfig& a) {
    const std::string p = "audio_model.audio_encoder.patch_embed.";
    const Eigen::Index e = a.embed, pp = Eigen::Index{a.patch} * a.patch, ps = a.patch;
    const HostMatrix mel = take.host(p + "mel_conv2d.weight", e, 3 * pp);
    HostMatrix stacked(3 * e, pp);
    for (Eigen::Index t = 0; t < 3; ++t) {
      for (Eigen::Index o = 0; o < e; ++o) {
        for (Eigen::Index y = 0; y < ps; ++y) {
          for (Eigen::Index x = 0; x < ps; ++x) stacked(t * e + o, y * ps + x) = mel(o, y * 3 * ps + t * ps + x);
        }
      }
    }
    taps = take.upload(stacked);
    HostMatrix sum = HostMatrix::Zero(e, 3 * e);
    for (Eigen::Index t = 0; t < 3; ++t) sum.block(0, t * e, e, e).setIdentity();
    tap_sum = take.upload(sum);
    mel_b = take(p + "mel_conv2d.bias", 1, e);
    const std::string aff = p + "fusion_model.";
    const auto folded = [&](int k, Tensor& w, Tensor& b) {
      const bool down = k % 2 == 0;
      const Eigen::Index out = down ? a.aff_channels() : e, in = down ? e : a.aff_channels();
      const std::string conv = aff + clap_fusion_convs[k];
      // The batch norm after it: the next index of its Sequential.
      const std::string norm = conv.substr(0, conv.size() - 1) + std::to_string(conv.back() - '0' + 1);
      const Eigen::MatrixXd cw = take.host(conv + ".weight", out, in).template cast<double>();
      const Eigen::RowVectorXd cb = take.host(conv + ".bias", 1, out).row(0).template cast<double>();
      const Eigen::RowVectorXd g = take.host(norm + ".weight", 1, out).row(0).template cast<double>();
      const Eigen::RowVectorXd beta = take.host(norm + ".bias", 1, out).row(0).template cast<double>();
      const Eigen::RowVectorXd mean = weights.take(norm + ".running_mean", 1, out).row(0).template cast<double>();
      const Eigen::RowVectorXd var = weights.take(norm + ".running_var", 1, out).row(0).template cast<double>();
      // BN(W x + b) = s (W x + b - mean) + beta, s = weight / sqrt(var + 1e-5)
      const Eigen::RowVectorXd s = (g.array() / (var.array() + 1e-5).sqrt()).matrix();
      w = take.upload(HostMatrix((s.transpose().asDiagonal() * cw).template cast<float>()));
      b = take.upload(HostMatrix((s.array() * (cb - mean).array() + beta.array()).matrix().template cast<float>()));
    };
    folded(0, local1_w, local1_b);
    folded(1, local2_w, local2_b);
    folded(2, global1_w, global1_b);
    folded(3, global2_w, global2_b);
  }
};

/// One batch's tables and activations of the fusion.
template <class B>
struct ClapFusionWork {
  typename B::IndexTensor global_rows, crop_spectrogram_rows, crop_rows, item_rows, select_rows;
  typename B::Tensor grid_mask;  ///< ones, [audios, grid²]
  typename B::Tensor local;      ///< the crops' embedding, zero-padded, [audios * grid², embed]
  typename B::Tensor both;       ///< the whole clips' then the fused embeddings, [2 audios grid², embed]
  typename B::Tensor channel0, crops, x, gate, pooled, spread, mixed, a, b;
  bool any_longer = false;
};

/// Uploads the tables of `audios` clips, `longer[i]` saying whether clip i
/// takes the fusion path (transformers' is_longer).
template <class B>
[[nodiscard]] ClapFusionWork<B> clap_fusion_work(B& backend, const ClapAudioConfig& a, int audios,
                                                 const std::vector<std::int32_t>& longer) {
  ClapFusionWork<B> w;
  const int g2 = a.grid() * a.grid(), rows = audios * g2;
  w.global_rows = backend.upload_indices(clap_channel_rows(audios, 4, a.mel_bins, 0, 1));
  w.crop_spectrogram_rows = backend.upload_indices(clap_channel_rows(audios, 4, a.mel_bins, 1, 3));
  w.crop_rows = backend.upload_indices(clap_crop_rows(a, audios));
  std::vector<std::int32_t> item, select;
  for (int b = 0; b < audios; ++b) {
    const bool fused = longer[static_cast<std::size_t>(b)] != 0;
    w.any_longer = w.any_longer || fused;
    for (int r = 0; r < g2; ++r) {
      item.push_back(b);
      select.push_back((fused ? rows : 0) + b * g2 + r);
    }
  }
  w.item_rows = backend.upload_indices(item);
  w.select_rows = backend.upload_indices(select);
  w.grid_mask = backend.upload(HostMatrix::Ones(audios, g2));
  w.local = backend.upload(HostMatrix::Zero(rows, a.embed));
  w.both = backend.upload(HostMatrix::Zero(2 * Eigen::Index{rows}, a.embed));
  return w;
}

/// The crops' embedding from the [audios * 4 * mel_bins, spec_width]
/// spectrograms, fused into `tokens` (the whole clips' patch embeddings,
/// [audios * grid², embed], row-major over the grid) for the longer clips.
template <WindowOps B>
void clap_fuse(B& be, const ClapFusion<B>& f, const ClapAudioConfig& a, int audios,
               const typename B::Tensor& spectrogram, typename B::Tensor& tokens, ClapFusionWork<B>& w) {
  const int e = a.embed, g = a.grid(), local = 3 * a.local_columns(), rows = audios * g * g;
  const typename B::Tensor none;
  be.embedding_lookup(spectrogram, w.crop_spectrogram_rows, w.a);
  be.reshape(w.a, audios * 3, a.mel_bins * a.spec_width(), w.crops);
  be.conv2d(w.crops, f.taps, none, Conv2dDims{audios * 3, 1, a.mel_bins, a.spec_width(), 3 * e, a.patch, a.patch, 0},
            w.b);
  be.reshape(w.b, audios * 3 * g * g * 3, e, w.a);
  be.embedding_lookup(w.a, w.crop_rows, w.b);
  be.reshape(w.b, audios * g * local, 3 * e, w.a);
  be.linear(w.a, f.tap_sum, f.mel_b, w.b);
  be.cache_write(w.b, CacheDims{audios * g, local, g, 0}, w.local);
  // w = sigmoid(local_att(x) + global_att(x)), x = g + l; global_att pools each clip's grid.
  be.reshape(tokens, rows, e, w.x);
  be.add(w.local, w.x);
  be.linear(w.x, f.local1_w, f.local1_b, w.a);
  be.relu(w.a);
  be.linear(w.a, f.local2_w, f.local2_b, w.gate);
  be.masked_mean_pool(w.x, w.grid_mask, w.pooled);
  be.linear(w.pooled, f.global1_w, f.global1_b, w.a);
  be.relu(w.a);
  be.linear(w.a, f.global2_w, f.global2_b, w.b);
  be.embedding_lookup(w.b, w.item_rows, w.spread);
  be.add(w.spread, w.gate);
  be.sigmoid(w.gate);
  // 2 g w + 2 l (1 - w) as 2 (l + w (g - l))
  be.reshape(w.local, rows, e, w.mixed);
  be.scale(w.mixed, -1.0f);
  be.add(tokens, w.mixed);
  be.mul(w.gate, w.mixed);
  be.add(w.local, w.mixed);
  be.scale(w.mixed, 2.0f);
  // Each clip: the fused embeddings where it is longer, its own otherwise.
  be.cache_write(tokens, CacheDims{1, rows, 2 * rows, 0}, w.both);
  be.cache_write(w.mixed, CacheDims{1, rows, 2 * rows, rows}, w.both);
  be.embedding_lookup(w.both, w.select_rows, tokens);
}

}  // namespace accelbench::detail
