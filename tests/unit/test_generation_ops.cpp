// The Cpu backend's text-generation ops (GenerationOps) but attention
// (test_generation_attention.cpp) against the plain-loop implementations of
// naive_backend.hpp, on random inputs of awkward sizes and on one and two
// threads, plus hand-computed cases and properties: rotary embeddings make
// scores depend on relative positions only.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "generation_test_support.hpp"

using accelbench::CacheDims;
using accelbench::Cpu;
using accelbench::HostMatrix;
using accelbench::RelativeBiasDims;
using accelbench::RotaryDims;
using accelbench::RotaryScaling;
using accelbench::rotary_inv_freq;
using accelbench::t5_relative_bucket;
using accelbench::test::Backends;
using accelbench::test::max_abs_diff;
using accelbench::test::max_mixed_diff;
using accelbench::test::NaiveBackend;
using accelbench::test::random_matrix;

namespace {

HostMatrix naive_apply(NaiveBackend& naive, const HostMatrix& x, void (NaiveBackend::*op)(NaiveBackend::Tensor&)) {
  NaiveBackend::Tensor t = naive.upload(x);
  (naive.*op)(t);
  return naive.download(t);
}

}  // namespace

// ---- element-wise and normalisation ----

TEST_CASE("rms_norm matches the naive loop, also in place") {
  Backends be;
  const HostMatrix x = random_matrix(300, 137, 81, 3.0f);
  const HostMatrix g = random_matrix(1, 137, 82, 2.0f);
  NaiveBackend::Tensor ny;
  be.naive.rms_norm(be.up(x), be.up(g), 1e-6f, ny);
  const HostMatrix expected = be.naive.download(ny);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y;
    cpu->rms_norm(x, g, 1e-6f, y);
    CHECK(max_mixed_diff(y, expected) < 1e-5f);
    HostMatrix inplace = x;
    cpu->rms_norm(inplace, g, 1e-6f, inplace);
    CHECK(max_mixed_diff(inplace, expected) < 1e-5f);
    CHECK_THROWS_WITH_AS(cpu->rms_norm(x, HostMatrix::Ones(1, 136), 1e-6f, y), doctest::Contains("rms_norm"),
                         std::invalid_argument);
  }
  // By hand: (3, 4) has mean square 12.5, so it becomes (3, 4) / 3.5355339 = (0.8485281, 1.1313708);
  // no mean is subtracted (unlike layer_norm).
  HostMatrix small(1, 2);
  small << 3.0f, 4.0f;
  HostMatrix gamma(1, 2);
  gamma << 1.0f, 2.0f;
  HostMatrix y;
  be.one.rms_norm(small, gamma, 0.0f, y);
  CHECK(y(0, 0) == doctest::Approx(0.8485281).epsilon(1e-6));
  CHECK(y(0, 1) == doctest::Approx(2.0 * 1.1313708).epsilon(1e-6));
}

