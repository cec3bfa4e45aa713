// The safetensors reader against files written byte by byte here (so they
// do not depend on the writer), the writer by a round trip, and every kind of
// malformed file, each rejected with the path, the field and the value.

#include <doctest/doctest.h>

#include <accelbench/model/common/safetensors.hpp>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

using accelbench::HostMatrix;
using accelbench::SafetensorsError;
using accelbench::SafetensorsFile;
using accelbench::SafetensorsWriter;

namespace {

namespace fs = std::filesystem;

/// A fresh folder under the system's temporary folder, removed at the end.
class TempFolder {
 public:
  TempFolder() {
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("accelbench-safetensors-" + std::to_string(std::random_device{}()) + "-" + std::to_string(ticks));
    fs::create_directories(path_);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  [[nodiscard]] const fs::path& path() const { return path_; }

  /// Writes `bytes` to a file named `name` in the folder.
  fs::path file(const std::string& name, const std::string& bytes) const {
    const fs::path p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
    return p;
  }

 private:
  fs::path path_;
};

/// `value`'s low `count` bytes, least significant first.
std::string le(std::uint64_t value, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
  return out;
}

std::string u16s(std::initializer_list<std::uint16_t> values) {
  std::string out;
  for (const auto v : values) out += le(v, 2);
  return out;
}
std::string f32s(std::initializer_list<float> values) {
  std::string out;
  for (const auto v : values) out += le(std::bit_cast<std::uint32_t>(v), 4);
  return out;
}
std::string f64s(std::initializer_list<double> values) {
  std::string out;
  for (const auto v : values) out += le(std::bit_cast<std::uint64_t>(v), 8);
  return out;
}
std::string i32s(std::initializer_list<std::int32_t> values) {
  std::string out;
  for (const auto v : values) out += le(static_cast<std::uint32_t>(v), 4);
  return out;
}
std::string u32s(std::initializer_list<std::uint32_t> values) {
  std::string out;
  for (const auto v : values) out += le(v, 4);
  return out;
}
std::string i64s(std::initializer_list<std::int64_t> values) {
  std::string out;
  for (const auto v : values) out += le(static_cast<std::uint64_t>(v), 8);
  return out;
}
std::string u64s(std::initializer_list<std::uint64_t> values) {
  std::string out;
  for (const auto v : values) out += le(v, 8);
  return out;
}

/// A safetensors file: the 8-byte length, the header text, the data.
std::string with_header(const std::string& header, const std::string& data) {
  return le(header.size(), 8) + header + data;
}

/// Builds a header by hand: each tensor's bytes are appended to the data
/// buffer and its entry names the range they landed in.
class RawFile {
 public:
  RawFile& tensor(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& bytes) {
    const std::size_t begin = data_.size();
    data_ += bytes;
    entries_.push_back("\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
                       std::to_string(begin) + "," + std::to_string(data_.size()) + "]}");
    return *this;
  }
  /// Unused bytes in the data buffer (allowed).
  RawFile& gap(std::size_t count) {
    data_.append(count, '\x55');
    return *this;
  }
  RawFile& metadata(const std::string& object) {
    entries_.push_back("\"__metadata__\":" + object);
    return *this;
  }
  [[nodiscard]] std::string bytes() const {
    std::string header = "{";
    for (std::size_t i = 0; i < entries_.size(); ++i) header += (i == 0 ? "" : ",") + entries_[i];
    return with_header(header + "}", data_);
  }

 private:
  std::vector<std::string> entries_;
  std::string data_;
};

/// The message of the SafetensorsError `f` throws, or a note that it threw none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "(no SafetensorsError thrown)";
}

/// The message of the error opening `path` gives.
std::string open_error(const fs::path& path) {
  return error_of([&] { (void)SafetensorsFile::open(path); });
}

/// The message of the std::invalid_argument `f` throws.
template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument thrown)";
}

bool same_bits(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

/// A header with one tensor entry `entry` (JSON text) and `data_size` bytes of data.
std::string one_entry(const std::string& entry, std::size_t data_size = 8) {
  return with_header("{\"w\":" + entry + "}", std::string(data_size, '\0'));
}

const std::string known_dtypes = "BOOL, U8, I8, F8_E4M3, F8_E5M2, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64";

/// The good file: every readable dtype, several ranks, a gap, metadata.
std::string good_file() {
  return RawFile{}
      .tensor("w", "F32", "[2,3]", f32s({1.5f, -2.25f, 0.0f, 3.0e38f, -1.0e-40f, 7.0f}))
      .gap(4)
      .tensor("h", "F16", "[3,3]",
              u16s({0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x8000}))
      .tensor("b", "BF16", "[4]", u16s({0x3F80, 0xC0A0, 0xFF80, 0x0001}))
      .tensor("empty", "F32", "[0,3]", "")
      .tensor("d", "F64", "[2]", f64s({0.1, -3.5}))
      .tensor("cube", "F32", "[2,1,2]", f32s({1.0f, 2.0f, 3.0f, 4.0f}))
      .tensor("scalar", "F32", "[]", f32s({42.0f}))
      .tensor("ids", "I32", "[2,2]",
              i32s({0, -1, std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::min()}))
      .tensor("pos", "I64", "[3]", i64s({0, 511, -7}))
      .tensor("u8", "U8", "[3]", std::string("\x00\xc8\xff", 3))
      .tensor("i8", "I8", "[2]", std::string("\x80\x7f", 2))
      .tensor("u16", "U16", "[1]", u16s({0xFFFF}))
      .tensor("mask", "BOOL", "[3]", std::string("\x01\x00\x01", 3))
      .metadata(R"({"format":"pt","note":"caf\u00e9 \u2192 ok"})")
      .bytes();
}

}  // namespace

