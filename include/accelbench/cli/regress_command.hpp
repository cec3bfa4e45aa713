#pragma once

// accelbench regress --baseline A --contender B: two runs compared cell by
// cell (report/regression.hpp); exit status 5 (exit_regression) when a
// metric of a cell regressed. accelbench history FILE...: one metric of
// each cell over runs, with its change points (history_command.hpp).
// docs/regressions.md describes both.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <iostream>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../detail/table.hpp"
#include "../machine/device_report.hpp"
#include "../report/console_reporter.hpp"
#include "../report/filter.hpp"
#include "../report/regression.hpp"
#include "../report/results_file.hpp"
#include "history_command.hpp"
#include "parse.hpp"

namespace accelbench::cli {

/// The run that --baseline or --contender names. Today that is a results
/// file (what `accelbench run` writes); a run of the results store (its id,
/// or "the last run on this machine") will be looked up here as well.
/// Throws ResultsFileError naming the file.
inline RunResult resolve_run(const std::string& flag, const std::string& which) {
  if (which.empty()) throw ConfigError(flag, "\"\"", "must name a results file");
  return read_results_file(which);
}

/// "5%" -> 0.05; throws ConfigError naming `flag` and `text` otherwise.
inline double parse_percentage(const std::string& flag, const std::string& text) {
  if (text.size() < 2 || text.back() != '%') {
    throw ConfigError(flag, "\"" + text + "\"", "expected a percentage such as 5%");
  }
  const double pct = parse_number(flag, text.substr(0, text.size() - 1));
  if (!(pct >= 0) || !std::isfinite(pct)) throw ConfigError(flag, "\"" + text + "\"", "must be 0% or more");
  return pct / 100;
}

/// Applies --max-slowdown values: "PCT" sets latency, throughput and every
/// phase not named; "METRIC=PCT" sets one metric (latency, throughput,
/// memory, phases) or one phase by its name.
inline SlowdownThresholds parse_max_slowdown(const std::vector<std::string>& given) {
  SlowdownThresholds t;
  std::vector<std::string> items;
  for (const auto& g : given) {
    for (auto& item : split(g)) items.push_back(std::move(item));
  }
  // Bare percentages first, so that "latency=2%,5%" keeps latency at 2%.
  std::set<std::string> named;
  for (const auto& item : items) {
    if (item.find('=') != std::string::npos) continue;
    const double v = parse_percentage("--max-slowdown", item);
    t.latency = t.throughput = t.phases = v;
  }
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string metric = item.substr(0, eq);
    const double v = parse_percentage("--max-slowdown", item.substr(eq + 1));
    if (metric.empty()) throw ConfigError("--max-slowdown", "\"" + item + "\"", "expected METRIC=PCT");
    if (!named.insert(metric).second) {
      throw ConfigError("--max-slowdown", "\"" + item + "\"", "sets " + metric + " a second time");
    }
    if (metric == "latency") {
      t.latency = v;
    } else if (metric == "throughput") {
      t.throughput = v;
    } else if (metric == "memory") {
      t.memory = v;
    } else if (metric == "phases") {
      t.phases = v;
    } else {
      t.by_phase.emplace_back(metric, v);
    }
  }
  return t;
}

/// Throws ConfigError when --max-slowdown names a phase that no cell of
/// either run has (a misspelt metric would otherwise be ignored).
inline void check_phase_names(const SlowdownThresholds& t, const RunResult& a, const RunResult& b) {
  std::set<std::string> phases;
  for (const RunResult* run : {&a, &b}) {
    for (const auto& c : run->cells) {
      for (const auto& p : c.phases) phases.insert(p.name);
    }
  }
  for (const auto& [name, value] : t.by_phase) {
    if (phases.count(name) != 0) continue;
    std::string known = "latency, throughput, memory, phases";
    for (const auto& p : phases) known += ", " + p;
    throw ConfigError("--max-slowdown", "\"" + name + "=" + detail::format_number(value * 100) + "%\"",
                      "no metric or phase of that name in the runs (known: " + known + ")");
  }
}

/// The options of `accelbench regress`, as given.
struct RegressFlags {
  std::string baseline, contender, alpha;
  std::vector<std::string> max_slowdown;
  std::vector<std::string> models, backends, families;

