// ResourcePool and the concurrent-loading benchmark. This file is also built
// with ThreadSanitizer (accelbench_tsan_tests), which fails on a data race.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/run/loading.hpp>
#include <accelbench/run/resource_pool.hpp>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "spin_family.hpp"

using namespace accelbench;
using accelbench::test::Spin;

namespace {
Cpu one_thread() { return Cpu{Cpu::Options{.threads = 1}}; }
}  // namespace

TEST_CASE("a model is loaded once per device, preset and seed") {
  ResourcePool pool;
  Cpu a = one_thread();
  Cpu b = one_thread();  // another Cpu object, the same host memory
  test::loads_started = 0;
  const auto& preset = Spin::find_preset("load-5ms");
  const auto first = pool.acquire<Spin>(a, preset, 1);
  const auto again = pool.acquire<Spin>(b, preset, 1);
  CHECK(first.model == again.model);
  CHECK_FALSE(first.shared);
  CHECK(again.shared);
  CHECK(again.upload_s == first.upload_s);
  CHECK(test::loads_started == 1);
  const auto reseeded = pool.acquire<Spin>(a, preset, 2);
  CHECK(reseeded.model != first.model);
  const auto other = pool.acquire<Spin>(a, Spin::find_preset("spin-100us"), 1);
  CHECK(other.model != first.model);
  CHECK(pool.size() == 3);
  CHECK(pool.loads() == 3);
  CHECK(pool.hits() == 1);
  pool.clear();
  CHECK(pool.size() == 0);
  CHECK(first.model.use_count() >= 2);  // still held by its users
}

TEST_CASE("a failed load is reported and not cached") {
  ResourcePool pool;
  Cpu cpu = one_thread();
  test::flaky_failures_left = 1;
  const auto& preset = Spin::find_preset("flaky-load");
  CHECK_THROWS_WITH((void)pool.acquire<Spin>(cpu, preset, 1), "flaky load failed");
  CHECK(pool.size() == 0);
  const auto loaded = pool.acquire<Spin>(cpu, preset, 1);
  CHECK(loaded.model != nullptr);
  CHECK(pool.size() == 1);
}

TEST_CASE("concurrent requests share one load, different models load in parallel") {
  ResourcePool pool;
  test::loads_started = 0;
  constexpr int threads = 8;
  std::vector<std::shared_ptr<const Spin::Model<Cpu>>> got(threads);
  std::vector<std::thread> pool_users;
  std::atomic<int> ready{0};
  for (int i = 0; i < threads; ++i) {
    pool_users.emplace_back([&, i] {
      Cpu cpu = one_thread();
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      // Half ask for one model, half for another.
      got[std::size_t(i)] = pool.acquire<Spin>(cpu, Spin::find_preset(i % 2 ? "load-50ms" : "load-5ms"), 7).model;
    });
  }
  for (auto& t : pool_users) t.join();
  CHECK(test::loads_started == 2);
  CHECK(pool.loads() == 2);
  CHECK(pool.hits() == threads - 2);
  std::set<const void*> distinct;
  for (int i = 0; i < threads; ++i) {
    distinct.insert(got[std::size_t(i)].get());
    CHECK(got[std::size_t(i)] == got[std::size_t(i % 2)]);
  }
  CHECK(distinct.size() == 2);
}

TEST_CASE("loading K models concurrently versus one after another") {
  const std::vector<std::string> models = {"load-50ms", "load-50ms", "load-50ms"};
  const auto r = measure_loading<Spin, Cpu>(models, [] { return one_thread(); }, 1, 2);
  CHECK(r.status == "ok");
  CHECK(r.repetitions == 2);
  REQUIRE(r.sequential_s.size() == 2);
  REQUIRE(r.concurrent_s.size() == 2);
  CHECK(r.sequential_median_s >= 0.15);  // three sleeps of 50 ms
  CHECK(r.concurrent_median_s >= 0.05);
  CHECK(r.speedup > 1.5);  // sleeps overlap whatever the core count
  CHECK(r.speedup == doctest::Approx(r.sequential_median_s / r.concurrent_median_s));

  auto unknown = [] { (void)measure_loading<Spin, Cpu>({"load-50ms", "nope"}, [] { return one_thread(); }, 1); };
  CHECK_THROWS_WITH_AS(unknown(), doctest::Contains("models[1] = nope"), ConfigError);
  test::flaky_failures_left = 100;
  const auto failed = measure_loading<Spin, Cpu>({"flaky-load"}, [] { return one_thread(); }, 1, 1);
  CHECK(failed.status == "failed");
  CHECK(failed.message == "flaky load failed");
  test::flaky_failures_left = 0;
}
