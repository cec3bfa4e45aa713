// accelbench: the command-line suite runner.
//
//   accelbench run [--suite FILE] [overrides]       run a suite, print its table, write its JSON
//   accelbench compare [--suite FILE] [overrides]   paired comparison of two variants
//   accelbench presets                              list the model presets
//   accelbench matrix [options]                     which backend runs which model, how closely, how fast
//   accelbench check [--json]                       the hardware here and which backends can run
//   accelbench --version | --help

#include <accelbench/accelbench.hpp>

#include "check_command.hpp"
#include "cli.hpp"
#include "matrix_command.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace accelbench;

constexpr std::string_view usage = R"(usage: accelbench <command> [options]

commands:
  run        run a suite: print its table and write its results as JSON
  compare    measure two variants in alternation and print their time ratio with its
             interval: two thread counts (--threads 1,2), two models (--models a,b)
             or two backends (--hardware a,b), on the suite's sweep
  presets    list the model presets of every family
  matrix     run each architecture's small preset on every backend against the cpu
             reference: the compatibility matrix (accelbench matrix --help)
  check      describe the CPU, OpenCL and CUDA devices and say which backends can run
             here, and why not (--json: as JSON)
  version    print the library version

options (each overrides the suite file's field of the same name):
  --suite FILE               JSON suite file (default: the built-in default suite)
  --name NAME                suite name, used in the results file name
  --family NAME              run that family only (known: {families})
  --models A,B,...           model presets, or Hugging Face checkpoint folders
                             (config.json + model.safetensors); each runs in the
                             family that knows it unless --family is given
  --hardware A,B,...         backends (known: {backends})
  --batch-sizes N,N,...      batch sizes of the sweep
  --sequence-lengths N,...   sequence lengths of the sweep (embedding)
  --prompt-lengths N,...     prompt lengths of the sweep (text-generation)
  --new-tokens N,...         generated tokens per sequence (text-generation, audio)
  --image-sizes N,...        image sizes in pixels, 0 for the preset's (vision)
  --audio-seconds N,...      clip lengths in seconds (audio)
  --stats NAME               percentile (default) or mean
  --timer NAME               steady_clock (default), process_cpu_time, thread_cpu_time,
                             tsc or perf_event
  --warmup N                 warmup runs per cell
  --warmup-until-stable      then warm up until the run time settles
  --min-iterations N         runs per cell at least
  --max-iterations N         runs per cell at most
  --min-time S               seconds of sampling per cell at least
  --max-time S               seconds of sampling per cell at most
  --target-ci-width F        sample until the median's interval is this fraction of it
  --confidence F             level of every interval (default 0.95)
  --iterations-per-sample N  runs per sample (default 0: automatic)
  --timeout S                end a cell after S seconds with status timeout
  --threads N                Cpu threads (0: one per logical core); compare: two values
  --seed N                   seed of the synthetic weights and inputs
  --no-concurrent-loading    skip the sequential vs concurrent model loading benchmark
  --out DIR                  results folder (default: results)
  --quiet                    no progress lines on standard error
)";

/// The usage text with the families and backends this build knows.
std::string usage_text() {
  std::string text(usage);
  const auto put = [&](std::string_view key, const std::string& value) {
    if (const auto at = text.find(key); at != std::string::npos) text.replace(at, key.size(), value);
  };
  put("{families}", detail::names_of(KnownFamilies{}));
  put("{backends}", detail::names_of(KnownBackends{}));
  return text;
}

using namespace accelbench::cli;

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--suite", "\"" + path + "\"", "cannot open the file");
  try {
    return Json::parse(in);
  } catch (const Json::parse_error& e) {
    throw ConfigError("--suite", "\"" + path + "\"", std::string("not valid JSON: ") + e.what());
  }
}

struct Options {
  bool quiet = false;
  std::vector<int> threads;  ///< as given to --threads
};