  void add_to(CLI::App& cmd) {
    const RegressionOptions d;
    cmd.add_option("--baseline", baseline, "the run compared against: a results file")->type_name("FILE")->required();
    cmd.add_option("--contender", contender, "the run checked: a results file")->type_name("FILE")->required();
    cmd.add_option("--max-slowdown", max_slowdown,
                   "worsening tolerated before a significant difference is a regression: PCT sets latency, "
                   "throughput and phases; METRIC=PCT one metric (latency, throughput, memory, phases or a phase's "
                   "name); repeatable (default: latency, throughput and phases 5%, memory 10%)")
        ->type_name("[METRIC=]PCT");
    cmd.add_option("--alpha", alpha,
                   "significance level of the tests; intervals are at 1 - ALPHA (default: " +
                       detail::format_number(d.alpha) + ")")
        ->type_name("X");
    add_cell_filters(cmd, models, backends, families);
  }

  /// The options as RegressionOptions; throws ConfigError naming the flag.
  [[nodiscard]] RegressionOptions options() const {
    RegressionOptions o;
    o.max_slowdown = parse_max_slowdown(max_slowdown);
    if (!alpha.empty()) {
      o.alpha = parse_number("--alpha", alpha);
      if (!(o.alpha > 0 && o.alpha <= 0.5)) throw ConfigError("--alpha", alpha, "must lie in (0, 0.5]");
    }
    return o;
  }

  [[nodiscard]] ResultFilter filter() const { return cell_filter(models, backends, families); }
};

inline std::string format_p(const std::optional<double>& p) {
  if (!p) return "-";
  if (*p < 0.001) return "<0.001";
  return fmt::format("{:.3f}", *p);
}

inline std::string format_percent(double fraction) { return fmt::format("{:+.1f}%", fraction * 100); }

/// "regression (+18.2%, limit 5%)", "faster (-9.1%)", "same", ...
inline std::string verdict_text(const MetricComparison& m) {
  std::string s(to_string(m.verdict, m.kind));
  if (m.verdict == Verdict::untested) return s + (m.ratio_ci ? "" : " (no interval)");
  if (m.verdict == Verdict::same && m.method != "values") return s;
  s += " (" + format_percent(m.ratio - 1);
  if (m.verdict == Verdict::regression || m.verdict == Verdict::worse) {
    s += ", limit " + detail::format_number(m.threshold * 100) + "%";
  }
  return s + ")";
}

/// "run.json (2026-11-30T10:00:00Z, commit 0123456, host bench-1)".
inline std::string describe_run_line(const std::string& which, const RunResult& r) {
  std::string s = which + " (" + (r.started_at.empty() ? "time unknown" : r.started_at);
  if (!r.build.git_commit.empty()) s += ", commit " + r.build.git_commit.substr(0, 12);
  if (!r.system.hostname.empty()) s += ", host " + r.system.hostname;
  return s + ")";
}

/// Prints the comparison: a table per cell, the cells in one run only, the
/// contender's cells that are not ok, the warnings and a summary line.
inline void print_regression_report(std::ostream& out, const RegressionReport& r) {
  using Align = detail::TextTable::Align;
  const std::string level = detail::format_number((1 - r.options.alpha) * 100) + "%";
  std::size_t counts[5] = {0, 0, 0, 0, 0};
  for (const auto& c : r.cells) {
    out << '\n' << c.key << '\n';
    if (!c.compared()) {
      out << "  not compared: " << to_string(c.baseline_status) << " in the baseline, " << to_string(c.contender_status)
          << " in the contender\n";
      continue;
    }
    detail::TextTable t;
    t.add_column("metric", Align::left);
    t.add_column("baseline", Align::right);
    t.add_column("contender", Align::right);
    t.add_column("ratio [" + level + " CI]", Align::left);
    t.add_column("p", Align::right);
    t.add_column("verdict", Align::left);
    for (const auto& m : c.metrics) {
      ++counts[static_cast<int>(m.verdict)];
      std::string ratio = m.ratio > 0 ? fmt::format("{:.3f}", m.ratio) : std::string("-");
      if (m.ratio_ci) ratio += fmt::format(" [{:.3f}, {:.3f}]", m.ratio_ci->low, m.ratio_ci->high);
      t.add_row({m.metric, format_metric(m.baseline, m.unit), format_metric(m.contender, m.unit, m.baseline), ratio,
                 format_p(m.p_value), verdict_text(m)});
    }
    t.print(out);
  }
  if (!r.added.empty()) {
    out << "\nonly in the contender (added):\n";
    for (const auto& k : r.added) out << "  " << k << '\n';
  }
  if (!r.removed.empty()) {
    out << "\nonly in the baseline (removed):\n";
    for (const auto& k : r.removed) out << "  " << k << '\n';
  }
  if (!r.contender_not_ok.empty()) {
    out << "\nnot ok in the contender:\n";
    for (const auto& n : r.contender_not_ok) {
      out << "  " << n.key << ": " << to_string(n.status) << (n.message.empty() ? "" : ": " + n.message) << '\n';
    }
  }
  for (const auto& w : r.warnings) out << "\nwarning: " << w << '\n';
  std::size_t compared = 0;
  for (const auto& c : r.cells) compared += c.compared() ? 1 : 0;
  out << fmt::format(
      "\nsummary: {} cells compared, {} regressed; metrics: {} regression, {} slower within the limit, {} faster, "
      "{} same, {} untested; {} added, {} removed, {} not ok in the contender\n",
      compared, r.regressions(), counts[static_cast<int>(Verdict::regression)],
      counts[static_cast<int>(Verdict::worse)], counts[static_cast<int>(Verdict::better)],
      counts[static_cast<int>(Verdict::same)], counts[static_cast<int>(Verdict::untested)], r.added.size(),
      r.removed.size(), r.contender_not_ok.size());
  out << (r.regressed() ? "regression: " + std::to_string(r.regressions()) + " cell" +
                              (r.regressions() == 1 ? "" : "s") + " slower than allowed\n"
                        : std::string("no regression\n"));
}

