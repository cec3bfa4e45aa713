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

/// One named output of a workload, in host memory (for verification).
struct NamedOutput {
  std::string name;
  HostMatrix value;
};

}  // namespace accelbench
