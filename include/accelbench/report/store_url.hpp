#pragma once

// Where a results store is: its URL read (a SQLite file, or a PostgreSQL
// server) and written back in messages with its password masked.

#include <cctype>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "../detail/rng.hpp"
#include "store_sql.hpp"

namespace accelbench::detail {

/// A store's engine and what it opens: a file path (SQLite) or the URL
/// itself (PostgreSQL, as libpq reads it).
struct StoreLocation {
  SqlDialect dialect = SqlDialect::sqlite;
  std::string target;
};

/// `url` with its password written as "***": the user:password@ of a URL,
/// and any password=... option.
[[nodiscard]] inline std::string masked_store_url(std::string_view url) {
  std::string out(url);
  if (const std::size_t scheme = out.find("://"); scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t end = out.find_first_of("/?", start);
    const std::size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (std::size_t at = 0; (at = out.find("password=", at)) != std::string::npos;) {
    const std::size_t value = at + 9;
    const std::size_t end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    at = value + 3;
  }
  return out;
}

/// Reads a store URL: postgresql://... or postgres://... (PostgreSQL);
/// sqlite:PATH or sqlite://PATH (SQLite, PATH ":memory:" for a store in
/// memory); any other text without a scheme is a SQLite file's path.
/// Throws StoreError for an empty URL or an unknown scheme.
[[nodiscard]] inline StoreLocation parse_store_url(const std::string& url) {
  if (url.empty()) throw StoreError("results store: the URL is empty (give a file path or postgresql://...)");
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return {SqlDialect::postgresql, url};
  if (url.starts_with("sqlite:")) {
    std::string path = url.substr(7);
    if (path.starts_with("//")) path = path.substr(2);
    if (path.empty()) throw StoreError("results store '" + url + "': no file path after sqlite:");
    return {SqlDialect::sqlite, path};
  }
  if (const std::size_t scheme = url.find("://"); scheme != std::string::npos && scheme > 0) {
    bool word = std::isalpha(static_cast<unsigned char>(url[0])) != 0;
    for (std::size_t i = 0; i < scheme; ++i) {
      const unsigned char ch = static_cast<unsigned char>(url[i]);
      word = word && (std::isalnum(ch) || ch == '+' || ch == '-' || ch == '.');
    }
    if (word) {
      throw StoreError("results store '" + masked_store_url(url) + "': unknown scheme '" + url.substr(0, scheme) +
                       "' (known: a file path, sqlite:PATH, postgresql://...)");
    }
  }
  return {SqlDialect::sqlite, url};
}

/// 64 bits that differ from run to run (a live run's identity in the store).
[[nodiscard]] inline std::uint64_t random_run_bits() {
  std::random_device device;
  const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return mix64((static_cast<std::uint64_t>(device()) << 32 | device()) ^ now);
}

}  // namespace accelbench::detail
