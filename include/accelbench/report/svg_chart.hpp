#pragma once

// Charts as inline SVG, drawn in C++ with nothing to load: lines with
// interval bars over a numeric or categorical axis, grouped horizontal bars,
// histograms and stacked bars. Each chart is one <svg class="chart"> whose
// data-chart, data-series and data-marks attributes give its kind, its
// number of series and its number of data marks (the elements of class
// "mark": one per point, bar, bin or segment), and whose data-plot gives the
// plot area in the SVG's own coordinates. Every mark has a <title> that a
// browser shows on hover.

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../core/result.hpp"
#include "svg.hpp"

namespace accelbench {

/// One point of a line: its position, value and, where known, the interval around the value.
struct ChartPoint {
  double x = 0;
  double y = 0;
  std::optional<Interval> interval;
};

/// A line of a chart: colour and dash styles index the palette and the dash patterns.
struct ChartSeries {
  std::string name;
  std::vector<ChartPoint> points;
  std::size_t color = 0;
  std::size_t dash = 0;
};

/// A line chart. With `x_categories` set, each point's x is an index into
/// them and the axis is labelled with them (a metric over a sequence of runs).
struct LineChart {
  std::string kind = "line";  ///< the svg's data-chart attribute
  std::string title, subtitle;
  std::string x_label, y_label;
  std::string y_unit;         ///< shown after values on hover
  std::vector<ChartSeries> series;
  std::vector<std::string> x_categories;
  ChartScale x_scale = ChartScale::automatic;
  ChartScale y_scale = ChartScale::automatic;
  double width = 560;
  double plot_height = 220;
};

/// A value of a bar and, where known, its interval.
struct BarValue {
  double value = 0;
  std::optional<Interval> interval;
};

/// One row of bars, one per series (empty where the series has no value there).
struct BarGroup {
  std::string label;
  std::vector<std::optional<BarValue>> values;
};

/// Horizontal bars in groups: a row of bars per group, a bar per series.
struct BarChart {
  std::string kind = "bar";
  std::string title, subtitle;
  std::string value_label;
  std::string unit;
  std::vector<std::string> series;
  std::vector<std::size_t> colors;  ///< palette index of each series; empty: in order
  std::vector<BarGroup> groups;
  ChartScale scale = ChartScale::automatic;
  std::optional<double> reference;  ///< a value marked by a line across the plot (1 for a ratio)
  double width = 660;
  double bar_height = 12;
};

/// A histogram over equal-width bins.
struct HistogramChart {
  std::string kind = "histogram";
  std::string title, subtitle;
  std::string x_label;
  double min = 0, bin_width = 0;
  std::vector<std::size_t> counts;
  std::optional<double> marker;  ///< a value marked by a line (e.g. the median)
  std::size_t color = 0;
  double width = 280;
  double plot_height = 100;
};

/// One bar of a stacked bar chart: its segments, in the order of the chart's segment names.
struct StackedBar {
  std::string label;
  std::vector<double> segments;
};

/// Horizontal bars made of segments (the phases of a run, ...).
struct StackedBarChart {
  std::string kind = "stacked";
  std::string title, subtitle;
  std::string value_label;
  std::string unit;
  std::vector<std::string> segment_names;
  std::vector<StackedBar> bars;
  double width = 660;
  double bar_height = 16;
};

namespace detail {

inline std::string value_text(double v, std::string_view unit) {
  return unit.empty() ? short_number(v) : short_number(v) + " " + std::string(unit);
}

inline std::string interval_text(const std::optional<Interval>& i) {
  return i ? fmt::format(" (interval {} to {})", short_number(i->low), short_number(i->high)) : std::string();
}

}  // namespace detail

/// A line chart as an <svg> element: a line and dots per series, interval
/// bars where the points have intervals, and a legend below.
[[nodiscard]] inline std::string line_chart_svg(const LineChart& c) {
  std::vector<double> xs, ys;
  std::size_t marks = 0;
  std::vector<std::string> names;
  std::vector<std::size_t> colors, dashes;
  for (const auto& s : c.series) {
    names.push_back(s.name);
    colors.push_back(s.color);
    dashes.push_back(s.dash);
    for (const auto& p : s.points) {
      xs.push_back(p.x);
      ys.push_back(p.y);
      if (p.interval) {
        ys.push_back(p.interval->low);
        ys.push_back(p.interval->high);
      }
      ++marks;
    }
  }
  const bool categorical = !c.x_categories.empty();
  const double left = 64, right = 18;
  const double plot_w = c.width - left - right, plot_h = c.plot_height;
  std::string body;
  const double top = detail::append_titles(body, c.title, c.subtitle, 8) + 6;
  std::vector<double> x_positions = xs;
  if (categorical) {
    x_positions.clear();
    for (std::size_t i = 0; i < c.x_categories.size(); ++i) x_positions.push_back(static_cast<double>(i));
  }
  detail::Scale sx = detail::data_scale(x_positions, categorical ? ChartScale::linear : c.x_scale, left + 14,
                                        left + plot_w - 14);
  if (categorical && c.x_categories.size() > 1) {  // a tick per category, however many
    sx.log = false;
    sx.lo = 0;
    sx.hi = static_cast<double>(c.x_categories.size() - 1);
    sx.ticks = x_positions;
  }
  detail::Scale sy = detail::value_scale(ys, c.y_scale, top + plot_h, top);
  detail::append_y_axis(body, sy, left, plot_w);
  detail::append_x_axis(body, sx, top, plot_h, c.x_categories);
  std::string x_label = c.x_label, y_label = c.y_label;
  if (sx.log && !categorical) x_label += " (log scale)";
  if (sy.log) y_label += " (log scale)";
  detail::append_frame(body, left, top, plot_w, plot_h, x_label, y_label);

  for (const auto& s : c.series) {
    const char* color = detail::palette_color(s.color);
    auto points = s.points;
    std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
    fmt::format_to(std::back_inserter(body), "<g class=\"series\" data-name=\"{}\">", detail::html_escape(s.name));
    if (points.size() > 1) {
      std::string d;
      for (const auto& p : points) d += fmt::format("{}{} {}", d.empty() ? "M" : "L", detail::svg_num(sx(p.x)),
                                                    detail::svg_num(sy(p.y)));
      const char* dash = detail::dash_pattern(s.dash);
      fmt::format_to(std::back_inserter(body), "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"{}\" "
                     "stroke-width=\"2\"{}/>", d, color,
                     *dash ? fmt::format(" stroke-dasharray=\"{}\"", dash) : std::string());
    }
    for (const auto& p : points) {
      const double x = sx(p.x), y = sy(p.y);
      if (p.interval) detail::append_error_bar(body, sy(p.interval->low), sy(p.interval->high), x, true, color);
      const std::string where = categorical
          ? (static_cast<std::size_t>(p.x) < c.x_categories.size() ? c.x_categories[static_cast<std::size_t>(p.x)]
                                                                    : std::string())
          : c.x_label + " " + detail::short_number(p.x);
      fmt::format_to(std::back_inserter(body),
                     "<circle class=\"mark\" cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"><title>{}{}: {}{}</title>"
                     "</circle>",
                     detail::svg_num(x), detail::svg_num(y), color,
                     s.name.empty() ? std::string() : detail::html_escape(s.name) + ": ",
                     detail::html_escape(where), detail::html_escape(detail::value_text(p.y, c.y_unit)),
                     detail::html_escape(detail::interval_text(p.interval)));
    }
    body += "</g>";
  }
  const double legend_top = top + plot_h + 42;
  // One line without a name needs no legend.
  const bool legend = !(c.series.size() == 1 && c.series.front().name.empty());
  const double legend_h =
      legend ? detail::append_legend(body, names, colors, dashes, true, left, legend_top, plot_w) : 0;
  const double height = legend_top + legend_h + 4;
  return detail::svg_open(c.kind, c.series.size(), marks, c.width, height, left, top, plot_w, plot_h, c.title) +
         body + "</svg>";
}

/// Grouped horizontal bars as an <svg> element: group labels on the left,
/// one bar per series in each group, interval bars where known.
[[nodiscard]] inline std::string bar_chart_svg(const BarChart& c) {
  std::vector<double> values;
  std::size_t marks = 0, longest = 4;
  for (const auto& g : c.groups) {
    longest = std::max(longest, std::min<std::size_t>(detail::display_length(g.label), 44));
    for (const auto& v : g.values) {
      if (!v) continue;
      values.push_back(v->value);
      if (v->interval) {
        values.push_back(v->interval->low);
        values.push_back(v->interval->high);
      }
      ++marks;
    }
  }
  if (c.reference) values.push_back(*c.reference);
  const double left = std::min(300.0, detail::text_width(longest) + 16), right = 24;
  const double plot_w = c.width - left - right;
  const double group_h = static_cast<double>(std::max<std::size_t>(1, c.series.size())) * c.bar_height + 10;
  const double plot_h = static_cast<double>(c.groups.size()) * group_h;
  std::string body;
  const double top = detail::append_titles(body, c.title, c.subtitle, 8) + 6;
  detail::Scale sx = detail::value_scale(values, c.scale, left, left + plot_w);
  detail::append_x_axis(body, sx, top, plot_h);
  const double base = sx.log ? sx.lo : 0.0;
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const auto& g = c.groups[gi];
    const double gy = top + static_cast<double>(gi) * group_h + 5;
    fmt::format_to(std::back_inserter(body),
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}<title>{}</title>"
                   "</text>",
                   detail::svg_num(left - 6), detail::svg_num(gy + (group_h - 10) / 2),
                   detail::html_escape_short(g.label, 44), detail::html_escape(g.label));
    for (std::size_t si = 0; si < g.values.size() && si < std::max<std::size_t>(1, c.series.size()); ++si) {
      if (!g.values[si]) continue;
      const auto& v = *g.values[si];
      const double y = gy + static_cast<double>(si) * c.bar_height;
      const double x0 = sx(base), x1 = sx(std::max(v.value, base));
      const char* color = detail::palette_color(si < c.colors.size() ? c.colors[si] : si);
      const std::string series = si < c.series.size() ? c.series[si] : std::string();
      const std::string value = ": " + detail::value_text(v.value, c.unit) + detail::interval_text(v.interval);
      fmt::format_to(std::back_inserter(body),
                     "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                     "<title>{}{}{}{}</title></rect>",
                     detail::svg_num(std::min(x0, x1)), detail::svg_num(y + 1),
                     detail::svg_num(std::max(1.0, std::abs(x1 - x0))), detail::svg_num(c.bar_height - 2), color,
                     detail::html_escape(g.label), series.empty() ? "" : ", ", detail::html_escape(series),
                     detail::html_escape(value));
      if (v.interval) {
        detail::append_error_bar(body, sx(v.interval->low), sx(v.interval->high), y + c.bar_height / 2, false,
                                 color);
      }
    }
  }
  if (c.reference) {
    const std::string x = detail::svg_num(sx(*c.reference));
    fmt::format_to(std::back_inserter(body),
                   "<line class=\"reference\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#222\" "
                   "stroke-dasharray=\"4 3\"/>",
                   x, detail::svg_num(top), x, detail::svg_num(top + plot_h));
  }
  std::string label = c.value_label;
  if (sx.log) label += " (log scale)";
  detail::append_frame(body, left, top, plot_w, plot_h, label, "");
  const double legend_top = top + plot_h + 42;
  std::vector<std::size_t> colors = c.colors;
  for (std::size_t i = colors.size(); i < c.series.size(); ++i) colors.push_back(i);
  const double legend_h =
      c.series.size() > 1 ? detail::append_legend(body, c.series, colors, {}, false, left, legend_top, plot_w) : 0;
  const double height = legend_top + legend_h + 4;
  return detail::svg_open(c.kind, std::max<std::size_t>(1, c.series.size()), marks, c.width, height, left, top,
                          plot_w, plot_h, c.title) +
         body + "</svg>";
}

