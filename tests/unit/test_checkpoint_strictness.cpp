// Strict checkpoint loading: every tensor of a checkpoint is used or listed
// as unused with its reason, every config.json field is read, listed as
// without effect, or refused by name and value, and a field no list knows is
// an error unless accepted by name (recorded in the results). The lists are
// the tables of docs/models.md.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"

using namespace accelbench;
using namespace accelbench::test;
namespace fs = std::filesystem;

namespace {

nlohmann::json golden_config(const std::string& arch) {
  std::ifstream in(golden_dir(arch) / "config.json");
  return nlohmann::json::parse(in);
}

/// A copy of golden folder `arch` with `config` as its config.json and
/// `weights` (or the golden weights) as its model.safetensors.
fs::path variant_folder(const std::string& arch, const std::string& name, const nlohmann::json& config,
                        const WeightMap* weights = nullptr) {
  const fs::path dir = fs::temp_directory_path() / ("accelbench-strict-" + arch + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2);
  if (weights == nullptr) {
    fs::copy_file(golden_dir(arch) / "model.safetensors", dir / "model.safetensors");
  } else {
    SafetensorsWriter file;
    for (const std::string& n : weights->names()) file.add_float(n, weights->at(n));
    file.write(dir / "model.safetensors");
  }
  return dir;
}

/// The golden checkpoint's tensors, under their stored names.
WeightMap golden_tensors(const std::string& arch) { return read_checkpoint_tensors(golden_dir(arch)); }

Config quick_config(const fs::path& dir) {
  Config c;
  c.weights = dir.string();
  c.batch_sizes = {1};
  c.sweep["prompt_lengths"] = {3};
  c.sweep["new_tokens"] = {2};
  c.warmup_iterations = 0;
  c.min_iterations = 1;
  c.min_time_s = 0.0;
  c.max_time_s = 1.0;
  c.memory_sample_interval_s = 0;
  return c;
}

template <class F>
typename F::Preset preset_of(const fs::path& dir, const std::vector<std::string>& accepted = {}) {
  return F::checkpoint_preset(dir, accepted);
}

/// Loads a checkpoint folder through family F on one Cpu thread.
template <class F>
void load_folder(const fs::path& dir) {
  Cpu cpu = one_thread();
  const auto preset = F::checkpoint_preset(dir, {});
  (void)F::load_weights(cpu, preset, F::checkpoint_weights(dir, preset));
}

struct Refusal {
  std::string arch;
  std::string field;  ///< "a" or "object.a"
  nlohmann::json value;
};

}  // namespace

TEST_CASE("a checkpoint with a tensor the model does not use fails, naming the tensor") {
  WeightMap w = golden_tensors("gpt2");
  w.insert("h.0.attn.extra.weight", HostMatrix::Constant(2, 3, 0.5f));
  const fs::path dir = variant_folder("gpt2", "extra-tensor", golden_config("gpt2"), &w);
  CHECK_THROWS_WITH_AS(load_folder<TextGeneration>(dir),
                       doctest::Contains("1 tensor that GPT-2 does not use: 'h.0.attn.extra.weight'"),
                       std::invalid_argument);
  // Through the Benchmark: the model fails with that message and its cells are still reported.
  const RunResult r = Benchmark<Cpu, TextGeneration>{quick_config(dir), one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].status == "failed");
  CHECK(r.models[0].message.find("h.0.attn.extra.weight") != std::string::npos);
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::failed);
}

TEST_CASE("a checkpoint without a tensor the model needs fails, naming the tensor") {
  const WeightMap all = golden_tensors("llama");
  WeightMap w;
  for (const auto& n : all.names()) {
    if (n != "model.layers.1.mlp.up_proj.weight") w.insert(n, all.at(n));
  }
  const fs::path dir = variant_folder("llama", "missing-tensor", golden_config("llama"), &w);
  CHECK_THROWS_WITH_AS(load_folder<TextGeneration>(dir), doctest::Contains("no tensor named 'model.layers.1.mlp.up_proj.weight'"),
                       std::out_of_range);
}

