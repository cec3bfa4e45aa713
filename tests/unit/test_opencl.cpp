// The OpenCL backend on this machine's OpenCL device (PoCL's CPU device in
// CI): every op against Cpu, every architecture end to end, device
// selection, the event timer and device memory.

#include <doctest/doctest.h>

#include <accelbench/backend/opencl.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/report/console_reporter.hpp>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "backend_conformance.hpp"
#include "golden.hpp"
#include "detr_golden.hpp"
#include "llava_golden.hpp"
#include "clap_golden.hpp"
#include "xclip_golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

TEST_CASE("opencl: a device is available and described") {
  const Availability a = OpenCL::available();
  INFO(a.reason);
  REQUIRE(a.available);
  OpenCL cl;
  const DeviceInfo d = cl.describe();
  MESSAGE("OpenCL device: " << d.name << " (" << d.kind << ", " << d.compute_units << " compute units)");
  CHECK(d.backend == "opencl");
  CHECK(!d.name.empty());
  CHECK(d.compute_units > 0);
  CHECK(d.memory_bytes > 0);
  CHECK(cl.device_key().find(':') != std::string::npos);
}

TEST_CASE("opencl: every op matches Cpu") {
  OpenCL cl;
  check_ops_against_cpu(cl);
}

TEST_CASE("opencl: ops reject bad shapes naming the op") {
  OpenCL cl;
  OpenCL::Tensor y;
  CHECK_THROWS_WITH_AS(cl.linear(cl.upload(HostMatrix::Ones(2, 3)), cl.upload(HostMatrix::Ones(4, 5)), OpenCL::Tensor{}, y),
                       doctest::Contains("opencl linear: input has 3 columns, weight expects 5"), std::invalid_argument);
  OpenCL::Tensor a = cl.upload(HostMatrix::Ones(2, 3));
  CHECK_THROWS_WITH_AS(cl.add(cl.upload(HostMatrix::Ones(3, 2)), a), doctest::Contains("opencl add: shapes differ"),
                       std::invalid_argument);
  const Conv2dDims conv{2, 3, 8, 6, 4, 3, 2, 1};  // batch, channels, height, width, out, kernel, stride, padding
  CHECK_THROWS_WITH_AS(cl.conv2d_rows(cl.upload(HostMatrix::Ones(95, 3)), cl.upload(HostMatrix::Ones(4, 27)), OpenCL::Tensor{},
                                      conv, y),
                       doctest::Contains("opencl conv2d_rows: input is [95, 3], expected [batch * height * width, "
                                         "channels] = [96, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cl.conv2d_rows(cl.upload(HostMatrix::Ones(96, 3)), cl.upload(HostMatrix::Ones(4, 36)), OpenCL::Tensor{},
                                      conv, y),
                       doctest::Contains("opencl conv2d_rows: weight is [4, 36]"), std::invalid_argument);
  const Pool2dDims pool{2, 3, 8, 6, 3, 2, 2};  // padding above half the kernel
  CHECK_THROWS_WITH_AS(cl.max_pool2d(cl.upload(HostMatrix::Ones(96, 3)), pool, y),
                       doctest::Contains("opencl max_pool2d: batch 2, channels 3"), std::invalid_argument);
}

