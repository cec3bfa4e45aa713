#pragma once

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "../detail/table.hpp"
#include "../result.hpp"

namespace accelbench {

namespace detail {

/// Milliseconds with three significant figures or more.
inline std::string format_ms(double seconds) {
  const double ms = seconds * 1e3;
  if (ms < 10) return fmt::format("{:.3f}", ms);
  if (ms < 100) return fmt::format("{:.2f}", ms);
  return fmt::format("{:.1f}", ms);
}

inline std::string format_ms(const std::optional<double>& seconds) {
  return seconds ? format_ms(*seconds) : std::string("-");
}

inline std::string format_rate(double per_second) {
  if (per_second >= 1000) return fmt::format("{:.0f}", per_second);
  if (per_second >= 10) return fmt::format("{:.1f}", per_second);
  return fmt::format("{:.2f}", per_second);
}

inline std::string format_rate(const std::optional<double>& per_second) {
  return per_second ? format_rate(*per_second) : std::string("-");
}

inline std::string format_mib(std::uint64_t bytes) {
  return fmt::format("{:.1f}", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace detail

/// Reporter policy: an aligned table on a stream (standard output by
/// default), one table per model family, with a header describing the
/// machine and build, and notes for failed cells and warnings.
class ConsoleReporter {
 public:
  ConsoleReporter() = default;
  explicit ConsoleReporter(std::ostream& out) : out_(&out) {}

  void report(const RunResult& r) {
    std::ostream& out = *out_;
    out << fmt::format("accelbench {} | {} | {} ({} logical cores) | {} | {}", r.build.library_version, r.system.os,
                       r.system.cpu_model, r.system.logical_cores, r.build.compiler, r.build.build_type);
    if (!r.build.git_commit.empty()) out << " | commit " << r.build.git_commit;
    out << '\n';
    for (const auto& d : r.devices) {
      out << fmt::format("device {}: {}", d.backend, d.name.empty() ? std::string("(unavailable)") : d.name);
      if (d.threads > 0) out << fmt::format(", {} threads", d.threads);
      out << '\n';
    }
    for (const auto& w : r.warnings) out << "WARNING: " << w << '\n';

    std::vector<std::string> families;
    for (const auto& c : r.cells) {
      if (std::find(families.begin(), families.end(), c.family) == families.end()) families.push_back(c.family);
    }
    std::vector<std::string> notes;
    for (const auto& family : families) {
      out << '\n';
      print_family(r, family, notes);
    }
    if (!notes.empty()) {
      out << '\n';
      for (const auto& n : notes) out << n << '\n';
    }
    if (!r.warnings.empty()) {
      out << "\nWARNING: this was a debug or assertion-enabled build; the timings above are not representative\n";
    }
    out.flush();
  }

 private:
  void print_family(const RunResult& r, const std::string& family, std::vector<std::string>& notes) const {
    using Align = detail::TextTable::Align;
    const CellResult* first = nullptr;
    bool tokens = false, gflops = false;
    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      if (!first) first = &c;
      tokens = tokens || c.throughput.tokens_per_second.has_value();
      gflops = gflops || c.throughput.gflops_per_second.has_value();
    }
    detail::TextTable t;
    t.add_column("model", Align::left);
    t.add_column("backend", Align::left);
    for (const auto& a : first->shape) t.add_column(a.name, Align::right);
    t.add_column("status", Align::left);
    for (const char* h : {"median ms", "p90 ms", "p99 ms", "mean ms", "cv %"}) t.add_column(h, Align::right);
    t.add_column(first->throughput.item_unit + "/s", Align::right);
    if (tokens) t.add_column("tokens/s", Align::right);
    if (gflops) t.add_column("GFLOP/s", Align::right);
    t.add_column("peak RSS MiB", Align::right);
    t.add_column("load s", Align::right);

    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      std::vector<std::string> row{c.model, c.backend};
      for (const auto& a : first->shape) {
        const auto v = c.axis(a.name);
        row.push_back(v ? std::to_string(*v) : "-");
      }
      std::string status(to_string(c.status));
      const bool measured = c.status == CellStatus::ok || c.status == CellStatus::mismatch;
      std::string marks;
      if (!c.message.empty() || !c.warnings.empty()) {
        marks = fmt::format(" [{}]", notes.size() + 1);
        std::string shape;
        for (const auto& a : c.shape) shape += fmt::format(" {}={}", a.name, a.value);
        std::string text = fmt::format("[{}] {} on {}{}:", notes.size() + 1, c.model, c.backend, shape);
        if (!c.message.empty()) text += " " + c.message + ";";
        for (const auto& w : c.warnings) text += " " + w + ";";
        text.pop_back();
        notes.push_back(std::move(text));
      }
      row.push_back(status + marks);
      if (measured) {
        row.push_back(detail::format_ms(c.latency.median));
        row.push_back(detail::format_ms(c.latency.p90));
        row.push_back(detail::format_ms(c.latency.p99));
        row.push_back(detail::format_ms(c.latency.mean));
        row.push_back(fmt::format("{:.1f}", c.latency.cv * 100));
        row.push_back(detail::format_rate(c.throughput.items_per_second));
        if (tokens) row.push_back(detail::format_rate(c.throughput.tokens_per_second));
        if (gflops) row.push_back(detail::format_rate(c.throughput.gflops_per_second));
        row.push_back(detail::format_mib(c.memory.peak_rss_bytes));
        row.push_back(fmt::format("{:.3f}", c.load_time_s));
      }
      t.add_row(std::move(row));
    }
    *out_ << "family " << family << '\n';
    t.print(*out_);
  }

  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench
