// The Cpu backend's attention for text generation against the plain loops
// of naive_backend.hpp, on random inputs of awkward sizes and on one and two
// threads, plus hand-computed cases and properties: decoding with a cache
// equals a full causal pass, grouped-query attention equals attention on
// repeated key-value heads.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <cmath>
#include <limits>
#include <tuple>
#include <stdexcept>
#include <vector>

#include "generation_test_support.hpp"

using accelbench::AttentionDims;
using accelbench::Cpu;
using accelbench::HostMatrix;
using accelbench::test::Backends;
using accelbench::test::max_abs_diff;
using accelbench::test::NaiveBackend;
using accelbench::test::random_matrix;

namespace {

HostMatrix cpu_attention(Cpu& cpu, const HostMatrix& q, const HostMatrix& k, const HostMatrix& v,
                         const HostMatrix& mask, const HostMatrix& bias, const AttentionDims& d) {
  HostMatrix out;
  cpu.attention(q, k, v, mask, bias, d, out);
  return out;
}

/// Keys or values of a cache: [batch * stride, width] random rows of which
/// rows len.. of each sequence are filled with `garbage`.
HostMatrix cache_with_garbage(int batch, int len, int stride, long width, unsigned seed, float garbage) {
  HostMatrix m = random_matrix(long(batch) * stride, width, seed);
  for (long b = 0; b < batch; ++b)
    for (long r = len; r < stride; ++r) m.row(b * stride + r).setConstant(garbage);
  return m;
}

/// Multi-head keys or values from grouped ones: key-value head g repeated
/// for query heads g * group .. (g + 1) * group - 1 (transformers' repeat_kv).
HostMatrix repeat_kv(const HostMatrix& kv, int kv_heads, int heads, int head_dim) {
  const int group = heads / kv_heads;
  HostMatrix out(kv.rows(), long(heads) * head_dim);
  for (int h = 0; h < heads; ++h) out.middleCols(long(h) * head_dim, head_dim) = kv.middleCols(long(h / group) * head_dim, head_dim);
  return out;
}

}  // namespace

TEST_CASE("generation attention: a causal decode step against a cache matches the naive loop") {
  Backends be;
  for (const int kv_heads : {6, 2, 1}) {
    CAPTURE(kv_heads);
    // Three new queries at positions 8, 9, 10 against 11 cached keys in a
    // cache of capacity 16 whose unused rows hold NaN.
    const AttentionDims d{.batch = 2, .query_len = 3, .key_len = 11, .heads = 6, .head_dim = 37,
                          .kv_heads = kv_heads, .key_stride = 16, .causal = true};
    const HostMatrix q = random_matrix(2 * 3, 6 * 37, 21, 2.0f);
    const HostMatrix k = cache_with_garbage(2, 11, 16, long(kv_heads) * 37, 22, std::numeric_limits<float>::quiet_NaN());
    const HostMatrix v = cache_with_garbage(2, 11, 16, long(kv_heads) * 37, 23, std::numeric_limits<float>::quiet_NaN());
    const HostMatrix expected = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d);
    REQUIRE(expected.allFinite());
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      const HostMatrix out = cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d);
      CHECK(out.allFinite());
      CHECK(max_abs_diff(out, expected) < 1e-5f);
    }
    // The causal mask matters here: without it the first two queries also
    // see the later keys.
    AttentionDims open = d;
    open.causal = false;
    const HostMatrix unmasked = cpu_attention(be.two, q, k, v, HostMatrix{}, HostMatrix{}, open);
    CHECK(max_abs_diff(unmasked, be.attention(q, k, v, HostMatrix{}, HostMatrix{}, open)) < 1e-5f);
    CHECK(max_abs_diff(unmasked.topRows(2), expected.topRows(2)) > 1e-3f);
    // The last query (position 10) sees every key either way.
    CHECK(max_abs_diff(unmasked.row(2), expected.row(2)) < 1e-5f);
  }
}

