#pragma once

// The SQL of the results store (docs/store.md), in one place for both of its
// engines (SQLite, PostgreSQL) and for SqlReporter's text: the schema as
// numbered migrations and the statements that write and read it. The two
// dialects differ only where this file says so: the type of an id column
// and of a floating-point column (tokens {id} and {real} in the schema), how
// a write transaction begins, and how a new row's id comes back
// (store_sqlite.hpp, store_postgres.hpp). Values are always bound to `?`
// parameters (PostgreSQL's engine numbers them $1, $2, ...), never written
// into the text, except by SqlReporter, which writes them as quoted literals.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace accelbench {

/// Anything the results store cannot do: `what()` names the store (its URL,
/// password masked), what was being done, and the database's own message.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The schema version this library reads and writes: its last migration.
inline constexpr int store_schema_version = 2;

namespace detail {

enum class SqlDialect { sqlite, postgresql };

/// Text written into a statement as it is: SqlReporter's reference to a row
/// written before it ("(SELECT id FROM runs WHERE uid = '...')"). The
/// store's engines never take one.
struct SqlExpression {
  std::string text;
};

/// A value bound to a `?` parameter, or one column of a row read back.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string, SqlExpression>;
using SqlRow = std::vector<SqlValue>;

/// One step of the schema: applied once, in order, in a transaction of its
/// own, and recorded in schema_version. A released step is never edited; a
/// change to the schema is a new step.
struct StoreMigration {
  int version;
  const char* description;
  std::vector<const char*> statements;
};

/// The table that says which migrations a store has had; made before any of them.
inline constexpr const char* schema_version_table =
    "CREATE TABLE IF NOT EXISTS schema_version (\n"
    "  version INTEGER PRIMARY KEY,\n"
    "  description TEXT NOT NULL,\n"
    "  applied_at TEXT NOT NULL\n"
    ")";

/// Every migration, oldest first; the last one's version is store_schema_version.
inline const std::vector<StoreMigration>& store_migrations() {
  static const std::vector<StoreMigration> steps = {
      {1,
       "runs, environments, devices, models, cells, samples, phases, verification, warnings, loading, comparisons",
       {"CREATE TABLE IF NOT EXISTS runs (\n"
        "  id {id},\n"
        "  uid TEXT NOT NULL UNIQUE,\n"
        "  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),\n"
        "  started_at TEXT NOT NULL,\n"
        "  finished_at TEXT,\n"
        "  library_version TEXT NOT NULL,\n"
        "  git_commit TEXT,\n"
        "  compiler TEXT NOT NULL,\n"
        "  build_type TEXT NOT NULL,\n"
        "  build_json TEXT NOT NULL,\n"
        "  settings_json TEXT NOT NULL,\n"
        "  run_group TEXT,\n"
        "  shard_index INTEGER,\n"
        "  shard_count INTEGER,\n"
        "  hostname TEXT NOT NULL,\n"
        "  hardware_fingerprint TEXT NOT NULL,\n"
        "  run_json TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS environments (\n"
        "  run_id BIGINT NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  hostname TEXT NOT NULL,\n"
        "  os TEXT NOT NULL,\n"
        "  kernel TEXT NOT NULL,\n"
        "  architecture TEXT NOT NULL,\n"
        "  cpu_model TEXT NOT NULL,\n"
        "  logical_cores INTEGER NOT NULL,\n"
        "  physical_cores INTEGER NOT NULL,\n"
        "  memory_bytes BIGINT NOT NULL,\n"
        "  cpu_features TEXT NOT NULL,\n"
        "  governor TEXT,\n"
        "  boost INTEGER,\n"
        "  virtualized INTEGER NOT NULL,\n"
        "  hypervisor TEXT,\n"
        "  clocksource TEXT,\n"
        "  cpu_mhz {real},\n"
        "  system_json TEXT NOT NULL,\n"
        "  environment_json TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS devices (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  backend TEXT NOT NULL,\n"
        "  name TEXT NOT NULL,\n"
        "  kind TEXT NOT NULL,\n"
        "  compute_units INTEGER NOT NULL,\n"
        "  threads INTEGER NOT NULL,\n"
        "  memory_bytes BIGINT NOT NULL,\n"
        "  device_json TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS models (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  name TEXT NOT NULL,\n"
        "  family TEXT NOT NULL,\n"
        "  architecture TEXT NOT NULL,\n"
        "  backend TEXT NOT NULL,\n"
        "  weights TEXT NOT NULL,\n"
        "  parameters BIGINT NOT NULL,\n"
        "  weight_bytes BIGINT NOT NULL,\n"
        "  load_time_s {real},\n"
        "  construct_time_s {real},\n"
        "  upload_time_s {real},\n"
        "  shared INTEGER NOT NULL,\n"
        "  status TEXT NOT NULL,\n"
        "  message TEXT,\n"
        "  model_json TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS cells (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  cell_key TEXT NOT NULL,\n"
        "  model TEXT NOT NULL,\n"
        "  family TEXT NOT NULL,\n"
        "  backend TEXT NOT NULL,\n"
        "  shape_json TEXT NOT NULL,\n"
        "  batch_size BIGINT,\n"
        "  sequence_length BIGINT,\n"
        "  prompt_length BIGINT,\n"
        "  new_tokens BIGINT,\n"
        "  image_size BIGINT,\n"
        "  audio_seconds BIGINT,\n"
        "  status TEXT NOT NULL,\n"
        "  message TEXT,\n"
        "  stats TEXT NOT NULL,\n"
        "  timer TEXT NOT NULL,\n"
        "  warmup_iterations INTEGER NOT NULL,\n"
        "  iterations BIGINT NOT NULL,\n"
        "  iterations_per_sample BIGINT NOT NULL,\n"
        "  stop_reason TEXT,\n"
        "  sample_count BIGINT NOT NULL,\n"
        "  median_s {real},\n"
        "  median_ci_low_s {real},\n"
        "  median_ci_high_s {real},\n"
        "  mean_s {real},\n"
        "  p90_s {real},\n"
        "  p99_s {real},\n"
        "  min_s {real},\n"
        "  max_s {real},\n"
        "  stddev_s {real},\n"
        "  item_unit TEXT NOT NULL,\n"
        "  items_per_second {real},\n"
        "  tokens_per_second {real},\n"
        "  peak_rss_bytes BIGINT NOT NULL,\n"
        "  rss_growth_bytes BIGINT NOT NULL,\n"
        "  device_peak_bytes BIGINT,\n"
        "  load_time_s {real},\n"
        "  first_run_s {real},\n"
        "  other_cores {real},\n"
        "  busy INTEGER NOT NULL,\n"
        "  cell_json TEXT NOT NULL,\n"
        "  UNIQUE (run_id, cell_key)\n"
        ")",
        "CREATE TABLE IF NOT EXISTS samples (\n"
        "  cell_id BIGINT NOT NULL REFERENCES cells (id) ON DELETE CASCADE,\n"
        "  idx INTEGER NOT NULL,\n"
        "  seconds {real} NOT NULL,\n"
        "  PRIMARY KEY (cell_id, idx)\n"
        ")",
        "CREATE TABLE IF NOT EXISTS phases (\n"
        "  cell_id BIGINT NOT NULL REFERENCES cells (id) ON DELETE CASCADE,\n"
        "  idx INTEGER NOT NULL,\n"
        "  name TEXT NOT NULL,\n"
        "  item_unit TEXT NOT NULL,\n"
        "  items {real},\n"
        "  per_run BIGINT NOT NULL,\n"
        "  sample_count BIGINT NOT NULL,\n"
        "  median_s {real},\n"
        "  median_ci_low_s {real},\n"
        "  median_ci_high_s {real},\n"
        "  mean_s {real},\n"
        "  p90_s {real},\n"
        "  p99_s {real},\n"
        "  min_s {real},\n"
        "  max_s {real},\n"
        "  stddev_s {real},\n"
        "  items_per_second {real},\n"
        "  PRIMARY KEY (cell_id, idx)\n"
        ")",
        "CREATE TABLE IF NOT EXISTS verification (\n"
        "  cell_id BIGINT NOT NULL PRIMARY KEY REFERENCES cells (id) ON DELETE CASCADE,\n"
        "  status TEXT NOT NULL,\n"
        "  reference TEXT,\n"
        "  max_abs_error {real},\n"
        "  max_rel_error {real},\n"
        "  cosine_similarity {real},\n"
        "  tolerance {real},\n"
        "  token_agreement {real},\n"
        "  non_finite BIGINT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS warnings (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  cell_id BIGINT REFERENCES cells (id) ON DELETE CASCADE,\n"
        "  message TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS loading (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  family TEXT NOT NULL,\n"
        "  backend TEXT NOT NULL,\n"
        "  models TEXT NOT NULL,\n"
        "  repetitions INTEGER NOT NULL,\n"
        "  sequential_median_s {real},\n"
        "  concurrent_median_s {real},\n"
        "  speedup {real},\n"
        "  status TEXT NOT NULL,\n"
        "  message TEXT,\n"
        "  loading_json TEXT NOT NULL\n"
        ")",
        "CREATE TABLE IF NOT EXISTS comparisons (\n"
        "  id {id},\n"
        "  run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
        "  family TEXT NOT NULL,\n"
        "  model_a TEXT NOT NULL,\n"
        "  model_b TEXT NOT NULL,\n"
        "  backend_a TEXT NOT NULL,\n"
        "  backend_b TEXT NOT NULL,\n"
        "  label_a TEXT NOT NULL,\n"
        "  label_b TEXT NOT NULL,\n"
        "  comparison_json TEXT NOT NULL\n"
        ")"}},
      {2,
       "indexes for the filters of reports and regression checks",
       {"CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at)",
        "CREATE INDEX IF NOT EXISTS runs_hostname ON runs (hostname, started_at)",
        "CREATE INDEX IF NOT EXISTS runs_git_commit ON runs (git_commit)",
        "CREATE INDEX IF NOT EXISTS runs_run_group ON runs (run_group, shard_index)",
        "CREATE INDEX IF NOT EXISTS cells_model ON cells (model, backend)",
        "CREATE INDEX IF NOT EXISTS cells_family ON cells (family, backend)",
        "CREATE INDEX IF NOT EXISTS devices_run ON devices (run_id)",
        "CREATE INDEX IF NOT EXISTS models_run ON models (run_id)",
        "CREATE INDEX IF NOT EXISTS warnings_run ON warnings (run_id, cell_id)",
        "CREATE INDEX IF NOT EXISTS loading_run ON loading (run_id)",
        "CREATE INDEX IF NOT EXISTS comparisons_run ON comparisons (run_id)"}},
  };
  return steps;
}

/// `text` with the dialect's tokens replaced: {id} (an id column that
/// numbers new rows) and {real} (a double).
[[nodiscard]] inline std::string dialect_sql(std::string_view text, SqlDialect dialect) {
  const bool sqlite = dialect == SqlDialect::sqlite;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 4) == "{id}") {
      out += sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
      i += 3;
    } else if (text.substr(i, 6) == "{real}") {
      out += sqlite ? "REAL" : "DOUBLE PRECISION";
      i += 5;
    } else {
      out += text[i];
    }
  }
  return out;
}

