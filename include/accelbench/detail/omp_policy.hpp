#pragma once

// OpenMP's wait policy for programs that time the Cpu backend. libgomp's
// threads spin at a barrier before they sleep (OMP_WAIT_POLICY unset: up to
// about 300,000 spins); on a machine where another process holds a core,
// the thread that spins waits for one that is not running, and two threads
// end up slower than one. libgomp reads OMP_WAIT_POLICY only from the
// environment, when the program is loaded: a program that wants the passive
// policy sets it and starts itself again (run_with_passive_omp_wait, which
// `accelbench` calls first thing in main).

#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace accelbench::detail {

inline constexpr const char* omp_wait_policy_variable = "OMP_WAIT_POLICY";

/// Under the passive policy a thread between two parallel regions sleeps,
/// and each region pays for waking it and, at its end, for waking the thread
/// that waited for the last one: on a 2-core virtual machine an empty region
/// of 2 threads takes 50-65 us (0.5 us with the threads spinning). So the
/// Cpu backend opens a region only for work that keeps each thread busy for
/// longer than that: reading region_bytes from memory, or region_flops of
/// arithmetic, per thread (each about 70 us on one core of that machine).
/// A decode step, whose products and attention are small, then wakes the
/// threads only for its large products.
inline constexpr double region_bytes = double(1 << 21);
inline constexpr double region_flops = double(1 << 23);

/// Whether `threads` threads are worth a region for work that reads `bytes`
/// from memory and does `flops` in all.
[[nodiscard]] constexpr bool worth_threads(int threads, double bytes, double flops) noexcept {
  return threads > 1 && (bytes >= threads * region_bytes || flops >= threads * region_flops);
}

/// What a result says when OMP_WAIT_POLICY is unset (or empty).
inline constexpr const char* omp_default_wait_policy = "default (spins before sleeping)";

/// Whether a program should set OMP_WAIT_POLICY=passive and start again,
/// given the variable's value (nullptr when unset): only when it is unset,
/// so that a policy the user chose, whatever it is, is kept.
[[nodiscard]] constexpr bool should_reexec_for_wait_policy(const char* current) noexcept { return current == nullptr; }

/// The wait policy in effect, as results record it: the variable's value,
/// or omp_default_wait_policy when it is unset or empty.
[[nodiscard]] inline std::string omp_wait_policy() {
  const char* v = std::getenv(omp_wait_policy_variable);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(omp_default_wait_policy);
}

/// Makes the program run with OMP_WAIT_POLICY=passive unless the user set
/// the variable: when it is unset, sets it and executes /proc/self/exe again
/// with the same argv (the same process id; this call then never returns).
/// Call it first in main, before any thread starts. Returns when nothing
/// was done (the variable was set, or this is not Linux) or the execution
/// failed: then the variable is unset again (libgomp has read the default)
/// and, unless `quiet`, one line says so on standard error.
inline void run_with_passive_omp_wait(char** argv, bool quiet = false) {
#if defined(__linux__)
  if (argv == nullptr || argv[0] == nullptr) return;
  if (!should_reexec_for_wait_policy(std::getenv(omp_wait_policy_variable))) return;
  if (setenv(omp_wait_policy_variable, "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv(omp_wait_policy_variable);
  if (!quiet) {
    std::fputs("accelbench: could not start again with OMP_WAIT_POLICY=passive; OpenMP threads spin while they "
               "wait\n",
               stderr);
  }
#else
  (void)argv;
  (void)quiet;
#endif
}

}  // namespace accelbench::detail
