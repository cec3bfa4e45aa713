#pragma once

// The tables of the HTML report (html_reporter.hpp): the machine, build,
// environment, settings, devices, timers and models of a run, and the
// numbers of each model family's cells with their notes.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "console_reporter.hpp"
#include "html_charts.hpp"
#include "svg.hpp"

namespace accelbench::detail {

/// A table cell: its HTML (already escaped) and whether it is text (left-aligned) or a number.
struct HtmlCell {
  std::string html;
  bool text = false;
  bool wrap = false;  ///< long text: wraps instead of widening the table
};

/// `text` as an HTML id: letters and digits kept, anything else a '-'.
[[nodiscard]] inline std::string html_id(std::string_view text) {
  std::string s;
  for (char c : text) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    s += keep ? c : '-';
  }
  return s;
}

[[nodiscard]] inline HtmlCell text_cell(std::string_view s) { return {html_escape(s), true}; }
[[nodiscard]] inline HtmlCell wrap_cell(std::string_view s) { return {html_escape(s), true, true}; }
[[nodiscard]] inline HtmlCell number_cell(std::string s) { return {html_escape(s), false}; }

inline std::string html_table(const std::vector<HtmlCell>& header, const std::vector<std::vector<HtmlCell>>& rows,
                              std::string_view css_class = "") {
  std::string out = fmt::format("<div class=\"table-wrap\"><table{}><thead><tr>",
                                css_class.empty() ? "" : fmt::format(" class=\"{}\"", css_class));
  for (const auto& h : header) out += fmt::format("<th{}>{}</th>", h.text ? " class=\"l\"" : "", h.html);
  out += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& c : row) {
      out += fmt::format("<td{}>{}</td>", c.wrap ? " class=\"l w\"" : c.text ? " class=\"l\"" : "", c.html);
    }
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

/// A two-column table of names and values; pairs with an empty value are left out.
inline std::string key_value_table(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out = "<table class=\"kv\"><tbody>";
  for (const auto& [k, v] : pairs) {
    if (v.empty()) continue;
    out += fmt::format("<tr><th class=\"l\">{}</th><td class=\"l\">{}</td></tr>", html_escape(k), html_escape(v));
  }
  return out + "</tbody></table>";
}

inline std::string joined(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : std::string(separator)) + i;
  return s;
}

inline std::string gib(std::uint64_t bytes) {
  return bytes == 0 ? std::string() : fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
}

