#pragma once

// What the runner's commands share to read their command lines: lists and
// numbers, with errors naming the flag and the value.

#include <accelbench/core/error.hpp>

#include <exception>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace accelbench::cli {

/// A command line that cannot be understood: the usage text follows the message.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The non-empty items of a comma-separated list.
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

inline long long parse_integer(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(flag, "\"" + text + "\"", "expected an integer");
}

inline double parse_number(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(flag, "\"" + text + "\"", "expected a number");
}

inline int parse_int(const std::string& flag, const std::string& text) {
  const long long v = parse_integer(flag, text);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw ConfigError(flag, text, "out of range");
  }
  return static_cast<int>(v);
}

inline std::vector<int> parse_ints(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  for (const auto& item : split(text)) out.push_back(parse_int(flag, item));
  return out;
}

}  // namespace accelbench::cli
