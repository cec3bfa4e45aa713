// The Vision (ViT) and Multimodal (CLIP) families: fidelity to transformers'
// ViTModel and CLIPModel on the golden checkpoints (interpolated position
// embeddings, padding, causal mask and end-of-text pooling included), the
// presets' parameter counts, the Benchmark with an image size sweep and
// phases, verification of a second backend, and configuration errors.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>
#include <accelbench/family/multimodal.hpp>
#include <accelbench/family/vision.hpp>

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

/// Rows [first, first + count) of every block of `block` rows.
HostMatrix rows_of_each(const HostMatrix& m, Eigen::Index block, Eigen::Index first, Eigen::Index count = 1) {
  const Eigen::Index blocks = m.rows() / block;
  HostMatrix out(blocks * count, m.cols());
  for (Eigen::Index b = 0; b < blocks; ++b) out.middleRows(b * count, count) = m.middleRows(b * block + first, count);
  return out;
}

/// The synthetic weights' names and shapes are exactly a checkpoint's.
void check_same_tensors(const TensorShapes& shapes, const WeightMap& checkpoint, std::size_t extra = 0) {
  CHECK(checkpoint.size() == shapes.size() + extra);
  for (const auto& entry : shapes) {
    const std::string& name = entry.first;
    CAPTURE(name);
    REQUIRE(checkpoint.contains(name));
    CHECK(checkpoint.at(name).rows() == entry.second[0]);
    CHECK(checkpoint.at(name).cols() == entry.second[1]);
  }
}

std::int64_t shape_parameters(const TensorShapes& shapes) {
  std::int64_t n = 0;
  for (const auto& [name, shape] : shapes) n += shape[0] * shape[1];
  return n;
}

Config quick_config(const std::string& arch) {
  Config c;
  c.weights = golden_dir(arch).string();
  c.batch_sizes = {1, 2};
  c.warmup_iterations = 1;
  c.min_iterations = 5;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  return c;
}

/// The golden CLIP's config.json with `edit` applied to its JSON.
template <class Edit>
std::filesystem::path edited_clip_config(const std::string& name, Edit&& edit) {
  std::ifstream in(golden_dir("clip") / "config.json");
  auto json = Json::parse(in);
  edit(json);
  return folder_with_config(name, json.dump());
}

/// A CLIP small enough for a unit test, from the real preset's structure.
ClipConfig small_clip() {
  ClipConfig c = Multimodal::find_preset("clip-vit-base-patch32");
  c.name = "clip-small";
  c.vision = {1, 64, 2, 96, 16, 48, 3, 1e-5f, Activation::quick_gelu};
  c.text = {1, 48, 2, 80, 300, 12, 1e-5f, Activation::quick_gelu, 298, 299};
  c.projection_dim = 24;
  return c;
}

}  // namespace

TEST_CASE("vision and multimodal presets carry the published dimensions") {
  const VisionConfig& base_preset = Vision::find_preset("vit-base-patch16-224");
  const ViTConfig& base = base_preset.vit();
  // transformers' ViTModel(add_pooling_layer=False) of google/vit-base-patch16-224.
  CHECK(base.parameter_count() == 85'798'656);
  CHECK(shape_parameters(vit_tensor_shapes(base)) == base.parameter_count());
  CHECK(base.tokens(224) == 197);
  CHECK(Vision::find_preset("google/vit-base-patch16-224").name == "vit-base-patch16-224");

  // ViT-Ti/16 (DeiT-tiny): 5,524,416 without a head; with the ImageNet
  // classifier (192 x 1000 + 1000) that is the 5,717,416 (5.7 M) published
  // for DeiT-tiny and timm's vit_tiny_patch16_224.
  const ViTConfig& tiny = Vision::find_preset("WinKawaks/vit-tiny-patch16-224").vit();
  CHECK(tiny.name == "vit-tiny");
  CHECK(tiny.hidden == 192);
  CHECK(tiny.heads == 3);
  CHECK(tiny.parameter_count() == 5'524'416);
  CHECK(tiny.parameter_count() + 192 * 1000 + 1000 == 5'717'416);
  CHECK(synthetic_vit_weights(tiny, 1).parameter_count() == tiny.parameter_count());

  // transformers' CLIPModel of openai/clip-vit-base-patch32.
  const ClipConfig& clip = Multimodal::find_preset("openai/clip-vit-base-patch32");
  CHECK(clip.name == "clip-vit-base-patch32");
  CHECK(clip.parameter_count() == 151'277'313);
  CHECK(shape_parameters(clip_tensor_shapes(clip)) + 1 == clip.parameter_count());  // + logit_scale
  CHECK(clip.vision.tokens() == 50);
  CHECK(clip.text.max_positions == 77);

  CHECK(Vision::architecture(base_preset) == "vit");
  CHECK(Multimodal::architecture(clip) == "clip");
  CHECK_THROWS_WITH_AS((void)Vision::find_preset("vit-huge"), doctest::Contains("model = \"vit-huge\""), ConfigError);
  CHECK_THROWS_WITH_AS((void)Multimodal::find_preset("siglip"), doctest::Contains("known presets: clip-vit-base-patch32"),
                       ConfigError);
}

