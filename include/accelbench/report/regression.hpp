#pragma once

// Regression checks: two runs (a baseline and a contender) compared cell by
// cell on the cells they share. Timings are compared through their raw
// samples (ratio of medians with a bootstrap interval, Mann–Whitney U test),
// phases through their summaries' intervals, memory as a plain ratio; a
// metric regresses when it is significantly worse and worse by more than
// its threshold. `accelbench regress` prints this; docs/regressions.md
// describes the statistics and the verdicts.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../measure/stats/two_sample.hpp"
#include "journal.hpp"

namespace accelbench {

/// The largest worsening tolerated per metric, as a fraction (0.05 = 5%):
/// for times and memory the contender may be at most that much larger, for
/// throughput at most that much smaller.
struct SlowdownThresholds {
  double latency = 0.05;
  double throughput = 0.05;
  double phases = 0.05;  ///< every phase not named in by_phase
  double memory = 0.10;  ///< peak resident memory, and device memory where recorded
  std::vector<std::pair<std::string, double>> by_phase;  ///< per phase name ("prefill", "decode", ...)

  [[nodiscard]] double phase(std::string_view name) const {
    for (const auto& [n, t] : by_phase) {
      if (n == name) return t;
    }
    return phases;
  }
};

/// How two runs are compared.
struct RegressionOptions {
  SlowdownThresholds max_slowdown;
  double alpha = 0.05;           ///< significance level; intervals are at 1 − alpha
  std::size_t resamples = 2000;  ///< bootstrap resamples per metric
  std::uint64_t seed = 0x5eedb007ULL;  ///< of the bootstrap: the same runs give the same report
  /// A memory increase smaller than this is never a regression: the resident
  /// set moves by pages from run to run.
  std::uint64_t memory_floor_bytes = std::uint64_t{1} << 20;
};

/// What a metric measures, for its unit and its threshold.
enum class MetricKind { latency, throughput, phase, memory, device_memory };

/// The outcome of one metric of one cell.
enum class Verdict {
  better,      ///< significantly better
  worse,       ///< significantly worse, but by no more than the threshold
  same,        ///< no significant difference
  regression,  ///< significantly worse, by more than the threshold
  untested,    ///< too little data to test (e.g. no interval of a phase's median)
};

/// One metric of one cell in both runs.
struct MetricComparison {
  std::string metric;  ///< "latency", "throughput", "memory", "device_memory" or a phase's name
  MetricKind kind = MetricKind::latency;
  std::string unit;  ///< "s", "bytes" or throughput's "<items>/s"
  bool lower_is_better = true;
  std::string method;  ///< "samples", "intervals" or "values" (docs/regressions.md)
  std::size_t baseline_count = 0, contender_count = 0;  ///< samples (0 for memory)
  double baseline = 0;   ///< median (or the value) in the baseline
  double contender = 0;  ///< and in the contender
  double ratio = 0;      ///< contender / baseline
  std::optional<Interval> ratio_ci;  ///< at 1 − alpha (samples) or conservative (intervals)
  std::optional<double> p_value;     ///< Mann–Whitney, for samples
  bool significant = false;
  double change = 0;     ///< relative worsening: ratio − 1, or 1 − ratio for throughput; negative is better
  double threshold = 0;  ///< the tolerated worsening
  Verdict verdict = Verdict::untested;
};

/// A cell present in both runs.
struct CellComparison {
  std::string key;  ///< cell_key
  std::string family, model, backend;
  std::vector<Axis> shape;
  CellStatus baseline_status = CellStatus::ok;
  CellStatus contender_status = CellStatus::ok;
  std::string contender_message;
  std::vector<MetricComparison> metrics;  ///< empty unless the cell is ok in both runs