TEST_CASE("gelu_tanh, relu and silu match their formulas") {
  Backends be;
  const HostMatrix x = random_matrix(300, 137, 91, 6.0f);
  const HostMatrix expected_gelu = naive_apply(be.naive, x, &NaiveBackend::gelu_tanh);
  const HostMatrix expected_relu = naive_apply(be.naive, x, &NaiveBackend::relu);
  const HostMatrix expected_silu = naive_apply(be.naive, x, &NaiveBackend::silu);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix a = x, b = x, c = x;
    cpu->gelu_tanh(a);
    cpu->relu(b);
    cpu->silu(c);
    CHECK(max_mixed_diff(a, expected_gelu) < 1e-5f);
    CHECK(max_abs_diff(b, expected_relu) == 0.0f);
    CHECK(max_mixed_diff(c, expected_silu) < 1e-5f);
  }
  // By hand: gelu_tanh(1) = 0.5 (1 + tanh(0.7978846 * 1.044715)) = 0.8411920, not the erf form's 0.8413447;
  // gelu_tanh(-1) = -0.1588080, gelu_tanh(3) = 2.9963626, gelu_tanh(-3) = -0.0036374;
  // silu(1) = 1 / (1 + e^-1) = 0.7310586, silu(-1) = -0.2689414.
  HostMatrix h(1, 4);
  h << 1.0f, -1.0f, 3.0f, -3.0f;
  HostMatrix g = h, r = h, s = h;
  be.one.gelu_tanh(g);
  be.one.relu(r);
  be.one.silu(s);
  CHECK(g(0, 0) == doctest::Approx(0.8411920).epsilon(1e-6));
  CHECK(std::abs(g(0, 0) - 0.8413447f) > 1e-4f);
  CHECK(g(0, 1) == doctest::Approx(-0.1588080).epsilon(1e-5));
  CHECK(g(0, 2) == doctest::Approx(2.9963626).epsilon(1e-6));
  CHECK(g(0, 3) == doctest::Approx(-0.0036374).epsilon(1e-4));
  CHECK(r(0, 0) == 1.0f);
  CHECK(r(0, 1) == 0.0f);
  CHECK(r(0, 2) == 3.0f);
  CHECK(r(0, 3) == 0.0f);
  CHECK(s(0, 0) == doctest::Approx(0.7310586).epsilon(1e-6));
  CHECK(s(0, 1) == doctest::Approx(-0.2689414).epsilon(1e-6));
  // Far out in the tails: no NaN from overflowing exponentials.
  HostMatrix tails(1, 4);
  tails << -100.0f, 100.0f, -1e4f, 1e4f;
  HostMatrix gt = tails, st = tails;
  be.one.gelu_tanh(gt);
  be.one.silu(st);
  CHECK(gt.allFinite());
  CHECK(st.allFinite());
  CHECK(std::abs(gt(0, 0)) < 1e-6f);
  CHECK(gt(0, 1) == doctest::Approx(100.0).epsilon(1e-6));
  CHECK(std::abs(st(0, 0)) < 1e-6f);
  CHECK(st(0, 3) == 1e4f);
}

TEST_CASE("swiglu is silu(gate) * up and rejects an odd width") {
  Backends be;
  const HostMatrix x = random_matrix(300, 2 * 137, 101, 4.0f);
  NaiveBackend::Tensor ny;
  be.naive.swiglu(be.up(x), ny);
  const HostMatrix expected = be.naive.download(ny);
  REQUIRE(expected.cols() == 137);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y;
    cpu->swiglu(x, y);
    REQUIRE(y.rows() == 300);
    REQUIRE(y.cols() == 137);
    CHECK(max_mixed_diff(y, expected) < 1e-5f);
    CHECK_THROWS_WITH_AS(cpu->swiglu(HostMatrix::Zero(4, 37), y), doctest::Contains("swiglu"), std::invalid_argument);
  }
  CHECK_THROWS_AS(be.naive.swiglu(be.up(HostMatrix::Zero(4, 37)), ny), std::invalid_argument);
  // By hand: gate (1, 2), up (3, 4): (silu(1) * 3, silu(2) * 4) = (2.1931757, 7.0463766).
  HostMatrix small(1, 4);
  small << 1.0f, 2.0f, 3.0f, 4.0f;
  HostMatrix y;
  be.one.swiglu(small, y);
  REQUIRE(y.cols() == 2);
  CHECK(y(0, 0) == doctest::Approx(2.1931757).epsilon(1e-6));
  CHECK(y(0, 1) == doctest::Approx(7.0463766).epsilon(1e-6));
}

