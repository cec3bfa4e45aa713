#pragma once

// accelbench matrix: every family's small presets on every backend of the
// registry, checked against the Cpu reference; writes DIR/compatibility.json
// and DIR/compatibility.md and prints the Markdown table
// (docs/compatibility.md).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "../core/error.hpp"
#include "../core/file_name.hpp"
#include "../report/journal.hpp"
#include "../suite/compatibility.hpp"
#include "../suite/registry.hpp"
#include "interrupt.hpp"
#include "parse.hpp"
#include "run_commands.hpp"

namespace accelbench::cli {

/// The options of `accelbench matrix`, as given.
struct MatrixFlags {
  std::string backends, families, models, tolerance, max_time, timeout, threads;
  std::string out = "results";
  bool quiet = false;
  std::string resume;  ///< the journal of a matrix to continue
  std::string output;  ///< -o: md (default) or json on standard output
  bool verify_only = false;                    ///< run --verify-only: each pair once, no timing
  bool explicit_models = false;                ///< `models` lists every model, even when empty
  std::vector<UnsupportedModel> unsupported;   ///< run --models-set: members not implemented

  /// The options that decide the rows, as recorded in the journal's header.
  [[nodiscard]] Json recorded() const {
    return Json{{"backends", backends}, {"families", families}, {"models", models}, {"tolerance", tolerance},
                {"max_time", max_time}, {"timeout", timeout},   {"threads", threads}};
  }

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
    cmd.add_option("--threads", threads, "Cpu threads, 0 for one per free logical core (default: 0)")->type_name("N");
    cmd.add_option("--out", out, "results folder (default: results)")->type_name("DIR");
    cmd.add_flag("--quiet", quiet, "no progress lines on standard error");
    cmd.add_option("-o,--output", output,
                   "print the matrix on standard output as md (the default) or json; file names then go to standard "
                   "error")
        ->type_name("FORMAT");
    cmd.add_option("--resume", resume,
                   "continue the matrix whose journal is FILE (DIR/compatibility-STAMP.journal.jsonl): its rows done "
                   "before are kept, not run again; the other options, if given, must match the recorded ones")
        ->type_name("FILE");
  }