TEST_CASE("generation attention: a sliding window matches the naive loop, prefill and decode") {
  Backends be;
  for (const int window : {1, 2, 4, 11, 40}) {
    for (const int query_len : {11, 3, 1}) {
      CAPTURE(window);
      CAPTURE(query_len);
      // Queries at positions 11 - query_len .. 10 against 11 keys of a cache
      // of capacity 16 whose unused rows hold NaN.
      const AttentionDims d{.batch = 2, .query_len = query_len, .key_len = 11, .heads = 4, .head_dim = 19,
                            .kv_heads = 2, .key_stride = 16, .causal = true, .window = window};
      const HostMatrix q = random_matrix(2L * query_len, 4 * 19, 41, 2.0f);
      const HostMatrix k = cache_with_garbage(2, 11, 16, 2 * 19, 42, std::numeric_limits<float>::quiet_NaN());
      const HostMatrix v = cache_with_garbage(2, 11, 16, 2 * 19, 43, std::numeric_limits<float>::quiet_NaN());
      const HostMatrix mask = HostMatrix::Ones(2, 11);
      const HostMatrix expected = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d);
      REQUIRE(expected.allFinite());
      for (Cpu* cpu : be.cpus()) {
        CAPTURE(cpu->threads());
        const HostMatrix out = cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d);
        CHECK(out.allFinite());
        CHECK(max_abs_diff(out, expected) < 1e-5f);
        CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, mask, HostMatrix{}, d), expected) < 1e-5f);
      }
      // Against plain causal attention over the window's keys only: query i
      // (position p) sees positions p - window + 1 .. p.
      for (int b = 0; b < 2; ++b) {
        for (int i = 0; i < query_len; ++i) {
          const int p = 11 - query_len + i;
          const int first = std::max(0, p - window + 1);
          const int seen = p + 1 - first;
          const AttentionDims one{.batch = 1, .query_len = 1, .key_len = seen, .heads = 4, .head_dim = 19, .kv_heads = 2};
          const HostMatrix row = be.attention(q.row(long(b) * query_len + i), k.middleRows(long(b) * 16 + first, seen),
                                              v.middleRows(long(b) * 16 + first, seen), HostMatrix{}, HostMatrix{}, one);
          CHECK(max_abs_diff(row, expected.row(long(b) * query_len + i)) < 1e-5f);
        }
      }
      // A window of at least the sequence is plain causal attention; a
      // shorter one differs.
      AttentionDims full = d;
      full.window = 0;
      const HostMatrix causal = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, full);
      if (window >= 11) {
        CHECK(max_abs_diff(expected, causal) < 1e-6f);
      } else {
        CHECK(max_abs_diff(expected, causal) > 1e-3f);
      }
    }
  }
}

TEST_CASE("generation attention: a window needs a causal mask and is not negative") {
  Backends be;
  const HostMatrix q = HostMatrix::Zero(3, 8);
  const HostMatrix kv = HostMatrix::Zero(3, 8);
  HostMatrix out;
  NaiveBackend::Tensor nout;
  for (const auto& [causal, window] : {std::pair{false, 2}, std::pair{true, -1}}) {
    const AttentionDims d{.batch = 1, .query_len = 3, .key_len = 3, .heads = 2, .head_dim = 4, .causal = causal,
                          .window = window};
    CHECK_THROWS_WITH_AS(be.one.attention(q, kv, kv, HostMatrix{}, HostMatrix{}, d, out), doctest::Contains("window"),
                         std::invalid_argument);
    CHECK_THROWS_AS(be.naive.attention(be.up(q), be.up(kv), be.up(kv), {}, {}, d, nout), std::invalid_argument);
  }
}