/// The machine, environment, build and settings of a run, and its devices, timers and models.
inline std::string system_tables(const RunResult& r) {
  const auto& s = r.system;
  const auto& b = r.build;
  const auto& e = r.environment;
  const auto& t = r.settings;
  std::string out = "<div class=\"cols\"><div><h3>Machine</h3>";
  out += key_value_table({{"host", s.hostname},
                          {"operating system", s.os},
                          {"kernel", s.kernel},
                          {"architecture", s.architecture},
                          {"CPU", s.cpu_model},
                          {"cores", fmt::format("{} logical, {} physical", s.logical_cores, s.physical_cores)},
                          {"memory", gib(s.memory_bytes)},
                          {"CPU features", joined(s.cpu_features, " ")}});
  out += "<h3>Environment</h3>";
  out += key_value_table({{"frequency governor", e.governor},
                          {"boost", e.boost ? (*e.boost ? "on" : "off") : ""},
                          {"virtual machine", e.virtualized ? (e.hypervisor.empty() ? "yes" : e.hypervisor) : "no"},
                          {"clock source", e.clocksource},
                          {"CPU clock", e.cpu_mhz ? fmt::format("{:.0f} MHz", *e.cpu_mhz) : ""}});
  out += "</div><div><h3>Build</h3>";
  out += key_value_table({{"accelbench", b.library_version},
                          {"compiler", b.compiler},
                          {"build type", b.build_type},
                          {"flags", b.flags},
                          {"optimized", b.optimized ? "yes" : "no"},
                          {"assertions", b.assertions ? "on" : "off"},
                          {"OpenMP", b.openmp ? "yes" : "no"},
                          {"SIMD", joined(b.simd, " ")},
                          {"Eigen", b.eigen_version + (b.eigen_simd.empty() ? "" : " (" + b.eigen_simd + ")")},
                          {"commit", b.git_commit}});
  out += "<h3>Settings</h3>";
  out += key_value_table(
      {{"warmup", t.warmup_until_stable ? fmt::format("{} runs, then until stable", t.warmup_iterations)
                                        : fmt::format("{} runs", t.warmup_iterations)},
       {"runs per cell", fmt::format("{} to {}", t.min_iterations, t.max_iterations)},
       {"sampling time per cell", fmt::format("{} s to {} s", t.min_time_s, t.max_time_s)},
       {"target interval width", t.target_relative_ci_width > 0 ? fmt::format("{:g}", t.target_relative_ci_width) : ""},
       {"confidence", fmt::format("{:g}%", t.confidence * 100)},
       {"runs per sample", t.iterations_per_sample > 0 ? std::to_string(t.iterations_per_sample) : "chosen per cell"},
       {"cell timeout", t.cell_timeout_s > 0 ? fmt::format("{} s", t.cell_timeout_s) : "none"},
       {"seed", std::to_string(t.seed)}});
  out += "</div></div>";

  if (!r.devices.empty()) {
    std::vector<std::vector<HtmlCell>> rows;
    for (const auto& d : r.devices) {
      std::vector<std::string> props;
      for (const auto& [k, v] : d.properties) props.push_back(k + " " + v);
      rows.push_back({text_cell(d.backend), text_cell(d.name.empty() ? "(unavailable)" : d.name), text_cell(d.kind),
                      number_cell(d.compute_units > 0 ? std::to_string(d.compute_units) : "-"),
                      number_cell(d.threads > 0 ? std::to_string(d.threads) : "-"), number_cell(gib(d.memory_bytes)),
                      wrap_cell(joined(d.features, " ")), wrap_cell(joined(props, ", "))});
    }
    out += "<h3>Devices</h3>" + html_table({text_cell("backend"), text_cell("device"), text_cell("kind"),
                                            number_cell("compute units"), number_cell("threads"),
                                            number_cell("memory"), text_cell("features"), text_cell("properties")},
                                           rows);
  }
  if (!r.timers.empty()) {
    std::vector<std::vector<HtmlCell>> rows;
    for (const auto& tm : r.timers) {
      std::vector<std::string> props;
      for (const auto& [k, v] : tm.properties) props.push_back(k + " " + v);
      rows.push_back({text_cell(tm.name), text_cell(tm.available ? "yes" : "no: " + tm.reason),
                      number_cell(tm.available ? format_duration(tm.resolution_s) : "-"),
                      number_cell(tm.available ? format_duration(tm.call_cost_s) : "-"), wrap_cell(joined(props))});
    }
    out += "<h3>Timers</h3>" + html_table({text_cell("timer"), text_cell("available"), number_cell("resolution"),
                                           number_cell("cost per call"), text_cell("properties")},
                                          rows);
  }
  if (!r.models.empty()) {
    std::vector<std::vector<HtmlCell>> rows;
    for (const auto& m : r.models) {
      rows.push_back({text_cell(m.name), text_cell(m.family), text_cell(m.architecture), text_cell(m.backend),
                      number_cell(m.parameters > 0 ? fmt::format("{:.1f}M", static_cast<double>(m.parameters) / 1e6)
                                                   : "-"),
                      number_cell(format_mib(m.weight_bytes)), text_cell(m.weights),
                      number_cell(fmt::format("{:.3f}", m.load_time_s)), text_cell(m.shared ? "yes" : "no"),
                      text_cell(m.message.empty() ? m.status : m.status + ": " + m.message)});
    }
    out += "<h3>Models</h3>" + html_table({text_cell("model"), text_cell("family"), text_cell("architecture"),
                                           text_cell("backend"), number_cell("parameters"),
                                           number_cell("weights MiB"), text_cell("weights from"),
                                           number_cell("load s"), text_cell("shared"), text_cell("status")},
                                          rows);
  }
  return out;
}

/// A cell's status as a coloured badge, with "busy" where the machine was.
inline std::string status_badge(const CellResult& c) {
  const bool good = c.status == CellStatus::ok;
  std::string s = fmt::format("<span class=\"st {}\">{}</span>", good ? "st-ok" : "st-bad", to_string(c.status));
  if (c.busy) s += " <span class=\"st st-busy\">busy</span>";
  return s;
}

