#pragma once

// Which results a report, a history or a regression check looks at: the
// same filter over result files and over the results store.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"

namespace accelbench {

/// A selection of results. Empty lists and strings select everything; a
/// cell is kept when it matches every non-empty part.
struct ResultFilter {
  std::vector<std::string> models;    ///< preset names or checkpoint folders, as the cells name them
  std::vector<std::string> backends;  ///< "cpu", "opencl", ...
  std::vector<std::string> families;  ///< "embedding", ...
  std::string since;       ///< runs started at or after this ISO 8601 time or date ("2026-11-30")
  std::string until;       ///< runs started before this ISO 8601 time or date (a date means its end)
  std::string git_commit;  ///< runs built from this commit (a prefix of the hash)
  std::string hostname;    ///< runs on this machine
  std::string group;       ///< runs of this group (the shards of one sharded suite)

  [[nodiscard]] bool empty() const noexcept {
    return models.empty() && backends.empty() && families.empty() && since.empty() && until.empty() &&
           git_commit.empty() && hostname.empty() && group.empty();
  }
};

namespace detail {

inline bool listed(const std::vector<std::string>& list, std::string_view value) {
  if (list.empty()) return true;
  for (const auto& v : list) {
    if (v == value) return true;
  }
  return false;
}

}  // namespace detail

/// Whether the run as a whole (its time, commit and machine) is selected.
[[nodiscard]] inline bool run_matches(const ResultFilter& f, const RunResult& run) {
  if (!f.since.empty() && run.started_at < f.since) return false;
  if (!f.until.empty()) {
    // A bare date ("2026-11-30") selects the whole of that day.
    const std::string until = f.until.size() == 10 ? f.until + "T99" : f.until;
    if (run.started_at >= until) return false;
  }
  if (!f.git_commit.empty() && run.build.git_commit.compare(0, f.git_commit.size(), f.git_commit) != 0) return false;
  if (!f.hostname.empty() && run.system.hostname != f.hostname) return false;
  if (!f.group.empty() && run.group.name != f.group) return false;
  return true;
}

/// Whether one cell is selected (its run's parts are checked by run_matches).
[[nodiscard]] inline bool cell_matches(const ResultFilter& f, const CellResult& c) {
  return detail::listed(f.models, c.model) && detail::listed(f.backends, c.backend) &&
         detail::listed(f.families, c.family);
}

/// The run with only the selected cells and their models; a run not
/// selected as a whole comes back without cells.
[[nodiscard]] inline RunResult filter_results(RunResult run, const ResultFilter& f) {
  if (!run_matches(f, run)) {
    run.cells.clear();
    run.models.clear();
    run.comparisons.clear();
    run.loading.clear();
    return run;
  }
  std::vector<CellResult> cells;
  for (auto& c : run.cells) {
    if (cell_matches(f, c)) cells.push_back(std::move(c));
  }
  run.cells = std::move(cells);
  std::vector<ModelInfo> models;
  for (auto& m : run.models) {
    if (detail::listed(f.models, m.name) && detail::listed(f.backends, m.backend) &&
        detail::listed(f.families, m.family)) {
      models.push_back(std::move(m));
    }
  }
  run.models = std::move(models);
  return run;
}

}  // namespace accelbench
