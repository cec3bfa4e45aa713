// GPT-2 greedy generation (batch 1, prompt 128, 32 new tokens) through
// Benchmark<Cpu, TextGeneration>, beside what bounds each phase, measured in
// the same run with the same threads:
//   decode   one token reads every weight once: the time to read the
//            model's weight bytes with every thread is its floor;
//   prefill  128 tokens through the same matrices: Cpu::linear at GPT-2's
//            feed-forward shape is its ceiling in GFLOP/s.
//
//   bench_generation_cpu [threads]      (default: one per logical core)

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include "common.hpp"

#include <cstdlib>
#include <vector>

using namespace accelbench;

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  Cpu cpu{Cpu::Options{.threads = threads}};
  const int used = cpu.threads();
  const GenerativeConfig& gpt2 = TextGeneration::find_preset("gpt2");
  const std::uint64_t weight_bytes = static_cast<std::uint64_t>(gpt2.parameter_count()) * sizeof(float);

  std::vector<double> stream = benchutil::read_samples(used, weight_bytes, 1.0);
  std::vector<double> gemm = benchutil::gemm_samples(used, 1.0);

  Benchmark<Cpu, TextGeneration, PercentileStats> bench{{.model = "gpt2",
                                                         .batch_sizes = {1},
                                                         .sweep = {{"prompt_lengths", {128}}, {"new_tokens", {32}}},
                                                         .warmup_iterations = 1,
                                                         .min_iterations = 5,
                                                         .min_time_s = 3.0,
                                                         .max_time_s = 30.0},
                                                        Cpu{Cpu::Options{.threads = threads}}};
  const RunResult result = bench.run();

  const auto stream_after = benchutil::read_samples(used, weight_bytes, 1.0);
  stream.insert(stream.end(), stream_after.begin(), stream_after.end());
  const auto gemm_after = benchutil::gemm_samples(used, 1.0);
  gemm.insert(gemm.end(), gemm_after.begin(), gemm_after.end());

  const CellResult& cell = result.cells.at(0);
  if (cell.status != CellStatus::ok || cell.phases.size() != 2) {
    fmt::print("gpt2 failed: {}\n", cell.message);
    return 1;
  }
  const PhaseResult& prefill = cell.phases[0];
  const PhaseResult& decode = cell.phases[1];
  const double stream_median = *PercentileStats::summarize(stream).median;
  const double gemm_median = *PercentileStats::summarize(gemm).median;
  const double gemm_gflops = benchutil::gemm_flops / gemm_median / 1e9;
  // Prefill's work: the prompt through every layer and the head for one position.
  const double prefill_flops = gpt2.generation_flops(1, 128, 1);
  const double prefill_gflops = prefill_flops / *prefill.latency.median / 1e9;

  fmt::print("generation_cpu: {} threads on {}{}\n", used, result.system.cpu_model,
             result.build.debug() ? " (DEBUG BUILD: figures not representative)" : "");
  fmt::print("  GPT-2, batch 1, prompt 128, 32 new tokens, {} runs\n", cell.iterations);
  fmt::print("    prefill (time to first token) median {:8.2f} ms   p99 {:8.2f} ms   {:6.1f} GFLOP/s\n",
             *prefill.latency.median * 1e3, *prefill.latency.p99 * 1e3, prefill_gflops);
  fmt::print("    decode (per token)            median {:8.2f} ms   p99 {:8.2f} ms   {:6.1f} tokens/s\n",
             *decode.latency.median * 1e3, *decode.latency.p99 * 1e3, decode.items_per_second);
  fmt::print("  reading GPT-2's {:.0f} MB of weights once, median {:.2f} ms ({:.1f} GB/s)\n", weight_bytes / 1e6,
             stream_median * 1e3, weight_bytes / stream_median / 1e9);
  fmt::print("  Cpu::linear [128 x 768] x [768 x 3072], median {:.3f} ms ({:.1f} GFLOP/s)\n", gemm_median * 1e3,
             gemm_gflops);
  fmt::print("  ratio decode step / weight read: {:.2f} (1 is the memory-bandwidth floor)\n",
             *decode.latency.median / stream_median);
  fmt::print("  ratio prefill / GEMM GFLOP/s:    {:.2f}\n", prefill_gflops / gemm_gflops);
  return 0;
}
