#pragma once

#include <span>
#include <string_view>

#include "../../core/result.hpp"
#include "summary.hpp"

namespace accelbench {

/// Stats policy that needs no sorting: moments and the interval of the mean.
struct MeanStats {
  static constexpr std::string_view name = "mean";

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples) {
    return summarize(samples, default_confidence);
  }

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples, double confidence) {
    LatencySummary s = summarize_moments(samples);
    s.confidence = confidence;
    s.mean_ci = mean_ci(s, confidence);
    return s;
  }
};

}  // namespace accelbench
