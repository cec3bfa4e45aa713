#pragma once

// accelbench history FILE...: one metric of each selected cell over the runs
// of the results files, in the order the runs started, with the change
// points of each series (E-divisive means) named by the first run of each
// step (report/history.hpp). docs/regressions.md describes it.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../detail/table.hpp"
#include "../machine/device_report.hpp"
#include "../report/console_reporter.hpp"
#include "../report/filter.hpp"
#include "../report/history.hpp"
#include "../report/history_html.hpp"
#include "../detail/atomic_file.hpp"
#include "../report/results_file.hpp"
#include "parse.hpp"
#include "store_commands.hpp"

namespace accelbench::cli {

/// --model, --backend and --family (each a comma-separated list, repeatable).
inline void add_cell_filters(CLI::App& cmd, std::vector<std::string>& models, std::vector<std::string>& backends,
                             std::vector<std::string>& families) {
  // One value per occurrence: the results files that follow are not theirs.
  cmd.add_option("--model,--models", models, "cells of these models only (presets or checkpoint folders)")
      ->type_name("A,B,...")
      ->allow_extra_args(false);
  cmd.add_option("--backend,--backends", backends, "cells of these backends only")
      ->type_name("A,B,...")
      ->allow_extra_args(false);
  cmd.add_option("--family,--families", families, "cells of these families only")
      ->type_name("A,B,...")
      ->allow_extra_args(false);
}

/// The filter of add_cell_filters' options.
inline ResultFilter cell_filter(const std::vector<std::string>& models, const std::vector<std::string>& backends,
                                const std::vector<std::string>& families) {
  ResultFilter f;
  for (const auto& m : models) {
    for (auto& item : split(m)) f.models.push_back(std::move(item));
  }
  for (const auto& b : backends) {
    for (auto& item : split(b)) f.backends.push_back(std::move(item));
  }
  for (const auto& fam : families) {
    for (auto& item : split(fam)) f.families.push_back(std::move(item));
  }
  return f;
}

/// "batch_size=1,sequence_length=128" -> {{"batch_size", 1}, {"sequence_length", 128}}.
inline std::vector<Axis> parse_shape(const std::string& flag, const std::string& text) {
  std::vector<Axis> out;
  for (const auto& item : split(text)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError(flag, "\"" + item + "\"", "expected AXIS=VALUE");
    out.push_back({item.substr(0, eq), parse_integer(flag, item.substr(eq + 1))});
  }
  return out;
}

/// The options of `accelbench history`, as given.
struct HistoryFlags {
  std::vector<std::string> files;
  std::string metric = "latency";
  std::string shape, significance, min_segment, db, html;
  std::vector<std::string> models, backends, families;

  void add_to(CLI::App& cmd) {
    const stats::ChangePointOptions d;
    cmd.add_option("files", files, "results files, in any order: the runs are sorted by their start time")
        ->type_name("FILE...");
    cmd.add_option("--db", db, std::string(store_url_help) + ": its runs, with the files")->type_name("URL");
    cmd.add_option("--html", html, "also write the histories as an HTML page of charts to PATH (whole)")
        ->type_name("PATH");
    cmd.add_option("--metric", metric,
                   "latency (median), throughput, memory (peak resident), device_memory or a phase's name "
                   "(default: latency)")
        ->type_name("NAME");
    add_cell_filters(cmd, models, backends, families);
    cmd.add_option("--shape", shape, "cells with these axis values only, e.g. batch_size=1,sequence_length=128")
        ->type_name("AXIS=N,...");
    cmd.add_option("--significance", significance,
                   "a change point is kept when its permutation p-value is at most X (default: " +
                       detail::format_number(d.significance) + ")")
        ->type_name("X");
    cmd.add_option("--min-segment", min_segment,
                   "fewest runs on either side of a change point, 2 or more (default: " +
                       std::to_string(d.min_segment) + ")")
        ->type_name("N");
  }

  /// The options as HistoryOptions; throws ConfigError naming the flag.
  [[nodiscard]] HistoryOptions options() const {
    HistoryOptions o;
    if (metric.empty()) throw ConfigError("--metric", "\"\"", "must name a metric");
    o.metric = metric;
    o.shape = parse_shape("--shape", shape);
    if (!significance.empty()) {
      o.change_points.significance = parse_number("--significance", significance);
      if (!(o.change_points.significance > 0 && o.change_points.significance < 1)) {
        throw ConfigError("--significance", significance, "must lie in (0, 1)");
      }
    }
    if (!min_segment.empty()) {
      const int m = parse_int("--min-segment", min_segment);
      if (m < 2) throw ConfigError("--min-segment", min_segment, "must be 2 or more");
      o.change_points.min_segment = static_cast<std::size_t>(m);
    }
    return o;
  }

