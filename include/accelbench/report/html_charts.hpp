#pragma once

// The charts of the HTML report (html_reporter.hpp), built from a run's
// cells: per model family, latency, throughput and memory over each sweep
// axis; backends side by side (hardware), models side by side
// (architecture); phases; the latency distribution of each cell.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../measure/stats/summary.hpp"
#include "svg_chart.hpp"

namespace accelbench::detail {

/// The cells of one model family, with its models, backends and sweep axes
/// in the order they first appear.
struct HtmlFamily {
  std::string name;
  std::string item_unit;
  std::vector<const CellResult*> cells;
  std::vector<std::string> models, backends, axes;
  std::vector<std::string> varying;  ///< the axes with more than one value: those that tell cells apart
};

/// Where `value` is in `list`; list.size() when it is not there.
template <class T>
std::size_t position_of(const std::vector<T>& list, const T& value) {
  return static_cast<std::size_t>(std::find(list.begin(), list.end(), value) - list.begin());
}

/// Where `value` is in `list`, appended first when it is not there.
template <class T>
std::size_t index_in(std::vector<T>& list, const T& value) {
  const auto it = std::find(list.begin(), list.end(), value);
  if (it != list.end()) return static_cast<std::size_t>(it - list.begin());
  list.push_back(value);
  return list.size() - 1;
}

inline std::vector<HtmlFamily> html_families(const RunResult& r) {
  std::vector<HtmlFamily> out;
  for (const auto& c : r.cells) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& f) { return f.name == c.family; });
    if (it == out.end()) {
      out.push_back({c.family, c.throughput.item_unit, {}, {}, {}, {}, {}});
      it = out.end() - 1;
    }
    if (it->item_unit.empty()) it->item_unit = c.throughput.item_unit;
    it->cells.push_back(&c);
    index_in(it->models, c.model);
    index_in(it->backends, c.backend);
    for (const auto& a : c.shape) index_in(it->axes, a.name);
  }
  for (auto& f : out) {
    for (const auto& axis : f.axes) {
      std::vector<std::int64_t> values;
      for (const auto* c : f.cells) {
        if (const auto v = c->axis(axis)) index_in(values, *v);
      }
      if (values.size() > 1) f.varying.push_back(axis);
    }
  }
  return out;
}

/// A cell with timings to draw.
[[nodiscard]] inline bool is_measured(const CellResult& c) { return c.latency.count > 0; }

/// The latency a chart shows, in milliseconds: the median with its
/// interval, or the mean with its where the Stats policy gave no median.
[[nodiscard]] inline std::optional<BarValue> latency_ms(const LatencySummary& l) {
  if (l.count == 0) return std::nullopt;
  auto ms = [](const std::optional<Interval>& i) {
    return i ? std::optional<Interval>(Interval{i->low * 1e3, i->high * 1e3}) : std::nullopt;
  };
  const double v = l.median ? *l.median : l.mean;
  if (!std::isfinite(v)) return std::nullopt;
  return BarValue{v * 1e3, ms(l.median ? l.median_ci : l.mean_ci)};
}

/// A value a chart can place: finite.
[[nodiscard]] inline std::optional<BarValue> finite(double v) {
  return std::isfinite(v) ? std::optional<BarValue>(BarValue{v, std::nullopt}) : std::nullopt;
}

/// Short names of the common sweep axes for chart labels.
[[nodiscard]] inline std::string chart_axis_label(std::string_view name) {
  if (name == "batch_size") return "batch";
  if (name == "sequence_length") return "seq";
  if (name == "prompt_length") return "prompt";
  if (name == "new_tokens") return "new tokens";
  if (name == "image_size") return "image";
  if (name == "image_width") return "width";
  if (name == "audio_seconds") return "audio s";
  return std::string(name);
}

/// A shape as "batch 4 · seq 16"; with `only`, the axes named there alone.
[[nodiscard]] inline std::string chart_shape_label(const std::vector<Axis>& shape,
                                             const std::vector<std::string>* only = nullptr) {
  std::string s;
  for (const auto& a : shape) {
    if (only && std::find(only->begin(), only->end(), a.name) == only->end()) continue;
    s += (s.empty() ? "" : " \xC2\xB7 ") + chart_axis_label(a.name) + " " + std::to_string(a.value);
  }
  return s;
}

