// The Cpu backend's vision, audio and multimodal ops (PerceptionOps) against
// the direct-loop implementations of naive_backend.hpp, on random inputs of
// awkward sizes and on one and two threads, plus hand-computed cases, the
// layouts of Conv2dDims, Conv1dDims and GroupNormDims, and shape errors.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <array>
#include <cmath>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <vector>

#include "naive_backend.hpp"

using accelbench::Conv1dDims;
using accelbench::Conv2dDims;
using accelbench::Cpu;
using accelbench::GroupNormDims;
using accelbench::HostMatrix;
using accelbench::test::NaiveBackend;

namespace {

/// Uniform in [offset - scale, offset + scale], from a fixed-seed generator.
HostMatrix random_matrix(long rows, long cols, unsigned seed, float scale = 1.0f, float offset = 0.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = offset + dist(gen);
  return m;
}

HostMatrix matrix(long rows, long cols, std::initializer_list<float> values) {
  REQUIRE(long(values.size()) == rows * cols);
  HostMatrix m(rows, cols);
  auto it = values.begin();
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = *it++;
  return m;
}

float max_abs_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

/// Two Cpu backends (one and two threads) and the plain-loop reference.
struct Backends {
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  NaiveBackend naive;

  std::array<Cpu*, 2> cpus() { return {&one, &two}; }

  NaiveBackend::Tensor up(const HostMatrix& m) const { return m.size() ? naive.upload(m) : NaiveBackend::Tensor{}; }

  HostMatrix conv2d(const HostMatrix& x, const HostMatrix& w, const HostMatrix& b, const Conv2dDims& d) {
    NaiveBackend::Tensor y;
    naive.conv2d(up(x), up(w), up(b), d, y);
    return naive.download(y);
  }
  HostMatrix conv1d(const HostMatrix& x, const HostMatrix& w, const HostMatrix& b, const Conv1dDims& d) {
    NaiveBackend::Tensor y;
    naive.conv1d(up(x), up(w), up(b), d, y);
    return naive.download(y);
  }
  HostMatrix group_norm(const HostMatrix& x, const HostMatrix& g, const HostMatrix& b, const GroupNormDims& d,
                        float eps) {
    NaiveBackend::Tensor y;
    naive.group_norm(up(x), up(g), up(b), d, eps, y);
    return naive.download(y);
  }
};

HostMatrix cpu_conv2d(Cpu& cpu, const HostMatrix& x, const HostMatrix& w, const HostMatrix& b, const Conv2dDims& d) {
  HostMatrix y;
  cpu.conv2d(x, w, b, d, y);
  return y;
}

HostMatrix cpu_conv1d(Cpu& cpu, const HostMatrix& x, const HostMatrix& w, const HostMatrix& b, const Conv1dDims& d) {
  HostMatrix y;
  cpu.conv1d(x, w, b, d, y);
  return y;
}

/// Random weights and input of a conv2d, checked against the naive loops
/// with and without a bias.
void check_conv2d(Backends& be, const Conv2dDims& d, unsigned seed, float tolerance) {
  const HostMatrix x = random_matrix(d.batch, long(d.channels) * d.height * d.width, seed);
  const HostMatrix w = random_matrix(d.out_channels, long(d.channels) * d.kernel * d.kernel, seed + 1, 0.5f);
  const HostMatrix bias = random_matrix(1, d.out_channels, seed + 2);
  for (const bool with_bias : {true, false}) {
    CAPTURE(with_bias);
    const HostMatrix b = with_bias ? bias : HostMatrix{};
    const HostMatrix expected = be.conv2d(x, w, b, d);
    REQUIRE(expected.rows() == long(d.batch) * d.out_height() * d.out_width());
    REQUIRE(expected.cols() == d.out_channels);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      CHECK(max_abs_diff(cpu_conv2d(*cpu, x, w, b, d), expected) < tolerance);
    }
  }
}

