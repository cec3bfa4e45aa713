#pragma once

// Results as JSON Lines: one JSON object per cell and line, for streaming
// into tools that read records one at a time (jq, data-frame libraries, log
// pipelines). docs/reports.md describes the fields.

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "json.hpp"
#include "output.hpp"

namespace accelbench {

/// One cell as a line's object: the run's `started_at`, `hostname`,
/// `git_commit` (null when unknown) and `library_version`, then every field
/// of the cell as `cells[]` of the results document has it.
[[nodiscard]] inline Json cell_line_json(const RunResult& r, const CellResult& c) {
  Json line{{"started_at", r.started_at},
            {"hostname", r.system.hostname},
            {"git_commit", detail::optional_text(r.build.git_commit)},
            {"library_version", r.build.library_version}};
  Json cell = detail::to_json(c);
  for (auto& [key, value] : cell.items()) line[key] = std::move(value);
  return line;
}

/// The run as JSON Lines: cell_line_json of each cell on a line of its own,
/// each line ended by a line feed; nothing for a run without cells. Every
/// string is valid UTF-8 (detail::dump_json).
[[nodiscard]] inline std::string format_json_lines(const RunResult& r) {
  std::string out;
  for (const auto& c : r.cells) out += detail::dump_json(cell_line_json(r, c)) + "\n";
  return out;
}

/// Reporter policy: results as JSON Lines (format_json_lines: one object per
/// cell), to a file written whole or, by default, to standard output.
class JsonLinesReporter {
 public:
  JsonLinesReporter() = default;
  explicit JsonLinesReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit JsonLinesReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(format_json_lines(result)); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