namespace {

/// ViT checkpoint `arch` against its golden outputs at the checkpoint's image
/// size and with interpolated positions; returns its configuration.
ViTConfig check_vit_golden(const std::string& arch) {
  const auto dir = golden_dir(arch);
  const ViTConfig config = Vision::checkpoint_preset(dir).vit();
  CHECK(config.name == arch);
  CHECK(config.image_size == 32);
  check_same_tensors(vit_tensor_shapes(config), vit_weights_from_checkpoint(dir, config));
  Cpu cpu = one_thread();
  const ViT<Cpu> model(cpu, config, vit_weights_from_checkpoint(dir, config));
  CHECK(model.parameters() == config.parameter_count());

  const Io io(arch);
  for (const std::string suffix : {"", "_48"}) {
    CAPTURE(suffix);
    const ImageBatch in = io.images("pixel_values" + suffix);
    auto ws = model.prepare(cpu, in);
    CHECK(ws.own_positions == (in.size != config.image_size));
    model.forward(cpu, ws);
    const HostMatrix expected = io.floats("last_hidden_state" + suffix);
    check_close(arch + " last_hidden_state" + suffix, ws.hidden, expected);
    check_close(arch + " class token" + suffix, ws.class_token, rows_of_each(expected, config.tokens(in.size), 0));
    model.forward(cpu, ws);  // a second pass on the same workspace gives the same result
    CHECK(max_abs_error(ws.hidden, expected) <= golden_tolerance);
  }
  return config;
}

}  // namespace

TEST_CASE("golden: ViT matches transformers' ViTModel, interpolated position embeddings included") {
  CHECK(check_vit_golden("vit").qkv_bias);
}

