// The Cpu backend's ops against the plain-loop implementations of
// naive_backend.hpp, on random inputs of awkward sizes.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "linear_check.hpp"
#include "naive_backend.hpp"

using accelbench::AttentionDims;
using accelbench::Cpu;
using accelbench::HostMatrix;
using accelbench::test::NaiveBackend;

namespace {

HostMatrix random_matrix(long rows, long cols, unsigned seed, float scale = 1.0f) {
  std::srand(seed);
  return HostMatrix::Random(rows, cols) * scale;
}

float max_abs_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

struct Both {
  Cpu cpu{Cpu::Options{.threads = 2}};
  NaiveBackend naive;
};

}  // namespace

TEST_CASE("linear matches the naive loop, with and without bias") {
  Both be;
  const HostMatrix x = random_matrix(37, 53, 1);
  const HostMatrix w = random_matrix(29, 53, 2);
  const HostMatrix b = random_matrix(1, 29, 3);
  HostMatrix y;
  be.cpu.linear(x, w, b, y);
  NaiveBackend::Tensor ny;
  be.naive.linear(be.naive.upload(x), be.naive.upload(w), be.naive.upload(b), ny);
  CHECK(y.rows() == 37);
  CHECK(y.cols() == 29);
  CHECK(max_abs_diff(y, be.naive.download(ny)) < 1e-4f);

  be.cpu.linear(x, w, HostMatrix{}, y);
  be.naive.linear(be.naive.upload(x), be.naive.upload(w), NaiveBackend::Tensor{}, ny);
  CHECK(max_abs_diff(y, be.naive.download(ny)) < 1e-4f);
}

TEST_CASE("linear: every tile shape and remainder, against a double-precision product") {
  // Rows of x around the tile heights (3 and 6), outputs around the four of a
  // tile and a block of 64 weight rows, and depths around the 8 and 16 lanes
  // of a vector, including none.
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  // 512 and 513 rows: either side of where Cpu::linear hands large products back to Eigen.
  for (const long m : {1L, 2L, 3L, 4L, 5L, 6L, 7L, 13L, 40L, 512L, 513L}) {
    for (const long n : {1L, 3L, 4L, 5L, 63L, 64L, 65L, 131L}) {
      for (const long k : {0L, 1L, 7L, 8L, 9L, 16L, 17L, 33L, 100L}) {
        const HostMatrix x = random_matrix(m, k, static_cast<unsigned>(m * 1000 + n * 10 + k));
        const HostMatrix w = random_matrix(n, k, static_cast<unsigned>(m + n * 7 + k * 13 + 1));
        const HostMatrix b = random_matrix(1, n, static_cast<unsigned>(n + 5));
        const Eigen::MatrixXd expected =
            (x.cast<double>() * w.cast<double>().transpose()).rowwise() + b.cast<double>().row(0);
        HostMatrix y1, y2, y0, y3;
        one.linear(x, w, b, y1);
        two.linear(x, w, b, y2);
        one.linear(x, w, HostMatrix{}, y0);
        INFO("m = " << m << ", n = " << n << ", k = " << k);
        accelbench::test::check_linear_outputs(expected, y1, y2, y0, b, k);
        accelbench::test::linear_on_two_threads(x, Cpu::upload_weight(w, accelbench::Precision::fp32), b, y3);
        accelbench::test::check_linear_outputs(expected, y1, y3, y0, b, k);
      }
    }
  }
}

TEST_CASE("linear of depth 0 is the bias") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  const HostMatrix x(5, 0);
  const HostMatrix w(7, 0);
  const HostMatrix b = random_matrix(1, 7, 9);
  HostMatrix y;
  cpu.linear(x, w, b, y);
  REQUIRE(y.rows() == 5);
  for (long r = 0; r < 5; ++r) CHECK(max_abs_diff(y.row(r), b) == 0.0f);
}

TEST_CASE("linear rejects mismatched shapes") {
  Cpu cpu;
  HostMatrix y;
  CHECK_THROWS_WITH_AS(cpu.linear(HostMatrix::Zero(2, 3), HostMatrix::Zero(4, 5), HostMatrix{}, y),
                       doctest::Contains("input has 3 columns, weight expects 5"), std::invalid_argument);
  CHECK_THROWS_AS(cpu.linear(HostMatrix::Zero(2, 3), HostMatrix::Zero(4, 3), HostMatrix::Zero(1, 5), y),
                  std::invalid_argument);
}

TEST_CASE("add is the residual sum") {
  Cpu cpu;
  const HostMatrix x = random_matrix(300, 257, 4);
  HostMatrix y = random_matrix(300, 257, 5);
  const HostMatrix expected = [&] {
    HostMatrix e(y.rows(), y.cols());
    for (long r = 0; r < y.rows(); ++r)
      for (long c = 0; c < y.cols(); ++c) e(r, c) = x(r, c) + y(r, c);
    return e;
  }();
  cpu.add(x, y);
  CHECK(max_abs_diff(y, expected) == 0.0f);
  HostMatrix wrong = HostMatrix::Zero(3, 3);
  CHECK_THROWS_AS(cpu.add(x, wrong), std::invalid_argument);
}

