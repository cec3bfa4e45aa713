#pragma once

// Resident memory of the process over an interval, sampled by a background
// thread so that the timed path does no work for it.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "../detail/proc.hpp"

namespace accelbench {

namespace detail {

/// Resident set size from /proc/self/statm (one short read), 0 where absent.
inline std::uint64_t fast_rss_bytes() {
#if defined(__linux__)
  static const long page = sysconf(_SC_PAGESIZE);
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(page) : 0;
#else
  return current_rss_bytes();
#endif
}

}  // namespace detail

struct MemorySamples {
  std::uint64_t average_bytes = 0;  ///< time-weighted mean
  std::uint64_t max_bytes = 0;      ///< largest sample (the kernel's high-water mark can only be higher)
  std::size_t count = 0;
};

/// Samples the resident set every `interval` seconds from construction until
/// finish(). The average weights each sample by the time until the next.
class MemorySampler {
 public:
  explicit MemorySampler(double interval_s) : interval_(interval_s) {
    if (interval_s <= 0) return;
    start_ = clock::now();
    record(start_);
    thread_ = std::thread([this] { loop(); });
  }

  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;
  ~MemorySampler() { (void)finish(); }

  /// Stops sampling (taking one last sample) and returns the figures.
  MemorySamples finish() {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      thread_.join();
      record(clock::now());
    }
    MemorySamples out;
    out.count = count_;
    out.max_bytes = max_;
    const double span = std::chrono::duration<double>(last_time_ - start_).count();
    out.average_bytes = span > 0 ? static_cast<std::uint64_t>(weighted_ / span) : last_;
    return out;
  }

 private:
  using clock = std::chrono::steady_clock;

  void loop() {
    std::unique_lock lock(mutex_);
    const auto period = std::chrono::duration<double>(interval_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      record(clock::now());
      lock.lock();
    }
  }

  void record(clock::time_point now) {
    const std::uint64_t rss = detail::fast_rss_bytes();
    if (count_ > 0) weighted_ += static_cast<double>(last_) * std::chrono::duration<double>(now - last_time_).count();
    last_ = rss;
    last_time_ = now;
    max_ = std::max(max_, rss);
    ++count_;
  }

  double interval_;
  clock::time_point start_{}, last_time_{};
  std::uint64_t last_ = 0, max_ = 0;
  double weighted_ = 0;
  std::size_t count_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace accelbench
