#pragma once

// Host-side data exchanged with backends: weights, inputs and outputs.

#include "detail/eigen.hpp"

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

/// Dimensions of one multi-head attention call. Queries are laid out as
/// [batch * query_len, heads * head_dim], keys and values as
/// [batch * key_len, heads * head_dim]; head h occupies columns
/// [h * head_dim, (h + 1) * head_dim).
struct AttentionDims {
  int batch = 0;
  int query_len = 0;
  int key_len = 0;
  int heads = 0;
  int head_dim = 0;
};

}  // namespace accelbench
