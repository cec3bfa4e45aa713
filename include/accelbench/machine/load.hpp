#pragma once

// The machine's load over a cell's sampling phase: the CPU time other
// processes used, the time a hypervisor stole and the load average; and the
// rule that calls the machine busy.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../core/result.hpp"
#include "../detail/proc.hpp"

namespace accelbench {

/// A cell is busy when other work used more than this fraction of the cores
/// the cell could use, beyond the cores it left spare.
inline constexpr double busy_other_cores_fraction = 0.25;
/// ... or when the hypervisor stole more than this share of all CPU time.
inline constexpr double busy_steal_fraction = 0.05;
/// Windows shorter than this are recorded but not judged: the kernel counts
/// CPU time in ticks (10 ms on most systems), too coarse for less.
inline constexpr double busy_min_window_s = 0.2;

/// The counters read at one end of a window.
struct LoadSnapshot {
  std::chrono::steady_clock::time_point at{};
  std::optional<detail::ProcStat> stat;  ///< /proc/stat
  std::optional<double> load_average;    ///< /proc/loadavg, 1 minute
  std::optional<double> own_cpu_s;       ///< this process's CPU time so far
  std::optional<std::vector<int>> allowed_cpus;  ///< the CPUs this process may run on
};

/// The counters now.
[[nodiscard]] inline LoadSnapshot take_load_snapshot() {
  LoadSnapshot s;
  s.own_cpu_s = detail::process_cpu_seconds();
  s.allowed_cpus = detail::allowed_cpus();
  if (const auto text = detail::read_text_file("/proc/stat")) s.stat = detail::parse_proc_stat(*text);
  if (const auto text = detail::read_text_file("/proc/loadavg")) s.load_average = detail::parse_loadavg(*text);
  s.at = std::chrono::steady_clock::now();
  return s;
}

namespace detail {

/// The sum of the counters of `cpus`, or nullopt when one is missing.
inline std::optional<CpuTicks> ticks_of(const ProcStat& stat, const std::vector<int>& cpus) {
  CpuTicks sum;
  for (const int cpu : cpus) {
    const auto it =
        std::find_if(stat.per_cpu.begin(), stat.per_cpu.end(), [&](const auto& p) { return p.first == cpu; });
    if (it == stat.per_cpu.end()) return std::nullopt;
    const CpuTicks& t = it->second;
    for (auto field : {&CpuTicks::user, &CpuTicks::nice, &CpuTicks::system, &CpuTicks::idle, &CpuTicks::iowait,
                       &CpuTicks::irq, &CpuTicks::softirq, &CpuTicks::steal}) {
      sum.*field += t.*field;
    }
  }
  return sum;
}

}  // namespace detail

/// The load between two snapshots, for a cell that could use `cell_threads`
/// cores; nullopt when /proc/stat or the process's CPU time was not read at
/// both ends, the window is empty or a counter went backwards. The CPUs
/// counted are those the process may run on (its affinity when the
/// snapshot has it and /proc/stat lists them all), else every CPU.
[[nodiscard]] inline std::optional<MachineLoad> machine_load_between(const LoadSnapshot& a, const LoadSnapshot& b,
                                                                      int cell_threads) {
  if (!a.stat || !b.stat || !a.own_cpu_s || !b.own_cpu_s) return std::nullopt;
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  detail::CpuTicks x = a.stat->all;
  detail::CpuTicks y = b.stat->all;
  int cores = b.stat->cpus;
  if (b.allowed_cpus && !b.allowed_cpus->empty() && static_cast<int>(b.allowed_cpus->size()) < b.stat->cpus) {
    const auto from = detail::ticks_of(*a.stat, *b.allowed_cpus);
    const auto to = detail::ticks_of(*b.stat, *b.allowed_cpus);
    if (from && to) {
      x = *from;
      y = *to;
      cores = static_cast<int>(b.allowed_cpus->size());
    }
  }
  if (!(wall > 0) || y.busy() < x.busy() || y.total() <= x.total() || y.steal < x.steal) return std::nullopt;
  const double total = static_cast<double>(y.total() - x.total());
  MachineLoad l;
  l.load_average_start = a.load_average;
  l.load_average_end = b.load_average;
  l.logical_cores = cores;
  l.cell_threads = std::max(1, cell_threads);
  l.wall_s = wall;
  l.own_cores = std::max(0.0, *b.own_cpu_s - *a.own_cpu_s) / wall;
  // The busy share of the ticks, in cores, less this process's own use.
  const double busy_cores = static_cast<double>(y.busy() - x.busy()) / total * l.logical_cores;
  l.other_cores = std::max(0.0, busy_cores - l.own_cores);
  l.steal_fraction = std::min(1.0, static_cast<double>(y.steal - x.steal) / total);
  return l;
}

/// Cores other work took that the cell could have used: its use beyond the
/// cores the cell left spare (logical cores less the cell's threads).
[[nodiscard]] inline double contended_cores(const MachineLoad& l) {
  const double spare = std::max(0, l.logical_cores - l.cell_threads);
  return std::max(0.0, l.other_cores - spare);
}

/// Whether the machine was busy over the window: other work took more than
/// busy_other_cores_fraction of the cell's cores, or the hypervisor stole
/// more than busy_steal_fraction; never for windows under busy_min_window_s.
[[nodiscard]] inline bool machine_busy(const MachineLoad& l) {
  if (l.wall_s < busy_min_window_s) return false;
  return contended_cores(l) > busy_other_cores_fraction * std::max(1, l.cell_threads) ||
         l.steal_fraction > busy_steal_fraction;
}

/// The cell's warning when the machine was busy, naming the figures; "" otherwise.
[[nodiscard]] inline std::string busy_warning(const MachineLoad& l) {
  if (!machine_busy(l)) return {};
  const std::string load = l.load_average_end ? fmt::format("{:.1f}", *l.load_average_end) : std::string("unknown");
  return fmt::format(
      "the machine was busy while sampling: load average {} on {} cores, other processes used {:.2f} cores "
      "beside the cell's {} thread{}, steal {:.1f}%",
      load, l.logical_cores, l.other_cores, l.cell_threads, l.cell_threads == 1 ? "" : "s", l.steal_fraction * 100);
}

}  // namespace accelbench
