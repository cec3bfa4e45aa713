#pragma once

// What a Benchmark's cells share besides the benchmark itself: the summary
// of the samples by the Stats policy, per-run timer counters, the refusal of
// a cell that would need more memory than the machine has, and the end of a
// cell whose outputs are not all finite.

#include <fmt/format.h>

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../detail/checked_math.hpp"

namespace accelbench::detail {

/// S::summarize at the configured confidence where S takes one.
template <class S>
LatencySummary summarize_with(std::span<const double> samples, double confidence) {
  if constexpr (requires { { S::summarize(samples, confidence) } -> std::same_as<LatencySummary>; }) {
    return S::summarize(samples, confidence);
  } else {
    return S::summarize(samples);
  }
}

/// Per-run averages of a timer's counter totals, with instructions per cycle
/// when both are counted.
inline std::vector<std::pair<std::string, double>> per_run_counters(
    const std::vector<std::pair<std::string, double>>& totals, std::size_t runs) {
  std::vector<std::pair<std::string, double>> out;
  double cycles = 0, instructions = 0;
  for (const auto& [name, total] : totals) {
    out.emplace_back(name, runs ? total / static_cast<double>(runs) : 0.0);
    if (name == "cycles") cycles = total;
    if (name == "instructions") instructions = total;
  }
  if (cycles > 0 && instructions > 0) out.emplace_back("instructions_per_cycle", instructions / cycles);
  return out;
}

/// Throws ConfigError naming the cell's axes and values when `needed` bytes
/// (F::cell_bytes) exceed the machine's `memory` bytes, or saturate (an
/// estimate that overflowed); `memory` 0 (unknown) refuses only the latter.
inline void refuse_oversized_cell(std::uint64_t needed, const std::vector<Axis>& axes, std::uint64_t memory) {
  if (needed < saturated_size && (memory == 0 || needed <= memory)) return;
  std::string fields, values;
  for (const auto& a : axes) {
    fields += (fields.empty() ? "" : " x ") + a.name;
    values += (values.empty() ? "" : " x ") + std::to_string(a.value);
  }
  throw ConfigError(fields, values,
                    needed == saturated_size
                        ? std::string("needs more bytes than 64 bits can count (activations, caches and inputs); "
                                      "refused before allocating")
                        : fmt::format("needs an estimated {} bytes (activations, caches and inputs) besides the "
                                      "weights, more than this machine's {} bytes of memory; refused before "
                                      "allocating",
                                      needed, memory));
}

/// Ends a cell whose outputs are not all finite (status invalid_output).
struct InvalidOutput {
  std::string what;
};
}  // namespace accelbench::detail
