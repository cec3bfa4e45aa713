// The measurement engine: distributions and intervals against hand-computed
// values, timers, the stopping rule, batching, timeouts, warmup, memory
// sampling, environment warnings and the paired comparison.

#include <doctest/doctest.h>

#include <accelbench/run/benchmark.hpp>
#include <accelbench/suite/compare.hpp>
#include <accelbench/machine/environment.hpp>
#include <accelbench/measure/memory.hpp>
#include <accelbench/measure/stats/mean_stats.hpp>
#include <accelbench/measure/stats/percentile_stats.hpp>
#include <accelbench/measure/timer/calibration.hpp>
#include <accelbench/measure/timer/cpu_timer.hpp>
#include <accelbench/measure/timer/perf_counter_timer.hpp>
#include <accelbench/measure/timer/tsc_timer.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "spin_family.hpp"

using namespace accelbench;
using accelbench::test::Spin;

namespace {

Config spin_config(const char* model) {
  return Config{.model = model,
                .batch_sizes = {1},
                .warmup_iterations = 2,
                .min_iterations = 10,
                .max_iterations = 100000,
                .min_time_s = 0.0,
                .max_time_s = 5.0};
}

Cpu one_thread() { return Cpu{Cpu::Options{.threads = 1}}; }

void busy_wait(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
  }
}

