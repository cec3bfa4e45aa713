#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace accelbench {

/// Thrown for a configuration value that cannot be used. `field()` names the
/// offending field as it is written in the configuration (for example
/// `batch_sizes[1]`), `value()` is the value as text, and `what()` is a
/// complete sentence that carries both.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(std::string field, std::string value, const std::string& problem)
      : std::invalid_argument(field + " = " + value + ": " + problem),
        field_(std::move(field)),
        value_(std::move(value)) {}

  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

}  // namespace accelbench
