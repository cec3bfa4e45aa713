#pragma once

// The measuring loop shared by Benchmark and the paired comparison: warmup,
// the choice of runs per sample, and sampling under the stopping rule.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/result.hpp"
#include "stats/summary.hpp"
#include "timer/concept.hpp"
#include "timer/steady_timer.hpp"

namespace accelbench {

/// The end of a cell's time budget (cell_timeout_s), if it has one.
class Deadline {
 public:
  Deadline() = default;
  explicit Deadline(double seconds) {
    if (seconds > 0) {
      at_ = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
      enabled_ = true;
    }
  }
  [[nodiscard]] bool passed() const { return enabled_ && clock::now() >= at_; }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point at_{};
  bool enabled_ = false;
};

/// Thrown between runs when a cell's deadline has passed.
struct CellTimeout {
  std::string phase;
};

/// Relative width of the median's confidence interval, (high - low) /
/// median, from order statistics; infinite when there are too few samples.
[[nodiscard]] inline double median_ci_relative_width(std::vector<double> samples, double confidence) {
  std::sort(samples.begin(), samples.end());
  const auto ci = percentile_ci_sorted(samples, 50, confidence);
  if (!ci) return INFINITY;
  const double median = percentile_sorted(samples, 50);
  return median > 0 ? (ci->high - ci->low) / median : INFINITY;
}

namespace detail {

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, 50);
}

}  // namespace detail

struct WarmupOutcome {
  int runs = 0;
  double typical_run_s = 0;  ///< median wall time of the warmup runs (0 when there were none)
  bool stable = true;        ///< false when until-stable warmup ran out of time
};

/// Warms up per the configuration: warmup_iterations runs, then, if asked,
/// windows of 5 runs until two consecutive window medians agree within
/// warmup_stability_tolerance or warmup_max_time_s has passed. Each run is
/// followed by sync(); runs are timed with steady_clock.
template <class Run, class Sync>
WarmupOutcome warm_up(Run&& run, Sync&& sync, const Config& config, const Deadline& deadline) {
  WarmupOutcome out;
  std::vector<double> times;
  auto timed_run = [&] {
    if (deadline.passed()) throw CellTimeout{"warmup"};
    SteadyTimer t;
    t.start();
    run();
    sync();
    times.push_back(t.stop());
    ++out.runs;
  };
  for (int i = 0; i < config.warmup_iterations; ++i) timed_run();
  if (config.warmup_until_stable) {
    constexpr int window = 5;
    SteadyTimer elapsed;
    elapsed.start();
    double previous = -1;
    out.stable = false;
    while (elapsed.stop() < config.warmup_max_time_s) {
      std::vector<double> w;
      for (int i = 0; i < window; ++i) {
        timed_run();
        w.push_back(times.back());
      }
      const double m = detail::median_of(std::move(w));
      if (previous > 0 && std::abs(m - previous) <= config.warmup_stability_tolerance * previous) {
        out.stable = true;
        break;
      }
      previous = m;
    }
  }
  out.typical_run_s = detail::median_of(times);
  return out;
}

/// Runs per sample: the configured number, or the smallest that makes a
/// sample last at least 1000 timer resolutions and 100 timer calls. When the
/// warmup's run time (`run_s`, itself timed per run) is below that, the
/// runs are timed in growing batches, since a single run of an operation
/// that short is mostly the clock's own cost.
template <class Run, class Sync>
[[nodiscard]] std::size_t choose_iterations_per_sample(double run_s, const TimerInfo& timer, int configured,
                                                       Run&& run, Sync&& sync) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  const double needed = std::max(1000.0 * timer.resolution_s, 100.0 * timer.call_cost_s);
  if (run_s >= needed) return 1;
  std::size_t k = 1;
  for (int round = 0; round < 40; ++round) {
    SteadyTimer t;
    t.start();
    for (std::size_t i = 0; i < k; ++i) run();
    sync();
    const double elapsed = t.stop();
    if (elapsed >= needed) {
      // Scale to the needed time, with a margin of 20%.
      return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(1.2 * needed / elapsed * static_cast<double>(k))));
    }
    const double grow = elapsed > 0 ? std::clamp(1.5 * needed / elapsed, 2.0, 10.0) : 10.0;
    k = static_cast<std::size_t>(std::ceil(static_cast<double>(k) * grow));
  }
  return k;
}