[[nodiscard]] inline std::string join_label(std::string_view a, std::string_view b) {
  if (b.empty()) return std::string(a);
  if (a.empty()) return std::string(b);
  return std::string(a) + " \xC2\xB7 " + std::string(b);
}

/// What an axis chart plots of a cell.
enum class AxisMetric { latency, throughput, memory, device_memory };

[[nodiscard]] inline std::optional<BarValue> axis_metric_value(const CellResult& c, AxisMetric m) {
  switch (m) {
    case AxisMetric::latency: return latency_ms(c.latency);
    case AxisMetric::throughput: return finite(c.throughput.items_per_second);
    case AxisMetric::memory:
      if (c.memory.peak_rss_bytes == 0) return std::nullopt;
      return BarValue{static_cast<double>(c.memory.peak_rss_bytes) / (1024.0 * 1024.0), std::nullopt};
    case AxisMetric::device_memory:
      if (!c.memory.device_peak_bytes) return std::nullopt;
      return BarValue{static_cast<double>(*c.memory.device_peak_bytes) / (1024.0 * 1024.0), std::nullopt};
  }
  return std::nullopt;
}

/// The distinct values of `axis` among the measured cells, in order of appearance.
[[nodiscard]] inline std::vector<std::int64_t> axis_values(const HtmlFamily& f, const std::string& axis) {
  std::vector<std::int64_t> values;
  for (const auto* c : f.cells) {
    if (!is_measured(*c)) continue;
    if (const auto v = c->axis(axis)) index_in(values, *v);
  }
  return values;
}

/// A line chart of `metric` over `axis`: a line per model and backend (the
/// model's colour, the backend's dash), the other axes held at their first value.
[[nodiscard]] inline std::optional<std::string> axis_chart(const HtmlFamily& f, const std::string& axis,
                                                           AxisMetric metric) {
  std::vector<Axis> fixed;
  for (const auto& other : f.axes) {
    if (other == axis) continue;
    const auto values = axis_values(f, other);
    if (!values.empty()) fixed.push_back({other, values.front()});
  }
  // A Stats policy without percentiles (MeanStats) gives means.
  const bool medians = std::any_of(f.cells.begin(), f.cells.end(), [](const CellResult* c) {
    return is_measured(*c) && c->latency.median.has_value();
  });
  LineChart chart;
  chart.x_label = axis;
  std::string what;
  switch (metric) {
    case AxisMetric::latency:
      chart.kind = "latency";
      what = "Latency";
      chart.y_label = medians ? "median latency (ms)" : "mean latency (ms)";
      chart.y_unit = "ms";
      break;
    case AxisMetric::throughput:
      chart.kind = "throughput";
      what = "Throughput";
      chart.y_label = f.item_unit + " per second";
      chart.y_unit = f.item_unit + "/s";
      break;
    case AxisMetric::memory:
      chart.kind = "memory";
      what = "Peak resident memory";
      chart.y_label = "peak RSS (MiB)";
      chart.y_unit = "MiB";
      break;
    case AxisMetric::device_memory:
      chart.kind = "device-memory";
      what = "Peak device memory";
      chart.y_label = "device peak (MiB)";
      chart.y_unit = "MiB";
      break;
  }
  chart.title = fmt::format("{} vs {}", what, axis);
  std::string held;
  for (const auto& a : fixed) held += (held.empty() ? "" : ", ") + a.name + " " + std::to_string(a.value);
  if (metric == AxisMetric::latency) {
    chart.subtitle = medians ? "bars: the median's interval" : "bars: the mean's interval";
  }
  if (!held.empty()) chart.subtitle = join_label(chart.subtitle, "at " + held);
  for (std::size_t mi = 0; mi < f.models.size(); ++mi) {
    for (std::size_t bi = 0; bi < f.backends.size(); ++bi) {
      ChartSeries s{join_label(f.models[mi], f.backends[bi]), {}, mi, bi};
      for (const auto* c : f.cells) {
        if (c->model != f.models[mi] || c->backend != f.backends[bi] || !is_measured(*c)) continue;
        const auto x = c->axis(axis);
        if (!x) continue;
        const bool at_fixed = std::all_of(fixed.begin(), fixed.end(), [&](const Axis& a) {
          const auto v = c->axis(a.name);
          return !v || *v == a.value;
        });
        if (!at_fixed) continue;
        if (const auto v = axis_metric_value(*c, metric)) {
          s.points.push_back({static_cast<double>(*x), v->value, v->interval});
        }
      }
      if (!s.points.empty()) chart.series.push_back(std::move(s));
    }
  }
  if (chart.series.empty()) return std::nullopt;
  return line_chart_svg(chart);
}

