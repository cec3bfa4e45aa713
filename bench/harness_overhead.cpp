// accelbench's own cost per sample against google/benchmark's per iteration,
// on the same trivial operation (one increment the compiler must keep),
// compiled with the same flags in the same program and measured in one run.
//
//   bench_harness_overhead

#include <accelbench/accelbench.hpp>
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

std::uint64_t counter = 0;

inline void trivial_operation() {
  ++counter;
  accelbench::do_not_optimize(counter);
}

// ---- google/benchmark ----
void BM_trivial(benchmark::State& state) {
  for (auto _ : state) trivial_operation();
}
BENCHMARK(BM_trivial)->MinTime(0.5);

class Capture : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      ns_per_iteration = r.real_accumulated_time / static_cast<double>(r.iterations) * 1e9;
      iterations = r.iterations;
    }
  }
  double ns_per_iteration = 0;
  benchmark::IterationCount iterations = 0;
};

// ---- accelbench: the same operation as a model family ----
struct Trivial {
  static constexpr std::string_view name = "trivial";
  static constexpr std::string_view item_unit = "operations";
  struct Preset {
    std::string name;
  };
  struct Cell {
    int n = 1;
  };
  static const Preset& find_preset(std::string_view) {
    static const Preset p{"increment"};
    return p;
  }
  static std::string_view architecture(const Preset&) { return "increment"; }
  static std::vector<accelbench::SweepAxis> sweep_axes() { return {}; }
  static void validate(const accelbench::Config&, const Preset&) {}
  static std::vector<Cell> cells(const accelbench::Config&) { return {Cell{}}; }
  static std::vector<accelbench::Axis> axes(const Cell&) { return {{"n", 1}}; }
  static double items(const Cell&) { return 1; }
  template <accelbench::Backend B>
  struct Model {
    std::int64_t parameters() const { return 0; }
    std::uint64_t weight_bytes() const { return 0; }
  };
  template <accelbench::Backend B>
  static Model<B> load(B&, const Preset&, std::uint64_t) {
    return {};
  }
  template <accelbench::Backend B>
  struct Workload {
    Workload(B&, const Model<B>&, const Cell&, std::uint64_t) {}
    void run() { trivial_operation(); }
    std::vector<accelbench::NamedOutput> outputs() { return {}; }
  };
};

accelbench::CellResult measure(int iterations_per_sample) {
  using namespace accelbench;
  Benchmark<Cpu, Trivial> bench{{.model = "increment",
                                 .warmup_iterations = 1000,
                                 .min_iterations = 1000,
                                 .max_iterations = 2147483647,
                                 .min_time_s = 0.5,
                                 .max_time_s = 2.0,
                                 .iterations_per_sample = iterations_per_sample,
                                 .memory_sample_interval_s = 0},
                                Cpu{Cpu::Options{.threads = 1}}};
  return bench.run().cells.at(0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Alternating rounds, so that both harnesses see the machine alike; the
  // figures are the medians over the rounds.
  constexpr int rounds = 5;
  std::vector<double> google_ns, batched_ns;
  std::size_t runs_per_sample = 0;
  for (int r = 0; r < rounds; ++r) {
    Capture capture;
    benchmark::RunSpecifiedBenchmarks(&capture);
    google_ns.push_back(capture.ns_per_iteration);
    const accelbench::CellResult batched = measure(0);
    batched_ns.push_back(batched.sampling_wall_s / static_cast<double>(batched.iterations) * 1e9);
    runs_per_sample = batched.iterations_per_sample;
  }
  const accelbench::CellResult single = measure(1);
  const double gb = median(google_ns);
  const double ab = median(batched_ns);
  const double as = single.sampling_wall_s / static_cast<double>(single.iterations) * 1e9;
  fmt::print("harness_overhead: one increment per iteration, both harnesses in this program, {} alternating rounds\n",
             rounds);
  fmt::print("  google/benchmark:                          {:7.3f} ns per iteration (median)\n", gb);
  fmt::print("  accelbench, batched ({} runs/sample): {:7.3f} ns per run, harness included (median)\n",
             runs_per_sample, ab);
  fmt::print("  accelbench, one run per sample:            {:7.2f} ns per sample, harness included\n", as);
  fmt::print("  ratio accelbench batched / google/benchmark:        {:.2f}\n", ab / gb);
  fmt::print("  ratio accelbench one-per-sample / google/benchmark: {:.1f}\n", as / gb);
  return 0;
}
