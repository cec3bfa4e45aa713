#pragma once

// What the benchmarks of accelbench itself share.

#include <accelbench/accelbench.hpp>

#include <vector>

namespace benchutil {

/// Seconds per y = x wᵀ for x [128, 768] and w [3072, 768] (BERT-base's and
/// GPT-2's feed-forward up-projection), on `threads` threads, sampled for at
/// least `seconds` and 20 times.
inline std::vector<double> gemm_samples(int threads, double seconds) {
  using accelbench::HostMatrix;
  Eigen::setNbThreads(threads);
  const HostMatrix x = accelbench::synthetic_tensor("x", 128, 768, 1, 0.0f, 1.0f);
  const HostMatrix w = accelbench::synthetic_tensor("w", 3072, 768, 2, 0.0f, 0.02f);
  HostMatrix y(128, 3072);
  for (int i = 0; i < 5; ++i) y.noalias() = x * w.transpose();
  std::vector<double> samples;
  accelbench::SteadyTimer total;
  total.start();
  while (total.stop() < seconds || samples.size() < 20) {
    accelbench::SteadyTimer t;
    t.start();
    y.noalias() = x * w.transpose();
    samples.push_back(t.stop());
  }
  return samples;
}

/// The FLOPs of one gemm_samples product.
inline constexpr double gemm_flops = 2.0 * 128 * 768 * 3072;

}  // namespace benchutil
