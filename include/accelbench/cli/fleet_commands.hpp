#pragma once

// Commands for running a suite on many machines: `accelbench plan` (the
// shards of a suite), `accelbench submit slurm` (an sbatch job array, one
// exclusive node per shard) and `accelbench submit k8s` (an Indexed Job,
// one pod per node). Every shard runs `accelbench run --shard I/N --group
// NAME` and stores into one results store (--db), which `accelbench report
// --group NAME` reads back whole. accelbench schedules nothing itself: the
// cluster's own scheduler does.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/file_name.hpp"
#include "../core/json.hpp"
#include "../core/timestamp.hpp"
#include "../suite/shard.hpp"
#include "../suite/suite_json.hpp"
#include "fleet_text.hpp"
#include "parse.hpp"
#include "run_commands.hpp"
#include "run_group.hpp"
#include "suite_flags.hpp"

namespace accelbench::cli {

/// `accelbench plan`: the suite's options, the number of shards.
struct PlanFlags {
  SuiteFlags suite;
  int shards = 1;

  template <class Families>
  void add_to(CLI::App& cmd) {
    suite.add_to<Families>(cmd);
    cmd.add_option("--shards", shards, "the number of shards (machines or jobs) to split the suite into")
        ->type_name("N")
        ->required();
  }
};

/// The plan as JSON: the shards' estimates and every unit with its shard.
[[nodiscard]] inline Json plan_to_json(const Suite& suite, const ShardPlan& plan) {
  Json units = Json::array();
  for (std::size_t i = 0; i < plan.units.size(); ++i) {
    const ShardUnit& u = plan.units[i];
    units.push_back(Json{{"key", u.key},
                         {"kind", u.model.empty() ? "loading" : "cell"},
                         {"family", u.family},
                         {"model", u.model},
                         {"backend", u.backend},
                         {"shard", plan.shard_of[i]},
                         {"estimated_s", u.cost_s}});
  }
  return Json{{"suite", suite.name}, {"shards", plan.count}, {"estimated_s", plan.estimated_s}, {"units", units}};
}

/// `accelbench plan`: prints which shard measures each cell of the suite.
template <class Backends, class Families>
int plan_command(const PlanFlags& flags) {
  const std::optional<OutputFormat> format = flags.suite.output_format();
  if (format && *format != OutputFormat::json && *format != OutputFormat::table) {
    throw ConfigError("--output", "\"" + flags.suite.output + "\"", "plan prints json or table");
  }
  if (flags.shards < 1 || flags.shards > 100000) {
    throw ConfigError("--shards", std::to_string(flags.shards), "must be from 1 to 100000");
  }
  const Suite suite = flags.suite.suite<Families>();
  const ShardPlan plan = plan_suite_shards<Backends, Families>(suite, flags.shards);
  if (format && *format == OutputFormat::json) {
    std::cout << detail::dump_json(plan_to_json(suite, plan), 2) << '\n';
    return exit_ok;
  }
  std::cout << plan_table(suite.name, plan);
  return exit_ok;
}

/// `accelbench submit slurm` and `accelbench submit k8s`.
struct SubmitFlags {
  SuiteFlags suite;
  int shards = 1;
  std::string group, db, dir = "fleet", runner;
  // slurm
  std::string partition, constraint, time_limit, account, gres;
  bool submit = false, wait = false;
  // k8s
  std::string image, secret = "accelbench-store", secret_key = "url", gpu_resource = "nvidia.com/gpu", namespace_;
  int gpus = 0;
  std::vector<std::string> node_selector;

  template <class Families>
  void add_common(CLI::App& cmd) {
    suite.add_to<Families>(cmd);
    cmd.add_option("--shards", shards, "shards of the suite: one node each")->type_name("N")->required();
    cmd.add_option("--group", group,
                   "the group of the shards' runs (default: the suite's name and the time, e.g. "
                   "default-20261202T020000Z); accelbench report --group NAME reads them back")
        ->type_name("NAME");
  }

  template <class Families>
  void add_slurm(CLI::App& cmd) {
    add_common<Families>(cmd);
    cmd.add_option("--db", db,
                   "the results store every shard writes to (its URL; a password in it is not written into the "
                   "script: export ACCELBENCH_DB=URL before sbatch instead)")
        ->type_name("URL");
    cmd.add_option("--dir", dir,
                   "folder for the job script, the suite file, the logs and the results files; on a file system "
                   "the nodes share (default: fleet)")
        ->type_name("DIR");
    cmd.add_option("--runner", runner, "the accelbench program on the nodes (default: this one)")->type_name("PATH");
    cmd.add_option("--partition", partition, "sbatch --partition")->type_name("NAME");
    cmd.add_option("--constraint", constraint, "sbatch --constraint: node features, e.g. h100&ib")
        ->type_name("FEATURES");
    cmd.add_option("--time", time_limit, "sbatch --time: each shard's limit, e.g. 02:00:00")->type_name("TIME");
    cmd.add_option("--account", account, "sbatch --account")->type_name("NAME");
    cmd.add_option("--gres", gres, "sbatch --gres: generic resources per node, e.g. gpu:8")->type_name("LIST");
    cmd.add_flag("--submit", submit, "submit the job with sbatch (otherwise only write it)");
    cmd.add_flag("--wait", wait, "with --submit: wait until every shard has ended (sbatch --wait)");
  }

