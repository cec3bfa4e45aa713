// The Audio family: Whisper and wav2vec2 against transformers' outputs
// (tiny random-weight checkpoints written by tools/golden/generate.py),
// presets with the published parameter counts, Whisper's key-value cache
// against recomputation, phases in the Benchmark's results, verification
// of a second backend, limits, synthetic inputs and bad config.json files.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>
#include <accelbench/family/audio.hpp>
#include <accelbench/model/common/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "naive_backend.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

using Io = GoldenIo;

Audio::Model<Cpu> load_golden(Cpu& cpu, const std::string& arch) {
  const auto dir = golden_dir(arch);
  const AudioConfig config = Audio::checkpoint_preset(dir);
  return Audio::load_weights(cpu, config, Audio::checkpoint_weights(dir, config));
}

Config quick_config(const std::string& arch) {
  Config c;
  c.weights = golden_dir(arch).string();
  c.batch_sizes = {1, 2};
  c.sweep["audio_seconds"] = {1};  // the golden Whisper's window: 100 frames
  c.sweep["new_tokens"] = {4};
  c.warmup_iterations = 1;
  c.min_iterations = 5;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  return c;
}

/// Whisper's greedy tokens, [batch, new_tokens] row-major, from a fresh session.
std::vector<std::int32_t> greedy(Cpu& cpu, const Whisper<Cpu>& whisper, const HostMatrix& features, int batch,
                                 int new_tokens) {
  auto s = whisper.start(cpu, features, batch, new_tokens);
  std::vector<std::int32_t> out(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t == 0) {
      whisper.prefill(cpu, s);
    } else {
      whisper.decode(cpu, s);
    }
    const auto ids = cpu.download_indices(s.next_ids);
    for (int b = 0; b < batch; ++b) out[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
  }
  return out;
}

/// Small synthetic configurations with the presets' structure.
WhisperConfig small_whisper() {
  WhisperConfig w = Audio::find_preset("whisper-tiny").whisper();
  w.name = "whisper-small-test";
  w.layers = 1;
  w.decoder_layers = 1;
  w.hidden = 64;
  w.heads = 2;
  w.decoder_heads = 4;
  w.intermediate = 96;
  w.decoder_intermediate = 128;
  w.vocab_size = 500;
  w.decoder_start_token = 7;
  w.max_source_positions = 150;  // a 3-second window
  w.max_target_positions = 16;
  return w;
}

Wav2Vec2Config small_wav2vec2() {
  Wav2Vec2Config w = Audio::find_preset("wav2vec2-base").wav2vec2();
  w.name = "wav2vec2-small-test";
  w.layers = 1;
  w.hidden = 64;
  w.heads = 4;
  w.intermediate = 128;
  w.conv_dim = {32, 32, 48};
  w.conv_kernel = {10, 3, 2};
  w.conv_stride = {5, 2, 2};
  w.conv_bias = true;
  w.pos_conv_kernel = 16;
  w.pos_conv_groups = 4;
  return w;
}

/// The same with the large models' structure: a LayerNorm after every
/// convolution, stable layer norm.
Wav2Vec2Config small_wav2vec2_stable() {
  Wav2Vec2Config w = small_wav2vec2();
  w.name = "wav2vec2-stable-small-test";
  w.conv_layer_norm = true;
  w.stable_layer_norm = true;
  return w;
}

}  // namespace

