#pragma once

// What the tests of the Cpu backend's generation ops share: random inputs,
// differences, and the backends they compare (naive_backend.hpp).

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <array>
#include <random>

#include "naive_backend.hpp"

namespace accelbench::test {

/// Uniform in [-scale, scale], from a fixed-seed generator.
inline HostMatrix random_matrix(long rows, long cols, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) m(r, c) = dist(gen);
  return m;
}

inline float max_abs_diff(const HostMatrix& a, const HostMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

/// max |a - b| / (1 + |b|): absolute near zero, relative for large values.
inline float max_mixed_diff(const HostMatrix& a, const HostMatrix& b) {
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

}  // namespace accelbench::test
