#pragma once

// Two independent samples compared: the ratio of their medians with a
// percentile bootstrap interval, and the Mann–Whitney U (Wilcoxon rank-sum)
// test. Regression checks (report/regression.hpp) compare the timings of two
// runs with them; docs/regressions.md describes both.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "../../core/result.hpp"
#include "../../detail/rng.hpp"
#include "summary.hpp"

namespace accelbench::stats {

/// The median of `x` (the mean of the two middle values for an even count).
/// Throws std::invalid_argument for an empty sample.
[[nodiscard]] inline double median_of(std::span<const double> x) {
  if (x.empty()) throw std::invalid_argument("median of an empty sample");
  std::vector<double> sorted(x.begin(), x.end());
  std::sort(sorted.begin(), sorted.end());
  return percentile_sorted(sorted, 50);
}

namespace detail {

/// Median of a bootstrap resample of `sorted` (ascending): n indices drawn
/// uniformly with replacement from element `draw` of the random stream on,
/// counted per index; the resample's order statistics are then read off the
/// counts without sorting.
inline double resampled_median(std::span<const double> sorted, std::uint64_t stream, std::uint64_t& draw,
                               std::vector<std::size_t>& counts) {
  const std::size_t n = sorted.size();
  counts.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) ++counts[::accelbench::detail::random_bits(stream, draw++) % n];
  // Zero-based ranks of the middle: (n - 1) / 2 and n / 2.
  const std::size_t lo_rank = (n - 1) / 2;
  const std::size_t hi_rank = n / 2;
  double lo = 0;
  double hi = 0;
  std::size_t seen = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t next = seen + counts[i];
    if (seen <= lo_rank && lo_rank < next) lo = sorted[i];
    if (seen <= hi_rank && hi_rank < next) {
      hi = sorted[i];
      break;
    }
    seen = next;
  }
  return (lo + hi) / 2;
}

}  // namespace detail

/// The ratio median(contender) / median(baseline) and its percentile
/// bootstrap interval (Efron and Tibshirani, 1993, ch. 13): both samples are
/// resampled with replacement, each on its own, `resamples` times; the
/// interval holds the central `confidence` share of the resampled ratios.
/// Random draws come from a counter-based stream under `seed`, so the same
/// samples always give the same interval.
struct MedianRatio {
  double baseline_median = 0;
  double contender_median = 0;
  double ratio = 0;
  std::optional<Interval> ci;  ///< empty when a sample has fewer than two values
};

/// Compares medians as MedianRatio describes. Throws std::invalid_argument
/// when a sample is empty, a median is not positive, `confidence` is not in
/// (0, 1) or `resamples` is below 100.
[[nodiscard]] inline MedianRatio bootstrap_median_ratio(std::span<const double> baseline,
                                                        std::span<const double> contender, double confidence,
                                                        std::size_t resamples = 2000,
                                                        std::uint64_t seed = 0x5eedb007ULL) {
  if (baseline.empty() || contender.empty()) throw std::invalid_argument("bootstrap of an empty sample");
  if (!(confidence > 0 && confidence < 1)) throw std::invalid_argument("bootstrap confidence must lie in (0, 1)");
  if (resamples < 100) throw std::invalid_argument("bootstrap needs 100 resamples or more");
  std::vector<double> b(baseline.begin(), baseline.end());
  std::vector<double> c(contender.begin(), contender.end());
  std::sort(b.begin(), b.end());
  std::sort(c.begin(), c.end());
  MedianRatio r;
  r.baseline_median = percentile_sorted(b, 50);
  r.contender_median = percentile_sorted(c, 50);
  if (!(r.baseline_median > 0) || !(r.contender_median > 0)) {
    throw std::invalid_argument("bootstrap of a ratio of medians needs positive medians");
  }
  r.ratio = r.contender_median / r.baseline_median;
  if (b.size() < 2 || c.size() < 2) return r;
  const std::uint64_t b_stream = ::accelbench::detail::stream_seed(seed, "baseline");
  const std::uint64_t c_stream = ::accelbench::detail::stream_seed(seed, "contender");
  std::uint64_t b_draw = 0;
  std::uint64_t c_draw = 0;
  std::vector<std::size_t> counts;
  std::vector<double> ratios;
  ratios.reserve(resamples);
  for (std::size_t i = 0; i < resamples; ++i) {
    const double mb = detail::resampled_median(b, b_stream, b_draw, counts);
    const double mc = detail::resampled_median(c, c_stream, c_draw, counts);
    if (mb > 0) ratios.push_back(mc / mb);
  }
  if (ratios.size() < resamples / 2) return r;  // the baseline is mostly zeros: no interval
  std::sort(ratios.begin(), ratios.end());
  const double tail = (1 - confidence) / 2 * 100;
  r.ci = Interval{percentile_sorted(ratios, tail), percentile_sorted(ratios, 100 - tail)};
  return r;
}