TEST_CASE("golden: Whisper matches transformers' WhisperForConditionalGeneration") {
  const AudioConfig config = Audio::checkpoint_preset(golden_dir("whisper"));
  REQUIRE(config.is_whisper());
  CHECK(config.name == "whisper");
  CHECK(config.architecture == "whisper");
  CHECK(config.whisper().decoder_start_token == 1);
  Cpu cpu = one_thread();
  const auto model = load_golden(cpu, "whisper");
  CHECK(model.parameters() == 59'328);  // transformers' num_parameters(), the tied head counted once
  CHECK(config.parameter_count() == 59'328);
  const auto& whisper = std::get<Whisper<Cpu>>(model.impl());

  const Io io("whisper");
  const int batch = io.dim("input_features", 0);
  const int decoder_len = io.dim("decoder_input_ids", 1);
  const int new_tokens = io.dim("generated_ids", 1);
  const HostMatrix features = io.floats("input_features");  // [batch * 80, 100]
  auto s = whisper.start(cpu, features, batch, std::max(new_tokens, decoder_len));
  whisper.encode(cpu, s);
  check_close("whisper encoder_last_hidden_state", s.encoder_out, io.floats("encoder_last_hidden_state"));

  // Teacher forcing needs the cross keys and values that prefill computes.
  whisper.prefill(cpu, s);
  HostMatrix hidden, logits;
  whisper.decode_sequence(cpu, s, io.ids("decoder_input_ids"), decoder_len, hidden, logits);
  check_close("whisper decoder_last_hidden_state", hidden, io.floats("decoder_last_hidden_state"));
  check_close("whisper logits", logits, io.floats("logits"));

  CHECK(greedy(cpu, whisper, features, batch, new_tokens) == io.ids("generated_ids"));

  // The same through the family's workload, with the golden features.
  Audio::Workload<Cpu> work(cpu, model, Audio::Cell{batch, 1, new_tokens}, 42, features);
  work.run();
  CHECK(work.tokens() == io.ids("generated_ids"));
  work.run();  // a second run reuses the session and gives the same tokens
  CHECK(work.tokens() == io.ids("generated_ids"));
}

TEST_CASE("golden: Whisper's sinusoidal positions are transformers' sinusoids") {
  // The checkpoint's encoder.embed_positions are transformers' sinusoids(50, 32).
  const WeightMap w = read_checkpoint_tensors(golden_dir("whisper"));
  const HostMatrix& stored = w.at("model.encoder.embed_positions.weight");
  const double err = max_abs_error(whisper_sinusoids(50, 32), stored);
  MESSAGE("whisper sinusoids(50, 32): max abs error " << err);
  CHECK(err <= 1e-6);
  // Synthetic weights use them too.
  const WeightMap synthetic = synthetic_whisper_weights(small_whisper(), 5);
  CHECK(max_abs_error(synthetic.at("encoder.embed_positions.weight"), whisper_sinusoids(150, 64)) == 0.0);
}

TEST_CASE("golden: wav2vec2 matches transformers' Wav2Vec2Model") {
  const AudioConfig config = Audio::checkpoint_preset(golden_dir("wav2vec2"));
  REQUIRE_FALSE(config.is_whisper());
  CHECK(config.name == "wav2vec2");
  CHECK(config.architecture == "wav2vec2");
  CHECK(config.wav2vec2().pos_conv_kernel == 16);  // even: SamePad drops a frame
  Cpu cpu = one_thread();
  const auto model = load_golden(cpu, "wav2vec2");
  // transformers' num_parameters() (the golden config has mask_time_prob 0, so no masked_spec_embed).
  CHECK(model.parameters() == 28'944);
  CHECK(config.parameter_count() == 28'944);
  const auto& w2v = std::get<Wav2Vec2<Cpu>>(model.impl());

  const Io io("wav2vec2");
  const HostMatrix input = io.floats("input_values");  // [2, 4000]
  auto ws = w2v.prepare(cpu, input);
  CHECK(ws.frames == io.dim("last_hidden_state", 1));
  w2v.forward(cpu, ws);
  check_close("wav2vec2 extract_features", ws.features, io.floats("extract_features"));
  check_close("wav2vec2 last_hidden_state", ws.hidden, io.floats("last_hidden_state"));

  Audio::Workload<Cpu> work(cpu, model, Audio::Cell{static_cast<int>(input.rows()), 1, 0}, 42, input);
  work.run();
  const auto outputs = work.outputs();
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].name == "last_hidden_state");
  CHECK(max_abs_error(outputs[0].value, io.floats("last_hidden_state")) <= golden_tolerance);
  CHECK(work.tokens().empty());
}

TEST_CASE("golden: wav2vec2 with the large models' structure matches transformers' Wav2Vec2Model") {
  // feat_extract_norm "layer" (a LayerNorm over the channels after every
  // convolution), conv_bias, do_stable_layer_norm (pre-norm layers, the
  // encoder's LayerNorm at the end).
  const AudioConfig config = Audio::checkpoint_preset(golden_dir("wav2vec2_stable"));
  REQUIRE_FALSE(config.is_whisper());
  CHECK(config.architecture == "wav2vec2");
  CHECK(config.wav2vec2().conv_layer_norm);
  CHECK(config.wav2vec2().stable_layer_norm);
  CHECK(config.wav2vec2().conv_bias);
  Cpu cpu = one_thread();
  const auto model = load_golden(cpu, "wav2vec2_stable");
  // transformers' num_parameters(): wav2vec2's 28,944, plus a bias (32) and a
  // LayerNorm (2 * 32) on each of the three convolutions, less layer 0's
  // GroupNorm (2 * 32).
  CHECK(model.parameters() == 29'168);
  CHECK(config.parameter_count() == 29'168);
  const auto& w2v = std::get<Wav2Vec2<Cpu>>(model.impl());

  const Io io("wav2vec2_stable");
  const HostMatrix input = io.floats("input_values");  // [2, 4000]
  auto ws = w2v.prepare(cpu, input);
  CHECK(ws.frames == io.dim("last_hidden_state", 1));
  w2v.forward(cpu, ws);
  check_close("wav2vec2_stable extract_features", ws.features, io.floats("extract_features"));
  check_close("wav2vec2_stable last_hidden_state", ws.hidden, io.floats("last_hidden_state"));

  Audio::Workload<Cpu> work(cpu, model, Audio::Cell{static_cast<int>(input.rows()), 1, 0}, 42, input);
  work.run();
  const auto outputs = work.outputs();
  REQUIRE(outputs.size() == 1);
  const double error = max_abs_error(outputs[0].value, io.floats("last_hidden_state"));
  MESSAGE("wav2vec2_stable on Cpu: max abs error " << error << " against transformers");
  CHECK(error <= golden_tolerance);
}

TEST_CASE("wav2vec2: the positional convolution's weight norm in all its checkpoint forms") {
  const auto dir = golden_dir("wav2vec2");
  const AudioConfig config = Audio::checkpoint_preset(dir);
  const Io io("wav2vec2");
  const HostMatrix input = io.floats("input_values");
  const std::string p = "encoder.pos_conv_embed.conv.";
  const auto run = [&](WeightMap weights) {
    Cpu cpu = one_thread();
    const Wav2Vec2<Cpu> model(cpu, config.wav2vec2(), std::move(weights));
    auto ws = model.prepare(cpu, input);
    model.forward(cpu, ws);
    return std::pair{ws.hidden, model.parameters()};
  };
  const HostMatrix g = Audio::checkpoint_weights(dir, config).at(p + "parametrizations.weight.original0");
  const HostMatrix v = Audio::checkpoint_weights(dir, config).at(p + "parametrizations.weight.original1");
  CHECK(g.rows() == 1);
  CHECK(g.cols() == 16);
  CHECK(v.rows() == 32 * 8);  // [out, in / groups, kernel] read as [out * in / groups, kernel]

  SUBCASE("weight_g and weight_v (checkpoints from before transformers 5)") {
    WeightMap w = Audio::checkpoint_weights(dir, config);
    w.insert(p + "weight_g", w.take(p + "parametrizations.weight.original0", 1, 16));
    w.insert(p + "weight_v", w.take(p + "parametrizations.weight.original1", 256, 16));
    const auto [hidden, parameters] = run(std::move(w));
    CHECK(parameters == 28'944);
    check_close("wav2vec2 last_hidden_state (weight_g, weight_v)", hidden, io.floats("last_hidden_state"));
  }
  SUBCASE("a weight already folded: g v / |v|, the norm over all but the kernel dimension") {
    WeightMap w = Audio::checkpoint_weights(dir, config);
    const HostMatrix folded = fold_weight_norm(w.take(p + "parametrizations.weight.original0", 1, 16),
                                               w.take(p + "parametrizations.weight.original1", 256, 16));
    for (Eigen::Index k = 0; k < 16; ++k) CHECK(folded.col(k).norm() == doctest::Approx(std::abs(g(0, k))).epsilon(1e-5));
    w.insert(p + "weight", folded);
    const auto [hidden, parameters] = run(std::move(w));
    CHECK(parameters == 28'944 - 16);  // no separate magnitudes
    check_close("wav2vec2 last_hidden_state (folded weight)", hidden, io.floats("last_hidden_state"));
  }
}

TEST_CASE("audio presets carry the published dimensions and parameter counts") {
  // transformers' num_parameters() of WhisperForConditionalGeneration (the
  // tied proj_out counted once, both position tables included).
  CHECK(Audio::find_preset("whisper-tiny").parameter_count() == 37'760'640);
  CHECK(Audio::find_preset("whisper-base").parameter_count() == 72'593'920);
  // Wav2Vec2Model has 94,371,712, of which 768 are masked_spec_embed, the
  // SpecAugment vector used in training only, which is not counted here.
  CHECK(Audio::find_preset("wav2vec2-base").parameter_count() == 94'371'712 - 768);
  // Wav2Vec2Model(config) of wav2vec2-large-lv60's config.json: 315,438,720,
  // of which 1024 are masked_spec_embed.
  CHECK(Audio::find_preset("wav2vec2-large-lv60").parameter_count() == 315'438'720 - 1024);
  CHECK(Audio::find_preset("facebook/wav2vec2-large-lv60").name == "wav2vec2-large-lv60");
  CHECK(Audio::find_preset("openai/whisper-tiny").name == "whisper-tiny");
  CHECK(Audio::find_preset("openai/whisper-base").name == "whisper-base");
  CHECK(Audio::find_preset("facebook/wav2vec2-base").name == "wav2vec2-base");
  CHECK(Audio::preset_names() ==
        std::vector<std::string>{"whisper-tiny", "whisper-base", "wav2vec2-base", "wav2vec2-large-lv60"});
  const auto& tiny = Audio::find_preset("whisper-tiny");
  CHECK(Audio::architecture(tiny) == "whisper");
  CHECK(tiny.layers == 4);
  CHECK(tiny.hidden == 384);
  CHECK(tiny.heads == 6);
  CHECK(tiny.whisper().input_frames() == 3000);
  CHECK(tiny.whisper().max_audio_seconds() == 30);
  const auto& base = Audio::find_preset("wav2vec2-base");
  CHECK(Audio::architecture(base) == "wav2vec2");
  CHECK(base.wav2vec2().frames(16000) == 49);  // 20 ms per frame
  const auto& large = Audio::find_preset("wav2vec2-large-lv60");
  CHECK(Audio::architecture(large) == "wav2vec2");
  CHECK(large.layers == 24);
  CHECK(large.hidden == 1024);
  CHECK(large.heads == 16);
  CHECK(large.wav2vec2().conv_layer_norm);
  CHECK(large.wav2vec2().stable_layer_norm);
  CHECK(large.wav2vec2().frames(16000) == 49);
  CHECK_THROWS_WITH_AS((void)Audio::find_preset("whisper-large"), doctest::Contains("model = \"whisper-large\""),
                       ConfigError);

  // The synthetic weights are the tensors the presets count, and the models take them all.
  for (const AudioConfig& p :
       {AudioConfig(small_whisper()), AudioConfig(small_wav2vec2()), AudioConfig(small_wav2vec2_stable())}) {
    CAPTURE(p.name);
    Cpu cpu = one_thread();
    const WeightMap w = Audio::weights(p, 3);
    CHECK(w.parameter_count() == p.parameter_count());
    CHECK(Audio::load(cpu, p, 3).parameters() == p.parameter_count());
  }
}

TEST_CASE("Whisper: cached decoder steps give the logits of a teacher-forced pass") {
  Cpu cpu = one_thread();
  const auto model = load_golden(cpu, "whisper");
  const auto& whisper = std::get<Whisper<Cpu>>(model.impl());
  const HostMatrix features = Io("whisper").floats("input_features");
  const int batch = 2, steps = 5;
  auto s = whisper.start(cpu, features, batch, steps);
  whisper.prefill(cpu, s);
  std::vector<std::vector<std::int32_t>> chosen{cpu.download_indices(s.next_ids)};
  for (int t = 1; t < steps; ++t) {
    whisper.decode(cpu, s);
    chosen.push_back(cpu.download_indices(s.next_ids));
  }
  // Decoder input: the start token, then the chosen tokens but the last.
  std::vector<std::int32_t> decoder_ids;
  for (int b = 0; b < batch; ++b) {
    decoder_ids.push_back(whisper.config().decoder_start_token);
    for (int t = 0; t + 1 < steps; ++t) decoder_ids.push_back(chosen[static_cast<std::size_t>(t)][static_cast<std::size_t>(b)]);
  }
  auto teacher = whisper.start(cpu, features, batch, steps);
  whisper.prefill(cpu, teacher);
  HostMatrix hidden, logits;
  whisper.decode_sequence(cpu, teacher, decoder_ids, steps, hidden, logits);
  HostMatrix last(batch, logits.cols());
  for (int b = 0; b < batch; ++b) last.row(b) = logits.row(b * steps + steps - 1);
  const double err = max_abs_error(s.dec.logits, last);
  MESSAGE("cached vs recomputed logits: max abs error " << err);
  CHECK(err < 1e-4);
  CHECK_THROWS_AS(whisper.decode(cpu, s), std::out_of_range);  // the cache is full
}

TEST_CASE("audio sweep: cells, axes, items, phases and limits") {
  Config c;
  c.batch_sizes = {1, 4};
  c.sweep["audio_seconds"] = {5, 30};
  c.sweep["new_tokens"] = {8, 16};
  c.model = "whisper-tiny";
  const auto cells = Audio::cells(c, detail::preset_for<Audio>(c));
  REQUIRE(cells.size() == 8);
  CHECK(cells[3].batch_size == 1);
  CHECK(cells[3].audio_seconds == 30);
  CHECK(cells[3].new_tokens == 16);
  const auto axes = Audio::axes(cells[7]);
  REQUIRE(axes.size() == 3);
  CHECK(axes[0].name == "batch_size");
  CHECK(axes[1].name == "audio_seconds");
  CHECK(axes[2].name == "new_tokens");
  CHECK(Audio::items(cells[7]) == 4 * 30);
  CHECK(Audio::real_time_factor(cells[7], 6.0) == doctest::Approx(0.05));
  const auto& whisper = Audio::find_preset("whisper-tiny");
  auto phases = Audio::phases(whisper, cells[7]);
  REQUIRE(phases.size() == 2);
  CHECK(phases[0].name == "encoder");
  CHECK(phases[0].item_unit == "audio seconds");
  CHECK(phases[0].items == 120);
  CHECK(phases[0].per_run == 1);
  CHECK(phases[1].name == "decode");
  CHECK(phases[1].item_unit == "tokens");
  CHECK(phases[1].items == 4);
  CHECK(phases[1].per_run == 15);
  CHECK(Audio::flops(whisper, cells[7]) > Audio::flops(whisper, cells[6]));  // more tokens, more work

  // wav2vec2 generates nothing: one cell per batch size and clip length, new_tokens 0.
  c.model = "wav2vec2-base";
  const auto encoder_cells = Audio::cells(c, detail::preset_for<Audio>(c));
  REQUIRE(encoder_cells.size() == 4);
  for (const auto& cell : encoder_cells) CHECK(cell.new_tokens == 0);
  phases = Audio::phases(Audio::find_preset("wav2vec2-base"), encoder_cells[3]);
  REQUIRE(phases.size() == 1);
  CHECK(phases[0].name == "encoder");
  CHECK(phases[0].items == 120);
  CHECK(Audio::flops(Audio::find_preset("wav2vec2-base"), encoder_cells[3]) >
        Audio::flops(Audio::find_preset("wav2vec2-base"), encoder_cells[2]));
  // A checkpoint folder is resolved the same way.
  c.weights = golden_dir("wav2vec2").string();
  CHECK(Audio::cells(c, detail::preset_for<Audio>(c)).size() == 4);
  c.weights = golden_dir("whisper").string();
  CHECK(Audio::cells(c, detail::preset_for<Audio>(c)).size() == 8);
}

TEST_CASE("audio limits: Whisper's 30-second window and decoder positions, named by field") {
  Config c;
  c.sweep["audio_seconds"] = {10, 31};
  CHECK_THROWS_WITH_AS(Audio::validate(c, Audio::find_preset("whisper-tiny")),
                       doctest::Contains("audio_seconds[1] = 31: exceeds whisper-tiny's input window of 30 s (3000 log-mel frames)"),
                       ConfigError);
  CHECK_NOTHROW(Audio::validate(c, Audio::find_preset("wav2vec2-base")));  // no window
  c.sweep["audio_seconds"] = {30};
  c.sweep["new_tokens"] = {16, 449};
  CHECK_THROWS_WITH_AS(Audio::validate(c, Audio::find_preset("whisper-base")),
                       doctest::Contains("new_tokens[1] = 449: exceeds whisper-base's 448 decoder positions"),
                       ConfigError);
  CHECK_NOTHROW(Audio::validate(c, Audio::find_preset("wav2vec2-base")));  // new_tokens is ignored
  c.sweep["new_tokens"] = {16};
  c.sweep["audio_seconds"] = {0};
  CHECK_THROWS_WITH_AS(validate<Audio>(c), doctest::Contains("audio_seconds[0] = 0"), ConfigError);
  c.sweep["audio_seconds"] = {2, 2};
  CHECK_THROWS_WITH_AS(validate<Audio>(c), doctest::Contains("audio_seconds[1] = 2: duplicate clip length"),
                       ConfigError);

  // The Benchmark refuses the configuration before running anything.
  Config bench;
  bench.model = "whisper-tiny";
  bench.sweep["audio_seconds"] = {45};
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, Audio>{bench}), doctest::Contains("audio_seconds[0] = 45"), ConfigError);
  // The golden checkpoint's window is 100 frames: one second.
  Config golden = quick_config("whisper");
  golden.sweep["audio_seconds"] = {1, 2};
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, Audio>{golden}),
                       doctest::Contains("audio_seconds[1] = 2: exceeds whisper's input window of 1 s (100 log-mel frames)"),
                       ConfigError);
}

TEST_CASE("Benchmark<Cpu, Audio> with Whisper: encoder and decode phases, audio seconds per second") {
  Config c = quick_config("whisper");
  Benchmark<Cpu, Audio> bench{c, one_thread()};
  const RunResult r = bench.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].name == "whisper");
  CHECK(r.models[0].family == "audio");
  CHECK(r.models[0].architecture == "whisper");
  CHECK(r.models[0].weights == "checkpoint " + c.weights);
  CHECK(r.models[0].parameters == 59'328);
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    const int batch = static_cast<int>(*cell.axis("batch_size"));
    CHECK(*cell.axis("audio_seconds") == 1);
    CHECK(*cell.axis("new_tokens") == 4);
    CHECK(cell.throughput.item_unit == "audio seconds");
    CHECK(cell.throughput.items_per_second ==
          doctest::Approx(batch * 1.0 * static_cast<double>(cell.iterations) / cell.measured_time_s));
    CHECK(cell.throughput.gflops_per_second.has_value());
    // The real-time factor is the inverse of audio seconds per second.
    REQUIRE(cell.throughput.real_time_factor.has_value());
    CHECK(*cell.throughput.real_time_factor == doctest::Approx(1.0 / cell.throughput.items_per_second));
    REQUIRE(cell.phases.size() == 2);
    const auto& encoder = cell.phases[0];
    const auto& decode = cell.phases[1];
    CHECK(encoder.name == "encoder");
    CHECK(encoder.item_unit == "audio seconds");
    CHECK(decode.name == "decode");
    CHECK(decode.item_unit == "tokens");
    // Every timed run records one encoder phase and new_tokens - 1 decode steps.
    CHECK(encoder.latency.count == cell.iterations);
    CHECK(decode.latency.count == 3 * cell.iterations);
    CHECK(encoder.items == batch);
    CHECK(decode.items == batch);
    CHECK(encoder.items_per_second == doctest::Approx(batch / encoder.latency.mean));
    CHECK(decode.items_per_second == doctest::Approx(batch / decode.latency.mean));
    CHECK(encoder.latency.mean + 3 * decode.latency.mean <= cell.latency.mean * 1.05);
    // Two decoder layers, keys and values, 4 positions plus 50 encoder positions, width 32.
    CHECK(cell.memory.kv_cache_bytes == std::uint64_t(2) * 2 * batch * (4 + 50) * 32 * sizeof(float));
  }
  std::ostringstream text;
  ConsoleReporter{text}.report(r);
  CHECK(text.str().find("family audio") != std::string::npos);
  CHECK(text.str().find("audio seconds/s") != std::string::npos);
  CHECK(text.str().find("encoder audio seconds/s") != std::string::npos);
  CHECK(text.str().find("decode tokens/s") != std::string::npos);
}

