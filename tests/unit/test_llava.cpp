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
#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "llava_golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

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
  auto s = model.start(cpu, io.images("pixel_values"), {}, io.ids("input_ids"), io.dim("input_ids", 0),
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

TEST_CASE("golden: LLaVA-NeXT (tiles, unpadding, image newlines, a Mistral decoder with a sliding window) matches transformers") {
  const LlavaConfig config = VisionLanguage::checkpoint_preset(golden_dir("llava_next"));
  CHECK(config.architecture == "llava_next");
  CHECK(config.grid_pinpoints == std::vector<std::array<int, 2>>{{32, 64}, {64, 32}, {64, 64}});
  CHECK(config.text.architecture == "mistral");
  CHECK(config.text.sliding_window == 4);
  // A 40 x 56 image: tiled to 64 x 64 (2 x 2 tiles), the 8 x 8 grid cropped to
  // rows 1..6 (5 rows of image, the odd padding row kept), a newline per row.
  const LlavaImageLayout l = config.image_layout(40, 56);
  CHECK(l.tile_rows == 2);
  CHECK(l.tile_cols == 2);
  CHECK(l.tiles() == 5);
  CHECK(l.row_offset == 1);
  CHECK(l.rows == 6);
  CHECK(l.col_offset == 0);
  CHECK(l.cols == 8);
  CHECK(l.tokens == 16 + 6 * 9);
  Cpu cpu = one_thread();
  (void)check_llava_golden(cpu, "llava_next");
}

TEST_CASE("LLaVA-NeXT's layouts: llava-v1.6-mistral-7b's token counts and transformers' choice of resolution") {
  const LlavaConfig& next = VisionLanguage::find_preset("llava-hf/llava-v1.6-mistral-7b-hf");
  CHECK(next.name == "llava-v1.6-mistral-7b");
  // 672 x 672: 2 x 2 tiles, a 48 x 48 grid, nothing cropped: 576 + 48 * 49.
  CHECK(next.image_tokens(672, 672) == 2928);
  // 336 x 336: the first of the equally good resolutions, 336 x 672 (1 x 2 tiles),
  // its 24 x 48 grid cropped to 24 columns.
  const LlavaImageLayout square = next.image_layout(336, 336);
  CHECK(square.tile_rows == 1);
  CHECK(square.tile_cols == 2);
  CHECK(square.cols == 24);
  CHECK(square.col_offset == 12);
  CHECK(square.tokens == 576 + 24 * 25);
  // A wide image: 336 x 1008 (1 x 3 tiles).
  const LlavaImageLayout wide = next.image_layout(300, 1000);
  CHECK(wide.tile_rows == 1);
  CHECK(wide.tile_cols == 3);
  // The published model's 7,566,747,648 parameters, less the tower's last
  // layer and post_layernorm, which cannot change the output.
  CHECK(next.parameter_count() == 7566747648 - 12596224 - 2048);
  // The tiny preset runs a 224-pixel image as 2 x 2 tiles of 112.
  const LlavaConfig& tiny = VisionLanguage::find_preset("llava-next-tiny");
  Cpu cpu = one_thread();
  const auto model = VisionLanguage::load(cpu, tiny, 5);
  VisionLanguage::Workload<Cpu> work(cpu, model, {1, 224, 3, 2}, 5);
  work.run();
  const auto outputs = work.outputs();
  CHECK(outputs[0].value.rows() == tiny.image_tokens(224, 224));
  CHECK(tiny.image_tokens(224, 224) == 64 + 16 * 17);
}

TEST_CASE("LLaVA checkpoints: fields that change the computation are implemented or refused by name") {
  SUBCASE("a list of feature layers") {
    const auto dir = edited_golden_config("llava", "layers", [](auto& j) { j["vision_feature_layer"] = {-2, -5}; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("vision_feature_layer = [-2,-5]"),
                         ConfigError);
  }
  SUBCASE("an unknown selection strategy") {
    const auto dir = edited_golden_config("llava", "strategy", [](auto& j) { j["vision_feature_select_strategy"] = "cls"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir),
                         doctest::Contains("vision_feature_select_strategy = \"cls\""), ConfigError);
  }
  SUBCASE("a feature layer the tower does not have") {
    const auto dir = edited_golden_config("llava", "far", [](auto& j) { j["vision_feature_layer"] = -5; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("feature_layer = -5"),
                         ConfigError);
  }
  SUBCASE("an image token outside the vocabulary") {
    const auto dir = edited_golden_config("llava", "token", [](auto& j) { j["image_token_index"] = 100; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("image_token_id = 100"),
                         ConfigError);
  }
  SUBCASE("a decoder other than Llama, Qwen2 or Mistral") {
    const auto dir = edited_golden_config("llava", "gpt2", [](auto& j) { j["text_config"]["model_type"] = "gpt2"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("text_config.model_type = \"gpt2\""),
                         ConfigError);
  }
  SUBCASE("a vision tower other than CLIP's") {
    const auto dir = edited_golden_config("llava", "siglip", [](auto& j) { j["vision_config"]["model_type"] = "siglip_vision_model"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir),
                         doctest::Contains("vision_config.model_type = \"siglip_vision_model\""), ConfigError);
  }
  SUBCASE("an unknown field") {
    const auto dir = edited_golden_config("llava", "unknown", [](auto& j) { j["vision_feature_pooling"] = "avg"; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("vision_feature_pooling"),
                         ConfigError);
  }
  SUBCASE("LLaVA-NeXT without grid pinpoints, or with one that is no multiple of the tile") {
    std::ifstream in(golden_dir("llava_next") / "config.json");
    auto json = nlohmann::json::parse(in);
    json.erase("image_grid_pinpoints");
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(folder_with_config("llava-next-no-pins", json.dump())),
                         doctest::Contains("image_grid_pinpoints = (missing)"), ConfigError);
    json["image_grid_pinpoints"] = {{32, 48}};
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(folder_with_config("llava-next-odd-pins", json.dump())),
                         doctest::Contains("grid_pinpoints[0] = [32, 48]: each side must be a positive multiple"),
                         ConfigError);
    json["image_grid_pinpoints"] = {{32, 64}};
    json["vision_feature_select_strategy"] = "full";
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(folder_with_config("llava-next-full", json.dump())),
                         doctest::Contains("full_features = true: LLaVA-NeXT packs"), ConfigError);
  }
  SUBCASE("image_grid_pinpoints in a LLaVA checkpoint") {
    const auto dir = edited_golden_config("llava", "pins", [](auto& j) { j["image_grid_pinpoints"] = {{32, 64}}; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("LLaVA does not tile images"),
                         ConfigError);
  }
  SUBCASE("image_token_id and image_token_index that differ") {
    const auto dir = edited_golden_config("llava", "ids", [](auto& j) { j["image_token_id"] = 96; });
    CHECK_THROWS_WITH_AS((void)VisionLanguage::checkpoint_preset(dir), doctest::Contains("image_token_index = 97"),
                         ConfigError);
  }
}

TEST_CASE("LLaVA: prompts must hold one run of image tokens per sequence, at the same place") {
  const LlavaConfig& c = VisionLanguage::find_preset("llava-tiny");
  const int n = c.image_tokens();
  REQUIRE(n == 64);
  std::vector<std::int32_t> ids = make_llava_prompt(c, 2, 4, n, 7);
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
    CHECK(*cell.axis("image_size") == 0);
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
  VisionLanguage::Workload<Cpu> work(cpu, model, {2, 0, 4, 3}, 3);
  work.run();
  CHECK(work.tokens().size() == 6u);
  const auto outputs = work.outputs();
  REQUIRE(outputs.size() == 3);
  CHECK(outputs[0].name == "image_features");
  CHECK(outputs[0].value.rows() == 2 * 64);
}
