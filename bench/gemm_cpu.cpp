// detail::gemm_nt (the Cpu backend's product for linear layers, on weights
// packed once in panels) beside Eigen's (which packs both operands on every
// call), on one thread, at the shapes of BERT-base (1 to 8 sequences of 128
// tokens), GPT-2 and a TinyLlama-sized decoder, in alternating rounds in one
// run, with the FMA peak: each product's GFLOP/s, its fraction of the peak
// and the ratio of the times. Eight weight matrices of each shape take
// turns, as a model's layers do, so the weights come from memory rather than
// from the cache of the previous call; they are held as Cpu holds them
// (CpuWeight, on transparent huge pages where granted; Eigen's copies
// row-major).
//
// A second table times Cpu::linear on the same shapes with the weights
// stored as fp32, bf16 and fp16 (CpuWeight), in alternating rounds: the
// half-precision times relative to fp32's, and for the single-row products
// (a decode step, bound by reading the weights) the weights' bytes read per
// second. Last, the read bandwidth of one thread on transparent huge pages
// (where CpuWeight keeps its values) beside 4 KiB pages.
//
//   bench_gemm_cpu

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include "common.hpp"

#include <iterator>
#include <string>
#include <vector>

using namespace accelbench;

namespace {

struct Shape {
  const char* name;
  Eigen::Index m, n, k;
};

/// Cpu::linear at fp32, bf16 and fp16 weights, one thread, alternating.
void precision_table(const Shape* shapes, std::size_t count) {
  fmt::print("\nCpu::linear with the weights stored at each precision (1 thread)\n");
  fmt::print("{:<34}{:>11}{:>14}{:>14}{:>42}\n", "", "fp32 ms", "bf16 / fp32", "fp16 / fp32",
             fmt::format("weights read, GB/s:{:>7}{:>7}{:>7}", "fp32", "bf16", "fp16"));
  constexpr int layers = 8;
  constexpr Precision precisions[] = {Precision::fp32, Precision::bf16, Precision::fp16};
  Cpu cpu{Cpu::Options{.threads = 1}};
  for (std::size_t s_i = 0; s_i < count; ++s_i) {
    const Shape& s = shapes[s_i];
    const HostMatrix x = synthetic_tensor("x", s.m, s.k, 1, 0.0f, 1.0f);
    const HostMatrix b = synthetic_tensor("b", 1, s.n, 2, 0.0f, 0.02f);
    std::vector<CpuWeight> w[3];
    for (int l = 0; l < layers; ++l) {
      const HostMatrix full = synthetic_tensor("w", s.n, s.k, 3 + l, 0.0f, 0.02f);
      for (int p = 0; p < 3; ++p) w[p].push_back(Cpu::upload_weight(full, precisions[p]));
    }
    HostMatrix y(s.m, s.n);
    const double flops = 2.0 * static_cast<double>(s.m * s.n * s.k);
    const int calls = static_cast<int>(std::max(1.0, 2e8 / flops));
    std::vector<double> times[3], ratios[3];
    for (int round = 0; round < 15; ++round) {
      double t_round[3];
      for (int p = 0; p < 3; ++p) {
        SteadyTimer t;
        t.start();
        for (int c = 0; c < calls; ++c) cpu.linear(x, w[p][static_cast<std::size_t>(c % layers)], b, y);
        t_round[p] = t.stop() / calls;
        times[p].push_back(t_round[p]);
      }
      for (int p = 1; p < 3; ++p) ratios[p].push_back(t_round[p] / t_round[0]);
    }
    do_not_optimize(y.data());
    double median[3];
    for (int p = 0; p < 3; ++p) median[p] = *PercentileStats::summarize(times[p]).median;
    std::string read = "";
    if (s.m == 1) {
      for (int p = 0; p < 3; ++p) {
        read += fmt::format(" {:>6.1f}", static_cast<double>(w[p][0].bytes()) / median[p] / 1e9);
      }
    }
    fmt::print("{:<34}{:>11.3f}{:>14.3f}{:>14.3f}{:>42}\n", s.name, median[0] * 1e3,
               *PercentileStats::summarize(ratios[1]).median, *PercentileStats::summarize(ratios[2]).median, read);
  }
}

}  // namespace

