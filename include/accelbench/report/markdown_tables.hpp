#pragma once

// The pieces MarkdownReporter builds its report from: escaped text, pipe
// tables, short shape labels and the grid of a family's cells by model,
// shape and backend.

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/json.hpp"
#include "../core/result.hpp"

namespace accelbench::detail {

/// A letter, a digit or a byte of a multi-byte UTF-8 character.
[[nodiscard]] inline bool word_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         static_cast<unsigned char>(ch) >= 0x80;
}

/// `text` as literal Markdown text for a table cell, a list item or a
/// footnote: the characters Markdown would read as syntax (\ | * ` < [ ] &,
/// and _ except inside a word) are escaped with a backslash; a line break or
/// other control character becomes a space; a start that would begin a
/// heading, a list, a quote, a rule or a fence ("# ", "- ", "1. ", ">",
/// "---") is escaped; bytes that are not valid UTF-8 become U+FFFD.
[[nodiscard]] inline std::string markdown_text(std::string_view text) {
  const std::string valid = valid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const char ch = valid[i];
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      out += ' ';
    } else if (std::string_view("\\|*`<[]&").find(ch) != std::string_view::npos) {
      out += '\\';
      out += ch;
    } else if (i == 0 && std::string_view("#>-+=~").find(ch) != std::string_view::npos &&
               (ch == '>' || valid.size() == 1 || valid[1] == ' ' || valid[1] == ch)) {
      out += '\\';
      out += ch;
    } else if (ch == '_' && !(i > 0 && i + 1 < valid.size() && word_char(valid[i - 1]) && word_char(valid[i + 1]))) {
      out += "\\_";  // an underscore inside a word (batch_size) cannot emphasise
    } else {
      out += ch;
    }
  }
  // "1. text" or "1) text" would begin a numbered list.
  const auto digits = out.find_first_not_of("0123456789");
  if (digits != 0 && digits != std::string::npos && (out[digits] == '.' || out[digits] == ')') &&
      (digits + 1 == out.size() || out[digits + 1] == ' ')) {
    out.insert(digits, "\\");
  }
  return out;
}

/// A ratio as "2.00x" (two significant figures below 0.1); "-" when absent.
[[nodiscard]] inline std::string format_speedup(const std::optional<double>& v) {
  if (!v) return "-";
  return *v >= 0.1 ? fmt::format("{:.2f}x", *v) : fmt::format("{:.2g}x", *v);
}

/// A pipe table (GitHub Flavored Markdown). Headers and cells are Markdown
/// as given: escape literal text with markdown_text.
class MarkdownTable {
 public:
  enum class Align { left, right };

  void add_column(std::string header, Align align = Align::left) {
    columns_.push_back({std::move(header), align});
  }
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

  /// The table's lines, each ended by a line feed; a row shorter than the
  /// header is completed with empty cells.
  [[nodiscard]] std::string str() const {
    std::string out = "|";
    for (const auto& c : columns_) out += " " + c.header + " |";
    out += "\n|";
    for (const auto& c : columns_) out += c.align == Align::right ? " ---: |" : " --- |";
    out += "\n";
    for (const auto& row : rows_) {
      out += "|";
      for (std::size_t i = 0; i < columns_.size(); ++i) out += " " + (i < row.size() ? row[i] : std::string()) + " |";
      out += "\n";
    }
    return out;
  }

 private:
  struct Column {
    std::string header;
    Align align;
  };
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// The short name of an axis in row labels (batch_size -> "b"); the name
/// itself for an axis without one.
[[nodiscard]] inline std::string_view axis_abbreviation(std::string_view axis) {
  static constexpr std::pair<std::string_view, std::string_view> known[] = {
      {"batch_size", "b"},  {"sequence_length", "s"}, {"prompt_length", "p"},
      {"new_tokens", "n"},  {"image_size", "img"},    {"image_width", "w"}, {"audio_seconds", "sec"}};
  for (const auto& [name, short_name] : known) {
    if (name == axis) return short_name;
  }
  return axis;
}

/// A shape as "b=1 s=128".
[[nodiscard]] inline std::string shape_label(const std::vector<Axis>& shape) {
  std::string out;
  for (const auto& a : shape) {
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", axis_abbreviation(a.name), a.value);
  }
  return out;
}

[[nodiscard]] inline bool same_shape(const std::vector<Axis>& a, const std::vector<Axis>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Axis& x, const Axis& y) { return x.name == y.name && x.value == y.value; });
}

/// Appends `value` to `list` unless it is there already.
inline void add_once(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

/// A family's cells with a row per model and shape (in order of first
/// appearance) and a column per backend: the run's devices' order, then any
/// other backend in order of appearance.
struct CellGrid {
  struct Row {
    std::string model;
    std::vector<Axis> shape;
    std::vector<const CellResult*> cells;  ///< per backend; null where there is none (the first such cell counts)
  };
  std::vector<std::string> backends;
  std::vector<Row> rows;

  [[nodiscard]] std::optional<std::size_t> column(std::string_view backend) const {
    for (std::size_t i = 0; i < backends.size(); ++i) {
      if (backends[i] == backend) return i;
    }
    return std::nullopt;
  }
};

[[nodiscard]] inline CellGrid cell_grid(const RunResult& r, const std::string& family) {
  CellGrid g;
  std::vector<std::string> present;
  for (const auto& c : r.cells) {
    if (c.family == family) add_once(present, c.backend);
  }
  for (const auto& d : r.devices) {
    if (std::find(present.begin(), present.end(), d.backend) != present.end()) add_once(g.backends, d.backend);
  }
  for (const auto& b : present) add_once(g.backends, b);
  for (const auto& c : r.cells) {
    if (c.family != family) continue;
    auto row = std::find_if(g.rows.begin(), g.rows.end(),
                            [&](const CellGrid::Row& x) { return x.model == c.model && same_shape(x.shape, c.shape); });
    if (row == g.rows.end()) {
      g.rows.push_back({c.model, c.shape, std::vector<const CellResult*>(g.backends.size(), nullptr)});
      row = std::prev(g.rows.end());
    }
    auto& slot = row->cells[*g.column(c.backend)];
    if (!slot) slot = &c;
  }
  return g;
}

/// The backend the others were verified against: that of the cells whose
/// verification says "reference", else the one the others name, else "cpu".
[[nodiscard]] inline std::string reference_backend(const RunResult& r) {
  for (const auto& c : r.cells) {
    if (c.verification.status == "reference") return c.backend;
  }
  for (const auto& c : r.cells) {
    if (!c.verification.reference.empty()) return c.verification.reference;
  }
  return "cpu";
}

}  // namespace accelbench::detail
