// Fidelity to Hugging Face transformers: tiny random-weight checkpoints and
// their reference outputs, written by tools/golden/generate.py, are read
// through the library's checkpoint loader and run on the Cpu backend.
// Hidden states and logits must agree within 1e-4 absolute and greedy
// tokens exactly.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/model/common/checkpoint.hpp>
#include <accelbench/model/common/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

using Io = GoldenIo;

/// BERT's inputs as the generator stored them: ids, token types and mask.
BertInput bert_input(const Io& io) {
  BertInput in;
  in.batch = static_cast<int>(io.dim("input_ids", 0));
  in.seq = static_cast<int>(io.dim("input_ids", 1));
  in.input_ids = io.ids("input_ids");
  in.token_type_ids = io.ids("token_type_ids");
  for (int b = 0; b < in.batch; ++b) {
    for (int s = 0; s < in.seq; ++s) in.position_ids.push_back(s);
  }
  in.attention_mask = io.mask("attention_mask");
  return in;
}

/// A decoder-only model on the golden inputs of `arch`: hidden states and
/// logits of the prompt, then greedy generation with the key-value cache.
template <class Lm>
void check_causal_lm_outputs(Cpu& cpu, const Lm& lm, const std::string& arch) {
  const Io io(arch);
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int prompt = static_cast<int>(io.dim("input_ids", 1));
  const int new_tokens = static_cast<int>(io.dim("generated_ids", 1));
  auto session = lm.start(cpu, io.ids("input_ids"), batch, prompt, new_tokens);
  lm.prefill(cpu, session);
  check_close(arch + " last_hidden_state", session.prefill.h, io.floats("last_hidden_state"));
  HostMatrix logits;
  lm.prompt_logits(cpu, session, logits);
  check_close(arch + " logits", logits, io.floats("logits"));

  std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t > 0) lm.decode(cpu, session);
    const auto ids = cpu.download_indices(session.next_ids);
    for (int b = 0; b < batch; ++b) generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
  }
  CHECK(generated == io.ids("generated_ids"));
}

/// The decoder-only checkpoint `arch` (of model_type `model_type`) through
/// the checkpoint loader, checked against its golden outputs; the model's
/// parameters are those its configuration lists. Returns the configuration
/// the model was built with.
template <class Lm>
GenerativeConfig check_causal_lm(const std::string& arch, const std::string& model_type) {
  const auto dir = golden_dir(arch);
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  CHECK(config.architecture == model_type);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& lm = std::get<Lm>(model.impl());
  CHECK(model.parameters() == lm.config().parameter_count());
  check_causal_lm_outputs(cpu, lm, arch);
  return lm.config();
}

template <class Lm>
GenerativeConfig check_causal_lm(const std::string& arch) {
  return check_causal_lm<Lm>(arch, arch);
}

