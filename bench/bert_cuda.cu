// BERT-base (sequence 128, batch 1 and 8) through Benchmark<Cpu, Embedding>
// and Benchmark<Cuda, Embedding>, both timed with the steady clock (the
// Benchmark synchronises the stream before the timer stops): the medians
// side by side and their ratio. Without a usable GPU it says why and exits 0.
//
//   bench_bert_cuda [threads]      Cpu threads (default: one per logical core)

#include <accelbench/backend/cuda.cuh>
#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdlib>

using namespace accelbench;

int main(int argc, char** argv) {
  const Availability gpu = Cuda::available();
  if (!gpu) {
    fmt::print("bert_cuda: skipped: {}\n", gpu.reason);
    return 0;
  }
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  const Config config{.model = "bert-base-uncased",
                      .batch_sizes = {1, 8},
                      .sweep = {{"sequence_lengths", {128}}},
                      .warmup_iterations = 3,
                      .min_iterations = 15,
                      .min_time_s = 2.0,
                      .max_time_s = 30.0};

  const RunResult on_cpu = Benchmark<Cpu, Embedding, PercentileStats, SteadyTimer>{
      config, Cpu{Cpu::Options{.threads = threads}}}.run();
  const RunResult on_gpu = Benchmark<Cuda, Embedding, PercentileStats, SteadyTimer>{config}.run();

  const DeviceInfo& cpu = on_cpu.devices.at(0);
  const DeviceInfo& cuda = on_gpu.devices.at(0);
  fmt::print("bert_cuda: cpu {} ({} threads) against cuda {} ({} SMs){}\n", cpu.name, cpu.threads, cuda.name,
             cuda.compute_units, on_gpu.build.debug() ? " (DEBUG BUILD: figures not representative)" : "");
  fmt::print("  BERT-base, sequence 128, steady clock, median of each cell\n");
  fmt::print("  {:>5}  {:>12}  {:>12}  {:>10}  {:>14}\n", "batch", "cpu ms", "cuda ms", "cpu / cuda", "cuda max error");
  int status = 0;
  for (std::size_t i = 0; i < on_gpu.cells.size() && i < on_cpu.cells.size(); ++i) {
    const CellResult& c = on_cpu.cells[i];
    const CellResult& g = on_gpu.cells[i];
    if (c.status != CellStatus::ok || g.status != CellStatus::ok) {
      fmt::print("  batch {}: cpu {} {}, cuda {} {}\n", g.axis("batch_size").value_or(0), to_string(c.status),
                 c.message, to_string(g.status), g.message);
      status = 1;
      continue;
    }
    const double cpu_ms = *c.latency.median * 1e3;
    const double gpu_ms = *g.latency.median * 1e3;
    fmt::print("  {:>5}  {:>12.3f}  {:>12.3f}  {:>10.1f}  {:>14.2e}\n", g.axis("batch_size").value_or(0), cpu_ms,
               gpu_ms, cpu_ms / gpu_ms, g.verification.max_abs_error);
  }
  return status;
}