/// Bars per backend for each model and shape: latency (data-chart
/// "hardware") and the speed of each other backend relative to the first
/// (data-chart "speedup", throughput ratio). Empty with fewer than two backends.
[[nodiscard]] inline std::vector<std::string> hardware_charts(const HtmlFamily& f, std::size_t max_groups = 80) {
  std::vector<std::string> backends;
  for (const auto* c : f.cells) {
    if (is_measured(*c)) index_in(backends, c->backend);
  }
  if (backends.size() < 2) return {};
  BarChart latency, speedup;
  latency.kind = "hardware";
  latency.title = "Latency by backend";
  latency.value_label = "median latency (ms)";
  latency.unit = "ms";
  latency.series = backends;
  speedup.kind = "speedup";
  speedup.title = fmt::format("Throughput relative to {}", backends.front());
  speedup.value_label = fmt::format("throughput / throughput on {}", backends.front());
  speedup.unit = "x";
  speedup.series.assign(backends.begin() + 1, backends.end());
  for (std::size_t i = 1; i < backends.size(); ++i) speedup.colors.push_back(i);
  speedup.reference = 1.0;
  std::vector<std::pair<std::string, std::string>> keys;  // model, shape label
  for (const auto* c : f.cells) {
    if (is_measured(*c)) index_in(keys, std::make_pair(c->model, chart_shape_label(c->shape, &f.varying)));
  }
  const bool cut = keys.size() > max_groups;
  if (cut) keys.resize(max_groups);
  for (const auto& [model, shape] : keys) {
    BarGroup lg{join_label(model, shape), std::vector<std::optional<BarValue>>(backends.size())};
    BarGroup sg{lg.label, std::vector<std::optional<BarValue>>(backends.size() - 1)};
    std::vector<std::optional<double>> rates(backends.size());
    for (const auto* c : f.cells) {
      if (!is_measured(*c) || c->model != model || chart_shape_label(c->shape, &f.varying) != shape) continue;
      const auto bi = position_of(backends, c->backend);
      lg.values[bi] = latency_ms(c->latency);
      if (std::isfinite(c->throughput.items_per_second)) rates[bi] = c->throughput.items_per_second;
    }
    for (std::size_t bi = 1; bi < backends.size(); ++bi) {
      if (rates[0] && *rates[0] > 0 && rates[bi]) sg.values[bi - 1] = BarValue{*rates[bi] / *rates[0], std::nullopt};
    }
    latency.groups.push_back(std::move(lg));
    if (std::any_of(sg.values.begin(), sg.values.end(), [](const auto& v) { return v.has_value(); })) {
      speedup.groups.push_back(std::move(sg));
    }
  }
  if (cut) latency.subtitle = speedup.subtitle = fmt::format("the first {} model and shape pairs", max_groups);
  std::vector<std::string> out{bar_chart_svg(latency)};
  if (!speedup.groups.empty()) out.push_back(bar_chart_svg(speedup));
  return out;
}

/// The models side by side: throughput of each model on each backend at
/// the shape most models were measured at (data-chart "architecture").
/// Empty with fewer than two models measured.
[[nodiscard]] inline std::optional<std::string> architecture_chart(const HtmlFamily& f) {
  std::vector<std::string> shapes;  // labels
  std::vector<std::vector<std::string>> models_at;
  std::vector<std::vector<Axis>> shape_of;
  for (const auto* c : f.cells) {
    if (!is_measured(*c)) continue;
    const auto si = index_in(shapes, chart_shape_label(c->shape));
    if (si == models_at.size()) {
      models_at.emplace_back();
      shape_of.push_back(c->shape);
    }
    index_in(models_at[si], c->model);
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < shapes.size(); ++i) {
    if (models_at[i].size() > models_at[best].size()) best = i;
  }
  if (shapes.empty() || models_at[best].size() < 2) return std::nullopt;
  BarChart chart;
  chart.kind = "architecture";
  chart.title = "Models side by side";
  chart.subtitle = "throughput at " + shapes[best];
  chart.value_label = f.item_unit + " per second";
  chart.unit = f.item_unit + "/s";
  chart.series = models_at[best];
  for (const auto& m : chart.series) {
    chart.colors.push_back(position_of(f.models, m));
  }
  for (const auto& backend : f.backends) {
    BarGroup g{backend, std::vector<std::optional<BarValue>>(chart.series.size())};
    for (const auto* c : f.cells) {
      if (!is_measured(*c) || c->backend != backend || chart_shape_label(c->shape) != shapes[best]) continue;
      const auto mi = position_of(chart.series, c->model);
      if (mi < chart.series.size()) g.values[mi] = finite(c->throughput.items_per_second);
    }
    if (std::any_of(g.values.begin(), g.values.end(), [](const auto& v) { return v.has_value(); })) {
      chart.groups.push_back(std::move(g));
    }
  }
  if (chart.groups.empty()) return std::nullopt;
  return bar_chart_svg(chart);
}

