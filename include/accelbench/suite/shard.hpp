#pragma once

// Shards: a suite split into N deterministic parts for N machines (or N
// jobs of a cluster), every cell in exactly one part. The parts are
// balanced by an estimate of each cell's cost (the stopping rule applied
// to a time per run estimated from the cell's floating-point operations)
// plus the cost of loading each model once on each shard that measures it,
// and the assignment depends on the suite alone: the same suite gives the
// same shards on every machine, at every run.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../family/hooks.hpp"
#include "../report/journal.hpp"
#include "registry.hpp"
#include "suite.hpp"

namespace accelbench {

/// One shard of N: `index` from 1 to `count`.
struct Shard {
  int index = 1;
  int count = 1;
  friend bool operator==(const Shard&, const Shard&) = default;
};

/// "I/N" (1 <= I <= N <= 100000) as a Shard; a ConfigError naming `field`
/// and the text otherwise.
[[nodiscard]] inline Shard parse_shard(const std::string& text, const std::string& field = "--shard") {
  const auto slash = text.find('/');
  const auto number = [&](std::string_view s, int& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
  };
  Shard s;
  if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), s.index) ||
      !number(std::string_view(text).substr(slash + 1), s.count)) {
    throw ConfigError(field, "\"" + text + "\"", "expected I/N, shard I of N (from 1), e.g. 2/4");
  }
  if (s.count < 1 || s.count > 100000) {
    throw ConfigError(field, "\"" + text + "\"", "the number of shards must be from 1 to 100000");
  }
  if (s.index < 1 || s.index > s.count) {
    throw ConfigError(field, "\"" + text + "\"",
                      fmt::format("the shard must be from 1 to {} (shards are numbered from 1)", s.count));
  }
  return s;
}

/// One thing a shard measures: a cell of the suite, or the loading
/// benchmark of a family on a backend (Suite::concurrent_loading).
struct ShardUnit {
  std::string key;      ///< cell_key(), or "loading/FAMILY/BACKEND"
  std::string family;
  std::string model;    ///< empty for a loading benchmark
  std::string backend;
  double cost_s = 0;    ///< estimated seconds to measure it
  double load_s = 0;    ///< estimated seconds to load its model (paid once per shard and model)
};

/// The assignment of a suite's units to shards.
struct ShardPlan {
  int count = 1;
  std::vector<ShardUnit> units;        ///< in the suite's order
  std::vector<int> shard_of;           ///< per unit: its shard, from 1
  std::vector<double> estimated_s;     ///< per shard: estimated seconds (units + loads)

  [[nodiscard]] bool in_shard(const std::string& key, int shard) const {
    for (std::size_t i = 0; i < units.size(); ++i) {
      if (units[i].key == key) return shard_of[i] == shard;
    }
    return false;
  }
  /// The keys of shard `shard`'s units.
  [[nodiscard]] std::set<std::string> keys(int shard) const {
    std::set<std::string> out;
    for (std::size_t i = 0; i < units.size(); ++i) {
      if (shard_of[i] == shard) out.insert(units[i].key);
    }
    return out;
  }
};

namespace detail {

/// The rate the cost estimate assumes (floating-point operations per
/// second). Only the ratios between cells matter for balance, except
/// against the stopping rule's fixed times; 2e10 is a few cores' worth.
inline constexpr double assumed_flops_per_s = 2e10;
/// Seconds of a run with no FLOP count (a family without the flops hook).
inline constexpr double assumed_run_s = 1e-3;
/// Bytes per second the estimate assumes for making or reading weights.
inline constexpr double assumed_load_bytes_per_s = 1e9;

/// Seconds a cell takes under `c`'s stopping rule when one run takes `run_s`:
/// warm-up, the verification run (and its reference), then sampling until
/// min_iterations and min_time_s (capped by max_time_s and max_iterations).
[[nodiscard]] inline double cell_cost_s(const Config& c, double run_s) {
  const double warmup = std::min(c.warmup_iterations * run_s, c.warmup_max_time_s);
  const double sampling =
      std::min({std::max(c.min_iterations * run_s, c.min_time_s), c.max_time_s, c.max_iterations * run_s});
  return warmup + 2 * run_s + sampling;
}

}  // namespace detail

/// Every unit of suite `s` (validated), with its cost estimate, in the
/// order the suite measures them.
template <class Backends = KnownBackends, class Families = KnownFamilies>
[[nodiscard]] std::vector<ShardUnit> shard_units(const Suite& s) {
  validate_suite<Backends, Families>(s);
  std::vector<ShardUnit> out;
  for (const SuiteEntry& entry : s.benchmarks) {
    detail::find_by_name(Families{}, entry.family, [&](auto family) {
      using F = typename decltype(family)::type;
      for (const auto& hw : s.hardware) {
        double all_loads_s = 0;
        for (const auto& model : entry.models) {
          const Config config = restrict_sweep_to<F>(detail::config_for_model(s.settings, model));
          const typename F::Preset preset = detail::preset_for<F>(config);
          double load_s = 0.05;
          if constexpr (HasParameterCount<typename F::Preset>) {
            load_s += 4.0 * static_cast<double>(preset.parameter_count()) / detail::assumed_load_bytes_per_s;
          }
          all_loads_s += load_s;
          for (const auto& cell : detail::cells_for<F>(config, preset)) {
            double run_s = detail::assumed_run_s;
            if constexpr (HasFlops<F>) run_s = std::max(F::flops(preset, cell) / detail::assumed_flops_per_s, 1e-6);
            out.push_back(ShardUnit{cell_key(std::string(F::name), preset.name, hw, F::axes(cell)),
                                    std::string(F::name), preset.name, hw, detail::cell_cost_s(config, run_s),
                                    load_s});
          }
        }
        if (s.concurrent_loading && entry.models.size() > 1) {
          // Each repetition loads every model one after another, then all at once.
          out.push_back(ShardUnit{"loading/" + entry.family + "/" + hw, entry.family, "", hw,
                                  2.0 * s.loading_repetitions * all_loads_s, 0});
        }
      }
    });
  }
  return out;
}

/// Assigns `units` to `count` shards: the costliest first (ties by key),
/// each to the shard whose estimate grows least, counting its model's load
/// on a shard that has not loaded it yet (ties to the lower shard).
[[nodiscard]] inline ShardPlan plan_shards(std::vector<ShardUnit> units, int count) {
  if (count < 1) throw ConfigError("shards", std::to_string(count), "must be at least 1");
  ShardPlan plan;
  plan.count = count;
  plan.shard_of.assign(units.size(), 0);
  plan.estimated_s.assign(static_cast<std::size_t>(count), 0.0);
  std::vector<std::size_t> order(units.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(units[b].cost_s, units[a].key) < std::tie(units[a].cost_s, units[b].key);
  });
  std::set<std::tuple<int, std::string, std::string, std::string>> loaded;  // shard, family, model, backend
  for (const std::size_t i : order) {
    const ShardUnit& u = units[i];
    int best = 0;
    double best_total = 0;
    for (int k = 0; k < count; ++k) {
      const bool has_model = u.model.empty() || loaded.count({k, u.family, u.model, u.backend}) > 0;
      const double total = plan.estimated_s[static_cast<std::size_t>(k)] + u.cost_s + (has_model ? 0 : u.load_s);
      if (k == 0 || total < best_total) {
        best = k;
        best_total = total;
      }
    }
    plan.estimated_s[static_cast<std::size_t>(best)] = best_total;
    if (!u.model.empty()) loaded.insert({best, u.family, u.model, u.backend});
    plan.shard_of[i] = best + 1;
  }
  plan.units = std::move(units);
  return plan;
}

/// The plan of suite `s` in `count` shards.
template <class Backends = KnownBackends, class Families = KnownFamilies>
[[nodiscard]] ShardPlan plan_suite_shards(const Suite& s, int count) {
  return plan_shards(shard_units<Backends, Families>(s), count);
}

/// `observer` restricted to shard `shard` of `plan`: the cells and loading
/// benchmarks of other shards are skipped (with whatever the observer
/// already skips).
inline void restrict_to_shard(SuiteObserver& observer, const ShardPlan& plan, int shard) {
  auto mine = std::make_shared<const std::set<std::string>>(plan.keys(shard));
  auto skip_cell = observer.skip_cell;
  observer.skip_cell = [mine, skip_cell](const CellResult& c) {
    return mine->count(cell_key(c)) == 0 || (skip_cell && skip_cell(c));
  };
  auto skip_loading = observer.skip_loading;
  observer.skip_loading = [mine, skip_loading](const std::string& family, const std::string& backend) {
    return mine->count("loading/" + family + "/" + backend) == 0 || (skip_loading && skip_loading(family, backend));
  };
}

}  // namespace accelbench