struct SamplingOutcome {
  std::vector<double> per_run_s;  ///< each sample divided by its runs
  double measured_s = 0;          ///< sum of the samples
  double wall_s = 0;              ///< wall time of the whole sampling loop
  std::size_t runs = 0;
  std::string stop_reason;        ///< which part of the stopping rule ended sampling
  std::vector<std::pair<std::string, double>> counter_totals;
};

/// Takes samples of `runs_per_sample` runs each (then one sync) until the
/// stopping rule holds: min_iterations runs, min_time_s of samples and the
/// median's target interval width all reached, or max_iterations runs or
/// max_time_s of wall time. Throws CellTimeout, keeping `out`, when the
/// deadline passes between samples.
template <class T, class Run, class Sync>
void take_samples(T& timer, Run&& run, Sync&& sync, std::size_t runs_per_sample, const Config& config,
                  const Deadline& deadline, SamplingOutcome& out) {
  using clock = std::chrono::steady_clock;
  const auto min_runs = static_cast<std::size_t>(config.min_iterations);
  const auto max_runs = static_cast<std::size_t>(config.max_iterations);
  const double k = static_cast<double>(runs_per_sample);
  out.per_run_s.reserve(std::min<std::size_t>(max_runs / runs_per_sample + 1, 4096));
  std::size_t next_ci_check = 1;
  // Samples shorter than a microsecond read the wall clock every 64th
  // sample only, so that the loop's own clock reads do not dominate.
  std::size_t clock_mask = 0;
  double elapsed = 0;
  const auto begin = clock::now();
  for (;;) {
    if (deadline.passed()) {
      out.stop_reason = "timeout";
      throw CellTimeout{"sampling"};
    }
    timer.start();
    for (std::size_t i = 0; i < runs_per_sample; ++i) run();
    sync();
    const double s = timer.stop();
    out.per_run_s.push_back(s / k);
    out.measured_s += s;
    out.runs += runs_per_sample;
    if constexpr (HasCounters<T>) {
      const auto counts = timer.counters();
      if (out.counter_totals.empty()) {
        out.counter_totals = counts;
      } else {
        for (std::size_t i = 0; i < counts.size() && i < out.counter_totals.size(); ++i) {
          out.counter_totals[i].second += counts[i].second;
        }
      }
    }
    if ((out.per_run_s.size() & clock_mask) == 0) {
      elapsed = std::chrono::duration<double>(clock::now() - begin).count();
      out.wall_s = elapsed;
      clock_mask = s < 1e-6 ? 63 : 0;
    }
    if (out.runs >= max_runs) {
      out.stop_reason = "max_iterations";
      break;
    }
    if (out.runs >= min_runs && elapsed >= config.min_time_s) {
      if (config.target_relative_ci_width <= 0) {
        out.stop_reason = "min_iterations and min_time_s";
        break;
      }
      if (out.per_run_s.size() >= next_ci_check) {
        // Checked at geometrically spaced sample counts: O(n) total work per doubling.
        next_ci_check = out.per_run_s.size() + std::max<std::size_t>(1, out.per_run_s.size() / 10);
        if (median_ci_relative_width(out.per_run_s, config.confidence) <= config.target_relative_ci_width) {
          out.stop_reason = "target_relative_ci_width";
          break;
        }
      }
    }
    if (elapsed >= config.max_time_s) {
      out.stop_reason = "max_time_s";
      break;
    }
  }
  out.wall_s = std::chrono::duration<double>(clock::now() - begin).count();
}

}  // namespace accelbench
