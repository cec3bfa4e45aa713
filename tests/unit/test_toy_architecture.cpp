// A generative architecture from outside the library (toy_architecture.hpp)
// joins the text-generation family with one line: its presets, parameter
// count, checkpoint folders and generation run through the family and the
// Benchmark as the library's own architectures do, next to them.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/core/type_list.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/model/common/safetensors.hpp>
#include <accelbench/run/benchmark.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "toy_architecture.hpp"

using namespace accelbench;
using namespace accelbench::test;

// The one registry line: the library's generative architectures and the toy.
// [snippet registry]
using ToyTextGeneration = TextGenerationOf<append_t<GenerativeArchitectures, ToyMlpArchitecture>>;
// [end snippet]

static_assert(GenerativeArchitecture<ToyMlpArchitecture>);
static_assert(ModelArchitecture<ToyMlp<Cpu>, Cpu>);
static_assert(ModelFamily<ToyTextGeneration>);

namespace {

HostMatrix layer_norm(const HostMatrix& x, const HostMatrix& g, const HostMatrix& b, float eps) {
  HostMatrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const double mean = x.row(r).cast<double>().mean();
    const double var = (x.row(r).cast<double>().array() - mean).square().mean();
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      out(r, c) = static_cast<float>((x(r, c) - mean) / std::sqrt(var + eps) * g(0, c) + b(0, c));
    }
  }
  return out;
}

/// The toy's next token after `token`, computed on the host from the weights.
std::int32_t host_next_token(const GenerativeConfig& c, const WeightMap& w, std::int32_t token) {
  HostMatrix x = w.at("embed.weight").row(token);
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    const HostMatrix h = layer_norm(x, w.at(p + "norm.weight"), w.at(p + "norm.bias"), c.norm_eps);
    HostMatrix u = h * w.at(p + "up.weight").transpose() + w.at(p + "up.bias");
    for (Eigen::Index i = 0; i < u.size(); ++i) {
      const float v = u.data()[i];
      u.data()[i] = 0.5f * v * (1.0f + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
    }
    x += u * w.at(p + "down.weight").transpose() + w.at(p + "down.bias");
  }
  const HostMatrix h = layer_norm(x, w.at("final_norm.weight"), w.at("final_norm.bias"), c.norm_eps);
  const HostMatrix logits = h * w.at("embed.weight").transpose();
  Eigen::Index best = 0;
  logits.row(0).maxCoeff(&best);
  return static_cast<std::int32_t>(best);
}

Config toy_config() {
  Config c;
  c.model = "toy-mlp-tiny";
  c.batch_sizes = {2};
  c.sweep["prompt_lengths"] = {3};
  c.sweep["new_tokens"] = {5};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  return c;
}

}  // namespace

TEST_CASE("a toy architecture joins the text-generation family: presets and parameter count") {
  const std::vector<std::string> names = ToyTextGeneration::preset_names();
  CHECK(std::find(names.begin(), names.end(), "gpt2") != names.end());
  CHECK(std::find(names.begin(), names.end(), "t5-small") != names.end());
  CHECK(names.back() == "toy-mlp-tiny");
  CHECK(names.size() == TextGeneration::preset_names().size() + 1);

  const GenerativeConfig& toy = ToyTextGeneration::find_preset("toy-mlp-tiny");
  // Embedding 64 x 16; two blocks of two norms' worth (16 + 16), up (32 x 16 + 32), down (16 x 32 + 16); final norm.
  CHECK(toy.parameter_count() == 64 * 16 + 2 * (2 * 16 + 32 * 16 + 32 + 16 * 32 + 16) + 2 * 16);
  CHECK(toy.kv_cache_bytes(2, 10) == 2u * 2 * 10 * 16 * 2 * sizeof(float));
  CHECK_FALSE(toy.is_encoder_decoder());
  // The library's architectures answer as before in the longer list.
  CHECK(ToyTextGeneration::find_preset("gpt2").parameter_count() == TextGeneration::find_preset("gpt2").parameter_count());
  // The library's family does not know the toy.
  CHECK_THROWS_WITH_AS((void)TextGeneration::find_preset("toy-mlp-tiny"), doctest::Contains("model = \"toy-mlp-tiny\""),
                       ConfigError);
  // A hand-made configuration of the toy is looked up among the library's architectures, which do not have it.
  GenerativeConfig by_hand = toy;
  by_hand.functions = nullptr;
  CHECK_THROWS_WITH_AS((void)by_hand.parameter_count(), doctest::Contains("architecture = \"toy-mlp\""), ConfigError);
}

