#pragma once

// The vocabulary of the .safetensors format
// (https://github.com/huggingface/safetensors) that safetensors.hpp reads and
// writes: its error type, a tensor's header entry, the dtypes with their
// sizes (the half-precision types' conversions to float are in
// detail/half.hpp).

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../detail/half.hpp"

namespace accelbench {

static_assert(std::endian::native == std::endian::little,
              "safetensors.hpp reads and writes tensor data in place: it assumes a little-endian host");

/// A .safetensors file that cannot be read as asked. `what()` starts with the
/// file's path, then names the tensor or header field and the bad value.
class SafetensorsError : public std::runtime_error {
 public:
  SafetensorsError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(path.string() + ": " + problem), path_(path) {}

  /// The file the error is about.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// One tensor's entry in a safetensors header. `begin` and `end` are byte
/// offsets from the start of the data buffer.
struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  /// The number of elements: the product of the shape (1 for a 0-D tensor).
  [[nodiscard]] std::int64_t elements() const noexcept {
    if (std::ranges::find(shape, 0) != shape.end()) return 0;
    std::int64_t n = 1;
    for (const std::int64_t d : shape) n *= d;
    return n;
  }
};

/// Headers longer than this are refused (as by the reference implementation).
inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;

namespace detail {

enum class SafetensorsKind { boolean, unsigned_integer, signed_integer, floating, float8 };

struct SafetensorsDtype {
  std::string_view name;
  std::size_t size;
  SafetensorsKind kind;
};

inline constexpr std::array<SafetensorsDtype, 15> safetensors_dtypes{{
    {"BOOL", 1, SafetensorsKind::boolean},
    {"U8", 1, SafetensorsKind::unsigned_integer},
    {"I8", 1, SafetensorsKind::signed_integer},
    {"F8_E4M3", 1, SafetensorsKind::float8},
    {"F8_E5M2", 1, SafetensorsKind::float8},
    {"I16", 2, SafetensorsKind::signed_integer},
    {"U16", 2, SafetensorsKind::unsigned_integer},
    {"F16", 2, SafetensorsKind::floating},
    {"BF16", 2, SafetensorsKind::floating},
    {"I32", 4, SafetensorsKind::signed_integer},
    {"U32", 4, SafetensorsKind::unsigned_integer},
    {"F32", 4, SafetensorsKind::floating},
    {"F64", 8, SafetensorsKind::floating},
    {"I64", 8, SafetensorsKind::signed_integer},
    {"U64", 8, SafetensorsKind::unsigned_integer},
}};

/// The dtype named `name`, or nullptr.
[[nodiscard]] constexpr const SafetensorsDtype* find_safetensors_dtype(std::string_view name) noexcept {
  for (const auto& d : safetensors_dtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

[[nodiscard]] inline std::string safetensors_dtype_list() {
  std::string out;
  for (const auto& d : safetensors_dtypes) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

[[nodiscard]] inline std::string format_shape(std::span<const std::int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

/// A JSON value as text for an error message, shortened when long.
[[nodiscard]] inline std::string short_json(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr std::size_t limit = 80;
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

template <class T>
[[nodiscard]] T load_unaligned(const unsigned char* p) noexcept {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace detail

}  // namespace accelbench
