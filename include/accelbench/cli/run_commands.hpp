#pragma once

// `accelbench run`: a suite, its table on standard output, its results as
// JSON, each cell journaled as it is measured.

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <set>
#include <sstream>
#include <filesystem>
#include <functional>
#include <iostream>
#include <ostream>
#include <map>
#include <optional>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/file_name.hpp"
#include "../core/json.hpp"
#include "../report/journal.hpp"
#include "../report/results_file.hpp"
#include "../suite/suite_json.hpp"
#include "interrupt.hpp"
#include "../core/result.hpp"
#include "../report/console_reporter.hpp"
#include "../report/json_reporter.hpp"
#include "../suite/registry.hpp"
#include "../suite/shard.hpp"
#include "../suite/suite.hpp"
#include "compare_family.hpp"
#include "output_format.hpp"
#include "run_group.hpp"
#include "parse.hpp"
#include "store_commands.hpp"
#include "suite_flags.hpp"

namespace accelbench::cli {

/// 2026-11-22T18:30:05Z -> 20261122T183005Z
inline std::string file_stamp(const std::string& iso) {
  std::string s;
  for (char ch : iso) {
    if (ch != '-' && ch != ':') s += ch;
  }
  return s;
}

/// Where results go and what was measured before: a new journal beside a
/// new results file, or the journal a resumed run continues.
struct RunOutput {
  std::filesystem::path results;  ///< the results file (JSON)
  std::size_t cells_before = 0;   ///< cells the journal held when resumed
};

/// "a.journal.jsonl" for "a.json".
inline std::filesystem::path journal_path_of(const std::filesystem::path& results) {
  std::filesystem::path p = results;
  p.replace_extension(".journal.jsonl");
  return p;
}

/// Claims a results file name of its own in `dir` ("stem.json", else
/// "stem-2.json", ...: its journal is created with O_EXCL) and starts its
/// journal with `header`. Returns the results file's path.
inline std::filesystem::path start_journal(Journal& journal, const std::filesystem::path& dir, const std::string& stem,
                                           Json header) {
  detail::prepare_output_folder(dir);
  const std::filesystem::path base = detail::claim_unique_name(dir, stem, ".journal.jsonl", {".json"});
  std::filesystem::path results = base;
  results += ".json";
  header["started_at"] = utc_timestamp();
  header["results"] = detail::valid_utf8(results.filename().string());
  journal.start(journal_path_of(results), std::move(header));
  return results;
}

/// The results of the journal, written whole; returns what was written.
inline Json write_journal_results(const Journal& journal, RunResult frame, const std::filesystem::path& path) {
  frame.finished_at = utc_timestamp();
  Json results = results_from_journal(frame, journal.entries());
  ::accelbench::detail::write_file_atomically(path, detail::dump_json(results, 2) + "\n");
  return results;
}

/// --report: `results` as each of `formats`, beside the results file
/// `out` (NAME.md for NAME.json), each written whole; named on `context`.
inline void write_reports(const std::vector<OutputFormat>& formats, const RunResult& results,
                          const std::filesystem::path& out, std::ostream& context) {
  for (const OutputFormat f : formats) {
    std::filesystem::path path = out;
    path.replace_extension(output_extension(f));
    std::ostringstream text;
    write_results(f, results, text);
    ::accelbench::detail::write_file_atomically(path, text.str());
    context << "wrote " << path.string() << '\n';
  }
}

/// `accelbench run` takes one --threads value: checked once flags.suite()
/// has read the options.
inline void check_run_threads(const SuiteFlags& flags) {
  if (flags.threads.size() > 1) throw UsageError("run takes one --threads value; compare takes two");
}

/// The suite recorded in a journal's header, or, when options are given
/// with --resume, the suite they make, which must be the recorded one
/// (`check` runs on the options first). Throws UsageError naming the
/// journal and every difference.
template <class Families, class Check>
Suite recorded_suite(const Json& header, const std::string& resume, const SuiteFlags& flags, Check check) {
  Suite recorded;
  try {
    recorded = parse_suite(header["suite"], Families{});
  } catch (const ConfigError& e) {
    throw UsageError("--resume: the suite recorded in '" + resume + "' cannot be read: " + e.what());
  }
  if (!flags.any_given()) return recorded;
  Suite suite = flags.suite<Families>();
  check();
  const auto differences = suite_differences(suite_to_json(suite), header["suite"], {"output_dir"});
  if (!differences.empty()) {
    std::string list;
    for (const auto& d : differences) list += "\n  " + d;
    throw UsageError("--resume: the journal '" + resume +
                     "' was written by a different suite (given here vs recorded):" + list +
                     "\nresume with the same options, or with --resume alone to run the recorded suite");
  }
  return suite;
}

/// The suite a run measures, its group and shard, and its journal: a new
/// one, or with --resume the one given, whose suite, group and shard the
/// options (if any are given) must match.
template <class Backends, class Families>
Suite open_run_journal(const SuiteFlags& flags, const std::string& resume, Journal& journal, RunOutput& out,
                       RunGroup& group) {
  const RunGroup given = run_group_of(flags.group, flags.shard);
  if (resume.empty()) {
    Suite suite = flags.suite<Families>();
    check_run_threads(flags);
    validate_suite<Backends, Families>(suite);  // before any file is made
    group = given;
    out.results = start_journal(journal, suite.output_dir,
                                suite.name + shard_suffix(group) + "-" + file_stamp(utc_timestamp()),
                                Json{{"command", "run"}, {"suite", suite_to_json(suite)}, {"group", group_to_json(group)}});
    return suite;
  }
  const JournalContents before = read_journal(resume);  // throws naming the file when it is no journal
  const Json& header = before.header;
  if (header.value("command", "") != "run" || !header.contains("suite") || !header.contains("results")) {
    throw UsageError("--resume: '" + resume + "' is not the journal of an `accelbench run`");
  }
  Suite suite = recorded_suite<Families>(header, resume, flags, [&] { check_run_threads(flags); });
  validate_suite<Backends, Families>(suite);
  group = group_from_json(header.value("group", Json()));
  if ((!flags.group.empty() || !flags.shard.empty()) && group_to_json(given) != group_to_json(group)) {
    throw UsageError("--resume: the journal '" + resume + "' was written by a run of group " +
                     group_to_json(group).dump() + ", not " + group_to_json(given).dump());
  }
  // The results file beside the journal: NAME.json for NAME.journal.jsonl.
  const std::string suffix = ".journal.jsonl";
  if (resume.size() > suffix.size() && resume.compare(resume.size() - suffix.size(), suffix.size(), suffix) == 0) {
    out.results = resume.substr(0, resume.size() - suffix.size()) + ".json";
  } else {
    const std::string name = header["results"].is_string() ? header["results"].get<std::string>() : "";
    check_file_name("results (in the journal's header)", name);
    out.results = std::filesystem::path(resume).parent_path() / name;
  }
  if (before.truncated) std::cerr << "accelbench: " << before.note << '\n';
  journal.resume(resume);
  out.cells_before = journal.keys("cell").size();
  return suite;
}

/// `accelbench run`: every cell of the suite (of its shard, with --shard);
/// exit_not_ok when some cell is not ok, else exit_busy when fail_on_busy
/// is set and some cell was measured on a busy machine. Each cell is
/// journaled as it is measured; with `resume` (a journal) the cells it
/// holds are not measured again, and with `resume_store` those of the
/// shard's run in the store (--db) are not.
template <class Backends, class Families>
int run_command(const SuiteFlags& flags, const std::string& resume = {}, bool resume_store = false) {
  if (resume_store && (flags.db.empty() || flags.shard.empty())) {
    throw UsageError("--resume without a journal continues a shard from the results store: it needs --db URL, "
                     "--group NAME and --shard I/N (or give the journal: --resume FILE)");
  }
  const std::optional<OutputFormat> format = flags.output_format();  // before anything is made
  (void)flags.report_formats();
  // With -o, standard output carries the results alone.
  std::ostream& context = format ? std::cerr : std::cout;
  Journal journal;
  RunOutput output;
  RunRecorder recorder(flags.db);  // run --db: opened before any file is made
  RunGroup group;
  const Suite suite = open_run_journal<Backends, Families>(flags, resume, journal, output, group);
  const bool quiet = flags.quiet;
  const std::filesystem::path& out = output.results;

  RunResult frame = describe_run();
  frame.settings = suite.settings;
  frame.started_at = journal.header().value("started_at", frame.started_at);
  frame.group = group;
  std::set<std::string> measured = recorder.begin(frame, journal.path(), resume_store || !resume.empty());
  const std::size_t stored_before = measured.size();
  measured.merge(journal.keys("cell"));
  std::set<std::string> loaded;
  for (const auto& e : journal.entries()) {
    if (e.value("kind", "") != "part" || !e.contains("result") || !e["result"].contains("loading")) continue;
    for (const auto& l : e["result"]["loading"]) loaded.insert(l.value("family", "") + "/" + l.value("backend", ""));
  }
  std::size_t done = 0;
  std::size_t total = 0;
  for (const auto& entry : suite.benchmarks) {
    detail::find_by_name(Families{}, entry.family, [&](auto family) {
      using F = typename std::remove_cvref_t<decltype(family)>::type;
      for (const auto& model : entry.models) {
        const Config config = detail::config_for_model(suite.settings, model);
        total += suite.hardware.size() * detail::cells_for<F>(config, detail::preset_for<F>(config)).size();
      }
    });
  }
  std::optional<ShardPlan> plan;
  std::set<std::string> shard_cells;
  if (group.shard_index) {
    plan = plan_suite_shards<Backends, Families>(suite, *group.shard_count);
    for (const auto& key : plan->keys(*group.shard_index)) {
      if (!key.starts_with("loading/")) shard_cells.insert(key);
    }
    total = shard_cells.size();
    done = 0;
    for (const auto& key : measured) done += shard_cells.count(key);
  } else {
    done = std::min(measured.size(), total);
  }
  if ((!resume.empty() || resume_store) && !quiet) {
    std::cerr << fmt::format("resuming {}: {} of {} cells measured before{}\n", out.string(), done, total,
                             stored_before > 0 ? " (in the results store)" : "");
  }
  if (group.shard_index && !quiet) {
    std::cerr << fmt::format("shard {}/{} of group {}: {} of the suite's {} cells\n", *group.shard_index,
                             *group.shard_count, group.name, total,
                             std::count_if(plan->units.begin(), plan->units.end(),
                                           [](const ShardUnit& u) { return !u.model.empty(); }));
  }

  SuiteObserver observer;
  observer.skip_cell = [&](const CellResult& c) { return measured.count(cell_key(c)) > 0; };
  observer.skip_loading = [&](const std::string& family, const std::string& backend) {
    return loaded.count(family + "/" + backend) > 0;
  };
  if (plan) restrict_to_shard(observer, *plan, *group.shard_index);
  observer.on_cell = [&](const CellResult& c) {
    journal.append_cell(c);
    recorder.cell(c);
    ++done;
    if (quiet) return;
    std::string shape;
    for (const auto& a : c.shape) shape += fmt::format(" {}={}", a.name, a.value);
    std::string figure;
    if (c.status == CellStatus::ok || c.status == CellStatus::mismatch) {
      figure = fmt::format(", median {} ms, {} iterations", detail::format_ms(c.latency.median), c.iterations);
    } else if (!c.message.empty()) {
      figure = ": " + c.message;
    }
    std::cerr << fmt::format("[{}/{}] {} on {}{}: {}{}\n", done, total, c.model, c.backend, shape,
                             to_string(c.status), figure);
  };
  observer.on_part = [&](const RunResult& part) {
    journal.append_part(part);
    recorder.part(part);
  };
  // The results file is also rewritten whole after each model, so that it
  // is never far behind the journal.
  observer.on_progress = [&](const RunResult&) {
    const auto lock = journal.lock();
    write_journal_results(journal, frame, out);
  };
  // Interrupted: the results file gets every cell measured so far.
  const InterruptGuard guard([&](int sig) {
    const auto lock = journal.lock();
    const Json so_far = write_journal_results(journal, frame, out);
    std::fprintf(stderr, "\naccelbench: interrupted (%s); wrote %s with every completed cell; continue with: "
                 "accelbench run --resume %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", out.string().c_str(),
                 journal.path().string().c_str());
    recorder.interrupted(run_from_json(so_far).cells);
  });

  const RunResult results = run_suite<Backends, Families>(suite, observer);
  Json written;
  {
    const auto lock = journal.lock();
    for (const auto& w : results.warnings) {  // the suite's own (a parallel run's)
      if (std::find(frame.warnings.begin(), frame.warnings.end(), w) == frame.warnings.end()) frame.warnings.push_back(w);
    }
    written = write_journal_results(journal, frame, out);
  }
  context << '\n';
  ConsoleReporter{context}.report(results);
  if (output.cells_before > 0) {
    context << fmt::format("\n{} cells were measured before the run was resumed; the results file has them all\n",
                           output.cells_before);
  }
  context << "\nwrote " << out.string() << " (journal: " << journal.path().string() << ")\n";
  const RunResult complete = run_from_json(written);  // every cell, those of a resumed run's earlier part too
  recorder.finish(complete, context);
  write_reports(flags.report_formats(), complete, out, context);
  if (format) write_results(*format, complete, std::cout);

  for (const auto& c : written["cells"]) {
    if (c.value("status", "") != "ok") return exit_not_ok;
  }
  if (suite.fail_on_busy) {
    for (const auto& c : written["cells"]) {
      if (c.value("busy", false)) return exit_busy;
    }
  }
  return exit_ok;
}

}  // namespace accelbench::cli