  [[nodiscard]] bool compared() const noexcept {
    return baseline_status == CellStatus::ok && contender_status == CellStatus::ok;
  }
  [[nodiscard]] bool regressed() const noexcept {
    for (const auto& m : metrics) {
      if (m.verdict == Verdict::regression) return true;
    }
    return false;
  }
};

/// A contender cell whose status is not ok.
struct CellStatusNote {
  std::string key;
  CellStatus status = CellStatus::ok;
  std::string message;
  bool in_baseline = false;  ///< the cell is also in the baseline
};

/// Two runs compared.
struct RegressionReport {
  RegressionOptions options;
  std::vector<CellComparison> cells;  ///< cells of both runs, in the baseline's order
  std::vector<std::string> added;     ///< keys of cells only in the contender
  std::vector<std::string> removed;   ///< keys of cells only in the baseline
  std::vector<CellStatusNote> contender_not_ok;
  std::vector<std::string> warnings;  ///< what makes the comparison less meaningful

  /// Cells with a regressed metric.
  [[nodiscard]] std::size_t regressions() const noexcept {
    std::size_t n = 0;
    for (const auto& c : cells) n += c.regressed() ? 1 : 0;
    return n;
  }
  [[nodiscard]] bool regressed() const noexcept { return regressions() > 0; }
};

/// "faster", "slower", "same", "regression" or "untested"; memory says
/// "smaller" and "larger".
[[nodiscard]] inline std::string_view to_string(Verdict v, MetricKind kind = MetricKind::latency) noexcept {
  const bool memory = kind == MetricKind::memory || kind == MetricKind::device_memory;
  switch (v) {
    case Verdict::better: return memory ? "smaller" : "faster";
    case Verdict::worse: return memory ? "larger" : "slower";
    case Verdict::same: return "same";
    case Verdict::regression: return "regression";
    case Verdict::untested: return "untested";
  }
  return "unknown";
}

namespace detail {

/// A metric's comparison with its name and how it is compared; the rest is filled in.
inline MetricComparison metric_of(std::string metric, MetricKind kind, std::string unit, bool lower_is_better,
                                  std::string method, double threshold) {
  MetricComparison m;
  m.metric = std::move(metric);
  m.kind = kind;
  m.unit = std::move(unit);
  m.lower_is_better = lower_is_better;
  m.method = std::move(method);
  m.threshold = threshold;
  return m;
}

/// The verdict of a metric whose ratio, interval and significance are set.
inline void judge(MetricComparison& m) {
  m.change = m.lower_is_better ? m.ratio - 1 : 1 - m.ratio;
  if (!m.significant) return;
  if (m.change <= 0) {
    m.verdict = Verdict::better;
  } else {
    m.verdict = m.change > m.threshold ? Verdict::regression : Verdict::worse;
  }
}

/// A timing compared through its samples: ratio of medians with its
/// bootstrap interval and the Mann–Whitney p-value; significant when p <
/// alpha and the interval excludes 1.
inline MetricComparison compare_samples(std::string metric, MetricKind kind, std::string unit, bool lower_is_better,
                                        const std::vector<double>& baseline, const std::vector<double>& contender,
                                        double threshold, const RegressionOptions& o) {
  MetricComparison m = metric_of(std::move(metric), kind, std::move(unit), lower_is_better, "samples", threshold);
  m.baseline_count = baseline.size();
  m.contender_count = contender.size();
  const auto r = stats::bootstrap_median_ratio(baseline, contender, 1 - o.alpha, o.resamples, o.seed);
  m.baseline = r.baseline_median;
  m.contender = r.contender_median;
  m.ratio = r.ratio;
  m.ratio_ci = r.ci;
  m.p_value = stats::mann_whitney_u(contender, baseline).p_value;
  m.verdict = Verdict::same;
  m.significant = *m.p_value < o.alpha && m.ratio_ci && (m.ratio_ci->low > 1 || m.ratio_ci->high < 1);
  judge(m);
  return m;
}

/// A timing compared through its summaries (no raw samples): the ratio of
/// the medians with the interval [c.low / b.high, c.high / b.low] from the
/// medians' own intervals. It holds the true ratio whenever both intervals
/// hold their medians, and excludes 1 only when the two intervals do not
/// overlap: a conservative test (docs/regressions.md). Untested when an
/// interval is missing.
inline MetricComparison compare_summaries(std::string metric, MetricKind kind, const LatencySummary& b,
                                          const LatencySummary& c, double threshold) {
  MetricComparison m = metric_of(std::move(metric), kind, "s", true, "intervals", threshold);
  m.baseline_count = b.count;
  m.contender_count = c.count;
  m.baseline = b.median.value_or(b.mean);
  m.contender = c.median.value_or(c.mean);
  if (!(m.baseline > 0) || !(m.contender > 0)) return m;
  m.ratio = m.contender / m.baseline;
  m.change = m.ratio - 1;
  if (!b.median_ci || !c.median_ci || !(b.median_ci->low > 0)) return m;
  m.ratio_ci = Interval{c.median_ci->low / b.median_ci->high, c.median_ci->high / b.median_ci->low};
  m.verdict = Verdict::same;
  m.significant = m.ratio_ci->low > 1 || m.ratio_ci->high < 1;
  judge(m);
  return m;
}

/// A value without samples (memory): the plain ratio against the threshold;
/// an increase under `floor` is never a regression.
inline MetricComparison compare_values(std::string metric, MetricKind kind, double baseline, double contender,
                                       double threshold, double floor) {
  MetricComparison m = metric_of(std::move(metric), kind, "bytes", true, "values", threshold);
  m.baseline = baseline;
  m.contender = contender;
  if (!(baseline > 0)) return m;
  m.ratio = contender / baseline;
  m.change = m.ratio - 1;
  if (m.change > threshold && contender - baseline >= floor) {
    m.verdict = Verdict::regression;
  } else if (-m.change > threshold && baseline - contender >= floor) {
    m.verdict = Verdict::better;
  } else {
    m.verdict = Verdict::same;
  }
  m.significant = m.verdict != Verdict::same;
  return m;
}

/// Throughput per sample: items per run (the recorded throughput times the
/// mean sample) over each sample. Empty when the cell has no throughput.
inline std::vector<double> throughput_samples(const CellResult& c) {
  std::vector<double> out;
  if (!(c.throughput.items_per_second > 0) || c.samples_s.empty()) return out;
  double sum = 0;
  for (double s : c.samples_s) sum += s;
  const double items_per_run = c.throughput.items_per_second * sum / static_cast<double>(c.samples_s.size());
  for (double s : c.samples_s) {
    if (s > 0) out.push_back(items_per_run / s);
  }
  return out;
}

inline bool all_positive(const std::vector<double>& x) {
  if (x.empty()) return false;
  for (double v : x) {
    if (!(v > 0)) return false;
  }
  return true;
}

}  // namespace detail

/// The metrics of one cell in both runs: latency (samples, or the
/// summaries' intervals when a run kept no samples), throughput (derived
/// samples), each phase both have (intervals), peak resident memory and
/// device memory where both recorded it (values).
[[nodiscard]] inline std::vector<MetricComparison> compare_cell_metrics(const CellResult& b, const CellResult& c,
                                                                        const RegressionOptions& o = {}) {
  std::vector<MetricComparison> out;
  const SlowdownThresholds& t = o.max_slowdown;
  if (detail::all_positive(b.samples_s) && detail::all_positive(c.samples_s)) {
    out.push_back(detail::compare_samples("latency", MetricKind::latency, "s", true, b.samples_s, c.samples_s,
                                          t.latency, o));
    const auto bt = detail::throughput_samples(b);
    const auto ct = detail::throughput_samples(c);
    if (!bt.empty() && !ct.empty()) {
      const std::string unit = (c.throughput.item_unit.empty() ? std::string("items") : c.throughput.item_unit) + "/s";
      out.push_back(
          detail::compare_samples("throughput", MetricKind::throughput, unit, false, bt, ct, t.throughput, o));
    }
  } else if (b.latency.count > 0 && c.latency.count > 0) {
    out.push_back(detail::compare_summaries("latency", MetricKind::latency, b.latency, c.latency, t.latency));
  }
  for (const auto& cp : c.phases) {
    for (const auto& bp : b.phases) {
      if (bp.name != cp.name || bp.latency.count == 0 || cp.latency.count == 0) continue;
      out.push_back(detail::compare_summaries(cp.name, MetricKind::phase, bp.latency, cp.latency, t.phase(cp.name)));
    }
  }
  const double floor = static_cast<double>(o.memory_floor_bytes);
  if (b.memory.peak_rss_bytes > 0 && c.memory.peak_rss_bytes > 0) {
    out.push_back(detail::compare_values("memory", MetricKind::memory, static_cast<double>(b.memory.peak_rss_bytes),
                                         static_cast<double>(c.memory.peak_rss_bytes), t.memory, floor));
  }
  if (b.memory.device_peak_bytes && c.memory.device_peak_bytes && *b.memory.device_peak_bytes > 0) {
    out.push_back(detail::compare_values("device_memory", MetricKind::device_memory,
                                         static_cast<double>(*b.memory.device_peak_bytes),
                                         static_cast<double>(*c.memory.device_peak_bytes), t.memory, floor));
  }
  return out;
}

/// Compares `contender` with `baseline` on the cells both hold (same
/// family, model, backend and shape: cell_key). Cells in one run only are
/// listed as added or removed; contender cells not ok are listed; metrics
/// are compared where the cell is ok in both. Throws std::invalid_argument
/// for an alpha outside (0, 0.5] or a negative threshold.
[[nodiscard]] inline RegressionReport compare_runs(const RunResult& baseline, const RunResult& contender,
                                                   const RegressionOptions& options = {}) {
  if (!(options.alpha > 0 && options.alpha <= 0.5)) throw std::invalid_argument("alpha must lie in (0, 0.5]");
  const SlowdownThresholds& t = options.max_slowdown;
  bool negative = t.latency < 0 || t.throughput < 0 || t.phases < 0 || t.memory < 0;
  for (const auto& p : t.by_phase) negative = negative || p.second < 0;
  if (negative) throw std::invalid_argument("a max slowdown must be 0 or more");
  RegressionReport report;
  report.options = options;
  // Each run's cells by key, in its order; a repeated key keeps its first cell.
  struct Indexed {
    std::vector<std::pair<std::string, const CellResult*>> in_order;
    std::map<std::string, const CellResult*> by_key;
  };
  const auto index = [&](const RunResult& run, const char* which) {
    Indexed cells;
    for (const auto& c : run.cells) {
      std::string key = cell_key(c);
      if (!cells.by_key.emplace(key, &c).second) {
        report.warnings.push_back(std::string("the ") + which + " holds the cell " + key +
                                  " more than once: its first result is compared");
        continue;
      }
      cells.in_order.emplace_back(std::move(key), &c);
    }
    return cells;
  };
  const Indexed base_cells = index(baseline, "baseline");
  const Indexed cont_cells = index(contender, "contender");
  for (const auto& [key, b] : base_cells.in_order) {
    const auto found = cont_cells.by_key.find(key);
    if (found == cont_cells.by_key.end()) {
      report.removed.push_back(key);
      continue;
    }
    const CellResult* c = found->second;
    CellComparison cmp{.key = key, .family = b->family, .model = b->model, .backend = b->backend, .shape = b->shape,
                       .baseline_status = b->status, .contender_status = c->status,
                       .contender_message = c->message, .metrics = {}};
    if (cmp.compared()) cmp.metrics = compare_cell_metrics(*b, *c, options);
    report.cells.push_back(std::move(cmp));
  }
  for (const auto& [key, c] : cont_cells.in_order) {
    const bool common = base_cells.by_key.count(key) != 0;
    if (!common) report.added.push_back(key);
    if (c->status != CellStatus::ok) report.contender_not_ok.push_back({key, c->status, c->message, common});
  }
  if (baseline.system.hostname != contender.system.hostname ||
      baseline.system.cpu_model != contender.system.cpu_model) {
    report.warnings.push_back("the runs were measured on different machines (" + baseline.system.hostname + ", " +
                              baseline.system.cpu_model + " / " + contender.system.hostname + ", " +
                              contender.system.cpu_model + "): the machine alone can explain a difference");
  }
  if (baseline.build.debug() != contender.build.debug()) {
    report.warnings.push_back(std::string("one run is from a debug build (") +
                              (baseline.build.debug() ? "the baseline" : "the contender") +
                              "): unoptimised or with assertions, its timings are not comparable");
  }
  return report;
}

}  // namespace accelbench
