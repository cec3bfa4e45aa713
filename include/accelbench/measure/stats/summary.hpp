#pragma once

// Building blocks of Stats policies.

#include <algorithm>
#include <cmath>
#include <span>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "../../core/result.hpp"
#include "distributions.hpp"

namespace accelbench {

/// Confidence level of the intervals unless a configuration says otherwise.
inline constexpr double default_confidence = 0.95;

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

/// Distribution-free confidence interval of the q-th percentile of sorted
/// samples: the order statistics x[lo], x[hi] of quantile_ci_ranks. Empty when
/// there are too few samples for the level (e.g. fewer than 6 for a 95%
/// interval of the median, fewer than 368 for one of p99).
[[nodiscard]] inline std::optional<Interval> percentile_ci_sorted(std::span<const double> sorted, double q,
                                                                  double confidence) {
  std::size_t lo = 0, hi = 0;
  if (!stats::quantile_ci_ranks(sorted.size(), q / 100.0, confidence, lo, hi)) return std::nullopt;
  return Interval{sorted[lo], sorted[hi]};
}

/// Count, min, max, mean, sample standard deviation and coefficient of
/// variation: the part of a summary every Stats policy shares. One pass.
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

/// Interval of the mean, mean ± t(1 - (1 - confidence) / 2, n - 1) · s / √n.
/// It assumes roughly normal, independent samples; empty for n < 2.
[[nodiscard]] inline std::optional<Interval> mean_ci(const LatencySummary& s, double confidence) {
  if (s.count < 2) return std::nullopt;
  const double n = static_cast<double>(s.count);
  const double t = stats::student_t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1.0);
  const double half = t * s.stddev / std::sqrt(n);
  return Interval{s.mean - half, s.mean + half};
}

/// Samples outside Tukey's fences (1.5 and 3 interquartile ranges beyond the
/// quartiles, which follow percentile_sorted's definition).
[[nodiscard]] inline OutlierCounts tukey_outliers(std::span<const double> sorted) {
  OutlierCounts o;
  if (sorted.size() < 4) return o;
  const double q1 = percentile_sorted(sorted, 25);
  const double q3 = percentile_sorted(sorted, 75);
  const double iqr = q3 - q1;
  for (double x : sorted) {
    if (x < q1 - 1.5 * iqr) ++o.low;
    if (x > q3 + 1.5 * iqr) ++o.high;
    if (x < q1 - 3.0 * iqr) ++o.extreme_low;
    if (x > q3 + 3.0 * iqr) ++o.extreme_high;
  }
  return o;
}

/// Equal-width histogram of sorted samples with the Freedman–Diaconis bin
/// width 2 · IQR · n^(-1/3), between 1 and 50 bins.
[[nodiscard]] inline Histogram histogram_of(std::span<const double> sorted) {
  Histogram h;
  if (sorted.empty()) return h;
  h.min = sorted.front();
  const double range = sorted.back() - sorted.front();
  if (range <= 0) {
    h.counts = {sorted.size()};
    return h;
  }
  const double iqr = percentile_sorted(sorted, 75) - percentile_sorted(sorted, 25);
  const double fd = 2.0 * iqr / std::cbrt(static_cast<double>(sorted.size()));
  const std::size_t bins =
      fd > 0 ? std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(range / fd)), 1, 50) : 1;
  h.bin_width = range / static_cast<double>(bins);
  h.counts.assign(bins, 0);
  for (double x : sorted) {
    const auto b = static_cast<std::size_t>((x - h.min) / h.bin_width);
    ++h.counts[std::min(b, bins - 1)];
  }
  return h;
}

}  // namespace accelbench
