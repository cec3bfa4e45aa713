#pragma once

// A whole run read back from its JSON form (report/json.hpp, the results
// files `accelbench run` writes): for reports, imports and regression
// checks over results measured before.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "json_read.hpp"

namespace accelbench {

/// A results file that cannot be read: `what()` names the file and why.
class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A comparison from detail::to_json(ComparisonResult).
[[nodiscard]] inline ComparisonResult comparison_from_json(const Json& j) {
  using detail::field_or;
  ComparisonResult r;
  r.family = field_or<std::string>(j, "family", "");
  r.model_a = field_or<std::string>(j, "model_a", "");
  r.model_b = field_or<std::string>(j, "model_b", "");
  r.backend_a = field_or<std::string>(j, "backend_a", "");
  r.backend_b = field_or<std::string>(j, "backend_b", "");
  r.label_a = field_or<std::string>(j, "label_a", "");
  r.label_b = field_or<std::string>(j, "label_b", "");
  r.confidence = field_or(j, "confidence", 0.0);
  r.test = field_or<std::string>(j, "test", "sign test");
  for (const auto& c : j.value("cells", Json::array())) {
    ComparisonCell cell;
    if (c.contains("shape") && c["shape"].is_object()) {
      for (const auto& [name, value] : c["shape"].items()) cell.shape.push_back({name, value.get<std::int64_t>()});
    }
    cell.status = field_or<std::string>(c, "status", "ok");
    cell.message = field_or<std::string>(c, "message", "");
    cell.pairs = field_or<std::size_t>(c, "pairs", 0);
    cell.median_a_s = field_or(c, "median_a_s", 0.0);
    cell.median_b_s = field_or(c, "median_b_s", 0.0);
    cell.ratio = field_or(c, "ratio", 0.0);
    if (c.contains("ratio_ci") && c["ratio_ci"].is_object()) {
      cell.ratio_ci = Interval{field_or(c["ratio_ci"], "low", 0.0), field_or(c["ratio_ci"], "high", 0.0)};
    }
    cell.a_slower = field_or<std::size_t>(c, "a_slower", 0);
    cell.b_slower = field_or<std::size_t>(c, "b_slower", 0);
    cell.p_value = field_or(c, "p_value", 1.0);
    cell.significant = field_or(c, "significant", false);
    r.cells.push_back(std::move(cell));
  }
  return r;
}

/// The run of `j`, as to_json(RunResult) wrote it. Throws ResultsFileError
/// when `j` is not an accelbench result or its schema is newer than this
/// library's; a field of the wrong type throws nlohmann's type_error.
[[nodiscard]] inline RunResult run_from_json(const Json& j) {
  using detail::field_or;
  if (!j.is_object() || j.value("schema", "") != "accelbench.result") {
    throw ResultsFileError("not an accelbench result (\"schema\" is not \"accelbench.result\")");
  }
  if (const int version = field_or(j, "schema_version", 0); version > RunResult::schema_version) {
    throw ResultsFileError("schema_version " + std::to_string(version) + " is newer than this library's (" +
                           std::to_string(RunResult::schema_version) + ")");
  }
  RunResult r;
  r.started_at = field_or<std::string>(j, "started_at", "");
  r.finished_at = field_or<std::string>(j, "finished_at", "");
  const Json none = Json::object();
  const Json& s = j.contains("system") ? j["system"] : none;
  r.system.hostname = field_or<std::string>(s, "hostname", "");
  r.system.os = field_or<std::string>(s, "os", "");
  r.system.kernel = field_or<std::string>(s, "kernel", "");
  r.system.architecture = field_or<std::string>(s, "architecture", "");
  r.system.cpu_model = field_or<std::string>(s, "cpu_model", "");
  r.system.logical_cores = field_or(s, "logical_cores", 0);
  r.system.physical_cores = field_or(s, "physical_cores", 0);
  r.system.memory_bytes = field_or<std::uint64_t>(s, "memory_bytes", 0);
  r.system.cpu_features = field_or(s, "cpu_features", std::vector<std::string>{});
  const Json& b = j.contains("build") ? j["build"] : none;
  r.build.library_version = field_or<std::string>(j, "library_version", "");
  r.build.compiler = field_or<std::string>(b, "compiler", "");
  r.build.flags = field_or<std::string>(b, "flags", "");
  r.build.build_type = field_or<std::string>(b, "build_type", "");
  r.build.optimized = field_or(b, "optimized", false);
  r.build.assertions = field_or(b, "assertions", false);
  r.build.git_commit = field_or<std::string>(b, "git_commit", "");
  r.build.eigen_version = field_or<std::string>(b, "eigen_version", "");
  r.build.eigen_simd = field_or<std::string>(b, "eigen_simd", "");
  r.build.simd = field_or(b, "simd", std::vector<std::string>{});
  r.build.openmp = field_or(b, "openmp", false);
  const Json& e = j.contains("environment") ? j["environment"] : none;
  r.environment.governor = field_or<std::string>(e, "governor", "");
  r.environment.boost = detail::optional_field<bool>(e, "boost");
  r.environment.virtualized = field_or(e, "virtualized", false);
  r.environment.hypervisor = field_or<std::string>(e, "hypervisor", "");
  r.environment.clocksource = field_or<std::string>(e, "clocksource", "");
  r.environment.cpu_mhz = detail::optional_field<double>(e, "cpu_mhz");
  const Json& t = j.contains("settings") ? j["settings"] : none;
  Config& c = r.settings;
  c.warmup_iterations = field_or(t, "warmup_iterations", c.warmup_iterations);
  c.warmup_until_stable = field_or(t, "warmup_until_stable", c.warmup_until_stable);
  c.warmup_stability_tolerance = field_or(t, "warmup_stability_tolerance", c.warmup_stability_tolerance);
  c.warmup_max_time_s = field_or(t, "warmup_max_time_s", c.warmup_max_time_s);
  c.min_iterations = field_or(t, "min_iterations", c.min_iterations);
  c.max_iterations = field_or(t, "max_iterations", c.max_iterations);
  c.min_time_s = field_or(t, "min_time_s", c.min_time_s);
  c.max_time_s = field_or(t, "max_time_s", c.max_time_s);
  c.target_relative_ci_width = field_or(t, "target_relative_ci_width", c.target_relative_ci_width);
  c.confidence = field_or(t, "confidence", c.confidence);
  c.iterations_per_sample = field_or(t, "iterations_per_sample", c.iterations_per_sample);
  c.cell_timeout_s = field_or(t, "cell_timeout_s", c.cell_timeout_s);
  c.memory_sample_interval_s = field_or(t, "memory_sample_interval_s", c.memory_sample_interval_s);
  c.seed = field_or(t, "seed", c.seed);
  c.precision = parse_precision(field_or<std::string>(t, "precision", "fp32"), "settings.precision");
  if (j.contains("group")) {
    const Json& g = j["group"];
    r.group.name = field_or<std::string>(g, "name", "");
    r.group.shard_index = detail::optional_field<int>(g, "shard");
    r.group.shard_count = detail::optional_field<int>(g, "shards");
  }
  read_part_from_json(j, r);
  for (const auto& cmp : j.value("comparisons", Json::array())) r.comparisons.push_back(comparison_from_json(cmp));
  return r;
}

/// The run in the results file at `path`. Throws ResultsFileError naming
/// the file and what is wrong with it.
[[nodiscard]] inline RunResult read_results_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ResultsFileError("cannot read results file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return run_from_json(detail::parse_json_text(text.str()));
  } catch (const JsonTextError& e) {
    throw ResultsFileError("results file '" + path.string() + "': " +
                           (e.field().empty() ? "" : "at " + e.field() + ": ") + e.what());
  } catch (const ResultsFileError& e) {
    throw ResultsFileError("results file '" + path.string() + "': " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw ResultsFileError("results file '" + path.string() + "': " + detail::json_exception_text(e));
  }
}

}  // namespace accelbench