/// A histogram as an <svg> element: a bar per non-empty bin, and the marker as a dashed line.
[[nodiscard]] inline std::string histogram_svg(const HistogramChart& c) {
  const double left = 46, right = 10;
  const double plot_w = c.width - left - right, plot_h = c.plot_height;
  std::string body;
  const double top = detail::append_titles(body, c.title, c.subtitle, 6) + 4;
  const double end = c.min + c.bin_width * static_cast<double>(c.counts.size());
  std::size_t most = 0, marks = 0;
  for (auto n : c.counts) most = std::max(most, n);
  detail::Scale sy = detail::value_scale({0.0, static_cast<double>(most)}, ChartScale::linear, top + plot_h, top);
  if (most < 5) {  // counts: whole numbers only
    sy.hi = static_cast<double>(std::max<std::size_t>(1, most));
    sy.ticks.clear();
    for (std::size_t i = 0; i <= std::max<std::size_t>(1, most); ++i) sy.ticks.push_back(static_cast<double>(i));
  }
  // A sweep of latencies is far from zero: the axis spans the bins (and the marker) only.
  const double lo_value = std::min(c.min, c.marker.value_or(c.min));
  const double hi_value = std::max(end, c.marker.value_or(end));
  const double step = detail::nice_step((hi_value - lo_value) / 4);
  detail::Scale sx;
  sx.from = left;
  sx.to = left + plot_w;
  sx.lo = std::floor(lo_value / step) * step;
  sx.hi = std::max(sx.lo + step, std::ceil(hi_value / step) * step);
  for (double v = sx.lo; v <= sx.hi + step * 1e-6; v += step) sx.ticks.push_back(v);
  detail::append_y_axis(body, sy, left, plot_w);
  detail::append_x_axis(body, sx, top, plot_h);
  const char* color = detail::palette_color(c.color);
  for (std::size_t i = 0; i < c.counts.size(); ++i) {
    if (c.counts[i] == 0) continue;
    const double lo = c.min + c.bin_width * static_cast<double>(i);
    // A bin of one sample among hundreds still shows: at least 2 pixels high.
    const double x0 = sx(lo), w = std::max(1.5, sx(lo + c.bin_width) - x0);
    const double h = std::max(2.0, top + plot_h - sy(static_cast<double>(c.counts[i])));
    fmt::format_to(std::back_inserter(body),
                   "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}>"
                   "<title>{} to {}: {}</title></rect>",
                   detail::svg_num(x0), detail::svg_num(top + plot_h - h), detail::svg_num(w), detail::svg_num(h),
                   color, w >= 4 ? " stroke=\"#fff\" stroke-width=\"0.5\"" : "", detail::short_number(lo),
                   detail::short_number(lo + c.bin_width), c.counts[i]);
    ++marks;
  }
  if (c.marker) {
    const std::string x = detail::svg_num(sx(*c.marker));
    fmt::format_to(std::back_inserter(body),
                   "<line class=\"marker\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#222\" "
                   "stroke-dasharray=\"3 2\"/>",
                   x, detail::svg_num(top), x, detail::svg_num(top + plot_h));
  }
  detail::append_frame(body, left, top, plot_w, plot_h, c.x_label, "samples");
  const double height = top + plot_h + 40;
  return detail::svg_open(c.kind, 1, marks, c.width, height, left, top, plot_w, plot_h, c.title) + body + "</svg>";
}

