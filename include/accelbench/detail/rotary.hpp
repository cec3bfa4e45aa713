#pragma once

#include "eigen.hpp"

#include <cmath>
#include <vector>

namespace accelbench::detail {

/// The cos and sin tables of rotary position embeddings, [positions,
/// head_dim / 2]: position p, pair j is rotated by p * inv_freq[j] (the
/// inverse frequencies of rotary_inv_freq, backend/op_dims.hpp), computed in
/// float as transformers does. Every backend uses these tables,
/// so they agree on the angles exactly.
struct RotaryAngles {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> cos, sin;
};

inline RotaryAngles rotary_angles(const std::vector<float>& inv_freqs, Eigen::Index positions) {
  const auto half = static_cast<Eigen::Index>(inv_freqs.size());
  RotaryAngles t;
  t.cos.resize(positions, half);
  t.sin.resize(positions, half);
  for (Eigen::Index j = 0; j < half; ++j) {
    const float inv_freq = inv_freqs[static_cast<std::size_t>(j)];
    for (Eigen::Index p = 0; p < positions; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      t.cos(p, j) = std::cos(angle);
      t.sin(p, j) = std::sin(angle);
    }
  }
  return t;
}

}  // namespace accelbench::detail
