// detail::gemm_nt (the Cpu backend's product for linear layers, on the
// weights as loaded) beside Eigen's (which packs both operands on every
// call), on one thread, at the shapes of BERT-base (1 to 8 sequences of 128
// tokens), GPT-2 and a TinyLlama-sized decoder, in alternating rounds in one
// run, with the FMA peak: each product's GFLOP/s, its fraction of the peak
// and the ratio of the times. Eight weight matrices of each shape take
// turns, as a model's layers do, so the weights come from memory rather than
// from the cache of the previous call. Where the ratio is above 1 (a single
// row; more than detail::gemm_nt_max_rows rows) Cpu::linear uses Eigen's.
//
//   bench_gemm_cpu

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include "common.hpp"

#include <vector>

using namespace accelbench;

int main() {
#if ACCELBENCH_CPU_GEMM
  const double peak = benchutil::fma_peak_gflops(1);
  fmt::print("gemm_cpu: 1 thread; FMA peak {:.1f} GFLOP/s; Cpu::linear uses gemm_nt from 2 to {} rows\n", peak,
             detail::gemm_nt_max_rows);
  fmt::print("{:<34}{:>16}{:>16}{:>12}\n", "y = x wT + b, [m x k] x [k x n]", "gemm_nt GFLOP/s", "Eigen GFLOP/s",
             "time ratio");

  struct Shape {
    const char* name;
    Eigen::Index m, n, k;
  };
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
    std::vector<HostMatrix> w;
    for (int l = 0; l < layers; ++l) w.push_back(synthetic_tensor("w", s.n, s.k, 3 + l, 0.0f, 0.02f));
    HostMatrix y(s.m, s.n), reference(s.m, s.n);
    const double flops = 2.0 * static_cast<double>(s.m * s.n * s.k);
    const int calls = static_cast<int>(std::max(1.0, 2e8 / flops));  // about 0.01 s per round
    std::vector<double> ours, eigen, ratios;
    Eigen::setNbThreads(1);
    for (int round = 0; round < 15; ++round) {
      SteadyTimer t;
      t.start();
      for (int c = 0; c < calls; ++c) {
        detail::gemm_nt(x.data(), s.k, w[static_cast<std::size_t>(c % layers)].data(), s.k, b.data(), y.data(), s.n,
                        0, s.m, 0, s.n, s.k);
      }
      ours.push_back(t.stop() / calls);
      t.start();
      for (int c = 0; c < calls; ++c) {
        reference.rowwise() = b.row(0);  // as Cpu::linear's Eigen path: the bias first, the product added
        reference.noalias() += x * w[static_cast<std::size_t>(c % layers)].transpose();
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
#else
  fmt::print("gemm_cpu: no AVX2 or AVX-512 in this build: Cpu::linear is Eigen's product\n");
#endif
  return 0;
}
