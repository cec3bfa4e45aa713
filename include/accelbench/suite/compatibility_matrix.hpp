#pragma once

// The compatibility matrix as data (a row per model and backend) and its two
// written forms, JSON and Markdown (docs/compatibility.md). Running it is
// compatibility.hpp.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../core/config.hpp"
#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../core/version.hpp"
#include "../detail/atomic_file.hpp"
#include "../machine/system.hpp"
#include "../report/console_reporter.hpp"
#include "../report/json.hpp"
#include "../report/markdown_tables.hpp"

namespace accelbench {

/// What one (model, backend) pair of the matrix came to.
enum class CompatibilityStatus {
  reference,    ///< the Cpu backend: the outputs every other row is compared with
  ok,           ///< ran; outputs within tolerance of the reference
  mismatch,     ///< ran; outputs differ from the reference beyond tolerance
  unsupported,  ///< the backend lacks an op set the family needs (known at compile time)
  unavailable,  ///< the backend cannot run on this machine (B::available() said why)
  error,        ///< the run failed: an exception, a timeout, a failed model load
};

[[nodiscard]] constexpr std::string_view to_string(CompatibilityStatus s) noexcept {
  switch (s) {
    case CompatibilityStatus::reference: return "reference";
    case CompatibilityStatus::ok: return "ok";
    case CompatibilityStatus::mismatch: return "mismatch";
    case CompatibilityStatus::unsupported: return "unsupported";
    case CompatibilityStatus::unavailable: return "unavailable";
    case CompatibilityStatus::error: return "error";
  }
  return "unknown";
}

/// One model on one backend. Figures are empty where they were not measured
/// (every figure of an unsupported, unavailable or failed row; the errors of
/// the reference row).
struct CompatibilityRow {
  std::string family;        ///< e.g. "text-generation"
  std::string architecture;  ///< e.g. "llama"
  std::string model;         ///< preset name
  std::string backend;       ///< backend policy name
  std::string device;        ///< the device's name, where the backend was run
  std::vector<Axis> shape;   ///< the cell that was run
  CompatibilityStatus status = CompatibilityStatus::error;
  std::string reason;        ///< why the row is not ok (empty for ok and reference)
  std::optional<double> max_abs_error;
  std::optional<double> max_rel_error;
  std::optional<double> cosine_similarity;
  std::optional<double> token_agreement;  ///< fraction of greedy tokens equal to the reference's
  std::optional<double> median_s;         ///< median time of one run
  std::optional<double> speedup;          ///< Cpu's median / this backend's median
};

struct CompatibilityMatrix {
  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;
  SystemInfo system;
  BuildInfo build;
  /// The stopping rule every row was run with, and the cell: batch 1 and,
  /// in its sweep, each family's small values of its axes (SweepAxis::small).
  Config settings;
  std::vector<std::string> backends;  ///< in column order, the reference (cpu) first
  std::vector<CompatibilityRow> rows; ///< by family, then model, then backend
};

namespace detail {

inline std::string matrix_cell(std::string text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') {
      out += "\\|";
    } else if (ch == '\n' || ch == '\r') {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

inline std::string format_error(const std::optional<double>& v) {
  return v ? fmt::format("{:.1e}", *v) : std::string("-");
}

inline Json optional_number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? Json(*v) : Json(nullptr);
}

}  // namespace detail

/// The matrix as a Markdown section: a heading, the setup, the devices and
/// one table with a row per model and backend.
[[nodiscard]] inline std::string format_compatibility_markdown(const CompatibilityMatrix& m) {
  const Config& s = m.settings;
  std::string out = "# Compatibility matrix\n\n";
  // The cell: batch_sizes and the families' small axes, as run.
  std::string cell = "batch_sizes " + detail::format_values(s.batch_sizes);
  for (const auto& [axis, values] : s.sweep) cell += "; " + axis + " " + detail::format_values(values);
  const bool verify_only = s.warmup_iterations == 0 && s.max_iterations == 1;
  const std::string runs =
      verify_only ? std::string("one run, not timed (verification only)")
                  : fmt::format("{} warmup run{}, then {} timed runs (fewer when they take over {} s)",
                                s.warmup_iterations, s.warmup_iterations == 1 ? "" : "s", s.min_iterations,
                                detail::format_number(s.max_time_s));
  out += fmt::format(
      "accelbench {}, {}. Each model ran on each backend on one cell ({}; each family runs the axes it "
      "declares): {}. Its outputs were compared "
      "with the {} reference's: ok when the largest absolute difference is at most {}.\n\n",
      version_string, m.started_at, detail::matrix_cell(cell), runs, Cpu::name,
      detail::format_number(s.verify_tolerance));
  std::string devices;
  for (const auto& backend : m.backends) {
    std::string device;
    for (const auto& row : m.rows) {
      if (row.backend == backend && !row.device.empty()) {
        device = row.device;
        break;
      }
    }
    devices += fmt::format("{}`{}`: {}", devices.empty() ? "" : "; ", backend, device.empty() ? "not run" : device);
  }
  if (!devices.empty()) out += "Devices: " + detail::matrix_cell(devices) + ".\n\n";
  out += "| family | architecture | model | backend | status | max abs error | max rel error | cosine | "
         "token agreement | median ms | speed vs cpu | reason |\n";
  out += "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& r : m.rows) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", detail::matrix_cell(r.family),
                       detail::matrix_cell(r.architecture), detail::matrix_cell(r.model),
                       detail::matrix_cell(r.backend), to_string(r.status), detail::format_error(r.max_abs_error),
                       detail::format_error(r.max_rel_error),
                       r.cosine_similarity ? fmt::format("{:.6f}", *r.cosine_similarity) : std::string("-"),
                       r.token_agreement ? fmt::format("{:.2f}", *r.token_agreement) : std::string("-"),
                       detail::format_ms(r.median_s), detail::format_speedup(r.speedup),
                       detail::matrix_cell(r.reason));
  }
  return out;
}