/// A copy of golden checkpoint `arch` whose config.json `edit` changes.
std::filesystem::path golden_with_config(const std::string& arch, const std::string& name,
                                         const std::function<void(nlohmann::json&)>& edit) {
  const auto dir = std::filesystem::temp_directory_path() / ("accelbench-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden_dir(arch) / "model.safetensors", dir / "model.safetensors");
  std::ifstream in(golden_dir(arch) / "config.json");
  auto json = nlohmann::json::parse(in);
  edit(json);
  std::ofstream(dir / "config.json") << json.dump();
  return dir;
}

/// T5 checkpoint `dir` against the golden outputs of `arch`: the encoder,
/// the teacher-forced decoder and its logits, and greedy generation.
/// Returns the configuration the model was built with.
GenerativeConfig check_t5(const std::filesystem::path& dir, const std::string& arch) {
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  REQUIRE(config.is_encoder_decoder());
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& t5 = std::get<T5<Cpu>>(model.impl());
  CHECK(model.parameters() == t5.config().parameter_count());

  const Io io(arch);
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int input_len = static_cast<int>(io.dim("input_ids", 1));
  const int decoder_len = static_cast<int>(io.dim("decoder_input_ids", 1));
  const int new_tokens = static_cast<int>(io.dim("generated_ids", 1));
  auto session = t5.start(cpu, io.ids("input_ids"), batch, input_len, std::max(new_tokens, decoder_len));
  t5.encode(cpu, session);
  check_close(arch + " encoder_last_hidden_state", session.encoder_out, io.floats("encoder_last_hidden_state"));

  // Teacher forcing needs the cross keys and values that prefill computes.
  t5.prefill(cpu, session);
  HostMatrix hidden, logits;
  t5.decode_sequence(cpu, session, io.ids("decoder_input_ids"), decoder_len, hidden, logits);
  check_close(arch + " decoder_last_hidden_state", hidden, io.floats("decoder_last_hidden_state"));
  check_close(arch + " logits", logits, io.floats("logits"));

  auto gen = t5.start(cpu, io.ids("input_ids"), batch, input_len, new_tokens);
  std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t == 0) {
      t5.prefill(cpu, gen);
    } else {
      t5.decode(cpu, gen);
    }
    const auto ids = cpu.download_indices(gen.next_ids);
    for (int b = 0; b < batch; ++b) generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
  }
  CHECK(generated == io.ids("generated_ids"));
  return t5.config();
}

}  // namespace

TEST_CASE("golden: BERT matches transformers' BertModel, padding included") {
  const auto dir = golden_dir("bert");
  const BertConfig config = Embedding::checkpoint_preset(dir);
  CHECK(config.name == "bert");
  Cpu cpu = one_thread();
  const auto model = Embedding::load_weights(cpu, config, Embedding::checkpoint_weights(dir, config));

  const Io io("bert");
  const BertInput in = bert_input(io);
  REQUIRE(in.attention_mask.sum() < in.batch * in.seq);  // the second sequence is padded

  auto ws = model.prepare(cpu, in);
  model.forward(cpu, ws);
  check_close("bert last_hidden_state", ws.hidden, io.floats("last_hidden_state"));
  check_close("bert pooled_embedding", ws.pooled, io.floats("pooled_embedding"));
}

TEST_CASE("golden: GPT-2 matches transformers' GPT2LMHeadModel") { check_causal_lm<Gpt2<Cpu>>("gpt2"); }

TEST_CASE("golden: Llama with grouped-query attention matches transformers' LlamaForCausalLM") {
  const GenerativeConfig config = TextGeneration::checkpoint_preset(golden_dir("llama"));
  CHECK(config.effective_kv_heads() < config.heads);
  CHECK_FALSE(config.tied_embeddings);
  check_causal_lm<Llama<Cpu>>("llama");
}

TEST_CASE("golden: Qwen2 (q/k/v biases, tied head) matches transformers' Qwen2ForCausalLM") {
  const GenerativeConfig config = TextGeneration::checkpoint_preset(golden_dir("qwen2"));
  CHECK(config.qkv_bias);
  CHECK(config.tied_embeddings);
  CHECK(config.rope_theta == doctest::Approx(1e6));
  check_causal_lm<Llama<Cpu>>("qwen2");
}

TEST_CASE("golden: T5 matches transformers' T5ForConditionalGeneration") {
  const GenerativeConfig config = check_t5(golden_dir("t5"), "t5");
  CHECK(config.tied_embeddings);
  CHECK(config.scale_decoder_outputs);
}

// The variants: options of the same classes that the checkpoints above
// leave at their defaults (tools/golden/README.md).

TEST_CASE("golden: GPT-2 with its own head, unscaled scores and scores divided by the layer number") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("gpt2_variant"));
  CHECK_FALSE(preset.tied_embeddings);
  CHECK_FALSE(preset.scale_attn_weights);
  CHECK(preset.scale_attn_by_inverse_layer_idx);
  CHECK_FALSE(check_causal_lm<Gpt2<Cpu>>("gpt2_variant", "gpt2").tied_embeddings);
}

