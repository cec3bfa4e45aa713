// The TextGeneration family: presets, sweep, limits, the key-value cache
// against recomputation, phases in the Benchmark's results, verification of
// a second backend, and checkpoint folders with bad config.json files.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "golden.hpp"
#include "naive_backend.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

Config quick_config(const std::string& arch) {
  Config c;
  c.weights = golden_dir(arch).string();
  c.batch_sizes = {1, 2};
  c.sweep["prompt_lengths"] = {5};
  c.sweep["new_tokens"] = {4};
  c.warmup_iterations = 1;
  c.min_iterations = 5;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  return c;
}

}  // namespace

TEST_CASE("text-generation presets carry the published dimensions") {
  // Parameter counts of the Hugging Face checkpoints (tied heads counted once).
  CHECK(TextGeneration::find_preset("gpt2").parameter_count() == 124'439'808);
  CHECK(TextGeneration::find_preset("tinyllama-1.1b").parameter_count() == 1'100'048'384);
  CHECK(TextGeneration::find_preset("qwen2-0.5b").parameter_count() == 494'032'768);
  CHECK(TextGeneration::find_preset("t5-small").parameter_count() == 60'506'624);
  // google/flan-t5-small: T5ForConditionalGeneration's 60'511'616 with the head tied, plus the stored
  // lm_head.weight (32128 x 512) that unties it.
  const auto& flan = TextGeneration::find_preset("google/flan-t5-small");
  CHECK(flan.name == "flan-t5-small");
  CHECK(flan.parameter_count() == 76'961'152);
  CHECK((flan.gated_gelu && !flan.tied_embeddings && !flan.scale_decoder_outputs));
  // qwen2-tiny: tied embedding 32000 x 256, and 4 layers of q (256 x 256 + 256), k and v (64 x 256 + 64
  // each), o (256 x 256), gate, up and down (3 x 256 x 704) and two norms, and the final norm.
  CHECK(TextGeneration::find_preset("qwen2-tiny").parameter_count() ==
        32000 * 256 + 4 * ((256 * 256 + 256) + 2 * (64 * 256 + 64) + 256 * 256 + 3 * 256 * 704 + 2 * 256) + 256);
  // MistralForCausalLM with Mistral-7B-v0.1's configuration, built by transformers 5.23 on the meta device.
  CHECK(TextGeneration::find_preset("mistral-7b").parameter_count() == 7'241'732'096);
  CHECK(TextGeneration::find_preset("mistralai/Mistral-7B-v0.1").name == "mistral-7b");
  CHECK(TextGeneration::find_preset("mistral-7b").sliding_window == 4096);
  CHECK(TextGeneration::find_preset("mistral-7b").attention_window(31) == 4096);
  // LlamaForCausalLM with Llama-3.2-1B's configuration (tied head), built by transformers 5.23 on the
  // meta device; its rotary scaling is llama3's.
  const auto& llama32 = TextGeneration::find_preset("meta-llama/Llama-3.2-1B");
  CHECK(llama32.name == "llama-3.2-1b");
  CHECK(llama32.parameter_count() == 1'235'814'400);
  CHECK((llama32.rope_scaling == RotaryScaling::llama3 && llama32.rope_factor == 32.0f &&
         llama32.rope_low_freq_factor == 1.0f && llama32.rope_high_freq_factor == 4.0f &&
         llama32.rope_original_max_positions == 8192 && llama32.rope_theta == 500000.0f));
  // mistral-tiny: llama-tiny's shapes (own head), a window of 128 in every layer.
  CHECK(TextGeneration::find_preset("mistral-tiny").parameter_count() ==
        TextGeneration::find_preset("llama-tiny").parameter_count());
  CHECK(TextGeneration::find_preset("mistral-tiny").attention_window(0) == 128);
  CHECK(TextGeneration::find_preset("Qwen/Qwen2-0.5B").name == "qwen2-0.5b");
  const auto& tiny = TextGeneration::find_preset("tinyllama-1.1b");
  CHECK(tiny.effective_kv_heads() == 4);
  CHECK(tiny.effective_head_dim() == 64);
  CHECK_THROWS_WITH_AS((void)TextGeneration::find_preset("gpt-5"), doctest::Contains("model = \"gpt-5\""), ConfigError);
}

TEST_CASE("text-generation FLOPs: a sliding window counts the keys in its window only") {
  GenerativeConfig c = TextGeneration::find_preset("mistral-tiny");
  GenerativeConfig full = c;
  full.sliding_window = 0;
  // Within the window the counts agree; beyond it the window's attention is cheaper.
  CHECK(c.generation_flops(2, 64, 32) == doctest::Approx(full.generation_flops(2, 64, 32)));
  CHECK(c.generation_flops(2, 200, 32) < full.generation_flops(2, 200, 32));
  // The difference is the attention of the keys outside the window: 4 * batch * width per key, per layer.
  const double aw = static_cast<double>(c.attention_width());
  double dropped = 0;
  for (int i = 128; i < 200; ++i) dropped += i + 1 - 128;                // prompt positions 128..199
  for (int t = 1; t < 32; ++t) dropped += (200 + t + 1) - 128;            // decode steps
  CHECK(full.generation_flops(2, 200, 32) - c.generation_flops(2, 200, 32) ==
        doctest::Approx(c.layers * 4.0 * 2 * aw * dropped));
  // Only the sliding layers of a Qwen2 configuration are cheaper.
  GenerativeConfig one = c;
  one.sliding_layers = {1};
  CHECK(full.generation_flops(2, 200, 32) - one.generation_flops(2, 200, 32) ==
        doctest::Approx(4.0 * 2 * aw * dropped));
}

TEST_CASE("a sliding window is Mistral's and Qwen2's: other architectures refuse it, and its layers are checked") {
  GenerativeConfig gpt2 = TextGeneration::find_preset("gpt2");
  gpt2.sliding_window = 16;
  CHECK_THROWS_WITH_AS(Gpt2Architecture::validate_config(gpt2), doctest::Contains("sliding_window"), ConfigError);
  GenerativeConfig llama = TextGeneration::find_preset("llama-tiny");
  llama.sliding_window = 16;
  CHECK_THROWS_WITH_AS(LlamaArchitecture::validate_config(llama), doctest::Contains("sliding_window"), ConfigError);
  GenerativeConfig qwen2 = TextGeneration::find_preset("qwen2-tiny");
  qwen2.sliding_window = 16;
  qwen2.sliding_layers = {1, 3};
  CHECK_NOTHROW(LlamaArchitecture::validate_config(qwen2));
  CHECK(qwen2.attention_window(1) == 16);
  CHECK(qwen2.attention_window(2) == 0);
  qwen2.sliding_layers = {3, 1};
  CHECK_THROWS_WITH_AS(LlamaArchitecture::validate_config(qwen2), doctest::Contains("sliding_layers"), ConfigError);
  qwen2.sliding_layers = {4};
  CHECK_THROWS_WITH_AS(LlamaArchitecture::validate_config(qwen2), doctest::Contains("sliding_layers"), ConfigError);
  qwen2.sliding_window = 0;
  qwen2.sliding_layers = {1};
  CHECK_THROWS_WITH_AS(LlamaArchitecture::validate_config(qwen2), doctest::Contains("sliding_layers"), ConfigError);
  GenerativeConfig mistral = TextGeneration::find_preset("mistral-tiny");
  mistral.sliding_window = -1;
  CHECK_THROWS_WITH_AS(LlamaArchitecture::validate_config(mistral), doctest::Contains("sliding_window"), ConfigError);
}

TEST_CASE("text-generation sweep: batch x prompt length x new tokens, within the model's positions") {
  Config c;
  c.batch_sizes = {1, 4};
  c.sweep["prompt_lengths"] = {16, 64};
  c.sweep["new_tokens"] = {8};
  const auto cells = TextGeneration::cells(c);
  REQUIRE(cells.size() == 4);
  CHECK(cells[1].batch_size == 1);
  CHECK(cells[1].prompt_length == 64);
  const auto axes = TextGeneration::axes(cells[3]);
  REQUIRE(axes.size() == 3);
  CHECK(axes[0].name == "batch_size");
  CHECK(axes[1].name == "prompt_length");
  CHECK(axes[2].name == "new_tokens");
  CHECK(TextGeneration::tokens(cells[3]) == 32);
  const auto phases = TextGeneration::phases(cells[3]);
  REQUIRE(phases.size() == 2);
  CHECK(phases[0].items == 4 * 64);
  CHECK(phases[1].items == 4);
  CHECK(phases[1].per_run == 7);

  c.sweep["prompt_lengths"] = {16, 1020};
  CHECK_THROWS_WITH_AS(TextGeneration::validate(c, TextGeneration::find_preset("gpt2")),
                       doctest::Contains("prompt_lengths[1] = 1020: with new_tokens 8 exceeds gpt2's maximum of 1024"),
                       ConfigError);
  c.sweep["prompt_lengths"] = {16};
  c.sweep["new_tokens"] = {};
  CHECK_THROWS_WITH_AS(validate<TextGeneration>(c), doctest::Contains("new_tokens = []: empty sweep"), ConfigError);
  // T5's relative positions have no limit.
  c.sweep["new_tokens"] = {8};
  c.sweep["prompt_lengths"] = {4096};
  CHECK_NOTHROW(TextGeneration::validate(c, TextGeneration::find_preset("t5-small")));
  // Rotary scaling "dynamic" grows past max_position_embeddings: no limit;
  // the default frequencies keep llama-tiny's 2048.
  GenerativeConfig llama = TextGeneration::find_preset("llama-tiny");
  CHECK_THROWS_WITH_AS(TextGeneration::validate(c, llama), doctest::Contains("maximum of 2048 positions"), ConfigError);
  llama.rope_scaling = RotaryScaling::dynamic;
  llama.rope_factor = 2.0f;
  CHECK(llama.sequence_limit() == 0);
  CHECK_NOTHROW(TextGeneration::validate(c, llama));
}

namespace {

/// Greedy decoding with the cache against recomputing the whole sequence,
/// for the decoder-only model `Lm` of a golden checkpoint.
template <class Lm>
void check_cached_decoding(const std::string& arch) {
  CAPTURE(arch);
  const auto dir = golden_dir(arch);
  const auto config = TextGeneration::checkpoint_preset(dir);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& lm = std::get<Lm>(model.impl());
  const int batch = 2, prompt = 5, steps = 3;
  const auto ids = make_prompt_ids(config, batch, prompt, 7);

  auto cached = lm.start(cpu, ids, batch, prompt, steps + 1);
  lm.prefill(cpu, cached);
  std::vector<std::vector<std::int32_t>> chosen{cpu.download_indices(cached.next_ids)};
  for (int t = 0; t < steps; ++t) {
    lm.decode(cpu, cached);
    chosen.push_back(cpu.download_indices(cached.next_ids));
  }
  // The prompt followed by the tokens fed back, recomputed from scratch.
  std::vector<std::int32_t> full;
  for (int b = 0; b < batch; ++b) {
    for (int p = 0; p < prompt; ++p) full.push_back(ids[static_cast<std::size_t>(b * prompt + p)]);
    for (int t = 0; t < steps; ++t) full.push_back(chosen[static_cast<std::size_t>(t)][static_cast<std::size_t>(b)]);
  }
  auto fresh = lm.start(cpu, full, batch, prompt + steps, 1);
  lm.prefill(cpu, fresh);
  CHECK(max_abs_error(cached.step.logits, fresh.prefill.logits) < 1e-4);
  CHECK(cpu.download_indices(fresh.next_ids) == chosen.back());
}

}  // namespace

TEST_CASE("decoding with the key-value cache gives the logits of recomputing the whole sequence") {
  check_cached_decoding<Gpt2<Cpu>>("gpt2");
  check_cached_decoding<Llama<Cpu>>("llama");
  check_cached_decoding<Llama<Cpu>>("qwen2");
  check_cached_decoding<Gpt2<Cpu>>("gpt2_variant");
  check_cached_decoding<Llama<Cpu>>("llama_bias");
  check_cached_decoding<Llama<Cpu>>("qwen2_head");
  check_cached_decoding<Llama<Cpu>>("qwen2_window");
  check_cached_decoding<Llama<Cpu>>("mistral");
}

TEST_CASE("T5: cached decoder steps give the logits of a teacher-forced pass") {
  const auto dir = golden_dir("t5");
  const auto config = TextGeneration::checkpoint_preset(dir);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& t5 = std::get<T5<Cpu>>(model.impl());
  const int batch = 2, input = 9, steps = 4;
  const auto ids = make_prompt_ids(config, batch, input, 3);
  auto s = t5.start(cpu, ids, batch, input, steps);
  t5.prefill(cpu, s);
  std::vector<std::vector<std::int32_t>> chosen{cpu.download_indices(s.next_ids)};
  for (int t = 1; t < steps; ++t) {
    t5.decode(cpu, s);
    chosen.push_back(cpu.download_indices(s.next_ids));
  }
  // Decoder input: the start token, then the chosen tokens but the last.
  std::vector<std::int32_t> decoder_ids;
  for (int b = 0; b < batch; ++b) {
    decoder_ids.push_back(config.decoder_start_token);
    for (int t = 0; t + 1 < steps; ++t) decoder_ids.push_back(chosen[static_cast<std::size_t>(t)][static_cast<std::size_t>(b)]);
  }
  auto teacher = t5.start(cpu, ids, batch, input, steps);
  t5.prefill(cpu, teacher);
  HostMatrix hidden, logits;
  t5.decode_sequence(cpu, teacher, decoder_ids, steps, hidden, logits);
  HostMatrix last(batch, logits.cols());
  for (int b = 0; b < batch; ++b) last.row(b) = logits.row(b * steps + steps - 1);
  CHECK(max_abs_error(s.dec.logits, last) < 1e-4);
}

TEST_CASE("Benchmark<Cpu, TextGeneration>: prefill and decode phases, token rates and the KV cache") {
  Config c = quick_config("llama");
  Benchmark<Cpu, TextGeneration> bench{c, one_thread()};
  const RunResult r = bench.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].name == "llama");
  CHECK(r.models[0].architecture == "llama");
  CHECK(r.models[0].weights == "checkpoint " + c.weights);
  CHECK(r.models[0].parameters == 74'560);
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    const int batch = static_cast<int>(*cell.axis("batch_size"));
    REQUIRE(cell.phases.size() == 2);
    const auto& prefill = cell.phases[0];
    const auto& decode = cell.phases[1];
    CHECK(prefill.name == "prefill");
    CHECK(decode.name == "decode");
    // Every timed run records one prefill and new_tokens - 1 decode steps.
    CHECK(prefill.latency.count == cell.iterations);
    CHECK(decode.latency.count == 3 * cell.iterations);
    CHECK(prefill.items == batch * 5);
    CHECK(decode.items == batch);
    CHECK(prefill.items_per_second == doctest::Approx(batch * 5 / prefill.latency.mean));
    CHECK(decode.items_per_second == doctest::Approx(batch / decode.latency.mean));
    // A run is its prefill plus its decode steps (plus the host's bookkeeping).
    CHECK(prefill.latency.mean + 3 * decode.latency.mean <= cell.latency.mean * 1.05);
    CHECK(*cell.throughput.tokens_per_second ==
          doctest::Approx(batch * 4.0 * static_cast<double>(cell.iterations) / cell.measured_time_s));
    // Two layers, keys and values, 9 positions, two key-value heads of 16.
    CHECK(cell.memory.kv_cache_bytes == std::uint64_t(2) * 2 * batch * 9 * 32 * sizeof(float));
  }
  std::ostringstream text;
  ConsoleReporter{text}.report(r);
  CHECK(text.str().find("family text-generation") != std::string::npos);
  CHECK(text.str().find("prefill prompt tokens/s") != std::string::npos);
  CHECK(text.str().find("decode tokens/s") != std::string::npos);
  CHECK(text.str().find("KV cache MiB") != std::string::npos);
}

TEST_CASE("a second backend's generation is verified against Cpu: same tokens, close logits") {
  for (const std::string arch : {"gpt2", "t5", "gpt2_variant", "llama_bias", "qwen2_head", "t5_untied", "t5_gated",
                                 "qwen2_window", "mistral"}) {
    CAPTURE(arch);
    Config c = quick_config(arch);
    c.batch_sizes = {2};
    c.min_iterations = 2;
    const RunResult r = Benchmark<NaiveBackend, TextGeneration>{c}.run();
    REQUIRE(r.cells.size() == 1);
    CAPTURE(r.cells[0].message);
    CHECK(r.cells[0].status == CellStatus::ok);
    CHECK(r.cells[0].verification.status == "ok");
    CHECK(r.cells[0].verification.reference == "cpu");
    CHECK(r.cells[0].verification.max_abs_error < 1e-4);
  }
}

TEST_CASE("synthetic presets run through the family's workload") {
  Cpu cpu = one_thread();
  GenerativeConfig small = TextGeneration::find_preset("llama-tiny");
  small.layers = 1;
  small.vocab_size = 500;
  const auto model = TextGeneration::load(cpu, small, 11);
  TextGeneration::Workload<Cpu> work(cpu, model, {2, 6, 3}, 11);
  work.run();
  const auto first = work.tokens();
  REQUIRE(first.size() == 6);
  for (auto t : first) CHECK((t >= 0 && t < 500));
  work.run();
  CHECK(work.tokens() == first);
  const auto outputs = work.outputs();
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].name == "generated_tokens");
  CHECK(outputs[0].value.rows() == 2);
  CHECK(outputs[0].value.cols() == 3);
  CHECK(outputs[1].name == "last_logits");
  CHECK(outputs[1].value.cols() == 500);
}