Suite suite_from_arguments(const std::vector<std::string>& args, Options& options) {
  // The suite file first, so that flags override it whatever their order.
  Suite suite = default_suite();
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--suite") {
      if (i + 1 >= args.size()) throw UsageError("--suite needs a value");
      suite = parse_suite(read_json_file(args[i + 1]));
    }
  }
  std::string family;
  std::vector<std::string> models;
  bool models_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--quiet") {
      options.quiet = true;
      continue;
    }
    if (flag == "--no-concurrent-loading") {
      suite.concurrent_loading = false;
      continue;
    }
    if (flag == "--warmup-until-stable") {
      suite.settings.warmup_until_stable = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + flag + "'");
    if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
    const std::string& value = args[++i];
    Config& c = suite.settings;
    if (flag == "--suite") continue;
    else if (flag == "--name") suite.name = value;
    else if (flag == "--family") family = value;
    else if (flag == "--models") {
      models = split(value);
      models_given = true;
    }
    else if (flag == "--hardware") suite.hardware = split(value);
    else if (flag == "--batch-sizes") c.batch_sizes = parse_ints(flag, value);
    else if (flag == "--sequence-lengths") c.sweep["sequence_lengths"] = parse_ints(flag, value);
    else if (flag == "--prompt-lengths") c.sweep["prompt_lengths"] = parse_ints(flag, value);
    else if (flag == "--new-tokens") c.sweep["new_tokens"] = parse_ints(flag, value);
    else if (flag == "--image-sizes") c.sweep["image_sizes"] = parse_ints(flag, value);
    else if (flag == "--audio-seconds") c.sweep["audio_seconds"] = parse_ints(flag, value);
    else if (flag == "--warmup") c.warmup_iterations = parse_int(flag, value);
    else if (flag == "--min-iterations") c.min_iterations = parse_int(flag, value);
    else if (flag == "--max-iterations") c.max_iterations = parse_int(flag, value);
    else if (flag == "--min-time") c.min_time_s = parse_number(flag, value);
    else if (flag == "--max-time") c.max_time_s = parse_number(flag, value);
    else if (flag == "--threads") {
      options.threads = parse_ints(flag, value);
      if (!options.threads.empty()) suite.threads = options.threads.front();
    } else if (flag == "--stats") suite.stats = value;
    else if (flag == "--timer") suite.timer = value;
    else if (flag == "--target-ci-width") c.target_relative_ci_width = parse_number(flag, value);
    else if (flag == "--confidence") c.confidence = parse_number(flag, value);
    else if (flag == "--iterations-per-sample") c.iterations_per_sample = parse_int(flag, value);
    else if (flag == "--timeout") c.cell_timeout_s = parse_number(flag, value);
    else if (flag == "--seed") {
      const long long seed = parse_integer(flag, value);
      if (seed < 0) throw ConfigError(flag, value, "must be 0 or more");
      c.seed = static_cast<std::uint64_t>(seed);
    } else if (flag == "--out") suite.output_dir = value;
    else throw UsageError("unknown option '" + flag + "'");
  }
  if (models_given || !family.empty()) set_models(suite, family, models);
  return suite;
}

std::string file_stamp(const std::string& iso) {
  std::string s;
  for (char ch : iso) {
    if (ch != '-' && ch != ':') s += ch;
  }
  return s;  // 2026-11-22T18:30:05Z -> 20261122T183005Z
}

int run_command(const std::vector<std::string>& args) {
  Options options;
  const Suite suite = suite_from_arguments(args, options);
  if (options.threads.size() > 1) throw UsageError("run takes one --threads value; compare takes two");
  validate_suite(suite);
  const bool quiet = options.quiet;

  const std::filesystem::path out =
      std::filesystem::path(suite.output_dir) / (suite.name + "-" + file_stamp(utc_timestamp()) + ".json");
  JsonReporter json{out};
  std::size_t done = 0;
  std::size_t total = 0;
  for (const auto& entry : suite.benchmarks) {
    detail::find_by_name(KnownFamilies{}, entry.family, [&](auto family) {
      using F = typename std::remove_cvref_t<decltype(family)>::type;
      for (const auto& model : entry.models) {
        const Config config = detail::config_for_model(suite.settings, model);
        total += suite.hardware.size() * detail::cells_for<F>(config, detail::preset_for<F>(config)).size();
      }
    });
  }

  SuiteObserver observer;
  observer.on_cell = [&](const CellResult& c) {
    ++done;
    if (quiet) return;
    std::string shape;
    for (const auto& a : c.shape) shape += fmt::format(" {}={}", a.name, a.value);
    std::string figure;
    if (c.status == CellStatus::ok || c.status == CellStatus::mismatch) {
      figure = fmt::format(", median {} ms, {} iterations", detail::format_ms(c.latency.median), c.iterations);
    } else if (!c.message.empty()) {
      figure = ": " + c.message;
    }
    std::cerr << fmt::format("[{}/{}] {} on {}{}: {}{}\n", done, total, c.model, c.backend, shape,
                             to_string(c.status), figure);
  };
  // Results measured so far are written after each model, whole, so that an
  // interrupted suite keeps them.
  observer.on_progress = [&](const RunResult& so_far) { json.report(so_far); };

  const RunResult results = run_suite(suite, observer);
  json.report(results);
  std::cout << '\n';
  ConsoleReporter{std::cout}.report(results);
  std::cout << "\nwrote " << out.string() << '\n';

  for (const auto& c : results.cells) {
    if (c.status != CellStatus::ok) return 3;
  }
  return 0;
}

