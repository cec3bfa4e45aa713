#pragma once

// Other processes keeping cores busy, for checking how a backend and its
// thread count behave on a shared machine (accelbench's own tests of the
// free-core count and bench/busy_threads.cpp use it): each is a child
// process that spins until it is killed, and for `limit_s` seconds at most,
// so that none outlives a parent that crashed. POSIX only (fork).
//
//   accelbench::testing::BusyCores busy(1);   // one core taken from here on
//   ... time the backend ...
//                                            // killed and reaped at the scope's end

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

namespace accelbench::testing {

class BusyCores {
 public:
  /// Starts `n` spinning processes; count() says how many started (fork
  /// may fail).
  explicit BusyCores(int n, int limit_s = 60) {
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid == 0) spin(limit_s);
      if (pid > 0) pids_.push_back(pid);
    }
  }
  BusyCores(const BusyCores&) = delete;
  BusyCores& operator=(const BusyCores&) = delete;
  /// Kills the processes and waits for them.
  ~BusyCores() {
    for (const pid_t pid : pids_) kill(pid, SIGKILL);
    for (const pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  [[nodiscard]] std::size_t count() const noexcept { return pids_.size(); }

 private:
  // The child: only async-signal-safe calls, since the parent may have
  // threads.
  [[noreturn]] static void spin(int limit_s) {
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile unsigned long spins = 0;
    do {
      for (int k = 0; k < 100000; ++k) spins = spins + 1;
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < limit_s);
    _exit(0);
  }

  std::vector<pid_t> pids_;
};

}  // namespace accelbench::testing
