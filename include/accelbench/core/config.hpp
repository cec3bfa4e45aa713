#pragma once

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "precision.hpp"

namespace accelbench {

/// What to benchmark and how to measure it. An aggregate, so that
/// designated initialisers name the fields:
///
///     Config{.model = "bert-base-uncased", .batch_sizes = {1, 8}, .sweep = {{"sequence_lengths", {128}}}}
struct Config {
  /// Preset name of the model family (e.g. "bert-tiny").
  std::string model = "bert-tiny";
  /// The sweep: every batch size with every value of each of the family's
  /// axes is one cell. Every family batches.
  std::vector<int> batch_sizes = {1};
  /// The family's own axes by name (e.g. {"sequence_lengths", {32, 128}}):
  /// each family declares its axes, with their defaults and bounds, in
  /// F::sweep_axes() (family/sweep.hpp); an axis not given here takes the
  /// family's default. A name the family does not declare is a ConfigError.
  std::map<std::string, std::vector<int>> sweep{};

  /// Untimed runs before sampling (after the first, separately timed run).
  int warmup_iterations = 3;
  /// After those, keep warming up in windows of 5 runs until the median of
  /// a window is within warmup_stability_tolerance of the previous window's,
  /// or warmup_max_time_s has passed.
  bool warmup_until_stable = false;
  double warmup_stability_tolerance = 0.05;
  double warmup_max_time_s = 10.0;

  /// Stopping rule: sample until min_iterations, min_time_s and (when not 0)
  /// target_relative_ci_width are all reached, or until max_iterations or
  /// max_time_s is. The target is the width of the median's confidence
  /// interval relative to the median, e.g. 0.02 for ±1%.
  int min_iterations = 10;
  int max_iterations = 100000;
  double min_time_s = 0.5;
  double max_time_s = 10.0;
  double target_relative_ci_width = 0.0;
  /// Level of every confidence interval.
  double confidence = 0.95;

  /// Runs timed together in one sample. 0: chosen per cell so that a sample
  /// lasts at least 1000 timer resolutions and 100 timer calls; operations
  /// far longer than the clock's resolution get 1.
  int iterations_per_sample = 0;

  /// A cell still running after this many seconds ends with status
  /// "timeout", keeping what it measured; 0: no limit. Checked between runs.
  double cell_timeout_s = 0.0;

  /// Period of the background resident-memory sampler; 0 turns it off.
  double memory_sample_interval_s = 0.01;

  /// Seed of the synthetic weights and inputs.
  std::uint64_t seed = 42;
  /// A Hugging Face checkpoint folder (config.json and model.safetensors)
  /// to read the weights and dimensions from; empty: synthetic weights of
  /// the preset named by `model`. With a folder, `model` is ignored and the
  /// model is named after the folder.
  std::string weights{};
  /// Fields of the checkpoint's config.json that no architecture's list
  /// knows, accepted by name ("text_config.foo" inside an object) so that
  /// the checkpoint loads anyway; recorded in the results
  /// (models[].accepted_config_fields). Without them such a field is an
  /// error: it may change what the model computes.
  std::vector<std::string> accept_config_fields{};
  /// The precision a model's linear layers' weights are stored in: fp32,
  /// bf16 or fp16 (text generation with GPT-2 and Llama-type models on the
  /// Cpu backend; elsewhere anything but fp32 is refused by name). Recorded
  /// in the results (settings.precision, models[].precision).
  Precision precision = Precision::fp32;

  /// Compare a non-reference backend's output with the Cpu reference.
  bool verify = true;
  /// Largest absolute difference from the reference that still counts as ok.
  double verify_tolerance = 1e-3;
};

/// The largest values the numeric settings accept (and the smallest
/// non-zero memory sampling period); past them a value is refused, naming
/// the field.
namespace config_limits {
inline constexpr long long iterations = 1'000'000'000;        ///< runs: warmup, min and per sample
inline constexpr double seconds = 7 * 24 * 3600.0;              ///< any duration: a week
inline constexpr double min_sample_interval_s = 1e-4;           ///< the memory sampler's shortest period
inline constexpr double max_sample_interval_s = 60;             ///< and its longest
inline constexpr double verify_tolerance = 1e6;                 ///< largest absolute difference allowed
inline constexpr long long threads = 65536;                     ///< Cpu threads
inline constexpr long long loading_repetitions = 1000;          ///< repetitions of the loading measurement
}  // namespace config_limits

namespace detail {

/// Checks the values of one sweep axis: at least one, each within [min,
/// max], none twice. Throws ConfigError naming `field` (or `field[i]`) and
/// the value; `what` names one value in words ("batch size").
inline void validate_sweep_values(const std::string& field, const std::vector<int>& values, const std::string& what,
                                  int min = 1, int max = std::numeric_limits<int>::max()) {
  if (values.empty()) throw ConfigError(field, "[]", "empty sweep: give at least one " + what);
  std::set<int> seen;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string name = field + "[" + std::to_string(i) + "]";
    const std::string value = std::to_string(values[i]);
    if (values[i] < min) throw ConfigError(name, value, what + " must be at least " + std::to_string(min));
    if (values[i] > max) throw ConfigError(name, value, what + " must be at most " + std::to_string(max));
    if (!seen.insert(values[i]).second) throw ConfigError(name, value, "duplicate " + what);
  }
}

inline std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// Throws ConfigError naming `field` unless `v` is finite and within
/// [low, high] (seconds, fractions and the like); `what` says what the
/// value must be, and the message adds the bounds.
inline void check_range(const char* field, double v, double low, double high, const std::string& what) {
  if (!std::isfinite(v) || v < low || v > high) {
    throw ConfigError(field, format_number(v),
                      what + " (from " + format_number(low) + " to " + format_number(high) + ")");
  }
}

/// Throws ConfigError naming `field` unless `v` is within [low, high].
inline void check_count(const char* field, long long v, long long low, long long high, const std::string& what) {
  if (v < low || v > high) {
    throw ConfigError(field, std::to_string(v),
                      what + " (from " + std::to_string(low) + " to " + std::to_string(high) + ")");
  }
}

}  // namespace detail

