#pragma once

// What the tests of Cpu::linear share: its outputs against a product
// computed in double.

#include <doctest/doctest.h>

#include <accelbench/core/tensor.hpp>

#include <algorithm>

namespace accelbench::test {

/// Cpu::linear's outputs with the bias on one and on two threads (y1, y2)
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

}  // namespace accelbench::test