TEST_CASE("safetensors: a hand-made file is read back exactly") {
  TempFolder folder;
  const fs::path path = folder.file("good.safetensors", good_file());
  const SafetensorsFile file = SafetensorsFile::open(path);
  CHECK(file.path() == path);

  SUBCASE("tensors in offset order, with their entries") {
    std::vector<std::string> names;
    for (const auto& t : file.tensors()) names.push_back(t.name);
    // "empty" has the byte range [b.end, b.end), before "d" at the same begin.
    CHECK(names == std::vector<std::string>{"w", "h", "b", "empty", "d", "cube", "scalar", "ids", "pos", "u8", "i8",
                                            "u16", "mask"});
    const auto& h = file.info("h");
    CHECK(h.name == "h");
    CHECK(h.dtype == "F16");
    CHECK(h.shape == std::vector<std::int64_t>{3, 3});
    CHECK(h.begin == 28);  // 24 bytes of w, a 4-byte gap
    CHECK(h.end == 46);
    CHECK(h.elements() == 9);
    CHECK(file.info("scalar").shape.empty());
    CHECK(file.info("scalar").elements() == 1);
    CHECK(file.info("empty").elements() == 0);
    CHECK(file.info("cube").elements() == 4);
    CHECK(file.contains("ids"));
    CHECK_FALSE(file.contains("id"));
    CHECK(file.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"note", "caf\xc3\xa9 \xe2\x86\x92 ok"}});
  }

  SUBCASE("F32, bit for bit") {
    const HostMatrix w = file.read_matrix("w");
    REQUIRE(w.rows() == 2);
    REQUIRE(w.cols() == 3);
    const float expected[] = {1.5f, -2.25f, 0.0f, 3.0e38f, -1.0e-40f, 7.0f};
    for (int i = 0; i < 6; ++i) CHECK(same_bits(w(i / 3, i % 3), expected[i]));
  }

  SUBCASE("F16: normal, subnormal, largest, infinities, NaN and negative zero") {
    const HostMatrix h = file.read_matrix("h");
    REQUIRE(h.rows() == 3);
    REQUIRE(h.cols() == 3);
    CHECK(same_bits(h(0, 0), 1.0f));
    CHECK(same_bits(h(0, 1), -2.0f));
    CHECK(same_bits(h(0, 2), std::ldexp(1.0f, -24)));     // smallest subnormal
    CHECK(same_bits(h(1, 0), std::ldexp(1023.0f, -24)));  // largest subnormal
    CHECK(same_bits(h(1, 1), 65504.0f));
    CHECK(same_bits(h(1, 2), std::numeric_limits<float>::infinity()));
    CHECK(same_bits(h(2, 0), -std::numeric_limits<float>::infinity()));
    CHECK(std::isnan(h(2, 1)));
    CHECK(h(2, 2) == 0.0f);
    CHECK(std::signbit(h(2, 2)));
  }

  SUBCASE("BF16 is the upper half of a float; F64 is rounded to float") {
    const HostMatrix b = file.read_matrix("b");
    REQUIRE(b.rows() == 1);
    REQUIRE(b.cols() == 4);
    CHECK(same_bits(b(0, 0), 1.0f));
    CHECK(same_bits(b(0, 1), -5.0f));
    CHECK(same_bits(b(0, 2), -std::numeric_limits<float>::infinity()));
    CHECK(same_bits(b(0, 3), std::ldexp(1.0f, -133)));
    const HostMatrix d = file.read_matrix("d");
    REQUIRE(d.rows() == 1);
    REQUIRE(d.cols() == 2);
    CHECK(same_bits(d(0, 0), static_cast<float>(0.1)));
    CHECK(same_bits(d(0, 1), -3.5f));
  }

  SUBCASE("shapes: N-D to [all but last, last], 0-D to [1, 1], empty stays empty") {
    const HostMatrix cube = file.read_matrix("cube");
    REQUIRE(cube.rows() == 2);
    REQUIRE(cube.cols() == 2);
    CHECK(cube(0, 0) == 1.0f);
    CHECK(cube(0, 1) == 2.0f);
    CHECK(cube(1, 0) == 3.0f);
    CHECK(cube(1, 1) == 4.0f);
    const HostMatrix scalar = file.read_matrix("scalar");
    CHECK(scalar.rows() == 1);
    CHECK(scalar.cols() == 1);
    CHECK(scalar(0, 0) == 42.0f);
    const HostMatrix empty = file.read_matrix("empty");
    CHECK(empty.rows() == 0);
    CHECK(empty.cols() == 3);
  }

  SUBCASE("integers and BOOL as int32") {
    CHECK(file.read_indices("ids") ==
          std::vector<std::int32_t>{0, -1, std::numeric_limits<std::int32_t>::max(),
                                    std::numeric_limits<std::int32_t>::min()});
    CHECK(file.read_indices("pos") == std::vector<std::int32_t>{0, 511, -7});
    CHECK(file.read_indices("u8") == std::vector<std::int32_t>{0, 200, 255});
    CHECK(file.read_indices("i8") == std::vector<std::int32_t>{-128, 127});
    CHECK(file.read_indices("u16") == std::vector<std::int32_t>{65535});
    CHECK(file.read_indices("mask") == std::vector<std::int32_t>{1, 0, 1});
  }

  SUBCASE("read_weights takes the floating-point tensors only") {
    const accelbench::WeightMap weights = accelbench::read_weights(file);
    CHECK(weights.names() == std::vector<std::string>{"b", "cube", "d", "empty", "h", "scalar", "w"});
    CHECK(weights.at("cube").rows() == 2);
    CHECK(weights.at("cube").cols() == 2);
    CHECK(same_bits(weights.at("w")(1, 1), -1.0e-40f));
    CHECK(same_bits(weights.at("h")(0, 2), std::ldexp(1.0f, -24)));
  }
}

