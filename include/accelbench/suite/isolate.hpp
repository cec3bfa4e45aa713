#pragma once

// Isolated measurement (Suite::isolate, `accelbench run --isolate`): each
// model, its load and its cells, is measured in a child process forked for
// it. The child sends each result to the parent as a JSON line on a pipe:
//
//   {"start": {cell before it runs}}   before each cell
//   {"cell": {cell result}}            after each cell
//   {"part": {the model's results, less its cells}}   at the end
//
// The parent journals what it is sent. When the child dies (a signal, an
// abnormal exit, an exception nothing caught) or its cell runs past
// cell_timeout_s plus a grace period (the parent kills it), the cell it was
// measuring is recorded as crashed, timeout or out_of_memory, and the
// model's other cells are measured in a new child. POSIX only.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../machine/environment.hpp"
#include "../report/journal.hpp"
#include "../report/json.hpp"
#include "../report/json_read.hpp"
#include "../run/benchmark.hpp"
#include "../run/loading.hpp"
#include "../run/resource_pool.hpp"

namespace accelbench {

/// "SIGSEGV" for SIGSEGV, ...; "signal N" for a signal without a name here.
[[nodiscard]] inline std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
#if defined(__unix__) || defined(__APPLE__)
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGALRM: return "SIGALRM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
#endif
    default: return "signal " + std::to_string(sig);
  }
}

/// A number of bytes: digits with an optional suffix K, M, G or T (powers
/// of 1024; "1G" is 1073741824), upper or lower case. Throws ConfigError
/// naming `field` and the text otherwise, or when it does not fit 64 bits.
[[nodiscard]] inline std::uint64_t parse_byte_size(const std::string& field, const std::string& text) {
  const auto bad = [&](const char* problem) { return ConfigError(field, "\"" + text + "\"", problem); };
  std::size_t i = 0;
  std::uint64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) throw bad("too large");
    value = value * 10 + digit;
  }
  if (i == 0) throw bad("expected bytes: an integer with an optional suffix K, M, G or T (powers of 1024)");
  int shift = 0;
  if (i + 1 == text.size()) {
    switch (text[i]) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      case 'T': case 't': shift = 40; break;
      default: throw bad("unknown suffix; expected K, M, G or T (powers of 1024)");
    }
  } else if (i != text.size()) {
    throw bad("expected bytes: an integer with an optional suffix K, M, G or T (powers of 1024)");
  }
  if (shift > 0 && value > (std::numeric_limits<std::uint64_t>::max() >> shift)) throw bad("too large");
  return value << shift;
}

/// Seconds the parent waits past cell_timeout_s before it kills the child
/// measuring a cell: 2 s and a quarter of the limit.
[[nodiscard]] inline double isolation_grace_s(double cell_timeout_s) { return 2.0 + 0.25 * cell_timeout_s; }

/// How a child process ended (its waitpid status, as the parent saw it).
struct ChildEnd {
  int wait_status = 0;
  bool killed_for_time = false;  ///< the parent killed it: its cell ran past the limit
  Json fatal;                    ///< what the child said before it exited on an exception, else null
  bool finished = false;         ///< it sent its part and exited with status 0
};

namespace detail {

inline std::string memory_limit_text(std::uint64_t max_memory) {
  return max_memory > 0 ? "max_memory (" + std::to_string(max_memory) + " bytes)" : "no max_memory";
}

}  // namespace detail

