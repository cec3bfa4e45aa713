// One and two Cpu threads on the machine as it is, then with a process of
// its own spinning on one core: a BERT-base feed-forward block (linear
// [128 x 768] x [768 x 3072], gelu, linear back to 768, add, layer_norm)
// through the Cpu backend's ops, the thread counts alternating round by
// round. Prints each median and the ratio 2 threads / 1 thread in both
// conditions, with the cores free_cores_now() saw (run it on an idle machine
// for the first to be the quiet case) and OpenMP's wait policy.
// libgomp reads the policy when the program is loaded: compare
//
//   OMP_WAIT_POLICY=passive bench_busy_threads     (accelbench's policy)
//   bench_busy_threads                             (libgomp's default: spin, then sleep)
//
//   bench_busy_threads [rounds]      (default 15; 5 passes per thread count a round)

#include <accelbench/backend/cpu.hpp>
#include <accelbench/detail/free_cores.hpp>
#include <accelbench/detail/omp_policy.hpp>
#include <accelbench/measure/stats/percentile_stats.hpp>
#include <accelbench/model/common/weights.hpp>
#include <accelbench/testing/busy_cores.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace accelbench;

namespace {

/// BERT-base's feed-forward block at batch 1, sequence 128.
struct Block {
  HostMatrix x = synthetic_tensor("x", 128, 768, 1, 0.0f, 1.0f);
  HostMatrix w1 = synthetic_tensor("w1", 3072, 768, 2, 0.0f, 0.02f);
  HostMatrix b1 = synthetic_tensor("b1", 1, 3072, 3, 0.0f, 0.02f);
  HostMatrix w2 = synthetic_tensor("w2", 768, 3072, 4, 0.0f, 0.02f);
  HostMatrix b2 = synthetic_tensor("b2", 1, 768, 5, 0.0f, 0.02f);
  HostMatrix gamma = HostMatrix::Ones(1, 768);
  HostMatrix beta = HostMatrix::Zero(1, 768);
  HostMatrix h, y, out;

  void pass(Cpu& cpu) {
    cpu.linear(x, w1, b1, h);
    cpu.gelu(h);
    cpu.linear(h, w2, b2, y);
    cpu.add(x, y);
    cpu.layer_norm(y, gamma, beta, 1e-12f, out);
  }
};

/// Seconds of each of `passes` passes.
void time_passes(Block& block, Cpu& cpu, int passes, std::vector<double>& samples) {
  for (int i = 0; i < passes; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    block.pass(cpu);
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

double median(std::vector<double> v) { return *PercentileStats::summarize(v).median; }

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  constexpr int passes = 5;
  Cpu one{Cpu::Options{.threads = 1}};
  Cpu two{Cpu::Options{.threads = 2}};
  Block block;
  for (int i = 0; i < 3; ++i) {
    block.pass(one);
    block.pass(two);
  }
  fmt::print("busy_threads: BERT-base feed-forward block [128 x 768] (linear 768->3072, gelu, linear 3072->768, add, "
             "layer_norm)\n");
  fmt::print("  OMP_WAIT_POLICY: {}; {} logical cores; {} rounds of {} passes per thread count\n",
             detail::omp_wait_policy(), std::thread::hardware_concurrency(), rounds, passes);

  for (const bool busy : {false, true}) {
    std::optional<testing::BusyCores> spinner;
    if (busy) {
      spinner.emplace(1, 300);
      if (spinner->count() != 1) {
        fmt::print("  could not start the spinning process\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const int free = detail::free_cores_now();
    std::vector<double> t1, t2;
    for (int r = 0; r < rounds; ++r) {
      // Alternate which goes first, so that neither always follows the other.
      if (r % 2 == 0) {
        time_passes(block, one, passes, t1);
        time_passes(block, two, passes, t2);
      } else {
        time_passes(block, two, passes, t2);
        time_passes(block, one, passes, t1);
      }
    }
    spinner.reset();
    const double m1 = median(t1), m2 = median(t2);
    fmt::print("  {:<37} free cores {}: 1 thread {:7.2f} ms, 2 threads {:7.2f} ms, ratio 2/1 {:.2f}\n",
               busy ? "with a process spinning on one core," : "machine as found (no spinner),", free, m1 * 1e3, m2 * 1e3,
               m2 / m1);
  }
  return 0;
}
