#pragma once

// The JSON form of results, as documented in docs/result-schema.md.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"

namespace accelbench {

namespace detail {

inline Json to_json(const std::optional<Interval>& i) {
  return i ? Json{{"low_s", i->low}, {"high_s", i->high}} : Json(nullptr);
}

template <class Pairs>
Json object_of(const Pairs& pairs) {
  Json o = Json::object();
  for (const auto& [k, v] : pairs) o[k] = v;
  return o;
}

inline Json shape_of(const std::vector<Axis>& shape) {
  Json o = Json::object();
  for (const auto& a : shape) o[a.name] = a.value;
  return o;
}

inline Json to_json(const LatencySummary& s) {
  Json outliers(nullptr);
  if (s.outliers) {
    outliers = Json{{"low", s.outliers->low},
                    {"high", s.outliers->high},
                    {"extreme_low", s.outliers->extreme_low},
                    {"extreme_high", s.outliers->extreme_high}};
  }
  Json histogram(nullptr);
  if (s.histogram) {
    histogram = Json{{"min_s", s.histogram->min},
                     {"bin_width_s", s.histogram->bin_width},
                     {"counts", s.histogram->counts}};
  }
  return Json{{"count", s.count},
              {"min_s", s.min},
              {"max_s", s.max},
              {"mean_s", s.mean},
              {"median_s", optional_value(s.median)},
              {"p90_s", optional_value(s.p90)},
              {"p95_s", optional_value(s.p95)},
              {"p99_s", optional_value(s.p99)},
              {"p999_s", optional_value(s.p999)},
              {"stddev_s", s.stddev},
              {"cv", s.cv},
              {"mad_s", optional_value(s.mad)},
              {"confidence", s.confidence},
              {"median_ci", to_json(s.median_ci)},
              {"p90_ci", to_json(s.p90_ci)},
              {"p99_ci", to_json(s.p99_ci)},
              {"mean_ci", to_json(s.mean_ci)},
              {"outliers", outliers},
              {"histogram", histogram}};
}

inline Json to_json(const DeviceInfo& d) {
  return Json{{"backend", d.backend},         {"name", d.name},        {"kind", d.kind},
              {"compute_units", d.compute_units}, {"threads", d.threads}, {"memory_bytes", d.memory_bytes},
              {"features", d.features},       {"properties", object_of(d.properties)}};
}

inline Json to_json(const TimerInfo& t) {
  return Json{{"name", t.name},
              {"available", t.available},
              {"reason", optional_text(t.reason)},
              {"resolution_s", t.resolution_s},
              {"call_cost_s", t.call_cost_s},
              {"properties", object_of(t.properties)}};
}

inline Json to_json(const PhaseResult& p) {
  return Json{{"name", p.name},
              {"item_unit", p.item_unit},
              {"items", p.items},
              {"per_run", p.per_run},
              {"latency", to_json(p.latency)},
              {"items_per_second", p.items_per_second}};
}

inline Json to_json(const std::optional<MachineLoad>& l) {
  if (!l) return Json(nullptr);
  return Json{{"load_average_start", optional_value(l->load_average_start)},
              {"load_average_end", optional_value(l->load_average_end)},
              {"logical_cores", l->logical_cores},
              {"cell_threads", l->cell_threads},
              {"wall_s", l->wall_s},
              {"own_cores", l->own_cores},
              {"other_cores", l->other_cores},
              {"steal_fraction", l->steal_fraction}};
}

inline Json to_json(const CellResult& c) {
  Json phases = Json::array();
  for (const auto& p : c.phases) phases.push_back(to_json(p));
  return Json{
      {"model", c.model},
      {"family", c.family},
      {"backend", c.backend},
      {"shape", shape_of(c.shape)},
      {"status", std::string(to_string(c.status))},
      {"message", optional_text(c.message)},
      {"stats", c.stats},
      {"timer", c.timer},
      {"warmup_iterations", c.warmup_iterations},
      {"iterations", c.iterations},
      {"iterations_per_sample", c.iterations_per_sample},
      {"stop_reason", optional_text(c.stop_reason)},
      {"measured_time_s", c.measured_time_s},
      {"sampling_wall_s", c.sampling_wall_s},
      {"first_run_s", c.first_run_s},
      {"load_time_s", c.load_time_s},
      {"latency", to_json(c.latency)},
      {"phases", std::move(phases)},
      {"throughput",
       Json{{"item_unit", c.throughput.item_unit},
            {"items_per_second", c.throughput.items_per_second},
            {"tokens_per_second", optional_value(c.throughput.tokens_per_second)},
            {"gflops_per_second", optional_value(c.throughput.gflops_per_second)},
            {"real_time_factor", optional_value(c.throughput.real_time_factor)}}},
      {"memory",
       Json{{"rss_before_bytes", c.memory.rss_before_bytes},
            {"rss_after_bytes", c.memory.rss_after_bytes},
            {"peak_rss_bytes", c.memory.peak_rss_bytes},
            {"growth_bytes", c.memory.growth_bytes()},
            {"peak_is_per_cell", c.memory.peak_is_per_cell},
            {"average_rss_bytes", optional_value(c.memory.average_rss_bytes)},
            {"rss_samples", c.memory.rss_samples},
            {"activation_bytes", optional_value(c.memory.activation_bytes)},
            {"kv_cache_bytes", optional_value(c.memory.kv_cache_bytes)},
            {"device_peak_bytes", optional_value(c.memory.device_peak_bytes)},
            {"device_average_bytes", optional_value(c.memory.device_average_bytes)},
            {"device_used_bytes", optional_value(c.memory.device_used_bytes)},
            {"device_total_bytes", optional_value(c.memory.device_total_bytes)}}},
      {"counters", object_of(c.counters)},
      {"verification",
       Json{{"status", c.verification.status},
            {"reference", optional_text(c.verification.reference)},
            {"max_abs_error", c.verification.max_abs_error},
            {"max_rel_error", c.verification.max_rel_error},
            {"cosine_similarity", c.verification.cosine_similarity},
            {"token_agreement", optional_value(c.verification.token_agreement)},
            {"non_finite", c.verification.non_finite},
            {"tolerance", c.verification.tolerance}}},
      {"load", to_json(c.load)},
      {"busy", c.busy},
      {"concurrent_with", c.concurrent_with},
      {"warnings", c.warnings},
      {"samples_s", c.samples_s},
  };
}

inline Json to_json(const ComparisonResult& r) {
  Json cells = Json::array();
  for (const auto& c : r.cells) {
    cells.push_back(Json{{"shape", shape_of(c.shape)},
                         {"status", c.status},
                         {"message", optional_text(c.message)},
                         {"pairs", c.pairs},
                         {"median_a_s", c.median_a_s},
                         {"median_b_s", c.median_b_s},
                         {"ratio", c.ratio},
                         {"ratio_ci", c.ratio_ci ? Json{{"low", c.ratio_ci->low}, {"high", c.ratio_ci->high}}
                                                 : Json(nullptr)},
                         {"a_slower", c.a_slower},
                         {"b_slower", c.b_slower},
                         {"p_value", c.p_value},
                         {"significant", c.significant}});
  }
  return Json{{"family", r.family},   {"model_a", r.model_a},       {"model_b", r.model_b},
              {"backend_a", r.backend_a}, {"backend_b", r.backend_b}, {"label_a", r.label_a},
              {"label_b", r.label_b}, {"confidence", r.confidence}, {"test", r.test},
              {"cells", cells}};
}

inline Json to_json(const LoadingResult& l) {
  return Json{{"family", l.family},
              {"backend", l.backend},
              {"models", l.models},
              {"repetitions", l.repetitions},
              {"sequential_s", l.sequential_s},
              {"concurrent_s", l.concurrent_s},
              {"sequential_median_s", l.sequential_median_s},
              {"concurrent_median_s", l.concurrent_median_s},
              {"speedup", l.speedup},
              {"status", l.status},
              {"message", optional_text(l.message)}};
}

}  // namespace detail

/// Results as JSON (schema "accelbench.result", version RunResult::schema_version).
[[nodiscard]] inline Json to_json(const RunResult& r) {
  auto array_of = [](const auto& items) {
    Json a = Json::array();
    for (const auto& i : items) a.push_back(detail::to_json(i));
    return a;
  };
  Json models = Json::array();
  for (const auto& m : r.models) {
    models.push_back(Json{{"name", m.name},
                          {"family", m.family},
                          {"architecture", m.architecture},
                          {"backend", m.backend},
                          {"weights", m.weights},
                          {"accepted_config_fields", m.accepted_config_fields},
                          {"precision", m.precision},
                          {"parameters", m.parameters},
                          {"weight_bytes", m.weight_bytes},
                          {"load_time_s", m.load_time_s},
                          {"construct_time_s", m.construct_time_s},
                          {"upload_time_s", m.upload_time_s},
                          {"shared", m.shared},
                          {"status", m.status},
                          {"message", detail::optional_text(m.message)}});
  }
  const auto& s = r.system;
  const auto& b = r.build;
  const auto& e = r.environment;
  const auto& t = r.settings;
  Json out{
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
            {"eigen_simd", b.eigen_simd},
            {"simd", b.simd},
            {"openmp", b.openmp}}},
      {"environment",
       Json{{"governor", detail::optional_text(e.governor)},
            {"boost", detail::optional_value(e.boost)},
            {"virtualized", e.virtualized},
            {"hypervisor", detail::optional_text(e.hypervisor)},
            {"clocksource", detail::optional_text(e.clocksource)},
            {"cpu_mhz", detail::optional_value(e.cpu_mhz)}}},
      {"settings",
       Json{{"warmup_iterations", t.warmup_iterations},
            {"warmup_until_stable", t.warmup_until_stable},
            {"warmup_stability_tolerance", t.warmup_stability_tolerance},
            {"warmup_max_time_s", t.warmup_max_time_s},
            {"min_iterations", t.min_iterations},
            {"max_iterations", t.max_iterations},
            {"min_time_s", t.min_time_s},
            {"max_time_s", t.max_time_s},
            {"target_relative_ci_width", t.target_relative_ci_width},
            {"confidence", t.confidence},
            {"iterations_per_sample", t.iterations_per_sample},
            {"cell_timeout_s", t.cell_timeout_s},
            {"memory_sample_interval_s", t.memory_sample_interval_s},
            {"seed", t.seed},
            {"precision", precision_name(t.precision)}}},
      {"timers", array_of(r.timers)},
      {"devices", array_of(r.devices)},
      {"models", models},
      {"cells", array_of(r.cells)},
      {"comparisons", array_of(r.comparisons)},
      {"loading", array_of(r.loading)},
      {"warnings", r.warnings},
  };
  if (!r.group.name.empty() || r.group.shard_index) {
    Json g{{"name", r.group.name}};
    if (r.group.shard_index) g["shard"] = *r.group.shard_index;
    if (r.group.shard_count) g["shards"] = *r.group.shard_count;
    out["group"] = std::move(g);
  }
  return out;
}

}  // namespace accelbench
