#pragma once

// Results as CSV (RFC 4180): a header row, then one row per cell, for
// spreadsheets and data-frame libraries. The columns are listed in
// docs/reports.md.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "output.hpp"

namespace accelbench {

namespace detail {

/// One CSV field as RFC 4180 writes it: in double quotes, each quote doubled,
/// when it holds a comma, a double quote, a carriage return or a line feed;
/// as it is otherwise. Bytes that are not valid UTF-8 become U+FFFD.
[[nodiscard]] inline std::string csv_field(std::string_view text) {
  std::string valid = valid_utf8(text);
  if (valid.find_first_of(",\"\r\n") == std::string::npos) return valid;
  std::string out = "\"";
  for (char ch : valid) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

/// A number in the shortest form that reads back as the same double; empty
/// for NaN and infinities.
[[nodiscard]] inline std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

[[nodiscard]] inline std::string csv_number(const std::optional<double>& v) {
  return v ? csv_number(*v) : std::string();
}

[[nodiscard]] inline std::string csv_number(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : std::string();
}

/// Names in order of first appearance over the cells: their axes or their phases.
template <class NamesOf>
[[nodiscard]] std::vector<std::string> union_of_names(const std::vector<CellResult>& cells, NamesOf names_of) {
  std::vector<std::string> out;
  for (const auto& c : cells) {
    for (const std::string& name : names_of(c)) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

[[nodiscard]] inline std::vector<std::string> axis_names(const std::vector<CellResult>& cells) {
  return union_of_names(cells, [](const CellResult& c) {
    std::vector<std::string> names;
    for (const auto& a : c.shape) names.push_back(a.name);
    return names;
  });
}

[[nodiscard]] inline std::vector<std::string> phase_names(const std::vector<CellResult>& cells) {
  return union_of_names(cells, [](const CellResult& c) {
    std::vector<std::string> names;
    for (const auto& p : c.phases) names.push_back(p.name);
    return names;
  });
}

/// The columns before the axes, and those between the axes and the phases.
inline constexpr std::string_view csv_leading_columns[] = {"started_at", "hostname", "git_commit",
                                                           "family",     "model",    "backend"};
inline constexpr std::string_view csv_cell_columns[] = {
    "status",          "message",         "iterations",       "median_s",          "mean_s",
    "min_s",           "max_s",           "p90_s",            "p99_s",             "stddev_s",
    "median_ci_low_s", "median_ci_high_s", "items_per_second", "item_unit",         "tokens_per_second",
    "peak_rss_bytes",  "device_peak_bytes", "load_time_s",    "verification_status", "max_abs_error",
    "busy"};

/// The column of axis `name`: the name itself, or "shape_" and the name
/// where it would repeat one of the fixed columns.
[[nodiscard]] inline std::string csv_axis_column(const std::string& name) {
  const auto fixed = [&](const auto& columns) {
    return std::find(std::begin(columns), std::end(columns), name) != std::end(columns);
  };
  return fixed(csv_leading_columns) || fixed(csv_cell_columns) ? "shape_" + name : name;
}

}  // namespace detail

/// The header of format_csv(r): the run and cell columns, one column per
/// axis of any cell, then `<phase>_median_s` and `<phase>_items_per_second`
/// per phase of any cell (axes and phases in order of first appearance).
[[nodiscard]] inline std::vector<std::string> csv_columns(const RunResult& r) {
  std::vector<std::string> out(std::begin(detail::csv_leading_columns), std::end(detail::csv_leading_columns));
  for (const auto& axis : detail::axis_names(r.cells)) out.push_back(detail::csv_axis_column(axis));
  out.insert(out.end(), std::begin(detail::csv_cell_columns), std::end(detail::csv_cell_columns));
  for (const auto& phase : detail::phase_names(r.cells)) {
    out.push_back(phase + "_median_s");
    out.push_back(phase + "_items_per_second");
  }
  return out;
}

/// The run as RFC 4180 CSV: the header row of csv_columns(r), then one row
/// per cell, each line ended by CRLF. Times in seconds, memory in bytes;
/// a figure that was not measured (a cell that is not timed, an absent
/// percentile) is an empty field.
[[nodiscard]] inline std::string format_csv(const RunResult& r) {
  using detail::csv_field;
  using detail::csv_number;
  const auto axes = detail::axis_names(r.cells);
  const auto phases = detail::phase_names(r.cells);
  std::string out;
  const auto end_row = [&](std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + row[i];
    out += "\r\n";
  };
  std::vector<std::string> row;
  for (const auto& column : csv_columns(r)) row.push_back(csv_field(column));
  end_row(row);
  for (const auto& c : r.cells) {
    row = {csv_field(r.started_at), csv_field(r.system.hostname), csv_field(r.build.git_commit),
           csv_field(c.family),     csv_field(c.model),           csv_field(c.backend)};
    for (const auto& axis : axes) {
      const auto v = c.axis(axis);
      row.push_back(v ? std::to_string(*v) : std::string());
    }
    const auto& l = c.latency;
    const bool timed = l.count > 0;
    const auto when_timed = [&](const auto& v) { return timed ? csv_number(v) : std::string(); };
    const bool compared = c.verification.status == "ok" || c.verification.status == "mismatch";
    row.push_back(csv_field(to_string(c.status)));
    row.push_back(csv_field(c.message));
    row.push_back(std::to_string(c.iterations));
    row.push_back(when_timed(l.median));
    row.push_back(when_timed(l.mean));
    row.push_back(when_timed(l.min));
    row.push_back(when_timed(l.max));
    row.push_back(when_timed(l.p90));
    row.push_back(when_timed(l.p99));
    row.push_back(when_timed(l.stddev));
    row.push_back(l.median_ci ? csv_number(l.median_ci->low) : std::string());
    row.push_back(l.median_ci ? csv_number(l.median_ci->high) : std::string());
    row.push_back(when_timed(c.throughput.items_per_second));
    row.push_back(csv_field(c.throughput.item_unit));
    row.push_back(when_timed(c.throughput.tokens_per_second));
    row.push_back(timed ? std::to_string(c.memory.peak_rss_bytes) : std::string());
    row.push_back(csv_number(c.memory.device_peak_bytes));
    row.push_back(csv_number(c.load_time_s));
    row.push_back(csv_field(c.verification.status));
    row.push_back(compared ? csv_number(c.verification.max_abs_error) : std::string());
    row.push_back(c.busy ? "true" : "false");
    for (const auto& name : phases) {
      const auto p = std::find_if(c.phases.begin(), c.phases.end(), [&](const auto& q) { return q.name == name; });
      const bool phase_timed = p != c.phases.end() && p->latency.count > 0;
      row.push_back(phase_timed ? csv_number(p->latency.median) : std::string());
      row.push_back(phase_timed ? csv_number(p->items_per_second) : std::string());
    }
    end_row(row);
  }
  return out;
}

/// Reporter policy: results as CSV (format_csv: a header row, one row per
/// cell), to a file written whole or, by default, to standard output.
class CsvReporter {
 public:
  CsvReporter() = default;
  explicit CsvReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit CsvReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(format_csv(result)); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
