// Regression checks: the two-sample statistics (measure/stats/two_sample.hpp),
// change points by E-divisive means (measure/stats/change_points.hpp), runs
// compared cell by cell (report/regression.hpp) and cell histories
// (report/history.hpp).

#include <accelbench/detail/rng.hpp>
#include <accelbench/measure/stats/change_points.hpp>
#include <accelbench/measure/stats/two_sample.hpp>
#include <accelbench/report/history.hpp>
#include <accelbench/report/regression.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace accelbench;

namespace {

/// n values of a normal distribution (mean, sd), reproducible from `seed`.
std::vector<double> normal(std::size_t n, double mean, double sd, std::uint64_t seed) {
  std::vector<double> out;
  const std::uint64_t stream = detail::stream_seed(seed, "test-normal");
  for (std::size_t i = 0; out.size() < n; ++i) {
    // Box–Muller from two uniforms in (0, 1).
    const double u1 = (static_cast<double>(detail::random_bits(stream, 2 * i) >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (static_cast<double>(detail::random_bits(stream, 2 * i + 1) >> 11) + 0.5) / 9007199254740992.0;
    out.push_back(mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2));
  }
  return out;
}

std::vector<double> scaled(std::vector<double> x, double factor) {
  for (auto& v : x) v *= factor;
  return x;
}

/// P(U <= u) by listing every way to choose which of n1 + n2 ranks the
/// first sample holds.
double brute_force_cdf(int n1, int n2, double u) {
  std::vector<int> pick(static_cast<std::size_t>(n1 + n2), 0);
  std::fill(pick.end() - n1, pick.end(), 1);
  int total = 0;
  int below = 0;
  do {
    // U of the first sample: pairs where a first-sample rank is above a second-sample rank.
    int count = 0;
    int seconds_below = 0;
    for (int p : pick) {
      if (p == 1) {
        count += seconds_below;
      } else {
        ++seconds_below;
      }
    }
    ++total;
    if (count <= u) ++below;
  } while (std::next_permutation(pick.begin(), pick.end()));
  return static_cast<double>(below) / total;
}

CellResult timed_cell(std::string model, std::vector<double> samples) {
  CellResult c;
  c.family = "embedding";
  c.model = std::move(model);
  c.backend = "cpu";
  c.shape = {{"batch_size", 1}, {"sequence_length", 128}};
  c.samples_s = std::move(samples);
  double sum = 0;
  for (double s : c.samples_s) sum += s;
  c.latency.count = c.samples_s.size();
  c.latency.mean = sum / static_cast<double>(c.samples_s.size());
  c.latency.median = stats::median_of(c.samples_s);
  c.throughput.item_unit = "sequences";
  c.throughput.items_per_second = 1 / c.latency.mean;
  c.memory.peak_rss_bytes = 100u << 20;
  return c;
}

RunResult run_of(std::vector<CellResult> cells, std::string started_at = "2026-12-01T10:00:00Z") {
  RunResult r;
  r.started_at = std::move(started_at);
  r.system.hostname = "bench-1";
  r.cells = std::move(cells);
  return r;
}

const MetricComparison& metric(const CellComparison& c, const std::string& name) {
  for (const auto& m : c.metrics) {
    if (m.metric == name) return m;
  }
  FAIL("no metric " << name);
  return c.metrics.front();
}

}  // namespace

TEST_CASE("median_of: odd and even counts") {
  CHECK(stats::median_of(std::vector<double>{3, 1, 2}) == 2);
  CHECK(stats::median_of(std::vector<double>{4, 1, 3, 2}) == 2.5);
  CHECK_THROWS_AS((void)stats::median_of(std::vector<double>{}), std::invalid_argument);
}

TEST_CASE("Mann-Whitney U: the exact distribution matches a brute-force count") {
  for (int n1 = 1; n1 <= 6; ++n1) {
    for (int n2 = 1; n2 <= 6; ++n2) {
      for (int u = 0; u <= n1 * n2; ++u) {
        CHECK(stats::detail::mann_whitney_exact_cdf(static_cast<std::size_t>(n1), static_cast<std::size_t>(n2),
                                                    static_cast<std::size_t>(u)) ==
              doctest::Approx(brute_force_cdf(n1, n2, u)).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("Mann-Whitney U: exact p for small samples, normal approximation with ties") {
  // Separated samples of 3 and 3: U = 0, two-sided p = 2 / C(6, 3) = 0.1.
  const auto sep = stats::mann_whitney_u(std::vector<double>{1, 2, 3}, std::vector<double>{4, 5, 6});
  CHECK(sep.exact);
  CHECK(sep.u == 0);
  CHECK(sep.p_value == doctest::Approx(0.1));
  // 4 and 5: p = 2 / 126.
  CHECK(stats::mann_whitney_u(std::vector<double>{9, 8, 7, 6}, std::vector<double>{1, 2, 3, 4, 5}).p_value ==
        doctest::Approx(2.0 / 126));
  // With ties: a = {1, 2, 2}, b = {2, 3, 4, 5}. Mid-ranks of a: 1, 3, 3, so
  // U = 7 - 6 = 1; variance 3·4/12 · (8 − 24/42); z = −(5 − 0.5)/σ.
  const auto tied = stats::mann_whitney_u(std::vector<double>{1, 2, 2}, std::vector<double>{2, 3, 4, 5});
  CHECK_FALSE(tied.exact);
  CHECK(tied.u == 1);
  const double sigma = std::sqrt(8 - 24.0 / 42);
  CHECK(tied.z == doctest::Approx(-4.5 / sigma));
  CHECK(tied.p_value == doctest::Approx(std::erfc(4.5 / sigma / std::numbers::sqrt2)));
  CHECK(tied.p_value == doctest::Approx(0.09872864789482493).epsilon(1e-9));
  // Reference values from SciPy 1.10 (scipy.stats.mannwhitneyu, two-sided).
  const auto with_ties =
      stats::mann_whitney_u(std::vector<double>{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30},
                            std::vector<double>{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29});
  CHECK(with_ties.u == 58);
  CHECK(with_ties.p_value == doctest::Approx(0.13291945818531892).epsilon(1e-9));
  const auto exact = stats::mann_whitney_u(std::vector<double>{1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7},
                                           std::vector<double>{2.5, 3.5, 8.5, 9.5, 10.5, 11.5});
  CHECK(exact.exact);
  CHECK(exact.u == 9);
  CHECK(exact.p_value == doctest::Approx(0.10139860139860139).epsilon(1e-12));
  // Every value equal: no evidence.
  CHECK(stats::mann_whitney_u(std::vector<double>{1, 1}, std::vector<double>{1, 1, 1}).p_value == 1);
  // Large samples from one distribution are not significant; shifted ones are.
  const auto x = normal(200, 10, 1, 1);
  CHECK(stats::mann_whitney_u(x, normal(200, 10, 1, 2)).p_value > 0.05);
  CHECK(stats::mann_whitney_u(x, normal(200, 10.5, 1, 2)).p_value < 0.01);
}

TEST_CASE("bootstrap of the ratio of medians: deterministic, covering the true ratio") {
  const auto b = normal(100, 1.0, 0.02, 3);
  const auto c = scaled(normal(100, 1.0, 0.02, 4), 1.2);
  const auto r = stats::bootstrap_median_ratio(b, c, 0.95);
  CHECK(r.ratio == doctest::Approx(1.2).epsilon(0.01));
  REQUIRE(r.ci);
  CHECK(r.ci->low < r.ratio);
  CHECK(r.ci->high > r.ratio);
  CHECK(r.ci->low > 1.18);
  CHECK(r.ci->high < 1.22);
  const auto again = stats::bootstrap_median_ratio(b, c, 0.95);
  CHECK(again.ci->low == r.ci->low);
  CHECK(again.ci->high == r.ci->high);
  // A wider level gives a wider interval.
  const auto wide = stats::bootstrap_median_ratio(b, c, 0.99);
  CHECK(wide.ci->low <= r.ci->low);
  CHECK(wide.ci->high >= r.ci->high);
  // One value per side: a ratio, no interval.
  CHECK_FALSE(stats::bootstrap_median_ratio(std::vector<double>{1}, std::vector<double>{2}, 0.95).ci);
  CHECK_THROWS_AS((void)stats::bootstrap_median_ratio(std::vector<double>{0, 0}, std::vector<double>{1, 1}, 0.95),
                  std::invalid_argument);
}

TEST_CASE("compare_runs: identical runs have no regression") {
  const auto s = normal(50, 1e-3, 2e-5, 5);
  const RegressionReport r = compare_runs(run_of({timed_cell("bert-tiny", s)}), run_of({timed_cell("bert-tiny", s)}));
  REQUIRE(r.cells.size() == 1);
  CHECK_FALSE(r.regressed());
  const auto& lat = metric(r.cells[0], "latency");
  CHECK(lat.method == "samples");
  CHECK(lat.ratio == 1);
  CHECK(lat.verdict == Verdict::same);
  CHECK(metric(r.cells[0], "throughput").verdict == Verdict::same);
  CHECK(metric(r.cells[0], "memory").verdict == Verdict::same);
  CHECK(r.added.empty());
  CHECK(r.removed.empty());
  CHECK(r.warnings.empty());
}

TEST_CASE("compare_runs: 20% slower with tight samples is a regression") {
  const auto b = normal(50, 1e-3, 1e-5, 6);
  const auto c = scaled(normal(50, 1e-3, 1e-5, 7), 1.2);
  const RegressionReport r = compare_runs(run_of({timed_cell("bert-tiny", b)}), run_of({timed_cell("bert-tiny", c)}));
  REQUIRE(r.cells.size() == 1);
  CHECK(r.regressed());
  CHECK(r.regressions() == 1);
  const auto& lat = metric(r.cells[0], "latency");
  CHECK(lat.verdict == Verdict::regression);
  CHECK(lat.significant);
  CHECK(*lat.p_value < 1e-6);
  CHECK(lat.ratio_ci->low > 1.15);
  CHECK(lat.change == doctest::Approx(0.2).epsilon(0.05));
  const auto& tput = metric(r.cells[0], "throughput");
  CHECK_FALSE(tput.lower_is_better);
  CHECK(tput.unit == "sequences/s");
  CHECK(tput.ratio == doctest::Approx(1 / 1.2).epsilon(0.01));
  CHECK(tput.verdict == Verdict::regression);
  // And the other way round: faster, no regression.
  const RegressionReport back =
      compare_runs(run_of({timed_cell("bert-tiny", c)}), run_of({timed_cell("bert-tiny", b)}));
  CHECK_FALSE(back.regressed());
  CHECK(metric(back.cells[0], "latency").verdict == Verdict::better);
  CHECK(to_string(metric(back.cells[0], "latency").verdict) == "faster");
}

TEST_CASE("compare_runs: 2% slower stays under a 5% threshold, not under 1%") {
  const auto b = normal(100, 1e-3, 5e-6, 8);
  const auto c = scaled(normal(100, 1e-3, 5e-6, 9), 1.02);
  const auto base = run_of({timed_cell("bert-tiny", b)});
  const auto cont = run_of({timed_cell("bert-tiny", c)});
  const RegressionReport r = compare_runs(base, cont);
  CHECK_FALSE(r.regressed());
  const auto& lat = metric(r.cells[0], "latency");
  CHECK(lat.significant);
  CHECK(lat.verdict == Verdict::worse);
  CHECK(to_string(lat.verdict) == "slower");
  RegressionOptions strict;
  strict.max_slowdown.latency = 0.01;
  strict.max_slowdown.throughput = 0.01;
  const RegressionReport s = compare_runs(base, cont, strict);
  CHECK(s.regressed());
  CHECK(metric(s.cells[0], "latency").verdict == Verdict::regression);
}

TEST_CASE("compare_runs: noisy 20% slower with three samples is not significant") {
  const std::vector<double> b{1.0e-3, 1.4e-3, 0.8e-3};
  const std::vector<double> c{1.2e-3, 1.7e-3, 0.9e-3};
  const RegressionReport r = compare_runs(run_of({timed_cell("bert-tiny", b)}), run_of({timed_cell("bert-tiny", c)}));
  CHECK_FALSE(r.regressed());
  const auto& lat = metric(r.cells[0], "latency");
  CHECK(lat.ratio == doctest::Approx(1.2));
  CHECK_FALSE(lat.significant);
  CHECK(lat.verdict == Verdict::same);
  CHECK(*lat.p_value > 0.05);
}

TEST_CASE("compare_runs: added, removed and not-ok cells; memory and phases") {
  auto common_b = timed_cell("bert-tiny", normal(30, 1e-3, 1e-5, 10));
  auto common_c = timed_cell("bert-tiny", normal(30, 1e-3, 1e-5, 11));
  common_c.memory.peak_rss_bytes = 130u << 20;  // +30%
  LatencySummary phase_b;
  phase_b.count = 30;
  phase_b.median = 2e-3;
  phase_b.median_ci = Interval{1.9e-3, 2.1e-3};
  LatencySummary phase_c = phase_b;
  phase_c.median = 3e-3;
  phase_c.median_ci = Interval{2.9e-3, 3.1e-3};
  common_b.phases.push_back(PhaseResult{"decode", "tokens", 1, 4, phase_b, 500});
  common_c.phases.push_back(PhaseResult{"decode", "tokens", 1, 4, phase_c, 333});
  auto gone = timed_cell("all-MiniLM-L6-v2", normal(30, 1e-3, 1e-5, 12));
  auto fresh = timed_cell("bert-base-uncased", normal(30, 1e-3, 1e-5, 13));
  fresh.status = CellStatus::failed;
  fresh.message = "out of luck";
  auto broken_b = timed_cell("broken", normal(30, 1e-3, 1e-5, 14));
  auto broken_c = broken_b;
  broken_c.status = CellStatus::mismatch;
  RegressionOptions o;
  o.max_slowdown.by_phase = {{"decode", 0.6}};  // +50% tolerated for decode alone
  const RegressionReport r =
      compare_runs(run_of({common_b, gone, broken_b}), run_of({fresh, broken_c, common_c}), o);
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].key == "embedding/bert-tiny/cpu/batch_size=1,sequence_length=128");
  const auto& mem = metric(r.cells[0], "memory");
  CHECK(mem.ratio == doctest::Approx(1.3));
  CHECK(mem.verdict == Verdict::regression);
  CHECK(to_string(Verdict::worse, MetricKind::memory) == "larger");
  const auto& decode = metric(r.cells[0], "decode");
  CHECK(decode.method == "intervals");
  CHECK(decode.significant);
  CHECK(decode.ratio_ci->low == doctest::Approx(2.9 / 2.1));
  CHECK(decode.verdict == Verdict::worse);  // +50% < 60%
  CHECK(r.cells[1].model == "broken");
  CHECK_FALSE(r.cells[1].compared());
  CHECK(r.cells[1].metrics.empty());
  REQUIRE(r.removed.size() == 1);
  CHECK(r.removed[0].find("all-MiniLM-L6-v2") != std::string::npos);
  REQUIRE(r.added.size() == 1);
  CHECK(r.added[0].find("bert-base-uncased") != std::string::npos);
  REQUIRE(r.contender_not_ok.size() == 2);
  CHECK(r.contender_not_ok[0].status == CellStatus::failed);
  CHECK_FALSE(r.contender_not_ok[0].in_baseline);
  CHECK(r.contender_not_ok[1].status == CellStatus::mismatch);
  CHECK(r.contender_not_ok[1].in_baseline);
  CHECK(r.regressions() == 1);
}

TEST_CASE("compare_runs: a small memory increase is never a regression; summaries without intervals are untested") {
  auto b = timed_cell("bert-tiny", normal(30, 1e-3, 1e-5, 15));
  auto c = timed_cell("bert-tiny", normal(30, 1e-3, 1e-5, 16));
  b.memory.peak_rss_bytes = 4u << 20;
  c.memory.peak_rss_bytes = (4u << 20) + (512u << 10);  // +12.5%, half a MiB
  b.samples_s.clear();
  c.samples_s.clear();
  c.latency.median = *b.latency.median * 2;
  const RegressionReport r = compare_runs(run_of({b}), run_of({c}));
  CHECK(metric(r.cells[0], "memory").verdict == Verdict::same);
  const auto& lat = metric(r.cells[0], "latency");
  CHECK(lat.method == "intervals");
  CHECK(lat.ratio == doctest::Approx(2));
  CHECK(lat.verdict == Verdict::untested);
  CHECK_FALSE(r.regressed());
  RegressionOptions bad;
  bad.alpha = 0.7;
  CHECK_THROWS_AS((void)compare_runs(run_of({b}), run_of({c}), bad), std::invalid_argument);
}

TEST_CASE("e_divisive: the best split maximises the energy statistic as defined") {
  // Q̂(X, Y) computed from the definition for every (τ, κ), against best_split.
  const auto z = normal(14, 0, 1, 60);
  for (double alpha : {1.0, 0.5, 1.5}) {
    CAPTURE(alpha);
    const std::size_t m = 2;
    double best = -1;
    std::size_t best_tau = 0;
    for (std::size_t tau = m; tau + m <= z.size(); ++tau) {
      for (std::size_t kappa = tau + m; kappa <= z.size(); ++kappa) {
        const double n = static_cast<double>(tau);
        const double k = static_cast<double>(kappa - tau);
        double between = 0, within_x = 0, within_y = 0;
        for (std::size_t i = 0; i < tau; ++i) {
          for (std::size_t j = tau; j < kappa; ++j) between += std::pow(std::abs(z[i] - z[j]), alpha);
          for (std::size_t j = i + 1; j < tau; ++j) within_x += std::pow(std::abs(z[i] - z[j]), alpha);
        }
        for (std::size_t i = tau; i < kappa; ++i) {
          for (std::size_t j = i + 1; j < kappa; ++j) within_y += std::pow(std::abs(z[i] - z[j]), alpha);
        }
        const double e = 2 * between / (n * k) - within_x / (n * (n - 1) / 2) - within_y / (k * (k - 1) / 2);
        const double q = n * k / (n + k) * e;
        if (q > best) {
          best = q;
          best_tau = tau;
        }
      }
    }
    const auto split = stats::detail::best_split(z, 0, z.size(), m, alpha);
    CHECK(split.q == doctest::Approx(best).epsilon(1e-9));
    CHECK(split.tau == best_tau);
  }
}

TEST_CASE("e_divisive: a step at a known index is found") {
  auto series = normal(40, 10, 0.3, 20);
  for (std::size_t i = 25; i < series.size(); ++i) series[i] += 3;
  const auto found = stats::e_divisive(series);
  REQUIRE(found.size() == 1);
  CHECK(found[0].index == 25);
  CHECK(found[0].p_value <= 0.05);
  // The same answer every time.
  const auto again = stats::e_divisive(series);
  REQUIRE(again.size() == 1);
  CHECK(again[0].statistic == found[0].statistic);
  CHECK(again[0].p_value == found[0].p_value);
}

TEST_CASE("e_divisive: noise without a step has no change point") {
  for (std::uint64_t seed = 30; seed < 35; ++seed) {
    CAPTURE(seed);
    CHECK(stats::e_divisive(normal(40, 10, 0.3, seed)).empty());
  }
  CHECK(stats::e_divisive(std::vector<double>{1, 2}).empty());
  CHECK(stats::e_divisive(std::vector<double>(10, 5.0)).empty());
}

TEST_CASE("e_divisive: two steps are found") {
  auto series = normal(60, 10, 0.3, 40);
  for (std::size_t i = 20; i < 40; ++i) series[i] += 2;  // up at 20
  for (std::size_t i = 40; i < 60; ++i) series[i] -= 2;  // down below the start at 40
  const auto found = stats::e_divisive(series);
  REQUIRE(found.size() == 2);
  CHECK(found[0].index == 20);
  CHECK(found[1].index == 40);
  stats::ChangePointOptions bad;
  bad.min_segment = 1;
  CHECK_THROWS_AS((void)stats::e_divisive(series, bad), std::invalid_argument);
}

TEST_CASE("cell_histories: runs in order, values per run, change points named by their first run") {
  std::vector<RunResult> runs;
  const auto values = normal(12, 1e-3, 1e-5, 50);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = i >= 8 ? values[i] * 1.3 : values[i];
    CellResult c = timed_cell("bert-tiny", {v});
    c.latency.median_ci = Interval{v * 0.99, v * 1.01};
    CellResult other = timed_cell("bert-tiny", {v});
    other.shape = {{"batch_size", 4}, {"sequence_length", 128}};
    // Started out of order: the history sorts them.
    RunResult r = run_of({c, other}, "2026-12-" + std::to_string(10 + (i * 7) % 12) + "T00:00:00Z");
    r.build.git_commit = "commit" + std::to_string((i * 7) % 12);
    runs.push_back(std::move(r));
  }
  // Run order by time: run k (day 10 + k) has value index i with (7 i) % 12 = k.
  sort_runs_by_start(runs);
  CHECK(runs.front().started_at == "2026-12-10T00:00:00Z");
  HistoryOptions o;
  o.shape = {{"batch_size", 1}};
  ResultFilter f;
  f.models = {"bert-tiny"};
  const auto histories = cell_histories(runs, f, o);
  REQUIRE(histories.size() == 1);
  const CellHistory& h = histories[0];
  CHECK(h.unit == "s");
  REQUIRE(h.points.size() == 12);
  CHECK(h.points[3].started_at == "2026-12-13T00:00:00Z");
  CHECK(h.points[3].value->interval.has_value());
  // The slow values (i >= 8) land at run positions (7 i) % 12: 8, 3, 10, 5.
  // Place a clean step instead: rebuild the values in time order.
  std::vector<RunResult> ordered;
  for (std::size_t k = 0; k < 12; ++k) {
    const double v = k >= 8 ? values[k] * 1.3 : values[k];
    RunResult r = run_of({timed_cell("bert-tiny", {v})}, "2026-12-" + std::to_string(10 + k) + "T00:00:00Z");
    r.build.git_commit = "commit" + std::to_string(k);
    ordered.push_back(std::move(r));
  }
  const auto stepped = cell_histories(ordered, {}, HistoryOptions{});
  REQUIRE(stepped.size() == 1);
  REQUIRE(stepped[0].steps.size() == 1);
  const HistoryStep& step = stepped[0].steps[0];
  CHECK(stepped[0].points[step.point].git_commit == "commit8");
  CHECK(step.after / step.before == doctest::Approx(1.3).epsilon(0.03));
  // Throughput and memory values; a phase that the cell does not have.
  CHECK(metric_value(ordered[0].cells[0], "throughput")->value > 0);
  CHECK(metric_value(ordered[0].cells[0], "memory")->value == 100u << 20);
  CHECK_FALSE(metric_value(ordered[0].cells[0], "decode"));
  CHECK(metric_unit(ordered[0].cells[0], "throughput") == "sequences/s");
}

TEST_CASE("compare_runs: warns of a repeated cell, other machines and a debug build") {
  const auto cell = timed_cell("bert-tiny", normal(20, 1e-3, 1e-5, 70));
  RunResult base = run_of({cell});
  base.build.optimized = true;
  RunResult cont = run_of({cell, cell});
  cont.system.hostname = "bench-2";
  const RegressionReport r = compare_runs(base, cont);
  REQUIRE(r.warnings.size() == 3);
  CHECK(r.warnings[0].find("the contender holds the cell embedding/bert-tiny") != std::string::npos);
  CHECK(r.warnings[1].find("different machines (bench-1") != std::string::npos);
  CHECK(r.warnings[2].find("one run is from a debug build (the contender)") != std::string::npos);
  CHECK(r.cells.size() == 1);
  CHECK(r.added.empty());
}