TEST_CASE("golden: Llama with attention_bias (q, k, v, o) and mlp_bias (gate, up, down)") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("llama_bias"));
  CHECK(preset.qkv_bias);
  CHECK(preset.attention_output_bias);
  CHECK(preset.mlp_bias);
  CHECK_FALSE(preset.tied_embeddings);
  const auto shapes = preset.tensor_shapes();
  const auto has = [&](const std::string& name) {
    return std::any_of(shapes.begin(), shapes.end(), [&](const auto& s) { return s.first == name; });
  };
  for (const char* bias : {"self_attn.o_proj.bias", "mlp.gate_proj.bias", "mlp.up_proj.bias", "mlp.down_proj.bias"}) {
    CHECK(has(std::string("model.layers.1.") + bias));
  }
  check_causal_lm<Llama<Cpu>>("llama_bias", "llama");
}

TEST_CASE("golden: Qwen2 tied by config.json but storing a different head uses the stored head, as transformers") {
  // transformers does not tie a head that the checkpoint stores with other
  // values than the embedding; the model says so in its configuration.
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("qwen2_head"));
  CHECK(preset.tied_embeddings);
  const GenerativeConfig loaded = check_causal_lm<Llama<Cpu>>("qwen2_head", "qwen2");
  CHECK_FALSE(loaded.tied_embeddings);
  CHECK(loaded.parameter_count() == preset.parameter_count() + std::int64_t{preset.vocab_size} * preset.hidden);
}

/// The logits of every greedy step of `arch` (its io.safetensors'
/// step_logits, row b * new_tokens + t), decoding with the key-value cache:
/// the steps past a sliding window read the cache through the window.
template <class Lm>
void check_step_logits(const std::string& arch) {
  const auto dir = golden_dir(arch);
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& lm = std::get<Lm>(model.impl());
  const Io io(arch);
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int prompt = static_cast<int>(io.dim("input_ids", 1));
  const int new_tokens = static_cast<int>(io.dim("generated_ids", 1));
  const HostMatrix expected = io.floats("step_logits");
  REQUIRE(expected.rows() == batch * new_tokens);
  auto session = lm.start(cpu, io.ids("input_ids"), batch, prompt, new_tokens);
  lm.prefill(cpu, session);
  HostMatrix steps(expected.rows(), expected.cols());
  for (int t = 0; t < new_tokens; ++t) {
    if (t > 0) lm.decode(cpu, session);
    const HostMatrix logits = t == 0 ? HostMatrix(session.prefill.logits) : HostMatrix(session.step.logits);
    for (int b = 0; b < batch; ++b) steps.row(b * new_tokens + t) = logits.row(b);
  }
  check_close(arch + " step logits", steps, expected);
}

TEST_CASE("golden: Qwen2 with sliding-window layers (max_window_layers) matches transformers, past the window") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("qwen2_window"));
  CHECK(preset.sliding_window == 4);
  CHECK(preset.sliding_layers == std::vector<int>{1});
  CHECK(preset.attention_window(0) == 0);
  CHECK(preset.attention_window(1) == 4);
  check_causal_lm<Llama<Cpu>>("qwen2_window", "qwen2");
  check_step_logits<Llama<Cpu>>("qwen2_window");
}

TEST_CASE("golden: Mistral (a sliding window in every layer) matches transformers' MistralForCausalLM") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("mistral"));
  CHECK(preset.sliding_window == 4);
  CHECK(preset.sliding_layers.empty());
  CHECK(preset.attention_window(0) == 4);
  CHECK(preset.attention_window(1) == 4);
  CHECK_FALSE(preset.qkv_bias);
  CHECK_FALSE(preset.tied_embeddings);
  check_causal_lm<Llama<Cpu>>("mistral");
  check_step_logits<Llama<Cpu>>("mistral");
}

