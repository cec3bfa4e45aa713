#pragma once

// The options of `accelbench run` and `accelbench compare`: a suite file
// (--suite) read first, then every other option overrides the suite's field
// of the same name, whatever the order on the command line.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../family/sweep.hpp"
#include "../suite/model_sets.hpp"
#include "../suite/registry.hpp"
#include "../suite/suite.hpp"
#include "output_format.hpp"
#include "parse.hpp"

namespace accelbench::cli {

/// "1,8" for {1, 8}.
inline std::string join(const std::vector<int>& values) {
  std::string out;
  for (const int v : values) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

inline Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--suite", "\"" + path + "\"", "cannot open the file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return detail::parse_json_text<Json>(text);
  } catch (const JsonTextError& e) {
    // A number the parser cannot hold (1e999) names the suite's field.
    if (!e.field().empty() && !e.value().empty()) {
      throw ConfigError(e.field(), e.value(), "number out of range in " + path + ": " + e.what());
    }
    throw ConfigError("--suite", "\"" + path + "\"", std::string("not valid JSON: ") + e.what());
  }
}

/// The suite options of one command: added to a CLI11 command by add_to,
/// turned into a Suite by suite() once the command line is parsed.
class SuiteFlags {
 public:
  bool quiet = false;
  std::vector<int> threads;  ///< as given to --threads (compare takes two)
  std::string output;        ///< as given to -o/--output
  std::string reports;       ///< as given to --report

  /// The formats of --report; throws ConfigError naming the flag and the value.
  [[nodiscard]] std::vector<OutputFormat> report_formats() const {
    std::vector<OutputFormat> out;
    for (const auto& name : split(reports)) {
      const OutputFormat f = parse_output_format("--report", name);
      if (f == OutputFormat::json) throw ConfigError("--report", "\"json\"", "the results file is the JSON");
      out.push_back(f);
    }
    return out;
  }

  /// The format of -o/--output, if given; throws ConfigError naming the flag.
  [[nodiscard]] std::optional<OutputFormat> output_format() const {
    if (output.empty()) return std::nullopt;
    return parse_output_format("--output", output);
  }
  std::string db;            ///< run --db: the results store's URL (cli/store_commands.hpp), empty for none
  std::string shard;         ///< run --shard I/N (suite/shard.hpp), empty for the whole suite
  std::string group;         ///< run --group NAME: the group of runs it belongs to (a sharded suite's)

  SuiteFlags() = default;
  SuiteFlags(const SuiteFlags&) = delete;  // the options added to a command refer to this object
  SuiteFlags& operator=(const SuiteFlags&) = delete;

