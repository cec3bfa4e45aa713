#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../detail/table.hpp"
#include "../core/result.hpp"

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

/// A short duration with its unit: ns, us, ms or s.
inline std::string format_duration(double seconds) {
  if (seconds < 1e-6) return fmt::format("{:.1f} ns", seconds * 1e9);
  if (seconds < 1e-3) return fmt::format("{:.2f} us", seconds * 1e6);
  if (seconds < 1) return fmt::format("{:.2f} ms", seconds * 1e3);
  return fmt::format("{:.2f} s", seconds);
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
      if (d.threads > 0) out << fmt::format(", {} thread{}", d.threads, d.threads == 1 ? "" : "s");
      out << threads_above_free_cores(d) << '\n';
    }
    for (const auto& t : r.timers) {
      if (t.available) {
        out << fmt::format("timer {}: resolution {}, {} per call\n", t.name, detail::format_duration(t.resolution_s),
                           detail::format_duration(t.call_cost_s));
      } else {
        out << fmt::format("timer {}: unavailable: {}\n", t.name, t.reason);
      }
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
    bool heading = false;
    for (const auto& m : r.models) {
      if (m.status != "unsupported" && m.status != "unavailable") continue;
      if (!heading) out << "\nnot run:\n";
      heading = true;
      out << fmt::format("  {}{}{}: {}{}\n", m.name, m.family.empty() ? "" : " (" + m.family + ")",
                         m.backend.empty() ? "" : " on " + m.backend, m.status,
                         m.message.empty() ? "" : ": " + m.message);
    }
    for (const auto& c : r.comparisons) {
      out << '\n';
      print_comparison(c);
    }
    if (!r.loading.empty()) {
      out << '\n';
      print_loading(r.loading);
    }
    if (r.build.debug()) {
      out << "\nWARNING: this was a debug or assertion-enabled build; the timings above are not representative\n";
    }
    out.flush();
  }

 private:
  /// " (above the N free cores: ...)" when the device says its threads
  /// exceed the cores other processes left free (the Cpu backend), else "".
  static std::string threads_above_free_cores(const DeviceInfo& d) {
    std::string free, above;
    for (const auto& [key, value] : d.properties) {
      if (key == "free_cores") free = value;
      if (key == "threads_above_free_cores") above = value;
    }
    if (above != "yes") return {};
    return fmt::format(" (above the {} free core{}: the threads share cores with other processes)", free,
                       free == "1" ? "" : "s");
  }

  void print_family(const RunResult& r, const std::string& family, std::vector<std::string>& notes) const {
    using Align = detail::TextTable::Align;
    const CellResult* first = nullptr;
    bool tokens = false, gflops = false, kv_cache = false, rtf = false, device_memory = false, verified = false;
    std::vector<std::pair<std::string, std::string>> phases;  // name, item unit
    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      if (!first) first = &c;
      tokens = tokens || c.throughput.tokens_per_second.has_value();
      gflops = gflops || c.throughput.gflops_per_second.has_value();
      rtf = rtf || c.throughput.real_time_factor.has_value();
      kv_cache = kv_cache || c.memory.kv_cache_bytes.has_value();
      device_memory = device_memory || c.memory.device_peak_bytes.has_value();
      verified = verified || c.verification.status == "ok" || c.verification.status == "mismatch";
      for (const auto& p : c.phases) {
        if (std::none_of(phases.begin(), phases.end(), [&](const auto& q) { return q.first == p.name; })) {
          phases.emplace_back(p.name, p.item_unit);
        }
      }
    }
    detail::TextTable t;
    t.add_column("model", Align::left);
    t.add_column("backend", Align::left);
    for (const auto& a : first->shape) t.add_column(a.name, Align::right);
    t.add_column("status", Align::left);
    t.add_column("median ms", Align::right);
    t.add_column("median CI ms", Align::right);
    for (const char* h : {"p90 ms", "p99 ms", "mean ms", "cv %", "outliers"}) t.add_column(h, Align::right);
    t.add_column(first->throughput.item_unit + "/s", Align::right);
    if (tokens) t.add_column("tokens/s", Align::right);
    if (gflops) t.add_column("GFLOP/s", Align::right);
    if (rtf) t.add_column("RTF", Align::right);
    for (const auto& [name, unit] : phases) {
      t.add_column(name + " ms", Align::right);
      t.add_column(name + " p99 ms", Align::right);
      t.add_column(name + " " + unit + "/s", Align::right);
    }
    if (kv_cache) t.add_column("KV cache MiB", Align::right);
    t.add_column("peak RSS MiB", Align::right);
    t.add_column("avg RSS MiB", Align::right);
    if (device_memory) {
      t.add_column("device peak MiB", Align::right);
      t.add_column("device avg MiB", Align::right);
    }
    t.add_column("first run ms", Align::right);
    t.add_column("load s", Align::right);
    if (verified) t.add_column("max abs error", Align::right);

    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      std::vector<std::string> row{c.model, c.backend};
      for (const auto& a : first->shape) {
        const auto v = c.axis(a.name);
        row.push_back(v ? std::to_string(*v) : "-");
      }
      std::string status(to_string(c.status));
      const bool measured = c.latency.count > 0;
      // Run-wide warnings are printed once, above; notes carry the cell's own.
      std::vector<std::string> own;
      for (const auto& w : c.warnings) {
        if (std::find(r.warnings.begin(), r.warnings.end(), w) == r.warnings.end()) own.push_back(w);
      }
      std::string marks;
      if (!c.message.empty() || !own.empty()) {
        marks = fmt::format(" [{}]", notes.size() + 1);
        std::string shape;
        for (const auto& a : c.shape) shape += fmt::format(" {}={}", a.name, a.value);
        std::string text = fmt::format("[{}] {} on {}{}:", notes.size() + 1, c.model, c.backend, shape);
        if (!c.message.empty()) text += " " + c.message + ";";
        for (const auto& w : own) text += " " + w + ";";
        text.pop_back();
        notes.push_back(std::move(text));
      }
      row.push_back(status + marks);
      if (measured) {
        row.push_back(detail::format_ms(c.latency.median));
        row.push_back(c.latency.median_ci ? detail::format_ms(c.latency.median_ci->low) + "-" +
                                                detail::format_ms(c.latency.median_ci->high)
                                          : std::string("-"));
        row.push_back(detail::format_ms(c.latency.p90));
        row.push_back(detail::format_ms(c.latency.p99));
        row.push_back(detail::format_ms(c.latency.mean));
        row.push_back(fmt::format("{:.1f}", c.latency.cv * 100));
        row.push_back(c.latency.outliers ? std::to_string(c.latency.outliers->total()) : std::string("-"));
        row.push_back(detail::format_rate(c.throughput.items_per_second));
        if (tokens) row.push_back(detail::format_rate(c.throughput.tokens_per_second));
        if (gflops) row.push_back(detail::format_rate(c.throughput.gflops_per_second));
        if (rtf) {
          row.push_back(c.throughput.real_time_factor ? fmt::format("{:.4f}", *c.throughput.real_time_factor)
                                                      : std::string("-"));
        }
        for (const auto& phase : phases) {
          const auto p =
              std::find_if(c.phases.begin(), c.phases.end(), [&](const auto& q) { return q.name == phase.first; });
          if (p == c.phases.end() || p->latency.count == 0) {
            row.insert(row.end(), 3, "-");
            continue;
          }
          row.push_back(detail::format_ms(p->latency.median));
          row.push_back(detail::format_ms(p->latency.p99));
          row.push_back(detail::format_rate(p->items_per_second));
        }
        if (kv_cache) {
          row.push_back(c.memory.kv_cache_bytes ? detail::format_mib(*c.memory.kv_cache_bytes) : std::string("-"));
        }
        row.push_back(detail::format_mib(c.memory.peak_rss_bytes));
        row.push_back(c.memory.average_rss_bytes ? detail::format_mib(*c.memory.average_rss_bytes) : std::string("-"));
        if (device_memory) {
          row.push_back(c.memory.device_peak_bytes ? detail::format_mib(*c.memory.device_peak_bytes) : std::string("-"));
          row.push_back(c.memory.device_average_bytes ? detail::format_mib(*c.memory.device_average_bytes)
                                                      : std::string("-"));
        }
        row.push_back(fmt::format("{:.3f}", c.first_run_s * 1e3));
        row.push_back(fmt::format("{:.3f}", c.load_time_s));
        if (verified) {
          const bool compared = c.verification.status == "ok" || c.verification.status == "mismatch";
          row.push_back(compared ? fmt::format("{:.1e}", c.verification.max_abs_error) : std::string("-"));
        }
      }
      t.add_row(std::move(row));
    }
    *out_ << "family " << family << '\n';
    t.print(*out_);
  }

  void print_comparison(const ComparisonResult& c) const {
    using Align = detail::TextTable::Align;
    auto side = [](const std::string& model, const std::string& backend, const std::string& label) {
      return label.empty() ? fmt::format("{} on {}", model, backend)
                           : fmt::format("{} on {} ({})", model, backend, label);
    };
    *out_ << fmt::format("comparison ({}): a = {}, b = {}; ratio = time a / time b, {} at {:.0f}%\n", c.family,
                         side(c.model_a, c.backend_a, c.label_a), side(c.model_b, c.backend_b, c.label_b), c.test,
                         c.confidence * 100);
    if (c.cells.empty()) return;
    detail::TextTable t;
    for (const auto& a : c.cells.front().shape) t.add_column(a.name, Align::right);
    t.add_column("status", Align::left);
    for (const char* h : {"pairs", "a median ms", "b median ms", "ratio a/b", "interval", "p-value", "significant"}) {
      t.add_column(h, Align::right);
    }
    std::vector<std::string> notes;
    for (const auto& cell : c.cells) {
      std::vector<std::string> row;
      for (const auto& a : cell.shape) row.push_back(std::to_string(a.value));
      std::string status = cell.status;
      if (!cell.message.empty()) {
        notes.push_back(fmt::format("[{}] {}", notes.size() + 1, cell.message));
        status += fmt::format(" [{}]", notes.size());
      }
      row.push_back(status);
      if (cell.pairs > 0) {
        row.push_back(std::to_string(cell.pairs));
        row.push_back(detail::format_ms(cell.median_a_s));
        row.push_back(detail::format_ms(cell.median_b_s));
        row.push_back(fmt::format("{:.3f}", cell.ratio));
        row.push_back(cell.ratio_ci ? fmt::format("{:.3f}-{:.3f}", cell.ratio_ci->low, cell.ratio_ci->high)
                                    : std::string("too few pairs"));
        row.push_back(fmt::format("{:.2g}", cell.p_value));
        row.push_back(cell.significant ? "yes" : "no");
      }
      t.add_row(std::move(row));
    }
    t.print(*out_);
    for (const auto& n : notes) *out_ << n << '\n';
  }

  void print_loading(const std::vector<LoadingResult>& loading) const {
    using Align = detail::TextTable::Align;
    *out_ << "model loading: the models one after another, then all at once on one thread each\n";
    detail::TextTable t;
    t.add_column("family", Align::left);
    t.add_column("backend", Align::left);
    t.add_column("models", Align::left);
    t.add_column("status", Align::left);
    t.add_column("repetitions", Align::right);
    t.add_column("sequential s", Align::right);
    t.add_column("concurrent s", Align::right);
    t.add_column("speedup", Align::right);
    for (const auto& l : loading) {
      std::string models;
      for (const auto& m : l.models) models += (models.empty() ? "" : ", ") + m;
      std::vector<std::string> row{l.family, l.backend, models, l.status + (l.message.empty() ? "" : ": " + l.message)};
      if (l.status == "ok") {
        row.push_back(std::to_string(l.repetitions));
        row.push_back(fmt::format("{:.3f}", l.sequential_median_s));
        row.push_back(fmt::format("{:.3f}", l.concurrent_median_s));
        row.push_back(fmt::format("{:.2f}x", l.speedup));
      }
      t.add_row(std::move(row));
    }
    t.print(*out_);
  }

  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench
