#pragma once

// What the fuzz targets share: a scratch folder of their own (removed at
// exit, in memory where /dev/shm is writable) and writing an input's bytes as a file there.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace accelbench::fuzz {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    // A memory file system where there is one: each input is a file
    // written and read again, so the disk would bound the executions.
    std::error_code ec;
    std::filesystem::path base = "/dev/shm";
    if (::access(base.c_str(), W_OK) != 0) {
      base = std::filesystem::temp_directory_path(ec);
      if (ec) base = "/tmp";
    }
    path_ = base / ("accelbench-fuzz-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();  // the scratch folder must be writable
}

}  // namespace accelbench::fuzz
