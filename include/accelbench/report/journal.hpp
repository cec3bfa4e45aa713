#pragma once

// The cell journal: each result is appended to a JSON Lines file (and
// flushed to the disk) as soon as it is measured, so that a run killed at
// any point keeps every cell it completed, and `accelbench run --resume`
// continues it without measuring them again. docs/result-schema.md
// describes the format.
//
//   {"schema": "accelbench.journal", "schema_version": 1, "command": "run", ...}   header
//   {"kind": "cell", "key": "embedding/bert-tiny/cpu/batch_size=1,sequence_length=8", "cell": {...}}
//   {"kind": "part", "result": {...}}      a model's or a loading benchmark's results, less its cells
//   {"kind": "row", "key": "...", "row": {...}}   a row of the compatibility matrix
//   {"kind": "comparison_cell", "key": "...", "cell": {...}}

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

#include "../core/json.hpp"
#include "../core/result.hpp"
#include "json.hpp"

namespace accelbench {

inline constexpr const char* journal_schema = "accelbench.journal";
inline constexpr int journal_schema_version = 1;

/// The stable identity of a cell: family, model, backend and its sweep
/// point ("embedding/bert-tiny/cpu/batch_size=1,sequence_length=8"), as
/// valid UTF-8.
[[nodiscard]] inline std::string cell_key(const std::string& family, const std::string& model,
                                          const std::string& backend, const std::vector<Axis>& shape) {
  std::string key = family + "/" + model + "/" + backend + "/";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    key += (i ? "," : "") + shape[i].name + "=" + std::to_string(shape[i].value);
  }
  return detail::valid_utf8(key);
}

[[nodiscard]] inline std::string cell_key(const CellResult& c) { return cell_key(c.family, c.model, c.backend, c.shape); }

/// What a journal file holds: its header, its complete lines after it, and
/// whether its last line was cut short (a run killed while writing it).
struct JournalContents {
  Json header;
  std::vector<Json> entries;
  std::uintmax_t complete_bytes = 0;  ///< where the last complete line ends
  bool truncated = false;             ///< the last line was incomplete and is ignored
  std::string note;                   ///< says so, naming the line
};

/// Reads a journal. An incomplete last line (no newline, or not valid JSON)
/// is left out and reported in `note`; any other bad line, or a file that is
/// not a journal, throws std::runtime_error naming the file and the line.
[[nodiscard]] inline JournalContents read_journal(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open the journal '" + path.string() + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  JournalContents out;
  std::size_t pos = 0;
  std::size_t line_number = 0;
  while (pos < text.size()) {
    ++line_number;
    const std::size_t end = text.find('\n', pos);
    const bool last = end == std::string::npos || end + 1 == text.size();
    const std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    Json j;
    bool ok = end != std::string::npos;
    if (ok) {
      try {
        j = Json::parse(line);
        ok = j.is_object();
      } catch (const Json::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      if (last && line_number > 1) {
        out.truncated = true;
        out.note = "line " + std::to_string(line_number) + " of the journal '" + path.string() +
                   "' is incomplete (the run was ended while writing it) and is ignored";
        break;
      }
      throw std::runtime_error("the journal '" + path.string() + "' has a bad line " + std::to_string(line_number) +
                               (line_number == 1 ? " (its header)" : ""));
    }
    if (line_number == 1) {
      if (!j.contains("schema") || j["schema"] != journal_schema) {
        throw std::runtime_error("'" + path.string() + "' is not an accelbench journal (its first line has no \"schema\": \"" +
                                 journal_schema + "\")");
      }
      if (!j.contains("schema_version") || j["schema_version"] != journal_schema_version) {
        throw std::runtime_error("the journal '" + path.string() + "' has schema_version " +
                                 detail::dump_json(j.value("schema_version", Json(nullptr))) + "; this build reads " +
                                 std::to_string(journal_schema_version));
      }
      out.header = std::move(j);
    } else {
      out.entries.push_back(std::move(j));
    }
    pos = end + 1;
    out.complete_bytes = pos;
  }
  if (out.header.is_null()) throw std::runtime_error("the journal '" + path.string() + "' is empty");
  return out;
}

/// A journal open for appending. Each append writes one line and flushes it
/// to the disk (fsync) before it returns; appends from several threads are
/// serialised, and lock() lets a reader see a state between two appends.
class Journal {
 public:
  Journal() = default;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal() { close(); }

  /// Starts the journal `path` (an empty file, or one created here) with `header`.
  void start(const std::filesystem::path& path, Json header) {
    Json ordered = Json::object();
    ordered["schema"] = journal_schema;
    ordered["schema_version"] = journal_schema_version;
    for (const auto& [k, v] : header.items()) ordered[k] = v;
    open(path, 0);
    header_ = std::move(ordered);
    write_line(header_);
  }

  /// Continues the journal `path` after its last complete line (an
  /// incomplete last line is cut off); returns what it held.
  JournalContents resume(const std::filesystem::path& path) {
    JournalContents contents = read_journal(path);
    open(path, contents.complete_bytes);
    header_ = contents.header;
    entries_ = contents.entries;
    return contents;
  }

  /// Appends an entry (an object with "kind").
  void append(const Json& entry) {
    const std::lock_guard lock(mutex_);
    entries_.push_back(entry);
    write_line(entry);
  }

  void append_cell(const CellResult& c) { append(Json{{"kind", "cell"}, {"key", cell_key(c)}, {"cell", detail::to_json(c)}}); }

  /// A part of the results without its cells (they are journaled one by one).
  void append_part(RunResult part) {
    part.cells.clear();
    append(Json{{"kind", "part"}, {"result", to_json(part)}});
  }

  /// Holds appends back while it lives.
  [[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }
  /// The entries so far (hold lock() while reading them from another thread).
  [[nodiscard]] const std::vector<Json>& entries() const noexcept { return entries_; }
  [[nodiscard]] const Json& header() const noexcept { return header_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// The keys of the entries of `kind`.
  [[nodiscard]] std::set<std::string> keys(const std::string& kind) const {
    std::set<std::string> out;
    for (const auto& e : entries_) {
      if (e.value("kind", "") == kind && e.contains("key")) out.insert(e["key"].get<std::string>());
    }
    return out;
  }

  void close() {
#if defined(__unix__) || defined(__APPLE__)
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
#else
    if (file_) std::fclose(file_);
    file_ = nullptr;
#endif
  }

 private:
  void open(const std::filesystem::path& path, std::uintmax_t keep_bytes) {
    close();
    path_ = path;
#if defined(__unix__) || defined(__APPLE__)
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    // One writer at a time: a second run resuming the same journal is refused.
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      close();
      throw std::runtime_error("the journal '" + path.string() + "' is in use by another run");
    }
    if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
      close();
      throw std::runtime_error("cannot open the journal '" + path.string() + "' for writing");
    }
#else
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) std::filesystem::resize_file(path, keep_bytes, ec);
    file_ = std::fopen(path.string().c_str(), "ab");
    if (!file_) throw std::runtime_error("cannot open the journal '" + path.string() + "' for writing");
#endif
  }

  void write_line(const Json& j) {
    const std::string line = detail::dump_json(j) + "\n";
#if defined(__unix__) || defined(__APPLE__)
    std::size_t done = 0;
    while (done < line.size()) {
      const ::ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("cannot write the journal '" + path_.string() + "'");
      }
      done += static_cast<std::size_t>(n);
    }
    ::fsync(fd_);
#else
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      throw std::runtime_error("cannot write the journal '" + path_.string() + "'");
    }
