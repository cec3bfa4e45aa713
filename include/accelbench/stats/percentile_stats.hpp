#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "../result.hpp"

namespace accelbench {

/// The q-th percentile (0 <= q <= 100) of samples sorted in ascending order,
/// by linear interpolation between the two closest ranks: with n samples and
/// h = (n - 1) * q / 100, the result is x[floor(h)] + (h - floor(h)) *
/// (x[floor(h) + 1] - x[floor(h)]) (zero-based ranks). This is definition 7
/// of Hyndman and Fan (1996), the default of NumPy, R and Excel's PERCENTILE.INC.
/// One sample is every percentile of itself; the 50th percentile is the median.
[[nodiscard]] inline double percentile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("percentile of an empty sample");
  if (!(q >= 0.0 && q <= 100.0)) throw std::invalid_argument("percentile q must lie in [0, 100]");
  const double h = static_cast<double>(sorted.size() - 1) * q / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// Count, min, max, mean, sample standard deviation and coefficient of
/// variation: the part of a summary every Stats policy shares.
[[nodiscard]] inline LatencySummary summarize_moments(std::span<const double> samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  s.min = *lo;
  s.max = *hi;
  double sum = 0;
  for (double x : samples) sum += x;
  s.mean = sum / static_cast<double>(samples.size());
  if (samples.size() > 1) {
    double ss = 0;
    for (double x : samples) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(samples.size() - 1));
  }
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0.0;
  return s;
}

/// Stats policy: moments plus the median, p90, p95 and p99 (see percentile_sorted).
struct PercentileStats {
  static constexpr std::string_view name = "percentile";

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples) {
    LatencySummary s = summarize_moments(samples);
    if (samples.empty()) return s;
    std::vector<double> sorted(samples.begin(), samples.end());
    std::sort(sorted.begin(), sorted.end());
    s.median = percentile_sorted(sorted, 50);
    s.p90 = percentile_sorted(sorted, 90);
    s.p95 = percentile_sorted(sorted, 95);
    s.p99 = percentile_sorted(sorted, 99);
    return s;
  }
};

}  // namespace accelbench