TEST_CASE("opencl: device selection by index, name and environment") {
  CHECK_NOTHROW(OpenCL{OpenCL::Options{.platform = "0", .device = "0"}});
  CHECK_THROWS_WITH_AS(OpenCL{OpenCL::Options{.platform = "no-such-platform"}},
                       doctest::Contains("no OpenCL device matches platform \"no-such-platform\""), std::runtime_error);
  CHECK_THROWS_WITH_AS(OpenCL{OpenCL::Options{.device = "99"}}, doctest::Contains("devices: 0:0"), std::runtime_error);
  // ACCELBENCH_OPENCL_DEVICE picks the device of the default constructor and of available().
  ::setenv("ACCELBENCH_OPENCL_DEVICE", "0:no-such-device", 1);
  const Availability missing = OpenCL::available();
  CHECK_FALSE(missing.available);
  CHECK(missing.reason.find("device \"no-such-device\"") != std::string::npos);
  OpenCL without_device;  // does not throw: its operations do
  CHECK_THROWS_WITH_AS(without_device.synchronize(), doctest::Contains("no-such-device"), std::runtime_error);
  ::setenv("ACCELBENCH_OPENCL_DEVICE", "0:0", 1);
  CHECK(OpenCL::available().available);
  ::unsetenv("ACCELBENCH_OPENCL_DEVICE");
  // Two objects on one device share its context: a tensor of one is usable by the other.
  OpenCL a, b;
  CHECK(a.device_key() == b.device_key());
  OpenCL::Tensor t = a.upload(HostMatrix::Constant(2, 2, 3.0f));
  b.scale(t, 2.0f);
  CHECK(b.download(t)(1, 1) == doctest::Approx(6.0));
}

TEST_CASE("opencl: the event timer measures queued work, and device memory is counted") {
  OpenCL cl;
  const HostMatrix x = random_matrix(256, 256, 1);
  OpenCL::Tensor xt = cl.upload(x), y;
  cl.linear(xt, xt, OpenCL::Tensor{}, y);  // compiles and warms
  cl.synchronize();
  OpenCLEventTimer timer(cl);
  const auto wall0 = std::chrono::steady_clock::now();
  timer.start();
  for (int i = 0; i < 5; ++i) cl.linear(xt, xt, OpenCL::Tensor{}, y);
  cl.synchronize();
  const double device_s = timer.stop();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  MESSAGE("5 products of 256 x 256: events " << device_s * 1e3 << " ms, wall " << wall_s * 1e3 << " ms");
  CHECK(device_s > 0);
  CHECK(device_s <= wall_s * 1.01 + 1e-4);

  cl.reset_device_memory();
  const std::uint64_t before = cl.device_memory().used_bytes;
  {
    OpenCL::Tensor big = cl.upload(HostMatrix::Zero(1024, 1024));
    CHECK(cl.device_memory().used_bytes == before + 4u * 1024 * 1024);
  }
  const DeviceMemory m = cl.device_memory();
  CHECK(m.used_bytes == before);
  CHECK(m.peak_bytes == before + 4u * 1024 * 1024);
  CHECK(m.average_bytes <= m.peak_bytes);
  CHECK(m.total_bytes > 0);
}