#endif
  }

  std::filesystem::path path_;
  Json header_;
  std::vector<Json> entries_;
  std::mutex mutex_;
#if defined(__unix__) || defined(__APPLE__)
  int fd_ = -1;
#else
  std::FILE* file_ = nullptr;
#endif
};

namespace detail {

/// Keeps the last of the items of `array` with the same key(item), at the
/// place of the first.
template <class Key>
Json last_of_each(const std::vector<Json>& items, Key key) {
  std::vector<std::string> keys;
  Json out = Json::array();
  for (const auto& item : items) {
    const std::string k = key(item);
    const auto it = std::find(keys.begin(), keys.end(), k);
    if (it == keys.end()) {
      keys.push_back(k);
      out.push_back(item);
    } else {
      out[static_cast<std::size_t>(it - keys.begin())] = item;
    }
  }
  return out;
}

}  // namespace detail

/// The results (docs/result-schema.md) of the journal's entries: `frame`'s
/// system, build, environment, settings and times, with the devices,
/// timers, models, loading benchmarks, warnings and comparisons of its parts
/// and the cells it holds, in the order they were measured (a cell, model
/// or loading benchmark journaled again replaces the earlier one).
[[nodiscard]] inline Json results_from_journal(const RunResult& frame, const std::vector<Json>& entries) {
  Json out = to_json(frame);
  std::vector<Json> cells;
  std::vector<Json> taken[6];
  const char* names[6] = {"devices", "timers", "models", "comparisons", "loading", "warnings"};
  for (const auto& item : out["devices"]) taken[0].push_back(item);
  for (const auto& item : out["timers"]) taken[1].push_back(item);
  for (const auto& item : out["warnings"]) taken[5].push_back(item);
  for (const auto& e : entries) {
    const std::string kind = e.value("kind", "");
    if (kind == "cell" && e.contains("cell")) cells.push_back(e["cell"]);
    if (kind != "part" || !e.contains("result") || !e["result"].is_object()) continue;
    for (int i = 0; i < 6; ++i) {
      const Json& r = e["result"];
      if (!r.contains(names[i]) || !r[names[i]].is_array()) continue;
      for (const auto& item : r[names[i]]) taken[i].push_back(item);
    }
  }
  // What makes two items the same one, as text.
  const auto of = [](std::vector<std::string> fields) {
    return [fields = std::move(fields)](const Json& j) {
      std::string k;
      for (const auto& f : fields) k += (j.is_object() && j.contains(f) ? detail::dump_json(j[f]) : "-") + "/";
      return fields.empty() ? detail::dump_json(j) : k;
    };
  };
  out["devices"] = detail::last_of_each(taken[0], of({"backend"}));
  out["timers"] = detail::last_of_each(taken[1], of({"name"}));
  out["models"] = detail::last_of_each(taken[2], of({"family", "name", "backend"}));
  out["comparisons"] = detail::last_of_each(taken[3], of({}));
  out["loading"] = detail::last_of_each(taken[4], of({"family", "backend"}));
  out["warnings"] = detail::last_of_each(taken[5], of({}));
  out["cells"] = detail::last_of_each(cells, of({"family", "model", "backend", "shape"}));
  return out;
}

}  // namespace accelbench
