#pragma once

// The rows of the results store (docs/store.md) made from results: for each
// insert statement of store_sql.hpp, its values in its column order. The
// store binds them; SqlReporter writes them as literals. Each row also
// keeps the object's whole JSON (report/json.hpp), from which the store
// reads results back.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../detail/rng.hpp"
#include "journal.hpp"
#include "json.hpp"
#include "store_sql.hpp"

namespace accelbench {


/// What identifies a machine's hardware across runs: a hash (16 hex digits)
/// of the CPU model, its features and the run's devices (backend, name,
/// kind, compute units, memory), whatever the host is called.
[[nodiscard]] inline std::string hardware_fingerprint(const SystemInfo& system, const std::vector<DeviceInfo>& devices) {
  std::string text = "cpu " + system.cpu_model + "\n";
  for (const auto& f : system.cpu_features) text += f + " ";
  std::vector<std::string> lines;
  for (const auto& d : devices) {
    lines.push_back(d.backend + "\t" + d.name + "\t" + d.kind + "\t" + std::to_string(d.compute_units) + "\t" +
                    std::to_string(d.memory_bytes));
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  for (const auto& l : lines) text += "\n" + l;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(detail::fnv1a64(text)));
  return hex;
}

namespace detail {

/// The identity of a run read from a results file (import, SqlReporter):
/// its host, its start and a hash of its whole content, so that the same
/// file is recognised when it comes again.
[[nodiscard]] inline std::string results_uid(const RunResult& run) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a64(dump_json(to_json(run)))));
  return "results:" + run.system.hostname + "@" + run.started_at + ":" + hex;
}

/// Text for a text column: valid UTF-8 (a bad byte becomes U+FFFD, as in
/// the JSON), as PostgreSQL requires.
[[nodiscard]] inline SqlValue sql_text(std::string_view s) { return valid_utf8(s); }
/// Text, or NULL when empty.
[[nodiscard]] inline SqlValue sql_text_or_null(std::string_view s) {
  return s.empty() ? SqlValue(nullptr) : sql_text(s);
}
[[nodiscard]] inline SqlValue sql_int(std::int64_t v) { return v; }
/// An unsigned count or size, which no column holds past 2^63 - 1.
[[nodiscard]] inline SqlValue sql_count(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}
[[nodiscard]] inline SqlValue sql_bool(bool v) { return std::int64_t{v ? 1 : 0}; }
[[nodiscard]] inline SqlValue sql_real(double v) { return v; }
template <class T>
[[nodiscard]] SqlValue sql_optional(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(*v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return sql_bool(*v);
  } else {
    return sql_count(static_cast<std::uint64_t>(*v));
  }
}
[[nodiscard]] inline SqlValue sql_json(const Json& j) { return dump_json(j); }

/// The run's own description, without the parts the store keeps in tables
/// of their own (devices, models, cells, loading, comparisons, warnings).
[[nodiscard]] inline RunResult run_frame(const RunResult& run) {
  RunResult frame;
  frame.started_at = run.started_at;
  frame.finished_at = run.finished_at;
  frame.system = run.system;
  frame.build = run.build;
  frame.environment = run.environment;
  frame.settings = run.settings;
  frame.timers = run.timers;
  return frame;
}

/// store_sql::insert_run's values; `status` is running, complete or interrupted.
[[nodiscard]] inline std::vector<SqlValue> run_values(const RunResult& run, const std::string& uid,
                                                      const std::string& status, const RunGroup& group) {
  const Json j = to_json(run_frame(run));
  return {sql_text(uid),
          status,
          sql_text(run.started_at),
          sql_text_or_null(run.finished_at),
          sql_text(run.build.library_version),
          sql_text_or_null(run.build.git_commit),
          sql_text(run.build.compiler),
          sql_text(run.build.build_type),
          sql_json(j["build"]),
          sql_json(j["settings"]),
          sql_text_or_null(group.name),
          group.shard_index ? SqlValue(std::int64_t{*group.shard_index}) : SqlValue(nullptr),
          group.shard_count ? SqlValue(std::int64_t{*group.shard_count}) : SqlValue(nullptr),
          sql_text(run.system.hostname),
          hardware_fingerprint(run.system, run.devices),
          sql_json(j)};
}

/// store_sql::finish_run's values, less the run's id.
[[nodiscard]] inline std::vector<SqlValue> finish_values(const RunResult& run, const std::string& status) {
  std::vector<SqlValue> v = run_values(run, "", status, {});
  // insert_run: uid status started finished version commit compiler type build settings group index count host fp json
  return {v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[13], v[14], v[15]};
}

[[nodiscard]] inline std::vector<SqlValue> environment_values(SqlValue run_id, const RunResult& run) {
  const SystemInfo& s = run.system;
  const EnvironmentInfo& e = run.environment;
  const Json j = to_json(run_frame(run));
  return {std::move(run_id),     sql_text(s.hostname),        sql_text(s.os),
          sql_text(s.kernel),    sql_text(s.architecture),    sql_text(s.cpu_model),
          sql_int(s.logical_cores), sql_int(s.physical_cores), sql_count(s.memory_bytes),
          sql_json(Json(s.cpu_features)), sql_text_or_null(e.governor), sql_optional(e.boost),
          sql_bool(e.virtualized), sql_text_or_null(e.hypervisor), sql_text_or_null(e.clocksource),
          sql_optional(e.cpu_mhz), sql_json(j["system"]),       sql_json(j["environment"])};
}