TEST_CASE("layer_norm matches the naive loop, also in place") {
  Both be;
  const HostMatrix x = random_matrix(260, 384, 6, 3.0f);
  const HostMatrix g = random_matrix(1, 384, 7);
  const HostMatrix b = random_matrix(1, 384, 8);
  HostMatrix y;
  be.cpu.layer_norm(x, g, b, 1e-12f, y);
  NaiveBackend::Tensor ny;
  be.naive.layer_norm(be.naive.upload(x), be.naive.upload(g), be.naive.upload(b), 1e-12f, ny);
  const HostMatrix expected = be.naive.download(ny);
  CHECK(max_abs_diff(y, expected) < 1e-4f);

  HostMatrix inplace = x;
  be.cpu.layer_norm(inplace, g, b, 1e-12f, inplace);
  CHECK(max_abs_diff(inplace, expected) < 1e-4f);
  CHECK_THROWS_AS(be.cpu.layer_norm(x, HostMatrix::Ones(1, 3), b, 1e-5f, y), std::invalid_argument);
}

TEST_CASE("gelu is the erf form") {
  Cpu cpu;
  HostMatrix x(1, 9);
  x << -6.0f, -3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 3.0f, 6.0f;
  HostMatrix big = random_matrix(200, 300, 9, 5.0f);
  HostMatrix big_in = big;
  cpu.gelu(x);
  cpu.gelu(big);
  const double inputs[] = {-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0};
  for (int i = 0; i < 9; ++i) {
    const double v = inputs[i];
    CHECK(x(0, i) == doctest::Approx(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))).epsilon(1e-5));
  }
  // gelu(1) = 0.8413447..., not the tanh approximation's 0.8411920...
  CHECK(std::abs(x(0, 6) - 0.8413447f) < 2e-6f);
  for (long r = 0; r < big.rows(); ++r) {
    for (long c = 0; c < big.cols(); ++c) {
      const double v = big_in(r, c);
      REQUIRE(std::abs(big(r, c) - 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))) < 1e-5);
    }
  }
}

TEST_CASE("softmax rows sum to one and survive large values") {
  Both be;
  HostMatrix x = random_matrix(70, 33, 10, 8.0f);
  x(3, 4) = 1000.0f;
  x(3, 5) = 1001.0f;
  NaiveBackend::Tensor nx = be.naive.upload(x);
  be.cpu.softmax(x);
  be.naive.softmax(nx);
  CHECK(max_abs_diff(x, be.naive.download(nx)) < 1e-6f);
  for (long r = 0; r < x.rows(); ++r) CHECK(x.row(r).sum() == doctest::Approx(1.0f).epsilon(1e-5));
  CHECK(x(3, 5) == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-5));
  CHECK(x.allFinite());
}

TEST_CASE("attention matches the naive loop and ignores padded keys") {
  Both be;
  const AttentionDims d{3, 7, 7, 4, 8};  // batch, query_len, key_len, heads, head_dim
  const HostMatrix q = random_matrix(21, 32, 11);
  const HostMatrix k = random_matrix(21, 32, 12);
  HostMatrix v = random_matrix(21, 32, 13);
  HostMatrix mask = HostMatrix::Ones(3, 7);
  mask(1, 5) = mask(1, 6) = 0.0f;  // sequence 1 has 5 tokens
  mask(2, 1) = 0.0f;               // a hole in sequence 2

  HostMatrix out;
  be.cpu.attention(q, k, v, mask, d, out);
  NaiveBackend::Tensor nout;
  be.naive.attention(be.naive.upload(q), be.naive.upload(k), be.naive.upload(v), be.naive.upload(mask), d, nout);
  CHECK(max_abs_diff(out, be.naive.download(nout)) < 1e-5f);

  // Without a mask every key counts.
  HostMatrix unmasked;
  be.cpu.attention(q, k, v, HostMatrix{}, d, unmasked);
  be.naive.attention(be.naive.upload(q), be.naive.upload(k), be.naive.upload(v), NaiveBackend::Tensor{}, d, nout);
  CHECK(max_abs_diff(unmasked, be.naive.download(nout)) < 1e-5f);
  CHECK(max_abs_diff(unmasked, out) > 1e-3f);

  // Values at padded positions must not reach any output.
  v.row(1 * 7 + 5).setConstant(1e6f);
  v.row(2 * 7 + 1).setConstant(-1e6f);
  HostMatrix out2;
  be.cpu.attention(q, k, v, mask, d, out2);
  CHECK(max_abs_diff(out, out2) < 1e-5f);
}

TEST_CASE("attention rejects inconsistent dimensions") {
  Cpu cpu;
  HostMatrix out;
  const HostMatrix x = HostMatrix::Zero(8, 16);
  CHECK_THROWS_AS(cpu.attention(x, x, x, HostMatrix{}, AttentionDims{2, 4, 4, 3, 5}, out), std::invalid_argument);
  CHECK_THROWS_AS(cpu.attention(x, x, x, HostMatrix::Ones(3, 4), AttentionDims{2, 4, 4, 2, 8}, out),
                  std::invalid_argument);
}