bool has_warning(const CellResult& c, const char* text) {
  for (const auto& w : c.warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("binomial distribution and order-statistic ranks") {
  const auto cdf = stats::binomial_cdf(10, 0.5);
  CHECK(cdf[0] == doctest::Approx(1.0 / 1024));
  CHECK(cdf[1] == doctest::Approx(11.0 / 1024));
  CHECK(cdf[5] == doctest::Approx(638.0 / 1024));
  CHECK(cdf[10] == 1.0);
  std::size_t lo = 0, hi = 0;
  // Median of 10: the 2nd and 9th order statistics (coverage 97.9%).
  REQUIRE(stats::quantile_ci_ranks(10, 0.5, 0.95, lo, hi));
  CHECK(lo == 1);
  CHECK(hi == 8);
  // Six samples are the fewest for a 95% interval of the median: 1st and 6th.
  REQUIRE(stats::quantile_ci_ranks(6, 0.5, 0.95, lo, hi));
  CHECK(lo == 0);
  CHECK(hi == 5);
  CHECK_FALSE(stats::quantile_ci_ranks(5, 0.5, 0.95, lo, hi));
  // p99 needs 0.99^n <= 0.025, n >= 368.
  CHECK_FALSE(stats::quantile_ci_ranks(367, 0.99, 0.95, lo, hi));
  CHECK(stats::quantile_ci_ranks(368, 0.99, 0.95, lo, hi));
  CHECK(hi == 367);
  // Large n stays finite (log-space sums).
  CHECK(stats::quantile_ci_ranks(100000, 0.5, 0.95, lo, hi));
  CHECK(lo < 50000);
  CHECK(hi > 50000);
}

TEST_CASE("sign test, normal and Student t quantiles") {
  CHECK(stats::sign_test_p_value(10, 0) == doctest::Approx(2.0 / 1024));
  CHECK(stats::sign_test_p_value(0, 10) == doctest::Approx(2.0 / 1024));
  CHECK(stats::sign_test_p_value(5, 5) == 1.0);
  CHECK(stats::sign_test_p_value(0, 0) == 1.0);
  CHECK(stats::sign_test_p_value(8, 2) == doctest::Approx(2.0 * 56.0 / 1024));
  CHECK(stats::normal_quantile(0.975) == doctest::Approx(1.959963985).epsilon(1e-9));
  CHECK(stats::normal_quantile(0.5) == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(stats::normal_quantile(0.001) == doctest::Approx(-3.090232306).epsilon(1e-8));
  // Student t quantiles from the standard tables.
  CHECK(stats::student_t_quantile(0.975, 1) == doctest::Approx(12.7062).epsilon(1e-4));
  CHECK(stats::student_t_quantile(0.975, 4) == doctest::Approx(2.7764).epsilon(1e-4));
  CHECK(stats::student_t_quantile(0.975, 10) == doctest::Approx(2.2281).epsilon(1e-4));
  CHECK(stats::student_t_quantile(0.995, 30) == doctest::Approx(2.7500).epsilon(1e-4));
  CHECK(stats::student_t_quantile(0.025, 10) == doctest::Approx(-2.2281).epsilon(1e-4));
  CHECK(stats::student_t_cdf(0.0, 7) == doctest::Approx(0.5));
}

TEST_CASE("PercentileStats: p99.9, MAD, intervals, outliers and histogram") {
  const std::vector<double> x = {3, 1, 100, 2, 4};
  const auto s = PercentileStats::summarize(x);
  CHECK(*s.mad == doctest::Approx(1.0));  // deviations from 3: 0 1 1 2 97
  CHECK(*s.p999 == doctest::Approx(100 - 0.004 * 96));  // h = 3.996
  REQUIRE(s.outliers.has_value());
  CHECK(s.outliers->high == 1);  // Q1 = 2, Q3 = 4, fences 7 and 10
  CHECK(s.outliers->extreme_high == 1);
  CHECK(s.outliers->low == 0);
  CHECK_FALSE(s.median_ci.has_value());  // 5 samples: too few at 95%
  CHECK(s.confidence == 0.95);

  std::vector<double> ten;
  for (int i = 10; i >= 1; --i) ten.push_back(i);
  const auto t = PercentileStats::summarize(ten);
  REQUIRE(t.median_ci.has_value());
  CHECK(t.median_ci->low == 2);
  CHECK(t.median_ci->high == 9);
  CHECK_FALSE(t.p99_ci.has_value());
  const auto loose = PercentileStats::summarize(ten, 0.5);
  CHECK(loose.confidence == 0.5);
  CHECK(loose.median_ci->high - loose.median_ci->low < 7);
  REQUIRE(t.histogram.has_value());
  std::size_t total = 0;
  for (auto n : t.histogram->counts) total += n;
  CHECK(total == 10);
  CHECK(t.histogram->min == 1);
  CHECK(t.histogram->min + t.histogram->bin_width * double(t.histogram->counts.size()) == doctest::Approx(10));
  CHECK(t.outliers->total() == 0);
}

TEST_CASE("MeanStats: moments and Student's interval, no percentiles") {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  const auto s = MeanStats::summarize(x);
  CHECK(s.mean == 3);
  CHECK_FALSE(s.median.has_value());
  REQUIRE(s.mean_ci.has_value());
  const double half = 2.7764451 * std::sqrt(2.5) / std::sqrt(5.0);
  CHECK(s.mean_ci->low == doctest::Approx(3 - half).epsilon(1e-6));
  CHECK(s.mean_ci->high == doctest::Approx(3 + half).epsilon(1e-6));
  CHECK_FALSE(MeanStats::summarize(std::vector<double>{1}).mean_ci.has_value());
  static_assert(Stats<MeanStats>);
}

TEST_CASE("CPU-time timers count running, not sleeping") {
  ProcessCpuTimer process;
  ThreadCpuTimer thread;
  SteadyTimer wall;
  process.start();
  thread.start();
  wall.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const double slept_cpu = thread.stop();
  const double slept_wall = wall.stop();
  CHECK(slept_wall >= 0.060);
  CHECK(slept_cpu < 0.5 * slept_wall);
  // Spin until the kernel's own account of this thread (getrusage, not the
  // clocks the timers read) shows 30 ms of CPU time, however loaded the
  // machine is; the timers must have counted most of it.
  thread.start();
  const auto thread_cpu_s = [] {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
  };
  const double before = thread_cpu_s();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (thread_cpu_s() - before < 0.03 && std::chrono::steady_clock::now() < give_up) busy_wait(0.001);
  REQUIRE(thread_cpu_s() - before >= 0.03);
  CHECK(thread.stop() > 0.02);
  CHECK(process.stop() > 0.02);
  static_assert(Timer<ProcessCpuTimer> && Timer<ThreadCpuTimer> && Timer<TscTimer> && Timer<PerfCounterTimer>);
}

TEST_CASE("the TSC timer, where the TSC is invariant") {
  const auto a = TscTimer::available();
  if (!a) {
    CHECK_FALSE(a.reason.empty());
    MESSAGE("TSC timer unavailable here: " << a.reason);
    return;
  }
  CHECK(TscTimer::ticks_per_second() > 1e8);
  TscTimer t;
  t.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const double s = t.stop();
  CHECK(s >= 0.025);
  CHECK(s < 2.0);
  const auto info = measure_timer(t);
  CHECK(info.resolution_s > 0);
  CHECK(info.resolution_s < 1e-6);
  CHECK(info.properties.at(0).first == "frequency_hz");
}

TEST_CASE("timers report resolution and call cost at start-up") {
  SteadyTimer steady;
  const auto info = measure_timer(steady);
  CHECK(info.name == "steady_clock");
  CHECK(info.available);
  CHECK(info.resolution_s > 0);
  CHECK(info.resolution_s < 1e-3);
  CHECK(info.call_cost_s > 0);
  CHECK(info.call_cost_s < 1e-3);
}

TEST_CASE("the hardware-counter timer counts, or says why it cannot") {
  const auto a = PerfCounterTimer::available();
  auto r = Benchmark<Cpu, Spin, PercentileStats, PerfCounterTimer>{spin_config("spin-100us"), one_thread()}.run();
  REQUIRE(r.timers.size() == 1);
  CHECK(r.timers[0].name == "perf_event");
  CHECK(r.timers[0].available == a.available);
  if (!a) {
    MESSAGE("perf_event timer unavailable here: " << a.reason);
    CHECK(a.reason.find("perf_event_open") != std::string::npos);
    CHECK(r.timers[0].reason == a.reason);
    CHECK(r.cells.at(0).status == CellStatus::unavailable);
    CHECK(r.cells.at(0).message == "timer perf_event: " + a.reason);
  } else {
    const auto& c = r.cells.at(0);
    CHECK(c.status == CellStatus::ok);
    REQUIRE(c.counters.size() == 3);
    CHECK(c.counters[0].first == "cycles");
    CHECK(c.counters[0].second > 1000);  // 100 us of spinning
    CHECK(c.counters[1].second > 1000);
    CHECK(c.counters[2].first == "instructions_per_cycle");
  }
}

TEST_CASE("stopping rule: the median's interval target ends sampling early") {
  auto cfg = spin_config("spin-100us");
  cfg.min_iterations = 20;
  cfg.target_relative_ci_width = 0.5;  // loose enough for any machine
  cfg.max_time_s = 20;
  const auto r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  const auto& c = r.cells.at(0);
  CHECK(c.stop_reason == "target_relative_ci_width");
  CHECK(c.measured_time_s < 10);
  REQUIRE(c.latency.median_ci.has_value());
  CHECK((c.latency.median_ci->high - c.latency.median_ci->low) / *c.latency.median <= 0.5);
  CHECK_FALSE(has_warning(c, "not reached"));

  // Five samples cannot give a 95% interval of the median: the target is not reached.
  cfg.min_iterations = 5;
  cfg.max_iterations = 5;
  const auto r2 = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  CHECK(r2.cells.at(0).stop_reason == "max_iterations");
  CHECK(has_warning(r2.cells.at(0), "target_relative_ci_width (0.5) not reached: the median's interval is not yet defined"));
}

TEST_CASE("short operations are timed in batches") {
  auto cfg = spin_config("spin-none");  // one counter increment per run
  cfg.min_iterations = 1000;
  auto r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  auto c = r.cells.at(0);
  CHECK(c.iterations_per_sample > 1);
  CHECK(c.iterations == c.samples_s.size() * c.iterations_per_sample);
  const double total = c.latency.mean * static_cast<double>(c.iterations);
  CHECK(total == doctest::Approx(c.measured_time_s).epsilon(1e-6));

  cfg.iterations_per_sample = 7;
  r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  c = r.cells.at(0);
  CHECK(c.iterations_per_sample == 7);
  CHECK(c.iterations % 7 == 0);

  auto slow = spin_config("spin-2ms");
  r = Benchmark<Cpu, Spin>{slow, one_thread()}.run();
  CHECK(r.cells.at(0).iterations_per_sample == 1);
}

TEST_CASE("a cell past its timeout ends with status timeout and keeps its samples") {
  auto cfg = spin_config("spin-2ms");
  cfg.min_time_s = 30;
  cfg.max_time_s = 60;
  cfg.cell_timeout_s = 0.2;
  cfg.batch_sizes = {1, 2};
  const auto r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  REQUIRE(r.cells.size() == 2);
  for (const auto& c : r.cells) {
    CHECK(c.status == CellStatus::timeout);
    CHECK(c.message.find("cell_timeout_s (0.2 s) passed during sampling") != std::string::npos);
    CHECK(c.samples_s.size() > 5);
    CHECK(c.latency.count == c.samples_s.size());
    CHECK(c.measured_time_s < 1.0);
  }
}

TEST_CASE("warmup until stable") {
  auto cfg = spin_config("spin-100us");
  cfg.warmup_iterations = 3;
  cfg.warmup_until_stable = true;
  cfg.warmup_stability_tolerance = 0.5;
  const auto r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  const auto& c = r.cells.at(0);
  CHECK(c.warmup_iterations >= 3 + 10);  // two windows of five at least
  CHECK((c.warmup_iterations - 3) % 5 == 0);
  CHECK_FALSE(has_warning(c, "warmup did not stabilise"));
}

TEST_CASE("memory: a background sampler gives the average and the largest resident set") {
  MemorySampler sampler(0.002);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::size_t bytes = 96u << 20;
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 1, bytes);  // touch every page
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  const auto during = detail::fast_rss_bytes();
  block.reset();
  const MemorySamples m = sampler.finish();
  CHECK(m.count >= 5);
  CHECK(m.max_bytes >= during - (8u << 20));
  CHECK(m.average_bytes > 0);
  CHECK(m.average_bytes < m.max_bytes);

  auto cfg = spin_config("spin-100us");
  cfg.min_time_s = 0.05;
  const auto r = Benchmark<Cpu, Spin>{cfg, one_thread()}.run();
  const auto& c = r.cells.at(0);
  REQUIRE(c.memory.average_rss_bytes.has_value());
  CHECK(*c.memory.average_rss_bytes > 0);
  CHECK(c.memory.rss_samples >= 2);
  cfg.memory_sample_interval_s = 0;
  CHECK_FALSE(Benchmark<Cpu, Spin>{cfg, one_thread()}.run().cells.at(0).memory.average_rss_bytes.has_value());
}

TEST_CASE("environment warnings: frequency scaling, boost, virtual machines, debug builds") {
  EnvironmentInfo e;
  CHECK(environment_warnings(e).empty());
  e.governor = "performance";
  CHECK(environment_warnings(e).empty());
  e.governor = "powersave";
  e.boost = true;
  e.virtualized = true;
  e.hypervisor = "KVM";
  const auto w = environment_warnings(e);
  REQUIRE(w.size() == 3);
  CHECK(w[0].find("governor is 'powersave'") != std::string::npos);
  CHECK(w[1].find("boost") != std::string::npos);
  CHECK(w[2].find("virtual machine (KVM)") != std::string::npos);

  // Whatever this machine is, its warnings reach every cell and the run.
  const auto here = environment_info();
  const auto r = Benchmark<Cpu, Spin>{spin_config("spin-100us"), one_thread()}.run();
  for (const auto& warning : environment_warnings(here)) {
    CHECK(has_warning(r.cells.at(0), warning.c_str()));
    CHECK(std::find(r.warnings.begin(), r.warnings.end(), warning) != r.warnings.end());
  }
  CHECK(r.environment.virtualized == here.virtualized);
}

TEST_CASE("paired comparison: the pairwise ratio, its interval and the sign test") {
  ComparisonCell twice;
  std::vector<double> b = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<double> a;
  for (double x : b) a.push_back(2 * x);
  detail::summarize_pairs(a, b, 0.95, twice);
  CHECK(twice.ratio == 2.0);
  REQUIRE(twice.ratio_ci.has_value());
  CHECK(twice.ratio_ci->low == 2.0);
  CHECK(twice.a_slower == 10);
  CHECK(twice.p_value == doctest::Approx(2.0 / 1024));
  CHECK(twice.significant);
  CHECK(twice.median_a_s == doctest::Approx(11.0));

  ComparisonCell same;
  detail::summarize_pairs(b, b, 0.95, same);
  CHECK(same.ratio == 1.0);
  CHECK(same.a_slower + same.b_slower == 0);
  CHECK(same.p_value == 1.0);
  CHECK_FALSE(same.significant);

  // Measured: 200 us against 100 us of spinning.
  auto cfg = spin_config("spin-200us");
  cfg.min_iterations = 30;
  auto cfg_b = cfg;
  cfg_b.model = "spin-100us";
  const auto r = compare<Spin>(Variant<Cpu>{"slow", cfg, one_thread()}, Variant<Cpu>{"fast", cfg_b, one_thread()});
  REQUIRE(r.comparisons.size() == 1);
  const auto& cmp = r.comparisons[0];
  CHECK(cmp.label_a == "slow");
  CHECK(cmp.model_b == "spin-100us");
  const auto& c = cmp.cells.at(0);
  CHECK(c.status == "ok");
  CHECK(c.pairs >= 30);
  CHECK(c.ratio > 1.3);
  REQUIRE(c.ratio_ci.has_value());
  CHECK(c.ratio_ci->low > 1.0);
  CHECK(c.significant);

  auto other = cfg;
  other.batch_sizes = {1, 2};
  CHECK_THROWS_AS((void)compare<Spin>(Variant<Cpu>{"a", cfg, one_thread()}, Variant<Cpu>{"b", other, one_thread()}),
                  ConfigError);
}
