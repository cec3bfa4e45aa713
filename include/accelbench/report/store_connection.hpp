#pragma once

// One connection to a results store, as each of its engines provides it
// (store_sqlite.hpp, store_postgres.hpp), and the values it reads back.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "store_sql.hpp"

namespace accelbench::detail {

/// The integer of a value read back (0 for NULL; text is parsed).
[[nodiscard]] inline std::int64_t int_of(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  return 0;
}

/// The text of a value read back ("" for NULL).
[[nodiscard]] inline std::string text_of(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return sql_literal(*d);
  return {};
}

[[nodiscard]] inline bool is_null(const SqlValue& v) { return std::holds_alternative<std::nullptr_t>(v); }

/// One connection to a store, as each engine provides it. Not for use by
/// several threads at once (ResultStore serialises its calls).
class StoreConnection {
 public:
  StoreConnection() = default;
  StoreConnection(const StoreConnection&) = delete;
  StoreConnection& operator=(const StoreConnection&) = delete;
  virtual ~StoreConnection() = default;

  [[nodiscard]] virtual SqlDialect dialect() const noexcept = 0;
  /// Runs SQL without parameters and without rows (schema, COMMIT, ROLLBACK).
  virtual void execute(const std::string& sql) = 0;
  /// Runs one statement with `params` bound to its `?`s; its rows.
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  /// Runs one INSERT with `params` bound; the new row's id, or nullopt when
  /// its conflict clause left the row out.
  virtual std::optional<std::int64_t> insert(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  /// Begins a transaction that will write (SQLite takes the write lock now,
  /// so that two writers wait for each other instead of failing later).
  virtual void begin() = 0;
  /// Inside a transaction: waits until no other connection is migrating
  /// the schema (PostgreSQL; SQLite's write lock already does it).
  virtual void lock_schema() = 0;
};

}  // namespace accelbench::detail
