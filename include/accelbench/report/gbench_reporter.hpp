#pragma once

// Results in the JSON form google/benchmark writes with
// --benchmark_format=json, so that its tools (compare.py and its U test,
// dashboards that read that format) take accelbench's cells as benchmarks.
// docs/reports.md says how the fields are filled.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../measure/stats/summary.hpp"
#include "output.hpp"

namespace accelbench {

/// The unit of `real_time` and `cpu_time` in the export.
enum class GbenchTimeUnit { ns, us, ms, s };

[[nodiscard]] constexpr std::string_view to_string(GbenchTimeUnit u) noexcept {
  switch (u) {
    case GbenchTimeUnit::ns: return "ns";
    case GbenchTimeUnit::us: return "us";
    case GbenchTimeUnit::ms: return "ms";
    case GbenchTimeUnit::s: return "s";
  }
  return "ns";
}

struct GoogleBenchmarkOptions {
  GbenchTimeUnit time_unit = GbenchTimeUnit::ns;
  /// One entry per sample (a repetition, as --benchmark_repetitions gives)
  /// and the mean, median, stddev and cv aggregates, which compare.py's
  /// U test needs; false: one entry per cell, its mean time per run.
  bool repetitions = true;
  std::string executable = "accelbench";  ///< context.executable
};

/// The benchmark name of a cell: family, model, backend and each axis as
/// `name:value`, joined by '/' as google/benchmark names its arguments,
/// e.g. "embedding/bert-tiny/cpu/batch_size:1/sequence_length:128".
[[nodiscard]] inline std::string gbench_name(const CellResult& c) {
  std::string name = c.family + "/" + c.model + "/" + c.backend;
  for (const auto& a : c.shape) name += "/" + a.name + ":" + std::to_string(a.value);
  return name;
}

namespace detail {

[[nodiscard]] inline double gbench_seconds_to(GbenchTimeUnit u, double seconds) {
  switch (u) {
    case GbenchTimeUnit::ns: return seconds * 1e9;
    case GbenchTimeUnit::us: return seconds * 1e6;
    case GbenchTimeUnit::ms: return seconds * 1e3;
    case GbenchTimeUnit::s: return seconds;
  }
  return seconds;
}

/// google/benchmark's date: ISO 8601 with the offset written out ("+00:00", not "Z").
[[nodiscard]] inline std::string gbench_date(const std::string& iso) {
  if (!iso.empty() && iso.back() == 'Z') return iso.substr(0, iso.size() - 1) + "+00:00";
  return iso;
}

[[nodiscard]] inline Json gbench_context(const RunResult& r, const GoogleBenchmarkOptions& o) {
  const auto& e = r.environment;
  return Json{
      {"date", gbench_date(r.started_at)},
      {"host_name", r.system.hostname},
      {"executable", o.executable},
      {"num_cpus", r.system.logical_cores},
      {"mhz_per_cpu", e.cpu_mhz ? static_cast<std::int64_t>(std::lround(*e.cpu_mhz)) : 0},
      {"cpu_scaling_enabled", !e.governor.empty() && e.governor != "performance"},
      {"caches", Json::array()},
      {"load_avg", Json::array()},
      {"library_build_type", r.build.debug() ? "debug" : "release"},
      {"json_schema_version", 1},
      // Custom context (google/benchmark's AddCustomContext): strings.
      {"accelbench_version", r.build.library_version},
      {"git_commit", r.build.git_commit},
      {"cpu_model", r.system.cpu_model},
      {"os", r.system.os},
      {"compiler", r.build.compiler},
      {"finished_at", r.finished_at},
  };
}

/// The fields every entry of one cell shares, up to "run_type".
[[nodiscard]] inline Json gbench_entry(const std::string& name, const std::string& run_name, std::size_t family_index,
                                       std::size_t instance_index, const char* run_type) {
  return Json{{"name", name},
              {"family_index", family_index},
              {"per_family_instance_index", instance_index},
              {"run_name", run_name},
              {"run_type", run_type}};
}

}  // namespace detail

/// The run as google/benchmark's JSON: "context" (the machine and build)
/// and "benchmarks", entries for each cell whose status is ok and that was
/// timed (gbench_name). `real_time` is the cell's time per run; `cpu_time`
/// repeats it (accelbench times the workload with the cell's Timer, wall
/// time by default, not the process's CPU time).
[[nodiscard]] inline Json to_google_benchmark_json(const RunResult& r, const GoogleBenchmarkOptions& o = {}) {
  const std::string unit(to_string(o.time_unit));
  const auto in_unit = [&](double seconds) { return detail::gbench_seconds_to(o.time_unit, seconds); };
  Json benchmarks = Json::array();
  // A family of google/benchmark is one (family, model, backend); its
  // instances are the cells' shapes.
  std::vector<std::string> families;
  std::vector<std::size_t> instances;
  for (const auto& c : r.cells) {
    if (c.status != CellStatus::ok || c.latency.count == 0) continue;
    const std::string family = c.family + "/" + c.model + "/" + c.backend;
    const auto found = std::find(families.begin(), families.end(), family);
    const auto family_index = static_cast<std::size_t>(found - families.begin());
    if (found == families.end()) {
      families.push_back(family);
      instances.push_back(0);
    }
    const std::size_t instance_index = instances[family_index]++;
    const std::string name = gbench_name(c);
    // Items per run, from the cell's throughput: items of all runs / their time.
    const double items_per_run =
        c.iterations > 0 ? c.throughput.items_per_second * c.measured_time_s / static_cast<double>(c.iterations) : 0;
    const auto add_times = [&](Json& entry, double seconds) {
      entry["real_time"] = in_unit(seconds);
      entry["cpu_time"] = in_unit(seconds);
      entry["time_unit"] = unit;
    };
    if (!o.repetitions || c.samples_s.empty()) {
      Json entry = detail::gbench_entry(name, name, family_index, instance_index, "iteration");
      entry["repetitions"] = 1;
      entry["repetition_index"] = 0;
      entry["threads"] = 1;
      entry["iterations"] = c.iterations;
      add_times(entry, c.latency.mean);
      entry["items_per_second"] = c.throughput.items_per_second;
      benchmarks.push_back(std::move(entry));
      continue;
    }
    const auto n = c.samples_s.size();
    for (std::size_t i = 0; i < n; ++i) {
      Json entry = detail::gbench_entry(name, name, family_index, instance_index, "iteration");
      entry["repetitions"] = n;
      entry["repetition_index"] = i;
      entry["threads"] = 1;
      entry["iterations"] = c.iterations_per_sample;
      add_times(entry, c.samples_s[i]);
      entry["items_per_second"] = c.samples_s[i] > 0 ? items_per_run / c.samples_s[i] : 0.0;
      benchmarks.push_back(std::move(entry));
    }
    std::vector<double> sorted = c.samples_s;
    std::sort(sorted.begin(), sorted.end());
    const LatencySummary moments = summarize_moments(sorted);
    const double median = percentile_sorted(sorted, 50);
    const auto aggregate = [&](const char* which, double value, bool is_time) {
      Json entry = detail::gbench_entry(name + "_" + which, name, family_index, instance_index, "aggregate");
      entry["repetitions"] = n;
      entry["threads"] = 1;
      entry["aggregate_name"] = which;
      entry["aggregate_unit"] = is_time ? "time" : "percentage";
      entry["iterations"] = n;
      if (is_time) {
        add_times(entry, value);
      } else {
        entry["real_time"] = value;
        entry["cpu_time"] = value;
        entry["time_unit"] = unit;
      }
      benchmarks.push_back(std::move(entry));
    };
    aggregate("mean", moments.mean, true);
    aggregate("median", median, true);
    aggregate("stddev", moments.stddev, true);
    aggregate("cv", moments.cv, false);
  }
  return Json{{"context", detail::gbench_context(r, o)}, {"benchmarks", std::move(benchmarks)}};
}

/// Reporter policy: results as google/benchmark's JSON
/// (to_google_benchmark_json), to a file written whole or, by default, to
/// standard output.
class GoogleBenchmarkReporter {
 public:
  GoogleBenchmarkReporter() = default;
  explicit GoogleBenchmarkReporter(std::filesystem::path path, GoogleBenchmarkOptions options = {})
      : out_(std::move(path)), options_(std::move(options)) {}
  explicit GoogleBenchmarkReporter(std::ostream& out, GoogleBenchmarkOptions options = {})
      : out_(out), options_(std::move(options)) {}

  void report(const RunResult& result) {
    out_.write(detail::dump_json(to_google_benchmark_json(result, options_), 2) + "\n");
  }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }
  [[nodiscard]] const GoogleBenchmarkOptions& options() const noexcept { return options_; }

 private:
  detail::ReportOutput out_;
  GoogleBenchmarkOptions options_;
};

}  // namespace accelbench
