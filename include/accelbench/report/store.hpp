#pragma once

// The results store (docs/store.md): runs, cell by cell as they are
// measured, in an SQL database that reports, histories and regression
// checks query. SQLite (a file) is the embedded default; PostgreSQL a store
// several machines share. One schema serves both, versioned by migrations
// that a store gets, in order, when it is opened.
//
//   ResultStore store = ResultStore::open("results.db");   // or postgresql://...
//   const std::int64_t run = store.begin_run(describe_run());
//   store.add_cell(run, cell);                               // as each cell is measured
//   store.finish_run(run, results);
//   for (const StoredRun& r : store.runs({.models = {"bert-tiny"}})) ...
//
// Needs libsqlite3 (and libpq for PostgreSQL): link accelbench::store.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../core/timestamp.hpp"
#include "filter.hpp"
#include "journal.hpp"
#include "results_file.hpp"
#include "store_connection.hpp"
#include "store_postgres.hpp"
#include "store_rows.hpp"
#include "store_sql.hpp"
#include "store_sqlite.hpp"
#include "store_url.hpp"

namespace accelbench {

/// A run read back from the store, with what the store keeps about it.
struct StoredRun {
  std::int64_t id = 0;
  std::string uid;     ///< the run's identity (unique in the store)
  std::string status;  ///< "running", "complete" or "interrupted"
  RunGroup group;
  std::string hardware_fingerprint;
  RunResult result;    ///< the run, as it was written
};

/// A results store open on one connection. Its calls may come from several
/// threads (they are serialised); each writing call is one transaction.
class ResultStore {
 public:
  /// Opens the store at `url`: a file path or sqlite:PATH (SQLite, created
  /// when missing), or postgresql://... / postgres://... (PostgreSQL). The
  /// store gets the migrations it lacks; one written by a newer library is
  /// refused. Throws StoreError naming the URL (password masked).
  [[nodiscard]] static ResultStore open(const std::string& url) {
    const detail::StoreLocation where = detail::parse_store_url(url);
    auto state = std::make_unique<State>();
    state->url = detail::masked_store_url(url);
    if (where.dialect == detail::SqlDialect::sqlite) {
      state->conn = std::make_unique<detail::SqliteConnection>(where.target, state->url);
    } else {
#ifdef ACCELBENCH_WITH_POSTGRESQL
      state->conn = std::make_unique<detail::PostgresConnection>(where.target, state->url);
#else
      throw StoreError("results store '" + state->url +
                       "': this build has no PostgreSQL support (libpq was not found when it was built); "
                       "install libpq-dev and rebuild, or use a SQLite file");
#endif
    }
    ResultStore store(std::move(state));
    store.migrate();
    return store;
  }

  /// The store's URL, password masked.
  [[nodiscard]] const std::string& url() const noexcept { return state_->url; }
  /// "sqlite" or "postgresql".
  [[nodiscard]] std::string engine() const {
    return state_->conn->dialect() == detail::SqlDialect::sqlite ? "sqlite" : "postgresql";
  }

  /// Starts a run (status running) from `frame` (describe_run(): system,
  /// build, environment, settings; any parts and cells it has are stored
  /// too). With `key` (e.g. the journal of `accelbench run`), a run stored
  /// before under that key is continued (status running again) instead:
  /// a resumed run adds its cells to the same stored run. The run's group
  /// is `group`, or frame.group when `group` is empty. Returns its id.
  std::int64_t begin_run(const RunResult& frame, const RunGroup& group = {}, const std::string& key = {}) {
    const RunGroup& in_group = group.name.empty() && !group.shard_index ? frame.group : group;
    std::int64_t id = 0;
    transaction([&](detail::StoreConnection& c) {
      const std::string uid = key.empty() ? fresh_uid(frame) : "run:" + key;
      const auto before = c.query(detail::store_sql::run_by_uid, {detail::sql_text(uid)});
      if (!before.empty()) {
        id = detail::int_of(before.front().front());
        c.query(detail::store_sql::reopen_run, {id});
      } else {
        id = *c.insert(detail::store_sql::insert_run, detail::run_values(frame, uid, "running", in_group));
        c.query(detail::store_sql::insert_environment, detail::environment_values(id, frame));
      }
      write_part(c, id, frame, true);
    });
    return id;
  }