TEST_CASE("the toy architecture generates through the family's workload: its greedy tokens are the host's") {
  Cpu cpu = one_thread();
  const GenerativeConfig& preset = ToyTextGeneration::find_preset("toy-mlp-tiny");
  const WeightMap weights = ToyTextGeneration::weights(preset, 7);
  const auto model = ToyTextGeneration::load(cpu, preset, 7);
  CHECK(model.config().architecture == "toy-mlp");
  CHECK(model.impl().index() == 3);  // the fourth entry of the list
  const std::vector<std::int32_t> prompt = {5, 9, 17, 40, 2, 63};
  ToyTextGeneration::Workload<Cpu> work(cpu, model, {.batch_size = 2, .prompt_length = 3, .new_tokens = 5}, 7, prompt);
  work.run();
  const std::vector<std::int32_t>& tokens = work.tokens();
  REQUIRE(tokens.size() == 10);
  for (int b = 0; b < 2; ++b) {
    std::int32_t token = prompt[static_cast<std::size_t>(b * 3 + 2)];
    for (int t = 0; t < 5; ++t) {
      CAPTURE(b);
      CAPTURE(t);
      token = host_next_token(preset, weights, token);
      CHECK(tokens[static_cast<std::size_t>(b * 5 + t)] == token);
    }
  }
}

TEST_CASE("Benchmark<Cpu, the longer family> runs the toy preset and a toy checkpoint folder") {
  SUBCASE("the preset") {
    const RunResult r = Benchmark<Cpu, ToyTextGeneration>{toy_config(), one_thread()}.run();
    REQUIRE(r.models.size() == 1);
    CHECK(r.models[0].architecture == "toy-mlp");
    CHECK(r.models[0].parameters == ToyTextGeneration::find_preset("toy-mlp-tiny").parameter_count());
    REQUIRE(r.cells.size() == 1);
    CAPTURE(r.cells[0].message);
    CHECK(r.cells[0].status == CellStatus::ok);
  }
  SUBCASE("a checkpoint folder, read by its model_type") {
    const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-toy-mlp";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << R"({"model_type": "toy-mlp", "num_layers": 1, "hidden_size": 8,
                                            "intermediate_size": 12, "vocab_size": 20, "max_positions": 32})";
    GenerativeConfig shape = ToyTextGeneration::find_preset("toy-mlp-tiny");
    shape.layers = 1;
    shape.hidden = 8;
    shape.intermediate = 12;
    shape.vocab_size = 20;
    const WeightMap w = ToyTextGeneration::weights(shape, 3);
    SafetensorsWriter file;
    for (const std::string& name : w.names()) file.add_float(name, w.at(name));
    file.write(dir / "model.safetensors");

    const GenerativeConfig read = ToyTextGeneration::checkpoint_preset(dir);
    CHECK(read.architecture == "toy-mlp");
    CHECK(read.parameter_count() == w.parameter_count());
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir), doctest::Contains("model_type = \"toy-mlp\""),
                         ConfigError);

    Config c = toy_config();
    c.weights = dir.string();
    const RunResult r = Benchmark<Cpu, ToyTextGeneration>{c, one_thread()}.run();
    REQUIRE(r.models.size() == 1);
    CHECK(r.models[0].status == "ok");
    CHECK(r.models[0].parameters == w.parameter_count());
    REQUIRE(r.cells.size() == 1);
    CHECK(r.cells[0].status == CellStatus::ok);
    std::filesystem::remove_all(dir);
  }
}
