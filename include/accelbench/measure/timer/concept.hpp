#pragma once

// The Timer policy: how one sample is taken. docs/concepts.md shows a minimal type.

#include <concepts>
#include <string_view>

#include "../../core/result.hpp"

namespace accelbench {

/// Takes one sample: start() before the operation, stop() after the backend
/// has been synchronised, returning the elapsed seconds.
template <class T>
concept Timer = std::movable<T> && requires(T& t) {
  { T::name } -> std::convertible_to<std::string_view>;
  { t.start() };
  { t.stop() } -> std::same_as<double>;
};

// The optional hooks of a Timer, each a named concept: a timer that means to
// provide one states it with static_assert(HasCounters<MyTimer>), so a
// misspelt hook fails to compile instead of being skipped.

/// `static available()`: whether the timer can run here, with the reason
/// (timers without it always can).
template <class T>
concept ReportsAvailability = requires {
  { T::available() } -> std::same_as<Availability>;
};

/// `static ticks_per_second()`: the frequency of the timer's clock, reported
/// with the timer.
template <class T>
concept HasTicksPerSecond = requires { T::ticks_per_second(); };

/// `threads_counted()`: how many threads the timer measures, reported with it.
template <class T>
concept CountsThreads = requires(T& t) { t.threads_counted(); };

/// `counters()`: hardware counter values of the last sample, as (name, value)
/// pairs; summed over the samples and reported per run.
template <class T>
concept HasCounters = requires(T& t) { t.counters(); };

}  // namespace accelbench
