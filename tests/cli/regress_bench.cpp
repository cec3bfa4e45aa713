// A benchmark program built twice for the test of `accelbench regress`
// (tests/cli/regress.cmake): its one family, Delay, busy-waits
// ACCELBENCH_DELAY_US microseconds per item of each run. The normal build
// waits 200 us, the build made slower on purpose twice that; both name the
// family, model and cells alike, so their results compare cell by cell.
//
//   regress_bench RESULTS.json    measures n = 1 and 2 and writes the run there (JsonReporter)

#include <accelbench/backend/cpu.hpp>
#include <accelbench/report/json_reporter.hpp>
#include <accelbench/run/benchmark.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#ifndef ACCELBENCH_DELAY_US
#define ACCELBENCH_DELAY_US 200
#endif

namespace {

using namespace accelbench;

struct Delay {
  static constexpr std::string_view name = "delay";
  static constexpr std::string_view item_unit = "runs";

  struct Preset {
    std::string name = "delay";
    static inline const std::vector<std::string> aliases{};
    [[nodiscard]] std::int64_t parameter_count() const { return 1; }
  };
  struct Cell {
    int n = 1;
  };

  static const Preset& find_preset(std::string_view model) {
    static const Preset preset;
    if (model != preset.name) throw ConfigError("model", std::string(model), "unknown delay preset");
    return preset;
  }
  static std::vector<std::string> preset_names() { return {"delay"}; }
  static std::string_view architecture(const Preset&) { return "delay"; }
  static std::vector<SweepAxis> sweep_axes() { return {}; }
  static void validate(const Config&, const Preset&) {}
  static std::vector<Cell> cells(const Config& c) {
    std::vector<Cell> out;
    for (int b : c.batch_sizes) out.push_back({b});
    return out;
  }
  static std::vector<Axis> axes(const Cell& c) { return {{"n", c.n}}; }
  static double items(const Cell& c) { return c.n; }

  template <Backend B>
  struct Model {
    std::int64_t parameters() const { return 1; }
    std::uint64_t weight_bytes() const { return 4; }
  };

  template <Backend B>
  static Model<B> load(B&, const Preset&, std::uint64_t) {
    return {};
  }

  template <Backend B>
  class Workload {
   public:
    Workload(B&, const Model<B>&, const Cell& c, std::uint64_t)
        : wait_(std::chrono::microseconds(ACCELBENCH_DELAY_US) * c.n) {}

    void run() {
      const auto end = std::chrono::steady_clock::now() + wait_;
      while (std::chrono::steady_clock::now() < end) {
      }
    }

    std::vector<NamedOutput> outputs() { return {{"constant", HostMatrix::Constant(1, 1, 1.0f)}}; }

   private:
    std::chrono::microseconds wait_;
  };
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: regress_bench RESULTS.json\n";
    return 2;
  }
  const Config config{.model = "delay",
                      .batch_sizes = {1, 2},
                      .warmup_iterations = 3,
                      .min_iterations = 40,
                      .max_iterations = 400,
                      .min_time_s = 0.0,
                      .max_time_s = 0.3};
  const RunResult result = Benchmark<Cpu, Delay>{config, Cpu{Cpu::Options{.threads = 1}}}.run();
  JsonReporter{argv[1]}.report(result);
  for (const auto& c : result.cells) {
    if (c.status != CellStatus::ok) {
      std::cerr << "regress_bench: cell n = " << c.shape.front().value << " is " << to_string(c.status) << ": "
                << c.message << '\n';
      return 3;
    }
  }
  return 0;
}