/// The statements that write and read the store. Column lists follow the
/// order of the values store_rows.hpp makes for them.
namespace store_sql {

inline constexpr const char* insert_run =
    "INSERT INTO runs (uid, status, started_at, finished_at, library_version, git_commit, compiler, build_type, "
    "build_json, settings_json, run_group, shard_index, shard_count, hostname, hardware_fingerprint, run_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* finish_run =
    "UPDATE runs SET status = ?, started_at = ?, finished_at = ?, library_version = ?, git_commit = ?, compiler = ?, "
    "build_type = ?, build_json = ?, settings_json = ?, hostname = ?, hardware_fingerprint = ?, run_json = ? "
    "WHERE id = ?";
inline constexpr const char* reopen_run = "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?";
inline constexpr const char* interrupt_run =
    "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'";
inline constexpr const char* set_run_json = "UPDATE runs SET run_json = ? WHERE id = ?";
inline constexpr const char* run_by_uid = "SELECT id FROM runs WHERE uid = ?";
inline constexpr const char* run_row =
    "SELECT uid, status, started_at, finished_at, run_group, shard_index, shard_count, hardware_fingerprint, run_json "
    "FROM runs WHERE id = ?";

inline constexpr const char* insert_environment =
    "INSERT INTO environments (run_id, hostname, os, kernel, architecture, cpu_model, logical_cores, physical_cores, "
    "memory_bytes, cpu_features, governor, boost, virtualized, hypervisor, clocksource, cpu_mhz, system_json, "
    "environment_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* delete_environment = "DELETE FROM environments WHERE run_id = ?";

inline constexpr const char* insert_device =
    "INSERT INTO devices (run_id, backend, name, kind, compute_units, threads, memory_bytes, device_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* insert_model =
    "INSERT INTO models (run_id, name, family, architecture, backend, weights, parameters, weight_bytes, load_time_s, "
    "construct_time_s, upload_time_s, shared, status, message, model_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* insert_loading =
    "INSERT INTO loading (run_id, family, backend, models, repetitions, sequential_median_s, concurrent_median_s, "
    "speedup, status, message, loading_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* insert_comparison =
    "INSERT INTO comparisons (run_id, family, model_a, model_b, backend_a, backend_b, label_a, label_b, "
    "comparison_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* insert_warning = "INSERT INTO warnings (run_id, cell_id, message) VALUES (?, ?, ?)";

inline constexpr const char* insert_cell =
    "INSERT INTO cells (run_id, cell_key, model, family, backend, shape_json, batch_size, sequence_length, "
    "prompt_length, new_tokens, image_size, audio_seconds, status, message, stats, timer, warmup_iterations, "
    "iterations, iterations_per_sample, stop_reason, sample_count, median_s, median_ci_low_s, median_ci_high_s, "
    "mean_s, p90_s, p99_s, min_s, max_s, stddev_s, item_unit, items_per_second, tokens_per_second, peak_rss_bytes, "
    "rss_growth_bytes, device_peak_bytes, load_time_s, first_run_s, other_cores, busy, cell_json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?)";
/// Added by the store after insert_cell: a cell already stored under its key is left as it is.
inline constexpr const char* cell_conflict = " ON CONFLICT (run_id, cell_key) DO NOTHING";
inline constexpr const char* insert_phase =
    "INSERT INTO phases (cell_id, idx, name, item_unit, items, per_run, sample_count, median_s, median_ci_low_s, "
    "median_ci_high_s, mean_s, p90_s, p99_s, min_s, max_s, stddev_s, items_per_second) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr const char* insert_verification =
    "INSERT INTO verification (cell_id, status, reference, max_abs_error, max_rel_error, cosine_similarity, "
    "tolerance, token_agreement, non_finite) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// Followed by ", (?, ?, ?)" for each further sample.
inline constexpr const char* insert_samples = "INSERT INTO samples (cell_id, idx, seconds) VALUES (?, ?, ?)";

// The rows a part replaces (add_part): one device per backend, one model
// per family, name and backend, one loading benchmark per family and
// backend, each comparison and run-wide warning once.
inline constexpr const char* device_id = "SELECT id FROM devices WHERE run_id = ? AND backend = ?";
inline constexpr const char* model_id =
    "SELECT id FROM models WHERE run_id = ? AND family = ? AND name = ? AND backend = ?";
inline constexpr const char* loading_id = "SELECT id FROM loading WHERE run_id = ? AND family = ? AND backend = ?";
inline constexpr const char* comparison_id = "SELECT id FROM comparisons WHERE run_id = ? AND comparison_json = ?";
inline constexpr const char* warning_id =
    "SELECT id FROM warnings WHERE run_id = ? AND cell_id IS NULL AND message = ?";

// Reading a run back, each part in the order it was written.
inline constexpr const char* run_devices = "SELECT device_json FROM devices WHERE run_id = ? ORDER BY id";
inline constexpr const char* run_models = "SELECT model_json FROM models WHERE run_id = ? ORDER BY id";
inline constexpr const char* run_cells = "SELECT cell_json FROM cells WHERE run_id = ? ORDER BY id";
inline constexpr const char* run_loading = "SELECT loading_json FROM loading WHERE run_id = ? ORDER BY id";
inline constexpr const char* run_comparisons =
    "SELECT comparison_json FROM comparisons WHERE run_id = ? ORDER BY id";
inline constexpr const char* run_warnings =
    "SELECT message FROM warnings WHERE run_id = ? AND cell_id IS NULL ORDER BY id";
inline constexpr const char* cell_keys = "SELECT cell_key FROM cells WHERE run_id = ?";

}  // namespace store_sql