TEST_CASE("golden: ViT without query, key and value biases (qkv_bias false)") {
  const ViTConfig config = check_vit_golden("vit_nobias");
  CHECK_FALSE(config.qkv_bias);
  // transformers' ViTModel(add_pooling_layer=False) with qkv_bias=False: 23712 parameters, 3 x 32 fewer per layer.
  CHECK(config.parameter_count() == 23'712);
  ViTConfig with_bias = config;
  with_bias.qkv_bias = true;
  CHECK(with_bias.parameter_count() == config.parameter_count() + 2 * 3 * 32);
  const TensorShapes shapes = vit_tensor_shapes(config);
  CHECK(shape_parameters(shapes) == config.parameter_count());
  CHECK(std::none_of(shapes.begin(), shapes.end(), [](const auto& t) { return t.first.ends_with("query.bias"); }));
  CHECK(synthetic_vit_weights(config, 1).parameter_count() == config.parameter_count());
}

TEST_CASE("ViT's encoder layers at bf16 and fp16: exactly ViT on weights rounded so; DETR refuses by name") {
  const auto dir = golden_dir("vit");
  const ViTConfig config = Vision::checkpoint_preset(dir).vit();
  Cpu cpu = one_thread();
  const ImageBatch in = Io("vit").images("pixel_values");
  const auto run = [&](const ViT<Cpu>& model) {
    auto ws = model.prepare(cpu, in);
    model.forward(cpu, ws);
    return HostMatrix(ws.hidden);
  };
  const ViT<Cpu> full(cpu, config, vit_weights_from_checkpoint(dir, config));
  const HostMatrix reference = run(full);
  const auto product = [](const std::string& name) {
    return name.ends_with("query.weight") || name.ends_with("key.weight") || name.ends_with("value.weight") ||
           name.ends_with("dense.weight");
  };
  std::int64_t linear = 0;
  for (const std::string& name : vit_weights_from_checkpoint(dir, config).names()) {
    if (product(name)) linear += vit_weights_from_checkpoint(dir, config).at(name).size();
  }
  CHECK(linear == std::int64_t{config.layers} * (4 * config.hidden * config.hidden + 2 * config.hidden * config.intermediate));
  for (const Precision p : {Precision::bf16, Precision::fp16}) {
    INFO(precision_name(p));
    ViTConfig at = config;
    at.weight_precision = p;
    const ViT<Cpu> model(cpu, at, vit_weights_from_checkpoint(dir, config));
    // The encoder's products store half the bytes; the rest stays fp32.
    CHECK(model.weight_bytes() == full.weight_bytes() - static_cast<std::uint64_t>(linear) * 2);
    const HostMatrix hidden = run(model);
    WeightMap rounded = vit_weights_from_checkpoint(dir, config);
    for (const std::string& name : rounded.names()) {
      if (!product(name)) continue;
      HostMatrix r = CpuWeight(rounded.at(name), p).to_float();
      rounded.erase(name);
      rounded.insert(name, std::move(r));
    }
    const ViT<Cpu> same(cpu, config, std::move(rounded));
    CHECK((hidden - run(same)).cwiseAbs().maxCoeff() <= 1e-6f * reference.cwiseAbs().maxCoeff());
    const float unit = p == Precision::bf16 ? 0x1p-8f : 0x1p-11f;
    CHECK((hidden - reference).cwiseAbs().maxCoeff() <= 8 * unit * reference.cwiseAbs().maxCoeff());
    CHECK(hidden != reference);
  }
  // Through the family and the Benchmark: recorded, and DETR refused by name.
  Config c = quick_config("vit");
  c.batch_sizes = {1};
  c.precision = Precision::bf16;
  const RunResult r = Benchmark<Cpu, Vision>{c, one_thread()}.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].precision == "bf16");
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::ok);
  const Vision::Preset detr = detail::with_precision<Vision>(Vision::find_preset("detr-tiny"), Precision::fp16);
  CHECK_THROWS_WITH_AS((void)Vision::load(cpu, detr, 1), "precision = fp16: detr-tiny: DETR stores its weights as fp32 only",
                       ConfigError);
  CHECK_THROWS_WITH_AS(Vision::validate(Config{}, detr), "precision = fp16: detr-tiny: DETR stores its weights as fp32 only",
                       ConfigError);
  // A backend that stores weights as fp32 only refuses the precision by name.
  NaiveBackend naive;
  ViTConfig half = config;
  half.weight_precision = Precision::bf16;
  CHECK_THROWS_WITH_AS(ViT<NaiveBackend>(naive, half, vit_weights_from_checkpoint(dir, config)),
                       doctest::Contains("precision = bf16: backend plain stores weights as fp32 only"), ConfigError);
}

TEST_CASE("a ViTForImageClassification checkpoint: the vit. prefix is removed, pooler and classifier dropped") {
  // The golden ViTModel's tensors, 4-D and 3-D shapes as stored, under a
  // task model's names, with a classifier, a pooler and a position-id buffer.
  const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-checkpoint-vit-classifier";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto golden = SafetensorsFile::open(golden_dir("vit") / "model.safetensors");
  SafetensorsWriter out;
  for (const auto& t : golden.tensors()) out.add_float("vit." + t.name, golden.read_matrix(t.name), t.shape);
  out.add_float("vit.pooler.dense.weight", HostMatrix::Ones(32, 32));
  out.add_float("vit.pooler.dense.bias", HostMatrix::Ones(1, 32), {32});
  out.add_float("classifier.weight", HostMatrix::Ones(10, 32));
  out.add_float("classifier.bias", HostMatrix::Ones(1, 10), {10});
  out.add_indices("vit.embeddings.position_ids", std::vector<std::int32_t>(17, 0), {1, 17}, true);
  out.write(dir / "model.safetensors");
  std::filesystem::copy_file(golden_dir("vit") / "config.json", dir / "config.json");

  const ViTConfig config = Vision::checkpoint_preset(dir).vit();
  check_same_tensors(vit_tensor_shapes(config), vit_weights_from_checkpoint(dir, config));
  Cpu cpu = one_thread();
  const ViT<Cpu> model(cpu, config, vit_weights_from_checkpoint(dir, config));
  const Io io("vit");
  auto ws = model.prepare(cpu, io.images("pixel_values"));
  model.forward(cpu, ws);
  CHECK(max_abs_error(ws.hidden, io.floats("last_hidden_state")) <= golden_tolerance);
}

