#pragma once

// Timer policies on CPU time: the time the process (all its threads) or the
// calling thread spent running, from POSIX's CPU-time clocks. CPU time of a
// multi-threaded operation is the sum over its threads, so it exceeds wall
// time when the threads run in parallel.

#include <string_view>

#include <time.h>

#include "../../core/result.hpp"

namespace accelbench {

namespace detail {

template <clockid_t Clock>
class PosixCpuTimer {
 public:
  [[nodiscard]] static Availability available() {
    timespec t{};
    if (clock_gettime(Clock, &t) != 0) return Availability::no("clock_gettime refuses this CPU-time clock");
    return Availability::yes();
  }

  void start() noexcept { start_ = now(); }
  [[nodiscard]] double stop() const noexcept { return now() - start_; }

 private:
  static double now() noexcept {
    timespec t{};
    clock_gettime(Clock, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
  double start_ = 0;
};

}  // namespace detail

/// CPU time of the whole process: every thread's, summed.
class ProcessCpuTimer : public detail::PosixCpuTimer<CLOCK_PROCESS_CPUTIME_ID> {
 public:
  static constexpr std::string_view name = "process_cpu_time";
};

/// CPU time of the calling thread only.
class ThreadCpuTimer : public detail::PosixCpuTimer<CLOCK_THREAD_CPUTIME_ID> {
 public:
  static constexpr std::string_view name = "thread_cpu_time";
};

/// The CPU-time timer: process CPU time.
using CpuTimer = ProcessCpuTimer;

}  // namespace accelbench
