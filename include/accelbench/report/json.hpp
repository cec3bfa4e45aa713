#pragma once

// The JSON form of results, as documented in docs/result-schema.md.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "../result.hpp"

namespace accelbench {

using Json = nlohmann::ordered_json;

namespace detail {

inline Json optional_number(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

inline Json optional_text(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

inline Json to_json(const LatencySummary& s) {
  return Json{{"count", s.count},
              {"min_s", s.min},
              {"max_s", s.max},
              {"mean_s", s.mean},
              {"median_s", optional_number(s.median)},
              {"p90_s", optional_number(s.p90)},
              {"p95_s", optional_number(s.p95)},
              {"p99_s", optional_number(s.p99)},
              {"stddev_s", s.stddev},
              {"cv", s.cv}};
}

inline Json to_json(const DeviceInfo& d) {
  Json properties = Json::object();
  for (const auto& [k, v] : d.properties) properties[k] = v;
  return Json{{"backend", d.backend},         {"name", d.name},        {"kind", d.kind},
              {"compute_units", d.compute_units}, {"threads", d.threads}, {"memory_bytes", d.memory_bytes},
              {"features", d.features},       {"properties", properties}};
}

inline Json to_json(const CellResult& c) {
  Json shape = Json::object();
  for (const auto& a : c.shape) shape[a.name] = a.value;
  return Json{
      {"model", c.model},
      {"family", c.family},
      {"backend", c.backend},
      {"shape", shape},
      {"status", std::string(to_string(c.status))},
      {"message", optional_text(c.message)},
      {"stats", c.stats},
      {"timer", c.timer},
      {"warmup_iterations", c.warmup_iterations},
      {"iterations", c.iterations},
      {"measured_time_s", c.measured_time_s},
      {"first_run_s", c.first_run_s},
      {"load_time_s", c.load_time_s},
      {"latency", to_json(c.latency)},
      {"throughput",
       Json{{"item_unit", c.throughput.item_unit},
            {"items_per_second", c.throughput.items_per_second},
            {"tokens_per_second", optional_number(c.throughput.tokens_per_second)},
            {"gflops_per_second", optional_number(c.throughput.gflops_per_second)}}},
      {"memory",
       Json{{"rss_before_bytes", c.memory.rss_before_bytes},
            {"rss_after_bytes", c.memory.rss_after_bytes},
            {"peak_rss_bytes", c.memory.peak_rss_bytes},
            {"growth_bytes", c.memory.growth_bytes()},
            {"peak_is_per_cell", c.memory.peak_is_per_cell}}},
      {"verification",
       Json{{"status", c.verification.status},
            {"reference", optional_text(c.verification.reference)},
            {"max_abs_error", c.verification.max_abs_error},
            {"max_rel_error", c.verification.max_rel_error},
            {"cosine_similarity", c.verification.cosine_similarity},
            {"tolerance", c.verification.tolerance}}},
      {"warnings", c.warnings},
      {"samples_s", c.samples_s},
  };
}

}  // namespace detail

/// Results as JSON (schema "accelbench.result", version RunResult::schema_version).
[[nodiscard]] inline Json to_json(const RunResult& r) {
  Json devices = Json::array();
  for (const auto& d : r.devices) devices.push_back(detail::to_json(d));
  Json models = Json::array();
  for (const auto& m : r.models) {
    models.push_back(Json{{"name", m.name},
                          {"family", m.family},
                          {"architecture", m.architecture},
                          {"backend", m.backend},
                          {"weights", m.weights},
                          {"parameters", m.parameters},
                          {"weight_bytes", m.weight_bytes},
                          {"load_time_s", m.load_time_s},
                          {"status", m.status},
                          {"message", detail::optional_text(m.message)}});
  }
  Json cells = Json::array();
  for (const auto& c : r.cells) cells.push_back(detail::to_json(c));
  const auto& s = r.system;
  const auto& b = r.build;
  return Json{
      {"schema", "accelbench.result"},
      {"schema_version", RunResult::schema_version},
      {"library_version", b.library_version},
      {"started_at", r.started_at},
      {"finished_at", r.finished_at},
      {"system",
       Json{{"hostname", s.hostname},
            {"os", s.os},
            {"kernel", s.kernel},
            {"architecture", s.architecture},
            {"cpu_model", s.cpu_model},
            {"logical_cores", s.logical_cores},
            {"physical_cores", s.physical_cores},
            {"memory_bytes", s.memory_bytes},
            {"cpu_features", s.cpu_features}}},
      {"build",
       Json{{"compiler", b.compiler},
            {"flags", b.flags},
            {"build_type", b.build_type},
            {"optimized", b.optimized},
            {"assertions", b.assertions},
            {"debug", b.debug()},
            {"git_commit", detail::optional_text(b.git_commit)},
            {"eigen_version", b.eigen_version},
            {"eigen_simd", b.eigen_simd}}},
      {"settings",
       Json{{"warmup_iterations", r.settings.warmup_iterations},
            {"min_iterations", r.settings.min_iterations},
            {"max_iterations", r.settings.max_iterations},
            {"min_time_s", r.settings.min_time_s},
            {"max_time_s", r.settings.max_time_s},
            {"seed", r.settings.seed}}},
      {"devices", devices},
      {"models", models},
      {"cells", cells},
      {"warnings", r.warnings},
  };
}

}  // namespace accelbench