/// The numbers of a family's cells, and below them the notes: each cell's
/// message and its own warnings (those not given for the whole run).
inline std::string family_table(const RunResult& r, const HtmlFamily& f) {
  bool tokens = false, gflops = false, rtf = false, device = false, kv = false, verified = false;
  std::vector<std::string> phases;
  for (const auto* c : f.cells) {
    tokens = tokens || c->throughput.tokens_per_second.has_value();
    gflops = gflops || c->throughput.gflops_per_second.has_value();
    rtf = rtf || c->throughput.real_time_factor.has_value();
    device = device || c->memory.device_peak_bytes.has_value();
    kv = kv || c->memory.kv_cache_bytes.has_value();
    verified = verified || c->verification.status == "ok" || c->verification.status == "mismatch";
    for (const auto& p : c->phases) index_in(phases, p.name);
  }
  std::vector<HtmlCell> header{text_cell("model"), text_cell("backend")};
  for (const auto& a : f.axes) header.push_back(number_cell(a));
  header.push_back(text_cell("status"));
  for (const char* h : {"median ms", "interval ms", "p90 ms", "p99 ms", "mean ms", "cv %", "runs"}) {
    header.push_back(number_cell(h));
  }
  header.push_back(number_cell(f.item_unit + "/s"));
  if (tokens) header.push_back(number_cell("tokens/s"));
  if (gflops) header.push_back(number_cell("GFLOP/s"));
  if (rtf) header.push_back(number_cell("real-time factor"));
  for (const auto& p : phases) header.push_back(number_cell(p + " ms"));
  header.push_back(number_cell("peak RSS MiB"));
  if (device) header.push_back(number_cell("device peak MiB"));
  if (kv) header.push_back(number_cell("KV cache MiB"));
  header.push_back(number_cell("first run ms"));
  header.push_back(number_cell("load s"));
  if (verified) header.push_back(number_cell("max abs error"));
  header.push_back(text_cell("notes"));

  std::vector<std::vector<HtmlCell>> rows;
  std::vector<std::string> notes;
  for (const auto* cp : f.cells) {
    const auto& c = *cp;
    std::vector<HtmlCell> row{text_cell(c.model), text_cell(c.backend)};
    for (const auto& a : f.axes) {
      const auto v = c.axis(a);
      row.push_back(number_cell(v ? std::to_string(*v) : "-"));
    }
    row.push_back({status_badge(c), true});
    auto opt = [](bool has, auto&& make) { return number_cell(has ? make() : std::string("-")); };
    const bool m = is_measured(c);
    const auto& l = c.latency;
    row.push_back(opt(m, [&] { return format_ms(l.median); }));
    row.push_back(opt(m && l.median_ci.has_value(),
                      [&] { return format_ms(l.median_ci->low) + " - " + format_ms(l.median_ci->high); }));
    row.push_back(opt(m, [&] { return format_ms(l.p90); }));
    row.push_back(opt(m, [&] { return format_ms(l.p99); }));
    row.push_back(opt(m, [&] { return format_ms(l.mean); }));
    row.push_back(opt(m, [&] { return fmt::format("{:.1f}", l.cv * 100); }));
    row.push_back(opt(m, [&] { return std::to_string(c.iterations); }));
    auto rate = [&](const std::optional<double>& v) {
      return opt(m && v && std::isfinite(*v), [&] { return format_rate(*v); });
    };
    row.push_back(rate(c.throughput.items_per_second));
    if (tokens) row.push_back(rate(c.throughput.tokens_per_second));
    if (gflops) row.push_back(rate(c.throughput.gflops_per_second));
    if (rtf) {
      row.push_back(opt(m && c.throughput.real_time_factor.has_value(),
                        [&] { return fmt::format("{:.4f}", *c.throughput.real_time_factor); }));
    }
    for (const auto& name : phases) {
      const auto p = std::find_if(c.phases.begin(), c.phases.end(), [&](const auto& q) { return q.name == name; });
      const bool has = m && p != c.phases.end() && p->latency.count > 0;
      row.push_back(opt(has, [&] { return format_ms(p->latency.median); }));
    }
    row.push_back(opt(m || c.memory.peak_rss_bytes > 0, [&] { return format_mib(c.memory.peak_rss_bytes); }));
    if (device) {
      const auto& peak = c.memory.device_peak_bytes;
      row.push_back(opt(peak.has_value(), [&] { return format_mib(*peak); }));
    }
    if (kv) {
      const auto& cache = c.memory.kv_cache_bytes;
      row.push_back(opt(cache.has_value(), [&] { return format_mib(*cache); }));
    }
    row.push_back(opt(m, [&] { return fmt::format("{:.3f}", c.first_run_s * 1e3); }));
    row.push_back(opt(c.load_time_s > 0, [&] { return fmt::format("{:.3f}", c.load_time_s); }));
    if (verified) {
      const bool compared = c.verification.status == "ok" || c.verification.status == "mismatch";
      row.push_back(opt(compared, [&] { return fmt::format("{:.1e}", c.verification.max_abs_error); }));
    }
    std::vector<std::string> own;
    for (const auto& w : c.warnings) {
      if (std::find(r.warnings.begin(), r.warnings.end(), w) == r.warnings.end()) own.push_back(w);
    }
    std::string marks;
    if (!c.message.empty() || !own.empty()) {
      const auto n = notes.size() + 1;
      marks = fmt::format("<a href=\"#note-{}-{}\">[{}]</a>", html_id(f.name), n, n);
      const std::string cell = join_label(join_label(c.model, c.backend), chart_shape_label(c.shape));
      std::string text = fmt::format("<li id=\"note-{}-{}\"><b>{}</b> ", html_id(f.name), n, html_escape(cell));
      text += status_badge(c);
      if (!c.message.empty()) text += " " + html_escape(c.message);
      if (!own.empty()) {
        text += "<ul>";
        for (const auto& w : own) text += "<li>" + html_escape(w) + "</li>";
        text += "</ul>";
      }
      notes.push_back(text + "</li>");
    }
    row.push_back({marks, true});
    rows.push_back(std::move(row));
  }
  std::string out = html_table(header, rows, "numbers");
  if (!notes.empty()) out += "<h4>Notes</h4><ol class=\"notes\">" + joined(notes, "") + "</ol>";
  return out;
}

}  // namespace accelbench::detail
