#pragma once

// What the golden-file tests share: the folders under tests/data/golden/
// (written by tools/golden/generate.py), their inputs and outputs, and the
// comparison with the 1e-4 tolerance.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/core/error.hpp>
#include <accelbench/model/common/images.hpp>
#include <accelbench/model/common/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace accelbench::test {

inline constexpr double golden_tolerance = 1e-4;

inline std::filesystem::path golden_dir(const std::string& arch) {
  return std::filesystem::path(ACCELBENCH_SOURCE_DIR) / "tests" / "data" / "golden" / arch;
}

inline Cpu one_thread() { return Cpu{Cpu::Options{.threads = 1}}; }

/// Largest absolute difference; the shapes must agree.
inline double max_abs_error(const HostMatrix& got, const HostMatrix& expected) {
  REQUIRE(got.rows() == expected.rows());
  REQUIRE(got.cols() == expected.cols());
  return static_cast<double>((got - expected).cwiseAbs().maxCoeff());
}

/// Checks `got` against transformers' output and reports the largest error.
inline void check_close(const std::string& what, const HostMatrix& got, const HostMatrix& expected) {
  const double err = max_abs_error(got, expected);
  MESSAGE(what << ": max abs error " << err << " (largest reference value " << expected.cwiseAbs().maxCoeff() << ")");
  CHECK(err <= golden_tolerance);
}

/// One architecture's io.safetensors: its inputs and reference outputs.
struct GoldenIo {
  SafetensorsFile file;
  explicit GoldenIo(const std::string& arch) : file(SafetensorsFile::open(golden_dir(arch) / "io.safetensors")) {}
  [[nodiscard]] HostMatrix floats(const std::string& name) const { return file.read_matrix(name); }
  [[nodiscard]] std::vector<std::int32_t> ids(const std::string& name) const { return file.read_indices(name); }
  [[nodiscard]] int dim(const std::string& name, std::size_t i) const {
    return static_cast<int>(file.info(name).shape.at(i));
  }
  /// A [batch, seq] tensor of 0 and 1 (an attention mask) as floats.
  [[nodiscard]] HostMatrix mask(const std::string& name) const {
    const std::vector<std::int32_t> v = ids(name);
    HostMatrix m(dim(name, 0), dim(name, 1));
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(v[static_cast<std::size_t>(i)]);
    return m;
  }
  /// An NCHW pixel tensor as an ImageBatch (one image per row).
  [[nodiscard]] ImageBatch images(const std::string& name) const {
    ImageBatch in;
    in.batch = dim(name, 0);
    in.channels = dim(name, 1);
    in.size = dim(name, 2);
    REQUIRE(dim(name, 3) == in.size);
    const HostMatrix m = floats(name);  // [batch * channels * size, size]
    in.pixels = Eigen::Map<const HostMatrix>(m.data(), in.batch, Eigen::Index{in.channels} * in.size * in.size);
    return in;
  }
};

/// The message of the ConfigError that reading the checkpoint folder `dir`
/// with `read` throws, or "(no error)".
template <class Read>
std::string config_error_of(Read&& read, const std::filesystem::path& dir) {
  try {
    (void)read(dir);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

/// A copy of architecture `arch`'s golden checkpoint whose config.json
/// claims one more layer (its integer field `layers_field` plus one) than
/// the weights hold: a checkpoint with missing tensors.
inline std::filesystem::path golden_with_extra_layer(const std::string& arch, const std::string& layers_field) {
  const auto dir = std::filesystem::temp_directory_path() / ("accelbench-test-" + arch + "-extra-layer");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden_dir(arch) / "model.safetensors", dir / "model.safetensors");
  std::ifstream in(golden_dir(arch) / "config.json");
  auto json = nlohmann::json::parse(in);
  json[layers_field] = json[layers_field].get<int>() + 1;
  std::ofstream(dir / "config.json") << json.dump();
  return dir;
}

/// A checkpoint folder holding `config_json` (and no weights), for
/// config.json error tests.
inline std::filesystem::path folder_with_config(const std::string& name, const std::string& config_json) {
  const auto dir = std::filesystem::temp_directory_path() / ("accelbench-test-checkpoint-" + name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config_json;
  return dir;
}

/// A folder holding architecture `arch`'s golden config.json with `edit`
/// applied to its JSON (no weights), named `arch`-`name`.
template <class Edit>
std::filesystem::path edited_golden_config(const std::string& arch, const std::string& name, Edit&& edit) {
  std::ifstream in(golden_dir(arch) / "config.json");
  auto json = nlohmann::json::parse(in);
  edit(json);
  return folder_with_config(arch + "-" + name, json.dump());
}

}  // namespace accelbench::test