TEST_CASE("a stored copy of a tied tensor must equal it, and a stored head that differs unties it") {
  SUBCASE("T5's per-stack embedding") {
    WeightMap w = golden_tensors("t5");
    const HostMatrix shared = w.at("shared.weight");
    if (w.contains("encoder.embed_tokens.weight")) (void)w.take("encoder.embed_tokens.weight", shared.rows(), shared.cols());
    HostMatrix other = shared;
    other(0, 0) += 1.0f;
    w.insert("encoder.embed_tokens.weight", other);
    const fs::path dir = variant_folder("t5", "copy-differs", golden_config("t5"), &w);
    CHECK_THROWS_WITH_AS(load_folder<TextGeneration>(dir),
                         doctest::Contains("encoder.embed_tokens.weight differs from shared.weight"),
                         std::invalid_argument);
    // The same copy with equal values loads.
    w = golden_tensors("t5");
    if (!w.contains("encoder.embed_tokens.weight")) w.insert("encoder.embed_tokens.weight", shared);
    const fs::path same = variant_folder("t5", "copy-equal", golden_config("t5"), &w);
    CHECK_NOTHROW(load_folder<TextGeneration>(same));
  }
  SUBCASE("Whisper's tied head: one that differs is the head, as in transformers") {
    WeightMap w = golden_tensors("whisper");
    const HostMatrix embed = w.at("model.decoder.embed_tokens.weight");
    if (w.contains("proj_out.weight")) (void)w.take("proj_out.weight", embed.rows(), embed.cols());
    Cpu cpu = one_thread();
    const auto tied = Audio::load_weights(cpu, Audio::checkpoint_preset(golden_dir("whisper"), {}),
                                          Audio::checkpoint_weights(golden_dir("whisper"), Audio::checkpoint_preset(golden_dir("whisper"), {})));
    w.insert("proj_out.weight", HostMatrix(embed * 2.0f));
    const fs::path dir = variant_folder("whisper", "head-differs", golden_config("whisper"), &w);
    const auto preset = Audio::checkpoint_preset(dir, {});
    const auto untied = Audio::load_weights(cpu, preset, Audio::checkpoint_weights(dir, preset));
    CHECK(untied.parameters() == tied.parameters() + embed.size());
  }
}

TEST_CASE("every config.json field that changes the computation and is not implemented is refused by name and value") {
  const std::vector<Refusal> refusals = {
      {"bert", "is_decoder", true},
      {"bert", "add_cross_attention", true},
      {"bert", "position_embedding_type", "relative_key"},
      {"bert", "pruned_heads", {{"0", {1}}}},
      {"bert", "hidden_act", "relu"},
      {"bert", "hidden_act", "mish"},
      {"llama", "hidden_act", "gelu"},
      {"whisper", "activation_function", "gelu_fast"},
      {"wav2vec2", "feat_extract_activation", "relu"},
      {"gpt2", "add_cross_attention", true},
      {"gpt2", "activation_function", "relu"},
      {"llama", "rope_scaling.rope_type", "yarn"},
      {"llama", "rope_parameters.rope_type", "longrope"},
      {"llama", "rope_parameters.original_max_position_embeddings", 64},
      {"llama", "rope_parameters.attention_factor", 1.5},
      {"llama", "rope_theta", 500000.0},
      {"llama", "quantization_config", {{"quant_method", "bitsandbytes"}}},
      {"llama", "use_sliding_window", true},
      {"qwen2", "layer_types", {"full_attention", "chunked_attention"}},
      {"mistral", "sliding_window", 0},
      {"t5", "feed_forward_proj", "gated-silu"},
      {"t5", "feed_forward_proj", "gelu"},
      {"t5", "tie_encoder_decoder", true},
      {"vit", "hidden_act", "relu"},
      {"clip", "text_config.hidden_act", "relu"},
      {"whisper", "scale_embedding", true},
      {"wav2vec2", "feat_extract_norm", "batch"},
      {"wav2vec2", "adapter_attn_dim", 16},
      {"llava", "vision_feature_layer", {-2, -3}},
      {"llava", "projector_hidden_act", "gelu_fast"},
      {"llava", "text_config.hidden_act", "gelu"},
      {"llava", "vision_config.hidden_act", "relu"},
  };
  for (const Refusal& r : refusals) {
    CAPTURE(r.arch);
    CAPTURE(r.field);
    nlohmann::json config = golden_config(r.arch);
    const auto dot = r.field.find('.');
    if (dot == std::string::npos) {
      config[r.field] = r.value;
    } else {
      config[r.field.substr(0, dot)][r.field.substr(dot + 1)] = r.value;
    }
    const fs::path dir = variant_folder(r.arch, "refused", config);
    const auto read = [&](const fs::path& folder) {
      if (r.arch == "bert") (void)preset_of<Embedding>(folder);
      if (r.arch == "gpt2" || r.arch == "llama" || r.arch == "qwen2" || r.arch == "mistral" ||
          r.arch == "t5") {
        (void)preset_of<TextGeneration>(folder);
      }
      if (r.arch == "vit") (void)preset_of<Vision>(folder);
      if (r.arch == "clip") (void)preset_of<Multimodal>(folder);
      if (r.arch == "whisper" || r.arch == "wav2vec2") (void)preset_of<Audio>(folder);
      if (r.arch == "llava") (void)preset_of<VisionLanguage>(folder);
    };
    bool refused = false;
    try {
      read(dir);
    } catch (const ConfigError& e) {
      refused = true;
      CAPTURE(e.what());
      CHECK(std::string(e.field()).find(r.field) != std::string::npos);
      CHECK(e.value() == (r.field == "layer_types" ? std::string("\"chunked_attention\"") : r.value.dump()));
    }
    CHECK(refused);
    // The golden folder itself loads.
    CHECK_NOTHROW(read(golden_dir(r.arch)));
  }
}

