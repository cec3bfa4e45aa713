#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/result.hpp"
#include "../core/tensor.hpp"

namespace accelbench {

/// The NaN and Inf values among a run's outputs, in all and by output.
struct NonFiniteValues {
  std::size_t count = 0;   ///< non-finite values over every output
  std::size_t values = 0;  ///< values over every output
  std::vector<std::pair<std::string, std::size_t>> by_output;  ///< outputs that have any, with their count

  /// "3 of 4096 output values are NaN or Inf (last_hidden_state: 3)".
  [[nodiscard]] std::string describe() const {
    std::string where;
    for (const auto& [name, n] : by_output) where += (where.empty() ? "" : ", ") + name + ": " + std::to_string(n);
    return std::to_string(count) + " of " + std::to_string(values) + " output values are NaN or Inf (" + where +
           ")";
  }
};

[[nodiscard]] inline NonFiniteValues count_non_finite(const std::vector<NamedOutput>& outputs) {
  NonFiniteValues out;
  for (const auto& o : outputs) {
    const auto n = static_cast<std::size_t>(o.value.size()) -
                   static_cast<std::size_t>(o.value.array().isFinite().count());
    out.values += static_cast<std::size_t>(o.value.size());
    out.count += n;
    if (n > 0) out.by_output.emplace_back(o.name, n);
  }
  return out;
}

/// Compares a backend's outputs with the reference outputs of the same
/// inputs. Over all outputs together: the largest absolute difference, that
/// difference relative to the largest reference magnitude, and the cosine
/// similarity of the flattened outputs. Status is "ok" when the largest
/// absolute difference is at most `tolerance` (and nothing is NaN), else
/// "mismatch"; outputs whose names or shapes differ are a mismatch too.
/// Outputs whose name ends in "tokens" (greedy generated tokens) also give
/// the token agreement: the fraction of their entries equal to the
/// reference's; they stay in the figures above as well.
[[nodiscard]] inline Verification compare_outputs(const std::vector<NamedOutput>& got,
                                                  const std::vector<NamedOutput>& reference, double tolerance,
                                                  std::string reference_name) {
  Verification v;
  v.reference = std::move(reference_name);
  v.tolerance = tolerance;
  if (got.size() != reference.size()) {
    v.status = "mismatch";
    v.cosine_similarity = 0;
    return v;
  }
  double max_abs = 0, max_ref = 0, dot = 0, norm_got = 0, norm_ref = 0;
  bool finite = true;
  std::size_t tokens = 0, equal_tokens = 0;
  const auto is_tokens = [](const std::string& name) {
    constexpr std::string_view suffix = "tokens";
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& a = got[i].value;
    const auto& b = reference[i].value;
    if (got[i].name != reference[i].name || a.rows() != b.rows() || a.cols() != b.cols()) {
      v.status = "mismatch";
      v.cosine_similarity = 0;
      return v;
    }
    if (a.size() == 0) continue;
    if (is_tokens(got[i].name)) {
      tokens += static_cast<std::size_t>(a.size());
      equal_tokens += static_cast<std::size_t>((a.array() == b.array()).count());
    }
    finite = finite && a.allFinite();
    max_abs = std::max(max_abs, static_cast<double>((a - b).cwiseAbs().maxCoeff()));
    max_ref = std::max(max_ref, static_cast<double>(b.cwiseAbs().maxCoeff()));
    dot += a.cast<double>().cwiseProduct(b.cast<double>()).sum();
    norm_got += a.cast<double>().squaredNorm();
    norm_ref += b.cast<double>().squaredNorm();
  }
  v.max_abs_error = max_abs;
  v.max_rel_error = max_ref > 0 ? max_abs / max_ref : max_abs;
  v.cosine_similarity = (norm_got > 0 && norm_ref > 0) ? dot / std::sqrt(norm_got * norm_ref)
                                                       : (norm_got == norm_ref ? 1.0 : 0.0);
  if (tokens > 0) v.token_agreement = static_cast<double>(equal_tokens) / static_cast<double>(tokens);
  v.status = finite && max_abs <= tolerance ? "ok" : "mismatch";
  return v;
}

}  // namespace accelbench