TEST_CASE("Benchmark<Cpu, Audio> with wav2vec2: one encoder phase, no tokens") {
  Config c = quick_config("wav2vec2");
  c.sweep["new_tokens"] = {4, 8};  // ignored by wav2vec2: one cell per batch size
  c.sweep["audio_seconds"] = {1, 2};
  c.batch_sizes = {2};
  const RunResult r = Benchmark<Cpu, Audio>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].architecture == "wav2vec2");
  CHECK(r.models[0].parameters == 28'944);
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    const auto seconds = *cell.axis("audio_seconds");
    CHECK(*cell.axis("new_tokens") == 0);
    REQUIRE(cell.phases.size() == 1);
    CHECK(cell.phases[0].name == "encoder");
    CHECK(cell.phases[0].latency.count == cell.iterations);
    CHECK(cell.phases[0].items == 2 * seconds);
    CHECK(cell.throughput.items_per_second ==
          doctest::Approx(2.0 * static_cast<double>(seconds) * static_cast<double>(cell.iterations) / cell.measured_time_s));
    CHECK(cell.memory.kv_cache_bytes == 0u);
  }
}

TEST_CASE("a second backend's audio models are verified against Cpu") {
  for (const std::string arch : {"whisper", "wav2vec2", "wav2vec2_stable"}) {
    CAPTURE(arch);
    Config c = quick_config(arch);
    c.batch_sizes = {2};
    c.min_iterations = 2;
    c.warmup_iterations = 0;
    const RunResult r = Benchmark<NaiveBackend, Audio>{c}.run();
    REQUIRE(r.cells.size() == 1);
    CAPTURE(r.cells[0].message);
    CHECK(r.cells[0].status == CellStatus::ok);
    CHECK(r.cells[0].verification.status == "ok");
    CHECK(r.cells[0].verification.reference == "cpu");
    MESSAGE(arch << " on the naive backend: max abs error " << r.cells[0].verification.max_abs_error << " against cpu");
    CHECK(r.cells[0].verification.max_abs_error < 1e-4);
  }
}