TEST_CASE("generation attention: unused cache rows never reach the result") {
  Backends be;
  const AttentionDims d{.batch = 3, .query_len = 2, .key_len = 5, .heads = 4, .head_dim = 13,
                        .kv_heads = 2, .key_stride = 9, .causal = true};
  const HostMatrix q = random_matrix(3 * 2, 4 * 13, 31);
  const HostMatrix k0 = cache_with_garbage(3, 5, 9, 2 * 13, 32, 0.0f);
  const HostMatrix v0 = cache_with_garbage(3, 5, 9, 2 * 13, 33, 0.0f);
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    const HostMatrix clean = cpu_attention(*cpu, q, k0, v0, HostMatrix{}, HostMatrix{}, d);
    REQUIRE(clean.allFinite());
    CHECK(max_abs_diff(clean, be.attention(q, k0, v0, HostMatrix{}, HostMatrix{}, d)) < 1e-5f);
    for (const float garbage : {std::numeric_limits<float>::quiet_NaN(), 1e30f, -1e30f,
                                std::numeric_limits<float>::infinity()}) {
      CAPTURE(garbage);
      const HostMatrix k = cache_with_garbage(3, 5, 9, 2 * 13, 32, garbage);
      const HostMatrix v = cache_with_garbage(3, 5, 9, 2 * 13, 33, garbage);
      const HostMatrix out = cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d);
      CHECK(out.allFinite());
      CHECK(max_abs_diff(out, clean) == 0.0f);
    }
  }
}

TEST_CASE("generation attention: grouped-query attention is attention on repeated key-value heads") {
  Backends be;
  for (const int kv_heads : {2, 1}) {
    CAPTURE(kv_heads);
    const AttentionDims gqa{.batch = 2, .query_len = 7, .key_len = 7, .heads = 6, .head_dim = 37,
                            .kv_heads = kv_heads, .causal = true};
    AttentionDims mha = gqa;
    mha.kv_heads = 0;
    const HostMatrix q = random_matrix(14, 6 * 37, 41, 2.0f);
    const HostMatrix k = random_matrix(14, long(kv_heads) * 37, 42);
    const HostMatrix v = random_matrix(14, long(kv_heads) * 37, 43);
    const HostMatrix expected = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, gqa);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      const HostMatrix out = cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, gqa);
      CHECK(max_abs_diff(out, expected) < 1e-5f);
      const HostMatrix repeated = cpu_attention(*cpu, q, repeat_kv(k, kv_heads, 6, 37), repeat_kv(v, kv_heads, 6, 37),
                                                HostMatrix{}, HostMatrix{}, mha);
      CHECK(max_abs_diff(out, repeated) < 1e-6f);
    }
    // Heads of one group share keys and values but not queries: their outputs differ.
    CHECK(max_abs_diff(expected.middleCols(0, 37), expected.middleCols(37, 37)) > 1e-3f);
  }
}

TEST_CASE("generation attention: a position bias and a custom scale") {
  Backends be;
  const AttentionDims base{.batch = 2, .query_len = 5, .key_len = 9, .heads = 3, .head_dim = 11};
  const HostMatrix q = random_matrix(10, 33, 51, 2.0f);
  const HostMatrix k = random_matrix(18, 33, 52, 2.0f);
  const HostMatrix v = random_matrix(18, 33, 53);
  const HostMatrix bias = random_matrix(3 * 5, 9, 54, 3.0f);
  const HostMatrix plain = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, base);

  for (const float scale : {0.0f, 1.0f, 0.3f}) {
    for (const bool causal : {false, true}) {
      CAPTURE(scale);
      CAPTURE(causal);
      AttentionDims d = base;
      d.scale = scale;
      d.causal = causal;
      const HostMatrix expected = be.attention(q, k, v, HostMatrix{}, bias, d);
      for (Cpu* cpu : be.cpus()) {
        CAPTURE(cpu->threads());
        CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, HostMatrix{}, bias, d), expected) < 1e-5f);
        CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d),
                           be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d)) < 1e-5f);
      }
      CHECK(max_abs_diff(expected, plain) > 1e-3f);  // the bias (and scale, mask) change the result
    }
  }

  // The 6-argument form is the 7-argument one without a bias.
  HostMatrix six;
  be.one.attention(q, k, v, HostMatrix{}, base, six);
  CHECK(max_abs_diff(six, plain) < 1e-5f);

  // A scale s on q is the same as the default scale on q * s * sqrt(head_dim).
  AttentionDims custom = base;
  custom.scale = 0.3f;
  const HostMatrix q_scaled = q * (0.3f * std::sqrt(11.0f));
  CHECK(max_abs_diff(cpu_attention(be.one, q, k, v, HostMatrix{}, bias, custom),
                     cpu_attention(be.one, q_scaled, k, v, HostMatrix{}, bias, base)) < 1e-5f);

  // A bias that is constant along each row changes nothing (softmax is shift-invariant).
  HostMatrix row_constant(15, 9);
  for (long r = 0; r < 15; ++r) row_constant.row(r).setConstant(float(r) - 7.0f);
  CHECK(max_abs_diff(cpu_attention(be.two, q, k, v, HostMatrix{}, row_constant, base), plain) < 1e-5f);
}

