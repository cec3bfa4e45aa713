#pragma once

// Phases: parts of one run timed separately (text generation's prefill and
// each decode step). The family names them per cell; its workload marks the
// end of each occurrence, and the engine times them with the benchmark's
// Timer policy into a PhaseLog (run/phase_timer.hpp).

#include <concepts>
#include <cstddef>
#include <string>
#include <vector>

namespace accelbench {

/// One phase of a cell: its name, what one occurrence processes, and how
/// often it occurs per run.
struct PhaseSpec {
  std::string name;
  std::string item_unit;
  double items = 0;
  std::size_t per_run = 1;
};

/// Durations of each phase's occurrences, by the phase's index in the
/// family's list.
class PhaseLog {
 public:
  explicit PhaseLog(std::size_t phases = 0) : samples_(phases) {}

  void record(std::size_t phase, double seconds) { samples_.at(phase).push_back(seconds); }
  [[nodiscard]] const std::vector<double>& samples(std::size_t phase) const { return samples_.at(phase); }
  [[nodiscard]] std::size_t size() const noexcept { return samples_.size(); }

 private:
  std::vector<std::vector<double>> samples_;
};

/// What a workload's phased run calls: end(i) when phase i has been issued.
/// The engine's implementation waits for the backend and reads the Timer
/// there; the workload itself neither synchronises nor reads a clock.
template <class P>
concept PhaseMarks = requires(P& p, std::size_t phase) { p.end(phase); };

/// Marks that are ignored: a run whose phases are not being timed.
struct NoPhaseMarks {
  constexpr void end(std::size_t) const noexcept {}
};

}  // namespace accelbench
