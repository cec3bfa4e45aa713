#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <utility>

#include "../detail/atomic_file.hpp"
#include "../core/result.hpp"
#include "json.hpp"

namespace accelbench {

/// Reporter policy: results as JSON (docs/result-schema.md), to a file
/// written whole (temporary file, then rename) or, by default, to standard
/// output.
class JsonReporter {
 public:
  JsonReporter() = default;
  explicit JsonReporter(std::filesystem::path path) : path_(std::move(path)) {}
  explicit JsonReporter(std::ostream& out) : out_(&out) {}

  void report(const RunResult& result) {
    const std::string text = detail::dump_json(to_json(result), 2) + "\n";
    if (path_) {
      detail::write_file_atomically(*path_, text);
    } else {
      *out_ << text;
      out_->flush();
    }
  }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return path_; }

 private:
  std::optional<std::filesystem::path> path_;
  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench
