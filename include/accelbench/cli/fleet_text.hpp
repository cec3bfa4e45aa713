#pragma once

// The text of fleet jobs: the plan's table, a Slurm batch script (a job
// array, one exclusive node per shard) and a Kubernetes manifest (an
// Indexed Job, one pod per node, and the ConfigMap with its suite).

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../suite/shard.hpp"

namespace accelbench::cli {

/// `text` as one word of a POSIX shell: in single quotes.
[[nodiscard]] inline std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

/// The path of the running program (/proc/self/exe), or "accelbench".
[[nodiscard]] inline std::string this_program() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("accelbench") : p.string();
}

/// The plan as a table: each shard's cells, loading benchmarks and
/// estimated time, then the units of each shard.
[[nodiscard]] inline std::string plan_table(const std::string& suite, const ShardPlan& plan) {
  std::size_t cells = 0;
  for (const auto& u : plan.units) cells += u.model.empty() ? 0 : 1;
  std::string out = fmt::format("suite {}: {} cells and {} loading benchmarks in {} shard{}\n", suite, cells,
                                plan.units.size() - cells, plan.count, plan.count == 1 ? "" : "s");
  out += fmt::format("{:<9} {:>6} {:>8} {:>12}\n", "shard", "cells", "loading", "estimated");
  for (int k = 1; k <= plan.count; ++k) {
    std::size_t c = 0, l = 0;
    for (std::size_t i = 0; i < plan.units.size(); ++i) {
      if (plan.shard_of[i] != k) continue;
      (plan.units[i].model.empty() ? l : c) += 1;
    }
    out += fmt::format("{:<9} {:>6} {:>8} {:>10.1f} s\n", fmt::format("{}/{}", k, plan.count), c, l,
                       plan.estimated_s[static_cast<std::size_t>(k - 1)]);
  }
  out += "(estimates: the stopping rule at an assumed speed, to balance the shards; not a prediction)\n";
  for (int k = 1; k <= plan.count; ++k) {
    out += fmt::format("\nshard {}/{}:\n", k, plan.count);
    for (std::size_t i = 0; i < plan.units.size(); ++i) {
      if (plan.shard_of[i] == k) out += "  " + plan.units[i].key + "\n";
    }
  }
  return out;
}

/// Refuses a value that would break the line it is written on.
inline void check_one_line(const std::string& field, const std::string& value) {
  if (value.find_first_of("\n\r") != std::string::npos) {
    throw ConfigError(field, detail::dump_json(Json(value)), "must be one line");
  }
}

/// What a Slurm job array of a sharded suite needs.
struct SlurmJob {
  std::string group;
  int shards = 1;
  std::string runner;           ///< the accelbench program on the nodes
  std::filesystem::path suite_file, dir;
  std::string db;               ///< the store's URL; empty: none
  std::string partition, constraint, time_limit, account, gres;
};

/// Whether a store URL carries a password (postgresql://user:password@...
/// or ?password=...): it is then not written into a file.
[[nodiscard]] inline bool url_has_password(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    const auto at = url.find('@', scheme + 3);
    const auto slash = url.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash) &&
        url.substr(scheme + 3, at - scheme - 3).find(':') != std::string::npos) {
      return true;
    }
  }
  return url.find("password=") != std::string::npos;
}

/// The sbatch script: array task I of 1..N runs shard I/N on a node of its
/// own. `--resume` continues a shard the store has (a requeued or rerun
/// task measures only what is missing).
[[nodiscard]] inline std::string slurm_script(const SlurmJob& j) {
  const std::vector<std::pair<const char*, const std::string*>> options = {
      {"--partition", &j.partition}, {"--constraint", &j.constraint}, {"--time", &j.time_limit},
      {"--account", &j.account},     {"--gres", &j.gres}};
  std::string out = "#!/bin/bash\n";
  out += fmt::format("# accelbench: {} shards of a suite, group {}; array task I measures shard I/{}.\n", j.shards,
                     j.group, j.shards);
  out += "# Rerun one shard (it measures only what the store lacks): sbatch --array=I THIS_FILE\n";
  out += fmt::format("#SBATCH --job-name=accelbench-{}\n", j.group);
  out += fmt::format("#SBATCH --array=1-{}\n", j.shards);
  out += "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --exclusive\n";
  out += fmt::format("#SBATCH --output={}\n", (j.dir / (j.group + "-shard%a.log")).string());
  for (const auto& [flag, value] : options) {
    check_one_line(flag, *value);
    if (!value->empty()) out += fmt::format("#SBATCH {}={}\n", flag, *value);
  }
  out += "set -euo pipefail\n";
  std::string db_args;
  if (!j.db.empty()) {
    check_one_line("--db", j.db);
    if (url_has_password(j.db)) {
      out += "db=\"${ACCELBENCH_DB:?the results store URL has a password: export ACCELBENCH_DB=URL before sbatch}\"\n";
    } else {
      out += "db=${ACCELBENCH_DB:-" + shell_quote(j.db) + "}\n";
    }
  }
  if (!j.db.empty()) {
    db_args = " --db \"$db\" --resume";
  }
  out += fmt::format("exec {} run --suite {} --group {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --out {}{}\n",
                     shell_quote(j.runner), shell_quote(j.suite_file.string()), shell_quote(j.group), j.shards,
                     shell_quote((j.dir / "results").string()), db_args);
  return out;
}