TEST_CASE("generation attention: a padding mask combined with causal") {
  Backends be;
  // Sequence 1 is left-padded by two tokens, as in batched generation.
  HostMatrix mask = HostMatrix::Ones(2, 9);
  mask(1, 0) = mask(1, 1) = 0.0f;
  const HostMatrix k = random_matrix(18, 2 * 13, 61);
  HostMatrix v = random_matrix(18, 2 * 13, 62);

  // The whole prompt at once, then a decode step of two queries.
  for (const int query_len : {9, 2}) {
    CAPTURE(query_len);
    const AttentionDims d{.batch = 2, .query_len = query_len, .key_len = 9, .heads = 4, .head_dim = 13,
                          .kv_heads = 2, .causal = true};
    const HostMatrix q = random_matrix(2L * query_len, 4 * 13, 63, 2.0f);
    const HostMatrix expected = be.attention(q, k, v, mask, HostMatrix{}, d);
    for (Cpu* cpu : be.cpus()) {
      CAPTURE(cpu->threads());
      const HostMatrix out = cpu_attention(*cpu, q, k, v, mask, HostMatrix{}, d);
      CHECK(max_abs_diff(out, expected) < 1e-5f);
      // Values of padded keys reach no query that sees a real token.
      HostMatrix v2 = v;
      v2.row(9 + 0).setConstant(1e6f);
      v2.row(9 + 1).setConstant(-1e6f);
      const HostMatrix out2 = cpu_attention(*cpu, q, k, v2, mask, HostMatrix{}, d);
      const long first_real = query_len == 9 ? 2 : 0;  // queries 0 and 1 of the prompt see padding only
      CHECK(max_abs_diff(out2.topRows(query_len), out.topRows(query_len)) == 0.0f);
      CHECK(max_abs_diff(out2.bottomRows(query_len - first_real), out.bottomRows(query_len - first_real)) < 1e-5f);
    }
    // The mask matters.
    CHECK(max_abs_diff(expected, be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d)) > 1e-3f);
  }
}

TEST_CASE("generation attention: a hand-computed causal case") {
  // One head, head_dim 2, three queries against three keys, causal, default
  // scale 1/sqrt(2):
  //   k = [1 0; 0 1; 1 1], v = [1 2; 3 4; 5 6], q = [1 1; 2 0; 0 2].
  // Query 0 sees key 0 only: out = v0 = (1, 2).
  // Query 1 sees keys 0, 1 with scores (2, 0)/sqrt 2 = (sqrt 2, 0): weights
  //   e^sqrt2 / (e^sqrt2 + 1) = 0.8044297 and 0.1955703, out = v0 + 2 * 0.1955703 = (1.3911406, 2.3911406).
  // Query 2 sees all with scores (0, 2, 2)/sqrt 2: weights 1/(1 + 2e^sqrt2) = 0.1083835
  //   and 0.4458083 twice, out = 0.1083835 (1, 2) + 0.4458083 ((3, 4) + (5, 6)) = (3.6748496, 4.6748496).
  HostMatrix q(3, 2), k(3, 2), v(3, 2);
  q << 1, 1, 2, 0, 0, 2;
  k << 1, 0, 0, 1, 1, 1;
  v << 1, 2, 3, 4, 5, 6;
  HostMatrix expected(3, 2);
  expected << 1.0f, 2.0f, 1.3911406f, 2.3911406f, 3.6748496f, 4.6748496f;
  const AttentionDims d{.batch = 1, .query_len = 3, .key_len = 3, .heads = 1, .head_dim = 2, .causal = true};
  Backends be;
  for (Cpu* cpu : be.cpus()) CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d), expected) < 2e-6f);
  CHECK(max_abs_diff(be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d), expected) < 2e-6f);
}

