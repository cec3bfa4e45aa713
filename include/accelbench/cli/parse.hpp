#pragma once

// What the commands of `accelbench` share to read their command lines: the
// exit codes, lists and numbers, with errors naming the flag and the value.

#include "../core/error.hpp"

#include <exception>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace accelbench::cli {

/// The exit status of every command.
enum ExitCode : int {
  exit_ok = 0,             ///< done, every cell ok
  exit_runtime_error = 1,  ///< something failed while running (a file, a device, ...)
  exit_usage_error = 2,    ///< a command line or configuration that cannot be used
  exit_not_ok = 3,         ///< done, but some cell (row, comparison) is not ok
  exit_busy = 4,           ///< done, every cell ok, but some measured on a busy machine (--fail-on-busy)
  exit_regression = 5,     ///< regress: some cell of the contender is significantly slower than allowed
  exit_interrupted = 130,  ///< ended by SIGINT or SIGTERM; the results file holds every cell completed
};

/// The footer of every command's --help.
inline constexpr const char* exit_codes_help =
    "exit status: 0 ok, 1 runtime error, 2 usage or configuration error, 3 some cell not ok, "
    "4 some cell measured on a busy machine with run --fail-on-busy, 5 a regression found by regress, "
    "130 interrupted "
    "(SIGINT or SIGTERM: the results file holds every completed cell)";

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
  } catch (const std::out_of_range&) {
    throw ConfigError(flag, text, "number out of the range of a double");
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
