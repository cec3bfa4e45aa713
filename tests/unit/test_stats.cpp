// PercentileStats against hand-computed values. The definition (linear
// interpolation between closest ranks, h = (n - 1) q / 100) is documented in
// stats/percentile_stats.hpp and docs/result-schema.md.

#include <doctest/doctest.h>

#include <accelbench/measure/stats/percentile_stats.hpp>
#include <accelbench/measure/timer/steady_timer.hpp>

#include <cmath>
#include <thread>
#include <vector>

using accelbench::percentile_sorted;
using accelbench::PercentileStats;

TEST_CASE("one sample is every statistic of itself") {
  const std::vector<double> x = {5.0};
  const auto s = PercentileStats::summarize(x);
  CHECK(s.count == 1);
  CHECK(s.min == 5.0);
  CHECK(s.max == 5.0);
  CHECK(s.mean == 5.0);
  CHECK(*s.median == 5.0);
  CHECK(*s.p90 == 5.0);
  CHECK(*s.p99 == 5.0);
  CHECK(s.stddev == 0.0);
  CHECK(s.cv == 0.0);
}

TEST_CASE("odd count, given unsorted") {
  const std::vector<double> x = {3, 1, 5, 2, 4};
  const auto s = PercentileStats::summarize(x);
  CHECK(s.min == 1);
  CHECK(s.max == 5);
  CHECK(s.mean == doctest::Approx(3.0));
  CHECK(*s.median == doctest::Approx(3.0));
  CHECK(*s.p90 == doctest::Approx(4.6));   // h = 3.6: 4 + 0.6 * (5 - 4)
  CHECK(*s.p95 == doctest::Approx(4.8));   // h = 3.8
  CHECK(*s.p99 == doctest::Approx(4.96));  // h = 3.96
  CHECK(s.stddev == doctest::Approx(std::sqrt(2.5)));  // squares sum to 10, over n - 1 = 4
  CHECK(s.cv == doctest::Approx(std::sqrt(2.5) / 3.0));
}

TEST_CASE("even count interpolates the median") {
  const std::vector<double> x = {4, 1, 3, 2};
  const auto s = PercentileStats::summarize(x);
  CHECK(*s.median == doctest::Approx(2.5));  // h = 1.5
  CHECK(*s.p90 == doctest::Approx(3.7));     // h = 2.7
  CHECK(*s.p95 == doctest::Approx(3.85));    // h = 2.85
  CHECK(*s.p99 == doctest::Approx(3.97));    // h = 2.97
}

TEST_CASE("ties") {
  const std::vector<double> x = {2, 5, 2, 2};
  const auto s = PercentileStats::summarize(x);
  CHECK(*s.median == doctest::Approx(2.0));  // h = 1.5 between two 2s
  CHECK(*s.p90 == doctest::Approx(4.1));     // h = 2.7: 2 + 0.7 * 3
  CHECK(*s.p95 == doctest::Approx(4.55));
  CHECK(*s.p99 == doctest::Approx(4.91));
  const std::vector<double> same = {7, 7, 7};
  const auto t = PercentileStats::summarize(same);
  CHECK(*t.median == 7);
  CHECK(*t.p99 == 7);
  CHECK(t.stddev == 0);
}

TEST_CASE("ten samples 1..10") {
  std::vector<double> x;
  for (int i = 10; i >= 1; --i) x.push_back(i);
  const auto s = PercentileStats::summarize(x);
  CHECK(*s.median == doctest::Approx(5.5));
  CHECK(*s.p90 == doctest::Approx(9.1));  // h = 8.1
  CHECK(*s.p99 == doctest::Approx(9.91));
}

TEST_CASE("percentile edges and bad arguments") {
  const std::vector<double> sorted = {1, 2, 10};
  CHECK(percentile_sorted(sorted, 0) == 1);
  CHECK(percentile_sorted(sorted, 100) == 10);
  CHECK(percentile_sorted(sorted, 75) == doctest::Approx(6.0));  // h = 1.5
  CHECK_THROWS_AS((void)percentile_sorted(std::vector<double>{}, 50), std::invalid_argument);
  CHECK_THROWS_AS((void)percentile_sorted(sorted, 101), std::invalid_argument);
  CHECK_THROWS_AS((void)percentile_sorted(sorted, -1), std::invalid_argument);
  const auto empty = PercentileStats::summarize(std::vector<double>{});
  CHECK(empty.count == 0);
  CHECK_FALSE(empty.median.has_value());
}

TEST_CASE("SteadyTimer measures elapsed wall time") {
  accelbench::SteadyTimer t;
  t.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double s = t.stop();
  CHECK(s >= 0.020);
  CHECK(s < 5.0);
}
