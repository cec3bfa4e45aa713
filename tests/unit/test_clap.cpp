// CLAP: fidelity to transformers' ClapModel (the golden checkpoint of
// tools/golden/generate.py: two clips of 250 and of 256 frames, three texts)
// through every part (the spectrogram's batch norm, interpolation and
// folding, the Swin stages with shifted windows and patch merging, RoBERTa
// with its pooler, the projections, the logits), the tables the encoder is
// built from, the checkpoint's tensors and fields held to what is
// implemented, and the presets' dimensions.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/audio_text.hpp>
#include <accelbench/model/clap.hpp>
#include <accelbench/model/clap_checkpoint.hpp>
#include <accelbench/run/benchmark.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>

#include "clap_golden.hpp"
#include "golden.hpp"
#include "naive_backend.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

std::string config_error(const std::filesystem::path& dir) {
  return config_error_of([](const auto& d) { return clap_config_from_checkpoint(d); }, dir);
}

}  // namespace

TEST_CASE("CLAP matches transformers' ClapModel: HTSAT's shifted windows, RoBERTa's pooler, logits both ways") {
  Cpu cpu = one_thread();
  CHECK(check_clap_golden(cpu) <= golden_tolerance);
}

TEST_CASE("CLAP with fusion matches transformers: the crops' embedding and the attentional fusion of longer clips") {
  Cpu cpu = one_thread();
  CHECK(check_clap_golden(cpu, "clap_fused") <= golden_tolerance);
}

TEST_CASE("CLAP's tables: the bicubic interpolation, the folded patches, the windows and the shift mask") {
  // Interpolating a linear ramp with align_corners keeps it a ramp away from the edges (cubic convolution
  // reproduces lines; PyTorch clamps the taps past an edge to it) and hits the samples.
  const HostMatrix m = detail::bicubic_interpolation(5, 9);
  Eigen::VectorXf ramp(5);
  for (int i = 0; i < 5; ++i) ramp(i) = static_cast<float>(i);
  const Eigen::VectorXf up = m * ramp;
  for (int o = 2; o <= 6; ++o) CHECK(up(o) == doctest::Approx(0.5 * o).epsilon(1e-6));
  for (int o = 0; o < 9; o += 2) CHECK(up(o) == static_cast<float>(o / 2));
  CHECK(up(1) == doctest::Approx(0.40625));  // taps 0, 0, 1, 2 with t = 1/2: (-0.09375 + 0.59375) 0 + 0.59375 + 2 (-0.09375)
  CHECK((m.rowwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-6f);
  CHECK(detail::bicubic_interpolation(7, 7).isIdentity());

  // Every permutation is one: each row once.
  ClapAudioConfig a;
  a.mel_bins = 16;
  a.spec_size = 64;
  a.patch = 4;
  const auto patches = detail::clap_patch_rows(a, 2);
  CHECK(std::set<std::int32_t>(patches.begin(), patches.end()).size() == patches.size());
  CHECK(patches.size() == 2u * 16u * 16u);
  // Grid row 4 (fold k = 1, q = 0) starts at the spectrogram's column 16 of its row 0.
  CHECK(patches[4 * 16] == 16);
  const auto shifted = detail::swin_window_rows(1, 8, 4, 2);
  CHECK(shifted[0] == 2 * 8 + 2);   // rolled by -2 both ways
  CHECK(shifted[15] == 5 * 8 + 5);  // the first window's last token
  const auto inverse = detail::inverse_rows(shifted);
  for (std::size_t k = 0; k < shifted.size(); ++k) CHECK(inverse[static_cast<std::size_t>(shifted[k])] == static_cast<std::int32_t>(k));
  const auto merge = detail::swin_merge_rows(1, 4);
  CHECK(merge == std::vector<std::int32_t>{0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15});

  // The bias: the table's entry for each offset; -100 more across the shifted grid's regions.
  HostMatrix table(7 * 7, 1);
  for (int i = 0; i < 49; ++i) table(i, 0) = static_cast<float>(i);
  const HostMatrix plain = detail::swin_attention_bias(table, 1, 4, 4, 8, 0);
  CHECK(plain.rows() == 16);
  CHECK(plain(0, 0) == 24);   // offset (0, 0): cell (3, 3)
  CHECK(plain(0, 15) == 0);   // query (0, 0), key (3, 3): offset (-3, -3)
  const HostMatrix masked = detail::swin_attention_bias(table, 1, 4, 4, 8, 2);
  CHECK(masked.rows() == 4 * 16);
  CHECK(masked.topRows(16) == plain);  // the first window lies in one region
  // The last window: tokens (1, 1) and (2, 2) lie in different regions of both axes.
  CHECK(masked(3 * 16 + 5, 10) == plain(5, 10) - 100.0f);
  CHECK(masked(3 * 16 + 10, 15) == plain(10, 15));
}

TEST_CASE("CLAP checkpoints: fields that change the computation are read or refused by name") {
  CHECK(config_error(edited_golden_config("clap", "fusion", [](auto& j) {
          j["audio_config"]["enable_fusion"] = true;
          j["audio_config"]["fusion_type"] = "channel_map";
        })).find("audio_config.fusion_type") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "stride", [](auto& j) { j["audio_config"]["patch_stride"] = {4, 2}; }))
            .find("patch_stride") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "hidden", [](auto& j) { j["audio_config"]["hidden_size"] = 48; }))
            .find("audio_config.hidden_size") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "window", [](auto& j) { j["audio_config"]["window_size"] = 3; }))
            .find("window") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "act", [](auto& j) { j["text_config"]["hidden_act"] = "relu"; }))
            .find("text_config.hidden_act") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "unknown", [](auto& j) { j["audio_config"]["use_tscam"] = true; }))
            .find("audio_config.use_tscam") != std::string::npos);
  CHECK(config_error(edited_golden_config("clap", "type", [](auto& j) { j["model_type"] = "clip"; })).find("model_type") !=
        std::string::npos);
  const ClapConfig golden = clap_config_from_checkpoint(golden_dir("clap"));
  CHECK(golden.audio.depths == std::vector<int>{2, 2, 1});
  CHECK(golden.audio.hidden() == 64);
  CHECK(golden.parameter_count() == shape_parameter_count(clap_tensor_shapes(golden)) - 2 * 16);
}

