// A minimal type for each policy concept, as shown in docs/concepts.md, and a
// Benchmark that combines the family, stats, timer and reporter with Cpu.

#include <accelbench/accelbench.hpp>

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// [snippet backend]
// The least a Backend needs: tensor types, availability, a description,
// transfers and a way to wait for queued work. It has no ops yet, so no
// family runs on it; adding EncoderOps' ops would let Embedding run.
struct HostOnly {
  using Tensor = accelbench::HostMatrix;
  using IndexTensor = std::vector<std::int32_t>;
  static constexpr std::string_view name = "host-only";

  static accelbench::Availability available() { return accelbench::Availability::yes(); }
  accelbench::DeviceInfo describe() const {
    accelbench::DeviceInfo d;
    d.backend = "host-only";
    d.name = "host memory";
    d.kind = "cpu";
    return d;
  }
  void synchronize() {}
  Tensor upload(const accelbench::HostMatrix& m) { return m; }
  IndexTensor upload_indices(std::span<const std::int32_t> ids) { return {ids.begin(), ids.end()}; }
  accelbench::HostMatrix download(const Tensor& t) { return t; }
};
static_assert(accelbench::Backend<HostOnly>);
// [end snippet]

// [snippet family]
// A workload of one matrix product y = x wᵀ, with w square. It needs one op
// of the backend, linear; one item is one row of x.
template <class B>
concept HasLinear = accelbench::Backend<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y) {
  b.linear(x, x, x, y);
};

struct SquareMatmul {
  static constexpr std::string_view name = "square-matmul";
  static constexpr std::string_view item_unit = "rows";

  struct Preset {
    std::string name;
    int n = 0;
  };
  struct Cell {
    int rows = 0;
  };

  static const Preset& find_preset(std::string_view model) {
    static const Preset presets[] = {{"matmul-256", 256}, {"matmul-1024", 1024}};
    for (const auto& p : presets) {
      if (p.name == model) return p;
    }
    throw accelbench::ConfigError("model", std::string(model), "unknown square-matmul preset");
  }
  static std::string_view architecture(const Preset&) { return "gemm"; }
  // No axis of its own: the sweep is batch_sizes alone, one row count each.
  static std::vector<accelbench::SweepAxis> sweep_axes() { return {}; }
  static void validate(const accelbench::Config&, const Preset&) {}
  static std::vector<Cell> cells(const accelbench::Config& config) {
    std::vector<Cell> out;
    for (int rows : config.batch_sizes) out.push_back({rows});
    return out;
  }
  static std::vector<accelbench::Axis> axes(const Cell& c) { return {{"rows", c.rows}}; }
  static double items(const Cell& c) { return c.rows; }

  template <HasLinear B>
  struct Model {
    typename B::Tensor weight;
    int n = 0;
    std::int64_t parameters() const { return std::int64_t{n} * n; }
    std::uint64_t weight_bytes() const { return sizeof(float) * static_cast<std::uint64_t>(parameters()); }
  };

  template <HasLinear B>
  static Model<B> load(B& backend, const Preset& p, std::uint64_t seed) {
    return {backend.upload(accelbench::synthetic_tensor("w", p.n, p.n, seed, 0.0f, 0.02f)), p.n};
  }

  template <HasLinear B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          x_(backend.upload(accelbench::synthetic_tensor("x", cell.rows, model.n, seed, 0.0f, 1.0f))) {}
    void run() { backend_->linear(x_, model_->weight, no_bias_, y_); }
    std::vector<accelbench::NamedOutput> outputs() { return {{"y", backend_->download(y_)}}; }

   private:
    B* backend_;
    const Model<B>* model_;
    typename B::Tensor x_, no_bias_, y_;
  };
};
static_assert(accelbench::ModelFamily<SquareMatmul>);
// [end snippet]

// [snippet stats]
// Moments only: count, min, max, mean, standard deviation and CV; no percentiles.
struct MomentStats {
  static constexpr std::string_view name = "moments";
  static accelbench::LatencySummary summarize(std::span<const double> samples) {
    return accelbench::summarize_moments(samples);
  }
};
static_assert(accelbench::Stats<MomentStats>);
// [end snippet]

// [snippet timer]
// Wall time from POSIX's monotonic clock.
struct MonotonicTimer {
  static constexpr std::string_view name = "clock_gettime";
  void start() { start_ = now(); }
  double stop() const { return now() - start_; }

 private:
  static double now() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
  double start_ = 0;
};
static_assert(accelbench::Timer<MonotonicTimer>);
// [end snippet]

// [snippet reporter]
// One line per cell: model, shape, status and mean latency.
struct LineReporter {
  void report(const accelbench::RunResult& result) {
    for (const auto& cell : result.cells) {
      std::string shape;
      for (const auto& axis : cell.shape) shape += " " + axis.name + "=" + std::to_string(axis.value);
      std::printf("%s on %s%s: %s, mean %.3f ms\n", cell.model.c_str(), cell.backend.c_str(), shape.c_str(),
                  std::string(accelbench::to_string(cell.status)).c_str(), cell.latency.mean * 1e3);
    }
  }
};
static_assert(accelbench::Reporter<LineReporter>);
// [end snippet]

int main() {
  using namespace accelbench;
  Benchmark<Cpu, SquareMatmul, MomentStats, MonotonicTimer, LineReporter> bench{
      {.model = "matmul-256", .batch_sizes = {64, 256}, .min_time_s = 0.2}};
  bench.report(bench.run());
}
