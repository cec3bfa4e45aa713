#pragma once

// Checks of a model configuration's fields, with errors that name the
// field (under the model's name) and its value.

#include <string>
#include <string_view>
#include <utility>

#include "../../core/error.hpp"

namespace accelbench::detail {

class FieldCheck {
 public:
  /// Fields are named "<prefix>.<field>".
  explicit FieldCheck(std::string prefix) : prefix_(std::move(prefix)) {}

  /// Fields named "<name>.<field>", "model.<field>" for a nameless model.
  [[nodiscard]] static FieldCheck of_model(const std::string& name) {
    return FieldCheck(name.empty() ? std::string("model") : name);
  }

  [[nodiscard]] std::string field(std::string_view f) const { return prefix_ + "." + std::string(f); }

  void positive(std::string_view f, int v) const {
    if (v <= 0) fail(f, std::to_string(v), "must be positive");
  }
  void positive(std::string_view f, float v) const {
    if (!(v > 0)) fail(f, std::to_string(v), "must be positive");
  }
  /// `heads` (the value of field f) must divide `hidden`.
  void divides(std::string_view f, int heads, int hidden) const {
    if (hidden % heads != 0) fail(f, std::to_string(heads), "must divide hidden (" + std::to_string(hidden) + ")");
  }

  [[noreturn]] void fail(std::string_view f, const std::string& value, const std::string& problem) const {
    throw ConfigError(field(f), value, problem);
  }

 private:
  std::string prefix_;
};

}  // namespace accelbench::detail
