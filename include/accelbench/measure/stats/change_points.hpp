#pragma once

// Change points of a series (one metric of one cell over many runs) by
// E-divisive means: Matteson and James, "A Nonparametric Approach for
// Multiple Change Point Analysis of Multivariate Data", Journal of the
// American Statistical Association 109 (2014), 334–345. MongoDB's
// performance CI finds its regressions this way. docs/regressions.md
// describes it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../../detail/rng.hpp"

namespace accelbench::stats {

/// Settings of e_divisive.
struct ChangePointOptions {
  double significance = 0.05;     ///< a split is kept while its permutation p-value is at most this
  std::size_t permutations = 199; ///< permutations per test; the smallest p-value is 1 / (permutations + 1)
  std::size_t min_segment = 3;    ///< fewest values on either side of a change point (2 or more)
  double exponent = 1.0;          ///< α of the distance |x − y|^α, in (0, 2)
  std::uint64_t seed = 0xed1u;    ///< of the permutations: the same series gives the same answer
};

/// A change point: the series differs in distribution from `index` on.
struct ChangePoint {
  std::size_t index = 0;  ///< first value of the new segment
  double statistic = 0;   ///< the scaled energy statistic Q̂ at the split
  double p_value = 1;     ///< of the permutation test that accepted it
};

namespace detail {

/// The best split of one segment: where Q̂ is largest.
struct Split {
  std::size_t tau = 0;  ///< first index of the right part
  double q = -1;        ///< Q̂ there; negative when the segment is too short to split
};

/// The best split of z[begin, end) over every τ and κ with begin + m <= τ and
/// τ + m <= κ <= end: X = z[begin, τ), Y = z[τ, κ) and
///   Ê = 2/(n m) Σ|x − y|^α − C(n,2)^-1 Σ|x − x'|^α − C(m,2)^-1 Σ|y − y'|^α,
///   Q̂ = n m / (n + m) · Ê
/// (n = |X|, m = |Y|). Row prefix sums of the distances give each (τ, κ)
/// in constant time: O(L²) for a segment of length L.
inline Split best_split(std::span<const double> z, std::size_t begin, std::size_t end, std::size_t m,
                        double exponent) {
  Split best;
  const std::size_t len = end - begin;
  if (len < 2 * m) return best;
  // prefix[i * (len + 1) + k] = Σ_{j < k} |z_i − z_j|^α (segment-local indices).
  std::vector<double> prefix(len * (len + 1), 0.0);
  for (std::size_t i = 0; i < len; ++i) {
    double* row = &prefix[i * (len + 1)];
    for (std::size_t k = 0; k < len; ++k) {
      const double d = std::abs(z[begin + i] - z[begin + k]);
      row[k + 1] = row[k] + (exponent == 1.0 ? d : std::pow(d, exponent));
    }
  }
  const auto sum = [&](std::size_t row, std::size_t from, std::size_t to) {
    return prefix[row * (len + 1) + to] - prefix[row * (len + 1) + from];
  };
  double within_x = 0;  // Σ over pairs of X = [0, tau)
  for (std::size_t tau = 1; tau < len; ++tau) {
    within_x += sum(tau - 1, 0, tau - 1);
    if (tau < m || tau + m > len) continue;
    const double n = static_cast<double>(tau);
    double between = 0;   // Σ over X × Y
    double within_y = 0;  // Σ over pairs of Y = [tau, kappa)
    for (std::size_t k = tau; k < len; ++k) {
      between += sum(k, 0, tau);
      within_y += sum(k, tau, k);
      const std::size_t ny = k + 1 - tau;
      if (ny < m) continue;
      const double my = static_cast<double>(ny);
      const double e = 2 * between / (n * my) - within_x / (n * (n - 1) / 2) - within_y / (my * (my - 1) / 2);
      const double q = n * my / (n + my) * e;
      if (q > best.q) best = {begin + tau, q};
    }
  }
  return best;
}

/// The best split over every segment between `bounds` (sorted, from 0 to
/// the series' length): its segment's index in `bounds` and the split.
inline std::pair<std::size_t, Split> best_split_of_segments(std::span<const double> z,
                                                            const std::vector<std::size_t>& bounds,
                                                            std::size_t m, double exponent) {
  std::pair<std::size_t, Split> best{0, Split{}};
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    const Split split = best_split(z, bounds[s], bounds[s + 1], m, exponent);
    if (split.q > best.second.q) best = {s, split};
  }
  return best;
}

}  // namespace detail

/// The change points of `series` by E-divisive means (Matteson and James,
/// 2014), in order of index. Divisive: the series is one segment; the split
/// of a segment with the largest Q̂ (detail::best_split) is tested by
/// permutation (the values permuted within each current segment, the best
/// split found again each time; p = (1 + #{Q̂_perm ≥ Q̂}) / (1 + R)) and kept
/// while p <= significance; each kept split makes two segments. Throws
/// std::invalid_argument for options out of range or a value not finite.
[[nodiscard]] inline std::vector<ChangePoint> e_divisive(std::span<const double> series,
                                                         const ChangePointOptions& options = {}) {
  if (!(options.exponent > 0 && options.exponent < 2)) {
    throw std::invalid_argument("e_divisive: exponent must lie in (0, 2)");
  }
  if (options.min_segment < 2) throw std::invalid_argument("e_divisive: min_segment must be 2 or more");
  if (options.permutations < 1) throw std::invalid_argument("e_divisive: permutations must be 1 or more");
  if (!(options.significance > 0 && options.significance < 1)) {
    throw std::invalid_argument("e_divisive: significance must lie in (0, 1)");
  }
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (!std::isfinite(series[i])) {
      throw std::invalid_argument("e_divisive: value " + std::to_string(i) + " is not finite");
    }
  }
  std::vector<ChangePoint> found;
  std::vector<std::size_t> bounds{0, series.size()};
  const std::uint64_t stream = ::accelbench::detail::stream_seed(options.seed, "e-divisive");
  std::uint64_t draw = 0;
  std::vector<double> shuffled;
  for (;;) {
    const auto [segment, split] = detail::best_split_of_segments(series, bounds, options.min_segment, options.exponent);
    if (split.q < 0) break;  // no segment is long enough to split
    std::size_t as_large = 0;
    for (std::size_t r = 0; r < options.permutations; ++r) {
      shuffled.assign(series.begin(), series.end());
      for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
        // Fisher–Yates within [bounds[s], bounds[s + 1]).
        for (std::size_t i = bounds[s + 1] - 1; i > bounds[s]; --i) {
          const std::size_t span = i - bounds[s] + 1;
          const std::size_t j = bounds[s] + ::accelbench::detail::random_bits(stream, draw++) % span;
          std::swap(shuffled[i], shuffled[j]);
        }
      }
      const auto permuted = detail::best_split_of_segments(shuffled, bounds, options.min_segment, options.exponent);
      if (permuted.second.q >= split.q) ++as_large;
    }
    const double p = static_cast<double>(as_large + 1) / static_cast<double>(options.permutations + 1);
    if (p > options.significance) break;
    found.push_back({split.tau, split.q, p});
    bounds.insert(bounds.begin() + static_cast<std::ptrdiff_t>(segment) + 1, split.tau);
  }
  std::sort(found.begin(), found.end(), [](const ChangePoint& a, const ChangePoint& b) { return a.index < b.index; });
  return found;
}

}  // namespace accelbench::stats