TEST_CASE("checkpoint folders: config.json errors name the file, the field and the value") {
  SUBCASE("an architecture the family does not have") {
    const auto dir = folder_with_config("gemma", R"({"model_type": "gemma"})");
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir), doctest::Contains("model_type = \"gemma\""),
                         ConfigError);
  }
  SUBCASE("a missing field") {
    const auto dir = folder_with_config("no-layers", R"({"model_type": "gpt2", "n_embd": 64, "n_head": 4,
                                                       "vocab_size": 10, "n_positions": 32})");
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir), doctest::Contains("n_layer = (missing)"), ConfigError);
  }
  SUBCASE("a field of the wrong type") {
    const auto dir = folder_with_config("string-layers", R"({"model_type": "llama", "num_hidden_layers": "two"})");
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir),
                         doctest::Contains("num_hidden_layers = \"two\": expected an integer"), ConfigError);
  }
  SUBCASE("a rotary scaling that is not implemented") {
    const auto dir = folder_with_config("rope-scaling", R"({"model_type": "llama", "num_hidden_layers": 2,
        "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 96, "vocab_size": 100,
        "max_position_embeddings": 128, "rope_scaling": {"type": "yarn", "factor": 2.0}})");
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir), doctest::Contains("rope_scaling.rope_type = \"yarn\""),
                         ConfigError);
  }
  SUBCASE("inconsistent dimensions") {
    const auto dir = folder_with_config("bad-heads", R"({"model_type": "llama", "num_hidden_layers": 2,
        "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 96,
        "vocab_size": 100, "max_position_embeddings": 128})");
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(dir), doctest::Contains("kv_heads = 3: must divide heads"),
                         ConfigError);
  }
  SUBCASE("a folder without weights") {
    const auto dir = folder_with_config("no-weights", R"({"model_type": "gpt2", "n_layer": 1, "n_embd": 8,
        "n_head": 2, "vocab_size": 10, "n_positions": 16})");
    const auto config = TextGeneration::checkpoint_preset(dir);
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_weights(dir, config),
                         doctest::Contains("has neither model.safetensors nor model.safetensors.index.json"), ConfigError);
  }
  SUBCASE("a path that is not a folder") {
    CHECK_THROWS_WITH_AS((void)Embedding::checkpoint_preset("/nonexistent/model"),
                         doctest::Contains("weights = \"/nonexistent/model\": not a folder"), ConfigError);
  }
  SUBCASE("a BERT folder given to the text-generation family") {
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(golden_dir("bert")), doctest::Contains("model_type = \"bert\""),
                         ConfigError);
  }
}

