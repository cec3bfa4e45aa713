// DETR: fidelity to transformers' DetrForObjectDetection with its own
// ResNet backbone (the golden checkpoints of tools/golden/generate.py, one
// with bottleneck layers and one with basic layers), the sine position
// embedding, the checkpoint's tensors and fields held to what is
// implemented, and the presets' dimensions.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/vision.hpp>
#include <accelbench/model/common/safetensors.hpp>
#include <accelbench/model/detr.hpp>
#include <accelbench/model/detr_checkpoint.hpp>
#include <accelbench/run/benchmark.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "detr_golden.hpp"
#include "golden.hpp"
#include "naive_backend.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

/// The golden DETR checkpoint with its tensors passed through `edit`
/// (a WeightMap of the stored names) before they are written back.
template <class Edit>
std::filesystem::path edited_detr_weights(const std::string& name, Edit&& edit) {
  const auto dir = std::filesystem::temp_directory_path() / ("accelbench-test-detr-weights-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden_dir("detr") / "config.json", dir / "config.json");
  WeightMap stored = read_checkpoint_tensors(golden_dir("detr"));
  edit(stored);
  SafetensorsWriter file;
  for (const std::string& n : stored.names()) file.add_float(n, stored.at(n));
  file.write(dir / "model.safetensors");
  return dir;
}

/// The ConfigError message of reading `dir`'s config.json.
std::string config_error(const std::filesystem::path& dir) {
  return config_error_of([](const auto& d) { return detr_config_from_checkpoint(d); }, dir);
}

}  // namespace

TEST_CASE("DETR matches transformers' DetrForObjectDetection: bottleneck ResNet, folded batch norms, both image sizes") {
  Cpu cpu = one_thread();
  CHECK(check_detr_golden(cpu, "detr") <= golden_tolerance);
}

TEST_CASE("DETR matches transformers with basic ResNet layers and the first stage strided") {
  Cpu cpu = one_thread();
  CHECK(check_detr_golden(cpu, "detr_variant") <= golden_tolerance);
}

TEST_CASE("DETR's sine position embedding: transformers' values at another feature-map size") {
  const GoldenIo io("detr");
  const HostMatrix stored = io.floats("position_embedding");
  const DetrConfig config = detr_config_from_checkpoint(golden_dir("detr"));
  const int tokens = static_cast<int>(stored.rows());
  // The stored table is for the 96 x 128 images' feature map.
  const int h = config.feature_side(96), w = config.feature_side(128);
  REQUIRE(h * w == tokens);
  check_close("position_embedding", detr_sine_positions(h, w, config.d_model), stored);
  // Rows are (y, x) row-major: the first half of the columns depends on y only.
  const HostMatrix p = detr_sine_positions(3, 5, 8);
  CHECK(p.rows() == 15);
  CHECK(p(0, 0) == p(4, 0));
  CHECK(p(0, 4) != p(1, 4));
  CHECK(p(1, 4) == p(6, 4));
}

TEST_CASE("DETR checkpoints: a tensor left over or missing is an error naming it") {
  const DetrConfig config = detr_config_from_checkpoint(golden_dir("detr"));
  Cpu cpu = one_thread();
  const auto extra = edited_detr_weights("extra", [](WeightMap& w) {
    w.insert("model.encoder.layers.0.self_attn.extra.weight", HostMatrix::Zero(2, 2));
  });
  CHECK_THROWS_WITH_AS((void)Detr<Cpu>(cpu, config, detr_weights_from_checkpoint(extra, config)),
                       doctest::Contains("model.encoder.layers.0.self_attn.extra.weight"), std::invalid_argument);
  const auto missing = edited_detr_weights("missing", [](WeightMap& w) {
    for (const auto& n : w.names()) {
      if (n.find("stages.0.layers.0.layer.1.normalization.running_var") != std::string::npos) {
        (void)w.take(n, w.at(n).rows(), w.at(n).cols());
      }
    }
  });
  CHECK_THROWS_WITH((void)Detr<Cpu>(cpu, config, detr_weights_from_checkpoint(missing, config)),
                    doctest::Contains("stages.0.layers.0.layer.1.normalization.running_var"));
  // num_batches_tracked, a training counter, is declared unused.
  const auto counter = edited_detr_weights("counter", [](WeightMap& w) {
    w.insert("model.backbone.conv_encoder.model.embedder.embedder.normalization.num_batches_tracked",
             HostMatrix::Zero(1, 1));
  });
  CHECK_NOTHROW((void)Detr<Cpu>(cpu, config, detr_weights_from_checkpoint(counter, config)));
}

TEST_CASE("DETR checkpoints: fields that change the computation are read or refused by name") {
  CHECK(config_error(edited_golden_config("detr", "learned", [](auto& j) { j["position_embedding_type"] = "learned"; }))
            .find("position_embedding_type") != std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "timm", [](auto& j) { j["use_timm_backbone"] = true; }))
            .find("use_timm_backbone") != std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "dilation", [](auto& j) { j["dilation"] = true; })).find("dilation") !=
        std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "act", [](auto& j) { j["backbone_config"]["hidden_act"] = "gelu"; }))
            .find("backbone_config.hidden_act") != std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "stage3", [](auto& j) { j["backbone_config"]["out_features"] = {"stage3"}; }))
            .find("backbone_config.out_features") != std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "swin", [](auto& j) { j["backbone_config"]["model_type"] = "swin"; }))
            .find("backbone_config.model_type") != std::string::npos);
  CHECK(config_error(edited_golden_config("detr", "unknown", [](auto& j) { j["two_stage"] = true; })).find("two_stage") !=
        std::string::npos);
  const DetrConfig aux = detr_config_from_checkpoint(edited_golden_config("detr", "aux", [](auto& j) { j["auxiliary_loss"] = true; }));
  CHECK(aux.auxiliary_loss);
  const DetrConfig golden = detr_config_from_checkpoint(golden_dir("detr"));
  CHECK(golden.num_labels + 1 == GoldenIo("detr").dim("logits", 1));
}