TEST_CASE("safetensors: F16 conversion is exact for all 65536 bit patterns") {
  int wrong = 0;
  for (std::uint32_t bits = 0; bits <= 0xFFFFu; ++bits) {
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    const std::uint32_t mantissa = bits & 0x3ffu;
    const float sign = (bits & 0x8000u) != 0 ? -1.0f : 1.0f;
    const float got = accelbench::detail::f16_bits_to_float(static_cast<std::uint16_t>(bits));
    bool ok = false;
    if (exponent == 0x1f && mantissa != 0) {
      // NaN: same sign, and the payload kept in the top mantissa bits.
      ok = std::isnan(got) && std::signbit(got) == (sign < 0) &&
           ((std::bit_cast<std::uint32_t>(got) >> 13) & 0x3ffu) == mantissa;
    } else {
      const float expected = exponent == 0x1f ? sign * std::numeric_limits<float>::infinity()
                             : exponent == 0  ? sign * std::ldexp(static_cast<float>(mantissa), -24)
                                              : sign * std::ldexp(static_cast<float>(1024 + mantissa),
                                                                  static_cast<int>(exponent) - 25);
      ok = same_bits(got, expected);
    }
    if (!ok) {
      ++wrong;
      INFO("bits ", bits);
      CHECK(ok);  // reports the first few wrong patterns
      if (wrong > 5) break;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("safetensors: read_matrix with an expected shape shows both shapes") {
  TempFolder folder;
  const fs::path path = folder.file("good.safetensors", good_file());
  const SafetensorsFile file = SafetensorsFile::open(path);
  const std::vector<std::int64_t> right = {2, 1, 2};
  const HostMatrix cube = file.read_matrix("cube", right);
  CHECK(cube.rows() == 2);
  CHECK(cube(1, 1) == 4.0f);
  const std::vector<std::int64_t> flattened = {2, 2};  // the matrix's shape, but not the tensor's
  CHECK(error_of([&] { (void)file.read_matrix("cube", flattened); }) ==
        path.string() + ": tensor 'cube': shape = [2, 1, 2], expected [2, 2]");
  const std::vector<std::int64_t> none;
  CHECK(error_of([&] { (void)file.read_matrix("scalar", none); }) == "(no SafetensorsError thrown)");
  CHECK(error_of([&] { (void)file.read_matrix("w", none); }) == path.string() + ": tensor 'w': shape = [2, 3], expected []");
}

TEST_CASE("safetensors: a missing tensor is named, with some of the names present") {
  TempFolder folder;
  const fs::path path = folder.file("good.safetensors", good_file());
  const SafetensorsFile file = SafetensorsFile::open(path);
  const std::string expected = path.string() +
                               ": no tensor named 'encoder.weight'; the file has 13 tensors: 'b', 'cube', 'd', "
                               "'empty', 'h', 'i8', 'ids', 'mask', ... (5 more)";
  CHECK(error_of([&] { (void)file.info("encoder.weight"); }) == expected);
  CHECK(error_of([&] { (void)file.read_matrix("encoder.weight"); }) == expected);
  CHECK(error_of([&] { (void)file.read_indices("encoder.weight"); }) == expected);

  const fs::path empty = folder.file("empty.safetensors", with_header("{}", ""));
  const SafetensorsFile none = SafetensorsFile::open(empty);
  CHECK(none.tensors().empty());
  CHECK(error_of([&] { (void)none.info("w"); }) == empty.string() + ": no tensor named 'w'; the file has no tensors");

  const fs::path one = folder.file("one.safetensors", RawFile{}.tensor("only", "F32", "[1]", f32s({1})).bytes());
  CHECK(error_of([&] { (void)SafetensorsFile::open(one).info("w"); }) ==
        one.string() + ": no tensor named 'w'; the file has 1 tensor: 'only'");
}

TEST_CASE("safetensors: read_matrix refuses integer dtypes, read_indices floating-point ones") {
  TempFolder folder;
  const fs::path path = folder.file("good.safetensors", good_file());
  const SafetensorsFile file = SafetensorsFile::open(path);
  CHECK(error_of([&] { (void)file.read_matrix("ids"); }) ==
        path.string() + ": tensor 'ids': dtype I32 cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
  CHECK(error_of([&] { (void)file.read_matrix("mask"); }) ==
        path.string() + ": tensor 'mask': dtype BOOL cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
  CHECK(error_of([&] { (void)file.read_indices("h"); }) ==
        path.string() +
            ": tensor 'h': dtype F16 is not an integer dtype; read_indices reads I8, I16, I32, I64, U8, U16, U32, U64 "
            "and BOOL");
}

TEST_CASE("safetensors: F8 tensors are known but not readable, and read_weights says so") {
  TempFolder folder;
  const fs::path path = folder.file(
      "f8.safetensors",
      RawFile{}.tensor("q", "F8_E4M3", "[2]", "\x38\x40").tensor("r", "F8_E5M2", "[1]", "\x3c").bytes());
  const SafetensorsFile file = SafetensorsFile::open(path);
  CHECK(file.info("q").dtype == "F8_E4M3");
  CHECK(file.info("r").end == 3);
  CHECK(error_of([&] { (void)file.read_matrix("r"); }) ==
        path.string() + ": tensor 'r': dtype F8_E5M2 cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
  CHECK(error_of([&] { (void)file.read_indices("q"); }).starts_with(path.string() +
                                                                     ": tensor 'q': dtype F8_E4M3 is not an integer"));
  CHECK(error_of([&] { (void)accelbench::read_weights(file); }) ==
        path.string() + ": tensor 'q': dtype F8_E4M3 cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
}

TEST_CASE("safetensors: read_indices names the element outside the int32 range") {
  TempFolder folder;
  const fs::path path =
      folder.file("big.safetensors", RawFile{}
                                         .tensor("edges", "I64", "[2]", i64s({-2147483648LL, 2147483647LL}))
                                         .tensor("i64", "I64", "[3]", i64s({1, -2147483649LL, 0}))
                                         .tensor("u32", "U32", "[3]", u32s({0, 7, 0x80000000u}))
                                         .tensor("u64", "U64", "[2]", u64s({0xFFFFFFFFFFFFFFFFull, 0}))
                                         .bytes());
  const SafetensorsFile file = SafetensorsFile::open(path);
  CHECK(file.read_indices("edges") == std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(),
                                                                std::numeric_limits<std::int32_t>::max()});
  CHECK(error_of([&] { (void)file.read_indices("i64"); }) ==
        path.string() + ": tensor 'i64': element 1 = -2147483649 (I64) is outside the int32 range");
  CHECK(error_of([&] { (void)file.read_indices("u32"); }) ==
        path.string() + ": tensor 'u32': element 2 = 2147483648 (U32) is outside the int32 range");
  CHECK(error_of([&] { (void)file.read_indices("u64"); }) ==
        path.string() + ": tensor 'u64': element 0 = 18446744073709551615 (U64) is outside the int32 range");
}

TEST_CASE("safetensors: a file cut short after opening is an error when read") {
  TempFolder folder;
  const std::string bytes = good_file();
  const fs::path path = folder.file("good.safetensors", bytes);
  const SafetensorsFile file = SafetensorsFile::open(path);
  const auto& w = file.info("w");
  folder.file("good.safetensors", bytes.substr(0, bytes.size() - file.tensors().back().end + w.begin + 10));
  CHECK(error_of([&] { (void)file.read_matrix("w"); }) ==
        path.string() +
            ": tensor 'w': cannot read bytes [0, 24) of the data buffer (has the file changed since it was opened?)");
}

TEST_CASE("safetensors writer: a round trip keeps names, dtypes, shapes, values and metadata") {
  TempFolder folder;
  HostMatrix w(2, 3);
  w << 1.0f, -2.0f, 3.5f, std::numeric_limits<float>::denorm_min(), -0.0f, 1.0e30f;
  HostMatrix bias(1, 4);
  bias << 0.25f, -0.5f, std::numeric_limits<float>::infinity(), 1.0f / 3.0f;
  HostMatrix cube(6, 2);
  for (int i = 0; i < 12; ++i) cube(i / 2, i % 2) = static_cast<float>(i) - 5.5f;
  const std::vector<std::int32_t> ids = {0, 7, std::numeric_limits<std::int32_t>::min(),
                                         std::numeric_limits<std::int32_t>::max(), -1, 30522};

  SafetensorsWriter writer;
  writer.add_float("encoder.weight", w);
  writer.add_float("encoder.bias", bias, {4});
  writer.add_float("cube", cube, {3, 2, 2});
  writer.add_float("nothing", HostMatrix(0, 5));
  writer.add_indices("ids", ids, {2, 3});
  writer.add_indices("ids64", ids, {}, true);
  writer.set_metadata("format", "pt");
  writer.set_metadata("format", "np");  // replaces
  writer.set_metadata("source", "caf\xc3\xa9");
  const fs::path path = folder.path() / "nested" / "dir" / "model.safetensors";
  writer.write(path);

  // Only the file itself is left in the folder: no temporary file.
  std::vector<fs::path> present;
  for (const auto& entry : fs::directory_iterator(path.parent_path())) present.push_back(entry.path());
  CHECK(present == std::vector<fs::path>{path});

  // The bytes: length, header padded to 8 bytes, data; as serialize() says.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(bytes == writer.serialize());
  REQUIRE(bytes.size() >= 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  CHECK((8 + n) % 8 == 0);
  const std::size_t data_bytes = (6 + 4 + 12) * 4 + 6 * 4 + 6 * 8;
  CHECK(bytes.size() == 8 + n + data_bytes);

  const SafetensorsFile file = SafetensorsFile::open(path);
  std::vector<std::string> names;
  for (const auto& t : file.tensors()) names.push_back(t.name);
  // "nothing" is empty at offset 88, sorted before "ids" which begins there too.
  CHECK(names == std::vector<std::string>{"encoder.weight", "encoder.bias", "cube", "nothing", "ids", "ids64"});
  CHECK(file.info("encoder.weight").dtype == "F32");
  CHECK(file.info("encoder.weight").shape == std::vector<std::int64_t>{2, 3});
  CHECK(file.info("encoder.bias").shape == std::vector<std::int64_t>{4});
  CHECK(file.info("cube").shape == std::vector<std::int64_t>{3, 2, 2});
  CHECK(file.info("nothing").shape == std::vector<std::int64_t>{0, 5});
  CHECK(file.info("nothing").begin == file.info("nothing").end);
  CHECK(file.info("ids").dtype == "I32");
  CHECK(file.info("ids").shape == std::vector<std::int64_t>{2, 3});
  CHECK(file.info("ids64").dtype == "I64");
  CHECK(file.info("ids64").shape == std::vector<std::int64_t>{6});
  CHECK(file.info("encoder.weight").begin == 0);
  CHECK(file.info("ids64").end == data_bytes);
  CHECK(file.metadata() == std::map<std::string, std::string>{{"format", "np"}, {"source", "caf\xc3\xa9"}});

  auto same = [](const HostMatrix& a, const HostMatrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      if (!same_bits(a.data()[i], b.data()[i])) return false;
    }
    return true;
  };
  CHECK(same(file.read_matrix("encoder.weight"), w));
  CHECK(same(file.read_matrix("encoder.bias"), bias));
  CHECK(same(file.read_matrix("cube"), cube));
  const HostMatrix nothing = file.read_matrix("nothing");
  CHECK(nothing.rows() == 0);
  CHECK(nothing.cols() == 5);
  CHECK(file.read_indices("ids") == ids);
  CHECK(file.read_indices("ids64") == ids);

  const accelbench::WeightMap weights = accelbench::read_weights(file);
  CHECK(weights.names() == std::vector<std::string>{"cube", "encoder.bias", "encoder.weight", "nothing"});
}

TEST_CASE("safetensors writer: bad tensors are refused by name") {
  SafetensorsWriter writer;
  HostMatrix m(2, 3);
  m.setZero();
  writer.add_float("w", m);
  CHECK(invalid_argument_of([&] { writer.add_float("w", m); }) == "safetensors writer: tensor 'w': added twice");
  CHECK(invalid_argument_of([&] { writer.add_float("v", m, {4}); }) ==
        "safetensors writer: tensor 'v': shape [4] has 4 elements, the values 6");
  CHECK(invalid_argument_of([&] { writer.add_float("v", m, {-2, -3}); }) ==
        "safetensors writer: tensor 'v': shape [-2, -3] has a negative dimension");
  CHECK(invalid_argument_of([&] { writer.add_float("__metadata__", m); }) ==
        "safetensors writer: tensor '__metadata__': the name is reserved for metadata");
  const std::vector<std::int32_t> ids = {1, 2, 3};
  CHECK(invalid_argument_of([&] { writer.add_indices("ids", ids, {2, 2}); }) ==
        "safetensors writer: tensor 'ids': shape [2, 2] has 4 elements, the values 3");
  // The refused tensors left nothing behind.
  SafetensorsWriter only_w;
  only_w.add_float("w", m);
  CHECK(writer.serialize() == only_w.serialize());
}

// ---- malformed files: each error names the path, the field and the value ----

TEST_CASE("safetensors open: a missing file") {
  TempFolder folder;
  const fs::path path = folder.path() / "absent.safetensors";
  CHECK(open_error(path) == path.string() + ": cannot read the file: No such file or directory");
}

TEST_CASE("safetensors open: a file shorter than 8 bytes") {
  TempFolder folder;
  const fs::path five = folder.file("five.safetensors", std::string("\x02\x00\x00\x00\x00", 5));
  CHECK(open_error(five) == five.string() + ": file is 5 bytes, shorter than the 8-byte header length field");
  const fs::path zero = folder.file("zero.safetensors", "");
  CHECK(open_error(zero) == zero.string() + ": file is 0 bytes, shorter than the 8-byte header length field");
  try {
    (void)SafetensorsFile::open(zero);
    FAIL("no exception");
  } catch (const SafetensorsError& e) {
    CHECK(e.path() == zero);
  }
}

TEST_CASE("safetensors open: a header length past the end of the file") {
  TempFolder folder;
  const fs::path past = folder.file("past.safetensors", le(100, 8) + "{}" + std::string(18, ' '));
  CHECK(open_error(past) == past.string() +
                                ": header length = 100 bytes is past the end of the file: only 20 bytes follow the "
                                "8-byte length field");
  const fs::path by_one = folder.file("by-one.safetensors", le(21, 8) + "{}" + std::string(18, ' '));
  CHECK(open_error(by_one) == by_one.string() +
                                  ": header length = 21 bytes is past the end of the file: only 20 bytes follow the "
                                  "8-byte length field");
  // A header that fills the file exactly (trailing spaces allowed) is fine.
  const fs::path exact = folder.file("exact.safetensors", le(20, 8) + "{}" + std::string(18, ' '));
  CHECK(SafetensorsFile::open(exact).tensors().empty());
}

TEST_CASE("safetensors open: an absurdly large header length") {
  TempFolder folder;
  const fs::path huge = folder.file("huge.safetensors", le(1ull << 63, 8) + "{}");
  CHECK(open_error(huge) ==
        huge.string() + ": header length = 9223372036854775808 bytes is larger than the limit of 100000000 bytes");
  const fs::path all_ones = folder.file("ones.safetensors", std::string(8, '\xff') + "{}");
  CHECK(open_error(all_ones) == all_ones.string() +
                                    ": header length = 18446744073709551615 bytes is larger than the limit of "
                                    "100000000 bytes");
}

TEST_CASE("safetensors open: a header that is not valid JSON") {
  TempFolder folder;
  const fs::path cut = folder.file("cut.safetensors", with_header(R"({"w":{"dtype":"F32",)", ""));
  CHECK(open_error(cut) ==
        cut.string() +
            ": header is not valid JSON: parse error at line 1, column 21: syntax error while parsing object key - "
            "unexpected end of input; expected string literal");
  const fs::path trailing = folder.file("trailing.safetensors", with_header("{} junk", ""));
  CHECK(open_error(trailing).starts_with(trailing.string() +
                                         ": header is not valid JSON: parse error at line 1, column 4: syntax error "
                                         "while parsing value - invalid literal; last read: '{} j'"));
  const fs::path empty = folder.file("empty.safetensors", with_header("", ""));
  CHECK(open_error(empty).starts_with(empty.string() + ": header is not valid JSON: parse error at line 1, column 1"));
  const fs::path latin1 = folder.file("latin1.safetensors", with_header("{\"caf\xe9\":1}", ""));
  CHECK(open_error(latin1).find("ill-formed UTF-8 byte") != std::string::npos);
  CHECK(open_error(latin1).starts_with(latin1.string() + ": header is not valid JSON: parse error at line 1"));
}

TEST_CASE("safetensors open: a header that is not a JSON object") {
  TempFolder folder;
  const fs::path array = folder.file("array.safetensors", with_header("[1,2,3]", ""));
  CHECK(open_error(array) == array.string() + ": header is a JSON array ([1,2,3]), expected an object");
  const fs::path text = folder.file("text.safetensors", with_header(R"("F32")", ""));
  CHECK(open_error(text) == text.string() + ": header is a JSON string (\"F32\"), expected an object");
}

TEST_CASE("safetensors open: a tensor entry that is not an object") {
  TempFolder folder;
  const fs::path path = folder.file("entry.safetensors", one_entry("[0,4]"));
  CHECK(open_error(path) ==
        path.string() + ": tensor 'w': entry = [0,4]: expected an object with dtype, shape and data_offsets");
}

TEST_CASE("safetensors open: a tensor entry without dtype, shape or data_offsets") {
  TempFolder folder;
  const fs::path no_dtype = folder.file("a.safetensors", one_entry(R"({"shape":[2],"data_offsets":[0,8]})"));
  CHECK(open_error(no_dtype) == no_dtype.string() + ": tensor 'w': missing field 'dtype'");
  const fs::path no_shape = folder.file("b.safetensors", one_entry(R"({"dtype":"F32","data_offsets":[0,8]})"));
  CHECK(open_error(no_shape) == no_shape.string() + ": tensor 'w': missing field 'shape'");
  const fs::path no_offsets = folder.file("c.safetensors", one_entry(R"({"dtype":"F32","shape":[2]})"));
  CHECK(open_error(no_offsets) == no_offsets.string() + ": tensor 'w': missing field 'data_offsets'");
}

TEST_CASE("safetensors open: fields of the wrong JSON type") {
  TempFolder folder;
  const fs::path dtype = folder.file("a.safetensors", one_entry(R"({"dtype":32,"shape":[2],"data_offsets":[0,8]})"));
  CHECK(open_error(dtype) == dtype.string() + ": tensor 'w': dtype = 32: expected a string");
  const fs::path shape = folder.file("b.safetensors", one_entry(R"({"dtype":"F32","shape":"2","data_offsets":[0,8]})"));
  CHECK(open_error(shape) == shape.string() + ": tensor 'w': shape = \"2\": expected an array of integers");
  const fs::path fraction =
      folder.file("c.safetensors", one_entry(R"({"dtype":"F32","shape":[2,1.5],"data_offsets":[0,8]})"));
  CHECK(open_error(fraction) == fraction.string() + ": tensor 'w': shape[1] = 1.5: expected a non-negative integer");
  const fs::path boolean =
      folder.file("d.safetensors", one_entry(R"({"dtype":"F32","shape":[true],"data_offsets":[0,8]})"));
  CHECK(open_error(boolean) == boolean.string() + ": tensor 'w': shape[0] = true: expected a non-negative integer");
  const fs::path huge = folder.file(
      "e.safetensors", one_entry(R"({"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]})"));
  CHECK(open_error(huge) == huge.string() + ": tensor 'w': shape[0] = 18446744073709551615: dimension too large");
  const fs::path offsets =
      folder.file("f.safetensors", one_entry(R"({"dtype":"F32","shape":[2],"data_offsets":"0-8"})"));
  CHECK(open_error(offsets) ==
        offsets.string() + ": tensor 'w': data_offsets = \"0-8\": expected two non-negative integers [begin, end]");
}

TEST_CASE("safetensors open: an unknown dtype") {
  TempFolder folder;
  const fs::path f17 = folder.file("a.safetensors", one_entry(R"({"dtype":"F17","shape":[2],"data_offsets":[0,8]})"));
  CHECK(open_error(f17) == f17.string() + ": tensor 'w': dtype = \"F17\": unknown dtype; known dtypes: " + known_dtypes);
  const fs::path lower = folder.file("b.safetensors", one_entry(R"({"dtype":"f32","shape":[2],"data_offsets":[0,8]})"));
  CHECK(open_error(lower) == lower.string() + ": tensor 'w': dtype = \"f32\": unknown dtype; known dtypes: " +
                                 known_dtypes);
}

TEST_CASE("safetensors open: a negative dimension") {
  TempFolder folder;
  const fs::path path =
      folder.file("neg.safetensors", one_entry(R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,8]})"));
  CHECK(open_error(path) == path.string() + ": tensor 'w': shape[1] = -3: negative dimension");
}

TEST_CASE("safetensors open: data_offsets that are not two ordered non-negative integers") {
  TempFolder folder;
  auto with_offsets = [&](const std::string& file, const std::string& offsets) {
    return folder.file(file, one_entry(R"({"dtype":"U8","shape":[4],"data_offsets":)" + offsets + "}"));
  };
  const std::string expected = ": expected two non-negative integers [begin, end]";
  const fs::path one = with_offsets("a.safetensors", "[0]");
  CHECK(open_error(one) == one.string() + ": tensor 'w': data_offsets = [0]" + expected);
  const fs::path three = with_offsets("b.safetensors", "[0,4,8]");
  CHECK(open_error(three) == three.string() + ": tensor 'w': data_offsets = [0,4,8]" + expected);
  const fs::path negative = with_offsets("c.safetensors", "[-4,0]");
  CHECK(open_error(negative) == negative.string() + ": tensor 'w': data_offsets = [-4,0]" + expected);
  const fs::path fraction = with_offsets("d.safetensors", "[0,4.0]");
  CHECK(open_error(fraction) == fraction.string() + ": tensor 'w': data_offsets = [0,4.0]" + expected);
  const fs::path reversed = with_offsets("e.safetensors", "[8,4]");
  CHECK(open_error(reversed) == reversed.string() + ": tensor 'w': data_offsets = [8, 4]: begin is after end");
  CHECK(SafetensorsFile::open(with_offsets("f.safetensors", "[4,8]")).info("w").begin == 4);
}

TEST_CASE("safetensors open: data_offsets past the end of the data buffer") {
  TempFolder folder;
  const fs::path path =
      folder.file("past.safetensors", one_entry(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})", 12));
  CHECK(open_error(path) ==
        path.string() + ": tensor 'w': data_offsets = [0, 16]: end is past the end of the data buffer (12 bytes)");
  const fs::path by_one =
      folder.file("by-one.safetensors", one_entry(R"({"dtype":"F32","shape":[3],"data_offsets":[1,13]})", 12));
  CHECK(open_error(by_one) ==
        by_one.string() + ": tensor 'w': data_offsets = [1, 13]: end is past the end of the data buffer (12 bytes)");
  const fs::path fits =
      folder.file("fits.safetensors", one_entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,12]})", 12));
  CHECK(SafetensorsFile::open(fits).info("w").end == 12);
}

TEST_CASE("safetensors open: a byte range that does not match dtype and shape") {
  TempFolder folder;
  const std::string problem = ": dtype or shape does not match the byte range";
  const fs::path f32 = folder.file("a.safetensors", one_entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"));
  CHECK(open_error(f32) == f32.string() +
                               ": tensor 'w': dtype F32 with shape [3] needs 3 x 4 bytes, but data_offsets = [0, 8] "
                               "holds 8 bytes" +
                               problem);
  const fs::path f16 = folder.file("b.safetensors", one_entry(R"({"dtype":"F16","shape":[2,1],"data_offsets":[0,8]})"));
  CHECK(open_error(f16) == f16.string() +
                               ": tensor 'w': dtype F16 with shape [2, 1] needs 2 x 2 bytes, but data_offsets = [0, "
                               "8] holds 8 bytes" +
                               problem);
  // 2^62 + 2 four-byte elements: the byte count wraps around 2^64 to 8,
  // which must not pass for the 8 bytes of the range.
  const fs::path wraps = folder.file(
      "c.safetensors", one_entry(R"({"dtype":"F32","shape":[4611686018427387906],"data_offsets":[0,8]})"));
  CHECK(open_error(wraps) == wraps.string() +
                                 ": tensor 'w': dtype F32 with shape [4611686018427387906] needs 4611686018427387906 "
                                 "x 4 bytes, but data_offsets = [0, 8] holds 8 bytes" +
                                 problem);
}

TEST_CASE("safetensors open: dimensions whose product does not fit in 64 bits") {
  TempFolder folder;
  const fs::path huge = folder.file(
      "a.safetensors", one_entry(R"({"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]})"));
  CHECK(open_error(huge) == huge.string() +
                                ": tensor 'w': shape = [4294967296, 4294967296, 0]: dimensions too large (their "
                                "product, zeros left out, exceeds 2^63 - 1)");
  // Large but representable dimensions of an empty tensor are fine.
  const fs::path empty = folder.file(
      "b.safetensors", one_entry(R"({"dtype":"F32","shape":[0,4611686018427387904],"data_offsets":[0,0]})"));
  const SafetensorsFile file = SafetensorsFile::open(empty);
  CHECK(file.info("w").elements() == 0);
  const HostMatrix m = file.read_matrix("w");
  CHECK(m.rows() == 0);
  CHECK(m.cols() == 4611686018427387904);
}

TEST_CASE("safetensors open: overlapping byte ranges") {
  TempFolder folder;
  const std::string data(24, '\0');
  const fs::path partial = folder.file(
      "a.safetensors",
      with_header(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                  R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                  data));
  CHECK(open_error(partial) == partial.string() +
                                   ": tensors 'a' (data_offsets = [0, 8]) and 'b' (data_offsets = [4, 12]) have "
                                   "overlapping byte ranges");
  const fs::path inside = folder.file(
      "b.safetensors",
      with_header(R"({"outer":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                  R"("next":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},)"
                  R"("inner":{"dtype":"U8","shape":[2],"data_offsets":[10,12]}})",
                  data));
  CHECK(open_error(inside) == inside.string() +
                                  ": tensors 'outer' (data_offsets = [0, 16]) and 'inner' (data_offsets = [10, 12]) "
                                  "have overlapping byte ranges");
  // An empty tensor in between hides nothing: 'long' still overlaps 'third'.
  const fs::path behind = folder.file(
      "c.safetensors",
      with_header(R"({"long":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},)"
                  R"("empty":{"dtype":"U8","shape":[0],"data_offsets":[2,2]},)"
                  R"("third":{"dtype":"U8","shape":[1],"data_offsets":[19,20]}})",
                  data));
  CHECK(open_error(behind) == behind.string() +
                                  ": tensors 'long' (data_offsets = [0, 20]) and 'third' (data_offsets = [19, 20]) "
                                  "have overlapping byte ranges");
  const fs::path same = folder.file(
      "d.safetensors",
      with_header(R"({"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("x":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                  data));
  CHECK(open_error(same) == same.string() +
                                ": tensors 'x' (data_offsets = [0, 8]) and 'y' (data_offsets = [0, 8]) have "
                                "overlapping byte ranges");
  // Touching ranges, and an empty tensor at a boundary, do not overlap.
  const fs::path touching = folder.file(
      "e.safetensors",
      with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                  data));
  CHECK(SafetensorsFile::open(touching).tensors().size() == 3);
}

TEST_CASE("safetensors open: a tensor named twice") {
  TempFolder folder;
  const fs::path path = folder.file(
      "twice.safetensors",
      with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("v":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                  R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  std::string(12, '\0')));
  CHECK(open_error(path) == path.string() + ": tensor 'w' appears more than once in the header");
  // The same name one level down is not a repeated tensor.
  const fs::path nested = folder.file(
      "nested.safetensors",
      with_header(R"({"__metadata__":{"w":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  std::string(4, '\0')));
  CHECK(SafetensorsFile::open(nested).metadata().at("w") == "x");
}

TEST_CASE("safetensors open: a malformed __metadata__") {
  TempFolder folder;
  const fs::path array = folder.file("a.safetensors", with_header(R"({"__metadata__":["pt"]})", ""));
  CHECK(open_error(array) == array.string() + ": __metadata__ = [\"pt\"]: expected an object of strings");
  const fs::path number = folder.file("b.safetensors", with_header(R"({"__metadata__":{"format":"pt","epoch":3}})", ""));
  CHECK(open_error(number) == number.string() + ": __metadata__['epoch'] = 3: expected a string");
}