void check_conv1d(Backends& be, const Conv1dDims& d, unsigned seed, float tolerance) {
  const HostMatrix x = random_matrix(long(d.batch) * d.length, d.in_channels, seed);
  const HostMatrix w = random_matrix(d.out_channels, long(d.in_channels / d.groups) * d.kernel, seed + 1, 0.5f);
  const HostMatrix bias = random_matrix(1, d.out_channels, seed + 2);
  for (const bool with_bias : {true, false}) {
    CAPTURE(with_bias);
    const HostMatrix b = with_bias ? bias : HostMatrix{};
    const HostMatrix expected = be.conv1d(x, w, b, d);
    REQUIRE(expected.rows() == long(d.batch) * d.out_length());
    REQUIRE(expected.cols() == d.out_channels);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      CHECK(max_abs_diff(cpu_conv1d(*cpu, x, w, b, d), expected) < tolerance);
    }
  }
}

}  // namespace

// ---- conv2d ----

TEST_CASE("perception conv2d: patch embedding (kernel = stride = 8) matches the naive loops") {
  Backends be;
  // 32x32 and 48x48 images of 3 channels cut into 4x4 and 6x6 patches; the
  // batch of 5 48x48 images is large enough for the two-thread im2col split.
  for (const int size : {32, 48}) {
    for (const int batch : {1, 2, 5}) {
      CAPTURE(size);
      CAPTURE(batch);
      const Conv2dDims d{.batch = batch, .channels = 3, .height = size, .width = size, .out_channels = 19,
                         .kernel = 8, .stride = 8};
      check_conv2d(be, d, 100u + unsigned(size + batch), 1e-5f);
    }
  }
}

TEST_CASE("perception conv2d: kernel 3, stride 2, padding 1 on odd sizes matches the naive loops") {
  Backends be;
  const std::vector<Conv2dDims> cases = {
      {.batch = 2, .channels = 5, .height = 13, .width = 11, .out_channels = 7, .kernel = 3, .stride = 2, .padding = 1},
      {.batch = 3, .channels = 5, .height = 33, .width = 29, .out_channels = 6, .kernel = 3, .stride = 2, .padding = 1},
      // Stride 1 with padding 2: windows that reach two pixels past each edge.
      {.batch = 1, .channels = 2, .height = 7, .width = 9, .out_channels = 3, .kernel = 3, .stride = 1, .padding = 2},
      // A kernel as large as the padded image: a single output position.
      {.batch = 2, .channels = 3, .height = 5, .width = 4, .out_channels = 4, .kernel = 6, .stride = 3, .padding = 1},
      // Patches that do not tile the image: the last column and row are left out.
      {.batch = 2, .channels = 3, .height = 19, .width = 21, .out_channels = 5, .kernel = 4, .stride = 4},
  };
  unsigned seed = 200;
  for (const Conv2dDims& d : cases) {
    CAPTURE(d.height);
    CAPTURE(d.width);
    CAPTURE(d.kernel);
    CAPTURE(d.padding);
    check_conv2d(be, d, seed += 10, 1e-5f);
  }
}

