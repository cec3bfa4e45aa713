#pragma once

// Paired comparison: two variants of the same workload (two backends, two
// thread counts, two presets) measured in alternation, so that a drift of
// the machine affects both alike, summarised as the median of the pairwise
// time ratios with a distribution-free interval and a sign test.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../run/benchmark.hpp"
#include "../backend/concepts.hpp"
#include "../family/concepts.hpp"
#include "../measure/stats/concept.hpp"
#include "../measure/timer/concept.hpp"
#include "../report/concept.hpp"
#include "../core/config.hpp"
#include "../machine/environment.hpp"
#include "../run/resource_pool.hpp"
#include "../core/result.hpp"
#include "../measure/sampling.hpp"
#include "../measure/stats/distributions.hpp"
#include "../measure/stats/summary.hpp"
#include "../machine/system.hpp"
#include "../measure/timer/calibration.hpp"
#include "../measure/timer/steady_timer.hpp"

namespace accelbench {

/// One side of a comparison: a label for reports, what to run, and where.
template <class B>
struct Variant {
  std::string label;
  Config config;
  B backend;
};

namespace detail {

/// The median of the pairwise ratios, its interval and the sign test.
inline void summarize_pairs(const std::vector<double>& a, const std::vector<double>& b, double confidence,
                            ComparisonCell& out) {
  std::vector<double> ratios(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) ratios[i] = a[i] / b[i];
  out.pairs = ratios.size();
  if (ratios.empty()) return;
  out.a_slower = static_cast<std::size_t>(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r > 1; }));
  out.b_slower = static_cast<std::size_t>(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r < 1; }));
  std::sort(ratios.begin(), ratios.end());
  out.ratio = percentile_sorted(ratios, 50);
  if (const auto ci = percentile_ci_sorted(ratios, 50, confidence)) out.ratio_ci = Interval{ci->low, ci->high};
  out.p_value = stats::sign_test_p_value(out.a_slower, out.b_slower);
  out.significant = out.p_value < 1.0 - confidence;
  std::vector<double> sa = a, sb = b;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  out.median_a_s = percentile_sorted(sa, 50);
  out.median_b_s = percentile_sorted(sb, 50);
}

}  // namespace detail

/// Compares variant a with variant b on every cell of a's sweep (b's sweep
/// must give the same cells). The stopping rule is a's, counted in pairs;
/// target_relative_ci_width applies to the ratio's interval. Runs alternate
/// a-b, b-a, a-b, ... Each variant's runs per sample are chosen as in
/// Benchmark, and ratios compare time per run. Models come from `pool` when
/// given, else from a pool local to the comparison, so that two variants of
/// one preset on one device share one model. `on_cell`, when given, is
/// called after each cell with the comparison so far (its last cell the new one).
/// `done`, when given, says which cells were compared before (a resumed
/// comparison): a cell it returns is taken as it is, not measured again,
/// and not passed to on_cell.
template <ModelFamily F, Backend A, Backend B, Timer T = SteadyTimer>
  requires RunsOn<F, A> && RunsOn<F, B>