TEST_CASE("synthetic presets run through the family's workload") {
  Cpu cpu = one_thread();
  SUBCASE("Whisper") {
    const AudioConfig preset(small_whisper());
    const auto model = Audio::load(cpu, preset, 11);
    Audio::Workload<Cpu> work(cpu, model, {2, 2, 3}, 11);
    work.run();
    const auto first = work.tokens();
    REQUIRE(first.size() == 6);
    for (auto t : first) CHECK((t >= 0 && t < 500));
    work.run();
    CHECK(work.tokens() == first);
    CHECK(work.kv_cache_bytes() == std::uint64_t(2) * 1 * 2 * (3 + 150) * 64 * sizeof(float));
    const auto outputs = work.outputs();
    REQUIRE(outputs.size() == 2);
    CHECK(outputs[0].name == "generated_tokens");
    CHECK(outputs[0].value.rows() == 2);
    CHECK(outputs[0].value.cols() == 3);
    CHECK(outputs[1].name == "last_logits");
    CHECK(outputs[1].value.rows() == 2);
    CHECK(outputs[1].value.cols() == 500);
    CHECK_THROWS_AS((Audio::Workload<Cpu>(cpu, model, {2, 2, 17}, 11)), std::invalid_argument);  // 16 positions
  }
  SUBCASE("wav2vec2") {
    const AudioConfig preset(small_wav2vec2());
    const auto model = Audio::load(cpu, preset, 11);
    Audio::Workload<Cpu> work(cpu, model, {2, 1, 0}, 11);
    work.run();
    const auto outputs = work.outputs();
    REQUIRE(outputs.size() == 1);
    CHECK(outputs[0].name == "last_hidden_state");
    const int frames = preset.wav2vec2().frames(16000);
    CHECK(frames == 799);
    CHECK(outputs[0].value.rows() == 2 * frames);
    CHECK(outputs[0].value.cols() == 64);
    CHECK(outputs[0].value.allFinite());
    CHECK(work.kv_cache_bytes() == 0u);
  }
}