TEST_CASE("golden: CLIP matches transformers' CLIPModel: padding, causal mask, end-of-text pooling, logits") {
  const auto dir = golden_dir("clip");
  const ClipConfig config = Multimodal::checkpoint_preset(dir);
  CHECK(config.name == "clip");
  CHECK(config.projection_dim == 16);
  CHECK(config.text.eos_token_id == 99);
  const WeightMap weights = Multimodal::checkpoint_weights(dir, config);
  check_same_tensors(clip_tensor_shapes(config), weights, 1);
  CHECK(weights.contains("logit_scale"));
  Cpu cpu = one_thread();
  const auto model = Multimodal::load_weights(cpu, config, Multimodal::checkpoint_weights(dir, config));
  CHECK(model.parameters() == config.parameter_count());

  const Io io("clip");
  ClipTextInput text;
  text.batch = static_cast<int>(io.dim("input_ids", 0));
  text.seq = static_cast<int>(io.dim("input_ids", 1));
  text.input_ids = io.ids("input_ids");
  const auto mask = io.ids("attention_mask");
  text.attention_mask = HostMatrix(text.batch, text.seq);
  for (std::size_t i = 0; i < mask.size(); ++i) text.attention_mask.data()[i] = static_cast<float>(mask[i]);
  REQUIRE(text.attention_mask.sum() < text.batch * text.seq);  // one sequence is padded
  CHECK(clip_eos_positions(config, text) == std::vector<int>{9, 15});

  auto ws = model.prepare(cpu, io.images("pixel_values"), text);
  model.forward(cpu, ws);
  check_close("clip vision_last_hidden_state", ws.vision_hidden, io.floats("vision_last_hidden_state"));
  check_close("clip vision_pooled", ws.vision_pooled, io.floats("vision_pooled"));
  check_close("clip image_embeds", ws.image_embeds, io.floats("image_embeds"));
  check_close("clip text_last_hidden_state", ws.text_hidden, io.floats("text_last_hidden_state"));
  check_close("clip text_pooled", ws.text_pooled, io.floats("text_pooled"));
  check_close("clip text_embeds", ws.text_embeds, io.floats("text_embeds"));
  check_close("clip logits_per_image", ws.logits_per_image, io.floats("logits_per_image"));
  CHECK(model.logit_scale() == doctest::Approx(io.floats("logit_scale")(0, 0)).epsilon(1e-6));
}

TEST_CASE("bicubic interpolation of position embeddings follows PyTorch's kernel") {
  // The cubic convolution weights (A = -0.75) sum to one and interpolate.
  for (float t : {0.0f, 0.25f, 0.5f, 0.85f, 1.0f}) {
    const auto w = detail::cubic_coefficients(t);
    CHECK(w[0] + w[1] + w[2] + w[3] == doctest::Approx(1.0f));
  }
  CHECK(detail::cubic_coefficients(0.0f) == std::array<float, 4>{0.0f, 1.0f, 0.0f, 0.0f});
  // Upsampling 4 -> 6: source coordinates (d + 0.5) * 4 / 6 - 0.5, the first
  // -1/6 (floor -1, offset 5/6), taps clamped to the border.
  const auto taps = detail::cubic_taps(4, 6);
  CHECK(taps.index[0] == std::array<int, 4>{0, 0, 0, 1});
  CHECK(taps.weight[0][1] == doctest::Approx(detail::cubic_coefficients(5.0f / 6.0f)[1]));
  CHECK(taps.index[5] == std::array<int, 4>{2, 3, 3, 3});

  // A constant grid stays constant; the class token's row is kept; the same
  // grid is returned unchanged.
  HostMatrix table(1 + 16, 3);
  table.row(0) << 7, 8, 9;
  table.bottomRows(16).setConstant(0.5f);
  const HostMatrix up = interpolate_positions(table, 6);
  REQUIRE(up.rows() == 37);
  CHECK(up.row(0) == table.row(0));
  CHECK((up.bottomRows(36).array() - 0.5f).abs().maxCoeff() < 1e-6f);
  CHECK(interpolate_positions(table, 4) == table);
  CHECK(interpolate_positions(table, 2).rows() == 5);
  CHECK_THROWS_AS((void)interpolate_positions(HostMatrix::Zero(6, 3), 3), std::invalid_argument);
}