[[nodiscard]] inline std::vector<SqlValue> device_values(SqlValue run_id, const DeviceInfo& d) {
  return {std::move(run_id),   sql_text(d.backend), sql_text(d.name),        sql_text(d.kind),
          sql_int(d.compute_units), sql_int(d.threads), sql_count(d.memory_bytes), sql_json(to_json(d))};
}

/// A model's JSON, as to_json(RunResult) writes it among "models".
[[nodiscard]] inline Json model_json(const ModelInfo& m) {
  RunResult one;
  one.models = {m};
  return to_json(one)["models"][0];
}

[[nodiscard]] inline std::vector<SqlValue> model_values(SqlValue run_id, const ModelInfo& m) {
  return {std::move(run_id),       sql_text(m.name),          sql_text(m.family),
          sql_text(m.architecture), sql_text(m.backend),       sql_text(m.weights),
          sql_int(m.parameters),    sql_count(m.weight_bytes), sql_real(m.load_time_s),
          sql_real(m.construct_time_s), sql_real(m.upload_time_s), sql_bool(m.shared),
          sql_text(m.status),       sql_text_or_null(m.message), sql_json(model_json(m))};
}

[[nodiscard]] inline std::vector<SqlValue> loading_values(SqlValue run_id, const LoadingResult& l) {
  return {std::move(run_id),        sql_text(l.family),          sql_text(l.backend),
          sql_json(Json(l.models)), sql_int(l.repetitions),      sql_real(l.sequential_median_s),
          sql_real(l.concurrent_median_s), sql_real(l.speedup), sql_text(l.status),
          sql_text_or_null(l.message), sql_json(to_json(l))};
}

[[nodiscard]] inline std::vector<SqlValue> comparison_values(SqlValue run_id, const ComparisonResult& c) {
  return {std::move(run_id),    sql_text(c.family),  sql_text(c.model_a), sql_text(c.model_b),
          sql_text(c.backend_a), sql_text(c.backend_b), sql_text(c.label_a), sql_text(c.label_b),
          sql_json(to_json(c))};
}

[[nodiscard]] inline std::vector<SqlValue> warning_values(SqlValue run_id, SqlValue cell_id, const std::string& text) {
  return {std::move(run_id), std::move(cell_id), sql_text(text)};
}

/// The common sweep axes, each in a column of its own (the shape's JSON has them all).
inline constexpr const char* axis_columns[] = {"batch_size", "sequence_length", "prompt_length",
                                               "new_tokens", "image_size",      "audio_seconds"};

[[nodiscard]] inline std::vector<SqlValue> cell_values(SqlValue run_id, const CellResult& c) {
  const LatencySummary& l = c.latency;
  std::vector<SqlValue> v = {std::move(run_id), sql_text(cell_key(c)), sql_text(c.model),
                             sql_text(c.family), sql_text(c.backend), sql_json(shape_of(c.shape))};
  for (const char* axis : axis_columns) {
    const auto value = c.axis(axis);
    v.push_back(value ? SqlValue(*value) : SqlValue(nullptr));
  }
  const std::vector<SqlValue> rest = {
      std::string(to_string(c.status)), sql_text_or_null(c.message), sql_text(c.stats), sql_text(c.timer),
      sql_int(c.warmup_iterations), sql_count(c.iterations), sql_count(c.iterations_per_sample),
      sql_text_or_null(c.stop_reason), sql_count(l.count), sql_optional(l.median),
      l.median_ci ? sql_real(l.median_ci->low) : SqlValue(nullptr),
      l.median_ci ? sql_real(l.median_ci->high) : SqlValue(nullptr), sql_real(l.mean), sql_optional(l.p90),
      sql_optional(l.p99), sql_real(l.min), sql_real(l.max), sql_real(l.stddev), sql_text(c.throughput.item_unit),
      sql_real(c.throughput.items_per_second), sql_optional(c.throughput.tokens_per_second),
      sql_count(c.memory.peak_rss_bytes), sql_count(c.memory.growth_bytes()),
      sql_optional(c.memory.device_peak_bytes), sql_real(c.load_time_s), sql_real(c.first_run_s),
      c.load ? sql_real(c.load->other_cores) : SqlValue(nullptr), sql_bool(c.busy), sql_json(to_json(c))};
  v.insert(v.end(), rest.begin(), rest.end());
  return v;
}

[[nodiscard]] inline std::vector<SqlValue> phase_values(SqlValue cell_id, std::size_t index, const PhaseResult& p) {
  const LatencySummary& l = p.latency;
  return {std::move(cell_id), sql_count(index), sql_text(p.name), sql_text(p.item_unit), sql_real(p.items),
          sql_count(p.per_run), sql_count(l.count), sql_optional(l.median),
          l.median_ci ? sql_real(l.median_ci->low) : SqlValue(nullptr),
          l.median_ci ? sql_real(l.median_ci->high) : SqlValue(nullptr), sql_real(l.mean), sql_optional(l.p90),
          sql_optional(l.p99), sql_real(l.min), sql_real(l.max), sql_real(l.stddev), sql_real(p.items_per_second)};
}

[[nodiscard]] inline std::vector<SqlValue> verification_values(SqlValue cell_id, const Verification& v) {
  return {std::move(cell_id),         sql_text(v.status),           sql_text_or_null(v.reference),
          sql_real(v.max_abs_error),  sql_real(v.max_rel_error),    sql_real(v.cosine_similarity),
          sql_real(v.tolerance),      sql_optional(v.token_agreement), sql_count(v.non_finite)};
}

}  // namespace detail
}  // namespace accelbench
