#pragma once

#include "eigen.hpp"

#include <cmath>

namespace accelbench::detail {

/// The cos and sin tables of rotary position embeddings, [positions,
/// head_dim / 2]: position p, pair j is rotated by p * theta^(-2j / head_dim),
/// computed in float as transformers does. Every backend uses these tables,
/// so they agree on the angles exactly.
struct RotaryAngles {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> cos, sin;
};

inline RotaryAngles rotary_angles(float theta, int head_dim, Eigen::Index positions) {
  RotaryAngles t;
  t.cos.resize(positions, head_dim / 2);
  t.sin.resize(positions, head_dim / 2);
  for (Eigen::Index j = 0; j < head_dim / 2; ++j) {
    const float exponent = static_cast<float>(2 * j) / static_cast<float>(head_dim);
    const float inv_freq = 1.0f / std::pow(theta, exponent);
    for (Eigen::Index p = 0; p < positions; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      t.cos(p, j) = std::cos(angle);
      t.sin(p, j) = std::sin(angle);
    }
  }
  return t;
}

}  // namespace accelbench::detail