/// `accelbench regress`: exit_regression when some cell regressed, else
/// exit_not_ok when some contender cell is not ok, else exit_ok.
inline int regress_command(const RegressFlags& flags) {
  const RegressionOptions options = flags.options();
  const ResultFilter filter = flags.filter();
  const RunResult baseline = filter_results(resolve_run("--baseline", flags.baseline), filter);
  const RunResult contender = filter_results(resolve_run("--contender", flags.contender), filter);
  if (baseline.cells.empty() && contender.cells.empty()) {
    throw UsageError("no cell of either run matches the filters");
  }
  check_phase_names(options.max_slowdown, baseline, contender);
  const RegressionReport report = compare_runs(baseline, contender, options);
  std::cout << "baseline:  " << describe_run_line(flags.baseline, baseline) << '\n'
            << "contender: " << describe_run_line(flags.contender, contender) << '\n';
  std::string limits =
      fmt::format("alpha {}; max slowdown: latency {}%, throughput {}%, phases {}%, memory {}%",
                  detail::format_number(options.alpha), detail::format_number(options.max_slowdown.latency * 100),
                  detail::format_number(options.max_slowdown.throughput * 100),
                  detail::format_number(options.max_slowdown.phases * 100),
                  detail::format_number(options.max_slowdown.memory * 100));
  for (const auto& [name, v] : options.max_slowdown.by_phase)
    limits += ", " + name + " " + detail::format_number(v * 100) + "%";
  std::cout << limits << '\n';
  print_regression_report(std::cout, report);
  std::cout.flush();
  if (report.regressed()) return exit_regression;
  return report.contender_not_ok.empty() ? exit_ok : exit_not_ok;
}

/// The commands `regress` and `history` on `app`: main.hpp adds them with
/// add_to, asks parsed() after parsing, and calls validate() or execute().
struct RegressCommands {
  RegressFlags regress_flags;
  HistoryFlags history_flags;
  CLI::App* regress = nullptr;
  CLI::App* history = nullptr;

  void add_to(CLI::App& app) {
    regress = app.add_subcommand(
        "regress",
        "compare two runs cell by cell (ratio of medians with a bootstrap interval, Mann-Whitney test) and exit "
        "with 5 when a cell is significantly slower than --max-slowdown allows");
    regress->footer(exit_codes_help);
    regress_flags.add_to(*regress);
    history = app.add_subcommand(
        "history", "one metric of each cell over results files, in time order, with its change points (E-divisive)");
    history->footer(exit_codes_help);
    history_flags.add_to(*history);
  }
  [[nodiscard]] bool parsed() const { return regress->parsed() || history->parsed(); }
  /// Checks the options without reading a file.
  void validate() const {
    if (regress->parsed()) (void)regress_flags.options();
    if (history->parsed()) (void)history_flags.options();
  }
  [[nodiscard]] int execute() const {
    return regress->parsed() ? regress_command(regress_flags) : history_command(history_flags);
  }
};

}  // namespace accelbench::cli
