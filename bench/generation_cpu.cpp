// Greedy generation at batch 1 through Benchmark<Cpu, TextGeneration>,
// beside what bounds each phase, measured in the same run with the same
// threads:
//   decode   one token reads every weight it multiplies once: the time to
//            read those bytes with every thread is its floor (an untied
//            token table, and GPT-2's position table, are only looked up
//            and not counted);
//   prefill  the prompt through the same matrices: Cpu::linear at GPT-2's
//            feed-forward shape is its ceiling in GFLOP/s.
// GPT-2 takes a prompt of 128 and 32 new tokens; a larger preset (e.g.
// tinyllama-1.1b, 4.4 GB of float32 weights) a prompt of 32 and 16 new
// tokens, so that a run stays within minutes on one thread. With a
// precision (bf16, fp16) the linear layers' weights are stored at it and
// the floor counts the bytes at that width (norms and biases, well under 1%
// of the parameters, included: they stay fp32).
//
//   bench_generation_cpu [threads] [preset] [precision]
//     (default: one thread per logical core, gpt2, fp32)

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
  const std::string preset = argc > 2 ? argv[2] : "gpt2";
  const Precision precision = argc > 3 ? parse_precision(argv[3]) : Precision::fp32;
  const GenerativeConfig& model = TextGeneration::find_preset(preset);
  const bool gpt2 = model.architecture == "gpt2";
  const int prompt = gpt2 ? 128 : 32;
  const int new_tokens = gpt2 ? 32 : 16;
  // What one decode step multiplies: every parameter but the tables it only looks up.
  std::int64_t looked_up = model.tied_embeddings ? 0 : std::int64_t{model.vocab_size} * model.hidden;
  if (gpt2) looked_up += std::int64_t{model.max_positions} * model.hidden;
  const std::uint64_t weight_bytes =
      static_cast<std::uint64_t>(model.parameter_count() - looked_up) * static_cast<std::uint64_t>(precision_bytes(precision));

  std::vector<double> stream = benchutil::read_samples(used, weight_bytes, 1.0);
  std::vector<double> gemm = benchutil::gemm_samples(used, 1.0);

  Benchmark<Cpu, TextGeneration, PercentileStats> bench{{.model = preset,
                                                         .batch_sizes = {1},
                                                         .sweep = {{"prompt_lengths", {prompt}}, {"new_tokens", {new_tokens}}},
                                                         .warmup_iterations = 1,
                                                         .min_iterations = 5,
                                                         .min_time_s = 3.0,
                                                         .max_time_s = 30.0,
                                                         .precision = precision},
                                                        Cpu{Cpu::Options{.threads = threads}}};
  const RunResult result = bench.run();

  const auto stream_after = benchutil::read_samples(used, weight_bytes, 1.0);
  stream.insert(stream.end(), stream_after.begin(), stream_after.end());
  const auto gemm_after = benchutil::gemm_samples(used, 1.0);
  gemm.insert(gemm.end(), gemm_after.begin(), gemm_after.end());

  const CellResult& cell = result.cells.at(0);
  if (cell.status != CellStatus::ok || cell.phases.size() != 2) {
    fmt::print("{} failed: {}\n", preset, cell.message);
    return 1;
  }
  const PhaseResult& prefill = cell.phases[0];
  const PhaseResult& decode = cell.phases[1];
  const double stream_median = *PercentileStats::summarize(stream).median;
  const double gemm_median = *PercentileStats::summarize(gemm).median;
  const double gemm_gflops = benchutil::gemm_flops / gemm_median / 1e9;
  // Prefill's work: the prompt through every layer and the head for one position.
  const double prefill_flops = model.generation_flops(1, prompt, 1);
  const double prefill_gflops = prefill_flops / *prefill.latency.median / 1e9;

  fmt::print("generation_cpu: {} threads on {}{}\n", used, result.system.cpu_model,
             result.build.debug() ? " (DEBUG BUILD: figures not representative)" : "");
  fmt::print("  {} ({} weights), batch 1, prompt {}, {} new tokens, {} runs\n", preset, precision_name(precision), prompt,
             new_tokens, cell.iterations);
  fmt::print("    prefill (time to first token) median {:8.2f} ms   p99 {:8.2f} ms   {:6.1f} GFLOP/s\n",
             *prefill.latency.median * 1e3, *prefill.latency.p99 * 1e3, prefill_gflops);
  fmt::print("    decode (per token)            median {:8.2f} ms   p99 {:8.2f} ms   {:6.1f} tokens/s\n",
             *decode.latency.median * 1e3, *decode.latency.p99 * 1e3, decode.items_per_second);
  fmt::print("  reading the {:.0f} MB of weights a step multiplies once, median {:.2f} ms ({:.1f} GB/s)\n",
             weight_bytes / 1e6,
             stream_median * 1e3, weight_bytes / stream_median / 1e9);
  fmt::print("  Cpu::linear [128 x 768] x [768 x 3072], median {:.3f} ms ({:.1f} GFLOP/s)\n", gemm_median * 1e3,
             gemm_gflops);
  fmt::print("  ratio decode step / weight read: {:.2f} (1 is the memory-bandwidth floor)\n",
             *decode.latency.median / stream_median);
  fmt::print("  ratio prefill / GEMM GFLOP/s:    {:.2f}\n", prefill_gflops / gemm_gflops);
  return 0;
}