  /// Stores one measured cell with its samples, phases, verification and
  /// warnings, all or nothing. A cell whose key (family, model, backend,
  /// shape) the run has already is left as it was: returns false.
  bool add_cell(std::int64_t run, const CellResult& cell) {
    bool added = false;
    transaction([&](detail::StoreConnection& c) {
      require_run(c, run);
      added = write_cell(c, run, cell);
    });
    return added;
  }

  /// Stores a part of the run as it is done (a model on a backend, a
  /// loading benchmark): its devices, timers, models, loading benchmarks,
  /// comparisons, warnings and cells. A device, model or loading benchmark
  /// the run has already (same backend; family, name and backend; family
  /// and backend) is replaced in place, as in the journal.
  void add_part(std::int64_t run, const RunResult& part) {
    transaction([&](detail::StoreConnection& c) {
      require_run(c, run);
      write_part(c, run, part, true);
    });
  }

  /// Ends the run: its description and times from `final`, status
  /// "complete" or "interrupted", and every part and cell of `final` the
  /// store lacks (cells stored before are kept).
  void finish_run(std::int64_t run, const RunResult& final, const std::string& status = "complete") {
    if (status != "complete" && status != "interrupted") {
      throw StoreError("results store '" + url() + "': finish_run status = \"" + status +
                       "\": must be complete or interrupted");
    }
    transaction([&](detail::StoreConnection& c) {
      require_run(c, run);
      std::vector<detail::SqlValue> values = detail::finish_values(final, status);
      values.emplace_back(run);
      c.query(detail::store_sql::finish_run, values);
      c.query(detail::store_sql::delete_environment, {run});
      c.query(detail::store_sql::insert_environment, detail::environment_values(run, final));
      write_part(c, run, final, true);
    });
  }

  /// Marks a run that was stopped (SIGINT, SIGTERM) interrupted, now; a run
  /// already finished is left as it is.
  void mark_interrupted(std::int64_t run) {
    transaction([&](detail::StoreConnection& c) { c.query(detail::store_sql::interrupt_run, {utc_timestamp(), run}); });
  }

  /// The id of the run begun under `key` (begin_run's), if any.
  [[nodiscard]] std::optional<std::int64_t> run_with_key(const std::string& key) {
    const std::lock_guard lock(state_->mutex);
    const auto rows = state_->conn->query(detail::store_sql::run_by_uid, {detail::sql_text("run:" + key)});
    if (rows.empty()) return std::nullopt;
    return detail::int_of(rows.front().front());
  }

  /// The id of the run stored from the same results before (same host,
  /// start and content: import_run's or SqlReporter's), if any.
  [[nodiscard]] std::optional<std::int64_t> imported_as(const RunResult& run) {
    const std::lock_guard lock(state_->mutex);
    const auto rows = state_->conn->query(detail::store_sql::run_by_uid, {detail::sql_text(detail::results_uid(run))});
    if (rows.empty()) return std::nullopt;
    return detail::int_of(rows.front().front());
  }

  /// Stores a whole run (a results file read back) in one transaction,
  /// status complete; returns its id, or the id of the same run imported
  /// before (imported_as), writing nothing then. A cell key that appears
  /// twice in `run` is refused.
  std::int64_t import_run(const RunResult& run) {
    std::int64_t id = 0;
    transaction([&](detail::StoreConnection& c) {
      const std::string uid = detail::results_uid(run);
      const auto before = c.query(detail::store_sql::run_by_uid, {detail::sql_text(uid)});
      if (!before.empty()) {
        id = detail::int_of(before.front().front());
        return;
      }
      id = *c.insert(detail::store_sql::insert_run, detail::run_values(run, uid, "complete", {}));
      c.query(detail::store_sql::insert_environment, detail::environment_values(id, run));
      RunResult parts = run;
      parts.cells.clear();
      write_part(c, id, parts, false);
      for (const auto& cell : run.cells) {
        if (!write_cell(c, id, cell)) {
          throw StoreError("results store '" + url() + "': the cell " + cell_key(cell) + " appears twice in the run");
        }
      }
    });
    return id;
  }

