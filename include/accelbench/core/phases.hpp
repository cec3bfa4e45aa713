#pragma once

// Phases: parts of one run timed separately (text generation's prefill and
// each decode step). The family names them per cell; its workload records
// each occurrence into a PhaseLog while the Benchmark samples.

#include <chrono>
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

/// Times consecutive phases on the steady clock: each lap() returns the
/// seconds since the previous one (or since construction).
class PhaseClock {
 public:
  PhaseClock() : last_(std::chrono::steady_clock::now()) {}
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_;
};

}  // namespace accelbench
