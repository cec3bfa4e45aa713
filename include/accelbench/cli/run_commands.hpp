#pragma once

// `accelbench run` (a suite: its table on standard output, its results as
// JSON) and `accelbench compare` (two variants measured in alternation).

#include <fmt/format.h>

#include <cstddef>
#include <filesystem>
#include <iostream>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../report/console_reporter.hpp"
#include "../report/json_reporter.hpp"
#include "../suite/registry.hpp"
#include "../suite/suite.hpp"
#include "compare_family.hpp"
#include "parse.hpp"
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

/// `accelbench run`: every cell of the suite; exit_not_ok when some cell is
/// not ok, else exit_busy when fail_on_busy is set and some cell was busy.
template <class Backends, class Families>
int run_command(const SuiteFlags& flags) {
  const Suite suite = flags.suite<Families>();
  if (flags.threads.size() > 1) throw UsageError("run takes one --threads value; compare takes two");
  validate_suite<Backends, Families>(suite);
  const bool quiet = flags.quiet;

  const std::filesystem::path out =
      std::filesystem::path(suite.output_dir) / (suite.name + "-" + file_stamp(utc_timestamp()) + ".json");
  JsonReporter json{out};
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

  SuiteObserver observer;
  observer.on_cell = [&](const CellResult& c) {
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
  // Results measured so far are written after each model, whole, so that an
  // interrupted suite keeps them.
  observer.on_progress = [&](const RunResult& so_far) { json.report(so_far); };

  const RunResult results = run_suite<Backends, Families>(suite, observer);
  json.report(results);
  std::cout << '\n';
  ConsoleReporter{std::cout}.report(results);
  std::cout << "\nwrote " << out.string() << '\n';

  for (const auto& c : results.cells) {
    if (c.status != CellStatus::ok) return exit_not_ok;
  }
  if (suite.fail_on_busy) {
    for (const auto& c : results.cells) {
      if (c.busy) return exit_busy;
    }
  }
  return exit_ok;
}

/// The two variants the options name, measured in alternation.
template <class Backends, class Families>
RunResult compare_variants(const Suite& suite, const SuiteFlags& flags) {
  if (suite.benchmarks.size() != 1) {
    throw UsageError("compare needs one family: give --family or --models of one family");
  }
  const SuiteEntry& entry = suite.benchmarks.front();
  const bool by_threads = flags.threads.size() == 2;
  const bool by_models = entry.models.size() == 2;
  const bool by_hardware = suite.hardware.size() == 2;
  if (int(by_threads) + int(by_models) + int(by_hardware) != 1 ||
      (!by_models && entry.models.size() != 1) || (!by_hardware && suite.hardware.size() != 1)) {
    throw UsageError("compare needs exactly one of: --threads A,B, --models A,B or --hardware A,B "
                     "(and one value of the others)");
  }
  Suite a = suite, b = suite;
  std::string label_a, label_b;
  if (by_threads) {
    a.threads = flags.threads[0];
    b.threads = flags.threads[1];
    label_a = fmt::format("{} thread{}", a.threads, a.threads == 1 ? "" : "s");
    label_b = fmt::format("{} thread{}", b.threads, b.threads == 1 ? "" : "s");
  }
  a.benchmarks = {{entry.family, {entry.models.front()}}};
  b.benchmarks = {{entry.family, {entry.models.back()}}};
  a.hardware = {suite.hardware.front()};
  b.hardware = {suite.hardware.back()};
  validate_suite<Backends, Families>(a);
  validate_suite<Backends, Families>(b);
  RunResult result;
  detail::find_by_name(Families{}, entry.family, [&](auto family) {
    using F = typename decltype(family)::type;
    result = compare_family<Backends, F>(a, b, label_a, label_b);
  });
  return result;
}

/// `accelbench compare`: exit_not_ok when some compared cell is not ok.
template <class Backends, class Families>
int compare_command(const SuiteFlags& flags) {
  Suite suite = flags.suite<Families>();
  suite.concurrent_loading = false;
  if (suite.timer != "steady_clock") throw UsageError("compare times with steady_clock");
  const RunResult results = compare_variants<Backends, Families>(suite, flags);
  const std::filesystem::path out =
      std::filesystem::path(suite.output_dir) / ("compare-" + file_stamp(utc_timestamp()) + ".json");
  JsonReporter{out}.report(results);
  ConsoleReporter{std::cout}.report(results);
  std::cout << "\nwrote " << out.string() << '\n';
  for (const auto& c : results.comparisons.at(0).cells) {
    if (c.status != "ok") return exit_not_ok;
  }
  return exit_ok;
}

}  // namespace accelbench::cli
