#pragma once

// Results as SQL text: the results store's schema (docs/store.md) and one
// run's rows as INSERT statements with quoted literals, in one transaction.
// `sqlite3 results.db < run.sql` loads it into a new or existing SQLite
// store, which ResultStore then reads like any other; needs no SQLite to
// write. `accelbench run -o sql` writes it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../core/timestamp.hpp"
#include "journal.hpp"
#include "output.hpp"
#include "store_rows.hpp"
#include "store_sql.hpp"

namespace accelbench {

/// The SQL text of `run`: CREATE TABLE IF NOT EXISTS for the whole schema
/// (SQLite's dialect, schema version store_schema_version), then the run's
/// rows, each referring to the rows it belongs to by their keys (the run's
/// uid, a cell's key), so that the text loads into a store that has other
/// runs. The run is written with status running and made complete by the
/// last statement; its rows refer to it as the running run of its uid. That
/// uid is the one `accelbench import` gives the same results, so a run is
/// stored once: loaded again (or imported after), the run's insert fails on
/// the unique uid, and so does every row that refers to it.
[[nodiscard]] inline std::string to_sql_script(const RunResult& run) {
  using namespace detail;
  namespace sql = store_sql;
  std::string out = "-- accelbench results as SQL: the results store's schema (version " +
                    std::to_string(store_schema_version) + ", docs/store.md) and one run.\n" +
                    "-- Load it into a SQLite store with: sqlite3 results.db < THIS_FILE\n" + "BEGIN TRANSACTION;\n";
  const auto statement = [&](const std::string& text) { out += text + ";\n"; };
  statement(schema_version_table);
  for (const auto& m : store_migrations()) {
    for (const char* s : m.statements) statement(dialect_sql(s, SqlDialect::sqlite));
  }
  for (const auto& m : store_migrations()) {
    statement(with_literals("INSERT INTO schema_version (version, description, applied_at) SELECT ?, ?, ? WHERE NOT "
                            "EXISTS (SELECT 1 FROM schema_version WHERE version = ?)",
                            {std::int64_t{m.version}, std::string(m.description), utc_timestamp(),
                             std::int64_t{m.version}}));
  }

  const std::string uid = results_uid(run);
  const std::string uid_literal = sql_literal(sql_text(uid));
  const SqlExpression run_id{"(SELECT id FROM runs WHERE uid = " + uid_literal + " AND status = 'running')"};
  statement(with_literals(sql::insert_run, run_values(run, uid, "running", {})));
  statement(with_literals(sql::insert_environment, environment_values(run_id, run)));
  for (const auto& d : run.devices) statement(with_literals(sql::insert_device, device_values(run_id, d)));
  for (const auto& m : run.models) statement(with_literals(sql::insert_model, model_values(run_id, m)));
  for (const auto& l : run.loading) statement(with_literals(sql::insert_loading, loading_values(run_id, l)));
  for (const auto& c : run.comparisons) statement(with_literals(sql::insert_comparison, comparison_values(run_id, c)));
  for (const auto& w : run.warnings) statement(with_literals(sql::insert_warning, warning_values(run_id, nullptr, w)));

  for (const auto& cell : run.cells) {
    const std::string key = sql_literal(sql_text(cell_key(cell)));
    const SqlExpression cell_id{"(SELECT id FROM cells WHERE run_id = " + run_id.text + " AND cell_key = " + key + ")"};
    statement(with_literals(sql::insert_cell, cell_values(run_id, cell)));
    // The samples, a few hundred to a statement, as rows of a VALUES table
    // (whose columns both engines call column1, column2).
    constexpr std::size_t per_statement = 500;
    for (std::size_t from = 0; from < cell.samples_s.size(); from += per_statement) {
      std::string rows;
      for (std::size_t i = from; i < std::min(cell.samples_s.size(), from + per_statement); ++i) {
        rows += (i > from ? ", (" : "(") + std::to_string(i) + ", " + sql_literal(cell.samples_s[i]) + ")";
      }
      statement("INSERT INTO samples (cell_id, idx, seconds) SELECT c.id, v.column1, v.column2 FROM cells AS c, "
                "(VALUES " + rows + ") AS v WHERE c.run_id = " + run_id.text + " AND c.cell_key = " + key);
    }
    for (std::size_t i = 0; i < cell.phases.size(); ++i) {
      statement(with_literals(sql::insert_phase, phase_values(cell_id, i, cell.phases[i])));
    }
    statement(with_literals(sql::insert_verification, verification_values(cell_id, cell.verification)));
    for (const auto& w : cell.warnings) statement(with_literals(sql::insert_warning, warning_values(run_id, cell_id, w)));
  }
  statement("UPDATE runs SET status = 'complete' WHERE uid = " + uid_literal + " AND status = 'running'");
  out += "COMMIT;\n";
  return out;
}

/// Reporter policy: results as SQL text (to_sql_script) for the results
/// store, to a file written whole or, by default, to standard output.
class SqlReporter {
 public:
  SqlReporter() = default;
  explicit SqlReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit SqlReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(to_sql_script(result)); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
