#pragma once

// The results store's SQLite engine (libsqlite3): one database file, or
// ":memory:". A file is opened in write-ahead-log mode with a busy timeout,
// so that several processes can write into it at once, each transaction
// waiting its turn. Needs SQLite 3.24 or later (ON CONFLICT DO NOTHING);
// link it with accelbench::store (CMake) or -lsqlite3.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "store_connection.hpp"
#include "store_sql.hpp"

namespace accelbench::detail {

class SqliteConnection final : public StoreConnection {
 public:
  /// How long a writer waits for another's transaction before failing.
  static constexpr int busy_timeout_ms = 60000;

  /// Opens (creating it if needed) the database `path`; `name` is how
  /// errors name the store.
  SqliteConnection(const std::string& path, std::string name) : name_(std::move(name)) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError("results store '" + name_ + "': cannot open the SQLite database: " + why);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    execute("PRAGMA foreign_keys = ON");
    if (path != ":memory:" && !path.empty()) {
      // Write-ahead log: readers do not block the writer, nor it them.
      // Switching to it needs the file to itself, and SQLite answers "busy"
      // at once, without its busy handler, while another connection opens
      // or switches the same new file: several shards starting together.
      for (int waited_ms = 0;; waited_ms += 10) {
        try {
          (void)query("PRAGMA journal_mode = WAL", {});
          break;
        } catch (const StoreError&) {
          const int code = sqlite3_errcode(db_) & 0xff;
          if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || waited_ms >= busy_timeout_ms) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    }
  }

  ~SqliteConnection() override {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }

  [[nodiscard]] SqlDialect dialect() const noexcept override { return SqlDialect::sqlite; }

  void execute(const std::string& sql) override {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string why = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw StoreError("results store '" + name_ + "': " + why + " (in: " + first_line(sql) + ")");
    }
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* s = statement(sql);
    const Reset reset{s};
    bind(s, sql, params);
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(sql);
      SqlRow row;
      const int columns = sqlite3_column_count(s);
      for (int i = 0; i < columns; ++i) {
        switch (sqlite3_column_type(s, i)) {
          case SQLITE_INTEGER: row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(s, i))); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(s, i)); break;
          case SQLITE_NULL: row.emplace_back(nullptr); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
            row.emplace_back(std::string(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(s, i))));
          }
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::optional<std::int64_t> insert(const std::string& sql, const std::vector<SqlValue>& params) override {
    (void)query(sql, params);
    if (sqlite3_changes(db_) == 0) return std::nullopt;
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  }

  void begin() override { execute("BEGIN IMMEDIATE"); }
  void lock_schema() override {}

 private:
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  static std::string first_line(const std::string& sql) { return sql.substr(0, sql.find('\n')); }

  [[noreturn]] void fail(const std::string& sql) const {
    throw StoreError("results store '" + name_ + "': " + sqlite3_errmsg(db_) + " (in: " + first_line(sql) + ")");
  }

  /// The prepared statement of `sql`, made once per connection.
  sqlite3_stmt* statement(const std::string& sql) {
    if (const auto it = statements_.find(sql); it != statements_.end()) return it->second;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()) + 1, &s, nullptr) != SQLITE_OK) fail(sql);
    statements_.emplace(sql, s);
    return s;
  }

  void bind(sqlite3_stmt* s, const std::string& sql, const std::vector<SqlValue>& params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(s)) {
      throw StoreError("results store '" + name_ + "': " + std::to_string(params.size()) + " values for " +
                       std::to_string(sqlite3_bind_parameter_count(s)) + " parameters (in: " + first_line(sql) + ")");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(s, at, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        // A NaN or infinity is NULL, as in PostgreSQL's engine.
        rc = std::isfinite(*d) ? sqlite3_bind_double(s, at, *d) : sqlite3_bind_null(s, at);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(s, at, t->data(), t->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else if (std::holds_alternative<SqlExpression>(v)) {
        throw StoreError("results store '" + name_ + "': an SQL expression cannot be bound as a value");
      } else {
        rc = sqlite3_bind_null(s, at);
      }
      if (rc != SQLITE_OK) fail(sql);
    }
  }

  sqlite3* db_ = nullptr;
  std::string name_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace accelbench::detail