TEST_CASE("geglu_tanh is gelu_tanh(gate) * up and rejects an odd width") {
  Backends be;
  const HostMatrix x = random_matrix(300, 2 * 137, 103, 4.0f);
  NaiveBackend::Tensor ny;
  be.naive.geglu_tanh(be.up(x), ny);
  const HostMatrix expected = be.naive.download(ny);
  REQUIRE(expected.cols() == 137);
  // The plain backend's gelu_tanh and product, one element at a time.
  NaiveBackend::Tensor gate = be.up(HostMatrix(x.leftCols(137)));
  be.naive.gelu_tanh(gate);
  const HostMatrix by_parts = be.naive.download(gate).cwiseProduct(HostMatrix(x.rightCols(137)));
  CHECK(max_mixed_diff(expected, by_parts) < 1e-5f);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y;
    cpu->geglu_tanh(x, y);
    REQUIRE(y.rows() == 300);
    REQUIRE(y.cols() == 137);
    CHECK(max_mixed_diff(y, expected) < 1e-5f);
    CHECK_THROWS_WITH_AS(cpu->geglu_tanh(HostMatrix::Zero(4, 37), y), doctest::Contains("geglu_tanh"),
                         std::invalid_argument);
  }
  CHECK_THROWS_AS(be.naive.geglu_tanh(be.up(HostMatrix::Zero(4, 37)), ny), std::invalid_argument);
  // By hand: gate (1, -1, 20, -20), up (3, 4, 0.5, 2): gelu_tanh(1) * 3 = 2.5235760,
  // gelu_tanh(-1) * 4 = -0.6352320, 20 * 0.5 = 10 and 0 where tanh saturates.
  HostMatrix small(1, 8);
  small << 1.0f, -1.0f, 20.0f, -20.0f, 3.0f, 4.0f, 0.5f, 2.0f;
  HostMatrix y;
  be.one.geglu_tanh(small, y);
  REQUIRE(y.cols() == 4);
  CHECK(y(0, 0) == doctest::Approx(2.5235760).epsilon(1e-6));
  CHECK(y(0, 1) == doctest::Approx(-0.6352320).epsilon(1e-6));
  CHECK(y(0, 2) == doctest::Approx(10.0).epsilon(1e-6));
  CHECK(std::abs(y(0, 3)) < 1e-6f);
  CHECK(y.allFinite());
}

TEST_CASE("scale multiplies in place") {
  Backends be;
  const HostMatrix x = random_matrix(300, 137, 111, 5.0f);
  NaiveBackend::Tensor nx = be.up(x);
  be.naive.scale(nx, -0.37f);
  const HostMatrix expected = be.naive.download(nx);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y = x;
    cpu->scale(y, -0.37f);
    CHECK(max_abs_diff(y, expected) == 0.0f);  // one correctly rounded product per element
  }
}

// ---- rotary position embedding ----

TEST_CASE("rotary matches the naive loop") {
  Backends be;
  struct Case {
    int batch, len, heads, head_dim, start;
    float theta;
    float tolerance;
  };
  // Float angles (as transformers computes them) differ from the double ones
  // by about position * 2^-23 radians: the tolerance grows with the position.
  for (const Case c : {Case{3, 40, 6, 46, 0, 10000.0f, 2e-5f}, Case{3, 40, 6, 46, 17, 10000.0f, 2e-5f},
                       Case{2, 5, 3, 64, 1000, 1000000.0f, 3e-4f}, Case{1, 7, 2, 10, 3, 500000.0f, 1e-5f}}) {
    CAPTURE(c.head_dim);
    CAPTURE(c.start);
    const RotaryDims r{c.batch, c.len, c.heads, c.head_dim, c.start, c.theta};
    const HostMatrix x = random_matrix(long(c.batch) * c.len, long(c.heads) * c.head_dim, 121);
    NaiveBackend::Tensor nx = be.up(x);
    be.naive.rotary(nx, r);
    const HostMatrix expected = be.naive.download(nx);
    CHECK(max_abs_diff(expected, x) > 1e-2f);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      HostMatrix y = x;
      cpu->rotary(y, r);
      CHECK(max_abs_diff(y, expected) < c.tolerance);
    }
  }
}