TEST_CASE("CLAP presets: laion/clap-htsat-unfused's parameters; a synthetic model runs") {
  const ClapConfig& base = clap_presets().front();
  CHECK(base.name == "clap-htsat-unfused");
  // ClapModel(ClapConfig()).num_parameters() of transformers 5.23 (ClapConfig's defaults are
  // clap-htsat-unfused's dimensions)
  CHECK(base.parameter_count() == 153'492'890);
  CHECK(clap_presets()[1].name == "clap-htsat-fused");
  CHECK(clap_presets()[1].parameter_count() == 153'507'530);  // with ClapConfig(audio_config={enable_fusion: true})
  ClapConfig tiny = clap_presets().back();
  tiny.audio.depths = {2, 1, 1, 1};
  tiny.text.layers = 1;
  Cpu cpu = one_thread();
  const Clap<Cpu> model(cpu, tiny, synthetic_clap_weights(tiny, 3));
  CHECK(model.parameters() == tiny.parameter_count());
  auto ws = model.prepare(cpu, make_clap_features(tiny, 2, 700, 4), 2, make_clap_text_input(tiny, 2, 9, 5));
  model.forward(cpu, ws);
  const HostMatrix logits = cpu.download(ws.logits_per_audio);
  CHECK(logits.rows() == 2);
  CHECK(logits.cols() == 2);
  CHECK(logits.allFinite());
  CHECK(std::abs(ws.audio_embeds.row(0).norm() - 1.0f) < 1e-5f);
  // More frames than the encoder takes are refused.
  CHECK_THROWS_AS((void)model.prepare(cpu, make_clap_features(tiny, 1, 1025, 4), 1, make_clap_text_input(tiny, 1, 9, 5)),
                  std::invalid_argument);
}

TEST_CASE("Benchmark<Cpu, AudioText> runs a CLAP checkpoint over numbers of frames, with its three phases") {
  Config c;
  c.weights = golden_dir("clap").string();
  c.batch_sizes = {2};
  c.sweep["frames"] = {0, 100};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  const RunResult r = Benchmark<Cpu, AudioText>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].architecture == "clap");
  CHECK(r.models[0].family == "audio-text");
  CHECK(r.models[0].parameters == clap_config_from_checkpoint(golden_dir("clap")).parameter_count());
  REQUIRE(r.cells.size() == 2);
  const int frames[] = {256, 100};  // 0: the checkpoint's default, here capped at the 256 it takes
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const CellResult& cell = r.cells[i];
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    CHECK(*cell.axis("frames") == frames[i]);
    CHECK(cell.throughput.item_unit == "pairs");
    REQUIRE(cell.phases.size() == 3);
    CHECK(cell.phases[0].name == "audio_encode");
    CHECK(cell.phases[2].name == "similarity");
  }
  const ClapConfig preset = AudioText::checkpoint_preset(golden_dir("clap"));
  c.sweep["frames"] = {257};
  CHECK_THROWS_WITH_AS(AudioText::validate(c, preset), doctest::Contains("frames[0] = 257: exceeds the 256 frames"),
                       ConfigError);
  c.sweep["frames"] = {256, 0};
  CHECK_THROWS_WITH_AS(AudioText::validate(c, preset), doctest::Contains("frames[1] = 0: duplicate number of frames"),
                       ConfigError);
}

TEST_CASE("the plain-loop backend runs CLAP, with and without fusion, verified against Cpu") {
  for (const char* arch : {"clap", "clap_fused"}) {
    CAPTURE(arch);
    Config c;
    c.weights = golden_dir(arch).string();
    c.batch_sizes = {2};
    c.sweep = {{"frames", {200}}};
    c.warmup_iterations = 0;
    c.min_iterations = 1;
    c.min_time_s = 0.0;
    c.max_time_s = 1.0;
    c.memory_sample_interval_s = 0;
    const RunResult r = Benchmark<NaiveBackend, AudioText>{c}.run();
    REQUIRE(r.cells.size() == 1);
    CAPTURE(r.cells[0].message);
    CHECK(r.cells[0].status == CellStatus::ok);
    CHECK(r.cells[0].verification.status == "ok");
    CHECK(r.cells[0].verification.reference == "cpu");
    CHECK(r.cells[0].verification.max_abs_error < 1e-4);
  }
}
