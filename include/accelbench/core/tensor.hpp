#pragma once

// Host-side data exchanged with backends: weights, inputs and outputs.

#include "../detail/eigen.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace accelbench {

/// A dense row-major float matrix in host memory. Weights, activations and
/// outputs cross the backend boundary in this form; a vector is a 1 x n matrix.
using HostMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A matrix of 16-bit floating-point values (bf16 or fp16, which the bits
/// alone do not say) kept as stored, row-major: a checkpoint's half-precision
/// tensor on its way to a weight at that precision, unconverted.
using HalfBitsMatrix = Eigen::Matrix<std::uint16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One named output of a workload, in host memory (for verification).
struct NamedOutput {
  std::string name;
  HostMatrix value;
};

}  // namespace accelbench