/// The two variants the arguments name, measured in alternation.
RunResult compare_variants(const Suite& suite, const Options& options) {
  if (suite.benchmarks.size() != 1) {
    throw UsageError("compare needs one family: give --family or --models of one family");
  }
  const SuiteEntry& entry = suite.benchmarks.front();
  const bool by_threads = options.threads.size() == 2;
  const bool by_models = entry.models.size() == 2;
  const bool by_hardware = suite.hardware.size() == 2;
  if (int(by_threads) + int(by_models) + int(by_hardware) != 1 ||
      (!by_models && entry.models.size() != 1) || (!by_hardware && suite.hardware.size() != 1)) {
    throw UsageError("compare needs exactly one of: --threads A,B, --models A,B or --hardware A,B "
                     "(and one value of the others)");
  }
  Suite a = suite, b = suite;
  std::string label_a, label_b;
  if (by_threads) {
    a.threads = options.threads[0];
    b.threads = options.threads[1];
    label_a = fmt::format("{} thread{}", a.threads, a.threads == 1 ? "" : "s");
    label_b = fmt::format("{} thread{}", b.threads, b.threads == 1 ? "" : "s");
  }
  a.benchmarks = {{entry.family, {entry.models.front()}}};
  b.benchmarks = {{entry.family, {entry.models.back()}}};
  a.hardware = {suite.hardware.front()};
  b.hardware = {suite.hardware.back()};
  validate_suite(a);
  validate_suite(b);
  Config config_a = a.settings, config_b = b.settings;
  config_a = detail::config_for_model(a.settings, entry.models.front());
  config_b = detail::config_for_model(b.settings, entry.models.back());

  RunResult result;
  detail::find_by_name(KnownFamilies{}, entry.family, [&](auto family) {
    using F = typename std::remove_cvref_t<decltype(family)>::type;
    config_a = restrict_sweep_to<F>(config_a);
    config_b = restrict_sweep_to<F>(config_b);
    detail::find_by_name(KnownBackends{}, a.hardware.front(), [&](auto backend_a) {
      using A = typename std::remove_cvref_t<decltype(backend_a)>::type;
      detail::find_by_name(KnownBackends{}, b.hardware.front(), [&](auto backend_b) {
        using B = typename std::remove_cvref_t<decltype(backend_b)>::type;
        if constexpr (RunsOn<F, A> && RunsOn<F, B>) {
          result = compare<F>(Variant<A>{label_a, config_a, detail::make_backend<A>(a)},
                              Variant<B>{label_b, config_b, detail::make_backend<B>(b)});
        }
      });
    });
  });
  return result;
}

int compare_command(const std::vector<std::string>& args) {
  Options options;
  Suite suite = suite_from_arguments(args, options);
  suite.concurrent_loading = false;
  if (suite.timer != "steady_clock") throw UsageError("compare times with steady_clock");
  const RunResult results = compare_variants(suite, options);
  const std::filesystem::path out =
      std::filesystem::path(suite.output_dir) / ("compare-" + file_stamp(utc_timestamp()) + ".json");
  JsonReporter{out}.report(results);
  ConsoleReporter{std::cout}.report(results);
  std::cout << "\nwrote " << out.string() << '\n';
  for (const auto& c : results.comparisons.at(0).cells) {
    if (c.status != "ok") return 3;
  }
  return 0;
}

template <class... Fs>
void print_presets(TypeList<Fs...>) {
  const auto print = [](auto family) {
    using F = typename decltype(family)::type;
    std::cout << "family " << F::name << " (items: " << F::item_unit << ")\n";
    for (const auto& name : F::preset_names()) {
      const auto& p = F::find_preset(name);
      std::cout << fmt::format("  {:<22} {:<9} {:>7.1f}M parameters", p.name, F::architecture(p),
                               static_cast<double>(p.parameter_count()) / 1e6);
      if constexpr (requires { p.layers + p.hidden + p.heads; }) {
        std::cout << fmt::format(", {} layers, hidden {}, {} heads", p.layers, p.hidden, p.heads);
      }
      for (const auto& a : p.aliases) std::cout << ", alias " << a;
      std::cout << '\n';
    }
  };
  (print(std::type_identity<Fs>{}), ...);
}

int presets_command() {
  print_presets(KnownFamilies{});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << usage_text();
      return args.empty() ? 2 : 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "run") return run_command(args);
    if (command == "compare") return compare_command(args);
    if (command == "presets") return presets_command();
    if (command == "matrix") return matrix_command(args);
    if (command == "check") return check_command(args);
    if (command == "version" || command == "--version") {
      std::cout << "accelbench " << version_string << '\n';
      return 0;
    }
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "accelbench: " << e.what() << "\n\n" << usage_text();
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << "accelbench: invalid configuration: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "accelbench: " << e.what() << '\n';
    return 1;
  }
}