TEST_CASE("rotary: scaled frequencies match the naive loop") {
  Backends be;
  // head_dim 16, theta 10000: wavelengths 6.3 to 35000; llama3 with a
  // context of 64 and factors 1 and 4 keeps those under 16, divides those
  // over 64 and blends the two pairs between.
  const RotaryDims base{.batch = 2, .len = 9, .heads = 3, .head_dim = 16, .start = 50, .theta = 10000.0f};
  RotaryDims linear = base;
  linear.scaling = RotaryScaling::linear;
  linear.factor = 4.0f;
  RotaryDims llama3 = base;
  llama3.scaling = RotaryScaling::llama3;
  llama3.factor = 8.0f;
  llama3.low_freq_factor = 1.0f;
  llama3.high_freq_factor = 4.0f;
  llama3.original_max_positions = 64;
  const HostMatrix x = random_matrix(18, 48, 122);
  NaiveBackend::Tensor plain = be.up(x);
  be.naive.rotary(plain, base);
  const HostMatrix unscaled = be.naive.download(plain);
  for (const RotaryDims& r : {linear, llama3}) {
    CAPTURE(static_cast<int>(r.scaling));
    NaiveBackend::Tensor nx = be.up(x);
    be.naive.rotary(nx, r);
    const HostMatrix expected = be.naive.download(nx);
    CHECK(max_abs_diff(expected, unscaled) > 1e-2f);
    for (Cpu* cpu : be.cpus()) {
      HostMatrix y = x;
      cpu->rotary(y, base);  // a table of the unscaled frequencies first: the scaled ones have their own
      y = x;
      cpu->rotary(y, r);
      CHECK(max_abs_diff(y, expected) < 2e-5f);
    }
  }
  // The pair of the highest frequency (j = 0: columns 0 and 8 of each head)
  // is the same under llama3.
  NaiveBackend::Tensor nx = be.up(x);
  be.naive.rotary(nx, llama3);
  const HostMatrix l3 = be.naive.download(nx);
  for (int h = 0; h < 3; ++h) {
    CHECK(max_abs_diff(l3.col(16 * h), unscaled.col(16 * h)) < 1e-6f);
    CHECK(max_abs_diff(l3.col(16 * h + 8), unscaled.col(16 * h + 8)) < 1e-6f);
  }
}

TEST_CASE("rotary_inv_freq: transformers' llama3 and linear frequencies") {
  // _compute_llama3_parameters for Llama 3.2 (head_dim 64, theta 500000,
  // factor 32, low 1, high 4, context 8192): pairs 0 and 10 kept, 15 to 17
  // blended, 18 and 31 divided by 32; _compute_linear_scaling_rope_parameters
  // for head_dim 16, theta 10000, factor 3.
  const RotaryDims llama3{.head_dim = 64, .theta = 500000.0f, .scaling = RotaryScaling::llama3, .factor = 32.0f,
                          .low_freq_factor = 1.0f, .high_freq_factor = 4.0f, .original_max_positions = 8192};
  const std::pair<int, float> expected[] = {{0, 0x1.000000p+0f},   {10, 0x1.0f5386p-6f},  {15, 0x1.524f36p-10f},
                                            {16, 0x1.c26c40p-12f}, {17, 0x1.9731eep-14f}, {18, 0x1.46831ap-16f},
                                            {31, 0x1.948360p-24f}};
  for (const auto& [j, f] : expected) {
    CAPTURE(j);
    CHECK(rotary_inv_freq(llama3, j) == doctest::Approx(f).epsilon(1e-6));
  }
  const RotaryDims linear{.head_dim = 16, .theta = 10000.0f, .scaling = RotaryScaling::linear, .factor = 3.0f};
  CHECK(rotary_inv_freq(linear, 0) == doctest::Approx(0x1.555556p-2f).epsilon(1e-6));
  CHECK(rotary_inv_freq(linear, 3) == doctest::Approx(0x1.5967b2p-7f).epsilon(1e-6));
  CHECK(rotary_inv_freq(linear, 7) == doctest::Approx(0x1.ba1e56p-14f).epsilon(1e-6));
}

TEST_CASE("rotary: a hand-computed value") {
  // head_dim 4, half 2, theta 10000: inverse frequencies 1 and 10000^(-2/4) = 0.01.
  // At position 1 the angles are 1 and 0.01; x = (1, 2, 3, 4) pairs (1, 3) and (2, 4):
  //   out0 = 1 cos 1 - 3 sin 1 = 0.5403023 - 2.5244130 = -1.9841106
  //   out1 = 2 cos .01 - 4 sin .01 = 1.9999000 - 0.0399993 = 1.9599007
  //   out2 = 3 cos 1 + 1 sin 1 = 1.6209069 + 0.8414710 = 2.4623779
  //   out3 = 4 cos .01 + 2 sin .01 = 3.9998000 + 0.0199997 = 4.0197997
  // Position 0 is the identity.
  HostMatrix x(2, 4);
  x << 1, 2, 3, 4, 1, 2, 3, 4;
  HostMatrix expected(2, 4);
  expected << 1.0f, 2.0f, 3.0f, 4.0f, -1.9841106f, 1.9599007f, 2.4623779f, 4.0197997f;
  const RotaryDims r{.batch = 1, .len = 2, .heads = 1, .head_dim = 4, .start = 0, .theta = 10000.0f};
  Backends be;
  for (Cpu* cpu : be.cpus()) {
    HostMatrix y = x;
    cpu->rotary(y, r);
    CHECK(max_abs_diff(y, expected) < 1e-6f);
  }
  NaiveBackend::Tensor nx = be.up(x);
  be.naive.rotary(nx, r);
  CHECK(max_abs_diff(be.naive.download(nx), expected) < 1e-6f);
  // The same row alone, at start 1.
  HostMatrix one = x.bottomRows(1);
  be.one.rotary(one, RotaryDims{.batch = 1, .len = 1, .heads = 1, .head_dim = 4, .start = 1});
  CHECK(max_abs_diff(one, expected.bottomRows(1)) < 1e-6f);
}