TEST_CASE("rope_parameters' rope_type is checked even where a top-level rope_theta is given") {
  nlohmann::json config = golden_config("llama");
  config["rope_theta"] = config["rope_parameters"]["rope_theta"];
  config["rope_parameters"]["rope_type"] = "yarn";
  const fs::path dir = variant_folder("llama", "rope-type", config);
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(dir), doctest::Contains("rope_parameters.rope_type = \"yarn\""),
                       ConfigError);
  config["rope_parameters"]["rope_type"] = "default";
  config["rope_parameters"]["partial_rotary_factor"] = 0.5;
  const fs::path partial = variant_folder("llama", "rope-partial", config);
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(partial),
                       doctest::Contains("rope_parameters.partial_rotary_factor = 0.5"), ConfigError);
  config["rope_parameters"].erase("partial_rotary_factor");
  const fs::path agree = variant_folder("llama", "rope-agree", config);
  CHECK(preset_of<TextGeneration>(agree).rope_theta == config["rope_theta"].get<float>());
}

TEST_CASE("Llama 3's rope_scaling of older configs is read as rope_parameters") {
  // Llama-3.2-1B's config.json: rope_theta at the top, the scaling in rope_scaling.
  nlohmann::json config = golden_config("llama");
  config.erase("rope_parameters");
  config["rope_theta"] = 500000.0;
  config["rope_scaling"] = {{"factor", 32.0},
                            {"high_freq_factor", 4.0},
                            {"low_freq_factor", 1.0},
                            {"original_max_position_embeddings", 64},
                            {"rope_type", "llama3"}};
  const GenerativeConfig g = preset_of<TextGeneration>(variant_folder("llama", "rope-llama3", config));
  CHECK(g.rope_theta == 500000.0f);
  CHECK(g.rope_scaling == RotaryScaling::llama3);
  CHECK(g.rope_factor == 32.0f);
  CHECK(g.rope_low_freq_factor == 1.0f);
  CHECK(g.rope_high_freq_factor == 4.0f);
  CHECK(g.rope_original_max_positions == 64);
  // Without original_max_position_embeddings: max_position_embeddings, as in transformers.
  config["rope_scaling"].erase("original_max_position_embeddings");
  const GenerativeConfig fallback = preset_of<TextGeneration>(variant_folder("llama", "rope-llama3-max", config));
  CHECK(fallback.rope_original_max_positions == config["max_position_embeddings"].get<int>());
  // "type", the older name of rope_type; linear needs its factor.
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const GenerativeConfig linear = preset_of<TextGeneration>(variant_folder("llama", "rope-linear", config));
  CHECK(linear.rope_scaling == RotaryScaling::linear);
  CHECK(linear.rope_factor == 2.0f);
  config["rope_scaling"] = {{"type", "linear"}};
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(variant_folder("llama", "rope-linear-bare", config)),
                       doctest::Contains("rope_scaling.factor"), ConfigError);
  // Both given: they must agree.
  config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  config["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(variant_folder("llama", "rope-both", config)),
                       doctest::Contains("differs from rope_parameters"), ConfigError);
}

