// Input hardening: every size computed from input is checked for overflow,
// a cell that needs more memory than the machine has is refused before it
// allocates, JSON nesting is bounded, numbers out of range are errors that
// name the field, non-finite outputs are never ok, and a checkpoint that no
// family reads says why.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "golden.hpp"

using namespace accelbench;
using namespace accelbench::test;
namespace fs = std::filesystem;

namespace {

/// A fresh temporary folder named after `name`.
fs::path temp_folder(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("accelbench-hardening-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

/// A copy of golden checkpoint `arch` whose every weight is `fill(i)`, the
/// i-th value over all tensors.
template <class Fill>
fs::path golden_with_weights(const std::string& arch, const std::string& name, Fill fill) {
  const fs::path dir = temp_folder(arch + "-" + name);
  fs::copy_file(golden_dir(arch) / "config.json", dir / "config.json");
  const WeightMap golden = read_checkpoint_tensors(golden_dir(arch));
  const SafetensorsFile stored = SafetensorsFile::open(golden_dir(arch) / "model.safetensors");
  SafetensorsWriter file;
  std::size_t i = 0;
  for (const std::string& n : golden.names()) {
    HostMatrix m = golden.at(n);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = fill(i++);
    file.add_float(n, m, stored.info(n).shape);
  }
  file.write(dir / "model.safetensors");
  return dir;
}

Config quick(Config c) {
  c.warmup_iterations = 0;
  c.min_iterations = 1;
  c.max_iterations = 2;
  c.min_time_s = 0;
  c.max_time_s = 1;
  c.memory_sample_interval_s = 0;
  return c;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("checked math: products and sums that overflow are caught, sizes saturate") {
  CHECK(detail::checked_mul(std::numeric_limits<int>::max(), 2) == std::nullopt);
  CHECK(detail::checked_mul(46340, 46340) == 2147395600);
  CHECK(detail::checked_add(std::numeric_limits<int>::max(), 1) == std::nullopt);
  CHECK(detail::checked_add(std::numeric_limits<int>::min(), -1) == std::nullopt);
  CHECK(detail::checked_mul(-1, std::numeric_limits<int>::min()) == std::nullopt);
  CHECK(detail::checked_mul(std::numeric_limits<int>::min(), 2) == std::nullopt);
  CHECK(detail::checked_mul(-3, 5) == -15);
  CHECK(detail::checked_mul(-46340, -46340) == 2147395600);
  CHECK(detail::checked_mul(std::uint64_t{1} << 32, std::uint64_t{1} << 32) == std::nullopt);
  static_assert(detail::checked_mul(std::int64_t{3}, std::int64_t{-4}) == -12);
  CHECK(detail::saturating_product(2147483647, 2147483647, 2147483647) == detail::saturated_size);
  CHECK(detail::saturating_product(1024, 1024, std::int64_t{4}) == 4u << 20);
  CHECK(detail::saturating_product(-5, 3) == 0u);
  CHECK(detail::saturating_sum(detail::saturated_size, std::uint64_t{1}) == detail::saturated_size);
  CHECK(detail::parse_decimal<std::uint64_t>("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
  CHECK(detail::parse_decimal<std::uint64_t>("18446744073709551616") == std::nullopt);
  CHECK(detail::parse_decimal<std::uint64_t>("12a") == std::nullopt);
  CHECK(detail::parse_decimal<std::uint64_t>("") == std::nullopt);
}

TEST_CASE("machine texts: CPU lists, cache sizes and kB fields that overflow are refused, not wrapped") {
  CHECK(detail::count_cpu_list("0-3,8-11") == 8);
  CHECK(detail::count_cpu_list("0-2147483647") == 0);  // 2^31 CPUs: more than an int counts
  CHECK(detail::count_cpu_list("0-2147483646,5") == 0);
  CHECK(detail::count_cpu_list("99999999999") == 0);
  CHECK(detail::count_cpu_list("3-1") == 0);
  CHECK(detail::count_cpu_list("x") == 0);
  CHECK(detail::parse_size("32K") == 32768u);
  CHECK(detail::parse_size("17179869184G") == std::nullopt);  // 2^34 GiB = 2^64 bytes
  CHECK(detail::parse_size("99999999999999999999") == std::nullopt);
  CHECK(detail::kilobytes_to_bytes("2048 kB") == 2097152u);
  CHECK(detail::kilobytes_to_bytes("18014398509481984 kB") == std::nullopt);  // 2^54 kB = 2^64 bytes
  CHECK(detail::meminfo_bytes("MemTotal: 99999999999999999999 kB\n", "MemTotal") == std::nullopt);
}

TEST_CASE("JSON: nesting deeper than max_json_depth is refused while parsing, in every JSON read") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string deep_error = error_of([&] { (void)detail::parse_json_text<Json>(deep); });
  CHECK(deep_error.find("nesting deeper than 64") != std::string::npos);
  const std::string ok = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
  CHECK_NOTHROW((void)detail::parse_json_text<Json>(ok));
  const std::string nested = R"({"a": {"b": )" + deep + "}}";
  try {
    (void)detail::parse_json_text<nlohmann::json>(nested);
    FAIL("no error");
  } catch (const JsonTextError& e) {
    CHECK(e.field() == "a.b");
  }

  // A safetensors header.
  const fs::path dir = temp_folder("deep-json");
  std::string header = R"({"w": )" + deep + "}";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xffu);
  write_text(dir / "model.safetensors", bytes + header);
  CHECK_THROWS_WITH_AS((void)SafetensorsFile::open(dir / "model.safetensors"),
                       doctest::Contains("header is not valid JSON: nesting deeper than 64"), SafetensorsError);

  // A checkpoint's config.json.
  write_text(dir / "config.json", R"({"model_type": "bert", "x": )" + deep + "}");
  CHECK_THROWS_WITH_AS((void)Embedding::checkpoint_preset(dir, {}),
                       doctest::Contains("not valid JSON (at field x): nesting deeper than 64"), ConfigError);
}

TEST_CASE("JSON: a number out of range names its field and value") {
  try {
    (void)detail::parse_json_text<Json>(R"({"name": "x", "memory_sample_interval_s": 1e999})");
    FAIL("no error");
  } catch (const JsonTextError& e) {
    CHECK(e.field() == "memory_sample_interval_s");
    CHECK(e.value() == "1e999");
    CHECK(std::string(e.what()).find("number overflow") != std::string::npos);
  }
}

TEST_CASE("suite settings: every numeric field has a range, and an error names the field and value") {
  auto rejects = [](const std::string& text, const std::string& expected) {
    const Suite s = parse_suite(Json::parse(text));
    CHECK_THROWS_WITH_AS(validate_suite(s), doctest::Contains(expected.c_str()), ConfigError);
  };
  rejects(R"({"memory_sample_interval_s": 1e12})", "memory_sample_interval_s = 1e+12: must be 0 (off) or a sampling");
  rejects(R"({"memory_sample_interval_s": 1e-9})", "memory_sample_interval_s = 1e-09");
  rejects(R"({"max_time_s": 1e300})", "max_time_s = 1e+300: must be a number of seconds (from 0 to 604800)");
  rejects(R"({"min_time_s": 1e9, "max_time_s": 2e9})", "min_time_s = 1e+09: must be a number of seconds");
  rejects(R"({"cell_timeout_s": 1e100})", "cell_timeout_s = 1e+100");
  rejects(R"({"warmup_max_time_s": 1e100})", "warmup_max_time_s = 1e+100");
  rejects(R"({"verify_tolerance": 1e300})", "verify_tolerance = 1e+300");
  rejects(R"({"target_relative_ci_width": 5})", "target_relative_ci_width = 5");
  rejects(R"({"warmup_stability_tolerance": 50})", "warmup_stability_tolerance = 50");
  rejects(R"({"warmup_iterations": 2000000000})", "warmup_iterations = 2000000000: must be a count of runs");
  rejects(R"({"iterations_per_sample": 2000000000})", "iterations_per_sample = 2000000000");
  rejects(R"({"threads": 1000000})", "threads = 1000000");
  rejects(R"({"loading_repetitions": 1000000})", "loading_repetitions = 1000000");
  CHECK_THROWS_WITH_AS((void)parse_suite(Json::parse(R"({"min_iterations": 1e10})")),
                       doctest::Contains("min_iterations = 10000000000.0: expected an integer"), ConfigError);
  CHECK_THROWS_WITH_AS((void)parse_suite(Json::parse(R"({"warmup_iterations": 18446744073709551615})")),
                       doctest::Contains("warmup_iterations = 18446744073709551615: out of range"), ConfigError);
  CHECK_THROWS_WITH_AS((void)parse_suite(Json::parse(R"({"batch_sizes": [99999999999]})")),
                       doctest::Contains("batch_sizes[0] = 99999999999: out of range"), ConfigError);
}

TEST_CASE("text generation: a prompt of 2147483647 tokens is a configuration error, not an overflow") {
  Config c = quick(Config{.model = "gpt2"});
  c.sweep = {{"prompt_lengths", {2147483647}}, {"new_tokens", {16}}};
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, TextGeneration>{c, one_thread()}),
                       doctest::Contains("prompt_lengths[0] = 2147483647: with new_tokens 16 exceeds gpt2's maximum"),
                       ConfigError);
  c.model = "t5-small";  // no position limit: the cache's capacity is an int
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, TextGeneration>{c, one_thread()}),
                       doctest::Contains("prompt_lengths[0] = 2147483647: with new_tokens 16 exceeds the largest cache"),
                       ConfigError);
  // The estimate of a cell saturates instead of overflowing.
  const auto& t5 = TextGeneration::find_preset("t5-small");
  CHECK(TextGeneration::cell_bytes(t5, {2147483647, 2147483647, 2147483647}) == detail::saturated_size);
}