/// The time one run spends in each phase (median of one occurrence times
/// its occurrences), a stacked bar per cell with phases (data-chart "phases").
[[nodiscard]] inline std::optional<std::string> phase_chart(const HtmlFamily& f) {
  StackedBarChart chart;
  chart.kind = "phases";
  chart.width = 820;
  chart.title = "Phases of one run";
  chart.subtitle = "median of one occurrence \xC3\x97 occurrences per run";
  chart.value_label = "time per run (ms)";
  chart.unit = "ms";
  for (const auto* c : f.cells) {
    if (!is_measured(*c) || c->phases.empty()) continue;
    for (const auto& p : c->phases) index_in(chart.segment_names, p.name);
  }
  for (const auto* c : f.cells) {
    if (!is_measured(*c) || c->phases.empty()) continue;
    StackedBar bar{join_label(join_label(c->model, c->backend), chart_shape_label(c->shape, &f.varying)),
                   std::vector<double>(chart.segment_names.size())};
    for (const auto& p : c->phases) {
      const auto i = position_of(chart.segment_names, p.name);
      if (const auto v = latency_ms(p.latency)) bar.segments[i] = v->value * static_cast<double>(p.per_run);
    }
    chart.bars.push_back(std::move(bar));
  }
  if (chart.bars.empty()) return std::nullopt;
  return stacked_bar_svg(chart);
}

/// The latency histogram of a cell (data-chart "histogram"), from its
/// summary's histogram or else from its samples; nothing without either.
[[nodiscard]] inline std::optional<std::string> cell_histogram(const HtmlFamily& f, const CellResult& c,
                                                               std::size_t color) {
  Histogram h;
  if (c.latency.histogram && !c.latency.histogram->counts.empty()) {
    h = *c.latency.histogram;
  } else {
    std::vector<double> sorted = c.samples_s;
    std::sort(sorted.begin(), sorted.end());
    h = histogram_of(sorted);  // the bins PercentileStats would give
  }
  if (h.counts.empty()) return std::nullopt;
  HistogramChart chart;
  chart.title = join_label(c.model, c.backend);
  chart.subtitle = chart_shape_label(c.shape, &f.varying);
  chart.x_label = "latency of one run (ms)";
  chart.min = h.min * 1e3;
  chart.bin_width = (h.bin_width > 0 ? h.bin_width : std::max(h.min * 1e-3, 1e-9)) * 1e3;
  chart.counts = h.counts;
  if (c.latency.median) chart.marker = *c.latency.median * 1e3;
  chart.color = color;
  return histogram_svg(chart);
}

/// Ratios a / b of a paired comparison over its shapes, with their intervals (data-chart "comparison").
[[nodiscard]] inline std::optional<std::string> comparison_chart(const ComparisonResult& r) {
  BarChart chart;
  chart.kind = "comparison";
  auto side = [](const std::string& model, const std::string& backend, const std::string& label) {
    return join_label(join_label(model, backend), label);
  };
  chart.title =
      fmt::format("{} vs {}", side(r.model_a, r.backend_a, r.label_a), side(r.model_b, r.backend_b, r.label_b));
  chart.subtitle = fmt::format("time a / time b, median of the pairs; bars: {:.0f}% interval", r.confidence * 100);
  chart.value_label = "ratio a / b";
  chart.series = {"a / b"};
  chart.reference = 1.0;
  for (const auto& cell : r.cells) {
    if (cell.pairs == 0 || !(cell.ratio > 0)) continue;
    chart.groups.push_back({chart_shape_label(cell.shape), {BarValue{cell.ratio, cell.ratio_ci}}});
  }
  if (chart.groups.empty()) return std::nullopt;
  return bar_chart_svg(chart);
}

}  // namespace accelbench::detail
