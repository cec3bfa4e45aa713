#pragma once

// Observers of a suite, and measuring on several devices at once
// (Suite::parallel): the suite's backends go into lanes, one per device
// (every backend that runs on the CPU shares the CPU's lane), each lane
// measures on a thread of its own, one cell at a time, and each cell names
// the cells of other lanes that were measured while it was.

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../report/journal.hpp"

namespace accelbench {

/// Observers of a suite's progress, called outside the timed path (with
/// `parallel`, from the lanes' threads, one call at a time).
struct SuiteObserver {
  std::function<void(const CellResult&)> on_cell;
  /// After each model on each backend, with everything measured so far.
  std::function<void(const RunResult&)> on_progress;
  /// Each part as it is done, before it is merged: one model on one backend
  /// (its cells were each given to on_cell before), or a loading benchmark.
  std::function<void(const RunResult&)> on_part;
  /// Cells (as Benchmark::skip_cells gives them) not to run: a resumed run's.
  std::function<bool(const CellResult&)> skip_cell;
  /// Called before each cell is measured (not for an isolated run's cells).
  std::function<void(const CellResult&)> on_cell_start;
  /// Loading benchmarks (family, backend) not to run: a resumed run's.
  std::function<bool(const std::string& family, const std::string& backend)> skip_loading;
};

/// The lane of a device: "cpu" for the CPU (whichever backend drives it:
/// Cpu, OpenCL on PoCL), else its kind and name ("gpu:NVIDIA H200").
[[nodiscard]] inline std::string device_lane(const DeviceInfo& d) {
  return d.kind.empty() || d.kind == "cpu" ? std::string("cpu") : d.kind + ":" + d.name;
}

/// The backends of a suite that measure on one device, one after another.
struct DeviceLane {
  std::string device;                 ///< device_lane()
  std::vector<std::string> backends;  ///< the suite's names
};

namespace detail {

/// Which cells of different lanes were measured at the same time: a cell
/// overlapped every cell of another lane still running when it ended, and
/// every one that ended after it started.
class ConcurrencyTracker {
 public:
  void start(std::size_t lane, const std::string& key) {
    const std::lock_guard lock(mutex_);
    running_[lane] = {key, clock::now()};
  }

  /// Ends lane `lane`'s cell `key`; returns the cells of other lanes that
  /// overlapped it.
  std::vector<std::string> finish(std::size_t lane, const std::string& key) {
    const std::lock_guard lock(mutex_);
    const auto now = clock::now();
    auto mine = running_.find(lane);
    const auto started = mine != running_.end() && mine->second.first == key ? mine->second.second : now;
    if (mine != running_.end()) running_.erase(mine);
    std::vector<std::string> with;
    for (const auto& [other, cell] : running_) {
      if (other != lane) with.push_back(cell.first);
    }
    for (const auto& d : done_) {
      if (d.lane != lane && d.end > started) with.push_back(d.key);
    }
    done_.push_back({lane, key, now});
    return with;
  }

 private:
  using clock = std::chrono::steady_clock;
  struct Done {
    std::size_t lane;
    std::string key;
    clock::time_point end;
  };
  std::mutex mutex_;
  std::map<std::size_t, std::pair<std::string, clock::time_point>> running_;
  std::vector<Done> done_;
};

/// Runs `body(lane, observer, result)` for each of `lanes` lanes on a thread
/// of its own, and merges the lanes' results into `all` in lane order. The
/// observer each lane gets calls `observer` one call at a time and gives
/// each cell the cells of other lanes that ran with it (concurrent_with).
/// An exception in a lane is rethrown once every lane has ended.
template <class Body>
void run_lanes(std::size_t lanes, const SuiteObserver& observer, RunResult& all, Body body) {
  std::mutex calls;
  ConcurrencyTracker tracker;
  std::map<std::string, std::vector<std::string>> concurrent;
  std::vector<RunResult> results(lanes);
  std::vector<std::exception_ptr> errors(lanes);
  std::vector<std::thread> threads;
  for (std::size_t lane = 0; lane < lanes; ++lane) {
    SuiteObserver o = observer;
    o.on_cell_start = [&, lane](const CellResult& c) {
      tracker.start(lane, cell_key(c));
      if (observer.on_cell_start) {
        const std::lock_guard lock(calls);
        observer.on_cell_start(c);
      }
    };
    o.on_cell = [&, lane](const CellResult& c) {
      CellResult tagged = c;
      tagged.concurrent_with = tracker.finish(lane, cell_key(c));
      const std::lock_guard lock(calls);
      concurrent[cell_key(c)] = tagged.concurrent_with;
      if (observer.on_cell) observer.on_cell(tagged);
    };
    const auto serialised = [&](const std::function<void(const RunResult&)>& f) -> std::function<void(const RunResult&)> {
      if (!f) return {};
      return [&calls, f](const RunResult& r) {
        const std::lock_guard lock(calls);
        f(r);
      };
    };
    o.on_part = serialised(observer.on_part);
    o.on_progress = serialised(observer.on_progress);
    threads.emplace_back([&, lane, o = std::move(o)] {
      try {
        body(lane, o, results[lane]);
      } catch (...) {
        errors[lane] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  for (auto& r : results) {
    for (auto& c : r.cells) {
      const auto found = concurrent.find(cell_key(c));
      if (found != concurrent.end()) c.concurrent_with = found->second;
    }
    all.merge(std::move(r));
  }
}

}  // namespace detail

}  // namespace accelbench