TEST_CASE("perception conv2d: hand-computed cases") {
  Backends be;
  // A 1-channel 4x4 image of 1..16 cut into 2x2 patches. Output channel 0
  // weighs the taps (0,0), (0,1), (1,0), (1,1) by 1, 2, 3, 4; channel 1 takes
  // the top-left pixel plus a bias of 0.5.
  {
    const HostMatrix x = matrix(1, 16, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
    const HostMatrix w = matrix(2, 4, {1, 2, 3, 4, 1, 0, 0, 0});
    const HostMatrix b = matrix(1, 2, {0, 0.5f});
    const Conv2dDims d{.batch = 1, .channels = 1, .height = 4, .width = 4, .out_channels = 2, .kernel = 2, .stride = 2};
    // Patches in row-major order: [1 2; 5 6], [3 4; 7 8], [9 10; 13 14], [11 12; 15 16].
    const HostMatrix expected = matrix(4, 2, {44, 1.5f, 64, 3.5f, 124, 9.5f, 144, 11.5f});
    CHECK(max_abs_diff(be.conv2d(x, w, b, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv2d(*cpu, x, w, b, d), expected) == 0.0f);
  }
  // Channel-major input: a 2-channel 2x2 image; the weight sums channel 0 and
  // takes channel 1's bottom-right pixel.
  {
    const HostMatrix x = matrix(1, 8, {1, 2, 3, 4, 10, 20, 30, 40});
    const HostMatrix w = matrix(1, 8, {1, 1, 1, 1, 0, 0, 0, 1});
    const Conv2dDims d{.batch = 1, .channels = 2, .height = 2, .width = 2, .out_channels = 1, .kernel = 2};
    const HostMatrix expected = matrix(1, 1, {50});
    CHECK(max_abs_diff(be.conv2d(x, w, HostMatrix{}, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv2d(*cpu, x, w, HostMatrix{}, d), expected) == 0.0f);
  }
  // Zero padding: the 2x2 image [1 2; 3 4], a 3x3 kernel of taps 1..9 and
  // padding 1; window (0,0) puts pixel (0,0) on tap 5, so 1*5 + 2*6 + 3*8 + 4*9.
  {
    const HostMatrix x = matrix(1, 4, {1, 2, 3, 4});
    const HostMatrix w = matrix(1, 9, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const Conv2dDims d{.batch = 1, .channels = 1, .height = 2, .width = 2, .out_channels = 1, .kernel = 3, .stride = 1,
                       .padding = 1};
    const HostMatrix expected = matrix(4, 1, {77, 67, 47, 37});
    CHECK(max_abs_diff(be.conv2d(x, w, HostMatrix{}, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv2d(*cpu, x, w, HostMatrix{}, d), expected) == 0.0f);
  }
}

// ---- conv1d ----

TEST_CASE("perception conv1d: strides, padding and groups match the naive loops") {
  Backends be;
  struct Case {
    const char* what;
    Conv1dDims d;
  };
  const std::vector<Case> cases = {
      {"kernel 3, stride 2, padding 1",
       {.batch = 2, .length = 37, .in_channels = 12, .out_channels = 8, .kernel = 3, .stride = 2, .padding = 1}},
      {"one sequence, one group, padding (a threaded GEMM)",
       {.batch = 1, .length = 41, .in_channels = 20, .out_channels = 24, .kernel = 3, .stride = 1, .padding = 1}},
      {"Whisper's second: stride 2, padding 1",
       {.batch = 3, .length = 30, .in_channels = 24, .out_channels = 24, .kernel = 3, .stride = 2, .padding = 1}},
      {"raw waveform: 1 channel, kernel 10, stride 5",
       {.batch = 2, .length = 403, .in_channels = 1, .out_channels = 24, .kernel = 10, .stride = 5}},
      {"raw waveform, one sequence",
       {.batch = 1, .length = 96, .in_channels = 1, .out_channels = 7, .kernel = 10, .stride = 5}},
      {"wav2vec2's feature encoder: kernel 3, stride 2, no padding",
       {.batch = 2, .length = 79, .in_channels = 24, .out_channels = 24, .kernel = 3, .stride = 2}},
      {"kernel 2, stride 2, no padding",
       {.batch = 2, .length = 39, .in_channels = 24, .out_channels = 16, .kernel = 2, .stride = 2}},
      {"16 groups of 2 channels, even kernel 4, padding 2 (out_length = length + 1)",
       {.batch = 3, .length = 29, .in_channels = 32, .out_channels = 32, .kernel = 4, .stride = 1, .padding = 2,
        .groups = 16}},
      {"wav2vec2's positional convolution, scaled down: 16 groups of 3, kernel 16, padding 8",
       {.batch = 2, .length = 40, .in_channels = 48, .out_channels = 48, .kernel = 16, .stride = 1, .padding = 8,
        .groups = 16}},
      {"depthwise: groups = channels, kernel 5, padding 2",
       {.batch = 2, .length = 23, .in_channels = 8, .out_channels = 8, .kernel = 5, .stride = 1, .padding = 2,
        .groups = 8}},
      {"2 groups with 3 outputs each, stride 3, padding 3",
       {.batch = 1, .length = 17, .in_channels = 10, .out_channels = 6, .kernel = 4, .stride = 3, .padding = 3,
        .groups = 2}},
      {"kernel 1: a per-time-step linear map in 2 groups",
       {.batch = 2, .length = 11, .in_channels = 6, .out_channels = 4, .kernel = 1, .groups = 2}},
      {"kernel = padded length: one output",
       {.batch = 2, .length = 5, .in_channels = 4, .out_channels = 3, .kernel = 7, .stride = 2, .padding = 1}},
  };
  unsigned seed = 300;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    check_conv1d(be, c.d, seed += 10, 2e-5f);
  }
  // An even kernel with padding of half its size adds one step (wav2vec2's
  // positional convolution, whose extra step the model drops).
  CHECK(cases[7].d.out_length() == cases[7].d.length + 1);
}

TEST_CASE("perception conv1d: hand-computed cases") {
  Backends be;
  // 1 channel [1 2 3 4 5], taps 1, 10, 100, stride 2, padding 1, bias 0.5:
  // windows [0 1 2], [2 3 4], [4 5 0].
  {
    const HostMatrix x = matrix(5, 1, {1, 2, 3, 4, 5});
    const HostMatrix w = matrix(1, 3, {1, 10, 100});
    const HostMatrix b = matrix(1, 1, {0.5f});
    const Conv1dDims d{.batch = 1, .length = 5, .in_channels = 1, .out_channels = 1, .kernel = 3, .stride = 2,
                       .padding = 1};
    const HostMatrix expected = matrix(3, 1, {210.5f, 432.5f, 54.5f});
    CHECK(max_abs_diff(be.conv1d(x, w, b, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv1d(*cpu, x, w, b, d), expected) == 0.0f);
  }
  // Time steps are rows, channels columns; the weight is PyTorch's
  // [out, in, kernel]: (channel 0: taps 1, 2; channel 1: taps 3, 4).
  const HostMatrix x = matrix(3, 2, {1, 10, 2, 20, 3, 30});
  {
    const HostMatrix w = matrix(1, 4, {1, 2, 3, 4});
    const Conv1dDims d{.batch = 1, .length = 3, .in_channels = 2, .out_channels = 1, .kernel = 2};
    // 1*1 + 2*2 + 10*3 + 20*4 = 115; 2*1 + 3*2 + 20*3 + 30*4 = 188.
    const HostMatrix expected = matrix(2, 1, {115, 188});
    CHECK(max_abs_diff(be.conv1d(x, w, HostMatrix{}, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv1d(*cpu, x, w, HostMatrix{}, d), expected) == 0.0f);
  }
  // Two groups: output 0 sees channel 0 only (taps 1, 2), output 1 channel 1 (taps 3, 4).
  {
    const HostMatrix w = matrix(2, 2, {1, 2, 3, 4});
    const Conv1dDims d{.batch = 1, .length = 3, .in_channels = 2, .out_channels = 2, .kernel = 2, .groups = 2};
    const HostMatrix expected = matrix(2, 2, {5, 110, 8, 180});
    CHECK(max_abs_diff(be.conv1d(x, w, HostMatrix{}, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv1d(*cpu, x, w, HostMatrix{}, d), expected) == 0.0f);
  }
  // Two sequences of 2 steps, kernel 2 with padding 1: no window mixes the sequences.
  {
    const HostMatrix x2 = matrix(4, 1, {1, 2, 100, 200});
    const HostMatrix w = matrix(1, 2, {1, 1});
    const Conv1dDims d{.batch = 2, .length = 2, .in_channels = 1, .out_channels = 1, .kernel = 2, .padding = 1};
    const HostMatrix expected = matrix(6, 1, {1, 3, 2, 100, 300, 200});
    CHECK(max_abs_diff(be.conv1d(x2, w, HostMatrix{}, d), expected) == 0.0f);
    for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_conv1d(*cpu, x2, w, HostMatrix{}, d), expected) == 0.0f);
  }
}

TEST_CASE("perception conv1d: a Cpu reused across shapes gives the same results") {
  // The scratch buffers of one shape must not leak into the next.
  Backends be;
  const Conv1dDims big{.batch = 2, .length = 50, .in_channels = 32, .out_channels = 32, .kernel = 4, .stride = 1,
                       .padding = 2, .groups = 16};
  const Conv1dDims small{.batch = 1, .length = 9, .in_channels = 6, .out_channels = 4, .kernel = 3, .stride = 2,
                         .padding = 1, .groups = 2};
  const HostMatrix xb = random_matrix(100, 32, 401), wb = random_matrix(32, 8, 402);
  const HostMatrix xs = random_matrix(9, 6, 403), ws = random_matrix(4, 9, 404);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    const HostMatrix first = cpu_conv1d(*cpu, xs, ws, HostMatrix{}, small);
    (void)cpu_conv1d(*cpu, xb, wb, HostMatrix{}, big);
    CHECK(max_abs_diff(cpu_conv1d(*cpu, xs, ws, HostMatrix{}, small), first) == 0.0f);
    CHECK(max_abs_diff(first, be.conv1d(xs, ws, HostMatrix{}, small)) < 1e-5f);
  }
}

// ---- group_norm ----

TEST_CASE("perception group_norm: per-channel and grouped normalisation match the naive loops") {
  Backends be;
  struct Case {
    const char* what;
    GroupNormDims d;
    long channels;
  };
  const std::vector<Case> cases = {
      {"groups = channels (wav2vec2's per-channel norm)", {.batch = 2, .length = 37, .groups = 24}, 24},
      {"5 groups of 6", {.batch = 3, .length = 19, .groups = 5}, 30},
      {"one group", {.batch = 1, .length = 13, .groups = 1}, 10},
      {"per-channel, long (the threaded split)", {.batch = 1, .length = 700, .groups = 64}, 64},
      {"4 groups, two sequences (the threaded split)", {.batch = 2, .length = 301, .groups = 4}, 60},
      {"5 groups of 14, one sequence (split into uneven chunks of groups)", {.batch = 1, .length = 500, .groups = 5}, 70},
  };
  unsigned seed = 500;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    // An offset of 3 with a spread of 0.5: a one-pass variance in float would lose digits.
    const HostMatrix x = random_matrix(long(c.d.batch) * c.d.length, c.channels, seed += 10, 0.5f, 3.0f);
    const HostMatrix gamma = random_matrix(1, c.channels, seed + 1, 1.0f, 1.0f);
    const HostMatrix beta = random_matrix(1, c.channels, seed + 2);
    const HostMatrix expected = be.group_norm(x, gamma, beta, c.d, 1e-5f);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      HostMatrix y;
      cpu->group_norm(x, gamma, beta, c.d, 1e-5f, y);
      CHECK(max_abs_diff(y, expected) < 1e-5f);
      HostMatrix in_place = x;  // y may be x
      cpu->group_norm(in_place, gamma, beta, c.d, 1e-5f, in_place);
      CHECK(max_abs_diff(in_place, y) == 0.0f);
    }
  }
}

TEST_CASE("perception group_norm: hand-computed cases with the biased variance") {
  Backends be;
  // Two time steps [1 2; 3 4], gamma [1 2], beta [0 1], eps 0.
  const HostMatrix x = matrix(2, 2, {1, 2, 3, 4});
  const HostMatrix gamma = matrix(1, 2, {1, 2});
  const HostMatrix beta = matrix(1, 2, {0, 1});
  // Per channel: channel 0 is [1 3] (mean 2, variance 1), channel 1 [2 4].
  {
    const GroupNormDims d{.batch = 1, .length = 2, .groups = 2};
    const HostMatrix expected = matrix(2, 2, {-1, -1, 1, 3});
    CHECK(max_abs_diff(be.group_norm(x, gamma, beta, d, 0.0f), expected) < 1e-6f);
    for (Cpu* cpu : be.cpus()) {
      HostMatrix y;
      cpu->group_norm(x, gamma, beta, d, 0.0f, y);
      CHECK(max_abs_diff(y, expected) < 1e-6f);
    }
  }
  // One group of all four values: mean 2.5, biased variance 1.25 (not 5/3).
  {
    const GroupNormDims d{.batch = 1, .length = 2, .groups = 1};
    // (x - 2.5) / sqrt(1.25) = -1.3416408, -0.4472136, 0.4472136, 1.3416408; then * gamma + beta.
    const HostMatrix expected = matrix(2, 2, {-1.3416408f, 0.1055728f, 0.4472136f, 3.6832816f});
    CHECK(max_abs_diff(be.group_norm(x, gamma, beta, d, 0.0f), expected) < 1e-6f);
    for (Cpu* cpu : be.cpus()) {
      HostMatrix y;
      cpu->group_norm(x, gamma, beta, d, 0.0f, y);
      CHECK(max_abs_diff(y, expected) < 1e-6f);
    }
  }
  // Two sequences are normalised separately: [1; 3] and [101; 103] give the same result.
  {
    const HostMatrix x2 = matrix(4, 1, {1, 3, 101, 103});
    const HostMatrix one = matrix(1, 1, {1});
    const HostMatrix zero = matrix(1, 1, {0});
    const GroupNormDims d{.batch = 2, .length = 2, .groups = 1};
    const HostMatrix expected = matrix(4, 1, {-1, 1, -1, 1});
    for (Cpu* cpu : be.cpus()) {
      HostMatrix y;
      cpu->group_norm(x2, one, zero, d, 0.0f, y);
      CHECK(max_abs_diff(y, expected) < 1e-6f);
    }
    CHECK(max_abs_diff(be.group_norm(x2, one, zero, d, 0.0f), expected) < 1e-6f);
  }
}

// ---- quick_gelu, prepend_row, normalize_rows ----

TEST_CASE("perception quick_gelu: x * sigmoid(1.702 x)") {
  Backends be;
  // Against the formula, computed in double, at a few points.
  const std::vector<float> points = {-4.0f, -1.0f, -0.5f, 0.0f, 0.3f, 1.0f, 2.5f, 8.0f};
  HostMatrix x(1, long(points.size()));
  for (long i = 0; i < x.cols(); ++i) x(0, i) = points[std::size_t(i)];
  for (Cpu* cpu : be.cpus()) {
    HostMatrix y = x;
    cpu->quick_gelu(y);
    for (long i = 0; i < x.cols(); ++i) {
      const double v = x(0, i);
      CAPTURE(v);
      CHECK(double(y(0, i)) == doctest::Approx(v / (1.0 + std::exp(-1.702 * v))).epsilon(1e-6));
    }
    CHECK(y(0, 5) == doctest::Approx(0.8457957659));  // quick_gelu(1)
    CHECK(y(0, 1) == doctest::Approx(-0.1542042341));  // quick_gelu(-1)
    CHECK(y(0, 3) == 0.0f);
  }
  // Random values, large ones included (no overflow to NaN), against the naive loop.
  const HostMatrix r = random_matrix(77, 501, 601, 30.0f);
  NaiveBackend::Tensor t = be.naive.upload(r);
  be.naive.quick_gelu(t);
  const HostMatrix expected = be.naive.download(t);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y = r;
    cpu->quick_gelu(y);
    CHECK(y.allFinite());
    CHECK(((y - expected).array().abs() / (1.0f + expected.array().abs())).maxCoeff() < 1e-6f);
  }
}

TEST_CASE("perception prepend_row: the row comes before each sequence") {
  Backends be;
  // Two sequences of 3 rows, width 2: rows [10b + i, -(10b + i)].
  HostMatrix x(6, 2);
  for (long b = 0; b < 2; ++b)
    for (long i = 0; i < 3; ++i) x.row(b * 3 + i) << float(10 * b + i), -float(10 * b + i);
  const HostMatrix row = matrix(1, 2, {7, 8});
  const HostMatrix expected = matrix(8, 2, {7, 8, 0, 0, 1, -1, 2, -2, 7, 8, 10, -10, 11, -11, 12, -12});
  for (Cpu* cpu : be.cpus()) {
    HostMatrix y;
    cpu->prepend_row(x, row, 2, y);
    CHECK(max_abs_diff(y, expected) == 0.0f);
  }
  NaiveBackend::Tensor ny;
  be.naive.prepend_row(be.naive.upload(x), be.naive.upload(row), 2, ny);
  CHECK(max_abs_diff(be.naive.download(ny), expected) == 0.0f);

  // Random, large enough for the two-thread split, and sequences of no rows.
  for (const long n : {50L, 1L, 0L}) {
    CAPTURE(n);
    const HostMatrix xr = random_matrix(3 * n, 300, 700 + unsigned(n));
    const HostMatrix rr = random_matrix(1, 300, 699);
    NaiveBackend::Tensor out;
    be.naive.prepend_row(be.naive.upload(xr), be.naive.upload(rr), 3, out);
    const HostMatrix naive_out = be.naive.download(out);
    REQUIRE(naive_out.rows() == 3 * (n + 1));
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      HostMatrix y;
      cpu->prepend_row(xr, rr, 3, y);
      CHECK(max_abs_diff(y, naive_out) == 0.0f);
    }
  }
}

