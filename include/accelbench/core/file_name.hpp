#pragma once

// Names that become file names (a suite's name, `--name`) and files that are
// created new, never over another: two runs started in the same second each
// get a file of their own.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

#include "error.hpp"
#include "json.hpp"

namespace accelbench {

/// Checks that `value` can be a part of a file name that stays inside its
/// folder: not empty, no '/' or '\\', no "..", no control character, valid
/// UTF-8.
/// Throws ConfigError naming `field` and the value.
inline void check_file_name(const std::string& field, const std::string& value) {
  const auto fail = [&](const std::string& why) { throw ConfigError(field, "\"" + value + "\"", why); };
  if (value.empty()) fail("must not be empty: it is part of the results file name");
  if (value == "." || value == ".." || value.find("..") != std::string::npos) {
    fail("must not contain \"..\": it is part of the results file name, which stays inside the output folder");
  }
  for (const char ch : value) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == '\\') {
      fail("must not contain '/' or '\\': it is part of the results file name, which stays inside the output folder");
    }
    if (byte < 0x20 || byte == 0x7f) fail("must not contain control characters");
  }
  if (detail::valid_utf8(value) != value) fail("must be valid UTF-8");
}

namespace detail {

/// Creates `path` as a new, empty file; false when something of that name
/// exists already (O_CREAT | O_EXCL: of two processes, one wins). Throws
/// std::runtime_error when the folder cannot be written.
inline bool create_new_file(const std::filesystem::path& path) {
#if defined(__unix__) || defined(__APPLE__)
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw std::runtime_error("cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  ::close(fd);
  return true;
#else
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return false;
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create '" + path.string() + "'");
  std::fclose(f);
  return true;
#endif
}

/// Creates the folder `dir` (and its parents) if needed and checks that a
/// file can be created in it; throws std::runtime_error saying why not.
inline void prepare_output_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw std::runtime_error("cannot create the output folder '" + dir.string() + "'" +
                             (ec ? ": " + ec.message() : std::string(": not a folder")));
  }
}

/// Claims a new base name `dir/stem`, `dir/stem-2`, `dir/stem-3`, ... : the
/// first for which the file base + `claim_suffix` could be created new, and
/// no file base + each of `others` exists. Returns the base (without
/// suffix); the claim file is left in place, created empty.
inline std::filesystem::path claim_unique_name(const std::filesystem::path& dir, const std::string& stem,
                                               const std::string& claim_suffix,
                                               std::initializer_list<std::string_view> others = {}) {
  for (int n = 1; n < 100000; ++n) {
    const std::filesystem::path base = dir / (n == 1 ? stem : stem + "-" + std::to_string(n));
    bool taken = false;
    for (const auto other : others) {
      std::error_code ec;
      if (std::filesystem::exists(base.string() + std::string(other), ec)) taken = true;
    }
    if (taken) continue;
    if (create_new_file(base.string() + claim_suffix)) return base;
  }
  throw std::runtime_error("cannot find a free file name for '" + (dir / stem).string() + "'");
}

}  // namespace detail

}  // namespace accelbench