/// The status and message of the cell a child was measuring when it ended
/// as `end` says (not finished): timeout when the parent killed it for time
/// (`limit_s` its cell_timeout_s), out_of_memory when it ran out of memory
/// (std::bad_alloc, or killed by SIGKILL under a max_memory), crashed
/// otherwise ("killed by SIGSEGV", "exited with status 3", ...).
[[nodiscard]] inline std::pair<CellStatus, std::string> child_end_status(const ChildEnd& end, double limit_s,
                                                                         std::uint64_t max_memory) {
  if (end.killed_for_time) {
    return {CellStatus::timeout, "cell_timeout_s (" + detail::format_number(limit_s) +
                                     " s) passed; the process measuring the cell was killed after " +
                                     detail::format_number(limit_s + isolation_grace_s(limit_s)) + " s"};
  }
  if (end.fatal.is_object()) {
    const std::string what = end.fatal.value("message", "");
    if (end.fatal.value("fatal", "") == "out_of_memory") {
      return {CellStatus::out_of_memory, "out of memory under " + detail::memory_limit_text(max_memory) + ": " + what};
    }
    return {CellStatus::crashed, "the process measuring the cell ended on an uncaught exception: " + what};
  }
#if defined(__unix__) || defined(__APPLE__)
  if (WIFSIGNALED(end.wait_status)) {
    const int sig = WTERMSIG(end.wait_status);
    if (sig == SIGKILL && max_memory > 0) {
      return {CellStatus::out_of_memory,
              "killed by SIGKILL, out of memory under " + detail::memory_limit_text(max_memory)};
    }
    return {CellStatus::crashed, "killed by " + signal_name(sig)};
  }
  if (WIFEXITED(end.wait_status)) {
    return {CellStatus::crashed, "the process measuring the cell exited with status " +
                                     std::to_string(WEXITSTATUS(end.wait_status)) + " before it finished"};
  }
#endif
  return {CellStatus::crashed, "the process measuring the cell ended before it finished"};
}

/// A cell of an isolated run that failed for want of memory (std::bad_alloc,
/// caught while it was measured) becomes out_of_memory, naming the limit.
inline void mark_out_of_memory(CellResult& c, std::uint64_t max_memory) {
  if (c.status == CellStatus::failed && c.message.find("bad_alloc") != std::string::npos) {
    c.status = CellStatus::out_of_memory;
    c.message = "out of memory under " + detail::memory_limit_text(max_memory) + ": " + c.message;
  }
}

namespace detail {

/// Runs `body` in a child process (with its address space limited to
/// `max_memory` bytes, when not 0), handing it a function that sends a JSON
/// line to the parent; the parent gives each line to `on_message` and kills
/// the child (SIGKILL) when `deadline` (asked again after each line) passes.
inline ChildEnd run_in_child(const std::function<void(const std::function<void(const Json&)>& send)>& body,
                             std::uint64_t max_memory, const std::function<void(const Json&)>& on_message,
                             const std::function<std::optional<std::chrono::steady_clock::time_point>()>& deadline) {
  ChildEnd end;
#if defined(__unix__) || defined(__APPLE__)
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("isolate: cannot make a pipe");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const ::pid_t parent = ::getpid();
  const ::pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("isolate: cannot fork a process to measure in");
  }
  if (pid == 0) {
    ::close(fds[0]);
    // Interrupts are the parent's to handle; the child ends with it. A
    // crash ends the child with its signal, whatever handler it inherited.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
    for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
#if defined(__linux__)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (::getppid() != parent) ::_exit(120);
    if (max_memory > 0) {
      const ::rlimit limit{static_cast<::rlim_t>(max_memory), static_cast<::rlim_t>(max_memory)};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const int fd = fds[1];
    const auto send = [fd](const Json& j) {
      const std::string line = dump_json(j) + "\n";
      std::size_t done = 0;
      while (done < line.size()) {
        const ::ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::_exit(121);  // the parent is gone
        done += static_cast<std::size_t>(n);
      }
    };
    int code = 0;
    try {
      body(send);
    } catch (const std::bad_alloc& e) {
      code = 3;
      try {
        send(Json{{"fatal", "out_of_memory"}, {"message", e.what()}});
      } catch (...) {
      }
    } catch (const std::exception& e) {
      code = 2;
      try {
        send(Json{{"fatal", "exception"}, {"message", e.what()}});
      } catch (...) {
      }
    } catch (...) {
      code = 2;
      try {
        send(Json{{"fatal", "exception"}, {"message", "unknown exception"}});
      } catch (...) {
      }
    }
    ::_exit(code);  // no destructors or atexit handlers of the parent's state
  }
  ::close(fds[1]);
  std::string buffer;
  char chunk[65536];
  for (;;) {
    int wait_ms = 200;
    const auto due = deadline ? deadline() : std::nullopt;
    if (due) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*due - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid, SIGKILL);
        end.killed_for_time = true;
        break;
      }
      if (left.count() < wait_ms) wait_ms = static_cast<int>(left.count()) + 1;
    }
    ::pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ::ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
      Json message;
      try {
        message = Json::parse(buffer.substr(0, nl));
      } catch (const Json::exception&) {
      }
      buffer.erase(0, nl + 1);
      if (message.is_object()) {
        if (message.contains("fatal")) end.fatal = message;
        on_message(message);
      }
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  end.wait_status = status;
#else
  (void)body, (void)max_memory, (void)on_message, (void)deadline;
  throw std::runtime_error("isolate: measuring in a child process needs fork (POSIX)");
