#pragma once

// Results as a Markdown report to read and keep: the machine and the build,
// then per family tables with the models as rows and the backends as
// columns, the speedup over the reference backend, the phases, which model
// ran where, and every warning. docs/reports.md shows its layout.

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../machine/device_report.hpp"
#include "console_reporter.hpp"
#include "markdown_tables.hpp"
#include "output.hpp"

namespace accelbench {

namespace detail {

/// Escaped items joined by ", "; `none` where there are none.
[[nodiscard]] inline std::string markdown_list(const std::vector<std::string>& items, const char* none) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + markdown_text(i);
  return out.empty() ? std::string(none) : out;
}

[[nodiscard]] inline std::string markdown_or(const std::string& text, const char* none) {
  return text.empty() ? std::string(none) : markdown_text(text);
}

[[nodiscard]] inline std::string markdown_system(const RunResult& r) {
  const auto& s = r.system;
  const auto& b = r.build;
  const auto& e = r.environment;
  std::string out = "## System\n\n";
  const auto item = [&](const char* key, const std::string& value) { out += fmt::format("- **{}**: {}\n", key, value); };
  item("Host", markdown_or(s.hostname, "unknown"));
  item("OS", markdown_or(s.os, "unknown"));
  item("Kernel", markdown_or(s.kernel, "unknown"));
  item("CPU", markdown_or(s.cpu_model, "unknown") + (s.architecture.empty() ? "" : " (" + markdown_text(s.architecture) + ")"));
  item("CPU features", markdown_list(s.cpu_features, "none reported"));
  item("Cores", fmt::format("{} logical, {} physical", s.logical_cores, s.physical_cores));
  item("Memory", s.memory_bytes ? binary_size(s.memory_bytes) : std::string("unknown"));
  item("Compiler", markdown_or(b.compiler, "unknown"));
  item("Flags", markdown_or(b.flags, "not recorded"));
  item("Build type", markdown_or(b.build_type, "unknown") + (b.optimized ? ", optimized" : ", not optimized") +
                         (b.assertions ? ", assertions on" : ""));
  item("SIMD", markdown_list(b.simd, "none") + (b.eigen_simd.empty() ? "" : " (Eigen: " + markdown_text(b.eigen_simd) + ")"));
  item("OpenMP", b.openmp ? "yes" : "no (the cpu backend runs on one thread)");
  item("Commit", markdown_or(b.git_commit, "unknown"));
  item("Governor", markdown_or(e.governor, "not exposed"));
  item("Boost", e.boost ? (*e.boost ? "on" : "off") : "unknown");
  item("Virtualization", e.virtualized ? markdown_or(e.hypervisor, "yes") : std::string("none detected"));
  item("Clock source", markdown_or(e.clocksource, "unknown"));
  return out;
}

[[nodiscard]] inline std::string markdown_hardware(const RunResult& r) {
  using Align = MarkdownTable::Align;
  std::string out = "## Hardware\n\n";
  if (r.devices.empty()) return out + "No devices were described.\n";
  MarkdownTable t;
  t.add_column("backend");
  t.add_column("device");
  t.add_column("kind");
  t.add_column("compute units", Align::right);
  t.add_column("memory", Align::right);
  t.add_column("threads", Align::right);
  for (const auto& d : r.devices) {
    t.add_row({markdown_text(d.backend), markdown_or(d.name, "unavailable"), markdown_or(d.kind, "-"),
               d.compute_units ? std::to_string(d.compute_units) : "-",
               d.memory_bytes ? binary_size(d.memory_bytes) : "-", d.threads ? std::to_string(d.threads) : "-"});
  }
  return out + t.str();
}

/// A cell's figure in a table of backends: the figure, marked with the
/// status when it is not ok and with "busy"; the status alone where the cell
/// was not timed; empty where there is no cell.
template <class Figure>
[[nodiscard]] std::string markdown_figure(const CellResult* c, Figure figure) {
  if (!c) return "";
  if (c->latency.count == 0) return std::string(to_string(c->status));
  std::string v = figure(*c);
  if (c->status != CellStatus::ok) v += fmt::format(" {}", to_string(c->status));
  if (c->busy) v += " busy";
  return v;
}

/// A table with a row per model and shape and a column per backend.
template <class Figure>
[[nodiscard]] std::string markdown_by_backend(const CellGrid& g, const std::string& title, Figure figure) {
  MarkdownTable t;
  t.add_column("model");
  for (const auto& b : g.backends) t.add_column(markdown_text(b), MarkdownTable::Align::right);
  for (const auto& row : g.rows) {
    std::vector<std::string> cells{markdown_text(row.model + (row.shape.empty() ? "" : " " + shape_label(row.shape)))};
    for (const CellResult* c : row.cells) cells.push_back(markdown_figure(c, figure));
    t.add_row(std::move(cells));
  }
  return "#### " + title + "\n\n" + t.str() + "\n";
}

/// The reference backend's median over each other backend's, per model and
/// shape where both were timed; empty when there is no such pair.
[[nodiscard]] inline std::string markdown_speedup(const CellGrid& g, const std::string& reference) {
  const auto ref = g.column(reference);
  if (!ref || g.backends.size() < 2) return "";
  MarkdownTable t;
  t.add_column("model");
  for (const auto& b : g.backends) {
    if (b != reference) t.add_column(markdown_text(b), MarkdownTable::Align::right);
  }
  const auto median = [](const CellResult* c) -> std::optional<double> {
    if (!c || c->latency.count == 0 || !c->latency.median || *c->latency.median <= 0) return std::nullopt;
    return c->latency.median;
  };
  for (const auto& row : g.rows) {
    const auto base = median(row.cells[*ref]);
    if (!base) continue;
    std::vector<std::string> cells{markdown_text(row.model + (row.shape.empty() ? "" : " " + shape_label(row.shape)))};
    bool any = false;
    for (std::size_t i = 0; i < g.backends.size(); ++i) {
      if (i == *ref) continue;
      const auto other = median(row.cells[i]);
      cells.push_back(other ? format_speedup(*base / *other) : "");
      any = any || other.has_value();
    }
    if (any) t.add_row(std::move(cells));
  }
  if (t.empty()) return "";
  return fmt::format("#### Speedup vs {0}\n\nThe {0} median time over each backend's: above 1, the backend is "
                     "faster than {0}.\n\n{1}\n",
                     markdown_text(reference), t.str());
}

/// The phases of each timed cell that has any: median time and rate per phase.
[[nodiscard]] inline std::string markdown_phases(const RunResult& r, const std::string& family) {
  using Align = MarkdownTable::Align;
  std::vector<std::pair<std::string, std::string>> phases;  // name, item unit
  for (const auto& c : r.cells) {
    if (c.family != family) continue;
    for (const auto& p : c.phases) {
      if (std::none_of(phases.begin(), phases.end(), [&](const auto& q) { return q.first == p.name; })) {
        phases.emplace_back(p.name, p.item_unit);
      }
    }
  }
  if (phases.empty()) return "";
  MarkdownTable t;
  t.add_column("model");
  t.add_column("backend");
  for (const auto& [name, unit] : phases) {
    t.add_column(markdown_text(name + " ms"), Align::right);
    t.add_column(markdown_text(name + " " + unit + "/s"), Align::right);
  }
  for (const auto& c : r.cells) {
    if (c.family != family || c.phases.empty() || c.latency.count == 0) continue;
    std::vector<std::string> row{markdown_text(c.model + (c.shape.empty() ? "" : " " + shape_label(c.shape))),
                                 markdown_text(c.backend)};
    for (const auto& phase : phases) {
      const auto p =
          std::find_if(c.phases.begin(), c.phases.end(), [&](const auto& q) { return q.name == phase.first; });
      const bool timed = p != c.phases.end() && p->latency.count > 0;
      row.push_back(timed ? format_ms(p->latency.median) : "-");
      row.push_back(timed ? format_rate(p->items_per_second) : "-");
    }
    t.add_row(std::move(row));
  }
  if (t.empty()) return "";
  return "#### Phases\n\nMedian time of one occurrence of each phase in ms, and its rate.\n\n" + t.str() + "\n";
}

[[nodiscard]] inline std::string markdown_family(const RunResult& r, const std::string& family) {
  const CellGrid g = cell_grid(r, family);
  std::string out = "### " + markdown_text(family) + "\n\n";
  std::vector<std::string> legend;
  for (const auto& row : g.rows) {
    for (const auto& a : row.shape) {
      if (axis_abbreviation(a.name) != a.name) add_once(legend, fmt::format("{} = {}", axis_abbreviation(a.name), a.name));
    }
  }
  if (!legend.empty()) out += "Shapes: " + markdown_list(legend, "") + ".\n\n";
  std::string unit;
  bool tokens = false;
  for (const auto& c : r.cells) {
    if (c.family != family) continue;
    if (unit.empty()) unit = c.throughput.item_unit;
    tokens = tokens || c.throughput.tokens_per_second.has_value();
  }
  const double confidence = r.settings.confidence;
  out += markdown_by_backend(g, fmt::format("Latency: median ms ({:.0f}% interval)", confidence * 100),
                             [](const CellResult& c) {
                               std::string v = format_ms(c.latency.median);
                               if (c.latency.median_ci) {
                                 v += " (" + format_ms(c.latency.median_ci->low) + "-" +
                                      format_ms(c.latency.median_ci->high) + ")";
                               }
                               return v;
                             });
  out += markdown_by_backend(g, "Throughput: " + markdown_text(unit.empty() ? "items" : unit) + "/s",
                             [](const CellResult& c) { return format_rate(c.throughput.items_per_second); });
  if (tokens && unit != "tokens") {
    out += markdown_by_backend(g, "Throughput: tokens/s",
                               [](const CellResult& c) { return format_rate(c.throughput.tokens_per_second); });
  }
  out += markdown_by_backend(g, "Peak memory: MiB resident (device)", [](const CellResult& c) {
    std::string v = format_mib(c.memory.peak_rss_bytes);
    if (c.memory.device_peak_bytes) v += " (" + format_mib(*c.memory.device_peak_bytes) + ")";
    return v;
  });
  out += markdown_speedup(g, reference_backend(r));
  out += markdown_phases(r, family);
  return out;
}

/// The backends of the whole run in column order (as cell_grid orders a family's).
[[nodiscard]] inline std::vector<std::string> run_backends(const RunResult& r) {
  std::vector<std::string> present;
  for (const auto& c : r.cells) add_once(present, c.backend);
  for (const auto& m : r.models) add_once(present, m.backend);
  std::vector<std::string> out;
  for (const auto& d : r.devices) {
    if (std::find(present.begin(), present.end(), d.backend) != present.end()) add_once(out, d.backend);
  }
  for (const auto& b : present) add_once(out, b);
  return out;
}

/// Model by backend: the status of the model's cells there ("ok", or each
/// status with its count), or the model's own where it has no cells there,
/// with a footnote per distinct message.
[[nodiscard]] inline std::string markdown_compatibility(const RunResult& r) {
  std::vector<std::pair<std::string, std::string>> models;  // family, model
  const auto add_model = [&](const std::string& family, const std::string& model) {
    if (std::find(models.begin(), models.end(), std::pair{family, model}) == models.end()) models.emplace_back(family, model);
  };
  for (const auto& c : r.cells) add_model(c.family, c.model);
  for (const auto& m : r.models) add_model(m.family, m.name);
  if (models.empty()) return "";
  const auto backends = run_backends(r);
  MarkdownTable t;
  t.add_column("family");
  t.add_column("model");
  for (const auto& b : backends) t.add_column(markdown_text(b));
  std::vector<std::string> notes;
  for (const auto& [family, model] : models) {
    std::vector<std::string> row{markdown_text(family), markdown_text(model)};
    for (const auto& backend : backends) {
      std::vector<std::pair<std::string, std::size_t>> statuses;
      std::vector<std::pair<std::string, std::vector<std::string>>> messages;  // message, shapes
      for (const auto& c : r.cells) {
        if (c.family != family || c.model != model || c.backend != backend) continue;
        const std::string status(to_string(c.status));
        auto s = std::find_if(statuses.begin(), statuses.end(), [&](const auto& x) { return x.first == status; });
        if (s == statuses.end()) {
          statuses.emplace_back(status, 1);
        } else {
          ++s->second;
        }
        if (c.message.empty()) continue;
        auto m = std::find_if(messages.begin(), messages.end(), [&](const auto& x) { return x.first == c.message; });
        if (m == messages.end()) m = messages.insert(messages.end(), {c.message, {}});
        m->second.push_back(shape_label(c.shape));
      }
      if (statuses.empty()) {
        for (const auto& m : r.models) {
          if (m.family != family || m.name != model || m.backend != backend || m.status == "ok") continue;
          statuses.emplace_back(m.status, 0);
          if (!m.message.empty()) messages.push_back({m.message, {}});
          break;
        }
      }
      std::string cell;
      for (const auto& [status, count] : statuses) {
        cell += (cell.empty() ? "" : ", ") + markdown_text(status) + (statuses.size() > 1 ? fmt::format(" {}", count) : "");
      }
      for (const auto& [message, shapes] : messages) {
        std::string shape_list;
        for (const auto& s : shapes) shape_list += (shape_list.empty() ? "" : "; ") + s;
        notes.push_back(markdown_text(model + " on " + backend + (shape_list.empty() ? "" : " (" + shape_list + ")") +
                                      ": " + message));
        cell += fmt::format("[^{}]", notes.size());
      }
      row.push_back(cell.empty() ? "-" : cell);
    }
    t.add_row(std::move(row));
  }
  std::string out = "## Compatibility\n\nThe status of each model's cells on each backend (with the count of each "
                    "status where they differ; - where the model did not run there).\n\n" + t.str();
  if (!notes.empty()) out += "\n";
  for (std::size_t i = 0; i < notes.size(); ++i) out += fmt::format("[^{}]: {}\n", i + 1, notes[i]);
  return out;
}

[[nodiscard]] inline std::string markdown_warnings(const RunResult& r) {
  std::string out = "## Warnings\n\n";
  for (const auto& w : r.warnings) out += "- " + markdown_text(w) + "\n";
  std::size_t busy = 0;
  MarkdownTable t;
  t.add_column("family");
  t.add_column("model");
  t.add_column("backend");
  t.add_column("warning");
  for (const auto& c : r.cells) {
    if (c.busy) ++busy;
    for (const auto& w : c.warnings) {
      if (std::find(r.warnings.begin(), r.warnings.end(), w) != r.warnings.end()) continue;
      std::string label = c.model;
      if (!c.shape.empty()) {
        label += ' ';
        label += shape_label(c.shape);
      }
      t.add_row({markdown_text(c.family), markdown_text(label), markdown_text(c.backend), markdown_text(w)});
    }
  }
  if (busy > 0) {
    out += fmt::format("- {} of {} cells were measured while other work took CPU time they could use (marked "
                       "busy in the tables): their times may be too long\n",
                       busy, r.cells.size());
  }
  if (!t.empty()) out += (r.warnings.empty() && busy == 0 ? "" : "\n") + std::string("Warnings of single cells:\n\n") + t.str();
  if (r.warnings.empty() && busy == 0 && t.empty()) out += "None.\n";
  return out;
}

}  // namespace detail

