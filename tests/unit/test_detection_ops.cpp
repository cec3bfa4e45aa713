// The Cpu backend's ops of convolutional backbones (DetectionOps) against
// independent loops written here in PyTorch's terms: conv2d_rows against a
// convolution of NCHW images with [out, in, kh, kw] weights (the images
// permuted to rows and the weights to (ky, kx, c), which pins the layout
// contract), max_pool2d against windows padded with -infinity, sigmoid
// against its formula; on one and two threads, plus shape errors and the
// DetectionOps concept. And WindowOps (Swin's windowed attention): attention
// with a bias block per window (AttentionDims::bias_blocks) against a naive
// loop, reshape, and mul (the element-wise product).

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "naive_backend.hpp"

using accelbench::AttentionDims;
using accelbench::Conv2dDims;
using accelbench::Cpu;
using accelbench::HostMatrix;
using accelbench::Pool2dDims;

namespace {

// The plain backend without one op of DetectionOps: it keeps PerceptionOps.
struct WithoutSigmoid : accelbench::test::NaiveBackend {
  void sigmoid(Tensor&) = delete;
};
struct WithoutMaxPool : accelbench::test::NaiveBackend {
  void max_pool2d() = delete;
};
static_assert(accelbench::DetectionOps<Cpu>);
static_assert(accelbench::DetectionOps<accelbench::test::NaiveBackend>);
static_assert(accelbench::PerceptionOps<WithoutSigmoid> && !accelbench::DetectionOps<WithoutSigmoid>);
static_assert(accelbench::PerceptionOps<WithoutMaxPool> && !accelbench::DetectionOps<WithoutMaxPool>);
// Without reshape: DetectionOps and GenerationOps, but not WindowOps.
struct WithoutReshape : accelbench::test::NaiveBackend {
  void reshape() = delete;
};
static_assert(accelbench::WindowOps<Cpu>);
static_assert(accelbench::WindowOps<accelbench::test::NaiveBackend>);
static_assert(accelbench::DetectionOps<WithoutReshape> && accelbench::GenerationOps<WithoutReshape> &&
              !accelbench::WindowOps<WithoutReshape>);
struct WithoutMul : accelbench::test::NaiveBackend {
  void mul() = delete;
};
static_assert(accelbench::DetectionOps<WithoutMul> && accelbench::GenerationOps<WithoutMul> &&
              !accelbench::WindowOps<WithoutMul>);

/// Uniform in [offset - scale, offset + scale], from a fixed-seed generator.
HostMatrix random_matrix(long rows, long cols, unsigned seed, float scale = 1.0f, float offset = 0.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = offset + dist(gen);
  return m;
}

float max_abs_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

/// NCHW images, one per row of [batch, channels * height * width], laid out
/// as rows: [batch * height * width, channels].
HostMatrix nchw_to_rows(const HostMatrix& images, long channels, long height, long width) {
  HostMatrix rows(images.rows() * height * width, channels);
  for (long n = 0; n < images.rows(); ++n)
    for (long c = 0; c < channels; ++c)
      for (long y = 0; y < height; ++y)
        for (long x = 0; x < width; ++x) rows((n * height + y) * width + x, c) = images(n, (c * height + y) * width + x);
  return rows;
}

/// PyTorch's weight [out, in, kh, kw] (flattened per row) permuted to [out, kh, kw, in].
HostMatrix torch_weight_to_rows(const HostMatrix& w, long channels, long kernel) {
  HostMatrix out(w.rows(), w.cols());
  for (long o = 0; o < w.rows(); ++o)
    for (long c = 0; c < channels; ++c)
      for (long ky = 0; ky < kernel; ++ky)
        for (long kx = 0; kx < kernel; ++kx)
          out(o, (ky * kernel + kx) * channels + c) = w(o, (c * kernel + ky) * kernel + kx);
  return out;
}

/// torch.nn.functional.conv2d(images, w, b, stride, padding) in double, for
/// NCHW images and w [out, in, kh, kw]; output [batch * out_h * out_w, out].
HostMatrix torch_conv2d(const HostMatrix& images, const HostMatrix& w, const HostMatrix& b, const Conv2dDims& d) {
  const long out_h = (d.height + 2L * d.padding - d.kernel) / d.stride + 1;
  const long out_w = (d.width + 2L * d.padding - d.kernel) / d.stride + 1;
  HostMatrix y(d.batch * out_h * out_w, d.out_channels);
  for (long n = 0; n < d.batch; ++n)
    for (long o = 0; o < d.out_channels; ++o)
      for (long oy = 0; oy < out_h; ++oy)
        for (long ox = 0; ox < out_w; ++ox) {
          double acc = b.size() ? double(b(0, o)) : 0.0;
          for (long c = 0; c < d.channels; ++c)
            for (long ky = 0; ky < d.kernel; ++ky)
              for (long kx = 0; kx < d.kernel; ++kx) {
                const long iy = oy * d.stride - d.padding + ky;
                const long ix = ox * d.stride - d.padding + kx;
                if (iy < 0 || iy >= d.height || ix < 0 || ix >= d.width) continue;  // zero padding
                acc += double(images(n, (c * d.height + iy) * d.width + ix)) *
                       double(w(o, (c * d.kernel + ky) * d.kernel + kx));
              }
          y((n * out_h + oy) * out_w + ox, o) = static_cast<float>(acc);
        }
  return y;
}

/// torch.nn.functional.max_pool2d(images, kernel, stride, padding) for NCHW
/// images: the input padded with -infinity; output [batch * out_h * out_w, channels].
HostMatrix torch_max_pool2d(const HostMatrix& images, const Pool2dDims& d) {
  const long out_h = (d.height + 2L * d.padding - d.kernel) / d.stride + 1;
  const long out_w = (d.width + 2L * d.padding - d.kernel) / d.stride + 1;
  const long padded_h = d.height + 2L * d.padding;
  const long padded_w = d.width + 2L * d.padding;
  HostMatrix y(d.batch * out_h * out_w, d.channels);
  for (long n = 0; n < d.batch; ++n)
    for (long c = 0; c < d.channels; ++c) {
      std::vector<float> padded(static_cast<std::size_t>(padded_h * padded_w), -std::numeric_limits<float>::infinity());
      for (long iy = 0; iy < d.height; ++iy)
        for (long ix = 0; ix < d.width; ++ix)
          padded[static_cast<std::size_t>((iy + d.padding) * padded_w + ix + d.padding)] =
              images(n, (c * d.height + iy) * d.width + ix);
      for (long oy = 0; oy < out_h; ++oy)
        for (long ox = 0; ox < out_w; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          for (long ky = 0; ky < d.kernel; ++ky)
            for (long kx = 0; kx < d.kernel; ++kx)
              best = std::max(best, padded[static_cast<std::size_t>((oy * d.stride + ky) * padded_w + ox * d.stride + kx)]);
          y((n * out_h + oy) * out_w + ox, c) = best;
        }
    }
  return y;
}

std::array<Cpu, 2>& cpus() {
  static std::array<Cpu, 2> c{Cpu{Cpu::Options{.threads = 1}}, Cpu{Cpu::Options{.threads = 2}}};
  return c;
}

/// conv2d_rows of random NCHW images and PyTorch-order weights, permuted,
/// against torch_conv2d, with and without a bias; and Cpu::conv2d of the same
/// NCHW images and weights, which must agree with it.
void check_conv2d_rows(const Conv2dDims& d, unsigned seed) {
  CAPTURE(d.channels);
  CAPTURE(d.height);
  CAPTURE(d.width);
  CAPTURE(d.kernel);
  CAPTURE(d.stride);
  CAPTURE(d.padding);
  const HostMatrix images = random_matrix(d.batch, long(d.channels) * d.height * d.width, seed);
  const HostMatrix w = random_matrix(d.out_channels, long(d.channels) * d.kernel * d.kernel, seed + 1, 0.5f);
  const HostMatrix bias = random_matrix(1, d.out_channels, seed + 2);
  const HostMatrix x = nchw_to_rows(images, d.channels, d.height, d.width);
  const HostMatrix w_rows = torch_weight_to_rows(w, d.channels, d.kernel);
  for (const bool with_bias : {true, false}) {
    CAPTURE(with_bias);
    const HostMatrix b = with_bias ? bias : HostMatrix{};
    const HostMatrix expected = torch_conv2d(images, w, b, d);
    REQUIRE(expected.rows() == long(d.batch) * d.out_height() * d.out_width());
    for (Cpu& cpu : cpus()) {
      CAPTURE(cpu.threads());
      HostMatrix y;
      cpu.conv2d_rows(x, w_rows, b, d, y);
      CHECK(max_abs_diff(y, expected) < 2e-5f * std::max(1.0f, expected.cwiseAbs().maxCoeff()));
      HostMatrix channel_major;
      cpu.conv2d(images, w, b, d, channel_major);
      CHECK(max_abs_diff(y, channel_major) < 2e-5f * std::max(1.0f, expected.cwiseAbs().maxCoeff()));
    }
  }
}

/// Attention as a naive loop in double: sequence b, head h, query i adds the
/// bias row ((b % bias_blocks) * heads + h) * query_len + i (no bias where
/// empty); grouped-query heads, a key stride and a causal mask as in
/// AttentionDims; no padding mask.
HostMatrix naive_windowed_attention(const HostMatrix& q, const HostMatrix& k, const HostMatrix& v,
                                    const HostMatrix& bias, const AttentionDims& d) {
  const long hd = d.head_dim;
  const long group = d.heads / d.effective_kv_heads();
  const long stride = d.effective_key_stride();
  const double scale = d.scale != 0.0f ? double(d.scale) : 1.0 / std::sqrt(double(hd));
  HostMatrix out(q.rows(), q.cols());
  for (long b = 0; b < d.batch; ++b)
    for (long h = 0; h < d.heads; ++h)
      for (long i = 0; i < d.query_len; ++i) {
        const long end = d.causal ? d.key_len - d.query_len + i + 1 : d.key_len;
        const long bias_row = ((b % d.bias_blocks) * d.heads + h) * d.query_len + i;
        std::vector<double> s(static_cast<std::size_t>(end));
        double top = -std::numeric_limits<double>::infinity();
        for (long j = 0; j < end; ++j) {
          double dot = 0;
          for (long e = 0; e < hd; ++e) {
            dot += double(q(b * d.query_len + i, h * hd + e)) * double(k(b * stride + j, h / group * hd + e));
          }
          s[std::size_t(j)] = dot * scale + (bias.size() ? double(bias(bias_row, j)) : 0.0);
          top = std::max(top, s[std::size_t(j)]);
        }
        double total = 0;
        for (auto& x : s) total += (x = std::exp(x - top));
        for (long e = 0; e < hd; ++e) {
          double acc = 0;
          for (long j = 0; j < end; ++j) acc += s[std::size_t(j)] * double(v(b * stride + j, h / group * hd + e));
          out(b * d.query_len + i, h * hd + e) = static_cast<float>(acc / total);
        }
      }
  return out;
}

void check_max_pool2d(const Pool2dDims& d, const HostMatrix& images) {
  CAPTURE(d.height);
  CAPTURE(d.width);
  CAPTURE(d.kernel);
  CAPTURE(d.stride);
  CAPTURE(d.padding);
  const HostMatrix x = nchw_to_rows(images, d.channels, d.height, d.width);
  const HostMatrix expected = torch_max_pool2d(images, d);
  REQUIRE(expected.rows() == long(d.batch) * d.out_height() * d.out_width());
  REQUIRE(expected.allFinite());
  for (Cpu& cpu : cpus()) {
    CAPTURE(cpu.threads());
    HostMatrix y;
    cpu.max_pool2d(x, d, y);
    CHECK(max_abs_diff(y, expected) == 0.0f);
  }
}

}  // namespace

