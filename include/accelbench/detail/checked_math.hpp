#pragma once

// Integer arithmetic on sizes that come from input (sweep values, config.json
// dimensions, file headers, /proc and /sys texts): every product or sum is
// checked before it is used. The checked forms give nothing on overflow; the
// saturating forms give the type's largest value, which no machine has as
// bytes of memory, so that an estimate that overflows is refused as too large.

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>

namespace accelbench::detail {

/// a * b, or nothing when it does not fit in T. (Written out, not with a
/// compiler builtin, so that every compiler of the library, nvcc's front end
/// included, takes it.)
template <std::integral T>
[[nodiscard]] constexpr std::optional<T> checked_mul(T a, T b) noexcept {
  constexpr T max = std::numeric_limits<T>::max();
  constexpr T min = std::numeric_limits<T>::min();
  if (a == 0 || b == 0) return T{0};
  if constexpr (std::is_signed_v<T>) {
    const bool fits = a > 0 ? (b > 0 ? a <= max / b : b >= min / a) : (b > 0 ? a >= min / b : b >= max / a);
    if (!fits) return std::nullopt;
  } else {
    if (a > max / b) return std::nullopt;
  }
  return static_cast<T>(a * b);
}

/// a + b, or nothing when it does not fit in T.
template <std::integral T>
[[nodiscard]] constexpr std::optional<T> checked_add(T a, T b) noexcept {
  constexpr T max = std::numeric_limits<T>::max();
  constexpr T min = std::numeric_limits<T>::min();
  if constexpr (std::is_signed_v<T>) {
    if ((b > 0 && a > max - b) || (b < 0 && a < min - b)) return std::nullopt;
  } else {
    if (a > max - b) return std::nullopt;
  }
  return static_cast<T>(a + b);
}

/// The largest std::uint64_t: a saturated size.
inline constexpr std::uint64_t saturated_size = std::numeric_limits<std::uint64_t>::max();

/// A count as std::uint64_t; a negative count is 0.
template <std::integral T>
[[nodiscard]] constexpr std::uint64_t size_of_count(T v) noexcept {
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) return 0;
  }
  return static_cast<std::uint64_t>(v);
}

/// a * b, or saturated_size when it does not fit.
[[nodiscard]] constexpr std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) noexcept {
  return checked_mul(a, b).value_or(saturated_size);
}

/// a + b, or saturated_size when it does not fit.
[[nodiscard]] constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return checked_add(a, b).value_or(saturated_size);
}

/// The product of counts (negative ones as 0) as std::uint64_t, saturating.
template <std::integral... Ts>
[[nodiscard]] constexpr std::uint64_t saturating_product(Ts... counts) noexcept {
  std::uint64_t r = 1;
  ((r = saturating_mul(r, size_of_count(counts))), ...);
  return r;
}

/// The sum of sizes, saturating.
template <std::same_as<std::uint64_t>... Ts>
[[nodiscard]] constexpr std::uint64_t saturating_sum(Ts... sizes) noexcept {
  std::uint64_t r = 0;
  ((r = saturating_add(r, sizes)), ...);
  return r;
}

/// Decimal digits to an unsigned value; nothing when empty, when a
/// character is not a digit, or when the value does not fit in T.
template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> parse_decimal(std::string_view digits) noexcept {
  if (digits.empty()) return std::nullopt;
  T v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto m = checked_mul<T>(v, T{10});
    if (!m) return std::nullopt;
    const auto a = checked_add<T>(*m, static_cast<T>(c - '0'));
    if (!a) return std::nullopt;
    v = *a;
  }
  return v;
}

}  // namespace accelbench::detail
