// LLaVA and the vision-language family: fidelity to transformers'
// LlavaForConditionalGeneration (the golden checkpoints of
// tools/golden/generate.py), the checkpoint's fields held to what is
// implemented, and Benchmark<Cpu, VisionLanguage> with its three phases.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/vision_language.hpp>
#include <accelbench/model/common/checkpoint.hpp>
#include <accelbench/model/common/safetensors.hpp>
#include <accelbench/run/benchmark.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "llava_golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

/// The golden LLaVA's config.json with `edit` applied (no weights).
template <class Edit>
std::filesystem::path edited_llava_config(const std::string& name, Edit&& edit) {
  std::ifstream in(golden_dir("llava") / "config.json");
  auto json = nlohmann::json::parse(in);
  edit(json);
  return folder_with_config("llava-" + name, json.dump());
}

/// The golden LLaVA's checkpoint with each stored name passed through `rename`.
template <class Rename>
std::filesystem::path renamed_llava(const std::string& name, Rename&& rename) {
  const auto dir = std::filesystem::temp_directory_path() / ("accelbench-test-llava-names-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden_dir("llava") / "config.json", dir / "config.json");
  const WeightMap stored = read_checkpoint_tensors(golden_dir("llava"));
  SafetensorsWriter file;
  for (const std::string& n : stored.names()) file.add_float(rename(n), stored.at(n));
  file.write(dir / "model.safetensors");
  return dir;
}

/// The image features of checkpoint folder `dir` on the golden inputs.
HostMatrix llava_features(const std::filesystem::path& dir) {
  const LlavaConfig config = VisionLanguage::checkpoint_preset(dir);
  Cpu cpu = one_thread();
  const auto model = VisionLanguage::load_weights(cpu, config, VisionLanguage::checkpoint_weights(dir, config));
  const GoldenIo io("llava");
  auto s = model.start(cpu, io.images("pixel_values"), io.ids("input_ids"), io.dim("input_ids", 0),
                       io.dim("input_ids", 1), 1);
  model.encode_images(cpu, s);
  return cpu.download(s.projected);
}

std::string replace_prefix(const std::string& n, const std::string& from, const std::string& to) {
  return n.starts_with(from) ? to + n.substr(from.size()) : n;
}

}  // namespace

TEST_CASE("LLaVA checkpoints under the Hub's names and under transformers 5's module names load alike") {
  const HostMatrix expected = GoldenIo("llava").floats("image_features");
  // The golden folder has save_pretrained's names: vision_tower.*, language_model.model.*.
  const auto hub = renamed_llava("hub", [](const std::string& n) {
    return replace_prefix(n, "vision_tower.", "vision_tower.vision_model.");
  });
  CHECK(max_abs_error(llava_features(hub), expected) <= golden_tolerance);
  const auto modules = renamed_llava("modules", [](const std::string& n) {
    std::string r = replace_prefix(n, "vision_tower.", "model.vision_tower.");
    r = replace_prefix(r, "multi_modal_projector.", "model.multi_modal_projector.");
    r = replace_prefix(r, "language_model.model.", "model.language_model.");
    return replace_prefix(r, "language_model.lm_head.", "lm_head.");
  });
  CHECK(max_abs_error(llava_features(modules), expected) <= golden_tolerance);
  const auto missing = renamed_llava("missing", [](const std::string& n) {
    return replace_prefix(n, "multi_modal_projector.linear_2.bias", "multi_modal_projector.linear_3.bias");
  });
  CHECK_THROWS_WITH(llava_features(missing), doctest::Contains("no tensor named 'multi_modal_projector.linear_2.bias'"));
}