/// Checks the settings every family shares (batch_sizes and the measurement
/// settings); throws ConfigError naming the first bad field and its value.
/// The family's axes in Config::sweep are checked by validate<F>(config)
/// (family/sweep.hpp), and each family checks its model's limits (such as a
/// maximum sequence length) on top.
inline void validate(const Config& c) {
  detail::validate_sweep_values("batch_sizes", c.batch_sizes, "batch size");
  if (c.warmup_iterations < 0) {
    throw ConfigError("warmup_iterations", std::to_string(c.warmup_iterations), "must be 0 or more");
  }
  if (c.min_iterations < 1) {
    throw ConfigError("min_iterations", std::to_string(c.min_iterations), "must be at least 1");
  }
  if (c.max_iterations < c.min_iterations) {
    throw ConfigError("max_iterations", std::to_string(c.max_iterations),
                      "must be at least min_iterations (" + std::to_string(c.min_iterations) + ")");
  }
  if (!std::isfinite(c.min_time_s) || c.min_time_s < 0) {
    throw ConfigError("min_time_s", detail::format_number(c.min_time_s), "must be a finite number of seconds >= 0");
  }
  if (!std::isfinite(c.max_time_s) || c.max_time_s <= 0) {
    throw ConfigError("max_time_s", detail::format_number(c.max_time_s), "must be a finite number of seconds > 0");
  }
  if (c.max_time_s < c.min_time_s) {
    throw ConfigError("max_time_s", detail::format_number(c.max_time_s),
                      "must be at least min_time_s (" + detail::format_number(c.min_time_s) + ")");
  }
  if (!std::isfinite(c.target_relative_ci_width) || c.target_relative_ci_width < 0) {
    throw ConfigError("target_relative_ci_width", detail::format_number(c.target_relative_ci_width),
                      "must be 0 (off) or a positive fraction of the median");
  }
  if (!(c.confidence > 0.5 && c.confidence < 1.0)) {
    throw ConfigError("confidence", detail::format_number(c.confidence), "must lie between 0.5 and 1 (e.g. 0.95)");
  }
  if (!std::isfinite(c.warmup_stability_tolerance) || c.warmup_stability_tolerance <= 0) {
    throw ConfigError("warmup_stability_tolerance", detail::format_number(c.warmup_stability_tolerance),
                      "must be a positive fraction (e.g. 0.05)");
  }
  if (!std::isfinite(c.warmup_max_time_s) || c.warmup_max_time_s < 0) {
    throw ConfigError("warmup_max_time_s", detail::format_number(c.warmup_max_time_s),
                      "must be a finite number of seconds >= 0");
  }
  if (c.iterations_per_sample < 0) {
    throw ConfigError("iterations_per_sample", std::to_string(c.iterations_per_sample),
                      "must be 0 (automatic) or more");
  }
  if (!std::isfinite(c.cell_timeout_s) || c.cell_timeout_s < 0) {
    throw ConfigError("cell_timeout_s", detail::format_number(c.cell_timeout_s),
                      "must be 0 (no limit) or a finite number of seconds");
  }
  if (!std::isfinite(c.memory_sample_interval_s) || c.memory_sample_interval_s < 0) {
    throw ConfigError("memory_sample_interval_s", detail::format_number(c.memory_sample_interval_s),
                      "must be 0 (off) or a finite number of seconds");
  }
  if (!std::isfinite(c.verify_tolerance) || c.verify_tolerance < 0) {
    throw ConfigError("verify_tolerance", detail::format_number(c.verify_tolerance), "must be a finite number >= 0");
  }
  // Upper bounds: a value past them is a typo (or an overflow), not a plan.
  const std::string runs = "must be a count of runs", seconds = "must be a number of seconds";
  detail::check_count("warmup_iterations", c.warmup_iterations, 0, config_limits::iterations, runs);
  detail::check_count("min_iterations", c.min_iterations, 1, config_limits::iterations, runs);
  detail::check_count("iterations_per_sample", c.iterations_per_sample, 0, config_limits::iterations,
                      "must be 0 (automatic) or a count of runs");
  detail::check_range("min_time_s", c.min_time_s, 0, config_limits::seconds, seconds);
  detail::check_range("max_time_s", c.max_time_s, 0, config_limits::seconds, seconds);
  detail::check_range("warmup_max_time_s", c.warmup_max_time_s, 0, config_limits::seconds, seconds);
  detail::check_range("cell_timeout_s", c.cell_timeout_s, 0, config_limits::seconds,
                      "must be 0 (no limit) or a number of seconds");
  detail::check_range("target_relative_ci_width", c.target_relative_ci_width, 0, 1,
                      "must be 0 (off) or a fraction of the median");
  detail::check_range("warmup_stability_tolerance", c.warmup_stability_tolerance, 0, 1,
                      "must be a fraction of the median");
  detail::check_range("verify_tolerance", c.verify_tolerance, 0, config_limits::verify_tolerance,
                      "must be an absolute difference");
  if (c.memory_sample_interval_s != 0) {
    detail::check_range("memory_sample_interval_s", c.memory_sample_interval_s, config_limits::min_sample_interval_s,
                config_limits::max_sample_interval_s, "must be 0 (off) or a sampling period in seconds");
  }
}

}  // namespace accelbench