TEST_CASE("detection conv2d_rows: PyTorch's conv2d on NCHW images, with the input as rows and the weight as (ky, kx, c)") {
  // batch, channels, height, width, out_channels, kernel, stride, padding
  check_conv2d_rows(Conv2dDims{1, 3, 13, 11, 5, 7, 2, 3}, 100);  // ResNet's stem, odd sizes
  check_conv2d_rows(Conv2dDims{2, 4, 9, 10, 6, 3, 1, 1}, 110);
  check_conv2d_rows(Conv2dDims{2, 4, 9, 10, 6, 3, 2, 1}, 120);
  check_conv2d_rows(Conv2dDims{1, 5, 8, 8, 3, 3, 2, 1}, 130);   // even sizes: the last window is inside
  check_conv2d_rows(Conv2dDims{2, 7, 5, 6, 4, 1, 1, 0}, 140);   // 1x1: linear
  check_conv2d_rows(Conv2dDims{2, 7, 9, 8, 4, 1, 2, 0}, 150);   // 1x1 stride 2: strided pixels
  check_conv2d_rows(Conv2dDims{1, 3, 4, 5, 2, 1, 1, 1}, 160);   // 1x1 with padding: border windows all padding
  check_conv2d_rows(Conv2dDims{1, 2, 3, 4, 3, 5, 1, 2}, 170);   // a kernel wider than the image
  check_conv2d_rows(Conv2dDims{2, 3, 11, 7, 4, 2, 3, 0}, 180);  // stride above the kernel
  check_conv2d_rows(Conv2dDims{1, 300, 3, 3, 5, 3, 1, 1}, 190); // long rows: a deep im2col
}