TEST_CASE("synthetic audio inputs: Whisper's padded log-mel window and wav2vec2's normalised waveform") {
  const WhisperConfig& tiny = Audio::find_preset("whisper-tiny").whisper();
  const HostMatrix f = make_whisper_features(tiny, 2, 10, 42);
  REQUIRE(f.rows() == 2 * 80);
  REQUIRE(f.cols() == 3000);  // every clip padded to the 30-second window
  for (int b = 0; b < 2; ++b) {
    const auto clip = f.middleRows(b * 80, 80);
    const float peak = clip.leftCols(1000).maxCoeff();
    CHECK(clip.rightCols(2000).minCoeff() == peak - 2.0f);  // silence after the clip's 1000 frames
    CHECK(clip.rightCols(2000).maxCoeff() == peak - 2.0f);
    CHECK(clip.leftCols(1000).minCoeff() > peak - 2.0f);
  }
  CHECK(f == make_whisper_features(tiny, 2, 10, 42));
  CHECK(f != make_whisper_features(tiny, 2, 10, 43));
  CHECK(make_whisper_features(tiny, 1, 30, 42).minCoeff() > -1.0f);  // a full window: no silence

  const HostMatrix w = make_wav2vec2_waveform(2, 16000, 1);
  REQUIRE(w.rows() == 2);
  REQUIRE(w.cols() == 16000);
  for (int b = 0; b < 2; ++b) {
    const double mean = w.row(b).cast<double>().mean();
    const double var = (w.row(b).cast<double>().array() - mean).square().mean();
    CHECK(std::abs(mean) < 1e-5);
    CHECK(var == doctest::Approx(1.0).epsilon(1e-4));
  }
  CHECK(w == make_wav2vec2_waveform(2, 16000, 1));
  CHECK(w.row(0) != w.row(1));
}

