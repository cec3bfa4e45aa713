#pragma once

// Timer policy on the x86 time-stamp counter: a cycle counter read in a few
// nanoseconds, converted to seconds by a frequency calibrated against
// steady_clock once per process. Used only where the TSC is invariant
// (CPUID 80000007H:EDX[8]): its rate is then constant whatever the core's
// frequency or sleep state.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../core/result.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define ACCELBENCH_HAS_TSC 1
#else
#define ACCELBENCH_HAS_TSC 0
#endif

namespace accelbench {

class TscTimer {
 public:
  static constexpr std::string_view name = "tsc";

  [[nodiscard]] static Availability available() {
#if ACCELBENCH_HAS_TSC
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) {
      return Availability::no("CPUID does not report whether the TSC is invariant");
    }
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    if ((d & (1u << 8)) == 0) {
      return Availability::no("the TSC is not invariant (CPUID 80000007H:EDX[8] clear): its rate follows the clock");
    }
    return Availability::yes();
#else
    return Availability::no("the time-stamp counter is an x86 feature");
#endif
  }

  /// TSC ticks per second, measured once against steady_clock over about 50 ms.
  [[nodiscard]] static double ticks_per_second() {
    static const double rate = calibrate();
    return rate;
  }

  void start() noexcept { start_ = read_start(); }

  [[nodiscard]] double stop() const noexcept {
    return static_cast<double>(read_stop() - start_) / ticks_per_second();
  }

 private:
  static std::uint64_t read_start() noexcept {
#if ACCELBENCH_HAS_TSC
    _mm_lfence();  // earlier instructions finish before the counter is read
    const std::uint64_t t = __rdtsc();
    _mm_lfence();  // and later ones start after
    return t;
#else
    return 0;
#endif
  }

  static std::uint64_t read_stop() noexcept {
#if ACCELBENCH_HAS_TSC
    unsigned aux = 0;
    const std::uint64_t t = __rdtscp(&aux);  // waits for earlier instructions
    _mm_lfence();
    return t;
#else
    return 0;
#endif
  }

  static double calibrate() {
#if ACCELBENCH_HAS_TSC
    using clock = std::chrono::steady_clock;
    double best = 0;
    // Three 16 ms windows; the rate is the median, robust to one preempted window.
    double rates[3] = {0, 0, 0};
    for (double& r : rates) {
      const auto t0 = clock::now();
      const std::uint64_t c0 = read_start();
      auto t1 = clock::now();
      while (t1 - t0 < std::chrono::milliseconds(16)) t1 = clock::now();
      const std::uint64_t c1 = read_stop();
      r = static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
    }
    best = rates[0] + rates[1] + rates[2] - std::min({rates[0], rates[1], rates[2]}) -
           std::max({rates[0], rates[1], rates[2]});
    return best;
#else
    return 1.0;
#endif
  }

  std::uint64_t start_ = 0;
};

}  // namespace accelbench