TEST_CASE("detection conv2d_rows: a 1x1 convolution with stride 1 is linear; the output is rewritten on reuse") {
  const Conv2dDims d{2, 6, 4, 5, 3, 1, 1, 0};
  const HostMatrix x = random_matrix(40, 6, 200);
  const HostMatrix w = random_matrix(3, 6, 201);
  const HostMatrix b = random_matrix(1, 3, 202);
  Cpu& cpu = cpus()[0];
  HostMatrix y = HostMatrix::Constant(7, 7, 99.0f);
  cpu.conv2d_rows(x, w, b, d, y);
  HostMatrix expected;
  cpu.linear(x, w, b, expected);
  CHECK(max_abs_diff(y, expected) == 0.0f);
  const Conv2dDims strided{2, 6, 4, 5, 3, 3, 2, 1};
  cpu.conv2d_rows(x, random_matrix(3, 54, 203), HostMatrix{}, strided, y);
  CHECK(y.rows() == 2 * 2 * 3);
  CHECK(y.cols() == 3);
}

TEST_CASE("detection max_pool2d: PyTorch's MaxPool2d, windows over the edges padded with -infinity") {
  // batch, channels, height, width, kernel, stride, padding. Negative inputs:
  // padding with zeros would win at every edge.
  for (const Pool2dDims& d : {Pool2dDims{2, 5, 13, 11, 3, 2, 1}, Pool2dDims{1, 4, 12, 10, 3, 2, 1},
                              Pool2dDims{1, 3, 7, 9, 3, 1, 1}, Pool2dDims{2, 3, 8, 6, 2, 2, 0},
                              Pool2dDims{1, 2, 9, 9, 5, 3, 2}, Pool2dDims{1, 70, 5, 4, 3, 2, 1}}) {
    const HostMatrix images = random_matrix(d.batch, long(d.channels) * d.height * d.width, 300, 1.0f, -2.0f);
    check_max_pool2d(d, images);
    check_max_pool2d(d, random_matrix(d.batch, long(d.channels) * d.height * d.width, 301, 3.0f));
  }
}