TEST_CASE("synthetic images and texts are deterministic and well formed") {
  const ImageBatch a = make_images(2, 3, 16, 5);
  const ImageBatch b = make_images(3, 3, 16, 5);
  REQUIRE(a.pixels.rows() == 2);
  REQUIRE(a.pixels.cols() == 3 * 16 * 16);
  CHECK(a.pixels == b.pixels.topRows(2));  // a larger batch extends a smaller one
  CHECK(a.pixels.minCoeff() >= -1.0f);
  CHECK(a.pixels.maxCoeff() <= 1.0f);
  CHECK(std::abs(a.pixels.mean()) < 0.05f);
  CHECK(make_images(2, 3, 16, 6).pixels != a.pixels);

  const ClipConfig& clip = Multimodal::find_preset("clip-vit-base-patch32");
  const ClipTextInput t = make_clip_text_input(clip, 3, 77, 9);
  REQUIRE(t.input_ids.size() == 3 * 77);
  CHECK(t.attention_mask.minCoeff() == 1.0f);
  for (int s = 0; s < 3; ++s) {
    CAPTURE(s);
    CHECK(t.input_ids[static_cast<std::size_t>(s * 77)] == 49406);
    CHECK(t.input_ids[static_cast<std::size_t>(s * 77 + 76)] == 49407);
    for (int i = 1; i < 76; ++i) {
      const auto id = t.input_ids[static_cast<std::size_t>(s * 77 + i)];
      CHECK((id >= 0 && id < 49406));
    }
  }
  CHECK(clip_eos_positions(clip, t) == std::vector<int>{76, 76, 76});
  CHECK(make_clip_text_input(clip, 3, 77, 9).input_ids == t.input_ids);

  // A legacy config (eos_token_id 2): the highest id of each sequence, which
  // the synthetic texts put last.
  ClipConfig legacy = clip;
  legacy.text.eos_token_id = 2;
  const ClipTextInput l = make_clip_text_input(legacy, 2, 10, 9);
  CHECK(l.input_ids[9] == 49407);
  CHECK(clip_eos_positions(legacy, l) == std::vector<int>{9, 9});
  ClipTextInput twice = l;
  twice.input_ids[3] = 49407;  // argmax: the first of equal highest ids
  CHECK(clip_eos_positions(legacy, twice) == std::vector<int>{3, 9});
  // Without the end-of-text token transformers pools position 0.
  ClipTextInput none = t;
  for (auto& id : none.input_ids) id = id == 49407 ? 5 : id;
  CHECK(clip_eos_positions(clip, none) == std::vector<int>{0, 0, 0});
}

TEST_CASE("synthetic presets run through the families' workloads") {
  Cpu cpu = one_thread();
  SUBCASE("vision, at its own size and an interpolated one") {
    ViTConfig small = Vision::find_preset("vit-tiny").vit();
    small.layers = 1;
    small.image_size = 32;
    const auto model = Vision::load(cpu, VisionConfig(small), 11);
    CHECK(model.parameters() == small.parameter_count());
    for (int size : {32, 64}) {
      CAPTURE(size);
      Vision::Workload<Cpu> work(cpu, model, {2, size, 0}, 11);
      work.run();
      const auto first = work.outputs();
      REQUIRE(first.size() == 2);
      CHECK(first[0].name == "last_hidden_state");
      CHECK(first[0].value.rows() == 2 * small.tokens(size));
      CHECK(first[0].value.cols() == 192);
      CHECK(first[1].name == "class_token");
      CHECK(first[1].value == rows_of_each(first[0].value, small.tokens(size), 0));
      CHECK(first[0].value.allFinite());
      work.run();
      CHECK(work.outputs()[0].value == first[0].value);
      CHECK(work.activation_bytes() > 0);
    }
    // Cell image size 0 is the model's own.
    Vision::Workload<Cpu> own(cpu, model, {1, 0, 0}, 11);
    own.run();
    CHECK(own.outputs()[0].value.rows() == small.tokens(32));
  }
  SUBCASE("multimodal: unit-norm embeddings, scaled cosine logits") {
    const ClipConfig small = small_clip();
    const auto model = Multimodal::load(cpu, small, 3);
    CHECK(model.parameters() == small.parameter_count());
    CHECK(model.logit_scale() == doctest::Approx(std::exp(2.6592f)));
    Multimodal::Workload<Cpu> work(cpu, model, {3}, 3);
    work.run();
    const auto out = work.outputs();
    REQUIRE(out.size() == 3);
    CHECK(out[0].name == "image_embeds");
    CHECK(out[1].name == "text_embeds");
    CHECK(out[2].name == "logits_per_image");
    CHECK(out[0].value.rows() == 3);
    CHECK(out[0].value.cols() == 24);
    for (int r = 0; r < 3; ++r) {
      CHECK(out[0].value.row(r).norm() == doctest::Approx(1.0f).epsilon(1e-5));
      CHECK(out[1].value.row(r).norm() == doctest::Approx(1.0f).epsilon(1e-5));
    }
    const HostMatrix expected = model.logit_scale() * out[0].value * out[1].value.transpose();
    CHECK(max_abs_error(out[2].value, expected) < 1e-5);
  }
}