TEST_CASE("a checkpoint's missing or misshapen tensor is a failed model, and the sweep is still reported") {
  const auto dir = golden_with_extra_layer("gpt2", "n_layer");
  Config c = quick_config("gpt2");
  c.weights = dir.string();
  const RunResult r = Benchmark<Cpu, TextGeneration>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].status == "failed");
  CHECK(r.models[0].message.find("no tensor named 'h.2.ln_1.weight'") != std::string::npos);
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) CHECK(cell.status == CellStatus::failed);
}

TEST_CASE("suites: the text-generation family with checkpoint folders as models") {
  Suite s = parse_suite(Json::parse(R"({"family": "text-generation", "batch_sizes": [1],
                                        "prompt_lengths": [3], "new_tokens": [2], "min_iterations": 2,
                                        "min_time_s": 0, "warmup_iterations": 0, "concurrent_loading": true,
                                        "loading_repetitions": 1, "threads": 1})"));
  REQUIRE(s.benchmarks.size() == 1);
  CHECK(s.benchmarks[0] == SuiteEntry{"text-generation", {"gpt2", "llama-tiny"}});  // the default suite's
  s.benchmarks[0].models = {golden_dir("qwen2").string(), golden_dir("t5").string()};
  CHECK(s.settings.sweep.at("prompt_lengths") == std::vector<int>{3});
  CHECK(s.settings.sweep.at("new_tokens") == std::vector<int>{2});
  const RunResult r = run_suite(s);
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].model == "qwen2");
  CHECK(r.cells[1].model == "t5");
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    CHECK(cell.status == CellStatus::ok);
    CHECK(cell.family == "text-generation");
  }
  REQUIRE(r.loading.size() == 1);
  CHECK(r.loading[0].status == "ok");

  s.settings.sweep["prompt_lengths"] = {0};
  CHECK_THROWS_WITH_AS(validate_suite(s), doctest::Contains("prompt_lengths[0] = 0"), ConfigError);
}