TEST_CASE("rotary: start offsets the positions of every sequence") {
  Backends be;
  constexpr int len = 10, heads = 3, head_dim = 22;
  const HostMatrix seq = random_matrix(len, heads * head_dim, 131);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix whole = seq;
    cpu->rotary(whole, RotaryDims{.batch = 1, .len = len, .heads = heads, .head_dim = head_dim});
    // Rows 7..9 rotated on their own from start 7.
    HostMatrix tail = seq.bottomRows(3);
    cpu->rotary(tail, RotaryDims{.batch = 1, .len = 3, .heads = heads, .head_dim = head_dim, .start = 7});
    CHECK(max_abs_diff(tail, whole.bottomRows(3)) < 1e-6f);
    // Each sequence of a batch starts again at `start`: two copies of rows
    // 4..8 at start 4 both equal rows 4..8 of the whole.
    HostMatrix batch(10, heads * head_dim);
    batch << seq.middleRows(4, 5), seq.middleRows(4, 5);
    cpu->rotary(batch, RotaryDims{.batch = 2, .len = 5, .heads = heads, .head_dim = head_dim, .start = 4});
    CHECK(max_abs_diff(batch.topRows(5), whole.middleRows(4, 5)) < 1e-6f);
    CHECK(max_abs_diff(batch.bottomRows(5), whole.middleRows(4, 5)) < 1e-6f);
    // A different start gives a different rotation.
    HostMatrix shifted = seq.bottomRows(3);
    cpu->rotary(shifted, RotaryDims{.batch = 1, .len = 3, .heads = heads, .head_dim = head_dim, .start = 8});
    CHECK(max_abs_diff(shifted, tail) > 1e-2f);
  }
}

TEST_CASE("rotary: scores depend only on the relative position") {
  Backends be;
  constexpr int heads = 2, head_dim = 64;
  const HostMatrix q = random_matrix(1, heads * head_dim, 141);
  const HostMatrix k = random_matrix(1, heads * head_dim, 142);
  auto rotated = [&](Cpu& cpu, const HostMatrix& x, int position) {
    HostMatrix y = x;
    cpu.rotary(y, RotaryDims{.batch = 1, .len = 1, .heads = heads, .head_dim = head_dim, .start = position});
    return y;
  };
  auto score = [&](Cpu& cpu, int h, int pq, int pk) {
    const HostMatrix rq = rotated(cpu, q, pq);
    const HostMatrix rk = rotated(cpu, k, pk);
    return double(rq.row(0).segment(h * head_dim, head_dim).dot(rk.row(0).segment(h * head_dim, head_dim)));
  };
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    for (int h = 0; h < heads; ++h) {
      const double norm = double(q.middleCols(h * head_dim, head_dim).norm() * k.middleCols(h * head_dim, head_dim).norm());
      for (const auto& [pq, pk] : {std::pair{3, 0}, std::pair{10, 4}, std::pair{7, 9}, std::pair{0, 0}}) {
        CAPTURE(pq);
        CAPTURE(pk);
        CHECK(std::abs(score(*cpu, h, pq, pk) - score(*cpu, h, pq + 5, pk + 5)) < 1e-5 * norm);
        // ... and does depend on it.
        CHECK(std::abs(score(*cpu, h, pq, pk) - score(*cpu, h, pq, pk + 1)) > 1e-3 * norm);
      }
      // A rotation keeps each head's norm.
      const HostMatrix rq = rotated(*cpu, q, 13);
      CHECK(rq.middleCols(h * head_dim, head_dim).norm() ==
            doctest::Approx(q.middleCols(h * head_dim, head_dim).norm()).epsilon(1e-5));
    }
  }
}