  /// Adds the options to `cmd`; `Families` names the families --family knows.
  template <class Families>
  void add_to(CLI::App& cmd) {
    const Suite d = default_suite(Families{});
    cmd.add_option("--suite", suite_file_, "JSON suite file (default: the built-in default suite)")
        ->type_name("FILE");
    value(cmd, "--name", "NAME", "suite name, used in the results file name (default: " + d.name + ")",
          [](Suite& s, const std::string&, const std::string& v) { s.name = v; });
    value(cmd, "--family", "NAME", "run that family only (known: " + detail::names_of(Families{}) + ")",
          [this](Suite&, const std::string&, const std::string& v) { family_ = v; });
    value(cmd, "--models", "A,B,...",
          "model presets, or Hugging Face checkpoint folders (config.json + model.safetensors); each runs in "
          "the family that knows it unless --family is given",
          [this](Suite&, const std::string&, const std::string& v) {
            models_ = split(v);
            models_given_ = true;
          });
    value(cmd, "--hardware", "A,B,...", "backends (default: " + d.hardware.front() + ")",
          [](Suite& s, const std::string&, const std::string& v) { s.hardware = split(v); });
    value(cmd, "--batch-sizes", "N,N,...", "batch sizes of the sweep (default: " + join(d.settings.batch_sizes) + ")",
          [](Suite& s, const std::string& f, const std::string& v) { s.settings.batch_sizes = parse_ints(f, v); });
    add_sweep_options<Families>(cmd, d);
    value(cmd, "--stats", "NAME", "percentile (default) or mean",
          [](Suite& s, const std::string&, const std::string& v) { s.stats = v; });
    value(cmd, "--timer", "NAME",
          "steady_clock (default), process_cpu_time, thread_cpu_time, tsc or perf_event",
          [](Suite& s, const std::string&, const std::string& v) { s.timer = v; });
    number(cmd, "--warmup", "N", "warmup runs per cell", d.settings.warmup_iterations,
           [](Suite& s, const std::string& f, const std::string& v) {
             s.settings.warmup_iterations = parse_int(f, v);
           });
    cmd.add_flag("--warmup-until-stable", warmup_until_stable_, "then warm up until the run time settles");
    number(cmd, "--min-iterations", "N", "runs per cell at least", d.settings.min_iterations,
           [](Suite& s, const std::string& f, const std::string& v) { s.settings.min_iterations = parse_int(f, v); });
    number(cmd, "--max-iterations", "N", "runs per cell at most", d.settings.max_iterations,
           [](Suite& s, const std::string& f, const std::string& v) { s.settings.max_iterations = parse_int(f, v); });
    number(cmd, "--min-time", "S", "seconds of sampling per cell at least", d.settings.min_time_s,
           [](Suite& s, const std::string& f, const std::string& v) { s.settings.min_time_s = parse_number(f, v); });
    number(cmd, "--max-time", "S", "seconds of sampling per cell at most", d.settings.max_time_s,
           [](Suite& s, const std::string& f, const std::string& v) { s.settings.max_time_s = parse_number(f, v); });
    number(cmd, "--target-ci-width", "F", "sample until the median's interval is this fraction of it, 0 for no target",
           d.settings.target_relative_ci_width, [](Suite& s, const std::string& f, const std::string& v) {
             s.settings.target_relative_ci_width = parse_number(f, v);
           });
    number(cmd, "--confidence", "F", "level of every interval", d.settings.confidence,
           [](Suite& s, const std::string& f, const std::string& v) { s.settings.confidence = parse_number(f, v); });
    number(cmd, "--iterations-per-sample", "N", "runs per sample, 0 to choose them", d.settings.iterations_per_sample,
           [](Suite& s, const std::string& f, const std::string& v) {
             s.settings.iterations_per_sample = parse_int(f, v);
           });
    number(cmd, "--timeout", "S", "end a cell after S seconds with status timeout, 0 for no limit",
           d.settings.cell_timeout_s, [](Suite& s, const std::string& f, const std::string& v) {
             s.settings.cell_timeout_s = parse_number(f, v);
           });
    value(cmd, "--threads", "N", "Cpu threads, 0 for one per free logical core (default: 0); compare: two values A,B",
          [this](Suite& s, const std::string& f, const std::string& v) {
            threads = parse_ints(f, v);
            if (!threads.empty()) s.threads = threads.front();
          });
    number(cmd, "--seed", "N", "seed of the synthetic weights and inputs", d.settings.seed,
           [](Suite& s, const std::string& f, const std::string& v) {
             const long long seed = parse_integer(f, v);
             if (seed < 0) throw ConfigError(f, v, "must be 0 or more");
             s.settings.seed = static_cast<std::uint64_t>(seed);
           });
    value(cmd, "--accept-config-field", "NAME",
          "let a checkpoint's config.json field that its architecture does not know pass, by name (repeat for more); "
          "recorded in the results",
          [](Suite& s, const std::string&, const std::string& v) { s.settings.accept_config_fields.push_back(v); });
    value(cmd, "--precision", "P",
          "precision of the linear layers' weights: fp32 (default), bf16 or fp16 (text generation with GPT-2 and "
          "Llama-type models, the embedding family's BERT and the vision family's ViT, on Cpu, OpenCL and Cuda); "
          "recorded in the results",
          [](Suite& s, const std::string& f, const std::string& v) { s.settings.precision = parse_precision(v, f); });
    cmd.add_flag("--no-concurrent-loading", no_concurrent_loading_,
                 "skip the sequential vs concurrent model loading benchmark");
    value(cmd, "--out", "DIR", "results folder (default: " + d.output_dir + ")",
          [](Suite& s, const std::string& f, const std::string& v) {
            if (v == "-") {
              throw ConfigError(f, "\"-\"", "names a folder; to print the results on standard output give "
                                             "-o/--output FORMAT");
            }
            s.output_dir = v;
          });
    cmd.add_option("--report", reports,
                   "also write the results as these reports beside the results file (NAME.md, NAME.html, ...): any "
                   "of " + output_format_names() + " but json")
        ->type_name("A,B,...");
    cmd.add_option("-o,--output", output,
                   "also print the results on standard output as FORMAT (" + output_format_names() +
                       "); the table, progress and file names then go to standard error")
        ->type_name("FORMAT");
    cmd.add_flag("--isolate", isolate_,
                 "measure each model in a child process of its own: a cell that crashes, runs past --timeout or out "
                 "of --max-memory is recorded (crashed, timeout, out_of_memory) and the run goes on");
    value(cmd, "--max-memory", "BYTES", "with --isolate: each child's address space limit (suffix K, M, G or T)",
          [](Suite& s, const std::string& f, const std::string& v) { s.max_memory = parse_byte_size(f, v); });
    cmd.add_flag("--parallel", parallel_,
                 "measure on different devices at once (the CPU, each GPU): one cell at a time per device, the "
                 "backends that share a device one after another; each cell names the cells it ran with");
    cmd.add_flag("--quiet", quiet, "no progress lines on standard error");
    cmd.add_flag("--fail-on-busy", fail_on_busy_,
                 "run: exit with 4 when a cell was measured while other work used the cores it could use");
  }

