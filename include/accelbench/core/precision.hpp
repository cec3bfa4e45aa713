#pragma once

// The precision a model's weights are stored in: fp32, or one of the 16-bit
// formats (detail/half.hpp) that halve the bytes a product reads. Activations
// and accumulation stay fp32 whatever the weights are.

#include <array>
#include <string>
#include <string_view>

#include "error.hpp"

namespace accelbench {

enum class Precision { fp32, bf16, fp16 };

inline constexpr std::array<Precision, 3> all_precisions = {Precision::fp32, Precision::bf16, Precision::fp16};

[[nodiscard]] constexpr std::string_view precision_name(Precision p) noexcept {
  switch (p) {
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
    case Precision::fp32: break;
  }
  return "fp32";
}

/// Bytes per stored weight.
[[nodiscard]] constexpr int precision_bytes(Precision p) noexcept { return p == Precision::fp32 ? 4 : 2; }

/// The largest relative error of rounding one value to the precision
/// (round to nearest): 2^-p with p the significant bits, 2^-24 for fp32,
/// 2^-8 for bf16 and 2^-11 for fp16 (within fp16's normal range).
[[nodiscard]] constexpr double unit_roundoff(Precision p) noexcept {
  switch (p) {
    case Precision::bf16: return 1.0 / 256.0;
    case Precision::fp16: return 1.0 / 2048.0;
    case Precision::fp32: break;
  }
  return 1.0 / 16777216.0;
}

/// "fp32", "bf16" or "fp16" (and PyTorch's names "float32", "bfloat16",
/// "float16"); anything else throws a ConfigError naming `field` and the
/// value.
[[nodiscard]] inline Precision parse_precision(std::string_view value, std::string_view field = "precision") {
  if (value == "fp32" || value == "float32") return Precision::fp32;
  if (value == "bf16" || value == "bfloat16") return Precision::bf16;
  if (value == "fp16" || value == "float16") return Precision::fp16;
  throw ConfigError(std::string(field), "\"" + std::string(value) + "\"", "expected fp32, bf16 or fp16");
}

}  // namespace accelbench
