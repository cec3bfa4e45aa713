#pragma once

// `accelbench run` (a suite: its table on standard output, its results as
// JSON) and `accelbench compare` (two variants measured in alternation).

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
#include "../suite/suite.hpp"
#include "compare_family.hpp"
#include "output_format.hpp"
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

/// The results of the journal, written whole.
inline void write_journal_results(const Journal& journal, RunResult frame, const std::filesystem::path& path) {
  frame.finished_at = utc_timestamp();
  ::accelbench::detail::write_file_atomically(path,
                                              detail::dump_json(results_from_journal(frame, journal.entries()), 2) + "\n");
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

/// The suite a run measures, and its journal: a new one, or with --resume
/// the one given, whose suite the options (if any are given) must match.
template <class Backends, class Families>
Suite open_run_journal(const SuiteFlags& flags, const std::string& resume, Journal& journal, RunOutput& out) {
  if (resume.empty()) {
    Suite suite = flags.suite<Families>();
    check_run_threads(flags);
    validate_suite<Backends, Families>(suite);  // before any file is made
    out.results = start_journal(journal, suite.output_dir, suite.name + "-" + file_stamp(utc_timestamp()),
                                Json{{"command", "run"}, {"suite", suite_to_json(suite)}});
    return suite;
  }
  const JournalContents before = read_journal(resume);  // throws naming the file when it is no journal
  const Json& header = before.header;
  if (header.value("command", "") != "run" || !header.contains("suite") || !header.contains("results")) {
    throw UsageError("--resume: '" + resume + "' is not the journal of an `accelbench run`");
  }
  Suite suite = recorded_suite<Families>(header, resume, flags, [&] { check_run_threads(flags); });
  validate_suite<Backends, Families>(suite);
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

/// `accelbench run`: every cell of the suite; exit_not_ok when some cell is
/// not ok, else exit_busy when fail_on_busy is set and some cell was
/// measured on a busy machine. Each cell is journaled as it is measured; with `resume` (a
/// journal) the cells it holds are not measured again.
template <class Backends, class Families>
int run_command(const SuiteFlags& flags, const std::string& resume = {}) {
  const std::optional<OutputFormat> format = flags.output_format();  // before anything is made
  (void)flags.report_formats();
  // With -o, standard output carries the results alone.
  std::ostream& context = format ? std::cerr : std::cout;
  Journal journal;
  RunOutput output;
  RunRecorder recorder(flags.db);  // run --db: opened before any file is made
  const Suite suite = open_run_journal<Backends, Families>(flags, resume, journal, output);
  const bool quiet = flags.quiet;
  const std::filesystem::path& out = output.results;

  RunResult frame = describe_run();
  frame.settings = suite.settings;
  frame.started_at = journal.header().value("started_at", frame.started_at);
  recorder.begin(frame, journal.path());

  const std::set<std::string> measured = journal.keys("cell");
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
  done = std::min(measured.size(), total);
  if (!resume.empty() && !quiet) {
    std::cerr << fmt::format("resuming {}: {} of {} cells measured before\n", out.string(), done, total);
  }

  SuiteObserver observer;
  observer.skip_cell = [&](const CellResult& c) { return measured.count(cell_key(c)) > 0; };
  observer.skip_loading = [&](const std::string& family, const std::string& backend) {
    return loaded.count(family + "/" + backend) > 0;
  };
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
    write_journal_results(journal, frame, out);
    std::fprintf(stderr, "\naccelbench: interrupted (%s); wrote %s with every completed cell; continue with: "
                 "accelbench run --resume %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", out.string().c_str(),
                 journal.path().string().c_str());
    recorder.interrupted();
  });

  const RunResult results = run_suite<Backends, Families>(suite, observer);
  Json written;
  {
    const auto lock = journal.lock();
    frame.finished_at = utc_timestamp();
    written = results_from_journal(frame, journal.entries());
    ::accelbench::detail::write_file_atomically(out, detail::dump_json(written, 2) + "\n");
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

/// The two sides of a comparison, as the options name them.
struct CompareSides {
  Suite a, b;
  std::string label_a, label_b;
};

/// The two variants the options name, validated (before anything is measured).
template <class Backends, class Families>
CompareSides compare_sides(const Suite& suite, const std::vector<int>& threads) {
  if (suite.benchmarks.size() != 1) {
    throw UsageError("compare needs one family: give --family or --models of one family");
  }
  const SuiteEntry& entry = suite.benchmarks.front();
  const bool by_threads = threads.size() == 2;
  const bool by_models = entry.models.size() == 2;
  const bool by_hardware = suite.hardware.size() == 2;
  if (int(by_threads) + int(by_models) + int(by_hardware) != 1 ||
      (!by_models && entry.models.size() != 1) || (!by_hardware && suite.hardware.size() != 1)) {
    throw UsageError("compare needs exactly one of: --threads A,B, --models A,B or --hardware A,B "
                     "(and one value of the others)");
  }
  CompareSides s{suite, suite, {}, {}};
  if (by_threads) {
    s.a.threads = threads[0];
    s.b.threads = threads[1];
    s.label_a = fmt::format("{} thread{}", s.a.threads, s.a.threads == 1 ? "" : "s");
    s.label_b = fmt::format("{} thread{}", s.b.threads, s.b.threads == 1 ? "" : "s");
  }
  s.a.benchmarks = {{entry.family, {entry.models.front()}}};
  s.b.benchmarks = {{entry.family, {entry.models.back()}}};
  s.a.hardware = {suite.hardware.front()};
  s.b.hardware = {suite.hardware.back()};
  validate_suite<Backends, Families>(s.a);
  validate_suite<Backends, Families>(s.b);
  return s;
}

/// The comparison of the two sides; `on_cell` as compare_family's.
template <class Backends, class Families>
RunResult compare_sides_run(const CompareSides& s,
                            const std::function<void(const ComparisonResult&)>& on_cell = {},
                            const std::function<std::optional<ComparisonCell>(const std::vector<Axis>&)>& done = {}) {
  RunResult result;
  detail::find_by_name(Families{}, s.a.benchmarks.front().family, [&](auto family) {
    using F = typename decltype(family)::type;
    result = compare_family<Backends, F>(s.a, s.b, s.label_a, s.label_b, on_cell, done);
  });
  return result;
}

/// The two variants the options name, measured in alternation.
template <class Backends, class Families>
RunResult compare_variants(const Suite& suite, const SuiteFlags& flags) {
  return compare_sides_run<Backends, Families>(compare_sides<Backends, Families>(suite, flags.threads));
}

/// The suite `accelbench compare` measures: loading one model at a time,
/// timed with steady_clock.
template <class Families>
Suite compare_suite(const SuiteFlags& flags) {
  Suite suite = flags.suite<Families>();
  suite.concurrent_loading = false;
  if (suite.timer != "steady_clock") throw UsageError("compare times with steady_clock");
  if (suite.isolate) throw UsageError("compare measures its two variants in one process; --isolate is for run");
  return suite;
}

/// `accelbench compare`: exit_not_ok when some compared cell is not ok.
/// Each compared cell is journaled as it is done; interrupted, the results
/// file gets the cells done so far.
template <class Backends, class Families>
int compare_command(const SuiteFlags& flags, const std::string& resume = {}) {
  const std::optional<OutputFormat> format = flags.output_format();
  (void)flags.report_formats();  // checked before anything is measured
  std::ostream& context = format ? std::cerr : std::cout;
  Journal journal;
  std::filesystem::path out;
  std::vector<int> threads = flags.threads;
  Suite suite;
  // Resumed: the cells compared before, by their shape; not measured again.
  std::map<std::string, ComparisonCell> before;
  const auto shape_key = [](const std::vector<Axis>& shape) {
    std::string key;
    for (const auto& a : shape) key += a.name + "=" + std::to_string(a.value) + ",";
    return key;
  };
  if (resume.empty()) {
    suite = compare_suite<Families>(flags);
    threads = flags.threads;  // read by suite(), with the other options
    (void)compare_sides<Backends, Families>(suite, threads);
    // The output folder is checked, and the file name claimed, before anything is measured.
    out = start_journal(journal, suite.output_dir, "compare-" + file_stamp(utc_timestamp()),
                        Json{{"command", "compare"}, {"suite", suite_to_json(suite)}, {"threads", flags.threads}});
  } else {
    const JournalContents contents = read_journal(resume);
    const Json& header = contents.header;
    if (header.value("command", "") != "compare" || !header.contains("suite") || !header.contains("results") ||
        !header.contains("threads")) {
      throw UsageError("--resume: '" + resume + "' is not the journal of an `accelbench compare`");
    }
    threads = header["threads"].get<std::vector<int>>();
    suite = recorded_suite<Families>(header, resume, flags, [] {});
    if (!flags.threads.empty() && flags.threads != threads) {
      throw UsageError("--resume: the journal '" + resume + "' was written by a comparison with other --threads");
    }
    if (contents.truncated) std::cerr << "accelbench: " << contents.note << '\n';
    journal.resume(resume);
    out = std::filesystem::path(resume).parent_path() / header["results"].get<std::string>();
    check_file_name("results (in the journal's header)", header["results"].get<std::string>());
    for (const auto& e : journal.entries()) {
      if (e.value("kind", "") != "comparison_cell" || !e.contains("cell")) continue;
      ComparisonCell c = comparison_from_json(Json{{"cells", Json::array({e["cell"]})}}).cells.at(0);
      before[shape_key(c.shape)] = std::move(c);
    }
    if (!flags.quiet) std::cerr << fmt::format("resuming {}: {} cells compared before\n", out.string(), before.size());
  }
  const CompareSides sides = compare_sides<Backends, Families>(suite, threads);
  RunResult partial = describe_run();
  partial.settings = suite.settings;
  const auto on_cell = [&](const ComparisonResult& so_far) {
    ComparisonResult last = so_far;
    last.cells = {so_far.cells.back()};
    const Json cell = ::accelbench::detail::to_json(last)["cells"][0];
    std::string key = so_far.family + "/" + so_far.model_a + "/" + so_far.backend_a + "/" + so_far.label_a + " vs " +
                      so_far.model_b + "/" + so_far.backend_b + "/" + so_far.label_b + "/";
    for (const auto& a : so_far.cells.back().shape) key += a.name + "=" + std::to_string(a.value) + ",";
    journal.append(Json{{"kind", "comparison_cell"}, {"key", detail::valid_utf8(key)}, {"cell", cell}});
    const auto lock = journal.lock();
    partial.comparisons = {so_far};
  };
  const InterruptGuard guard([&](int) {
    const auto lock = journal.lock();
    if (partial.comparisons.empty() && !before.empty()) {
      // Resumed, and nothing new compared yet: the results file and the
      // journal already hold every cell.
      std::fprintf(stderr, "\naccelbench: interrupted before a new cell; continue with: accelbench compare --resume %s\n",
                   journal.path().string().c_str());
      return;
    }
    partial.finished_at = utc_timestamp();
    JsonReporter{out}.report(partial);
    std::fprintf(stderr, "\naccelbench: interrupted; wrote %s with the cells compared so far; continue with: "
                 "accelbench compare --resume %s\n", out.string().c_str(), journal.path().string().c_str());
  });
  std::function<std::optional<ComparisonCell>(const std::vector<Axis>&)> done;
  if (!before.empty()) {
    done = [&](const std::vector<Axis>& shape) -> std::optional<ComparisonCell> {
      const auto found = before.find(shape_key(shape));
      if (found == before.end()) return std::nullopt;
      return found->second;
    };
  }
  const RunResult results = compare_sides_run<Backends, Families>(sides, on_cell, done);
  {
    const auto lock = journal.lock();
    JsonReporter{out}.report(results);
  }
  ConsoleReporter{context}.report(results);
  context << "\nwrote " << out.string() << " (journal: " << journal.path().string() << ")\n";
  write_reports(flags.report_formats(), results, out, context);
  if (format) write_results(*format, results, std::cout);
  for (const auto& c : results.comparisons.at(0).cells) {
    if (c.status != "ok") return exit_not_ok;
  }
  return exit_ok;
}

}  // namespace accelbench::cli