/// The run as a Markdown report: title and time, System, Hardware, Results
/// (per family: latency, throughput and peak memory with a row per model and
/// shape and a column per backend, the speedup over the reference backend,
/// the phases), Compatibility and Warnings. Text from the results is escaped
/// (detail::markdown_text).
[[nodiscard]] inline std::string format_markdown(const RunResult& r) {
  std::string out = "# accelbench report\n\n";
  out += fmt::format("Run from {} to {} with accelbench {}.\n\n", detail::markdown_or(r.started_at, "an unknown time"),
                     detail::markdown_or(r.finished_at, "an unknown time"),
                     detail::markdown_or(r.build.library_version, "(unknown version)"));
  if (r.build.debug()) {
    out += "**Warning: this was a debug or assertion-enabled build; its timings are not representative.**\n\n";
  }
  out += detail::markdown_system(r) + "\n" + detail::markdown_hardware(r) + "\n";
  std::vector<std::string> families;
  for (const auto& c : r.cells) detail::add_once(families, c.family);
  if (!families.empty()) {
    out += "## Results\n\n";
    out += "Times are per run of the workload: the median and its distribution-free interval over the samples. "
           "Throughput counts the items of all timed runs over their time. Peak memory is the process's resident "
           "set (and the device memory the backend held, where it counts it). A cell that was not timed shows "
           "its status.\n\n";
    for (const auto& f : families) out += detail::markdown_family(r, f);
  }
  const std::string compatibility = detail::markdown_compatibility(r);
  if (!compatibility.empty()) out += compatibility + "\n";
  out += detail::markdown_warnings(r);
  return out;
}

/// Reporter policy: results as a Markdown report (format_markdown), to a
/// file written whole or, by default, to standard output.
class MarkdownReporter {
 public:
  MarkdownReporter() = default;
  explicit MarkdownReporter(std::filesystem::path path) : out_(std::move(path)) {}
  explicit MarkdownReporter(std::ostream& out) : out_(out) {}

  void report(const RunResult& result) { out_.write(format_markdown(result)); }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return out_.path(); }

 private:
  detail::ReportOutput out_;
};

}  // namespace accelbench
