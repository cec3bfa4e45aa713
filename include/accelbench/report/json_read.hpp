#pragma once

// Results read back from their JSON form (report/json.hpp): a cell, a
// loading benchmark, and a part of a run without its cells. An isolated run
// (suite/isolate.hpp) measures in a child process that sends these to the
// parent as JSON lines.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "json.hpp"

namespace accelbench {

namespace detail {

template <class T>
T field_or(const Json& j, const char* key, T fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<T>();
}

template <class T>
std::optional<T> optional_field(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
}

inline std::optional<Interval> interval_from_json(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  return Interval{field_or(j, "low_s", 0.0), field_or(j, "high_s", 0.0)};
}

inline std::vector<std::pair<std::string, std::string>> text_pairs_from_json(const Json& j) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

inline LatencySummary latency_from_json(const Json& j) {
  LatencySummary s;
  s.count = field_or<std::size_t>(j, "count", 0);
  s.min = field_or(j, "min_s", 0.0);
  s.max = field_or(j, "max_s", 0.0);
  s.mean = field_or(j, "mean_s", 0.0);
  s.median = optional_field<double>(j, "median_s");
  s.p90 = optional_field<double>(j, "p90_s");
  s.p95 = optional_field<double>(j, "p95_s");
  s.p99 = optional_field<double>(j, "p99_s");
  s.p999 = optional_field<double>(j, "p999_s");
  s.stddev = field_or(j, "stddev_s", 0.0);
  s.cv = field_or(j, "cv", 0.0);
  s.mad = optional_field<double>(j, "mad_s");
  s.confidence = field_or(j, "confidence", 0.0);
  s.median_ci = interval_from_json(j.value("median_ci", Json(nullptr)));
  s.p90_ci = interval_from_json(j.value("p90_ci", Json(nullptr)));
  s.p99_ci = interval_from_json(j.value("p99_ci", Json(nullptr)));
  s.mean_ci = interval_from_json(j.value("mean_ci", Json(nullptr)));
  if (const Json o = j.value("outliers", Json(nullptr)); o.is_object()) {
    s.outliers = OutlierCounts{field_or<std::size_t>(o, "low", 0), field_or<std::size_t>(o, "high", 0),
                               field_or<std::size_t>(o, "extreme_low", 0), field_or<std::size_t>(o, "extreme_high", 0)};
  }
  if (const Json h = j.value("histogram", Json(nullptr)); h.is_object()) {
    s.histogram = Histogram{field_or(h, "min_s", 0.0), field_or(h, "bin_width_s", 0.0),
                            field_or(h, "counts", std::vector<std::size_t>{})};
  }
  return s;
}

}  // namespace detail

/// The CellStatus named `text`; nullopt for an unknown name.
[[nodiscard]] inline std::optional<CellStatus> cell_status_from_string(std::string_view text) {
  for (const CellStatus s : {CellStatus::ok, CellStatus::mismatch, CellStatus::failed, CellStatus::unavailable,
                             CellStatus::timeout, CellStatus::invalid_output, CellStatus::crashed,
                             CellStatus::out_of_memory}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

/// A cell from detail::to_json(CellResult). Throws Json::exception on a
/// field of the wrong type.
[[nodiscard]] inline CellResult cell_from_json(const Json& j) {
  using detail::field_or, detail::optional_field;
  CellResult c;
  c.model = field_or<std::string>(j, "model", "");
  c.family = field_or<std::string>(j, "family", "");
  c.backend = field_or<std::string>(j, "backend", "");
  if (j.contains("shape") && j["shape"].is_object()) {
    for (const auto& [name, value] : j["shape"].items()) c.shape.push_back({name, value.get<std::int64_t>()});
  }
  c.status = cell_status_from_string(field_or<std::string>(j, "status", "")).value_or(CellStatus::failed);
  c.message = field_or<std::string>(j, "message", "");
  c.stats = field_or<std::string>(j, "stats", "");
  c.timer = field_or<std::string>(j, "timer", "");
  c.warmup_iterations = field_or(j, "warmup_iterations", 0);
  c.iterations = field_or<std::size_t>(j, "iterations", 0);
  c.iterations_per_sample = field_or<std::size_t>(j, "iterations_per_sample", 1);
  c.stop_reason = field_or<std::string>(j, "stop_reason", "");
  c.measured_time_s = field_or(j, "measured_time_s", 0.0);
  c.sampling_wall_s = field_or(j, "sampling_wall_s", 0.0);
  c.first_run_s = field_or(j, "first_run_s", 0.0);
  c.load_time_s = field_or(j, "load_time_s", 0.0);
  c.latency = detail::latency_from_json(j.value("latency", Json::object()));
  for (const auto& p : j.value("phases", Json::array())) {
    PhaseResult r;
    r.name = field_or<std::string>(p, "name", "");
    r.item_unit = field_or<std::string>(p, "item_unit", "");
    r.items = field_or(p, "items", 0.0);
    r.per_run = field_or<std::size_t>(p, "per_run", 0);
    r.latency = detail::latency_from_json(p.value("latency", Json::object()));
    r.items_per_second = field_or(p, "items_per_second", 0.0);
    c.phases.push_back(std::move(r));
  }
  const Json t = j.value("throughput", Json::object());
  c.throughput.item_unit = field_or<std::string>(t, "item_unit", "");
  c.throughput.items_per_second = field_or(t, "items_per_second", 0.0);
  c.throughput.tokens_per_second = optional_field<double>(t, "tokens_per_second");
  c.throughput.gflops_per_second = optional_field<double>(t, "gflops_per_second");
  c.throughput.real_time_factor = optional_field<double>(t, "real_time_factor");
  const Json m = j.value("memory", Json::object());
  c.memory.rss_before_bytes = field_or<std::uint64_t>(m, "rss_before_bytes", 0);
  c.memory.rss_after_bytes = field_or<std::uint64_t>(m, "rss_after_bytes", 0);
  c.memory.peak_rss_bytes = field_or<std::uint64_t>(m, "peak_rss_bytes", 0);
  c.memory.peak_is_per_cell = field_or(m, "peak_is_per_cell", false);
  c.memory.average_rss_bytes = optional_field<std::uint64_t>(m, "average_rss_bytes");
  c.memory.rss_samples = field_or<std::size_t>(m, "rss_samples", 0);
  c.memory.activation_bytes = optional_field<std::uint64_t>(m, "activation_bytes");
  c.memory.kv_cache_bytes = optional_field<std::uint64_t>(m, "kv_cache_bytes");
  c.memory.device_peak_bytes = optional_field<std::uint64_t>(m, "device_peak_bytes");
  c.memory.device_average_bytes = optional_field<std::uint64_t>(m, "device_average_bytes");
  c.memory.device_used_bytes = optional_field<std::uint64_t>(m, "device_used_bytes");
  c.memory.device_total_bytes = optional_field<std::uint64_t>(m, "device_total_bytes");
  if (j.contains("counters") && j["counters"].is_object()) {
    for (const auto& [name, value] : j["counters"].items()) c.counters.emplace_back(name, value.get<double>());
  }
  const Json v = j.value("verification", Json::object());
  c.verification.status = field_or<std::string>(v, "status", "skipped");
  c.verification.reference = field_or<std::string>(v, "reference", "");
  c.verification.max_abs_error = field_or(v, "max_abs_error", 0.0);
  c.verification.max_rel_error = field_or(v, "max_rel_error", 0.0);
  c.verification.cosine_similarity = field_or(v, "cosine_similarity", 1.0);
  c.verification.token_agreement = optional_field<double>(v, "token_agreement");
  c.verification.tolerance = field_or(v, "tolerance", 0.0);
  c.verification.non_finite = field_or<std::size_t>(v, "non_finite", 0);
  if (j.contains("load") && j["load"].is_object()) {
    const Json& l = j["load"];
    MachineLoad load;
    load.load_average_start = optional_field<double>(l, "load_average_start");
    load.load_average_end = optional_field<double>(l, "load_average_end");
    load.logical_cores = field_or(l, "logical_cores", 0);
    load.cell_threads = field_or(l, "cell_threads", 0);
    load.wall_s = field_or(l, "wall_s", 0.0);
    load.own_cores = field_or(l, "own_cores", 0.0);
    load.other_cores = field_or(l, "other_cores", 0.0);
    load.steal_fraction = field_or(l, "steal_fraction", 0.0);
    c.load = load;
  }
  c.busy = field_or(j, "busy", false);
  c.concurrent_with = field_or(j, "concurrent_with", std::vector<std::string>{});
  c.warnings = field_or(j, "warnings", std::vector<std::string>{});
  c.samples_s = field_or(j, "samples_s", std::vector<double>{});
  return c;
}

/// A loading benchmark from detail::to_json(LoadingResult).
[[nodiscard]] inline LoadingResult loading_from_json(const Json& j) {
  using detail::field_or;
  LoadingResult l;
  l.family = field_or<std::string>(j, "family", "");
  l.backend = field_or<std::string>(j, "backend", "");
  l.models = field_or(j, "models", std::vector<std::string>{});
  l.repetitions = field_or(j, "repetitions", 0);
  l.sequential_s = field_or(j, "sequential_s", std::vector<double>{});
  l.concurrent_s = field_or(j, "concurrent_s", std::vector<double>{});
  l.sequential_median_s = field_or(j, "sequential_median_s", 0.0);
  l.concurrent_median_s = field_or(j, "concurrent_median_s", 0.0);
  l.speedup = field_or(j, "speedup", 0.0);
  l.status = field_or<std::string>(j, "status", "ok");
  l.message = field_or<std::string>(j, "message", "");
  return l;
}

/// Into `into` (a run described by this process): the devices, timers,
/// models, loading benchmarks and warnings of `j` (to_json(RunResult)),
/// and its cells.
inline void read_part_from_json(const Json& j, RunResult& into) {
  using detail::field_or;
  for (const auto& d : j.value("devices", Json::array())) {
    DeviceInfo info;
    info.backend = field_or<std::string>(d, "backend", "");
    info.name = field_or<std::string>(d, "name", "");
    info.kind = field_or<std::string>(d, "kind", "");
    info.compute_units = field_or(d, "compute_units", 0);
    info.threads = field_or(d, "threads", 0);
    info.memory_bytes = field_or<std::uint64_t>(d, "memory_bytes", 0);
    info.features = field_or(d, "features", std::vector<std::string>{});
    info.properties = detail::text_pairs_from_json(d.value("properties", Json::object()));
    into.devices.push_back(std::move(info));
  }
  for (const auto& t : j.value("timers", Json::array())) {
    TimerInfo info;
    info.name = field_or<std::string>(t, "name", "");
    info.available = field_or(t, "available", true);
    info.reason = field_or<std::string>(t, "reason", "");
    info.resolution_s = field_or(t, "resolution_s", 0.0);
    info.call_cost_s = field_or(t, "call_cost_s", 0.0);
    info.properties = detail::text_pairs_from_json(t.value("properties", Json::object()));
    into.timers.push_back(std::move(info));
  }
  for (const auto& m : j.value("models", Json::array())) {
    ModelInfo info;
    info.name = field_or<std::string>(m, "name", "");
    info.family = field_or<std::string>(m, "family", "");
    info.architecture = field_or<std::string>(m, "architecture", "");
    info.backend = field_or<std::string>(m, "backend", "");
    info.weights = field_or<std::string>(m, "weights", "");
    info.accepted_config_fields = field_or(m, "accepted_config_fields", std::vector<std::string>{});
    info.precision = field_or<std::string>(m, "precision", "fp32");
    info.parameters = field_or<std::int64_t>(m, "parameters", 0);
    info.weight_bytes = field_or<std::uint64_t>(m, "weight_bytes", 0);
    info.load_time_s = field_or(m, "load_time_s", 0.0);
    info.construct_time_s = field_or(m, "construct_time_s", 0.0);
    info.upload_time_s = field_or(m, "upload_time_s", 0.0);
    info.shared = field_or(m, "shared", false);
    info.status = field_or<std::string>(m, "status", "ok");
    info.message = field_or<std::string>(m, "message", "");
    into.models.push_back(std::move(info));
  }
  for (const auto& l : j.value("loading", Json::array())) into.loading.push_back(loading_from_json(l));
  for (const auto& w : j.value("warnings", Json::array())) {
    if (w.is_string()) into.warnings.push_back(w.get<std::string>());
  }
  for (const auto& c : j.value("cells", Json::array())) into.cells.push_back(cell_from_json(c));
}

}  // namespace accelbench
