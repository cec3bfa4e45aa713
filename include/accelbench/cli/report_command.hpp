#pragma once

// `accelbench report`: a report in any output format from results measured
// before (result files), selected by model, backend, family, date, commit
// and host; nothing is measured again.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../detail/atomic_file.hpp"
#include "../report/filter.hpp"
#include "../report/results_file.hpp"
#include "output_format.hpp"
#include "parse.hpp"
#include "store_commands.hpp"

namespace accelbench::cli {

/// The selection options that report, history and regress share.
struct FilterFlags {
  std::string models, backends, families, since, until, commit, host, group;

  void add_to(CLI::App& cmd) {
    cmd.add_option("--models", models, "only these models (presets or checkpoint folders, as the cells name them)")
        ->type_name("A,B,...");
    cmd.add_option("--backends", backends, "only these backends")->type_name("A,B,...");
    cmd.add_option("--families", families, "only these families")->type_name("A,B,...");
    cmd.add_option("--since", since, "only runs started at or after this date or time (ISO 8601, UTC)")
        ->type_name("DATE");
    cmd.add_option("--until", until, "only runs started before this time, or on or before this date")
        ->type_name("DATE");
    cmd.add_option("--commit", commit, "only runs built from this git commit (a prefix of its hash)")
        ->type_name("HASH");
    cmd.add_option("--host", host, "only runs on this machine (its hostname)")->type_name("NAME");
    cmd.add_option("--group", group, "only runs of this group (the shards of one sharded suite: run --group)")
        ->type_name("NAME");
  }

  /// The filter; throws ConfigError naming the flag of a malformed date.
  [[nodiscard]] ResultFilter filter() const {
    ResultFilter f;
    f.models = split(models);
    f.backends = split(backends);
    f.families = split(families);
    const auto date = [](const char* flag, const std::string& text) {
      // 2026-11-30 or 2026-11-30T10:00:00Z: digits where ISO 8601 has them.
      const std::string shape = "dddd-dd-dd";
      bool ok = text.size() >= shape.size();
      for (std::size_t i = 0; ok && i < shape.size(); ++i) {
        ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
      }
      if (!text.empty() && !ok) {
        throw ConfigError(flag, "\"" + text + "\"", "expected a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ");
      }
      return text;
    };
    f.since = date("--since", since);
    f.until = date("--until", until);
    f.git_commit = commit;
    f.hostname = host;
    f.group = group;
    return f;
  }
};

/// The options of `accelbench report`.
struct ReportFlags {
  std::vector<std::string> files;
  std::string output;  ///< -o: the format; empty: from --file's extension, else md
  std::string file;    ///< --file: written whole instead of standard output
  std::vector<std::string> db;  ///< --db: the results stores to report from
  FilterFlags select;

  void add_to(CLI::App& cmd) {
    cmd.add_option("files", files, "results files (JSON) that `accelbench run` or `compare` wrote")
        ->type_name("FILE...");
    cmd.add_option("-o,--output", output,
                   "the report's format: " + output_format_names() + " (default: from --file's extension, else md)")
        ->type_name("FORMAT");
    cmd.add_option("--file", file, "write the report to PATH (whole, or not at all) instead of standard output")
        ->type_name("PATH");
    cmd.add_option("--db", db,
                   std::string(store_url_help) + ": report its runs (those the selection keeps); repeat for more")
        ->type_name("URL")
        ->allow_extra_args(false);  // one URL an occurrence: the files that follow are not URLs
    select.add_to(cmd);
  }

  /// The format: -o, else --file's extension, else md.
  [[nodiscard]] OutputFormat format() const {
    if (!output.empty()) return parse_output_format("--output", output);
    const std::string ext = std::filesystem::path(file).extension().string();
    if (ext == ".md") return OutputFormat::md;
    if (ext == ".html" || ext == ".htm") return OutputFormat::html;
    if (ext == ".json") return OutputFormat::json;
    if (ext == ".jsonl") return OutputFormat::jsonl;
    if (ext == ".csv") return OutputFormat::csv;
    if (ext == ".txt") return OutputFormat::table;
    if (ext == ".sql") return OutputFormat::sql;
    if (!file.empty() && !ext.empty()) {
      throw ConfigError("--file", "\"" + file + "\"", "give -o FORMAT: the extension " + ext + " names no format");
    }
    return OutputFormat::md;
  }
};

/// The runs merged into one for a report. Where they come from more than
/// one machine, each cell's backend is named with its host ("cpu@node1"),
/// so that the same backend on two machines gets two columns.
[[nodiscard]] inline RunResult merge_runs(std::vector<RunResult> runs) {
  std::set<std::string> hosts;
  for (const auto& r : runs) hosts.insert(r.system.hostname);
  std::sort(runs.begin(), runs.end(),
            [](const RunResult& a, const RunResult& b) { return a.started_at < b.started_at; });
  RunResult merged;
  for (auto& r : runs) {
    if (hosts.size() > 1) {
      const std::string at = "@" + r.system.hostname;
      for (auto& c : r.cells) c.backend += at;
      for (auto& m : r.models) m.backend += at;
      for (auto& d : r.devices) d.backend += at;
      for (auto& c : r.comparisons) {
        c.backend_a += at;
        c.backend_b += at;
      }
      for (auto& l : r.loading) l.backend += at;
    }
    merged.merge(std::move(r));
  }
  return merged;
}

/// `accelbench report`: exit_ok; exit_runtime_error when a file could not
/// be read (the others are reported); exit_usage_error when nothing was
/// selected.
inline int report_command(const ReportFlags& flags) {
  const OutputFormat format = flags.format();
  const ResultFilter filter = flags.select.filter();
  if (flags.files.empty() && flags.db.empty()) throw UsageError("report needs results files or --db URL");
  std::vector<RunResult> runs;
  int status = exit_ok;
  for (const auto& url : flags.db) {
    for (auto& run : stored_runs("--db", url, filter)) {
      if (!run.cells.empty() || !run.comparisons.empty()) runs.push_back(std::move(run));
    }
  }
  for (const auto& name : flags.files) {
    try {
      RunResult run = filter_results(read_results_file(name), filter);
      if (!run.cells.empty() || !run.comparisons.empty()) runs.push_back(std::move(run));
    } catch (const ResultsFileError& e) {
      std::cerr << "accelbench: " << e.what() << '\n';
      status = exit_runtime_error;
    }
  }
  if (runs.empty()) {
    std::cerr << "accelbench: no results match" << (filter.empty() ? "" : " the selection") << "; nothing to report\n";
    return status == exit_ok ? exit_usage_error : status;
  }
  const std::size_t count = runs.size();
  const RunResult merged = merge_runs(std::move(runs));
  std::ostringstream text;
  write_results(format, merged, text);
  if (flags.file.empty()) {
    std::cout << text.str();
    std::cout.flush();
  } else {
    ::accelbench::detail::write_file_atomically(flags.file, text.str());
    std::cerr << fmt::format("wrote {} ({} run{}, {} cells)\n", flags.file, count, count == 1 ? "" : "s",
                             merged.cells.size());
  }
  return status;
}

}  // namespace accelbench::cli
