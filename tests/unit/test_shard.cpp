// Shards of a suite (suite/shard.hpp): every unit in exactly one shard, the
// same plan for the same suite, balance by estimated cost, a model loaded on
// as few shards as balance allows, and "I/N" read or refused by name.

#include <accelbench/suite/shard.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "spin_family.hpp"

using namespace accelbench;

namespace {

std::vector<ShardUnit> units_of(int models, int cells_each, double cost, double load) {
  std::vector<ShardUnit> out;
  for (int m = 0; m < models; ++m) {
    for (int c = 0; c < cells_each; ++c) {
      const std::string model = "m" + std::to_string(m);
      out.push_back(ShardUnit{"f/" + model + "/cpu/batch_size=" + std::to_string(c + 1), "f", model, "cpu",
                              cost * (1 + c % 3), load});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("shards: every unit in exactly one shard, the same plan every time") {
  const auto units = units_of(5, 7, 1.0, 0.5);
  for (int n : {1, 2, 3, 4, 7, 50}) {
    const ShardPlan plan = plan_shards(units, n);
    REQUIRE(plan.shard_of.size() == units.size());
    std::set<std::string> seen;
    for (int k = 1; k <= n; ++k) {
      for (const auto& key : plan.keys(k)) CHECK(seen.insert(key).second);
    }
    CHECK(seen.size() == units.size());
    CHECK(plan_shards(units, n).shard_of == plan.shard_of);
    // The order the units come in does not change the plan.
    auto reversed = units;
    std::reverse(reversed.begin(), reversed.end());
    const ShardPlan again = plan_shards(reversed, n);
    for (std::size_t i = 0; i < units.size(); ++i) CHECK(again.in_shard(units[i].key, plan.shard_of[i]));
  }
}

TEST_CASE("shards: balanced by estimated cost, loads counted once per shard and model") {
  const auto units = units_of(4, 12, 1.0, 0.2);
  const ShardPlan plan = plan_shards(units, 4);
  const auto [lo, hi] = std::minmax_element(plan.estimated_s.begin(), plan.estimated_s.end());
  const double total = std::accumulate(units.begin(), units.end(), 0.0,
                                       [](double s, const ShardUnit& u) { return s + u.cost_s; });
  CHECK(*hi - *lo <= 3.0 + 0.2);  // at most the costliest unit and a load apart
  CHECK(std::accumulate(plan.estimated_s.begin(), plan.estimated_s.end(), 0.0) >= total);
  // A model's load is paid by each shard that has its cells: the estimates
  // are the cells plus one load per (shard, model).
  std::set<std::pair<int, std::string>> loads;
  for (std::size_t i = 0; i < units.size(); ++i) loads.insert({plan.shard_of[i], units[i].model});
  CHECK(std::accumulate(plan.estimated_s.begin(), plan.estimated_s.end(), 0.0) ==
        doctest::Approx(total + 0.2 * static_cast<double>(loads.size())));

  // Loading a model costs more than balance gains: each model stays on one shard.
  const ShardPlan heavy = plan_shards(units_of(4, 3, 0.01, 100.0), 4);
  std::map<std::string, std::set<int>> shards_of_model;
  for (std::size_t i = 0; i < heavy.units.size(); ++i) shards_of_model[heavy.units[i].model].insert(heavy.shard_of[i]);
  for (const auto& [model, shards] : shards_of_model) CHECK_MESSAGE(shards.size() == 1, model);
}

TEST_CASE("shards: a suite's units are its cells and loading benchmarks, keyed as its results") {
  Suite s;
  s.benchmarks = {{"spin", {"spin-100us", "spin-2ms"}}};
  s.settings.batch_sizes = {1, 2, 3};
  s.settings.sweep.clear();
  s.concurrent_loading = true;
  using Families = TypeList<test::Spin>;
  const auto units = shard_units<TypeList<Cpu>, Families>(s);
  REQUIRE(units.size() == 7);
  CHECK(units.front().key == "spin/spin-100us/cpu/n=1");
  CHECK(units.back().key == "loading/spin/cpu");
  CHECK(units.back().model.empty());
  for (const auto& u : units) CHECK(u.cost_s > 0);
  const ShardPlan plan = plan_suite_shards<TypeList<Cpu>, Families>(s, 3);
  CHECK(plan.units.size() == 7);
}

TEST_CASE("shards: I/N is read, anything else refused naming the flag and the value") {
  CHECK(parse_shard("2/4") == Shard{2, 4});
  CHECK(parse_shard("1/1") == Shard{1, 1});
  for (const char* bad : {"0/4", "5/4", "4", "/4", "2/", "a/4", "2/4x", "-1/4", "1/0", "1/100001", ""}) {
    CAPTURE(bad);
    try {
      (void)parse_shard(bad);
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(e.field() == "--shard");
      CHECK(std::string(e.what()).find(std::string("\"") + bad + "\"") != std::string::npos);
    }
  }
  CHECK_THROWS_AS((void)plan_shards({}, 0), ConfigError);
}