TEST_CASE("a huge T5 prompt is refused before allocating, naming the cell's axes") {
  Config c = quick(Config{.weights = golden_dir("t5").string()});
  c.batch_sizes = {1};
  c.sweep = {{"prompt_lengths", {1 << 30, 4}}, {"new_tokens", {2}}};
  const RunResult r = Benchmark<Cpu, TextGeneration>{c, one_thread()}.run();
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].status == CellStatus::failed);
  CHECK(r.cells[0].message.find("batch_size x prompt_length x new_tokens = 1 x 1073741824 x 2") != std::string::npos);
  CHECK(r.cells[0].message.find("refused before allocating") != std::string::npos);
  CHECK(r.cells[1].status == CellStatus::ok);  // the sweep goes on
}

TEST_CASE("a huge ViT image size is refused before allocating, naming the field or the cell's axes") {
  Config c = quick(Config{.weights = golden_dir("vit").string()});
  const ViTConfig preset = Vision::checkpoint_preset(golden_dir("vit"), {}).vit();
  // More patches than an int counts: a configuration error.
  const int largest = std::numeric_limits<int>::max() / preset.patch_size * preset.patch_size;
  c.sweep = {{"image_sizes", {largest}}};
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, Vision>{c, one_thread()}),
                       doctest::Contains(("image_sizes[0] = " + std::to_string(largest) + ": gives ").c_str()),
                       ConfigError);
  // 46000^2 patches (6.5 TB of pixels): the cell is refused before it allocates.
  const int size = 46000 * preset.patch_size;
  c.sweep = {{"image_sizes", {size}}};
  const RunResult r = Benchmark<Cpu, Vision>{c, one_thread()}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::failed);
  CHECK(r.cells[0].message.find("batch_size x image_size x image_width = 1 x " + std::to_string(size) + " x " +
                                std::to_string(size)) != std::string::npos);
  CHECK(r.cells[0].message.find("refused before allocating") != std::string::npos);
}

