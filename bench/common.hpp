#pragma once

// What the benchmarks of accelbench itself share.

#include <accelbench/accelbench.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace benchutil {

/// Seconds per Cpu::linear y = x wᵀ for x [128, 768] and w [3072, 768]
/// (BERT-base's and GPT-2's feed-forward up-projection) on a layer's weight
/// (Cpu::Weight, packed once), on `threads` threads, sampled for at least
/// `seconds` and 20 times.
inline std::vector<double> gemm_samples(int threads, double seconds) {
  using accelbench::HostMatrix;
  accelbench::Cpu cpu{accelbench::Cpu::Options{.threads = threads}};
  const HostMatrix x = accelbench::synthetic_tensor("x", 128, 768, 1, 0.0f, 1.0f);
  const accelbench::Cpu::Weight w(accelbench::synthetic_tensor("w", 3072, 768, 2, 0.0f, 0.02f));
  const HostMatrix none;
  HostMatrix y(128, 3072);
  for (int i = 0; i < 5; ++i) cpu.linear(x, w, none, y);
  std::vector<double> samples;
  accelbench::SteadyTimer total;
  total.start();
  while (total.stop() < seconds || samples.size() < 20) {
    accelbench::SteadyTimer t;
    t.start();
    cpu.linear(x, w, none, y);
    samples.push_back(t.stop());
  }
  return samples;
}

/// Seconds to read `bytes` of floats once with every thread (a vectorised
/// sum over one block per thread): the machine's read bandwidth. The floats
/// are on transparent huge pages where the kernel grants them, as Cpu's
/// weights are (detail/huge_pages.hpp); `huge_pages = false` reads ordinary
/// 4 KiB pages instead.
inline std::vector<double> read_samples(int threads, std::uint64_t bytes, double seconds, bool huge_pages = true) {
  const auto n = static_cast<Eigen::Index>(bytes / sizeof(float));
  std::vector<float, accelbench::detail::HugePageAllocator<float>> huge;
  std::vector<float> plain;
  if (huge_pages) {
    huge.assign(static_cast<std::size_t>(n), 0.5f);
  } else {
    plain.assign(static_cast<std::size_t>(n), 0.5f);
  }
  const Eigen::Map<const Eigen::Matrix<float, 1, Eigen::Dynamic>> data(huge_pages ? huge.data() : plain.data(), n);
  std::vector<float> partial(static_cast<std::size_t>(threads));
  std::vector<double> samples;
  accelbench::SteadyTimer total;
  total.start();
  while (total.stop() < seconds || samples.size() < 10) {
    accelbench::SteadyTimer t;
    t.start();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int i = 0; i < threads; ++i) {
      const Eigen::Index begin = n * i / threads;
      const Eigen::Index end = n * (i + 1) / threads;
      partial[static_cast<std::size_t>(i)] = data.segment(begin, end - begin).sum();
    }
    samples.push_back(t.stop());
    accelbench::do_not_optimize(partial.data());
  }
  return samples;
}

/// The FMA peak of `threads` threads in GFLOP/s: each thread runs twelve
/// independent chains of fused multiply-adds on the widest packet Eigen uses
/// (enough to cover the FMA latency on every x86 core of the last decade),
/// for at least `seconds`; the best of five tries.
inline double fma_peak_gflops(int threads, double seconds = 0.2) {
  using Packet = Eigen::internal::packet_traits<float>::type;
  constexpr int lanes = Eigen::internal::packet_traits<float>::size;
  constexpr int chains = 12;
  constexpr long steps = 1 << 16;
  double best = 0.0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    long rounds = 0;
    accelbench::SteadyTimer t;
    t.start();
#pragma omp parallel num_threads(threads) reduction(+ : rounds)
    {
      Packet acc[chains];
      for (int c = 0; c < chains; ++c) acc[c] = Eigen::internal::pset1<Packet>(1.0f + 1e-3f * static_cast<float>(c));
      const Packet m = Eigen::internal::pset1<Packet>(0.999999f);
      const Packet a = Eigen::internal::pset1<Packet>(1e-7f);
      accelbench::SteadyTimer mine;
      mine.start();
      long done = 0;
      while (mine.stop() < seconds) {
        for (long s = 0; s < steps; ++s) {
          for (int c = 0; c < chains; ++c) acc[c] = Eigen::internal::pmadd(acc[c], m, a);
        }
        ++done;
      }
      Packet sum = acc[0];
      for (int c = 1; c < chains; ++c) sum = Eigen::internal::padd(sum, acc[c]);
      accelbench::do_not_optimize(Eigen::internal::predux(sum));
      rounds = done;
    }
    const double elapsed = t.stop();
    // `rounds` sums every thread's rounds; the wall time covers the slowest.
    best = std::max(best, static_cast<double>(rounds) * steps * chains * lanes * 2.0 / elapsed / 1e9);
  }
  return best;
}

/// The FLOPs of one gemm_samples product.
inline constexpr double gemm_flops = 2.0 * 128 * 768 * 3072;

}  // namespace benchutil
