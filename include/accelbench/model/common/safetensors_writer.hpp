#pragma once

// Writing .safetensors files (the format safetensors.hpp reads): tensors and
// metadata collected, then written whole, atomically.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "../../detail/atomic_file.hpp"
#include "safetensors_format.hpp"

namespace accelbench {

/// Collects tensors and metadata, then writes them as one safetensors file,
/// whole or not at all. Tensors are laid out in the order they were added.
class SafetensorsWriter {
 public:
  /// Adds an F32 tensor with the matrix's values in row-major order. `shape`
  /// defaults to [rows, cols]; when given, its product must equal the
  /// matrix's size (for instance [n] for a 1 x n matrix, or [a, b, c] for an
  /// [a * b, c] matrix).
  void add_float(std::string name, const HostMatrix& value, std::vector<std::int64_t> shape = {}) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(value.rows()), static_cast<std::int64_t>(value.cols())};
    check(name, shape, static_cast<std::int64_t>(value.size()));
    std::string bytes(static_cast<std::size_t>(value.size()) * sizeof(float), '\0');
    if (!bytes.empty()) std::memcpy(bytes.data(), value.data(), bytes.size());
    entries_.push_back(Entry{std::move(name), "F32", std::move(shape), std::move(bytes)});
  }

  /// Adds a 16-bit tensor as stored, BF16 or F16 by `precision` (bf16 or
  /// fp16); `shape` as for add_float.
  void add_half(std::string name, Precision precision, const HalfBitsMatrix& bits, std::vector<std::int64_t> shape = {}) {
    if (precision == Precision::fp32) {
      throw std::invalid_argument("safetensors writer: tensor '" + name + "': precision = fp32: 16-bit values are bf16 or fp16");
    }
    if (shape.empty()) shape = {static_cast<std::int64_t>(bits.rows()), static_cast<std::int64_t>(bits.cols())};
    check(name, shape, static_cast<std::int64_t>(bits.size()));
    std::string bytes(static_cast<std::size_t>(bits.size()) * sizeof(std::uint16_t), '\0');
    if (!bytes.empty()) std::memcpy(bytes.data(), bits.data(), bytes.size());
    entries_.push_back(Entry{std::move(name), precision == Precision::bf16 ? "BF16" : "F16", std::move(shape), std::move(bytes)});
  }

  /// Adds an integer tensor, stored as I32, or as I64 when `as_i64` (the
  /// dtype of token ids in Hugging Face checkpoints). `shape` defaults to
  /// [values.size()]; when given, its product must equal values.size().
  void add_indices(std::string name, std::span<const std::int32_t> values, std::vector<std::int64_t> shape = {},
                   bool as_i64 = false) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(values.size())};
    check(name, shape, static_cast<std::int64_t>(values.size()));
    std::string bytes;
    if (as_i64) {
      bytes.resize(values.size() * sizeof(std::int64_t));
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto v = static_cast<std::int64_t>(values[i]);
        std::memcpy(bytes.data() + i * sizeof v, &v, sizeof v);
      }
    } else if (!values.empty()) {
      bytes.resize(values.size() * sizeof(std::int32_t));
      std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    entries_.push_back(Entry{std::move(name), as_i64 ? "I64" : "I32", std::move(shape), std::move(bytes)});
  }

  /// Sets a "__metadata__" entry, replacing an earlier value of the key.
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  /// The file's bytes: length, header (padded with spaces so that the data
  /// buffer starts at a multiple of 8 bytes), data.
  [[nodiscard]] std::string serialize() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::uint64_t offset = 0;
    for (const auto& e : entries_) {
      header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
      offset += e.bytes.size();
    }
    std::string text;
    try {
      text = header.dump();
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(std::string("safetensors writer: cannot encode the header: ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out;
    out.reserve(8 + text.size() + static_cast<std::size_t>(offset));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xffu));
    out += text;
    for (const auto& e : entries_) out += e.bytes;
    return out;
  }

  /// Writes the file (see detail::write_file_atomically): a reader never sees
  /// a half-written file.
  void write(const std::filesystem::path& path) const { detail::write_file_atomically(path, serialize()); }

 private:
  struct Entry {
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::string bytes;
  };

  void check(const std::string& name, const std::vector<std::int64_t>& shape, std::int64_t elements) const {
    const std::string where = "safetensors writer: tensor '" + name + "': ";
    if (name == "__metadata__") throw std::invalid_argument(where + "the name is reserved for metadata");
    for (const auto& e : entries_) {
      if (e.name == name) throw std::invalid_argument(where + "added twice");
    }
    std::int64_t product = 1;
    for (const std::int64_t d : shape) {
      if (d < 0) throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has a negative dimension");
      if (d != 0 && product > std::numeric_limits<std::int64_t>::max() / d) {
        throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has too many elements");
      }
      product *= d;
    }
    if (product != elements) {
      throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has " + std::to_string(product) +
                                  " elements, the values " + std::to_string(elements));
    }
  }

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace accelbench