TEST_CASE("embedding_lookup gathers rows and rejects ids outside the table") {
  Cpu cpu;
  const HostMatrix table = random_matrix(50, 16, 14);
  const std::vector<std::int32_t> ids = {0, 49, 7, 7, 3};
  HostMatrix out;
  cpu.embedding_lookup(table, ids, out);
  REQUIRE(out.rows() == 5);
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(out.row(long(i)) == table.row(ids[i]));
  CHECK_THROWS_WITH_AS(cpu.embedding_lookup(table, std::vector<std::int32_t>{1, 50}, out),
                       doctest::Contains("id 50 at position 1"), std::out_of_range);
  CHECK_THROWS_AS(cpu.embedding_lookup(table, std::vector<std::int32_t>{-1}, out), std::out_of_range);
}

TEST_CASE("masked_mean_pool averages real tokens only") {
  Both be;
  const HostMatrix x = random_matrix(12, 10, 15);
  HostMatrix mask = HostMatrix::Ones(3, 4);
  mask(0, 3) = 0.0f;
  mask(2, 1) = mask(2, 2) = mask(2, 3) = 0.0f;
  HostMatrix out;
  be.cpu.masked_mean_pool(x, mask, out);
  NaiveBackend::Tensor nout;
  be.naive.masked_mean_pool(be.naive.upload(x), be.naive.upload(mask), nout);
  CHECK(max_abs_diff(out, be.naive.download(nout)) < 1e-6f);
  CHECK(max_abs_diff(out.row(2), x.row(8)) < 1e-7f);  // one token: its own row
  const HostMatrix mean0 = (x.row(0) + x.row(1) + x.row(2)) / 3.0f;
  CHECK(max_abs_diff(out.row(0), mean0) < 1e-6f);
  CHECK_THROWS_AS(be.cpu.masked_mean_pool(x, HostMatrix::Ones(5, 5), out), std::invalid_argument);
}

TEST_CASE("results do not depend on the thread count") {
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  CHECK(one.threads() == 1);
  const HostMatrix x = random_matrix(128, 96, 16);
  const HostMatrix w = random_matrix(200, 96, 17);
  HostMatrix a, b;
  one.linear(x, w, HostMatrix{}, a);
  two.linear(x, w, HostMatrix{}, b);
  CHECK(max_abs_diff(a, b) < 1e-4f);
  CHECK_THROWS_AS(Cpu(Cpu::Options{.threads = -1}), std::invalid_argument);
}

TEST_CASE("a product is split across threads only where each thread gets enough of it") {
  using accelbench::detail::linear_threads;
  // A GPT-2 decode step: the 768 x 768 products (2.25 MiB of fp32) stay on
  // one thread, the 3072 x 768 ones (9 MiB; 4.5 MiB at bf16) are split.
  CHECK(linear_threads(2, 1, 768, 768, 4) == 1);
  CHECK(linear_threads(2, 1, 2304, 768, 2) == 1);
  CHECK(linear_threads(2, 1, 3072, 768, 4) == 2);
  CHECK(linear_threads(2, 1, 768, 3072, 2) == 2);
  CHECK(linear_threads(4, 1, 768, 3072, 2) == 1);  // four threads would each read 1.1 MiB
  // A prompt of 128 tokens: the arithmetic is enough for any weight.
  CHECK(linear_threads(2, 128, 384, 384, 4) == 2);
  CHECK(linear_threads(2, 128, 768, 768, 2) == 2);
  CHECK(linear_threads(1, 128, 3072, 768, 4) == 1);
  // Cpu::linear on a matrix weight with a few rows splits its outputs
  // (Eigen's product of a few rows runs on one thread); the split is exact.
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  const HostMatrix x = random_matrix(3, 800, 31);
  const HostMatrix w = random_matrix(3001, 800, 32);
  const HostMatrix b = random_matrix(1, 3001, 33);
  HostMatrix y1, y2;
  one.linear(x, w, b, y1);
  two.linear(x, w, b, y2);
  const Eigen::MatrixXd expected = (x.cast<double>() * w.cast<double>().transpose()).rowwise() + b.cast<double>().row(0);
  CHECK((y1.cast<double>() - expected).cwiseAbs().maxCoeff() <= 800e-5);
  CHECK((y2.cast<double>() - expected).cwiseAbs().maxCoeff() <= 800e-5);
}

TEST_CASE("Cpu describes its device") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  const auto d = cpu.describe();
  CHECK(d.backend == "cpu");
  CHECK(d.kind == "cpu");
  CHECK_FALSE(d.name.empty());
  CHECK(d.compute_units >= 1);
  CHECK(d.threads == 1);
  CHECK(d.memory_bytes > 0);
  CHECK(Cpu::available().available);
}
