#pragma once

// Counter-based random numbers: element i of a stream depends only on the
// stream's seed and i, so synthetic weights and inputs are the same on every
// platform, in any order and on any number of threads.

#include <cstdint>
#include <string_view>

namespace accelbench::detail {

/// SplitMix64's output function (Steele, Lea and Flood, 2014).
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a hash of a string.
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// The seed of the stream named `name` under the global seed `seed`.
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t seed, std::string_view name) noexcept {
  return mix64(seed ^ fnv1a64(name));
}

/// Element i of stream `stream` as 64 random bits.
[[nodiscard]] constexpr std::uint64_t random_bits(std::uint64_t stream, std::uint64_t i) noexcept {
  return mix64(stream + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

/// Element i of stream `stream`, uniform in [0, 1) with 24 bits of precision.
[[nodiscard]] constexpr float random_unit(std::uint64_t stream, std::uint64_t i) noexcept {
  return static_cast<float>(random_bits(stream, i) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace accelbench::detail