TEST_CASE("vision image sizes: 0 is the model's own, others must be multiples of the patch size") {
  const VisionConfig& base_preset = Vision::find_preset("vit-base-patch16-224");
  const ViTConfig& base = base_preset.vit();
  Config c;
  c.model = "vit-base-patch16-224";
  c.batch_sizes = {1, 4};
  c.sweep["image_sizes"] = {0, 384};
  const auto cells = detail::cells_for<Vision>(c, base_preset);
  REQUIRE(cells.size() == 4);
  CHECK(cells[0].image_size == 224);
  CHECK(cells[1].image_size == 384);
  CHECK(cells[3].batch_size == 4);
  const auto axes = Vision::axes(cells[1]);
  REQUIRE(axes.size() == 3);
  CHECK(axes[0].name == "batch_size");
  CHECK(axes[1].name == "image_size");
  CHECK(axes[1].value == 384);
  CHECK(axes[2].name == "image_width");  // ViT's images are square: the width is the size
  CHECK(axes[2].value == 384);
  CHECK(Vision::items(cells[3]) == 4);
  CHECK(Vision::flops(base_preset, cells[0]) == doctest::Approx(base.flops(1, 224)));
  CHECK(base.flops(1, 224) == doctest::Approx(35.1e9).epsilon(0.01));  // ViT-B/16: 17.6 GMACs
  CHECK_NOTHROW(Vision::validate(c, base_preset));

  c.sweep["image_sizes"] = {224, 200};
  CHECK_THROWS_WITH_AS(Vision::validate(c, base_preset),
                       doctest::Contains("image_sizes[1] = 200: must be a multiple of vit-base-patch16-224's patch size (16"),
                       ConfigError);
  c.sweep["image_sizes"] = {224, 0};
  CHECK_THROWS_WITH_AS(Vision::validate(c, base_preset), doctest::Contains("image_sizes[1] = 0: duplicate image size"),
                       ConfigError);
  c.sweep["image_sizes"] = {-16};
  CHECK_THROWS_WITH_AS(validate<Vision>(c), doctest::Contains("image_sizes[0] = -16"), ConfigError);
  // The Benchmark rejects them when it is constructed.
  c.sweep["image_sizes"] = {0, 40};
  c.model = "vit-tiny";
  CHECK_THROWS_WITH_AS((Benchmark<Cpu, Vision>{c}), doctest::Contains("image_sizes[1] = 40"), ConfigError);
}

TEST_CASE("Benchmark<Cpu, Vision> on a checkpoint folder: an image size sweep with interpolated positions") {
  Config c = quick_config("vit");
  c.sweep["image_sizes"] = {0, 48, 16};
  Benchmark<Cpu, Vision> bench{c, one_thread()};
  const RunResult r = bench.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].name == "vit");
  CHECK(r.models[0].family == "vision");
  CHECK(r.models[0].architecture == "vit");
  CHECK(r.models[0].weights == "checkpoint " + c.weights);
  CHECK(r.models[0].parameters == Vision::checkpoint_preset(golden_dir("vit")).parameter_count());
  REQUIRE(r.cells.size() == 6);
  const ViTConfig preset = Vision::checkpoint_preset(golden_dir("vit")).vit();
  const std::vector<int> sizes = {32, 48, 16, 32, 48, 16};
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const auto& cell = r.cells[i];
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    CHECK(*cell.axis("image_size") == sizes[i]);
    const double batch = *cell.axis("batch_size");
    CHECK(cell.throughput.item_unit == "images");
    CHECK(cell.throughput.items_per_second ==
          doctest::Approx(batch * static_cast<double>(cell.iterations) / cell.measured_time_s));
    CHECK(*cell.throughput.gflops_per_second ==
          doctest::Approx(preset.flops(static_cast<int>(batch), sizes[i]) * static_cast<double>(cell.iterations) /
                          cell.measured_time_s / 1e9));
    CHECK(cell.memory.activation_bytes == preset.activation_bytes(static_cast<int>(batch), sizes[i]));
    CHECK(cell.phases.empty());
  }
  std::ostringstream text;
  ConsoleReporter{text}.report(r);
  CHECK(text.str().find("family vision") != std::string::npos);
  CHECK(text.str().find("images/s") != std::string::npos);
}