TEST_CASE("opencl: every architecture runs and verifies against Cpu (golden checkpoints)") {
  SUBCASE("BERT") { check_architecture<OpenCL, Embedding>("bert"); }
  SUBCASE("GPT-2") { check_architecture<OpenCL, TextGeneration>("gpt2"); }
  SUBCASE("Llama") { check_architecture<OpenCL, TextGeneration>("llama"); }
  SUBCASE("Qwen2") { check_architecture<OpenCL, TextGeneration>("qwen2"); }
  SUBCASE("T5") { check_architecture<OpenCL, TextGeneration>("t5"); }
  SUBCASE("GPT-2: own head, attention scaling options") { check_architecture<OpenCL, TextGeneration>("gpt2_variant"); }
  SUBCASE("Llama: attention and MLP biases") { check_architecture<OpenCL, TextGeneration>("llama_bias"); }
  SUBCASE("GPT-2 with bf16 weights") { check_architecture<OpenCL, TextGeneration>("gpt2", {}, Precision::bf16); }
  SUBCASE("Llama with fp16 weights") { check_architecture<OpenCL, TextGeneration>("llama", {}, Precision::fp16); }
  SUBCASE("Qwen2 with bf16 weights, the tied head's copy") {
    check_architecture<OpenCL, TextGeneration>("qwen2", {}, Precision::bf16);
  }
  SUBCASE("Qwen2: stored head unties") { check_architecture<OpenCL, TextGeneration>("qwen2_head"); }
  SUBCASE("T5: own head, unscaled") { check_architecture<OpenCL, TextGeneration>("t5_untied"); }
  SUBCASE("T5: gated-gelu feed-forward, own head") { check_architecture<OpenCL, TextGeneration>("t5_gated"); }
  SUBCASE("Qwen2: sliding-window layers") { check_architecture<OpenCL, TextGeneration>("qwen2_window"); }
  SUBCASE("Mistral: a sliding window in every layer") { check_architecture<OpenCL, TextGeneration>("mistral"); }
  SUBCASE("Llama: llama3 rotary scaling") { check_architecture<OpenCL, TextGeneration>("llama_rope_llama3"); }
  SUBCASE("Llama: linear rotary scaling") { check_architecture<OpenCL, TextGeneration>("llama_rope_linear"); }
  SUBCASE("ViT") { check_architecture<OpenCL, Vision>("vit"); }
  SUBCASE("ViT: no q/k/v biases") { check_architecture<OpenCL, Vision>("vit_nobias"); }
  SUBCASE("CLIP") { check_architecture<OpenCL, Multimodal>("clip"); }
  SUBCASE("Whisper") { check_architecture<OpenCL, Audio>("whisper"); }
  SUBCASE("wav2vec2") { check_architecture<OpenCL, Audio>("wav2vec2"); }
  SUBCASE("wav2vec2: layer-normalised feature encoder, stable layer norm") {
    check_architecture<OpenCL, Audio>("wav2vec2_stable");
  }
  SUBCASE("LLaVA") { check_architecture<OpenCL, VisionLanguage>("llava"); }
  SUBCASE("LLaVA: every token of a positive feature layer, tied Qwen2 decoder") {
    check_architecture<OpenCL, VisionLanguage>("llava_variant");
  }
  SUBCASE("LLaVA-NeXT") { check_architecture<OpenCL, VisionLanguage>("llava_next"); }
  SUBCASE("DETR") { check_architecture<OpenCL, Vision>("detr", {{"image_sizes", {96}}, {"image_widths", {128}}}); }
  SUBCASE("DETR: basic ResNet layers, the first stage strided") {
    check_architecture<OpenCL, Vision>("detr_variant", {{"image_sizes", {64}}, {"image_widths", {96}}});
  }
  SUBCASE("X-CLIP") { check_architecture<OpenCL, VideoText>("xclip"); }
  SUBCASE("CLAP: interpolated clips") { check_architecture<OpenCL, AudioText>("clap", {{"frames", {200}}}); }
  SUBCASE("CLAP with fusion: every clip longer") { check_architecture<OpenCL, AudioText>("clap_fused"); }
}

TEST_CASE("opencl: the LLaVA and LLaVA-NeXT goldens match transformers: image features, hidden states, prompt and step logits, tokens") {
  OpenCL cl;
  (void)check_llava_golden(cl, "llava");
  (void)check_llava_golden(cl, "llava_variant");
  (void)check_llava_golden(cl, "llava_next");
}

TEST_CASE("opencl: the DETR goldens match transformers: feature map, encoder and decoder states, logits, boxes") {
  OpenCL cl;
  (void)check_detr_golden(cl, "detr");
  (void)check_detr_golden(cl, "detr_variant");
}

TEST_CASE("opencl: the X-CLIP golden matches transformers: message tokens, MIT, patch features, prompts, logits") {
  OpenCL cl;
  (void)check_xclip_golden(cl);
}

TEST_CASE("opencl: the CLAP goldens match transformers: shifted windows, patch merging, fusion, RoBERTa's pooler, logits") {
  OpenCL cl;
  (void)check_clap_golden(cl);
  (void)check_clap_golden(cl, "clap_fused");
}

TEST_CASE("opencl: wav2vec2 with the large models' structure matches transformers' outputs") {
  // feat_extract_norm "layer" and do_stable_layer_norm, against the golden
  // outputs themselves rather than Cpu.
  OpenCL cl;
  const auto dir = golden_dir("wav2vec2_stable");
  const AudioConfig config = Audio::checkpoint_preset(dir);
  const auto model = Audio::load_weights(cl, config, Audio::checkpoint_weights(dir, config));
  const auto& w2v = std::get<Wav2Vec2<OpenCL>>(model.impl());
  const GoldenIo io("wav2vec2_stable");
  auto ws = w2v.prepare(cl, io.floats("input_values"));
  w2v.forward(cl, ws);
  check_close("opencl wav2vec2_stable extract_features", cl.download(ws.features), io.floats("extract_features"));
  check_close("opencl wav2vec2_stable last_hidden_state", cl.download(ws.hidden), io.floats("last_hidden_state"));
}