/// The matrix as JSON ("schema": "accelbench.compatibility"), as documented in
/// docs/compatibility.md.
[[nodiscard]] inline Json to_json(const CompatibilityMatrix& m) {
  Json rows = Json::array();
  for (const auto& r : m.rows) {
    rows.push_back(Json{{"family", r.family},
                        {"architecture", r.architecture},
                        {"model", r.model},
                        {"backend", r.backend},
                        {"device", detail::optional_text(r.device)},
                        {"shape", detail::shape_of(r.shape)},
                        {"status", std::string(to_string(r.status))},
                        {"reason", detail::optional_text(r.reason)},
                        {"max_abs_error", detail::optional_number(r.max_abs_error)},
                        {"max_rel_error", detail::optional_number(r.max_rel_error)},
                        {"cosine_similarity", detail::optional_number(r.cosine_similarity)},
                        {"token_agreement", detail::optional_number(r.token_agreement)},
                        {"median_s", detail::optional_number(r.median_s)},
                        {"speedup_vs_cpu", detail::optional_number(r.speedup)}});
  }
  const Config& s = m.settings;
  return Json{{"schema", "accelbench.compatibility"},
              {"schema_version", 1},
              {"library_version", version_string},
              {"started_at", m.started_at},
              {"finished_at", m.finished_at},
              {"system",
               Json{{"hostname", m.system.hostname},
                    {"os", m.system.os},
                    {"cpu_model", m.system.cpu_model},
                    {"logical_cores", m.system.logical_cores}}},
              {"build",
               Json{{"compiler", m.build.compiler}, {"optimized", m.build.optimized}, {"debug", m.build.debug()}}},
              {"settings",
               Json{{"reference", std::string(Cpu::name)},
                    {"tolerance", s.verify_tolerance},
                    {"warmup_iterations", s.warmup_iterations},
                    {"min_iterations", s.min_iterations},
                    {"max_time_s", s.max_time_s},
                    {"cell_timeout_s", s.cell_timeout_s},
                    {"seed", s.seed}}},
              {"backends", m.backends},
              {"rows", std::move(rows)}};
}

/// A row as to_json(CompatibilityMatrix) writes it (a resumed matrix reads
/// its journaled rows back); a status it does not know reads as error.
[[nodiscard]] inline CompatibilityRow compatibility_row_from_json(const Json& j) {
  const auto text = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  const auto number = [&](const char* key) -> std::optional<double> {
    if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
    return j[key].get<double>();
  };
  CompatibilityRow r;
  r.family = text("family");
  r.architecture = text("architecture");
  r.model = text("model");
  r.backend = text("backend");
  r.device = text("device");
  if (j.contains("shape") && j["shape"].is_object()) {
    for (const auto& [name, value] : j["shape"].items()) {
      if (value.is_number_integer()) r.shape.push_back({name, value.get<std::int64_t>()});
    }
  }
  const std::string status = text("status");
  for (auto s : {CompatibilityStatus::reference, CompatibilityStatus::ok, CompatibilityStatus::mismatch,
                 CompatibilityStatus::unsupported, CompatibilityStatus::unavailable, CompatibilityStatus::error}) {
    if (to_string(s) == status) r.status = s;
  }
  r.reason = text("reason");
  r.max_abs_error = number("max_abs_error");
  r.max_rel_error = number("max_rel_error");
  r.cosine_similarity = number("cosine_similarity");
  r.token_agreement = number("token_agreement");
  r.median_s = number("median_s");
  r.speedup = number("speedup_vs_cpu");
  return r;
}

/// Writes the matrix as JSON to `path`, whole or not at all.
inline void write_compatibility_json(const CompatibilityMatrix& m, const std::filesystem::path& path) {
  detail::write_file_atomically(path, detail::dump_json(to_json(m), 2) + "\n");
}

/// Writes format_compatibility_markdown(m) to `path`, whole or not at all.
inline void write_compatibility_markdown(const CompatibilityMatrix& m, const std::filesystem::path& path) {
  detail::write_file_atomically(path, format_compatibility_markdown(m));
}

}  // namespace accelbench
