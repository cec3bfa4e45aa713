#pragma once

// The 16-bit floating-point formats of checkpoints and of weights stored at
// half precision: IEEE 754 binary16 ("fp16", 5 exponent and 10 mantissa
// bits) and bfloat16 ("bf16", the upper 16 bits of a float: 8 exponent and 7
// mantissa bits), to and from float. From float both round to nearest, ties
// to even, as the CPU's conversion instructions do; a NaN stays a (quiet)
// NaN, and a value past the format's largest becomes an infinity.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace accelbench::detail {

/// IEEE 754 binary16 to float, exactly: subnormals, infinities and NaN
/// payloads included.
[[nodiscard]] constexpr float f16_bits_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1fu) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // infinity or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal: mantissa * 2^-24, normalised for float.
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

/// bfloat16 to float: the upper 16 bits of a float.
[[nodiscard]] constexpr float bf16_bits_to_float(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

/// Float to IEEE 754 binary16, rounded to nearest with ties to even.
[[nodiscard]] constexpr std::uint16_t float_to_f16_bits(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {  // NaN: quiet, with the payload's upper bits
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  // 65520 (halfway between the largest binary16, 65504, and 65536) and
  // above round to infinity: the tie goes to the even side, which is 65536.
  if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (magnitude >= 0x38800000u) {  // a normal binary16 (2^-14 and above)
    // Round the 13 bits dropped from the mantissa (a carry into the
    // exponent is the right result), then rebias 127 -> 15.
    const std::uint32_t rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  // Subnormal or zero: a multiple of 2^-24. Adding 0.5 (whose last mantissa
  // bit is worth 2^-24) rounds it so, ties to even; the mantissa of the sum is
  // the multiple, 1024 (the smallest normal) included.
  const float sum = std::bit_cast<float>(magnitude) + 0.5f;
  return static_cast<std::uint16_t>(sign | (std::bit_cast<std::uint32_t>(sum) - 0x3f000000u));
}

/// Float to bfloat16, rounded to nearest with ties to even.
[[nodiscard]] constexpr std::uint16_t float_to_bf16_bits(float f) noexcept {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/// `count` floats at `src` rounded to bf16 (`bf16` true) or fp16 bits at `dst`.
inline void floats_to_half_bits(bool bf16, const float* src, std::uint16_t* dst, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = bf16 ? float_to_bf16_bits(src[i]) : float_to_f16_bits(src[i]);
}

/// `count` bf16 (`bf16` true) or fp16 values at `src` as floats at `dst`.
inline void half_bits_to_floats(bool bf16, const std::uint16_t* src, float* dst, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = bf16 ? bf16_bits_to_float(src[i]) : f16_bits_to_float(src[i]);
}

}  // namespace accelbench::detail
