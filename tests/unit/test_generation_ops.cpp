// The Cpu backend's text-generation ops (GenerationOps) against the
// plain-loop implementations of naive_backend.hpp, on random inputs of
// awkward sizes and on one and two threads, plus hand-computed cases and
// properties: decoding with a cache equals a full causal pass, grouped-query
// attention equals attention on repeated key-value heads, rotary embeddings
// make scores depend on relative positions only.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "naive_backend.hpp"

using accelbench::AttentionDims;
using accelbench::CacheDims;
using accelbench::Cpu;
using accelbench::HostMatrix;
using accelbench::RelativeBiasDims;
using accelbench::RotaryDims;
using accelbench::RotaryScaling;
using accelbench::rotary_inv_freq;
using accelbench::t5_relative_bucket;
using accelbench::test::NaiveBackend;

namespace {

/// Uniform in [-scale, scale], from a fixed-seed generator.
HostMatrix random_matrix(long rows, long cols, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = dist(gen);
  return m;
}

float max_abs_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

/// max |a - b| / (1 + |b|): absolute near zero, relative for large values.
float max_mixed_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  if (a.size() == 0) return 0.0f;
  return ((a - b).array().abs() / (1.0f + b.array().abs())).maxCoeff();
}

/// Two Cpu backends (one and two threads) and the plain-loop reference.
struct Backends {
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  NaiveBackend naive;

  std::array<Cpu*, 2> cpus() { return {&one, &two}; }

  NaiveBackend::Tensor up(const HostMatrix& m) const { return m.size() ? naive.upload(m) : NaiveBackend::Tensor{}; }

  HostMatrix attention(const HostMatrix& q, const HostMatrix& k, const HostMatrix& v, const HostMatrix& mask,
                       const HostMatrix& bias, const AttentionDims& d) {
    NaiveBackend::Tensor out;
    naive.attention(up(q), up(k), up(v), up(mask), up(bias), d, out);
    return naive.download(out);
  }
};

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

HostMatrix naive_apply(NaiveBackend& naive, const HostMatrix& x, void (NaiveBackend::*op)(NaiveBackend::Tensor&)) {
  NaiveBackend::Tensor t = naive.upload(x);
  (naive.*op)(t);
  return naive.download(t);
}

}  // namespace

// ---- attention ----

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
