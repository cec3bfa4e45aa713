#pragma once

// The host-side tables of CLAP's HTSAT audio encoder: the bicubic time
// interpolation as a matrix, the row orders that fold the spectrogram into
// patches, partition a grid into (shifted) windows and merge 2 x 2 patches,
// and each window's attention bias (relative position bias plus the shift
// mask). clap.hpp runs them with the backend's gathers, convolutions and
// attention.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "clap_config.hpp"

namespace accelbench::detail {

/// PyTorch's bicubic interpolation (align_corners=True, A = -0.75, indices
/// clamped at the edges) of `in` samples to `out` as an [out, in] matrix,
/// its coefficients computed in double and rounded once (PyTorch's float32
/// kernel computes the source positions in float, about 1e-5 off the exact
/// ones); the identity where in == out (ClapAudioEncoder interpolates only
/// shorter inputs).
[[nodiscard]] inline HostMatrix bicubic_interpolation(int in, int out) {
  HostMatrix m = HostMatrix::Zero(out, in);
  if (in == out) {
    m.setIdentity();
    return m;
  }
  const double a = -0.75;
  const auto near = [a](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  const auto far = [a](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  const double scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  Eigen::MatrixXd exact = Eigen::MatrixXd::Zero(out, in);
  for (int o = 0; o < out; ++o) {
    const double real = scale * o;
    const int index = std::clamp(static_cast<int>(std::floor(real)), 0, in - 1);
    const double t = std::clamp(real - index, 0.0, 1.0);
    const double c[4] = {far(t + 1), near(t), near(1 - t), far(1 - t + 1)};
    for (int j = 0; j < 4; ++j) exact(o, std::clamp(index - 1 + j, 0, in - 1)) += c[j];
  }
  m = exact.cast<float>();
  return m;
}

/// The patch embedding runs over each clip's [mel_bins, spec_width]
/// spectrogram, whose patches are those of transformers' folded
/// spec_size x spec_size image (reshape_mel2img: fold k of the time axis
/// becomes rows k * mel_bins ..) in another order: row (b, gy, gx) of the
/// image's grid is row (b, q, k * grid + gx) of the spectrogram's, where
/// gy = k * (mel_bins / patch) + q.
[[nodiscard]] inline std::vector<std::int32_t> clap_patch_rows(const ClapAudioConfig& a, int batch) {
  const int g = a.grid(), q_count = a.mel_bins / a.patch, columns = a.freq_ratio() * g;
  std::vector<std::int32_t> rows;
  rows.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(g) * static_cast<std::size_t>(g));
  for (int b = 0; b < batch; ++b) {
    for (int gy = 0; gy < g; ++gy) {
      const int k = gy / q_count, q = gy % q_count;
      for (int gx = 0; gx < g; ++gx) rows.push_back(b * g * g + q * columns + k * g + gx);
    }
  }
  return rows;
}

/// The rows of a [batch * res * res, C] grid in window order after a cyclic
/// shift of -shift in both directions (torch.roll, then transformers'
/// window_partition): window (wy, wx) of sequence b, then its tokens row by
/// row.
[[nodiscard]] inline std::vector<std::int32_t> swin_window_rows(int batch, int res, int window, int shift) {
  const int per = res / window;
  std::vector<std::int32_t> rows;
  rows.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(res) * static_cast<std::size_t>(res));
  for (int b = 0; b < batch; ++b) {
    for (int wy = 0; wy < per; ++wy) {
      for (int wx = 0; wx < per; ++wx) {
        for (int i = 0; i < window; ++i) {
          for (int j = 0; j < window; ++j) {
            const int y = (wy * window + i + shift) % res, x = (wx * window + j + shift) % res;
            rows.push_back(b * res * res + y * res + x);
          }
        }
      }
    }
  }
  return rows;
}

/// The inverse of a permutation of rows.
[[nodiscard]] inline std::vector<std::int32_t> inverse_rows(const std::vector<std::int32_t>& rows) {
  std::vector<std::int32_t> out(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) out[static_cast<std::size_t>(rows[k])] = static_cast<std::int32_t>(k);
  return out;
}

/// Patch merging's rows: for every 2 x 2 patch (y, x) of a res x res grid,
/// its four tokens in transformers' order (0, 0), (1, 0), (0, 1), (1, 1)
/// as (row, column) offsets, so that [4 * n, C] read as [n, 4 C] is the
/// concatenation ClapAudioPatchMerging makes.
[[nodiscard]] inline std::vector<std::int32_t> swin_merge_rows(int batch, int res) {
  const int half = res / 2;
  std::vector<std::int32_t> rows;
  rows.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(res) * static_cast<std::size_t>(res));
  for (int b = 0; b < batch; ++b) {
    for (int y = 0; y < half; ++y) {
      for (int x = 0; x < half; ++x) {
        for (const auto& [dy, dx] : {std::pair{0, 0}, std::pair{1, 0}, std::pair{0, 1}, std::pair{1, 1}}) {
          rows.push_back(b * res * res + (2 * y + dy) * res + 2 * x + dx);
        }
      }
    }
  }
  return rows;
}

/// The attention bias of a block: the relative position bias of its
/// `table` ([(2 * window - 1)², heads]) for every head, query and key of a
/// w x w window ([heads * w², w²], one block); with a shift, one block per
/// window of the res x res grid, each with transformers' mask added (-100
/// between tokens of different regions of the shifted grid).
[[nodiscard]] inline HostMatrix swin_attention_bias(const HostMatrix& table, int heads, int window, int w, int res,
                                                    int shift) {
  const int n = w * w, per = res / w, blocks = shift > 0 ? per * per : 1;
  const Eigen::Index side = 2 * Eigen::Index{window} - 1;
  HostMatrix bias(Eigen::Index{blocks} * heads * n, n);
  const auto region = [&](int v) { return (v >= res - w ? 1 : 0) + (v >= res - shift ? 1 : 0); };
  for (int block = 0; block < blocks; ++block) {
    const int wy = block / per, wx = block % per;
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < n; ++i) {
        const int yi = i / w, xi = i % w;
        const int ri = region(wy * w + yi) * 3 + region(wx * w + xi);
        for (int j = 0; j < n; ++j) {
          const int yj = j / w, xj = j % w;
          const Eigen::Index cell = (yi - yj + window - 1) * side + (xi - xj + window - 1);
          float v = table(cell, h);
          if (shift > 0 && ri != region(wy * w + yj) * 3 + region(wx * w + xj)) v += -100.0f;
          bias((Eigen::Index{block} * heads + h) * n + i, j) = v;
        }
      }
    }
  }
  return bias;
}

}  // namespace accelbench::detail