TEST_CASE("detection max_pool2d: hand-computed 3x3 stride 2 padding 1, and a NaN wins its windows") {
  // One channel, 4 x 4: -1 -2 -3 -4 / -5 -6 -7 -8 / ... / -13 -14 -15 -16.
  HostMatrix x(16, 1);
  for (long i = 0; i < 16; ++i) x(i, 0) = -float(i + 1);
  const Pool2dDims d{1, 1, 4, 4, 3, 2, 1};
  Cpu& cpu = cpus()[0];
  HostMatrix y;
  cpu.max_pool2d(x, d, y);
  REQUIRE(y.rows() == 4);
  // Windows rows/cols {0,1}, {1,2,3}: the top-left pixel of each is the largest.
  CHECK(y(0, 0) == -1.0f);
  CHECK(y(1, 0) == -2.0f);
  CHECK(y(2, 0) == -5.0f);
  CHECK(y(3, 0) == -6.0f);
  x(5, 0) = std::numeric_limits<float>::quiet_NaN();  // (1, 1): in every window
  cpu.max_pool2d(x, d, y);
  for (long r = 0; r < 4; ++r) CHECK(std::isnan(y(r, 0)));
}

TEST_CASE("detection sigmoid: 1 / (1 + exp(-x)), saturating without NaN") {
  HostMatrix x = random_matrix(37, 91, 400, 12.0f);
  x(0, 0) = 100.0f;
  x(0, 1) = -100.0f;
  x(0, 2) = 0.0f;
  HostMatrix expected(x.rows(), x.cols());
  for (long r = 0; r < x.rows(); ++r)
    for (long c = 0; c < x.cols(); ++c) expected(r, c) = static_cast<float>(1.0 / (1.0 + std::exp(-double(x(r, c)))));
  for (Cpu& cpu : cpus()) {
    HostMatrix y = x;
    cpu.sigmoid(y);
    CHECK(max_abs_diff(y, expected) < 1e-6f);
    CHECK(y(0, 0) == 1.0f);
    CHECK(y(0, 1) >= 0.0f);
    CHECK(y(0, 1) < 1e-30f);
    CHECK(y(0, 2) == doctest::Approx(0.5f));
  }
  HostMatrix big = random_matrix(300, 300, 401, 6.0f);  // past the parallel threshold
  HostMatrix one = big;
  cpus()[0].sigmoid(one);
  cpus()[1].sigmoid(big);
  CHECK(max_abs_diff(one, big) < 1e-6f);
}