  template <class Families>
  void add_k8s(CLI::App& cmd) {
    add_common<Families>(cmd);
    cmd.add_option("--image", image, "container image with the accelbench program on its PATH")
        ->type_name("IMAGE")
        ->required();
    cmd.add_option("--secret", secret,
                   "the Secret holding the results store's URL (default: accelbench-store)")
        ->type_name("NAME");
    cmd.add_option("--secret-key", secret_key, "its key (default: url)")->type_name("KEY");
    cmd.add_option("--gpus", gpus, "accelerators per pod, as the device plugin's resource (default: 0)")
        ->type_name("N");
    cmd.add_option("--gpu-resource", gpu_resource, "the device plugin's resource name (default: nvidia.com/gpu)")
        ->type_name("NAME");
    cmd.add_option("--node-selector", node_selector, "a node label the pods need, e.g. accelerator=h100")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd.add_option("--namespace", namespace_, "the Job's namespace (default: kubectl's)")->type_name("NAME");
    cmd.add_option("--dir", dir, "folder for the manifest (default: fleet)")->type_name("DIR");
  }

  /// The suite and the group, checked; throws ConfigError or UsageError.
  template <class Backends, class Families>
  [[nodiscard]] std::pair<Suite, std::string> checked() const {
    if (!suite.output.empty() || !suite.reports.empty()) {
      throw UsageError("submit writes a job whose shards write results files and store them (--db); -o and "
                       "--report are options of run and report");
    }
    if (shards < 1 || shards > 100000) throw ConfigError("--shards", std::to_string(shards), "must be from 1 to 100000");
    Suite s = suite.suite<Families>();
    validate_suite<Backends, Families>(s);
    std::string g = group.empty() ? s.name + "-" + file_stamp(utc_timestamp()) : group;
    check_group_name("--group", g);
    check_file_name("--group", g);
    return {std::move(s), std::move(g)};
  }
};

/// `accelbench submit slurm`: writes DIR/GROUP.sbatch and DIR/GROUP.suite.json
/// (and with --submit runs sbatch). Returns the exit status.
template <class Backends, class Families>
int submit_slurm_command(const SubmitFlags& flags) {
  const auto [suite, group] = flags.checked<Backends, Families>();
  SlurmJob job;
  job.group = group;
  job.shards = flags.shards;
  job.runner = flags.runner.empty() ? this_program() : flags.runner;
  job.db = flags.db;
  job.partition = flags.partition;
  job.constraint = flags.constraint;
  job.time_limit = flags.time_limit;
  job.account = flags.account;
  job.gres = flags.gres;
  const std::filesystem::path dir = std::filesystem::absolute(flags.dir);
  detail::prepare_output_folder(dir);
  job.suite_file = dir / (group + ".suite.json");
  job.dir = dir;
  const std::filesystem::path script = dir / (group + ".sbatch");
  ::accelbench::detail::write_file_atomically(job.suite_file, detail::dump_json(suite_to_json(suite), 2) + "\n");
  ::accelbench::detail::write_file_atomically(script, slurm_script(job));
  std::filesystem::permissions(script, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
  std::cout << fmt::format("wrote {} ({} shards of suite {}, group {})\n", script.string(), flags.shards, suite.name,
                           group);
  if (job.db.empty()) {
    std::cout << "no --db: each shard's results stay in " << (dir / "results").string()
              << " (accelbench report --group " << group << " FILES... joins them)\n";
  }
  if (!flags.submit) {
    std::cout << "submit with: sbatch " << shell_quote(script.string()) << '\n';
    return exit_ok;
  }
  const std::string command =
      "sbatch --parsable" + std::string(flags.wait ? " --wait" : "") + " " + shell_quote(script.string());
  std::cout << "running: " << command << std::endl;
  const int status = std::system(command.c_str());
  if (status != 0) {
    std::cerr << "accelbench: sbatch " << (flags.wait ? "reported a shard that failed, or " : "")
              << "failed (status " << status << ")\n";
    return exit_runtime_error;
  }
  std::cout << "then: accelbench report --db URL --group " << group << '\n';
  return exit_ok;
}

/// `accelbench submit k8s`: writes DIR/GROUP.k8s.yaml, an Indexed Job and
/// the ConfigMap with its suite.
template <class Backends, class Families>
int submit_k8s_command(const SubmitFlags& flags) {
  const auto [suite, group] = flags.checked<Backends, Families>();
  K8sJob job;
  job.group = group;
  job.shards = flags.shards;
  job.suite_json = detail::dump_json(suite_to_json(suite), 2) + "\n";
  job.image = flags.image;
  job.secret = flags.secret;
  job.secret_key = flags.secret_key;
  job.gpus = flags.gpus;
  job.gpu_resource = flags.gpu_resource;
  job.namespace_ = flags.namespace_;
  for (const auto& pair : flags.node_selector) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("--node-selector", "\"" + pair + "\"", "expected KEY=VALUE, e.g. accelerator=h100");
    }
    job.node_selector[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  if (job.gpus < 0) throw ConfigError("--gpus", std::to_string(job.gpus), "must be 0 or more");
  const std::filesystem::path dir = flags.dir;
  detail::prepare_output_folder(dir);
  const std::filesystem::path manifest = dir / (group + ".k8s.yaml");
  ::accelbench::detail::write_file_atomically(manifest, k8s_manifest(job));
  std::cout << fmt::format("wrote {} (an Indexed Job of {} pods, one per node, for suite {}, group {})\n",
                           manifest.string(), flags.shards, suite.name, group);
  std::cout << "the pods read the store's URL from the Secret " << job.secret << " (key " << job.secret_key
            << "):\n  kubectl create secret generic " << job.secret << " --from-literal=" << job.secret_key
            << "=postgresql://USER:PASSWORD@HOST/DB\nthen: kubectl apply -f " << shell_quote(manifest.string())
            << "\nand: accelbench report --db URL --group " << group << '\n';
  return exit_ok;
}

}  // namespace accelbench::cli
