// The Cuda backend on this machine's NVIDIA GPU: every op against Cpu, every
// architecture end to end, device selection, the event timer and device
// memory. Without a usable GPU (no driver, no device, a device the kernels
// were not compiled for) each of those tests prints "skipped: <reason>" and
// returns, and ctest counts it skipped (SKIP_REGULAR_EXPRESSION); the tests
// of an unavailable backend run everywhere.

#include <accelbench/backend/cuda.cuh>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "backend_conformance.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

/// Whether this machine has a GPU the Cuda backend runs on; if not, says
/// "skipped: <reason>" for ctest.
bool no_gpu() {
  static const Availability a = Cuda::available();
  if (!a.available) MESSAGE("skipped: " << a.reason);
  return !a.available;
}

/// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// What a Cuda backend without a device does: says why, describes nothing,
/// throws the reason from its ops, and a Benchmark records it as unavailable.
void check_unavailable(const std::string& reason) {
  CHECK(!reason.empty());
  Cuda cu;
  const DeviceInfo d = cu.describe();
  CHECK(d.backend == "cuda");
  CHECK(d.name.empty());
  CHECK(cu.device_key() == "none");
  CHECK(cu.device_memory().total_bytes == 0);
  CHECK_THROWS_WITH_AS((void)cu.upload(HostMatrix::Ones(2, 2)),
                       doctest::Contains(("cuda: no device: " + reason).c_str()),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(cu.synchronize(), doctest::Contains(reason.c_str()), std::runtime_error);
  const RunResult r = Benchmark<Cuda, Embedding>{conformance_config<Embedding>("bert")}.run();
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].status == CellStatus::unavailable);
  CHECK(r.cells[0].message.find(reason) != std::string::npos);
}

}  // namespace

TEST_CASE("cuda: a device is available and described") {
  if (no_gpu()) return;
  Cuda cu;
  const DeviceInfo d = cu.describe();
  MESSAGE("CUDA device: " << d.name << " (" << d.compute_units << " SMs, " << d.memory_bytes / (1u << 20) << " MiB)");
  for (const auto& [key, value] : d.properties) MESSAGE("  " << key << ": " << value);
  CHECK(d.backend == "cuda");
  CHECK(d.kind == "gpu");
  CHECK(!d.name.empty());
  CHECK(d.compute_units > 0);
  CHECK(d.memory_bytes > 0);
  CHECK(cu.device_key() == std::to_string(cu.device_index()));
  auto property = [&](const std::string& key) {
    for (const auto& [k, v] : d.properties) {
      if (k == key) return v;
    }
    return std::string();
  };
  CHECK(!property("compute_capability").empty());
  CHECK(!property("driver_version").empty());
  CHECK(!property("runtime_version").empty());
  CHECK(!property("memory_used_by_all_bytes").empty());
}

TEST_CASE("cuda: every op matches Cpu") {
  if (no_gpu()) return;
  Cuda cu;
  check_ops_against_cpu(cu);
}