/// Stacked horizontal bars as an <svg> element: a bar per entry made of its
/// segments, the total at its end, and a legend of the segments.
[[nodiscard]] inline std::string stacked_bar_svg(const StackedBarChart& c) {
  std::vector<double> totals;
  std::size_t marks = 0, longest = 4;
  for (const auto& b : c.bars) {
    double t = 0;
    for (double v : b.segments) {
      if (v > 0) {
        t += v;
        ++marks;
      }
    }
    totals.push_back(t);
    longest = std::max(longest, std::min<std::size_t>(detail::display_length(b.label), 44));
  }
  const double left = std::min(300.0, detail::text_width(longest) + 16), right = 60;
  const double plot_w = c.width - left - right;
  const double row = c.bar_height + 6;
  const double plot_h = static_cast<double>(c.bars.size()) * row + 4;
  std::string body;
  const double top = detail::append_titles(body, c.title, c.subtitle, 8) + 6;
  detail::Scale sx = detail::value_scale(totals, ChartScale::linear, left, left + plot_w);
  detail::append_x_axis(body, sx, top, plot_h);
  for (std::size_t bi = 0; bi < c.bars.size(); ++bi) {
    const auto& b = c.bars[bi];
    const double y = top + 5 + static_cast<double>(bi) * row;
    fmt::format_to(std::back_inserter(body),
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}<title>{}</title>"
                   "</text>",
                   detail::svg_num(left - 6), detail::svg_num(y + c.bar_height / 2),
                   detail::html_escape_short(b.label, 44), detail::html_escape(b.label));
    double at = 0;
    for (std::size_t si = 0; si < b.segments.size(); ++si) {
      const double v = b.segments[si];
      if (!(v > 0)) continue;
      const std::string name = si < c.segment_names.size() ? c.segment_names[si] : std::string();
      fmt::format_to(std::back_inserter(body),
                     "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                     "<title>{}, {}: {} ({:.0f}%)</title></rect>",
                     detail::svg_num(sx(at)), detail::svg_num(y), detail::svg_num(std::max(2.0, sx(at + v) - sx(at))),
                     detail::svg_num(c.bar_height), detail::palette_color(si), detail::html_escape(b.label),
                     detail::html_escape(name), detail::html_escape(detail::value_text(v, c.unit)),
                     100 * v / totals[bi]);
      at += v;
    }
    fmt::format_to(std::back_inserter(body), "<text x=\"{}\" y=\"{}\" dominant-baseline=\"middle\">{}</text>",
                   detail::svg_num(sx(at) + 4), detail::svg_num(y + c.bar_height / 2),
                   detail::html_escape(detail::value_text(at, c.unit)));
  }
  detail::append_frame(body, left, top, plot_w, plot_h, c.value_label, "");
  const double legend_top = top + plot_h + 42;
  std::vector<std::size_t> colors;
  for (std::size_t i = 0; i < c.segment_names.size(); ++i) colors.push_back(i);
  const double legend_h = detail::append_legend(body, c.segment_names, colors, {}, false, left, legend_top, plot_w);
  const double height = legend_top + legend_h + 4;
  return detail::svg_open(c.kind, c.segment_names.size(), marks, c.width, height, left, top, plot_w, plot_h,
                          c.title) +
         body + "</svg>";
}

/// One run's value of a metric: the run's label (a date, a commit), the
/// value and, where known, its interval.
struct HistoryChartPoint {
  std::string label;
  double value = 0;
  std::optional<Interval> interval;
};

/// A metric over a sequence of runs, in the order given, as an <svg>
/// element (data-chart="history"): a line through the values with their
/// intervals, the runs' labels along the axis; a legend with the series'
/// name when it has one.
[[nodiscard]] inline std::string history_chart_svg(std::string_view title, std::string_view y_label,
                                                   const std::vector<HistoryChartPoint>& points,
                                                   std::string_view series_name = "",
                                                   ChartScale scale = ChartScale::automatic) {
  LineChart c;
  c.kind = "history";
  c.title = std::string(title);
  c.y_label = std::string(y_label);
  c.x_label = "run";
  c.y_scale = scale;
  ChartSeries s;
  s.name = std::string(series_name);
  for (std::size_t i = 0; i < points.size(); ++i) {
    c.x_categories.push_back(points[i].label);
    s.points.push_back({static_cast<double>(i), points[i].value, points[i].interval});
  }
  c.series.push_back(std::move(s));
  return line_chart_svg(c);
}

}  // namespace accelbench
