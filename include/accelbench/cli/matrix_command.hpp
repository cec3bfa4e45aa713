#pragma once

// accelbench matrix: every family's small presets on every backend of the
// registry, checked against the Cpu reference; writes DIR/compatibility.json
// and DIR/compatibility.md and prints the Markdown table
// (docs/compatibility.md).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "../core/error.hpp"
#include "../suite/compatibility.hpp"
#include "../suite/registry.hpp"
#include "parse.hpp"

namespace accelbench::cli {

/// The options of `accelbench matrix`, as given.
struct MatrixFlags {
  std::string backends, families, models, tolerance, max_time, timeout, threads;
  std::string out = "results";
  bool quiet = false;

  /// Adds the options to `cmd`; `Backends` and `Families` name what is known.
  template <class Backends, class Families>
  void add_to(CLI::App& cmd) {
    const CompatibilityOptions d;
    cmd.add_option("--backends", backends,
                   "backends besides the cpu reference (default: every known one: " + detail::names_of(Backends{}) +
                       ")")
        ->type_name("A,B,...");
    cmd.add_option("--families", families, "families (default: all: " + detail::names_of(Families{}) + ")")
        ->type_name("A,B,...");
    cmd.add_option("--models", models, "presets (default: the smallest preset of each architecture)")
        ->type_name("A,B,...");
    cmd.add_option("--tolerance", tolerance,
                   "largest absolute difference counted as ok (default: " + detail::format_number(d.tolerance) + ")")
        ->type_name("X");
    cmd.add_option("--max-time", max_time,
                   "sampling time per model and backend at most (default: " + detail::format_number(d.max_time_s) +
                       ")")
        ->type_name("S");
    cmd.add_option("--timeout", timeout, "a model and backend still running after S seconds is an error, 0 for no limit (default: 0)")
        ->type_name("S");
    cmd.add_option("--threads", threads, "Cpu threads, 0 for one per logical core (default: 0)")->type_name("N");
    cmd.add_option("--out", out, "results folder (default: results)")->type_name("DIR");
    cmd.add_flag("--quiet", quiet, "no progress lines on standard error");
  }

  /// The options as CompatibilityOptions; throws ConfigError naming the flag.
  [[nodiscard]] CompatibilityOptions options() const {
    CompatibilityOptions o;
    if (!backends.empty()) o.backends = split(backends);
    if (!families.empty()) o.families = split(families);
    if (!models.empty()) o.models = split(models);
    if (!tolerance.empty()) o.tolerance = parse_number("--tolerance", tolerance);
    if (!max_time.empty()) o.max_time_s = parse_number("--max-time", max_time);
    if (!timeout.empty()) o.cell_timeout_s = parse_number("--timeout", timeout);
    if (!threads.empty()) {
      o.threads = parse_int("--threads", threads);
      if (o.threads < 0) throw ConfigError("--threads", "\"" + threads + "\"", "expected an integer >= 0");
    }
    if (out.empty()) throw ConfigError("--out", "\"\"", "must name a folder");
    return o;
  }
};

/// The flag that sets an option field: "backends[1]" -> "--backends".
inline std::string matrix_flag_of(const std::string& field) {
  const std::string base = field.substr(0, field.find('['));
  if (base == "max_time_s") return "--max-time";
  if (base == "cell_timeout_s") return "--timeout";
  if (base == "backends" || base == "families" || base == "models" || base == "tolerance" || base == "threads") {
    return "--" + base;
  }
  return field;
}

/// `accelbench matrix`: exit_not_ok when a row is a mismatch or an error.
template <class Backends, class Families>
int matrix_command(const MatrixFlags& flags) {
  CompatibilityOptions options = flags.options();
  const std::filesystem::path out_dir = flags.out;
  std::size_t done = 0;
  if (!flags.quiet) {
    options.on_row = [&](const CompatibilityRow& r) {
      ++done;
      std::string figure;
      if (r.status == CompatibilityStatus::ok || r.status == CompatibilityStatus::mismatch) {
        figure = fmt::format(", max abs error {:.1e}", r.max_abs_error.value_or(0.0));
      }
      if (r.median_s) figure += fmt::format(", median {} ms", detail::format_ms(r.median_s));
      if (!r.reason.empty() && r.status != CompatibilityStatus::mismatch) figure += ": " + r.reason;
      std::cerr << fmt::format("[{}] {} ({}) on {}: {}{}\n", done, r.model, r.family, r.backend, to_string(r.status),
                               figure);
    };
  }

  CompatibilityMatrix matrix;
  try {
    matrix = compatibility_matrix<Backends, Families>(options);
  } catch (const ConfigError& e) {
    // Name the command-line flag, keep the explanation.
    const std::string what = e.what();
    const auto colon = what.find(": ");
    throw ConfigError(matrix_flag_of(e.field()), e.value(),
                      colon == std::string::npos ? what : what.substr(colon + 2));
  }

  const auto json_path = out_dir / "compatibility.json";
  const auto markdown_path = out_dir / "compatibility.md";
  write_compatibility_json(matrix, json_path);
  write_compatibility_markdown(matrix, markdown_path);
  std::cout << format_compatibility_markdown(matrix) << '\n';
  std::cout << "wrote " << json_path.string() << " and " << markdown_path.string() << '\n';
  for (const auto& r : matrix.rows) {
    if (r.status == CompatibilityStatus::mismatch || r.status == CompatibilityStatus::error) return exit_not_ok;
  }
  return exit_ok;
}

}  // namespace accelbench::cli
