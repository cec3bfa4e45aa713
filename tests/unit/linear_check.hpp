#pragma once

// What the tests of Cpu::linear share: its outputs against a product
// computed in double.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>

#include <algorithm>

namespace accelbench::test {

/// Cpu::linear's outputs with the bias on one and on two threads (y1, y2;
/// see linear_on_two_threads)
/// and without it (y0), against `expected` (with the bias, in double):
/// within 1e-5 per unit of depth k. Returns the tolerance.
inline double check_linear_outputs(const Eigen::MatrixXd& expected, const HostMatrix& y1, const HostMatrix& y2,
                                   const HostMatrix& y0, const HostMatrix& b, long k) {
  REQUIRE(y1.rows() == expected.rows());
  REQUIRE(y1.cols() == expected.cols());
  const double tolerance = 1e-5 * static_cast<double>(std::max(k, 1L));
  CHECK((y1.cast<double>() - expected).cwiseAbs().maxCoeff() <= tolerance);
  CHECK((y2.cast<double>() - expected).cwiseAbs().maxCoeff() <= tolerance);
  CHECK(((y0.cast<double>().rowwise() + b.cast<double>().row(0)) - expected).cwiseAbs().maxCoeff() <= tolerance);
  return tolerance;
}

/// y = x wᵀ + b through Cpu::linear's product split across two threads,
/// however small the product: where the backend would keep it on one
/// thread (detail::linear_threads), the split is still what is tested.
inline void linear_on_two_threads(const HostMatrix& x, const CpuWeight& w, const HostMatrix& b, HostMatrix& y) {
#if ACCELBENCH_CPU_GEMM
  y.resize(x.rows(), w.rows());
  switch (w.precision()) {
    case Precision::fp32:
      return detail::linear_gemm_nt<Precision::fp32>(2, x, w.fp32_data(), w.rows(), b, y);
    case Precision::bf16:
      return detail::linear_gemm_nt<Precision::bf16>(2, x, w.bits_data(), w.rows(), b, y);
    case Precision::fp16:
      return detail::linear_gemm_nt<Precision::fp16>(2, x, w.bits_data(), w.rows(), b, y);
  }
#else
  Cpu{Cpu::Options{.threads = 2}}.linear(x, w, b, y);
#endif
}

}  // namespace accelbench::test