TEST_CASE("golden: LLaVA (feature layer -2, class token dropped, Llama decoder) matches transformers") {
  const LlavaConfig config = VisionLanguage::checkpoint_preset(golden_dir("llava"));
  CHECK(config.name == "llava");
  CHECK(config.image_token_id == 97);
  CHECK(config.feature_layer == -2);
  CHECK(config.vision_layers_run() == 2);  // of 3: the last cannot change the output
  CHECK_FALSE(config.full_features);
  CHECK(config.image_tokens() == 16);
  CHECK(config.projector_bias);
  CHECK(config.text.architecture == "llama");
  CHECK_FALSE(config.text.tied_embeddings);
  const WeightMap weights = VisionLanguage::checkpoint_weights(golden_dir("llava"), config);
  CHECK_FALSE(weights.contains("vision_model.encoder.layers.2.mlp.fc1.weight"));
  CHECK_FALSE(weights.contains("vision_model.post_layernorm.weight"));
  CHECK(weights.contains("vision_model.encoder.layers.1.mlp.fc1.weight"));
  CHECK(weights.contains("model.layers.0.self_attn.q_proj.weight"));
  CHECK(weights.contains("lm_head.weight"));
  Cpu cpu = one_thread();
  (void)check_llava_golden(cpu, "llava");
}

TEST_CASE("golden: LLaVA with a positive feature layer, every token, no projector biases, a tied Qwen2 decoder") {
  const LlavaConfig config = VisionLanguage::checkpoint_preset(golden_dir("llava_variant"));
  CHECK(config.feature_layer == 1);
  CHECK(config.vision_layers_run() == 1);
  CHECK(config.full_features);
  CHECK(config.image_tokens() == 17);  // 16 patches and the class token
  CHECK_FALSE(config.projector_bias);
  CHECK(config.text.architecture == "qwen2");
  CHECK(config.text.tied_embeddings);
  Cpu cpu = one_thread();
  const LlavaConfig built = check_llava_golden(cpu, "llava_variant");
  CHECK(built.text.tied_embeddings);
}

