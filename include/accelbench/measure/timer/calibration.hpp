#pragma once

// What a timer can resolve and what it costs, measured at start-up.

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "../../core/result.hpp"
#include "concept.hpp"

namespace accelbench {

/// A Timer's own report of whether it can run here; timers without an
/// `available()` member always can.
template <class T>
[[nodiscard]] Availability timer_availability() {
  if constexpr (ReportsAvailability<T>) {
    return T::available();
  } else {
    return Availability::yes();
  }
}

/// Measures `timer`: its resolution (the smallest non-zero interval it
/// reports between start() and a stop() called in a loop until the interval
/// is non-zero, over 200 trials) and its call cost (the steady_clock time of
/// many start()/stop() pairs divided by their number, over about 10 ms).
template <class T>
[[nodiscard]] TimerInfo measure_timer(T& timer) {
  TimerInfo info;
  info.name = std::string(T::name);
  const Availability a = timer_availability<T>();
  info.available = a.available;
  info.reason = a.reason;
  if (!a.available) return info;

  double resolution = 1e30;
  for (int trial = 0; trial < 200; ++trial) {
    timer.start();
    double d = 0;
    for (long spin = 0; spin < 100000000 && d <= 0; ++spin) d = timer.stop();
    if (d > 0) resolution = std::min(resolution, d);
  }
  info.resolution_s = resolution < 1e30 ? resolution : 0;

  using clock = std::chrono::steady_clock;
  long calls = 0;
  const auto t0 = clock::now();
  auto t1 = t0;
  double sink = 0;
  do {
    for (int i = 0; i < 64; ++i) {
      timer.start();
      sink += timer.stop();
    }
    calls += 64;
    t1 = clock::now();
  } while (t1 - t0 < std::chrono::milliseconds(10));
  info.call_cost_s = std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(calls);
  if (sink < 0) info.call_cost_s = 0;  // keeps the loop's results alive
  if constexpr (HasTicksPerSecond<T>) {
    info.properties.emplace_back("frequency_hz", std::to_string(T::ticks_per_second()));
  }
  if constexpr (CountsThreads<T>) {
    info.properties.emplace_back("threads_counted", std::to_string(timer.threads_counted()));
  }
  return info;
}

}  // namespace accelbench
