#pragma once

// The HTML report: one self-contained page (inline CSS, charts as inline
// SVG, a few lines of inline script that the charts do not need) that opens
// offline. Its content security policy forbids the browser any fetch.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../detail/atomic_file.hpp"
#include "html_charts.hpp"
#include "html_tables.hpp"
#include "svg.hpp"
#include "output.hpp"

namespace accelbench {

namespace detail {

inline constexpr std::string_view html_style = R"(
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0;color:#1a1a1a;background:#fff;font-size:14px}
header{background:#eef2f7;padding:14px 24px;border-bottom:1px solid #cfd6e0}
header h1{font-size:22px;margin:0 0 6px}
.meta{color:#333;font-size:13px;line-height:1.6}
.meta b{color:#000}
nav{font-size:13px;margin-top:6px}
nav a{margin-right:12px}
main{padding:0 24px 40px}
h2{font-size:19px;border-bottom:2px solid #cfd6e0;padding-bottom:4px;margin:30px 0 10px}
h3{font-size:15px;margin:18px 0 8px}
h4{font-size:13px;margin:12px 0 4px}
.charts{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.charts.small{gap:6px}
figure{margin:0;border:1px solid #e0e0e0;border-radius:4px;padding:4px;background:#fff;max-width:100%;overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12px;margin:4px 0 10px}
th,td{border:1px solid #dcdcdc;padding:3px 7px;text-align:right;white-space:nowrap;vertical-align:top}
th{background:#f1f4f8}
.l{text-align:left}
table.kv td,td.w{white-space:normal;min-width:160px;max-width:620px}
.cols{display:flex;flex-wrap:wrap;gap:0 40px}
.st{padding:0 5px;border-radius:3px;font-size:11px}
.st-ok{background:#e3f4e6;color:#17672b}
.st-bad{background:#fde3e6;color:#a3001b;font-weight:bold}
.st-busy{background:#fff0d6;color:#8a4b00}
.warn{background:#fff4e0;border-left:4px solid #e08a00;padding:5px 10px;margin:5px 0}
.bad{background:#fde8ea;border-left:4px solid #c8283c;padding:5px 10px;margin:5px 0}
ol.notes{font-size:13px}
.note{color:#555;font-size:12px}
footer{color:#666;font-size:12px;padding:10px 24px;border-top:1px solid #ddd}
)";

// Records where each chart lies on the page (data-rect: x y width height in
// CSS pixels) and the page's size (data-page on <body>), for tools that
// render the page headless and look at a screenshot. The charts are drawn
// without it.
inline constexpr std::string_view html_script = R"(
window.addEventListener('load', function () {
  var charts = document.querySelectorAll('svg.chart');
  for (var i = 0; i < charts.length; i++) {
    var r = charts[i].getBoundingClientRect();
    charts[i].setAttribute('data-rect', [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]
      .map(function (v) { return Math.round(v); }).join(' '));
  }
  var d = document.documentElement;
  document.body.setAttribute('data-page', d.scrollWidth + ' ' + d.scrollHeight);
});
)";

inline std::string figure(const std::string& svg, std::string_view family = "", std::string_view axis = "") {
  std::string attrs;
  if (!family.empty()) attrs += fmt::format(" data-family=\"{}\"", html_escape(family));
  if (!axis.empty()) attrs += fmt::format(" data-axis=\"{}\"", html_escape(axis));
  return fmt::format("<figure{}>{}</figure>", attrs, svg);
}

inline std::string header_html(const RunResult& r) {
  const auto& s = r.system;
  const auto& b = r.build;
  std::size_t ok = 0;
  for (const auto& c : r.cells) ok += c.status == CellStatus::ok ? 1 : 0;
  std::string out = "<header><h1>accelbench results</h1><div class=\"meta\">";
  out += fmt::format("<b>run</b> {} to {} &middot; <b>{}</b> cells, {} ok, {} not ok<br>",
                     html_escape(r.started_at.empty() ? "?" : r.started_at),
                     html_escape(r.finished_at.empty() ? "?" : r.finished_at), r.cells.size(), ok, r.cells.size() - ok);
  out += fmt::format("<b>host</b> {} &middot; {} {} &middot; <b>CPU</b> {} ({} logical, {} physical cores, {})<br>",
                     html_escape(s.hostname), html_escape(s.os), html_escape(s.kernel), html_escape(s.cpu_model),
                     s.logical_cores, s.physical_cores, html_escape(gib(s.memory_bytes)));
  out += fmt::format("<b>build</b> accelbench {} &middot; {} &middot; {}{}", html_escape(b.library_version),
                     html_escape(b.compiler), html_escape(b.build_type.empty() ? "unknown build type" : b.build_type),
                     b.debug() ? " <span class=\"st st-bad\">debug build</span>" : "");
  if (!b.git_commit.empty()) out += fmt::format(" &middot; <b>commit</b> {}", html_escape(b.git_commit));
  out += "</div><nav><a href=\"#warnings\">warnings</a><a href=\"#system\">system</a>";
  for (const auto& f : html_families(r)) {
    out += fmt::format("<a href=\"#family-{}\">{}</a>", html_id(f.name), html_escape(f.name));
  }
  if (!r.comparisons.empty()) out += "<a href=\"#comparisons\">comparisons</a>";
  if (!r.loading.empty()) out += "<a href=\"#loading\">loading</a>";
  return out + "</nav></header>";
}

/// The run-wide warnings, a debug build, and every cell that is not ok or was measured on a busy machine.
inline std::string warnings_html(const RunResult& r) {
  std::string out = "<section id=\"warnings\"><h2>Warnings</h2>";
  bool any = false;
  if (r.build.debug()) {
    out += "<div class=\"bad\">This was a debug or assertion-enabled build: the timings are not representative.</div>";
    any = true;
  }
  for (const auto& w : r.warnings) {
    out += "<div class=\"warn\">" + html_escape(w) + "</div>";
    any = true;
  }
  std::vector<std::vector<HtmlCell>> rows;
  std::size_t busy = 0;
  for (const auto& c : r.cells) {
    busy += c.busy ? 1 : 0;
    if (c.status == CellStatus::ok) continue;
    rows.push_back({text_cell(c.family), text_cell(c.model), text_cell(c.backend),
                    text_cell(chart_shape_label(c.shape)),
                    {status_badge(c), true}, wrap_cell(c.message)});
  }
  if (!rows.empty()) {
    out += fmt::format("<h3>Cells not ok ({})</h3>", rows.size());
    out += html_table({text_cell("family"), text_cell("model"), text_cell("backend"), text_cell("shape"),
                       text_cell("status"), text_cell("message")},
                      rows, "failed");
    any = true;
  }
  if (busy > 0) {
    out += fmt::format("<div class=\"warn\">{} cell{} measured while other work used the cores {} could use "
                       "(marked busy; the notes under each family's table say how much).</div>",
                       busy, busy == 1 ? " was" : "s were", busy == 1 ? "it" : "they");
    any = true;
  }
  if (!any) out += "<p>None.</p>";
  return out + "</section>";
}

inline std::string family_html(const RunResult& r, const HtmlFamily& f) {
  std::string out = fmt::format("<section id=\"family-{}\" class=\"family\"><h2>{} <span class=\"note\">"
                                "(one item: {}; {} models, {} backends, {} cells)</span></h2>",
                                html_id(f.name), html_escape(f.name), html_escape(f.item_unit), f.models.size(),
                                f.backends.size(), f.cells.size());
  std::string scaling;
  for (const auto& axis : f.axes) {
    if (axis_values(f, axis).size() < 2) continue;
    std::string row;
    for (auto metric : {AxisMetric::latency, AxisMetric::throughput, AxisMetric::memory, AxisMetric::device_memory}) {
      if (auto svg = axis_chart(f, axis, metric)) row += figure(*svg, f.name, axis);
    }
    if (!row.empty()) scaling += fmt::format("<h4>over {}</h4><div class=\"charts\">{}</div>", html_escape(axis), row);
  }
  if (!scaling.empty()) out += "<h3>Scaling</h3>" + scaling;
  const auto hardware = hardware_charts(f);
  if (!hardware.empty()) {
    out += "<h3>Hardware comparison</h3><div class=\"charts\">";
    for (const auto& svg : hardware) out += figure(svg, f.name);
    out += "</div>";
  }
  if (auto svg = architecture_chart(f)) {
    out += "<h3>Architecture comparison</h3><div class=\"charts\">" + figure(*svg, f.name) + "</div>";
  }
  if (auto svg = phase_chart(f)) out += "<h3>Phases</h3><div class=\"charts\">" + figure(*svg, f.name) + "</div>";
  std::string histograms;
  for (const auto* c : f.cells) {
    if (!is_measured(*c)) continue;
    if (auto svg = cell_histogram(f, *c, position_of(f.models, c->model))) histograms += figure(*svg, f.name);
  }
  if (!histograms.empty()) {
    out += "<h3>Latency distributions</h3><p class=\"note\">Samples per bin; the dashed line is the median.</p>"
           "<div class=\"charts small\">" + histograms + "</div>";
  }
  out += "<h3>Numbers</h3>" + family_table(r, f);
  return out + "</section>";
}

inline std::string comparisons_html(const RunResult& r) {
  if (r.comparisons.empty()) return {};
  std::string out = "<section id=\"comparisons\"><h2>Paired comparisons</h2>";
  for (const auto& c : r.comparisons) {
    if (auto svg = comparison_chart(c)) out += "<div class=\"charts\">" + figure(*svg, c.family) + "</div>";
    std::vector<HtmlCell> header;
    if (!c.cells.empty()) {
      for (const auto& a : c.cells.front().shape) header.push_back(number_cell(a.name));
    }
    for (const char* h : {"pairs", "a median ms", "b median ms", "ratio a/b", "interval", "p-value"}) {
      header.push_back(number_cell(h));
    }
    header.push_back(text_cell("significant"));
    header.push_back(text_cell("status"));
    std::vector<std::vector<HtmlCell>> rows;
    for (const auto& cell : c.cells) {
      std::vector<HtmlCell> row;
      for (const auto& a : cell.shape) row.push_back(number_cell(std::to_string(a.value)));
      const bool has = cell.pairs > 0;
      row.push_back(number_cell(std::to_string(cell.pairs)));
      row.push_back(number_cell(has ? format_ms(cell.median_a_s) : "-"));
      row.push_back(number_cell(has ? format_ms(cell.median_b_s) : "-"));
      row.push_back(number_cell(has ? fmt::format("{:.3f}", cell.ratio) : "-"));
      row.push_back(number_cell(cell.ratio_ci ? fmt::format("{:.3f} - {:.3f}", cell.ratio_ci->low, cell.ratio_ci->high)
                                              : "-"));
      row.push_back(number_cell(has ? fmt::format("{:.2g}", cell.p_value) : "-"));
      row.push_back(text_cell(has ? (cell.significant ? "yes" : "no") : "-"));
      row.push_back(text_cell(cell.message.empty() ? cell.status : cell.status + ": " + cell.message));
      rows.push_back(std::move(row));
    }
    out += html_table(header, rows);
  }
  return out + "</section>";
}

inline std::string loading_html(const RunResult& r) {
  if (r.loading.empty()) return {};
  std::vector<std::vector<HtmlCell>> rows;
  for (const auto& l : r.loading) {
    const bool ok = l.status == "ok";
    rows.push_back({text_cell(l.family), text_cell(l.backend), text_cell(joined(l.models)),
                    text_cell(l.message.empty() ? l.status : l.status + ": " + l.message),
                    number_cell(ok ? std::to_string(l.repetitions) : "-"),
                    number_cell(ok ? fmt::format("{:.3f}", l.sequential_median_s) : "-"),
                    number_cell(ok ? fmt::format("{:.3f}", l.concurrent_median_s) : "-"),
                    number_cell(ok ? fmt::format("{:.2f}x", l.speedup) : "-")});
  }
  return "<section id=\"loading\"><h2>Model loading</h2><p class=\"note\">The models loaded one after another, "
         "then all at once on one thread each (median wall time of the repetitions).</p>" +
         html_table({text_cell("family"), text_cell("backend"), text_cell("models"), text_cell("status"),
                     number_cell("repetitions"), number_cell("sequential s"), number_cell("concurrent s"),
                     number_cell("speedup")},
                    rows) +
         "</section>";
}

}  // namespace detail

/// A run's results as one self-contained HTML page: a header (run time,
/// host, CPU, build, commit), the warnings, the machine and build, and per
/// model family its charts (latency, throughput and memory over each sweep
/// axis, backends and models side by side, phases, latency histograms) and
/// a table of the numbers; then paired comparisons and model loading.
[[nodiscard]] inline std::string html_report(const RunResult& r) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += fmt::format("<title>accelbench results {}</title><style>", detail::html_escape(r.started_at));
  out += detail::html_style;
  out += "</style></head><body>";
  out += detail::header_html(r);
  out += "<main>";
  out += detail::warnings_html(r);
  out += "<section id=\"system\"><h2>System and hardware</h2>" + detail::system_tables(r) + "</section>";
  for (const auto& f : detail::html_families(r)) out += detail::family_html(r, f);
  out += detail::comparisons_html(r);
  out += detail::loading_html(r);
  out += fmt::format("</main><footer>accelbench {} &middot; every chart is drawn in this file; "
                     "hover a point or bar for its value</footer><script>",
                     detail::html_escape(r.build.library_version));
  out += detail::html_script;
  out += "</script></body></html>\n";
  return out;
}

/// Reporter policy: results as one self-contained HTML page (html_report),
/// to a file written whole (temporary file, then rename) or, by default,
/// to standard output.
class HtmlReporter {
 public:
  HtmlReporter() = default;
  explicit HtmlReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit HtmlReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(html_report(result)); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
