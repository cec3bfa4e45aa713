#pragma once

// The Timer policy: how one sample is taken. docs/concepts.md shows a minimal type.

#include <concepts>
#include <string_view>

namespace accelbench {

/// Takes one sample: start() before the operation, stop() after the backend
/// has been synchronised, returning the elapsed seconds.
template <class T>
concept Timer = std::movable<T> && requires(T& t) {
  { T::name } -> std::convertible_to<std::string_view>;
  { t.start() };
  { t.stop() } -> std::same_as<double>;
};

}  // namespace accelbench