TEST_CASE("a config.json field no list knows is an error unless accepted by name, and the acceptance is recorded") {
  nlohmann::json config = golden_config("gpt2");
  config["attn_logit_softcapping"] = 30.0;
  config["my_dropout"] = 0.1;  // dropout, off at inference, passes by its name
  const fs::path dir = variant_folder("gpt2", "unknown-field", config);
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(dir),
                       doctest::Contains("attn_logit_softcapping = 30.0: fields this architecture does not know"),
                       ConfigError);
  CHECK(preset_of<TextGeneration>(dir, {"attn_logit_softcapping"}).layers == golden_config("gpt2")["n_layer"].get<int>());

  Config c = quick_config(dir);
  using Run = Benchmark<Cpu, TextGeneration>;
  CHECK_THROWS_AS(Run(c, one_thread()), ConfigError);
  c.accept_config_fields = {"attn_logit_softcapping"};
  const RunResult r = Benchmark<Cpu, TextGeneration>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].status == "ok");
  CHECK(r.models[0].accepted_config_fields == std::vector<std::string>{"attn_logit_softcapping"});
  CHECK(to_json(r)["models"][0]["accepted_config_fields"] == nlohmann::json::array({"attn_logit_softcapping"}));

  SUBCASE("inside CLIP's tower objects the name carries the object") {
    nlohmann::json clip = golden_config("clip");
    clip["vision_config"]["use_flash"] = true;
    const fs::path cdir = variant_folder("clip", "unknown-field", clip);
    CHECK_THROWS_WITH_AS((void)preset_of<Multimodal>(cdir), doctest::Contains("vision_config.use_flash = true"), ConfigError);
    CHECK_NOTHROW((void)preset_of<Multimodal>(cdir, {"vision_config.use_flash"}));
  }
}

TEST_CASE("the field lists name each field once, with a note") {
  const std::vector<std::pair<std::string, ConfigFields>> lists = {
      {"common", common_config_fields()},
      {"bert", bert_config_fields()},
      {"gpt2", Gpt2Architecture::config_fields()},
      {"llama", LlamaArchitecture::config_fields()},
      {"t5", T5Architecture::config_fields()},
      {"vit", vit_config_fields()},
      {"clip", clip_config_fields()},
      {"clip text", clip_tower_config_fields(true)},
      {"clip vision", clip_tower_config_fields(false)},
      {"whisper", whisper_config_fields()},
      {"wav2vec2", wav2vec2_config_fields()},
      {"llava", llava_config_fields()},
  };
  for (const auto& [name, fields] : lists) {
    CAPTURE(name);
    std::set<std::string> seen;
    for (const auto& f : fields) {
      CAPTURE(f.name);
      CHECK(seen.insert(f.name).second);
      CHECK_FALSE(f.note.empty());
    }
  }
}

