#pragma once

// How many logical cores are free now: /proc/stat read twice, 100 ms apart,
// each CPU busy when more than half its time ran something, less the cores
// this process itself used over the same window (its own work does not make
// a core unavailable to it). The Cpu backend sizes its default thread count
// with it: two OpenMP threads on a machine with one free core wait for each
// other at every barrier while one of them is descheduled.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>
#include <vector>

#include "proc.hpp"

namespace accelbench::detail {

/// A CPU counts as busy over a window when more than this share of its time
/// ran something (user, nice, system, irq, softirq or stolen by a hypervisor).
inline constexpr double busy_cpu_share = 0.5;

/// The window free_cores_now() reads /proc/stat over by default.
inline constexpr std::chrono::milliseconds free_cores_window{100};

/// The CPUs busy between two /proc/stat readings, and how many were counted:
/// those of `only` (the process's affinity) when /proc/stat lists them all,
/// else every CPU listed in both. Nothing when a CPU's counters went
/// backwards or no CPU was counted.
struct BusyCpus {
  int counted = 0;
  int busy = 0;
};

[[nodiscard]] inline std::optional<BusyCpus> busy_cpus_between(const ProcStat& before, const ProcStat& after,
                                                                const std::optional<std::vector<int>>& only = {}) {
  const auto find = [](const ProcStat& s, int cpu) -> const CpuTicks* {
    for (const auto& [n, ticks] : s.per_cpu) {
      if (n == cpu) return &ticks;
    }
    return nullptr;
  };
  std::vector<int> cpus;
  if (only && !only->empty()) {
    const bool all_listed = std::all_of(only->begin(), only->end(),
                                        [&](int c) { return find(before, c) && find(after, c); });
    if (all_listed) cpus = *only;
  }
  if (cpus.empty()) {
    for (const auto& [n, ticks] : after.per_cpu) {
      if (find(before, n)) cpus.push_back(n);
    }
  }
  BusyCpus out;
  for (const int cpu : cpus) {
    const CpuTicks& a = *find(before, cpu);
    const CpuTicks& b = *find(after, cpu);
    const std::uint64_t ran_a = a.busy() + a.steal, ran_b = b.busy() + b.steal;
    if (ran_b < ran_a || b.total() < a.total()) return std::nullopt;
    ++out.counted;
    const std::uint64_t total = b.total() - a.total();
    if (total > 0 && static_cast<double>(ran_b - ran_a) > busy_cpu_share * static_cast<double>(total)) ++out.busy;
  }
  if (out.counted == 0) return std::nullopt;
  return out;
}

/// The free cores of `cpus` of which `busy` were busy while this process
/// used `own_cores` cores: the busy ones beyond its own use (rounded) are
/// taken. At least 1, at most cpus.
[[nodiscard]] inline int free_cores_of(int cpus, int busy, double own_cores) {
  const double others = std::max(0.0, static_cast<double>(busy) - std::max(0.0, own_cores));
  const int taken = static_cast<int>(std::lround(others));
  return std::clamp(cpus - taken, 1, std::max(1, cpus));
}

/// The logical cores free now, measured over `window` (it sleeps that
/// long); within [1, hardware_concurrency]. Where /proc/stat or this
/// process's CPU time cannot be read, hardware_concurrency.
[[nodiscard]] inline int free_cores_now(std::chrono::milliseconds window = free_cores_window) {
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const auto read_stat = []() -> std::optional<ProcStat> {
    const auto text = read_text_file("/proc/stat");
    if (!text) return std::nullopt;
    return parse_proc_stat(*text);
  };
  const auto t0 = std::chrono::steady_clock::now();
  const auto own0 = process_cpu_seconds();
  const auto before = read_stat();
  if (!before || !own0) return hw;
  std::this_thread::sleep_for(window);
  const auto after = read_stat();
  const auto own1 = process_cpu_seconds();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!after || !own1 || !(wall > 0)) return hw;
  const auto busy = busy_cpus_between(*before, *after, allowed_cpus());
  if (!busy) return hw;
  const double own_cores = std::max(0.0, *own1 - *own0) / wall;
  return std::clamp(free_cores_of(busy->counted, busy->busy, own_cores), 1, hw);
}

/// free_cores_now(), measured at the first call in this process and kept:
/// what the Cpu backend sizes its threads by and reports.
[[nodiscard]] inline int free_cores_at_first_use() {
  static const int cores = free_cores_now();
  return cores;
}

}  // namespace accelbench::detail