int main() {
#if ACCELBENCH_CPU_GEMM
  const double peak = benchutil::fma_peak_gflops(1);
  fmt::print("gemm_cpu: 1 thread; FMA peak {:.1f} GFLOP/s; tiles of {} rows by {} outputs, {} values of k deep\n",
             peak, detail::GemmSimd::rows, detail::panel_width, detail::gemm_depth);
  fmt::print("{:<34}{:>16}{:>16}{:>12}\n", "y = x wT + b, [m x k] x [k x n]", "gemm_nt GFLOP/s", "Eigen GFLOP/s",
             "time ratio");

  const Shape shapes[] = {{"BERT-base QKV/out, 128 tokens", 128, 768, 768},
                          {"BERT-base up, 128 tokens", 128, 3072, 768},
                          {"BERT-base down, 128 tokens", 128, 768, 3072},
                          {"BERT-base up, 2 x 128 tokens", 256, 3072, 768},
                          {"BERT-base up, 4 x 128 tokens", 512, 3072, 768},
                          {"BERT-base up, 8 x 128 tokens", 1024, 3072, 768},
                          {"BERT-base up, 8 tokens", 8, 3072, 768},
                          {"GPT-2 up, decode", 1, 3072, 768},
                          {"TinyLlama gate+up, decode", 1, 11264, 2048},
                          {"TinyLlama down, decode", 1, 2048, 5632}};
  constexpr int layers = 8;
  for (const Shape& s : shapes) {
    const HostMatrix x = synthetic_tensor("x", s.m, s.k, 1, 0.0f, 1.0f);
    const HostMatrix b = synthetic_tensor("b", 1, s.n, 2, 0.0f, 0.02f);
    // Held as Cpu holds a layer's weights (CpuWeight: on huge pages where granted).
    std::vector<CpuWeight> w;
    std::vector<HostMatrix> row_major;
    for (int l = 0; l < layers; ++l) {
      row_major.push_back(synthetic_tensor("w", s.n, s.k, 3 + l, 0.0f, 0.02f));
      w.emplace_back(row_major.back());
    }
    HostMatrix y(s.m, s.n), reference(s.m, s.n);
    const double flops = 2.0 * static_cast<double>(s.m * s.n * s.k);
    const int calls = static_cast<int>(std::max(1.0, 2e8 / flops));  // about 0.01 s per round
    std::vector<double> ours, eigen, ratios;
    Eigen::setNbThreads(1);
    for (int round = 0; round < 15; ++round) {
      SteadyTimer t;
      t.start();
      for (int c = 0; c < calls; ++c) {
        detail::gemm_nt(x.data(), s.k, w[static_cast<std::size_t>(c % layers)].fp32_data(), b.data(), y.data(), s.n, 0,
                        s.m, 0, s.n, s.k);
      }
      ours.push_back(t.stop() / calls);
      t.start();
      for (int c = 0; c < calls; ++c) {
        reference.rowwise() = b.row(0);  // as Cpu::linear's Eigen path: the bias first, the product added
        reference.noalias() += x * row_major[static_cast<std::size_t>(c % layers)].transpose();
      }
      eigen.push_back(t.stop() / calls);
      ratios.push_back(ours.back() / eigen.back());
    }
    do_not_optimize(y.data());
    do_not_optimize(reference.data());
    const double a = *PercentileStats::summarize(ours).median;
    const double e = *PercentileStats::summarize(eigen).median;
    fmt::print("{:<34}{:>9.1f} ({:.2f}){:>9.1f} ({:.2f}){:>12.3f}\n", s.name, flops / a / 1e9, flops / a / 1e9 / peak,
               flops / e / 1e9, flops / e / 1e9 / peak, *PercentileStats::summarize(ratios).median);
  }
  precision_table(shapes, std::size(shapes));
  // What a decode step's weights are read at: 256 MiB on 2 MiB (transparent
  // huge) pages, where Cpu keeps its weights, and on 4 KiB pages.
  std::vector<double> huge, small;
  for (int round = 0; round < 5; ++round) {
    const auto h = benchutil::read_samples(1, std::uint64_t{256} << 20, 0.3, true);
    const auto p = benchutil::read_samples(1, std::uint64_t{256} << 20, 0.3, false);
    huge.insert(huge.end(), h.begin(), h.end());
    small.insert(small.end(), p.begin(), p.end());
  }
  const double gib = 256.0 * (1 << 20) / 1e9;
  const double th = *PercentileStats::summarize(huge).median, ts = *PercentileStats::summarize(small).median;
  fmt::print("\nreading 256 MiB on 1 thread: huge pages {:.1f} GB/s, 4 KiB pages {:.1f} GB/s, time ratio huge / 4 KiB {:.3f}\n",
             gib / th, gib / ts, th / ts);
#else
  fmt::print("gemm_cpu: no AVX2 or AVX-512 in this build: Cpu::linear is Eigen's product\n");
#endif
  return 0;
}