TEST_CASE("suites: models without a family go to the family that knows each") {
  Suite s = parse_suite(Json::parse(R"({"models": ["gpt2", "bert-tiny", "t5-small"]})"));
  REQUIRE(s.benchmarks.size() == 2);
  CHECK(s.benchmarks[0] == SuiteEntry{"text-generation", {"gpt2", "t5-small"}});
  CHECK(s.benchmarks[1] == SuiteEntry{"embedding", {"bert-tiny"}});
  set_models(s, "", {golden_dir("bert").string(), golden_dir("llama").string()});
  REQUIRE(s.benchmarks.size() == 2);
  CHECK(s.benchmarks[0].family == "embedding");
  CHECK(s.benchmarks[1].family == "text-generation");
  set_models(s, "text-generation", {});  // a family alone keeps its models
  CHECK(s.benchmarks == std::vector<SuiteEntry>{{"text-generation", {golden_dir("llama").string()}}});
  CHECK(default_suite().benchmarks.size() == 2);
}

TEST_CASE("the variants' options: their tensors, synthetic weights and the checks of each architecture") {
  Cpu cpu = one_thread();
  SUBCASE("Llama's attention_bias and mlp_bias add biases that synthetic weights and the model follow") {
    GenerativeConfig c = TextGeneration::find_preset("llama-tiny");
    c.layers = 1;
    c.vocab_size = 500;
    const std::int64_t base = c.parameter_count();
    c.qkv_bias = c.attention_output_bias = c.mlp_bias = true;
    const std::int64_t biases = c.attention_width() + 2 * c.kv_width() + c.hidden + 2 * c.intermediate + c.hidden;
    CHECK(c.parameter_count() == base + biases);
    const auto model = TextGeneration::load(cpu, c, 11);
    CHECK(model.parameters() == c.parameter_count());
    TextGeneration::Workload<Cpu> work(cpu, model, {1, 4, 2}, 11);
    work.run();
  }
  SUBCASE("T5's gated-gelu feed-forward has wi_0 and wi_1 in place of wi, followed by synthetic weights and the model") {
    GenerativeConfig c = TextGeneration::find_preset("flan-t5-small");
    c.layers = c.decoder_layers = 1;
    c.vocab_size = 300;
    c.hidden = 64;
    c.heads = 4;
    c.head_dim = 16;
    c.intermediate = 96;
    const std::int64_t gated = c.parameter_count();
    c.gated_gelu = false;
    CHECK(gated == c.parameter_count() + 2 * c.hidden * c.intermediate);  // one more [i, h] per layer, two layers
    c.gated_gelu = true;
    const TensorShapes shapes = c.tensor_shapes();
    const auto has = [&](const std::string& name) {
      return std::any_of(shapes.begin(), shapes.end(), [&](const auto& t) { return t.first == name; });
    };
    CHECK(has("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"));
    CHECK(has("decoder.block.0.layer.2.DenseReluDense.wi_1.weight"));
    CHECK_FALSE(has("encoder.block.0.layer.1.DenseReluDense.wi.weight"));
    const auto model = TextGeneration::load(cpu, c, 11);
    CHECK(model.parameters() == gated);
    TextGeneration::Workload<Cpu> work(cpu, model, {1, 4, 2}, 11);
    work.run();
  }
  SUBCASE("an untied head adds lm_head.weight (GPT-2 too)") {
    GenerativeConfig c = TextGeneration::find_preset("gpt2");
    c.layers = 1;
    c.vocab_size = 300;
    c.hidden = 64;
    c.heads = 4;
    c.intermediate = 128;
    c.max_positions = 32;
    const std::int64_t tied = c.parameter_count();
    c.tied_embeddings = false;
    c.scale_attn_weights = false;
    c.scale_attn_by_inverse_layer_idx = true;
    CHECK(c.parameter_count() == tied + 300 * 64);
    const auto model = TextGeneration::load(cpu, c, 5);
    CHECK(model.parameters() == c.parameter_count());
    CHECK_FALSE(model.config().tied_embeddings);
  }
  SUBCASE("options of another architecture are refused, naming the field") {
    GenerativeConfig qwen2 = TextGeneration::find_preset("qwen2-tiny");
    qwen2.mlp_bias = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(qwen2), doctest::Contains("qwen2-tiny.mlp_bias = true: Qwen2 has biases on q, k and v only"),
                         ConfigError);
    GenerativeConfig llama = TextGeneration::find_preset("llama-tiny");
    llama.attention_output_bias = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(llama), doctest::Contains("llama-tiny.attention_output_bias = true"), ConfigError);
    llama = TextGeneration::find_preset("llama-tiny");
    llama.scale_attn_weights = false;
    CHECK_THROWS_WITH_AS(validate_generative_config(llama), doctest::Contains("is GPT-2's feature"), ConfigError);
    GenerativeConfig gpt2 = TextGeneration::find_preset("gpt2");
    gpt2.mlp_bias = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(gpt2), doctest::Contains("gpt2.mlp_bias = true: is Llama's feature"), ConfigError);
    gpt2 = TextGeneration::find_preset("gpt2");
    gpt2.scale_decoder_outputs = false;
    CHECK_THROWS_WITH_AS(validate_generative_config(gpt2), doctest::Contains("is T5's feature"), ConfigError);
    gpt2 = TextGeneration::find_preset("gpt2");
    gpt2.gated_gelu = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(gpt2), doctest::Contains("gpt2.gated_gelu = true: is T5's feature"), ConfigError);
    GenerativeConfig llama_gated = TextGeneration::find_preset("llama-tiny");
    llama_gated.gated_gelu = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(llama_gated), doctest::Contains("is T5's feature"), ConfigError);
    GenerativeConfig t5 = TextGeneration::find_preset("t5-small");
    t5.scale_attn_by_inverse_layer_idx = true;
    CHECK_THROWS_WITH_AS(validate_generative_config(t5), doctest::Contains("t5-small.scale_attn_by_inverse_layer_idx = true"), ConfigError);
  }
  SUBCASE("config.json: Llama's attention_bias and mlp_bias are read, Qwen2 has neither, T5's head scaling follows transformers 5") {
    const auto llama = folder_with_config("llama-biases", R"({"model_type": "llama", "num_hidden_layers": 1, "hidden_size": 32,
        "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16,
        "attention_bias": true, "mlp_bias": true})");
    const GenerativeConfig l = TextGeneration::checkpoint_preset(llama);
    CHECK((l.qkv_bias && l.attention_output_bias && l.mlp_bias && !l.tied_embeddings));
    const auto qwen2 = folder_with_config("qwen2-biases", R"({"model_type": "qwen2", "num_hidden_layers": 1, "hidden_size": 32,
        "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16,
        "attention_bias": true, "mlp_bias": true})");
    const GenerativeConfig q = TextGeneration::checkpoint_preset(qwen2);
    CHECK((q.qkv_bias && !q.attention_output_bias && !q.mlp_bias && !q.tied_embeddings));
    const std::string t5_fields = R"("model_type": "t5", "num_layers": 1, "d_model": 32, "num_heads": 4, "d_kv": 8,
        "d_ff": 64, "vocab_size": 50)";
    CHECK(TextGeneration::checkpoint_preset(folder_with_config("t5-plain", "{" + t5_fields + "}")).scale_decoder_outputs);
    const GenerativeConfig v11 = TextGeneration::checkpoint_preset(
        folder_with_config("t5-v11", "{" + t5_fields + R"(, "tie_word_embeddings": false})"));
    CHECK_FALSE(v11.scale_decoder_outputs);
    CHECK(v11.tied_embeddings);  // unless the checkpoint stores a different lm_head.weight
    CHECK(TextGeneration::checkpoint_preset(folder_with_config("t5-both", "{" + t5_fields +
                                                               R"(, "tie_word_embeddings": false, "scale_decoder_outputs": true})"))
              .scale_decoder_outputs);
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(folder_with_config("t5-bad-scale", "{" + t5_fields +
                                                                                    R"(, "scale_decoder_outputs": 1})")),
                         doctest::Contains("scale_decoder_outputs = 1: expected true or false"), ConfigError);
    CHECK_FALSE(TextGeneration::checkpoint_preset(folder_with_config("t5-relu", "{" + t5_fields + "}")).gated_gelu);
    CHECK(TextGeneration::checkpoint_preset(folder_with_config("t5-gated", "{" + t5_fields +
                                                               R"(, "feed_forward_proj": "gated-gelu"})"))
              .gated_gelu);
    CHECK_THROWS_WITH_AS((void)TextGeneration::checkpoint_preset(folder_with_config("t5-silu", "{" + t5_fields +
                                                                                    R"(, "feed_forward_proj": "gated-silu"})")),
                         doctest::Contains("feed_forward_proj = \"gated-silu\""), ConfigError);
  }
}

