// BERT-base (batch 1, sequence 128) through Benchmark<Cpu, Embedding,
// PercentileStats>, beside a plain Eigen product of BERT's largest matrix
// shape measured in the same run with the same threads: how close the whole
// model comes to the GEMM it is built from.
//
//   bench_bert_cpu [threads]      (default: one per logical core)

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace accelbench;

namespace {

/// Median seconds of y = x wᵀ for x [128, 768] and w [3072, 768], the
/// feed-forward up-projection, sampled for at least `seconds`.
std::vector<double> gemm_samples(int threads, double seconds) {
  Eigen::setNbThreads(threads);
  const HostMatrix x = synthetic_tensor("x", 128, 768, 1, 0.0f, 1.0f);
  const HostMatrix w = synthetic_tensor("w", 3072, 768, 2, 0.0f, 0.02f);
  HostMatrix y(128, 3072);
  for (int i = 0; i < 5; ++i) y.noalias() = x * w.transpose();
  std::vector<double> samples;
  SteadyTimer total;
  total.start();
  while (total.stop() < seconds || samples.size() < 20) {
    SteadyTimer t;
    t.start();
    y.noalias() = x * w.transpose();
    samples.push_back(t.stop());
  }
  return samples;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  Cpu cpu{Cpu::Options{.threads = threads}};
  const int used = cpu.threads();
  constexpr double gemm_flops = 2.0 * 128 * 768 * 3072;

  // GEMM before and after the model, so both see the machine in the same state.
  std::vector<double> gemm = gemm_samples(used, 1.0);

  Benchmark<Cpu, Embedding, PercentileStats> bench{{.model = "bert-base-uncased",
                                                    .batch_sizes = {1},
                                                    .sequence_lengths = {128},
                                                    .warmup_iterations = 3,
                                                    .min_iterations = 15,
                                                    .min_time_s = 3.0,
                                                    .max_time_s = 30.0},
                                                   std::move(cpu)};
  const RunResult result = bench.run();

  const auto after = gemm_samples(used, 1.0);
  gemm.insert(gemm.end(), after.begin(), after.end());

  const CellResult& cell = result.cells.at(0);
  if (cell.status != CellStatus::ok) {
    fmt::print("bert-base-uncased failed: {}\n", cell.message);
    return 1;
  }
  const double model_flops = Embedding::find_preset("bert-base-uncased").flops(1, 128);
  const double model_median = *cell.latency.median;
  const double gemm_median = *PercentileStats::summarize(gemm).median;
  const double model_gflops = model_flops / model_median / 1e9;
  const double gemm_gflops = gemm_flops / gemm_median / 1e9;

  fmt::print("bert_cpu: {} threads on {}{}\n", used, result.system.cpu_model,
             result.build.debug() ? " (DEBUG BUILD: figures not representative)" : "");
  fmt::print("  BERT-base, batch 1, sequence 128 ({:.2f} GFLOP per pass), {} samples\n", model_flops / 1e9,
             cell.iterations);
  fmt::print("    median {:8.2f} ms   p90 {:8.2f} ms   {:6.1f} GFLOP/s\n", model_median * 1e3, *cell.latency.p90 * 1e3,
             model_gflops);
  fmt::print("  Eigen GEMM [128 x 768] x [768 x 3072], {} samples\n", gemm.size());
  fmt::print("    median {:8.3f} ms                       {:6.1f} GFLOP/s\n", gemm_median * 1e3, gemm_gflops);
  fmt::print("  ratio model / GEMM: {:.2f}\n", model_gflops / gemm_gflops);
  return 0;
}