TEST_CASE("perception normalize_rows: unit rows in the same direction; a zero row stays zero") {
  Backends be;
  HostMatrix x = random_matrix(101, 400, 801, 3.0f);
  x.row(3).setZero();
  x.row(7) *= 1e-30f;  // the squares underflow in float
  x.row(8) *= 1e30f;   // the squares overflow in float
  x.row(9).setZero();
  x(9, 399) = -2.0f;
  NaiveBackend::Tensor t = be.naive.upload(x);
  be.naive.normalize_rows(t);
  const HostMatrix expected = be.naive.download(t);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y = x;
    cpu->normalize_rows(y);
    CHECK(y.allFinite());
    CHECK(max_abs_diff(y, expected) < 1e-6f);
    CHECK(y.row(3).cwiseAbs().maxCoeff() == 0.0f);
    CHECK(y(9, 399) == -1.0f);
    for (long r = 0; r < y.rows(); ++r) {
      if (r == 3) continue;
      CAPTURE(r);
      CHECK(std::abs(y.row(r).cast<double>().norm() - 1.0) < 1e-6);
    }
  }
}

// ---- shape errors ----

TEST_CASE("perception conv2d, conv1d, group_norm and prepend_row: shape errors throw with the shapes") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  HostMatrix y;
  using doctest::Contains;

  const Conv2dDims c2{.batch = 2, .channels = 3, .height = 8, .width = 8, .out_channels = 4, .kernel = 4, .stride = 4};
  const HostMatrix image = random_matrix(2, 192, 901);
  const HostMatrix w2 = random_matrix(4, 48, 902);
  CHECK_NOTHROW(cpu.conv2d(image, w2, HostMatrix{}, c2, y));
  CHECK_THROWS_WITH_AS(cpu.conv2d(random_matrix(2, 191, 903), w2, HostMatrix{}, c2, y),
                       Contains("input is [2, 191], expected [batch, channels * height * width] = [2, 192]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv2d(image, random_matrix(4, 16, 904), HostMatrix{}, c2, y),
                       Contains("weight is [4, 16]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv2d(image, w2, random_matrix(1, 3, 905), c2, y), Contains("bias is [1, 3]"),
                       std::invalid_argument);
  Conv2dDims big_kernel = c2;
  big_kernel.kernel = 9;
  CHECK_THROWS_WITH_AS(cpu.conv2d(image, random_matrix(4, 243, 906), HostMatrix{}, big_kernel, y),
                       Contains("kernel 9 exceeds"), std::invalid_argument);
  Conv2dDims no_stride = c2;
  no_stride.stride = 0;
  CHECK_THROWS_AS(cpu.conv2d(image, w2, HostMatrix{}, no_stride, y), std::invalid_argument);
  HostMatrix same = image;
  CHECK_THROWS_WITH_AS(cpu.conv2d(same, w2, HostMatrix{}, c2, same), Contains("must not be the input"),
                       std::invalid_argument);

  const Conv1dDims c1{.batch = 2, .length = 10, .in_channels = 8, .out_channels = 4, .kernel = 3, .padding = 1,
                      .groups = 2};
  const HostMatrix seq = random_matrix(20, 8, 907);
  const HostMatrix w1 = random_matrix(4, 12, 908);
  CHECK_NOTHROW(cpu.conv1d(seq, w1, HostMatrix{}, c1, y));
  CHECK_THROWS_WITH_AS(cpu.conv1d(seq, random_matrix(4, 24, 909), HostMatrix{}, c1, y),
                       Contains("weight is [4, 24], expected [out_channels, in_channels / groups * kernel] = [4, 12]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv1d(random_matrix(19, 8, 910), w1, HostMatrix{}, c1, y),
                       Contains("input is [19, 8]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.conv1d(seq, w1, random_matrix(4, 1, 911), c1, y), Contains("bias is [4, 1]"),
                       std::invalid_argument);
  Conv1dDims bad_groups = c1;
  bad_groups.groups = 3;
  CHECK_THROWS_WITH_AS(cpu.conv1d(seq, w1, HostMatrix{}, bad_groups, y), Contains("groups = 3 must divide"),
                       std::invalid_argument);
  Conv1dDims long_kernel = c1;
  long_kernel.kernel = 13;
  CHECK_THROWS_WITH_AS(cpu.conv1d(seq, random_matrix(4, 52, 912), HostMatrix{}, long_kernel, y),
                       Contains("kernel 13 exceeds the padded length 10"), std::invalid_argument);
  Conv1dDims negative_padding = c1;
  negative_padding.padding = -1;
  CHECK_THROWS_AS(cpu.conv1d(seq, w1, HostMatrix{}, negative_padding, y), std::invalid_argument);

  const HostMatrix gamma = HostMatrix::Ones(1, 8);
  const HostMatrix beta = HostMatrix::Zero(1, 8);
  const GroupNormDims gn{.batch = 2, .length = 10, .groups = 4};
  CHECK_NOTHROW(cpu.group_norm(seq, gamma, beta, gn, 1e-5f, y));
  CHECK_THROWS_WITH_AS(cpu.group_norm(seq, gamma, beta, GroupNormDims{.batch = 2, .length = 10, .groups = 3}, 1e-5f, y),
                       Contains("groups = 3 does not divide the 8 channels"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.group_norm(seq, HostMatrix::Ones(1, 7), beta, gn, 1e-5f, y),
                       Contains("gamma is [1, 7]"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.group_norm(seq, gamma, beta, GroupNormDims{.batch = 3, .length = 10, .groups = 4}, 1e-5f, y),
                       Contains("input is [20, 8]"), std::invalid_argument);

  const HostMatrix row = random_matrix(1, 8, 913);
  CHECK_THROWS_WITH_AS(cpu.prepend_row(seq, row, 3, y), Contains("batch = 3"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.prepend_row(seq, random_matrix(1, 9, 914), 2, y), Contains("the row is [1, 9]"),
                       std::invalid_argument);
  CHECK_THROWS_AS(cpu.prepend_row(seq, row, 0, y), std::invalid_argument);
}