/// Result of the Mann–Whitney U test of two independent samples.
struct MannWhitney {
  double u = 0;  ///< U of the first sample: pairs (a, b) with a > b, ties counting one half
  double z = 0;  ///< standardised U (normal approximation; 0 when exact)
  double p_value = 1;  ///< two-sided
  bool exact = false;  ///< p from the exact distribution of U (small samples without ties)
};

namespace detail {

/// P(U <= u) for samples of n1 and n2 values without ties, every order of
/// the n1 + n2 values equally likely: the number of orders with a given U
/// follows c(i, j, u) = c(i - 1, j, u - j) + c(i, j - 1, u) (Mann and
/// Whitney, 1947), counted in doubles.
inline double mann_whitney_exact_cdf(std::size_t n1, std::size_t n2, std::size_t u) {
  // counts[j][v]: orders of i first-sample and j second-sample values with U = v, for the current i.
  std::vector<std::vector<double>> counts(n2 + 1);
  for (std::size_t j = 0; j <= n2; ++j) counts[j] = {1.0};  // i = 0: U = 0 only
  for (std::size_t i = 1; i <= n1; ++i) {
    std::vector<std::vector<double>> next(n2 + 1);
    next[0] = {1.0};  // j = 0: U = 0 only
    for (std::size_t j = 1; j <= n2; ++j) {
      next[j].assign(i * j + 1, 0.0);
      // The largest value is from the first sample (it beats all j) or from the second.
      for (std::size_t v = 0; v < counts[j].size(); ++v) next[j][v + j] += counts[j][v];
      for (std::size_t v = 0; v < next[j - 1].size(); ++v) next[j][v] += next[j - 1][v];
    }
    counts = std::move(next);
  }
  const auto& dist = counts[n2];
  double total = 0;
  double below = 0;
  for (std::size_t v = 0; v < dist.size(); ++v) {
    total += dist[v];
    if (v <= u) below += dist[v];
  }
  return below / total;
}

}  // namespace detail

/// Largest n1 · n2 for which mann_whitney_u computes the exact p-value.
inline constexpr std::size_t mann_whitney_exact_limit = 400;

/// The two-sided Mann–Whitney U test of "neither sample tends to larger
/// values than the other". Without ties and with n1 · n2 at most
/// mann_whitney_exact_limit the p-value is exact; otherwise it comes from
/// the normal approximation with the tie correction of the variance,
/// n1 n2 / 12 · ((n + 1) − Σ(t³ − t) / (n (n − 1))), and a continuity
/// correction of one half. Throws std::invalid_argument for an empty sample.
[[nodiscard]] inline MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) throw std::invalid_argument("Mann-Whitney test of an empty sample");
  const std::size_t n1 = a.size();
  const std::size_t n2 = b.size();
  const std::size_t n = n1 + n2;
  struct Value {
    double x;
    bool first;
  };
  std::vector<Value> all;
  all.reserve(n);
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(), [](const Value& l, const Value& r) { return l.x < r.x; });
  // Mid-ranks (one-based) and the tie term Σ(t³ − t).
  double rank_sum = 0;
  double tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].x == all[i].x) ++j;
    const double t = static_cast<double>(j - i);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].first) rank_sum += mid_rank;
    }
    tie_term += t * t * t - t;
    i = j;
  }
  const double d1 = static_cast<double>(n1);
  const double d2 = static_cast<double>(n2);
  const double dn = static_cast<double>(n);
  MannWhitney r;
  r.u = rank_sum - d1 * (d1 + 1) / 2;
  if (tie_term == 0 && n1 * n2 <= mann_whitney_exact_limit) {
    const double smaller = std::min(r.u, d1 * d2 - r.u);
    const double cdf = detail::mann_whitney_exact_cdf(n1, n2, static_cast<std::size_t>(smaller));
    r.p_value = std::min(1.0, 2 * cdf);
    r.exact = true;
    return r;
  }
  const double variance = d1 * d2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (!(variance > 0)) return r;  // every value equal: no evidence either way
  const double diff = r.u - d1 * d2 / 2;
  const double corrected = std::max(0.0, std::abs(diff) - 0.5);
  r.z = std::copysign(corrected / std::sqrt(variance), diff);
  r.p_value = std::min(1.0, std::erfc(corrected / std::sqrt(variance) / std::numbers::sqrt2));
  return r;
}

}  // namespace accelbench::stats
