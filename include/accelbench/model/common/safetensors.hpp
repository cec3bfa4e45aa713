#pragma once

// Reading .safetensors checkpoints
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header naming each tensor's dtype, shape
// and byte range, then the data buffer. Opening a file reads and validates the
// header only; each tensor is read from disk when it is asked for. The
// format's vocabulary (dtypes, header entries, errors) is in
// safetensors_format.hpp, the writer in safetensors_writer.hpp.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../detail/atomic_file.hpp"
#include "../../core/json.hpp"
#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "safetensors_format.hpp"
#include "safetensors_writer.hpp"
#include "weights.hpp"

namespace accelbench {

/// A safetensors file whose header has been read and validated. Tensors are
/// read from disk on request; the object holds no open file, so it may be
/// copied and read from several threads.
class SafetensorsFile {
 public:
  /// Reads and validates the header of the file at `path`; throws
  /// SafetensorsError naming the problem. No tensor data is read.
  [[nodiscard]] static SafetensorsFile open(const std::filesystem::path& path) {
    SafetensorsFile file;
    file.path_ = path;
    file.load_header();
    return file;
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// Every tensor, in the order of their byte ranges.
  [[nodiscard]] const std::vector<SafetensorsTensorInfo>& tensors() const noexcept { return tensors_; }

  /// The header's "__metadata__" (empty when it has none).
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

  [[nodiscard]] bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }

  /// The named tensor's entry; throws SafetensorsError naming the missing
  /// tensor and some of the names present.
  [[nodiscard]] const SafetensorsTensorInfo& info(std::string_view name) const {
    const auto it = index_.find(name);
    if (it != index_.end()) return tensors_[it->second];
    std::string problem = "no tensor named '" + std::string(name) + "'";
    if (index_.empty()) throw SafetensorsError(path_, problem + "; the file has no tensors");
    problem += "; the file has " + std::to_string(index_.size()) + " tensor" + (index_.size() == 1 ? "" : "s") + ": ";
    constexpr std::size_t shown = 8;
    std::size_t i = 0;
    for (const auto& [present, _] : index_) {
      if (i == shown) break;
      problem += (i++ == 0 ? "'" : ", '") + present + "'";
    }
    if (index_.size() > shown) problem += ", ... (" + std::to_string(index_.size() - shown) + " more)";
    throw SafetensorsError(path_, problem);
  }

