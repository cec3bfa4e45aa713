#pragma once

// The `accelbench` command as a function template over the registries, so
// that a program can build its own runner with its own backends or families:
//
//   #include <accelbench/cli/main.hpp>
//   #include "my_backend.hpp"
//   int main(int argc, char** argv) {
//     return accelbench::cli::main<accelbench::append_t<accelbench::KnownBackends, MyBackend>>(argc, argv);
//   }
//
// Commands: run, compare, presets, matrix, check, report, regress, history,
// import, plan, submit (slurm, k8s), schedule, version; each answers --help with its options. Needs CLI11 (target accelbench::command_line).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/version.hpp"
#include "../detail/omp_policy.hpp"
#include "../suite/registry.hpp"
#include "check_command.hpp"
#include "compare_command.hpp"
#include "fleet_commands.hpp"
#include "matrix_command.hpp"
#include "parse.hpp"
#include "report_command.hpp"
#include "regress_command.hpp"
#include "run_commands.hpp"
#include "schedule_command.hpp"
#include "store_commands.hpp"
#include "suite_flags.hpp"

namespace accelbench::cli {

/// `accelbench presets`: every preset of every family of `Families`.
template <class... Fs>
int presets_command(TypeList<Fs...>) {
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
  return exit_ok;
}

/// What command_line does with a command line it has read.
enum class Action {
  run,       ///< run the command
  validate,  ///< check the options (and the suite file they name) only: nothing is measured or written
};

/// The command line of `accelbench`, its commands knowing the backends of
/// `Backends` and the families of `Families` (TypeLists); `action` says
/// whether the command runs. A template argument, so that validating
/// instantiates none of the commands' work (the cli fuzz target compiles in
/// a fraction of the runner's time). Returns the exit status (ExitCode).
template <Action action, class Backends, class Families>
int command_line(int argc, char** argv) {
  CLI::App app{"accelbench: benchmarks of machine-learning model architectures on hardware backends", "accelbench"};
  app.footer(exit_codes_help);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("accelbench ") + version_string, "print the library version");
  const auto command = [&](const char* name, const std::string& description) {
    CLI::App* cmd = app.add_subcommand(name, description);
    cmd->footer(exit_codes_help);
    return cmd;
  };

  SuiteFlags run_flags;
  CLI::App* run = command("run", "run a suite: print its table and write its results as JSON");
  run_flags.add_to<Families>(*run);
  run_flags.add_model_set_options(*run);
  std::string run_resume;
  run->add_option("--resume", run_resume,
                  "continue the run whose journal is FILE (RESULTS.journal.jsonl, beside its results): its cells "
                  "measured before are kept, not measured again; the other options, if given, must match its "
                  "suite. Without FILE, with --db, --group and --shard: continue that shard as the results store "
                  "has it, measuring only the cells it lacks")
      ->type_name("[FILE]")
      ->expected(0, 1);
  run->add_option("--db", run_flags.db, std::string(store_url_help) + ": each cell is stored as it is measured")
      ->type_name("URL");
  run->add_option("--group", run_flags.group,
                  "the group of runs this run belongs to, e.g. one fleet job; stored with it (report --group)")
      ->type_name("NAME");
  run->add_option("--shard", run_flags.shard,
                  "measure shard I of N of the suite (from 1): every cell is in exactly one shard, balanced by "
                  "estimated cost, the same on every machine (accelbench plan --shards N shows them); needs --group")
      ->type_name("I/N");

  SuiteFlags compare_flags;
  CLI::App* compare = command("compare",
                              "measure two variants in alternation and print their time ratio with its interval: "
                              "two thread counts (--threads 1,2), two models (--models a,b) or two backends "
                              "(--hardware a,b), on the suite's sweep");
  compare_flags.add_to<Families>(*compare);
  std::string compare_resume;
  compare->add_option("--resume", compare_resume,
                      "continue the comparison whose journal is FILE (RESULTS.journal.jsonl, beside its results): "
                      "its cells compared before are kept, not measured again; the other options, if given, must "
                      "match")
      ->type_name("FILE");

  CLI::App* presets = command("presets", "list the model presets of every family");

  MatrixFlags matrix_flags;
  CLI::App* matrix = command("matrix",
                             "run each architecture's small preset on every backend against the cpu reference and "
                             "write DIR/compatibility.json and DIR/compatibility.md: the compatibility matrix");
  matrix_flags.add_to<Backends, Families>(*matrix);

  bool check_json = false;
  CLI::App* check = command("check",
                            "describe the CPU, OpenCL and CUDA devices and say which backends can run here, and "
                            "why not");
  check->add_flag("--json", check_json, "print the description as JSON");

  ReportFlags report_flags;
  CLI::App* report = command("report",
                             "a report from results files measured before, in any output format (md by default), "
                             "selected by model, backend, family, date, commit or host; nothing is measured");
  report_flags.add_to(*report);
  RegressCommands regress_commands;  // regress and history
  regress_commands.add_to(app);

  ImportFlags import_flags;
  CLI::App* import = command("import", "load results files into a results store, each once");
  import_flags.add_to(*import);

  PlanFlags plan_flags;
  CLI::App* plan = command("plan",
                           "print how --shard I/N splits the suite: the cells of each shard and its estimated time");
  plan_flags.add_to<Families>(*plan);