  bool verify_only = false;     ///< run --verify-only: the compatibility matrix of the suite's models, no timing
  bool benchmark_only = false;  ///< run --benchmark-only: no verification

  /// run's model-set options: --models-set, --specific-models,
  /// --verify-only and --benchmark-only.
  void add_model_set_options(CLI::App& cmd) {
    cmd.add_option("--models-set", models_set_,
                   "run a named set of models instead of the suite's: key (the key models, small presets; those "
                   "not implemented are reported unsupported), small (bert-tiny, t5-small, vit-tiny, whisper-tiny, "
                   "clip), or custom FILE (a JSON file of {\"family\", \"model\"} members)")
        ->type_name("NAME [FILE]")
        ->expected(1, 2);
    cmd.add_option("--specific-models", specific_models_, "with --models-set: only these members (keys or models)")
        ->type_name("A,B,...");
    cmd.add_flag("--verify-only", verify_only,
                 "load each model, run it once on every backend of --hardware, verify it against cpu and write the "
                 "compatibility matrix (DIR/compatibility.json and .md); no timing");
    cmd.add_flag("--benchmark-only", benchmark_only, "time the cells without verifying them against cpu");
  }

  /// The model set --models-set names (with --specific-models applied);
  /// empty when none was given. Throws ConfigError naming the flag.
  template <class Families>
  [[nodiscard]] std::optional<ModelSet> model_set() const {
    if (models_set_.empty()) {
      if (!specific_models_.empty()) {
        throw ConfigError("--specific-models", "\"" + specific_models_ + "\"", "picks from a set: give --models-set");
      }
      return std::nullopt;
    }
    const std::string& name = models_set_.front();
    if ((name == "custom") != (models_set_.size() == 2)) {
      throw ConfigError("--models-set", "\"" + join_words(models_set_) + "\"",
                        name == "custom" ? "custom takes the set's JSON file: --models-set custom FILE"
                                         : "expected key, small or custom FILE");
    }
    ModelSet set;
    if (name == "key") {
      set = key_model_set();
    } else if (name == "small") {
      set = small_model_set();
    } else if (name == "custom") {
      set = custom_model_set<Families>(models_set_.back());
    } else {
      throw ConfigError("--models-set", "\"" + name + "\"", "unknown set; known: key, small, custom FILE");
    }
    return pick_models(set, split(specific_models_));
  }