TEST_CASE("a batch of 2147483647 image-text pairs is refused before allocating") {
  Config c = quick(Config{.weights = golden_dir("clip").string()});
  c.batch_sizes = {2147483647};
  const RunResult r = Benchmark<Cpu, Multimodal>{c, one_thread()}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::failed);
  CHECK(r.cells[0].message.find("batch_size = 2147483647: needs ") != std::string::npos);
}

TEST_CASE("a model whose parameters exceed the machine's memory is refused before loading") {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(golden_dir("bert") / "config.json"));
  config["hidden_size"] = 1 << 20;
  config["intermediate_size"] = 1 << 20;
  config["vocab_size"] = 1 << 24;  // 2^44 embedding parameters alone: 64 TiB as floats
  const fs::path dir = temp_folder("huge-bert");
  write_text(dir / "config.json", config.dump());
  fs::copy_file(golden_dir("bert") / "model.safetensors", dir / "model.safetensors");
  Config c = quick(Config{.weights = dir.string()});
  c.sweep = {{"sequence_lengths", {4}}};
  const RunResult r = Benchmark<Cpu, Embedding>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].status == "failed");
  CHECK(r.models[0].message.find("parameters need ") != std::string::npos);
  CHECK(r.models[0].message.find("refused before loading") != std::string::npos);
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::failed);
}

