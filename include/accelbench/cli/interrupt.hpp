#pragma once

// What a command does when it is interrupted (SIGINT, Ctrl-C; SIGTERM): a
// watcher thread, woken by the signal handler through a pipe, runs the
// command's last words (write the results file from everything measured so
// far) and ends the process with exit_interrupted, wherever the measuring
// thread is.

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <thread>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#define ACCELBENCH_HAS_INTERRUPT_GUARD 1
#endif

#include "parse.hpp"

namespace accelbench::cli {

namespace interrupt_state {
inline std::atomic<int> pipe_write{-1};
inline std::atomic<int> signal_number{0};

inline void on_signal(int sig) {
  signal_number.store(sig);
  const int fd = pipe_write.load();
  if (fd >= 0) {
    const char byte = 's';
    [[maybe_unused]] const auto n = ::write(fd, &byte, 1);
  }
}
}  // namespace interrupt_state

/// While it lives, SIGINT and SIGTERM run `last_words` on a thread of its
/// own and then end the process with exit_interrupted (130); a second
/// signal during the last words ends it at once. One at a time.
class InterruptGuard {
 public:
  explicit InterruptGuard(std::function<void(int signal)> last_words) : last_words_(std::move(last_words)) {
#ifdef ACCELBENCH_HAS_INTERRUPT_GUARD
    if (::pipe(pipe_) != 0) return;
    ::fcntl(pipe_[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(pipe_[1], F_SETFD, FD_CLOEXEC);
    interrupt_state::pipe_write.store(pipe_[1]);
    watcher_ = std::thread([this] { watch(); });
    struct sigaction action{};
    action.sa_handler = interrupt_state::on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
    installed_ = true;
#endif
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  ~InterruptGuard() {
#ifdef ACCELBENCH_HAS_INTERRUPT_GUARD
    if (!installed_) return;
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    const char byte = 'q';
    [[maybe_unused]] const auto n = ::write(pipe_[1], &byte, 1);
    watcher_.join();
    interrupt_state::pipe_write.store(-1);
    ::close(pipe_[0]);
    ::close(pipe_[1]);
#endif
  }

 private:
#ifdef ACCELBENCH_HAS_INTERRUPT_GUARD
  void watch() {
    for (;;) {
      char byte = 0;
      const auto n = ::read(pipe_[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 'q') return;
      // A second signal now ends the process at once.
      struct sigaction plain{};
      plain.sa_handler = SIG_DFL;
      sigemptyset(&plain.sa_mask);
      ::sigaction(SIGINT, &plain, nullptr);
      ::sigaction(SIGTERM, &plain, nullptr);
      const int sig = interrupt_state::signal_number.load();
      try {
        last_words_(sig);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "accelbench: interrupted, and the results could not be written: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "accelbench: interrupted, and the results could not be written\n");
      }
      std::fflush(stdout);
      std::fflush(stderr);
      ::_exit(exit_interrupted);
    }
  }

  int pipe_[2] = {-1, -1};
  std::thread watcher_;
  struct sigaction old_int_{};
  struct sigaction old_term_{};
  bool installed_ = false;
#endif
  std::function<void(int)> last_words_;
};

}  // namespace accelbench::cli
