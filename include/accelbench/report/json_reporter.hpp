#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <utility>

#include "../detail/atomic_file.hpp"
#include "../core/result.hpp"
#include "json.hpp"
#include "output.hpp"

namespace accelbench {

/// Reporter policy: results as JSON (docs/result-schema.md), to a file
/// written whole (temporary file, then rename) or, by default, to standard
/// output.
class JsonReporter {
 public:
  JsonReporter() = default;
  explicit JsonReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit JsonReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(detail::dump_json(to_json(result), 2) + "\n"); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