  /// The run `id` as it was written. Throws StoreError when there is none.
  [[nodiscard]] RunResult run(std::int64_t id) { return stored_run(id).result; }

  /// The run `id` with its status, group and fingerprint.
  [[nodiscard]] StoredRun stored_run(std::int64_t id) {
    const std::lock_guard lock(state_->mutex);
    return read_run(*state_->conn, id);
  }

  /// The runs `filter` selects, oldest first, each with only its selected
  /// cells and models (filter_results); a run none of whose cells is
  /// selected by a model, backend or family list is left out.
  [[nodiscard]] std::vector<StoredRun> runs(const ResultFilter& filter = {}) {
    const std::lock_guard lock(state_->mutex);
    detail::StoreConnection& c = *state_->conn;
    const bool pg = c.dialect() == detail::SqlDialect::postgresql;
    const std::string time = pg ? "started_at COLLATE \"C\"" : "started_at";  // byte order in both
    std::string sql = "SELECT id FROM runs WHERE 1 = 1";
    std::vector<detail::SqlValue> params;
    if (!filter.since.empty()) {
      sql += " AND " + time + " >= ?";
      params.emplace_back(filter.since);
    }
    if (!filter.until.empty()) {
      sql += " AND " + time + " < ?";
      params.emplace_back(filter.until.size() == 10 ? filter.until + "T99" : filter.until);  // as run_matches
    }
    if (!filter.git_commit.empty()) {
      sql += " AND git_commit LIKE ? ESCAPE '!'";
      std::string pattern;
      for (const char ch : filter.git_commit) pattern += (ch == '%' || ch == '_' || ch == '!') ? std::string{'!', ch} : std::string{ch};
      params.emplace_back(pattern + "%");
    }
    if (!filter.hostname.empty()) {
      sql += " AND hostname = ?";
      params.emplace_back(filter.hostname);
    }
    if (!filter.group.empty()) {
      sql += " AND run_group = ?";
      params.emplace_back(filter.group);
    }
    if (!filter.models.empty() || !filter.backends.empty() || !filter.families.empty()) {
      sql += " AND EXISTS (SELECT 1 FROM cells c WHERE c.run_id = runs.id";
      const auto among = [&](const char* column, const std::vector<std::string>& values) {
        if (values.empty()) return;
        sql += std::string(" AND c.") + column + " IN (";
        for (std::size_t i = 0; i < values.size(); ++i) {
          sql += i ? ", ?" : "?";
          params.emplace_back(values[i]);
        }
        sql += ")";
      };
      among("model", filter.models);
      among("backend", filter.backends);
      among("family", filter.families);
      sql += ")";
    }
    sql += " ORDER BY started_at, id";
    std::vector<StoredRun> out;
    for (const auto& row : c.query(sql, params)) {
      StoredRun r = read_run(c, detail::int_of(row.front()));
      if (!run_matches(filter, r.result)) continue;
      r.result = filter_results(std::move(r.result), filter);
      out.push_back(std::move(r));
    }
    return out;
  }

  /// The keys (cell_key) of the cells stored for run `id`.
  [[nodiscard]] std::vector<std::string> cell_keys(std::int64_t run) {
    const std::lock_guard lock(state_->mutex);
    std::vector<std::string> keys;
    for (const auto& row : state_->conn->query(detail::store_sql::cell_keys, {run})) {
      keys.push_back(detail::text_of(row.front()));
    }
    return keys;
  }

 private:
  struct State {
    std::unique_ptr<detail::StoreConnection> conn;
    std::mutex mutex;
    std::string url;
  };

  explicit ResultStore(std::unique_ptr<State> state) : state_(std::move(state)) {}

