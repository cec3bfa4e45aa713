#pragma once

// The five policy concepts of Benchmark<B, F, S, T, R>. Backend and the op
// sets live in backend/concepts.hpp, ModelFamily in family/concepts.hpp.
// docs/concepts.md shows a minimal type for each.

#include <concepts>
#include <span>
#include <string_view>

#include "backend/concepts.hpp"
#include "family/concepts.hpp"
#include "result.hpp"

namespace accelbench {

/// Takes one sample: start() before the operation, stop() after the backend
/// has been synchronised, returning the elapsed seconds.
template <class T>
concept Timer = std::movable<T> && requires(T& t) {
  { T::name } -> std::convertible_to<std::string_view>;
  { t.start() };
  { t.stop() } -> std::same_as<double>;
};

/// Turns the raw samples (seconds) of a cell into a summary.
template <class S>
concept Stats = requires(std::span<const double> samples) {
  { S::name } -> std::convertible_to<std::string_view>;
  { S::summarize(samples) } -> std::same_as<LatencySummary>;
};

/// Writes a run's results somewhere.
template <class R>
concept Reporter = requires(R& r, const RunResult& result) { r.report(result); };

}  // namespace accelbench
