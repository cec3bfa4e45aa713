#pragma once

// The engine's side of phase timing: a workload's phased run marks the end of
// each phase, and PhaseTimer synchronises the backend there and reads the
// benchmark's Timer policy, so phases are timed like whole runs.

#include <cstddef>
#include <utility>

#include "../backend/concepts.hpp"
#include "../core/phases.hpp"
#include "../measure/timer/concept.hpp"

namespace accelbench {

template <Backend B, Timer T>
class PhaseTimer {
 public:
  PhaseTimer(B& backend, T timer, PhaseLog& log) : backend_(&backend), timer_(std::move(timer)), log_(&log) {}

  /// Starts the first phase of a run.
  void begin() { timer_.start(); }

  /// Ends phase `phase` (once the backend has finished it) and starts the next.
  void end(std::size_t phase) {
    backend_->synchronize();
    log_->record(phase, timer_.stop());
    timer_.start();
  }

 private:
  B* backend_;
  T timer_;
  PhaseLog* log_;
};

}  // namespace accelbench
