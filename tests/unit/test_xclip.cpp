// X-CLIP: fidelity to transformers' XCLIPModel (the golden checkpoint of
// tools/golden/generate.py: two videos of three frames, three texts) through
// every part (the vision tower with its message tokens, the multi-frame
// integration transformer, the frames' patch features, the text tower, the
// prompt generator, the logits), the checkpoint's tensors and fields held to
// what is implemented, and the presets' dimensions.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/video_text.hpp>
#include <accelbench/model/xclip.hpp>
#include <accelbench/model/xclip_checkpoint.hpp>
#include <accelbench/run/benchmark.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "golden.hpp"
#include "naive_backend.hpp"
#include "xclip_golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

std::string config_error(const std::filesystem::path& dir) {
  return config_error_of([](const auto& d) { return xclip_config_from_checkpoint(d); }, dir);
}

}  // namespace

TEST_CASE("X-CLIP matches transformers' XCLIPModel: message tokens, MIT, prompt generator, logits") {
  Cpu cpu = one_thread();
  CHECK(check_xclip_golden(cpu) <= golden_tolerance);
}

TEST_CASE("X-CLIP checkpoints: fields that change the computation are read or refused by name") {
  CHECK(config_error(edited_golden_config("xclip", "act", [](auto& j) { j["prompt_hidden_act"] = "tanh"; }))
            .find("prompt_hidden_act") != std::string::npos);
  CHECK(config_error(edited_golden_config("xclip", "mit", [](auto& j) { j["vision_config"]["mit_hidden_size"] = 7; }))
            .find("mit_hidden") != std::string::npos);
  CHECK(config_error(edited_golden_config("xclip", "unknown", [](auto& j) { j["vision_config"]["use_message_tokens"] = false; }))
            .find("vision_config.use_message_tokens") != std::string::npos);
  CHECK(config_error(edited_golden_config("xclip", "type", [](auto& j) { j["model_type"] = "clip"; })).find("model_type") !=
        std::string::npos);
  const XClipConfig golden = xclip_config_from_checkpoint(golden_dir("xclip"));
  CHECK(golden.frames == 3);
  CHECK(golden.parameter_count() == shape_parameter_count(xclip_tensor_shapes(golden)));
}

TEST_CASE("X-CLIP presets: microsoft/xclip-base-patch32's parameters; a synthetic model runs") {
  const XClipConfig& base = xclip_presets().front();
  CHECK(base.name == "xclip-base-patch32");
  // XCLIPModel(XCLIPConfig()) of transformers 5.23: num_parameters()
  CHECK(base.parameter_count() == 196'585'729);
  XClipConfig tiny = xclip_presets().back();
  tiny.vision.layers = 1;
  tiny.text.layers = 1;
  tiny.frames = 4;
  Cpu cpu = one_thread();
  const XClip<Cpu> model(cpu, tiny, synthetic_xclip_weights(tiny, 3));
  CHECK(model.parameters() == tiny.parameter_count());
  ClipConfig text_only;
  text_only.text = tiny.text;
  const ClipTextInput texts = make_clip_text_input(text_only, 2, 9, 5);
  const HostMatrix frames = HostMatrix::Random(2 * 4, 3 * 224 * 224);
  auto ws = model.prepare(cpu, frames, 2, texts);
  model.forward(cpu, ws);
  const HostMatrix logits = model.logits_per_video(cpu, ws);
  CHECK(logits.rows() == 2);
  CHECK(logits.cols() == 2);
  CHECK(logits.allFinite());
  CHECK(std::abs(ws.video_embeds.row(0).norm() - 1.0f) < 1e-5f);
  // Fewer frames than the MIT's positions are taken; more are refused.
  auto three = model.prepare(cpu, frames.topRows(6), 2, texts);
  model.forward(cpu, three);
  CHECK(three.frames == 3);
  CHECK_THROWS_AS((void)model.prepare(cpu, HostMatrix::Random(10, 3 * 224 * 224), 1, texts), std::invalid_argument);
}

TEST_CASE("Benchmark<Cpu, VideoText> runs an X-CLIP checkpoint over numbers of frames, with its three phases") {
  Config c;
  c.weights = golden_dir("xclip").string();
  c.batch_sizes = {2};
  c.sweep["frames"] = {0, 2};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<Cpu, VideoText>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].architecture == "xclip");
  CHECK(r.models[0].family == "video-text");
  CHECK(r.models[0].parameters == xclip_config_from_checkpoint(golden_dir("xclip")).parameter_count());
  REQUIRE(r.cells.size() == 2);
  const int frames[] = {3, 2};  // 0: the checkpoint's num_frames
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const CellResult& cell = r.cells[i];
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    CHECK(*cell.axis("frames") == frames[i]);
    CHECK(cell.throughput.item_unit == "videos");
    REQUIRE(cell.phases.size() == 3);
    CHECK(cell.phases[0].name == "video_encode");
    CHECK(cell.phases[2].name == "similarity");
  }

  const XClipConfig preset = VideoText::checkpoint_preset(golden_dir("xclip"));
  Cpu cpu = one_thread();
  const auto model = VideoText::load_weights(cpu, preset, VideoText::checkpoint_weights(golden_dir("xclip"), preset));
  VideoText::Workload<Cpu> work(cpu, model, {2, 3}, 5);
  work.run();
  const auto out = work.outputs();
  REQUIRE(out.size() == 3);
  CHECK(out[2].name == "logits_per_video");
  CHECK(out[2].value.rows() == 2);
  CHECK(out[2].value.cols() == 2);

  c.sweep["frames"] = {4};
  CHECK_THROWS_WITH_AS(VideoText::validate(c, preset), doctest::Contains("frames[0] = 4: exceeds xclip's 3 frames"),
                       ConfigError);
  c.sweep["frames"] = {3, 0};
  CHECK_THROWS_WITH_AS(VideoText::validate(c, preset), doctest::Contains("frames[1] = 0: duplicate number of frames"),
                       ConfigError);
}

TEST_CASE("the plain-loop backend runs X-CLIP, verified against Cpu") {
  Config c;
  c.weights = golden_dir("xclip").string();
  c.batch_sizes = {2};
  c.sweep = {{"frames", {2}}};
  c.warmup_iterations = 0;
  c.min_iterations = 1;
  c.min_time_s = 0.0;
  c.max_time_s = 1.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<NaiveBackend, VideoText>{c}.run();
  REQUIRE(r.cells.size() == 1);
  CAPTURE(r.cells[0].message);
  CHECK(r.cells[0].status == CellStatus::ok);
  CHECK(r.cells[0].verification.status == "ok");
  CHECK(r.cells[0].verification.reference == "cpu");
  CHECK(r.cells[0].verification.max_abs_error < 1e-4);
}
