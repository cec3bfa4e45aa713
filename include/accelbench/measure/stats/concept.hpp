#pragma once

// The Stats policy: raw samples to a summary. docs/concepts.md shows a minimal type.

#include <concepts>
#include <span>
#include <string_view>

#include "../../core/result.hpp"

namespace accelbench {

/// Turns the raw samples (seconds) of a cell into a summary.
template <class S>
concept Stats = requires(std::span<const double> samples) {
  { S::name } -> std::convertible_to<std::string_view>;
  { S::summarize(samples) } -> std::same_as<LatencySummary>;
};

}  // namespace accelbench