TEST_CASE("generation attention: a causal pass equals decoding one query at a time against the cache") {
  Backends be;
  constexpr int batch = 2, len = 10, heads = 6, kv_heads = 2, head_dim = 19;
  const HostMatrix q = random_matrix(batch * len, heads * head_dim, 71, 2.0f);
  const HostMatrix k = random_matrix(batch * len, kv_heads * head_dim, 72);
  const HostMatrix v = random_matrix(batch * len, kv_heads * head_dim, 73);
  const AttentionDims full{.batch = batch, .query_len = len, .key_len = len, .heads = heads, .head_dim = head_dim,
                           .kv_heads = kv_heads, .causal = true};
  for (Cpu* cpu : be.cpus()) {
    CAPTURE(cpu->threads());
    const HostMatrix whole = cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, full);
    CHECK(max_abs_diff(whole, be.attention(q, k, v, HostMatrix{}, HostMatrix{}, full)) < 1e-5f);
    for (int i = 0; i < len; ++i) {
      CAPTURE(i);
      // Query i of each sequence against the first i + 1 rows of a cache of capacity len.
      HostMatrix step_q(batch, heads * head_dim);
      for (int b = 0; b < batch; ++b) step_q.row(b) = q.row(b * len + i);
      const AttentionDims step{.batch = batch, .query_len = 1, .key_len = i + 1, .heads = heads,
                               .head_dim = head_dim, .kv_heads = kv_heads, .key_stride = len, .causal = true};
      const HostMatrix out = cpu_attention(*cpu, step_q, k, v, HostMatrix{}, HostMatrix{}, step);
      for (int b = 0; b < batch; ++b) CHECK(max_abs_diff(out.row(b), whole.row(b * len + i)) < 1e-5f);
    }
  }
}

