#pragma once

// accelbench matrix: every family's small presets on every known backend,
// checked against the Cpu reference; writes DIR/compatibility.json and
// DIR/compatibility.md and prints the Markdown table (docs/compatibility.md).

#include <accelbench/suite/compatibility.hpp>
#include <accelbench/suite/suite.hpp>

#include "cli.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace accelbench::matrix_cli {

inline constexpr std::string_view usage = R"(usage: accelbench matrix [options]

Runs each model once per backend on one small cell, compares its outputs with
the cpu reference and writes DIR/compatibility.json and DIR/compatibility.md.

options:
  --backends A,B,...   backends besides the cpu reference (default: every known one)
  --families A,B,...   families (default: all)
  --models A,B,...     presets (default: the smallest preset of each architecture)
  --tolerance X        largest absolute difference counted as ok (default 1e-3)
  --max-time S         sampling time per model and backend at most (default 2)
  --timeout S          a model and backend still running after S seconds is an error
  --threads N          Cpu threads (0: one per logical core)
  --out DIR            results folder (default: results)
  --quiet              no progress lines on standard error
)";

using cli::UsageError;

inline int parse_count(const std::string& flag, const std::string& text) {
  const int v = cli::parse_int(flag, text);
  if (v < 0) throw ConfigError(flag, "\"" + text + "\"", "expected an integer >= 0");
  return v;
}

/// The flag that sets an option field: "backends[1]" -> "--backends".
inline std::string flag_of(const std::string& field) {
  const std::string base = field.substr(0, field.find('['));
  if (base == "max_time_s") return "--max-time";
  if (base == "cell_timeout_s") return "--timeout";
  if (base == "backends" || base == "families" || base == "models" || base == "tolerance" || base == "threads") {
    return "--" + base;
  }
  return field;
}

inline int run(const std::vector<std::string>& args) {
  CompatibilityOptions options;
  std::filesystem::path out_dir = "results";
  bool quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      return 0;
    }
    if (flag == "--quiet") {
      quiet = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + flag + "'");
    if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
    const std::string& value = args[++i];
    if (flag == "--backends") options.backends = cli::split(value);
    else if (flag == "--families") options.families = cli::split(value);
    else if (flag == "--models") options.models = cli::split(value);
    else if (flag == "--tolerance") options.tolerance = cli::parse_number(flag, value);
    else if (flag == "--max-time") options.max_time_s = cli::parse_number(flag, value);
    else if (flag == "--timeout") options.cell_timeout_s = cli::parse_number(flag, value);
    else if (flag == "--threads") options.threads = parse_count(flag, value);
    else if (flag == "--out") {
      if (value.empty()) throw ConfigError(flag, "\"\"", "must name a folder");
      out_dir = value;
    } else throw UsageError("unknown option '" + flag + "'");
  }

  std::size_t done = 0;
  if (!quiet) {
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
    matrix = compatibility_matrix<KnownBackends, KnownFamilies>(options);
  } catch (const ConfigError& e) {
    // Name the command-line flag, keep the explanation.
    const std::string what = e.what();
    const auto colon = what.find(": ");
    throw ConfigError(flag_of(e.field()), e.value(), colon == std::string::npos ? what : what.substr(colon + 2));
  }

  const auto json_path = out_dir / "compatibility.json";
  const auto markdown_path = out_dir / "compatibility.md";
  write_compatibility_json(matrix, json_path);
  write_compatibility_markdown(matrix, markdown_path);
  std::cout << format_compatibility_markdown(matrix) << '\n';
  std::cout << "wrote " << json_path.string() << " and " << markdown_path.string() << '\n';
  for (const auto& r : matrix.rows) {
    if (r.status == CompatibilityStatus::mismatch || r.status == CompatibilityStatus::error) return 3;
  }
  return 0;
}

}  // namespace accelbench::matrix_cli

/// `accelbench matrix ...` (the arguments after the command's name). Exit
/// status 0, or 3 when a row is a mismatch or an error; 2 for a bad argument.
inline int matrix_command(const std::vector<std::string>& args) {
  try {
    return accelbench::matrix_cli::run(args);
  } catch (const accelbench::matrix_cli::UsageError& e) {
    std::cerr << "accelbench matrix: " << e.what() << "\n\n" << accelbench::matrix_cli::usage;
    return 2;
  }
}