TEST_CASE("rope_type dynamic: transformers' NTK frequencies past max_position_embeddings, the default ones within") {
  // _compute_dynamic_ntk_parameters for head_dim 128, theta 10000, factor 2,
  // max_position_embeddings 4096, at seq_len 6000 (a tensor, as in
  // dynamic_rope_update) and 4000.
  GenerativeConfig c = TextGeneration::find_preset("llama-tiny");
  c.hidden = 4096;
  c.heads = 32;
  c.head_dim = 128;
  c.max_positions = 4096;
  c.rope_theta = 10000.0f;
  c.rope_scaling = RotaryScaling::dynamic;
  c.rope_factor = 2.0f;
  const RotaryDims past = rotary_dims(c, 1, 1, 32, 5999);
  CHECK(past.scaling == RotaryScaling::none);
  CHECK(rotary_inv_freq(past, 1) == doctest::Approx(0.8569756150245667).epsilon(1e-6));
  CHECK(rotary_inv_freq(past, 20) == doctest::Approx(0.04564247652888298).epsilon(1e-6));
  CHECK(rotary_inv_freq(past, 63) == doctest::Approx(5.984295785310678e-05).epsilon(1e-6));
  const RotaryDims within = rotary_dims(c, 1, 4000, 32, 0);
  CHECK(within.theta == 10000.0f);
  CHECK(rotary_inv_freq(within, 20) == doctest::Approx(0.05623412877321243).epsilon(1e-6));
  CHECK(rotary_inv_freq(within, 63) == doctest::Approx(0.00011547819303814322).epsilon(1e-6));
  // A prompt of 4000 and its 96th new token end at 4096: the default frequencies throughout.
  CHECK(rotary_dims(c, 1, 1, 32, 4095).theta == 10000.0f);
  CHECK(rotary_dims(c, 1, 1, 32, 4096).theta > 10000.0f);
}

