#pragma once

// Images for the vision architectures (ViT, CLIP's vision tower): synthetic
// batches, and the bicubic resize with which position embeddings learned
// for one image size serve another, as transformers' interpolate_pos_encoding.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../detail/rng.hpp"
#include "../../core/tensor.hpp"

namespace accelbench {

namespace detail {

/// PyTorch's cubic convolution coefficients (upsample_bicubic2d, A = -0.75)
/// for a fractional offset t in [0, 1], computed in float as its CPU kernel.
inline std::array<float, 4> cubic_coefficients(float t) noexcept {
  constexpr float A = -0.75f;
  const auto near = [](float x) { return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f; };
  const auto far = [](float x) { return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A; };
  return {far(t + 1.0f), near(t), near(1.0f - t), far(2.0f - t)};
}

/// Source indices (clamped to the input) and weights of each output index
/// of a bicubic resize from `in` to `out` samples with align_corners=False:
/// the source coordinate is (dst + 0.5) * in / out - 0.5, not clamped, its
/// floor the second of four taps, as in PyTorch.
struct CubicTaps {
  std::vector<std::array<int, 4>> index;
  std::vector<std::array<float, 4>> weight;
};

inline CubicTaps cubic_taps(int in, int out) {
  CubicTaps taps;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int d = 0; d < out; ++d) {
    const float real = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
    const int i0 = std::min(static_cast<int>(std::floor(real)), in - 1);
    const float t = std::min(std::max(real - static_cast<float>(i0), 0.0f), 1.0f);
    std::array<int, 4> idx{};
    for (int j = 0; j < 4; ++j) idx[static_cast<std::size_t>(j)] = std::clamp(i0 - 1 + j, 0, in - 1);
    taps.index.push_back(idx);
    taps.weight.push_back(cubic_coefficients(t));
  }
  return taps;
}

}  // namespace detail

/// Bicubic resize of a grid of vectors, as torch.nn.functional.interpolate
/// (mode="bicubic", align_corners=False) on a [1, dim, rows, cols] tensor:
/// `grid` is [rows * cols, dim], one row per grid point in row-major (y, x)
/// order; the result is [out_rows * out_cols, dim] in the same order. Each
/// output is sum_i wy_i * (sum_j wx_j * src), in float, with indices beyond
/// the border clamped to it, which is PyTorch's CPU kernel.
[[nodiscard]] inline HostMatrix bicubic_resize(const HostMatrix& grid, int rows, int cols, int out_rows,
                                               int out_cols) {
  if (rows <= 0 || cols <= 0 || out_rows <= 0 || out_cols <= 0 || grid.rows() != Eigen::Index{rows} * cols) {
    throw std::invalid_argument("bicubic_resize: a [" + std::to_string(grid.rows()) + ", " +
                                std::to_string(grid.cols()) + "] grid is not " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " (to " + std::to_string(out_rows) + " x " +
                                std::to_string(out_cols) + ")");
  }
  const detail::CubicTaps ty = detail::cubic_taps(rows, out_rows);
  const detail::CubicTaps tx = detail::cubic_taps(cols, out_cols);
  const Eigen::Index dim = grid.cols();
  HostMatrix out(Eigen::Index{out_rows} * out_cols, dim);
  Eigen::Array<float, 1, Eigen::Dynamic> acc(dim), inner(dim);
  for (int y = 0; y < out_rows; ++y) {
    for (int x = 0; x < out_cols; ++x) {
      acc.setZero();
      for (int i = 0; i < 4; ++i) {
        const Eigen::Index sy = ty.index[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
        inner.setZero();
        for (int j = 0; j < 4; ++j) {
          const Eigen::Index sx = tx.index[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
          inner += grid.row(sy * cols + sx).array() * tx.weight[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
        }
        acc += inner * ty.weight[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
      }
      out.row(Eigen::Index{y} * out_cols + x) = acc.matrix();
    }
  }
  return out;
}

/// Position embeddings for square images of `grid` x `grid` patches from a
/// table [1 + g * g, dim] learned for g x g (the class token's first), as
/// transformers' ViTEmbeddings.interpolate_pos_encoding: the class token's
/// row is kept and the patch rows are resized bicubically. The table is
/// returned as it is when the grid is its own.
[[nodiscard]] inline HostMatrix interpolate_positions(const HostMatrix& table, int grid) {
  const auto patches = table.rows() - 1;
  const auto g = static_cast<int>(std::lround(std::sqrt(static_cast<double>(patches))));
  if (patches < 1 || Eigen::Index{g} * g != patches) {
    throw std::invalid_argument("interpolate_positions: the table's " + std::to_string(table.rows()) +
                                " rows are not a class token and a square grid of patches");
  }
  if (grid == g) return table;
  HostMatrix out(Eigen::Index{grid} * grid + 1, table.cols());
  out.row(0) = table.row(0);
  out.bottomRows(out.rows() - 1) = bicubic_resize(table.bottomRows(patches), g, g, grid, grid);
  return out;
}

/// A batch of square images, one per row of `pixels` in PyTorch's
/// channel-major order: [batch, channels * size * size].
struct ImageBatch {
  int batch = 0;
  int channels = 3;
  int size = 0;
  HostMatrix pixels;
};

/// Images as rows of pixels: `batch` images of channels x height x width,
/// uniform in [-1, 1) from the stream "pixel_values" under `seed` as
/// make_images draws them (make_images is the square case).
[[nodiscard]] inline HostMatrix make_pixels(int batch, int channels, int height, int width, std::uint64_t seed) {
  if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0) {
    throw std::invalid_argument("make_pixels: batch " + std::to_string(batch) + ", channels " +
                                std::to_string(channels) + ", height " + std::to_string(height) + " and width " +
                                std::to_string(width) + " must be positive");
  }
  HostMatrix pixels(batch, Eigen::Index{channels} * height * width);
  const std::uint64_t stream = detail::stream_seed(seed, "pixel_values");
  for (Eigen::Index k = 0; k < pixels.size(); ++k) {
    pixels.data()[k] = 2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(k)) - 1.0f;
  }
  return pixels;
}

/// Deterministic synthetic images: every value uniform in [-1, 1), the
/// range of pixels normalised with mean 0.5 and standard deviation 0.5 (as
/// ViT's image processor does), drawn from the counter-based generator's
/// stream "pixel_values" under `seed`: value k of the batch (row-major
/// [batch, channel, y, x]) is element k of the stream, so a larger batch
/// extends a smaller one.
[[nodiscard]] inline ImageBatch make_images(int batch, int channels, int size, std::uint64_t seed) {
  if (batch <= 0 || channels <= 0 || size <= 0) {
    throw std::invalid_argument("make_images: batch " + std::to_string(batch) + ", channels " +
                                std::to_string(channels) + " and size " + std::to_string(size) +
                                " must be positive");
  }
  ImageBatch in;
  in.batch = batch;
  in.channels = channels;
  in.size = size;
  in.pixels = make_pixels(batch, channels, size, size, seed);
  return in;
}

}  // namespace accelbench