TEST_CASE("generation attention rejects inconsistent dimensions") {
  Backends be;
  const AttentionDims d{.batch = 2, .query_len = 3, .key_len = 5, .heads = 4, .head_dim = 8,
                        .kv_heads = 2, .key_stride = 6, .causal = true};
  const HostMatrix q = HostMatrix::Zero(6, 32);
  const HostMatrix kv = HostMatrix::Zero(12, 16);
  const HostMatrix bias = HostMatrix::Zero(12, 5);
  HostMatrix out;
  // The consistent call works.
  be.one.attention(q, kv, kv, HostMatrix::Ones(2, 5), bias, d, out);
  CHECK(out.rows() == 6);
  CHECK(out.cols() == 32);

  CHECK_THROWS_WITH_AS(be.one.attention(q, kv, kv, HostMatrix{}, HostMatrix::Zero(12, 6), d, out),
                       doctest::Contains("position bias"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(be.one.attention(q, kv, kv, HostMatrix::Ones(2, 6), HostMatrix{}, d, out),
                       doctest::Contains("key mask"), std::invalid_argument);
  AttentionDims bad = d;
  bad.kv_heads = 3;
  CHECK_THROWS_WITH_AS(be.one.attention(q, HostMatrix::Zero(12, 24), HostMatrix::Zero(12, 24), HostMatrix{}, HostMatrix{},
                                        bad, out),
                       doctest::Contains("kv_heads"), std::invalid_argument);
  bad = d;
  bad.key_stride = 4;
  CHECK_THROWS_WITH_AS(be.one.attention(q, HostMatrix::Zero(8, 16), HostMatrix::Zero(8, 16), HostMatrix{}, HostMatrix{},
                                        bad, out),
                       doctest::Contains("key_stride"), std::invalid_argument);
  bad = d;
  bad.key_len = 2;
  bad.key_stride = 0;
  CHECK_THROWS_WITH_AS(be.one.attention(q, HostMatrix::Zero(4, 16), HostMatrix::Zero(4, 16), HostMatrix{}, HostMatrix{},
                                        bad, out),
                       doctest::Contains("causal"), std::invalid_argument);
  // Keys sized by key_len instead of the cache's key_stride, or with heads instead of kv_heads.
  CHECK_THROWS_WITH_AS(be.one.attention(q, HostMatrix::Zero(10, 16), HostMatrix::Zero(10, 16), HostMatrix{},
                                        HostMatrix{}, d, out),
                       doctest::Contains("keys and values"), std::invalid_argument);
  CHECK_THROWS_AS(be.one.attention(q, HostMatrix::Zero(12, 32), HostMatrix::Zero(12, 32), HostMatrix{}, HostMatrix{}, d, out),
                  std::invalid_argument);
  CHECK_THROWS_AS(be.one.attention(q, kv, HostMatrix::Zero(12, 17), HostMatrix{}, HostMatrix{}, d, out),
                  std::invalid_argument);
  // The reference rejects the same calls.
  NaiveBackend::Tensor nout;
  CHECK_THROWS_AS(be.naive.attention(be.up(q), be.up(kv), be.up(kv), {}, be.up(HostMatrix::Zero(12, 6)), d, nout),
                  std::invalid_argument);
  CHECK_THROWS_AS(be.naive.attention(be.up(q), be.up(HostMatrix::Zero(10, 16)), be.up(HostMatrix::Zero(10, 16)), {}, {},
                                     d, nout),
                  std::invalid_argument);
}

TEST_CASE("generation attention: a decode step over a cache of many pages matches the naive loop") {
  // Rows of 3 KiB and of 1 KiB (grouped heads), three sequences of 650
  // cached positions of a capacity of 700 and one of 2100 of 2200: the step
  // reads ahead of itself across pages, from the keys into the values. On
  // two threads the step is split (detail::worth_threads) where it reads 4
  // MiB or more: by sequence (three sequences, 3 KiB rows), or by blocks of
  // heads (one sequence of 2100 positions, both widths, no window).
  Backends be;
  for (const auto& shape : {std::tuple{3, 650, 700}, std::tuple{1, 2100, 2200}}) {
    const int batch = std::get<0>(shape), len = std::get<1>(shape), stride = std::get<2>(shape);
    for (const int kv_heads : {12, 4}) {
      for (const int window : {0, 300}) {
        CAPTURE(batch);
        CAPTURE(kv_heads);
        CAPTURE(window);
        const AttentionDims d{.batch = batch, .query_len = 1, .key_len = len, .heads = 12, .head_dim = 64,
                              .kv_heads = kv_heads, .key_stride = stride, .causal = true, .window = window};
        const HostMatrix q = random_matrix(batch, 12 * 64, 81, 2.0f);
        const long width = long(kv_heads) * 64;
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const HostMatrix k = cache_with_garbage(batch, len, stride, width, 82, nan);
        const HostMatrix v = cache_with_garbage(batch, len, stride, width, 83, nan);
        HostMatrix mask = HostMatrix::Ones(batch, len);
        mask.row(batch - 1).head(len - 250).setZero();  // the last prompt padded on the left, into the window
        const HostMatrix expected = be.attention(q, k, v, HostMatrix{}, HostMatrix{}, d);
        const HostMatrix expected_masked = be.attention(q, k, v, mask, HostMatrix{}, d);
        REQUIRE(expected.allFinite());
        CHECK(max_abs_diff(expected, expected_masked) > 1e-3f);
        for (Cpu* cpu : be.cpus()) {
          CAPTURE(cpu->threads());
          CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, HostMatrix{}, HostMatrix{}, d), expected) < 1e-5f);
          CHECK(max_abs_diff(cpu_attention(*cpu, q, k, v, mask, HostMatrix{}, d), expected_masked) < 1e-5f);
        }
      }
    }
  }
}
