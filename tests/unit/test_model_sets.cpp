// Model sets (suite/model_sets.hpp): the key and small sets, custom sets
// from a file with their errors, picking members, and the suite they make,
// unsupported members included.

#include <doctest/doctest.h>

#include <accelbench/suite/compatibility.hpp>
#include <accelbench/suite/model_sets.hpp>
#include <accelbench/suite/suite_json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace accelbench;
namespace fs = std::filesystem;

namespace {

fs::path set_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "accelbench-test-model-sets";
  fs::create_directories(dir);
  const fs::path file = dir / (name + ".json");
  std::ofstream(file) << text;
  return file;
}

std::vector<std::string> keys(const ModelSet& s) {
  std::vector<std::string> out;
  for (const auto& m : s.members) out.push_back(m.key);
  return out;
}

/// Whether `model` is a preset of the family named `family`.
bool is_preset(const std::string& family, const std::string& model) {
  bool found = false;
  detail::find_by_name(KnownFamilies{}, family, [&](auto f) {
    found = detail::family_has_preset<typename decltype(f)::type>(model);
  });
  return found;
}

}  // namespace

TEST_CASE("model sets: the thirteen key models, each a preset of its family") {
  const ModelSet key = key_model_set();
  CHECK(keys(key) == std::vector<std::string>{"bert", "clap", "clip", "detr", "llama", "llava", "llava_next", "qwen2",
                                              "t5", "vit", "wav2vec2", "whisper", "xclip"});
  for (const auto& m : key.members) {
    CAPTURE(m.key);
    CHECK(m.unsupported.empty());
    CHECK(is_preset(m.family, m.model));
  }
  const ModelSet small = small_model_set();
  CHECK(keys(small) == std::vector<std::string>{"bert", "t5", "vit", "whisper", "clip"});
  for (const auto& m : small.members) CHECK(is_preset(m.family, m.model));
}

TEST_CASE("model sets: a set makes the suite's benchmarks by family, its unsupported members listed apart") {
  Suite s;
  ModelSet set = key_model_set();
  // A member the library cannot run (a custom set's, say) is listed apart with its reason.
  set.members.insert(set.members.begin() + 2, ModelSetMember{"clap_fused", {}, {}, "CLAP's fusion path is not implemented"});
  set_model_set(s, set);
  REQUIRE(s.benchmarks.size() == 8);
  CHECK(s.benchmarks[0] == SuiteEntry{"embedding", {"bert-tiny"}});
  CHECK(s.benchmarks[1] == SuiteEntry{"audio-text", {"clap-tiny"}});
  CHECK(s.benchmarks[2] == SuiteEntry{"multimodal", {"clip-vit-base-patch32"}});
  CHECK(s.benchmarks[3] == SuiteEntry{"vision", {"detr-tiny", "vit-tiny"}});
  CHECK(s.benchmarks[4] == SuiteEntry{"text-generation", {"llama-tiny", "qwen2-tiny", "t5-small"}});
  CHECK(s.benchmarks[5] == SuiteEntry{"vision-language", {"llava-tiny", "llava-next-tiny"}});
  CHECK(s.benchmarks[6] == SuiteEntry{"audio", {"wav2vec2-base", "whisper-tiny"}});
  CHECK(s.benchmarks[7] == SuiteEntry{"video-text", {"xclip-tiny"}});
  REQUIRE(s.unsupported.size() == 1);
  CHECK(s.unsupported[0].model == "clap_fused");
  // The suite file keeps them.
  const Suite back = parse_suite(suite_to_json(s));
  CHECK(back.unsupported == s.unsupported);
  CHECK(back.benchmarks == s.benchmarks);
  CHECK_THROWS_WITH_AS((void)parse_suite(Json::parse(R"({"unsupported": [{"model": "x", "why": "y"}]})")),
                       doctest::Contains("unsupported[0].why"), ConfigError);
}

TEST_CASE("model sets: --specific-models picks members by key or model, in the set's order") {
  const ModelSet picked = pick_models(key_model_set(), {"whisper", "bert-tiny", "detr"});
  CHECK(keys(picked) == std::vector<std::string>{"bert", "detr", "whisper"});
  CHECK(keys(pick_models(small_model_set(), {})) == keys(small_model_set()));
  CHECK_THROWS_WITH_AS((void)pick_models(small_model_set(), {"llava"}),
                       doctest::Contains("--specific-models = \"llava\": not in the model set small (bert, t5, vit, whisper, clip)"),
                       ConfigError);
}

TEST_CASE("model sets: a custom set from a JSON file, and its errors by file and field") {
  const fs::path folder = fs::temp_directory_path() / "accelbench-test-model-sets" / "my-checkpoint";
  fs::create_directories(folder);
  const fs::path file = set_file("mine", R"({"models": [
      {"key": "tiny-llama", "family": "text-generation", "model": "llama-tiny"},
      {"family": "vision", "model": "vit-tiny"},
      {"family": "embedding", "model": "my-checkpoint"}]})");
  const ModelSet set = custom_model_set(file);
  CHECK(set.name == "mine");
  CHECK(keys(set) == std::vector<std::string>{"tiny-llama", "vit-tiny", "my-checkpoint"});
  CHECK(set.members[2].model == folder.string());  // relative to the file's folder
  CHECK(set.members[0].unsupported.empty());

  const auto error = [](const std::string& name, const std::string& text) {
    try {
      (void)custom_model_set(set_file(name, text));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("family", R"({"models": [{"family": "speech", "model": "x"}]})").find("models[0].family = \"speech\": unknown family") !=
        std::string::npos);
  CHECK(error("missing", R"({"models": [{"family": "vision"}]})").find("models[0].model = (missing)") != std::string::npos);
  CHECK(error("field", R"({"models": [{"family": "vision", "model": "vit-tiny", "size": 3}]})").find("models[0].size = 3") !=
        std::string::npos);
  CHECK(error("twice", R"({"models": [{"family": "vision", "model": "vit-tiny"}, {"family": "vision", "model": "vit-tiny"}]})")
            .find("models[1].key = \"vit-tiny\": named twice") != std::string::npos);
  CHECK(error("empty", R"({"models": []})").find("models = []") != std::string::npos);
  CHECK(error("top", R"({"name": "x", "model": []})").find("model = []: unknown field") != std::string::npos);
  CHECK(error("broken", R"({"models": [)").find("not valid JSON") != std::string::npos);
  CHECK_THROWS_WITH_AS((void)custom_model_set(fs::temp_directory_path() / "accelbench-no-such-set.json"),
                       doctest::Contains("cannot open the file"), ConfigError);
}