TEST_CASE("rotary rejects bad dimensions") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  HostMatrix x = HostMatrix::Zero(6, 20);
  CHECK_THROWS_WITH_AS(cpu.rotary(x, RotaryDims{.batch = 2, .len = 3, .heads = 4, .head_dim = 5}),
                       doctest::Contains("rotary"), std::invalid_argument);  // odd head_dim
  CHECK_THROWS_WITH_AS(cpu.rotary(x, RotaryDims{.batch = 2, .len = 3, .heads = 2, .head_dim = 8}),
                       doctest::Contains("rotary"), std::invalid_argument);  // 16 columns expected
  CHECK_THROWS_WITH_AS(cpu.rotary(x, RotaryDims{.batch = 3, .len = 3, .heads = 2, .head_dim = 10}),
                       doctest::Contains("rotary"), std::invalid_argument);  // 9 rows expected
  CHECK_THROWS_AS(cpu.rotary(x, RotaryDims{.batch = 2, .len = 3, .heads = 2, .head_dim = 10, .start = -1}),
                  std::invalid_argument);
  NaiveBackend naive;
  NaiveBackend::Tensor nx = naive.upload(x);
  CHECK_THROWS_AS(naive.rotary(nx, RotaryDims{.batch = 2, .len = 3, .heads = 4, .head_dim = 5}), std::invalid_argument);
}

// ---- positions, caches, relative bias, argmax ----

TEST_CASE("add_positions adds the learned positions of each sequence") {
  Backends be;
  const HostMatrix table = random_matrix(50, 37, 151);
  const HostMatrix y0 = random_matrix(3 * 4, 37, 152);
  NaiveBackend::Tensor ny = be.up(y0);
  be.naive.add_positions(be.up(table), 5, 3, 4, ny);
  const HostMatrix expected = be.naive.download(ny);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix y = y0;
    cpu->add_positions(table, 5, 3, 4, y);
    CHECK(max_abs_diff(y, expected) == 0.0f);
    // Row b * 4 + i gets position 5 + i.
    CHECK(max_abs_diff(y.row(2 * 4 + 3), y0.row(2 * 4 + 3) + table.row(8)) == 0.0f);
    CHECK(max_abs_diff(y.row(1 * 4 + 0), y0.row(1 * 4 + 0) + table.row(5)) == 0.0f);
    // The last positions of the table, one token (a decode step).
    HostMatrix step = y0.topRows(3);
    cpu->add_positions(table, 49, 3, 1, step);
    CHECK(max_abs_diff(step.row(2), y0.row(2) + table.row(49)) == 0.0f);

    CHECK_THROWS_WITH_AS(cpu->add_positions(table, 47, 3, 4, y), doctest::Contains("add_positions"), std::out_of_range);
    CHECK_THROWS_AS(cpu->add_positions(table, -1, 3, 4, y), std::out_of_range);
    CHECK_THROWS_WITH_AS(cpu->add_positions(table, 0, 2, 4, y), doctest::Contains("add_positions"),
                         std::invalid_argument);
    HostMatrix narrow = HostMatrix::Zero(12, 36);
    CHECK_THROWS_AS(cpu->add_positions(table, 0, 3, 4, narrow), std::invalid_argument);
  }
  CHECK_THROWS_AS(be.naive.add_positions(be.up(table), 47, 3, 4, ny), std::out_of_range);
}

