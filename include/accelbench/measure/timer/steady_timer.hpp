#pragma once

#include <chrono>
#include <string_view>

namespace accelbench {

/// Timer policy on std::chrono::steady_clock: wall time, monotonic.
class SteadyTimer {
 public:
  static constexpr std::string_view name = "steady_clock";

  void start() noexcept { start_ = std::chrono::steady_clock::now(); }

  /// Seconds since the last start().
  [[nodiscard]] double stop() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace accelbench
