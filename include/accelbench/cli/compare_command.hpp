#pragma once

// `accelbench compare`: two variants (thread counts, models or backends)
// measured in alternation, each compared cell journaled as it is done.

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../report/console_reporter.hpp"
#include "../report/journal.hpp"
#include "../report/json_reporter.hpp"
#include "../suite/registry.hpp"
#include "../suite/suite.hpp"
#include "compare_family.hpp"
#include "interrupt.hpp"
#include "output_format.hpp"
#include "parse.hpp"
#include "run_commands.hpp"
#include "suite_flags.hpp"

namespace accelbench::cli {

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
  if (suite.parallel) throw UsageError("compare measures its two variants in alternation; --parallel is for run");
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