#endif
  return end;
}

/// One model of a suite (`config`) on backend B, measured in child
/// processes as described at the top of this file: the results as
/// Benchmark::run gives them, `on_cell` called in this process for each
/// cell, `skip` as Benchmark::skip_cells.
template <class B, class F, class S, class T, class MakeBackend>
RunResult run_isolated_model(const Config& config, MakeBackend make_backend, std::uint64_t max_memory,
                             const std::function<bool(const CellResult&)>& skip,
                             const std::function<void(const CellResult&)>& on_cell) {
  RunResult result = describe_run();
  result.settings = config;
  const auto preset = detail::preset_for<F>(config);
  std::vector<CellResult> cells;
  for (const auto& cell : detail::cells_for<F>(config, preset)) {
    CellResult c;
    c.model = preset.name;
    c.family = std::string(F::name);
    c.backend = std::string(B::name);
    c.shape = F::axes(cell);
    c.stats = std::string(S::name);
    c.timer = std::string(T::name);
    c.throughput.item_unit = std::string(F::item_unit);
    cells.push_back(std::move(c));
  }
  std::set<std::string> recorded;  // by this process, from any child
  const auto left_out = [&](const CellResult& c) { return recorded.count(cell_key(c)) > 0 || (skip && skip(c)); };
  const auto record = [&](CellResult&& c) {
    recorded.insert(cell_key(c));
    if (on_cell) on_cell(c);
    result.cells.push_back(std::move(c));
  };
  const double limit_s = config.cell_timeout_s;
  for (;;) {
    if (std::all_of(cells.begin(), cells.end(), left_out)) break;
    std::optional<CellResult> running;
    std::optional<std::chrono::steady_clock::time_point> due;
    RunResult part;
    bool got_part = false;
    const auto child = [&](const std::function<void(const Json&)>& send) {
      Benchmark<B, F, S, T> bench{config, make_backend()};
      bench.skip_cells(left_out);
      bench.on_cell_start([&](const CellResult& c) { send(Json{{"start", detail::to_json(c)}}); });
      bench.on_cell([&](const CellResult& c) { send(Json{{"cell", detail::to_json(c)}}); });
      RunResult done = bench.run();
      done.cells.clear();
      send(Json{{"part", to_json(done)}});
    };
    const auto on_message = [&](const Json& m) {
      if (m.contains("start")) {
        running = cell_from_json(m["start"]);
        due.reset();
        if (limit_s > 0) {
          due = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(limit_s + isolation_grace_s(limit_s)));
        }
      } else if (m.contains("cell")) {
        CellResult c = cell_from_json(m["cell"]);
        mark_out_of_memory(c, max_memory);
        running.reset();
        due.reset();
        record(std::move(c));
      } else if (m.contains("part")) {
        read_part_from_json(m["part"], part);
        got_part = true;
      }
    };
    ChildEnd end = run_in_child(child, max_memory, on_message, [&] { return due; });
#if defined(__unix__) || defined(__APPLE__)
    end.finished = got_part && !end.killed_for_time && WIFEXITED(end.wait_status) && WEXITSTATUS(end.wait_status) == 0;
#endif
    if (got_part) {
      // Not RunResult::merge: the model's cells are recorded already.
      for (auto& d : part.devices) result.devices.push_back(std::move(d));
      for (auto& t : part.timers) result.timers.push_back(std::move(t));
      for (auto& m : part.models) result.models.push_back(std::move(m));
      for (auto& w : part.warnings) result.warnings.push_back(std::move(w));
    }
    if (end.finished) break;
    // The cell it was measuring, else (it ended before a cell started,
    // loading the model) the next one.
    const auto first = std::find_if(cells.begin(), cells.end(), [&](const CellResult& c) { return !left_out(c); });
    if (!running && first == cells.end()) break;
    CellResult c = running ? std::move(*running) : *first;
    auto [status, message] = child_end_status(end, limit_s, max_memory);
    c.status = status;
    c.message = running ? std::move(message) : message + " (before the cell started: loading the model)";
    record(std::move(c));
  }
  if (result.models.empty() && !result.cells.empty()) {
    // No child finished (the last one measuring the model died): the model
    // is described here, failed, with how its last cell ended.
    ModelInfo info;
    info.name = preset.name;
    info.family = std::string(F::name);
    info.architecture = std::string(F::architecture(preset));
    info.backend = std::string(B::name);
    info.weights = config.weights.empty() ? "synthetic (seed " + std::to_string(config.seed) + ")"
                                          : "checkpoint " + config.weights;
    info.status = "failed";
    info.message = "the process measuring it ended: " + result.cells.back().message;
    result.models.push_back(std::move(info));
  }
  result.finished_at = utc_timestamp();
  return result;
}