  /// With --resume: the options recorded in the journal's header, checked
  /// against those given here (an option given must have its recorded value).
  void take_recorded(const Json& header, const std::string& journal) {
    if (header.value("command", "") != "matrix" || !header.contains("options") || !header["options"].is_object()) {
      throw UsageError("--resume: '" + journal + "' is not the journal of an `accelbench matrix`");
    }
    const Json& r = header["options"];
    std::string differences;
    const auto take = [&](const char* name, std::string& value) {
      const std::string was = r.contains(name) && r[name].is_string() ? r[name].get<std::string>() : "";
      if (!value.empty() && value != was) {
        differences += fmt::format("\n  --{}: \"{}\" given, \"{}\" recorded", name, value, was);
      }
      value = was;
    };
    take("backends", backends);
    take("families", families);
    take("models", models);
    take("tolerance", tolerance);
    take("max_time", max_time);
    take("timeout", timeout);
    take("threads", threads);
    if (!differences.empty()) {
      throw UsageError("--resume: the journal '" + journal + "' was written by a matrix with other options:" +
                       differences + "\nresume with the same options, or with --resume alone");
    }
    out = std::filesystem::path(journal).parent_path().string();
    if (out.empty()) out = ".";
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
    if (!output.empty() && output != "md" && output != "json") {
      throw ConfigError("--output", "\"" + output + "\"", "matrix prints md or json");
    }
    o.verify_only = verify_only;
    o.explicit_models = explicit_models;
    o.unsupported = unsupported;
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
/// Each row is journaled as it is done (DIR/compatibility-STAMP.journal.jsonl);
/// interrupted, the matrix files get the rows done so far.
template <class Backends, class Families>
int matrix_command(MatrixFlags flags) {
  // Resumed: the journal's options and rows; the rows are not run again.
  JournalContents before;
  std::map<std::string, CompatibilityRow> done_rows;
  if (!flags.resume.empty()) {
    before = read_journal(flags.resume);  // throws naming the file when it is no journal
    flags.take_recorded(before.header, flags.resume);
    for (const auto& e : before.entries) {
      if (e.value("kind", "") == "row" && e.contains("key") && e.contains("row")) {
        done_rows[e["key"].get<std::string>()] = compatibility_row_from_json(e["row"]);
      }
    }
    if (before.truncated) std::cerr << "accelbench: " << before.note << '\n';
  }
  CompatibilityOptions options = flags.options();
  const std::filesystem::path out_dir = flags.out;
  const auto json_path = out_dir / "compatibility.json";
  const auto markdown_path = out_dir / "compatibility.md";
  std::size_t done = 0;

  // The rows so far, for an interruption; started_at etc. as the matrix has them.
  CompatibilityMatrix partial;
  partial.started_at = before.header.is_object() ? before.header.value("started_at", utc_timestamp()) : utc_timestamp();
  partial.system = system_info();
  partial.build = build_info();
  partial.settings = compatibility_config(options);
  partial.backends = {std::string(Cpu::name)};
  std::unique_ptr<Journal> journal;
  const auto row_key = [](const std::string& family, const std::string& model, const std::string& backend) {
    return detail::valid_utf8(family + "/" + model + "/" + backend);
  };
  const auto open_journal = [&] {
    journal = std::make_unique<Journal>();
    if (!flags.resume.empty()) {
      journal->resume(flags.resume);
      return;
    }
    detail::prepare_output_folder(out_dir);
    const auto base = detail::claim_unique_name(out_dir, "compatibility-" + file_stamp(partial.started_at),
                                                ".journal.jsonl");
    std::filesystem::path path = base;
    path += ".journal.jsonl";
    journal->start(path, Json{{"command", "matrix"}, {"started_at", partial.started_at}, {"options", flags.recorded()}});
  };
  if (!done_rows.empty()) {
    options.done_row = [&](const std::string& family, const std::string& model,
                           const std::string& backend) -> std::optional<CompatibilityRow> {
      const auto found = done_rows.find(row_key(family, model, backend));
      if (found == done_rows.end()) return std::nullopt;
      const auto lock = journal->lock();
      partial.rows.push_back(found->second);
      if (std::find(partial.backends.begin(), partial.backends.end(), backend) == partial.backends.end()) {
        partial.backends.push_back(backend);
      }
      return found->second;
    };
    if (!flags.quiet) {
      std::cerr << fmt::format("resuming {}: {} rows done before\n", flags.resume, done_rows.size());
    }
  }
  options.on_row = [&](const CompatibilityRow& r) {
    {
      const auto lock = journal->lock();
      partial.rows.push_back(r);
      if (std::find(partial.backends.begin(), partial.backends.end(), r.backend) == partial.backends.end()) {
        partial.backends.push_back(r.backend);
      }
    }
    CompatibilityMatrix one = partial;
    one.rows = {r};
    journal->append(Json{{"kind", "row"},
                         {"key", row_key(r.family, r.model, r.backend)},
                         {"row", to_json(one)["rows"][0]}});
    ++done;
    if (flags.quiet) return;
    std::string figure;
    if (r.status == CompatibilityStatus::ok || r.status == CompatibilityStatus::mismatch) {
      figure = fmt::format(", max abs error {:.1e}", r.max_abs_error.value_or(0.0));
    }
    if (r.median_s) figure += fmt::format(", median {} ms", detail::format_ms(r.median_s));
    if (!r.reason.empty() && r.status != CompatibilityStatus::mismatch) figure += ": " + r.reason;
    std::cerr << fmt::format("[{}] {} ({}) on {}: {}{}\n", done, r.model, r.family, r.backend, to_string(r.status),
                             figure);
  };

  CompatibilityMatrix matrix;
  try {
    // Unknown names are refused before the folder is touched.
    detail::validate_matrix_options(Backends{}, Families{}, options);
    open_journal();
    const InterruptGuard guard([&](int) {
      const auto lock = journal->lock();
      partial.finished_at = utc_timestamp();
      write_compatibility_json(partial, json_path);
      write_compatibility_markdown(partial, markdown_path);
      std::fprintf(stderr, "\naccelbench: interrupted; wrote %s and %s with the %zu rows done\n",
                   json_path.string().c_str(), markdown_path.string().c_str(), partial.rows.size());
    });
    matrix = compatibility_matrix<Backends, Families>(options);
  } catch (const ConfigError& e) {
    // Name the command-line flag, keep the explanation.
    const std::string what = e.what();
    const auto colon = what.find(": ");
    throw ConfigError(matrix_flag_of(e.field()), e.value(),
                      colon == std::string::npos ? what : what.substr(colon + 2));
  }

  write_compatibility_json(matrix, json_path);
  write_compatibility_markdown(matrix, markdown_path);
  if (flags.output == "json") {
    std::cout << detail::dump_json(to_json(matrix), 2) << '\n';
  } else {
    std::cout << format_compatibility_markdown(matrix) << '\n';
  }
  (flags.output.empty() ? std::cout : std::cerr)
      << "wrote " << json_path.string() << " and " << markdown_path.string() << " (journal: "
      << journal->path().string() << ")\n";
  for (const auto& r : matrix.rows) {
    if (r.status == CompatibilityStatus::mismatch || r.status == CompatibilityStatus::error) return exit_not_ok;
  }
  return exit_ok;
}

/// `accelbench run --verify-only`: the suite's models (a model set's, its
/// unimplemented members included as unsupported rows) on cpu and every
/// backend of its hardware, each run once and verified against cpu, as the
/// compatibility matrix in the suite's output folder; no timing.
template <class Backends, class Families>
int verify_only_command(const SuiteFlags& flags, const std::string& resume) {
  if (!resume.empty()) throw UsageError("--verify-only runs no journal of a run; resume the matrix with `accelbench matrix --resume`");
  check_run_threads(flags);
  const Suite s = flags.suite<Families>();
  validate_suite<Backends, Families>(s);
  if (!flags.db.empty() || !flags.shard.empty() || !flags.group.empty() || s.isolate || s.parallel) {
    throw UsageError("--verify-only writes the compatibility matrix: it takes no --db, --group, --shard, --isolate or --parallel");
  }
  MatrixFlags m;
  std::vector<std::string> families, models, backends;
  for (const SuiteEntry& e : s.benchmarks) {
    families.push_back(e.family);
    for (const auto& model : e.models) {
      bool preset = false;
      detail::find_by_name(Families{}, e.family, [&](auto f) {
        preset = detail::family_has_preset<typename decltype(f)::type>(model);
      });
      if (!preset) {
        throw ConfigError("--verify-only", "\"" + model + "\"",
                          "verifies presets; this is no preset of the " + e.family + " family (a checkpoint folder "
                          "runs with `accelbench run`, verified as it is timed)");
      }
      models.push_back(model);
    }
  }
  for (const auto& hw : s.hardware) {
    if (hw != Cpu::name) backends.push_back(hw);
  }
  const auto comma = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
    return out;
  };
  m.families = comma(families);
  m.models = comma(models);
  // Only cpu named: the reference alone (an empty list would mean every backend).
  m.backends = backends.empty() ? std::string(Cpu::name) : comma(backends);
  m.tolerance = detail::format_number(s.settings.verify_tolerance);
  if (s.threads > 0) m.threads = std::to_string(s.threads);
  m.out = s.output_dir;
  m.quiet = flags.quiet;
  m.verify_only = true;
  m.unsupported = s.unsupported;
  if (models.empty() && s.unsupported.empty()) throw ConfigError("--verify-only", "(no models)", "the suite names no model");
  m.explicit_models = true;  // the suite's models, none when every member is unsupported
  return matrix_command<Backends, Families>(std::move(m));
}

}  // namespace accelbench::cli