TEST_CASE("golden: Llama with llama3 and linear rotary scaling matches transformers, prompt and decode steps") {
  const GenerativeConfig llama3 = TextGeneration::checkpoint_preset(golden_dir("llama_rope_llama3"));
  CHECK(llama3.rope_scaling == RotaryScaling::llama3);
  CHECK(llama3.rope_factor == 8.0f);
  CHECK(llama3.rope_low_freq_factor == 1.0f);
  CHECK(llama3.rope_high_freq_factor == 4.0f);
  CHECK(llama3.rope_original_max_positions == 64);
  check_causal_lm<Llama<Cpu>>("llama_rope_llama3", "llama");
  check_step_logits<Llama<Cpu>>("llama_rope_llama3");
  const GenerativeConfig linear = TextGeneration::checkpoint_preset(golden_dir("llama_rope_linear"));
  CHECK(linear.rope_scaling == RotaryScaling::linear);
  CHECK(linear.rope_factor == 4.0f);
  check_causal_lm<Llama<Cpu>>("llama_rope_linear", "llama");
  check_step_logits<Llama<Cpu>>("llama_rope_linear");
}

TEST_CASE("golden: Llama with dynamic rotary scaling matches transformers' generate, past max_position_embeddings") {
  // max_position_embeddings 9, a prompt of 7 and 6 new tokens: the last three
  // decode steps grow the base; the reference is generate()'s own logits.
  const GenerativeConfig dynamic = TextGeneration::checkpoint_preset(golden_dir("llama_rope_dynamic"));
  CHECK(dynamic.rope_scaling == RotaryScaling::dynamic);
  CHECK(dynamic.rope_factor == 2.0f);
  CHECK(dynamic.max_positions == 9);
  check_causal_lm<Llama<Cpu>>("llama_rope_dynamic", "llama");
  check_step_logits<Llama<Cpu>>("llama_rope_dynamic");
}

TEST_CASE("golden: Qwen2's and Mistral's sliding windows by transformers' rules") {
  const auto window = [](const std::string& arch, const std::string& name,
                         const std::function<void(nlohmann::json&)>& edit) {
    return TextGeneration::checkpoint_preset(golden_with_config(arch, name, edit));
  };
  SUBCASE("Qwen2 without use_sliding_window: no window, whatever sliding_window and max_window_layers say") {
    const GenerativeConfig c = window("qwen2_window", "window-no-use", [](nlohmann::json& j) {
      j["use_sliding_window"] = false;
      j.erase("layer_types");
    });
    CHECK(c.sliding_window == 0);
    CHECK(c.attention_window(1) == 0);
  }
  SUBCASE("Qwen2 without layer_types: the layers from max_window_layers on") {
    const GenerativeConfig c = window("qwen2_window", "window-derived", [](nlohmann::json& j) {
      j.erase("layer_types");
      j["max_window_layers"] = 0;
    });
    CHECK(c.sliding_window == 4);
    CHECK(c.sliding_layers.empty());  // every layer
    const GenerativeConfig d = window("qwen2_window", "window-derived-28", [](nlohmann::json& j) {
      j.erase("layer_types");
      j.erase("max_window_layers");  // default 28: no layer of two
    });
    CHECK(d.sliding_window == 0);
  }
  SUBCASE("Qwen2: layer_types over max_window_layers; sliding_window absent is 4096, null is none") {
    const GenerativeConfig c = window("qwen2_window", "window-types", [](nlohmann::json& j) {
      j["layer_types"] = {"sliding_attention", "full_attention"};
      j.erase("sliding_window");
    });
    CHECK(c.sliding_window == 4096);
    CHECK(c.sliding_layers == std::vector<int>{0});
    CHECK_THROWS_WITH_AS(window("qwen2_window", "window-types-null", [](nlohmann::json& j) { j["sliding_window"] = nullptr; }),
                         doctest::Contains("layer_types[1]"), ConfigError);
    CHECK_THROWS_WITH_AS(window("qwen2_window", "window-types-no-use", [](nlohmann::json& j) { j["use_sliding_window"] = false; }),
                         doctest::Contains("use_sliding_window"), ConfigError);
    CHECK_THROWS_AS(window("qwen2_window", "window-types-short", [](nlohmann::json& j) { j["layer_types"] = {"full_attention"}; }),
                    ConfigError);
  }
  SUBCASE("Mistral: sliding_window absent is 4096, null is none; layer_types must agree") {
    CHECK(window("mistral", "window-mistral-window-mistral-absent", [](nlohmann::json& j) { j.erase("sliding_window"); }).sliding_window == 4096);
    CHECK(window("mistral", "window-mistral-window-mistral-null", [](nlohmann::json& j) { j["sliding_window"] = nullptr; }).sliding_window == 0);
    CHECK(window("mistral", "window-mistral-window-mistral-types", [](nlohmann::json& j) {
            j["layer_types"] = {"sliding_attention", "sliding_attention"};
          }).sliding_window == 4);
    CHECK_THROWS_WITH_AS(window("mistral", "window-mistral-window-mistral-types-full", [](nlohmann::json& j) {
                           j["layer_types"] = {"full_attention", "sliding_attention"};
                         }),
                         doctest::Contains("ignores layer_types"), ConfigError);
  }
}

