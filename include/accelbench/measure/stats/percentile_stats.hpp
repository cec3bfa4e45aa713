#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>
#include <vector>

#include "../../core/result.hpp"
#include "summary.hpp"

namespace accelbench {

/// Stats policy: moments, the median, p90, p95, p99 and p99.9 (see
/// percentile_sorted), distribution-free intervals of the median, p90 and
/// p99, the median absolute deviation, Tukey outlier counts and a histogram.
struct PercentileStats {
  static constexpr std::string_view name = "percentile";

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples) {
    return summarize(samples, default_confidence);
  }

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples, double confidence) {
    LatencySummary s = summarize_moments(samples);
    s.confidence = confidence;
    if (samples.empty()) return s;
    std::vector<double> sorted(samples.begin(), samples.end());
    std::sort(sorted.begin(), sorted.end());
    s.median = percentile_sorted(sorted, 50);
    s.p90 = percentile_sorted(sorted, 90);
    s.p95 = percentile_sorted(sorted, 95);
    s.p99 = percentile_sorted(sorted, 99);
    s.p999 = percentile_sorted(sorted, 99.9);
    s.median_ci = percentile_ci_sorted(sorted, 50, confidence);
    s.p90_ci = percentile_ci_sorted(sorted, 90, confidence);
    s.p99_ci = percentile_ci_sorted(sorted, 99, confidence);
    std::vector<double> deviations(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) deviations[i] = std::abs(sorted[i] - *s.median);
    std::sort(deviations.begin(), deviations.end());
    s.mad = percentile_sorted(deviations, 50);
    s.outliers = tukey_outliers(sorted);
    s.histogram = histogram_of(sorted);
    return s;
  }
};

}  // namespace accelbench