TEST_CASE("Benchmark<Cpu, Multimodal> on a checkpoint folder: image_encode, text_encode and similarity phases") {
  Config c = quick_config("clip");
  Benchmark<Cpu, Multimodal> bench{c, one_thread()};
  const RunResult r = bench.run();
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].name == "clip");
  CHECK(r.models[0].family == "multimodal");
  CHECK(r.models[0].architecture == "clip");
  const ClipConfig preset = Multimodal::checkpoint_preset(golden_dir("clip"));
  CHECK(r.models[0].parameters == preset.parameter_count());
  REQUIRE(r.cells.size() == 2);
  for (const auto& cell : r.cells) {
    CAPTURE(cell.message);
    REQUIRE(cell.status == CellStatus::ok);
    const double batch = *cell.axis("batch_size");
    CHECK(cell.throughput.item_unit == "pairs");
    CHECK(cell.throughput.items_per_second ==
          doctest::Approx(batch * static_cast<double>(cell.iterations) / cell.measured_time_s));
    CHECK(*cell.throughput.gflops_per_second ==
          doctest::Approx(preset.flops(static_cast<int>(batch)) * static_cast<double>(cell.iterations) /
                          cell.measured_time_s / 1e9));
    REQUIRE(cell.phases.size() == 3);
    const auto& image = cell.phases[0];
    const auto& text = cell.phases[1];
    const auto& similarity = cell.phases[2];
    CHECK(image.name == "image_encode");
    CHECK(image.item_unit == "images");
    CHECK(text.name == "text_encode");
    CHECK(text.item_unit == "texts");
    CHECK(similarity.name == "similarity");
    CHECK(similarity.item_unit == "pairs");
    CHECK(image.items == batch);
    CHECK(text.items == batch);
    CHECK(similarity.items == batch * batch);
    for (const auto* p : {&image, &text, &similarity}) {
      CAPTURE(p->name);
      // Every timed run records each phase once.
      CHECK(p->latency.count == cell.iterations);
      CHECK(p->per_run == 1);
      CHECK(p->items_per_second == doctest::Approx(p->items / p->latency.mean));
    }
    // A run is its three phases (plus the host's bookkeeping).
    CHECK(image.latency.mean + text.latency.mean + similarity.latency.mean <= cell.latency.mean * 1.05);
  }
  std::ostringstream out;
  ConsoleReporter{out}.report(r);
  CHECK(out.str().find("family multimodal") != std::string::npos);
  CHECK(out.str().find("image_encode images/s") != std::string::npos);
  CHECK(out.str().find("similarity pairs/s") != std::string::npos);
}

TEST_CASE("a second backend's vision and multimodal outputs are verified against Cpu") {
  SUBCASE("vision, with an interpolated image size") {
    Config c = quick_config("vit");
    c.batch_sizes = {2};
    c.sweep["image_sizes"] = {0, 48};
    c.min_iterations = 2;
    const RunResult r = Benchmark<NaiveBackend, Vision>{c}.run();
    REQUIRE(r.cells.size() == 2);
    for (const auto& cell : r.cells) {
      CAPTURE(cell.message);
      CHECK(cell.status == CellStatus::ok);
      CHECK(cell.verification.status == "ok");
      CHECK(cell.verification.reference == "cpu");
      CHECK(cell.verification.max_abs_error < 1e-4);
    }
  }
  SUBCASE("multimodal") {
    Config c = quick_config("clip");
    c.batch_sizes = {2};
    c.min_iterations = 2;
    const RunResult r = Benchmark<NaiveBackend, Multimodal>{c}.run();
    REQUIRE(r.cells.size() == 1);
    CAPTURE(r.cells[0].message);
    CHECK(r.cells[0].status == CellStatus::ok);
    CHECK(r.cells[0].verification.status == "ok");
    CHECK(r.cells[0].verification.max_abs_error < 1e-4);
    REQUIRE(r.cells[0].phases.size() == 3);
    CHECK(r.cells[0].phases[0].latency.count == r.cells[0].iterations);
  }
}