  CLI::App* submit = command("submit",
                             "run a suite's shards on a cluster, one node each, into one results store: "
                             "submit slurm (an sbatch job array) or submit k8s (an Indexed Job manifest)");
  submit->require_subcommand(1);
  SubmitFlags slurm_flags, k8s_flags;
  CLI::App* slurm = submit->add_subcommand("slurm", "write (and with --submit, submit) an sbatch job array: task I "
                                                    "runs shard I/N on an exclusive node");
  slurm->footer(exit_codes_help);
  slurm_flags.add_slurm<Families>(*slurm);
  CLI::App* k8s = submit->add_subcommand("k8s", "write a Kubernetes Indexed Job: completion index I runs shard "
                                                "I+1/N, one pod per node, the store's URL from a Secret");
  k8s->footer(exit_codes_help);
  k8s_flags.add_k8s<Families>(*k8s);

  ScheduleFlags schedule_flags;
  CLI::App* schedule = command("schedule",
                               "write a systemd timer and service (or a crontab line) that run a suite on a schedule "
                               "into the results store");
  schedule_flags.add_to<Families>(*schedule);

  CLI::App* version = command("version", "print the library version");

  // After an error, where to read more: "accelbench run --help".
  const auto see_help = [&] {
    const auto given = app.get_subcommands();
    return "see 'accelbench" + (given.empty() ? std::string() : " " + given.front()->get_name()) + " --help'\n";
  };
  try {
    if (argc == 2 && std::string_view(argv[1]) == "help") {
      std::cout << app.help();
      return exit_ok;
    }
    const auto names = [&](CLI::App* cmd) { return cmd->check_name(argv[1]); };
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands(names).empty()) {
      throw UsageError("unknown command '" + std::string(argv[1]) + "'");
    }
    app.parse(argc, argv);
    if constexpr (action == Action::validate) {
      if (run->parsed()) {
        (void)run_flags.output_format();
        (void)run_flags.report_formats();
        (void)run_group_of(run_flags.group, run_flags.shard);
        if (run_resume.empty()) {
          const Suite suite = run_flags.suite<Families>();
          check_run_threads(run_flags);
          validate_suite<Backends, Families>(suite);
        }
      } else if (compare->parsed()) {
        (void)compare_flags.output_format();
        (void)compare_flags.report_formats();
        if (compare_resume.empty()) {
          (void)compare_sides<Backends, Families>(compare_suite<Families>(compare_flags), compare_flags.threads);
        }
      } else if (report->parsed()) {
        (void)report_flags.format();
        (void)report_flags.select.filter();
      } else if (matrix->parsed()) {
        if (matrix_flags.resume.empty()) {
          detail::validate_matrix_options(Backends{}, Families{}, matrix_flags.options());
        }
      } else if (regress_commands.parsed()) {
        regress_commands.validate();
      }
      return exit_ok;
    } else {
      if (run->parsed()) {
        if (run_flags.verify_only) return verify_only_command<Backends, Families>(run_flags, run_resume);
        const bool resume_from_store = run->count("--resume") > 0 && run_resume.empty();
        return run_command<Backends, Families>(run_flags, run_resume, resume_from_store);
      }
      if (compare->parsed()) return compare_command<Backends, Families>(compare_flags, compare_resume);
      if (presets->parsed()) return presets_command(Families{});
      if (matrix->parsed()) return matrix_command<Backends, Families>(matrix_flags);
      if (check->parsed()) return check_command<Backends>(check_json);
      if (report->parsed()) return report_command(report_flags);
      if (regress_commands.parsed()) return regress_commands.execute();
      if (import->parsed()) return import_command(import_flags);
      if (plan->parsed()) return plan_command<Backends, Families>(plan_flags);
      if (slurm->parsed()) return submit_slurm_command<Backends, Families>(slurm_flags);
      if (k8s->parsed()) return submit_k8s_command<Backends, Families>(k8s_flags);
      if (schedule->parsed()) return schedule_command<Backends, Families>(schedule_flags);
      if (version->parsed()) {
        std::cout << "accelbench " << version_string << '\n';
        return exit_ok;
      }
      return exit_usage_error;
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "accelbench: " << e.what() << '\n' << see_help();
    return exit_usage_error;
  } catch (const UsageError& e) {
    std::cerr << "accelbench: " << e.what() << '\n' << see_help();
    return exit_usage_error;
  } catch (const ConfigError& e) {
    std::cerr << "accelbench: invalid configuration: " << e.what() << '\n';
    return exit_usage_error;
  } catch (const std::exception& e) {
    std::cerr << "accelbench: " << e.what() << '\n';
    return exit_runtime_error;
  } catch (...) {
    std::cerr << "accelbench: unknown exception\n";
    return exit_runtime_error;
  }
}

/// `accelbench` with the backends of `Backends` and the families of
/// `Families` (the library's registries by default): reads the command
/// line and runs its command. Returns the exit status (ExitCode). First,
/// unless OMP_WAIT_POLICY is set, the program starts again with it
/// passive (detail::run_with_passive_omp_wait): OpenMP threads then sleep
/// at once when they wait, rather than spin where another process holds a core.
template <class Backends = KnownBackends, class Families = KnownFamilies>
int main(int argc, char** argv) {
  ::accelbench::detail::run_with_passive_omp_wait(argv);
  return command_line<Action::run, Backends, Families>(argc, argv);
}

/// Reads and checks a command line as main does, runs nothing: exit_ok
/// when main would start the command (or print help or the version),
/// exit_usage_error or exit_runtime_error with main's message otherwise.
/// A `--resume` journal is not read. For checking scripts and fuzzing.
template <class Backends = KnownBackends, class Families = KnownFamilies>
int validate_command_line(int argc, char** argv) {
  return command_line<Action::validate, Backends, Families>(argc, argv);
}

}  // namespace accelbench::cli
