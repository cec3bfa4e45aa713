#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace accelbench::detail {

/// A text table with columns sized to their widest cell.
class TextTable {
 public:
  enum class Align { left, right };

  void add_column(std::string header, Align align) { columns_.push_back({std::move(header), align}); }
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

  void print(std::ostream& out) const {
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      width[c] = columns_[c].header.size();
      for (const auto& row : rows_) {
        if (c < row.size()) width[c] = std::max(width[c], row[c].size());
      }
    }
    auto line = [&](auto&& cell_of) {
      std::string s;
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const std::string& text = cell_of(c);
        if (c > 0) s += "  ";
        s += columns_[c].align == Align::left ? fmt::format("{:<{}}", text, width[c])
                                              : fmt::format("{:>{}}", text, width[c]);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out << s << '\n';
    };
    static const std::string blank;
    line([&](std::size_t c) -> const std::string& { return columns_[c].header; });
    std::string rule;
    for (std::size_t c = 0; c < columns_.size(); ++c) rule += (c ? "  " : "") + std::string(width[c], '-');
    out << rule << '\n';
    for (const auto& row : rows_) {
      line([&](std::size_t c) -> const std::string& { return c < row.size() ? row[c] : blank; });
    }
  }

 private:
  struct Column {
    std::string header;
    Align align;
  };
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace accelbench::detail
