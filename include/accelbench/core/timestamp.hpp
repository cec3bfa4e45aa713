#pragma once

// The time of day as results record it.

#include <chrono>
#include <ctime>
#include <string>

namespace accelbench {

/// Now, as ISO 8601 in UTC with a trailing Z.
inline std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
#if defined(_WIN32)
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace accelbench
