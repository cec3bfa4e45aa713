#pragma once

// `-o/--output FORMAT`: the results in one of the report formats on
// standard output (progress and context go to standard error), as
// llama-bench and google/benchmark do. One place maps the format's name to
// its Reporter policy for every command that prints results.

#include <fmt/format.h>

#include <array>
#include <ostream>
#include <string>
#include <string_view>

#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../report/console_reporter.hpp"
#include "../report/csv_reporter.hpp"
#include "../report/gbench_reporter.hpp"
#include "../report/html_reporter.hpp"
#include "../report/json_reporter.hpp"
#include "../report/jsonl_reporter.hpp"
#include "../report/markdown_reporter.hpp"
#include "../report/sql_reporter.hpp"

namespace accelbench::cli {

/// A format of `-o/--output`.
enum class OutputFormat {
  table,   ///< the console table (the default of `report`)
  json,    ///< the results document (docs/result-schema.md)
  jsonl,   ///< one JSON object per cell
  csv,     ///< one row per cell
  md,      ///< the Markdown report
  html,    ///< the HTML report with its charts, one self-contained page
  gbench,  ///< google/benchmark's JSON, for its compare.py
  sql,     ///< the store's schema and the run's rows as SQL (`sqlite3 results.db < run.sql`)
};

inline constexpr std::array<std::pair<std::string_view, OutputFormat>, 8> output_formats{{
    {"table", OutputFormat::table},
    {"json", OutputFormat::json},
    {"jsonl", OutputFormat::jsonl},
    {"csv", OutputFormat::csv},
    {"md", OutputFormat::md},
    {"html", OutputFormat::html},
    {"gbench", OutputFormat::gbench},
    {"sql", OutputFormat::sql},
}};

/// "table, json, ...": the names -o takes.
[[nodiscard]] inline std::string output_format_names() {
  std::string out;
  for (const auto& [name, format] : output_formats) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

/// The format named `text`; throws ConfigError naming `flag`, the value and the choices.
[[nodiscard]] inline OutputFormat parse_output_format(const std::string& flag, const std::string& text) {
  for (const auto& [name, format] : output_formats) {
    if (text == name) return format;
  }
  if (text == "markdown") return OutputFormat::md;
  throw ConfigError(flag, "\"" + text + "\"", "unknown format; known: " + output_format_names());
}

/// The file name extension of a format's report: ".md", ".html", ...
[[nodiscard]] inline std::string output_extension(OutputFormat format) {
  switch (format) {
    case OutputFormat::table: return ".txt";
    case OutputFormat::json: return ".json";
    case OutputFormat::jsonl: return ".jsonl";
    case OutputFormat::csv: return ".csv";
    case OutputFormat::md: return ".md";
    case OutputFormat::html: return ".html";
    case OutputFormat::gbench: return ".gbench.json";
    case OutputFormat::sql: return ".sql";
  }
  return ".txt";
}

/// The results in `format` on `out`.
inline void write_results(OutputFormat format, const RunResult& results, std::ostream& out) {
  switch (format) {
    case OutputFormat::table: ConsoleReporter{out}.report(results); return;
    case OutputFormat::json: JsonReporter{out}.report(results); return;
    case OutputFormat::jsonl: JsonLinesReporter{out}.report(results); return;
    case OutputFormat::csv: CsvReporter{out}.report(results); return;
    case OutputFormat::md: MarkdownReporter{out}.report(results); return;
    case OutputFormat::html: HtmlReporter{out}.report(results); return;
    case OutputFormat::gbench: GoogleBenchmarkReporter{out}.report(results); return;
    case OutputFormat::sql: SqlReporter{out}.report(results); return;
  }
}

}  // namespace accelbench::cli
