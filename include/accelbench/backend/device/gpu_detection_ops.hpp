#pragma once

// GpuOps' ops of DetectionOps (convolutional backbones over images laid out
// as rows; see backend/concepts.hpp) and of WindowOps (reshape, mul):
// argument checks, output shapes and launches of the kernels of
// gpu_detection_kernels.hpp (reshape: gpu_kernels.hpp's ab_cache_write).
// Part of gpu_ops.hpp, which includes this header after the class: include
// that one.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../op_dims.hpp"
#include "runtime.hpp"

namespace accelbench {

namespace detail {

/// "[rows, cols]", for the ops' messages.
inline std::string gpu_shape(long rows, long cols) {
  std::string s = "[";
  s += std::to_string(rows);
  s += ", ";
  s += std::to_string(cols);
  s += "]";
  return s;
}

/// "batch 1, channels 3, height 8, width 8, kernel 3, stride 2, padding 1"
template <class Dims>
std::string gpu_image_dims(const Dims& d) {
  return "batch " + std::to_string(d.batch) + ", channels " + std::to_string(d.channels) + ", height " +
         std::to_string(d.height) + ", width " + std::to_string(d.width) + ", kernel " + std::to_string(d.kernel) +
         ", stride " + std::to_string(d.stride) + ", padding " + std::to_string(d.padding);
}

}  // namespace detail

template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::conv2d_rows(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& c,
                                          Tensor& y) {
  if (c.batch <= 0 || c.channels <= 0 || c.height <= 0 || c.width <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
      c.stride <= 0 || c.padding < 0 || c.height + 2 * c.padding < c.kernel || c.width + 2 * c.padding < c.kernel) {
    fail("conv2d_rows", detail::gpu_image_dims(c) + ", out_channels " + std::to_string(c.out_channels) +
                            ": every dimension must be positive, padding >= 0, and the kernel within the padded image");
  }
  const long pixels = long(c.batch) * c.height * c.width;
  if (x.rows() != pixels || x.cols() != c.channels) {
    fail("conv2d_rows", "input is " + detail::gpu_shape(x.rows(), x.cols()) +
                            ", expected [batch * height * width, channels] = " + detail::gpu_shape(pixels, c.channels));
  }
  const long k = long(c.kernel) * c.kernel * c.channels;
  if (w.rows() != c.out_channels || w.cols() != k) {
    fail("conv2d_rows", "weight is " + detail::gpu_shape(w.rows(), w.cols()) +
                            ", expected [out_channels, kernel * kernel * channels] = " +
                            detail::gpu_shape(c.out_channels, k));
  }
  if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) {
    fail("conv2d_rows", "bias is " + detail::gpu_shape(b.rows(), b.cols()) + ", expected [1, " +
                            std::to_string(c.out_channels) + "] or empty");
  }
  if (&y == &x || &y == &w || &y == &b) fail("conv2d_rows", "the output must not be the input, weight or bias");
  if (c.kernel == 1 && c.stride == 1 && c.padding == 0) {
    linear(x, w, b, y);  // every pixel is its own window
    return;
  }
  const long positions = long(c.batch) * c.out_height() * c.out_width();
  ensure(columns_, positions, k);
  d().template launch<GpuKernel::im2col_rows>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.channels,
                                              c.height, c.width, c.kernel, c.stride, c.padding, c.out_height(),
                                              c.out_width(), i64(columns_.size()));
  ensure(y, positions, c.out_channels);
  gemm(columns_, w, 0, c.out_channels, y, 0, int(positions), int(k));
  if (!b.empty()) add_bias(y, 0, b, int(positions), c.out_channels);
}

template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::max_pool2d(const Tensor& x, const Pool2dDims& p, Tensor& y) {
  if (p.batch <= 0 || p.channels <= 0 || p.height <= 0 || p.width <= 0 || p.kernel <= 0 || p.stride <= 0 ||
      p.padding < 0 || 2 * p.padding > p.kernel || p.height + 2 * p.padding < p.kernel ||
      p.width + 2 * p.padding < p.kernel) {
    fail("max_pool2d", detail::gpu_image_dims(p) +
                           ": every dimension must be positive, padding between 0 and half the kernel (as in "
                           "PyTorch's MaxPool2d), and the kernel within the padded image");
  }
  const long pixels = long(p.batch) * p.height * p.width;
  if (x.rows() != pixels || x.cols() != p.channels) {
    fail("max_pool2d", "input is " + detail::gpu_shape(x.rows(), x.cols()) +
                           ", expected [batch * height * width, channels] = " + detail::gpu_shape(pixels, p.channels));
  }
  if (&y == &x) fail("max_pool2d", "the output must not be the input");
  ensure(y, long(p.batch) * p.out_height() * p.out_width(), p.channels);
  d().template launch<GpuKernel::max_pool2d>(GpuRange::elements(y.size()), h(x), h(y), p.channels, p.height, p.width,
                                             p.kernel, p.stride, p.padding, p.out_height(), p.out_width(),
                                             i64(y.size()));
}

// ---- WindowOps ----

template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::reshape(const Tensor& x, int rows, int cols, Tensor& y) {
  if (rows < 0 || cols < 0 || long(rows) * cols != x.size()) {
    fail("reshape", detail::gpu_shape(x.rows(), x.cols()) + " cannot be reshaped to " + detail::gpu_shape(rows, cols) +
                        ": rows * cols must be its " + std::to_string(x.size()) + " elements");
  }
  if (&y == &x) fail("reshape", "the output must not be the input");
  ensure(y, rows, cols);
  if (x.size() == 0) return;
  // ab_cache_write with one row per sequence (len = capacity = 1, start 0) copies element e to element e.
  d().template launch<GpuKernel::cache_write>(GpuRange::elements(x.size()), h(x), h(y), 1, 1, 0, i64(x.size()),
                                              int(x.cols()));
}

template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::mul(const Tensor& x, Tensor& y) {
  same_shape("mul", x, y);
  if (y.size() == 0) return;
  d().template launch<GpuKernel::mul>(GpuRange::elements(y.size()), h(x), h(y), i64(y.size()));
}

}  // namespace accelbench
