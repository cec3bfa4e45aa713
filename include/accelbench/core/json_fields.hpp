#pragma once

// Reading the fields of a JSON document the user wrote (a suite file): a
// value of the wrong type or out of range is a ConfigError naming the field
// and the value.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "error.hpp"
#include "json.hpp"

namespace accelbench::detail {

inline std::string json_text(const Json& j) { return j.dump(); }

[[noreturn]] inline void bad_type(const std::string& field, const Json& j, const char* expected) {
  throw ConfigError(field, json_text(j), std::string("expected ") + expected);
}

inline int json_int(const Json& j, const std::string& field) {
  if (!j.is_number_integer()) bad_type(field, j, "an integer");
  // An unsigned value past int64's range would wrap when read as signed.
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    throw ConfigError(field, json_text(j), "out of range");
  }
  const auto v = j.get<std::int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw ConfigError(field, json_text(j), "out of range");
  }
  return static_cast<int>(v);
}

inline double json_number(const Json& j, const std::string& field) {
  if (!j.is_number()) bad_type(field, j, "a number");
  return j.get<double>();
}

inline std::string json_string(const Json& j, const std::string& field) {
  if (!j.is_string()) bad_type(field, j, "a string");
  return j.get<std::string>();
}

inline std::vector<int> json_ints(const Json& j, const std::string& field) {
  if (!j.is_array()) bad_type(field, j, "an array of integers");
  std::vector<int> out;
  for (std::size_t i = 0; i < j.size(); ++i) out.push_back(json_int(j[i], field + "[" + std::to_string(i) + "]"));
  return out;
}

inline std::vector<std::string> json_strings(const Json& j, const std::string& field) {
  if (!j.is_array()) bad_type(field, j, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(json_string(j[i], field + "[" + std::to_string(i) + "]"));
  }
  return out;
}

}  // namespace accelbench::detail