[[nodiscard]] RunResult compare(
    Variant<A> a, Variant<B> b, ResourcePool* pool = nullptr,
    const std::function<void(const ComparisonResult&)>& on_cell = {},
    const std::function<std::optional<ComparisonCell>(const std::vector<Axis>&)>& done = {}) {
  validate<F>(a.config);
  validate<F>(b.config);
  const auto preset_a = detail::preset_for<F>(a.config);
  const auto preset_b = detail::preset_for<F>(b.config);
  F::validate(a.config, preset_a);
  F::validate(b.config, preset_b);
  const auto cells = detail::cells_for<F>(a.config, preset_a);
  const auto cells_b = detail::cells_for<F>(b.config, preset_b);
  bool same = cells.size() == cells_b.size();
  for (std::size_t i = 0; same && i < cells.size(); ++i) {
    const auto x = F::axes(cells[i]);
    const auto y = F::axes(cells_b[i]);
    same = x.size() == y.size();
    for (std::size_t j = 0; same && j < x.size(); ++j) same = x[j].name == y[j].name && x[j].value == y[j].value;
  }
  if (!same) throw ConfigError("b.config", "(its sweep)", "a comparison needs the same cells on both sides");

  const Config& rule = a.config;
  RunResult result = describe_run();
  result.settings = rule;

  ComparisonResult cmp;
  cmp.family = std::string(F::name);
  cmp.model_a = preset_a.name;
  cmp.model_b = preset_b.name;
  cmp.backend_a = std::string(A::name);
  cmp.backend_b = std::string(B::name);
  cmp.label_a = a.label;
  cmp.label_b = b.label;
  cmp.confidence = rule.confidence;

  const Availability avail_a = A::available(), avail_b = B::available();
  if (!avail_a || !avail_b) {
    for (const auto& cell : cells) {
      ComparisonCell c;
      c.shape = F::axes(cell);
      c.status = "failed";
      c.message = !avail_a ? std::string(A::name) + " unavailable: " + avail_a.reason
                           : std::string(B::name) + " unavailable: " + avail_b.reason;
      cmp.cells.push_back(std::move(c));
      if (on_cell) on_cell(cmp);
    }
    result.comparisons.push_back(std::move(cmp));
    result.finished_at = utc_timestamp();
    return result;
  }
  result.devices.push_back(a.backend.describe());
  result.devices.push_back(b.backend.describe());

  auto make_timer = [](auto& backend) {
    if constexpr (std::is_constructible_v<T, decltype(backend)>) {
      return T(backend);
    } else {
      return T{};
    }
  };
  {
    T probe = make_timer(a.backend);
    result.timers.push_back(measure_timer(probe));
  }
  const TimerInfo& timer_info = result.timers.front();

  ResourcePool local_pool;
  ResourcePool& models = pool ? *pool : local_pool;

  for (const auto& cell : cells) {
    if (done) {
      if (auto before = done(F::axes(cell))) {
        cmp.cells.push_back(std::move(*before));
        continue;
      }
    }
    ComparisonCell c;
    c.shape = F::axes(cell);
    std::vector<double> ta, tb;
    try {
      const Deadline deadline(rule.cell_timeout_s);
      const auto model_a = models.template acquire<F>(a.backend, preset_a, a.config.seed, a.config.weights).model;
      const auto model_b = models.template acquire<F>(b.backend, preset_b, b.config.seed, b.config.weights).model;
      typename F::template Workload<A> work_a(a.backend, *model_a, cell, a.config.seed);
      typename F::template Workload<B> work_b(b.backend, *model_b, cell, b.config.seed);
      auto run_a = [&] { work_a.run(); };
      auto run_b = [&] { work_b.run(); };
      auto sync_a = [&] { a.backend.synchronize(); };
      auto sync_b = [&] { b.backend.synchronize(); };
      const auto warm_a = warm_up(run_a, sync_a, rule, deadline);
      const auto warm_b = warm_up(run_b, sync_b, rule, deadline);
      const std::size_t ka =
          choose_iterations_per_sample(warm_a.typical_run_s, timer_info, rule.iterations_per_sample, run_a, sync_a);
      const std::size_t kb =
          choose_iterations_per_sample(warm_b.typical_run_s, timer_info, rule.iterations_per_sample, run_b, sync_b);
      T timer_a = make_timer(a.backend);
      T timer_b = make_timer(b.backend);
      auto sample = [](T& timer, auto& run, auto& sync, std::size_t k) {
        timer.start();
        for (std::size_t i = 0; i < k; ++i) run();
        sync();
        return timer.stop() / static_cast<double>(k);
      };
      SteadyTimer elapsed;
      elapsed.start();
      std::size_t next_check = 1;
      const auto min_pairs = static_cast<std::size_t>(rule.min_iterations);
      const auto max_pairs = static_cast<std::size_t>(rule.max_iterations);
      for (;;) {
        if (deadline.passed()) throw CellTimeout{"sampling"};
        if (ta.size() % 2 == 0) {
          ta.push_back(sample(timer_a, run_a, sync_a, ka));
          tb.push_back(sample(timer_b, run_b, sync_b, kb));
        } else {
          tb.push_back(sample(timer_b, run_b, sync_b, kb));
          ta.push_back(sample(timer_a, run_a, sync_a, ka));
        }
        const std::size_t n = ta.size();
        const double t = elapsed.stop();
        if (n >= max_pairs) break;
        if (n >= min_pairs && t >= rule.min_time_s) {
          if (rule.target_relative_ci_width <= 0) break;
          if (n >= next_check) {
            next_check = n + std::max<std::size_t>(1, n / 10);
            ComparisonCell probe;
            detail::summarize_pairs(ta, tb, rule.confidence, probe);
            if (probe.ratio_ci && (probe.ratio_ci->high - probe.ratio_ci->low) / probe.ratio <=
                                      rule.target_relative_ci_width) {
              break;
            }
          }
        }
        if (t >= rule.max_time_s) break;
      }
    } catch (const CellTimeout& t) {
      c.status = "timeout";
      c.message = fmt::format("cell_timeout_s ({} s) passed during {}; kept {} pairs",
                              detail::format_number(rule.cell_timeout_s), t.phase, std::min(ta.size(), tb.size()));
    } catch (const std::exception& e) {
      c.status = "failed";
      c.message = e.what();
    } catch (...) {
      c.status = "failed";
      c.message = "unknown exception";
    }
    const std::size_t n = std::min(ta.size(), tb.size());
    ta.resize(n);
    tb.resize(n);
    detail::summarize_pairs(ta, tb, rule.confidence, c);
    cmp.cells.push_back(std::move(c));
    if (on_cell) on_cell(cmp);
  }
  result.comparisons.push_back(std::move(cmp));
  result.finished_at = utc_timestamp();
  return result;
}

}  // namespace accelbench