TEST_CASE("golden: a stored head equal to the embedding stays tied; a lone stored head is also the embedding") {
  const auto dir = golden_dir("qwen2");
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  REQUIRE(config.tied_embeddings);
  Cpu cpu = one_thread();
  SUBCASE("a copy of the embedding as lm_head.weight") {
    WeightMap weights = TextGeneration::checkpoint_weights(dir, config);
    weights.insert("lm_head.weight", weights.at("model.embed_tokens.weight"));
    const auto model = TextGeneration::load_weights(cpu, config, std::move(weights));
    const auto& lm = std::get<Llama<Cpu>>(model.impl());
    CHECK(lm.config().tied_embeddings);
    CHECK(model.parameters() == config.parameter_count());
    check_causal_lm_outputs(cpu, lm, "qwen2");
  }
  SUBCASE("the embedding stored as lm_head.weight only") {
    WeightMap weights = TextGeneration::checkpoint_weights(dir, config);
    const HostMatrix& e = weights.at("model.embed_tokens.weight");
    weights.insert("lm_head.weight", weights.take("model.embed_tokens.weight", e.rows(), e.cols()));
    const auto model = TextGeneration::load_weights(cpu, config, std::move(weights));
    const auto& lm = std::get<Llama<Cpu>>(model.impl());
    CHECK(lm.config().tied_embeddings);
    check_causal_lm_outputs(cpu, lm, "qwen2");
  }
}

TEST_CASE("golden: T5 with its own head and unscaled decoder outputs (T5 v1.1's head)") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("t5_untied"));
  CHECK(preset.tied_embeddings);  // transformers 5 forces T5's tie_word_embeddings to true
  CHECK_FALSE(preset.scale_decoder_outputs);
  SUBCASE("config.json as transformers 5 writes it") {
    CHECK_FALSE(check_t5(golden_dir("t5_untied"), "t5_untied").tied_embeddings);
  }
  SUBCASE("config.json as older versions wrote it: tie_word_embeddings false, no scale_decoder_outputs") {
    const auto dir = golden_with_config("t5_untied", "t5-untied-legacy-config", [](nlohmann::json& j) {
      j.erase("scale_decoder_outputs");
      j["tie_word_embeddings"] = false;
    });
    CHECK_FALSE(TextGeneration::checkpoint_preset(dir).scale_decoder_outputs);
    CHECK_FALSE(check_t5(dir, "t5_untied").tied_embeddings);
  }
}

TEST_CASE("golden: T5 with the gated-gelu feed-forward and its own head (T5 v1.1, Flan-T5)") {
  const GenerativeConfig preset = TextGeneration::checkpoint_preset(golden_dir("t5_gated"));
  CHECK(preset.gated_gelu);
  CHECK_FALSE(preset.scale_decoder_outputs);
  const GenerativeConfig config = check_t5(golden_dir("t5_gated"), "t5_gated");
  CHECK_FALSE(config.tied_embeddings);
  // transformers' count of the loaded model, its own head (100 x 32) included.
  CHECK(config.parameter_count() == 56'000);
}

TEST_CASE("golden: T5 with tie_word_embeddings false and no stored head: the shared embedding, unscaled") {
  // transformers 5 ties T5's head whatever config.json says; false only
  // turns the d_model^-1/2 scaling off.
  const auto dir = golden_with_config("t5", "t5-untied-without-head", [](nlohmann::json& j) {
    j.erase("scale_decoder_outputs");
    j["tie_word_embeddings"] = false;
  });
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  CHECK(config.tied_embeddings);
  CHECK_FALSE(config.scale_decoder_outputs);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& t5 = std::get<T5<Cpu>>(model.impl());
  const Io io("t5");
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int decoder_len = static_cast<int>(io.dim("decoder_input_ids", 1));
  auto session = t5.start(cpu, io.ids("input_ids"), batch, static_cast<int>(io.dim("input_ids", 1)), decoder_len);
  t5.prefill(cpu, session);
  HostMatrix hidden, logits;
  t5.decode_sequence(cpu, session, io.ids("decoder_input_ids"), decoder_len, hidden, logits);
  const HostMatrix shared = SafetensorsFile::open(dir / "model.safetensors").read_matrix("shared.weight");
  const HostMatrix expected = io.floats("decoder_last_hidden_state") * shared.transpose();
  check_close("t5 unscaled logits", logits, expected);
}

TEST_CASE("golden: the TextGeneration workload generates transformers' greedy tokens") {
  // The same checkpoint through the family's own path (Workload::run), with
  // the golden prompt in place of the synthetic one.
  for (const std::string arch : {"gpt2", "llama", "qwen2", "gpt2_variant", "llama_bias", "qwen2_head"}) {
    CAPTURE(arch);
    const auto dir = golden_dir(arch);
    const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
    Cpu cpu = one_thread();
    const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
    const Io io(arch);
    const TextGeneration::Cell cell{static_cast<int>(io.dim("input_ids", 0)), static_cast<int>(io.dim("input_ids", 1)),
                                    static_cast<int>(io.dim("generated_ids", 1))};
    TextGeneration::Workload<Cpu> work(cpu, model, cell, 42, io.ids("input_ids"));
    work.run();
    CHECK(work.tokens() == io.ids("generated_ids"));
    work.run();  // a second run reuses the session and gives the same tokens
    CHECK(work.tokens() == io.ids("generated_ids"));
  }
}

#if defined(ACCELBENCH_MINILM_DIR)
TEST_CASE("real all-MiniLM-L6-v2: our BERT reproduces sentence-transformers' embeddings") {
  const std::filesystem::path dir = ACCELBENCH_MINILM_DIR;
  const BertConfig config = Embedding::checkpoint_preset(dir);
  CHECK(config.hidden == 384);
  CHECK(config.layers == 6);
  Cpu cpu;
  const auto model = Embedding::load_weights(cpu, config, Embedding::checkpoint_weights(dir, config));
  CHECK(model.parameters() == Embedding::find_preset("all-MiniLM-L6-v2").parameter_count());

  const Io io("minilm_real");
  const BertInput in = bert_input(io);
  auto ws = model.prepare(cpu, in);
  model.forward(cpu, ws);
  check_close("all-MiniLM-L6-v2 last_hidden_state", ws.hidden, io.floats("last_hidden_state"));
  check_close("all-MiniLM-L6-v2 embedding", ws.pooled, io.floats("embedding"));
  HostMatrix normalized = ws.pooled;
  for (Eigen::Index r = 0; r < normalized.rows(); ++r) normalized.row(r).normalize();
  check_close("all-MiniLM-L6-v2 normalized embedding", normalized, io.floats("embedding_normalized"));
}
#endif
