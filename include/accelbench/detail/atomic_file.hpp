#pragma once

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace accelbench::detail {

/// Writes `content` to `path` whole or not at all: it goes to a temporary file
/// beside `path`, which is then renamed over it. Missing parent folders are
/// created. A reader never sees a half-written file.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw std::runtime_error("cannot create folder '" + path.parent_path().string() + "': " + ec.message());
    }
  }
  static std::atomic<unsigned> counter{0};
#if defined(__unix__) || defined(__APPLE__)
  const auto pid = static_cast<long>(::getpid());
#else
  const long pid = 0;
#endif
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(pid) + "-" + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot open '" + tmp.string() + "' for writing");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write '" + tmp.string() + "'");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

}  // namespace accelbench::detail