namespace {

/// The logits of every prompt position of the checkpoint folder `dir` with
/// its linear layers' weights at `precision`, and the model's weight bytes;
/// with `widen_first`, every tensor is widened to float before the model
/// takes it.
std::pair<HostMatrix, std::uint64_t> prompt_logits_at(const std::filesystem::path& dir, Precision precision,
                                                      bool widen_first = false) {
  auto config = TextGeneration::checkpoint_preset(dir);
  config.weight_precision = precision;
  Cpu cpu = one_thread();
  WeightMap weights = TextGeneration::checkpoint_weights(dir, config);
  if (widen_first) {
    for (const auto& name : weights.names()) (void)weights.at(name);
  }
  const auto model = TextGeneration::load_weights(cpu, config, std::move(weights));
  const int batch = 2, prompt = 7;
  const auto ids = make_prompt_ids(config, batch, prompt, 5);
  HostMatrix logits;
  std::visit(
      [&](const auto& lm) {
        if constexpr (requires { lm.prompt_logits(cpu, std::declval<decltype(lm.start(cpu, ids, 1, 1, 1))&>(), logits); }) {
          auto s = lm.start(cpu, ids, batch, prompt, 1);
          lm.prefill(cpu, s);
          lm.prompt_logits(cpu, s, logits);
        }
      },
      model.impl());
  return {logits, model.weight_bytes()};
}

/// A copy of the golden checkpoint `arch` with every tensor stored at the
/// 16-bit `precision` (BF16 or F16), as Hugging Face publishes most models.
std::filesystem::path golden_stored_at(const std::string& arch, Precision precision) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("accelbench-test-" + arch + "-" + std::string(precision_name(precision)));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden_dir(arch) / "config.json", dir / "config.json");
  const SafetensorsFile file = SafetensorsFile::open(golden_dir(arch) / "model.safetensors");
  SafetensorsWriter writer;
  for (const auto& t : file.tensors()) {
    REQUIRE(t.dtype == "F32");
    const CpuWeight rounded(file.read_matrix(t.name), precision);
    writer.add_half(t.name, precision, rounded.to_bits(), t.shape);
  }
  writer.write(dir / "model.safetensors");
  return dir;
}

}  // namespace

