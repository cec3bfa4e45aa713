// BERT-base (batch 1, sequence 128) through Benchmark<Cpu, Embedding,
// PercentileStats>, beside Cpu::linear alone at BERT's largest matrix
// shape measured in the same run with the same threads: how close the whole
// model comes to the GEMM it is built from.
//
//   bench_bert_cpu [threads]      (default: one per logical core)

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include "common.hpp"

#include <cstdlib>
#include <string>
#include <vector>

using namespace accelbench;

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  Cpu cpu{Cpu::Options{.threads = threads}};
  const int used = cpu.threads();

  // GEMM before and after the model, so both see the machine in the same state.
  std::vector<double> gemm = benchutil::gemm_samples(used, 1.0);

  Benchmark<Cpu, Embedding, PercentileStats> bench{{.model = "bert-base-uncased",
                                                    .batch_sizes = {1},
                                                    .sweep = {{"sequence_lengths", {128}}},
                                                    .warmup_iterations = 3,
                                                    .min_iterations = 15,
                                                    .min_time_s = 3.0,
                                                    .max_time_s = 30.0},
                                                   std::move(cpu)};
  const RunResult result = bench.run();

  const auto after = benchutil::gemm_samples(used, 1.0);
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
  const double gemm_gflops = benchutil::gemm_flops / gemm_median / 1e9;

  fmt::print("bert_cpu: {} threads on {}{}\n", used, result.system.cpu_model,
             result.build.debug() ? " (DEBUG BUILD: figures not representative)" : "");
  fmt::print("  BERT-base, batch 1, sequence 128 ({:.2f} GFLOP per pass), {} samples\n", model_flops / 1e9,
             cell.iterations);
  fmt::print("    median {:8.2f} ms   p90 {:8.2f} ms   {:6.1f} GFLOP/s\n", model_median * 1e3, *cell.latency.p90 * 1e3,
             model_gflops);
  fmt::print("  Cpu::linear [128 x 768] x [768 x 3072], {} samples\n", gemm.size());
  fmt::print("    median {:8.3f} ms                       {:6.1f} GFLOP/s\n", gemm_median * 1e3, gemm_gflops);
  fmt::print("  ratio model / GEMM: {:.2f}\n", model_gflops / gemm_gflops);
  return 0;
}