  [[nodiscard]] ResultFilter filter() const { return cell_filter(models, backends, families); }
};

/// `x` with four significant digits, in fixed notation: 1.000, 20.01, 995.4, 1200.
inline std::string four_digits(double x) {
  const int magnitude = x > 0 ? static_cast<int>(std::floor(std::log10(x))) : 0;
  return fmt::format("{:.{}f}", x, std::clamp(3 - magnitude, 0, 6));
}

/// A metric's value with its unit: "1.234 ms", "812 sequences/s", "96.5 MiB".
/// Seconds take the unit that suits `reference` (default: the value
/// itself), so that values shown side by side share one.
inline std::string format_metric(double v, const std::string& unit, double reference = 0) {
  if (unit == "s") {
    const double r = reference > 0 ? reference : v;
    if (r < 1e-6) return four_digits(v * 1e9) + " ns";
    if (r < 1e-3) return four_digits(v * 1e6) + " us";
    if (r < 1) return four_digits(v * 1e3) + " ms";
    return four_digits(v) + " s";
  }
  if (unit == "bytes") return detail::binary_size(static_cast<std::uint64_t>(std::llround(v)));
  return detail::format_rate(v) + " " + unit;
}

/// Prints each cell's history: a table of its runs and its change points.
/// `labels` names the runs (their files), in the order of the histories' runs.
inline void print_histories(std::ostream& out, const std::vector<CellHistory>& histories,
                            const std::vector<std::string>& labels) {
  using Align = detail::TextTable::Align;
  for (const auto& h : histories) {
    out << '\n' << h.key << ": " << h.metric << '\n';
    detail::TextTable t;
    t.add_column("#", Align::right);
    t.add_column("started at", Align::left);
    t.add_column("commit", Align::left);
    t.add_column("run", Align::left);
    t.add_column(h.metric, Align::right);
    t.add_column("interval", Align::left);
    t.add_column("change point", Align::left);
    std::vector<std::string> marks(h.points.size());
    for (const auto& s : h.steps)
      marks[s.point] = fmt::format("{:+.1f}%", s.before > 0 ? (s.after / s.before - 1) * 100 : 0.0);
    double reference = 0;  // the first value: every row in its unit
    for (const auto& p : h.points) {
      if (p.value && reference == 0) reference = p.value->value;
    }
    for (std::size_t i = 0; i < h.points.size(); ++i) {
      const HistoryPoint& p = h.points[i];
      std::string value = "-";
      std::string interval;
      if (p.value) {
        value = format_metric(p.value->value, h.unit, reference);
        if (p.value->interval) {
          interval = "[" + format_metric(p.value->interval->low, h.unit, reference) + ", " +
                     format_metric(p.value->interval->high, h.unit, reference) + "]";
        }
      } else if (p.status != CellStatus::ok) {
        value = std::string(to_string(p.status));
      }
      t.add_row({std::to_string(p.run + 1), p.started_at, p.git_commit.substr(0, 12),
                 p.run < labels.size() ? labels[p.run] : std::string(), value, interval, marks[i]});
    }
    t.print(out);
    if (h.steps.empty()) {
      out << "change points: none\n";
      continue;
    }
    for (const auto& s : h.steps) {
      const HistoryPoint& p = h.points[s.point];
      out << fmt::format("change point at run #{} ({}{}): {} -> {} ({:+.1f}%, p = {:.3f})\n", p.run + 1,
                         p.started_at.empty() ? "time unknown" : p.started_at,
                         p.git_commit.empty() ? "" : ", commit " + p.git_commit.substr(0, 12),
                         format_metric(s.before, h.unit, reference), format_metric(s.after, h.unit, reference),
                         s.before > 0 ? (s.after / s.before - 1) * 100 : 0.0, s.p_value);
    }
  }
}

/// `accelbench history`: exit_ok, or a usage error when no cell is selected.
inline int history_command(const HistoryFlags& flags) {
  const HistoryOptions options = flags.options();
  std::vector<std::pair<std::string, RunResult>> loaded;
  if (flags.files.empty() && flags.db.empty()) throw UsageError("history needs results files or --db URL");
  for (const auto& f : flags.files)
    loaded.emplace_back(std::filesystem::path(f).filename().string(), read_results_file(f));
  if (!flags.db.empty()) {
    for (auto& run : stored_runs("--db", flags.db, flags.filter())) {
      loaded.emplace_back("stored run of " + run.started_at, std::move(run));
    }
  }
  std::stable_sort(loaded.begin(), loaded.end(),
                   [](const auto& a, const auto& b) { return a.second.started_at < b.second.started_at; });
  std::vector<std::string> labels;
  std::vector<RunResult> runs;
  for (auto& [label, run] : loaded) {
    labels.push_back(label);
    runs.push_back(std::move(run));
  }
  const auto selected = cell_histories(runs, flags.filter(), options);
  if (selected.empty()) throw UsageError("no cell of the results files matches the filters");
  std::vector<CellHistory> histories;  // the cells that have the metric in some run
  for (const auto& h : selected) {
    bool any = false;
    for (const auto& p : h.points) any = any || p.value.has_value();
    if (any) histories.push_back(h);
  }
  if (histories.empty()) {
    throw UsageError("no selected cell has the metric '" + options.metric +
                     "' (latency, throughput, memory, device_memory or a phase's name)");
  }
  std::cout << runs.size() << " run" << (runs.size() == 1 ? "" : "s") << ", from " << runs.front().started_at << " to "
            << runs.back().started_at << "; " << histories.size() << " cell" << (histories.size() == 1 ? "" : "s")
            << "; change points by E-divisive means (significance "
            << detail::format_number(options.change_points.significance) << ", at least "
            << options.change_points.min_segment << " runs a side)\n";
  print_histories(std::cout, histories, labels);
  if (!flags.html.empty()) {
    ::accelbench::detail::write_file_atomically(flags.html, history_html(histories, labels));
    std::cout << "wrote " << flags.html << '\n';
  }
  std::cout.flush();
  return exit_ok;
}

}  // namespace accelbench::cli