TEST_CASE("DETR presets: transformers' parameter count, a synthetic model that runs, the tally") {
  const DetrConfig& big = detr_presets().front();
  CHECK(big.name == "detr-resnet-50");
  // DetrForObjectDetection(DetrConfig(backbone_config=ResNetConfig(out_features=["stage4"]), num_labels=91)).num_parameters()
  CHECK(big.parameter_count() == 41524768);
  CHECK(big.feature_side(800) == 25);
  CHECK(big.feature_side(1066) == 34);
  const DetrConfig& tiny = detr_presets().back();
  Cpu cpu = one_thread();
  const Detr<Cpu> model(cpu, tiny, synthetic_detr_weights(tiny, 7));
  CHECK(model.parameters() == tiny.parameter_count());
  auto ws = model.prepare(cpu, HostMatrix::Random(2, 3 * 64 * 96), 64, 96);
  model.forward(cpu, ws);
  CHECK(ws.logits.rows() == 2 * tiny.num_queries);
  CHECK(ws.logits.cols() == tiny.num_labels + 1);
  CHECK(ws.boxes.cols() == 4);
  CHECK(ws.boxes.minCoeff() > 0.0f);
  CHECK(ws.boxes.maxCoeff() < 1.0f);
  CHECK(ws.logits.allFinite());
  CHECK(tiny.flops(2, 64, 96) > 0);
  CHECK_THROWS_AS((void)model.prepare(cpu, HostMatrix::Random(1, 0), 0, 96), std::invalid_argument);
  CHECK_THROWS_AS((void)model.prepare(cpu, HostMatrix::Random(1, 10), 64, 96), std::invalid_argument);
}

TEST_CASE("Benchmark<Cpu, Vision> runs a DETR checkpoint over image heights by widths") {
  Config c;
  c.weights = golden_dir("detr").string();
  c.batch_sizes = {2};
  c.sweep["image_sizes"] = {96, 64};
  c.sweep["image_widths"] = {128, 0};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<Cpu, Vision>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].architecture == "detr");
  CHECK(r.models[0].family == "vision");
  CHECK(r.models[0].parameters == detr_config_from_checkpoint(golden_dir("detr")).parameter_count());
  REQUIRE(r.cells.size() == 4);
  const int heights[] = {96, 96, 64, 64};
  const int widths[] = {128, 1066, 128, 1066};  // 0: the checkpoint's default image, detr-resnet-50's 800 x 1066
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const CellResult& cell = r.cells[i];
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    CHECK(*cell.axis("image_size") == heights[i]);
    CHECK(*cell.axis("image_width") == widths[i]);
    CHECK(cell.throughput.item_unit == "images");
    CHECK(cell.throughput.gflops_per_second.value_or(0) > 0);
  }

  // The family's workload: logits and boxes, the boxes in (0, 1).
  const VisionConfig preset = Vision::checkpoint_preset(golden_dir("detr"));
  CHECK(preset.architecture == "detr");
  Cpu cpu = one_thread();
  const auto model = Vision::load_weights(cpu, preset, Vision::checkpoint_weights(golden_dir("detr"), preset));
  Vision::Workload<Cpu> work(cpu, model, {1, 96, 128}, 5);
  work.run();
  const auto out = work.outputs();
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "logits");
  CHECK(out[0].value.rows() == preset.detr().num_queries);
  CHECK(out[1].name == "pred_boxes");
  CHECK(out[1].value.minCoeff() > 0.0f);
  CHECK(out[1].value.maxCoeff() < 1.0f);
  CHECK(work.activation_bytes() > 0);

  // Widths repeated once 0 is read as the model's own are refused.
  c.sweep["image_widths"] = {1066, 0};
  CHECK_THROWS_WITH_AS(Vision::validate(c, preset), doctest::Contains("image_widths[1] = 0: duplicate image width"),
                       ConfigError);
}

TEST_CASE("the plain-loop backend runs DETR, verified against Cpu") {
  Config c;
  c.weights = golden_dir("detr_variant").string();
  c.batch_sizes = {1};
  c.sweep = {{"image_sizes", {64}}, {"image_widths", {96}}};
  c.warmup_iterations = 0;
  c.min_iterations = 1;
  c.min_time_s = 0.0;
  c.max_time_s = 1.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<NaiveBackend, Vision>{c}.run();
  REQUIRE(r.cells.size() == 1);
  CAPTURE(r.cells[0].message);
  CHECK(r.cells[0].status == CellStatus::ok);
  CHECK(r.cells[0].verification.status == "ok");
  CHECK(r.cells[0].verification.reference == "cpu");
  CHECK(r.cells[0].verification.max_abs_error < 1e-4);
}
