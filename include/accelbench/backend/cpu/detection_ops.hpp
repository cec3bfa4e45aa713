#pragma once

// The Cpu backend's DetectionOps: the further ops of convolutional backbones (DETR's ResNet) over images laid out as
// rows, with Eigen; and WindowOps' reshape and mul (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "backend.hpp"

namespace accelbench {

inline void Cpu::conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
  check_conv2d_rows(x, w, b, d);
  check_distinct("conv2d_rows", x, w, b, y);
  if (d.kernel == 1 && d.stride == 1 && d.padding == 0) {
    linear(x, w, b, y);  // every pixel is its own window
    return;
  }
  const Index out_h = d.out_height();
  const Index out_w = d.out_width();
  const Index k = d.kernel;
  const Index height = d.height;
  const Index width = d.width;
  const Index channels = d.channels;
  const Index run = k * channels;  // one kernel row of a window: k adjacent pixels
  const Index depth = k * run;
  const Index rows = Index{d.batch} * out_h * out_w;
  conv_cols_.resize(rows, depth);
  parallel_rows(rows, depth, [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const Index image = r / (out_h * out_w);
      const Index oy = r % (out_h * out_w) / out_w;
      const Index ox = r % out_w;
      const Index x0 = ox * d.stride - d.padding;
      const Index kx0 = std::max<Index>(0, -x0);         // the first tap inside the image
      const Index kx1 = std::min<Index>(k, width - x0);  // past the last
      float* dst = conv_cols_.data() + r * depth;
      for (Index ky = 0; ky < k; ++ky, dst += run) {
        const Index iy = oy * d.stride - d.padding + ky;
        if (iy < 0 || iy >= height || kx1 <= kx0) {
          std::fill_n(dst, run, 0.0f);
          continue;
        }
        const Index pixel = (image * height + iy) * width + x0 + kx0;
        std::fill_n(dst, kx0 * channels, 0.0f);
        std::copy_n(x.data() + pixel * channels, (kx1 - kx0) * channels, dst + kx0 * channels);
        std::fill(dst + kx1 * channels, dst + run, 0.0f);
      }
    }
  });
  linear(conv_cols_, w, b, y);
}

inline void Cpu::max_pool2d(const Tensor& x, const Pool2dDims& d, Tensor& y) {
  check_pool2d(x, d);
  if (&x == &y) throw std::invalid_argument("max_pool2d: the output must not be the input");
  const Index out_h = d.out_height();
  const Index out_w = d.out_width();
  const Index channels = d.channels;
  y.resize(Index{d.batch} * out_h * out_w, channels);
  parallel_rows(y.rows(), channels * d.kernel * d.kernel, [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const Index image = r / (out_h * out_w);
      const Index y0 = r % (out_h * out_w) / out_w * d.stride - d.padding;
      const Index x0 = r % out_w * d.stride - d.padding;
      // The window clipped to the image: padding <= kernel / 2 leaves a pixel in it.
      const Index iy0 = std::max<Index>(y0, 0), iy1 = std::min<Index>(y0 + d.kernel, d.height);
      const Index ix0 = std::max<Index>(x0, 0), ix1 = std::min<Index>(x0 + d.kernel, d.width);
      float* out = y.data() + r * channels;
      std::copy_n(x.data() + ((image * d.height + iy0) * d.width + ix0) * channels, channels, out);
      for (Index iy = iy0; iy < iy1; ++iy) {
        for (Index ix = ix0; ix < ix1; ++ix) {
          const float* in = x.data() + ((image * d.height + iy) * d.width + ix) * channels;
          for (Index c = 0; c < channels; ++c) {
            out[c] = (in[c] > out[c] || std::isnan(in[c])) ? in[c] : out[c];  // NaN wins, as in PyTorch
          }
        }
      }
    }
  });
}

inline void Cpu::sigmoid(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = 1.0f / (1.0f + (-a).exp());
  });
}

inline void Cpu::check_conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d) {
  check_conv2d_dims("conv2d_rows", d);
  const Index pixels = Index{d.batch} * d.height * d.width;
  if (x.rows() != pixels || x.cols() != d.channels) {
    throw std::invalid_argument("conv2d_rows: input is " + shape(x) +
                                ", expected [batch * height * width, channels] = [" + std::to_string(pixels) + ", " +
                                std::to_string(d.channels) + "]");
  }
  const Index depth = Index{d.kernel} * d.kernel * d.channels;
  if (w.rows() != d.out_channels || w.cols() != depth) {
    throw std::invalid_argument("conv2d_rows: weight is " + shape(w) +
                                ", expected [out_channels, kernel * kernel * channels] = [" +
                                std::to_string(d.out_channels) + ", " + std::to_string(depth) + "]");
  }
  check_bias("conv2d_rows", b, d.out_channels);
}

inline void Cpu::check_pool2d(const Tensor& x, const Pool2dDims& d) {
  if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.kernel <= 0 || d.stride <= 0 ||
      d.padding < 0) {
    throw std::invalid_argument("max_pool2d: batch " + std::to_string(d.batch) + ", channels " +
                                std::to_string(d.channels) + ", height " + std::to_string(d.height) + ", width " +
                                std::to_string(d.width) + ", kernel " + std::to_string(d.kernel) + ", stride " +
                                std::to_string(d.stride) + ": must be positive, padding " +
                                std::to_string(d.padding) + " >= 0");
  }
  if (2 * d.padding > d.kernel) {
    throw std::invalid_argument("max_pool2d: padding " + std::to_string(d.padding) + " exceeds half the kernel " +
                                std::to_string(d.kernel) + " (as in PyTorch's MaxPool2d)");
  }
  if (d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
    throw std::invalid_argument("max_pool2d: kernel " + std::to_string(d.kernel) + " exceeds the padded " +
                                std::to_string(d.height) + " x " + std::to_string(d.width) + " image (padding " +
                                std::to_string(d.padding) + ")");
  }
  const Index pixels = Index{d.batch} * d.height * d.width;
  if (x.rows() != pixels || x.cols() != d.channels) {
    throw std::invalid_argument("max_pool2d: input is " + shape(x) +
                                ", expected [batch * height * width, channels] = [" + std::to_string(pixels) + ", " +
                                std::to_string(d.channels) + "]");
  }
}

// ---- WindowOps (windowed vision transformers: Swin, CLAP's HTSAT) ----

inline void Cpu::reshape(const Tensor& x, int rows, int cols, Tensor& y) {
  if (rows < 0 || cols < 0 || Index{rows} * cols != x.size()) {
    throw std::invalid_argument("reshape: " + shape(x) + " cannot be reshaped to [" + std::to_string(rows) + ", " +
                                std::to_string(cols) + "]: rows * cols must be its " + std::to_string(x.size()) +
                                " elements");
  }
  if (&y == &x) throw std::invalid_argument("reshape: the output must not be the input");
  y.resize(rows, cols);
  std::copy(x.data(), x.data() + x.size(), y.data());
}

inline void Cpu::mul(const Tensor& x, Tensor& y) {
  require_same_shape("mul", x, y);
  parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) {
    y.middleRows(r0, r1 - r0).array() *= x.middleRows(r0, r1 - r0).array();
  });
}

}  // namespace accelbench