TEST_CASE("vision and multimodal checkpoint folders: config.json errors name the file, the field and the value") {
  SUBCASE("a BERT folder given to the vision family") {
    CHECK_THROWS_WITH_AS((void)Vision::checkpoint_preset(golden_dir("bert")), doctest::Contains("model_type = \"bert\""),
                         ConfigError);
  }
  SUBCASE("a ViT folder given to the multimodal family") {
    CHECK_THROWS_WITH_AS((void)Multimodal::checkpoint_preset(golden_dir("vit")), doctest::Contains("model_type = \"vit\""),
                         ConfigError);
  }
  SUBCASE("another activation") {
    const auto dir = folder_with_config("vit-relu", R"({"model_type": "vit", "hidden_act": "relu"})");
    CHECK_THROWS_WITH_AS((void)Vision::checkpoint_preset(dir), doctest::Contains("hidden_act = \"relu\""), ConfigError);
  }
  SUBCASE("projections without biases are read; qkv_bias must be true or false") {
    const auto dir = folder_with_config("vit-no-qkv-bias", R"({"model_type": "vit", "qkv_bias": false})");
    CHECK_FALSE(Vision::checkpoint_preset(dir).vit().qkv_bias);
    const auto odd = folder_with_config("vit-qkv-bias-number", R"({"model_type": "vit", "qkv_bias": 0})");
    CHECK_THROWS_WITH_AS((void)Vision::checkpoint_preset(odd), doctest::Contains("qkv_bias = 0"), ConfigError);
  }
  SUBCASE("a field of the wrong type") {
    const auto dir = folder_with_config("vit-list-size", R"({"model_type": "vit", "image_size": [224, 224]})");
    CHECK_THROWS_WITH_AS((void)Vision::checkpoint_preset(dir), doctest::Contains("image_size = [224,224]: expected an integer"),
                         ConfigError);
  }
  SUBCASE("an image size that is not a multiple of the patch size") {
    const auto dir = folder_with_config("vit-odd-size", R"({"model_type": "vit", "image_size": 100, "patch_size": 16})");
    CHECK_THROWS_WITH_AS((void)Vision::checkpoint_preset(dir),
                         doctest::Contains("image_size = 100: must be a multiple of patch_size (16)"), ConfigError);
  }
  SUBCASE("missing weights") {
    const auto dir = folder_with_config("vit-no-weights", R"({"model_type": "vit"})");
    const ViTConfig config = Vision::checkpoint_preset(dir).vit();
    CHECK(config.hidden == 768);  // transformers' defaults
    CHECK_THROWS_WITH_AS((void)vit_weights_from_checkpoint(dir, config),
                         doctest::Contains("has neither model.safetensors nor model.safetensors.index.json"), ConfigError);
  }
  SUBCASE("CLIP without its text_config") {
    const auto dir = edited_clip_config("clip-no-text", [](Json& j) { j.erase("text_config"); });
    CHECK_THROWS_WITH_AS((void)Multimodal::checkpoint_preset(dir), doctest::Contains("text_config = (missing)"),
                         ConfigError);
  }
  SUBCASE("a CLIP field of the wrong type names its object") {
    const auto dir = edited_clip_config("clip-string-hidden", [](Json& j) { j["text_config"]["hidden_size"] = "wide"; });
    CHECK_THROWS_WITH_AS((void)Multimodal::checkpoint_preset(dir),
                         doctest::Contains("text_config.hidden_size = \"wide\": expected an integer"), ConfigError);
  }
  SUBCASE("a CLIP activation that is not implemented") {
    const auto dir = edited_clip_config("clip-relu", [](Json& j) { j["vision_config"]["hidden_act"] = "relu"; });
    CHECK_THROWS_WITH_AS((void)Multimodal::checkpoint_preset(dir), doctest::Contains("vision_config.hidden_act = \"relu\""),
                         ConfigError);
  }
  SUBCASE("inconsistent CLIP dimensions") {
    const auto dir = edited_clip_config("clip-bad-heads", [](Json& j) { j["text_config"]["num_attention_heads"] = 5; });
    CHECK_THROWS_WITH_AS((void)Multimodal::checkpoint_preset(dir), doctest::Contains("text.heads = 5: must divide hidden (32)"),
                         ConfigError);
  }
  SUBCASE("a checkpoint's misshapen tensor fails the model, and the sweep is still reported") {
    // A copy of the ViT checkpoint whose config claims a wider feed-forward.
    const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-checkpoint-vit-wide";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(golden_dir("vit") / "model.safetensors", dir / "model.safetensors");
    std::ifstream in(golden_dir("vit") / "config.json");
    auto json = Json::parse(in);
    json["intermediate_size"] = 48;
    std::ofstream(dir / "config.json") << json.dump();
    Config c = quick_config("vit");
    c.weights = dir.string();
    const RunResult r = Benchmark<Cpu, Vision>{c, one_thread()}.run();
    REQUIRE(r.models.size() == 1);
    CHECK(r.models[0].status == "failed");
    CHECK(r.models[0].message.find("encoder.layer.0.intermediate.dense.weight' is [64, 32], expected [48, 32]") !=
          std::string::npos);
    REQUIRE(r.cells.size() == 2);
    for (const auto& cell : r.cells) CHECK(cell.status == CellStatus::failed);
  }
}