  /// Runs `work` in one transaction: committed when it returns, rolled back when it throws.
  template <class Work>
  void transaction(Work work) {
    const std::lock_guard lock(state_->mutex);
    detail::StoreConnection& c = *state_->conn;
    c.begin();
    try {
      work(c);
      c.execute("COMMIT");
    } catch (...) {
      try {
        c.execute("ROLLBACK");
      } catch (...) {
        // The first error says what went wrong.
      }
      throw;
    }
  }

  /// Applies the migrations the store lacks, each recorded in schema_version.
  void migrate() {
    transaction([&](detail::StoreConnection& c) {
      c.lock_schema();
      c.execute(detail::schema_version_table);
      const auto rows = c.query("SELECT max(version) FROM schema_version", {});
      const std::int64_t current = rows.empty() ? 0 : detail::int_of(rows.front().front());
      if (current > store_schema_version) {
        throw StoreError("results store '" + url() + "' has schema version " + std::to_string(current) +
                         ", newer than this library's (" + std::to_string(store_schema_version) +
                         "): open it with a newer accelbench");
      }
      for (const auto& m : detail::store_migrations()) {
        if (m.version <= current) continue;
        for (const char* statement : m.statements) c.execute(detail::dialect_sql(statement, c.dialect()));
        c.query("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                {std::int64_t{m.version}, std::string(m.description), utc_timestamp()});
      }
    });
  }

  static std::string fresh_uid(const RunResult& frame) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(detail::random_run_bits()));
    return "run:" + frame.system.hostname + "@" + frame.started_at + ":" + hex;
  }

  void require_run(detail::StoreConnection& c, std::int64_t run) const {
    if (c.query("SELECT 1 FROM runs WHERE id = ?", {run}).empty()) {
      throw StoreError("results store '" + url() + "': there is no run " + std::to_string(run));
    }
  }

  /// Inserts a row, or with `replace` updates the row `find` selects (its
  /// key's values `key`) in place.
  static void upsert(detail::StoreConnection& c, const char* insert, std::vector<detail::SqlValue> values,
                     bool replace, const char* find, std::vector<detail::SqlValue> key) {
    if (replace) {
      const auto rows = c.query(find, key);
      if (!rows.empty()) {
        values.push_back(rows.front().front());
        c.query(detail::update_of(insert), values);
        return;
      }
    }
    c.query(insert, values);
  }

  void write_part(detail::StoreConnection& c, std::int64_t run, const RunResult& part, bool replace) {
    namespace sql = detail::store_sql;
    using detail::sql_text;
    for (const auto& d : part.devices) {
      upsert(c, sql::insert_device, detail::device_values(run, d), replace, sql::device_id, {run, sql_text(d.backend)});
    }
    for (const auto& m : part.models) {
      upsert(c, sql::insert_model, detail::model_values(run, m), replace, sql::model_id,
             {run, sql_text(m.family), sql_text(m.name), sql_text(m.backend)});
    }
    for (const auto& l : part.loading) {
      upsert(c, sql::insert_loading, detail::loading_values(run, l), replace, sql::loading_id,
             {run, sql_text(l.family), sql_text(l.backend)});
    }
    for (const auto& cmp : part.comparisons) {
      const detail::SqlValue json = detail::sql_json(detail::to_json(cmp));
      if (replace && !c.query(sql::comparison_id, {run, json}).empty()) continue;
      c.query(sql::insert_comparison, detail::comparison_values(run, cmp));
    }
    for (const auto& w : part.warnings) {
      if (replace && !c.query(sql::warning_id, {run, sql_text(w)}).empty()) continue;
      c.query(sql::insert_warning, detail::warning_values(run, nullptr, w));
    }
    if (!part.timers.empty()) merge_timers(c, run, part.timers);
    for (const auto& cell : part.cells) write_cell(c, run, cell);
  }