TEST_CASE("audio checkpoint folders: config.json errors name the file, the field and the value") {
  SUBCASE("an architecture the family does not have") {
    const auto dir = folder_with_config("hubert", R"({"model_type": "hubert"})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("model_type = \"hubert\""), ConfigError);
  }
  SUBCASE("a text checkpoint") {
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(golden_dir("t5")), doctest::Contains("model_type = \"t5\""),
                         ConfigError);
  }
  SUBCASE("Whisper: a missing field") {
    const auto dir = folder_with_config("whisper-no-d-model", R"({"model_type": "whisper", "encoder_layers": 2})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("d_model = (missing)"), ConfigError);
  }
  SUBCASE("Whisper: another activation") {
    const auto dir = folder_with_config("whisper-relu", R"({"model_type": "whisper", "activation_function": "relu"})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("activation_function = \"relu\""),
                         ConfigError);
  }
  SUBCASE("Whisper: inconsistent dimensions") {
    const auto dir = folder_with_config("whisper-bad-heads", R"({"model_type": "whisper", "d_model": 32,
        "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 5, "decoder_attention_heads": 4,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "vocab_size": 100})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("heads = 5: must divide hidden (32)"),
                         ConfigError);
  }
  SUBCASE("wav2vec2: a feature-encoder normalisation other than \"group\" and \"layer\"") {
    const auto dir = folder_with_config("wav2vec2-batch", R"({"model_type": "wav2vec2", "feat_extract_norm": "batch"})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("feat_extract_norm = \"batch\""),
                         ConfigError);
  }
  SUBCASE("wav2vec2: conv_dim that is not a list") {
    const auto dir = folder_with_config("wav2vec2-conv-dim", R"({"model_type": "wav2vec2", "num_hidden_layers": 1,
        "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, "conv_dim": 512})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir),
                         doctest::Contains("conv_dim = 512: expected a non-empty array of integers"), ConfigError);
  }
  SUBCASE("wav2vec2: convolution lists of different lengths") {
    const auto dir = folder_with_config("wav2vec2-conv-lengths", R"({"model_type": "wav2vec2", "num_hidden_layers": 1,
        "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, "conv_dim": [32, 32],
        "conv_kernel": [10, 3], "conv_stride": [5]})");
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_preset(dir), doctest::Contains("conv_stride 1"), ConfigError);
  }
  SUBCASE("a folder without weights") {
    const auto dir = folder_with_config("whisper-no-weights", R"({"model_type": "whisper", "d_model": 32,
        "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
        "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "vocab_size": 100, "decoder_start_token_id": 1})");
    const auto config = Audio::checkpoint_preset(dir);
    CHECK(config.whisper().max_source_positions == 1500);
    CHECK_THROWS_WITH_AS((void)Audio::checkpoint_weights(dir, config),
                         doctest::Contains("has neither model.safetensors nor model.safetensors.index.json"), ConfigError);
  }
}

TEST_CASE("an audio checkpoint with a missing tensor is a failed model, and the sweep is still reported") {
  const auto dir = golden_with_extra_layer("wav2vec2", "num_hidden_layers");
  Config c = quick_config("wav2vec2");
  c.weights = dir.string();
  const RunResult r = Benchmark<Cpu, Audio>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].status == "failed");
  CHECK(r.models[0].message.find("no tensor named 'encoder.layers.2.attention.q_proj.weight'") != std::string::npos);
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) CHECK(cell.status == CellStatus::failed);
}