TEST_CASE("precision: GPT-2 and Llama-type models with bf16 and fp16 weights stay within the precision's bound") {
  // Weights rounded to bf16 (8 significant bits) or fp16 (11) move the
  // logits of these two-layer models by a few times the unit roundoff of
  // the largest logit; the bound is 8 of them. A difference of exactly zero
  // would mean the weights were not stored at the precision.
  for (const std::string arch : {"gpt2", "llama", "qwen2", "mistral", "llama_bias"}) {
    const auto [full, full_bytes] = prompt_logits_at(golden_dir(arch), Precision::fp32);
    REQUIRE(full.size() > 0);
    const double scale = full.cwiseAbs().maxCoeff();
    for (const Precision p : {Precision::bf16, Precision::fp16}) {
      CAPTURE(arch);
      CAPTURE(precision_name(p));
      const auto [half, half_bytes] = prompt_logits_at(golden_dir(arch), p);
      const double error = (half - full).cwiseAbs().maxCoeff() / scale;  // measured: bf16 1.4-5.1, fp16 1.6-6.5 units
      CAPTURE(error);
      CHECK(error > 0.0);
      CHECK(error <= 8 * unit_roundoff(p));
      CHECK(half_bytes < full_bytes);
    }
  }
}

TEST_CASE("precision: a checkpoint stored in bf16 or fp16 loads at that precision as stored, the same model") {
  // Its linear layers' weights reach the backend as the file's 16 bits
  // (test_precision.cpp checks the bits); the model computes exactly what
  // it computes from the same tensors widened to float first.
  for (const std::string arch : {"gpt2", "llama"}) {
    for (const Precision p : {Precision::bf16, Precision::fp16}) {
      CAPTURE(arch);
      CAPTURE(precision_name(p));
      const auto dir = golden_stored_at(arch, p);
      const auto [stored, stored_bytes] = prompt_logits_at(dir, p);
      const auto [widened, widened_bytes] = prompt_logits_at(dir, p, true);
      REQUIRE(stored.size() > 0);
      CHECK(stored == widened);
      CHECK(stored_bytes == widened_bytes);
      const auto [full, full_bytes] = prompt_logits_at(golden_dir(arch), Precision::fp32);
      const double scale = full.cwiseAbs().maxCoeff();
      CHECK((stored - full).cwiseAbs().maxCoeff() / scale <= 16 * unit_roundoff(p));
      std::filesystem::remove_all(dir);
    }
  }
}

