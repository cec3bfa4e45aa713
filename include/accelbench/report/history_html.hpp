#pragma once

// A cell history (history.hpp) as one self-contained HTML page: a chart of
// the metric over the runs per cell, with its intervals, and the change
// points named by the first run of each step. What `accelbench history
// --html FILE` writes.

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <vector>

#include "history.hpp"
#include "svg.hpp"
#include "svg_chart.hpp"

namespace accelbench {

/// The page of `histories`; `labels[i]` names run i (a file, a stored run).
[[nodiscard]] inline std::string history_html(const std::vector<CellHistory>& histories,
                                              const std::vector<std::string>& labels) {
  using detail::html_escape;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
      "<title>accelbench history</title><style>"
      "body{font-family:sans-serif;margin:1.5em;color:#222}h2{font-size:1.05em;margin-top:1.6em}"
      "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
      "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
      "</style></head><body>\n<h1>accelbench history</h1>\n";
  out += fmt::format("<p>{} cell{}, {} run{}. Change points by E-divisive means: each step is named by its first "
                     "run.</p>\n",
                     histories.size(), histories.size() == 1 ? "" : "s", labels.size(), labels.size() == 1 ? "" : "s");
  for (const auto& h : histories) {
    std::string shape;
    for (const auto& a : h.shape) shape += fmt::format("{}{}={}", shape.empty() ? "" : ", ", a.name, a.value);
    const std::string title = h.model + " on " + h.backend + " (" + shape + "): " + h.metric;
    std::vector<HistoryChartPoint> points;
    std::string rows;
    for (std::size_t i = 0; i < h.points.size(); ++i) {
      const HistoryPoint& p = h.points[i];
      const std::string label = p.run < labels.size() ? labels[p.run] : std::to_string(p.run + 1);
      std::string step;
      for (const auto& s : h.steps) {
        if (s.point == i) step = fmt::format("step: {:.4g} to {:.4g} (p = {:.3f})", s.before, s.after, s.p_value);
      }
      if (p.value) points.push_back({p.started_at.substr(0, 16), p.value->value, p.value->interval});
      rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(label),
                          html_escape(p.started_at), html_escape(p.git_commit.substr(0, 12)),
                          p.value ? fmt::format("{:.6g} {}", p.value->value, html_escape(h.unit))
                                  : std::string(to_string(p.status)),
                          html_escape(step));
    }
    out += "<h2>" + html_escape(title) + "</h2>\n";
    out += history_chart_svg(title, h.metric + " (" + h.unit + ")", points, h.model + " on " + h.backend) + "\n";
    out += "<table><tr><th>run</th><th>started</th><th>commit</th><th>value</th><th>change point</th></tr>\n" + rows +
           "</table>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace accelbench