namespace {

std::string role_of(const ConfigField& f) {
  switch (f.role) {
    case FieldRole::read: return "read";
    case FieldRole::no_effect: return "no effect";
    case FieldRole::refused: return "refused unless `" + f.allowed.dump() + "`";
  }
  return "";
}

std::string fields_table(const ConfigFields& fields) {
  std::string out = "| field | effect | what it is |\n| --- | --- | --- |\n";
  for (const auto& f : fields) out += "| `" + f.name + "` | " + role_of(f) + " | " + f.note + " |\n";
  return out;
}

std::string unused_table(const UnusedTensors& unused) {
  if (unused.empty()) return "Unused tensors: none.\n";
  std::string out = "| unused tensor | why |\n| --- | --- |\n";
  for (const auto& u : unused) out += "| `" + u.pattern() + "` | " + std::string(u.reason) + " |\n";
  return out;
}

/// docs/models.md's tables of config.json fields and unused tensors, as the
/// code's lists give them.
std::string field_tables() {
  std::string out;
  const auto section = [&](const std::string& title, const std::string& body) { out += "### " + title + "\n\n" + body + "\n"; };
  section("Every architecture", fields_table(common_config_fields()) +
                                    "\nand every field with `dropout` in its name, ending in `_pdrop`, or `layerdrop` "
                                    "(dropout is off at inference): no effect.\n");
  section("BERT (`bert`)", fields_table(bert_config_fields()) + "\n" + unused_table(bert_unused_tensors()));
  section("GPT-2 (`gpt2`)",
          fields_table(Gpt2Architecture::config_fields()) + "\n" + unused_table(Gpt2Architecture::unused_tensors()));
  section("Llama, Qwen2 and Mistral (`llama`, `qwen2`, `mistral`)",
          fields_table(LlamaArchitecture::config_fields()) + "\n" + unused_table(LlamaArchitecture::unused_tensors()));
  section("T5 (`t5`)", fields_table(T5Architecture::config_fields()) + "\n" + unused_table(T5Architecture::unused_tensors()));
  section("ViT (`vit`)", fields_table(vit_config_fields()) + "\n" + unused_table(vit_unused_tensors()));
  section("CLIP (`clip`)", fields_table(clip_config_fields()) + "\n`text_config`:\n\n" +
                               fields_table(clip_tower_config_fields(true)) + "\n`vision_config`:\n\n" +
                               fields_table(clip_tower_config_fields(false)) + "\n" + unused_table(clip_unused_tensors()));
  section("Whisper (`whisper`)", fields_table(whisper_config_fields()) + "\n" + unused_table(whisper_unused_tensors()));
  section("wav2vec2 (`wav2vec2`)", fields_table(wav2vec2_config_fields()) + "\n" + unused_table(wav2vec2_unused_tensors()));
  section("LLaVA and LLaVA-NeXT (`llava`, `llava_next`)",
          fields_table(llava_config_fields()) +
              "\n`vision_config` has CLIP's `vision_config` fields and `text_config` Llama's, Qwen2's or "
              "Mistral's, as above.\n\n" +
              unused_table(llava_unused_tensors()) +
              "\nThe vision layers after the feature layer (`vision_model.encoder.layers.{k}.*` for k from "
              "the number of layers that run) are left out too: they cannot change the output.\n");
  section("DETR (`detr`)", fields_table(detr_config_fields()) + "\n`backbone_config`:\n\n" +
                               fields_table(detr_backbone_fields()) + "\n" + unused_table(detr_unused_tensors()));
  section("X-CLIP (`xclip`)", fields_table(xclip_config_fields()) + "\n`text_config`:\n\n" +
                                  fields_table(xclip_tower_config_fields(true)) + "\n`vision_config`:\n\n" +
                                  fields_table(xclip_tower_config_fields(false)) + "\n" +
                                  unused_table(xclip_unused_tensors()));
  section("CLAP (`clap`)", fields_table(clap_config_fields()) + "\n`text_config`:\n\n" +
                               fields_table(clap_text_config_fields()) + "\n`audio_config`:\n\n" +
                               fields_table(clap_audio_config_fields()) + "\n" + unused_table(clap_unused_tensors()));
  return out;
}

}  // namespace