  /// Whether an option that changes the suite was given (--quiet does not).
  [[nodiscard]] bool any_given() const noexcept {
    return !suite_file_.empty() || !edits_.empty() || models_given_ || !family_.empty() || no_concurrent_loading_ ||
           warmup_until_stable_ || isolate_ || parallel_ || !models_set_.empty() || benchmark_only;
  }

  /// The suite file (or the default suite) with every option given applied
  /// over it. Throws ConfigError naming the flag and the value.
  template <class Families>
  [[nodiscard]] Suite suite() const {
    Suite s = suite_file_.empty() ? default_suite(Families{}) : parse_suite(read_json_file(suite_file_), Families{});
    for (const auto& edit : edits_) edit(s);
    if (no_concurrent_loading_) s.concurrent_loading = false;
    if (warmup_until_stable_) s.settings.warmup_until_stable = true;
    if (fail_on_busy_) s.fail_on_busy = true;
    if (isolate_) s.isolate = true;
    if (parallel_) s.parallel = true;
    if (models_given_ || !family_.empty()) set_models<Families>(s, family_, models_);
    if (const std::optional<ModelSet> set = model_set<Families>()) {
      if (models_given_ || !family_.empty()) {
        throw ConfigError(models_given_ ? "--models" : "--family", "\"" + (models_given_ ? join_words(models_) : family_) + "\"",
                          "give either --models-set or --models and --family, not both");
      }
      set_model_set(s, *set);
    }
    if (verify_only && benchmark_only) {
      throw ConfigError("--benchmark-only", "true", "--verify-only verifies without timing; give one of the two");
    }
    if (benchmark_only) s.settings.verify = false;
    return s;
  }

 private:
  using Setter = std::function<void(Suite&, const std::string& flag, const std::string& text)>;

  /// An option that takes one value, applied over the suite file by suite().
  void value(CLI::App& cmd, const std::string& flag, const std::string& type, const std::string& help, Setter set) {
    cmd.add_option_function<std::string>(
           flag,
           [this, flag, set = std::move(set)](const std::string& text) {
             edits_.push_back([flag, set, text](Suite& s) { set(s, flag, text); });
           },
           help)
        ->type_name(type);
  }

  template <class Number>
  void number(CLI::App& cmd, const std::string& flag, const std::string& type, const std::string& help,
              Number shown_default, Setter set) {
    value(cmd, flag, type, help + " (default: " + detail::format_number(static_cast<double>(shown_default)) + ")",
          std::move(set));
  }

  /// One option per sweep axis the families declare (family/sweep.hpp):
  /// --sequence-lengths sets Config::sweep["sequence_lengths"].
  template <class Families>
  void add_sweep_options(CLI::App& cmd, const Suite& defaults) {
    for (const DeclaredSweepAxis& declared : declared_sweep_axes(Families{})) {
      const SweepAxis& axis = declared.axis;
      std::string families;
      for (const auto& f : declared.families) families += (families.empty() ? "" : ", ") + f;
      const auto given = defaults.settings.sweep.find(axis.name);
      const std::vector<int>& shown = given != defaults.settings.sweep.end() ? given->second : axis.defaults;
      value(cmd, sweep_flag(axis), "N,N,...", families + ": " + axis.help + " (default: " + join(shown) + ")",
            [name = axis.name](Suite& s, const std::string& f, const std::string& v) {
              s.settings.sweep[name] = parse_ints(f, v);
            });
    }
  }

  std::string suite_file_;
  std::vector<std::function<void(Suite&)>> edits_;  ///< one per option given, each setting its own field
  std::string family_;
  std::vector<std::string> models_;
  bool models_given_ = false;
  bool no_concurrent_loading_ = false;
  bool warmup_until_stable_ = false;
  bool fail_on_busy_ = false;
  bool isolate_ = false;
  bool parallel_ = false;
  std::vector<std::string> models_set_;  ///< --models-set NAME [FILE]
  std::string specific_models_;

  static std::string join_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
  }
};

}  // namespace accelbench::cli