TEST_CASE("cache_write writes the new rows at start and leaves the rest") {
  Backends be;
  const CacheDims c{.batch = 2, .len = 3, .capacity = 8, .start = 4};
  const HostMatrix x = random_matrix(2 * 3, 37, 161);
  const HostMatrix cache0 = HostMatrix::Constant(2 * 8, 37, 7.0f);
  NaiveBackend::Tensor ncache = be.up(cache0);
  be.naive.cache_write(be.up(x), c, ncache);
  const HostMatrix expected = be.naive.download(ncache);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    HostMatrix cache = cache0;
    cpu->cache_write(x, c, cache);
    CHECK(max_abs_diff(cache, expected) == 0.0f);
    for (int b = 0; b < 2; ++b) {
      CAPTURE(b);
      CHECK(max_abs_diff(cache.middleRows(b * 8 + 4, 3), x.middleRows(b * 3, 3)) == 0.0f);
      CHECK((cache.middleRows(b * 8, 4).array() == 7.0f).all());
      CHECK((cache.row(b * 8 + 7).array() == 7.0f).all());
    }
    // Then one more step at start 7 fills the last row.
    const HostMatrix next = random_matrix(2, 37, 162);
    cpu->cache_write(next, CacheDims{.batch = 2, .len = 1, .capacity = 8, .start = 7}, cache);
    CHECK(max_abs_diff(cache.row(7), next.row(0)) == 0.0f);
    CHECK(max_abs_diff(cache.row(15), next.row(1)) == 0.0f);
    CHECK(max_abs_diff(cache.middleRows(4, 3), x.topRows(3)) == 0.0f);

    CHECK_THROWS_WITH_AS(cpu->cache_write(x, CacheDims{.batch = 2, .len = 3, .capacity = 8, .start = 6}, cache),
                         doctest::Contains("cache_write"), std::out_of_range);
    CHECK_THROWS_AS(cpu->cache_write(x, CacheDims{.batch = 2, .len = 3, .capacity = 8, .start = -1}, cache),
                    std::out_of_range);
    CHECK_THROWS_WITH_AS(cpu->cache_write(random_matrix(6, 36, 163), c, cache), doctest::Contains("cache_write"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cpu->cache_write(x, CacheDims{.batch = 2, .len = 2, .capacity = 8, .start = 0}, cache),
                    std::invalid_argument);
    HostMatrix small = HostMatrix::Zero(2 * 7, 37);
    CHECK_THROWS_AS(cpu->cache_write(x, c, small), std::invalid_argument);
  }
  CHECK_THROWS_AS(be.naive.cache_write(be.up(x), CacheDims{.batch = 2, .len = 3, .capacity = 8, .start = 6}, ncache),
                  std::out_of_range);
}

TEST_CASE("t5_relative_bucket: hand-computed buckets for 32 buckets, max distance 128") {
  // transformers' T5Attention._relative_position_bucket, relative = key - query.
  // Bidirectional: 16 buckets per direction, +16 when relative > 0; max_exact = 8;
  //   |rel| < 8 is its own bucket; else 8 + int(log(|rel| / 8) / log(128 / 8) * 8), at most 15:
  //   |rel| = 8: 8 + int(0) = 8;            15: log(1.875)/log 16 * 8 = 1.81 -> 9;
  //   16: log 2/log 16 * 8 = 2 -> 10;       32: 0.5 * 8 = 4 -> 12;   40: log 5/log 16 * 8 = 4.64 -> 12;
  //   64: 0.75 * 8 = 6 -> 14;               127: log(15.875)/log 16 * 8 = 7.98 -> 15;
  //   128: 8 -> 16, clamped to 15;          200: 9.29 -> 17, clamped to 15.
  // Unidirectional: 32 buckets, only keys in the past count (rel > 0 is bucket 0); max_exact = 16;
  //   -rel < 16 is its own bucket; else 16 + int(log(-rel / 16) / log(128 / 16) * 16), at most 31:
  //   -16: 16;  -32: log 2/log 8 * 16 = 5.33 -> 21;  -40: log 2.5/log 8 * 16 = 7.05 -> 23;
  //   -64: 10.67 -> 26;  -127: log(7.9375)/log 8 * 16 = 15.94 -> 31;  -128: 32 -> 31;  -200: 19.4 -> 35 -> 31.
  struct Expect {
    int rel, bidirectional, unidirectional;
  };
  const Expect cases[] = {
      {0, 0, 0},      {1, 17, 0},      {-1, 1, 1},     {7, 23, 0},      {-7, 7, 7},      {8, 24, 0},
      {-8, 8, 8},     {15, 25, 0},     {-15, 9, 15},   {16, 26, 0},     {-16, 10, 16},   {32, 28, 0},
      {-32, 12, 21},  {40, 28, 0},     {-40, 12, 23},  {64, 30, 0},     {-64, 14, 26},   {127, 31, 0},
      {-127, 15, 31}, {128, 31, 0},    {-128, 15, 31}, {200, 31, 0},    {-200, 15, 31},
  };
  for (const Expect& e : cases) {
    CAPTURE(e.rel);
    CHECK(t5_relative_bucket(e.rel, true, 32, 128) == e.bidirectional);
    CHECK(t5_relative_bucket(e.rel, false, 32, 128) == e.unidirectional);
  }
}