TEST_CASE("docs/models.md lists every architecture's config.json fields and unused tensors as the code does") {
  std::ifstream in(fs::path(ACCELBENCH_SOURCE_DIR) / "docs" / "models.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- checkpoint fields: generated from the code's lists, checked by test_checkpoint_strictness -->\n\n";
  const std::string end = "<!-- end of checkpoint fields -->";
  const auto b = doc.find(begin);
  const auto e = doc.find(end);
  REQUIRE_MESSAGE(b != std::string::npos, "docs/models.md lacks the marker " << begin);
  REQUIRE(e != std::string::npos);
  const std::string expected = field_tables();
  const std::string documented = doc.substr(b + begin.size(), e - b - begin.size());
  if (documented != expected) {
    const fs::path written = fs::temp_directory_path() / "accelbench-checkpoint-fields.md";
    std::ofstream(written) << expected;
    MESSAGE("the section should read as " << written.string() << ", written now");
  }
  CHECK(documented == expected);
}

TEST_CASE("the fields older transformers wrote into every config.json load as without effect") {
  // What PretrainedConfig of transformers 4 saved for every model: generation defaults and the like.
  const nlohmann::json defaults = {{"max_length", 20},        {"min_length", 0},          {"num_beams", 1},
                                   {"do_sample", false},      {"temperature", 1.0},       {"top_k", 50},
                                   {"pruned_heads", nlohmann::json::object()},           {"tie_encoder_decoder", false},
                                   {"output_past", true},     {"gradient_checkpointing", false},
                                   {"use_bfloat16", false},   {"forced_decoder_ids", nullptr}};
  nlohmann::json clip = golden_config("clip");
  for (const char* tower : {"text_config", "vision_config"}) {
    for (const auto& [k, v] : defaults.items()) clip[tower][k] = v;
    clip[tower]["is_decoder"] = false;
    clip[tower]["add_cross_attention"] = false;
    clip[tower]["tie_word_embeddings"] = true;
  }
  CHECK_NOTHROW((void)preset_of<Multimodal>(variant_folder("clip", "old-defaults", clip)));
  nlohmann::json bert = golden_config("bert");
  for (const auto& [k, v] : defaults.items()) bert[k] = v;
  CHECK_NOTHROW((void)preset_of<Embedding>(variant_folder("bert", "old-defaults", bert)));
  nlohmann::json w2v = golden_config("wav2vec2");
  w2v["mask_channel_prob"] = 0.0;
  w2v["mask_time_selection"] = "static";
  w2v["no_mask_time_overlap"] = false;
  w2v["freeze_feat_extract_train"] = true;
  CHECK_NOTHROW((void)preset_of<Audio>(variant_folder("wav2vec2", "old-defaults", w2v)));
  // A non-default pruning is still refused.
  bert["pruned_heads"] = {{"1", {0}}};
  CHECK_THROWS_WITH_AS((void)preset_of<Embedding>(variant_folder("bert", "pruned", bert)), doctest::Contains("pruned_heads"),
                       ConfigError);
}

TEST_CASE("one activation type reads every architecture's activation field, by transformers' names") {
  using accelbench::detail::activation_named;
  CHECK(activation_named("gelu") == Activation::gelu);
  CHECK(activation_named("gelu_new") == Activation::gelu_tanh);
  CHECK(activation_named("gelu_pytorch_tanh") == Activation::gelu_tanh);
  CHECK(activation_named("relu") == Activation::relu);
  CHECK(activation_named("silu") == Activation::silu);
  CHECK(activation_named("swish") == Activation::silu);
  CHECK(activation_named("quick_gelu") == Activation::quick_gelu);
  CHECK_FALSE(activation_named("gelu_fast").has_value());
  // Another name of the same function loads: GPT-2 with PyTorch's tanh GELU.
  nlohmann::json config = golden_config("gpt2");
  config["activation_function"] = "gelu_pytorch_tanh";
  CHECK_NOTHROW((void)preset_of<TextGeneration>(variant_folder("gpt2", "gelu-pytorch-tanh", config)));
  // A name no activation has, and one the architecture does not implement, say which.
  config["activation_function"] = "mish";
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(variant_folder("gpt2", "mish", config)),
                       doctest::Contains("not an activation accelbench knows"), ConfigError);
  config["activation_function"] = "relu";
  CHECK_THROWS_WITH_AS((void)preset_of<TextGeneration>(variant_folder("gpt2", "relu", config)),
                       doctest::Contains("GPT-2 implements only \"gelu_new\""), ConfigError);
}