TEST_CASE("a checkpoint of NaN weights, or of random bytes, is invalid_output, never ok") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const fs::path nans = golden_with_weights("bert", "nan", [&](std::size_t) { return nan; });
  Config c = quick(Config{.weights = nans.string()});
  c.batch_sizes = {1};
  c.sweep = {{"sequence_lengths", {4}}};
  RunResult r = Benchmark<Cpu, Embedding>{c, one_thread()}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::invalid_output);
  CHECK(to_string(r.cells[0].status) == "invalid_output");
  CHECK(r.cells[0].verification.non_finite > 0);
  CHECK(r.cells[0].message.find("output values are NaN or Inf (last_hidden_state: ") != std::string::npos);
  CHECK(r.cells[0].samples_s.empty());  // nothing timed
  CHECK(detail::to_json(r.cells[0])["verification"]["non_finite"] == r.cells[0].verification.non_finite);

  // Random bit patterns: some are NaN or Inf, and the rest overflow.
  std::uint64_t state = 12345;
  const fs::path random = golden_with_weights("bert", "random", [&](std::size_t) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const auto bits = static_cast<std::uint32_t>(state >> 32);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  });
  c.weights = random.string();
  r = Benchmark<Cpu, Embedding>{c, one_thread()}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::invalid_output);
}

TEST_CASE("a checkpoint no family reads says why: unsupported model_type, broken config.json") {
  const fs::path mamba = temp_folder("mamba");
  write_text(mamba / "config.json", R"({"model_type": "mamba", "hidden_size": 8})");
  const std::string unsupported = error_of([&] { (void)detail::group_by_family(std::vector{mamba.string()}, "models"); });
  CHECK(unsupported.find("models[0] = \"" + mamba.string() + "\"") != std::string::npos);
  CHECK(unsupported.find("unsupported model_type \"mamba\" in config.json; supported: ") != std::string::npos);
  CHECK(unsupported.find("bert") != std::string::npos);
  CHECK(unsupported.find("llama") != std::string::npos);
  CHECK(unsupported.find("not a checkpoint folder") == std::string::npos);

  const fs::path broken = temp_folder("broken-config");
  write_text(broken / "config.json", "{\"model_type\": \"bert\",\n \"hidden_size\": }");
  const std::string parse = error_of([&] { (void)detail::group_by_family(std::vector{broken.string()}, "models"); });
  CHECK(parse.find("not valid JSON") != std::string::npos);
  CHECK(parse.find("line 2, column") != std::string::npos);
  CHECK(parse.find("not a checkpoint folder") == std::string::npos);

  const fs::path empty = temp_folder("no-config");
  CHECK(error_of([&] { (void)detail::group_by_family(std::vector{empty.string()}, "models"); })
            .find("a folder without config.json") != std::string::npos);
}

TEST_CASE("config.json: integers and numbers out of range name the field and value") {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(golden_dir("bert") / "config.json"));
  config["hidden_size"] = 10000000000LL;
  const fs::path dir = temp_folder("huge-hidden");
  write_text(dir / "config.json", config.dump());
  CHECK_THROWS_WITH_AS((void)Embedding::checkpoint_preset(dir, {}),
                       doctest::Contains("hidden_size = 10000000000: out of range"), ConfigError);
  // Within an int, but the products of dimensions would overflow.
  config = nlohmann::json::parse(std::ifstream(golden_dir("bert") / "config.json"));
  config["hidden_size"] = 2000000;
  write_text(dir / "config.json", config.dump());
  CHECK_THROWS_WITH_AS((void)Embedding::checkpoint_preset(dir, {}),
                       doctest::Contains("hidden = 2000000: must be at most 1048576"), ConfigError);
  config = nlohmann::json::parse(std::ifstream(golden_dir("llama") / "config.json"));
  config["num_hidden_layers"] = 100000;
  write_text(dir / "config.json", config.dump());
  CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir, {}),
                       doctest::Contains("layers = 100000: must be at most 4096"), ConfigError);
  config = nlohmann::json::parse(std::ifstream(golden_dir("bert") / "config.json"));
  config["layer_norm_eps"] = 1e300;
  write_text(dir / "config.json", config.dump());
  CHECK_THROWS_WITH_AS((void)Embedding::checkpoint_preset(dir, {}),
                       doctest::Contains("layer_norm_eps = 1e+300: out of range"), ConfigError);
}