TEST_CASE("cuda: ops reject bad shapes naming the op") {
  if (no_gpu()) return;
  Cuda cu;
  Cuda::Tensor y;
  CHECK_THROWS_WITH_AS(cu.linear(cu.upload(HostMatrix::Ones(2, 3)), cu.upload(HostMatrix::Ones(4, 5)), Cuda::Tensor{}, y),
                       doctest::Contains("cuda linear: input has 3 columns, weight expects 5"), std::invalid_argument);
  Cuda::Tensor a = cu.upload(HostMatrix::Ones(2, 3));
  CHECK_THROWS_WITH_AS(cu.add(cu.upload(HostMatrix::Ones(3, 2)), a), doctest::Contains("cuda add: shapes differ"),
                       std::invalid_argument);
  const Conv2dDims conv{2, 3, 8, 6, 4, 3, 2, 1};  // batch, channels, height, width, out, kernel, stride, padding
  CHECK_THROWS_WITH_AS(cu.conv2d_rows(cu.upload(HostMatrix::Ones(95, 3)), cu.upload(HostMatrix::Ones(4, 27)), Cuda::Tensor{},
                                      conv, y),
                       doctest::Contains("cuda conv2d_rows: input is [95, 3], expected [batch * height * width, "
                                         "channels] = [96, 3]"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cu.conv2d_rows(cu.upload(HostMatrix::Ones(96, 3)), cu.upload(HostMatrix::Ones(4, 36)), Cuda::Tensor{},
                                      conv, y),
                       doctest::Contains("cuda conv2d_rows: weight is [4, 36]"), std::invalid_argument);
  const Pool2dDims pool{2, 3, 8, 6, 3, 2, 2};  // padding above half the kernel
  CHECK_THROWS_WITH_AS(cu.max_pool2d(cu.upload(HostMatrix::Ones(96, 3)), pool, y),
                       doctest::Contains("cuda max_pool2d: batch 2, channels 3"), std::invalid_argument);
}

TEST_CASE("cuda: linear with an empty inner dimension gives zeros") {
  if (no_gpu()) return;
  Cuda cu;
  Cuda::Tensor y;
  cu.linear(cu.upload(HostMatrix(3, 0)), cu.upload(HostMatrix(4, 0)), Cuda::Tensor{}, y);
  const HostMatrix out = cu.download(y);
  REQUIRE(out.rows() == 3);
  REQUIRE(out.cols() == 4);
  CHECK(out.cwiseAbs().maxCoeff() == 0.0f);
}

TEST_CASE("cuda: device selection by index and environment") {
  if (no_gpu()) return;
  CHECK_NOTHROW(Cuda{Cuda::Options{.device = 0}});
  CHECK_THROWS_WITH_AS(Cuda{Cuda::Options{.device = 99}}, doctest::Contains("no CUDA device 99; devices: 0 "),
                       std::runtime_error);
  {
    const ScopedEnv env("ACCELBENCH_CUDA_DEVICE", "99");
    const Availability a = Cuda::available();
    CHECK_FALSE(a.available);
    CHECK(a.reason.find("no CUDA device 99 (from ACCELBENCH_CUDA_DEVICE)") != std::string::npos);
  }
  {
    const ScopedEnv env("ACCELBENCH_CUDA_DEVICE", "0");
    CHECK(Cuda::available().available);
    CHECK(Cuda{}.device_index() == 0);
  }
  // Two objects on one device share its memory: a tensor of one is usable by the other.
  Cuda a, b;
  CHECK(a.device_key() == b.device_key());
  CHECK(a.stream() != b.stream());
  Cuda::Tensor t = a.upload(HostMatrix::Constant(2, 2, 3.0f));
  b.scale(t, 2.0f);
  CHECK(b.download(t)(1, 1) == doctest::Approx(6.0));
  // A moved-from backend has no device; the moved-to one works.
  Cuda moved = std::move(a);
  CHECK(moved.download(t)(0, 0) == doctest::Approx(6.0));
}

TEST_CASE("cuda: the event timer measures queued work, and device memory is counted") {
  if (no_gpu()) return;
  Cuda cu;
  const HostMatrix x = random_matrix(256, 256, 1);
  Cuda::Tensor xt = cu.upload(x), y;
  cu.linear(xt, xt, Cuda::Tensor{}, y);  // warms cuBLAS
  cu.synchronize();
  CudaEventTimer timer(cu);
  const auto wall0 = std::chrono::steady_clock::now();
  timer.start();
  for (int i = 0; i < 5; ++i) cu.linear(xt, xt, Cuda::Tensor{}, y);
  cu.synchronize();
  const double device_s = timer.stop();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  MESSAGE("5 products of 256 x 256: events " << device_s * 1e3 << " ms, wall " << wall_s * 1e3 << " ms");
  CHECK(device_s > 0);
  CHECK(device_s <= wall_s * 1.01 + 1e-4);

  cu.reset_device_memory();
  const std::uint64_t before = cu.device_memory().used_bytes;
  {
    Cuda::Tensor big = cu.upload(HostMatrix::Zero(1024, 1024));
    CHECK(cu.device_memory().used_bytes == before + 4u * 1024 * 1024);
  }
  const DeviceMemory m = cu.device_memory();
  CHECK(m.used_bytes == before);
  CHECK(m.peak_bytes == before + 4u * 1024 * 1024);
  CHECK(m.average_bytes <= m.peak_bytes);
  CHECK(m.total_bytes > 0);
}

TEST_CASE("cuda: every architecture runs and verifies against Cpu (golden checkpoints)") {
  if (no_gpu()) return;
  SUBCASE("BERT") { check_architecture<Cuda, Embedding>("bert"); }
  SUBCASE("GPT-2") { check_architecture<Cuda, TextGeneration>("gpt2"); }
  SUBCASE("Llama") { check_architecture<Cuda, TextGeneration>("llama"); }
  SUBCASE("Qwen2") { check_architecture<Cuda, TextGeneration>("qwen2"); }
  SUBCASE("T5") { check_architecture<Cuda, TextGeneration>("t5"); }
  SUBCASE("GPT-2 with bf16 weights") { check_architecture<Cuda, TextGeneration>("gpt2", {}, Precision::bf16); }
  SUBCASE("Llama with fp16 weights") { check_architecture<Cuda, TextGeneration>("llama", {}, Precision::fp16); }
  SUBCASE("Qwen2: sliding-window layers") { check_architecture<Cuda, TextGeneration>("qwen2_window"); }
  SUBCASE("Mistral: a sliding window in every layer") { check_architecture<Cuda, TextGeneration>("mistral"); }
  SUBCASE("Llama: llama3 rotary scaling") { check_architecture<Cuda, TextGeneration>("llama_rope_llama3"); }
  SUBCASE("Llama: linear rotary scaling") { check_architecture<Cuda, TextGeneration>("llama_rope_linear"); }
  SUBCASE("ViT") { check_architecture<Cuda, Vision>("vit"); }
  SUBCASE("CLIP") { check_architecture<Cuda, Multimodal>("clip"); }
  SUBCASE("Whisper") { check_architecture<Cuda, Audio>("whisper"); }
  SUBCASE("wav2vec2") { check_architecture<Cuda, Audio>("wav2vec2"); }
  SUBCASE("LLaVA") { check_architecture<Cuda, VisionLanguage>("llava"); }
  SUBCASE("LLaVA: every token of a positive feature layer, tied Qwen2 decoder") {
    check_architecture<Cuda, VisionLanguage>("llava_variant");
  }
  SUBCASE("LLaVA-NeXT") { check_architecture<Cuda, VisionLanguage>("llava_next"); }
  SUBCASE("DETR") { check_architecture<Cuda, Vision>("detr", {{"image_sizes", {96}}, {"image_widths", {128}}}); }
  SUBCASE("DETR: basic ResNet layers, the first stage strided") {
    check_architecture<Cuda, Vision>("detr_variant", {{"image_sizes", {64}}, {"image_widths", {96}}});
  }
  SUBCASE("X-CLIP") { check_architecture<Cuda, VideoText>("xclip"); }
  SUBCASE("CLAP: interpolated clips") { check_architecture<Cuda, AudioText>("clap", {{"frames", {200}}}); }
  SUBCASE("CLAP with fusion: every clip longer") { check_architecture<Cuda, AudioText>("clap_fused"); }
}

TEST_CASE("cuda: Benchmark reports device memory and the event timer") {
  if (no_gpu()) return;
  const RunResult r = Benchmark<Cuda, Embedding>{conformance_config<Embedding>("bert")}.run();
  REQUIRE(r.cells.size() == 1);
  const CellResult& c = r.cells[0];
  CHECK(c.status == CellStatus::ok);
  CHECK(c.timer == "cuda_events");
  REQUIRE(c.memory.device_peak_bytes.has_value());
  CHECK(*c.memory.device_peak_bytes > 0);
  CHECK(c.memory.device_total_bytes.value_or(0) > 0);
  CHECK(r.devices.at(0).backend == "cuda");
}

// Runs everywhere: on a machine without a usable GPU, the backend as it is;
// with one, a device index that does not exist.
TEST_CASE("cuda: an unavailable device is reported with the reason, not a crash") {
  {
    const ScopedEnv env("ACCELBENCH_CUDA_DEVICE", "first");
    const Availability a = Cuda::available();
    CHECK_FALSE(a.available);
    CHECK(a.reason == "ACCELBENCH_CUDA_DEVICE is \"first\": expected a device index (0, 1, ...)");
    check_unavailable(a.reason);
  }
  const Availability a = Cuda::available();
  if (a.available) {
    const ScopedEnv env("ACCELBENCH_CUDA_DEVICE", "99");
    const Availability none = Cuda::available();
    CHECK_FALSE(none.available);
    check_unavailable(none.reason);
  } else {
    MESSAGE("no GPU here: " << a.reason);
    CHECK(a.reason.find("cudaGetDeviceCount") != std::string::npos);
    CHECK_THROWS_WITH_AS(Cuda{Cuda::Options{.device = 99}}, doctest::Contains(a.reason.c_str()), std::runtime_error);
    check_unavailable(a.reason);
  }
}

// Run by its own ctest with CUDA_VISIBLE_DEVICES=-1, so that the runtime
// sees no device (or, without a driver, none at all).
TEST_CASE("cuda without a device: unavailable with the reason" * doctest::skip()) {
  const Availability a = Cuda::available();
  CHECK_FALSE(a.available);
  CHECK(a.reason.find("cudaGetDeviceCount returned") != std::string::npos);
  MESSAGE("reason: " << a.reason);
  check_unavailable(a.reason);
}
