// Results files read back whole (report/results_file.hpp) and the filter
// reports and regression checks select with (report/filter.hpp).

#include <accelbench/machine/environment.hpp>
#include <accelbench/report/filter.hpp>
#include <accelbench/report/json.hpp>
#include <accelbench/report/results_file.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace accelbench;

namespace {

CellResult cell(std::string model, std::string backend, std::string family, std::int64_t batch, double median) {
  CellResult c;
  c.model = std::move(model);
  c.backend = std::move(backend);
  c.family = std::move(family);
  c.shape = {{"batch_size", batch}, {"sequence_length", 128}};
  c.latency.count = 3;
  c.latency.median = median;
  c.latency.median_ci = Interval{median * 0.9, median * 1.1};
  c.samples_s = {median * 0.95, median, median * 1.05};
  c.phases.push_back(PhaseResult{"prefill", "prompt tokens", 128, 1, c.latency, 1000});
  c.load = MachineLoad{0.5, 0.7, 2, 1, 1.5, 1.0, 0.1, 0.0};
  return c;
}

RunResult sample_run() {
  RunResult r = describe_run();
  r.started_at = "2026-11-30T10:00:00Z";
  r.finished_at = "2026-11-30T10:05:00Z";
  r.build.git_commit = "0123456789abcdef";
  r.settings.min_iterations = 7;
  r.settings.seed = 9;
  r.cells = {cell("bert-tiny", "cpu", "embedding", 1, 2e-4), cell("bert-tiny", "opencl", "embedding", 1, 5e-4),
             cell("gpt2-tiny", "cpu", "text_generation", 2, 1e-3)};
  ModelInfo m;
  m.name = "bert-tiny";
  m.family = "embedding";
  m.backend = "cpu";
  r.models = {m};
  ComparisonResult cmp;
  cmp.family = "embedding";
  cmp.model_a = cmp.model_b = "bert-tiny";
  ComparisonCell cc;
  cc.shape = {{"batch_size", 1}};
  cc.ratio = 1.5;
  cc.ratio_ci = Interval{1.4, 1.6};
  cmp.cells = {cc};
  r.comparisons = {cmp};
  r.warnings = {"a run-wide warning"};
  return r;
}

}  // namespace

TEST_CASE("a results file reads back as the run that was written") {
  const RunResult r = sample_run();
  const Json written = to_json(r);
  const RunResult back = run_from_json(written);
  CHECK(to_json(back) == written);
  CHECK(back.settings.min_iterations == 7);
  CHECK(back.cells.at(1).backend == "opencl");
  CHECK(back.comparisons.at(0).cells.at(0).ratio_ci->high == doctest::Approx(1.6));

  const auto path = std::filesystem::temp_directory_path() / "accelbench-results-file-test.json";
  {
    std::ofstream out(path);
    out << written.dump(2);
  }
  CHECK(to_json(read_results_file(path)) == written);
  std::filesystem::remove(path);
}

TEST_CASE("a file that is no accelbench result is refused, naming the file and the reason") {
  const auto path = std::filesystem::temp_directory_path() / "accelbench-not-results.json";
  {
    std::ofstream out(path);
    out << R"({"schema": "something.else"})";
  }
  CHECK_THROWS_WITH_AS(read_results_file(path),
                       doctest::Contains("accelbench-not-results.json': not an accelbench result"), ResultsFileError);
  {
    std::ofstream out(path);
    out << R"({"schema": "accelbench.result", "cells": [)";
  }
  CHECK_THROWS_AS(read_results_file(path), ResultsFileError);
  {
    std::ofstream out(path);
    out << R"({"schema": "accelbench.result", "schema_version": 99})";
  }
  CHECK_THROWS_WITH_AS(read_results_file(path), doctest::Contains("schema_version 99 is newer"), ResultsFileError);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH_AS(read_results_file(path), doctest::Contains("cannot read results file"), ResultsFileError);
}

TEST_CASE("the result filter selects cells by model, backend and family, runs by date, commit and host") {
  const RunResult r = sample_run();
  CHECK(filter_results(r, {}).cells.size() == 3);
  ResultFilter f;
  f.backends = {"cpu"};
  CHECK(filter_results(r, f).cells.size() == 2);
  f.families = {"embedding"};
  const RunResult only = filter_results(r, f);
  REQUIRE(only.cells.size() == 1);
  CHECK(only.cells[0].model == "bert-tiny");
  CHECK(only.models.size() == 1);

  ResultFilter dates;
  dates.since = "2026-11-30";
  CHECK(filter_results(r, dates).cells.size() == 3);
  dates.until = "2026-11-30";  // a date means the whole day
  CHECK(filter_results(r, dates).cells.size() == 3);
  dates.until = "2026-11-30T09:59:59Z";
  CHECK(filter_results(r, dates).cells.empty());
  dates = {};
  dates.since = "2026-12-01";
  CHECK(filter_results(r, dates).cells.empty());

  ResultFilter commit;
  commit.git_commit = "0123";
  CHECK(filter_results(r, commit).cells.size() == 3);
  commit.git_commit = "fff";
  CHECK(filter_results(r, commit).cells.empty());
  ResultFilter host;
  host.hostname = "no-such-host";
  CHECK(filter_results(r, host).cells.empty());
}
