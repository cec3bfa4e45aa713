#pragma once

// A suite as the JSON of a suite file (the fields parse_suite reads), so
// that a run's journal records what it runs and a resumed run can check it
// runs the same suite, or run it again from the journal alone.

#include <string>
#include <vector>

#include "../core/json.hpp"
#include "suite.hpp"

namespace accelbench {

/// The suite file that parse_suite reads back as `s` (every field given).
[[nodiscard]] inline Json suite_to_json(const Suite& s) {
  const Config& c = s.settings;
  Json benchmarks = Json::array();
  for (const auto& e : s.benchmarks) benchmarks.push_back(Json{{"family", e.family}, {"models", e.models}});
  Json j = Json::object();
  j["name"] = s.name;
  j["benchmarks"] = std::move(benchmarks);
  Json unsupported = Json::array();
  for (const auto& u : s.unsupported) unsupported.push_back(Json{{"model", u.model}, {"reason", u.reason}});
  j["unsupported"] = std::move(unsupported);
  j["hardware"] = s.hardware;
  j["stats"] = s.stats;
  j["timer"] = s.timer;
  j["batch_sizes"] = c.batch_sizes;
  for (const auto& [axis, values] : c.sweep) j[axis] = values;
  j["warmup_iterations"] = c.warmup_iterations;
  j["warmup_until_stable"] = c.warmup_until_stable;
  j["warmup_stability_tolerance"] = c.warmup_stability_tolerance;
  j["warmup_max_time_s"] = c.warmup_max_time_s;
  j["min_iterations"] = c.min_iterations;
  j["max_iterations"] = c.max_iterations;
  j["min_time_s"] = c.min_time_s;
  j["max_time_s"] = c.max_time_s;
  j["target_relative_ci_width"] = c.target_relative_ci_width;
  j["confidence"] = c.confidence;
  j["iterations_per_sample"] = c.iterations_per_sample;
  j["cell_timeout_s"] = c.cell_timeout_s;
  j["memory_sample_interval_s"] = c.memory_sample_interval_s;
  j["seed"] = c.seed;
  j["verify"] = c.verify;
  j["verify_tolerance"] = c.verify_tolerance;
  j["accept_config_fields"] = c.accept_config_fields;
  j["precision"] = std::string(precision_name(c.precision));
  j["threads"] = s.threads;
  j["concurrent_loading"] = s.concurrent_loading;
  j["loading_repetitions"] = s.loading_repetitions;
  j["output_dir"] = s.output_dir;
  j["isolate"] = s.isolate;
  j["parallel"] = s.parallel;
  j["max_memory"] = s.max_memory;
  return j;
}

/// The fields (of suite_to_json) in which `a` and `b` differ, leaving out
/// `ignored` ones, as "field: A here, B there" lines.
[[nodiscard]] inline std::vector<std::string> suite_differences(const Json& a, const Json& b,
                                                                const std::vector<std::string>& ignored = {}) {
  std::vector<std::string> out;
  const auto skip = [&](const std::string& k) {
    for (const auto& i : ignored) {
      if (i == k) return true;
    }
    return false;
  };
  for (const auto& [k, v] : a.items()) {
    if (skip(k)) continue;
    if (!b.contains(k)) {
      out.push_back(k + ": " + detail::dump_json(v) + " vs (not given)");
    } else if (b[k] != v) {
      out.push_back(k + ": " + detail::dump_json(v) + " vs " + detail::dump_json(b[k]));
    }
  }
  for (const auto& [k, v] : b.items()) {
    if (!skip(k) && !a.contains(k)) out.push_back(k + ": (not given) vs " + detail::dump_json(v));
  }
  return out;
}

}  // namespace accelbench