TEST_CASE("detection conv2d_rows and max_pool2d: shape errors throw with the op and the shapes") {
  Cpu& cpu = cpus()[0];
  HostMatrix y;
  using doctest::Contains;

  const Conv2dDims c{2, 3, 8, 6, 4, 3, 2, 1};
  const HostMatrix x = random_matrix(96, 3, 500);
  const HostMatrix w = random_matrix(4, 27, 501);
  CHECK_NOTHROW(cpu.conv2d_rows(x, w, HostMatrix{}, c, y));
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(random_matrix(2, 144, 502), w, HostMatrix{}, c, y),
                       Contains("conv2d_rows: input is [2, 144], expected [batch * height * width, channels] = [96, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(random_matrix(96, 4, 503), w, HostMatrix{}, c, y),
                       Contains("conv2d_rows: input is [96, 4]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(x, random_matrix(4, 36, 504), HostMatrix{}, c, y),
                       Contains("conv2d_rows: weight is [4, 36], expected [out_channels, kernel * kernel * channels] = [4, 27]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(x, w, random_matrix(1, 5, 505), c, y),
                       Contains("conv2d_rows: bias is [1, 5], expected [1, 4] or empty"), std::invalid_argument);
  Conv2dDims big_kernel = c;
  big_kernel.kernel = 11;
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(x, random_matrix(4, 363, 506), HostMatrix{}, big_kernel, y),
                       Contains("conv2d_rows: kernel 11 exceeds the padded 8 x 6 image"), std::invalid_argument);
  Conv2dDims no_stride = c;
  no_stride.stride = 0;
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(x, w, HostMatrix{}, no_stride, y), Contains("conv2d_rows: batch 2"),
                       std::invalid_argument);
  Conv2dDims negative_padding = c;
  negative_padding.padding = -1;
  CHECK_THROWS_AS(cpu.conv2d_rows(x, w, HostMatrix{}, negative_padding, y), std::invalid_argument);
  HostMatrix same = x;
  CHECK_THROWS_WITH_AS(cpu.conv2d_rows(same, w, HostMatrix{}, c, same), Contains("conv2d_rows: the output must not be"),
                       std::invalid_argument);

  const Pool2dDims p{2, 3, 8, 6, 3, 2, 1};
  CHECK_NOTHROW(cpu.max_pool2d(x, p, y));
  CHECK_THROWS_WITH_AS(cpu.max_pool2d(random_matrix(95, 3, 507), p, y),
                       Contains("max_pool2d: input is [95, 3], expected [batch * height * width, channels] = [96, 3]"),
                       std::invalid_argument);
  Pool2dDims wide_padding = p;
  wide_padding.padding = 2;
  CHECK_THROWS_WITH_AS(cpu.max_pool2d(x, wide_padding, y), Contains("max_pool2d: padding 2 exceeds half the kernel 3"),
                       std::invalid_argument);
  Pool2dDims big_window = p;
  big_window.kernel = 9;
  big_window.padding = 0;
  CHECK_THROWS_WITH_AS(cpu.max_pool2d(x, big_window, y), Contains("max_pool2d: kernel 9 exceeds the padded 8 x 6 image"),
                       std::invalid_argument);
  Pool2dDims no_channels = p;
  no_channels.channels = 0;
  CHECK_THROWS_WITH_AS(cpu.max_pool2d(x, no_channels, y), Contains("max_pool2d: batch 2, channels 0"),
                       std::invalid_argument);
  HostMatrix pooled_in_place = x;
  CHECK_THROWS_WITH_AS(cpu.max_pool2d(pooled_in_place, p, pooled_in_place), Contains("max_pool2d: the output must not be"),
                       std::invalid_argument);
}

