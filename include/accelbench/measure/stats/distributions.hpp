#pragma once

// The few distributions the statistics need: binomial (order-statistic
// intervals, the sign test), normal and Student's t (interval of the mean).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace accelbench::stats {

/// Cumulative distribution of Binomial(n, p) at 0..n: cdf[k] = P(X <= k).
/// Probabilities are summed in log space, so large n does not underflow.
[[nodiscard]] inline std::vector<double> binomial_cdf(std::size_t n, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("binomial_cdf: p must lie in [0, 1]");
  std::vector<double> cdf(n + 1, 1.0);
  if (p == 0.0) return cdf;
  if (p == 1.0) {
    std::fill(cdf.begin(), cdf.end() - 1, 0.0);
    return cdf;
  }
  const double nn = static_cast<double>(n);
  const double lp = std::log(p);
  const double lq = std::log1p(-p);
  const double lgn = std::lgamma(nn + 1.0);
  double sum = 0.0;
  for (std::size_t k = 0; k <= n; ++k) {
    const double kk = static_cast<double>(k);
    sum += std::exp(lgn - std::lgamma(kk + 1.0) - std::lgamma(nn - kk + 1.0) + kk * lp + (nn - kk) * lq);
    cdf[k] = std::min(sum, 1.0);
  }
  cdf[n] = 1.0;
  return cdf;
}

/// Zero-based ranks [lo, hi] of the sorted sample whose values bound the
/// q-quantile (0 < q < 1) with probability at least `confidence`, tails
/// split equally: the number of samples below the true quantile is
/// Binomial(n, q). Returns false when n is too small for the level.
[[nodiscard]] inline bool quantile_ci_ranks(std::size_t n, double q, double confidence, std::size_t& lo,
                                            std::size_t& hi) {
  if (n == 0 || !(q > 0.0 && q < 1.0) || !(confidence > 0.0 && confidence < 1.0)) return false;
  const double tail = (1.0 - confidence) / 2.0;
  const auto cdf = binomial_cdf(n, q);
  // One-based l: the largest with P(X <= l - 1) <= tail.
  std::size_t l = 0;
  while (l < n && cdf[l] <= tail) ++l;
  // One-based u: the smallest with P(X <= u - 1) >= 1 - tail.
  std::size_t u = 0;
  while (u <= n && cdf[u] < 1.0 - tail) ++u;
  ++u;
  if (l < 1 || u > n || l >= u) return false;
  lo = l - 1;
  hi = u - 1;
  return true;
}

/// Two-sided p-value of the sign test: `above` and `below` observations on
/// either side of the hypothesised median (ties left out).
[[nodiscard]] inline double sign_test_p_value(std::size_t above, std::size_t below) {
  const std::size_t n = above + below;
  if (n == 0) return 1.0;
  const auto cdf = binomial_cdf(n, 0.5);
  return std::min(1.0, 2.0 * cdf[std::min(above, below)]);
}

/// Quantile of the standard normal distribution (Acklam's rational
/// approximation, relative error below 1.2e-9), refined by one Halley step.
[[nodiscard]] inline double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("normal_quantile: p must lie in (0, 1)");
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

namespace detail {

/// Continued fraction of the regularised incomplete beta function, evaluated
/// by the modified Lentz method.
inline double incomplete_beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  constexpr double eps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double mm = m;
    // Even step.
    double num = mm * (b - mm) * x / ((a + 2.0 * mm - 1.0) * (a + 2.0 * mm));
    d = 1.0 + num * d;
    d = std::abs(d) < tiny ? 1.0 / tiny : 1.0 / d;
    c = 1.0 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    h *= d * c;
    // Odd step.
    num = -(a + mm) * (a + b + mm) * x / ((a + 2.0 * mm) * (a + 2.0 * mm + 1.0));
    d = 1.0 + num * d;
    d = std::abs(d) < tiny ? 1.0 / tiny : 1.0 / d;
    c = 1.0 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1.0) < eps) break;
  }
  return h;
}

/// Regularised incomplete beta function I_x(a, b).
inline double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * incomplete_beta_fraction(a, b, x) / a;
  return 1.0 - front * incomplete_beta_fraction(b, a, 1.0 - x) / b;
}

}  // namespace detail

/// Cumulative distribution of Student's t with `df` degrees of freedom.
[[nodiscard]] inline double student_t_cdf(double t, double df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * detail::incomplete_beta(df / 2.0, 0.5, x);
  return t >= 0 ? 1.0 - tail : tail;
}

/// Quantile of Student's t with `df` degrees of freedom, by bisection on the
/// distribution function (to 1e-12).
[[nodiscard]] inline double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("student_t_quantile: p must lie in (0, 1)");
  if (!(df > 0.0)) throw std::invalid_argument("student_t_quantile: df must be positive");
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  double lo = 0.0;
  double hi = 1.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace accelbench::stats