/// "UPDATE t SET a = ?, b = ? WHERE id = ?" for "INSERT INTO t (a, b) VALUES (?, ?)":
/// a part that replaces a row written before keeps the row's id (and so its place).
[[nodiscard]] inline std::string update_of(std::string_view insert) {
  const std::size_t open = insert.find('(');
  const std::size_t close = insert.find(')', open);
  const std::string_view table = insert.substr(12, open - 13);  // after "INSERT INTO "
  std::string out = "UPDATE " + std::string(table) + " SET ";
  std::string_view columns = insert.substr(open + 1, close - open - 1);
  bool first = true;
  while (!columns.empty()) {
    const std::size_t comma = columns.find(',');
    std::string_view column = columns.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    out += (first ? "" : ", ") + std::string(column) + " = ?";
    first = false;
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  return out + " WHERE id = ?";
}

/// `sql` with its `?` parameters numbered $1, $2, ... (PostgreSQL); a `?`
/// inside a quoted literal is left alone.
[[nodiscard]] inline std::string numbered_parameters(std::string_view sql) {
  std::string out;
  bool quoted = false;
  int n = 0;
  for (const char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

/// A string as an SQL literal: quotes doubled, a NUL byte (which neither
/// engine keeps in text) written as U+FFFD.
[[nodiscard]] inline std::string sql_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// A value as an SQL literal: NULL, an integer, a double with every digit
/// it needs (a NaN or infinity, which SQL cannot write, as NULL), a quoted
/// string, or an expression as it is.
[[nodiscard]] inline std::string sql_literal(const SqlValue& v) {
  if (std::holds_alternative<std::int64_t>(v)) return std::to_string(std::get<std::int64_t>(v));
  if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) return "NULL";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    std::string s = buf;
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return sql_quote(*s);
  if (const auto* e = std::get_if<SqlExpression>(&v)) return e->text;
  return "NULL";
}

/// `sql` with each `?` replaced by the literal of the next value (SqlReporter).
[[nodiscard]] inline std::string with_literals(std::string_view sql, const std::vector<SqlValue>& values) {
  std::string out;
  std::size_t next = 0;
  bool quoted = false;
  for (const char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      if (next >= values.size()) throw std::logic_error("with_literals: fewer values than parameters");
      out += sql_literal(values[next++]);
    } else {
      out += c;
    }
  }
  if (next != values.size()) throw std::logic_error("with_literals: more values than parameters");
  return out;
}

}  // namespace detail
}  // namespace accelbench
