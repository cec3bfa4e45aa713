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

  /// A positive dimension no larger than dimension_limit(f), so that the
  /// sizes and parameter counts computed from the dimensions fit in 64 bits.
  void positive(std::string_view f, int v) const {
    if (v <= 0) fail(f, std::to_string(v), "must be positive");
    if (v > dimension_limit(f)) {
      fail(f, std::to_string(v),
           "must be at most " + std::to_string(dimension_limit(f)) +
               " (the sizes and parameter counts computed from it would overflow)");
    }
  }

  /// The largest value of a dimension named `f` ("text.layers" as "layers"):
  /// 4096 layers, 2^16 pixels, channels or mel bins, 2^20 for widths (hidden,
  /// intermediate, heads, projection), 2^24 for the rest (vocabularies,
  /// positions). With these bounds every product of dimensions the library
  /// computes fits in 64 bits.
  [[nodiscard]] static int dimension_limit(std::string_view f) noexcept {
    if (const auto dot = f.rfind('.'); dot != std::string_view::npos) f.remove_prefix(dot + 1);
    if (f.ends_with("layers")) return 4096;
    if (f == "image_size" || f == "patch_size" || f == "channels" || f == "mel_bins") return 1 << 16;
    if (f.ends_with("hidden") || f.ends_with("intermediate") || f.ends_with("heads") || f == "projection_dim") {
      return 1 << 20;
    }
    return 1 << 24;
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