TEST_CASE("opencl: the sliding-window and rotary-scaling goldens match transformers: hidden states, prompt and step logits, tokens") {
  // As test_golden on Cpu: the decode steps past the window read the cache
  // through the window; the scaled rotary frequencies at every position.
  for (const std::string arch :
       {"qwen2_window", "mistral", "llama_rope_llama3", "llama_rope_linear", "llama_rope_dynamic"}) {
    CAPTURE(arch);
    OpenCL cl;
    const auto dir = golden_dir(arch);
    const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
    REQUIRE(config.sliding_window == (arch.starts_with("llama_rope") ? 0 : 4));
    REQUIRE((config.rope_scaling == RotaryScaling::none) == !arch.starts_with("llama_rope"));
    const auto model = TextGeneration::load_weights(cl, config, TextGeneration::checkpoint_weights(dir, config));
    const auto& lm = std::get<Llama<OpenCL>>(model.impl());
    const GoldenIo io(arch);
    const int batch = io.dim("input_ids", 0);
    const int prompt = io.dim("input_ids", 1);
    const int new_tokens = io.dim("generated_ids", 1);
    auto session = lm.start(cl, io.ids("input_ids"), batch, prompt, new_tokens);
    lm.prefill(cl, session);
    check_close(arch + " on OpenCL: last_hidden_state", cl.download(session.prefill.h), io.floats("last_hidden_state"));
    OpenCL::Tensor logits;
    lm.prompt_logits(cl, session, logits);
    check_close(arch + " on OpenCL: logits", cl.download(logits), io.floats("logits"));
    const HostMatrix expected = io.floats("step_logits");
    HostMatrix steps(expected.rows(), expected.cols());
    std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
    for (int t = 0; t < new_tokens; ++t) {
      if (t > 0) lm.decode(cl, session);
      const HostMatrix step = cl.download(t == 0 ? session.prefill.logits : session.step.logits);
      const auto ids = cl.download_indices(session.next_ids);
      for (int b = 0; b < batch; ++b) {
        steps.row(b * new_tokens + t) = step.row(b);
        generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
      }
    }
    check_close(arch + " on OpenCL: step logits", steps, expected);
    CHECK(generated == io.ids("generated_ids"));
  }
}

TEST_CASE("opencl: Benchmark reports device memory and the event timer") {
  const RunResult r = Benchmark<OpenCL, Embedding>{conformance_config<Embedding>("bert")}.run();
  REQUIRE(r.cells.size() == 1);
  const CellResult& c = r.cells[0];
  CHECK(c.timer == "opencl_events");
  REQUIRE(c.memory.device_peak_bytes.has_value());
  CHECK(*c.memory.device_peak_bytes > 0);
  CHECK(c.memory.device_total_bytes.value_or(0) > 0);
  CHECK(r.devices.at(0).backend == "opencl");
  // The console table shows the device's memory and the error against the reference.
  std::ostringstream out;
  ConsoleReporter{out}.report(r);
  CHECK(out.str().find("device peak MiB") != std::string::npos);
  CHECK(out.str().find("max abs error") != std::string::npos);
}

// Run by its own ctest with OCL_ICD_VENDORS pointing at an empty folder, so
// that the ICD loader finds no platform.
TEST_CASE("opencl without a platform: unavailable with the reason" * doctest::skip()) {
  const Availability a = OpenCL::available();
  CHECK_FALSE(a.available);
  CHECK(a.reason.find("no OpenCL platform") != std::string::npos);
  Config c = conformance_config<Embedding>("bert");
  const RunResult r = Benchmark<OpenCL, Embedding>{c}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::unavailable);
  CHECK(r.cells[0].message.find("no OpenCL platform") != std::string::npos);
}