TEST_CASE("LLaVA checkpoints: fields that change the computation are implemented or refused by name") {
  SUBCASE("a list of feature layers") {
    const auto dir = edited_llava_config("layers", [](auto& j) { j["vision_feature_layer"] = {-2, -5}; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("vision_feature_layer = [-2,-5]"),
                         ConfigError);
  }
  SUBCASE("an unknown selection strategy") {
    const auto dir = edited_llava_config("strategy", [](auto& j) { j["vision_feature_select_strategy"] = "cls"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir),
                         doctest::Contains("vision_feature_select_strategy = \"cls\""), ConfigError);
  }
  SUBCASE("a feature layer the tower does not have") {
    const auto dir = edited_llava_config("far", [](auto& j) { j["vision_feature_layer"] = -5; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("feature_layer = -5"),
                         ConfigError);
  }
  SUBCASE("an image token outside the vocabulary") {
    const auto dir = edited_llava_config("token", [](auto& j) { j["image_token_index"] = 100; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("image_token_id = 100"),
                         ConfigError);
  }
  SUBCASE("a decoder other than Llama, Qwen2 or Mistral") {
    const auto dir = edited_llava_config("gpt2", [](auto& j) { j["text_config"]["model_type"] = "gpt2"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("text_config.model_type = \"gpt2\""),
                         ConfigError);
  }
  SUBCASE("a vision tower other than CLIP's") {
    const auto dir = edited_llava_config("siglip", [](auto& j) { j["vision_config"]["model_type"] = "siglip_vision_model"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir),
                         doctest::Contains("vision_config.model_type = \"siglip_vision_model\""), ConfigError);
  }
  SUBCASE("an unknown field") {
    const auto dir = edited_llava_config("unknown", [](auto& j) { j["vision_feature_pooling"] = "avg"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("vision_feature_pooling"),
                         ConfigError);
  }
  SUBCASE("image_token_id and image_token_index that differ") {
    const auto dir = edited_llava_config("ids", [](auto& j) { j["image_token_id"] = 96; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("image_token_index = 97"),
                         ConfigError);
  }
}

TEST_CASE("LLaVA: prompts must hold one run of image tokens per sequence, at the same place") {
  const LlavaConfig& c = VisionLanguage::find_preset("llava-tiny");
  const int n = c.image_tokens();
  REQUIRE(n == 64);
  std::vector<std::int32_t> ids = make_llava_prompt(c, 2, 4, 7);
  REQUIRE(ids.size() == std::size_t(2 * (n + 4)));
  CHECK(find_image_tokens(ids, 2, n + 4, c.image_token_id, n).start == 1);
  std::vector<std::int32_t> short_run = ids;
  short_run[1] = 5;
  CHECK_THROWS_WITH((void)find_image_tokens(short_run, 2, n + 4, c.image_token_id, n),
                    doctest::Contains("sequence 0 holds 63 image tokens"));
  std::vector<std::int32_t> split = ids;
  std::swap(split[2], split[std::size_t(n) + 1]);
  CHECK_THROWS_WITH((void)find_image_tokens(split, 2, n + 4, c.image_token_id, n), doctest::Contains("not one run"));
  std::vector<std::int32_t> shifted = ids;
  const std::size_t row = std::size_t(n + 4);
  std::rotate(shifted.begin() + std::ptrdiff_t(row), shifted.end() - 1, shifted.end());  // sequence 1 one to the right
  CHECK_THROWS_WITH((void)find_image_tokens(shifted, 2, n + 4, c.image_token_id, n), doctest::Contains("start at 2"));
}

TEST_CASE("Benchmark<Cpu, VisionLanguage>: image_encode, prefill and decode phases on the golden checkpoint") {
  Config c;
  c.weights = golden_dir("llava").string();
  c.batch_sizes = {1, 2};
  c.sweep = {{"prompt_lengths", {5}}, {"new_tokens", {4}}};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<Cpu, VisionLanguage>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].family == "vision-language");
  CHECK(r.models[0].architecture == "llava");
  const LlavaConfig preset = VisionLanguage::checkpoint_preset(golden_dir("llava"));
  CHECK(r.models[0].parameters == preset.parameter_count());
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    const double batch = *cell.axis("batch_size");
    CHECK(cell.throughput.item_unit == "images");
    REQUIRE(cell.phases.size() == 3);
    CHECK(cell.phases[0].name == "image_encode");
    CHECK(cell.phases[0].item_unit == "images");
    CHECK(cell.phases[1].name == "prefill");
    CHECK(cell.phases[1].items == doctest::Approx(batch * (5 + 16)));
    CHECK(cell.phases[2].name == "decode");
    CHECK(cell.phases[2].per_run == 3);
    CHECK(cell.phases[0].latency.mean > 0);
    CHECK(cell.phases[2].latency.mean > 0);
  }
}

TEST_CASE("vision-language presets: llava-1.5-7b's dimensions and parameter count") {
  const LlavaConfig& big = VisionLanguage::find_preset("llava-hf/llava-1.5-7b-hf");
  CHECK(big.name == "llava-1.5-7b");
  CHECK(big.image_tokens() == 576);
  CHECK(big.vision_layers_run() == 23);
  // The published model has 7,063,427,072 parameters; the vision tower's
  // last layer (12,596,224) and post_layernorm (2,048) do not run here.
  CHECK(big.parameter_count() == 7063427072 - 12596224 - 2048);
  const LlavaConfig& tiny = VisionLanguage::find_preset("llava-tiny");
  Cpu cpu = one_thread();
  const auto model = VisionLanguage::load(cpu, tiny, 3);
  CHECK(model.parameters() == tiny.parameter_count());
  VisionLanguage::Workload<Cpu> work(cpu, model, {2, 4, 3}, 3);
  work.run();
  CHECK(work.tokens().size() == 6u);
  const auto outputs = work.outputs();
  REQUIRE(outputs.size() == 3);
  CHECK(outputs[0].name == "image_features");
  CHECK(outputs[0].value.rows() == 2 * 64);
}
