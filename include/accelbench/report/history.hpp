#pragma once

// One metric of each cell over many runs, in the order the runs started,
// with the change points of the series (E-divisive means,
// measure/stats/change_points.hpp) named by the first run of each step.
// `accelbench history` prints this; docs/regressions.md describes it.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../measure/stats/change_points.hpp"
#include "../measure/stats/two_sample.hpp"
#include "filter.hpp"
#include "journal.hpp"

namespace accelbench {

/// A metric's value in one cell, with its interval where the run has one.
struct MetricValue {
  double value = 0;
  std::optional<Interval> interval;
};

/// The value of `metric` in cell `c`: "latency" (the median, with its
/// interval), "throughput" (items per second, with the interval from the
/// mean's), "memory" (peak resident bytes), "device_memory" (peak device
/// bytes) or a phase's name (its median, with its interval). Empty when the
/// cell does not have it.
[[nodiscard]] inline std::optional<MetricValue> metric_value(const CellResult& c, std::string_view metric) {
  if (metric == "latency") {
    if (!c.latency.median) return std::nullopt;
    return MetricValue{*c.latency.median, c.latency.median_ci};
  }
  if (metric == "throughput") {
    if (!(c.throughput.items_per_second > 0)) return std::nullopt;
    MetricValue v{c.throughput.items_per_second, std::nullopt};
    if (c.latency.mean_ci && c.latency.mean_ci->low > 0 && c.latency.mean > 0) {
      const double items_per_run = c.throughput.items_per_second * c.latency.mean;
      v.interval = Interval{items_per_run / c.latency.mean_ci->high, items_per_run / c.latency.mean_ci->low};
    }
    return v;
  }
  if (metric == "memory") {
    if (c.memory.peak_rss_bytes == 0) return std::nullopt;
    return MetricValue{static_cast<double>(c.memory.peak_rss_bytes), std::nullopt};
  }
  if (metric == "device_memory") {
    if (!c.memory.device_peak_bytes) return std::nullopt;
    return MetricValue{static_cast<double>(*c.memory.device_peak_bytes), std::nullopt};
  }
  for (const auto& p : c.phases) {
    if (p.name == metric && p.latency.median) return MetricValue{*p.latency.median, p.latency.median_ci};
  }
  return std::nullopt;
}

/// The unit of `metric` in cell `c`: "s", "bytes" or "<items>/s".
[[nodiscard]] inline std::string metric_unit(const CellResult& c, std::string_view metric) {
  if (metric == "throughput")
    return (c.throughput.item_unit.empty() ? std::string("items") : c.throughput.item_unit) + "/s";
  if (metric == "memory" || metric == "device_memory") return "bytes";
  return "s";
}

/// One run's entry in a cell's history.
struct HistoryPoint {
  std::size_t run = 0;  ///< index of the run in the sorted list
  std::string started_at;
  std::string git_commit;
  CellStatus status = CellStatus::ok;
  std::optional<MetricValue> value;  ///< empty when the cell is not ok or has no such metric
};

/// A change point of a cell's history: the series steps at `point`.
struct HistoryStep {
  std::size_t point = 0;  ///< index into CellHistory::points of the first run of the step
  double before = 0;      ///< median of the values of the segment before
  double after = 0;       ///< median of the values of the segment it starts
  double p_value = 1;     ///< of the permutation test
};

/// One cell's metric over the runs.
struct CellHistory {
  std::string key;  ///< cell_key
  std::string family, model, backend;
  std::vector<Axis> shape;
  std::string metric;
  std::string unit;
  std::vector<HistoryPoint> points;  ///< one per run that has the cell, in run order
  std::vector<HistoryStep> steps;    ///< change points, in order
};

/// What a history shows.
struct HistoryOptions {
  std::string metric = "latency";  ///< as metric_value names it
  std::vector<Axis> shape;         ///< cells whose shape has these axis values (empty: all)
  stats::ChangePointOptions change_points;
};

/// Sorts runs by started_at (ISO 8601 sorts as text), keeping the order of
/// runs that started at the same time.
inline void sort_runs_by_start(std::vector<RunResult>& runs) {
  std::stable_sort(runs.begin(), runs.end(),
                   [](const RunResult& a, const RunResult& b) { return a.started_at < b.started_at; });
}

/// Whether `c` has every axis value of `shape`.
[[nodiscard]] inline bool shape_matches(const CellResult& c, const std::vector<Axis>& shape) {
  for (const auto& a : shape) {
    if (c.axis(a.name) != a.value) return false;
  }
  return true;
}

/// The history of `options.metric` for each cell of `runs` (in the order
/// given: sort them first) that `filter` and `options.shape` select, cells
/// in the order they first appear. Change points are searched in the
/// values of the runs where the cell has one.
[[nodiscard]] inline std::vector<CellHistory> cell_histories(const std::vector<RunResult>& runs,
                                                             const ResultFilter& filter,
                                                             const HistoryOptions& options) {
  std::vector<CellHistory> out;
  const auto find = [&](const std::string& key) -> CellHistory* {
    for (auto& h : out) {
      if (h.key == key) return &h;
    }
    return nullptr;
  };
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunResult& run = runs[r];
    if (!run_matches(filter, run)) continue;
    for (const auto& c : run.cells) {
      if (!cell_matches(filter, c) || !shape_matches(c, options.shape)) continue;
      std::string key = cell_key(c);
      CellHistory* h = find(key);
      if (h == nullptr) {
        out.push_back(CellHistory{.key = key, .family = c.family, .model = c.model, .backend = c.backend,
                                  .shape = c.shape, .metric = options.metric,
                                  .unit = metric_unit(c, options.metric), .points = {}, .steps = {}});
        h = &out.back();
      }
      if (!h->points.empty() && h->points.back().run == r) continue;  // a repeated cell: its first result
      HistoryPoint p{.run = r, .started_at = run.started_at, .git_commit = run.build.git_commit, .status = c.status,
                     .value = std::nullopt};
      if (c.status == CellStatus::ok) p.value = metric_value(c, options.metric);
      h->points.push_back(std::move(p));
    }
  }
  for (auto& h : out) {
    std::vector<double> series;
    std::vector<std::size_t> point_of;  // series index -> points index
    for (std::size_t i = 0; i < h.points.size(); ++i) {
      if (h.points[i].value) {
        series.push_back(h.points[i].value->value);
        point_of.push_back(i);
      }
    }
    const auto changes = stats::e_divisive(series, options.change_points);
    for (std::size_t k = 0; k < changes.size(); ++k) {
      const std::size_t from = k == 0 ? 0 : changes[k - 1].index;
      const std::size_t at = changes[k].index;
      const std::size_t to = k + 1 < changes.size() ? changes[k + 1].index : series.size();
      const std::span<const double> all(series);
      h.steps.push_back({point_of[at], stats::median_of(all.subspan(from, at - from)),
                         stats::median_of(all.subspan(at, to - at)), changes[k].p_value});
    }
  }
  return out;
}

}  // namespace accelbench