TEST_CASE("precision: recorded in the results, refused by name where the weights stay fp32") {
  Config c = quick_config("gpt2");
  c.batch_sizes = {1};
  c.min_iterations = 2;
  c.precision = Precision::bf16;
  const RunResult r = Benchmark<Cpu, TextGeneration>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].precision == "bf16");
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::ok);
  const Json j = to_json(r);
  CHECK(j["settings"]["precision"] == "bf16");
  CHECK(j["models"][0]["precision"] == "bf16");
  CHECK(run_from_json(j).settings.precision == Precision::bf16);
  CHECK(run_from_json(j).models[0].precision == "bf16");

  SUBCASE("T5 stores its weights as fp32 only") {
    Config t5 = quick_config("t5");
    t5.batch_sizes = {1};
    t5.precision = Precision::fp16;
    const RunResult failed = Benchmark<Cpu, TextGeneration>{t5, one_thread()}.run();
    REQUIRE(failed.models.size() == 1);
    CHECK(failed.models[0].status == "failed");
    CHECK(failed.models[0].message.find("precision = fp16: T5 stores its weights as fp32 only") != std::string::npos);
  }
  SUBCASE("a backend without weights at a precision") {
    const RunResult failed = Benchmark<NaiveBackend, TextGeneration>{c}.run();
    REQUIRE(failed.models.size() == 1);
    CHECK(failed.models[0].status == "failed");
    CHECK(failed.models[0].message.find("precision = bf16: backend plain stores weights as fp32 only") !=
          std::string::npos);
  }
  SUBCASE("the embedding family's BERT at a precision, recorded") {
    Config e;
    e.model = "bert-tiny";
    e.sweep["sequence_lengths"] = {8};
    e.warmup_iterations = 1;
    e.min_iterations = 3;
    e.min_time_s = 0.0;
    e.memory_sample_interval_s = 0;
    e.precision = Precision::bf16;
    const RunResult bert = Benchmark<Cpu, Embedding>{e, one_thread()}.run();
    REQUIRE(bert.models.size() == 1);
    CHECK(bert.models[0].precision == "bf16");
    REQUIRE(bert.cells.size() == 1);
    CHECK(bert.cells[0].status == CellStatus::ok);
  }
  SUBCASE("a family whose models have no precision setting") {
    CHECK_THROWS_WITH_AS((void)detail::with_precision<Audio>(Audio::find_preset("whisper-tiny"), Precision::bf16),
                         "precision = bf16: family audio stores its weights as fp32 only", ConfigError);
  }
  SUBCASE("the suite field and its bad value") {
    CHECK(parse_suite(Json::parse(R"({"family": "text-generation", "precision": "fp16"})")).settings.precision ==
          Precision::fp16);
    CHECK_THROWS_WITH_AS((void)parse_suite(Json::parse(R"({"family": "text-generation", "precision": "int4"})")),
                         doctest::Contains("precision = \"int4\": expected fp32, bf16 or fp16"), ConfigError);
  }
}