TEST_CASE("window attention: sequence b adds bias block b % bias_blocks, as a naive loop") {
  // 6 windows of 4 queries against 5 keys, 2 heads of 8; 1, 2, 3 and 4 blocks
  // (4 does not divide the batch: windows 4 and 5 take blocks 0 and 1 again).
  AttentionDims d{.batch = 6, .query_len = 4, .key_len = 5, .heads = 2, .head_dim = 8};
  const HostMatrix q = random_matrix(24, 16, 600), k = random_matrix(30, 16, 601), v = random_matrix(30, 16, 602);
  for (const int blocks : {1, 2, 3, 4, 6}) {
    CAPTURE(blocks);
    d.bias_blocks = blocks;
    const HostMatrix bias = random_matrix(long(blocks) * 2 * 4, 5, 603 + unsigned(blocks), 3.0f);
    const HostMatrix expected = naive_windowed_attention(q, k, v, bias, d);
    for (Cpu& cpu : cpus()) {
      CAPTURE(cpu.threads());
      HostMatrix y;
      cpu.attention(q, k, v, HostMatrix{}, bias, d, y);
      CHECK(max_abs_diff(y, expected) < 2e-6f);
    }
  }
  // Grouped-query heads on a cache, causal: the block still follows the sequence.
  const AttentionDims c{.batch = 4, .query_len = 3, .key_len = 6, .heads = 4, .head_dim = 4, .kv_heads = 2,
                        .key_stride = 7, .causal = true, .scale = 0.5f, .bias_blocks = 2};
  const HostMatrix qc = random_matrix(12, 16, 610), kc = random_matrix(28, 8, 611), vc = random_matrix(28, 8, 612);
  const HostMatrix bc = random_matrix(2 * 4 * 3, 6, 613, 2.0f);
  for (Cpu& cpu : cpus()) {
    CAPTURE(cpu.threads());
    HostMatrix y;
    cpu.attention(qc, kc, vc, HostMatrix{}, bc, c, y);
    CHECK(max_abs_diff(y, naive_windowed_attention(qc, kc, vc, bc, c)) < 2e-6f);
  }
}

TEST_CASE("window attention: one block is the old bias; repeated blocks equal one; no bias ignores bias_blocks") {
  AttentionDims one{.batch = 3, .query_len = 4, .key_len = 4, .heads = 2, .head_dim = 8};
  REQUIRE(one.bias_blocks == 1);  // the default
  const HostMatrix q = random_matrix(12, 16, 620), k = random_matrix(12, 16, 621), v = random_matrix(12, 16, 622);
  const HostMatrix bias = random_matrix(2 * 4, 4, 623, 3.0f);
  Cpu& cpu = cpus()[0];
  HostMatrix y;
  cpu.attention(q, k, v, HostMatrix{}, bias, one, y);
  // The old rule: head h, query i adds row h * query_len + i, whatever the sequence.
  CHECK(max_abs_diff(y, naive_windowed_attention(q, k, v, bias, one)) < 2e-6f);
  HostMatrix each;
  for (long b = 0; b < 3; ++b) {
    AttentionDims single = one;
    single.batch = 1;
    cpu.attention(q.middleRows(b * 4, 4), k.middleRows(b * 4, 4), v.middleRows(b * 4, 4), HostMatrix{}, bias, single,
                  each);
    CHECK(max_abs_diff(HostMatrix(y.middleRows(b * 4, 4)), each) == 0.0f);
  }

  AttentionDims three = one;
  three.bias_blocks = 3;
  HostMatrix repeated(3 * 2 * 4, 4);
  repeated << bias, bias, bias;
  HostMatrix z;
  cpu.attention(q, k, v, HostMatrix{}, repeated, three, z);
  CHECK(max_abs_diff(z, y) == 0.0f);

  HostMatrix unbiased, unbiased_three;
  cpu.attention(q, k, v, HostMatrix{}, HostMatrix{}, one, unbiased);
  cpu.attention(q, k, v, HostMatrix{}, HostMatrix{}, three, unbiased_three);
  CHECK(max_abs_diff(unbiased, unbiased_three) == 0.0f);
  CHECK(max_abs_diff(unbiased, y) > 1e-3f);  // the bias mattered
}