  /// An F32, F16, BF16 or F64 tensor converted to float (F64 is rounded). A
  /// 0-D or 1-D tensor of n elements becomes [1, n], a 2-D one keeps its
  /// shape, an N-D one becomes [product of all but the last dimension, last].
  /// Other dtypes are an error naming the dtype.
  [[nodiscard]] HostMatrix read_matrix(std::string_view name) const {
    const SafetensorsTensorInfo& t = info(name);
    const detail::SafetensorsDtype& dtype = *detail::find_safetensors_dtype(t.dtype);
    if (dtype.kind != detail::SafetensorsKind::floating) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': dtype " + t.dtype +
                                        " cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
    }
    const auto [rows, cols] = matrix_shape(t);
    HostMatrix m(rows, cols);
    const auto n = static_cast<std::size_t>(m.size());
    if (t.dtype == "F32") {
      read_bytes(t, reinterpret_cast<char*>(m.data()));
      return m;
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(t.end - t.begin));
    read_bytes(t, reinterpret_cast<char*>(bytes.data()));
    float* out = m.data();
    if (t.dtype == "F16") {
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = detail::f16_bits_to_float(detail::load_unaligned<std::uint16_t>(bytes.data() + 2 * i));
      }
    } else if (t.dtype == "BF16") {
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = detail::bf16_bits_to_float(detail::load_unaligned<std::uint16_t>(bytes.data() + 2 * i));
      }
    } else {  // F64
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(detail::load_unaligned<double>(bytes.data() + 8 * i));
      }
    }
    return m;
  }

  /// An F16 or BF16 tensor's values as stored, shaped as by read_matrix;
  /// other dtypes are an error naming the dtype.
  [[nodiscard]] HalfBitsMatrix read_half(std::string_view name) const {
    const SafetensorsTensorInfo& t = info(name);
    if (t.dtype != "F16" && t.dtype != "BF16") {
      throw SafetensorsError(path_, "tensor '" + t.name + "': dtype " + t.dtype +
                                        " is not a 16-bit float; read_half reads F16 and BF16");
    }
    const auto [rows, cols] = matrix_shape(t);
    HalfBitsMatrix m(rows, cols);
    read_bytes(t, reinterpret_cast<char*>(m.data()));
    return m;
  }

  /// read_matrix(name), after checking that the tensor's shape is exactly
  /// `expected_shape` (the error shows both shapes).
  [[nodiscard]] HostMatrix read_matrix(std::string_view name, std::span<const std::int64_t> expected_shape) const {
    const SafetensorsTensorInfo& t = info(name);
    if (!std::ranges::equal(t.shape, expected_shape)) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': shape = " + detail::format_shape(t.shape) +
                                        ", expected " + detail::format_shape(expected_shape));
    }
    return read_matrix(name);
  }

  /// An integer or BOOL tensor (I8, I16, I32, I64, U8, U16, U32, U64, BOOL)
  /// as int32, flattened in row-major order; BOOL gives 0 and 1. A value out
  /// of the int32 range is an error naming the tensor and the element's
  /// index; a floating-point dtype is an error naming the dtype.
  [[nodiscard]] std::vector<std::int32_t> read_indices(std::string_view name) const {
    const SafetensorsTensorInfo& t = info(name);
    const detail::SafetensorsDtype& dtype = *detail::find_safetensors_dtype(t.dtype);
    if (dtype.kind == detail::SafetensorsKind::floating || dtype.kind == detail::SafetensorsKind::float8) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': dtype " + t.dtype +
                                        " is not an integer dtype; read_indices reads I8, I16, I32, I64, U8, U16, "
                                        "U32, U64 and BOOL");
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(t.end - t.begin));
    read_bytes(t, reinterpret_cast<char*>(bytes.data()));
    const auto n = static_cast<std::size_t>(t.elements());
    std::vector<std::int32_t> out(n);
    if (dtype.kind == detail::SafetensorsKind::boolean) {
      for (std::size_t i = 0; i < n; ++i) out[i] = bytes[i] != 0 ? 1 : 0;
      return out;
    }
    auto convert = [&]<class T>(T /*tag*/) {
      for (std::size_t i = 0; i < n; ++i) {
        const T v = detail::load_unaligned<T>(bytes.data() + sizeof(T) * i);
        if (!std::in_range<std::int32_t>(v)) {
          throw SafetensorsError(path_, "tensor '" + t.name + "': element " + std::to_string(i) + " = " +
                                            std::to_string(v) + " (" + t.dtype + ") is outside the int32 range");
        }
        out[i] = static_cast<std::int32_t>(v);
      }
    };
    if (t.dtype == "U8") convert(std::uint8_t{});
    else if (t.dtype == "I8") convert(std::int8_t{});
    else if (t.dtype == "I16") convert(std::int16_t{});
    else if (t.dtype == "U16") convert(std::uint16_t{});
    else if (t.dtype == "I32") convert(std::int32_t{});
    else if (t.dtype == "U32") convert(std::uint32_t{});
    else if (t.dtype == "I64") convert(std::int64_t{});
    else convert(std::uint64_t{});  // U64
    return out;
  }

 private:
  SafetensorsFile() = default;

  [[noreturn]] void fail(const std::string& problem) const { throw SafetensorsError(path_, problem); }

  /// Offset of the data buffer in the file: 8 + header length.
  std::uint64_t data_start_ = 0;
  std::filesystem::path path_;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;

  /// Reads tensor t's bytes into `out` (end - begin bytes).
  /// A tensor's shape as a matrix: [1, n] for 0-D and 1-D, the product of
  /// the leading dimensions by the last for more.
  static std::pair<Eigen::Index, Eigen::Index> matrix_shape(const SafetensorsTensorInfo& t) {
    Eigen::Index rows = 1;
    Eigen::Index cols = 1;
    if (!t.shape.empty()) {
      cols = static_cast<Eigen::Index>(t.shape.back());
      for (std::size_t i = 0; i + 1 < t.shape.size(); ++i) rows *= static_cast<Eigen::Index>(t.shape[i]);
    }
    return {rows, cols};
  }

  void read_bytes(const SafetensorsTensorInfo& t, char* out) const {
    const std::uint64_t count = t.end - t.begin;
    if (count == 0) return;
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("tensor '" + t.name + "': cannot open the file for reading");
    in.seekg(static_cast<std::streamoff>(data_start_ + t.begin));
    in.read(out, static_cast<std::streamsize>(count));
    if (!in || static_cast<std::uint64_t>(in.gcount()) != count) {
      fail("tensor '" + t.name + "': cannot read bytes [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           ") of the data buffer (has the file changed since it was opened?)");
    }
  }

  void load_header() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::uintmax_t file_size = fs::file_size(path_, ec);
    if (ec) fail("cannot read the file: " + ec.message());
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("cannot open the file for reading");
    if (file_size < 8) {
      fail("file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length field");
    }
    std::array<unsigned char, 8> prefix{};
    if (!in.read(reinterpret_cast<char*>(prefix.data()), 8)) fail("cannot read the 8-byte header length field");
    std::uint64_t header_size = 0;
    for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | prefix[static_cast<std::size_t>(i)];
    if (header_size > safetensors_max_header_bytes) {
      fail("header length = " + std::to_string(header_size) + " bytes is larger than the limit of " +
           std::to_string(safetensors_max_header_bytes) + " bytes");
    }
    if (header_size > file_size - 8) {
      fail("header length = " + std::to_string(header_size) + " bytes is past the end of the file: only " +
           std::to_string(file_size - 8) + " bytes follow the 8-byte length field");
    }
    std::string text(static_cast<std::size_t>(header_size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(header_size))) fail("cannot read the header");
    data_start_ = 8 + header_size;
    parse_header(text, file_size - data_start_);
  }

  void parse_header(const std::string& text, std::uint64_t buffer_size) {
    using nlohmann::json;
    // nlohmann keeps the last of repeated keys; a repeated tensor name is an
    // error, so the top-level keys are collected while parsing.
    std::map<std::string, int, std::less<>> seen;
    std::string repeated;
    const json::parser_callback_t watch_keys = [&](int depth, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (++seen[key] == 2 && repeated.empty()) repeated = key;
      }
      return true;
    };
    json header;
    try {
      header = detail::parse_json_text<json>(text, watch_keys);
    } catch (const JsonTextError& e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) {
      fail(std::string("header is a JSON ") + header.type_name() + " (" + detail::short_json(header) +
           "), expected an object");
    }
    if (!repeated.empty()) fail("tensor '" + repeated + "' appears more than once in the header");

    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        parse_metadata(entry);
        continue;
      }
      tensors_.push_back(parse_entry(name, entry, buffer_size));
    }

    std::ranges::sort(tensors_, [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
      return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    // Non-empty byte ranges must be disjoint: in begin order, each must start
    // at or after the furthest end seen so far.
    const SafetensorsTensorInfo* furthest = nullptr;
    for (const auto& t : tensors_) {
      if (t.begin == t.end) continue;
      if (furthest != nullptr && t.begin < furthest->end) {
        fail("tensors '" + furthest->name + "' (data_offsets = [" + std::to_string(furthest->begin) + ", " +
             std::to_string(furthest->end) + "]) and '" + t.name + "' (data_offsets = [" + std::to_string(t.begin) +
             ", " + std::to_string(t.end) + "]) have overlapping byte ranges");
      }
      if (furthest == nullptr || t.end > furthest->end) furthest = &t;
    }
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  }

  void parse_metadata(const nlohmann::json& entry) {
    if (!entry.is_object()) {
      fail("__metadata__ = " + detail::short_json(entry) + ": expected an object of strings");
    }
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string()) {
        fail("__metadata__['" + key + "'] = " + detail::short_json(value) + ": expected a string");
      }
      metadata_.emplace(key, value.get<std::string>());
    }
  }

  [[nodiscard]] SafetensorsTensorInfo parse_entry(const std::string& name, const nlohmann::json& entry,
                                                  std::uint64_t buffer_size) const {
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) {
      fail(where + "entry = " + detail::short_json(entry) + ": expected an object with dtype, shape and data_offsets");
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(field)) fail(where + "missing field '" + field + "'");
    }
    SafetensorsTensorInfo t;
    t.name = name;

    const auto& dtype = entry.at("dtype");
    if (!dtype.is_string()) fail(where + "dtype = " + detail::short_json(dtype) + ": expected a string");
    t.dtype = dtype.get<std::string>();
    const detail::SafetensorsDtype* known = detail::find_safetensors_dtype(t.dtype);
    if (known == nullptr) {
      fail(where + "dtype = \"" + t.dtype + "\": unknown dtype; known dtypes: " + detail::safetensors_dtype_list());
    }

    const auto& shape = entry.at("shape");
    if (!shape.is_array()) fail(where + "shape = " + detail::short_json(shape) + ": expected an array of integers");
    for (std::size_t i = 0; i < shape.size(); ++i) {
      const auto& d = shape[i];
      const std::string field = where + "shape[" + std::to_string(i) + "] = " + detail::short_json(d);
      if (d.is_number_unsigned()) {
        const auto v = d.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail(field + ": dimension too large");
        }
        t.shape.push_back(static_cast<std::int64_t>(v));
      } else if (d.is_number_integer()) {
        fail(field + ": negative dimension");  // a signed integer that is not unsigned is negative
      } else {
        fail(field + ": expected a non-negative integer");
      }
    }
    // The product of the non-zero dimensions must fit in int64, so that no
    // partial product (rows of an N-D tensor, elements()) overflows, even
    // for an empty tensor.
    std::int64_t nonzero_product = 1;
    bool has_zero = false;
    for (const std::int64_t d : t.shape) {
      if (d == 0) {
        has_zero = true;
      } else if (nonzero_product > std::numeric_limits<std::int64_t>::max() / d) {
        fail(where + "shape = " + detail::format_shape(t.shape) +
             ": dimensions too large (their product, zeros left out, exceeds 2^63 - 1)");
      } else {
        nonzero_product *= d;
      }
    }
    const auto elements = has_zero ? std::uint64_t{0} : static_cast<std::uint64_t>(nonzero_product);

    const auto& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail(where + "data_offsets = " + detail::short_json(offsets) +
           ": expected two non-negative integers [begin, end]");
    }
    t.begin = offsets[0].get<std::uint64_t>();
    t.end = offsets[1].get<std::uint64_t>();
    const std::string range = "data_offsets = [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin > t.end) fail(where + range + ": begin is after end");
    if (t.end > buffer_size) {
      fail(where + range + ": end is past the end of the data buffer (" + std::to_string(buffer_size) + " bytes)");
    }
    const std::uint64_t bytes = t.end - t.begin;
    if (elements > std::numeric_limits<std::uint64_t>::max() / known->size || elements * known->size != bytes) {
      fail(where + "dtype " + t.dtype + " with shape " + detail::format_shape(t.shape) + " needs " +
           std::to_string(elements) + " x " + std::to_string(known->size) + " bytes, but " + range + " holds " +
           std::to_string(bytes) + " bytes: dtype or shape does not match the byte range");
    }
    return t;
  }
};

/// Every floating-point tensor of `file`, shaped as by
/// SafetensorsFile::read_matrix: F32 and F64 as float, F16 and BF16 kept as
/// stored (a model takes them as floats, or unconverted at their own
/// precision). Integer and BOOL tensors (such as position id buffers) are
/// left out; an F8 tensor is an error, as it cannot be converted.
[[nodiscard]] inline WeightMap read_weights(const SafetensorsFile& file) {
  WeightMap weights;
  for (const auto& t : file.tensors()) {
    const auto kind = detail::find_safetensors_dtype(t.dtype)->kind;
    if (t.dtype == "F16" || t.dtype == "BF16") {
      weights.insert(t.name, HalfTensor{t.dtype == "F16" ? Precision::fp16 : Precision::bf16, file.read_half(t.name)});
    } else if (kind == detail::SafetensorsKind::floating || kind == detail::SafetensorsKind::float8) {
      weights.insert(t.name, file.read_matrix(t.name));
    }
  }
  return weights;
}

}  // namespace accelbench
