#pragma once

// The results store's PostgreSQL engine (libpq), for a store that several
// machines share: postgresql://USER:PASSWORD@HOST:PORT/DATABASE?OPTIONS, as
// libpq reads it. Compiled where ACCELBENCH_WITH_POSTGRESQL is defined
// (accelbench::store defines it when CMake finds libpq).

#ifdef ACCELBENCH_WITH_POSTGRESQL

#include <libpq-fe.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "store_connection.hpp"
#include "store_sql.hpp"

namespace accelbench::detail {

class PostgresConnection final : public StoreConnection {
 public:
  /// The key of the advisory lock that migrations hold (any number that
  /// other programs on the same database are unlikely to use).
  static constexpr long long schema_lock_key = 0x616363656c62LL;  // "accelb"

  /// Connects to `url`; `name` (the URL, password masked) is how errors name the store.
  PostgresConnection(const std::string& url, std::string name) : name_(std::move(name)) {
    conn_ = PQconnectdb(url.c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw StoreError("results store '" + name_ + "': cannot connect to PostgreSQL: " + why);
    }
    // The server's notices ("relation already exists, skipping") are not for the user.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    execute("SET client_encoding = 'UTF8'");
  }

  ~PostgresConnection() override { PQfinish(conn_); }

  [[nodiscard]] SqlDialect dialect() const noexcept override { return SqlDialect::postgresql; }

  void execute(const std::string& sql) override {
    const Result r{PQexec(conn_, sql.c_str())};
    check(r.get(), sql);
  }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    return rows_of(run(sql, params), sql);
  }

  std::optional<std::int64_t> insert(const std::string& sql, const std::vector<SqlValue>& params) override {
    const std::vector<SqlRow> rows = rows_of(run(sql + " RETURNING id", params), sql);
    if (rows.empty()) return std::nullopt;
    return int_of(rows.front().front());
  }

  void begin() override { execute("BEGIN"); }
  void lock_schema() override {
    (void)query("SELECT pg_advisory_xact_lock(" + std::to_string(schema_lock_key) + ")", {});
  }

 private:
  // Type OIDs of the server's catalog (pg_type), fixed since PostgreSQL 7.
  static constexpr Oid bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, float4_oid = 700,
                       float8_oid = 701, numeric_oid = 1700;

  struct Result {
    PGresult* r;
    explicit Result(PGresult* result) : r(result) {}
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result(Result&& other) noexcept : r(std::exchange(other.r, nullptr)) {}
    ~Result() { PQclear(r); }
    [[nodiscard]] PGresult* get() const noexcept { return r; }
  };

  static std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  static std::string first_line(const std::string& sql) { return sql.substr(0, sql.find('\n')); }

  void check(PGresult* r, const std::string& sql) const {
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const std::string why = r ? trimmed(PQresultErrorMessage(r)) : trimmed(PQerrorMessage(conn_));
    throw StoreError("results store '" + name_ + "': " + why + " (in: " + first_line(sql) + ")");
  }

  /// Prepares `sql` once per connection (its `?`s numbered $1, $2, ...) and
  /// runs it with `params` bound, as text the server converts to each
  /// parameter's type.
  Result run(const std::string& sql, const std::vector<SqlValue>& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      const std::string name = "accelbench_" + std::to_string(prepared_.size() + 1);
      const std::string numbered = numbered_parameters(sql);
      const Result r{PQprepare(conn_, name.c_str(), numbered.c_str(), 0, nullptr)};
      check(r.get(), sql);
      it = prepared_.emplace(sql, name).first;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        texts[i] = std::to_string(*n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (!std::isfinite(*d)) continue;  // NULL, as in SQLite's engine
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", *d);
        texts[i] = buf;
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        texts[i] = *t;
      } else if (std::holds_alternative<SqlExpression>(v)) {
        throw StoreError("results store '" + name_ + "': an SQL expression cannot be bound as a value");
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    Result r{PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()), values.data(), nullptr,
                            nullptr, 0)};
    check(r.get(), sql);
    return r;
  }

  static std::vector<SqlRow> rows_of(const Result& result, const std::string&) {
    PGresult* r = result.get();
    std::vector<SqlRow> rows;
    const int n = PQntuples(r);
    const int columns = PQnfields(r);
    for (int row = 0; row < n; ++row) {
      SqlRow values;
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(r, row, c)) {
          values.emplace_back(nullptr);
          continue;
        }
        const char* text = PQgetvalue(r, row, c);
        switch (PQftype(r, c)) {
          case int2_oid:
          case int4_oid:
          case int8_oid: values.emplace_back(static_cast<std::int64_t>(std::strtoll(text, nullptr, 10))); break;
          case float4_oid:
          case float8_oid:
          case numeric_oid: values.emplace_back(std::strtod(text, nullptr)); break;
          case bool_oid: values.emplace_back(std::int64_t{text[0] == 't' ? 1 : 0}); break;
          default: values.emplace_back(std::string(text, static_cast<std::size_t>(PQgetlength(r, row, c))));
        }
      }
      rows.push_back(std::move(values));
    }
    return rows;
  }

  PGconn* conn_ = nullptr;
  std::string name_;
  std::map<std::string, std::string> prepared_;  ///< SQL -> name of its prepared statement
};

}  // namespace accelbench::detail

#endif  // ACCELBENCH_WITH_POSTGRESQL