TEST_CASE("window attention: bias_blocks below 1 and a bias of the wrong row count throw") {
  using doctest::Contains;
  Cpu& cpu = cpus()[0];
  AttentionDims d{.batch = 6, .query_len = 4, .key_len = 5, .heads = 2, .head_dim = 8, .bias_blocks = 3};
  const HostMatrix q = random_matrix(24, 16, 630), k = random_matrix(30, 16, 631), v = random_matrix(30, 16, 632);
  HostMatrix y;
  CHECK_NOTHROW(cpu.attention(q, k, v, HostMatrix{}, random_matrix(24, 5, 633), d, y));
  CHECK_THROWS_WITH_AS(cpu.attention(q, k, v, HostMatrix{}, random_matrix(8, 5, 634), d, y),
                       Contains("attention: the position bias is [8, 5], expected [bias_blocks * heads * query_len, "
                                "key_len] = [24, 5]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.attention(q, k, v, HostMatrix{}, random_matrix(24, 4, 635), d, y),
                       Contains("attention: the position bias is [24, 4]"), std::invalid_argument);
  d.bias_blocks = 1;
  CHECK_THROWS_WITH_AS(cpu.attention(q, k, v, HostMatrix{}, random_matrix(24, 5, 636), d, y),
                       Contains("expected [bias_blocks * heads * query_len, key_len] = [8, 5]"), std::invalid_argument);
  for (const int bad : {0, -2}) {
    d.bias_blocks = bad;
    CHECK_THROWS_WITH_AS(cpu.attention(q, k, v, HostMatrix{}, HostMatrix{}, d, y),
                         Contains(("attention: bias_blocks = " + std::to_string(bad) + " must be positive").c_str()),
                         std::invalid_argument);
    CHECK_THROWS_AS(cpu.attention(q, k, v, HostMatrix{}, d, y), std::invalid_argument);
  }
}

TEST_CASE("window reshape: the values in row-major order under the new shape, a copy") {
  const HostMatrix x = random_matrix(6, 10, 640);
  for (Cpu& cpu : cpus()) {
    for (const auto& shape : std::vector<std::array<int, 2>>{{4, 15}, {60, 1}, {1, 60}, {6, 10}, {12, 5}}) {
      const int rows = shape[0];
      const int cols = shape[1];
      CAPTURE(rows);
      CAPTURE(cols);
      HostMatrix y = HostMatrix::Constant(3, 3, 7.0f);  // reused: resized
      cpu.reshape(x, rows, cols, y);
      REQUIRE(y.rows() == rows);
      REQUIRE(y.cols() == cols);
      for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) CHECK(y(r, c) == x((r * cols + c) / 10, (r * cols + c) % 10));
      CHECK(y.data() != x.data());
    }
    HostMatrix empty;
    cpu.reshape(HostMatrix(0, 4), 0, 9, empty);
    CHECK(empty.rows() == 0);
    CHECK(empty.cols() == 9);
  }
}

TEST_CASE("window reshape: a different element count, a negative side or the input as output throw") {
  using doctest::Contains;
  Cpu& cpu = cpus()[0];
  HostMatrix x = random_matrix(6, 10, 650);
  HostMatrix y;
  CHECK_THROWS_WITH_AS(cpu.reshape(x, 4, 16, y), Contains("reshape: [6, 10] cannot be reshaped to [4, 16]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.reshape(x, -6, -10, y), Contains("reshape: [6, 10] cannot be reshaped to [-6, -10]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.reshape(x, 60, 1, x), Contains("reshape: the output must not be the input"),
                       std::invalid_argument);
}

TEST_CASE("window mul: y *= x element by element, in place, on one and two threads") {
  // [7, 13] stays on one thread; [300, 130] (39000 elements) splits its rows across two.
  for (const auto& shape : std::vector<std::array<long, 2>>{{7, 13}, {300, 130}, {1, 1}}) {
    const long rows = shape[0];
    const long cols = shape[1];
    CAPTURE(rows);
    CAPTURE(cols);
    const HostMatrix x = random_matrix(rows, cols, 670, 2.0f);
    const HostMatrix y0 = random_matrix(rows, cols, 671, 2.0f);
    for (Cpu& cpu : cpus()) {
      CAPTURE(cpu.threads());
      HostMatrix y = y0;
      const float* storage = y.data();
      cpu.mul(x, y);
      REQUIRE(y.rows() == rows);
      REQUIRE(y.cols() == cols);
      CHECK(y.data() == storage);  // in place: y's own storage
      long wrong = 0;
      for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) wrong += y(r, c) != y0(r, c) * x(r, c);
      CHECK(wrong == 0);
    }
  }
  Cpu& cpu = cpus()[0];
  const HostMatrix x{{1.5f, -2.0f, 0.0f}, {4.0f, 0.5f, -1.0f}};
  HostMatrix y{{2.0f, 3.0f, 7.0f}, {-0.25f, 8.0f, -6.0f}};
  cpu.mul(x, y);
  CHECK(y == HostMatrix{{3.0f, -6.0f, 0.0f}, {-1.0f, 4.0f, 6.0f}});
  cpu.mul(x, y);  // again: the product accumulates in y, x unchanged
  CHECK(y == HostMatrix{{4.5f, 12.0f, 0.0f}, {-4.0f, 2.0f, -6.0f}});
  HostMatrix z = x;
  cpu.mul(z, z);  // x and y the same tensor: the squares
  CHECK(z == HostMatrix{{2.25f, 4.0f, 0.0f}, {16.0f, 0.25f, 1.0f}});
  HostMatrix empty(0, 5);
  cpu.mul(HostMatrix(0, 5), empty);
  CHECK(empty.rows() == 0);
  CHECK(empty.cols() == 5);
}

