#pragma once

// Timer policy with hardware counters: wall time from steady_clock, plus the
// CPU cycles and instructions the process spent, counted by the kernel
// through perf_event_open (Linux). Counters are opened on every thread the
// process has when the timer is constructed (a backend's worker threads
// included, once they exist) and count user-space work only. Where the kernel
// refuses (no PMU, as in many virtual machines; perf_event_paranoid), the
// timer reports itself unavailable with the reason.

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/result.hpp"

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ACCELBENCH_HAS_PERF_EVENT 1
#else
#define ACCELBENCH_HAS_PERF_EVENT 0
#endif

namespace accelbench {

class PerfCounterTimer {
 public:
  static constexpr std::string_view name = "perf_event";

  /// Whether this process may count cycles and instructions, and if not why.
  [[nodiscard]] static Availability available() {
#if ACCELBENCH_HAS_PERF_EVENT
    Group g;
    std::string why;
    if (!g.open(0, why)) return Availability::no(why);
    g.close();
    return Availability::yes();
#else
    return Availability::no("perf_event_open is a Linux interface");
#endif
  }

  PerfCounterTimer() {
#if ACCELBENCH_HAS_PERF_EVENT
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      const std::string tid = entry.path().filename().string();
      Group g;
      std::string why;
      if (g.open(static_cast<pid_t>(std::stol(tid)), why)) groups_.push_back(std::move(g));
    }
#endif
  }

  PerfCounterTimer(PerfCounterTimer&&) noexcept = default;
  PerfCounterTimer& operator=(PerfCounterTimer&&) noexcept = default;
  PerfCounterTimer(const PerfCounterTimer&) = delete;
  PerfCounterTimer& operator=(const PerfCounterTimer&) = delete;

  /// Threads whose counters are open.
  [[nodiscard]] std::size_t threads_counted() const noexcept { return groups_.size(); }

  void start() noexcept {
    read(start_cycles_, start_instructions_);
    start_ = std::chrono::steady_clock::now();
  }

  [[nodiscard]] double stop() noexcept {
    const auto end = std::chrono::steady_clock::now();
    std::uint64_t cycles = 0, instructions = 0;
    read(cycles, instructions);
    cycles_ = cycles - start_cycles_;
    instructions_ = instructions - start_instructions_;
    return std::chrono::duration<double>(end - start_).count();
  }

  /// Counts of the last sample, over all counted threads.
  [[nodiscard]] std::vector<std::pair<std::string, double>> counters() const {
    return {{"cycles", static_cast<double>(cycles_)}, {"instructions", static_cast<double>(instructions_)}};
  }

 private:
  /// A cycles counter leading an instructions counter, on one thread.
  struct Group {
    int leader = -1;
    int member = -1;

    Group() = default;
    Group(Group&& o) noexcept : leader(std::exchange(o.leader, -1)), member(std::exchange(o.member, -1)) {}
    Group& operator=(Group&& o) noexcept {
      if (this != &o) {
        close();
        leader = std::exchange(o.leader, -1);
        member = std::exchange(o.member, -1);
      }
      return *this;
    }
    ~Group() { close(); }

#if ACCELBENCH_HAS_PERF_EVENT
    static int open_counter(std::uint64_t config, pid_t tid, int group, int& error) {
      perf_event_attr attr{};
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = config;
      attr.exclude_kernel = 1;
      attr.exclude_hv = 1;
      attr.read_format = PERF_FORMAT_GROUP;
      const long fd = syscall(SYS_perf_event_open, &attr, tid, -1, group, 0);
      error = fd < 0 ? errno : 0;
      return static_cast<int>(fd);
    }

    bool open(pid_t tid, std::string& why) {
      int error = 0;
      leader = open_counter(PERF_COUNT_HW_CPU_CYCLES, tid, -1, error);
      if (leader < 0) {
        why = explain("cycles", error);
        return false;
      }
      member = open_counter(PERF_COUNT_HW_INSTRUCTIONS, tid, leader, error);
      if (member < 0) {
        why = explain("instructions", error);
        close();
        return false;
      }
      return true;
    }

    static std::string explain(const char* counter, int error) {
      std::string why = std::string("perf_event_open(") + counter + ") failed: " + std::strerror(error);
      if (error == ENOENT || error == EOPNOTSUPP || error == ENODEV) {
        why += " (the kernel exposes no hardware counter for it: a virtual machine without a virtual PMU?)";
      } else if (error == EACCES || error == EPERM) {
        why += " (not permitted: see /proc/sys/kernel/perf_event_paranoid)";
      }
      return why;
    }
#endif

    void close() noexcept {
#if ACCELBENCH_HAS_PERF_EVENT
      if (member >= 0) ::close(member);
      if (leader >= 0) ::close(leader);
#endif
      member = leader = -1;
    }
  };

  void read(std::uint64_t& cycles, std::uint64_t& instructions) const noexcept {
    cycles = instructions = 0;
#if ACCELBENCH_HAS_PERF_EVENT
    for (const auto& g : groups_) {
      std::uint64_t buf[3] = {0, 0, 0};  // nr, cycles, instructions
      if (::read(g.leader, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf) && buf[0] == 2) {
        cycles += buf[1];
        instructions += buf[2];
      }
    }
#endif
  }

  std::vector<Group> groups_;
  std::chrono::steady_clock::time_point start_{};
  std::uint64_t start_cycles_ = 0, start_instructions_ = 0;
  std::uint64_t cycles_ = 0, instructions_ = 0;
};

}  // namespace accelbench
