#pragma once

// Where a reporter's text goes: a stream, or a file written whole.

#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

#include "../detail/atomic_file.hpp"

namespace accelbench::detail {

/// The destination of a reporter that writes one text per report: a file
/// written whole (temporary file, then rename; missing folders created) or
/// a stream, standard output by default.
class ReportOutput {
 public:
  ReportOutput() = default;
  explicit ReportOutput(std::ostream& out) : out_(&out) {}
  explicit ReportOutput(std::filesystem::path path) : path_(std::move(path)) {}

  /// Writes `text` to the file, replacing it, or to the stream, then flushes the stream.
  void write(std::string_view text) const {
    if (path_) {
      write_file_atomically(*path_, text);
    } else {
      out_->write(text.data(), static_cast<std::streamsize>(text.size()));
      out_->flush();
    }
  }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return path_; }

 private:
  std::optional<std::filesystem::path> path_;
  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench::detail