TEST_CASE("window mul: shapes that differ throw and leave y unchanged") {
  using doctest::Contains;
  Cpu& cpu = cpus()[0];
  const HostMatrix x = random_matrix(7, 13, 680);
  HostMatrix y = random_matrix(13, 7, 681);
  const HostMatrix before = y;
  CHECK_THROWS_WITH_AS(cpu.mul(x, y), Contains("mul: shapes differ, [7, 13] and [13, 7]"), std::invalid_argument);
  CHECK(y == before);
  HostMatrix row = random_matrix(1, 13, 682);
  CHECK_THROWS_WITH_AS(cpu.mul(x, row), Contains("mul: shapes differ, [7, 13] and [1, 13]"), std::invalid_argument);
}

TEST_CASE("window ops on the plain backend: the bias block per sequence, reshape, and their errors") {
  using doctest::Contains;
  using accelbench::test::NaiveBackend;
  NaiveBackend plain;
  AttentionDims d{.batch = 5, .query_len = 3, .key_len = 4, .heads = 2, .head_dim = 4, .bias_blocks = 2};
  const HostMatrix q = random_matrix(15, 8, 660), k = random_matrix(20, 8, 661), v = random_matrix(20, 8, 662);
  const HostMatrix bias = random_matrix(2 * 2 * 3, 4, 663, 3.0f);
  NaiveBackend::Tensor y;
  plain.attention(plain.upload(q), plain.upload(k), plain.upload(v), NaiveBackend::Tensor{}, plain.upload(bias), d, y);
  CHECK(max_abs_diff(plain.download(y), naive_windowed_attention(q, k, v, bias, d)) < 2e-6f);
  CHECK_THROWS_WITH_AS(plain.attention(plain.upload(q), plain.upload(k), plain.upload(v), NaiveBackend::Tensor{},
                                       plain.upload(random_matrix(6, 4, 664)), d, y),
                       Contains("bias_blocks"), std::invalid_argument);
  d.bias_blocks = 0;
  CHECK_THROWS_WITH_AS(plain.attention(plain.upload(q), plain.upload(k), plain.upload(v), NaiveBackend::Tensor{},
                                       NaiveBackend::Tensor{}, d, y),
                       Contains("bias_blocks = 0"), std::invalid_argument);
  const NaiveBackend::Tensor x = plain.upload(random_matrix(6, 10, 665));
  plain.reshape(x, 4, 15, y);
  CHECK(y.rows == 4);
  CHECK(y.cols == 15);
  CHECK(y.data == x.data);
  CHECK_THROWS_WITH_AS(plain.reshape(x, 4, 16, y), Contains("[6, 10] cannot be reshaped to [4, 16]"),
                       std::invalid_argument);
}

TEST_CASE("window mul on the plain backend: in place, as on Cpu, and its shape error") {
  using doctest::Contains;
  using accelbench::test::NaiveBackend;
  NaiveBackend plain;
  Cpu& cpu = cpus()[0];
  const HostMatrix x = random_matrix(7, 13, 690, 2.0f);
  HostMatrix ref = random_matrix(7, 13, 691, 2.0f);
  NaiveBackend::Tensor y = plain.upload(ref);
  plain.mul(plain.upload(x), y);
  cpu.mul(x, ref);
  CHECK(plain.download(y) == ref);  // one float product per element: bit for bit
  NaiveBackend::Tensor wrong = plain.upload(random_matrix(13, 7, 692));
  CHECK_THROWS_WITH_AS(plain.mul(plain.upload(x), wrong), Contains("plain mul: shapes differ, [7, 13] and [13, 7]"),
                       std::invalid_argument);
}
