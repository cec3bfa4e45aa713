#pragma once

// The loaded model of a family that holds several architectures: one of
// their model classes, chosen once when the model is loaded. A run visits it
// once; nothing inside a forward pass asks which architecture it is.

#include <cstdint>
#include <utility>
#include <variant>

namespace accelbench {

template <class... Models>
class ModelVariant {
 public:
  using Impl = std::variant<Models...>;

  explicit ModelVariant(Impl impl) : impl_(std::move(impl)) {}

  [[nodiscard]] const Impl& impl() const noexcept { return impl_; }

  /// Whether the loaded model is an M.
  template <class M>
  [[nodiscard]] bool holds() const noexcept {
    return std::holds_alternative<M>(impl_);
  }

  [[nodiscard]] std::int64_t parameters() const {
    return std::visit([](const auto& m) -> std::int64_t { return m.parameters(); }, impl_);
  }

  [[nodiscard]] std::uint64_t weight_bytes() const {
    return std::visit([](const auto& m) -> std::uint64_t { return m.weight_bytes(); }, impl_);
  }

 private:
  Impl impl_;
};

}  // namespace accelbench