TEST_CASE("relative_position_bias gathers T5's buckets per head") {
  Backends be;
  const HostMatrix table = random_matrix(32, 6, 171);
  for (const RelativeBiasDims r :
       {RelativeBiasDims{.query_len = 5, .key_len = 7},
        RelativeBiasDims{.query_len = 1, .key_len = 300, .query_start = 299, .bidirectional = false},
        RelativeBiasDims{.query_len = 9, .key_len = 9, .bidirectional = false},
        RelativeBiasDims{.query_len = 3, .key_len = 160, .query_start = 10}}) {
    CAPTURE(r.query_len);
    CAPTURE(r.key_len);
    NaiveBackend::Tensor nout;
    be.naive.relative_position_bias(be.up(table), r, nout);
    const HostMatrix expected = be.naive.download(nout);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      HostMatrix out;
      cpu->relative_position_bias(table, r, out);
      REQUIRE(out.rows() == 6L * r.query_len);
      REQUIRE(out.cols() == r.key_len);
      CHECK(max_abs_diff(out, expected) == 0.0f);
    }
  }
  // By hand, encoder (bidirectional): query 1, key 4 is relative +3, bucket 16 + 3 = 19;
  // query 4, key 0 is -4, bucket 4. Head h reads column h, row h * query_len + i.
  HostMatrix out;
  be.two.relative_position_bias(table, RelativeBiasDims{.query_len = 5, .key_len = 7}, out);
  CHECK(out(2 * 5 + 1, 4) == table(19, 2));
  CHECK(out(5 * 5 + 4, 0) == table(4, 5));
  CHECK(out(0 * 5 + 3, 3) == table(0, 0));
  // Decoder step at position 299: key 0 is -299, the last bucket 31; key 290 is -9, bucket 9; key 299 is 0.
  be.two.relative_position_bias(table, RelativeBiasDims{.query_len = 1, .key_len = 300, .query_start = 299,
                                                        .bidirectional = false},
                                out);
  CHECK(out(3, 0) == table(31, 3));
  CHECK(out(3, 290) == table(9, 3));
  CHECK(out(1, 299) == table(0, 1));

  CHECK_THROWS_WITH_AS(be.one.relative_position_bias(random_matrix(31, 6, 172), RelativeBiasDims{.query_len = 2, .key_len = 2},
                                                     out),
                       doctest::Contains("num_buckets"), std::invalid_argument);
  NaiveBackend::Tensor nout;
  CHECK_THROWS_AS(be.naive.relative_position_bias(be.up(random_matrix(31, 6, 172)), RelativeBiasDims{}, nout),
                  std::invalid_argument);
}

TEST_CASE("argmax_rows picks the first maximum and download_indices returns it") {
  Backends be;
  HostMatrix x = random_matrix(64, 37, 181, 10.0f);
  x.row(0).setConstant(2.0f);  // all equal: index 0
  x.row(1).setConstant(-1.0f);
  x(1, 5) = x(1, 21) = x(1, 36) = 3.0f;  // ties: the first
  x.row(2).setConstant(-std::numeric_limits<float>::infinity());
  x(2, 36) = -1e30f;  // the last column, all others -inf
  x.row(3).setConstant(-5.0f);
  x(3, 17) = x(3, 16) = -4.0f;
  std::vector<std::int32_t> expected_ids;
  be.naive.argmax_rows(be.up(x), expected_ids);
  REQUIRE(expected_ids.size() == 64);
  CHECK(expected_ids[0] == 0);
  CHECK(expected_ids[1] == 5);
  CHECK(expected_ids[2] == 36);
  CHECK(expected_ids[3] == 16);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    Cpu::IndexTensor ids{99, 99};  // resized by the op
    cpu->argmax_rows(x, ids);
    const std::vector<std::int32_t> host = cpu->download_indices(ids);
    CHECK(host == expected_ids);
  }
  CHECK(be.naive.download_indices(expected_ids) == expected_ids);
}