/// One model on backend B: measured by Benchmark in this process, or
/// isolated in child processes (run_isolated_model).
template <class B, class F, class S, class T, class MakeBackend>
RunResult run_model(Config config, MakeBackend make_backend, ResourcePool& pool, bool isolate, std::uint64_t max_memory,
                    const std::function<bool(const CellResult&)>& skip,
                    const std::function<void(const CellResult&)>& on_cell,
                    const std::function<void(const CellResult&)>& on_start = {}) {
  if (isolate) return run_isolated_model<B, F, S, T>(config, make_backend, max_memory, skip, on_cell);
  Benchmark<B, F, S, T> bench{std::move(config), make_backend()};
  bench.share_models(pool);
  if (on_cell) bench.on_cell(on_cell);
  if (on_start) bench.on_cell_start(on_start);
  if (skip) bench.skip_cells(skip);
  return bench.run();
}

/// measure_loading in a child process; nullopt when the backend is not
/// available there (asked in the child: the parent initialises no device
/// before it forks). A child that ends abnormally gives a failed loading
/// benchmark that says how.
template <class F, class B, class MakeBackend>
std::optional<LoadingResult> measure_loading_isolated(const std::vector<std::string>& models, MakeBackend make_backend,
                                                      std::uint64_t seed, int repetitions, std::uint64_t max_memory) {
  std::optional<LoadingResult> got;
  bool unavailable = false;
  const ChildEnd end = run_in_child(
      [&](const std::function<void(const Json&)>& send) {
        if (!B::available()) return send(Json{{"unavailable", true}});
        send(Json{{"loading", detail::to_json(measure_loading<F, B>(models, make_backend, seed, repetitions))}});
      },
      max_memory,
      [&](const Json& m) {
        if (m.contains("loading")) got = loading_from_json(m["loading"]);
        if (m.contains("unavailable")) unavailable = true;
      },
      {});
  if (got || unavailable) return got;
  LoadingResult failed;
  failed.family = std::string(F::name);
  failed.backend = std::string(B::name);
  failed.models = models;
  failed.repetitions = repetitions;
  failed.status = "failed";
  failed.message = child_end_status(end, 0, max_memory).second;
  return failed;
}

}  // namespace detail

}  // namespace accelbench