  /// Adds `timers` to the run's description, replacing any of the same name.
  static void merge_timers(detail::StoreConnection& c, std::int64_t run, const std::vector<TimerInfo>& timers) {
    const auto rows = c.query("SELECT run_json FROM runs WHERE id = ?", {run});
    if (rows.empty()) return;
    RunResult frame = run_from_json(detail::parse_json_text(detail::text_of(rows.front().front())));
    for (const auto& t : timers) {
      bool replaced = false;
      for (auto& mine : frame.timers) {
        if (mine.name == t.name) {
          mine = t;
          replaced = true;
        }
      }
      if (!replaced) frame.timers.push_back(t);
    }
    c.query(detail::store_sql::set_run_json, {detail::sql_json(to_json(detail::run_frame(frame))), run});
  }

  /// Inserts a cell and its rows; false when the run has its key already.
  static bool write_cell(detail::StoreConnection& c, std::int64_t run, const CellResult& cell) {
    namespace sql = detail::store_sql;
    const auto id = c.insert(std::string(sql::insert_cell) + sql::cell_conflict, detail::cell_values(run, cell));
    if (!id) return false;
    constexpr std::size_t per_statement = 200;
    for (std::size_t from = 0; from < cell.samples_s.size(); from += per_statement) {
      const std::size_t to = std::min(cell.samples_s.size(), from + per_statement);
      std::string text = sql::insert_samples;
      std::vector<detail::SqlValue> values;
      for (std::size_t i = from; i < to; ++i) {
        if (i > from) text += ", (?, ?, ?)";
        values.insert(values.end(), {*id, static_cast<std::int64_t>(i), cell.samples_s[i]});
      }
      c.query(text, values);
    }
    for (std::size_t i = 0; i < cell.phases.size(); ++i) {
      c.query(sql::insert_phase, detail::phase_values(*id, i, cell.phases[i]));
    }
    c.query(sql::insert_verification, detail::verification_values(*id, cell.verification));
    for (const auto& w : cell.warnings) c.query(sql::insert_warning, detail::warning_values(run, *id, w));
    return true;
  }

  StoredRun read_run(detail::StoreConnection& c, std::int64_t id) const {
    namespace sql = detail::store_sql;
    const auto rows = c.query(sql::run_row, {id});
    if (rows.empty()) throw StoreError("results store '" + url() + "': there is no run " + std::to_string(id));
    const detail::SqlRow& row = rows.front();
    StoredRun out;
    out.id = id;
    out.uid = detail::text_of(row[0]);
    out.status = detail::text_of(row[1]);
    out.group.name = detail::text_of(row[4]);
    if (!detail::is_null(row[5])) out.group.shard_index = static_cast<int>(detail::int_of(row[5]));
    if (!detail::is_null(row[6])) out.group.shard_count = static_cast<int>(detail::int_of(row[6]));
    out.hardware_fingerprint = detail::text_of(row[7]);
    try {
      out.result = run_from_json(detail::parse_json_text(detail::text_of(row[8])));
      Json parts = Json::object();
      const auto json_rows = [&](const char* query) {
        Json items = Json::array();
        for (const auto& r : c.query(query, {id})) items.push_back(detail::parse_json_text(detail::text_of(r.front())));
        return items;
      };
      parts["devices"] = json_rows(sql::run_devices);
      parts["models"] = json_rows(sql::run_models);
      parts["loading"] = json_rows(sql::run_loading);
      parts["cells"] = json_rows(sql::run_cells);
      Json warnings = Json::array();
      for (const auto& r : c.query(sql::run_warnings, {id})) warnings.push_back(detail::text_of(r.front()));
      parts["warnings"] = std::move(warnings);
      read_part_from_json(parts, out.result);
      for (const auto& cmp : json_rows(sql::run_comparisons)) out.result.comparisons.push_back(comparison_from_json(cmp));
    } catch (const std::exception& e) {
      throw StoreError("results store '" + url() + "': run " + std::to_string(id) + " cannot be read back: " + e.what());
    }
    out.result.group = out.group;
    out.result.started_at = detail::text_of(row[2]);
    out.result.finished_at = detail::text_of(row[3]);
    return out;
  }

  std::unique_ptr<State> state_;
};

}  // namespace accelbench