/// What an Indexed Job of a sharded suite needs.
struct K8sJob {
  std::string group;
  int shards = 1;
  std::string suite_json;
  std::string image, secret, secret_key, gpu_resource, namespace_;
  int gpus = 0;
  std::map<std::string, std::string> node_selector;
};

/// `text` as a Kubernetes object name (DNS-1123 label): lower case letters,
/// digits and '-', at most `limit` characters, starting and ending
/// alphanumeric.
[[nodiscard]] inline std::string k8s_name(const std::string& text, std::size_t limit = 63) {
  std::string out;
  for (const char ch : text) {
    const char c = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    out += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '-';
  }
  if (out.size() > limit) out.resize(limit);
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  return out.empty() ? "accelbench" : out;
}

/// YAML for `j` (block style; every string double-quoted, as JSON writes
/// it, which YAML reads as the same string).
inline void write_yaml(std::string& out, const Json& j, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      out += pad + detail::dump_json(Json(key)) + ":";
      if ((value.is_object() || value.is_array()) && !value.empty()) {
        out += "\n";
        write_yaml(out, value, indent + 2);
      } else {
        out += " " + detail::dump_json(value) + "\n";
      }
    }
  } else if (j.is_array()) {
    for (const auto& value : j) {
      if (value.is_object() && !value.empty()) {
        std::string item;
        write_yaml(item, value, indent + 2);
        item.replace(static_cast<std::size_t>(indent), 1, "-");  // "  key:" -> "- key:" on the first line
        out += item;
      } else if (value.is_array() && !value.empty()) {
        out += pad + "-\n";
        write_yaml(out, value, indent + 2);
      } else {
        out += pad + "- " + detail::dump_json(value) + "\n";
      }
    }
  } else {
    out += pad + detail::dump_json(j) + "\n";
  }
}

/// The manifest: the suite's ConfigMap, then the Indexed Job (completion
/// index I-1 runs shard I/N; pods of the group never share a node).
[[nodiscard]] inline std::string k8s_manifest(const K8sJob& j) {
  const std::string name = k8s_name("accelbench-" + j.group, 52);  // the pods' names add a suffix
  const Json labels{{"app.kubernetes.io/name", "accelbench"}, {"accelbench.dev/group", k8s_name(j.group)}};
  Json metadata{{"name", name}, {"labels", labels}};
  if (!j.namespace_.empty()) metadata["namespace"] = k8s_name(j.namespace_);
  Json config_metadata = metadata;
  config_metadata["name"] = name + "-suite";
  const Json config_map{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", config_metadata},
                        {"data", Json{{"suite.json", j.suite_json}}}};
  const std::string command = fmt::format(
      "exec accelbench run --suite /etc/accelbench/suite.json --group {} --shard \"$((JOB_COMPLETION_INDEX + 1))/{}\" "
      "--db \"$ACCELBENCH_DB\" --resume --out /var/lib/accelbench/results",
      shell_quote(j.group), j.shards);
  Json container{
      {"name", "accelbench"},
      {"image", j.image},
      {"command", Json::array({"sh", "-c", command})},
      {"env", Json::array({Json{{"name", "ACCELBENCH_DB"},
                                {"valueFrom", Json{{"secretKeyRef", Json{{"name", j.secret}, {"key", j.secret_key}}}}}}})},
      {"volumeMounts", Json::array({Json{{"name", "suite"}, {"mountPath", "/etc/accelbench"}, {"readOnly", true}},
                                    Json{{"name", "results"}, {"mountPath", "/var/lib/accelbench"}}})}};
  if (j.gpus > 0) container["resources"] = Json{{"limits", Json{{j.gpu_resource, j.gpus}}}};
  Json pod{
      {"restartPolicy", "Never"},
      {"affinity",
       Json{{"podAntiAffinity",
             Json{{"requiredDuringSchedulingIgnoredDuringExecution",
                   Json::array({Json{{"labelSelector", Json{{"matchLabels", labels}}},
                                     {"topologyKey", "kubernetes.io/hostname"}}})}}}}},
      {"containers", Json::array({container})},
      {"volumes", Json::array({Json{{"name", "suite"}, {"configMap", Json{{"name", name + "-suite"}}}},
                               Json{{"name", "results"}, {"emptyDir", Json::object()}}})}};
  if (!j.node_selector.empty()) pod["nodeSelector"] = j.node_selector;
  const Json job{{"apiVersion", "batch/v1"},
                 {"kind", "Job"},
                 {"metadata", metadata},
                 {"spec", Json{{"completionMode", "Indexed"},
                               {"completions", j.shards},
                               {"parallelism", j.shards},
                               {"backoffLimit", 2 * j.shards},
                               {"template", Json{{"metadata", Json{{"labels", labels}}}, {"spec", pod}}}}}};
  std::string out = fmt::format("# accelbench: {} shards of a suite, group {}; completion index I runs shard I+1/{}.\n",
                                j.shards, j.group, j.shards);
  out += "---\n";
  write_yaml(out, config_map, 0);
  out += "---\n";
  write_yaml(out, job, 0);
  return out;
}

}  // namespace accelbench::cli
