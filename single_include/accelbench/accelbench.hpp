// accelbench, single-header edition (version 0.1.0).
//
// GENERATED FILE, do not edit. It is include/accelbench/accelbench.hpp with
// every accelbench header it includes inlined, written by
// tools/amalgamate.py. Edit the headers under include/ and run
//     python3 tools/amalgamate.py
// to regenerate it.
//
// A program that includes this file needs Eigen 3.4, fmt, nlohmann-json and
// (for the Cpu backend's threads) OpenMP, as with include/. Define
// ACCELBENCH_WITH_OPENCL (and link OpenCL) before including it for the
// OpenCL backend.

#pragma once

// ---- begin accelbench/accelbench.hpp ----

// accelbench: benchmarks of ML model architectures across hardware backends.
// This umbrella header brings in the whole public API.

// ---- begin accelbench/core/version.hpp ----

namespace accelbench {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
inline constexpr const char* version_string = "0.1.0";

}  // namespace accelbench
// ---- end accelbench/core/version.hpp ----
// ---- begin accelbench/measure/do_not_optimize.hpp ----

// Keeps the compiler from optimising away a value or the work that produced
// it, for workloads whose result is otherwise unused.

namespace accelbench {

#if defined(__GNUC__) || defined(__clang__)

/// The value is treated as read by code the compiler cannot see.
template <class T>
inline void do_not_optimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

/// The value is treated as read and possibly written by code the compiler cannot see.
template <class T>
inline void do_not_optimize(T& value) {
  asm volatile("" : "+r,m"(value) : : "memory");
}

#else

template <class T>
inline void do_not_optimize(const T& value) {
  const volatile void* volatile sink = &value;
  (void)sink;
}

#endif

}  // namespace accelbench
// ---- end accelbench/measure/do_not_optimize.hpp ----
// ---- begin accelbench/core/error.hpp ----

#include <stdexcept>
#include <string>
#include <utility>

namespace accelbench {

/// Thrown for a configuration value that cannot be used. `field()` names the
/// offending field as it is written in the configuration (for example
/// `batch_sizes[1]`), `value()` is the value as text, and `what()` is a
/// complete sentence that carries both.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(std::string field, std::string value, const std::string& problem)
      : std::invalid_argument(field + " = " + value + ": " + problem),
        field_(std::move(field)),
        value_(std::move(value)) {}

  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

}  // namespace accelbench
// ---- end accelbench/core/error.hpp ----
// ---- begin accelbench/core/config.hpp ----

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>


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

  /// Compare a non-reference backend's output with the Cpu reference.
  bool verify = true;
  /// Largest absolute difference from the reference that still counts as ok.
  double verify_tolerance = 1e-3;
};

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
}

}  // namespace accelbench
// ---- end accelbench/core/config.hpp ----
// ---- begin accelbench/core/result.hpp ----

// The data a run produces. Plain structs, no Eigen: reporters and tools that
// only read results include this header alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace accelbench {

/// Outcome of one cell of a sweep.
enum class CellStatus {
  ok,           ///< measured; output matched the reference (or is the reference)
  mismatch,     ///< measured, but the output differs from the reference beyond tolerance
  failed,       ///< an exception ended the cell; `message` says which
  unavailable,  ///< the backend or timer cannot run on this machine; `message` says why
  timeout,      ///< the cell ran past cell_timeout_s; what was measured is kept (isolated: the process was killed)
  crashed,      ///< isolated: the process measuring the cell died (a signal, an abnormal exit); `message` says how
  out_of_memory,  ///< isolated: the cell ran out of memory under max_memory; `message` gives the limit
};

[[nodiscard]] constexpr std::string_view to_string(CellStatus s) noexcept {
  switch (s) {
    case CellStatus::ok: return "ok";
    case CellStatus::mismatch: return "mismatch";
    case CellStatus::failed: return "failed";
    case CellStatus::unavailable: return "unavailable";
    case CellStatus::timeout: return "timeout";
    case CellStatus::crashed: return "crashed";
    case CellStatus::out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

/// Whether a backend can run here and, if not, why.
struct Availability {
  bool available = true;
  std::string reason;

  [[nodiscard]] static Availability yes() { return {}; }
  [[nodiscard]] static Availability no(std::string why) { return {false, std::move(why)}; }
  explicit operator bool() const noexcept { return available; }
};

/// What a backend says about the device it runs on.
struct DeviceInfo {
  std::string backend;           ///< policy name, e.g. "cpu"
  std::string name;              ///< device name, e.g. the CPU model
  std::string kind;              ///< "cpu", "gpu", ...
  int compute_units = 0;         ///< cores, compute units or SMs
  int threads = 0;               ///< threads the backend uses (0 when not applicable)
  std::uint64_t memory_bytes = 0;
  std::vector<std::string> features;  ///< e.g. SIMD extensions in use
  std::vector<std::pair<std::string, std::string>> properties;
};

/// How the program that produced the results was built.
struct BuildInfo {
  std::string library_version;
  std::string compiler;
  std::string flags;       ///< compiler flags when the build recorded them
  std::string build_type;  ///< CMake build type when recorded, else derived from the macros
  bool optimized = false;  ///< compiled with optimisation (__OPTIMIZE__)
  bool assertions = false; ///< assertions enabled (NDEBUG not defined)
  std::string git_commit;  ///< empty when unknown
  std::string eigen_version;
  std::string eigen_simd;  ///< SIMD instruction sets Eigen was compiled for
  std::vector<std::string> simd;  ///< extensions the compiler targeted, named as SystemInfo::cpu_features
  bool openmp = false;     ///< compiled with OpenMP (_OPENMP defined): the Cpu backend can use threads

  /// A build whose timings should not be trusted: unoptimised or with assertions.
  [[nodiscard]] bool debug() const noexcept { return !optimized || assertions; }
};

/// The machine the run happened on.
struct SystemInfo {
  std::string hostname;
  std::string os;          ///< distribution name when known, else the kernel name
  std::string kernel;      ///< kernel release
  std::string architecture;
  std::string cpu_model;
  int logical_cores = 0;
  int physical_cores = 0;
  std::uint64_t memory_bytes = 0;
  std::vector<std::string> cpu_features;  ///< SIMD and matrix extensions the CPU reports
};

/// Summary of a set of latency samples, in seconds. Fields a Stats policy
/// does not compute are left empty.
struct Interval {
  double low = 0;
  double high = 0;
};

/// Counts of samples outside Tukey's fences: below Q1 - k IQR or above
/// Q3 + k IQR, with k = 1.5 (outliers) and k = 3 (extreme outliers, also
/// counted among the outliers). Outliers are counted, never dropped.
struct OutlierCounts {
  std::size_t low = 0;
  std::size_t high = 0;
  std::size_t extreme_low = 0;
  std::size_t extreme_high = 0;
  [[nodiscard]] std::size_t total() const noexcept { return low + high; }
};

/// Equal-width bins from `min` to `min + counts.size() * bin_width`; the last
/// bin includes its upper edge.
struct Histogram {
  double min = 0;
  double bin_width = 0;
  std::vector<std::size_t> counts;
};

struct LatencySummary {
  std::size_t count = 0;
  double min = 0, max = 0, mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1); 0 for one sample
  double cv = 0;      ///< coefficient of variation, stddev / mean
  std::optional<double> median, p90, p95, p99, p999;
  std::optional<double> mad;  ///< median absolute deviation from the median (unscaled)
  double confidence = 0;      ///< level of the intervals below, e.g. 0.95
  /// Distribution-free intervals from order statistics; empty when there are
  /// too few samples for the level.
  std::optional<Interval> median_ci, p90_ci, p99_ci;
  std::optional<Interval> mean_ci;  ///< normal-theory interval of the mean (Student's t)
  std::optional<OutlierCounts> outliers;
  std::optional<Histogram> histogram;
};

/// One named coordinate of a cell of the sweep (batch_size, sequence_length, ...).
struct Axis {
  std::string name;
  std::int64_t value = 0;
};

struct Throughput {
  std::string item_unit;            ///< what one item is: "sequences", "images", ...
  double items_per_second = 0;      ///< items of all timed iterations / their total time
  std::optional<double> tokens_per_second;
  std::optional<double> gflops_per_second;  ///< when the family can count the work
  /// Processing time per second of the input's real time (audio): below 1
  /// is faster than real time; the mean run time over the run's real time.
  std::optional<double> real_time_factor;
};

/// Resident memory of the process around one cell.
struct MemoryUsage {
  std::uint64_t rss_before_bytes = 0;  ///< resident set before the cell's inputs were made
  std::uint64_t rss_after_bytes = 0;   ///< resident set when the cell ended
  std::uint64_t peak_rss_bytes = 0;    ///< high-water mark of the resident set
  bool peak_is_per_cell = false;       ///< true when the high-water mark was reset at the cell's start
  /// Time-weighted mean of the resident set sampled by a background thread
  /// during the cell; empty when sampling is off.
  std::optional<std::uint64_t> average_rss_bytes;
  std::size_t rss_samples = 0;
  std::optional<std::uint64_t> activation_bytes;  ///< the workload's activations, where the family knows them
  std::optional<std::uint64_t> kv_cache_bytes;    ///< the workload's key-value cache, where there is one
  /// Device memory held by the backend (device backends that count it):
  /// the most during the cell, its time-weighted mean, what was held when
  /// the cell ended, and the device's total.
  std::optional<std::uint64_t> device_peak_bytes;
  std::optional<std::uint64_t> device_average_bytes;
  std::optional<std::uint64_t> device_used_bytes;
  std::optional<std::uint64_t> device_total_bytes;
  /// Growth of the resident set during the cell: peak minus the value before.
  [[nodiscard]] std::uint64_t growth_bytes() const noexcept {
    return peak_rss_bytes > rss_before_bytes ? peak_rss_bytes - rss_before_bytes : 0;
  }
};

/// Device memory as a device backend reports it (B::device_memory()).
struct DeviceMemory {
  std::uint64_t used_bytes = 0;     ///< held now
  std::uint64_t peak_bytes = 0;     ///< most held since the last reset_device_memory()
  std::uint64_t average_bytes = 0;  ///< time-weighted mean since that reset
  std::uint64_t total_bytes = 0;    ///< the device's memory
};

/// Comparison of a backend's output with the reference backend's.
struct Verification {
  std::string status = "skipped";  ///< "reference", "ok", "mismatch" or "skipped"
  std::string reference;           ///< backend compared against
  double max_abs_error = 0;
  double max_rel_error = 0;
  double cosine_similarity = 1;
  double tolerance = 0;            ///< max_abs_error allowed
  /// Fraction of equal entries over the outputs whose name ends in "tokens"
  /// (greedy generated tokens); empty when there are none.
  std::optional<double> token_agreement;
};

/// A timed part of every run (text generation's prefill and decode, ...),
/// timed inside the run by the workload between synchronisations.
struct PhaseResult {
  std::string name;
  std::string item_unit;        ///< what one occurrence processes: "prompt tokens", "tokens", ...
  double items = 0;             ///< items per occurrence
  std::size_t per_run = 0;      ///< occurrences in one run
  LatencySummary latency;       ///< of one occurrence
  double items_per_second = 0;  ///< items of all occurrences / their total time
};

struct CellResult {
  std::string model;
  std::string family;
  std::string backend;
  std::vector<Axis> shape;
  CellStatus status = CellStatus::ok;
  std::string message;

  std::string stats;  ///< Stats policy name
  std::string timer;  ///< Timer policy name
  int warmup_iterations = 0;
  std::size_t iterations = 0;           ///< runs timed, over all samples
  std::size_t iterations_per_sample = 1;  ///< runs timed together in one sample (short operations)
  std::string stop_reason;  ///< the part of the stopping rule that ended sampling
  double measured_time_s = 0;  ///< sum of the timed samples
  double sampling_wall_s = 0;  ///< wall time of the sampling phase, the harness's own work included
  double first_run_s = 0;      ///< the cell's first execution, before warmup
  double load_time_s = 0;      ///< the model's load time (repeated on each of its cells)

  LatencySummary latency;
  std::vector<PhaseResult> phases;  ///< the family's phases, where it has any
  std::vector<double> samples_s;  ///< every sample, per run (a batch's time divided by its runs), in order
  /// Timer counters per run, averaged over the samples (e.g. cycles, instructions).
  std::vector<std::pair<std::string, double>> counters;
  Throughput throughput;
  MemoryUsage memory;
  Verification verification;
  std::vector<std::string> warnings;

  /// The value of the named axis, or nullopt.
  [[nodiscard]] std::optional<std::int64_t> axis(std::string_view name) const {
    for (const auto& a : shape) {
      if (a.name == name) return a.value;
    }
    return std::nullopt;
  }
};

struct ModelInfo {
  std::string name;          ///< preset name
  std::string family;
  std::string architecture;  ///< "bert", ...
  std::string backend;
  std::string weights;       ///< where the weights came from, e.g. "synthetic (seed 42)"
  /// config.json fields unknown to the architecture that the user accepted
  /// (Config::accept_config_fields): the model may compute something they change.
  std::vector<std::string> accepted_config_fields;
  std::int64_t parameters = 0;
  std::uint64_t weight_bytes = 0;
  double load_time_s = 0;       ///< construct + upload
  double construct_time_s = 0;  ///< making the weights in host memory (generated or read)
  double upload_time_s = 0;     ///< building the model on the backend from them
  bool shared = false;          ///< taken from a ResourcePool that had loaded it before
  std::string status = "ok";    ///< "ok", "failed", "unavailable" or "unsupported"
  std::string message;
};

/// A timer policy as measured at start-up.
struct TimerInfo {
  std::string name;
  bool available = true;
  std::string reason;        ///< why not, when unavailable
  double resolution_s = 0;   ///< smallest non-zero interval it reported
  double call_cost_s = 0;    ///< cost of one start() and stop()
  std::vector<std::pair<std::string, std::string>> properties;  ///< e.g. the TSC's calibrated frequency
};

/// What about the machine affects timings.
struct EnvironmentInfo {
  std::string governor;          ///< cpufreq scaling governor; empty when not exposed
  std::optional<bool> boost;     ///< frequency boost (turbo) on; empty when unknown
  bool virtualized = false;
  std::string hypervisor;        ///< e.g. "KVM", when virtualized
  std::string clocksource;       ///< the kernel's clock source, e.g. "tsc", "kvm-clock"
  std::optional<double> cpu_mhz; ///< current frequency of CPU 0 as the kernel reports it
};

/// Paired comparison of two variants (a, b) on one cell: their runs are
/// interleaved and each pair gives a ratio a / b.
struct ComparisonCell {
  std::vector<Axis> shape;
  std::string status = "ok";  ///< "ok" or "failed"
  std::string message;
  std::size_t pairs = 0;
  double median_a_s = 0;
  double median_b_s = 0;
  double ratio = 0;           ///< median of the pairwise ratios a / b
  std::optional<Interval> ratio_ci;
  std::size_t a_slower = 0;   ///< pairs with a / b > 1
  std::size_t b_slower = 0;   ///< pairs with a / b < 1
  double p_value = 1;         ///< two-sided sign test of "ratio = 1"
  bool significant = false;   ///< p_value < 1 - confidence
};

struct ComparisonResult {
  std::string family;
  std::string model_a, model_b;
  std::string backend_a, backend_b;
  std::string label_a, label_b;  ///< e.g. "1 thread", "2 threads"
  double confidence = 0;
  std::string test = "sign test";
  std::vector<ComparisonCell> cells;
};

/// K models loaded one after another and all at once.
struct LoadingResult {
  std::string family;
  std::string backend;
  std::vector<std::string> models;
  int repetitions = 0;
  std::vector<double> sequential_s;  ///< wall time of each sequential repetition
  std::vector<double> concurrent_s;  ///< wall time of each concurrent repetition
  double sequential_median_s = 0;
  double concurrent_median_s = 0;
  double speedup = 0;                ///< sequential_median_s / concurrent_median_s
  std::string status = "ok";
  std::string message;
};

struct RunResult {
  static constexpr int schema_version = 1;

  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;  ///< ISO 8601, UTC
  SystemInfo system;
  BuildInfo build;
  EnvironmentInfo environment;
  Config settings;  ///< the stopping rule and other settings the cells were measured with
  std::vector<TimerInfo> timers;
  std::vector<DeviceInfo> devices;
  std::vector<ModelInfo> models;
  std::vector<CellResult> cells;
  std::vector<ComparisonResult> comparisons;
  std::vector<LoadingResult> loading;
  std::vector<std::string> warnings;  ///< run-wide warnings, e.g. a debug build

  /// Appends another run's models, cells and devices (devices once per backend).
  /// An empty result takes the other's system, build and settings.
  void merge(RunResult&& other) {
    if (models.empty() && cells.empty() && comparisons.empty() && loading.empty()) {
      system = std::move(other.system);
      build = std::move(other.build);
      environment = std::move(other.environment);
      settings = other.settings;
    }
    for (auto& t : other.timers) {
      bool seen = false;
      for (const auto& mine : timers) seen = seen || mine.name == t.name;
      if (!seen) timers.push_back(std::move(t));
    }
    for (auto& c : other.comparisons) comparisons.push_back(std::move(c));
    for (auto& l : other.loading) loading.push_back(std::move(l));
    if (started_at.empty() || (!other.started_at.empty() && other.started_at < started_at)) {
      started_at = other.started_at;
    }
    if (other.finished_at > finished_at) finished_at = other.finished_at;
    for (auto& d : other.devices) {
      bool seen = false;
      for (const auto& mine : devices) seen = seen || mine.backend == d.backend;
      if (!seen) devices.push_back(std::move(d));
    }
    for (auto& m : other.models) models.push_back(std::move(m));
    for (auto& c : other.cells) cells.push_back(std::move(c));
    for (auto& w : other.warnings) {
      bool seen = false;
      for (const auto& mine : warnings) seen = seen || mine == w;
      if (!seen) warnings.push_back(std::move(w));
    }
  }
};

}  // namespace accelbench
// ---- end accelbench/core/result.hpp ----
// ---- begin accelbench/core/tensor.hpp ----

// Host-side data exchanged with backends: weights, inputs and outputs.

// ---- begin accelbench/detail/eigen.hpp ----

// Eigen, included once for the whole library. GCC before 13 warns that
// `__Y` is used uninitialised inside its own AVX-512 intrinsics
// (_mm512_undefined_ps, GCC bug 105593) wherever Eigen's AVX-512 kernels are
// inlined; the warning is silenced for those headers only.

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#endif
// ---- end accelbench/detail/eigen.hpp ----

#include <cstdint>
#include <string>
#include <vector>

namespace accelbench {

/// A dense row-major float matrix in host memory. Weights, activations and
/// outputs cross the backend boundary in this form; a vector is a 1 x n matrix.
using HostMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One named output of a workload, in host memory (for verification).
struct NamedOutput {
  std::string name;
  HostMatrix value;
};

}  // namespace accelbench
// ---- end accelbench/core/tensor.hpp ----
// ---- begin accelbench/machine/system.hpp ----

// Descriptions of the machine and of the build, recorded with every result.


#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

// ---- begin accelbench/detail/proc.hpp ----

// Reading the operating system's description of this process and machine.
// Linux reads /proc; elsewhere the functions return what portable calls give.

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#endif

namespace accelbench::detail {

inline std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

/// "key: value" lines of a /proc file, the first value of `key`.
inline std::optional<std::string> proc_field(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (trim(std::string_view(line).substr(0, colon)) == key) {
      return trim(std::string_view(line).substr(colon + 1));
    }
  }
  return std::nullopt;
}

/// A "NNN kB" field of /proc/self/status, in bytes.
inline std::optional<std::uint64_t> self_status_bytes(std::string_view key) {
  const auto text = read_text_file("/proc/self/status");
  if (!text) return std::nullopt;
  const auto value = proc_field(*text, key);
  if (!value) return std::nullopt;
  try {
    return static_cast<std::uint64_t>(std::stoull(*value)) * 1024u;
  } catch (...) {
    return std::nullopt;
  }
}

/// Resident set size of this process now (0 where the system does not say).
inline std::uint64_t current_rss_bytes() { return self_status_bytes("VmRSS").value_or(0); }

/// High-water mark of the resident set: since the last reset_peak_rss(), or
/// since the process started when resetting is not possible.
inline std::uint64_t peak_rss_bytes() {
  if (auto v = self_status_bytes("VmHWM")) return *v;
#if defined(__unix__) || defined(__APPLE__)
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
#if defined(__APPLE__)
    return static_cast<std::uint64_t>(usage.ru_maxrss);  // bytes on macOS
#else
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024u;  // kilobytes elsewhere
#endif
  }
#endif
  return 0;
}

/// Resets the resident-set high-water mark to the current resident set
/// (Linux 4.0+: "5" written to /proc/self/clear_refs). Returns false where
/// that is not possible; the peak then covers the whole process lifetime.
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

struct CpuDescription {
  std::string model;
  int logical_cores = 0;
  int physical_cores = 0;
  std::vector<std::string> features;
};

/// SIMD and matrix extensions worth reporting, in the order they are listed.
inline const std::vector<std::string_view>& reported_cpu_features() {
  static const std::vector<std::string_view> names = {
      "sse4_2",      "avx",        "avx2",        "fma",         "f16c",       "avx_vnni",
      "avx512f",     "avx512bw",   "avx512vl",    "avx512_vnni", "avx512_bf16", "avx512_fp16",
      "amx_tile",    "amx_bf16",   "amx_int8",    "asimd",       "asimdhp",    "sve",
      "sve2",        "i8mm",       "bf16",        "neon"};
  return names;
}

/// What /proc/cpuinfo says: x86 ("model name", "vendor_id", "flags") and
/// ARM ("Features", "CPU implementer") spellings are both understood.
struct CpuInfoText {
  std::string model;
  std::string vendor;
  std::string part;    ///< ARM "CPU part", e.g. 0xd4f
  int processors = 0;  ///< "processor" entries: logical CPUs
  std::set<std::string> packages;                      ///< "physical id" values: sockets
  std::set<std::pair<std::string, std::string>> cores;  ///< (physical id, core id): physical cores
  std::set<std::string> flags;
  std::optional<double> mhz;  ///< "cpu MHz" of the first CPU
};

/// The name of an ARM "CPU implementer" code, or the code itself.
inline std::string arm_implementer_name(const std::string& code) {
  static const std::vector<std::pair<std::string_view, std::string_view>> names = {
      {"0x41", "ARM"},    {"0x42", "Broadcom"}, {"0x43", "Cavium"},   {"0x48", "HiSilicon"},
      {"0x4e", "NVIDIA"}, {"0x51", "Qualcomm"}, {"0x53", "Samsung"},  {"0x61", "Apple"},
      {"0x6d", "Microsoft"}, {"0xc0", "Ampere"}};
  for (const auto& [c, n] : names) {
    if (c == code) return std::string(n);
  }
  return "implementer " + code;
}

inline CpuInfoText parse_cpuinfo(const std::string& text) {
  CpuInfoText info;
  std::string physical_id;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto key = trim(std::string_view(line).substr(0, colon));
    const auto value = trim(std::string_view(line).substr(colon + 1));
    if (key == "processor") {
      ++info.processors;
    } else if (info.model.empty() && (key == "model name" || key == "Model" || key == "cpu model")) {
      info.model = value;
    } else if (info.vendor.empty() && key == "vendor_id") {
      info.vendor = value;
    } else if (info.vendor.empty() && key == "CPU implementer") {
      info.vendor = arm_implementer_name(value);
    } else if (info.part.empty() && key == "CPU part") {
      info.part = value;
    } else if (key == "physical id") {
      physical_id = value;
      info.packages.insert(value);
    } else if (key == "core id") {
      info.cores.emplace(physical_id, value);
    } else if ((key == "flags" || key == "Features") && info.flags.empty()) {
      std::istringstream words(value);
      std::string word;
      while (words >> word) info.flags.insert(word);
    } else if (!info.mhz && key == "cpu MHz") {
      try {
        info.mhz = std::stod(value);
      } catch (...) {
      }
    }
  }
  return info;
}

/// The reported_cpu_features() among `flags`, in that order.
inline std::vector<std::string> reported_features_of(const std::set<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto name : reported_cpu_features()) {
    if (flags.count(std::string(name)) != 0) out.emplace_back(name);
  }
  return out;
}

inline CpuDescription describe_cpu() {
  CpuDescription cpu;
  cpu.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  if (const auto text = read_text_file("/proc/cpuinfo")) {
    const auto info = parse_cpuinfo(*text);
    cpu.model = info.model;
    cpu.physical_cores = static_cast<int>(info.cores.size());
    cpu.features = reported_features_of(info.flags);
  }
  if (cpu.model.empty()) cpu.model = "unknown CPU";
  if (cpu.physical_cores == 0) cpu.physical_cores = cpu.logical_cores;
  return cpu;
}

/// A "NNN kB" field of a /proc/meminfo text, in bytes.
inline std::optional<std::uint64_t> meminfo_bytes(const std::string& text, std::string_view key) {
  const auto value = proc_field(text, key);
  if (!value) return std::nullopt;
  try {
    return static_cast<std::uint64_t>(std::stoull(*value)) * 1024u;
  } catch (...) {
    return std::nullopt;
  }
}

/// Physical memory of the machine in bytes (0 when unknown).
inline std::uint64_t total_memory_bytes() {
  if (const auto text = read_text_file("/proc/meminfo")) {
    if (const auto v = meminfo_bytes(*text, "MemTotal")) return *v;
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

}  // namespace accelbench::detail
// ---- end accelbench/detail/proc.hpp ----

namespace accelbench {

/// The machine: OS, kernel, CPU and memory.
inline SystemInfo system_info() {
  SystemInfo info;
  const auto cpu = detail::describe_cpu();
  info.cpu_model = cpu.model;
  info.logical_cores = cpu.logical_cores;
  info.physical_cores = cpu.physical_cores;
  info.cpu_features = cpu.features;
  info.memory_bytes = detail::total_memory_bytes();
#if defined(__unix__) || defined(__APPLE__)
  utsname u{};
  if (uname(&u) == 0) {
    info.hostname = u.nodename;
    info.os = u.sysname;
    info.kernel = u.release;
    info.architecture = u.machine;
  }
#endif
  if (const auto release = detail::read_text_file("/etc/os-release")) {
    std::istringstream lines(*release);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("PRETTY_NAME=", 0) == 0) {
        auto value = line.substr(12);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        info.os = value;
      }
    }
  }
  return info;
}

namespace detail {

/// The SIMD and matrix extensions this translation unit was compiled for,
/// from the compiler's predefined macros, named and ordered as
/// reported_cpu_features() (the names of /proc/cpuinfo).
inline std::vector<std::string> compiled_cpu_features() {
  // One array, one allocation: a vector grown name by name trips GCC 12's
  // -Warray-bounds where this is inlined.
  static constexpr const char* names[] = {
#if defined(__SSE4_2__)
      "sse4_2",
#endif
#if defined(__AVX__)
      "avx",
#endif
#if defined(__AVX2__)
      "avx2",
#endif
#if defined(__FMA__)
      "fma",
#endif
#if defined(__F16C__)
      "f16c",
#endif
#if defined(__AVXVNNI__)
      "avx_vnni",
#endif
#if defined(__AVX512F__)
      "avx512f",
#endif
#if defined(__AVX512BW__)
      "avx512bw",
#endif
#if defined(__AVX512VL__)
      "avx512vl",
#endif
#if defined(__AVX512VNNI__)
      "avx512_vnni",
#endif
#if defined(__AVX512BF16__)
      "avx512_bf16",
#endif
#if defined(__AVX512FP16__)
      "avx512_fp16",
#endif
#if defined(__AMX_TILE__)
      "amx_tile",
#endif
#if defined(__AMX_BF16__)
      "amx_bf16",
#endif
#if defined(__AMX_INT8__)
      "amx_int8",
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
      "asimd",
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
      "asimdhp",
#endif
#if defined(__ARM_FEATURE_SVE)
      "sve",
#endif
#if defined(__ARM_FEATURE_SVE2)
      "sve2",
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
      "i8mm",
#endif
#if defined(__ARM_FEATURE_BF16)
      "bf16",
#endif
#if !defined(__aarch64__) && defined(__ARM_NEON)
      "neon",
#endif
      nullptr};
  return std::vector<std::string>(std::begin(names), std::end(names) - 1);
}

/// The vector extensions Eigen's kernels use, among reported_cpu_features():
/// a CPU with one of them runs a build without it below its speed.
inline const std::vector<std::string_view>& eigen_vector_features() {
  static const std::vector<std::string_view> names = {"sse4_2", "avx", "avx2", "fma", "avx512f", "asimd", "neon"};
  return names;
}

}  // namespace detail

/// How this translation unit was compiled. The build records its flags, type
/// and commit by defining ACCELBENCH_BUILD_FLAGS, ACCELBENCH_BUILD_TYPE and
/// ACCELBENCH_GIT_COMMIT (accelbench's own programs do); what is not recorded
/// is derived from the compiler's predefined macros.
inline BuildInfo build_info() {
  BuildInfo b;
  b.library_version = version_string;
#if defined(__clang__)
  b.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  b.compiler = "gcc " __VERSION__;
#elif defined(_MSC_VER)
  b.compiler = "msvc " + std::to_string(_MSC_FULL_VER);
#else
  b.compiler = "unknown compiler";
#endif
#if defined(__OPTIMIZE__) || (defined(_MSC_VER) && !defined(_DEBUG))
  b.optimized = true;
#endif
#if !defined(NDEBUG)
  b.assertions = true;
#endif
#if defined(ACCELBENCH_BUILD_FLAGS)
  b.flags = ACCELBENCH_BUILD_FLAGS;
#else
  b.flags = "not recorded (define ACCELBENCH_BUILD_FLAGS)";
#endif
#if defined(ACCELBENCH_BUILD_TYPE)
  b.build_type = ACCELBENCH_BUILD_TYPE;
#endif
  if (b.build_type.empty()) {
    b.build_type = !b.optimized ? "Debug" : (b.assertions ? "optimized with assertions" : "Release");
  }
#if defined(ACCELBENCH_GIT_COMMIT)
  b.git_commit = ACCELBENCH_GIT_COMMIT;
#endif
  b.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
  b.eigen_simd = Eigen::SimdInstructionSetsInUse();
  b.simd = detail::compiled_cpu_features();
#if defined(_OPENMP)
  b.openmp = true;
#endif
  return b;
}

/// Run-wide warnings from the build against the CPU it runs on
/// (`cpu_features` as SystemInfo::cpu_features): vector extensions the CPU
/// has that the build was not compiled for, and a build without OpenMP.
inline std::vector<std::string> build_machine_warnings(const BuildInfo& b,
                                                       const std::vector<std::string>& cpu_features) {
  std::vector<std::string> w;
  std::string missing;
  for (const auto name : detail::eigen_vector_features()) {
    const auto has = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), name) != list.end();
    };
    if (has(cpu_features) && !has(b.simd)) {
      if (!missing.empty()) missing += ", ";
      missing += name;
    }
  }
  if (!missing.empty()) {
    w.push_back("vector extensions: the CPU has " + missing + " but the program was compiled without " +
                (missing.find(',') == std::string::npos ? "it" : "them") + " (Eigen uses " +
                (b.eigen_simd.empty() ? std::string("no SIMD") : b.eigen_simd) +
                "): Cpu timings are below what this CPU does; compile with -march=native "
                "(accelbench::accelbench's default, option ACCELBENCH_NATIVE)");
  }
  if (!b.openmp) {
    w.emplace_back("OpenMP: the program was compiled without it (_OPENMP undefined): the Cpu backend runs on "
                   "one thread; compile and link with -fopenmp (accelbench::accelbench links "
                   "OpenMP::OpenMP_CXX unless ACCELBENCH_USE_OPENMP is OFF)");
  }
  return w;
}

/// Run-wide warnings that follow from how the program was built.
inline std::vector<std::string> build_warnings(const BuildInfo& b) {
  std::vector<std::string> w;
  if (!b.optimized) w.emplace_back("debug build: compiled without optimisation; timings are not representative");
  if (b.assertions) w.emplace_back("assertions enabled (NDEBUG not defined); timings include their cost");
  return w;
}

/// Now, as ISO 8601 in UTC with a trailing Z.
inline std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
#if defined(_WIN32)
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace accelbench
// ---- end accelbench/machine/system.hpp ----
// ---- begin accelbench/concepts.hpp ----

// The five policy concepts of Benchmark<B, F, S, T, R>, each declared beside
// its entity: Backend (and the op sets) in backend/concepts.hpp, ModelFamily
// in family/concepts.hpp, Stats in measure/stats/concept.hpp, Timer in
// measure/timer/concept.hpp, Reporter in report/concept.hpp.
// docs/concepts.md shows a minimal type for each.

// ---- begin accelbench/backend/concepts.hpp ----

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

// ---- begin accelbench/backend/hooks.hpp ----

// The optional hooks of a backend, each a named concept. accelbench calls a
// hook only where the backend satisfies its concept; a backend that means to
// provide one states it with a static_assert, so a misspelt or mistyped hook
// fails to compile instead of being skipped:
//
//   static_assert(accelbench::HasDeviceKey<MyBackend>);
//
// docs/writing-a-backend.md lists them with what each changes in a report.

#include <concepts>
#include <string>

// ---- begin accelbench/machine/device_report.hpp ----

// One section of `accelbench check`: the devices of one kind on this machine
// (the CPU, OpenCL's, CUDA's, a vendor backend's), as text and as JSON. Each
// backend brings its own (the HasDescribeDevices hook); docs/hardware.md
// describes the sections.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

// ---- begin accelbench/core/json.hpp ----

// The JSON value type of results, suite files, checkpoints' config.json and
// hardware reports: nlohmann's JSON with the order of keys kept.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace accelbench {

using Json = nlohmann::ordered_json;

namespace detail {

/// A value, or null where it is absent.
template <class T>
Json optional_value(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

/// A text, or null where it is empty.
inline Json optional_text(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

/// The JSON text of `j`; bytes of its strings that are not valid UTF-8 (a
/// checkpoint folder's name, a message quoting one) become U+FFFD instead of
/// an exception, so that results are always written. Every results file is
/// written through this.
inline std::string dump_json(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

/// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD,
/// as dump_json writes it.
inline std::string valid_utf8(std::string_view text) {
  return Json::parse(dump_json(Json(std::string(text)))).get<std::string>();
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/core/json.hpp ----

namespace accelbench {

struct DeviceReport {
  std::string title;       ///< the section's heading: "CPU", "OpenCL", "CUDA"
  std::string key;         ///< its key in the JSON report: "cpu", "opencl", "cuda"
  bool available = false;  ///< at least one device
  std::string reason;      ///< why not, when not available
  std::string text;        ///< the section's lines, each indented by two spaces or more
  Json json;               ///< the same as a JSON object
};

/// The sections as text, each under its title, separated by a blank line.
[[nodiscard]] inline std::string format_device_reports(const std::vector<DeviceReport>& reports) {
  std::string out;
  for (const auto& r : reports) out += (out.empty() ? "" : "\n") + r.title + "\n" + r.text;
  return out;
}

/// The sections as one JSON object, each under its key.
[[nodiscard]] inline Json to_json(const std::vector<DeviceReport>& reports) {
  Json j = Json::object();
  for (const auto& r : reports) j[r.key] = r.json;
  return j;
}

namespace detail {

/// 32768 -> "32 KiB", 25276502016 -> "23.5 GiB".
inline std::string binary_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (v == static_cast<double>(static_cast<std::uint64_t>(v))) return fmt::format("{} {}", v, units[u]);
  return fmt::format("{:.1f} {}", v, units[u]);
}

/// One "key   value" line of a section, the values aligned.
inline void hardware_line(std::string& out, int indent, std::string_view key, std::string_view value) {
  out += fmt::format("{:{}}{:<{}} {}\n", "", indent, key, 22 - indent, value);
}

inline std::string plural(int n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

/// Readers of a section's JSON that take null or a missing key as empty.
inline std::string hardware_json_text(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

template <class T>
T hardware_json_number(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? T{} : it->get<T>();
}

inline std::optional<double> hardware_json_optional(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<double>();
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/machine/device_report.hpp ----
// ---- begin accelbench/measure/timer/concept.hpp ----

// The Timer policy: how one sample is taken. docs/concepts.md shows a minimal type.

#include <concepts>
#include <string_view>


namespace accelbench {

/// Takes one sample: start() before the operation, stop() after the backend
/// has been synchronised, returning the elapsed seconds.
template <class T>
concept Timer = std::movable<T> && requires(T& t) {
  { T::name } -> std::convertible_to<std::string_view>;
  { t.start() };
  { t.stop() } -> std::same_as<double>;
};

// The optional hooks of a Timer, each a named concept: a timer that means to
// provide one states it with static_assert(HasCounters<MyTimer>), so a
// misspelt hook fails to compile instead of being skipped.

/// `static available()`: whether the timer can run here, with the reason
/// (timers without it always can).
template <class T>
concept ReportsAvailability = requires {
  { T::available() } -> std::same_as<Availability>;
};

/// `static ticks_per_second()`: the frequency of the timer's clock, reported
/// with the timer.
template <class T>
concept HasTicksPerSecond = requires { T::ticks_per_second(); };

/// `threads_counted()`: how many threads the timer measures, reported with it.
template <class T>
concept CountsThreads = requires(T& t) { t.threads_counted(); };

/// `counters()`: hardware counter values of the last sample, as (name, value)
/// pairs; summed over the samples and reported per run.
template <class T>
concept HasCounters = requires(T& t) { t.counters(); };

}  // namespace accelbench
// ---- end accelbench/measure/timer/concept.hpp ----

namespace accelbench {

/// `B::DefaultTimer`: the Timer a Benchmark on B uses unless told otherwise
/// (a device event timer); SteadyTimer without it.
template <class B>
concept HasDefaultTimer = requires { typename B::DefaultTimer; } && Timer<typename B::DefaultTimer>;

/// `device_key()`: the memory space the backend's tensors live in (Cpu:
/// "host"; a GPU backend: its device). Two backend objects with the same key
/// share the models of a ResourcePool; without it each object has its own.
template <class B>
concept HasDeviceKey = requires(const B& b) {
  { b.device_key() } -> std::convertible_to<std::string>;
};

/// `device_memory()`: the device memory figures of the last cell (peak,
/// average, used and total bytes), reported beside the host's.
template <class B>
concept HasDeviceMemory = requires(B& b) {
  { b.device_memory() } -> std::same_as<DeviceMemory>;
};

/// `reset_device_memory()`: starts the device memory figures afresh; called
/// before each cell.
template <class B>
concept HasResetDeviceMemory = requires(B& b) { b.reset_device_memory(); };

/// `static describe_devices()`: every device of this backend's kind on the
/// machine, for `accelbench check`, found without opening the backend (see
/// backend/hardware.hpp's describe_machine).
template <class B>
concept HasDescribeDevices = requires {
  { B::describe_devices() } -> std::same_as<DeviceReport>;
};

}  // namespace accelbench
// ---- end accelbench/backend/hooks.hpp ----
// ---- begin accelbench/backend/op_dims.hpp ----

// The argument descriptors of the backend ops (attention, rotary, caches,
// T5's relative bias, convolutions, group norm): the vocabulary shared by
// every backend and by the model layers that call them.

#include <cmath>
#include <vector>

namespace accelbench {

/// Dimensions of one multi-head attention call. Queries are laid out as
/// [batch * query_len, heads * head_dim]; head h occupies columns
/// [h * head_dim, (h + 1) * head_dim). Keys and values are
/// [batch * key_stride, kv_heads * head_dim], of which the first key_len rows
/// of each sequence are attended (a key-value cache has key_stride =
/// its capacity). Query head h reads key-value head h / (heads / kv_heads):
/// grouped-query attention when kv_heads < heads. A causal window w > 0
/// narrows the causal mask to the last w positions: query i, at position
/// p = key_len - query_len + i, sees the keys at positions p - w + 1 .. p
/// (transformers' sliding-window causal mask, kv_idx > q_idx - w).
struct AttentionDims {
  int batch = 0;
  int query_len = 0;
  int key_len = 0;
  int heads = 0;
  int head_dim = 0;
  int kv_heads = 0;    ///< 0: as many as heads
  int key_stride = 0;  ///< rows per sequence in keys and values; 0: key_len
  /// Query i sits at position key_len - query_len + i and sees the keys up
  /// to that position only.
  bool causal = false;
  /// Causal attention only: the keys a query sees, its own position
  /// included (sliding-window attention); 0: all up to its position.
  int window = 0;
  float scale = 0.0f;  ///< score scale; 0: 1 / sqrt(head_dim)

  [[nodiscard]] int effective_kv_heads() const noexcept { return kv_heads > 0 ? kv_heads : heads; }
  [[nodiscard]] int effective_key_stride() const noexcept { return key_stride > 0 ? key_stride : key_len; }
  /// The keys query i sees: [first_key(i), end_key(i)).
  [[nodiscard]] int end_key(int i) const noexcept { return causal ? key_len - query_len + i + 1 : key_len; }
  [[nodiscard]] int first_key(int i) const noexcept {
    return causal && window > 0 && end_key(i) > window ? end_key(i) - window : 0;
  }
};

/// transformers' rotary types that scale the inverse frequencies
/// (modeling_rope_utils.py): none is rope_type "default"; linear divides
/// every inverse frequency by factor; llama3 divides those of wavelengths
/// above original_max_positions / low_freq_factor by factor, keeps those
/// below original_max_positions / high_freq_factor, and blends the ones
/// between. dynamic (NTK) is a model's setting, never an op's: a model
/// passes the default frequencies of the grown theta its positions call for
/// (dynamic_rope_theta, model/common/rope_config.hpp), so backends treat it as
/// none.
enum class RotaryScaling { none, linear, llama3, dynamic };

/// Rotary position embedding of [batch * len, heads * head_dim] rows: row
/// (b, i) is at position start + i; inverse frequencies theta^(-2j / head_dim),
/// scaled as `scaling` says (rotary_inv_freq).
struct RotaryDims {
  int batch = 0;
  int len = 0;
  int heads = 0;
  int head_dim = 0;
  int start = 0;
  float theta = 10000.0f;
  RotaryScaling scaling = RotaryScaling::none;
  float factor = 1.0f;                ///< linear and llama3: the scaling factor
  float low_freq_factor = 1.0f;       ///< llama3
  float high_freq_factor = 4.0f;      ///< llama3
  int original_max_positions = 8192;  ///< llama3: the pretraining context length
};

/// Whether two RotaryDims give the same inverse frequencies (the same
/// tables of angles).
[[nodiscard]] inline bool same_rotary_frequencies(const RotaryDims& a, const RotaryDims& b) noexcept {
  if (a.theta != b.theta || a.head_dim != b.head_dim || a.scaling != b.scaling) return false;
  if (a.scaling == RotaryScaling::none) return true;
  if (a.factor != b.factor) return false;
  return a.scaling == RotaryScaling::linear ||
         (a.low_freq_factor == b.low_freq_factor && a.high_freq_factor == b.high_freq_factor &&
          a.original_max_positions == b.original_max_positions);
}

/// The inverse frequency of pair j (j < head_dim / 2), in float with the
/// operations of transformers' _compute_default_rope_parameters,
/// _compute_linear_scaling_rope_parameters and _compute_llama3_parameters
/// (PyTorch evaluates `s / t` for a tensor t as t.reciprocal() * s).
[[nodiscard]] inline float rotary_inv_freq(const RotaryDims& r, int j) noexcept {
  const float exponent = static_cast<float>(2 * j) / static_cast<float>(r.head_dim);
  const float inv_freq = 1.0f / std::pow(r.theta, exponent);
  if (r.scaling == RotaryScaling::linear) return inv_freq / r.factor;
  if (r.scaling != RotaryScaling::llama3) return inv_freq;
  const double context = r.original_max_positions;
  const auto low_wavelen = static_cast<float>(context / double(r.low_freq_factor));
  const auto high_wavelen = static_cast<float>(context / double(r.high_freq_factor));
  const float wavelen = (1.0f / inv_freq) * static_cast<float>(2.0 * 3.141592653589793);
  const float scaled = wavelen > low_wavelen ? inv_freq / r.factor : inv_freq;
  const float smooth = ((1.0f / wavelen) * static_cast<float>(context) - r.low_freq_factor) /
                       static_cast<float>(double(r.high_freq_factor) - double(r.low_freq_factor));
  const float smoothed = (1.0f - smooth) * scaled / r.factor + smooth * scaled;
  const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
  return medium ? smoothed : scaled;
}

/// rotary_inv_freq of every pair, j = 0 .. head_dim / 2 - 1.
[[nodiscard]] inline std::vector<float> rotary_inv_freqs(const RotaryDims& r) {
  std::vector<float> f(static_cast<std::size_t>(r.head_dim / 2));
  for (int j = 0; j < r.head_dim / 2; ++j) f[static_cast<std::size_t>(j)] = rotary_inv_freq(r, j);
  return f;
}

/// Writing [batch * len, width] new rows into a [batch * capacity, width]
/// cache at rows b * capacity + start + i.
struct CacheDims {
  int batch = 0;
  int len = 0;
  int capacity = 0;
  int start = 0;
};

/// T5's relative position bias for queries at positions query_start + i
/// (i < query_len) against keys 0..key_len-1.
struct RelativeBiasDims {
  int query_len = 0;
  int key_len = 0;
  int query_start = 0;
  bool bidirectional = true;  ///< encoder: true; decoder self-attention: false
  int num_buckets = 32;
  int max_distance = 128;
};

/// A 2-D convolution of a batch of images. Input [batch, channels * height *
/// width], one image per row in PyTorch's channel-major order; weight
/// [out_channels, channels * kernel * kernel] (PyTorch's [out, in, kh, kw]
/// flattened); output [batch * out_height * out_width, out_channels], one row
/// per output position in row-major (y, x) order: the token layout of a
/// patch embedding.
struct Conv2dDims {
  int batch = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  int out_channels = 0;
  int kernel = 0;
  int stride = 1;
  int padding = 0;

  [[nodiscard]] int out_height() const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
  [[nodiscard]] int out_width() const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
};

/// A 1-D convolution over time. Input [batch * length, in_channels], one row
/// per time step; weight [out_channels, (in_channels / groups) * kernel]
/// (PyTorch's [out, in / groups, kernel] flattened); output
/// [batch * out_length, out_channels].
struct Conv1dDims {
  int batch = 0;
  int length = 0;
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 0;
  int stride = 1;
  int padding = 0;
  int groups = 1;

  [[nodiscard]] int out_length() const noexcept { return (length + 2 * padding - kernel) / stride + 1; }
};

/// Group normalisation of [batch * length, channels] rows: the channels are
/// split into `groups` consecutive groups, each normalised over its channels
/// and all `length` time steps of one sequence (PyTorch's GroupNorm over
/// [batch, channels, length]).
struct GroupNormDims {
  int batch = 0;
  int length = 0;
  int groups = 1;
};

/// T5's bucket of a relative position (key position minus query position),
/// computed in float like transformers' T5Attention._relative_position_bucket.
[[nodiscard]] inline int t5_relative_bucket(int relative_position, bool bidirectional, int num_buckets,
                                            int max_distance) noexcept {
  int bucket = 0;
  int n = num_buckets;
  int rel = relative_position;
  if (bidirectional) {
    n /= 2;
    if (rel > 0) bucket += n;
    rel = rel < 0 ? -rel : rel;
  } else {
    rel = rel < 0 ? -rel : 0;
  }
  const int max_exact = n / 2;
  if (rel < max_exact) return bucket + rel;
  const float ratio = std::log(static_cast<float>(rel) / static_cast<float>(max_exact)) /
                      static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  int large = max_exact + static_cast<int>(ratio * static_cast<float>(n - max_exact));
  if (large > n - 1) large = n - 1;
  return bucket + large;
}

}  // namespace accelbench
// ---- end accelbench/backend/op_dims.hpp ----

namespace accelbench {

/// A device that accelbench can run on: it says whether it is available and
/// what it is, moves data between host and device, and can wait for queued
/// work. Ops come in separate op-set concepts (EncoderOps, ...), so a backend
/// supports the architectures whose ops it provides. See docs/concepts.md.
template <class B>
concept Backend = requires(B& b, const B& cb, const HostMatrix& host, std::span<const std::int32_t> ids,
                           const typename B::Tensor& tensor) {
  typename B::Tensor;       // device tensor of float, 2-D
  typename B::IndexTensor;  // device array of int32 (token ids, positions)
  { B::name } -> std::convertible_to<std::string_view>;
  { B::available() } -> std::same_as<Availability>;
  { cb.describe() } -> std::same_as<DeviceInfo>;
  { b.synchronize() };
  { b.upload(host) } -> std::same_as<typename B::Tensor>;
  { b.upload_indices(ids) } -> std::same_as<typename B::IndexTensor>;
  { b.download(tensor) } -> std::same_as<HostMatrix>;
} && std::movable<typename B::Tensor> && std::default_initializable<typename B::Tensor>;

/// The ops of a transformer encoder (BERT). All tensors are 2-D row-major;
/// an op resizes its output argument, which may be reused between calls.
///
///   linear(x, w, b, y)            y = x wᵀ + b; w is [out, in] as in PyTorch; b is [1, out] or empty
///   add(x, y)                     y += x (residual)
///   layer_norm(x, g, b, eps, y)   y = (x - mean) / sqrt(var + eps) * g + b per row; y may be x
///   gelu(x)                       in place, erf form: x/2 (1 + erf(x / sqrt 2))
///   softmax(x)                    in place, per row
///   attention(q, k, v, m, d, y)   scaled dot-product attention per batch and head (see
///                                 AttentionDims for layout, causal masks, grouped-query
///                                 attention and key-value caches); m is [batch, key_len]
///                                 with 1 = attend, 0 = padding, or empty
///   embedding_lookup(t, ids, y)   y[i] = t[ids[i]]
///   masked_mean_pool(x, m, y)     y[b] = mean of the rows of sequence b where m[b] is 1
template <class B>
concept EncoderOps = Backend<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y,
                                            const typename B::IndexTensor& ids, const AttentionDims& dims,
                                            float eps) {
  b.linear(x, x, x, y);
  b.add(x, y);
  b.layer_norm(x, x, x, eps, y);
  b.gelu(y);
  b.softmax(y);
  b.attention(x, x, x, x, dims, y);
  b.embedding_lookup(x, ids, y);
  b.masked_mean_pool(x, x, y);
};

/// The further ops of text generation: decoder-only transformers (GPT-2,
/// Llama, Qwen2) and encoder-decoders (T5), with a key-value cache.
///
///   attention(q, k, v, m, p, d, y)  as above with a position bias p added to the scores:
///                                   p is [heads * query_len, key_len] (T5), or empty.
///                                   Cross-attention is this op with queries from the
///                                   decoder and keys and values from the encoder.
///   rms_norm(x, g, eps, y)          y = x / sqrt(mean(x²) + eps) * g per row (Llama's
///                                   RMSNorm, T5's layer norm); y may be x
///   gelu_tanh(x)                    in place, GPT-2's tanh approximation
///   relu(x), silu(x)                in place
///   swiglu(x, y)                    x is [n, 2i]: y = silu(x[:, :i]) * x[:, i:], [n, i]
///   geglu_tanh(x, y)                x is [n, 2i]: y = gelu_tanh(x[:, :i]) * x[:, i:], [n, i]
///                                   (T5 v1.1's gated-gelu feed-forward)
///   scale(x, s)                     in place, x *= s
///   rotary(x, r)                    in place, rotary position embedding in transformers'
///                                   rotate_half layout (see RotaryDims)
///   add_positions(t, start, batch, len, y)
///                                   y[b * len + i] += t[start + i] (GPT-2's learned positions)
///   cache_write(x, c, cache)        copies new keys or values into a cache (see CacheDims)
///   relative_position_bias(t, r, p) T5's bias from its [buckets, heads] table t, p as above
///   argmax_rows(x, ids)             ids[r] = index of the largest value of row r (first on ties)
///   download_indices(ids)           the ids in host memory
template <class B>
concept GenerationOps =
    EncoderOps<B> &&
    requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, typename B::IndexTensor& ids,
             const AttentionDims& dims, const RotaryDims& rotary, const CacheDims& cache,
             const RelativeBiasDims& relative, float eps, int n) {
      b.attention(x, x, x, x, x, dims, y);
      b.rms_norm(x, x, eps, y);
      b.gelu_tanh(y);
      b.relu(y);
      b.silu(y);
      b.swiglu(x, y);
      b.geglu_tanh(x, y);
      b.scale(y, eps);
      b.rotary(y, rotary);
      b.add_positions(x, n, n, n, y);
      b.cache_write(x, cache, y);
      b.relative_position_bias(x, relative, y);
      b.argmax_rows(x, ids);
      { b.download_indices(ids) } -> std::same_as<std::vector<std::int32_t>>;
    };

/// The further ops of the vision, audio and multimodal architectures (ViT,
/// Whisper, wav2vec2, CLIP).
///
///   conv2d(x, w, b, d, y)              2-D convolution, patch embedding (see Conv2dDims); b [1, out] or empty
///   conv1d(x, w, b, d, y)              1-D convolution with stride, padding and groups (see Conv1dDims)
///   group_norm(x, g, b, d, eps, y)     group normalisation over time (see GroupNormDims); g, b [1, channels]
///   quick_gelu(x)                      in place, x * sigmoid(1.702 x) (CLIP)
///   prepend_row(x, r, batch, y)        y is x with row r ([1, width]) before each of the batch's
///                                      sequences: [batch * (n + 1), width] (ViT's class token)
///   normalize_rows(x)                  in place, each row divided by its Euclidean norm
template <class B>
concept PerceptionOps =
    EncoderOps<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, const Conv2dDims& c2,
                              const Conv1dDims& c1, const GroupNormDims& gn, float eps, int n) {
      b.conv2d(x, x, x, c2, y);
      b.conv1d(x, x, x, c1, y);
      b.group_norm(x, x, x, gn, eps, y);
      b.quick_gelu(y);
      b.prepend_row(x, x, n, y);
      b.normalize_rows(y);
    };

}  // namespace accelbench
// ---- end accelbench/backend/concepts.hpp ----
// ---- begin accelbench/family/concepts.hpp ----

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// ---- begin accelbench/backend/cpu.hpp ----

// The Cpu backend: Eigen kernels that are both the reference every other
// backend is verified against and what the CPU is timed with. The class is
// in cpu/backend.hpp, its ops by op set in cpu/encoder_ops.hpp,
// cpu/generation_ops.hpp and cpu/perception_ops.hpp.

// ---- begin accelbench/backend/cpu/backend.hpp ----

// The Cpu backend's class: its members, with the ops declared here and
// defined by op set in encoder_ops.hpp, generation_ops.hpp and
// perception_ops.hpp. Include <accelbench/backend/cpu.hpp>, which brings
// all four.
//
// The Cpu backend: Eigen kernels that are both the reference every other
// backend is verified against and what the CPU is timed with. Every matrix
// product goes through Eigen's blocked GEMM; element-wise work is vectorised
// Eigen array code over whole rows, split across threads with OpenMP.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// ---- begin accelbench/detail/rotary.hpp ----


#include <cmath>
#include <vector>

namespace accelbench::detail {

/// The cos and sin tables of rotary position embeddings, [positions,
/// head_dim / 2]: position p, pair j is rotated by p * inv_freq[j] (the
/// inverse frequencies of rotary_inv_freq, backend/op_dims.hpp), computed in
/// float as transformers does. Every backend uses these tables,
/// so they agree on the angles exactly.
struct RotaryAngles {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> cos, sin;
};

inline RotaryAngles rotary_angles(const std::vector<float>& inv_freqs, Eigen::Index positions) {
  const auto half = static_cast<Eigen::Index>(inv_freqs.size());
  RotaryAngles t;
  t.cos.resize(positions, half);
  t.sin.resize(positions, half);
  for (Eigen::Index j = 0; j < half; ++j) {
    const float inv_freq = inv_freqs[static_cast<std::size_t>(j)];
    for (Eigen::Index p = 0; p < positions; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      t.cos(p, j) = std::cos(angle);
      t.sin(p, j) = std::sin(angle);
    }
  }
  return t;
}

}  // namespace accelbench::detail
// ---- end accelbench/detail/rotary.hpp ----
// ---- begin accelbench/machine/cpu.hpp ----

// The CPU and memory of this machine, as the operating system describes them
// (/proc and /sys): `accelbench check`'s CPU section. The devices of the
// other backends are found by each backend (backend/opencl/devices.hpp,
// backend/cuda/devices.hpp); docs/hardware.md describes the report.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>


namespace accelbench {

/// Where the operating system's descriptions are read from; tests point
/// these at fake trees.
struct HardwareRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
};

/// One cache of the first CPU, from /sys/devices/system/cpu/cpu0/cache/index*.
struct CpuCache {
  int level = 0;
  std::string type;             ///< "data", "instruction" or "unified"
  std::uint64_t size_bytes = 0;
  int shared_by = 0;            ///< logical CPUs that share it (0 when unknown)

  /// "L1d", "L1i", "L2", "L3".
  [[nodiscard]] std::string name() const {
    std::string n(1, 'L');  // not "L" + to_string: GCC 12's -Wrestrict misfires on it at -O3
    n += std::to_string(level);
    if (type == "data") n += 'd';
    if (type == "instruction") n += 'i';
    return n;
  }
  friend bool operator==(const CpuCache&, const CpuCache&) = default;
};

struct CpuHardware {
  std::string model;         ///< "unknown CPU" when the system does not say
  std::string vendor;        ///< vendor_id on x86, the implementer's name on ARM; "" when unknown
  std::string architecture;  ///< the kernel's machine name (x86_64, aarch64)
  int logical_cores = 0;
  int physical_cores = 0;
  int sockets = 0;           ///< 0 when unknown
  std::vector<std::string> simd;  ///< SIMD and matrix extensions, in detail::reported_cpu_features() order
  std::vector<CpuCache> caches;   ///< by level, data before instruction
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_available_bytes = 0;
  std::optional<double> mhz;      ///< clock of the first CPU when read
  std::optional<double> max_mhz;  ///< highest clock cpufreq allows
  friend bool operator==(const CpuHardware&, const CpuHardware&) = default;
};

namespace detail {

/// The first line of a small file such as /sys's, trimmed; "" when unreadable.
inline std::string sys_value(const std::filesystem::path& path) {
  const auto text = read_text_file(path.string());
  if (!text) return {};
  return trim(std::string_view(*text).substr(0, text->find('\n')));
}

/// "32K" -> 32768, "1M" -> 1048576, "512" -> 512; nullopt when not a size.
inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  const std::string s = trim(text);
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
    n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  unit = trim(unit);
  if (unit.empty() || unit == "B") return n;
  if (unit == "K" || unit == "KB" || unit == "KIB") return n << 10;
  if (unit == "M" || unit == "MB" || unit == "MIB") return n << 20;
  if (unit == "G" || unit == "GB" || unit == "GIB") return n << 30;
  return std::nullopt;
}

/// The CPUs of a list such as "0-3,8-11" (8); 0 when empty or malformed.
inline int count_cpu_list(std::string_view text) {
  int count = 0;
  std::istringstream items{std::string(text)};
  std::string item;
  while (std::getline(items, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    try {
      const auto dash = item.find('-');
      if (dash == std::string::npos) {
        (void)std::stoi(item);
        ++count;
      } else {
        const int first = std::stoi(item.substr(0, dash));
        const int last = std::stoi(item.substr(dash + 1));
        if (last < first) return 0;
        count += last - first + 1;
      }
    } catch (...) {
      return 0;
    }
  }
  return count;
}

/// The CPUs of a hexadecimal mask such as "00000000,0000000f" (4).
inline int count_cpu_mask(std::string_view text) {
  int count = 0;
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) != 0 ? c - '0' : std::tolower(c) - 'a' + 10;
    for (int b = 0; b < 4; ++b) count += (v >> b) & 1;
  }
  return count;
}

inline std::vector<CpuCache> read_cpu_caches(const std::filesystem::path& cache_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, CpuCache>> found;
  std::error_code ec;
  for (fs::directory_iterator it(cache_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (dir.rfind("index", 0) != 0) continue;
    int index = 0;
    try {
      index = std::stoi(dir.substr(5));
    } catch (...) {
      continue;
    }
    CpuCache c;
    try {
      c.level = std::stoi(sys_value(it->path() / "level"));
    } catch (...) {
      continue;
    }
    std::string type = sys_value(it->path() / "type");
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char ch) { return std::tolower(ch); });
    c.type = type;
    c.size_bytes = parse_size(sys_value(it->path() / "size")).value_or(0);
    const std::string list = sys_value(it->path() / "shared_cpu_list");
    c.shared_by = !list.empty() ? count_cpu_list(list) : count_cpu_mask(sys_value(it->path() / "shared_cpu_map"));
    found.emplace_back(index, std::move(c));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.second.level, a.first) < std::pair(b.second.level, b.first);
  });
  std::vector<CpuCache> out;
  for (auto& [index, c] : found) out.push_back(std::move(c));
  return out;
}

/// ARM core names of the commonest "CPU part" codes of ARM Ltd (implementer 0x41).
inline std::string arm_part_name(const std::string& part) {
  static const std::vector<std::pair<std::string_view, std::string_view>> names = {
      {"0xd03", "Cortex-A53"},  {"0xd07", "Cortex-A57"},  {"0xd08", "Cortex-A72"},  {"0xd0b", "Cortex-A76"},
      {"0xd0c", "Neoverse-N1"}, {"0xd40", "Neoverse-V1"}, {"0xd49", "Neoverse-N2"}, {"0xd4f", "Neoverse-V2"},
      {"0xd8e", "Neoverse-N3"}, {"0xd84", "Neoverse-V3"}};
  for (const auto& [p, n] : names) {
    if (p == part) return std::string(n);
  }
  return {};
}

/// Per-CPU (package, core) pairs of /sys/devices/system/cpu/cpuN/topology.
inline std::set<std::pair<std::string, std::string>> sys_core_topology(const std::filesystem::path& cpu_dir) {
  namespace fs = std::filesystem;
  std::set<std::pair<std::string, std::string>> cores;
  std::error_code ec;
  for (fs::directory_iterator it(cpu_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (dir.size() < 4 || dir.rfind("cpu", 0) != 0 ||
        !std::all_of(dir.begin() + 3, dir.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    const std::string package = sys_value(it->path() / "topology" / "physical_package_id");
    const std::string core = sys_value(it->path() / "topology" / "core_id");
    if (!package.empty() && !core.empty()) cores.emplace(package, core);
  }
  return cores;
}

inline std::optional<double> sys_khz_as_mhz(const std::filesystem::path& path) {
  const std::string v = sys_value(path);
  if (v.empty()) return std::nullopt;
  try {
    return std::stod(v) / 1000.0;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace detail

/// The CPU and memory of this machine: /proc/cpuinfo (model, vendor, cores,
/// sockets, flags, clock), /proc/meminfo (memory), /sys/devices/system/cpu
/// (caches of cpu0, online CPUs, topology, cpufreq's limits).
[[nodiscard]] inline CpuHardware detect_cpu(const HardwareRoots& roots = {}) {
  namespace fs = std::filesystem;
  CpuHardware cpu;
  const fs::path cpu_dir = fs::path(roots.sys) / "devices" / "system" / "cpu";
  detail::CpuInfoText info;
  if (const auto text = detail::read_text_file((fs::path(roots.proc) / "cpuinfo").string())) {
    info = detail::parse_cpuinfo(*text);
  }
  cpu.model = info.model;
  cpu.vendor = info.vendor;
  if (cpu.model.empty() && info.vendor == "ARM") {
    const std::string part = detail::arm_part_name(info.part);
    if (!part.empty()) cpu.model = "ARM " + part;
  }
  if (cpu.model.empty()) cpu.model = "unknown CPU";
#if defined(__unix__) || defined(__APPLE__)
  utsname u{};
  if (uname(&u) == 0) cpu.architecture = u.machine;
#endif

  cpu.logical_cores = info.processors;
  if (cpu.logical_cores == 0) cpu.logical_cores = detail::count_cpu_list(detail::sys_value(cpu_dir / "online"));
  if (cpu.logical_cores == 0) cpu.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  auto cores = info.cores;
  std::set<std::string> packages = info.packages;
  if (cores.empty()) {
    cores = detail::sys_core_topology(cpu_dir);
    for (const auto& [package, core] : cores) packages.insert(package);
  }
  cpu.physical_cores = cores.empty() ? cpu.logical_cores : static_cast<int>(cores.size());
  cpu.sockets = static_cast<int>(packages.size());

  cpu.simd = detail::reported_features_of(info.flags);
  cpu.caches = detail::read_cpu_caches(cpu_dir / "cpu0" / "cache");

  if (const auto text = detail::read_text_file((fs::path(roots.proc) / "meminfo").string())) {
    cpu.memory_total_bytes = detail::meminfo_bytes(*text, "MemTotal").value_or(0);
    cpu.memory_available_bytes =
        detail::meminfo_bytes(*text, "MemAvailable").value_or(detail::meminfo_bytes(*text, "MemFree").value_or(0));
  }

  cpu.mhz = info.mhz;
  if (!cpu.mhz) cpu.mhz = detail::sys_khz_as_mhz(cpu_dir / "cpu0" / "cpufreq" / "scaling_cur_freq");
  cpu.max_mhz = detail::sys_khz_as_mhz(cpu_dir / "cpu0" / "cpufreq" / "cpuinfo_max_freq");
  return cpu;
}

/// The CPU section's lines (without its "CPU" heading).
[[nodiscard]] inline std::string format_cpu_hardware(const CpuHardware& c) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  hardware_line(out, 2, "model", c.model);
  hardware_line(out, 2, "vendor", c.vendor.empty() ? "unknown" : c.vendor);
  hardware_line(out, 2, "architecture", c.architecture.empty() ? "unknown" : c.architecture);
  std::string cores = fmt::format("{} logical, {} physical", c.logical_cores, c.physical_cores);
  if (c.sockets > 0) cores += ", " + detail::plural(c.sockets, "socket", "sockets");
  hardware_line(out, 2, "cores", cores);
  std::string clock = c.mhz ? fmt::format("{:.0f} MHz", *c.mhz) : "unknown";
  if (c.max_mhz) clock += fmt::format(", max {:.0f} MHz", *c.max_mhz);
  hardware_line(out, 2, "clock", clock);
  std::string simd;
  for (const auto& s : c.simd) simd += (simd.empty() ? "" : " ") + s;
  hardware_line(out, 2, "SIMD", simd.empty() ? "none reported" : simd);
  for (const auto& cache : c.caches) {
    std::string v = binary_size(cache.size_bytes);
    if (cache.shared_by > 0) v += ", shared by " + detail::plural(cache.shared_by, "CPU", "CPUs");
    hardware_line(out, 2, cache.name() + " cache", v);
  }
  if (c.caches.empty()) hardware_line(out, 2, "caches", "unknown");
  hardware_line(out, 2, "memory",
                c.memory_total_bytes == 0 ? std::string("unknown")
                                          : binary_size(c.memory_total_bytes) + " total, " +
                                                binary_size(c.memory_available_bytes) + " available");
  return out;
}

/// The CPU section as JSON; unknown values are null. cpu_hardware_from_json
/// reads it back.
[[nodiscard]] inline Json to_json(const CpuHardware& c) {
  using detail::optional_text;
  Json caches = Json::array();
  for (const auto& k : c.caches) {
    caches.push_back(Json{{"name", k.name()},
                          {"level", k.level},
                          {"type", k.type},
                          {"size_bytes", k.size_bytes},
                          {"shared_by", k.shared_by > 0 ? Json(k.shared_by) : Json(nullptr)}});
  }
  return Json{{"model", c.model},
           {"vendor", optional_text(c.vendor)},
           {"architecture", optional_text(c.architecture)},
           {"logical_cores", c.logical_cores},
           {"physical_cores", c.physical_cores},
           {"sockets", c.sockets > 0 ? Json(c.sockets) : Json(nullptr)},
           {"simd", c.simd},
           {"caches", caches},
           {"memory_total_bytes", c.memory_total_bytes},
           {"memory_available_bytes", c.memory_available_bytes},
           {"mhz", detail::optional_value(c.mhz)},
           {"max_mhz", detail::optional_value(c.max_mhz)}};
}

/// A CPU section from its JSON form (to_json's); throws nlohmann::json's
/// errors when a field has the wrong type.
[[nodiscard]] inline CpuHardware cpu_hardware_from_json(const Json& c) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  CpuHardware cpu;
  cpu.model = hardware_json_text(c, "model");
  cpu.vendor = hardware_json_text(c, "vendor");
  cpu.architecture = hardware_json_text(c, "architecture");
  cpu.logical_cores = hardware_json_number<int>(c, "logical_cores");
  cpu.physical_cores = hardware_json_number<int>(c, "physical_cores");
  cpu.sockets = hardware_json_number<int>(c, "sockets");
  cpu.simd = c.value("simd", std::vector<std::string>{});
  for (const auto& k : c.value("caches", Json::array())) {
    cpu.caches.push_back(CpuCache{.level = hardware_json_number<int>(k, "level"),
                                    .type = hardware_json_text(k, "type"),
                                    .size_bytes = hardware_json_number<std::uint64_t>(k, "size_bytes"),
                                    .shared_by = hardware_json_number<int>(k, "shared_by")});
  }
  cpu.memory_total_bytes = hardware_json_number<std::uint64_t>(c, "memory_total_bytes");
  cpu.memory_available_bytes = hardware_json_number<std::uint64_t>(c, "memory_available_bytes");
  cpu.mhz = detail::hardware_json_optional(c, "mhz");
  cpu.max_mhz = detail::hardware_json_optional(c, "max_mhz");
  return cpu;
}

/// The CPU section of `accelbench check` (the Cpu backend's describe_devices).
[[nodiscard]] inline DeviceReport describe_cpu_devices(const HardwareRoots& roots = {}) {
  const CpuHardware cpu = detect_cpu(roots);
  return DeviceReport{.title = "CPU",
                      .key = "cpu",
                      .available = true,
                      .reason = {},
                      .text = format_cpu_hardware(cpu),
                      .json = to_json(cpu)};
}

}  // namespace accelbench
// ---- end accelbench/machine/cpu.hpp ----

namespace accelbench {

class Cpu {
 public:
  using Tensor = HostMatrix;
  using IndexTensor = std::vector<std::int32_t>;
  using Index = Eigen::Index;

  static constexpr std::string_view name = "cpu";

  struct Options {
    /// Threads for GEMM and the other ops; 0 means one per logical core.
    /// Without OpenMP the backend runs on one thread whatever is asked.
    int threads = 0;
  };

  Cpu() : Cpu(Options{}) {}

  explicit Cpu(Options options) {
    if (options.threads < 0) {
      throw std::invalid_argument("Cpu: threads = " + std::to_string(options.threads) + ": must be >= 0");
    }
#if defined(_OPENMP)
    const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    threads_ = options.threads == 0 ? hw : options.threads;
#else
    threads_ = 1;
#endif
    scratch_.resize(static_cast<std::size_t>(threads_));
    conv_scratch_.resize(static_cast<std::size_t>(threads_));
    norm_scratch_.resize(static_cast<std::size_t>(threads_));
  }

  [[nodiscard]] static Availability available() { return Availability::yes(); }

  [[nodiscard]] int threads() const noexcept { return threads_; }

  [[nodiscard]] DeviceInfo describe() const {
    const auto cpu = detail::describe_cpu();
    DeviceInfo d;
    d.backend = std::string(name);
    d.name = cpu.model;
    d.kind = "cpu";
    d.compute_units = cpu.logical_cores;
    d.threads = threads_;
    d.memory_bytes = detail::total_memory_bytes();
    d.features = cpu.features;
    d.properties.emplace_back("physical_cores", std::to_string(cpu.physical_cores));
    d.properties.emplace_back("eigen_simd", Eigen::SimdInstructionSetsInUse());
#if defined(_OPENMP)
    d.properties.emplace_back("openmp", std::to_string(_OPENMP));
#else
    d.properties.emplace_back("openmp", "off");
#endif
    return d;
  }

  /// Every Cpu instance works on host memory: models are shared between them.
  [[nodiscard]] static std::string device_key() { return "host"; }

  /// The CPU section of `accelbench check`: the CPU and memory of this
  /// machine, from /proc and /sys.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_cpu_devices(); }

  /// Work on the CPU is synchronous: nothing to wait for.
  void synchronize() noexcept {}

  [[nodiscard]] Tensor upload(const HostMatrix& m) const { return m; }
  [[nodiscard]] Tensor upload(HostMatrix&& m) const noexcept { return std::move(m); }
  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) const {
    return IndexTensor(ids.begin(), ids.end());
  }
  [[nodiscard]] HostMatrix download(const Tensor& t) const { return t; }

  // ---- ops (see EncoderOps and GenerationOps; defined in cpu/encoder_ops.hpp and cpu/generation_ops.hpp) ----

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y);

  void add(const Tensor& x, Tensor& y);

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y);

  void gelu(Tensor& x);

  void softmax(Tensor& x);

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const AttentionDims& d,
                 Tensor& out);

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                 const Tensor& position_bias, const AttentionDims& d, Tensor& out);

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y);

  void gelu_tanh(Tensor& x);

  void relu(Tensor& x);

  void silu(Tensor& x);

  void swiglu(const Tensor& x, Tensor& y);

  void geglu_tanh(const Tensor& x, Tensor& y);

  void scale(Tensor& x, float s);

  void rotary(Tensor& x, const RotaryDims& r);

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y);

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache);

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& out);

  void argmax_rows(const Tensor& x, IndexTensor& ids);

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) const { return ids; }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out);

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out);

  // ---- ops (see PerceptionOps; defined in cpu/perception_ops.hpp) ----

  /// im2col into a [batch * out_height * out_width, channels * kernel *
  /// kernel] scratch matrix (zeros where a window reaches into the padding),
  /// then one GEMM with the weight. A patch embedding (kernel = stride, no
  /// padding) copies each window's kernel-wide image rows as they are.
  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y);

  /// im2col and one GEMM per sequence and group. The column matrix is not
  /// copied out: with the weight reordered to [out, kernel * in / groups]
  /// (time-major windows), the window of output t is kernel consecutive rows
  /// of the group's channels, contiguous in a zero-padded copy of them, so
  /// the column matrix is a strided view of that copy whose rows overlap (a
  /// window advances by stride rows). Eigen's GEMM packs it block by block,
  /// so a long kernel (wav2vec2's positional convolution: 128) costs no
  /// kernel-times-larger scratch. Without padding and groups the view is of
  /// the input itself.
  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y);

  /// PyTorch's GroupNorm with the biased variance; statistics in double. y
  /// may be x. Each task takes whole groups of one sequence, so the rows it
  /// reads are contiguous segments even with one channel per group.
  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d, float eps,
                  Tensor& y);

  void quick_gelu(Tensor& x);

  /// y is x with `row` before each of the batch's sequences; y must not be x.
  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y);

  /// Each row divided by its Euclidean norm, computed in double (no overflow
  /// or underflow for any float row); a row of zeros stays zeros.
  void normalize_rows(Tensor& x);

 private:
  // Below this many elements, element-wise work stays on one thread.
  static constexpr Index parallel_threshold = 1 << 15;
  // Products with fewer input rows split their outputs across threads.
  static constexpr Index few_rows = 32;

  template <class Row>
  static void softmax_row(Row&& row) {
    const float m = row.maxCoeff();
    row.array() = (row.array() - m).exp();
    row /= row.sum();
  }

  void set_gemm_threads() const { Eigen::setNbThreads(threads_); }

  /// Calls f(begin, end) on contiguous row ranges, one per thread.
  template <class F>
  void parallel_rows(Index rows, Index cols, F&& f) const {
#if defined(_OPENMP)
    if (threads_ > 1 && rows > 1 && rows * cols >= parallel_threshold) {
      const Index parts = std::min<Index>(threads_, rows);
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (Index p = 0; p < parts; ++p) {
        f(rows * p / parts, rows * (p + 1) / parts);
      }
      return;
    }
#else
    (void)cols;
#endif
    f(Index{0}, rows);
  }

  /// Calls f(task, thread) for each task, spread over the threads.
  template <class F>
  void parallel_tasks(Index tasks, F&& f) const {
#if defined(_OPENMP)
    if (threads_ > 1 && tasks > 1) {
#pragma omp parallel for num_threads(threads_) schedule(static)
      for (Index t = 0; t < tasks; ++t) f(t, omp_get_thread_num());
      return;
    }
#endif
    for (Index t = 0; t < tasks; ++t) f(t, 0);
  }

  static void require_same_shape(const char* op, const Tensor& a, const Tensor& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      throw std::invalid_argument(std::string(op) + ": shapes differ, [" + std::to_string(a.rows()) + ", " +
                                  std::to_string(a.cols()) + "] and [" + std::to_string(b.rows()) + ", " +
                                  std::to_string(b.cols()) + "]");
    }
  }

  static void check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                              const Tensor& bias, const AttentionDims& d) {
    if (d.batch <= 0 || d.query_len <= 0 || d.key_len <= 0 || d.heads <= 0 || d.head_dim <= 0 || d.kv_heads < 0 ||
        d.key_stride < 0) {
      throw std::invalid_argument("attention: every dimension must be positive");
    }
    if (d.heads % d.effective_kv_heads() != 0) {
      throw std::invalid_argument("attention: kv_heads = " + std::to_string(d.kv_heads) + " must divide heads = " +
                                  std::to_string(d.heads));
    }
    if (d.effective_key_stride() < d.key_len) {
      throw std::invalid_argument("attention: key_stride = " + std::to_string(d.key_stride) + " is below key_len = " +
                                  std::to_string(d.key_len));
    }
    if (d.causal && d.key_len < d.query_len) {
      throw std::invalid_argument("attention: a causal mask needs key_len >= query_len");
    }
    if (d.window < 0 || (d.window > 0 && !d.causal)) {
      throw std::invalid_argument("attention: window = " + std::to_string(d.window) +
                                  " must be 0, or positive with a causal mask");
    }
    const Index width = static_cast<Index>(d.heads) * d.head_dim;
    const Index kv_width = static_cast<Index>(d.effective_kv_heads()) * d.head_dim;
    if (q.rows() != Index{d.batch} * d.query_len || q.cols() != width) {
      throw std::invalid_argument("attention: queries must be [batch * query_len, heads * head_dim]");
    }
    const Index kv_rows = Index{d.batch} * d.effective_key_stride();
    if (k.rows() != kv_rows || k.cols() != kv_width || v.rows() != kv_rows || v.cols() != kv_width) {
      throw std::invalid_argument("attention: keys and values must be [batch * key_stride, kv_heads * head_dim]");
    }
    if (key_mask.size() != 0 && (key_mask.rows() != d.batch || key_mask.cols() != d.key_len)) {
      throw std::invalid_argument("attention: the key mask must be [batch, key_len]");
    }
    if (bias.size() != 0 && (bias.rows() != Index{d.heads} * d.query_len || bias.cols() != d.key_len)) {
      throw std::invalid_argument("attention: the position bias must be [heads * query_len, key_len]");
    }
  }

  static std::string shape(const Tensor& t) {
    // Appended piece by piece: GCC 12's -Wrestrict misfires on "[" + std::string at -O3.
    std::string s = "[";
    s += std::to_string(t.rows());
    s += ", ";
    s += std::to_string(t.cols());
    s += "]";
    return s;
  }

  static void check_distinct(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
    if (&y == &x || &y == &w || &y == &b) {
      throw std::invalid_argument(std::string(op) + ": the output must not be the input, weight or bias");
    }
  }

  static void check_bias(const char* op, const Tensor& b, Index out_channels) {
    if (b.size() != 0 && (b.rows() != 1 || b.cols() != out_channels)) {
      throw std::invalid_argument(std::string(op) + ": bias is " + shape(b) + ", expected [1, " +
                                  std::to_string(out_channels) + "] or empty");
    }
  }

  static void check_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d) {
    if (d.batch <= 0 || d.channels <= 0 || d.height <= 0 || d.width <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.padding < 0) {
      throw std::invalid_argument("conv2d: batch " + std::to_string(d.batch) + ", channels " +
                                  std::to_string(d.channels) + ", height " + std::to_string(d.height) + ", width " +
                                  std::to_string(d.width) + ", out_channels " + std::to_string(d.out_channels) +
                                  ", kernel " + std::to_string(d.kernel) + ", stride " + std::to_string(d.stride) +
                                  ": must be positive, padding " + std::to_string(d.padding) + " >= 0");
    }
    if (d.height + 2 * d.padding < d.kernel || d.width + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("conv2d: kernel " + std::to_string(d.kernel) + " exceeds the padded " +
                                  std::to_string(d.height) + " x " + std::to_string(d.width) + " image (padding " +
                                  std::to_string(d.padding) + ")");
    }
    const Index pixels = Index{d.channels} * d.height * d.width;
    if (x.rows() != d.batch || x.cols() != pixels) {
      throw std::invalid_argument("conv2d: input is " + shape(x) + ", expected [batch, channels * height * width] = [" +
                                  std::to_string(d.batch) + ", " + std::to_string(pixels) + "]");
    }
    const Index depth = Index{d.channels} * d.kernel * d.kernel;
    if (w.rows() != d.out_channels || w.cols() != depth) {
      throw std::invalid_argument("conv2d: weight is " + shape(w) +
                                  ", expected [out_channels, channels * kernel * kernel] = [" +
                                  std::to_string(d.out_channels) + ", " + std::to_string(depth) + "]");
    }
    check_bias("conv2d", b, d.out_channels);
  }

  static void check_conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d) {
    if (d.batch <= 0 || d.length <= 0 || d.in_channels <= 0 || d.out_channels <= 0 || d.kernel <= 0 ||
        d.stride <= 0 || d.groups <= 0 || d.padding < 0) {
      throw std::invalid_argument("conv1d: batch " + std::to_string(d.batch) + ", length " +
                                  std::to_string(d.length) + ", in_channels " + std::to_string(d.in_channels) +
                                  ", out_channels " + std::to_string(d.out_channels) + ", kernel " +
                                  std::to_string(d.kernel) + ", stride " + std::to_string(d.stride) + ", groups " +
                                  std::to_string(d.groups) + ": must be positive, padding " +
                                  std::to_string(d.padding) + " >= 0");
    }
    if (d.in_channels % d.groups != 0 || d.out_channels % d.groups != 0) {
      throw std::invalid_argument("conv1d: groups = " + std::to_string(d.groups) + " must divide in_channels = " +
                                  std::to_string(d.in_channels) + " and out_channels = " +
                                  std::to_string(d.out_channels));
    }
    if (d.length + 2 * d.padding < d.kernel) {
      throw std::invalid_argument("conv1d: kernel " + std::to_string(d.kernel) + " exceeds the padded length " +
                                  std::to_string(d.length) + " (padding " + std::to_string(d.padding) + ")");
    }
    if (x.rows() != Index{d.batch} * d.length || x.cols() != d.in_channels) {
      throw std::invalid_argument("conv1d: input is " + shape(x) + ", expected [batch * length, in_channels] = [" +
                                  std::to_string(Index{d.batch} * d.length) + ", " + std::to_string(d.in_channels) +
                                  "]");
    }
    const Index depth = Index{d.in_channels} / d.groups * d.kernel;
    if (w.rows() != d.out_channels || w.cols() != depth) {
      throw std::invalid_argument("conv1d: weight is " + shape(w) +
                                  ", expected [out_channels, in_channels / groups * kernel] = [" +
                                  std::to_string(d.out_channels) + ", " + std::to_string(depth) + "]");
    }
    check_bias("conv1d", b, d.out_channels);
  }

  static void check_group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d) {
    if (d.batch <= 0 || d.length <= 0 || d.groups <= 0) {
      throw std::invalid_argument("group_norm: batch " + std::to_string(d.batch) + ", length " +
                                  std::to_string(d.length) + ", groups " + std::to_string(d.groups) +
                                  ": must be positive");
    }
    if (x.rows() != Index{d.batch} * d.length || x.cols() == 0) {
      throw std::invalid_argument("group_norm: input is " + shape(x) + ", expected [batch * length, channels] with " +
                                  std::to_string(Index{d.batch} * d.length) + " rows");
    }
    if (x.cols() % d.groups != 0) {
      throw std::invalid_argument("group_norm: groups = " + std::to_string(d.groups) + " does not divide the " +
                                  std::to_string(x.cols()) + " channels");
    }
    if (gamma.rows() != 1 || gamma.cols() != x.cols() || beta.rows() != 1 || beta.cols() != x.cols()) {
      throw std::invalid_argument("group_norm: gamma is " + shape(gamma) + " and beta " + shape(beta) +
                                  ", expected [1, " + std::to_string(x.cols()) + "]");
    }
  }

  struct NormScratch {
    Eigen::Array<double, 1, Eigen::Dynamic> sum, mean;
    Eigen::Array<float, 1, Eigen::Dynamic> shift, factor;
  };

  struct RotaryTable {
    RotaryDims frequencies;  // theta, head_dim and the scaling
    Tensor cos, sin;         // [positions, head_dim / 2]
  };

  /// detail::rotary_angles, kept and grown on demand.
  const RotaryTable& rotary_table(const RotaryDims& r, Index positions) {
    for (const auto& t : rotary_) {
      if (same_rotary_frequencies(t.frequencies, r) && t.cos.rows() >= positions) return t;
    }
    const Index rows = std::max<Index>(positions, 256);
    auto angles = detail::rotary_angles(rotary_inv_freqs(r), rows);
    RotaryTable t{r, std::move(angles.cos), std::move(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return same_rotary_frequencies(old.frequencies, r); });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  int threads_ = 1;
  std::vector<Tensor> scratch_;  // one score matrix per thread
  Tensor mask_bias_;
  Tensor no_bias_;
  std::vector<RotaryTable> rotary_;
  Tensor conv_cols_;                     // conv2d's im2col matrix
  Tensor conv_weight_;                   // conv1d's weight in (tap, channel) order
  std::vector<Tensor> conv_scratch_;     // one zero-padded conv1d input group per thread
  std::vector<NormScratch> norm_scratch_;  // one per thread
};

static_assert(EncoderOps<Cpu>, "Cpu must provide every encoder op");
static_assert(GenerationOps<Cpu>, "Cpu must provide every text-generation op");
static_assert(PerceptionOps<Cpu>, "Cpu must provide every vision, audio and multimodal op");

}  // namespace accelbench
// ---- end accelbench/backend/cpu/backend.hpp ----
// ---- begin accelbench/backend/cpu/encoder_ops.hpp ----

// The Cpu backend's EncoderOps: the ops of a transformer encoder, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>


namespace accelbench {

inline void Cpu::linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  if (x.cols() != w.cols()) {
    throw std::invalid_argument("linear: input has " + std::to_string(x.cols()) + " columns, weight expects " +
                                std::to_string(w.cols()));
  }
  if (b.size() != 0 && (b.rows() != 1 || b.cols() != w.rows())) {
    throw std::invalid_argument("linear: bias must be [1, " + std::to_string(w.rows()) + "]");
  }
  y.resize(x.rows(), w.rows());
#if defined(_OPENMP)
  // A few rows (a decode step) make a matrix-vector product, which Eigen
  // runs on one thread: split the outputs across the threads instead.
  if (threads_ > 1 && x.rows() < few_rows && w.rows() >= 4 * threads_ && w.size() >= parallel_threshold) {
    const Index parts = threads_;
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (Index p = 0; p < parts; ++p) {
      const Index o0 = w.rows() * p / parts;
      const Index o1 = w.rows() * (p + 1) / parts;
      y.middleCols(o0, o1 - o0).noalias() = x * w.middleRows(o0, o1 - o0).transpose();
    }
  } else {
    set_gemm_threads();
    y.noalias() = x * w.transpose();
  }
#else
  y.noalias() = x * w.transpose();
#endif
  if (b.size() != 0) {
    parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0).rowwise() += b.row(0); });
  }
}

inline void Cpu::add(const Tensor& x, Tensor& y) {
  require_same_shape("add", x, y);
  parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0) += x.middleRows(r0, r1 - r0); });
}

inline void Cpu::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
  if (gamma.size() != x.cols() || beta.size() != x.cols()) {
    throw std::invalid_argument("layer_norm: gamma and beta must have " + std::to_string(x.cols()) + " elements");
  }
  if (&x != &y) y.resize(x.rows(), x.cols());
  const float inv_n = 1.0f / static_cast<float>(x.cols());
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const auto xr = x.row(r).array();
      const float mean = xr.sum() * inv_n;
      const float var = (xr - mean).square().sum() * inv_n;
      const float inv_std = 1.0f / std::sqrt(var + eps);
      y.row(r).array() = (xr - mean) * inv_std * gamma.row(0).array() + beta.row(0).array();
    }
  });
}

inline void Cpu::gelu(Tensor& x) {
  constexpr float inv_sqrt2 = 0.70710678118654752440f;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = 0.5f * a * (1.0f + (a * inv_sqrt2).erf());
  });
}

inline void Cpu::softmax(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) softmax_row(x.row(r));
  });
}

inline void Cpu::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const AttentionDims& d,
               Tensor& out) {
  attention(q, k, v, key_mask, no_bias_, d, out);
}

inline void Cpu::embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows()) {
      throw std::out_of_range("embedding_lookup: id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside the table's " + std::to_string(table.rows()) +
                              " rows");
    }
  }
  out.resize(static_cast<Index>(ids.size()), table.cols());
  parallel_rows(out.rows(), out.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) out.row(r) = table.row(ids[static_cast<std::size_t>(r)]);
  });
}

inline void Cpu::masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out) {
  const Index batch = mask.rows();
  const Index seq = mask.cols();
  if (batch * seq != x.rows()) {
    throw std::invalid_argument("masked_mean_pool: mask is [" + std::to_string(batch) + ", " + std::to_string(seq) +
                                "] but the input has " + std::to_string(x.rows()) + " rows");
  }
  out.resize(batch, x.cols());
  for (Index b = 0; b < batch; ++b) {
    const float count = std::max(mask.row(b).sum(), 1e-9f);
    out.row(b).noalias() = mask.row(b) * x.middleRows(b * seq, seq);
    out.row(b) /= count;
  }
}

}  // namespace accelbench
// ---- end accelbench/backend/cpu/encoder_ops.hpp ----
// ---- begin accelbench/backend/cpu/generation_ops.hpp ----

// The Cpu backend's GenerationOps: the further ops of text generation, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>


namespace accelbench {

inline void Cpu::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const Tensor& position_bias, const AttentionDims& d, Tensor& out) {
  check_attention(q, k, v, key_mask, position_bias, d);
  out.resize(q.rows(), q.cols());
  // Additive mask as in transformers: 0 where attended, the lowest float
  // where padded, so a fully padded row still gives a uniform softmax.
  const bool masked = key_mask.size() != 0;
  if (masked) {
    mask_bias_ = (1.0f - key_mask.array()) * std::numeric_limits<float>::lowest();
  }
  const bool biased = position_bias.size() != 0;
  const float scale = d.scale != 0.0f ? d.scale : 1.0f / std::sqrt(static_cast<float>(d.head_dim));
  const Index group = d.heads / d.effective_kv_heads();
  const Index stride = d.effective_key_stride();
  const Index tasks = static_cast<Index>(d.batch) * d.heads;
  parallel_tasks(tasks, [&](Index t, int thread) {
    const Index b = t / d.heads;
    const Index h = t % d.heads;
    const Index kv = h / group;
    Tensor& s = scratch_[static_cast<std::size_t>(thread)];
    s.resize(d.query_len, d.key_len);
    const auto qb = q.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim);
    const auto kb = k.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
    const auto vb = v.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
    s.noalias() = (scale * qb) * kb.transpose();
    if (biased) s += position_bias.block(h * d.query_len, 0, d.query_len, d.key_len);
    if (masked) s.rowwise() += mask_bias_.row(b);
    for (Index r = 0; r < s.rows(); ++r) {
      // Causal: keys up to the query's position; a window drops the older ones.
      const Index first = d.first_key(static_cast<int>(r));
      const Index end = d.end_key(static_cast<int>(r));
      softmax_row(s.row(r).segment(first, end - first));
      s.row(r).head(first).setZero();
      s.row(r).tail(s.cols() - end).setZero();
    }
    out.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim).noalias() = s * vb;
  });
}

inline void Cpu::rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
  if (gamma.size() != x.cols()) {
    throw std::invalid_argument("rms_norm: gamma must have " + std::to_string(x.cols()) + " elements");
  }
  if (&x != &y) y.resize(x.rows(), x.cols());
  const float inv_n = 1.0f / static_cast<float>(x.cols());
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const float inv_rms = 1.0f / std::sqrt(x.row(r).squaredNorm() * inv_n + eps);
      y.row(r).array() = x.row(r).array() * inv_rms * gamma.row(0).array();
    }
  });
}

inline void Cpu::gelu_tanh(Tensor& x) {
  constexpr float sqrt_2_over_pi = 0.79788456080286535588f;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = 0.5f * a * (1.0f + (sqrt_2_over_pi * (a + 0.044715f * a.cube())).tanh());
  });
}

inline void Cpu::relu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a.max(0.0f);
  });
}

inline void Cpu::silu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a / (1.0f + (-a).exp());
  });
}

inline void Cpu::swiglu(const Tensor& x, Tensor& y) {
  if (x.cols() % 2 != 0) {
    throw std::invalid_argument("swiglu: input has " + std::to_string(x.cols()) + " columns, not an even number");
  }
  const Index half = x.cols() / 2;
  y.resize(x.rows(), half);
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    const auto gate = x.block(r0, 0, r1 - r0, half).array();
    const auto up = x.block(r0, half, r1 - r0, half).array();
    y.middleRows(r0, r1 - r0).array() = gate / (1.0f + (-gate).exp()) * up;
  });
}

inline void Cpu::geglu_tanh(const Tensor& x, Tensor& y) {
  if (x.cols() % 2 != 0) {
    throw std::invalid_argument("geglu_tanh: input has " + std::to_string(x.cols()) + " columns, not an even number");
  }
  constexpr float sqrt_2_over_pi = 0.79788456080286535588f;
  const Index half = x.cols() / 2;
  y.resize(x.rows(), half);
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    const auto gate = x.block(r0, 0, r1 - r0, half).array();
    const auto up = x.block(r0, half, r1 - r0, half).array();
    y.middleRows(r0, r1 - r0).array() =
        0.5f * gate * (1.0f + (sqrt_2_over_pi * (gate + 0.044715f * gate.cube())).tanh()) * up;
  });
}

inline void Cpu::scale(Tensor& x, float s) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) { x.middleRows(r0, r1 - r0) *= s; });
}

inline void Cpu::rotary(Tensor& x, const RotaryDims& r) {
  if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
    throw std::invalid_argument("rotary: head_dim must be even and every dimension positive");
  }
  if (x.rows() != Index{r.batch} * r.len || x.cols() != Index{r.heads} * r.head_dim) {
    throw std::invalid_argument("rotary: input must be [batch * len, heads * head_dim]");
  }
  const RotaryTable& table = rotary_table(r, r.start + r.len);
  const Index half = r.head_dim / 2;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index row = r0; row < r1; ++row) {
      const Index pos = r.start + row % r.len;
      const auto cos = table.cos.row(pos).array();
      const auto sin = table.sin.row(pos).array();
      for (Index h = 0; h < r.heads; ++h) {
        auto x1 = x.row(row).segment(h * r.head_dim, half).array();
        auto x2 = x.row(row).segment(h * r.head_dim + half, half).array();
        for (Index j = 0; j < half; ++j) {
          const float a = x1(j);
          const float b = x2(j);
          x1(j) = a * cos(j) - b * sin(j);
          x2(j) = b * cos(j) + a * sin(j);
        }
      }
    }
  });
}

inline void Cpu::add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
  if (start < 0 || start + len > table.rows()) {
    throw std::out_of_range("add_positions: positions " + std::to_string(start) + ".." +
                            std::to_string(start + len - 1) + " are outside the table's " +
                            std::to_string(table.rows()) + " rows");
  }
  if (y.rows() != Index{batch} * len || y.cols() != table.cols()) {
    throw std::invalid_argument("add_positions: output must be [batch * len, " + std::to_string(table.cols()) + "]");
  }
  for (Index b = 0; b < batch; ++b) y.middleRows(b * len, len) += table.middleRows(start, len);
}

inline void Cpu::cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
  if (x.rows() != Index{c.batch} * c.len || cache.rows() != Index{c.batch} * c.capacity || x.cols() != cache.cols()) {
    throw std::invalid_argument("cache_write: new rows must be [batch * len, width] and the cache [batch * capacity, width]");
  }
  if (c.start < 0 || c.start + c.len > c.capacity) {
    throw std::out_of_range("cache_write: rows " + std::to_string(c.start) + ".." + std::to_string(c.start + c.len - 1) +
                            " exceed the cache's capacity of " + std::to_string(c.capacity));
  }
  for (Index b = 0; b < c.batch; ++b) {
    cache.middleRows(b * c.capacity + c.start, c.len) = x.middleRows(b * c.len, c.len);
  }
}

inline void Cpu::relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& out) {
  if (table.rows() != r.num_buckets) {
    throw std::invalid_argument("relative_position_bias: the table has " + std::to_string(table.rows()) +
                                " rows, not num_buckets = " + std::to_string(r.num_buckets));
  }
  const Index heads = table.cols();
  out.resize(heads * r.query_len, r.key_len);
  for (Index i = 0; i < r.query_len; ++i) {
    for (Index j = 0; j < r.key_len; ++j) {
      const int bucket = t5_relative_bucket(static_cast<int>(j - (r.query_start + i)), r.bidirectional,
                                            r.num_buckets, r.max_distance);
      for (Index h = 0; h < heads; ++h) out(h * r.query_len + i, j) = table(bucket, h);
    }
  }
}

inline void Cpu::argmax_rows(const Tensor& x, IndexTensor& ids) {
  ids.resize(static_cast<std::size_t>(x.rows()));
  for (Index r = 0; r < x.rows(); ++r) {
    Index best = 0;
    x.row(r).maxCoeff(&best);
    ids[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(best);
  }
}

}  // namespace accelbench
// ---- end accelbench/backend/cpu/generation_ops.hpp ----
// ---- begin accelbench/backend/cpu/perception_ops.hpp ----

// The Cpu backend's PerceptionOps: the further ops of the vision, audio and multimodal architectures, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>


namespace accelbench {

inline void Cpu::conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
  check_conv2d(x, w, b, d);
  check_distinct("conv2d", x, w, b, y);
  const Index out_h = d.out_height();
  const Index out_w = d.out_width();
  const Index k = d.kernel;
  const Index height = d.height;
  const Index width = d.width;
  const Index plane = height * width;
  const Index depth = Index{d.channels} * k * k;
  const Index rows = Index{d.batch} * out_h * out_w;
  conv_cols_.resize(rows, depth);
  parallel_rows(rows, depth, [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const Index image = r / (out_h * out_w);
      const Index oy = r % (out_h * out_w) / out_w;
      const Index ox = r % out_w;
      const Index x0 = ox * d.stride - d.padding;
      const bool inside = x0 >= 0 && x0 + k <= width;
      const float* src = x.data() + image * x.cols();
      float* dst = conv_cols_.data() + r * depth;
      for (Index c = 0; c < d.channels; ++c) {
        for (Index ky = 0; ky < k; ++ky, dst += k) {
          const Index iy = oy * d.stride - d.padding + ky;
          if (iy < 0 || iy >= height) {
            std::fill_n(dst, k, 0.0f);
            continue;
          }
          const float* line = src + c * plane + iy * width;
          if (inside) {
            std::copy_n(line + x0, k, dst);
          } else {
            for (Index kx = 0; kx < k; ++kx) {
              const Index ix = x0 + kx;
              dst[kx] = ix >= 0 && ix < width ? line[ix] : 0.0f;
            }
          }
        }
      }
    }
  });
  linear(conv_cols_, w, b, y);
}

inline void Cpu::conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y) {
  check_conv1d(x, w, b, d);
  check_distinct("conv1d", x, w, b, y);
  const Index length = d.length;
  const Index groups = d.groups;
  const Index group_in = Index{d.in_channels} / groups;
  const Index group_out = Index{d.out_channels} / groups;
  const Index k = d.kernel;
  const Index depth = group_in * k;
  const Index out_len = d.out_length();
  // PyTorch's weight is (channel, tap) within a group; the windows are (tap, channel).
  const bool reorder = group_in > 1 && k > 1;
  if (reorder) {
    conv_weight_.resize(w.rows(), w.cols());
    parallel_rows(w.rows(), w.cols(), [&](Index r0, Index r1) {
      for (Index o = r0; o < r1; ++o)
        for (Index c = 0; c < group_in; ++c)
          for (Index t = 0; t < k; ++t) conv_weight_(o, t * group_in + c) = w(o, c * k + t);
    });
  }
  const Tensor& weight = reorder ? conv_weight_ : w;
  const bool direct = groups == 1 && d.padding == 0;
  y.resize(Index{d.batch} * out_len, d.out_channels);
  const auto task = [&](Index t, int thread) {
    const Index seq = t / groups;
    const Index g = t % groups;
    const float* base = x.data() + seq * length * x.cols();
    Index pitch = x.cols();
    if (!direct) {
      Tensor& padded = conv_scratch_[static_cast<std::size_t>(thread)];
      padded.resize(length + 2 * Index{d.padding}, group_in);
      padded.topRows(d.padding).setZero();
      padded.bottomRows(d.padding).setZero();
      padded.middleRows(d.padding, length) = x.block(seq * length, g * group_in, length, group_in);
      base = padded.data();
      pitch = group_in;
    }
    using Windows = Eigen::Map<const Tensor, Eigen::Unaligned, Eigen::OuterStride<>>;
    const Windows cols(base, out_len, depth, Eigen::OuterStride<>(d.stride * pitch));
    auto out = y.block(seq * out_len, g * group_out, out_len, group_out);
    out.noalias() = cols * weight.middleRows(g * group_out, group_out).transpose();
    if (b.size() != 0) out.rowwise() += b.row(0).segment(g * group_out, group_out);
  };
  const Index tasks = Index{d.batch} * groups;
  if (threads_ > 1 && tasks >= threads_) {
    parallel_tasks(tasks, task);  // one single-threaded GEMM per task
  } else {
    set_gemm_threads();
    for (Index t = 0; t < tasks; ++t) task(t, 0);
  }
}

inline void Cpu::group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d, float eps,
                Tensor& y) {
  check_group_norm(x, gamma, beta, d);
  if (&x != &y) y.resize(x.rows(), x.cols());
  const Index length = d.length;
  const Index groups = d.groups;
  const Index group_size = x.cols() / groups;
  const double count = static_cast<double>(length) * static_cast<double>(group_size);
  Index chunks = 1;  // column chunks of whole groups per sequence
  if (threads_ > 1 && x.size() >= parallel_threshold) {
    chunks = std::min<Index>(groups, (threads_ + d.batch - 1) / d.batch);
  }
  const auto task = [&](Index t, int thread) {
    const Index seq = t / chunks;
    const Index g0 = groups * (t % chunks) / chunks;
    const Index g1 = groups * (t % chunks + 1) / chunks;
    const Index c0 = g0 * group_size;
    const Index n = (g1 - g0) * group_size;
    const auto rows = [&](const Tensor& m) { return m.block(seq * length, c0, length, n).array(); };
    NormScratch& s = norm_scratch_[static_cast<std::size_t>(thread)];
    s.sum.setZero(n);
    for (Index r = 0; r < length; ++r) s.sum += rows(x).row(r).cast<double>();
    s.mean.resize(n);
    for (Index g = 0; g < g1 - g0; ++g) {
      s.mean.segment(g * group_size, group_size).setConstant(s.sum.segment(g * group_size, group_size).sum() / count);
    }
    s.sum.setZero();
    for (Index r = 0; r < length; ++r) s.sum += (rows(x).row(r).cast<double>() - s.mean).square();
    s.shift.resize(n);
    s.factor.resize(n);
    for (Index g = 0; g < g1 - g0; ++g) {
      const double var = s.sum.segment(g * group_size, group_size).sum() / count;
      const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps));
      for (Index c = g * group_size; c < (g + 1) * group_size; ++c) {
        s.shift(c) = static_cast<float>(s.mean(c));
        s.factor(c) = static_cast<float>(inv_std * static_cast<double>(gamma(c0 + c)));
      }
    }
    const auto bias = beta.row(0).segment(c0, n).array();
    auto out = y.block(seq * length, c0, length, n).array();
    for (Index r = 0; r < length; ++r) {
      out.row(r) = (rows(x).row(r) - s.shift) * s.factor + bias;
    }
  };
  const Index tasks = Index{d.batch} * chunks;
  if (x.size() >= parallel_threshold) {
    parallel_tasks(tasks, task);
  } else {
    for (Index t = 0; t < tasks; ++t) task(t, 0);
  }
}

inline void Cpu::quick_gelu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a / (1.0f + (-1.702f * a).exp());
  });
}

inline void Cpu::prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
  if (batch <= 0 || x.rows() % batch != 0) {
    throw std::invalid_argument("prepend_row: input is " + shape(x) + ", whose rows do not split into batch = " +
                                std::to_string(batch) + " sequences");
  }
  if (row.rows() != 1 || row.cols() != x.cols()) {
    throw std::invalid_argument("prepend_row: the row is " + shape(row) + ", expected [1, " +
                                std::to_string(x.cols()) + "]");
  }
  if (&y == &x || &y == &row) throw std::invalid_argument("prepend_row: the output must not be an input");
  const Index n = x.rows() / batch;
  y.resize(Index{batch} * (n + 1), x.cols());
  parallel_rows(batch, (n + 1) * x.cols(), [&](Index b0, Index b1) {
    for (Index b = b0; b < b1; ++b) {
      y.row(b * (n + 1)) = row.row(0);
      y.middleRows(b * (n + 1) + 1, n) = x.middleRows(b * n, n);
    }
  });
}

inline void Cpu::normalize_rows(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const double squared = x.row(r).cast<double>().squaredNorm();
      if (squared > 0.0) x.row(r) = (x.row(r).cast<double>() / std::sqrt(squared)).cast<float>();
    }
  });
}

}  // namespace accelbench
// ---- end accelbench/backend/cpu/perception_ops.hpp ----
// ---- end accelbench/backend/cpu.hpp ----
// ---- begin accelbench/family/sweep.hpp ----

// Sweep axes: each family declares the axes of its sweep once, in
// F::sweep_axes(). The values a benchmark runs (Config::sweep or the
// declared defaults), their validation and its messages, the suite-file
// fields, the command-line flags and their help, and the compatibility
// matrix's small cell are all derived from that declaration.

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>


namespace accelbench {

/// One axis of a family's sweep (besides batch_sizes, which every family
/// has). A plain aggregate:
///
///     SweepAxis{.name = "sequence_lengths", .item = "sequence length",
///               .help = "sequence lengths in tokens", .defaults = {128}, .small = {16}}
struct SweepAxis {
  /// The Config::sweep key and the suite-file field, e.g. "sequence_lengths";
  /// the command-line flag is derived from it (sweep_flag: --sequence-lengths).
  std::string name;
  /// One value in words, for messages: "sequence length".
  std::string item;
  /// One line for --help.
  std::string help;
  /// The values when Config::sweep does not give the axis.
  std::vector<int> defaults;
  /// Bounds of every value.
  int min = 1;
  int max = std::numeric_limits<int>::max();
  /// The compatibility matrix's cell: small and quick; empty: the defaults.
  std::vector<int> small{};
};

/// The command-line flag of an axis: "--" and its name with '_' as '-'
/// ("--sequence-lengths").
[[nodiscard]] inline std::string sweep_flag(const SweepAxis& axis) {
  std::string flag = "--" + axis.name;
  for (char& ch : flag) {
    if (ch == '_') ch = '-';
  }
  return flag;
}

/// The values of `axis` in `config`: config.sweep's entry, or the axis's defaults.
[[nodiscard]] inline std::vector<int> sweep_values(const Config& config, const SweepAxis& axis) {
  const auto it = config.sweep.find(axis.name);
  return it != config.sweep.end() ? it->second : axis.defaults;
}

/// Checks the values of one axis: at least one, each within [axis.min,
/// axis.max], none twice. Throws ConfigError naming the field
/// ("sequence_lengths[1]") and the value.
inline void validate_axis(const SweepAxis& axis, const std::vector<int>& values) {
  detail::validate_sweep_values(axis.name, values, axis.item, axis.min, axis.max);
}

namespace detail {

/// F::sweep_axes(), built once.
template <class F>
const std::vector<SweepAxis>& sweep_axes_of() {
  static const std::vector<SweepAxis> axes = F::sweep_axes();
  return axes;
}

/// F's axis named `name`, or nullptr.
template <class F>
const SweepAxis* find_sweep_axis(std::string_view name) {
  for (const auto& axis : sweep_axes_of<F>()) {
    if (axis.name == name) return &axis;
  }
  return nullptr;
}

inline std::string format_values(const std::vector<int>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

template <class F>
std::string axis_names_of() {
  std::string out;
  for (const auto& axis : sweep_axes_of<F>()) out += (out.empty() ? "" : ", ") + axis.name;
  return out.empty() ? "none (its sweep is batch_sizes alone)" : out;
}

}  // namespace detail

/// The values of F's axis `name` in `config`: config.sweep's entry, or the
/// declared defaults. Throws std::logic_error where F declares no such axis
/// (a mistake in the family, not in the configuration).
template <class F>
[[nodiscard]] std::vector<int> sweep_of(const Config& config, std::string_view name) {
  const SweepAxis* axis = detail::find_sweep_axis<F>(name);
  if (!axis) {
    throw std::logic_error("family " + std::string(F::name) + " declares no sweep axis " + std::string(name));
  }
  return sweep_values(config, *axis);
}

/// Checks `config.sweep` against F's declaration: every key is one of F's
/// axes (else a ConfigError naming `sweep.<key>` and listing F's axes), and
/// every axis's values, given or default, pass validate_axis.
template <class F>
void validate_sweep(const Config& config) {
  for (const auto& [key, values] : config.sweep) {
    if (!detail::find_sweep_axis<F>(key)) {
      throw ConfigError("sweep." + key, detail::format_values(values),
                        "not a sweep axis of " + std::string(F::name) + "; its axes: " + detail::axis_names_of<F>());
    }
  }
  for (const auto& axis : detail::sweep_axes_of<F>()) validate_axis(axis, sweep_values(config, axis));
}

/// What Benchmark<B, F> checks before it runs: the shared settings
/// (validate(config)) and F's sweep axes (validate_sweep<F>(config)).
template <class F>
void validate(const Config& config) {
  validate(config);
  validate_sweep<F>(config);
}

/// `config` with only F's axes kept in its sweep: the shared settings of a
/// suite, whose sweep names the axes of several families, for one family.
template <class F>
[[nodiscard]] Config restrict_sweep_to(Config config) {
  std::erase_if(config.sweep, [](const auto& entry) { return detail::find_sweep_axis<F>(entry.first) == nullptr; });
  return config;
}

/// F's small cell: each axis's `small` values (its defaults where it gives none).
template <class F>
[[nodiscard]] std::map<std::string, std::vector<int>> small_sweep() {
  std::map<std::string, std::vector<int>> out;
  for (const auto& axis : detail::sweep_axes_of<F>()) out[axis.name] = axis.small.empty() ? axis.defaults : axis.small;
  return out;
}

/// One sweep axis of a list of families, with the families that declare it.
struct DeclaredSweepAxis {
  SweepAxis axis;                     ///< as the first family of the list that declares it
  std::vector<std::string> families;  ///< every family of the list that declares it, in order
};

/// The sweep axes of the families of a list (`TypeList<Fs...>`), each name
/// once, in the order of the list and of each family's declaration: the
/// suite file's sweep fields and the command line's sweep flags.
template <template <class...> class List, class... Fs>
[[nodiscard]] std::vector<DeclaredSweepAxis> declared_sweep_axes(List<Fs...>) {
  std::vector<DeclaredSweepAxis> out;
  const auto add = [&](auto family) {
    using F = typename decltype(family)::type;
    for (const auto& axis : detail::sweep_axes_of<F>()) {
      const auto it = std::find_if(out.begin(), out.end(), [&](const auto& d) { return d.axis.name == axis.name; });
      if (it == out.end()) {
        out.push_back({axis, {std::string(F::name)}});
      } else {
        it->families.emplace_back(F::name);
      }
    }
  };
  (add(std::type_identity<Fs>{}), ...);
  return out;
}

/// Checks a sweep shared by the families of a list (a suite's settings):
/// every key is an axis of at least one of them (else a ConfigError naming
/// `sweep.<key>` and listing the axes), and its values pass validate_axis
/// for every family that declares it.
template <template <class...> class List, class... Fs>
void validate_shared_sweep(const Config& settings, List<Fs...> families) {
  const auto declared = declared_sweep_axes(families);
  for (const auto& given : settings.sweep) {
    const std::string& key = given.first;
    const std::vector<int>& values = given.second;
    const bool known =
        std::any_of(declared.begin(), declared.end(), [&](const auto& d) { return d.axis.name == key; });
    if (!known) {
      std::string names;
      for (const auto& d : declared) names += (names.empty() ? "" : ", ") + d.axis.name;
      throw ConfigError("sweep." + key, detail::format_values(values),
                        "no family of the suite declares this sweep axis; known axes: " +
                            (names.empty() ? "none" : names));
    }
  }
  const auto check = [&](auto family) {
    using F = typename decltype(family)::type;
    for (const auto& axis : detail::sweep_axes_of<F>()) {
      if (const auto it = settings.sweep.find(axis.name); it != settings.sweep.end()) validate_axis(axis, it->second);
    }
  };
  (check(std::type_identity<Fs>{}), ...);
}

}  // namespace accelbench
// ---- end accelbench/family/sweep.hpp ----

namespace accelbench {

/// Family F can run on backend B: F::Model<B> names a model whose weights
/// live on B, F::load builds one, and F::Workload<B> is one cell's prepared
/// inputs, whose run() is the timed operation.
template <class F, class B>
concept RunsOn =
    Backend<B> &&
    requires {
      typename F::template Model<B>;
      typename F::template Workload<B>;
    } &&
    requires(B& b, const typename F::Preset& preset, std::uint64_t seed, const typename F::template Model<B>& model,
             typename F::template Workload<B>& work) {
      { F::template load<B>(b, preset, seed) } -> std::same_as<typename F::template Model<B>>;
      { model.parameters() } -> std::convertible_to<std::int64_t>;
      { model.weight_bytes() } -> std::convertible_to<std::uint64_t>;
      { work.run() };
      { work.outputs() } -> std::same_as<std::vector<NamedOutput>>;
    } &&
    std::constructible_from<typename F::template Workload<B>, B&, const typename F::template Model<B>&,
                            const typename F::Cell&, std::uint64_t>;

/// A workload: its presets (real models' dimensions), the axes of its sweep
/// (declared once, in sweep_axes()) and the cells they make, what one item
/// is, and how to load a model and run it. Every family runs on
/// the reference backend, Cpu. See docs/concepts.md.
template <class F>
concept ModelFamily =
    requires(std::string_view text, const Config& config, const typename F::Preset& preset,
             const typename F::Cell& cell) {
      typename F::Preset;
      typename F::Cell;
      { F::name } -> std::convertible_to<std::string_view>;
      { F::item_unit } -> std::convertible_to<std::string_view>;
      { F::find_preset(text) } -> std::same_as<const typename F::Preset&>;
      { F::architecture(preset) } -> std::convertible_to<std::string_view>;
      { F::sweep_axes() } -> std::same_as<std::vector<SweepAxis>>;
      { F::validate(config, preset) };
      requires(requires {
        { F::cells(config) } -> std::same_as<std::vector<typename F::Cell>>;
      } || requires {
        { F::cells(config, preset) } -> std::same_as<std::vector<typename F::Cell>>;
      });
      { F::axes(cell) } -> std::same_as<std::vector<Axis>>;
      { F::items(cell) } -> std::convertible_to<double>;
    } &&
    RunsOn<F, Cpu>;

namespace detail {
/// The preset of `presets` named `model` (by name or alias); a ConfigError
/// naming `model` and listing the family's presets otherwise.
template <class Preset>
const Preset& find_preset_in(const std::vector<Preset>& presets, std::string_view model, std::string_view family) {
  for (const auto& p : presets) {
    if (p.name == model) return p;
    for (const auto& alias : p.aliases) {
      if (alias == model) return p;
    }
  }
  std::string known;
  for (const auto& p : presets) known += (known.empty() ? "" : ", ") + p.name;
  throw ConfigError("model", "\"" + std::string(model) + "\"",
                    "unknown " + std::string(family) + " preset; known presets: " + known);
}

template <class Preset>
std::vector<std::string> preset_names_of(const std::vector<Preset>& presets) {
  std::vector<std::string> out;
  for (const auto& p : presets) out.push_back(p.name);
  return out;
}

/// The cells of `config`'s sweep for `preset`: F::cells(config, preset) where
/// the sweep depends on the model (an image size of 0 meaning the preset's),
/// else F::cells(config).
template <class F>
std::vector<typename F::Cell> cells_for(const Config& config, const typename F::Preset& preset) {
  if constexpr (requires { F::cells(config, preset); }) {
    return F::cells(config, preset);
  } else {
    return F::cells(config);
  }
}
}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/family/concepts.hpp ----
// ---- begin accelbench/measure/stats/concept.hpp ----

// The Stats policy: raw samples to a summary. docs/concepts.md shows a minimal type.

#include <concepts>
#include <span>
#include <string_view>


namespace accelbench {

/// Turns the raw samples (seconds) of a cell into a summary.
template <class S>
concept Stats = requires(std::span<const double> samples) {
  { S::name } -> std::convertible_to<std::string_view>;
  { S::summarize(samples) } -> std::same_as<LatencySummary>;
};

}  // namespace accelbench
// ---- end accelbench/measure/stats/concept.hpp ----
// ---- begin accelbench/report/concept.hpp ----

// The Reporter policy: where results go. docs/concepts.md shows a minimal type.


namespace accelbench {

/// Writes a run's results somewhere.
template <class R>
concept Reporter = requires(R& r, const RunResult& result) { r.report(result); };

}  // namespace accelbench
// ---- end accelbench/report/concept.hpp ----
// ---- end accelbench/concepts.hpp ----
// ---- begin accelbench/model/common/weights.hpp ----

// Named host tensors, the form in which weights reach a model, whether they
// were generated or read from a checkpoint. Names follow Hugging Face.

#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/detail/rng.hpp ----

// Counter-based random numbers: element i of a stream depends only on the
// stream's seed and i, so synthetic weights and inputs are the same on every
// platform, in any order and on any number of threads.

#include <cstdint>
#include <string_view>

namespace accelbench::detail {

/// SplitMix64's output function (Steele, Lea and Flood, 2014).
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a hash of a string.
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// The seed of the stream named `name` under the global seed `seed`.
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t seed, std::string_view name) noexcept {
  return mix64(seed ^ fnv1a64(name));
}

/// Element i of stream `stream` as 64 random bits.
[[nodiscard]] constexpr std::uint64_t random_bits(std::uint64_t stream, std::uint64_t i) noexcept {
  return mix64(stream + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

/// Element i of stream `stream`, uniform in [0, 1) with 24 bits of precision.
[[nodiscard]] constexpr float random_unit(std::uint64_t stream, std::uint64_t i) noexcept {
  return static_cast<float>(random_bits(stream, i) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace accelbench::detail
// ---- end accelbench/detail/rng.hpp ----

namespace accelbench {

class WeightMap {
 public:
  /// Adds a tensor; a name may be added once.
  void insert(std::string name, HostMatrix value) {
    if (tensors_.count(name) != 0) throw std::invalid_argument("weights: tensor '" + name + "' given twice");
    tensors_.emplace(std::move(name), std::move(value));
  }

  [[nodiscard]] bool contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

  [[nodiscard]] const HostMatrix& at(std::string_view name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    return it->second;
  }

  /// Removes the named tensor and returns it, after checking its shape.
  [[nodiscard]] HostMatrix take(std::string_view name, Eigen::Index rows, Eigen::Index cols) {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    if (it->second.rows() != rows || it->second.cols() != cols) {
      throw std::invalid_argument("weights: tensor '" + std::string(name) + "' is [" +
                                  std::to_string(it->second.rows()) + ", " + std::to_string(it->second.cols()) +
                                  "], expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    HostMatrix out = std::move(it->second);
    tensors_.erase(it);
    return out;
  }

  [[nodiscard]] std::size_t size() const noexcept { return tensors_.size(); }
  [[nodiscard]] bool empty() const noexcept { return tensors_.empty(); }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(tensors_.size());
    for (const auto& [name, _] : tensors_) out.push_back(name);
    return out;
  }

  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    std::int64_t n = 0;
    for (const auto& [_, t] : tensors_) n += t.size();
    return n;
  }

 private:
  std::map<std::string, HostMatrix, std::less<>> tensors_;
};

/// A deterministic synthetic tensor: uniform values with the given mean and
/// standard deviation, from the stream named by `name` under `seed`.
[[nodiscard]] inline HostMatrix synthetic_tensor(std::string_view name, Eigen::Index rows, Eigen::Index cols,
                                                 std::uint64_t seed, float mean, float stddev) {
  HostMatrix m(rows, cols);
  const std::uint64_t stream = detail::stream_seed(seed, name);
  const float half_width = stddev * std::sqrt(3.0f);  // uniform on [-a, a] has stddev a / sqrt(3)
  float* data = m.data();
  const auto n = static_cast<std::int64_t>(m.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (n > (1 << 20))
#endif
  for (std::int64_t i = 0; i < n; ++i) {
    data[i] = mean + half_width * (2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(i)) - 1.0f);
  }
  return m;
}

/// Every tensor of an architecture by its Hugging Face name, with its shape
/// as stored in checkpoints (a 1-D tensor as [1, n]).
using TensorShapes = std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>>;

/// Parameters of a list of tensor shapes.
[[nodiscard]] inline std::int64_t shape_parameter_count(const TensorShapes& shapes) noexcept {
  std::int64_t n = 0;
  for (const auto& [name, shape] : shapes) n += shape[0] * shape[1];
  return n;
}

/// Deterministic synthetic weights for every tensor of `shapes`, the same
/// for every architecture: scales (the tensors for which `is_scale(name)`
/// holds, norm weights and the like) near one, biases (".bias") and scales'
/// shifts small, everything else (matrices, embeddings, class tokens) with
/// standard deviation 0.02. The same seed gives the same weights everywhere.
template <class IsScale>
[[nodiscard]] WeightMap synthetic_weights(const TensorShapes& shapes, std::uint64_t seed, IsScale&& is_scale) {
  WeightMap w;
  for (const auto& [name, shape] : shapes) {
    const std::string_view n = name;
    const bool is_bias = n.ends_with(".bias");
    const bool scale = is_scale(n);
    const float mean = scale && !is_bias ? 1.0f : 0.0f;
    const float stddev = scale || is_bias ? 0.01f : 0.02f;
    w.insert(name, synthetic_tensor(name, shape[0], shape[1], seed, mean, stddev));
  }
  return w;
}

/// True when `name` contains one of `markers` (a synthetic_weights rule).
[[nodiscard]] inline bool name_contains_any(std::string_view name, std::initializer_list<std::string_view> markers) {
  for (const auto m : markers) {
    if (name.find(m) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace accelbench
// ---- end accelbench/model/common/weights.hpp ----
// ---- begin accelbench/model/common/architecture.hpp ----

// The shape every architecture's model class shares.

#include <concepts>
#include <cstdint>


namespace accelbench {

/// A model architecture on backend B: the class an architecture's file
/// defines (Bert<B>, Gpt2<B>, Llama<B>, T5<B>, ViT<B>, Clip<B>, Whisper<B>,
/// Wav2Vec2<B>). It names its configuration type `Config`; it is built
/// from a backend, a configuration and the weights by their Hugging Face
/// names (taking each tensor from the WeightMap and checking its shape);
/// it gives back its configuration, how many parameters it took and how
/// many bytes they fill on the device; and it lists, for any configuration,
/// every tensor it takes with its shape (`tensor_shapes`, a static member),
/// from which synthetic weights and the parameter count are derived. What
/// the forward entry points are depends on the family that runs the model
/// (forward, prefill and decode, encode), so they are not part of the concept.
template <class M, class B>
concept ModelArchitecture =
    requires { typename M::Config; } && std::constructible_from<M, B&, typename M::Config, WeightMap> &&
    requires(const M& model, const typename M::Config& config) {
      { model.config() } -> std::same_as<const typename M::Config&>;
      { model.parameters() } -> std::convertible_to<std::int64_t>;
      { model.weight_bytes() } -> std::convertible_to<std::uint64_t>;
      { M::tensor_shapes(config) } -> std::same_as<TensorShapes>;
    };

}  // namespace accelbench
// ---- end accelbench/model/common/architecture.hpp ----
// ---- begin accelbench/model/bert.hpp ----

// BERT (Devlin et al., 2018) as in Hugging Face transformers' BertModel:
// embeddings (word + position + token type, then LayerNorm) and post-norm
// encoder layers, with the mean-pooled sentence embedding of
// sentence-transformers on top. The forward pass is written once over the
// backend's EncoderOps.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/common/activation.hpp ----

// The activations of every architecture's feed-forward: one type for the
// names config.json files use (transformers' ACT2FN), read by one function
// that refuses, by field and value, a name it does not know and one the
// architecture does not implement, and applied by one function over the
// backend's ops.

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

// ---- begin accelbench/model/common/config_json.hpp ----

// Reading a Hugging Face checkpoint folder's config.json: one typed field
// reader for every architecture, with errors that name the file, the field
// (with its path inside nested objects) and the value. The reader notes
// every field it is asked about; check_fields then holds the file to the
// architecture's list of fields (ConfigField): each field present is read,
// has no effect on the computation, or is refused unless it has the one
// value that is implemented. A field the list does not name is an error
// unless the user accepted it by name (Config::accept_config_fields).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace accelbench {

/// What a config.json field does, in an architecture's list of fields.
enum class FieldRole {
  read,       ///< read by the architecture: it changes the computation and is implemented
  no_effect,  ///< does not change what the benchmark computes (training, generation or head settings)
  refused,    ///< changes the computation in a way that is not implemented: only `allowed` (or absence) passes
};

/// One field of an architecture's config.json, with what it does and why
/// (docs/models.md lists them per architecture).
struct ConfigField {
  std::string name;
  FieldRole role = FieldRole::read;
  std::string note;
  nlohmann::json allowed{};  ///< refused: the value that is implemented

  /// The field's name, or a prefix where the name ends in '*' ("mask_time_*").
  [[nodiscard]] bool matches(std::string_view key) const noexcept {
    if (!name.empty() && name.back() == '*') return key.starts_with(std::string_view(name).substr(0, name.size() - 1));
    return key == name;
  }

  [[nodiscard]] static ConfigField read(std::string name, std::string note) {
    return {std::move(name), FieldRole::read, std::move(note), {}};
  }
  [[nodiscard]] static ConfigField no_effect(std::string name, std::string note) {
    return {std::move(name), FieldRole::no_effect, std::move(note), {}};
  }
  [[nodiscard]] static ConfigField refused(std::string name, nlohmann::json allowed, std::string note) {
    return {std::move(name), FieldRole::refused, std::move(note), std::move(allowed)};
  }
};
using ConfigFields = std::vector<ConfigField>;

/// The fields every architecture's config.json may carry that do not change
/// the computation, or that are refused unless they keep their usual value.
/// An architecture's own list comes first: a field it names (CLIP reads
/// eos_token_id) is not taken from here.
[[nodiscard]] inline const ConfigFields& common_config_fields() {
  static const ConfigFields fields = [] {
    ConfigFields f;
    for (const char* n : {"architectures", "_name_or_path", "auto_map"}) {
      f.push_back(ConfigField::no_effect(n, "names the classes and the origin of the checkpoint"));
    }
    for (const char* n : {"dtype", "torch_dtype", "transformers_version"}) {
      f.push_back(ConfigField::no_effect(n, "how the checkpoint was saved; accelbench computes in float32"));
    }
    for (const char* n : {"bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "cls_token_id", "mask_token_id"}) {
      f.push_back(ConfigField::no_effect(n, "tokenizer and generation settings; the benchmark feeds token ids itself"));
    }
    for (const char* n : {"initializer_range", "initializer_factor", "init_std"}) {
      f.push_back(ConfigField::no_effect(n, "initialisation of new weights; a checkpoint's weights are read"));
    }
    for (const char* n : {"use_cache", "output_past", "return_dict", "output_hidden_states", "output_attentions",
                          "torchscript", "chunk_size_feed_forward", "use_bfloat16", "tf_legacy_loss"}) {
      f.push_back(ConfigField::no_effect(n, "how transformers returns or schedules the same computation"));
    }
    for (const char* n : {"gradient_checkpointing", "freeze_feat_extract_train"}) {
      f.push_back(ConfigField::no_effect(n, "a training setting"));
    }
    for (const char* n : {"max_length", "min_length", "max_new_tokens", "do_sample", "early_stopping", "num_beams",
                          "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p",
                          "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
                          "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
                          "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "forced_decoder_ids",
                          "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
                          "begin_suppress_tokens", "decoder_start_token_id"}) {
      f.push_back(ConfigField::no_effect(n, "a default of generate(); the benchmark's greedy loop takes the plain argmax"));
    }
    for (const char* n : {"id2label", "label2id", "num_labels", "problem_type", "finetuning_task", "task_specific_params",
                          "tokenizer_class", "prefix"}) {
      f.push_back(ConfigField::no_effect(n, "settings of task heads and pipelines, which the benchmark does not run"));
    }
    f.push_back(ConfigField::refused("pruned_heads", nlohmann::json::object(), "pruned attention heads are not implemented"));
    f.push_back(ConfigField::refused("tie_encoder_decoder", false, "an encoder tied to its decoder is not implemented"));
    f.push_back(ConfigField::refused("quantization_config", nullptr, "quantised checkpoints are not implemented"));
    return f;
  }();
  return fields;
}

/// Adds the fields of SpecAugment's masking (speech models), which applies
/// in training only: no effect.
inline void add_spec_augment_fields(ConfigFields& fields) {
  fields.push_back(ConfigField::no_effect("apply_spec_augment", "SpecAugment, in training only"));
  for (const char* n : {"mask_time_*", "mask_feature_*", "mask_channel_*", "no_mask_*"}) {
    fields.push_back(ConfigField::no_effect(n, "SpecAugment, in training only"));
  }
}

/// True for the fields of dropout and layer drop, which are off at
/// inference: any name with "dropout" in it, ending in "_pdrop", or
/// "layerdrop" (also with a prefix, as "encoder_layerdrop").
[[nodiscard]] inline bool is_dropout_field(std::string_view name) noexcept {
  return name.find("dropout") != std::string_view::npos || name.ends_with("_pdrop") || name.ends_with("layerdrop");
}

namespace detail {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("weights", "\"" + path.parent_path().string() + "\"", "cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("weights", "\"" + path.string() + "\"", std::string("not valid JSON: ") + e.what());
  }
}

/// Reads the fields of config.json, or of one object inside it, naming the
/// file and the field in every error.
class HfConfigReader {
 public:
  /// Reads `path`; `accepted` names fields that no architecture's list
  /// knows but the user chose to accept (Config::accept_config_fields).
  explicit HfConfigReader(std::filesystem::path path, std::vector<std::string> accepted = {})
      : path_(std::move(path)), document_(std::make_shared<const nlohmann::json>(read_json_file(path_))),
        json_(document_.get()), consulted_(std::make_shared<std::set<std::string>>()),
        accepted_(std::make_shared<const std::vector<std::string>>(std::move(accepted))) {
    if (!json_->is_object()) fail("(root)", json_->dump(), "expected a JSON object");
  }

  /// A reader of the object under `key` (CLIP's text_config, say); its
  /// errors name the field as "key.field". `hint` says what the file should have.
  [[nodiscard]] HfConfigReader object(const std::string& key, const std::string& hint) const {
    if (!has(key)) fail(key, "(missing)", "expected an object (" + hint + ")");
    const nlohmann::json& inner = get(key);
    if (!inner.is_object()) fail(key, inner.dump(), "expected an object");
    consulted_->insert(prefix_ + std::string(key));
    HfConfigReader out(*this);
    out.json_ = &inner;
    out.prefix_ = prefix_ + key + ".";
    return out;
  }

  /// True when the field is present and not null; the field counts as read.
  [[nodiscard]] bool has(std::string_view key) const {
    consulted_->insert(prefix_ + std::string(key));
    return json_->contains(key) && !json_->at(std::string(key)).is_null();
  }

  /// True when the field is present, null included (where null and absent
  /// differ: a default for absent, "none" for null); the field counts as read.
  [[nodiscard]] bool present(std::string_view key) const {
    consulted_->insert(prefix_ + std::string(key));
    return json_->contains(key);
  }

  [[nodiscard]] int integer(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number_integer()) fail(key, v.dump(), "expected an integer");
    return v.get<int>();
  }
  [[nodiscard]] int integer(std::string_view key, int fallback) const { return has(key) ? integer(key) : fallback; }

  [[nodiscard]] float number(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number()) fail(key, v.dump(), "expected a number");
    return v.get<float>();
  }
  [[nodiscard]] float number(std::string_view key, float fallback) const { return has(key) ? number(key) : fallback; }

  [[nodiscard]] std::string text(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_string()) fail(key, v.dump(), "expected a string");
    return v.get<std::string>();
  }
  [[nodiscard]] std::string text(std::string_view key, std::string fallback) const {
    return has(key) ? text(key) : fallback;
  }

  [[nodiscard]] bool boolean(std::string_view key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = get(key);
    if (!v.is_boolean()) fail(key, v.dump(), "expected true or false");
    return v.get<bool>();
  }

  /// A non-empty array of integers (wav2vec2's conv_dim and the like).
  [[nodiscard]] std::vector<int> integers(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_array() || v.empty()) fail(key, v.dump(), "expected a non-empty array of integers");
    std::vector<int> out;
    for (const auto& e : v) {
      if (!e.is_number_integer()) fail(key, v.dump(), "expected a non-empty array of integers");
      out.push_back(e.get<int>());
    }
    return out;
  }

  [[nodiscard]] const nlohmann::json& raw(std::string_view key) const { return get(key); }

  /// Throws unless the text field `key` (default `fallback`) is `expected`.
  void require_text(std::string_view key, const std::string& fallback, std::string_view expected,
                    const std::string& problem) const {
    const std::string v = text(key, fallback);
    if (v != expected) fail(key, "\"" + v + "\"", problem);
  }

  [[noreturn]] void fail(std::string_view key, const std::string& value, const std::string& problem) const {
    throw ConfigError(path_.string() + ": " + prefix_ + std::string(key), value, problem);
  }

  /// Holds this object's fields to `fields` (then common_config_fields()):
  /// a refused field must be absent, null or its allowed value; a field the
  /// lists do not name, that the reader was not asked about and that the
  /// user did not accept is an error naming every such field with its
  /// value. A field listed as read that the reader never asked about is a
  /// mistake in the architecture's list (std::logic_error). Call it after
  /// reading.
  void check_fields(const ConfigFields& fields) const {
    std::string unknown, values;
    for (const auto& [key, value] : json_->items()) {
      const ConfigField* rule = find_rule(fields, key);
      const bool asked = consulted_->count(prefix_ + key) != 0;
      if (rule == nullptr) {
        if (asked || is_dropout_field(key) || accepted(key)) continue;
        values += (unknown.empty() ? "" : ", ") + value.dump();
        unknown += (unknown.empty() ? "" : ", ") + prefix_ + key;
        continue;
      }
      switch (rule->role) {
        case FieldRole::read:
          if (!asked) {
            throw std::logic_error(path_.string() + ": " + prefix_ + key +
                                   " is listed as read but the reader did not read it");
          }
          break;
        case FieldRole::no_effect:
          break;
        case FieldRole::refused:
          if (!value.is_null() && value != rule->allowed) fail(key, value.dump(), rule->note);
          break;
      }
    }
    if (!unknown.empty()) {
      throw ConfigError(path_.string() + ": " + unknown, values,
                        "fields this architecture does not know, which may change the computation; accept each "
                        "by name with accept_config_fields (--accept-config-field) to run anyway, recorded in "
                        "the results");
    }
  }

 private:
  const nlohmann::json& get(std::string_view key) const {
    if (!has(key)) fail(key, "(missing)", "required by this architecture");
    return json_->at(std::string(key));
  }

  static const ConfigField* find_rule(const ConfigFields& fields, std::string_view key) {
    for (const auto& f : fields) {
      if (f.matches(key)) return &f;
    }
    for (const auto& f : common_config_fields()) {
      if (f.matches(key)) return &f;
    }
    return nullptr;
  }

  [[nodiscard]] bool accepted(std::string_view key) const {
    const std::string path = prefix_ + std::string(key);
    return std::find(accepted_->begin(), accepted_->end(), path) != accepted_->end();
  }

  std::filesystem::path path_;
  std::shared_ptr<const nlohmann::json> document_;
  const nlohmann::json* json_;
  std::string prefix_;
  std::shared_ptr<std::set<std::string>> consulted_;  ///< "field" and "object.field" paths asked about
  std::shared_ptr<const std::vector<std::string>> accepted_;
};

inline std::filesystem::path checkpoint_file(const std::filesystem::path& dir, const char* name) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"", "not a folder (expected a Hugging Face checkpoint folder)");
  }
  return dir / name;
}

/// The reader of a checkpoint folder's config.json; `accepted` as for
/// HfConfigReader.
[[nodiscard]] inline HfConfigReader checkpoint_config(const std::filesystem::path& dir,
                                                      std::vector<std::string> accepted = {}) {
  return HfConfigReader(checkpoint_file(dir, "config.json"), std::move(accepted));
}

}  // namespace detail

/// The name of a preset read from a checkpoint folder: the folder's name
/// (with or without a trailing separator).
[[nodiscard]] inline std::string checkpoint_name(const std::filesystem::path& dir) {
  const std::filesystem::path normal = std::filesystem::path(dir).lexically_normal();
  std::string name = normal.filename().string();
  if (name.empty()) name = normal.parent_path().filename().string();
  return name;
}

}  // namespace accelbench
// ---- end accelbench/model/common/config_json.hpp ----

namespace accelbench {

/// A feed-forward activation, by what it computes.
enum class Activation {
  gelu,        ///< erf GELU: "gelu" (BERT, ViT, Whisper, wav2vec2)
  gelu_tanh,   ///< tanh GELU: "gelu_new", "gelu_pytorch_tanh" (GPT-2, T5 v1.1's gated-gelu)
  relu,        ///< "relu" (T5)
  silu,        ///< x * sigmoid(x): "silu", "swish" (Llama's SwiGLU gate)
  quick_gelu,  ///< x * sigmoid(1.702 x): "quick_gelu" (CLIP)
};

/// The name transformers gives the activation (the first of its names).
[[nodiscard]] constexpr std::string_view to_string(Activation a) noexcept {
  switch (a) {
    case Activation::gelu: return "gelu";
    case Activation::gelu_tanh: return "gelu_new";
    case Activation::relu: return "relu";
    case Activation::silu: return "silu";
    case Activation::quick_gelu: return "quick_gelu";
  }
  return "?";
}

namespace detail {

/// The activation a config.json name stands for; none for a name this type
/// does not cover (ACT2FN's "gelu_fast", "mish", "tanh", ...).
[[nodiscard]] inline std::optional<Activation> activation_named(std::string_view name) noexcept {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  if (name == "silu" || name == "swish") return Activation::silu;
  if (name == "quick_gelu") return Activation::quick_gelu;
  return std::nullopt;
}

/// The names `implemented` stands for, for a message: "gelu" or "gelu_new, relu".
[[nodiscard]] inline std::string activation_names(std::initializer_list<Activation> implemented) {
  std::string out;
  for (Activation a : implemented) out += (out.empty() ? "\"" : ", \"") + std::string(to_string(a)) + "\"";
  return out;
}

/// The activation of config.json's `field` (`fallback` where it is
/// absent), which `arch` implements only as one of `implemented`: a name no
/// activation has, or one `arch` does not implement, is refused by field and
/// value.
[[nodiscard]] inline Activation read_activation(const HfConfigReader& c, const std::string& field,
                                                std::string_view fallback, std::string_view arch,
                                                std::initializer_list<Activation> implemented) {
  const std::string name = c.text(field, std::string(fallback));
  const std::optional<Activation> a = activation_named(name);
  if (!a) {
    c.fail(field, "\"" + name + "\"",
           "not an activation accelbench knows (gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, quick_gelu)");
  }
  for (Activation i : implemented) {
    if (i == *a) return *a;
  }
  c.fail(field, "\"" + name + "\"", std::string(arch) + " implements only " + activation_names(implemented) + " here");
}

/// x = act(x), in place, with the backend's op for it.
template <EncoderOps B>
void activate(B& be, Activation act, typename B::Tensor& x) {
  switch (act) {
    case Activation::gelu: be.gelu(x); return;
    case Activation::gelu_tanh:
      if constexpr (GenerationOps<B>) { be.gelu_tanh(x); return; }
      break;
    case Activation::relu:
      if constexpr (GenerationOps<B>) { be.relu(x); return; }
      break;
    case Activation::silu:
      if constexpr (GenerationOps<B>) { be.silu(x); return; }
      break;
    case Activation::quick_gelu:
      if constexpr (PerceptionOps<B>) { be.quick_gelu(x); return; }
      break;
  }
  throw std::invalid_argument("activation \"" + std::string(to_string(act)) + "\": the backend has no op for it");
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/model/common/activation.hpp ----
// ---- begin accelbench/model/common/checkpoint.hpp ----

// Hugging Face checkpoint folders: config.json gives the architecture and
// its dimensions (config_json.hpp), model.safetensors (or the shards listed
// in model.safetensors.index.json) the weights. Each architecture's file
// maps the stored tensor names onto the names its model takes with
// normalize_tensor_names: prefixes of task heads ("bert.", "transformer.")
// are removed and tensors it does not use are dropped.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/common/safetensors.hpp ----

// Reading and writing .safetensors checkpoints
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header naming each tensor's dtype, shape
// and byte range, then the data buffer. Opening a file reads and validates the
// header only; each tensor is read from disk when it is asked for. The
// format's vocabulary (dtypes, header entries, errors) is in
// safetensors_format.hpp.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

// ---- begin accelbench/detail/atomic_file.hpp ----

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace accelbench::detail {

/// Writes `content` to `path` whole or not at all: it goes to a temporary file
/// beside `path`, which is then renamed over it. Missing parent folders are
/// created. A reader never sees a half-written file.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw std::runtime_error("cannot create folder '" + path.parent_path().string() + "': " + ec.message());
    }
  }
  static std::atomic<unsigned> counter{0};
#if defined(__unix__) || defined(__APPLE__)
  const auto pid = static_cast<long>(::getpid());
#else
  const long pid = 0;
#endif
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(pid) + "-" + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot open '" + tmp.string() + "' for writing");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write '" + tmp.string() + "'");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

}  // namespace accelbench::detail
// ---- end accelbench/detail/atomic_file.hpp ----
// ---- begin accelbench/model/common/safetensors_format.hpp ----

// The vocabulary of the .safetensors format
// (https://github.com/huggingface/safetensors) that safetensors.hpp reads and
// writes: its error type, a tensor's header entry, the dtypes with their
// sizes, and the conversions of the half-precision types to float.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace accelbench {

static_assert(std::endian::native == std::endian::little,
              "safetensors.hpp reads and writes tensor data in place: it assumes a little-endian host");

/// A .safetensors file that cannot be read as asked. `what()` starts with the
/// file's path, then names the tensor or header field and the bad value.
class SafetensorsError : public std::runtime_error {
 public:
  SafetensorsError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(path.string() + ": " + problem), path_(path) {}

  /// The file the error is about.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// One tensor's entry in a safetensors header. `begin` and `end` are byte
/// offsets from the start of the data buffer.
struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;

  /// The number of elements: the product of the shape (1 for a 0-D tensor).
  [[nodiscard]] std::int64_t elements() const noexcept {
    if (std::ranges::find(shape, 0) != shape.end()) return 0;
    std::int64_t n = 1;
    for (const std::int64_t d : shape) n *= d;
    return n;
  }
};

/// Headers longer than this are refused (as by the reference implementation).
inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;

namespace detail {

enum class SafetensorsKind { boolean, unsigned_integer, signed_integer, floating, float8 };

struct SafetensorsDtype {
  std::string_view name;
  std::size_t size;
  SafetensorsKind kind;
};

inline constexpr std::array<SafetensorsDtype, 15> safetensors_dtypes{{
    {"BOOL", 1, SafetensorsKind::boolean},
    {"U8", 1, SafetensorsKind::unsigned_integer},
    {"I8", 1, SafetensorsKind::signed_integer},
    {"F8_E4M3", 1, SafetensorsKind::float8},
    {"F8_E5M2", 1, SafetensorsKind::float8},
    {"I16", 2, SafetensorsKind::signed_integer},
    {"U16", 2, SafetensorsKind::unsigned_integer},
    {"F16", 2, SafetensorsKind::floating},
    {"BF16", 2, SafetensorsKind::floating},
    {"I32", 4, SafetensorsKind::signed_integer},
    {"U32", 4, SafetensorsKind::unsigned_integer},
    {"F32", 4, SafetensorsKind::floating},
    {"F64", 8, SafetensorsKind::floating},
    {"I64", 8, SafetensorsKind::signed_integer},
    {"U64", 8, SafetensorsKind::unsigned_integer},
}};

/// The dtype named `name`, or nullptr.
[[nodiscard]] constexpr const SafetensorsDtype* find_safetensors_dtype(std::string_view name) noexcept {
  for (const auto& d : safetensors_dtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

[[nodiscard]] inline std::string safetensors_dtype_list() {
  std::string out;
  for (const auto& d : safetensors_dtypes) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

/// IEEE 754 binary16 to float, exactly: subnormals, infinities and NaN
/// payloads included.
[[nodiscard]] constexpr float f16_bits_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1fu) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // infinity or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal: mantissa * 2^-24, normalised for float.
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

/// bfloat16 to float: the upper 16 bits of a float.
[[nodiscard]] constexpr float bf16_bits_to_float(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

[[nodiscard]] inline std::string format_shape(std::span<const std::int64_t> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

/// A JSON value as text for an error message, shortened when long.
[[nodiscard]] inline std::string short_json(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr std::size_t limit = 80;
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

template <class T>
[[nodiscard]] T load_unaligned(const unsigned char* p) noexcept {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/model/common/safetensors_format.hpp ----

namespace accelbench {

/// A safetensors file whose header has been read and validated. Tensors are
/// read from disk on request; the object holds no open file, so it may be
/// copied and read from several threads.
class SafetensorsFile {
 public:
  /// Reads and validates the header of the file at `path`; throws
  /// SafetensorsError naming the problem. No tensor data is read.
  [[nodiscard]] static SafetensorsFile open(const std::filesystem::path& path) {
    SafetensorsFile file;
    file.path_ = path;
    file.load_header();
    return file;
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// Every tensor, in the order of their byte ranges.
  [[nodiscard]] const std::vector<SafetensorsTensorInfo>& tensors() const noexcept { return tensors_; }

  /// The header's "__metadata__" (empty when it has none).
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

  [[nodiscard]] bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }

  /// The named tensor's entry; throws SafetensorsError naming the missing
  /// tensor and some of the names present.
  [[nodiscard]] const SafetensorsTensorInfo& info(std::string_view name) const {
    const auto it = index_.find(name);
    if (it != index_.end()) return tensors_[it->second];
    std::string problem = "no tensor named '" + std::string(name) + "'";
    if (index_.empty()) throw SafetensorsError(path_, problem + "; the file has no tensors");
    problem += "; the file has " + std::to_string(index_.size()) + " tensor" + (index_.size() == 1 ? "" : "s") + ": ";
    constexpr std::size_t shown = 8;
    std::size_t i = 0;
    for (const auto& [present, _] : index_) {
      if (i == shown) break;
      problem += (i++ == 0 ? "'" : ", '") + present + "'";
    }
    if (index_.size() > shown) problem += ", ... (" + std::to_string(index_.size() - shown) + " more)";
    throw SafetensorsError(path_, problem);
  }

  /// An F32, F16, BF16 or F64 tensor converted to float (F64 is rounded). A
  /// 0-D or 1-D tensor of n elements becomes [1, n], a 2-D one keeps its
  /// shape, an N-D one becomes [product of all but the last dimension, last].
  /// Other dtypes are an error naming the dtype.
  [[nodiscard]] HostMatrix read_matrix(std::string_view name) const {
    const SafetensorsTensorInfo& t = info(name);
    const detail::SafetensorsDtype& dtype = *detail::find_safetensors_dtype(t.dtype);
    if (dtype.kind != detail::SafetensorsKind::floating) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': dtype " + t.dtype +
                                        " cannot be read as float; read_matrix reads F32, F16, BF16 and F64");
    }
    Eigen::Index rows = 1;
    Eigen::Index cols = 1;
    if (!t.shape.empty()) {
      cols = static_cast<Eigen::Index>(t.shape.back());
      for (std::size_t i = 0; i + 1 < t.shape.size(); ++i) rows *= static_cast<Eigen::Index>(t.shape[i]);
    }
    HostMatrix m(rows, cols);
    const auto n = static_cast<std::size_t>(m.size());
    if (t.dtype == "F32") {
      read_bytes(t, reinterpret_cast<char*>(m.data()));
      return m;
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(t.end - t.begin));
    read_bytes(t, reinterpret_cast<char*>(bytes.data()));
    float* out = m.data();
    if (t.dtype == "F16") {
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = detail::f16_bits_to_float(detail::load_unaligned<std::uint16_t>(bytes.data() + 2 * i));
      }
    } else if (t.dtype == "BF16") {
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = detail::bf16_bits_to_float(detail::load_unaligned<std::uint16_t>(bytes.data() + 2 * i));
      }
    } else {  // F64
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(detail::load_unaligned<double>(bytes.data() + 8 * i));
      }
    }
    return m;
  }

  /// read_matrix(name), after checking that the tensor's shape is exactly
  /// `expected_shape` (the error shows both shapes).
  [[nodiscard]] HostMatrix read_matrix(std::string_view name, std::span<const std::int64_t> expected_shape) const {
    const SafetensorsTensorInfo& t = info(name);
    if (!std::ranges::equal(t.shape, expected_shape)) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': shape = " + detail::format_shape(t.shape) +
                                        ", expected " + detail::format_shape(expected_shape));
    }
    return read_matrix(name);
  }

  /// An integer or BOOL tensor (I8, I16, I32, I64, U8, U16, U32, U64, BOOL)
  /// as int32, flattened in row-major order; BOOL gives 0 and 1. A value out
  /// of the int32 range is an error naming the tensor and the element's
  /// index; a floating-point dtype is an error naming the dtype.
  [[nodiscard]] std::vector<std::int32_t> read_indices(std::string_view name) const {
    const SafetensorsTensorInfo& t = info(name);
    const detail::SafetensorsDtype& dtype = *detail::find_safetensors_dtype(t.dtype);
    if (dtype.kind == detail::SafetensorsKind::floating || dtype.kind == detail::SafetensorsKind::float8) {
      throw SafetensorsError(path_, "tensor '" + t.name + "': dtype " + t.dtype +
                                        " is not an integer dtype; read_indices reads I8, I16, I32, I64, U8, U16, "
                                        "U32, U64 and BOOL");
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(t.end - t.begin));
    read_bytes(t, reinterpret_cast<char*>(bytes.data()));
    const auto n = static_cast<std::size_t>(t.elements());
    std::vector<std::int32_t> out(n);
    if (dtype.kind == detail::SafetensorsKind::boolean) {
      for (std::size_t i = 0; i < n; ++i) out[i] = bytes[i] != 0 ? 1 : 0;
      return out;
    }
    auto convert = [&]<class T>(T /*tag*/) {
      for (std::size_t i = 0; i < n; ++i) {
        const T v = detail::load_unaligned<T>(bytes.data() + sizeof(T) * i);
        if (!std::in_range<std::int32_t>(v)) {
          throw SafetensorsError(path_, "tensor '" + t.name + "': element " + std::to_string(i) + " = " +
                                            std::to_string(v) + " (" + t.dtype + ") is outside the int32 range");
        }
        out[i] = static_cast<std::int32_t>(v);
      }
    };
    if (t.dtype == "U8") convert(std::uint8_t{});
    else if (t.dtype == "I8") convert(std::int8_t{});
    else if (t.dtype == "I16") convert(std::int16_t{});
    else if (t.dtype == "U16") convert(std::uint16_t{});
    else if (t.dtype == "I32") convert(std::int32_t{});
    else if (t.dtype == "U32") convert(std::uint32_t{});
    else if (t.dtype == "I64") convert(std::int64_t{});
    else convert(std::uint64_t{});  // U64
    return out;
  }

 private:
  SafetensorsFile() = default;

  [[noreturn]] void fail(const std::string& problem) const { throw SafetensorsError(path_, problem); }

  /// Offset of the data buffer in the file: 8 + header length.
  std::uint64_t data_start_ = 0;
  std::filesystem::path path_;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;

  /// Reads tensor t's bytes into `out` (end - begin bytes).
  void read_bytes(const SafetensorsTensorInfo& t, char* out) const {
    const std::uint64_t count = t.end - t.begin;
    if (count == 0) return;
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("tensor '" + t.name + "': cannot open the file for reading");
    in.seekg(static_cast<std::streamoff>(data_start_ + t.begin));
    in.read(out, static_cast<std::streamsize>(count));
    if (!in || static_cast<std::uint64_t>(in.gcount()) != count) {
      fail("tensor '" + t.name + "': cannot read bytes [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           ") of the data buffer (has the file changed since it was opened?)");
    }
  }

  void load_header() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::uintmax_t file_size = fs::file_size(path_, ec);
    if (ec) fail("cannot read the file: " + ec.message());
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail("cannot open the file for reading");
    if (file_size < 8) {
      fail("file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length field");
    }
    std::array<unsigned char, 8> prefix{};
    if (!in.read(reinterpret_cast<char*>(prefix.data()), 8)) fail("cannot read the 8-byte header length field");
    std::uint64_t header_size = 0;
    for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | prefix[static_cast<std::size_t>(i)];
    if (header_size > safetensors_max_header_bytes) {
      fail("header length = " + std::to_string(header_size) + " bytes is larger than the limit of " +
           std::to_string(safetensors_max_header_bytes) + " bytes");
    }
    if (header_size > file_size - 8) {
      fail("header length = " + std::to_string(header_size) + " bytes is past the end of the file: only " +
           std::to_string(file_size - 8) + " bytes follow the 8-byte length field");
    }
    std::string text(static_cast<std::size_t>(header_size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(header_size))) fail("cannot read the header");
    data_start_ = 8 + header_size;
    parse_header(text, file_size - data_start_);
  }

  void parse_header(const std::string& text, std::uint64_t buffer_size) {
    using nlohmann::json;
    // nlohmann keeps the last of repeated keys; a repeated tensor name is an
    // error, so the top-level keys are collected while parsing.
    std::map<std::string, int, std::less<>> seen;
    std::string repeated;
    const json::parser_callback_t watch_keys = [&](int depth, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (++seen[key] == 2 && repeated.empty()) repeated = key;
      }
      return true;
    };
    json header;
    try {
      header = json::parse(text, watch_keys);
    } catch (const json::parse_error& e) {
      // e.what() is "[json.exception.parse_error.101] parse error at ...".
      std::string_view why = e.what();
      if (const auto bracket = why.find("] "); why.starts_with("[json.exception.") && bracket != why.npos) {
        why.remove_prefix(bracket + 2);
      }
      fail("header is not valid JSON: " + std::string(why));
    }
    if (!header.is_object()) {
      fail(std::string("header is a JSON ") + header.type_name() + " (" + detail::short_json(header) +
           "), expected an object");
    }
    if (!repeated.empty()) fail("tensor '" + repeated + "' appears more than once in the header");

    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        parse_metadata(entry);
        continue;
      }
      tensors_.push_back(parse_entry(name, entry, buffer_size));
    }

    std::ranges::sort(tensors_, [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
      return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    // Non-empty byte ranges must be disjoint: in begin order, each must start
    // at or after the furthest end seen so far.
    const SafetensorsTensorInfo* furthest = nullptr;
    for (const auto& t : tensors_) {
      if (t.begin == t.end) continue;
      if (furthest != nullptr && t.begin < furthest->end) {
        fail("tensors '" + furthest->name + "' (data_offsets = [" + std::to_string(furthest->begin) + ", " +
             std::to_string(furthest->end) + "]) and '" + t.name + "' (data_offsets = [" + std::to_string(t.begin) +
             ", " + std::to_string(t.end) + "]) have overlapping byte ranges");
      }
      if (furthest == nullptr || t.end > furthest->end) furthest = &t;
    }
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  }

  void parse_metadata(const nlohmann::json& entry) {
    if (!entry.is_object()) {
      fail("__metadata__ = " + detail::short_json(entry) + ": expected an object of strings");
    }
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string()) {
        fail("__metadata__['" + key + "'] = " + detail::short_json(value) + ": expected a string");
      }
      metadata_.emplace(key, value.get<std::string>());
    }
  }

  [[nodiscard]] SafetensorsTensorInfo parse_entry(const std::string& name, const nlohmann::json& entry,
                                                  std::uint64_t buffer_size) const {
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) {
      fail(where + "entry = " + detail::short_json(entry) + ": expected an object with dtype, shape and data_offsets");
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(field)) fail(where + "missing field '" + field + "'");
    }
    SafetensorsTensorInfo t;
    t.name = name;

    const auto& dtype = entry.at("dtype");
    if (!dtype.is_string()) fail(where + "dtype = " + detail::short_json(dtype) + ": expected a string");
    t.dtype = dtype.get<std::string>();
    const detail::SafetensorsDtype* known = detail::find_safetensors_dtype(t.dtype);
    if (known == nullptr) {
      fail(where + "dtype = \"" + t.dtype + "\": unknown dtype; known dtypes: " + detail::safetensors_dtype_list());
    }

    const auto& shape = entry.at("shape");
    if (!shape.is_array()) fail(where + "shape = " + detail::short_json(shape) + ": expected an array of integers");
    for (std::size_t i = 0; i < shape.size(); ++i) {
      const auto& d = shape[i];
      const std::string field = where + "shape[" + std::to_string(i) + "] = " + detail::short_json(d);
      if (d.is_number_unsigned()) {
        const auto v = d.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail(field + ": dimension too large");
        }
        t.shape.push_back(static_cast<std::int64_t>(v));
      } else if (d.is_number_integer()) {
        fail(field + ": negative dimension");  // a signed integer that is not unsigned is negative
      } else {
        fail(field + ": expected a non-negative integer");
      }
    }
    // The product of the non-zero dimensions must fit in int64, so that no
    // partial product (rows of an N-D tensor, elements()) overflows, even
    // for an empty tensor.
    std::int64_t nonzero_product = 1;
    bool has_zero = false;
    for (const std::int64_t d : t.shape) {
      if (d == 0) {
        has_zero = true;
      } else if (nonzero_product > std::numeric_limits<std::int64_t>::max() / d) {
        fail(where + "shape = " + detail::format_shape(t.shape) +
             ": dimensions too large (their product, zeros left out, exceeds 2^63 - 1)");
      } else {
        nonzero_product *= d;
      }
    }
    const auto elements = has_zero ? std::uint64_t{0} : static_cast<std::uint64_t>(nonzero_product);

    const auto& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail(where + "data_offsets = " + detail::short_json(offsets) +
           ": expected two non-negative integers [begin, end]");
    }
    t.begin = offsets[0].get<std::uint64_t>();
    t.end = offsets[1].get<std::uint64_t>();
    const std::string range = "data_offsets = [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin > t.end) fail(where + range + ": begin is after end");
    if (t.end > buffer_size) {
      fail(where + range + ": end is past the end of the data buffer (" + std::to_string(buffer_size) + " bytes)");
    }
    const std::uint64_t bytes = t.end - t.begin;
    if (elements > std::numeric_limits<std::uint64_t>::max() / known->size || elements * known->size != bytes) {
      fail(where + "dtype " + t.dtype + " with shape " + detail::format_shape(t.shape) + " needs " +
           std::to_string(elements) + " x " + std::to_string(known->size) + " bytes, but " + range + " holds " +
           std::to_string(bytes) + " bytes: dtype or shape does not match the byte range");
    }
    return t;
  }
};

/// Collects tensors and metadata, then writes them as one safetensors file,
/// whole or not at all. Tensors are laid out in the order they were added.
class SafetensorsWriter {
 public:
  /// Adds an F32 tensor with the matrix's values in row-major order. `shape`
  /// defaults to [rows, cols]; when given, its product must equal the
  /// matrix's size (for instance [n] for a 1 x n matrix, or [a, b, c] for an
  /// [a * b, c] matrix).
  void add_float(std::string name, const HostMatrix& value, std::vector<std::int64_t> shape = {}) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(value.rows()), static_cast<std::int64_t>(value.cols())};
    check(name, shape, static_cast<std::int64_t>(value.size()));
    std::string bytes(static_cast<std::size_t>(value.size()) * sizeof(float), '\0');
    if (!bytes.empty()) std::memcpy(bytes.data(), value.data(), bytes.size());
    entries_.push_back(Entry{std::move(name), "F32", std::move(shape), std::move(bytes)});
  }

  /// Adds an integer tensor, stored as I32, or as I64 when `as_i64` (the
  /// dtype of token ids in Hugging Face checkpoints). `shape` defaults to
  /// [values.size()]; when given, its product must equal values.size().
  void add_indices(std::string name, std::span<const std::int32_t> values, std::vector<std::int64_t> shape = {},
                   bool as_i64 = false) {
    if (shape.empty()) shape = {static_cast<std::int64_t>(values.size())};
    check(name, shape, static_cast<std::int64_t>(values.size()));
    std::string bytes;
    if (as_i64) {
      bytes.resize(values.size() * sizeof(std::int64_t));
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto v = static_cast<std::int64_t>(values[i]);
        std::memcpy(bytes.data() + i * sizeof v, &v, sizeof v);
      }
    } else if (!values.empty()) {
      bytes.resize(values.size() * sizeof(std::int32_t));
      std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    entries_.push_back(Entry{std::move(name), as_i64 ? "I64" : "I32", std::move(shape), std::move(bytes)});
  }

  /// Sets a "__metadata__" entry, replacing an earlier value of the key.
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  /// The file's bytes: length, header (padded with spaces so that the data
  /// buffer starts at a multiple of 8 bytes), data.
  [[nodiscard]] std::string serialize() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::uint64_t offset = 0;
    for (const auto& e : entries_) {
      header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
      offset += e.bytes.size();
    }
    std::string text;
    try {
      text = header.dump();
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(std::string("safetensors writer: cannot encode the header: ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out;
    out.reserve(8 + text.size() + static_cast<std::size_t>(offset));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xffu));
    out += text;
    for (const auto& e : entries_) out += e.bytes;
    return out;
  }

  /// Writes the file (see detail::write_file_atomically): a reader never sees
  /// a half-written file.
  void write(const std::filesystem::path& path) const { detail::write_file_atomically(path, serialize()); }

 private:
  struct Entry {
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::string bytes;
  };

  void check(const std::string& name, const std::vector<std::int64_t>& shape, std::int64_t elements) const {
    const std::string where = "safetensors writer: tensor '" + name + "': ";
    if (name == "__metadata__") throw std::invalid_argument(where + "the name is reserved for metadata");
    for (const auto& e : entries_) {
      if (e.name == name) throw std::invalid_argument(where + "added twice");
    }
    std::int64_t product = 1;
    for (const std::int64_t d : shape) {
      if (d < 0) throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has a negative dimension");
      if (d != 0 && product > std::numeric_limits<std::int64_t>::max() / d) {
        throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has too many elements");
      }
      product *= d;
    }
    if (product != elements) {
      throw std::invalid_argument(where + "shape " + detail::format_shape(shape) + " has " + std::to_string(product) +
                                  " elements, the values " + std::to_string(elements));
    }
  }

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// Every floating-point tensor of `file` (F32, F16, BF16, F64) converted to
/// float, shaped as by SafetensorsFile::read_matrix. Integer and BOOL tensors
/// (such as position id buffers) are left out; an F8 tensor is an error, as
/// it cannot be converted.
[[nodiscard]] inline WeightMap read_weights(const SafetensorsFile& file) {
  WeightMap weights;
  for (const auto& t : file.tensors()) {
    const auto kind = detail::find_safetensors_dtype(t.dtype)->kind;
    if (kind == detail::SafetensorsKind::floating || kind == detail::SafetensorsKind::float8) {
      weights.insert(t.name, file.read_matrix(t.name));
    }
  }
  return weights;
}

}  // namespace accelbench
// ---- end accelbench/model/common/safetensors.hpp ----

namespace accelbench {

/// Every floating-point tensor of a checkpoint folder, by its stored name:
/// model.safetensors, or every shard named by model.safetensors.index.json.
[[nodiscard]] inline WeightMap read_checkpoint_tensors(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path single = detail::checkpoint_file(dir, "model.safetensors");
  if (fs::exists(single)) return read_weights(SafetensorsFile::open(single));
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"",
                      "has neither model.safetensors nor model.safetensors.index.json");
  }
  const nlohmann::json index = detail::read_json_file(index_path);
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw ConfigError(index_path.string() + ": weight_map", "(missing)", "expected an object of tensor name -> file");
  }
  std::set<std::string> shards;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw ConfigError(index_path.string() + ": weight_map." + name, file.dump(), "expected a file name");
    shards.insert(file.get<std::string>());
  }
  WeightMap out;
  for (const auto& shard : shards) {
    WeightMap part = read_weights(SafetensorsFile::open(dir / shard));
    for (const auto& name : part.names()) {
      const HostMatrix& t = part.at(name);
      out.insert(name, part.take(name, t.rows(), t.cols()));
    }
  }
  return out;
}

/// A checkpoint tensor that an architecture leaves out on purpose, with the
/// reason (docs/models.md lists them): matched by its whole name, a prefix or
/// a suffix, after the checkpoint's model prefix is removed.
struct UnusedTensor {
  enum class Match { name, prefix, suffix };
  Match match = Match::name;
  std::string_view text;
  std::string_view reason;

  [[nodiscard]] bool matches(std::string_view n) const noexcept {
    switch (match) {
      case Match::name: return n == text;
      case Match::prefix: return n.starts_with(text);
      case Match::suffix: return n.ends_with(text);
    }
    return false;
  }
  /// "pooler.*", "*.attn.bias" or the name.
  [[nodiscard]] std::string pattern() const {
    switch (match) {
      case Match::prefix: return std::string(text) + "*";
      case Match::suffix: return "*" + std::string(text);
      case Match::name: break;
    }
    return std::string(text);
  }
};
using UnusedTensors = std::vector<UnusedTensor>;

[[nodiscard]] constexpr UnusedTensor unused_prefix(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::prefix, text, reason};
}
[[nodiscard]] constexpr UnusedTensor unused_suffix(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::suffix, text, reason};
}
[[nodiscard]] constexpr UnusedTensor unused_name(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::name, text, reason};
}

/// Renames tensors that start with one of `prefixes` (the first that
/// matches is removed) and drops those that `unused` lists. Every other
/// tensor is kept for the model, which must take it (WeightUploader::finish).
[[nodiscard]] inline WeightMap normalize_tensor_names(WeightMap in, const std::vector<std::string_view>& prefixes,
                                                      const UnusedTensors& unused) {
  WeightMap out;
  for (const auto& name : in.names()) {
    std::string_view n = name;
    for (const auto prefix : prefixes) {
      if (n.starts_with(prefix)) {
        n.remove_prefix(prefix.size());
        break;
      }
    }
    bool drop = false;
    for (const auto& u : unused) drop = drop || u.matches(n);
    if (drop) continue;
    const HostMatrix& t = in.at(name);
    out.insert(std::string(n), in.take(name, t.rows(), t.cols()));
  }
  return out;
}

/// A checkpoint folder's tensors under the names a model takes (see
/// normalize_tensor_names).
[[nodiscard]] inline WeightMap checkpoint_tensors(const std::filesystem::path& dir,
                                                  const std::vector<std::string_view>& prefixes,
                                                  const UnusedTensors& unused) {
  return normalize_tensor_names(read_checkpoint_tensors(dir), prefixes, unused);
}

namespace detail {

/// A 4-D convolution weight [out, channels, k, k] arrives from safetensors
/// as [out * channels * k, k]; the same values as [out, channels * k * k],
/// the layout conv2d takes. A tensor already in that layout is kept.
inline void reshape_conv2d_weight(WeightMap& w, const std::string& name, Eigen::Index out, Eigen::Index channels,
                                  Eigen::Index k) {
  if (!w.contains(name)) return;
  const HostMatrix& t = w.at(name);
  if (t.rows() == out * channels * k && t.cols() == k && !(t.rows() == out && t.cols() == channels * k * k)) {
    HostMatrix m = w.take(name, t.rows(), t.cols());
    HostMatrix r = Eigen::Map<const HostMatrix>(m.data(), out, channels * k * k);
    w.insert(name, std::move(r));
  }
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/model/common/checkpoint.hpp ----
// ---- begin accelbench/model/common/upload.hpp ----

// Taking a model's weights from a WeightMap and uploading them to its
// backend, counting parameters and bytes as they go: the one way every
// architecture's constructor loads its tensors.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>


namespace accelbench {

/// Parameters and bytes of the weights a model took.
struct WeightTally {
  std::int64_t parameters = 0;
  std::uint64_t bytes = 0;
};

/// Takes tensors by name from `weights` (checking each shape), counts them
/// in `tally` and uploads them to `backend`.
template <class B>
class WeightUploader {
 public:
  using Tensor = typename B::Tensor;

  WeightUploader(B& backend, WeightMap& weights, WeightTally& tally) noexcept
      : backend_(&backend), weights_(&weights), tally_(&tally) {}

  /// The named tensor on the host, counted (for weights that are reshaped,
  /// split or merged before they are uploaded).
  [[nodiscard]] HostMatrix host(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    HostMatrix m = weights_->take(name, rows, cols);
    tally_->bytes += static_cast<std::uint64_t>(m.size()) * sizeof(float);
    tally_->parameters += m.size();
    return m;
  }

  /// The named tensor, counted and uploaded.
  [[nodiscard]] Tensor operator()(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return backend_->upload(host(name, rows, cols));
  }

  /// Uploads a matrix derived from counted tensors (not counted again).
  [[nodiscard]] Tensor upload(const HostMatrix& m) { return backend_->upload(m); }

  /// Throws unless every tensor of the WeightMap was taken: a tensor the
  /// model does not use means the checkpoint describes another model (the
  /// tensors each architecture leaves out on purpose are dropped, with
  /// their reason, where the checkpoint is read).
  void finish(std::string_view model) const {
    if (weights_->empty()) return;
    std::string names;
    for (const auto& n : weights_->names()) names += (names.empty() ? "'" : ", '") + n + "'";
    throw std::invalid_argument("weights: " + std::to_string(weights_->size()) + " tensor" +
                                (weights_->size() == 1 ? "" : "s") + " that " + std::string(model) +
                                " does not use: " + names);
  }

 private:
  B* backend_;
  WeightMap* weights_;
  WeightTally* tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/common/upload.hpp ----
// ---- begin accelbench/model/common/validate.hpp ----

// Checks of a model configuration's fields, with errors that name the
// field (under the model's name) and its value.

#include <string>
#include <string_view>
#include <utility>


namespace accelbench::detail {

class FieldCheck {
 public:
  /// Fields are named "<prefix>.<field>".
  explicit FieldCheck(std::string prefix) : prefix_(std::move(prefix)) {}

  /// Fields named "<name>.<field>", "model.<field>" for a nameless model.
  [[nodiscard]] static FieldCheck of_model(const std::string& name) {
    return FieldCheck(name.empty() ? std::string("model") : name);
  }

  [[nodiscard]] std::string field(std::string_view f) const { return prefix_ + "." + std::string(f); }

  void positive(std::string_view f, int v) const {
    if (v <= 0) fail(f, std::to_string(v), "must be positive");
  }
  void positive(std::string_view f, float v) const {
    if (!(v > 0)) fail(f, std::to_string(v), "must be positive");
  }
  /// `heads` (the value of field f) must divide `hidden`.
  void divides(std::string_view f, int heads, int hidden) const {
    if (hidden % heads != 0) fail(f, std::to_string(heads), "must divide hidden (" + std::to_string(hidden) + ")");
  }

  [[noreturn]] void fail(std::string_view f, const std::string& value, const std::string& problem) const {
    throw ConfigError(field(f), value, problem);
  }

 private:
  std::string prefix_;
};

}  // namespace accelbench::detail
// ---- end accelbench/model/common/validate.hpp ----

namespace accelbench {

// ---- configuration ----

struct BertConfig {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 0;
  int type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  std::vector<std::string> aliases;  ///< other names of the preset, e.g. the Hugging Face id

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }

  /// Parameters of the embeddings and encoder (the unused pooler is not counted).
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const std::int64_t h = hidden;
    const std::int64_t i = intermediate;
    const std::int64_t embeddings = (std::int64_t{vocab_size} + max_positions + type_vocab_size) * h + 2 * h;
    const std::int64_t layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
    return embeddings + layers * layer;
  }

  /// Bytes of a forward pass's activations at this batch shape: seven
  /// [tokens, hidden] tensors, the [tokens, intermediate] feed-forward, the
  /// pooled output, the mask and three id arrays.
  [[nodiscard]] std::uint64_t activation_bytes(int batch, int seq) const noexcept {
    const std::uint64_t tokens = static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(seq);
    const std::uint64_t floats = tokens * (7u * static_cast<std::uint64_t>(hidden) + static_cast<std::uint64_t>(intermediate)) +
                                 static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(hidden) + tokens;
    return floats * sizeof(float) + 3u * tokens * sizeof(std::int32_t);
  }

  /// Floating-point operations of one forward pass (a multiply-add counts as
  /// two): the matrix products of the projections, feed-forward and attention.
  /// Element-wise work (norms, GELU, softmax) is left out.
  [[nodiscard]] double flops(int batch, int seq) const noexcept {
    const double tokens = static_cast<double>(batch) * seq;
    const double h = hidden;
    const double projections = 2.0 * tokens * (4.0 * h * h + 2.0 * h * intermediate);
    const double attention = 2.0 * 2.0 * static_cast<double>(batch) * seq * seq * h;
    return layers * (projections + attention);
  }
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<BertConfig>& bert_presets() {
  static const std::vector<BertConfig> presets = {
      {"bert-tiny", 2, 128, 2, 512, 30522, 512, 2, 1e-12f, {"prajjwal1/bert-tiny"}},
      {"all-MiniLM-L6-v2", 6, 384, 12, 1536, 30522, 512, 2, 1e-12f, {"sentence-transformers/all-MiniLM-L6-v2"}},
      {"bert-base-uncased", 12, 768, 12, 3072, 30522, 512, 2, 1e-12f, {"google-bert/bert-base-uncased"}},
  };
  return presets;
}

/// Checks that a configuration describes a BERT that can be built.
inline void validate_bert_config(const BertConfig& c) {
  const detail::FieldCheck check(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("vocab_size", c.vocab_size);
  check.positive("max_positions", c.max_positions);
  check.positive("type_vocab_size", c.type_vocab_size);
  check.divides("heads", c.heads, c.hidden);
  check.positive("layer_norm_eps", c.layer_norm_eps);
}

/// The fields of a BERT config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields bert_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"bert\""),
          F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
          F::read("num_hidden_layers", "layers"),
          F::read("hidden_size", "width"),
          F::read("num_attention_heads", "attention heads"),
          F::read("intermediate_size", "feed-forward width"),
          F::read("vocab_size", "rows of the token embedding"),
          F::read("max_position_embeddings", "rows of the position embedding"),
          F::read("type_vocab_size", "rows of the token-type embedding"),
          F::read("layer_norm_eps", "LayerNorm epsilon"),
          F::refused("is_decoder", false, "a BERT decoder (causal self-attention) is not implemented"),
          F::refused("add_cross_attention", false, "cross-attention layers are not implemented"),
          F::refused("position_embedding_type", "absolute", "only absolute position embeddings are implemented"),
          F::no_effect("tie_word_embeddings", "BertModel has no LM head to tie")};
}

/// BertConfig from a checkpoint's config.json (model_type "bert"); the
/// preset is named after the folder. Every field is held to
/// bert_config_fields(); `accepted` names unknown fields to let pass.
[[nodiscard]] inline BertConfig bert_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "bert", "the embedding family reads BERT checkpoints (\"bert\")");
  (void)detail::read_activation(c, "hidden_act", "gelu", "BERT", {Activation::gelu});
  BertConfig b;
  b.name = checkpoint_name(dir);
  b.layers = c.integer("num_hidden_layers");
  b.hidden = c.integer("hidden_size");
  b.heads = c.integer("num_attention_heads");
  b.intermediate = c.integer("intermediate_size");
  b.vocab_size = c.integer("vocab_size");
  b.max_positions = c.integer("max_position_embeddings");
  b.type_vocab_size = c.integer("type_vocab_size", 2);
  b.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  c.check_fields(bert_config_fields());
  validate_bert_config(b);
  return b;
}

// ---- tensor names and shapes ----

namespace detail {
inline std::string bert_layer_prefix(int i) { return "encoder.layer." + std::to_string(i) + "."; }
}  // namespace detail

/// The shape of every tensor of a BERT, by its Hugging Face name.
inline TensorShapes bert_tensor_shapes(const BertConfig& c) {
  const Eigen::Index h = c.hidden;
  const Eigen::Index i = c.intermediate;
  TensorShapes s = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}},
      {"embeddings.position_embeddings.weight", {c.max_positions, h}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}},
      {"embeddings.LayerNorm.weight", {1, h}},
      {"embeddings.LayerNorm.bias", {1, h}},
  };
  for (int l = 0; l < c.layers; ++l) {
    const auto p = detail::bert_layer_prefix(l);
    for (const char* proj : {"query", "key", "value"}) {
      s.push_back({p + "attention.self." + proj + ".weight", {h, h}});
      s.push_back({p + "attention.self." + proj + ".bias", {1, h}});
    }
    s.push_back({p + "attention.output.dense.weight", {h, h}});
    s.push_back({p + "attention.output.dense.bias", {1, h}});
    s.push_back({p + "attention.output.LayerNorm.weight", {1, h}});
    s.push_back({p + "attention.output.LayerNorm.bias", {1, h}});
    s.push_back({p + "intermediate.dense.weight", {i, h}});
    s.push_back({p + "intermediate.dense.bias", {1, i}});
    s.push_back({p + "output.dense.weight", {h, i}});
    s.push_back({p + "output.dense.bias", {1, h}});
    s.push_back({p + "output.LayerNorm.weight", {1, h}});
    s.push_back({p + "output.LayerNorm.bias", {1, h}});
  }
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): matrices and
/// embeddings with standard deviation 0.02 (BERT's initializer range), biases
/// small, LayerNorm scales near one.
inline WeightMap synthetic_bert_weights(const BertConfig& c, std::uint64_t seed) {
  validate_bert_config(c);
  return synthetic_weights(bert_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"LayerNorm"}); });
}

/// The tensors of a BERT checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors bert_unused_tensors() {
  return {unused_prefix("pooler.", "BertModel's pooler (a dense layer on the first token), whose output the embedding "
                                   "benchmark does not use: it mean-pools the last hidden states"),
          unused_prefix("cls.", "the pre-training heads of BertForPreTraining and BertForMaskedLM, not part of BertModel"),
          unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A BERT checkpoint's weights under BertModel's names.
[[nodiscard]] inline WeightMap bert_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"bert."}, bert_unused_tensors());
}

// ---- forward entry points ----

/// Token ids, positions, token types and attention mask of a batch of sequences.
struct BertInput {
  int batch = 0;
  int seq = 0;
  std::vector<std::int32_t> input_ids;       ///< [batch * seq]
  std::vector<std::int32_t> token_type_ids;  ///< [batch * seq]
  std::vector<std::int32_t> position_ids;    ///< [batch * seq], 0..seq-1 per sequence
  HostMatrix attention_mask;                 ///< [batch, seq], 1 = token, 0 = padding
};

/// A batch of synthetic sequences: [CLS] random tokens [SEP], then padding.
/// `lengths` gives each sequence's number of real tokens (default: all `seq`).
inline BertInput make_bert_input(const BertConfig& c, int batch, int seq, std::uint64_t seed,
                                 std::vector<int> lengths = {}) {
  if (batch <= 0) throw std::invalid_argument("make_bert_input: batch = " + std::to_string(batch) + ": must be >= 1");
  if (seq <= 0 || seq > c.max_positions) {
    throw std::invalid_argument("make_bert_input: seq = " + std::to_string(seq) + ": must lie in [1, " +
                                std::to_string(c.max_positions) + "]");
  }
  if (lengths.empty()) lengths.assign(static_cast<std::size_t>(batch), seq);
  if (lengths.size() != static_cast<std::size_t>(batch)) {
    throw std::invalid_argument("make_bert_input: one length per sequence is needed");
  }
  // BERT's uncased vocabulary: [PAD] = 0, [CLS] = 101, [SEP] = 102, words from 1996.
  const bool real_vocab = c.vocab_size > 2000;
  const std::int32_t pad = 0;
  const std::int32_t cls = real_vocab ? 101 : 1;
  const std::int32_t sep = real_vocab ? 102 : 2;
  const std::int32_t first_word = real_vocab ? 1996 : 3;
  const auto words = static_cast<std::uint64_t>(std::max(1, c.vocab_size - first_word));

  BertInput in;
  in.batch = batch;
  in.seq = seq;
  const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
  in.input_ids.assign(n, pad);
  in.token_type_ids.assign(n, 0);
  in.position_ids.resize(n);
  in.attention_mask = HostMatrix::Zero(batch, seq);
  const std::uint64_t stream = detail::stream_seed(seed, "bert.input_ids");
  for (int b = 0; b < batch; ++b) {
    const int len = lengths[static_cast<std::size_t>(b)];
    if (len < 1 || len > seq) {
      throw std::invalid_argument("make_bert_input: length " + std::to_string(len) + " of sequence " +
                                  std::to_string(b) + " must lie in [1, " + std::to_string(seq) + "]");
    }
    for (int s = 0; s < seq; ++s) {
      const auto i = static_cast<std::size_t>(b) * static_cast<std::size_t>(seq) + static_cast<std::size_t>(s);
      in.position_ids[i] = s;
      if (s >= len) continue;
      in.attention_mask(b, s) = 1.0f;
      if (s == 0 && len > 1) {
        in.input_ids[i] = cls;
      } else if (s == len - 1 && len > 1) {
        in.input_ids[i] = sep;
      } else {
        in.input_ids[i] = first_word + static_cast<std::int32_t>(detail::random_bits(stream, i) % words);
      }
    }
  }
  return in;
}

/// A BERT whose weights live on backend B.
template <EncoderOps B>
class Bert {
 public:
  using Config = BertConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// Activations of one batch shape, kept between forward passes so that a
  /// repeated forward pass allocates nothing.
  struct Workspace {
    int batch = 0;
    int seq = 0;
    IndexTensor input_ids, token_type_ids, position_ids;
    Tensor mask;    ///< [batch, seq]
    Tensor hidden;  ///< last hidden state, [batch * seq, hidden]
    Tensor pooled;  ///< mean-pooled embedding, [batch, hidden]
    Tensor q, k, v, context, attn, inter, tmp;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  Bert(B& backend, BertConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_bert_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    word_ = take("embeddings.word_embeddings.weight", config_.vocab_size, h);
    position_ = take("embeddings.position_embeddings.weight", config_.max_positions, h);
    token_type_ = take("embeddings.token_type_embeddings.weight", config_.type_vocab_size, h);
    emb_ln_g_ = take("embeddings.LayerNorm.weight", 1, h);
    emb_ln_b_ = take("embeddings.LayerNorm.bias", 1, h);
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const auto p = detail::bert_layer_prefix(l);
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.q_w = take(p + "attention.self.query.weight", h, h);
      L.q_b = take(p + "attention.self.query.bias", 1, h);
      L.k_w = take(p + "attention.self.key.weight", h, h);
      L.k_b = take(p + "attention.self.key.bias", 1, h);
      L.v_w = take(p + "attention.self.value.weight", h, h);
      L.v_b = take(p + "attention.self.value.bias", 1, h);
      L.o_w = take(p + "attention.output.dense.weight", h, h);
      L.o_b = take(p + "attention.output.dense.bias", 1, h);
      L.ln1_g = take(p + "attention.output.LayerNorm.weight", 1, h);
      L.ln1_b = take(p + "attention.output.LayerNorm.bias", 1, h);
      L.i_w = take(p + "intermediate.dense.weight", i, h);
      L.i_b = take(p + "intermediate.dense.bias", 1, i);
      L.out_w = take(p + "output.dense.weight", h, i);
      L.out_b = take(p + "output.dense.bias", 1, h);
      L.ln2_g = take(p + "output.LayerNorm.weight", 1, h);
      L.ln2_b = take(p + "output.LayerNorm.bias", 1, h);
    }
    take.finish("BERT");
  }

  [[nodiscard]] const BertConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const BertConfig& c) { return bert_tensor_shapes(c); }

  /// Uploads a batch of inputs into a new workspace.
  [[nodiscard]] Workspace prepare(B& backend, const BertInput& in) const {
    if (in.seq > config_.max_positions) {
      throw std::invalid_argument("Bert: sequence length " + std::to_string(in.seq) + " exceeds " + config_.name +
                                  "'s " + std::to_string(config_.max_positions) + " positions");
    }
    Workspace ws;
    ws.batch = in.batch;
    ws.seq = in.seq;
    ws.input_ids = backend.upload_indices(in.input_ids);
    ws.token_type_ids = backend.upload_indices(in.token_type_ids);
    ws.position_ids = backend.upload_indices(in.position_ids);
    ws.mask = backend.upload(in.attention_mask);
    return ws;
  }

  /// One forward pass: ws.hidden gets the last hidden state and ws.pooled the
  /// mean-pooled embedding.
  void forward(B& be, Workspace& ws) const {
    const float eps = config_.layer_norm_eps;
    be.embedding_lookup(word_, ws.input_ids, ws.hidden);
    be.embedding_lookup(position_, ws.position_ids, ws.tmp);
    be.add(ws.tmp, ws.hidden);
    be.embedding_lookup(token_type_, ws.token_type_ids, ws.tmp);
    be.add(ws.tmp, ws.hidden);
    be.layer_norm(ws.hidden, emb_ln_g_, emb_ln_b_, eps, ws.hidden);

    const AttentionDims dims{ws.batch, ws.seq, ws.seq, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.linear(ws.hidden, L.q_w, L.q_b, ws.q);
      be.linear(ws.hidden, L.k_w, L.k_b, ws.k);
      be.linear(ws.hidden, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, ws.mask, dims, ws.context);
      be.linear(ws.context, L.o_w, L.o_b, ws.attn);
      be.add(ws.hidden, ws.attn);
      be.layer_norm(ws.attn, L.ln1_g, L.ln1_b, eps, ws.hidden);
      be.linear(ws.hidden, L.i_w, L.i_b, ws.inter);
      be.gelu(ws.inter);
      be.linear(ws.inter, L.out_w, L.out_b, ws.tmp);
      be.add(ws.hidden, ws.tmp);
      be.layer_norm(ws.tmp, L.ln2_g, L.ln2_b, eps, ws.hidden);
    }
    be.masked_mean_pool(ws.hidden, ws.mask, ws.pooled);
  }

 private:
  struct Layer {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_g, ln1_b;
    Tensor i_w, i_b, out_w, out_b, ln2_g, ln2_b;
  };

  BertConfig config_;
  Tensor word_, position_, token_type_, emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/bert.hpp ----
// ---- begin accelbench/model/gpt2.hpp ----

// GPT-2 (Radford et al., 2019) as in Hugging Face transformers'
// GPT2LMHeadModel: learned positions, pre-norm blocks with LayerNorm, a
// tanh-GELU MLP and the LM head, tied to the token embedding unless
// tie_word_embeddings is false (or the checkpoint stores a different head),
// with config.json's attention scaling options. Written once
// over the backend's GenerationOps, with the key-value cache and the
// prefill / decode steps of common/generation.hpp.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/common/generation.hpp ----

// The generation session of the decoder-only architectures (GPT-2, Llama,
// Qwen2) with its key-value cache, and the prefill / decode steps they
// share. An architecture derives from DecoderOnly<Itself, B> and provides
//   embed(be, ids, session, activations, len, start): the input embeddings of
//       `len` new positions per sequence starting at `start` into a.x;
//   run_layers(be, session, activations, len, start): its layers over a.x,
//       the final-normed hidden states into a.h;
//   head(be, hidden, logits): the LM head;
// and a `config_` member. The cache holds `capacity` positions per sequence.
// The encoder-decoders (T5, Whisper) keep their decoder's caches in an
// EncoderDecoderCache.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

// ---- begin accelbench/model/common/generative_config.hpp ----

// The configuration the generative architectures share (GPT-2, Llama and
// Qwen2, T5): one struct so that the TextGeneration family has one preset
// type; each architecture reads the fields it uses. What depends on the
// architecture (tensor names and shapes, parameter count, key-value cache
// and FLOP formulas) lives in the architecture's own file (gpt2.hpp,
// llama.hpp, t5.hpp). A configuration made by a family (its presets, a
// checkpoint's config.json) points at its architecture's functions, chosen
// once among the family's architectures; one made by hand finds them among
// the library's (model/generative.hpp) by `architecture`.

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

struct GenerativeConfig;

/// The functions of a generative architecture that a configuration answers
/// with (see GenerativeConfig): architecture_functions<A> for an entry A of
/// a list of architectures.
struct GenerativeArchitectureFunctions {
  bool (*reads)(std::string_view model_type) noexcept = nullptr;
  bool encoder_decoder = false;
  TensorShapes (*tensor_shapes)(const GenerativeConfig&) = nullptr;
  std::uint64_t (*kv_cache_bytes)(const GenerativeConfig&, int batch, int capacity, int encoder_len) = nullptr;
  double (*generation_flops)(const GenerativeConfig&, int batch, int prompt, int new_tokens) = nullptr;
};

template <class A>
inline constexpr GenerativeArchitectureFunctions architecture_functions{
    &A::reads, A::encoder_decoder, &A::tensor_shapes, &A::kv_cache_bytes, &A::generation_flops};

struct GenerativeConfig {
  std::string name;
  /// The checkpoint's model_type: "gpt2", "llama", "qwen2", "mistral" (decoder-only) or
  /// "t5" (encoder-decoder).
  std::string architecture;
  int layers = 0;          ///< decoder layers; T5: encoder layers
  int decoder_layers = 0;  ///< T5 only
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;  ///< key-value heads (grouped-query attention); 0: heads
  int head_dim = 0;  ///< 0: hidden / heads
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 0;  ///< longest sequence; 0: no limit (T5's relative positions)
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;  ///< Llama, Qwen2
  /// Llama, Qwen2, Mistral: the scaled rotary frequencies of rope_type
  /// "linear" or "dynamic" (rope_factor; dynamic past max_positions only) or
  /// "llama3" (all four; RotaryDims' fields of those names); none: rope_type
  /// "default".
  RotaryScaling rope_scaling = RotaryScaling::none;
  float rope_factor = 1.0f;
  float rope_low_freq_factor = 1.0f;
  float rope_high_freq_factor = 4.0f;
  int rope_original_max_positions = 8192;
  bool qkv_bias = false;        ///< biases on the query, key and value projections (Qwen2)
  /// Llama: a bias on the attention's output projection (o_proj), which
  /// config.json's attention_bias adds with the q/k/v biases.
  bool attention_output_bias = false;
  /// Llama: biases on the MLP's gate, up and down projections (mlp_bias).
  bool mlp_bias = false;
  /// The LM head is the token embedding. A model built from a checkpoint
  /// unties it when the checkpoint stores a head that differs from the
  /// embedding, as transformers does (see resolve_tied_head).
  bool tied_embeddings = false;
  /// GPT-2: attention scores scaled by head_dim^-1/2 (scale_attn_weights);
  /// false: unscaled.
  bool scale_attn_weights = true;
  /// GPT-2: the scores of layer l (from 0) further divided by l + 1
  /// (scale_attn_by_inverse_layer_idx).
  bool scale_attn_by_inverse_layer_idx = false;
  /// T5: the decoder's final hidden states multiplied by hidden^-1/2 before
  /// the LM head (transformers 5's scale_decoder_outputs; older configs say
  /// it with tie_word_embeddings).
  bool scale_decoder_outputs = true;
  /// T5: the gated feed-forward of T5 v1.1 and Flan-T5 (feed_forward_proj
  /// "gated-gelu"): wo(gelu_tanh(wi_0 x) * wi_1 x); false: wo(relu(wi x)).
  bool gated_gelu = false;
  int relative_buckets = 32;        ///< T5
  int relative_max_distance = 128;  ///< T5
  int decoder_start_token = 0;      ///< T5
  /// Mistral, Qwen2: sliding-window attention, a query seeing the last
  /// sliding_window positions (its own included) in the layers of
  /// sliding_layers; 0: none.
  int sliding_window = 0;
  /// The layers whose attention slides (transformers' layer_types
  /// "sliding_attention"), ascending; empty with sliding_window > 0: every layer.
  std::vector<int> sliding_layers = {};
  std::vector<std::string> aliases;
  /// The architecture's functions, set where the architecture is chosen (a
  /// family's presets and checkpoints); null, or not the functions of
  /// `architecture`: those of the library's architecture of that name.
  const GenerativeArchitectureFunctions* functions = nullptr;

  [[nodiscard]] int effective_kv_heads() const noexcept { return kv_heads > 0 ? kv_heads : heads; }
  [[nodiscard]] int effective_head_dim() const noexcept {
    return head_dim > 0 ? head_dim : (heads > 0 ? hidden / heads : 0);
  }
  [[nodiscard]] std::int64_t attention_width() const noexcept {
    return std::int64_t{heads} * effective_head_dim();
  }
  [[nodiscard]] std::int64_t kv_width() const noexcept {
    return std::int64_t{effective_kv_heads()} * effective_head_dim();
  }
  /// The longest sequence (prompt plus new tokens) the model runs:
  /// max_positions, or 0 for none where positions have no table or
  /// pretraining length to stay within: T5's relative positions, and rotary
  /// scaling "dynamic", whose frequencies grow past max_positions.
  [[nodiscard]] int sequence_limit() const noexcept {
    return rope_scaling == RotaryScaling::dynamic ? 0 : max_positions;
  }
  /// The attention window of `layer` (AttentionDims::window): sliding_window
  /// where the layer slides, else 0 (every earlier position).
  [[nodiscard]] int attention_window(int layer) const noexcept {
    if (sliding_window <= 0) return 0;
    if (sliding_layers.empty()) return sliding_window;
    return std::find(sliding_layers.begin(), sliding_layers.end(), layer) != sliding_layers.end() ? sliding_window : 0;
  }

  // Answered by the architecture's own file, through `functions`.

  /// True for an encoder-decoder (T5).
  [[nodiscard]] bool is_encoder_decoder() const;
  /// Every tensor of the architecture by its Hugging Face name, with its
  /// shape as stored in checkpoints (a 1-D tensor as [1, n]).
  [[nodiscard]] TensorShapes tensor_shapes() const;
  /// Parameters, the tied LM head counted once.
  [[nodiscard]] std::int64_t parameter_count() const;
  /// Bytes of the key-value cache for `batch` sequences of up to `capacity`
  /// tokens (T5: plus the cross-attention keys and values of `encoder_len` tokens).
  [[nodiscard]] std::uint64_t kv_cache_bytes(int batch, int capacity, int encoder_len = 0) const;
  /// Floating-point operations of generating `new_tokens` tokens after a
  /// prompt of `prompt` tokens for `batch` sequences, with a key-value cache
  /// (a multiply-add counts as two): matrix products of the projections,
  /// feed-forward, attention and the LM head (one position per step).
  /// Element-wise work is left out.
  [[nodiscard]] double generation_flops(int batch, int prompt, int new_tokens) const;

 private:
  /// `functions` when they are `architecture`'s, otherwise the library's
  /// architecture of that name (defined in model/generative.hpp).
  [[nodiscard]] const GenerativeArchitectureFunctions& resolved_functions() const;
};

namespace detail {

/// Throws unless `ids` token ids are `batch` sequences of `length`, both positive.
inline void check_token_batch(std::string_view model, std::size_t ids, int batch, int length) {
  if (batch <= 0 || length <= 0) {
    throw std::invalid_argument(std::string(model) + ": batch = " + std::to_string(batch) + ", length = " +
                                std::to_string(length) + ": both must be positive");
  }
  if (ids != static_cast<std::size_t>(batch) * static_cast<std::size_t>(length)) {
    throw std::invalid_argument(std::string(model) + ": " + std::to_string(ids) + " token ids for " +
                                std::to_string(batch) + " x " + std::to_string(length));
  }
}

/// The checks every generative configuration has; each architecture's
/// validate_config adds its own. Throws unless `c.architecture` is one of
/// `model_types` (the architecture's file would build another model).
inline void validate_generative_dims(const FieldCheck& check, const GenerativeConfig& c,
                                     std::initializer_list<std::string_view> model_types, std::string_view model) {
  bool known = false;
  for (const auto t : model_types) known = known || c.architecture == t;
  if (!known) check.fail("architecture", "\"" + c.architecture + "\"", "is not " + std::string(model) + "'s");
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("vocab_size", c.vocab_size);
  if (c.kv_heads < 0 || c.head_dim < 0) {
    check.fail(c.kv_heads < 0 ? "kv_heads" : "head_dim", std::to_string(std::min(c.kv_heads, c.head_dim)),
               "must not be negative");
  }
  if (c.head_dim == 0) check.divides("heads", c.heads, c.hidden);
  if (c.heads % c.effective_kv_heads() != 0) {
    check.fail("kv_heads", std::to_string(c.kv_heads), "must divide heads (" + std::to_string(c.heads) + ")");
  }
  check.positive("norm_eps", c.norm_eps);
  if (c.gated_gelu && c.architecture != "t5") {
    check.fail("gated_gelu", "true", "is T5's feature; this architecture has no such option");
  }
  if (c.sliding_window < 0) check.fail("sliding_window", std::to_string(c.sliding_window), "must not be negative");
  bool slides = false;  // the architectures with sliding-window attention
  for (const auto t : model_types) slides = slides || t == "qwen2" || t == "mistral";
  if (c.sliding_window != 0 && !slides) {
    check.fail("sliding_window", std::to_string(c.sliding_window), "is Mistral's and Qwen2's feature; " +
                                                                      std::string(model) + " has no sliding window");
  }
  if (!c.sliding_layers.empty() && c.sliding_window == 0) {
    check.fail("sliding_layers", std::to_string(c.sliding_layers.size()) + " layers", "need a sliding_window");
  }
  for (std::size_t i = 0; i < c.sliding_layers.size(); ++i) {
    const int l = c.sliding_layers[i];
    if (l < 0 || l >= c.layers || (i > 0 && l <= c.sliding_layers[i - 1])) {
      check.fail("sliding_layers", std::to_string(l), "must be ascending layers below layers (" + std::to_string(c.layers) + ")");
    }
  }
}

/// Throws when `field`, a feature that only `owner` has, is not at its
/// default in the configuration of another architecture.
inline void reject_foreign_feature(const FieldCheck& check, std::string_view field, bool value, bool fallback,
                                   std::string_view owner) {
  if (value != fallback) {
    check.fail(field, value ? "true" : "false", "is " + std::string(owner) + "'s feature; this architecture has no such option");
  }
}

/// Floats of a decoder's self-attention cache: keys and values of `layers`
/// layers, `batch` x `capacity` rows of `width`.
[[nodiscard]] inline std::uint64_t self_attention_cache_floats(int batch, int capacity, std::int64_t width,
                                                                int layers) noexcept {
  const auto rows = static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(capacity);
  return 2u * rows * static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(layers);
}

/// Floating-point operations of a decoder-only transformer generating
/// `new_tokens` after a `prompt` for `batch` sequences with a key-value
/// cache, its MLP of `mlp_matrices` [hidden, intermediate] matrices (see
/// GenerativeConfig::generation_flops); a sliding layer's queries attend
/// their window's keys only.
[[nodiscard]] inline double decoder_only_flops(const GenerativeConfig& c, int batch, int prompt, int new_tokens,
                                               double mlp_matrices) noexcept {
  const double b = batch;
  const double h = c.hidden;
  const double aw = static_cast<double>(c.attention_width());
  const double kvw = static_cast<double>(c.kv_width());
  const double layer_weights = h * aw * 2.0 + h * kvw * 2.0 + mlp_matrices * h * c.intermediate;
  const double head = 2.0 * b * h * c.vocab_size;
  const double p = prompt;
  if (c.sliding_window == 0) {
    double total = c.layers * (2.0 * b * p * layer_weights + 4.0 * b * aw * p * (p + 1.0) / 2.0) + head;
    for (int t = 1; t < new_tokens; ++t) {
      const double ctx = p + t + 1.0;
      total += c.layers * (2.0 * b * layer_weights + 4.0 * b * ctx * aw) + head;
    }
    return total;
  }
  // Keys a query at position i (from 0) attends in `layer`: i + 1, or the window.
  const auto keys = [&](int layer, double i) {
    const int w = c.attention_window(layer);
    return w > 0 ? std::min(i + 1.0, double(w)) : i + 1.0;
  };
  double total = head;
  for (int l = 0; l < c.layers; ++l) {
    double prefill_keys = 0;  // summed over the prompt's positions
    const int w = c.attention_window(l);
    if (w > 0 && w < prompt) {
      prefill_keys = double(w) * (w + 1.0) / 2.0 + (p - w) * w;
    } else {
      prefill_keys = p * (p + 1.0) / 2.0;
    }
    total += 2.0 * b * p * layer_weights + 4.0 * b * aw * prefill_keys;
    for (int t = 1; t < new_tokens; ++t) total += 2.0 * b * layer_weights + 4.0 * b * keys(l, p + t) * aw;
  }
  for (int t = 1; t < new_tokens; ++t) total += head;
  return total;
}

}  // namespace detail

/// `batch` prompts of `length` token ids each (row-major), drawn from the
/// vocabulary above its first few special ids.
[[nodiscard]] inline std::vector<std::int32_t> make_prompt_ids(const GenerativeConfig& c, int batch, int length,
                                                               std::uint64_t seed) {
  if (batch <= 0 || length <= 0) {
    throw std::invalid_argument("make_prompt_ids: batch = " + std::to_string(batch) + ", length = " +
                                std::to_string(length) + ": both must be >= 1");
  }
  const int first = c.vocab_size > 1000 ? 100 : 1;
  const auto words = static_cast<std::uint64_t>(std::max(1, c.vocab_size - first));
  const std::uint64_t stream = detail::stream_seed(seed, "generation.prompt_ids");
  std::vector<std::int32_t> ids(static_cast<std::size_t>(batch) * static_cast<std::size_t>(length));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = first + static_cast<std::int32_t>(detail::random_bits(stream, i) % words);
  }
  return ids;
}

}  // namespace accelbench
// ---- end accelbench/model/common/generative_config.hpp ----

namespace accelbench {

template <GenerationOps B>
struct DecoderActivations {
  typename B::Tensor x, h, q, k, v, context, ff, gate_up, last, logits;
};

/// One batch of sequences being generated: prompt, key-value cache and
/// activations. `length` is the number of positions in the cache; prefill
/// and decode keep their own activations so that a repeated generation
/// reuses every buffer.
template <GenerationOps B>
struct DecoderSession {
  int batch = 0;
  int prompt_len = 0;
  int capacity = 0;
  int length = 0;
  typename B::IndexTensor prompt_ids;
  typename B::IndexTensor last_rows;  ///< the row of each sequence's last prompt token
  typename B::IndexTensor next_ids;   ///< the token chosen for each sequence by the last step
  std::vector<typename B::Tensor> k_cache, v_cache;
  DecoderActivations<B> prefill, step;
};

/// What the decoder-only architectures' entries in GenerativeArchitectures
/// share: no encoder, and a key-value cache of kv_heads keys and values per
/// position in each layer.
struct DecoderOnlyArchitecture {
  static constexpr bool encoder_decoder = false;

  /// Bytes of the key-value cache of `batch` sequences of up to `capacity` tokens.
  [[nodiscard]] static std::uint64_t kv_cache_bytes(const GenerativeConfig& c, int batch, int capacity,
                                                    int /*encoder_len*/ = 0) noexcept {
    return detail::self_attention_cache_floats(batch, capacity, c.kv_width(), c.layers) * sizeof(float);
  }
};

/// The caches of an encoder-decoder's decoder while it generates: the
/// self-attention keys and values of each decoder layer, the cross-attention
/// keys and values of the encoder's output (computed by prefill), and each
/// sequence's decoder start token.
template <class B>
struct EncoderDecoderCache {
  std::vector<typename B::Tensor> cross_k, cross_v, self_k, self_v;
  typename B::IndexTensor start_ids;  ///< the decoder start token for each sequence

  /// Zeroed self-attention caches of `capacity` positions of `width` per
  /// sequence for `layers` layers, room for the cross keys and values, and
  /// `batch` start tokens.
  void allocate(B& be, int layers, int batch, int capacity, Eigen::Index width, int start_token) {
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * capacity, width);
    for (int l = 0; l < layers; ++l) {
      self_k.push_back(be.upload(zeros));
      self_v.push_back(be.upload(zeros));
    }
    cross_k.resize(static_cast<std::size_t>(layers));
    cross_v.resize(static_cast<std::size_t>(layers));
    start_ids = be.upload_indices(std::vector<std::int32_t>(static_cast<std::size_t>(batch), start_token));
  }
};

template <class Derived, GenerationOps B>
class DecoderOnly {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;
  using Activations = DecoderActivations<B>;
  using Session = DecoderSession<B>;

  /// A session for `batch` prompts of `prompt_len` tokens (row-major ids)
  /// with room for `max_new_tokens` more; the cache is allocated here.
  [[nodiscard]] Session start(B& be, std::span<const std::int32_t> prompt_ids, int batch, int prompt_len,
                              int max_new_tokens) const {
    const GenerativeConfig& c = self().config();
    detail::check_token_batch(c.name, prompt_ids.size(), batch, prompt_len);
    if (max_new_tokens < 0) throw std::invalid_argument(std::string(Derived::model_name) + ": max_new_tokens must not be negative");
    Session s;
    s.batch = batch;
    s.prompt_len = prompt_len;
    s.capacity = prompt_len + max_new_tokens;
    if (c.sequence_limit() > 0 && s.capacity > c.sequence_limit()) {
      throw std::invalid_argument(std::string(Derived::model_name) + ": prompt length " + std::to_string(prompt_len) +
                                  " + " + std::to_string(max_new_tokens) + " new tokens exceed " + c.name + "'s " +
                                  std::to_string(c.sequence_limit()) + " positions");
    }
    s.prompt_ids = be.upload_indices(prompt_ids);
    std::vector<std::int32_t> last(static_cast<std::size_t>(batch));
    for (int b = 0; b < batch; ++b) last[static_cast<std::size_t>(b)] = (b + 1) * prompt_len - 1;
    s.last_rows = be.upload_indices(last);
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * s.capacity, c.kv_width());
    for (int l = 0; l < c.layers; ++l) {
      s.k_cache.push_back(be.upload(zeros));
      s.v_cache.push_back(be.upload(zeros));
    }
    return s;
  }

  /// Runs the prompt through the model, filling the cache; the logits of each
  /// sequence's last position go to s.prefill.logits and its greedy choice
  /// to s.next_ids. s.prefill.h keeps the final hidden states of every position.
  void prefill(B& be, Session& s) const {
    Activations& a = s.prefill;
    self().embed(be, s.prompt_ids, s, a, s.prompt_len, 0);
    self().run_layers(be, s, a, s.prompt_len, 0);
    be.embedding_lookup(a.h, s.last_rows, a.last);
    self().head(be, a.last, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length = s.prompt_len;
  }

  /// Feeds s.next_ids (one token per sequence) and chooses the next ones;
  /// logits in s.step.logits.
  void decode(B& be, Session& s) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range(std::string(Derived::model_name) + ": the cache's " + std::to_string(s.capacity) +
                              " positions are full");
    }
    Activations& a = s.step;
    self().embed(be, s.next_ids, s, a, 1, s.length);
    self().run_layers(be, s, a, 1, s.length);
    self().head(be, a.h, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  /// The logits of every prompt position, after prefill (for verification).
  void prompt_logits(B& be, Session& s, Tensor& logits) const { self().head(be, s.prefill.h, logits); }

 protected:
  /// Dimensions of the attention and the cache writes of `len` new positions
  /// per sequence starting at `start`.
  [[nodiscard]] AttentionDims attention_dims(const Session& s, int len, int start) const {
    const GenerativeConfig& c = self().config();
    return AttentionDims{.batch = s.batch,
                         .query_len = len,
                         .key_len = start + len,
                         .heads = c.heads,
                         .head_dim = c.effective_head_dim(),
                         .kv_heads = c.effective_kv_heads(),
                         .key_stride = s.capacity,
                         .causal = true};
  }
  [[nodiscard]] static CacheDims cache_dims(const Session& s, int len, int start) {
    return CacheDims{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
  }

 private:
  [[nodiscard]] const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

}  // namespace accelbench
// ---- end accelbench/model/common/generation.hpp ----
// ---- begin accelbench/model/common/tied_head.hpp ----

// A head (or a second embedding) that the configuration ties to a token
// embedding, against the tensors a checkpoint actually stores. transformers
// (5.23, PreTrainedModel.tie_weights in from_pretrained) ties the two only
// where the checkpoint does not contradict it:
//   - the head not stored: the head is the embedding;
//   - both stored and equal (torch.equal): tied, the stored copy unused;
//   - both stored and different: NOT tied; the stored head is used (with a
//     warning that tie_word_embeddings should be false);
//   - only the head stored: the embedding is the stored head.
// The architectures' constructors apply this rule before they take their
// weights, and record the outcome in their configuration.

#include <string>
#include <utility>


namespace accelbench {

/// Applies transformers' rule above to the tensors `embedding` and `tied`
/// (the head) of `weights`: drops a stored copy equal to the embedding, and
/// stores a lone head under the embedding's name. Returns whether they stay
/// tied; false leaves both in `weights`, for the model to take each (shapes
/// are checked when they are taken).
[[nodiscard]] inline bool resolve_tied_head(WeightMap& weights, const std::string& embedding, const std::string& tied) {
  if (!weights.contains(tied)) return true;
  const HostMatrix& head = weights.at(tied);
  if (!weights.contains(embedding)) {
    HostMatrix moved = weights.take(tied, head.rows(), head.cols());
    weights.insert(embedding, std::move(moved));
    return true;
  }
  const HostMatrix& embed = weights.at(embedding);
  if (embed.rows() != head.rows() || embed.cols() != head.cols() || embed != head) return false;
  (void)weights.take(tied, head.rows(), head.cols());
  return true;
}

}  // namespace accelbench
// ---- end accelbench/model/common/tied_head.hpp ----

namespace accelbench {

// ---- configuration ----

template <GenerationOps B>
class Gpt2;

/// GPT2LMHeadModel's entry in the list of generative architectures
/// (GenerativeArchitectures, model/generative.hpp): the checkpoint model
/// types it reads, its model class, and its configuration, shape, FLOP and
/// weight functions.
struct Gpt2Architecture : DecoderOnlyArchitecture {
  static constexpr std::string_view names = "gpt2";
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept { return model_type == "gpt2"; }
  template <GenerationOps B>
  using Model = Gpt2<B>;

  /// The preset with the dimensions of the published checkpoint.
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    return {{.name = "gpt2", .architecture = "gpt2", .layers = 12, .hidden = 768, .heads = 12,
             .intermediate = 3072, .vocab_size = 50257, .max_positions = 1024, .norm_eps = 1e-5f,
             .qkv_bias = true, .tied_embeddings = true, .aliases = {"openai-community/gpt2"}}};
  }

  /// The fields of a GPT-2 config.json (model_type "gpt2").
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    (void)detail::read_activation(c, "activation_function", "gelu_new", "GPT-2", {Activation::gelu_tanh});
    g.layers = c.integer("n_layer");
    g.hidden = c.integer("n_embd");
    g.heads = c.integer("n_head");
    g.intermediate = c.integer("n_inner", 4 * g.hidden);
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("n_positions");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-5f);
    g.qkv_bias = true;
    g.tied_embeddings = c.boolean("tie_word_embeddings", true);
    g.scale_attn_weights = c.boolean("scale_attn_weights", true);
    g.scale_attn_by_inverse_layer_idx = c.boolean("scale_attn_by_inverse_layer_idx", false);
  }

  /// The fields of a GPT-2 config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "must be \"gpt2\""),
            F::read("activation_function", "the MLP activation; only the tanh GELU (\"gelu_new\") is implemented"),
            F::read("n_layer", "layers"),
            F::read("n_embd", "width"),
            F::read("n_head", "attention heads"),
            F::read("n_inner", "MLP width (default 4 n_embd)"),
            F::read("vocab_size", "rows of the token embedding"),
            F::read("n_positions", "rows of the position embedding"),
            F::read("layer_norm_epsilon", "LayerNorm epsilon"),
            F::read("tie_word_embeddings", "the head is the token embedding, or lm_head.weight (a stored head that differs unties it)"),
            F::read("scale_attn_weights", "attention scores scaled by 1/sqrt(head_dim), or not"),
            F::read("scale_attn_by_inverse_layer_idx", "attention scores also divided by the layer's number (index + 1)"),
            F::refused("add_cross_attention", false, "cross-attention layers are not implemented"),
            F::no_effect("reorder_and_upcast_attn", "computes the attention scores in float32, as accelbench does throughout"),
            F::no_effect("n_ctx", "an older name of n_positions that transformers does not read"),
            F::no_effect("summary_type", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_use_proj", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_activation", "the multiple-choice head of GPT2DoubleHeadsModel"),
            F::no_effect("summary_proj_to_labels", "the multiple-choice head of GPT2DoubleHeadsModel")};
  }

  /// Checks that a configuration describes a GPT-2 that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"gpt2"}, "GPT-2");
    check.positive("max_positions", c.max_positions);
    if (c.kv_heads != 0 && c.kv_heads != c.heads) {
      check.fail("kv_heads", std::to_string(c.kv_heads), "GPT-2 has as many key-value heads as heads");
    }
    detail::reject_foreign_feature(check, "attention_output_bias", c.attention_output_bias, false, "Llama");
    detail::reject_foreign_feature(check, "mlp_bias", c.mlp_bias, false, "Llama");
    detail::reject_foreign_feature(check, "scale_decoder_outputs", c.scale_decoder_outputs, true, "T5");
  }

  // ---- tensor names and shapes ----

  /// GPT2LMHeadModel's tensors without the "transformer." prefix (and an
  /// untied lm_head.weight). Its projections are Conv1D layers, stored [in, out].
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index i = c.intermediate;
    s.push_back({"wte.weight", {c.vocab_size, h}});
    s.push_back({"wpe.weight", {c.max_positions, h}});
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      s.push_back({p + "ln_1.weight", {1, h}});
      s.push_back({p + "ln_1.bias", {1, h}});
      s.push_back({p + "attn.c_attn.weight", {h, 3 * h}});
      s.push_back({p + "attn.c_attn.bias", {1, 3 * h}});
      s.push_back({p + "attn.c_proj.weight", {h, h}});
      s.push_back({p + "attn.c_proj.bias", {1, h}});
      s.push_back({p + "ln_2.weight", {1, h}});
      s.push_back({p + "ln_2.bias", {1, h}});
      s.push_back({p + "mlp.c_fc.weight", {h, i}});
      s.push_back({p + "mlp.c_fc.bias", {1, i}});
      s.push_back({p + "mlp.c_proj.weight", {i, h}});
      s.push_back({p + "mlp.c_proj.bias", {1, h}});
    }
    s.push_back({"ln_f.weight", {1, h}});
    s.push_back({"ln_f.bias", {1, h}});
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {c.vocab_size, h}});
    return s;
  }

  /// Generating `new_tokens` after a `prompt` for `batch` sequences (see
  /// GenerativeConfig::generation_flops): a two-matrix MLP.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    return detail::decoder_only_flops(c, batch, prompt, new_tokens, 2.0);
  }

  // ---- weights ----

  /// Synthetic weights: the LayerNorms' (ln_1, ln_2, ln_f) scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"ln_"}); }

  /// The tensors of a GPT-2 checkpoint that the model leaves out.
  [[nodiscard]] static UnusedTensors unused_tensors() {
    return {unused_suffix(".attn.bias", "the causal-mask buffer older checkpoints store; the mask is computed"),
            unused_suffix(".attn.masked_bias", "the masked-score buffer older checkpoints store; not used")};
  }

  /// A checkpoint's tensors under GPT2LMHeadModel's names without
  /// "transformer.", its attention-mask buffers dropped.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {"transformer."}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class Gpt2 : public DecoderOnly<Gpt2<B>, B> {
  using Base = DecoderOnly<Gpt2<B>, B>;
  friend Base;

 public:
  using Config = GenerativeConfig;
  using typename Base::Activations;
  using typename Base::IndexTensor;
  using typename Base::Session;
  using typename Base::Tensor;
  static constexpr std::string_view model_name = "GPT-2";

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// wte.weight is untied, as transformers does (config().tied_embeddings
  /// says so).
  Gpt2(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    Gpt2Architecture::validate_config(config_);
    if (config_.tied_embeddings) config_.tied_embeddings = resolve_tied_head(weights, "wte.weight", "lm_head.weight");
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    embed_ = take("wte.weight", config_.vocab_size, h);
    positions_ = take("wpe.weight", config_.max_positions, h);
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.norm1_g = take(p + "ln_1.weight", 1, h);
      L.norm1_b = take(p + "ln_1.bias", 1, h);
      // Conv1D weights are [in, out]: split the fused projection and
      // transpose each part to the [out, in] layout of linear().
      const HostMatrix qkv = take.host(p + "attn.c_attn.weight", h, 3 * h);
      const HostMatrix qkv_b = take.host(p + "attn.c_attn.bias", 1, 3 * h);
      L.q_w = take.upload(HostMatrix(qkv.middleCols(0, h).transpose()));
      L.k_w = take.upload(HostMatrix(qkv.middleCols(h, h).transpose()));
      L.v_w = take.upload(HostMatrix(qkv.middleCols(2 * h, h).transpose()));
      L.q_b = take.upload(HostMatrix(qkv_b.middleCols(0, h)));
      L.k_b = take.upload(HostMatrix(qkv_b.middleCols(h, h)));
      L.v_b = take.upload(HostMatrix(qkv_b.middleCols(2 * h, h)));
      L.o_w = take.upload(HostMatrix(take.host(p + "attn.c_proj.weight", h, h).transpose()));
      L.o_b = take(p + "attn.c_proj.bias", 1, h);
      L.norm2_g = take(p + "ln_2.weight", 1, h);
      L.norm2_b = take(p + "ln_2.bias", 1, h);
      L.fc_w = take.upload(HostMatrix(take.host(p + "mlp.c_fc.weight", h, i).transpose()));
      L.fc_b = take(p + "mlp.c_fc.bias", 1, i);
      L.proj_w = take.upload(HostMatrix(take.host(p + "mlp.c_proj.weight", i, h).transpose()));
      L.proj_b = take(p + "mlp.c_proj.bias", 1, h);
    }
    final_g_ = take("ln_f.weight", 1, h);
    final_b_ = take("ln_f.bias", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    take.finish("GPT-2");
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return Gpt2Architecture::tensor_shapes(c);
  }

  // start(), prefill(), decode() and prompt_logits() come from DecoderOnly.

 private:
  struct Layer {
    Tensor norm1_g, norm1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
    Tensor norm2_g, norm2_b, fc_w, fc_b, proj_w, proj_b;
  };

  /// Token embeddings plus learned positions start .. start + len - 1.
  void embed(B& be, const IndexTensor& ids, Session& s, Activations& a, int len, int start) const {
    be.embedding_lookup(embed_, ids, a.x);
    be.add_positions(positions_, start, s.batch, len, a.x);
  }

  void run_layers(B& be, Session& s, Activations& a, int len, int start) const {
    AttentionDims dims = this->attention_dims(s, len, start);
    const CacheDims cache = Base::cache_dims(s, len, start);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      dims.scale = attention_scale(l);
      be.layer_norm(a.x, L.norm1_g, L.norm1_b, config_.norm_eps, a.h);
      be.linear(a.h, L.q_w, L.q_b, a.q);
      be.linear(a.h, L.k_w, L.k_b, a.k);
      be.linear(a.h, L.v_w, L.v_b, a.v);
      be.cache_write(a.k, cache, s.k_cache[l]);
      be.cache_write(a.v, cache, s.v_cache[l]);
      be.attention(a.q, s.k_cache[l], s.v_cache[l], none_, dims, a.context);
      be.linear(a.context, L.o_w, L.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2_g, L.norm2_b, config_.norm_eps, a.h);
      be.linear(a.h, L.fc_w, L.fc_b, a.ff);
      be.gelu_tanh(a.ff);
      be.linear(a.ff, L.proj_w, L.proj_b, a.h);
      be.add(a.h, a.x);
    }
    be.layer_norm(a.x, final_g_, final_b_, config_.norm_eps, a.h);
  }

  /// GPT2Attention.scaling of layer `l`: head_dim^-1/2 (1 without
  /// scale_attn_weights), divided by l + 1 with scale_attn_by_inverse_layer_idx;
  /// 0 (the backends' head_dim^-1/2) for the default.
  [[nodiscard]] float attention_scale(std::size_t l) const {
    if (config_.scale_attn_weights && !config_.scale_attn_by_inverse_layer_idx) return 0.0f;
    float scale = config_.scale_attn_weights ? 1.0f / std::sqrt(static_cast<float>(config_.effective_head_dim())) : 1.0f;
    if (config_.scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(l + 1);
    return scale;
  }

  /// The LM head: the token embedding, or lm_head.weight when untied.
  void head(B& be, const Tensor& hidden, Tensor& logits) const {
    be.linear(hidden, config_.tied_embeddings ? embed_ : lm_head_, none_, logits);
  }

  GenerativeConfig config_;
  Tensor embed_, positions_, final_g_, final_b_, lm_head_;
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/gpt2.hpp ----
// ---- begin accelbench/model/llama.hpp ----

// Llama, Qwen2 and Mistral as in Hugging Face transformers' LlamaForCausalLM,
// Qwen2ForCausalLM and MistralForCausalLM: RMSNorm, rotary positions,
// grouped-query attention and
// a SwiGLU MLP, with Llama's optional biases (attention_bias: q, k, v and
// o; mlp_bias: gate, up and down) and a head tied to the token embedding
// when tie_word_embeddings says so (and the checkpoint does not store a
// different one). Qwen2 is Llama with biases on the query, key and value
// projections only (qkv_bias) and sliding-window attention in the layers
// its configuration names; Mistral is Llama without biases, its attention
// sliding in every layer when sliding_window is set. Written once over the backend's
// GenerationOps, with the key-value cache and the prefill / decode steps of
// common/generation.hpp.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/common/rope_config.hpp ----

// The rotary embedding's parameters of a Llama, Qwen2 or Mistral
// config.json, read as transformers 5 reads them
// (RotaryEmbeddingConfigMixin in modeling_rope_utils.py), and the RotaryDims
// of a rotary call that a GenerativeConfig asks for.

#include <cmath>
#include <string>


namespace accelbench {

namespace detail {

/// rope_parameters, or the older rope_scaling, of config.json: rope_type
/// ("type" in older configs) "default", "linear" (factor), "dynamic"
/// (factor) or "llama3" (factor, low_freq_factor, high_freq_factor and
/// original_max_position_embeddings, which defaults to
/// max_position_embeddings), and rope_theta. As in transformers, a non-empty
/// rope_scaling stands for rope_parameters, and rope_theta at the top fills
/// in a rope_theta the object leaves out (default 10000). Every other type
/// ("yarn", "longrope", ...) and every other parameter is refused by name.
/// Reads max_position_embeddings' value from g.max_positions.
inline void read_rope_parameters(const HfConfigReader& c, GenerativeConfig& g) {
  const bool scaling = c.has("rope_scaling") && !(c.raw("rope_scaling").is_object() && c.raw("rope_scaling").empty());
  const bool parameters = c.has("rope_parameters");
  const bool top_theta = c.has("rope_theta");
  g.rope_theta = top_theta ? c.number("rope_theta") : 10000.0f;  // PreTrainedConfig's default_theta
  g.rope_scaling = RotaryScaling::none;
  if (!scaling && !parameters) return;
  const std::string key = scaling ? "rope_scaling" : "rope_parameters";
  const nlohmann::json& rp = c.raw(key);
  if (!rp.is_object()) c.fail(key, rp.dump(), "expected an object");
  std::string type = "default";
  for (const char* name : {"type", "rope_type"}) {  // rope_type wins where both are given
    if (!rp.contains(name)) continue;
    if (!rp[name].is_string()) c.fail(key + "." + name, rp[name].dump(), "expected a string");
    type = rp[name].get<std::string>();
  }
  if (type != "default" && type != "linear" && type != "llama3" && type != "dynamic") {
    c.fail(key + ".rope_type", "\"" + type + "\"",
           "only rope_type \"default\", \"linear\", \"dynamic\" and \"llama3\" are implemented");
  }
  auto number = [&](const char* name) {
    if (!rp.contains(name) || !rp[name].is_number()) {
      c.fail(key + "." + name, rp.contains(name) ? rp[name].dump() : "(missing)",
             "rope_type \"" + type + "\" needs a number");
    }
    return rp[name].get<float>();
  };
  for (const auto& [name, value] : rp.items()) {
    const bool known = name == "rope_type" || name == "type" || name == "rope_theta" ||
                       (type != "default" && name == "factor") ||
                       (type == "llama3" && (name == "low_freq_factor" || name == "high_freq_factor" ||
                                             name == "original_max_position_embeddings"));
    if (!known) {
      c.fail(key + "." + name, value.dump(), "not a parameter of rope_type \"" + type + "\" that is implemented");
    }
  }
  if (scaling && parameters && c.raw("rope_scaling") != c.raw("rope_parameters")) {
    c.fail("rope_scaling", c.raw("rope_scaling").dump(),
           "differs from rope_parameters (transformers takes rope_scaling and ignores rope_parameters)");
  }
  if (rp.contains("rope_theta")) {
    const float theta = number("rope_theta");
    if (top_theta && theta != g.rope_theta) {
      c.fail("rope_theta", c.raw("rope_theta").dump(), "differs from " + key + ".rope_theta (" + rp["rope_theta"].dump() + ")");
    }
    g.rope_theta = theta;
  }
  if (type == "default") return;
  g.rope_factor = number("factor");
  if (type == "linear" || type == "dynamic") {
    g.rope_scaling = type == "linear" ? RotaryScaling::linear : RotaryScaling::dynamic;
    return;
  }
  g.rope_scaling = RotaryScaling::llama3;
  g.rope_low_freq_factor = number("low_freq_factor");
  g.rope_high_freq_factor = number("high_freq_factor");
  g.rope_original_max_positions = g.max_positions;
  if (rp.contains("original_max_position_embeddings")) {
    const auto& v = rp["original_max_position_embeddings"];
    if (!v.is_number_integer()) c.fail(key + ".original_max_position_embeddings", v.dump(), "expected an integer");
    g.rope_original_max_positions = v.get<int>();
  }
}

/// Checks the rotary scaling's parameters of a configuration.
inline void validate_rope_parameters(const FieldCheck& check, const GenerativeConfig& c) {
  check.positive("rope_theta", c.rope_theta);
  if (c.rope_scaling == RotaryScaling::none) return;
  check.positive("rope_factor", c.rope_factor);
  if (c.rope_scaling != RotaryScaling::llama3) return;
  check.positive("rope_original_max_positions", c.rope_original_max_positions);
  if (!(c.rope_high_freq_factor > c.rope_low_freq_factor) || !(c.rope_low_freq_factor > 0.0f)) {
    check.fail("rope_high_freq_factor", std::to_string(c.rope_high_freq_factor),
               "must exceed rope_low_freq_factor (" + std::to_string(c.rope_low_freq_factor) + "), itself positive");
  }
}

}  // namespace detail

/// rope_type "dynamic" (NTK): the theta of the default frequencies for a
/// call whose last position is seq_len - 1. Within max_position_embeddings it
/// is rope_theta; past it, theta * (factor * seq_len / max - (factor - 1))
/// ^ (d / (d - 2)), in float as PyTorch evaluates transformers'
/// _compute_dynamic_ntk_parameters on its tensor seq_len. transformers grows
/// the frequencies with each longer call and keeps them, so one generation
/// from a fresh model (prefill, then each decode step's own length, the
/// cached keys keeping the angles they were written with) is what this
/// computes; a later call of transformers' model shorter than the longest it
/// has seen, yet past max_position_embeddings, would reuse the longer one's.
[[nodiscard]] inline float dynamic_rope_theta(const GenerativeConfig& c, int seq_len) noexcept {
  if (seq_len <= c.max_positions) return c.rope_theta;
  const int d = c.effective_head_dim();
  const float grown = static_cast<float>(seq_len) * static_cast<float>(c.rope_factor) /
                          static_cast<float>(c.max_positions) -
                      static_cast<float>(double(c.rope_factor) - 1.0);
  return c.rope_theta * std::pow(grown, static_cast<float>(double(d) / double(d - 2)));
}

/// The rotary call of `heads` heads over positions start .. start + len - 1
/// of a Llama, Qwen2 or Mistral configuration: its theta and scaling.
[[nodiscard]] inline RotaryDims rotary_dims(const GenerativeConfig& c, int batch, int len, int heads, int start) {
  const bool dynamic = c.rope_scaling == RotaryScaling::dynamic;
  return RotaryDims{.batch = batch,
                    .len = len,
                    .heads = heads,
                    .head_dim = c.effective_head_dim(),
                    .start = start,
                    .theta = dynamic ? dynamic_rope_theta(c, start + len) : c.rope_theta,
                    .scaling = dynamic ? RotaryScaling::none : c.rope_scaling,
                    .factor = c.rope_factor,
                    .low_freq_factor = c.rope_low_freq_factor,
                    .high_freq_factor = c.rope_high_freq_factor,
                    .original_max_positions = c.rope_original_max_positions};
}

}  // namespace accelbench
// ---- end accelbench/model/common/rope_config.hpp ----

namespace accelbench {

// ---- configuration ----

template <GenerationOps B>
class Llama;

/// LlamaForCausalLM, Qwen2ForCausalLM and MistralForCausalLM's entry in the list of generative
/// architectures (GenerativeArchitectures, model/generative.hpp): the
/// checkpoint model types it reads, its model class, and its configuration,
/// shape, FLOP and weight functions.
struct LlamaArchitecture : DecoderOnlyArchitecture {
  static constexpr std::string_view names = "llama, qwen2, mistral";
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept {
    return model_type == "llama" || model_type == "qwen2" || model_type == "mistral";
  }
  template <GenerationOps B>
  using Model = Llama<B>;

  /// Presets with the dimensions of the published checkpoints, and tiny
  /// ones for quick runs.
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    std::vector<GenerativeConfig> p;
    p.push_back({.name = "llama-tiny", .architecture = "llama", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .aliases = {}});
    p.push_back({.name = "tinyllama-1.1b", .architecture = "llama", .layers = 22, .hidden = 2048, .heads = 32,
                 .kv_heads = 4, .intermediate = 5632, .vocab_size = 32000, .max_positions = 2048,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f,
                 .aliases = {"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"}});
    p.push_back({.name = "llama-3.2-1b", .architecture = "llama", .layers = 16, .hidden = 2048, .heads = 32,
                 .kv_heads = 8, .head_dim = 64, .intermediate = 8192, .vocab_size = 128256, .max_positions = 131072,
                 .norm_eps = 1e-5f, .rope_theta = 500000.0f, .rope_scaling = RotaryScaling::llama3,
                 .rope_factor = 32.0f, .rope_low_freq_factor = 1.0f, .rope_high_freq_factor = 4.0f,
                 .rope_original_max_positions = 8192, .tied_embeddings = true, .aliases = {"meta-llama/Llama-3.2-1B"}});
    p.push_back({.name = "qwen2-0.5b", .architecture = "qwen2", .layers = 24, .hidden = 896, .heads = 14,
                 .kv_heads = 2, .intermediate = 4864, .vocab_size = 151936, .max_positions = 131072,
                 .norm_eps = 1e-6f, .rope_theta = 1000000.0f, .qkv_bias = true, .tied_embeddings = true,
                 .aliases = {"Qwen/Qwen2-0.5B"}});
    // Qwen2's features (q/k/v biases, grouped-query attention, tied head,
    // theta 1e6) at llama-tiny's scale, for quick runs of the architecture.
    p.push_back({.name = "qwen2-tiny", .architecture = "qwen2", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 4096,
                 .norm_eps = 1e-6f, .rope_theta = 1000000.0f, .qkv_bias = true, .tied_embeddings = true,
                 .aliases = {}});
    p.push_back({.name = "mistral-7b", .architecture = "mistral", .layers = 32, .hidden = 4096, .heads = 32,
                 .kv_heads = 8, .intermediate = 14336, .vocab_size = 32000, .max_positions = 32768,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .sliding_window = 4096,
                 .aliases = {"mistralai/Mistral-7B-v0.1"}});
    // Mistral's features (grouped-query attention, a sliding window in every
    // layer) at llama-tiny's scale, the window shorter than long runs.
    p.push_back({.name = "mistral-tiny", .architecture = "mistral", .layers = 4, .hidden = 256, .heads = 8,
                 .kv_heads = 2, .intermediate = 704, .vocab_size = 32000, .max_positions = 4096,
                 .norm_eps = 1e-5f, .rope_theta = 10000.0f, .sliding_window = 128,
                 .aliases = {}});
    return p;
  }

  /// The fields of a Llama, Qwen2 or Mistral config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "\"llama\", \"qwen2\" or \"mistral\""),
            F::read("hidden_act", "the MLP activation; only SwiGLU with SiLU (\"silu\") is implemented"),
            F::read("num_hidden_layers", "layers"),
            F::read("hidden_size", "width"),
            F::read("num_attention_heads", "attention heads"),
            F::read("num_key_value_heads", "key-value heads (grouped-query attention)"),
            F::read("head_dim", "width of a head (default hidden_size / num_attention_heads)"),
            F::read("intermediate_size", "MLP width"),
            F::read("vocab_size", "rows of the token embedding"),
            F::read("max_position_embeddings", "longest sequence"),
            F::read("rms_norm_eps", "RMS norm epsilon"),
            F::read("rope_parameters", "rotary embedding: rope_type \"default\", \"linear\" (factor), \"dynamic\" (factor; NTK, past max_position_embeddings) or \"llama3\" (factor, low_freq_factor, high_freq_factor, original_max_position_embeddings) with rope_theta; other types and parameters refused"),
            F::read("rope_theta", "rotary base of older configs (default 10000); must agree with rope_parameters where both are given"),
            F::read("rope_scaling", "older configs' rope_parameters (\"type\" for rope_type), as rope_parameters; where both are given they must agree"),
            F::read("tie_word_embeddings", "the head is the token embedding, or lm_head.weight (a stored head that differs unties it)"),
            F::read("use_sliding_window", "Qwen2: sliding-window attention in the layers layer_types or max_window_layers name (Llama: only false; Mistral ignores it)"),
            F::read("sliding_window", "Qwen2 and Mistral: the positions a query sees in a sliding layer, its own included (Mistral: every layer; null: none; absent: 4096)"),
            F::read("max_window_layers", "Qwen2 without layer_types: layers from this one on slide (default 28)"),
            F::read("layer_types", "Qwen2: each layer's attention, \"full_attention\" or \"sliding_attention\" (Llama: full only; Mistral: as sliding_window says)"),
            F::read("attention_bias", "Llama: biases on the q, k, v and o projections (Qwen2 has q, k and v biases always, Mistral none)"),
            F::read("mlp_bias", "Llama: biases on the gate, up and down projections (Qwen2 and Mistral have none)"),
            F::no_effect("pretraining_tp", "older transformers split the projections into slices; the same products")};
  }

  /// The fields of a Llama, Qwen2 or Mistral config.json (model_type
  /// "llama", "qwen2" or "mistral"). Qwen2's difference: q/k/v biases
  /// always, no other biases, sliding-window layers; Mistral's: no biases, a
  /// sliding window in every layer.
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const bool qwen2 = g.architecture == "qwen2";
    const bool mistral = g.architecture == "mistral";
    (void)detail::read_activation(c, "hidden_act", "silu", "the SwiGLU MLP", {Activation::silu});
    g.layers = c.integer("num_hidden_layers");
    read_sliding_window(c, g);
    g.hidden = c.integer("hidden_size");
    g.heads = c.integer("num_attention_heads");
    g.kv_heads = c.integer("num_key_value_heads", g.heads);
    g.head_dim = c.integer("head_dim", 0);
    g.intermediate = c.integer("intermediate_size");
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("max_position_embeddings");
    g.norm_eps = c.number("rms_norm_eps", 1e-6f);
    // transformers 5 moved rope_theta into rope_parameters; older configs
    // give it at the top, and the scaling as rope_scaling.
    detail::read_rope_parameters(c, g);
    // Qwen2 and Mistral read neither: Qwen2's q, k and v projections always
    // have biases, its o and MLP projections never, and Mistral has none (as
    // in transformers' Qwen2 and Mistral classes).
    if (qwen2 || mistral) {
      (void)c.has("attention_bias");
      (void)c.has("mlp_bias");
    }
    g.qkv_bias = qwen2 ? true : (mistral ? false : c.boolean("attention_bias", false));
    g.attention_output_bias = qwen2 || mistral ? false : g.qkv_bias;
    g.mlp_bias = qwen2 || mistral ? false : c.boolean("mlp_bias", false);
    g.tied_embeddings = c.boolean("tie_word_embeddings", false);  // LlamaConfig's and Qwen2Config's default
  }

  /// The sliding window of a config.json with num_hidden_layers read, by
  /// transformers' rules. Qwen2Config: the window only with
  /// use_sliding_window, in the layers layer_types calls "sliding_attention",
  /// or without layer_types in the layers from max_window_layers on.
  /// MistralConfig: sliding_window (default 4096, null: none) in every layer;
  /// MistralForCausalLM ignores layer_types, which must then agree.
  /// LlamaForCausalLM has no sliding window.
  static void read_sliding_window(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const bool qwen2 = g.architecture == "qwen2";
    const bool mistral = g.architecture == "mistral";
    const bool use = qwen2 ? c.boolean("use_sliding_window", false) : false;
    if (!qwen2 && !mistral && c.boolean("use_sliding_window", false)) {
      c.fail("use_sliding_window", "true", "Llama has no sliding-window attention");
    }
    if (mistral) (void)c.has("use_sliding_window");  // MistralConfig has no such field
    int window = 0;
    if ((qwen2 && use) || mistral) {
      window = c.present("sliding_window") ? c.integer("sliding_window", 0) : 4096;
      if (c.has("sliding_window") && window <= 0) {
        c.fail("sliding_window", std::to_string(window), "must be positive (a query sees its own position)");
      }
    } else {
      (void)c.has("sliding_window");  // Qwen2 without use_sliding_window, Llama: no effect
    }
    const int first_sliding = qwen2 ? c.integer("max_window_layers", 28) : 0;
    if (!qwen2) (void)c.has("max_window_layers");
    std::vector<bool> slides(static_cast<std::size_t>(std::max(g.layers, 0)), false);
    for (int l = 0; l < g.layers; ++l) slides[std::size_t(l)] = window > 0 && (mistral || l >= first_sliding);
    if (c.has("layer_types")) {
      const auto& types = c.raw("layer_types");
      if (!types.is_array()) c.fail("layer_types", types.dump(), "expected an array of strings");
      if (static_cast<int>(types.size()) != g.layers) {
        c.fail("layer_types", types.dump(), "expected one entry per layer (" + std::to_string(g.layers) + ")");
      }
      for (std::size_t l = 0; l < types.size(); ++l) {
        const std::string key = "layer_types[" + std::to_string(l) + "]";
        const bool full = types[l] == "full_attention";
        const bool sliding = types[l] == "sliding_attention";
        if (!full && !sliding) {
          c.fail(key, types[l].dump(), "only \"full_attention\" and \"sliding_attention\" are implemented");
        }
        if (!qwen2 && sliding != slides[l]) {
          c.fail(key, types[l].dump(),
                 mistral ? "MistralForCausalLM ignores layer_types: its layers all slide when sliding_window is set"
                         : "Llama has no sliding-window attention");
        }
        if (qwen2 && sliding && window == 0) {
          c.fail(key, types[l].dump(), "a sliding layer needs use_sliding_window and a sliding_window");
        }
        slides[l] = sliding;
      }
    }
    g.sliding_window = 0;
    g.sliding_layers.clear();
    for (int l = 0; l < g.layers; ++l) {
      if (slides[std::size_t(l)]) g.sliding_layers.push_back(l);
    }
    if (g.sliding_layers.empty()) return;  // no layer slides: full attention
    g.sliding_window = window;
    if (static_cast<int>(g.sliding_layers.size()) == g.layers) g.sliding_layers.clear();  // every layer
  }

  /// Checks that a configuration describes a Llama, Qwen2 or Mistral that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"llama", "qwen2", "mistral"}, "Llama's, Qwen2's or Mistral");
    check.positive("max_positions", c.max_positions);
    if (c.effective_head_dim() % 2 != 0) {
      check.fail("head_dim", std::to_string(c.effective_head_dim()), "must be even for rotary embeddings");
    }
    detail::validate_rope_parameters(check, c);
    if (c.architecture == "qwen2") {
      if (c.attention_output_bias || c.mlp_bias) {
        check.fail(c.mlp_bias ? "mlp_bias" : "attention_output_bias", "true", "Qwen2 has biases on q, k and v only");
      }
    } else if (c.architecture == "mistral") {
      if (c.qkv_bias || c.attention_output_bias || c.mlp_bias) {
        check.fail(c.mlp_bias ? "mlp_bias" : (c.qkv_bias ? "qkv_bias" : "attention_output_bias"), "true",
                   "Mistral has no biases");
      }
    } else if (c.attention_output_bias != c.qkv_bias) {
      check.fail("attention_output_bias", c.attention_output_bias ? "true" : "false",
                 "Llama's attention_bias puts biases on q, k, v and o alike (qkv_bias is " +
                     std::string(c.qkv_bias ? "true" : "false") + ")");
    }
    detail::reject_foreign_feature(check, "scale_attn_weights", c.scale_attn_weights, true, "GPT-2");
    detail::reject_foreign_feature(check, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, false, "GPT-2");
    detail::reject_foreign_feature(check, "scale_decoder_outputs", c.scale_decoder_outputs, true, "T5");
    if (c.architecture == "llama" && c.sliding_window != 0) {
      check.fail("sliding_window", std::to_string(c.sliding_window), "Llama has no sliding-window attention");
    }
  }

  // ---- tensor names and shapes ----

  /// LlamaForCausalLM's (Qwen2ForCausalLM's, MistralForCausalLM's) tensors.
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index aw = c.attention_width();
    const Eigen::Index kvw = c.kv_width();
    const Eigen::Index i = c.intermediate;
    const Eigen::Index v = c.vocab_size;
    s.push_back({"model.embed_tokens.weight", {v, h}});
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      s.push_back({p + "input_layernorm.weight", {1, h}});
      s.push_back({p + "self_attn.q_proj.weight", {aw, h}});
      s.push_back({p + "self_attn.k_proj.weight", {kvw, h}});
      s.push_back({p + "self_attn.v_proj.weight", {kvw, h}});
      if (c.qkv_bias) {
        s.push_back({p + "self_attn.q_proj.bias", {1, aw}});
        s.push_back({p + "self_attn.k_proj.bias", {1, kvw}});
        s.push_back({p + "self_attn.v_proj.bias", {1, kvw}});
      }
      s.push_back({p + "self_attn.o_proj.weight", {h, aw}});
      if (c.attention_output_bias) s.push_back({p + "self_attn.o_proj.bias", {1, h}});
      s.push_back({p + "post_attention_layernorm.weight", {1, h}});
      s.push_back({p + "mlp.gate_proj.weight", {i, h}});
      s.push_back({p + "mlp.up_proj.weight", {i, h}});
      s.push_back({p + "mlp.down_proj.weight", {h, i}});
      if (c.mlp_bias) {
        s.push_back({p + "mlp.gate_proj.bias", {1, i}});
        s.push_back({p + "mlp.up_proj.bias", {1, i}});
        s.push_back({p + "mlp.down_proj.bias", {1, h}});
      }
    }
    s.push_back({"model.norm.weight", {1, h}});
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
    return s;
  }

  /// Generating `new_tokens` after a `prompt` for `batch` sequences (see
  /// GenerativeConfig::generation_flops): SwiGLU's three MLP matrices.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    return detail::decoder_only_flops(c, batch, prompt, new_tokens, 3.0);
  }

  // ---- weights ----

  /// Synthetic weights: the RMSNorms' scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"norm"}); }

  /// The tensors of a Llama, Qwen2 or Mistral checkpoint that the model leaves out.
  [[nodiscard]] static UnusedTensors unused_tensors() {
    return {unused_suffix("rotary_emb.inv_freq",
                          "the rotary frequencies older checkpoints store; computed from the rope parameters")};
  }

  /// A checkpoint's tensors, the rotary inverse frequencies dropped.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class Llama : public DecoderOnly<Llama<B>, B> {
  using Base = DecoderOnly<Llama<B>, B>;
  friend Base;

 public:
  using Config = GenerativeConfig;
  using typename Base::Activations;
  using typename Base::IndexTensor;
  using typename Base::Session;
  using typename Base::Tensor;
  static constexpr std::string_view model_name = "Llama";

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// the token embedding is untied, as transformers does
  /// (config().tied_embeddings says so).
  Llama(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    LlamaArchitecture::validate_config(config_);
    if (config_.tied_embeddings) {
      config_.tied_embeddings = resolve_tied_head(weights, "model.embed_tokens.weight", "lm_head.weight");
    }
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index kvw = config_.kv_width();
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    embed_ = take("model.embed_tokens.weight", config_.vocab_size, h);
    layers_.resize(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<std::size_t>(l)];
      L.norm1 = take(p + "input_layernorm.weight", 1, h);
      L.q_w = take(p + "self_attn.q_proj.weight", aw, h);
      L.k_w = take(p + "self_attn.k_proj.weight", kvw, h);
      L.v_w = take(p + "self_attn.v_proj.weight", kvw, h);
      if (config_.qkv_bias) {
        L.q_b = take(p + "self_attn.q_proj.bias", 1, aw);
        L.k_b = take(p + "self_attn.k_proj.bias", 1, kvw);
        L.v_b = take(p + "self_attn.v_proj.bias", 1, kvw);
      }
      L.o_w = take(p + "self_attn.o_proj.weight", h, aw);
      if (config_.attention_output_bias) L.o_b = take(p + "self_attn.o_proj.bias", 1, h);
      L.norm2 = take(p + "post_attention_layernorm.weight", 1, h);
      // Gate and up projections as one [2i, h] matrix: one product, then swiglu.
      HostMatrix gate_up(2 * i, h);
      gate_up.topRows(i) = take.host(p + "mlp.gate_proj.weight", i, h);
      gate_up.bottomRows(i) = take.host(p + "mlp.up_proj.weight", i, h);
      L.gate_up_w = take.upload(gate_up);
      L.down_w = take(p + "mlp.down_proj.weight", h, i);
      if (config_.mlp_bias) {
        HostMatrix gate_up_b(1, 2 * i);
        gate_up_b.leftCols(i) = take.host(p + "mlp.gate_proj.bias", 1, i);
        gate_up_b.rightCols(i) = take.host(p + "mlp.up_proj.bias", 1, i);
        L.gate_up_b = take.upload(gate_up_b);
        L.down_b = take(p + "mlp.down_proj.bias", 1, h);
      }
    }
    final_g_ = take("model.norm.weight", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    take.finish(model_name);
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return LlamaArchitecture::tensor_shapes(c);
  }

  // start(), prefill(), decode() and prompt_logits() come from DecoderOnly.

 private:
  struct Layer {
    Tensor norm1, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;  // biases empty where the configuration has none
    Tensor norm2, gate_up_w, gate_up_b, down_w, down_b;
  };

  /// Token embeddings; positions enter through the rotary embedding.
  void embed(B& be, const IndexTensor& ids, Session&, Activations& a, int, int) const {
    be.embedding_lookup(embed_, ids, a.x);
  }

  void run_layers(B& be, Session& s, Activations& a, int len, int start) const {
    AttentionDims dims = this->attention_dims(s, len, start);
    const CacheDims cache = Base::cache_dims(s, len, start);
    const RotaryDims q_rotary = rotary_dims(config_, s.batch, len, config_.heads, start);
    const RotaryDims k_rotary = rotary_dims(config_, s.batch, len, config_.effective_kv_heads(), start);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& L = layers_[l];
      dims.window = config_.attention_window(static_cast<int>(l));  // over cache positions
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.q_w, L.q_b, a.q);
      be.linear(a.h, L.k_w, L.k_b, a.k);
      be.linear(a.h, L.v_w, L.v_b, a.v);
      be.rotary(a.q, q_rotary);
      be.rotary(a.k, k_rotary);
      be.cache_write(a.k, cache, s.k_cache[l]);
      be.cache_write(a.v, cache, s.v_cache[l]);
      be.attention(a.q, s.k_cache[l], s.v_cache[l], none_, dims, a.context);
      be.linear(a.context, L.o_w, L.o_b, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      be.linear(a.h, L.gate_up_w, L.gate_up_b, a.gate_up);
      be.swiglu(a.gate_up, a.ff);
      be.linear(a.ff, L.down_w, L.down_b, a.h);
      be.add(a.h, a.x);
    }
    be.rms_norm(a.x, final_g_, config_.norm_eps, a.h);
  }

  void head(B& be, const Tensor& hidden, Tensor& logits) const {
    be.linear(hidden, config_.tied_embeddings ? embed_ : lm_head_, none_, logits);
  }

  GenerativeConfig config_;
  Tensor embed_, final_g_, lm_head_;
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/llama.hpp ----
// ---- begin accelbench/model/t5.hpp ----

// T5 (Raffel et al., 2020) as in Hugging Face transformers'
// T5ForConditionalGeneration: pre-norm blocks with T5's layer norm (RMS, no
// bias), relative position bias shared by the layers of each stack, unscaled
// attention scores, ReLU feed-forward or T5 v1.1's gated GELU one
// (feed_forward_proj "gated-gelu"), cross-attention over the encoder's
// output, and the LM head: the shared embedding unless the checkpoint stores
// a different lm_head.weight, the decoder's output scaled by d_model^-1/2
// first unless scale_decoder_outputs is false (T5 v1.1). Written once over
// the backend's GenerationOps; the decoder keeps a key-value cache.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace accelbench {

// ---- configuration ----

template <GenerationOps B>
class T5;

/// T5ForConditionalGeneration's entry in the list of generative architectures
/// (GenerativeArchitectures, model/generative.hpp): the checkpoint model
/// types it reads, its model class, and its configuration, shape, FLOP and
/// weight functions.
struct T5Architecture {
  static constexpr std::string_view names = "t5";
  static constexpr bool encoder_decoder = true;
  [[nodiscard]] static bool reads(std::string_view model_type) noexcept { return model_type == "t5"; }
  template <GenerationOps B>
  using Model = T5<B>;

  /// The presets with the dimensions of the published checkpoints: T5 and
  /// Flan-T5 (T5 v1.1's gated GELU feed-forward and separate, unscaled head).
  [[nodiscard]] static std::vector<GenerativeConfig> presets() {
    return {{.name = "t5-small", .architecture = "t5", .layers = 6, .decoder_layers = 6, .hidden = 512,
             .heads = 8, .head_dim = 64, .intermediate = 2048, .vocab_size = 32128, .max_positions = 0,
             .norm_eps = 1e-6f, .tied_embeddings = true, .relative_buckets = 32, .relative_max_distance = 128,
             .decoder_start_token = 0, .aliases = {"google-t5/t5-small"}},
            {.name = "flan-t5-small", .architecture = "t5", .layers = 8, .decoder_layers = 8, .hidden = 512,
             .heads = 6, .head_dim = 64, .intermediate = 1024, .vocab_size = 32128, .max_positions = 0,
             .norm_eps = 1e-6f, .tied_embeddings = false, .scale_decoder_outputs = false, .gated_gelu = true,
             .relative_buckets = 32, .relative_max_distance = 128, .decoder_start_token = 0,
             .aliases = {"google/flan-t5-small"}}};
  }

  /// The fields of a T5 config.json (besides common_config_fields()).
  [[nodiscard]] static ConfigFields config_fields() {
    using F = ConfigField;
    return {F::read("model_type", "must be \"t5\""),
            F::read("feed_forward_proj", "the feed-forward: \"relu\" (T5) or \"gated-gelu\" (T5 v1.1, Flan-T5: "
                                         "gelu_new(wi_0 x) * wi_1 x); other activations are refused"),
            F::read("num_layers", "encoder layers"),
            F::read("num_decoder_layers", "decoder layers (default num_layers)"),
            F::read("d_model", "width"),
            F::read("num_heads", "attention heads"),
            F::read("d_kv", "width of a head"),
            F::read("d_ff", "feed-forward width"),
            F::read("vocab_size", "rows of the shared embedding"),
            F::read("layer_norm_epsilon", "RMS norm epsilon"),
            F::read("relative_attention_num_buckets", "relative position buckets"),
            F::read("relative_attention_max_distance", "largest distance the buckets tell apart"),
            F::read("decoder_start_token_id", "the first decoder token"),
            F::read("tie_word_embeddings", "the default of scale_decoder_outputs (transformers 5 ties T5's head either way; "
                                           "a stored lm_head.weight that differs unties it)"),
            F::read("scale_decoder_outputs", "the decoder output scaled by d_model^-0.5 before the head, or not"),
            F::no_effect("is_decoder", "T5ForConditionalGeneration sets it for each of its stacks itself"),
            F::no_effect("n_positions", "older configs' maximum length; T5's relative positions have none"),
            F::no_effect("is_encoder_decoder", "T5ForConditionalGeneration is an encoder-decoder either way"),
            F::no_effect("dense_act_fn", "derived by transformers from feed_forward_proj, which is read"),
            F::no_effect("is_gated_act", "derived by transformers from feed_forward_proj, which is read")};
  }

  /// The fields of a T5 config.json (model_type "t5"). transformers 5 ties
  /// T5's head whatever tie_word_embeddings says (T5Config sets it to true);
  /// the field only gives scale_decoder_outputs its default, for configs
  /// written before that field existed. A checkpoint that stores its own
  /// lm_head.weight unties the head when the model is built.
  static void read_config(const detail::HfConfigReader& c, GenerativeConfig& g) {
    const std::string ff = c.text("feed_forward_proj", "relu");  // "ACT" or "gated-ACT"; T5Config: gated-gelu is gelu_new
    const auto act = detail::activation_named(ff == "gated-gelu" ? "gelu_new" : ff.substr(ff.starts_with("gated-") ? 6 : 0));
    g.gated_gelu = ff.starts_with("gated-");
    if (act != (g.gated_gelu ? Activation::gelu_tanh : Activation::relu)) {
      c.fail("feed_forward_proj", "\"" + ff + "\"", "only \"relu\" and \"gated-gelu\" feed-forwards are implemented");
    }
    g.layers = c.integer("num_layers");
    g.decoder_layers = c.integer("num_decoder_layers", g.layers);
    g.hidden = c.integer("d_model");
    g.heads = c.integer("num_heads");
    g.head_dim = c.integer("d_kv");
    g.intermediate = c.integer("d_ff");
    g.vocab_size = c.integer("vocab_size");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-6f);
    g.relative_buckets = c.integer("relative_attention_num_buckets", 32);
    g.relative_max_distance = c.integer("relative_attention_max_distance", 128);
    g.decoder_start_token = c.integer("decoder_start_token_id", 0);
    g.scale_decoder_outputs = c.boolean("scale_decoder_outputs", c.boolean("tie_word_embeddings", true));
    g.tied_embeddings = true;
  }

  /// Checks that a configuration describes a T5 that can be built.
  static void validate_config(const GenerativeConfig& c) {
    const auto check = detail::FieldCheck::of_model(c.name);
    detail::validate_generative_dims(check, c, {"t5"}, "T5");
    check.positive("decoder_layers", c.decoder_layers);
    check.positive("relative_buckets", c.relative_buckets);
    check.positive("relative_max_distance", c.relative_max_distance);
    if (c.relative_buckets < 4) check.fail("relative_buckets", std::to_string(c.relative_buckets), "must be at least 4");
    detail::reject_foreign_feature(check, "qkv_bias", c.qkv_bias, false, "Qwen2's and Llama");
    detail::reject_foreign_feature(check, "attention_output_bias", c.attention_output_bias, false, "Llama");
    detail::reject_foreign_feature(check, "mlp_bias", c.mlp_bias, false, "Llama");
    detail::reject_foreign_feature(check, "scale_attn_weights", c.scale_attn_weights, true, "GPT-2");
    detail::reject_foreign_feature(check, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, false, "GPT-2");
  }

  // ---- tensor names and shapes ----

  /// T5ForConditionalGeneration's tensors; the relative position bias is the
  /// first layer's of each stack.
  static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    TensorShapes s;
    const Eigen::Index h = c.hidden;
    const Eigen::Index aw = c.attention_width();
    const Eigen::Index i = c.intermediate;
    const Eigen::Index v = c.vocab_size;
    s.push_back({"shared.weight", {v, h}});
    const auto attention = [&](const std::string& p) {
      s.push_back({p + "q.weight", {aw, h}});
      s.push_back({p + "k.weight", {aw, h}});
      s.push_back({p + "v.weight", {aw, h}});
      s.push_back({p + "o.weight", {h, aw}});
    };
    const auto feed_forward = [&](const std::string& p) {
      if (c.gated_gelu) s.push_back({p + "wi_0.weight", {i, h}});
      s.push_back({p + (c.gated_gelu ? "wi_1.weight" : "wi.weight"), {i, h}});
      s.push_back({p + "wo.weight", {h, i}});
    };
    for (int l = 0; l < c.layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
      attention(p + "0.SelfAttention.");
      if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {c.relative_buckets, c.heads}});
      s.push_back({p + "0.layer_norm.weight", {1, h}});
      feed_forward(p + "1.DenseReluDense.");
      s.push_back({p + "1.layer_norm.weight", {1, h}});
    }
    s.push_back({"encoder.final_layer_norm.weight", {1, h}});
    for (int l = 0; l < c.decoder_layers; ++l) {
      const std::string p = "decoder.block." + std::to_string(l) + ".layer.";
      attention(p + "0.SelfAttention.");
      if (l == 0) s.push_back({p + "0.SelfAttention.relative_attention_bias.weight", {c.relative_buckets, c.heads}});
      s.push_back({p + "0.layer_norm.weight", {1, h}});
      attention(p + "1.EncDecAttention.");
      s.push_back({p + "1.layer_norm.weight", {1, h}});
      feed_forward(p + "2.DenseReluDense.");
      s.push_back({p + "2.layer_norm.weight", {1, h}});
    }
    s.push_back({"decoder.final_layer_norm.weight", {1, h}});
    if (!c.tied_embeddings) s.push_back({"lm_head.weight", {v, h}});
    return s;
  }

  /// Encoding a `prompt` for `batch` sequences and generating `new_tokens`
  /// (see GenerativeConfig::generation_flops): the encoder, the cross keys
  /// and values once, then each decoder step with its cross-attention.
  [[nodiscard]] static double generation_flops(const GenerativeConfig& c, int batch, int prompt,
                                               int new_tokens) noexcept {
    const double b = batch;
    const double h = c.hidden;
    const double aw = static_cast<double>(c.attention_width());
    const double kvw = static_cast<double>(c.kv_width());
    const double ff_matrices = c.gated_gelu ? 3.0 : 2.0;
    const double layer_weights = h * aw * 2.0 + h * kvw * 2.0 + ff_matrices * h * c.intermediate;
    const double head = 2.0 * b * h * c.vocab_size;
    const double p = prompt;
    double total = c.layers * (2.0 * b * p * layer_weights + 4.0 * b * p * p * aw);  // encoder
    total += c.decoder_layers * 2.0 * b * p * 2.0 * h * aw;                         // cross keys and values
    const double dec_weights = layer_weights + 2.0 * h * aw;                         // + cross queries and output
    for (int t = 0; t < new_tokens; ++t) {
      const double ctx = t + 1.0;
      total += c.decoder_layers * (2.0 * b * dec_weights + 4.0 * b * ctx * aw + 4.0 * b * p * aw) + head;
    }
    return total;
  }

  /// Bytes of the decoder's key-value cache of `batch` sequences of up to
  /// `capacity` tokens, plus the cross-attention keys and values of
  /// `encoder_len` tokens.
  [[nodiscard]] static std::uint64_t kv_cache_bytes(const GenerativeConfig& c, int batch, int capacity,
                                                    int encoder_len) noexcept {
    std::uint64_t floats = detail::self_attention_cache_floats(batch, capacity, c.kv_width(), c.decoder_layers);
    floats += 2u * static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(encoder_len) *
              static_cast<std::uint64_t>(c.attention_width()) * static_cast<std::uint64_t>(c.decoder_layers);
    return floats * sizeof(float);
  }

  // ---- weights ----

  /// Synthetic weights: the layer norms' scales near one.
  [[nodiscard]] static bool is_scale(std::string_view name) { return name_contains_any(name, {"layer_norm"}); }

  /// The tensors of a T5 checkpoint that the model leaves out: none (the
  /// stacks' copies of shared.weight must equal it).
  [[nodiscard]] static UnusedTensors unused_tensors() { return {}; }

  /// A checkpoint's tensors, under the names they are stored with.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir) {
    return checkpoint_tensors(dir, {}, unused_tensors());
  }
};

// ---- forward entry points ----

template <GenerationOps B>
class T5 {
 public:
  using Config = GenerativeConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  struct Activations {
    Tensor x, h, q, k, v, context, gate, ff, bias, logits;
  };

  /// One batch being generated: the encoder's input and output, the cross
  /// keys and values, the decoder's cache.
  struct Session : EncoderDecoderCache<B> {
    int batch = 0;
    int input_len = 0;
    int capacity = 0;  ///< decoder positions
    int length = 0;    ///< decoder positions in the cache
    IndexTensor input_ids;
    IndexTensor next_ids;   ///< greedy choice of the last step, the next step's input
    Tensor encoder_out;    ///< [batch * input_len, hidden]
    Activations enc, dec;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them. A tied head that the weights store with other values than
  /// shared.weight is untied, as transformers does (config().tied_embeddings
  /// says so); the stacks' embed_tokens copies must equal shared.weight.
  T5(B& backend, GenerativeConfig config, WeightMap weights) : config_(std::move(config)) {
    T5Architecture::validate_config(config_);
    for (const char* copy : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
      if (!resolve_tied_head(weights, "shared.weight", copy)) {
        throw std::invalid_argument(std::string("T5: ") + copy +
                                    " differs from shared.weight: separate embeddings per stack are not implemented");
      }
    }
    if (config_.tied_embeddings) config_.tied_embeddings = resolve_tied_head(weights, "shared.weight", "lm_head.weight");
    const Eigen::Index h = config_.hidden;
    const Eigen::Index aw = config_.attention_width();
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    // The gated feed-forward's wi_0 and wi_1 as one [2i, h] matrix (one product, then geglu_tanh).
    auto wi = [&](const std::string& p) {
      if (!config_.gated_gelu) return take(p + "wi.weight", i, h);
      HostMatrix both(2 * i, h);
      both.topRows(i) = take.host(p + "wi_0.weight", i, h);
      both.bottomRows(i) = take.host(p + "wi_1.weight", i, h);
      return take.upload(both);
    };
    auto attention = [&](const std::string& p) {
      Attention a;
      a.q = take(p + "q.weight", aw, h);
      a.k = take(p + "k.weight", aw, h);
      a.v = take(p + "v.weight", aw, h);
      a.o = take(p + "o.weight", h, aw);
      return a;
    };
    shared_ = take("shared.weight", config_.vocab_size, h);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.block." + std::to_string(l) + ".layer.";
      EncoderLayer L;
      L.self = attention(p + "0.SelfAttention.");
      if (l == 0) enc_bias_ = take(p + "0.SelfAttention.relative_attention_bias.weight", config_.relative_buckets, config_.heads);
      L.norm1 = take(p + "0.layer_norm.weight", 1, h);
      L.wi = wi(p + "1.DenseReluDense.");
      L.wo = take(p + "1.DenseReluDense.wo.weight", h, i);
      L.norm2 = take(p + "1.layer_norm.weight", 1, h);
      encoder_.push_back(std::move(L));
    }
    enc_final_ = take("encoder.final_layer_norm.weight", 1, h);
    for (int l = 0; l < config_.decoder_layers; ++l) {
      const std::string p = "decoder.block." + std::to_string(l) + ".layer.";
      DecoderLayer L;
      L.self = attention(p + "0.SelfAttention.");
      if (l == 0) dec_bias_ = take(p + "0.SelfAttention.relative_attention_bias.weight", config_.relative_buckets, config_.heads);
      L.norm1 = take(p + "0.layer_norm.weight", 1, h);
      L.cross = attention(p + "1.EncDecAttention.");
      L.norm2 = take(p + "1.layer_norm.weight", 1, h);
      L.wi = wi(p + "2.DenseReluDense.");
      L.wo = take(p + "2.DenseReluDense.wo.weight", h, i);
      L.norm3 = take(p + "2.layer_norm.weight", 1, h);
      decoder_.push_back(std::move(L));
    }
    dec_final_ = take("decoder.final_layer_norm.weight", 1, h);
    if (!config_.tied_embeddings) lm_head_ = take("lm_head.weight", config_.vocab_size, h);
    take.finish("T5");
  }

  [[nodiscard]] const GenerativeConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const GenerativeConfig& c) {
    return T5Architecture::tensor_shapes(c);
  }

  /// A session for `batch` encoder inputs of `input_len` tokens with room
  /// for `max_new_tokens` decoder steps.
  [[nodiscard]] Session start(B& be, std::span<const std::int32_t> input_ids, int batch, int input_len,
                              int max_new_tokens) const {
    detail::check_token_batch(config_.name, input_ids.size(), batch, input_len);
    if (max_new_tokens < 1) throw std::invalid_argument("T5: max_new_tokens must be at least 1");
    Session s;
    s.batch = batch;
    s.input_len = input_len;
    s.capacity = max_new_tokens;
    s.input_ids = be.upload_indices(input_ids);
    s.allocate(be, config_.decoder_layers, batch, s.capacity, config_.attention_width(), config_.decoder_start_token);
    return s;
  }

  /// Encodes the input, computes every decoder layer's cross keys and
  /// values, and runs the first decoder step from the start token.
  void prefill(B& be, Session& s) const {
    encode(be, s);
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      be.linear(s.encoder_out, decoder_[l].cross.k, none_, s.cross_k[l]);
      be.linear(s.encoder_out, decoder_[l].cross.v, none_, s.cross_v[l]);
    }
    s.length = 0;
    step(be, s, s.start_ids);
  }

  /// Feeds s.next_ids and chooses the next tokens (logits in s.dec.logits).
  void decode(B& be, Session& s) const { step(be, s, s.next_ids); }

  /// The encoder alone: s.encoder_out gets its final hidden states.
  void encode(B& be, Session& s) const {
    Activations& a = s.enc;
    be.embedding_lookup(shared_, s.input_ids, a.x);
    be.relative_position_bias(enc_bias_,
                              RelativeBiasDims{s.input_len, s.input_len, 0, true, config_.relative_buckets,
                                               config_.relative_max_distance},
                              a.bias);
    const AttentionDims dims{.batch = s.batch,
                             .query_len = s.input_len,
                             .key_len = s.input_len,
                             .heads = config_.heads,
                             .head_dim = config_.effective_head_dim(),
                             .scale = 1.0f};
    for (const EncoderLayer& L : encoder_) {
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q, none_, a.q);
      be.linear(a.h, L.self.k, none_, a.k);
      be.linear(a.h, L.self.v, none_, a.v);
      be.attention(a.q, a.k, a.v, none_, a.bias, dims, a.context);
      be.linear(a.context, L.self.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      feed_forward(be, a, L.wi, L.wo);
    }
    be.rms_norm(a.x, enc_final_, config_.norm_eps, s.encoder_out);
  }

  /// Teacher-forced decoder pass over `decoder_ids` ([batch, len], from
  /// position 0) after prefill's encoder: `hidden` gets the final-normed
  /// decoder states and `logits` the LM head's output for every position.
  void decode_sequence(B& be, Session& s, std::span<const std::int32_t> decoder_ids, int len, Tensor& hidden,
                       Tensor& logits) const {
    if (len > s.capacity) throw std::invalid_argument("T5: decoder sequence longer than the session's capacity");
    Activations a;
    be.embedding_lookup(shared_, be.upload_indices(decoder_ids), a.x);
    run_decoder(be, s, a, len, 0);
    be.rms_norm(a.x, dec_final_, config_.norm_eps, hidden);
    be.rms_norm(a.x, dec_final_, config_.norm_eps, a.h);  // the head may scale its input in place
    head(be, a.h, logits);
  }

 private:
  struct Attention {
    Tensor q, k, v, o;
  };
  struct EncoderLayer {
    Attention self;
    Tensor norm1, wi, wo, norm2;  // wi: [i, h], or wi_0 and wi_1 stacked, [2i, h]
  };
  struct DecoderLayer {
    Attention self, cross;
    Tensor norm1, norm2, wi, wo, norm3;
  };

  /// One decoder position per sequence with `input` as its tokens.
  void step(B& be, Session& s, const IndexTensor& input) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range("T5: the decoder cache's " + std::to_string(s.capacity) + " positions are full");
    }
    Activations& a = s.dec;
    be.embedding_lookup(shared_, input, a.x);
    run_decoder(be, s, a, 1, s.length);
    be.rms_norm(a.x, dec_final_, config_.norm_eps, a.h);
    head(be, a.h, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  void run_decoder(B& be, Session& s, Activations& a, int len, int start) const {
    const int hd = config_.effective_head_dim();
    be.relative_position_bias(dec_bias_,
                              RelativeBiasDims{len, start + len, start, false, config_.relative_buckets,
                                               config_.relative_max_distance},
                              a.bias);
    const AttentionDims self_dims{.batch = s.batch,
                                  .query_len = len,
                                  .key_len = start + len,
                                  .heads = config_.heads,
                                  .head_dim = hd,
                                  .key_stride = s.capacity,
                                  .causal = true,
                                  .scale = 1.0f};
    const AttentionDims cross_dims{.batch = s.batch,
                                   .query_len = len,
                                   .key_len = s.input_len,
                                   .heads = config_.heads,
                                   .head_dim = hd,
                                   .scale = 1.0f};
    const CacheDims cache{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      const DecoderLayer& L = decoder_[l];
      be.rms_norm(a.x, L.norm1, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q, none_, a.q);
      be.linear(a.h, L.self.k, none_, a.k);
      be.linear(a.h, L.self.v, none_, a.v);
      be.cache_write(a.k, cache, s.self_k[l]);
      be.cache_write(a.v, cache, s.self_v[l]);
      be.attention(a.q, s.self_k[l], s.self_v[l], none_, a.bias, self_dims, a.context);
      be.linear(a.context, L.self.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm2, config_.norm_eps, a.h);
      be.linear(a.h, L.cross.q, none_, a.q);
      be.attention(a.q, s.cross_k[l], s.cross_v[l], none_, none_, cross_dims, a.context);
      be.linear(a.context, L.cross.o, none_, a.h);
      be.add(a.h, a.x);
      be.rms_norm(a.x, L.norm3, config_.norm_eps, a.h);
      feed_forward(be, a, L.wi, L.wo);
    }
  }

  /// The feed-forward of a layer on a.h, added to a.x: wo(relu(wi h)), or
  /// wo(gelu_tanh(wi_0 h) * wi_1 h) with wi_0 and wi_1 stacked in wi.
  void feed_forward(B& be, Activations& a, const Tensor& wi, const Tensor& wo) const {
    if (config_.gated_gelu) {
      be.linear(a.h, wi, none_, a.gate);
      be.geglu_tanh(a.gate, a.ff);
    } else {
      be.linear(a.h, wi, none_, a.ff);
      be.relu(a.ff);
    }
    be.linear(a.ff, wo, none_, a.h);
    be.add(a.h, a.x);
  }

  /// The LM head (the shared embedding, or lm_head.weight when untied),
  /// after scaling the hidden states by d_model^-1/2 in place when
  /// scale_decoder_outputs is set.
  void head(B& be, Tensor& hidden, Tensor& logits) const {
    if (config_.scale_decoder_outputs) be.scale(hidden, 1.0f / std::sqrt(static_cast<float>(config_.hidden)));
    be.linear(hidden, config_.tied_embeddings ? shared_ : lm_head_, none_, logits);
  }

  GenerativeConfig config_;
  Tensor shared_, enc_bias_, dec_bias_, enc_final_, dec_final_, lm_head_;
  Tensor none_;
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/t5.hpp ----
// ---- begin accelbench/model/generative.hpp ----

// The generative architectures of the TextGeneration family, listed once:
// GPT-2 (gpt2.hpp), Llama and Qwen2 (llama.hpp) and T5 (t5.hpp). Each entry
// of a list of generative architectures (Gpt2Architecture, ...) is defined
// in its architecture's file and names the checkpoint model types it reads,
// its model class, its presets, and its configuration, shape, FLOP and
// weight functions (the GenerativeArchitecture concept). A configuration is
// matched to its entry once (when it is read, validated or loaded), never
// inside a forward pass. The functions below take the list as a template
// parameter, the library's GenerativeArchitectures by default; adding a
// generative architecture is its own file plus one entry in a list.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

// ---- begin accelbench/core/type_list.hpp ----

// Compile-time lists of types: the registries of policies (suite/registry.hpp)
// and the lists of architectures a family runs (model/generative.hpp).

namespace accelbench {

/// A compile-time list of types.
template <class... Ts>
struct TypeList {};

namespace detail {
template <class List, class... Ts>
struct append;
template <class... Ls, class... Ts>
struct append<TypeList<Ls...>, Ts...> {
  using type = TypeList<Ls..., Ts...>;
};
}  // namespace detail

/// `List` with `Ts...` added at its end: append_t<KnownBackends, MyBackend>.
template <class List, class... Ts>
using append_t = typename detail::append<List, Ts...>::type;

}  // namespace accelbench
// ---- end accelbench/core/type_list.hpp ----

namespace accelbench {

/// A list of architectures: ArchitectureList<Gpt2Architecture, ...>.
template <class... A>
using ArchitectureList = TypeList<A...>;

/// An entry of a list of generative architectures: the model types it
/// reads, its presets, and the functions a GenerativeConfig answers with.
/// Its model class, `Model<B>`, is a ModelArchitecture on each backend B
/// (checked by the family that runs it).
template <class A>
concept GenerativeArchitecture =
    requires(std::string_view model_type, const GenerativeConfig& c, GenerativeConfig& g,
             const detail::HfConfigReader& reader, const std::filesystem::path& dir) {
      { A::names } -> std::convertible_to<std::string_view>;
      { A::reads(model_type) } -> std::same_as<bool>;
      { A::encoder_decoder } -> std::convertible_to<bool>;
      { A::presets() } -> std::same_as<std::vector<GenerativeConfig>>;
      A::read_config(reader, g);
      A::validate_config(c);
      { A::tensor_shapes(c) } -> std::same_as<TensorShapes>;
      { A::kv_cache_bytes(c, 1, 1, 0) } -> std::same_as<std::uint64_t>;
      { A::generation_flops(c, 1, 1, 1) } -> std::same_as<double>;
      { A::is_scale(model_type) } -> std::same_as<bool>;
      { A::checkpoint_weights(dir) } -> std::same_as<WeightMap>;
      { A::config_fields() } -> std::same_as<ConfigFields>;
      { A::unused_tensors() } -> std::same_as<UnusedTensors>;
    };

/// True when every entry of a list is a GenerativeArchitecture.
template <class List>
inline constexpr bool all_generative_architectures = false;
template <class... A>
inline constexpr bool all_generative_architectures<ArchitectureList<A...>> = (GenerativeArchitecture<A> && ...);

/// True when the model class of every entry of a list is a
/// ModelArchitecture on backend B.
template <class B, class List>
inline constexpr bool all_model_architectures = false;
template <class B, class... A>
inline constexpr bool all_model_architectures<B, ArchitectureList<A...>> =
    (ModelArchitecture<typename A::template Model<B>, B> && ...);

/// The registry of the library's generative architectures.
using GenerativeArchitectures = ArchitectureList<Gpt2Architecture, LlamaArchitecture, T5Architecture>;

/// Wrap<model class on B> for every architecture of a list, as one type:
/// EachModel<B, GenerativeArchitectures, std::variant> is
/// std::variant<Gpt2<B>, Llama<B>, T5<B>>.
template <class B, class List, template <class...> class Wrap>
struct EachModelOf;
template <class B, class... A, template <class...> class Wrap>
struct EachModelOf<B, ArchitectureList<A...>, Wrap> {
  using type = Wrap<typename A::template Model<B>...>;
};
template <class B, class List, template <class...> class Wrap>
using EachModel = typename EachModelOf<B, List, Wrap>::type;

namespace detail {

template <class... A>
bool reads_any(std::string_view model_type, ArchitectureList<A...>) noexcept {
  return (A::reads(model_type) || ...);
}

template <class... A>
std::string architecture_names_of(ArchitectureList<A...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(A::names)), ...);
  return out;
}

/// f(A{}) for the architecture A of the list that reads `model_type`; an
/// architecture that none reads is an error naming `field`.
template <class F, class... A>
decltype(auto) with_architecture(std::string_view model_type, F&& f, ArchitectureList<A...> list,
                                 const std::string& field = "architecture") {
  using R = decltype(f(std::declval<typename std::tuple_element<0, std::tuple<A...>>::type>()));
  std::optional<R> result;
  const auto try_architecture = [&](auto a) {
    if (!result && decltype(a)::reads(model_type)) result.emplace(f(a));
  };
  (try_architecture(A{}), ...);
  if (!result) {
    throw ConfigError(field, "\"" + std::string(model_type) + "\"", "must be one of " + architecture_names_of(list));
  }
  return R(std::move(*result));
}

/// f(A{}) for the entry of `List` that reads the configuration's architecture.
template <class List = GenerativeArchitectures, class F>
decltype(auto) with_generative_architecture(const GenerativeConfig& c, F&& f) {
  const std::string field = (c.name.empty() ? std::string("model") : c.name) + ".architecture";
  return with_architecture(c.architecture, std::forward<F>(f), List{}, field);
}

}  // namespace detail

// The members of GenerativeConfig that depend on the architecture.

inline const GenerativeArchitectureFunctions& GenerativeConfig::resolved_functions() const {
  if (functions != nullptr && functions->reads(architecture)) return *functions;
  return *detail::with_generative_architecture(
      *this, [](auto a) { return &architecture_functions<decltype(a)>; });
}
inline bool GenerativeConfig::is_encoder_decoder() const { return resolved_functions().encoder_decoder; }
inline TensorShapes GenerativeConfig::tensor_shapes() const { return resolved_functions().tensor_shapes(*this); }
inline std::int64_t GenerativeConfig::parameter_count() const { return shape_parameter_count(tensor_shapes()); }
inline std::uint64_t GenerativeConfig::kv_cache_bytes(int batch, int capacity, int encoder_len) const {
  return resolved_functions().kv_cache_bytes(*this, batch, capacity, encoder_len);
}
inline double GenerativeConfig::generation_flops(int batch, int prompt, int new_tokens) const {
  return resolved_functions().generation_flops(*this, batch, prompt, new_tokens);
}

/// The presets of every architecture of `List`, in its order, each pointing
/// at its architecture's functions.
template <class List = GenerativeArchitectures>
[[nodiscard]] const std::vector<GenerativeConfig>& generative_presets() {
  static const std::vector<GenerativeConfig> presets = []<class... A>(ArchitectureList<A...>) {
    std::vector<GenerativeConfig> all;
    const auto add = [&](auto a) {
      for (GenerativeConfig& p : decltype(a)::presets()) {
        p.functions = &architecture_functions<decltype(a)>;
        all.push_back(std::move(p));
      }
    };
    (add(A{}), ...);
    return all;
  }(List{});
  return presets;
}

/// Checks that a configuration describes a model that can be built, by the
/// checks of its architecture in `List`.
template <class List = GenerativeArchitectures>
void validate_generative_config(const GenerativeConfig& c) {
  detail::with_generative_architecture<List>(c, [&](auto a) {
    decltype(a)::validate_config(c);
    return true;
  });
}

/// Deterministic synthetic weights under the checkpoint names (see
/// synthetic_weights): matrices and embeddings with standard deviation
/// 0.02, biases small, norm scales near one.
template <class List = GenerativeArchitectures>
[[nodiscard]] WeightMap synthetic_generative_weights(const GenerativeConfig& c, std::uint64_t seed) {
  validate_generative_config<List>(c);
  return detail::with_generative_architecture<List>(c, [&](auto a) {
    return synthetic_weights(decltype(a)::tensor_shapes(c), seed, [](std::string_view n) { return decltype(a)::is_scale(n); });
  });
}

/// GenerativeConfig from a checkpoint's config.json, read by the entry of
/// `List` whose model types include its model_type, every field held to
/// the entry's config_fields() (`accepted` names unknown fields to let
/// pass); the preset is named after the folder.
template <class List = GenerativeArchitectures>
[[nodiscard]] GenerativeConfig generative_config_from_checkpoint(const std::filesystem::path& dir,
                                                                 std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  GenerativeConfig g;
  g.name = checkpoint_name(dir);
  g.architecture = c.text("model_type");
  if (!detail::reads_any(g.architecture, List{})) {
    c.fail("model_type", "\"" + g.architecture + "\"", "the text-generation family reads " + detail::architecture_names_of(List{}) + " checkpoints");
  }
  detail::with_generative_architecture<List>(g, [&](auto a) {
    decltype(a)::read_config(c, g);
    c.check_fields(decltype(a)::config_fields());
    g.functions = &architecture_functions<decltype(a)>;
    return true;
  });
  validate_generative_config<List>(g);
  return g;
}

/// A generative checkpoint's weights under the names the models take.
template <class List = GenerativeArchitectures>
[[nodiscard]] WeightMap generative_weights_from_checkpoint(const std::filesystem::path& dir,
                                                           const GenerativeConfig& config) {
  return detail::with_generative_architecture<List>(config,
                                                    [&](auto a) { return decltype(a)::checkpoint_weights(dir); });
}

}  // namespace accelbench
// ---- end accelbench/model/generative.hpp ----
// ---- begin accelbench/model/vit.hpp ----

// The Vision Transformer (Dosovitskiy et al., 2020) as in Hugging Face
// transformers' ViTModel (without its pooler): a patch embedding (a
// convolution with kernel = stride = patch size), a class token before the
// patches, learned position embeddings, pre-norm encoder layers with erf
// GELU (q/k/v biases or, with qkv_bias false, none), and a final
// LayerNorm. The forward pass is written once over the backend's
// PerceptionOps. Images of another size than the checkpoint's get
// position embeddings interpolated as transformers' interpolate_pos_encoding
// does (bicubic, align_corners=False), on the host when a batch is prepared.
//
// The pieces CLIP shares with ViT are in common/: the pre-norm encoder layer
// and learned positions (encoder_layers.hpp), images and the position
// interpolation (images.hpp).

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/common/encoder_layers.hpp ----

// Transformer layers written over backend ops that several architectures
// share: the pre-norm encoder layer of ViT and CLIP (both towers), learned
// position embeddings, and the id arrays they take.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

namespace detail {

/// Names of a pre-norm encoder layer's tensors under its prefix (each with
/// ".weight" and ".bias").
struct PreNormLayerNames {
  const char* norm1;
  const char* query;
  const char* key;
  const char* value;
  const char* out;
  const char* norm2;
  const char* fc1;
  const char* fc2;
};

/// `qkv_bias` false: the query, key and value projections have no bias (ViT's qkv_bias).
inline void add_pre_norm_layer_shapes(TensorShapes& s, const std::string& p, const PreNormLayerNames& n,
                                      Eigen::Index h, Eigen::Index i, bool qkv_bias = true) {
  const auto both = [&](const char* name, Eigen::Index out, Eigen::Index in, bool bias = true) {
    s.push_back({p + name + ".weight", {out, in}});
    if (bias) s.push_back({p + name + ".bias", {1, out}});
  };
  s.push_back({p + n.norm1 + ".weight", {1, h}});
  s.push_back({p + n.norm1 + ".bias", {1, h}});
  both(n.query, h, h, qkv_bias);
  both(n.key, h, h, qkv_bias);
  both(n.value, h, h, qkv_bias);
  both(n.out, h, h);
  s.push_back({p + n.norm2 + ".weight", {1, h}});
  s.push_back({p + n.norm2 + ".bias", {1, h}});
  both(n.fc1, i, h);
  both(n.fc2, h, i);
}

/// A pre-norm transformer encoder layer's weights on the backend; q_b, k_b
/// and v_b are empty where the projections have no bias.
template <class B>
struct PreNormLayer {
  typename B::Tensor norm1_g, norm1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  typename B::Tensor norm2_g, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
};

/// Takes a layer's tensors through `take(name, rows, cols)`; no query, key
/// and value biases unless `qkv_bias`.
template <class B, class Take>
PreNormLayer<B> take_pre_norm_layer(Take&& take, const std::string& p, const PreNormLayerNames& n, Eigen::Index h,
                                    Eigen::Index i, bool qkv_bias = true) {
  const auto w = [&](const char* name) { return p + name + ".weight"; };
  const auto b = [&](const char* name) { return p + name + ".bias"; };
  PreNormLayer<B> L;
  L.norm1_g = take(w(n.norm1), 1, h);
  L.norm1_b = take(b(n.norm1), 1, h);
  L.q_w = take(w(n.query), h, h);
  L.k_w = take(w(n.key), h, h);
  L.v_w = take(w(n.value), h, h);
  if (qkv_bias) {
    L.q_b = take(b(n.query), 1, h);
    L.k_b = take(b(n.key), 1, h);
    L.v_b = take(b(n.value), 1, h);
  }
  L.o_w = take(w(n.out), h, h);
  L.o_b = take(b(n.out), 1, h);
  L.norm2_g = take(w(n.norm2), 1, h);
  L.norm2_b = take(b(n.norm2), 1, h);
  L.fc1_w = take(w(n.fc1), i, h);
  L.fc1_b = take(b(n.fc1), 1, i);
  L.fc2_w = take(w(n.fc2), h, i);
  L.fc2_b = take(b(n.fc2), 1, h);
  return L;
}

/// Activations of an encoder layer, kept between forward passes.
template <class B>
struct EncoderScratch {
  typename B::Tensor normed, q, k, v, context, attn, inter, tmp;
};

/// hidden += attention(norm1(hidden)); hidden += mlp(norm2(hidden)): the
/// pre-norm layer of ViT (ViTLayer) and CLIP (CLIPEncoderLayer).
template <PerceptionOps B>
void pre_norm_layer(B& be, const PreNormLayer<B>& L, float eps, Activation act, const typename B::Tensor& mask,
                    const AttentionDims& dims, typename B::Tensor& hidden, EncoderScratch<B>& s) {
  be.layer_norm(hidden, L.norm1_g, L.norm1_b, eps, s.normed);
  be.linear(s.normed, L.q_w, L.q_b, s.q);
  be.linear(s.normed, L.k_w, L.k_b, s.k);
  be.linear(s.normed, L.v_w, L.v_b, s.v);
  be.attention(s.q, s.k, s.v, mask, dims, s.context);
  be.linear(s.context, L.o_w, L.o_b, s.attn);
  be.add(s.attn, hidden);
  be.layer_norm(hidden, L.norm2_g, L.norm2_b, eps, s.normed);
  be.linear(s.normed, L.fc1_w, L.fc1_b, s.inter);
  activate(be, act, s.inter);
  be.linear(s.inter, L.fc2_w, L.fc2_b, s.tmp);
  be.add(s.tmp, hidden);
}

/// y[b * len + i] += table[i]: learned positions. With the backend's
/// add_positions where it has one (GenerationOps), else a lookup of
/// `position_ids` (0..len-1 per sequence) into `tmp` and an add; both add
/// the same values.
template <PerceptionOps B>
void add_learned_positions(B& be, const typename B::Tensor& table, const typename B::IndexTensor& position_ids,
                           int batch, int len, typename B::Tensor& y, typename B::Tensor& tmp) {
  if constexpr (requires { be.add_positions(table, 0, batch, len, y); }) {
    (void)position_ids;
    (void)tmp;
    be.add_positions(table, 0, batch, len, y);
  } else {
    be.embedding_lookup(table, position_ids, tmp);
    be.add(tmp, y);
  }
}

/// 0..len-1 for each of `batch` sequences.
inline std::vector<std::int32_t> position_ids(int batch, int len) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(batch) * static_cast<std::size_t>(len));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(len));
  return ids;
}

/// Row b * len + offset of every sequence b: the class token (offset 0).
inline std::vector<std::int32_t> sequence_rows(int batch, int len, int offset = 0) {
  std::vector<std::int32_t> rows(static_cast<std::size_t>(batch));
  for (int b = 0; b < batch; ++b) rows[static_cast<std::size_t>(b)] = b * len + offset;
  return rows;
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/model/common/encoder_layers.hpp ----
// ---- begin accelbench/model/common/images.hpp ----

// Images for the vision architectures (ViT, CLIP's vision tower): synthetic
// batches, and the bicubic resize with which position embeddings learned
// for one image size serve another, as transformers' interpolate_pos_encoding.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>


namespace accelbench {

namespace detail {

/// PyTorch's cubic convolution coefficients (upsample_bicubic2d, A = -0.75)
/// for a fractional offset t in [0, 1], computed in float as its CPU kernel.
inline std::array<float, 4> cubic_coefficients(float t) noexcept {
  constexpr float A = -0.75f;
  const auto near = [](float x) { return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f; };
  const auto far = [](float x) { return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A; };
  return {far(t + 1.0f), near(t), near(1.0f - t), far(2.0f - t)};
}

/// Source indices (clamped to the input) and weights of each output index
/// of a bicubic resize from `in` to `out` samples with align_corners=False:
/// the source coordinate is (dst + 0.5) * in / out - 0.5, not clamped, its
/// floor the second of four taps, as in PyTorch.
struct CubicTaps {
  std::vector<std::array<int, 4>> index;
  std::vector<std::array<float, 4>> weight;
};

inline CubicTaps cubic_taps(int in, int out) {
  CubicTaps taps;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int d = 0; d < out; ++d) {
    const float real = scale * (static_cast<float>(d) + 0.5f) - 0.5f;
    const int i0 = std::min(static_cast<int>(std::floor(real)), in - 1);
    const float t = std::min(std::max(real - static_cast<float>(i0), 0.0f), 1.0f);
    std::array<int, 4> idx{};
    for (int j = 0; j < 4; ++j) idx[static_cast<std::size_t>(j)] = std::clamp(i0 - 1 + j, 0, in - 1);
    taps.index.push_back(idx);
    taps.weight.push_back(cubic_coefficients(t));
  }
  return taps;
}

}  // namespace detail

/// Bicubic resize of a grid of vectors, as torch.nn.functional.interpolate
/// (mode="bicubic", align_corners=False) on a [1, dim, rows, cols] tensor:
/// `grid` is [rows * cols, dim], one row per grid point in row-major (y, x)
/// order; the result is [out_rows * out_cols, dim] in the same order. Each
/// output is sum_i wy_i * (sum_j wx_j * src), in float, with indices beyond
/// the border clamped to it, which is PyTorch's CPU kernel.
[[nodiscard]] inline HostMatrix bicubic_resize(const HostMatrix& grid, int rows, int cols, int out_rows,
                                               int out_cols) {
  if (rows <= 0 || cols <= 0 || out_rows <= 0 || out_cols <= 0 || grid.rows() != Eigen::Index{rows} * cols) {
    throw std::invalid_argument("bicubic_resize: a [" + std::to_string(grid.rows()) + ", " +
                                std::to_string(grid.cols()) + "] grid is not " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " (to " + std::to_string(out_rows) + " x " +
                                std::to_string(out_cols) + ")");
  }
  const detail::CubicTaps ty = detail::cubic_taps(rows, out_rows);
  const detail::CubicTaps tx = detail::cubic_taps(cols, out_cols);
  const Eigen::Index dim = grid.cols();
  HostMatrix out(Eigen::Index{out_rows} * out_cols, dim);
  Eigen::Array<float, 1, Eigen::Dynamic> acc(dim), inner(dim);
  for (int y = 0; y < out_rows; ++y) {
    for (int x = 0; x < out_cols; ++x) {
      acc.setZero();
      for (int i = 0; i < 4; ++i) {
        const Eigen::Index sy = ty.index[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
        inner.setZero();
        for (int j = 0; j < 4; ++j) {
          const Eigen::Index sx = tx.index[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
          inner += grid.row(sy * cols + sx).array() * tx.weight[static_cast<std::size_t>(x)][static_cast<std::size_t>(j)];
        }
        acc += inner * ty.weight[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)];
      }
      out.row(Eigen::Index{y} * out_cols + x) = acc.matrix();
    }
  }
  return out;
}

/// Position embeddings for square images of `grid` x `grid` patches from a
/// table [1 + g * g, dim] learned for g x g (the class token's first), as
/// transformers' ViTEmbeddings.interpolate_pos_encoding: the class token's
/// row is kept and the patch rows are resized bicubically. The table is
/// returned as it is when the grid is its own.
[[nodiscard]] inline HostMatrix interpolate_positions(const HostMatrix& table, int grid) {
  const auto patches = table.rows() - 1;
  const auto g = static_cast<int>(std::lround(std::sqrt(static_cast<double>(patches))));
  if (patches < 1 || Eigen::Index{g} * g != patches) {
    throw std::invalid_argument("interpolate_positions: the table's " + std::to_string(table.rows()) +
                                " rows are not a class token and a square grid of patches");
  }
  if (grid == g) return table;
  HostMatrix out(Eigen::Index{grid} * grid + 1, table.cols());
  out.row(0) = table.row(0);
  out.bottomRows(out.rows() - 1) = bicubic_resize(table.bottomRows(patches), g, g, grid, grid);
  return out;
}

/// A batch of square images, one per row of `pixels` in PyTorch's
/// channel-major order: [batch, channels * size * size].
struct ImageBatch {
  int batch = 0;
  int channels = 3;
  int size = 0;
  HostMatrix pixels;
};

/// Deterministic synthetic images: every value uniform in [-1, 1), the
/// range of pixels normalised with mean 0.5 and standard deviation 0.5 (as
/// ViT's image processor does), drawn from the counter-based generator's
/// stream "pixel_values" under `seed`: value k of the batch (row-major
/// [batch, channel, y, x]) is element k of the stream, so a larger batch
/// extends a smaller one.
[[nodiscard]] inline ImageBatch make_images(int batch, int channels, int size, std::uint64_t seed) {
  if (batch <= 0 || channels <= 0 || size <= 0) {
    throw std::invalid_argument("make_images: batch " + std::to_string(batch) + ", channels " +
                                std::to_string(channels) + " and size " + std::to_string(size) +
                                " must be positive");
  }
  ImageBatch in;
  in.batch = batch;
  in.channels = channels;
  in.size = size;
  in.pixels.resize(batch, Eigen::Index{channels} * size * size);
  const std::uint64_t stream = detail::stream_seed(seed, "pixel_values");
  float* data = in.pixels.data();
  for (Eigen::Index k = 0; k < in.pixels.size(); ++k) {
    data[k] = 2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(k)) - 1.0f;
  }
  return in;
}

}  // namespace accelbench
// ---- end accelbench/model/common/images.hpp ----

namespace accelbench {

// ---- configuration ----

struct ViTConfig {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int patch_size = 0;
  int image_size = 0;  ///< the checkpoint's square image size in pixels
  int channels = 3;
  float layer_norm_eps = 1e-12f;
  bool qkv_bias = true;  ///< biases on the query, key and value projections (ViTConfig's qkv_bias)
  std::vector<std::string> aliases;  ///< other names of the preset, e.g. the Hugging Face id

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  /// Patches per side of a square image of `size` pixels.
  [[nodiscard]] int grid(int size) const noexcept { return patch_size > 0 ? size / patch_size : 0; }
  /// Tokens of one image of `size` pixels: its patches and the class token.
  [[nodiscard]] int tokens(int size) const noexcept { return grid(size) * grid(size) + 1; }

  /// Parameters of ViTModel without its pooler: embeddings (class token,
  /// positions of the checkpoint's image size, patch projection with bias),
  /// the layers (q/k/v biases where qkv_bias) and the final LayerNorm.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const std::int64_t h = hidden;
    const std::int64_t i = intermediate;
    const std::int64_t patch = std::int64_t{channels} * patch_size * patch_size;
    const std::int64_t embeddings = h + std::int64_t{tokens(image_size)} * h + (h * patch + h);
    const std::int64_t layer = 2 * h + 4 * (h * h) + (qkv_bias ? 4 : 1) * h + 2 * h + (h * i + i) + (i * h + h);
    return embeddings + layers * layer + 2 * h;
  }

  /// Floating-point operations of one forward pass over `batch` square
  /// images of `size` pixels (a multiply-add counts as two): the patch
  /// projection, and the projections, feed-forward and attention products of
  /// every layer. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, int size) const noexcept {
    const double n = tokens(size);
    const double patches = n - 1;
    const double h = hidden;
    const double patch = static_cast<double>(channels) * patch_size * patch_size;
    const double embedding = 2.0 * batch * patches * patch * h;
    const double projections = 2.0 * batch * n * (4.0 * h * h + 2.0 * h * intermediate);
    const double attention = 2.0 * 2.0 * batch * n * n * h;
    return embedding + layers * (projections + attention);
  }

  /// Bytes of a forward pass's activations over `batch` images of `size`
  /// pixels: the pixels, the patches, eight [tokens, hidden] tensors (hidden
  /// state, normed, q, k, v, context, attention output, feed-forward
  /// output), the [tokens, intermediate] feed-forward, the class tokens, an
  /// interpolated position table (another size than the model's) and the
  /// position and class-row ids.
  [[nodiscard]] std::uint64_t activation_bytes(int batch, int size) const noexcept {
    const auto b = static_cast<std::uint64_t>(batch);
    const auto n = static_cast<std::uint64_t>(tokens(size));
    const auto h = static_cast<std::uint64_t>(hidden);
    const auto s = static_cast<std::uint64_t>(size);
    const std::uint64_t floats = b * static_cast<std::uint64_t>(channels) * s * s + b * (n - 1) * h +
                                 b * n * (8u * h + static_cast<std::uint64_t>(intermediate)) + b * h +
                                 (size != image_size ? n * h : 0u);
    return floats * sizeof(float) + (b * n + b) * sizeof(std::int32_t);
  }
};

/// Presets with the dimensions of the published checkpoints. vit-tiny is
/// ViT-Ti/16 (DeiT-tiny's dimensions), as in WinKawaks/vit-tiny-patch16-224.
inline const std::vector<ViTConfig>& vit_presets() {
  static const std::vector<ViTConfig> presets = {
      {"vit-base-patch16-224", 12, 768, 12, 3072, 16, 224, 3, 1e-12f, true, {"google/vit-base-patch16-224"}},
      {"vit-tiny", 12, 192, 3, 768, 16, 224, 3, 1e-12f, true, {"WinKawaks/vit-tiny-patch16-224"}},
  };
  return presets;
}

/// Checks that a configuration describes a ViT that can be built.
inline void validate_vit_config(const ViTConfig& c) {
  const detail::FieldCheck check(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("patch_size", c.patch_size);
  check.positive("image_size", c.image_size);
  check.positive("channels", c.channels);
  check.divides("heads", c.heads, c.hidden);
  if (c.image_size % c.patch_size != 0) {
    check.fail("image_size", std::to_string(c.image_size),
               "must be a multiple of patch_size (" + std::to_string(c.patch_size) + ")");
  }
  check.positive("layer_norm_eps", c.layer_norm_eps);
}

/// The fields of a ViT config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields vit_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"vit\""),
          F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
          F::read("qkv_bias", "biases on the query, key and value projections, or none"),
          F::read("num_hidden_layers", "layers"),
          F::read("hidden_size", "width"),
          F::read("num_attention_heads", "attention heads"),
          F::read("intermediate_size", "feed-forward width"),
          F::read("patch_size", "side of a square patch"),
          F::read("image_size", "side of the square image the position embedding is for"),
          F::read("num_channels", "image channels"),
          F::read("layer_norm_eps", "LayerNorm epsilon"),
          F::no_effect("encoder_stride", "the decoder of ViTForMaskedImageModeling, not part of ViTModel"),
          F::no_effect("pooler_act", "ViTModel's pooler, whose output the benchmark does not use"),
          F::no_effect("pooler_output_size", "ViTModel's pooler, whose output the benchmark does not use")};
}

/// ViTConfig from a checkpoint's config.json (model_type "vit"); the preset
/// is named after the folder. Square images and patches only and erf GELU,
/// as every published ViT checkpoint has; q/k/v biases or none (qkv_bias).
[[nodiscard]] inline ViTConfig vit_config_from_checkpoint(const std::filesystem::path& dir,
                                                          std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "vit", "the vision family reads ViT checkpoints (\"vit\")");
  (void)detail::read_activation(c, "hidden_act", "gelu", "ViT", {Activation::gelu});
  ViTConfig v;
  v.name = checkpoint_name(dir);
  v.layers = c.integer("num_hidden_layers", 12);
  v.hidden = c.integer("hidden_size", 768);
  v.heads = c.integer("num_attention_heads", 12);
  v.intermediate = c.integer("intermediate_size", 3072);
  v.patch_size = c.integer("patch_size", 16);
  v.image_size = c.integer("image_size", 224);
  v.channels = c.integer("num_channels", 3);
  v.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  v.qkv_bias = c.boolean("qkv_bias", true);
  c.check_fields(vit_config_fields());
  validate_vit_config(v);
  return v;
}

// ---- tensor names and shapes ----

namespace detail {

/// ViTModel's layer (encoder.layer.{i}.*).
inline constexpr PreNormLayerNames vit_layer_names{"layernorm_before",       "attention.attention.query",
                                                   "attention.attention.key", "attention.attention.value",
                                                   "attention.output.dense", "layernorm_after",
                                                   "intermediate.dense",     "output.dense"};


inline std::string vit_layer_prefix(int i) { return "encoder.layer." + std::to_string(i) + "."; }

}  // namespace detail

/// The shape of every tensor of a ViTModel (without pooler), by its Hugging
/// Face name. The patch projection is [hidden, channels * patch * patch].
inline TensorShapes vit_tensor_shapes(const ViTConfig& c) {
  const Eigen::Index h = c.hidden;
  TensorShapes s = {
      {"embeddings.cls_token", {1, h}},
      {"embeddings.position_embeddings", {c.tokens(c.image_size), h}},
      {"embeddings.patch_embeddings.projection.weight", {h, Eigen::Index{c.channels} * c.patch_size * c.patch_size}},
      {"embeddings.patch_embeddings.projection.bias", {1, h}},
  };
  for (int l = 0; l < c.layers; ++l) {
    detail::add_pre_norm_layer_shapes(s, detail::vit_layer_prefix(l), detail::vit_layer_names, h, c.intermediate,
                                      c.qkv_bias);
  }
  s.push_back({"layernorm.weight", {1, h}});
  s.push_back({"layernorm.bias", {1, h}});
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): the LayerNorms'
/// scales near one.
inline WeightMap synthetic_vit_weights(const ViTConfig& c, std::uint64_t seed) {
  validate_vit_config(c);
  return synthetic_weights(vit_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"norm"}); });
}

/// The tensors of a ViT checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors vit_unused_tensors() {
  return {unused_prefix("pooler.", "ViTModel's pooler, whose output the vision benchmark does not use: it reports the "
                                   "last hidden states"),
          unused_prefix("classifier.", "the head of ViTForImageClassification, not part of ViTModel"),
          unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A ViT checkpoint's weights under ViTModel's names: the "vit." prefix of
/// task models is removed, the pooler and classifier are dropped, and the
/// patch projection is reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap vit_weights_from_checkpoint(const std::filesystem::path& dir, const ViTConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {"vit."}, vit_unused_tensors());
  detail::reshape_conv2d_weight(w, "embeddings.patch_embeddings.projection.weight", config.hidden, config.channels,
                                config.patch_size);
  return w;
}

// ---- forward entry points ----

/// A ViT whose weights live on backend B.
template <PerceptionOps B>
class ViT {
 public:
  using Config = ViTConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of images and the activations of its forward pass, kept
  /// between passes so that a repeated pass allocates nothing.
  struct Workspace {
    int batch = 0;
    int image_size = 0;
    int tokens = 0;             ///< per image: patches and the class token
    bool own_positions = false;  ///< positions interpolated for this image size
    Tensor positions;           ///< [tokens, hidden] when own_positions
    Tensor pixels;              ///< [batch, channels * size * size]
    IndexTensor position_ids;   ///< 0..tokens-1 per image
    IndexTensor class_rows;     ///< row of each image's class token
    Tensor patches;             ///< [batch * (tokens - 1), hidden]
    Tensor hidden;              ///< last hidden state, [batch * tokens, hidden]
    Tensor class_token;         ///< the class token's last hidden state, [batch, hidden]
    detail::EncoderScratch<B> s;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  ViT(B& backend, ViTConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_vit_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    const Eigen::Index p = config_.patch_size;
    detail::reshape_conv2d_weight(weights, "embeddings.patch_embeddings.projection.weight", h, config_.channels, p);
    WeightUploader<B> take(backend, weights, tally_);
    cls_ = take("embeddings.cls_token", 1, h);
    position_host_ = take.host("embeddings.position_embeddings", config_.tokens(config_.image_size), h);
    positions_ = backend.upload(position_host_);
    patch_w_ = take("embeddings.patch_embeddings.projection.weight", h, Eigen::Index{config_.channels} * p * p);
    patch_b_ = take("embeddings.patch_embeddings.projection.bias", 1, h);
    layers_.reserve(static_cast<std::size_t>(config_.layers));
    for (int l = 0; l < config_.layers; ++l) {
      layers_.push_back(
          detail::take_pre_norm_layer<B>(take, detail::vit_layer_prefix(l), detail::vit_layer_names, h, i, config_.qkv_bias));
    }
    norm_g_ = take("layernorm.weight", 1, h);
    norm_b_ = take("layernorm.bias", 1, h);
    take.finish("ViT");
  }

  [[nodiscard]] const ViTConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const ViTConfig& c) { return vit_tensor_shapes(c); }

  /// Uploads a batch of images into a new workspace. Images of another size
  /// than the checkpoint's get position embeddings interpolated here, on the
  /// host, once per workspace.
  [[nodiscard]] Workspace prepare(B& backend, const ImageBatch& in) const {
    if (in.channels != config_.channels) {
      throw std::invalid_argument("ViT: images have " + std::to_string(in.channels) + " channels, " + config_.name +
                                  " takes " + std::to_string(config_.channels));
    }
    if (in.size <= 0 || in.size % config_.patch_size != 0) {
      throw std::invalid_argument("ViT: image size " + std::to_string(in.size) + " is not a multiple of " +
                                  config_.name + "'s patch size " + std::to_string(config_.patch_size));
    }
    if (in.batch <= 0 || in.pixels.rows() != in.batch ||
        in.pixels.cols() != Eigen::Index{in.channels} * in.size * in.size) {
      throw std::invalid_argument("ViT: pixels must be [batch, channels * size * size]");
    }
    Workspace ws;
    ws.batch = in.batch;
    ws.image_size = in.size;
    ws.tokens = config_.tokens(in.size);
    if (in.size != config_.image_size) {
      ws.own_positions = true;
      ws.positions = backend.upload(interpolate_positions(position_host_, config_.grid(in.size)));
    }
    ws.pixels = backend.upload(in.pixels);
    ws.position_ids = backend.upload_indices(detail::position_ids(ws.batch, ws.tokens));
    ws.class_rows = backend.upload_indices(detail::sequence_rows(ws.batch, ws.tokens));
    return ws;
  }

  /// One forward pass: ws.hidden gets the last hidden state (after the final
  /// LayerNorm) and ws.class_token the class token's row of it.
  void forward(B& be, Workspace& ws) const {
    const float eps = config_.layer_norm_eps;
    Conv2dDims conv;
    conv.batch = ws.batch;
    conv.channels = config_.channels;
    conv.height = ws.image_size;
    conv.width = ws.image_size;
    conv.out_channels = config_.hidden;
    conv.kernel = config_.patch_size;
    conv.stride = config_.patch_size;
    be.conv2d(ws.pixels, patch_w_, patch_b_, conv, ws.patches);
    be.prepend_row(ws.patches, cls_, ws.batch, ws.hidden);
    detail::add_learned_positions(be, ws.own_positions ? ws.positions : positions_, ws.position_ids, ws.batch,
                                  ws.tokens, ws.hidden, ws.s.tmp);
    const AttentionDims dims{ws.batch, ws.tokens, ws.tokens, config_.heads, config_.head_dim()};
    for (const auto& L : layers_) {
      detail::pre_norm_layer(be, L, eps, Activation::gelu, none_, dims, ws.hidden, ws.s);
    }
    be.layer_norm(ws.hidden, norm_g_, norm_b_, eps, ws.hidden);
    be.embedding_lookup(ws.hidden, ws.class_rows, ws.class_token);
  }

 private:
  ViTConfig config_;
  HostMatrix position_host_;  // for interpolation to other image sizes
  Tensor cls_, positions_, patch_w_, patch_b_, norm_g_, norm_b_;
  std::vector<detail::PreNormLayer<B>> layers_;
  Tensor none_;  // an empty tensor: no mask
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/vit.hpp ----
// ---- begin accelbench/model/clip.hpp ----

// CLIP (Radford et al., 2021) as in Hugging Face transformers' CLIPModel: a
// vision tower (patch convolution without bias, class embedding, learned
// positions, pre_layrnorm, pre-norm layers with quick GELU, post_layernorm
// on the class token), a text tower (token and position embeddings, causal
// and padding masks, pre-norm layers with quick GELU, final_layer_norm,
// pooled at the end-of-text token), projections without bias, L2
// normalisation, and logits_per_image = exp(logit_scale) * image_embeds ·
// text_embedsᵀ. Written once over the backend's PerceptionOps.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/clip_config.hpp ----

// CLIP's configuration: the configuration section of model/clip.hpp (the
// vision and text towers' fields, presets, validation and reading
// config.json), in a file of its own to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>


namespace accelbench {

// ---- configuration ----

/// CLIP's image encoder (transformers' CLIPVisionConfig).
struct ClipVisionConfig {
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int patch_size = 0;
  int image_size = 0;
  int channels = 3;
  float layer_norm_eps = 1e-5f;
  Activation activation = Activation::quick_gelu;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int grid() const noexcept { return patch_size > 0 ? image_size / patch_size : 0; }
  /// Tokens of one image: its patches and the class embedding.
  [[nodiscard]] int tokens() const noexcept { return grid() * grid() + 1; }
};

/// CLIP's text encoder (transformers' CLIPTextConfig).
struct ClipTextConfig {
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int vocab_size = 0;
  int max_positions = 77;
  float layer_norm_eps = 1e-5f;
  Activation activation = Activation::quick_gelu;
  int bos_token_id = 49406;  ///< <|startoftext|>
  /// <|endoftext|>: the text's embedding is the hidden state at its first
  /// occurrence. 2, as in the configs written before transformers PR
  /// #24773 (openai's among them), means the highest id of the sequence
  /// instead, as transformers still does for such configs.
  int eos_token_id = 49407;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] bool legacy_eos() const noexcept { return eos_token_id == 2; }
};

struct ClipConfig {
  std::string name;
  ClipVisionConfig vision;
  ClipTextConfig text;
  int projection_dim = 512;
  /// logit_scale of synthetic weights: transformers' initial value, log(1 / 0.07).
  float logit_scale_init = 2.6592f;
  std::vector<std::string> aliases;

  /// Parameters of CLIPModel: both towers, both projections and logit_scale.
  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    const auto layer = [](std::int64_t h, std::int64_t i) {
      return 2 * h + 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h);
    };
    const std::int64_t vh = vision.hidden;
    const std::int64_t vision_params = vh + std::int64_t{vision.channels} * vision.patch_size * vision.patch_size * vh +
                                       std::int64_t{vision.tokens()} * vh + 2 * vh +
                                       vision.layers * layer(vh, vision.intermediate) + 2 * vh;
    const std::int64_t th = text.hidden;
    const std::int64_t text_params = (std::int64_t{text.vocab_size} + text.max_positions) * th +
                                     text.layers * layer(th, text.intermediate) + 2 * th;
    return vision_params + text_params + std::int64_t{projection_dim} * (vh + th) + 1;
  }

  /// Floating-point operations of encoding `images` images, and of encoding
  /// `texts` texts of `text_length` tokens (a multiply-add counts as two):
  /// the matrix products of the patch convolution, projections, feed-forward,
  /// attention and output projection.
  [[nodiscard]] double image_flops(int images) const noexcept {
    const double n = vision.tokens();
    const double h = vision.hidden;
    const double patch = static_cast<double>(vision.channels) * vision.patch_size * vision.patch_size;
    return 2.0 * images * (n - 1) * patch * h +
           vision.layers * (2.0 * images * n * (4.0 * h * h + 2.0 * h * vision.intermediate) +
                            4.0 * images * n * n * h) +
           2.0 * images * h * projection_dim;
  }
  [[nodiscard]] double text_flops(int texts, int text_length) const noexcept {
    const double n = text_length;
    const double h = text.hidden;
    return text.layers * (2.0 * texts * n * (4.0 * h * h + 2.0 * h * text.intermediate) + 4.0 * texts * n * n * h) +
           2.0 * texts * h * projection_dim;
  }
  [[nodiscard]] double similarity_flops(int images, int texts) const noexcept {
    return 2.0 * images * texts * projection_dim;
  }
  /// All three for `batch` images and `batch` texts of the longest length.
  [[nodiscard]] double flops(int batch) const noexcept {
    return image_flops(batch) + text_flops(batch, text.max_positions) + similarity_flops(batch, batch);
  }
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<ClipConfig>& clip_presets() {
  static const std::vector<ClipConfig> presets = {
      {"clip-vit-base-patch32",
       {12, 768, 12, 3072, 32, 224, 3, 1e-5f, Activation::quick_gelu},
       {12, 512, 8, 2048, 49408, 77, 1e-5f, Activation::quick_gelu, 49406, 49407},
       512,
       2.6592f,
       {"openai/clip-vit-base-patch32"}},
  };
  return presets;
}

/// Checks that a configuration describes a CLIP that can be built.
inline void validate_clip_config(const ClipConfig& c) {
  const detail::FieldCheck check(c.name);
  check.positive("vision.layers", c.vision.layers);
  check.positive("vision.hidden", c.vision.hidden);
  check.positive("vision.heads", c.vision.heads);
  check.positive("vision.intermediate", c.vision.intermediate);
  check.positive("vision.patch_size", c.vision.patch_size);
  check.positive("vision.image_size", c.vision.image_size);
  check.positive("vision.channels", c.vision.channels);
  check.divides("vision.heads", c.vision.heads, c.vision.hidden);
  if (c.vision.image_size % c.vision.patch_size != 0) {
    check.fail("vision.image_size", std::to_string(c.vision.image_size),
               "must be a multiple of patch_size (" + std::to_string(c.vision.patch_size) + ")");
  }
  check.positive("vision.layer_norm_eps", c.vision.layer_norm_eps);
  check.positive("text.layers", c.text.layers);
  check.positive("text.hidden", c.text.hidden);
  check.positive("text.heads", c.text.heads);
  check.positive("text.intermediate", c.text.intermediate);
  check.positive("text.vocab_size", c.text.vocab_size);
  check.positive("text.max_positions", c.text.max_positions);
  check.divides("text.heads", c.text.heads, c.text.hidden);
  check.positive("text.layer_norm_eps", c.text.layer_norm_eps);
  check.positive("projection_dim", c.projection_dim);
}

namespace detail {

inline Activation clip_activation(const HfConfigReader& r) {
  return read_activation(r, "hidden_act", "quick_gelu", "CLIP", {Activation::quick_gelu, Activation::gelu});
}

}  // namespace detail

/// The top-level fields of a CLIP config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields clip_config_fields() {
  using F = ConfigField;
  return {F::read("model_type", "must be \"clip\""),
          F::read("text_config", "the text tower's fields (below)"),
          F::read("vision_config", "the vision tower's fields (below)"),
          F::read("projection_dim", "width of the shared embedding space"),
          F::no_effect("logit_scale_init_value", "the initial logit_scale; a checkpoint stores logit_scale itself")};
}

/// The fields of CLIP's text_config (`text`) or vision_config.
[[nodiscard]] inline ConfigFields clip_tower_config_fields(bool text) {
  using F = ConfigField;
  ConfigFields f = {
      F::read("hidden_act", "the feed-forward activation: \"quick_gelu\" or the erf \"gelu\""),
      F::read("num_hidden_layers", "layers"),
      F::read("hidden_size", "width"),
      F::read("num_attention_heads", "attention heads"),
      F::read("intermediate_size", "feed-forward width"),
      F::read("layer_norm_eps", "LayerNorm epsilon"),
      F::no_effect("model_type", "names the tower's class"),
      F::no_effect("is_decoder", "older configs' default; each tower's class decides its attention"),
      F::no_effect("is_encoder_decoder", "older configs' default; each tower's class decides its attention"),
      F::no_effect("add_cross_attention", "older configs' default; CLIP's towers have no cross-attention"),
      F::no_effect("cross_attention_hidden_size", "older configs' default; CLIP's towers have no cross-attention"),
      F::no_effect("tie_word_embeddings", "older configs' default; CLIP's towers have no LM head"),
      F::no_effect("projection_dim", "used by the towers' own *WithProjection classes; CLIPModel takes the top-level one")};
  if (text) {
    f.push_back(F::read("vocab_size", "rows of the token embedding"));
    f.push_back(F::read("max_position_embeddings", "rows of the position embedding"));
    f.push_back(F::read("bos_token_id", "the start token of the synthetic sequences"));
    f.push_back(F::read("eos_token_id", "the end token, whose hidden state is pooled"));
  } else {
    f.push_back(F::read("patch_size", "side of a square patch"));
    f.push_back(F::read("image_size", "side of the square image the position embedding is for"));
    f.push_back(F::read("num_channels", "image channels"));
  }
  return f;
}

/// ClipConfig from a checkpoint's config.json (model_type "clip", with
/// text_config and vision_config objects); the preset is named after the
/// folder. Fields missing from those objects take transformers' defaults
/// (CLIPTextConfig, CLIPVisionConfig), as transformers does.
[[nodiscard]] inline ClipConfig clip_config_from_checkpoint(const std::filesystem::path& dir,
                                                            std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  c.require_text("model_type", "", "clip", "the multimodal family reads CLIP checkpoints (\"clip\")");
  ClipConfig m;
  m.name = checkpoint_name(dir);
  const detail::HfConfigReader v = c.object("vision_config", "CLIP's config.json has text_config and vision_config");
  m.vision.layers = v.integer("num_hidden_layers", 12);
  m.vision.hidden = v.integer("hidden_size", 768);
  m.vision.heads = v.integer("num_attention_heads", 12);
  m.vision.intermediate = v.integer("intermediate_size", 3072);
  m.vision.patch_size = v.integer("patch_size", 32);
  m.vision.image_size = v.integer("image_size", 224);
  m.vision.channels = v.integer("num_channels", 3);
  m.vision.layer_norm_eps = v.number("layer_norm_eps", 1e-5f);
  m.vision.activation = detail::clip_activation(v);
  const detail::HfConfigReader t = c.object("text_config", "CLIP's config.json has text_config and vision_config");
  m.text.layers = t.integer("num_hidden_layers", 12);
  m.text.hidden = t.integer("hidden_size", 512);
  m.text.heads = t.integer("num_attention_heads", 8);
  m.text.intermediate = t.integer("intermediate_size", 2048);
  m.text.vocab_size = t.integer("vocab_size", 49408);
  m.text.max_positions = t.integer("max_position_embeddings", 77);
  m.text.layer_norm_eps = t.number("layer_norm_eps", 1e-5f);
  m.text.activation = detail::clip_activation(t);
  m.text.bos_token_id = t.integer("bos_token_id", 49406);
  m.text.eos_token_id = t.integer("eos_token_id", 49407);
  m.projection_dim = c.integer("projection_dim", 512);
  m.logit_scale_init = c.number("logit_scale_init_value", 2.6592f);
  c.check_fields(clip_config_fields());
  v.check_fields(clip_tower_config_fields(false));
  t.check_fields(clip_tower_config_fields(true));
  validate_clip_config(m);
  return m;
}

}  // namespace accelbench
// ---- end accelbench/model/clip_config.hpp ----

namespace accelbench {

// ---- configuration ----

// In clip_config.hpp: ClipConfig (ClipVisionConfig, ClipTextConfig), clip_presets(),
// validate_clip_config(), clip_config_from_checkpoint().

// ---- tensor names and shapes ----

namespace detail {

/// CLIP's CLIPEncoderLayer (encoder.layers.{i}.*).
inline constexpr PreNormLayerNames clip_layer_names{"layer_norm1",      "self_attn.q_proj",   "self_attn.k_proj",
                                                    "self_attn.v_proj", "self_attn.out_proj", "layer_norm2",
                                                    "mlp.fc1",          "mlp.fc2"};


inline std::string clip_layer_prefix(const char* tower, int i) {
  return std::string(tower) + ".encoder.layers." + std::to_string(i) + ".";
}
}  // namespace detail

/// The shape of every tensor of a CLIPModel, by its Hugging Face name. The
/// patch convolution is [hidden, channels * patch * patch]; logit_scale [1, 1].
inline TensorShapes clip_tensor_shapes(const ClipConfig& c) {
  const Eigen::Index vh = c.vision.hidden;
  const Eigen::Index th = c.text.hidden;
  const Eigen::Index p = c.vision.patch_size;
  TensorShapes s = {
      {"vision_model.embeddings.class_embedding", {1, vh}},
      {"vision_model.embeddings.patch_embedding.weight", {vh, Eigen::Index{c.vision.channels} * p * p}},
      {"vision_model.embeddings.position_embedding.weight", {c.vision.tokens(), vh}},
      {"vision_model.pre_layrnorm.weight", {1, vh}},
      {"vision_model.pre_layrnorm.bias", {1, vh}},
  };
  for (int l = 0; l < c.vision.layers; ++l) {
    detail::add_pre_norm_layer_shapes(s, detail::clip_layer_prefix("vision_model", l), detail::clip_layer_names, vh,
                                      c.vision.intermediate);
  }
  s.push_back({"vision_model.post_layernorm.weight", {1, vh}});
  s.push_back({"vision_model.post_layernorm.bias", {1, vh}});
  s.push_back({"text_model.embeddings.token_embedding.weight", {c.text.vocab_size, th}});
  s.push_back({"text_model.embeddings.position_embedding.weight", {c.text.max_positions, th}});
  for (int l = 0; l < c.text.layers; ++l) {
    detail::add_pre_norm_layer_shapes(s, detail::clip_layer_prefix("text_model", l), detail::clip_layer_names, th,
                                      c.text.intermediate);
  }
  s.push_back({"text_model.final_layer_norm.weight", {1, th}});
  s.push_back({"text_model.final_layer_norm.bias", {1, th}});
  s.push_back({"visual_projection.weight", {c.projection_dim, vh}});
  s.push_back({"text_projection.weight", {c.projection_dim, th}});
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights (see synthetic_weights): the LayerNorms'
/// scales near one, and logit_scale at its initial value.
inline WeightMap synthetic_clip_weights(const ClipConfig& c, std::uint64_t seed) {
  validate_clip_config(c);
  WeightMap w = synthetic_weights(clip_tensor_shapes(c), seed, [](std::string_view n) { return name_contains_any(n, {"norm"}); });
  w.insert("logit_scale", HostMatrix::Constant(1, 1, c.logit_scale_init));
  return w;
}

/// The tensors of a CLIP checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors clip_unused_tensors() {
  return {unused_suffix("position_ids", "a buffer of the positions 0, 1, 2, ..., which the model counts itself")};
}

/// A CLIP checkpoint's weights under CLIPModel's names (position-id buffers
/// dropped), the patch convolution reshaped to [hidden, channels * patch * patch].
[[nodiscard]] inline WeightMap clip_weights_from_checkpoint(const std::filesystem::path& dir, const ClipConfig& config) {
  WeightMap w = checkpoint_tensors(dir, {}, clip_unused_tensors());
  detail::reshape_conv2d_weight(w, "vision_model.embeddings.patch_embedding.weight", config.vision.hidden,
                                config.vision.channels, config.vision.patch_size);
  return w;
}

// ---- forward entry points ----

/// A batch of token ids and their attention mask.
struct ClipTextInput {
  int batch = 0;
  int seq = 0;
  std::vector<std::int32_t> input_ids;  ///< [batch * seq]
  HostMatrix attention_mask;            ///< [batch, seq], 1 = token, 0 = padding
};

/// Deterministic synthetic texts of `seq` tokens each, no padding:
/// <|startoftext|>, random ids, <|endoftext|> last. The random ids are
/// drawn from the counter-based stream "clip.input_ids" under `seed`,
/// uniform over the vocabulary without the two special tokens; a special
/// token outside the vocabulary (a tiny test config) is replaced by a
/// random id. With a legacy config (eos_token_id 2) the last token is the
/// vocabulary's highest id, the real <|endoftext|>, which the legacy rule
/// (the highest id of the sequence) then finds.
[[nodiscard]] inline ClipTextInput make_clip_text_input(const ClipConfig& c, int batch, int seq, std::uint64_t seed) {
  if (batch <= 0) throw std::invalid_argument("make_clip_text_input: batch = " + std::to_string(batch) + ": must be >= 1");
  if (seq <= 0 || seq > c.text.max_positions) {
    throw std::invalid_argument("make_clip_text_input: seq = " + std::to_string(seq) + ": must lie in [1, " +
                                std::to_string(c.text.max_positions) + "]");
  }
  const int vocab = c.text.vocab_size;
  const auto in_vocab = [&](int id) { return id >= 0 && id < vocab; };
  const int eos = c.text.legacy_eos() ? vocab - 1 : c.text.eos_token_id;
  const int bos = c.text.bos_token_id;
  std::set<int> special;
  if (in_vocab(bos)) special.insert(bos);
  if (in_vocab(eos)) special.insert(eos);
  const auto words = static_cast<std::uint64_t>(std::max<int>(1, vocab - static_cast<int>(special.size())));
  const std::uint64_t stream = detail::stream_seed(seed, "clip.input_ids");
  ClipTextInput in;
  in.batch = batch;
  in.seq = seq;
  in.input_ids.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq));
  in.attention_mask = HostMatrix::Ones(batch, seq);
  for (std::size_t i = 0; i < in.input_ids.size(); ++i) {
    const auto s = static_cast<int>(i % static_cast<std::size_t>(seq));
    int id = static_cast<int>(detail::random_bits(stream, i) % words);
    for (int skip : special) {
      if (id >= skip) ++id;  // the id-th of the non-special ids
    }
    if (s == 0 && seq > 1 && in_vocab(bos)) id = bos;
    if (s == seq - 1 && in_vocab(eos)) id = eos;
    in.input_ids[i] = id;
  }
  return in;
}

/// The position of each sequence's pooled token, as transformers'
/// CLIPTextModel: the first <|endoftext|> (0 where there is none), or with
/// a legacy config (eos_token_id 2) the first occurrence of the highest id.
[[nodiscard]] inline std::vector<int> clip_eos_positions(const ClipConfig& c, const ClipTextInput& in) {
  std::vector<int> out(static_cast<std::size_t>(in.batch), 0);
  for (int b = 0; b < in.batch; ++b) {
    const auto row = in.input_ids.begin() + static_cast<std::ptrdiff_t>(b) * in.seq;
    if (c.text.legacy_eos()) {
      out[static_cast<std::size_t>(b)] = static_cast<int>(std::max_element(row, row + in.seq) - row);
    } else {
      const auto it = std::find(row, row + in.seq, c.text.eos_token_id);
      out[static_cast<std::size_t>(b)] = it == row + in.seq ? 0 : static_cast<int>(it - row);
    }
  }
  return out;
}

/// A CLIP whose weights live on backend B.
template <PerceptionOps B>
class Clip {
 public:
  using Config = ClipConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of images and one of texts with the activations of their
  /// passes, kept between passes so that a repeated pass allocates nothing.
  struct Workspace {
    int images = 0;
    int texts = 0;
    int seq = 0;
    // vision
    Tensor pixels;                  ///< [images, channels * size * size]
    IndexTensor vision_position_ids, class_rows;
    Tensor patches;                 ///< [images * patches, hidden]
    Tensor vision_hidden;           ///< last hidden state (no final norm, as transformers), [images * tokens, hidden]
    Tensor vision_pooled;           ///< post_layernorm of the class token, [images, hidden]
    Tensor image_embeds;            ///< projected and normalised, [images, projection_dim]
    // text
    IndexTensor input_ids, text_position_ids, eos_rows;
    Tensor mask;                    ///< [texts, seq]
    Tensor text_hidden;             ///< last hidden state (after final_layer_norm), [texts * seq, hidden]
    Tensor text_pooled;             ///< the pooled token's row of it, [texts, hidden]
    Tensor text_embeds;             ///< projected and normalised, [texts, projection_dim]
    Tensor logits_per_image;        ///< [images, texts]
    Tensor scale_matrix;            ///< exp(logit_scale) * identity [texts, texts], for a backend without scale()
    detail::EncoderScratch<B> s;
  };

  /// Takes the weights it needs from `weights` (checking each shape) and
  /// uploads them to the backend.
  Clip(B& backend, ClipConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_clip_config(config_);
    const auto& v = config_.vision;
    const auto& t = config_.text;
    const Eigen::Index vh = v.hidden;
    const Eigen::Index th = t.hidden;
    detail::reshape_conv2d_weight(weights, "vision_model.embeddings.patch_embedding.weight", vh, v.channels,
                                  v.patch_size);
    WeightUploader<B> take(backend, weights, tally_);
    class_ = take("vision_model.embeddings.class_embedding", 1, vh);
    patch_w_ = take("vision_model.embeddings.patch_embedding.weight", vh,
                    Eigen::Index{v.channels} * v.patch_size * v.patch_size);
    vision_positions_ = take("vision_model.embeddings.position_embedding.weight", v.tokens(), vh);
    pre_g_ = take("vision_model.pre_layrnorm.weight", 1, vh);
    pre_b_ = take("vision_model.pre_layrnorm.bias", 1, vh);
    for (int l = 0; l < v.layers; ++l) {
      vision_layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::clip_layer_prefix("vision_model", l),
                                                              detail::clip_layer_names, vh, v.intermediate));
    }
    post_g_ = take("vision_model.post_layernorm.weight", 1, vh);
    post_b_ = take("vision_model.post_layernorm.bias", 1, vh);
    token_ = take("text_model.embeddings.token_embedding.weight", t.vocab_size, th);
    text_positions_ = take("text_model.embeddings.position_embedding.weight", t.max_positions, th);
    for (int l = 0; l < t.layers; ++l) {
      text_layers_.push_back(detail::take_pre_norm_layer<B>(take, detail::clip_layer_prefix("text_model", l),
                                                            detail::clip_layer_names, th, t.intermediate));
    }
    final_g_ = take("text_model.final_layer_norm.weight", 1, th);
    final_b_ = take("text_model.final_layer_norm.bias", 1, th);
    visual_projection_ = take("visual_projection.weight", config_.projection_dim, vh);
    text_projection_ = take("text_projection.weight", config_.projection_dim, th);
    logit_scale_ = take.host("logit_scale", 1, 1)(0, 0);
    // transformers: logit_scale.exp() in float.
    scale_ = std::exp(logit_scale_);
    take.finish("CLIP");
  }

  [[nodiscard]] const ClipConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }
  [[nodiscard]] static TensorShapes tensor_shapes(const ClipConfig& c) { return clip_tensor_shapes(c); }
  /// exp(logit_scale), the factor of the similarity logits.
  [[nodiscard]] float logit_scale() const noexcept { return scale_; }

  /// Uploads a batch of images (at the model's image size) and one of texts
  /// into a new workspace. Each text's pooled row is found here, on the host.
  [[nodiscard]] Workspace prepare(B& backend, const ImageBatch& images, const ClipTextInput& text) const {
    const auto& v = config_.vision;
    if (images.channels != v.channels || images.size != v.image_size) {
      throw std::invalid_argument("Clip: images are " + std::to_string(images.channels) + " x " +
                                  std::to_string(images.size) + " x " + std::to_string(images.size) + ", " +
                                  config_.name + " takes " + std::to_string(v.channels) + " x " +
                                  std::to_string(v.image_size) + " x " + std::to_string(v.image_size));
    }
    if (images.batch <= 0 || images.pixels.rows() != images.batch ||
        images.pixels.cols() != Eigen::Index{images.channels} * images.size * images.size) {
      throw std::invalid_argument("Clip: pixels must be [batch, channels * size * size]");
    }
    if (text.batch <= 0 || text.seq <= 0 || text.seq > config_.text.max_positions) {
      throw std::invalid_argument("Clip: text length " + std::to_string(text.seq) + " must lie in [1, " +
                                  std::to_string(config_.text.max_positions) + "] (" + config_.name + "'s positions)");
    }
    if (text.input_ids.size() != static_cast<std::size_t>(text.batch) * static_cast<std::size_t>(text.seq) ||
        text.attention_mask.rows() != text.batch || text.attention_mask.cols() != text.seq) {
      throw std::invalid_argument("Clip: input_ids must be [batch * seq] and the attention mask [batch, seq]");
    }
    Workspace ws;
    ws.images = images.batch;
    ws.texts = text.batch;
    ws.seq = text.seq;
    ws.pixels = backend.upload(images.pixels);
    ws.vision_position_ids = backend.upload_indices(detail::position_ids(ws.images, v.tokens()));
    ws.class_rows = backend.upload_indices(detail::sequence_rows(ws.images, v.tokens()));
    ws.input_ids = backend.upload_indices(text.input_ids);
    ws.text_position_ids = backend.upload_indices(detail::position_ids(ws.texts, ws.seq));
    const std::vector<int> eos = clip_eos_positions(config_, text);
    std::vector<std::int32_t> eos_rows(eos.size());
    for (std::size_t b = 0; b < eos.size(); ++b) eos_rows[b] = static_cast<std::int32_t>(b) * ws.seq + eos[b];
    ws.eos_rows = backend.upload_indices(eos_rows);
    ws.mask = backend.upload(text.attention_mask);
    if constexpr (!has_scale) {
      // Without a scale op, the scaling is a product with scale * identity
      // [texts, texts], which gives the same floats.
      const HostMatrix scaled = HostMatrix::Identity(ws.texts, ws.texts) * scale_;
      ws.scale_matrix = backend.upload(scaled);
    }
    return ws;
  }

  /// The vision tower and its projection: ws.vision_hidden,
  /// ws.vision_pooled and the normalised ws.image_embeds.
  void encode_images(B& be, Workspace& ws) const {
    const auto& v = config_.vision;
    Conv2dDims conv;
    conv.batch = ws.images;
    conv.channels = v.channels;
    conv.height = v.image_size;
    conv.width = v.image_size;
    conv.out_channels = v.hidden;
    conv.kernel = v.patch_size;
    conv.stride = v.patch_size;
    be.conv2d(ws.pixels, patch_w_, none_, conv, ws.patches);
    be.prepend_row(ws.patches, class_, ws.images, ws.vision_hidden);
    detail::add_learned_positions(be, vision_positions_, ws.vision_position_ids, ws.images, v.tokens(),
                                  ws.vision_hidden, ws.s.tmp);
    be.layer_norm(ws.vision_hidden, pre_g_, pre_b_, v.layer_norm_eps, ws.vision_hidden);
    const AttentionDims dims{ws.images, v.tokens(), v.tokens(), v.heads, v.head_dim()};
    for (const auto& L : vision_layers_) {
      detail::pre_norm_layer(be, L, v.layer_norm_eps, v.activation, none_, dims, ws.vision_hidden, ws.s);
    }
    be.embedding_lookup(ws.vision_hidden, ws.class_rows, ws.vision_pooled);
    be.layer_norm(ws.vision_pooled, post_g_, post_b_, v.layer_norm_eps, ws.vision_pooled);
    be.linear(ws.vision_pooled, visual_projection_, none_, ws.image_embeds);
    be.normalize_rows(ws.image_embeds);
  }

  /// The text tower and its projection: ws.text_hidden, ws.text_pooled and
  /// the normalised ws.text_embeds.
  void encode_texts(B& be, Workspace& ws) const {
    const auto& t = config_.text;
    be.embedding_lookup(token_, ws.input_ids, ws.text_hidden);
    detail::add_learned_positions(be, text_positions_, ws.text_position_ids, ws.texts, ws.seq, ws.text_hidden, ws.s.tmp);
    AttentionDims dims{ws.texts, ws.seq, ws.seq, t.heads, t.head_dim()};
    dims.causal = true;
    for (const auto& L : text_layers_) {
      detail::pre_norm_layer(be, L, t.layer_norm_eps, t.activation, ws.mask, dims, ws.text_hidden, ws.s);
    }
    be.layer_norm(ws.text_hidden, final_g_, final_b_, t.layer_norm_eps, ws.text_hidden);
    be.embedding_lookup(ws.text_hidden, ws.eos_rows, ws.text_pooled);
    be.linear(ws.text_pooled, text_projection_, none_, ws.text_embeds);
    be.normalize_rows(ws.text_embeds);
  }

  /// ws.logits_per_image = exp(logit_scale) * image_embeds · text_embedsᵀ.
  void similarity(B& be, Workspace& ws) const {
    if constexpr (has_scale) {
      be.linear(ws.image_embeds, ws.text_embeds, none_, ws.logits_per_image);
      be.scale(ws.logits_per_image, scale_);
    } else {
      be.linear(ws.image_embeds, ws.text_embeds, none_, ws.s.tmp);
      be.linear(ws.s.tmp, ws.scale_matrix, none_, ws.logits_per_image);
    }
  }

  /// All three.
  void forward(B& be, Workspace& ws) const {
    encode_images(be, ws);
    encode_texts(be, ws);
    similarity(be, ws);
  }

 private:
  static constexpr bool has_scale = requires(B& b, Tensor& x, float s) { b.scale(x, s); };

  ClipConfig config_;
  Tensor class_, patch_w_, vision_positions_, pre_g_, pre_b_, post_g_, post_b_;
  std::vector<detail::PreNormLayer<B>> vision_layers_;
  Tensor token_, text_positions_, final_g_, final_b_;
  std::vector<detail::PreNormLayer<B>> text_layers_;
  Tensor visual_projection_, text_projection_;
  float logit_scale_ = 0;
  float scale_ = 1;
  Tensor none_;  // an empty tensor: no bias, no mask
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/clip.hpp ----
// ---- begin accelbench/model/whisper.hpp ----

// Whisper (Radford et al., 2022) as in Hugging Face transformers'
// WhisperForConditionalGeneration: an encoder over log-mel features (two
// 1-D convolutions with GELU, sinusoidal positions, pre-norm layers) and a
// decoder (token embedding plus learned positions, causal self-attention
// with a key-value cache, cross-attention over the encoder's output, GELU
// feed-forward) whose LM head is the token embedding (proj_out, tied).
// Keys carry no bias; queries, values and outputs do. Written once over the
// backend's PerceptionOps (convolutions) and GenerationOps (the cache).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/whisper_config.hpp ----

// Whisper's configuration: the configuration section of model/whisper.hpp (its
// fields, presets, validation and reading config.json), in a file of its own
// to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

// ---- configuration ----

struct WhisperConfig {
  std::string name;
  int layers = 0;          ///< encoder layers
  int decoder_layers = 0;
  int hidden = 0;          ///< d_model
  int heads = 0;           ///< encoder attention heads
  int decoder_heads = 0;
  int intermediate = 0;          ///< encoder_ffn_dim
  int decoder_intermediate = 0;  ///< decoder_ffn_dim
  int vocab_size = 0;
  int mel_bins = 80;
  int max_source_positions = 1500;  ///< encoder positions: the input has twice as many frames
  int max_target_positions = 448;   ///< decoder positions
  int decoder_start_token = 50258;  ///< <|startoftranscript|> of the published checkpoints
  float norm_eps = 1e-5f;           ///< nn.LayerNorm's default; Whisper's config has no field for it
  bool tied_embeddings = true;      ///< proj_out is decoder.embed_tokens
  std::vector<std::string> aliases;

  /// Log-mel frames of the (padded) input: 100 per second, 3000 for 30 s.
  [[nodiscard]] int input_frames() const noexcept { return 2 * max_source_positions; }
  /// The longest clip in whole seconds that fits the input window (30 s).
  [[nodiscard]] int max_audio_seconds() const noexcept { return input_frames() / 100; }
  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int decoder_head_dim() const noexcept { return decoder_heads > 0 ? hidden / decoder_heads : 0; }

  /// Parameters, the tied head counted once (as transformers' num_parameters()).
  [[nodiscard]] std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [name, shape] : tensor_shapes()) n += shape[0] * shape[1];
    return n;
  }

  /// Bytes of the decoder's self-attention cache for `batch` sequences of up
  /// to `capacity` positions, plus the cross-attention keys and values.
  [[nodiscard]] std::uint64_t kv_cache_bytes(int batch, int capacity) const noexcept {
    const auto rows = static_cast<std::uint64_t>(batch) *
                      (static_cast<std::uint64_t>(capacity) + static_cast<std::uint64_t>(max_source_positions));
    return 2u * rows * static_cast<std::uint64_t>(hidden) * static_cast<std::uint64_t>(decoder_layers) * sizeof(float);
  }

  /// Floating-point operations of transcribing `batch` clips greedily for
  /// `new_tokens` tokens (a multiply-add counts as two): the convolutions,
  /// the encoder's projections, feed-forward and attention over every
  /// position, the cross keys and values, then one position per decoder
  /// step and the LM head. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, int new_tokens) const noexcept {
    const double b = batch;
    const double d = hidden;
    const double frames = input_frames();
    const double s = max_source_positions;
    double total = 2.0 * b * frames * d * mel_bins * 3.0 + 2.0 * b * s * d * d * 3.0;
    total += layers * (2.0 * b * s * (4.0 * d * d + 2.0 * d * intermediate) + 4.0 * b * s * s * d);
    total += decoder_layers * 2.0 * b * s * 2.0 * d * d;
    for (int t = 0; t < new_tokens; ++t) {
      total += decoder_layers * (2.0 * b * (6.0 * d * d + 2.0 * d * decoder_intermediate) + 4.0 * b * (t + 1.0) * d +
                                 4.0 * b * s * d) +
               2.0 * b * d * vocab_size;
    }
    return total;
  }

  /// Every tensor by its Hugging Face name (defined under "tensor names and
  /// shapes" in whisper.hpp).
  [[nodiscard]] TensorShapes tensor_shapes() const;
};

/// Presets with the dimensions of the published checkpoints.
inline const std::vector<WhisperConfig>& whisper_presets() {
  static const std::vector<WhisperConfig> presets = [] {
    std::vector<WhisperConfig> p;
    p.push_back({.name = "whisper-tiny", .layers = 4, .decoder_layers = 4, .hidden = 384, .heads = 6,
                 .decoder_heads = 6, .intermediate = 1536, .decoder_intermediate = 1536, .vocab_size = 51865,
                 .aliases = {"openai/whisper-tiny"}});
    p.push_back({.name = "whisper-base", .layers = 6, .decoder_layers = 6, .hidden = 512, .heads = 8,
                 .decoder_heads = 8, .intermediate = 2048, .decoder_intermediate = 2048, .vocab_size = 51865,
                 .aliases = {"openai/whisper-base"}});
    return p;
  }();
  return presets;
}

/// Checks that a configuration describes a Whisper that can be built.
inline void validate_whisper_config(const WhisperConfig& c) {
  const auto check = detail::FieldCheck::of_model(c.name);
  check.positive("layers", c.layers);
  check.positive("decoder_layers", c.decoder_layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("decoder_heads", c.decoder_heads);
  check.positive("intermediate", c.intermediate);
  check.positive("decoder_intermediate", c.decoder_intermediate);
  check.positive("vocab_size", c.vocab_size);
  check.positive("mel_bins", c.mel_bins);
  check.positive("max_source_positions", c.max_source_positions);
  check.positive("max_target_positions", c.max_target_positions);
  check.divides("heads", c.heads, c.hidden);
  check.divides("decoder_heads", c.decoder_heads, c.hidden);
  if (c.hidden % 2 != 0 || c.hidden < 4) {
    check.fail("hidden", std::to_string(c.hidden), "must be even and at least 4 (sinusoidal positions)");
  }
  if (c.decoder_start_token < 0 || c.decoder_start_token >= c.vocab_size) {
    check.fail("decoder_start_token", std::to_string(c.decoder_start_token),
               "must be a token id below vocab_size (" + std::to_string(c.vocab_size) + ")");
  }
  check.positive("norm_eps", c.norm_eps);
}

/// The fields of a Whisper config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields whisper_config_fields() {
  using F = ConfigField;
  ConfigFields f = {F::read("model_type", "must be \"whisper\""),
                    F::read("activation_function", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
                    F::read("d_model", "width"),
                    F::read("encoder_layers", "encoder layers"),
                    F::read("decoder_layers", "decoder layers"),
                    F::read("encoder_attention_heads", "encoder attention heads"),
                    F::read("decoder_attention_heads", "decoder attention heads"),
                    F::read("encoder_ffn_dim", "encoder feed-forward width"),
                    F::read("decoder_ffn_dim", "decoder feed-forward width"),
                    F::read("vocab_size", "rows of the token embedding"),
                    F::read("num_mel_bins", "log-mel bins of the input"),
                    F::read("max_source_positions", "encoder positions (after the stride-2 convolution)"),
                    F::read("max_target_positions", "decoder positions"),
                    F::read("decoder_start_token_id", "the first decoder token"),
                    F::read("tie_word_embeddings", "the head is the token embedding, or proj_out.weight"),
                    F::refused("scale_embedding", false, "scaling the token embedding by sqrt(d_model) is not implemented"),
                    F::no_effect("is_encoder_decoder", "Whisper is an encoder-decoder either way"),
                    F::no_effect("num_hidden_layers", "another name of encoder_layers, which is read"),
                    F::no_effect("median_filter_width", "word timestamps in generate()"),
                    F::no_effect("use_weighted_layer_sum", "the head of WhisperForAudioClassification"),
                    F::no_effect("classifier_proj_size", "the head of WhisperForAudioClassification")};
  add_spec_augment_fields(f);
  return f;
}

/// WhisperConfig from a checkpoint's config.json (model_type "whisper");
/// the preset is named after the folder.
[[nodiscard]] inline WhisperConfig whisper_config_from_checkpoint(const std::filesystem::path& dir,
                                                                  std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  const std::string type = c.text("model_type");
  if (type != "whisper") c.fail("model_type", "\"" + type + "\"", "expected a Whisper checkpoint (\"whisper\")");
  (void)detail::read_activation(c, "activation_function", "gelu", "Whisper", {Activation::gelu});
  WhisperConfig w;
  w.name = checkpoint_name(dir);
  w.hidden = c.integer("d_model");
  w.layers = c.integer("encoder_layers");
  w.decoder_layers = c.integer("decoder_layers");
  w.heads = c.integer("encoder_attention_heads");
  w.decoder_heads = c.integer("decoder_attention_heads");
  w.intermediate = c.integer("encoder_ffn_dim");
  w.decoder_intermediate = c.integer("decoder_ffn_dim");
  w.vocab_size = c.integer("vocab_size");
  w.mel_bins = c.integer("num_mel_bins", 80);
  w.max_source_positions = c.integer("max_source_positions", 1500);
  w.max_target_positions = c.integer("max_target_positions", 448);
  w.decoder_start_token = c.integer("decoder_start_token_id", 50257);
  w.tied_embeddings = c.boolean("tie_word_embeddings", true);
  c.check_fields(whisper_config_fields());
  validate_whisper_config(w);
  return w;
}

}  // namespace accelbench
// ---- end accelbench/model/whisper_config.hpp ----

namespace accelbench {

// ---- configuration ----

// In whisper_config.hpp: WhisperConfig, whisper_presets(), validate_whisper_config(),
// whisper_config_from_checkpoint().

// ---- tensor names and shapes ----

/// Every tensor by its Hugging Face name (WhisperForConditionalGeneration
/// without the "model." prefix), with its shape as read from a checkpoint:
/// a 1-D tensor as [1, n], a convolution's [out, in, kernel] as
/// [out * in, kernel].
inline TensorShapes WhisperConfig::tensor_shapes() const {
  TensorShapes s;
  const Eigen::Index d = hidden;
  const auto attention = [&](const std::string& p) {
    s.push_back({p + "q_proj.weight", {d, d}});
    s.push_back({p + "q_proj.bias", {1, d}});
    s.push_back({p + "k_proj.weight", {d, d}});
    s.push_back({p + "v_proj.weight", {d, d}});
    s.push_back({p + "v_proj.bias", {1, d}});
    s.push_back({p + "out_proj.weight", {d, d}});
    s.push_back({p + "out_proj.bias", {1, d}});
  };
  const auto norm = [&](const std::string& p) {
    s.push_back({p + ".weight", {1, d}});
    s.push_back({p + ".bias", {1, d}});
  };
  const auto feed_forward = [&](const std::string& p, Eigen::Index f) {
    s.push_back({p + "fc1.weight", {f, d}});
    s.push_back({p + "fc1.bias", {1, f}});
    s.push_back({p + "fc2.weight", {d, f}});
    s.push_back({p + "fc2.bias", {1, d}});
  };
  s.push_back({"encoder.conv1.weight", {d * mel_bins, 3}});
  s.push_back({"encoder.conv1.bias", {1, d}});
  s.push_back({"encoder.conv2.weight", {d * d, 3}});
  s.push_back({"encoder.conv2.bias", {1, d}});
  s.push_back({"encoder.embed_positions.weight", {max_source_positions, d}});
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    attention(p + "self_attn.");
    norm(p + "self_attn_layer_norm");
    feed_forward(p, intermediate);
    norm(p + "final_layer_norm");
  }
  norm("encoder.layer_norm");
  s.push_back({"decoder.embed_tokens.weight", {vocab_size, d}});
  s.push_back({"decoder.embed_positions.weight", {max_target_positions, d}});
  for (int l = 0; l < decoder_layers; ++l) {
    const std::string p = "decoder.layers." + std::to_string(l) + ".";
    attention(p + "self_attn.");
    norm(p + "self_attn_layer_norm");
    attention(p + "encoder_attn.");
    norm(p + "encoder_attn_layer_norm");
    feed_forward(p, decoder_intermediate);
    norm(p + "final_layer_norm");
  }
  norm("decoder.layer_norm");
  if (!tied_embeddings) s.push_back({"proj_out.weight", {vocab_size, d}});
  return s;
}

// ---- weights ----

/// Whisper's sinusoidal encoder positions, [length, channels]: sines in the
/// first half of the columns, cosines in the second, computed as
/// transformers' `sinusoids` computes them, in float: inverse timescales
/// exp(-log(10000) / (channels / 2 - 1) * j), then position times timescale.
/// exp, sin and cos are rounded correctly here, PyTorch's vectorised ones
/// to within an ulp, so a few entries differ: by one ulp at 50 x 32, by up
/// to 3e-5 at 1500 x 384, where an ulp of a timescale is multiplied by
/// positions up to 1499. Checkpoints store the table (embed_positions), so
/// only synthetic weights use this.
[[nodiscard]] inline HostMatrix whisper_sinusoids(int length, int channels) {
  if (channels % 2 != 0 || channels < 4 || length < 0) {
    throw std::invalid_argument("whisper_sinusoids: channels = " + std::to_string(channels) +
                                " must be even and at least 4");
  }
  const int half = channels / 2;
  const auto increment = static_cast<float>(-std::log(10000.0) / (half - 1));
  std::vector<float> inv(static_cast<std::size_t>(half));
  for (int j = 0; j < half; ++j) inv[static_cast<std::size_t>(j)] = std::exp(increment * static_cast<float>(j));
  HostMatrix m(length, channels);
  for (int t = 0; t < length; ++t) {
    for (int j = 0; j < half; ++j) {
      const float x = static_cast<float>(t) * inv[static_cast<std::size_t>(j)];
      m(t, j) = static_cast<float>(std::sin(static_cast<double>(x)));
      m(t, half + j) = static_cast<float>(std::cos(static_cast<double>(x)));
    }
  }
  return m;
}

/// Deterministic synthetic weights under the checkpoint names: matrices,
/// convolutions and embeddings with standard deviation 0.02, biases small,
/// LayerNorm scales near one, and the encoder's positions the sinusoids
/// that transformers initialises them with.
inline WeightMap synthetic_whisper_weights(const WhisperConfig& c, std::uint64_t seed) {
  validate_whisper_config(c);
  WeightMap w = synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) { return name_contains_any(n, {"layer_norm"}); });
  (void)w.take("encoder.embed_positions.weight", c.max_source_positions, c.hidden);
  w.insert("encoder.embed_positions.weight", whisper_sinusoids(c.max_source_positions, c.hidden));
  return w;
}

/// The tensors of a Whisper checkpoint that the model leaves out: none
/// (its tied head, proj_out.weight, must equal the token embedding).
[[nodiscard]] inline UnusedTensors whisper_unused_tensors() { return {}; }

/// A Whisper checkpoint's weights under the names the model takes
/// (WhisperForConditionalGeneration's without "model.").
[[nodiscard]] inline WeightMap whisper_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"model."}, whisper_unused_tensors());
}

// ---- forward entry points ----

/// Deterministic synthetic log-mel features of `batch` clips of
/// `audio_seconds` seconds, in transformers' layout [batch, mel_bins, frames]
/// as a 2-D matrix [batch * mel_bins, frames] (row b * mel_bins + m is mel
/// bin m of clip b). Every clip fills the model's whole input window
/// (3000 frames for 30 s, as WhisperFeatureExtractor pads): frame t of clip
/// b's first audio_seconds * 100 frames is
///   0.3 sin(2π (t / 50 + m / 20 + b / 7)) + 0.2 cos(6π m / mel_bins) + u,
/// u uniform in [-0.1, 0.1) from the seed, and the frames after the clip are
/// silence at the clip's largest value minus 2, the floor the feature
/// extractor gives silence (log10 clamped at its maximum minus 8, then
/// scaled by 1/4).
[[nodiscard]] inline HostMatrix make_whisper_features(const WhisperConfig& c, int batch, int audio_seconds,
                                                      std::uint64_t seed) {
  if (batch <= 0 || audio_seconds <= 0) {
    throw std::invalid_argument("make_whisper_features: batch = " + std::to_string(batch) + ", audio_seconds = " +
                                std::to_string(audio_seconds) + ": both must be >= 1");
  }
  constexpr double two_pi = 6.283185307179586;
  const int frames = c.input_frames();
  const int voiced = std::min(frames, audio_seconds * 100);
  const std::uint64_t stream = detail::stream_seed(seed, "whisper.input_features");
  HostMatrix m(Eigen::Index{batch} * c.mel_bins, frames);
  for (int b = 0; b < batch; ++b) {
    float peak = -1e30f;
    for (int bin = 0; bin < c.mel_bins; ++bin) {
      const Eigen::Index row = Eigen::Index{b} * c.mel_bins + bin;
      for (int t = 0; t < voiced; ++t) {
        const auto i = static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(frames) + static_cast<std::uint64_t>(t);
        const double v = 0.3 * std::sin(two_pi * (t / 50.0 + bin / 20.0 + b / 7.0)) +
                         0.2 * std::cos(3.0 * two_pi * bin / c.mel_bins) +
                         0.2 * (static_cast<double>(detail::random_unit(stream, i)) - 0.5);
        m(row, t) = static_cast<float>(v);
        peak = std::max(peak, m(row, t));
      }
    }
    const float silence = peak - 2.0f;
    for (int bin = 0; bin < c.mel_bins; ++bin) {
      m.row(Eigen::Index{b} * c.mel_bins + bin).tail(frames - voiced).setConstant(silence);
    }
  }
  return m;
}

/// A Whisper whose weights live on backend B.
template <class B>
  requires PerceptionOps<B> && GenerationOps<B>
class Whisper {
 public:
  using Config = WhisperConfig;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  struct Activations {
    Tensor x, h, q, k, v, context, ff, logits;
  };

  /// One batch being transcribed: the features, the encoder's output, the
  /// cross keys and values and the decoder's cache.
  struct Session : EncoderDecoderCache<B> {
    int batch = 0;
    int capacity = 0;  ///< decoder positions
    int length = 0;    ///< decoder positions in the cache
    Tensor features;   ///< [batch * frames, mel_bins], time-major
    IndexTensor next_ids;   ///< greedy choice of the last step, the next step's input
    Tensor encoder_out;     ///< [batch * max_source_positions, hidden]
    Activations enc, dec;
  };

  Whisper(B& backend, WhisperConfig config, WeightMap weights) : config_(std::move(config)) {
    validate_whisper_config(config_);
    const Eigen::Index d = config_.hidden;
    // transformers' rule for a stored head (common/tied_head.hpp): one that
    // differs from the token embedding unties it.
    if (config_.tied_embeddings) {
      config_.tied_embeddings = resolve_tied_head(weights, "decoder.embed_tokens.weight", "proj_out.weight");
    }
    WeightUploader<B> take(backend, weights, tally_);
    // A convolution's [out, in, kernel], read as [out * in, kernel], in the
    // [out, in * kernel] layout of conv1d.
    auto take_conv = [&](const std::string& name, Eigen::Index out, Eigen::Index in, Eigen::Index kernel) {
      const HostMatrix m = take.host(name, out * in, kernel);
      return backend.upload(HostMatrix(Eigen::Map<const HostMatrix>(m.data(), out, in * kernel)));
    };
    auto attention = [&](const std::string& p) {
      Attention a;
      a.q_w = take(p + "q_proj.weight", d, d);
      a.q_b = take(p + "q_proj.bias", 1, d);
      a.k_w = take(p + "k_proj.weight", d, d);
      a.v_w = take(p + "v_proj.weight", d, d);
      a.v_b = take(p + "v_proj.bias", 1, d);
      a.o_w = take(p + "out_proj.weight", d, d);
      a.o_b = take(p + "out_proj.bias", 1, d);
      return a;
    };
    auto norm = [&](const std::string& p) {
      return Norm{take(p + ".weight", 1, d), take(p + ".bias", 1, d)};
    };
    conv1_w_ = take_conv("encoder.conv1.weight", d, config_.mel_bins, 3);
    conv1_b_ = take("encoder.conv1.bias", 1, d);
    conv2_w_ = take_conv("encoder.conv2.weight", d, d, 3);
    conv2_b_ = take("encoder.conv2.bias", 1, d);
    enc_positions_ = take("encoder.embed_positions.weight", config_.max_source_positions, d);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.layers." + std::to_string(l) + ".";
      EncoderLayer L;
      L.self = attention(p + "self_attn.");
      L.norm1 = norm(p + "self_attn_layer_norm");
      L.fc1_w = take(p + "fc1.weight", config_.intermediate, d);
      L.fc1_b = take(p + "fc1.bias", 1, config_.intermediate);
      L.fc2_w = take(p + "fc2.weight", d, config_.intermediate);
      L.fc2_b = take(p + "fc2.bias", 1, d);
      L.norm2 = norm(p + "final_layer_norm");
      encoder_.push_back(std::move(L));
    }
    enc_norm_ = norm("encoder.layer_norm");
    embed_ = take("decoder.embed_tokens.weight", config_.vocab_size, d);
    dec_positions_ = take("decoder.embed_positions.weight", config_.max_target_positions, d);
    for (int l = 0; l < config_.decoder_layers; ++l) {
      const std::string p = "decoder.layers." + std::to_string(l) + ".";
      DecoderLayer L;
      L.self = attention(p + "self_attn.");
      L.norm1 = norm(p + "self_attn_layer_norm");
      L.cross = attention(p + "encoder_attn.");
      L.norm2 = norm(p + "encoder_attn_layer_norm");
      L.fc1_w = take(p + "fc1.weight", config_.decoder_intermediate, d);
      L.fc1_b = take(p + "fc1.bias", 1, config_.decoder_intermediate);
      L.fc2_w = take(p + "fc2.weight", d, config_.decoder_intermediate);
      L.fc2_b = take(p + "fc2.bias", 1, d);
      L.norm3 = norm(p + "final_layer_norm");
      decoder_.push_back(std::move(L));
    }
    dec_norm_ = norm("decoder.layer_norm");
    if (!config_.tied_embeddings) proj_out_ = take("proj_out.weight", config_.vocab_size, d);
    take.finish("Whisper");
  }

  [[nodiscard]] const WhisperConfig& config() const noexcept { return config_; }
  [[nodiscard]] static TensorShapes tensor_shapes(const WhisperConfig& c) { return c.tensor_shapes(); }
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }

  /// A session for `batch` clips with room for `max_new_tokens` decoder
  /// steps. `features` are in transformers' layout, [batch * mel_bins,
  /// input_frames()] (see make_whisper_features); they are transposed here,
  /// on the host, to the time-major rows of conv1d.
  [[nodiscard]] Session start(B& be, const HostMatrix& features, int batch, int max_new_tokens) const {
    const int frames = config_.input_frames();
    if (batch <= 0 || max_new_tokens < 1) throw std::invalid_argument("Whisper: batch and new tokens must be positive");
    if (max_new_tokens > config_.max_target_positions) {
      throw std::invalid_argument("Whisper: " + std::to_string(max_new_tokens) + " new tokens exceed " + config_.name +
                                  "'s " + std::to_string(config_.max_target_positions) + " decoder positions");
    }
    if (features.rows() != Eigen::Index{batch} * config_.mel_bins || features.cols() != frames) {
      throw std::invalid_argument("Whisper: features are [" + std::to_string(features.rows()) + ", " +
                                  std::to_string(features.cols()) + "], expected [" + std::to_string(batch) + " * " +
                                  std::to_string(config_.mel_bins) + ", " + std::to_string(frames) + "]");
    }
    HostMatrix time_major(Eigen::Index{batch} * frames, config_.mel_bins);
    for (int b = 0; b < batch; ++b) {
      time_major.middleRows(Eigen::Index{b} * frames, frames) =
          features.middleRows(Eigen::Index{b} * config_.mel_bins, config_.mel_bins).transpose();
    }
    Session s;
    s.batch = batch;
    s.capacity = max_new_tokens;
    s.features = be.upload(time_major);
    s.allocate(be, config_.decoder_layers, batch, s.capacity, config_.hidden, config_.decoder_start_token);
    return s;
  }

  /// Encodes the features, computes every decoder layer's cross keys and
  /// values, and runs the first decoder step from the start token.
  void prefill(B& be, Session& s) const {
    encode(be, s);
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      be.linear(s.encoder_out, decoder_[l].cross.k_w, none_, s.cross_k[l]);
      be.linear(s.encoder_out, decoder_[l].cross.v_w, decoder_[l].cross.v_b, s.cross_v[l]);
    }
    s.length = 0;
    step(be, s, s.start_ids);
  }

  /// Feeds s.next_ids and chooses the next tokens (logits in s.dec.logits).
  void decode(B& be, Session& s) const { step(be, s, s.next_ids); }

  /// The encoder alone: s.encoder_out gets its final hidden states.
  void encode(B& be, Session& s) const {
    Activations& a = s.enc;
    const int frames = config_.input_frames();
    const int d = config_.hidden;
    be.conv1d(s.features, conv1_w_, conv1_b_,
              Conv1dDims{.batch = s.batch, .length = frames, .in_channels = config_.mel_bins, .out_channels = d,
                         .kernel = 3, .stride = 1, .padding = 1},
              a.h);
    be.gelu(a.h);
    be.conv1d(a.h, conv2_w_, conv2_b_,
              Conv1dDims{.batch = s.batch, .length = frames, .in_channels = d, .out_channels = d, .kernel = 3,
                         .stride = 2, .padding = 1},
              a.x);
    be.gelu(a.x);
    be.add_positions(enc_positions_, 0, s.batch, config_.max_source_positions, a.x);
    // Queries scaled by head_dim^-1/2 before the product, as transformers does.
    const AttentionDims dims{.batch = s.batch,
                             .query_len = config_.max_source_positions,
                             .key_len = config_.max_source_positions,
                             .heads = config_.heads,
                             .head_dim = config_.head_dim()};
    for (const EncoderLayer& L : encoder_) {
      be.layer_norm(a.x, L.norm1.g, L.norm1.b, config_.norm_eps, a.h);
      be.linear(a.h, L.self.q_w, L.self.q_b, a.q);
      be.linear(a.h, L.self.k_w, none_, a.k);
      be.linear(a.h, L.self.v_w, L.self.v_b, a.v);
      be.attention(a.q, a.k, a.v, none_, dims, a.context);
      be.linear(a.context, L.self.o_w, L.self.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2.g, L.norm2.b, config_.norm_eps, a.h);
      be.linear(a.h, L.fc1_w, L.fc1_b, a.ff);
      be.gelu(a.ff);
      be.linear(a.ff, L.fc2_w, L.fc2_b, a.h);
      be.add(a.h, a.x);
    }
    be.layer_norm(a.x, enc_norm_.g, enc_norm_.b, config_.norm_eps, s.encoder_out);
  }

  /// Teacher-forced decoder pass over `decoder_ids` ([batch, len], from
  /// position 0) after prefill's encoder and cross keys and values: `hidden`
  /// gets the final-normed decoder states and `logits` the LM head's output
  /// for every position. Overwrites the session's self-attention cache.
  void decode_sequence(B& be, Session& s, std::span<const std::int32_t> decoder_ids, int len, Tensor& hidden,
                       Tensor& logits) const {
    if (len > s.capacity) throw std::invalid_argument("Whisper: decoder sequence longer than the session's capacity");
    Activations a;
    be.embedding_lookup(embed_, be.upload_indices(decoder_ids), a.x);
    run_decoder(be, s, a, len, 0);
    be.layer_norm(a.x, dec_norm_.g, dec_norm_.b, config_.norm_eps, hidden);
    be.linear(hidden, head(), none_, logits);
  }

 private:
  struct Attention {
    Tensor q_w, q_b, k_w, v_w, v_b, o_w, o_b;
  };
  struct Norm {
    Tensor g, b;
  };
  struct EncoderLayer {
    Attention self;
    Norm norm1, norm2;
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };
  struct DecoderLayer {
    Attention self, cross;
    Norm norm1, norm2, norm3;
    Tensor fc1_w, fc1_b, fc2_w, fc2_b;
  };

  [[nodiscard]] const Tensor& head() const noexcept { return config_.tied_embeddings ? embed_ : proj_out_; }

  /// One decoder position per sequence with `input` as its tokens.
  void step(B& be, Session& s, const IndexTensor& input) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range("Whisper: the decoder cache's " + std::to_string(s.capacity) + " positions are full");
    }
    Activations& a = s.dec;
    be.embedding_lookup(embed_, input, a.x);
    run_decoder(be, s, a, 1, s.length);
    be.layer_norm(a.x, dec_norm_.g, dec_norm_.b, config_.norm_eps, a.h);
    be.linear(a.h, head(), none_, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  /// `len` new positions per sequence from `start`: a.x holds their token
  /// embeddings and ends with the last layer's output (before the final norm).
  void run_decoder(B& be, Session& s, Activations& a, int len, int start) const {
    be.add_positions(dec_positions_, start, s.batch, len, a.x);
    const int hd = config_.decoder_head_dim();
    const AttentionDims self_dims{.batch = s.batch,
                                  .query_len = len,
                                  .key_len = start + len,
                                  .heads = config_.decoder_heads,
                                  .head_dim = hd,
                                  .key_stride = s.capacity,
                                  .causal = true};
    const AttentionDims cross_dims{.batch = s.batch,
                                   .query_len = len,
                                   .key_len = config_.max_source_positions,
                                   .heads = config_.decoder_heads,
                                   .head_dim = hd};
    const CacheDims cache{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
    const float eps = config_.norm_eps;
    for (std::size_t l = 0; l < decoder_.size(); ++l) {
      const DecoderLayer& L = decoder_[l];
      be.layer_norm(a.x, L.norm1.g, L.norm1.b, eps, a.h);
      be.linear(a.h, L.self.q_w, L.self.q_b, a.q);
      be.linear(a.h, L.self.k_w, none_, a.k);
      be.linear(a.h, L.self.v_w, L.self.v_b, a.v);
      be.cache_write(a.k, cache, s.self_k[l]);
      be.cache_write(a.v, cache, s.self_v[l]);
      be.attention(a.q, s.self_k[l], s.self_v[l], none_, self_dims, a.context);
      be.linear(a.context, L.self.o_w, L.self.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm2.g, L.norm2.b, eps, a.h);
      be.linear(a.h, L.cross.q_w, L.cross.q_b, a.q);
      be.attention(a.q, s.cross_k[l], s.cross_v[l], none_, cross_dims, a.context);
      be.linear(a.context, L.cross.o_w, L.cross.o_b, a.h);
      be.add(a.h, a.x);
      be.layer_norm(a.x, L.norm3.g, L.norm3.b, eps, a.h);
      be.linear(a.h, L.fc1_w, L.fc1_b, a.ff);
      be.gelu(a.ff);
      be.linear(a.ff, L.fc2_w, L.fc2_b, a.h);
      be.add(a.h, a.x);
    }
  }

  WhisperConfig config_;
  Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_, enc_positions_, embed_, dec_positions_, proj_out_;
  Norm enc_norm_, dec_norm_;
  Tensor none_;  // an empty tensor: no bias, no mask
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/whisper.hpp ----
// ---- begin accelbench/model/wav2vec2.hpp ----

// wav2vec 2.0 (Baevski et al., 2020) as in Hugging Face transformers'
// Wav2Vec2Model: a feature encoder of 1-D convolutions over the raw 16 kHz
// waveform, each followed by GELU (wav2vec2-base: group normalisation on the
// first layer's channels; the large models: a LayerNorm over the channels
// after every convolution), a feature projection (LayerNorm, linear), a
// grouped positional convolution (weight-normalised; its last frame
// dropped, GELU) added to the projected features, then either LayerNorm and
// post-norm transformer layers as in BERT (wav2vec2-base) or pre-norm
// layers and a LayerNorm at the end (do_stable_layer_norm, the large
// models). Written once over the backend's PerceptionOps.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/model/wav2vec2_config.hpp ----

// wav2vec2's configuration: the configuration section of model/wav2vec2.hpp (its
// fields, presets, validation and reading config.json), in a file of its own
// to keep each file short.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

// ---- configuration ----

struct Wav2Vec2Config {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  std::vector<int> conv_dim;     ///< channels of each feature-encoder layer
  std::vector<int> conv_kernel;
  std::vector<int> conv_stride;
  bool conv_bias = false;
  /// feat_extract_norm "layer": a LayerNorm over the channels after every
  /// feature-encoder convolution (the large models); otherwise "group", a
  /// GroupNorm after the first one only (wav2vec2-base).
  bool conv_layer_norm = false;
  /// do_stable_layer_norm: pre-norm layers, the encoder's LayerNorm after
  /// the last layer (the large models); otherwise post-norm layers, the
  /// encoder's LayerNorm after the positional convolution.
  bool stable_layer_norm = false;
  int pos_conv_kernel = 128;  ///< num_conv_pos_embeddings
  int pos_conv_groups = 16;   ///< num_conv_pos_embedding_groups
  float norm_eps = 1e-5f;     ///< layer_norm_eps (the group norm's is PyTorch's 1e-5)
  std::vector<std::string> aliases;

  static constexpr int sample_rate = 16000;

  [[nodiscard]] int head_dim() const noexcept { return heads > 0 ? hidden / heads : 0; }
  [[nodiscard]] int feature_dim() const noexcept { return conv_dim.empty() ? 0 : conv_dim.back(); }

  /// Frames out of the feature encoder for `samples` samples (0 when too few).
  [[nodiscard]] int frames(std::int64_t samples) const noexcept {
    std::int64_t n = samples;
    for (std::size_t i = 0; i < conv_kernel.size(); ++i) {
      if (n < conv_kernel[i]) return 0;
      n = (n - conv_kernel[i]) / conv_stride[i] + 1;
    }
    return static_cast<int>(n);
  }

  /// Parameters of the tensors the model uses, as stored (the positional
  /// convolution's weight norm as its magnitude g and direction v). Not
  /// counted: masked_spec_embed, the SpecAugment vector that
  /// Wav2Vec2Model holds for training only (hidden values).
  [[nodiscard]] std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& [name, shape] : tensor_shapes()) n += shape[0] * shape[1];
    return n;
  }

  /// Floating-point operations of one forward pass over `batch` clips of
  /// `samples` samples (a multiply-add counts as two): the convolutions,
  /// the projection, and the layers' projections, feed-forward and
  /// attention. Element-wise work is left out.
  [[nodiscard]] double flops(int batch, std::int64_t samples) const noexcept {
    const double b = batch;
    double total = 0;
    std::int64_t n = samples;
    int in = 1;
    for (std::size_t i = 0; i < conv_dim.size(); ++i) {
      if (n < conv_kernel[i]) return total;
      n = (n - conv_kernel[i]) / conv_stride[i] + 1;
      total += 2.0 * b * static_cast<double>(n) * conv_dim[i] * in * conv_kernel[i];
      in = conv_dim[i];
    }
    const double t = static_cast<double>(n);
    const double h = hidden;
    total += 2.0 * b * t * feature_dim() * h;
    total += 2.0 * b * (t + 1.0) * h * (h / pos_conv_groups) * pos_conv_kernel;
    total += layers * (2.0 * b * t * (4.0 * h * h + 2.0 * h * intermediate) + 4.0 * b * t * t * h);
    return total;
  }

  /// Every tensor by its Hugging Face name (defined under "tensor names and
  /// shapes" in wav2vec2.hpp).
  [[nodiscard]] TensorShapes tensor_shapes() const;
};

/// The presets with the dimensions of the published checkpoints.
inline const std::vector<Wav2Vec2Config>& wav2vec2_presets() {
  static const std::vector<Wav2Vec2Config> presets = {
      {.name = "wav2vec2-base", .layers = 12, .hidden = 768, .heads = 12, .intermediate = 3072,
       .conv_dim = {512, 512, 512, 512, 512, 512, 512}, .conv_kernel = {10, 3, 3, 3, 3, 2, 2},
       .conv_stride = {5, 2, 2, 2, 2, 2, 2}, .conv_bias = false, .pos_conv_kernel = 128, .pos_conv_groups = 16,
       .norm_eps = 1e-5f, .aliases = {"facebook/wav2vec2-base"}},
      {.name = "wav2vec2-large-lv60", .layers = 24, .hidden = 1024, .heads = 16, .intermediate = 4096,
       .conv_dim = {512, 512, 512, 512, 512, 512, 512}, .conv_kernel = {10, 3, 3, 3, 3, 2, 2},
       .conv_stride = {5, 2, 2, 2, 2, 2, 2}, .conv_bias = true, .conv_layer_norm = true, .stable_layer_norm = true,
       .pos_conv_kernel = 128, .pos_conv_groups = 16, .norm_eps = 1e-5f, .aliases = {"facebook/wav2vec2-large-lv60"}},
  };
  return presets;
}

/// Checks that a configuration describes a wav2vec2 that can be built.
inline void validate_wav2vec2_config(const Wav2Vec2Config& c) {
  const auto check = detail::FieldCheck::of_model(c.name);
  check.positive("layers", c.layers);
  check.positive("hidden", c.hidden);
  check.positive("heads", c.heads);
  check.positive("intermediate", c.intermediate);
  check.positive("pos_conv_kernel", c.pos_conv_kernel);
  check.positive("pos_conv_groups", c.pos_conv_groups);
  if (c.conv_dim.empty() || c.conv_kernel.size() != c.conv_dim.size() || c.conv_stride.size() != c.conv_dim.size()) {
    check.fail("conv_dim", std::to_string(c.conv_dim.size()) + " layers",
               "conv_dim, conv_kernel and conv_stride must name the same number (at least one) of layers; "
               "conv_kernel has " + std::to_string(c.conv_kernel.size()) + ", conv_stride " +
                   std::to_string(c.conv_stride.size()));
  }
  for (std::size_t i = 0; i < c.conv_dim.size(); ++i) {
    check.positive("conv_dim[" + std::to_string(i) + "]", c.conv_dim[i]);
    check.positive("conv_kernel[" + std::to_string(i) + "]", c.conv_kernel[i]);
    check.positive("conv_stride[" + std::to_string(i) + "]", c.conv_stride[i]);
  }
  check.divides("heads", c.heads, c.hidden);
  check.divides("pos_conv_groups", c.pos_conv_groups, c.hidden);
  check.positive("norm_eps", c.norm_eps);
}

/// The fields of a wav2vec2 config.json (besides common_config_fields()).
[[nodiscard]] inline ConfigFields wav2vec2_config_fields() {
  using F = ConfigField;
  ConfigFields f = {
      F::read("model_type", "must be \"wav2vec2\""),
      F::read("hidden_act", "the feed-forward activation; only the erf GELU (\"gelu\") is implemented"),
      F::read("feat_extract_activation", "the feature encoder's activation; only the erf GELU (\"gelu\") is implemented"),
      F::read("feat_extract_norm",
              "the feature encoder's normalisation: \"group\" (a GroupNorm after the first convolution) or "
              "\"layer\" (a LayerNorm over the channels after every convolution)"),
      F::read("do_stable_layer_norm",
              "pre-norm layers with the encoder's LayerNorm after the last layer (true) or post-norm layers with it "
              "after the positional convolution (false)"),
      F::read("add_adapter", "an adapter after the encoder; only false is implemented"),
      F::read("num_hidden_layers", "layers"),
      F::read("hidden_size", "width"),
      F::read("num_attention_heads", "attention heads"),
      F::read("intermediate_size", "feed-forward width"),
      F::read("conv_dim", "channels of each feature-encoder convolution"),
      F::read("conv_kernel", "kernel of each feature-encoder convolution"),
      F::read("conv_stride", "stride of each feature-encoder convolution"),
      F::read("conv_bias", "biases on the feature-encoder convolutions"),
      F::read("num_conv_pos_embeddings", "kernel of the positional convolution"),
      F::read("num_conv_pos_embedding_groups", "groups of the positional convolution"),
      F::read("layer_norm_eps", "LayerNorm epsilon"),
      F::refused("adapter_attn_dim", nullptr, "attention adapters in every layer (MMS) are not implemented"),
      F::no_effect("num_feat_extract_layers", "the number of conv_dim entries, which are read"),
      F::no_effect("vocab_size", "the CTC head of Wav2Vec2ForCTC, not part of Wav2Vec2Model"),
      F::no_effect("ctc_loss_reduction", "the CTC loss, in training only"),
      F::no_effect("ctc_zero_infinity", "the CTC loss, in training only"),
      F::no_effect("use_weighted_layer_sum", "the heads of sequence classification and speaker verification"),
      F::no_effect("classifier_proj_size", "the head of Wav2Vec2ForSequenceClassification")};
  add_spec_augment_fields(f);
  for (const char* n : {"codevector_dim", "proj_codevector_dim", "num_codevector_groups", "num_codevectors_per_group",
                        "num_negatives", "contrastive_logits_temperature", "diversity_loss_weight"}) {
    f.push_back(F::no_effect(n, "the quantizer and losses of Wav2Vec2ForPreTraining, in pre-training only"));
  }
  for (const char* n : {"adapter_kernel_size", "adapter_stride", "num_adapter_layers", "output_hidden_size"}) {
    f.push_back(F::no_effect(n, "the adapter, which add_adapter turns on (refused)"));
  }
  for (const char* n : {"tdnn_dim", "tdnn_kernel", "tdnn_dilation", "xvector_output_dim"}) {
    f.push_back(F::no_effect(n, "the head of Wav2Vec2ForXVector"));
  }
  return f;
}

/// Wav2Vec2Config from a checkpoint's config.json (model_type "wav2vec2");
/// the preset is named after the folder. What the model does not
/// implement is refused with its field: adapters, activations other than
/// GELU, feature-encoder normalisations other than "group" and "layer".
[[nodiscard]] inline Wav2Vec2Config wav2vec2_config_from_checkpoint(const std::filesystem::path& dir,
                                                                    std::vector<std::string> accepted = {}) {
  const detail::HfConfigReader c = detail::checkpoint_config(dir, std::move(accepted));
  const std::string type = c.text("model_type");
  if (type != "wav2vec2") c.fail("model_type", "\"" + type + "\"", "expected a wav2vec2 checkpoint (\"wav2vec2\")");
  for (const char* key : {"hidden_act", "feat_extract_activation"}) {
    (void)detail::read_activation(c, key, "gelu", "wav2vec2", {Activation::gelu});
  }
  const std::string norm = c.text("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer") {
    c.fail("feat_extract_norm", "\"" + norm + "\"", "expected \"group\" or \"layer\", as transformers does");
  }
  if (c.boolean("add_adapter", false)) c.fail("add_adapter", "true", "adapters are not implemented");
  Wav2Vec2Config w;
  w.name = checkpoint_name(dir);
  w.layers = c.integer("num_hidden_layers");
  w.hidden = c.integer("hidden_size");
  w.heads = c.integer("num_attention_heads");
  w.intermediate = c.integer("intermediate_size");
  w.conv_dim = c.integers("conv_dim");
  w.conv_kernel = c.integers("conv_kernel");
  w.conv_stride = c.integers("conv_stride");
  w.conv_bias = c.boolean("conv_bias", false);
  w.conv_layer_norm = norm == "layer";
  w.stable_layer_norm = c.boolean("do_stable_layer_norm", false);
  w.pos_conv_kernel = c.integer("num_conv_pos_embeddings", 128);
  w.pos_conv_groups = c.integer("num_conv_pos_embedding_groups", 16);
  w.norm_eps = c.number("layer_norm_eps", 1e-5f);
  c.check_fields(wav2vec2_config_fields());
  validate_wav2vec2_config(w);
  return w;
}

}  // namespace accelbench
// ---- end accelbench/model/wav2vec2_config.hpp ----

namespace accelbench {

// ---- configuration ----

// In wav2vec2_config.hpp: Wav2Vec2Config, wav2vec2_presets(), validate_wav2vec2_config(),
// wav2vec2_config_from_checkpoint().

// ---- tensor names and shapes ----

/// Every tensor the model uses by its Hugging Face name (Wav2Vec2Model's),
/// with its shape as read from a checkpoint: a 1-D tensor as [1, n], a
/// convolution's [out, in, kernel] as [out * in, kernel]. The positional
/// convolution's weight is in transformers 5's parametrised form.
inline TensorShapes Wav2Vec2Config::tensor_shapes() const {
  TensorShapes s;
  const Eigen::Index h = hidden;
  const auto norm = [&](const std::string& p, Eigen::Index n) {
    s.push_back({p + ".weight", {1, n}});
    s.push_back({p + ".bias", {1, n}});
  };
  Eigen::Index in = 1;
  for (std::size_t i = 0; i < conv_dim.size(); ++i) {
    const std::string p = "feature_extractor.conv_layers." + std::to_string(i) + ".";
    s.push_back({p + "conv.weight", {conv_dim[i] * in, conv_kernel[i]}});
    if (conv_bias) s.push_back({p + "conv.bias", {1, conv_dim[i]}});
    if (i == 0 || conv_layer_norm) norm(p + "layer_norm", conv_dim[i]);
    in = conv_dim[i];
  }
  norm("feature_projection.layer_norm", feature_dim());
  s.push_back({"feature_projection.projection.weight", {h, feature_dim()}});
  s.push_back({"feature_projection.projection.bias", {1, h}});
  s.push_back({"encoder.pos_conv_embed.conv.parametrizations.weight.original0", {1, pos_conv_kernel}});
  s.push_back({"encoder.pos_conv_embed.conv.parametrizations.weight.original1",
               {h * (h / pos_conv_groups), pos_conv_kernel}});
  s.push_back({"encoder.pos_conv_embed.conv.bias", {1, h}});
  norm("encoder.layer_norm", h);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      s.push_back({p + "attention." + proj + ".weight", {h, h}});
      s.push_back({p + "attention." + proj + ".bias", {1, h}});
    }
    norm(p + "layer_norm", h);
    s.push_back({p + "feed_forward.intermediate_dense.weight", {intermediate, h}});
    s.push_back({p + "feed_forward.intermediate_dense.bias", {1, intermediate}});
    s.push_back({p + "feed_forward.output_dense.weight", {h, intermediate}});
    s.push_back({p + "feed_forward.output_dense.bias", {1, h}});
    norm(p + "final_layer_norm", h);
  }
  return s;
}

// ---- weights ----

/// Deterministic synthetic weights under the checkpoint names: matrices and
/// convolution directions with standard deviation 0.02, biases small, norm
/// scales and the weight norm's magnitudes g near one.
inline WeightMap synthetic_wav2vec2_weights(const Wav2Vec2Config& c, std::uint64_t seed) {
  validate_wav2vec2_config(c);
  return synthetic_weights(c.tensor_shapes(), seed, [](std::string_view n) {
    return name_contains_any(n, {"norm"}) || n.ends_with("original0");
  });
}

/// The tensors of a wav2vec2 checkpoint that the model leaves out.
[[nodiscard]] inline UnusedTensors wav2vec2_unused_tensors() {
  return {unused_name("masked_spec_embed", "the vector that replaces masked frames in training (SpecAugment)"),
          unused_prefix("lm_head.", "the CTC head of Wav2Vec2ForCTC, not part of Wav2Vec2Model"),
          unused_prefix("quantizer.", "the quantizer of Wav2Vec2ForPreTraining, used in pre-training only"),
          unused_prefix("project_q.", "a projection of Wav2Vec2ForPreTraining, used in pre-training only"),
          unused_prefix("project_hid.", "a projection of Wav2Vec2ForPreTraining, used in pre-training only")};
}

/// A wav2vec2 checkpoint's weights under Wav2Vec2Model's names: the
/// "wav2vec2." prefix of the task models is removed, and what no forward
/// pass here uses is dropped (masked_spec_embed, the CTC head, the
/// pre-training quantizer and projections).
[[nodiscard]] inline WeightMap wav2vec2_weights_from_checkpoint(const std::filesystem::path& dir) {
  return checkpoint_tensors(dir, {"wav2vec2."}, wav2vec2_unused_tensors());
}

/// The positional convolution's weight from its weight norm: w = g v / |v|,
/// the norm taken over every dimension but the kernel's (weight_norm with
/// dim=2). `g` is [1, kernel]; `v` is [out * in, kernel] (as read) and so is
/// the result.
[[nodiscard]] inline HostMatrix fold_weight_norm(const HostMatrix& g, const HostMatrix& v) {
  if (g.rows() != 1 || g.cols() != v.cols()) {
    throw std::invalid_argument("fold_weight_norm: g must be [1, " + std::to_string(v.cols()) + "]");
  }
  HostMatrix w(v.rows(), v.cols());
  for (Eigen::Index k = 0; k < v.cols(); ++k) {
    double sum = 0;
    for (Eigen::Index r = 0; r < v.rows(); ++r) sum += static_cast<double>(v(r, k)) * v(r, k);
    const auto scale = static_cast<float>(static_cast<double>(g(0, k)) / std::sqrt(sum));
    w.col(k) = v.col(k) * scale;
  }
  return w;
}

// ---- forward entry points ----

/// Deterministic synthetic 16 kHz waveforms, [batch, samples]: for clip b
/// at time t = n / 16000 s,
///   (0.6 sin(2π f t) + 0.3 sin(2π 3f t)) · (0.2 + 0.8 sin²(4π t)) + u,
/// a voice at f = 150 + 25 b Hz with its third harmonic, in syllables of
/// 4 per second, and u uniform in [-0.05, 0.05) from the seed; then each
/// clip is normalised to zero mean and unit variance, as
/// Wav2Vec2FeatureExtractor does (do_normalize).
[[nodiscard]] inline HostMatrix make_wav2vec2_waveform(int batch, std::int64_t samples, std::uint64_t seed) {
  if (batch <= 0 || samples <= 0) {
    throw std::invalid_argument("make_wav2vec2_waveform: batch = " + std::to_string(batch) + ", samples = " +
                                std::to_string(samples) + ": both must be >= 1");
  }
  constexpr double two_pi = 6.283185307179586;
  const std::uint64_t stream = detail::stream_seed(seed, "wav2vec2.input_values");
  HostMatrix m(batch, samples);
  for (int b = 0; b < batch; ++b) {
    const double f = 150.0 + 25.0 * b;
    std::vector<double> x(static_cast<std::size_t>(samples));
    double sum = 0;
    for (std::int64_t n = 0; n < samples; ++n) {
      const double t = static_cast<double>(n) / Wav2Vec2Config::sample_rate;
      const double envelope = 0.2 + 0.8 * std::pow(std::sin(0.5 * two_pi * 4.0 * t), 2);
      const auto i = static_cast<std::uint64_t>(b) * static_cast<std::uint64_t>(samples) + static_cast<std::uint64_t>(n);
      const double u = 0.1 * (static_cast<double>(detail::random_unit(stream, i)) - 0.5);
      x[static_cast<std::size_t>(n)] =
          (0.6 * std::sin(two_pi * f * t) + 0.3 * std::sin(two_pi * 3.0 * f * t)) * envelope + u;
      sum += x[static_cast<std::size_t>(n)];
    }
    const double mean = sum / static_cast<double>(samples);
    double var = 0;
    for (double v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(samples);
    const double inv_std = 1.0 / std::sqrt(var + 1e-7);
    for (std::int64_t n = 0; n < samples; ++n) {
      m(b, n) = static_cast<float>((x[static_cast<std::size_t>(n)] - mean) * inv_std);
    }
  }
  return m;
}

/// A wav2vec2 whose weights live on backend B.
template <PerceptionOps B>
class Wav2Vec2 {
 public:
  using Config = Wav2Vec2Config;
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;

  /// One batch of waveforms and the activations of a forward pass, kept
  /// between passes.
  struct Workspace {
    int batch = 0;
    std::int64_t samples = 0;
    int frames = 0;
    Tensor input;          ///< [batch * samples, 1]
    IndexTensor pos_rows;  ///< the rows of the positional convolution kept (its last frame dropped)
    Tensor features;       ///< extract_features: the normalised encoder output, [batch * frames, conv_dim.back()]
    Tensor hidden;         ///< last_hidden_state, [batch * frames, hidden]
    Tensor conv_a, conv_b, pos_full, pos, q, k, v, context, attn, inter, tmp;
  };

  Wav2Vec2(B& backend, Wav2Vec2Config config, WeightMap weights) : config_(std::move(config)) {
    validate_wav2vec2_config(config_);
    const Eigen::Index h = config_.hidden;
    const Eigen::Index i = config_.intermediate;
    WeightUploader<B> take(backend, weights, tally_);
    // [out, in, kernel] read as [out * in, kernel], in conv1d's [out, in * kernel].
    auto reshape = [](const HostMatrix& m, Eigen::Index out) {
      return HostMatrix(Eigen::Map<const HostMatrix>(m.data(), out, m.size() / out));
    };
    Eigen::Index in = 1;
    for (std::size_t l = 0; l < config_.conv_dim.size(); ++l) {
      const std::string p = "feature_extractor.conv_layers." + std::to_string(l) + ".";
      const Eigen::Index out = config_.conv_dim[l];
      ConvLayer L;
      L.w = backend.upload(reshape(take.host(p + "conv.weight", out * in, config_.conv_kernel[l]), out));
      if (config_.conv_bias) L.b = take(p + "conv.bias", 1, out);
      if (l == 0 || config_.conv_layer_norm) {
        L.norm_g = take(p + "layer_norm.weight", 1, out);
        L.norm_b = take(p + "layer_norm.bias", 1, out);
      }
      conv_.push_back(std::move(L));
      in = out;
    }
    const Eigen::Index f = config_.feature_dim();
    fp_norm_g_ = take("feature_projection.layer_norm.weight", 1, f);
    fp_norm_b_ = take("feature_projection.layer_norm.bias", 1, f);
    proj_w_ = take("feature_projection.projection.weight", h, f);
    proj_b_ = take("feature_projection.projection.bias", 1, h);
    // The positional convolution's weight norm, folded: transformers 5 names
    // its parts parametrizations.weight.original0 (g) and original1 (v),
    // older checkpoints weight_g and weight_v; a plain weight is taken as is.
    const std::string pc = "encoder.pos_conv_embed.conv.";
    const Eigen::Index pos_rows = h * (h / config_.pos_conv_groups);
    const Eigen::Index kernel = config_.pos_conv_kernel;
    HostMatrix pos_w;
    if (weights.contains(pc + "weight")) {
      pos_w = take.host(pc + "weight", pos_rows, kernel);
    } else {
      const bool parametrized = weights.contains(pc + "parametrizations.weight.original0");
      const HostMatrix g = take.host(pc + (parametrized ? "parametrizations.weight.original0" : "weight_g"), 1, kernel);
      const HostMatrix v = take.host(pc + (parametrized ? "parametrizations.weight.original1" : "weight_v"), pos_rows, kernel);
      pos_w = fold_weight_norm(g, v);
      tally_.bytes -= static_cast<std::uint64_t>(g.size()) * sizeof(float);  // g is folded into the weight
    }
    pos_w_ = backend.upload(reshape(pos_w, h));
    pos_b_ = take(pc + "bias", 1, h);
    enc_norm_g_ = take("encoder.layer_norm.weight", 1, h);
    enc_norm_b_ = take("encoder.layer_norm.bias", 1, h);
    for (int l = 0; l < config_.layers; ++l) {
      const std::string p = "encoder.layers." + std::to_string(l) + ".";
      Layer L;
      L.q_w = take(p + "attention.q_proj.weight", h, h);
      L.q_b = take(p + "attention.q_proj.bias", 1, h);
      L.k_w = take(p + "attention.k_proj.weight", h, h);
      L.k_b = take(p + "attention.k_proj.bias", 1, h);
      L.v_w = take(p + "attention.v_proj.weight", h, h);
      L.v_b = take(p + "attention.v_proj.bias", 1, h);
      L.o_w = take(p + "attention.out_proj.weight", h, h);
      L.o_b = take(p + "attention.out_proj.bias", 1, h);
      L.ln1_g = take(p + "layer_norm.weight", 1, h);
      L.ln1_b = take(p + "layer_norm.bias", 1, h);
      L.i_w = take(p + "feed_forward.intermediate_dense.weight", i, h);
      L.i_b = take(p + "feed_forward.intermediate_dense.bias", 1, i);
      L.out_w = take(p + "feed_forward.output_dense.weight", h, i);
      L.out_b = take(p + "feed_forward.output_dense.bias", 1, h);
      L.ln2_g = take(p + "final_layer_norm.weight", 1, h);
      L.ln2_b = take(p + "final_layer_norm.bias", 1, h);
      layers_.push_back(std::move(L));
    }
    take.finish("wav2vec2");
  }

  [[nodiscard]] const Wav2Vec2Config& config() const noexcept { return config_; }
  [[nodiscard]] static TensorShapes tensor_shapes(const Wav2Vec2Config& c) { return c.tensor_shapes(); }
  /// Parameters as stored (g and v of the weight norm), masked_spec_embed not counted.
  [[nodiscard]] std::int64_t parameters() const noexcept { return tally_.parameters; }
  /// Bytes of the weights on the device (the weight norm folded).
  [[nodiscard]] std::uint64_t weight_bytes() const noexcept { return tally_.bytes; }

  /// Uploads `waveform`, [batch, samples] of 16 kHz audio, as the
  /// [batch * samples, 1] input of the first convolution.
  [[nodiscard]] Workspace prepare(B& be, const HostMatrix& waveform) const {
    Workspace ws;
    ws.batch = static_cast<int>(waveform.rows());
    ws.samples = waveform.cols();
    ws.frames = config_.frames(ws.samples);
    if (ws.batch <= 0 || ws.frames <= 0) {
      throw std::invalid_argument("Wav2Vec2: " + std::to_string(ws.samples) + " samples in " + std::to_string(ws.batch) +
                                  " clips give no frame");
    }
    ws.input = be.upload(HostMatrix(Eigen::Map<const HostMatrix>(waveform.data(), waveform.size(), 1)));
    const int pos_len = pos_conv_dims(ws).out_length();
    std::vector<std::int32_t> rows;
    for (int b = 0; b < ws.batch; ++b) {
      for (int t = 0; t < ws.frames; ++t) rows.push_back(b * pos_len + t);
    }
    ws.pos_rows = be.upload_indices(rows);
    return ws;
  }

  /// One forward pass: ws.features gets extract_features and ws.hidden the
  /// last hidden state.
  void forward(B& be, Workspace& ws) const {
    const Tensor* x = &ws.input;
    Tensor* buffers[2] = {&ws.conv_a, &ws.conv_b};
    int next = 0;
    std::int64_t length = ws.samples;
    int in = 1;
    for (std::size_t l = 0; l < conv_.size(); ++l) {
      const Conv1dDims dims{.batch = ws.batch,
                            .length = static_cast<int>(length),
                            .in_channels = in,
                            .out_channels = config_.conv_dim[l],
                            .kernel = config_.conv_kernel[l],
                            .stride = config_.conv_stride[l]};
      Tensor& y = *buffers[next];
      next ^= 1;
      be.conv1d(*x, conv_[l].w, conv_[l].b, dims, y);
      length = dims.out_length();
      in = config_.conv_dim[l];
      if (config_.conv_layer_norm) {
        // LayerNorm over the channels of each frame (PyTorch's default eps).
        be.layer_norm(y, conv_[l].norm_g, conv_[l].norm_b, 1e-5f, y);
        be.gelu(y);
        x = &y;
      } else if (l == 0) {
        // GroupNorm with one group per channel: each channel over time.
        Tensor& z = *buffers[next];
        next ^= 1;
        be.group_norm(y, conv_[l].norm_g, conv_[l].norm_b,
                      GroupNormDims{.batch = ws.batch, .length = static_cast<int>(length), .groups = in}, 1e-5f, z);
        be.gelu(z);
        x = &z;
      } else {
        be.gelu(y);
        x = &y;
      }
    }
    const float eps = config_.norm_eps;
    be.layer_norm(*x, fp_norm_g_, fp_norm_b_, eps, ws.features);
    be.linear(ws.features, proj_w_, proj_b_, ws.hidden);

    const Conv1dDims pos_dims = pos_conv_dims(ws);
    if (pos_dims.out_length() == ws.frames) {  // an odd kernel: nothing to drop
      be.conv1d(ws.hidden, pos_w_, pos_b_, pos_dims, ws.pos);
    } else {
      be.conv1d(ws.hidden, pos_w_, pos_b_, pos_dims, ws.pos_full);
      be.embedding_lookup(ws.pos_full, ws.pos_rows, ws.pos);
    }
    be.gelu(ws.pos);
    be.add(ws.pos, ws.hidden);
    if (config_.stable_layer_norm) {
      stable_layers(be, ws);
      be.layer_norm(ws.hidden, enc_norm_g_, enc_norm_b_, eps, ws.hidden);
      return;
    }
    be.layer_norm(ws.hidden, enc_norm_g_, enc_norm_b_, eps, ws.hidden);

    const AttentionDims dims{ws.batch, ws.frames, ws.frames, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.linear(ws.hidden, L.q_w, L.q_b, ws.q);
      be.linear(ws.hidden, L.k_w, L.k_b, ws.k);
      be.linear(ws.hidden, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
      be.linear(ws.context, L.o_w, L.o_b, ws.attn);
      be.add(ws.hidden, ws.attn);
      be.layer_norm(ws.attn, L.ln1_g, L.ln1_b, eps, ws.hidden);
      be.linear(ws.hidden, L.i_w, L.i_b, ws.inter);
      be.gelu(ws.inter);
      be.linear(ws.inter, L.out_w, L.out_b, ws.tmp);
      be.add(ws.hidden, ws.tmp);
      be.layer_norm(ws.tmp, L.ln2_g, L.ln2_b, eps, ws.hidden);
    }
  }

 private:
  struct ConvLayer {
    Tensor w, b, norm_g, norm_b;
  };
  struct Layer {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_g, ln1_b;
    Tensor i_w, i_b, out_w, out_b, ln2_g, ln2_b;
  };

  /// The pre-norm layers of do_stable_layer_norm (transformers'
  /// Wav2Vec2EncoderLayerStableLayerNorm): h += attention(layer_norm(h)),
  /// then h += feed_forward(final_layer_norm(h)).
  void stable_layers(B& be, Workspace& ws) const {
    const float eps = config_.norm_eps;
    const AttentionDims dims{ws.batch, ws.frames, ws.frames, config_.heads, config_.head_dim()};
    for (const Layer& L : layers_) {
      be.layer_norm(ws.hidden, L.ln1_g, L.ln1_b, eps, ws.tmp);
      be.linear(ws.tmp, L.q_w, L.q_b, ws.q);
      be.linear(ws.tmp, L.k_w, L.k_b, ws.k);
      be.linear(ws.tmp, L.v_w, L.v_b, ws.v);
      be.attention(ws.q, ws.k, ws.v, none_, dims, ws.context);
      be.linear(ws.context, L.o_w, L.o_b, ws.attn);
      be.add(ws.attn, ws.hidden);
      be.layer_norm(ws.hidden, L.ln2_g, L.ln2_b, eps, ws.tmp);
      be.linear(ws.tmp, L.i_w, L.i_b, ws.inter);
      be.gelu(ws.inter);
      be.linear(ws.inter, L.out_w, L.out_b, ws.attn);
      be.add(ws.attn, ws.hidden);
    }
  }

  /// The positional convolution: grouped, padded by kernel / 2 on each side
  /// (one frame too many for an even kernel, which SamePad drops).
  [[nodiscard]] Conv1dDims pos_conv_dims(const Workspace& ws) const noexcept {
    return Conv1dDims{.batch = ws.batch,
                      .length = ws.frames,
                      .in_channels = config_.hidden,
                      .out_channels = config_.hidden,
                      .kernel = config_.pos_conv_kernel,
                      .stride = 1,
                      .padding = config_.pos_conv_kernel / 2,
                      .groups = config_.pos_conv_groups};
  }

  Wav2Vec2Config config_;
  std::vector<ConvLayer> conv_;
  Tensor fp_norm_g_, fp_norm_b_, proj_w_, proj_b_, pos_w_, pos_b_, enc_norm_g_, enc_norm_b_;
  Tensor none_;
  std::vector<Layer> layers_;
  WeightTally tally_;
};

}  // namespace accelbench
// ---- end accelbench/model/wav2vec2.hpp ----
// ---- begin accelbench/core/phases.hpp ----

// Phases: parts of one run timed separately (text generation's prefill and
// each decode step). The family names them per cell; its workload marks the
// end of each occurrence, and the engine times them with the benchmark's
// Timer policy into a PhaseLog (run/phase_timer.hpp).

#include <concepts>
#include <cstddef>
#include <string>
#include <vector>

namespace accelbench {

/// One phase of a cell: its name, what one occurrence processes, and how
/// often it occurs per run.
struct PhaseSpec {
  std::string name;
  std::string item_unit;
  double items = 0;
  std::size_t per_run = 1;
};

/// Durations of each phase's occurrences, by the phase's index in the
/// family's list.
class PhaseLog {
 public:
  explicit PhaseLog(std::size_t phases = 0) : samples_(phases) {}

  void record(std::size_t phase, double seconds) { samples_.at(phase).push_back(seconds); }
  [[nodiscard]] const std::vector<double>& samples(std::size_t phase) const { return samples_.at(phase); }
  [[nodiscard]] std::size_t size() const noexcept { return samples_.size(); }

 private:
  std::vector<std::vector<double>> samples_;
};

/// What a workload's phased run calls: end(i) when phase i has been issued.
/// The engine's implementation waits for the backend and reads the Timer
/// there; the workload itself neither synchronises nor reads a clock.
template <class P>
concept PhaseMarks = requires(P& p, std::size_t phase) { p.end(phase); };

/// Marks that are ignored: a run whose phases are not being timed.
struct NoPhaseMarks {
  constexpr void end(std::size_t) const noexcept {}
};

}  // namespace accelbench
// ---- end accelbench/core/phases.hpp ----
// ---- begin accelbench/family/embedding.hpp ----

#include <cstdint>
#include <filesystem>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

// ---- begin accelbench/family/hooks.hpp ----

// The optional hooks of a model family and of its workload, each a named
// concept. The Benchmark calls a hook only where the family satisfies its
// concept; a family that means to provide one states it with a
// static_assert, so a misspelt or mistyped hook fails to compile instead of
// being skipped:
//
//   static_assert(accelbench::HasTokens<MyFamily>);
//
// docs/concepts.md lists them with what each adds to a result.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>


namespace accelbench {

/// `F::phases(cell)`: the phases one run goes through (prefill and decode,
/// encode and decode), each timed and reported on its own.
template <class F>
concept HasCellPhases = requires(const typename F::Cell& cell) {
  { F::phases(cell) } -> std::same_as<std::vector<PhaseSpec>>;
};

/// `F::phases(preset, cell)`: phases that depend on the model (an
/// encoder-only audio model has no decode phase).
template <class F>
concept HasPresetPhases = requires(const typename F::Preset& preset, const typename F::Cell& cell) {
  { F::phases(preset, cell) } -> std::same_as<std::vector<PhaseSpec>>;
};

/// `F::tokens(cell)`: tokens one run produces, for tokens per second.
template <class F>
concept HasTokens = requires(const typename F::Cell& cell) {
  { F::tokens(cell) } -> std::convertible_to<double>;
};

/// `F::real_time_factor(cell, seconds)`: seconds of one run per second of
/// input audio.
template <class F>
concept HasRealTimeFactor = requires(const typename F::Cell& cell, double seconds) {
  { F::real_time_factor(cell, seconds) } -> std::convertible_to<double>;
};

/// `F::flops(preset, cell)`: floating-point operations of one run, for
/// GFLOP/s.
template <class F>
concept HasFlops = requires(const typename F::Preset& preset, const typename F::Cell& cell) {
  { F::flops(preset, cell) } -> std::convertible_to<double>;
};

/// `F::weights(preset, seed)` and `F::load_weights<B>(backend, preset,
/// weights)`: the family builds its models from a WeightMap, so that the
/// time to make the weights and the time to upload them are told apart.
template <class F, class B>
concept HasWeightLoading = requires(B& backend, const typename F::Preset& preset, std::uint64_t seed, WeightMap w) {
  { F::weights(preset, seed) } -> std::same_as<WeightMap>;
  { F::template load_weights<B>(backend, preset, std::move(w)) } -> std::same_as<typename F::template Model<B>>;
};

/// `F::checkpoint_preset(folder, accepted)` and
/// `F::checkpoint_weights(folder, preset)`: the family reads Hugging Face
/// checkpoint folders, holding config.json to each architecture's list of
/// fields (`accepted`: unknown fields the user lets pass, by name).
template <class F>
concept HasCheckpoints = requires(const std::filesystem::path& dir, const typename F::Preset& preset,
                                  const std::vector<std::string>& accepted) {
  { F::checkpoint_preset(dir, accepted) } -> std::same_as<typename F::Preset>;
  { F::checkpoint_weights(dir, preset) } -> std::same_as<WeightMap>;
};

/// `work.run(marks)`: a workload that marks the end of each phase (see
/// PhaseMarks); the Benchmark times each phase through the Timer policy.
template <class W>
concept HasPhasedRun = requires(W& work, NoPhaseMarks& marks) { work.run(marks); };

/// `work.activation_bytes()`: bytes of the activations one run keeps.
template <class W>
concept HasActivationBytes = requires(const W& work) {
  { work.activation_bytes() } -> std::convertible_to<std::uint64_t>;
};

/// `work.kv_cache_bytes()`: bytes of the key-value cache one run fills.
template <class W>
concept HasKvCacheBytes = requires(const W& work) {
  { work.kv_cache_bytes() } -> std::convertible_to<std::uint64_t>;
};

/// `preset.parameter_count()`: parameters of a preset without loading it
/// (the compatibility matrix and `accelbench presets`).
template <class P>
concept HasParameterCount = requires(const P& preset) {
  { preset.parameter_count() } -> std::convertible_to<std::int64_t>;
};

}  // namespace accelbench
// ---- end accelbench/family/hooks.hpp ----

namespace accelbench {

/// Sentence embeddings with BERT-family encoders. One item is one sequence;
/// the timed operation is a forward pass with mean pooling; the sweep is
/// batch_sizes x sequence_lengths.
struct Embedding {
  static constexpr std::string_view name = "embedding";
  static constexpr std::string_view item_unit = "sequences";

  using Preset = BertConfig;

  struct Cell {
    int batch_size = 1;
    int sequence_length = 1;
  };

  template <EncoderOps B>
  using Model = Bert<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(bert_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(bert_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "bert"; }

  /// The sweep: batch_sizes x sequence_lengths.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "sequence_lengths",
             .item = "sequence length",
             .help = "sequence lengths in tokens",
             .defaults = {128},
             .small = {16}}};
  }

  /// The model's limits: every sequence length must fit its position table.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> lengths = sweep_of<Embedding>(config, "sequence_lengths");
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const int s = lengths[i];
      if (s > preset.max_positions) {
        throw ConfigError("sequence_lengths[" + std::to_string(i) + "]", std::to_string(s),
                          "exceeds " + preset.name + "'s maximum of " + std::to_string(preset.max_positions) +
                              " positions (max_position_embeddings)");
      }
    }
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    std::vector<Cell> out;
    const std::vector<int> lengths = sweep_of<Embedding>(config, "sequence_lengths");
    for (int b : config.batch_sizes) {
      for (int s : lengths) out.push_back({b, s});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"sequence_length", c.sequence_length}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double tokens(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.sequence_length;
  }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.sequence_length);
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_bert_weights(preset, seed);
  }

  /// Builds the model on the backend from host weights.
  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return bert_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, [[maybe_unused]] const Preset& preset) {
    return bert_weights_from_checkpoint(dir);
  }

  template <EncoderOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <EncoderOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell's inputs on the device; run() is one forward pass.
  template <EncoderOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend,
                            make_bert_input(model.config(), cell.batch_size, cell.sequence_length, seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// Bytes of the activations a forward pass keeps (the backend's own scratch aside).
    [[nodiscard]] std::uint64_t activation_bytes() const noexcept {
      return model_->config().activation_bytes(ws_.batch, ws_.seq);
    }

    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"last_hidden_state", backend_->download(ws_.hidden)});
      out.push_back({"pooled_embedding", backend_->download(ws_.pooled)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Embedding>, "Embedding must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasTokens<Embedding>);
static_assert(HasFlops<Embedding>);
static_assert(HasCheckpoints<Embedding>);
static_assert(HasWeightLoading<Embedding, Cpu>);
static_assert(HasActivationBytes<Embedding::Workload<Cpu>>);
static_assert(HasParameterCount<Embedding::Preset>);

}  // namespace accelbench
// ---- end accelbench/family/embedding.hpp ----
// ---- begin accelbench/family/text_generation.hpp ----

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// ---- begin accelbench/family/model_variant.hpp ----

// The loaded model of a family that holds several architectures: one of
// their model classes, chosen once when the model is loaded. A run visits it
// once; nothing inside a forward pass asks which architecture it is.

#include <cstdint>
#include <utility>
#include <variant>

namespace accelbench {

template <class... Models>
class ModelVariant {
 public:
  using Impl = std::variant<Models...>;

  explicit ModelVariant(Impl impl) : impl_(std::move(impl)) {}

  [[nodiscard]] const Impl& impl() const noexcept { return impl_; }

  /// Whether the loaded model is an M.
  template <class M>
  [[nodiscard]] bool holds() const noexcept {
    return std::holds_alternative<M>(impl_);
  }

  [[nodiscard]] std::int64_t parameters() const {
    return std::visit([](const auto& m) -> std::int64_t { return m.parameters(); }, impl_);
  }

  [[nodiscard]] std::uint64_t weight_bytes() const {
    return std::visit([](const auto& m) -> std::uint64_t { return m.weight_bytes(); }, impl_);
  }

 private:
  Impl impl_;
};

}  // namespace accelbench
// ---- end accelbench/family/model_variant.hpp ----

namespace accelbench {

/// Greedy generation with decoder-only models (GPT-2, Llama, Qwen2) and
/// encoder-decoders (T5), with a key-value cache. One item is one generated
/// sequence; a run generates new_tokens tokens after a prompt of
/// prompt_length tokens for batch_size sequences. Phases: prefill (the
/// prompt, up to the first token: time to first token) and decode (one
/// token per sequence, new_tokens - 1 times per run). The sweep is
/// batch_sizes x prompt_lengths x new_tokens.
///
/// The family runs the architectures of `Architectures` (a list of
/// GenerativeArchitecture entries); TextGeneration runs the library's. A
/// program adds its own architecture with one line:
///
///   using MyTextGeneration = TextGenerationOf<append_t<GenerativeArchitectures, MyArchitecture>>;
template <class Architectures>
struct TextGenerationOf {
  static_assert(all_generative_architectures<Architectures>,
                "every entry of TextGenerationOf's list must satisfy GenerativeArchitecture (model/generative.hpp)");
  static constexpr std::string_view name = "text-generation";
  static constexpr std::string_view item_unit = "sequences";

  using Preset = GenerativeConfig;

  struct Cell {
    int batch_size = 1;
    int prompt_length = 1;
    int new_tokens = 1;
  };

  /// A loaded model: GPT-2, Llama (and Qwen2) or T5, by the preset's
  /// architecture. Generation dispatches on it once per run.
  template <GenerationOps B>
  class Model : public EachModel<B, Architectures, ModelVariant> {
    using Base = EachModel<B, Architectures, ModelVariant>;
    static_assert(all_model_architectures<B, Architectures>,
                  "every architecture's Model<B> must satisfy ModelArchitecture (model/common/architecture.hpp)");

   public:
    using Base::Base;
    [[nodiscard]] const GenerativeConfig& config() const {
      return std::visit([](const auto& m) -> const GenerativeConfig& { return m.config(); }, this->impl());
    }
  };

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(generative_presets<Architectures>(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() {
    return detail::preset_names_of(generative_presets<Architectures>());
  }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x prompt_lengths x new_tokens.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "prompt_lengths",
             .item = "prompt length",
             .help = "prompt lengths in tokens",
             .defaults = {32},
             .small = {8}},
            {.name = "new_tokens",
             .item = "number of new tokens",
             .help = "tokens generated per sequence",
             .defaults = {16},
             .small = {4}}};
  }

  /// The model's limits: every prompt length plus every number of new
  /// tokens must fit its positions.
  static void validate(const Config& config, const Preset& preset) {
    const int limit = preset.sequence_limit();
    if (limit <= 0) return;
    const std::vector<int> prompts = sweep_of<TextGenerationOf>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<TextGenerationOf>(config, "new_tokens");
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      for (int n : new_tokens) {
        const int p = prompts[i];
        if (p + n > limit) {
          throw ConfigError("prompt_lengths[" + std::to_string(i) + "]", std::to_string(p),
                            "with new_tokens " + std::to_string(n) + " exceeds " + preset.name + "'s maximum of " +
                                std::to_string(limit) + " positions");
        }
      }
    }
  }

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    const std::vector<int> prompts = sweep_of<TextGenerationOf>(config, "prompt_lengths");
    const std::vector<int> new_tokens = sweep_of<TextGenerationOf>(config, "new_tokens");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int p : prompts) {
        for (int n : new_tokens) out.push_back({b, p, n});
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"prompt_length", c.prompt_length}, {"new_tokens", c.new_tokens}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  /// Generated tokens of one run.
  [[nodiscard]] static double tokens(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.new_tokens;
  }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.generation_flops(c.batch_size, c.prompt_length, c.new_tokens);
  }

  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    return {{"prefill", "prompt tokens", static_cast<double>(c.batch_size) * c.prompt_length, 1},
            {"decode", "tokens", static_cast<double>(c.batch_size), static_cast<std::size_t>(c.new_tokens - 1)}};
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_generative_weights<Architectures>(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return generative_config_from_checkpoint<Architectures>(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, [[maybe_unused]] const Preset& preset) {
    return generative_weights_from_checkpoint<Architectures>(dir, preset);
  }

  /// Builds the preset's architecture (chosen here, once).
  template <GenerationOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return detail::with_generative_architecture<Architectures>(preset, [&](auto a) {
      using M = typename decltype(a)::template Model<B>;
      return Model<B>(typename Model<B>::Impl(std::in_place_type<M>, backend, preset, std::move(weights)));
    });
  }

  template <GenerationOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell: the prompts on the device and a session with its cache;
  /// run() generates new_tokens tokens greedily.
  template <GenerationOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : Workload(backend, model, cell, seed,
                   make_prompt_ids(model.config(), cell.batch_size, cell.prompt_length, seed)) {}

    /// With given prompts: batch_size x prompt_length token ids, row-major.
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t /*seed*/,
             const std::vector<std::int32_t>& prompt)
        : backend_(&backend), cell_(cell), config_(&model.config()) {
      if (cell.new_tokens < 1) throw std::invalid_argument("TextGeneration: new_tokens must be at least 1");
      std::visit(
          [&](const auto& m) {
            using M = std::remove_cvref_t<decltype(m)>;
            run_ = Run<M>{&m, m.start(backend, prompt, cell.batch_size, cell.prompt_length, cell.new_tokens)};
          },
          model.impl());
      tokens_.resize(static_cast<std::size_t>(cell.batch_size) * static_cast<std::size_t>(cell.new_tokens));
    }

    void run() {
      NoPhaseMarks none;
      run(none);
    }

    /// One generation, marking the end of prefill (phase 0) and of each
    /// decode step (phase 1).
    template <PhaseMarks P>
    void run(P& phases) {
      std::visit([&](auto& r) { generate(*r.model, r.session, phases); }, run_);
    }

    [[nodiscard]] std::uint64_t kv_cache_bytes() const noexcept {
      return config_->kv_cache_bytes(cell_.batch_size,
                                     config_->is_encoder_decoder() ? cell_.new_tokens
                                                                   : cell_.prompt_length + cell_.new_tokens,
                                     cell_.prompt_length);
    }

    /// The greedy tokens of the last run, [batch, new_tokens], row b holding sequence b's.
    [[nodiscard]] const std::vector<std::int32_t>& tokens() const noexcept { return tokens_; }

    /// Generated tokens (as floats, [batch, new_tokens]) and the last step's logits.
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      HostMatrix tokens(cell_.batch_size, cell_.new_tokens);
      for (int b = 0; b < cell_.batch_size; ++b) {
        for (int t = 0; t < cell_.new_tokens; ++t) tokens(b, t) = static_cast<float>(token(b, t));
      }
      std::vector<NamedOutput> out;
      out.push_back({"generated_tokens", std::move(tokens)});
      out.push_back({"last_logits", std::visit([&](auto& r) { return backend_->download(last_logits(r.session)); }, run_)});
      return out;
    }

   private:
    template <class M>
    struct Run {
      const M* model = nullptr;
      typename M::Session session;
    };

    [[nodiscard]] std::int32_t token(int b, int t) const {
      return tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)];
    }

    template <class Session>
    static const typename B::Tensor& last_logits(const Session& s) {
      if constexpr (requires { s.dec; }) {
        return s.dec.logits;
      } else {
        return s.length > s.prompt_len ? s.step.logits : s.prefill.logits;
      }
    }

    /// Keeps the chosen tokens; the download is where the host waits for the device.
    template <class Session>
    void take_tokens(const Session& s, int t) {
      const std::vector<std::int32_t> ids = backend_->download_indices(s.next_ids);
      for (int b = 0; b < cell_.batch_size; ++b) {
        tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)] =
            ids[static_cast<std::size_t>(b)];
      }
    }

    template <class M, PhaseMarks P>
    void generate(const M& model, typename M::Session& s, P& phases) {
      model.prefill(*backend_, s);
      take_tokens(s, 0);
      phases.end(0);
      for (int t = 1; t < cell_.new_tokens; ++t) {
        model.decode(*backend_, s);
        take_tokens(s, t);
        phases.end(1);
      }
    }

    B* backend_;
    Cell cell_;
    const GenerativeConfig* config_;
    template <class... Models>
    using Runs = std::variant<Run<Models>...>;
    EachModel<B, Architectures, Runs> run_;
    std::vector<std::int32_t> tokens_;
  };
};

/// The family over the library's generative architectures.
using TextGeneration = TextGenerationOf<GenerativeArchitectures>;

static_assert(ModelFamily<TextGeneration>, "TextGeneration must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasTokens<TextGeneration>);
static_assert(HasFlops<TextGeneration>);
static_assert(HasCellPhases<TextGeneration>);
static_assert(HasCheckpoints<TextGeneration>);
static_assert(HasWeightLoading<TextGeneration, Cpu>);
static_assert(HasPhasedRun<TextGeneration::Workload<Cpu>>);
static_assert(HasKvCacheBytes<TextGeneration::Workload<Cpu>>);
static_assert(HasParameterCount<TextGeneration::Preset>);

}  // namespace accelbench
// ---- end accelbench/family/text_generation.hpp ----
// ---- begin accelbench/family/vision.hpp ----

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace accelbench {

/// Image encoding with Vision Transformers (ViT). One item is one image; the
/// timed operation is a forward pass over batch_size synthetic square images
/// (see make_images); the sweep is batch_sizes x image_sizes. An image size
/// of 0 is the preset's own; another size must be a multiple of the patch
/// size, and gets the position embeddings interpolated bicubically as
/// transformers' interpolate_pos_encoding does, when the cell is prepared
/// (not timed).
struct Vision {
  static constexpr std::string_view name = "vision";
  static constexpr std::string_view item_unit = "images";

  using Preset = ViTConfig;

  struct Cell {
    int batch_size = 1;
    int image_size = 0;  ///< pixels per side; 0: the model's own
  };

  template <PerceptionOps B>
  using Model = ViT<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(vit_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(vit_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "vit"; }

  /// The sweep: batch_sizes x image_sizes, an image size of 0 being the
  /// preset's own.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "image_sizes",
             .item = "image size",
             .help = "square image sizes in pixels, 0 for the preset's",
             .defaults = {0},
             .min = 0,
             .small = {0}}};
  }

  /// Every image size must be a multiple of the patch size, and no two may
  /// be the same once 0 is read as the preset's size.
  static void validate(const Config& config, const Preset& preset) {
    std::vector<int> seen;
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const int s = sizes[i];
      const std::string field = "image_sizes[" + std::to_string(i) + "]";
      if (s != 0 && s % preset.patch_size != 0) {
        throw ConfigError(field, std::to_string(s),
                          "must be a multiple of " + preset.name + "'s patch size (" +
                              std::to_string(preset.patch_size) + " pixels), or 0 for its own " +
                              std::to_string(preset.image_size));
      }
      const int size = s == 0 ? preset.image_size : s;
      for (int earlier : seen) {
        if (earlier == size) {
          throw ConfigError(field, std::to_string(s),
                            "duplicate image size (0 is " + preset.name + "'s own " +
                                std::to_string(preset.image_size) + ")");
        }
      }
      seen.push_back(size);
    }
  }

  /// batch_sizes x image_sizes, with an image size of 0 read as the model's
  /// own (the preset's, or the checkpoint's), so that results show pixels.
  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    const std::vector<int> sizes = sweep_of<Vision>(config, "image_sizes");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : sizes) out.push_back({b, s == 0 ? preset.image_size : s});
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"image_size", c.image_size}};
  }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept {
    return p.flops(c.batch_size, c.image_size > 0 ? c.image_size : p.image_size);
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_vit_weights(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return vit_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return vit_weights_from_checkpoint(dir, preset);
  }

  /// Builds the model on the backend from host weights.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell's images on the device (and its interpolated positions);
  /// run() is one forward pass.
  template <PerceptionOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend, make_images(cell.batch_size, model.config().channels,
                                                 cell.image_size > 0 ? cell.image_size : model.config().image_size,
                                                 seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// Bytes of the activations a forward pass keeps (the backend's own scratch aside).
    [[nodiscard]] std::uint64_t activation_bytes() const noexcept {
      return model_->config().activation_bytes(ws_.batch, ws_.image_size);
    }

    /// The last hidden state [batch * tokens, hidden] and each image's class
    /// token's row of it [batch, hidden].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"last_hidden_state", backend_->download(ws_.hidden)});
      out.push_back({"class_token", backend_->download(ws_.class_token)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Vision>, "Vision must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<Vision>);
static_assert(HasCheckpoints<Vision>);
static_assert(HasWeightLoading<Vision, Cpu>);
static_assert(HasActivationBytes<Vision::Workload<Cpu>>);
static_assert(HasParameterCount<Vision::Preset>);

}  // namespace accelbench
// ---- end accelbench/family/vision.hpp ----
// ---- begin accelbench/family/audio.hpp ----

#include <cstdint>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>


namespace accelbench {

/// The ops of the audio family: convolutions and group norm (PerceptionOps)
/// and Whisper's decoder with its key-value cache (GenerationOps).
template <class B>
concept AudioOps = PerceptionOps<B> && GenerationOps<B>;

/// A preset of the audio family: a Whisper or a wav2vec2 configuration, with
/// the fields every family's presets show (name, encoder layers, hidden
/// width, heads, aliases, parameters) copied from it.
struct AudioConfig {
  std::string name;
  std::string architecture;  ///< "whisper" or "wav2vec2"
  int layers = 0;            ///< encoder layers
  int hidden = 0;
  int heads = 0;
  std::vector<std::string> aliases;
  std::variant<WhisperConfig, Wav2Vec2Config> model;

  AudioConfig() = default;
  explicit AudioConfig(WhisperConfig c)
      : name(c.name), architecture("whisper"), layers(c.layers), hidden(c.hidden), heads(c.heads), aliases(c.aliases),
        model(std::move(c)) {}
  explicit AudioConfig(Wav2Vec2Config c)
      : name(c.name), architecture("wav2vec2"), layers(c.layers), hidden(c.hidden), heads(c.heads), aliases(c.aliases),
        model(std::move(c)) {}

  [[nodiscard]] bool is_whisper() const noexcept { return std::holds_alternative<WhisperConfig>(model); }
  [[nodiscard]] const WhisperConfig& whisper() const { return std::get<WhisperConfig>(model); }
  [[nodiscard]] const Wav2Vec2Config& wav2vec2() const { return std::get<Wav2Vec2Config>(model); }
  [[nodiscard]] std::int64_t parameter_count() const {
    return std::visit([](const auto& c) { return c.parameter_count(); }, model);
  }
};

/// The presets of both architectures: whisper-tiny, whisper-base, wav2vec2-base.
inline const std::vector<AudioConfig>& audio_presets() {
  static const std::vector<AudioConfig> presets = [] {
    std::vector<AudioConfig> p;
    for (const auto& w : whisper_presets()) p.emplace_back(w);
    for (const auto& w : wav2vec2_presets()) p.emplace_back(w);
    return p;
  }();
  return presets;
}

/// Speech models over 16 kHz audio: Whisper (WhisperForConditionalGeneration,
/// transcribing greedily with a key-value cache) and wav2vec2 (Wav2Vec2Model,
/// an encoder). One item is one second of audio, so items/s is audio seconds
/// processed per second of wall time: the inverse of the real-time factor
/// (real_time_factor() gives it). A run takes batch_size clips of
/// audio_seconds seconds each; Whisper pads every clip to its 30-second
/// window (its encoder's work does not depend on the clip's length) and
/// generates new_tokens tokens; wav2vec2 encodes the clip's samples.
///
/// Phases: Whisper's "encoder" (the encoder, every decoder layer's cross
/// keys and values and the first decoder step, up to the first token: the
/// time to first token, in audio seconds) and "decode" (one token per clip,
/// new_tokens - 1 times per run); wav2vec2's "encoder" (the whole forward
/// pass). The sweep is batch_sizes x audio_seconds x new_tokens for
/// Whisper and batch_sizes x audio_seconds for wav2vec2, which generates
/// nothing: its cells have new_tokens 0, and keep that axis so that Whisper
/// and wav2vec2 cells share the columns of one table.
struct Audio {
  static constexpr std::string_view name = "audio";
  static constexpr std::string_view item_unit = "audio seconds";
  static constexpr int sample_rate = 16000;

  using Preset = AudioConfig;

  struct Cell {
    int batch_size = 1;
    int audio_seconds = 1;
    int new_tokens = 1;  ///< Whisper's generated tokens; 0 for wav2vec2
  };

  /// A loaded model: Whisper or wav2vec2, by the preset's architecture.
  template <AudioOps B>
  class Model : public ModelVariant<Whisper<B>, Wav2Vec2<B>> {
   public:
    using ModelVariant<Whisper<B>, Wav2Vec2<B>>::ModelVariant;
    [[nodiscard]] bool is_whisper() const noexcept { return this->template holds<Whisper<B>>(); }
  };

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(audio_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(audio_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset& p) noexcept { return p.architecture; }

  /// The sweep: batch_sizes x audio_seconds, x new_tokens for Whisper.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "audio_seconds",
             .item = "clip length",
             .help = "clip lengths in seconds of 16 kHz audio",
             .defaults = {10},
             .small = {1}},
            {.name = "new_tokens",
             .item = "number of new tokens",
             .help = "tokens generated per clip (Whisper; wav2vec2 generates none)",
             .defaults = {16},
             .small = {4}}};
  }

  /// The model's limits: Whisper takes clips up to its input window (30 s)
  /// and generates up to max_target_positions tokens; a wav2vec2 clip must
  /// give at least one frame.
  static void validate(const Config& config, const Preset& preset) {
    const std::vector<int> seconds = sweep_of<Audio>(config, "audio_seconds");
    for (std::size_t i = 0; i < seconds.size(); ++i) {
      const int s = seconds[i];
      const std::string field = "audio_seconds[" + std::to_string(i) + "]";
      if (preset.is_whisper()) {
        const WhisperConfig& w = preset.whisper();
        if (s > w.max_audio_seconds()) {
          throw ConfigError(field, std::to_string(s),
                            "exceeds " + preset.name + "'s input window of " + std::to_string(w.max_audio_seconds()) + " s (" +
                                std::to_string(w.input_frames()) +
                                " log-mel frames); Whisper transcribes longer audio window by window");
        }
      } else if (preset.wav2vec2().frames(std::int64_t{s} * sample_rate) < 1) {
        throw ConfigError(field, std::to_string(s), "is too short for " + preset.name + "'s feature encoder");
      }
    }
    if (!preset.is_whisper()) return;
    const std::vector<int> new_tokens = sweep_of<Audio>(config, "new_tokens");
    for (std::size_t i = 0; i < new_tokens.size(); ++i) {
      const int n = new_tokens[i];
      if (n > preset.whisper().max_target_positions) {
        throw ConfigError("new_tokens[" + std::to_string(i) + "]", std::to_string(n),
                          "exceeds " + preset.name + "'s " + std::to_string(preset.whisper().max_target_positions) +
                              " decoder positions (max_target_positions)");
      }
    }
  }

  /// Whisper: batch_sizes x audio_seconds x new_tokens; wav2vec2 (named by
  /// config.model or config.weights): batch_sizes x audio_seconds, new_tokens 0.
  [[nodiscard]] static std::vector<Cell> cells(const Config& config, const Preset& preset) {
    const std::vector<int> tokens = preset.is_whisper() ? sweep_of<Audio>(config, "new_tokens") : std::vector<int>{0};
    const std::vector<int> seconds = sweep_of<Audio>(config, "audio_seconds");
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int s : seconds) {
        for (int n : tokens) out.push_back({b, s, n});
      }
    }
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) {
    return {{"batch_size", c.batch_size}, {"audio_seconds", c.audio_seconds}, {"new_tokens", c.new_tokens}};
  }

  /// Audio seconds per run.
  [[nodiscard]] static double items(const Cell& c) noexcept {
    return static_cast<double>(c.batch_size) * c.audio_seconds;
  }
  /// The real-time factor of a run that took `run_seconds`: processing time
  /// per second of audio (below 1: faster than real time); 1 / (items/s).
  [[nodiscard]] static double real_time_factor(const Cell& c, double run_seconds) noexcept {
    return run_seconds / items(c);
  }

  [[nodiscard]] static double flops(const Preset& p, const Cell& c) {
    if (p.is_whisper()) return p.whisper().flops(c.batch_size, c.new_tokens);
    return p.wav2vec2().flops(c.batch_size, std::int64_t{c.audio_seconds} * sample_rate);
  }

  [[nodiscard]] static std::vector<PhaseSpec> phases(const Preset& p, const Cell& c) {
    std::vector<PhaseSpec> out{{"encoder", std::string(item_unit), items(c), 1}};
    if (p.is_whisper()) {
      out.push_back({"decode", "tokens", static_cast<double>(c.batch_size),
                     static_cast<std::size_t>(c.new_tokens > 1 ? c.new_tokens - 1 : 0)});
    }
    return out;
  }

  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    if (preset.is_whisper()) return synthetic_whisper_weights(preset.whisper(), seed);
    return synthetic_wav2vec2_weights(preset.wav2vec2(), seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder: config.json's
  /// model_type "whisper" or "wav2vec2".
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    const std::string type = [&] {
      const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
      const std::string t = c.text("model_type");
      if (t != "whisper" && t != "wav2vec2") {
        c.fail("model_type", "\"" + t + "\"", "the audio family reads whisper and wav2vec2 checkpoints");
      }
      return t;
    }();
    if (type == "whisper") return Preset(whisper_config_from_checkpoint(dir, accepted));
    return Preset(wav2vec2_config_from_checkpoint(dir, accepted));
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    if (preset.is_whisper()) return whisper_weights_from_checkpoint(dir);
    return wav2vec2_weights_from_checkpoint(dir);
  }

  template <AudioOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    if (preset.is_whisper()) {
      return Model<B>(typename Model<B>::Impl(std::in_place_type<Whisper<B>>, backend, preset.whisper(), std::move(weights)));
    }
    return Model<B>(typename Model<B>::Impl(std::in_place_type<Wav2Vec2<B>>, backend, preset.wav2vec2(), std::move(weights)));
  }

  template <AudioOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// The synthetic input of a cell: Whisper's log-mel features
  /// (make_whisper_features) or wav2vec2's waveform (make_wav2vec2_waveform).
  template <AudioOps B>
  [[nodiscard]] static HostMatrix synthetic_input(const Model<B>& model, const Cell& cell, std::uint64_t seed) {
    if (const auto* w = std::get_if<Whisper<B>>(&model.impl())) {
      return make_whisper_features(w->config(), cell.batch_size, cell.audio_seconds, seed);
    }
    return make_wav2vec2_waveform(cell.batch_size, std::int64_t{cell.audio_seconds} * sample_rate, seed);
  }

  /// One cell's input on the device, with Whisper's session (its cache) or
  /// wav2vec2's workspace; run() transcribes or encodes the batch.
  template <AudioOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : Workload(backend, model, cell, seed, synthetic_input(model, cell, seed)) {}

    /// With a given input: Whisper's log-mel features in transformers'
    /// layout ([batch_size * mel_bins, frames]), or wav2vec2's waveform
    /// ([batch_size, samples], any number of samples).
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t /*seed*/, const HostMatrix& input)
        : backend_(&backend), cell_(cell) {
      if (const auto* w = std::get_if<Whisper<B>>(&model.impl())) {
        if (cell.new_tokens < 1) throw std::invalid_argument("Audio: Whisper's new_tokens must be at least 1");
        run_.template emplace<WhisperRun>(WhisperRun{w, w->start(backend, input, cell.batch_size, cell.new_tokens)});
        tokens_.resize(static_cast<std::size_t>(cell.batch_size) * static_cast<std::size_t>(cell.new_tokens));
      } else {
        const auto& m = std::get<Wav2Vec2<B>>(model.impl());
        if (input.rows() != cell.batch_size) {
          throw std::invalid_argument("Audio: " + std::to_string(input.rows()) + " waveforms for batch_size " +
                                      std::to_string(cell.batch_size));
        }
        run_.template emplace<Wav2Vec2Run>(Wav2Vec2Run{&m, m.prepare(backend, input)});
      }
    }

    void run() {
      NoPhaseMarks none;
      run(none);
    }

    /// One run, marking the end of each phase: Whisper's prefill (0) and
    /// decode steps (1), wav2vec2's forward pass (0).
    template <PhaseMarks P>
    void run(P& phases) {
      if (auto* r = std::get_if<WhisperRun>(&run_)) {
        transcribe(*r, phases);
      } else {
        auto& e = std::get<Wav2Vec2Run>(run_);
        e.model->forward(*backend_, e.ws);
        phases.end(0);
      }
    }

    /// Bytes of Whisper's decoder cache and cross keys and values (0 for wav2vec2).
    [[nodiscard]] std::uint64_t kv_cache_bytes() const noexcept {
      if (const auto* r = std::get_if<WhisperRun>(&run_)) {
        return r->model->config().kv_cache_bytes(cell_.batch_size, cell_.new_tokens);
      }
      return 0;
    }

    /// Whisper's greedy tokens of the last run, [batch, new_tokens] row-major (empty for wav2vec2).
    [[nodiscard]] const std::vector<std::int32_t>& tokens() const noexcept { return tokens_; }

    /// Whisper: the generated tokens (as floats, [batch, new_tokens]) and the
    /// last step's logits. wav2vec2: the last hidden state, [batch * frames, hidden].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      if (const auto* r = std::get_if<WhisperRun>(&run_)) {
        HostMatrix tokens(cell_.batch_size, cell_.new_tokens);
        for (int b = 0; b < cell_.batch_size; ++b) {
          for (int t = 0; t < cell_.new_tokens; ++t) {
            tokens(b, t) = static_cast<float>(
                tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)]);
          }
        }
        out.push_back({"generated_tokens", std::move(tokens)});
        out.push_back({"last_logits", backend_->download(r->session.dec.logits)});
      } else {
        out.push_back({"last_hidden_state", backend_->download(std::get<Wav2Vec2Run>(run_).ws.hidden)});
      }
      return out;
    }

   private:
    struct WhisperRun {
      const Whisper<B>* model = nullptr;
      typename Whisper<B>::Session session;
    };
    struct Wav2Vec2Run {
      const Wav2Vec2<B>* model = nullptr;
      typename Wav2Vec2<B>::Workspace ws;
    };

    /// Keeps the chosen tokens; the download is where the host waits for the device.
    void take_tokens(const WhisperRun& r, int t) {
      const std::vector<std::int32_t> ids = backend_->download_indices(r.session.next_ids);
      for (int b = 0; b < cell_.batch_size; ++b) {
        tokens_[static_cast<std::size_t>(b) * static_cast<std::size_t>(cell_.new_tokens) + static_cast<std::size_t>(t)] =
            ids[static_cast<std::size_t>(b)];
      }
    }

    template <PhaseMarks P>
    void transcribe(WhisperRun& r, P& phases) {
      r.model->prefill(*backend_, r.session);
      take_tokens(r, 0);
      phases.end(0);
      for (int t = 1; t < cell_.new_tokens; ++t) {
        r.model->decode(*backend_, r.session);
        take_tokens(r, t);
        phases.end(1);
      }
    }

    B* backend_;
    Cell cell_;
    std::variant<std::monostate, WhisperRun, Wav2Vec2Run> run_;
    std::vector<std::int32_t> tokens_;
  };
};

static_assert(ModelFamily<Audio>, "Audio must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasRealTimeFactor<Audio>);
static_assert(HasFlops<Audio>);
static_assert(HasPresetPhases<Audio>);
static_assert(HasCheckpoints<Audio>);
static_assert(HasWeightLoading<Audio, Cpu>);
static_assert(HasPhasedRun<Audio::Workload<Cpu>>);
static_assert(HasKvCacheBytes<Audio::Workload<Cpu>>);
static_assert(HasParameterCount<Audio::Preset>);

}  // namespace accelbench
// ---- end accelbench/family/audio.hpp ----
// ---- begin accelbench/family/multimodal.hpp ----

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace accelbench {

/// Image-text similarity with CLIP. One item is one image-text pair; a run
/// encodes batch_size synthetic images (at the model's image size, see
/// make_images) and batch_size synthetic texts (the model's longest: 77
/// tokens for the OpenAI checkpoints, see make_clip_text_input), then scores
/// every image against every text. Phases: image_encode (the vision tower
/// and projection), text_encode (the text tower and projection) and
/// similarity (the batch_size x batch_size logits), each timed on the steady
/// clock after the backend is synchronised. The sweep is batch_sizes.
struct Multimodal {
  static constexpr std::string_view name = "multimodal";
  static constexpr std::string_view item_unit = "pairs";

  using Preset = ClipConfig;

  struct Cell {
    int batch_size = 1;
  };

  template <PerceptionOps B>
  using Model = Clip<B>;

  [[nodiscard]] static const Preset& find_preset(std::string_view model) {
    return detail::find_preset_in(clip_presets(), model, name);
  }

  [[nodiscard]] static std::vector<std::string> preset_names() { return detail::preset_names_of(clip_presets()); }

  [[nodiscard]] static std::string_view architecture(const Preset&) noexcept { return "clip"; }

  /// The sweep is batch_sizes alone: images and texts take the model's own sizes.
  [[nodiscard]] static std::vector<SweepAxis> sweep_axes() { return {}; }

  /// Nothing of the sweep can exceed the model: images and texts take the
  /// model's own sizes.
  static void validate(const Config&, const Preset&) {}

  [[nodiscard]] static std::vector<Cell> cells(const Config& config) {
    std::vector<Cell> out;
    for (int b : config.batch_sizes) out.push_back({b});
    return out;
  }

  [[nodiscard]] static std::vector<Axis> axes(const Cell& c) { return {{"batch_size", c.batch_size}}; }

  [[nodiscard]] static double items(const Cell& c) noexcept { return c.batch_size; }
  [[nodiscard]] static double flops(const Preset& p, const Cell& c) noexcept { return p.flops(c.batch_size); }

  /// image_encode (images), text_encode (texts) and similarity (image-text
  /// pairs scored: batch_size squared), once per run each.
  [[nodiscard]] static std::vector<PhaseSpec> phases(const Cell& c) {
    const double b = c.batch_size;
    return {{"image_encode", "images", b, 1}, {"text_encode", "texts", b, 1}, {"similarity", "pairs", b * b, 1}};
  }

  /// The model's weights in host memory: synthetic, from `seed`.
  [[nodiscard]] static WeightMap weights(const Preset& preset, std::uint64_t seed) {
    return synthetic_clip_weights(preset, seed);
  }

  /// The dimensions of a Hugging Face checkpoint folder (its config.json).
  [[nodiscard]] static Preset checkpoint_preset(const std::filesystem::path& dir,
                                               const std::vector<std::string>& accepted = {}) {
    return clip_config_from_checkpoint(dir, accepted);
  }

  /// A checkpoint folder's weights under the names the model takes.
  [[nodiscard]] static WeightMap checkpoint_weights(const std::filesystem::path& dir, const Preset& preset) {
    return clip_weights_from_checkpoint(dir, preset);
  }

  /// Builds the model on the backend from host weights.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load_weights(B& backend, const Preset& preset, WeightMap&& weights) {
    return Model<B>(backend, preset, std::move(weights));
  }

  /// Both steps: synthetic weights from `seed`, uploaded.
  template <PerceptionOps B>
  [[nodiscard]] static Model<B> load(B& backend, const Preset& preset, std::uint64_t seed) {
    return load_weights(backend, preset, weights(preset, seed));
  }

  /// One cell's images and texts on the device; run() encodes both and
  /// computes the similarity logits.
  template <PerceptionOps B>
  class Workload {
   public:
    Workload(B& backend, const Model<B>& model, const Cell& cell, std::uint64_t seed)
        : backend_(&backend),
          model_(&model),
          ws_(model.prepare(backend,
                            make_images(cell.batch_size, model.config().vision.channels,
                                        model.config().vision.image_size, seed),
                            make_clip_text_input(model.config(), cell.batch_size,
                                                 model.config().text.max_positions, seed))) {}

    void run() { model_->forward(*backend_, ws_); }

    /// The same pass, marking the end of the image tower (phase 0), the text
    /// tower (1) and the similarity (2).
    template <PhaseMarks P>
    void run(P& phases) {
      model_->encode_images(*backend_, ws_);
      phases.end(0);
      model_->encode_texts(*backend_, ws_);
      phases.end(1);
      model_->similarity(*backend_, ws_);
      phases.end(2);
    }

    /// The normalised image and text embeddings [batch, projection_dim] and
    /// the logits [batch images, batch texts].
    [[nodiscard]] std::vector<NamedOutput> outputs() {
      std::vector<NamedOutput> out;
      out.push_back({"image_embeds", backend_->download(ws_.image_embeds)});
      out.push_back({"text_embeds", backend_->download(ws_.text_embeds)});
      out.push_back({"logits_per_image", backend_->download(ws_.logits_per_image)});
      return out;
    }

   private:
    B* backend_;
    const Model<B>* model_;
    typename Model<B>::Workspace ws_;
  };
};

static_assert(ModelFamily<Multimodal>, "Multimodal must satisfy ModelFamily");
// The optional hooks it provides (family/hooks.hpp).
static_assert(HasFlops<Multimodal>);
static_assert(HasCellPhases<Multimodal>);
static_assert(HasCheckpoints<Multimodal>);
static_assert(HasWeightLoading<Multimodal, Cpu>);
static_assert(HasPhasedRun<Multimodal::Workload<Cpu>>);
static_assert(HasParameterCount<Multimodal::Preset>);

}  // namespace accelbench
// ---- end accelbench/family/multimodal.hpp ----
// ---- begin accelbench/measure/timer/steady_timer.hpp ----

#include <chrono>
#include <string_view>

namespace accelbench {

/// Timer policy on std::chrono::steady_clock: wall time, monotonic.
class SteadyTimer {
 public:
  static constexpr std::string_view name = "steady_clock";

  void start() noexcept { start_ = std::chrono::steady_clock::now(); }

  /// Seconds since the last start().
  [[nodiscard]] double stop() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace accelbench
// ---- end accelbench/measure/timer/steady_timer.hpp ----
// ---- begin accelbench/measure/timer/cpu_timer.hpp ----

// Timer policies on CPU time: the time the process (all its threads) or the
// calling thread spent running, from POSIX's CPU-time clocks. CPU time of a
// multi-threaded operation is the sum over its threads, so it exceeds wall
// time when the threads run in parallel.

#include <string_view>

#include <time.h>


namespace accelbench {

namespace detail {

template <clockid_t Clock>
class PosixCpuTimer {
 public:
  [[nodiscard]] static Availability available() {
    timespec t{};
    if (clock_gettime(Clock, &t) != 0) return Availability::no("clock_gettime refuses this CPU-time clock");
    return Availability::yes();
  }

  void start() noexcept { start_ = now(); }
  [[nodiscard]] double stop() const noexcept { return now() - start_; }

 private:
  static double now() noexcept {
    timespec t{};
    clock_gettime(Clock, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
  double start_ = 0;
};

}  // namespace detail

/// CPU time of the whole process: every thread's, summed.
class ProcessCpuTimer : public detail::PosixCpuTimer<CLOCK_PROCESS_CPUTIME_ID> {
 public:
  static constexpr std::string_view name = "process_cpu_time";
};

/// CPU time of the calling thread only.
class ThreadCpuTimer : public detail::PosixCpuTimer<CLOCK_THREAD_CPUTIME_ID> {
 public:
  static constexpr std::string_view name = "thread_cpu_time";
};

/// The CPU-time timer: process CPU time.
using CpuTimer = ProcessCpuTimer;

}  // namespace accelbench
// ---- end accelbench/measure/timer/cpu_timer.hpp ----
// ---- begin accelbench/measure/timer/tsc_timer.hpp ----

// Timer policy on the x86 time-stamp counter: a cycle counter read in a few
// nanoseconds, converted to seconds by a frequency calibrated against
// steady_clock once per process. Used only where the TSC is invariant
// (CPUID 80000007H:EDX[8]): its rate is then constant whatever the core's
// frequency or sleep state.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>


#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define ACCELBENCH_HAS_TSC 1
#else
#define ACCELBENCH_HAS_TSC 0
#endif

namespace accelbench {

class TscTimer {
 public:
  static constexpr std::string_view name = "tsc";

  [[nodiscard]] static Availability available() {
#if ACCELBENCH_HAS_TSC
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) {
      return Availability::no("CPUID does not report whether the TSC is invariant");
    }
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    if ((d & (1u << 8)) == 0) {
      return Availability::no("the TSC is not invariant (CPUID 80000007H:EDX[8] clear): its rate follows the clock");
    }
    return Availability::yes();
#else
    return Availability::no("the time-stamp counter is an x86 feature");
#endif
  }

  /// TSC ticks per second, measured once against steady_clock over about 50 ms.
  [[nodiscard]] static double ticks_per_second() {
    static const double rate = calibrate();
    return rate;
  }

  void start() noexcept { start_ = read_start(); }

  [[nodiscard]] double stop() const noexcept {
    return static_cast<double>(read_stop() - start_) / ticks_per_second();
  }

 private:
  static std::uint64_t read_start() noexcept {
#if ACCELBENCH_HAS_TSC
    _mm_lfence();  // earlier instructions finish before the counter is read
    const std::uint64_t t = __rdtsc();
    _mm_lfence();  // and later ones start after
    return t;
#else
    return 0;
#endif
  }

  static std::uint64_t read_stop() noexcept {
#if ACCELBENCH_HAS_TSC
    unsigned aux = 0;
    const std::uint64_t t = __rdtscp(&aux);  // waits for earlier instructions
    _mm_lfence();
    return t;
#else
    return 0;
#endif
  }

  static double calibrate() {
#if ACCELBENCH_HAS_TSC
    using clock = std::chrono::steady_clock;
    double best = 0;
    // Three 16 ms windows; the rate is the median, robust to one preempted window.
    double rates[3] = {0, 0, 0};
    for (double& r : rates) {
      const auto t0 = clock::now();
      const std::uint64_t c0 = read_start();
      auto t1 = clock::now();
      while (t1 - t0 < std::chrono::milliseconds(16)) t1 = clock::now();
      const std::uint64_t c1 = read_stop();
      r = static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
    }
    best = rates[0] + rates[1] + rates[2] - std::min({rates[0], rates[1], rates[2]}) -
           std::max({rates[0], rates[1], rates[2]});
    return best;
#else
    return 1.0;
#endif
  }

  std::uint64_t start_ = 0;
};

}  // namespace accelbench
// ---- end accelbench/measure/timer/tsc_timer.hpp ----
// ---- begin accelbench/measure/timer/perf_counter_timer.hpp ----

// Timer policy with hardware counters: wall time from steady_clock, plus the
// CPU cycles and instructions the process spent, counted by the kernel
// through perf_event_open (Linux). Counters are opened on every thread the
// process has when the timer is constructed (a backend's worker threads
// included, once they exist) and count user-space work only. Where the kernel
// refuses (no PMU, as in many virtual machines; perf_event_paranoid), the
// timer reports itself unavailable with the reason.

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ACCELBENCH_HAS_PERF_EVENT 1
#else
#define ACCELBENCH_HAS_PERF_EVENT 0
#endif

namespace accelbench {

class PerfCounterTimer {
 public:
  static constexpr std::string_view name = "perf_event";

  /// Whether this process may count cycles and instructions, and if not why.
  [[nodiscard]] static Availability available() {
#if ACCELBENCH_HAS_PERF_EVENT
    Group g;
    std::string why;
    if (!g.open(0, why)) return Availability::no(why);
    g.close();
    return Availability::yes();
#else
    return Availability::no("perf_event_open is a Linux interface");
#endif
  }

  PerfCounterTimer() {
#if ACCELBENCH_HAS_PERF_EVENT
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      const std::string tid = entry.path().filename().string();
      Group g;
      std::string why;
      if (g.open(static_cast<pid_t>(std::stol(tid)), why)) groups_.push_back(std::move(g));
    }
#endif
  }

  PerfCounterTimer(PerfCounterTimer&&) noexcept = default;
  PerfCounterTimer& operator=(PerfCounterTimer&&) noexcept = default;
  PerfCounterTimer(const PerfCounterTimer&) = delete;
  PerfCounterTimer& operator=(const PerfCounterTimer&) = delete;

  /// Threads whose counters are open.
  [[nodiscard]] std::size_t threads_counted() const noexcept { return groups_.size(); }

  void start() noexcept {
    read(start_cycles_, start_instructions_);
    start_ = std::chrono::steady_clock::now();
  }

  [[nodiscard]] double stop() noexcept {
    const auto end = std::chrono::steady_clock::now();
    std::uint64_t cycles = 0, instructions = 0;
    read(cycles, instructions);
    cycles_ = cycles - start_cycles_;
    instructions_ = instructions - start_instructions_;
    return std::chrono::duration<double>(end - start_).count();
  }

  /// Counts of the last sample, over all counted threads.
  [[nodiscard]] std::vector<std::pair<std::string, double>> counters() const {
    return {{"cycles", static_cast<double>(cycles_)}, {"instructions", static_cast<double>(instructions_)}};
  }

 private:
  /// A cycles counter leading an instructions counter, on one thread.
  struct Group {
    int leader = -1;
    int member = -1;

    Group() = default;
    Group(Group&& o) noexcept : leader(std::exchange(o.leader, -1)), member(std::exchange(o.member, -1)) {}
    Group& operator=(Group&& o) noexcept {
      if (this != &o) {
        close();
        leader = std::exchange(o.leader, -1);
        member = std::exchange(o.member, -1);
      }
      return *this;
    }
    ~Group() { close(); }

#if ACCELBENCH_HAS_PERF_EVENT
    static int open_counter(std::uint64_t config, pid_t tid, int group, int& error) {
      perf_event_attr attr{};
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_HARDWARE;
      attr.config = config;
      attr.exclude_kernel = 1;
      attr.exclude_hv = 1;
      attr.read_format = PERF_FORMAT_GROUP;
      const long fd = syscall(SYS_perf_event_open, &attr, tid, -1, group, 0);
      error = fd < 0 ? errno : 0;
      return static_cast<int>(fd);
    }

    bool open(pid_t tid, std::string& why) {
      int error = 0;
      leader = open_counter(PERF_COUNT_HW_CPU_CYCLES, tid, -1, error);
      if (leader < 0) {
        why = explain("cycles", error);
        return false;
      }
      member = open_counter(PERF_COUNT_HW_INSTRUCTIONS, tid, leader, error);
      if (member < 0) {
        why = explain("instructions", error);
        close();
        return false;
      }
      return true;
    }

    static std::string explain(const char* counter, int error) {
      std::string why = std::string("perf_event_open(") + counter + ") failed: " + std::strerror(error);
      if (error == ENOENT || error == EOPNOTSUPP || error == ENODEV) {
        why += " (the kernel exposes no hardware counter for it: a virtual machine without a virtual PMU?)";
      } else if (error == EACCES || error == EPERM) {
        why += " (not permitted: see /proc/sys/kernel/perf_event_paranoid)";
      }
      return why;
    }
#endif

    void close() noexcept {
#if ACCELBENCH_HAS_PERF_EVENT
      if (member >= 0) ::close(member);
      if (leader >= 0) ::close(leader);
#endif
      member = leader = -1;
    }
  };

  void read(std::uint64_t& cycles, std::uint64_t& instructions) const noexcept {
    cycles = instructions = 0;
#if ACCELBENCH_HAS_PERF_EVENT
    for (const auto& g : groups_) {
      std::uint64_t buf[3] = {0, 0, 0};  // nr, cycles, instructions
      if (::read(g.leader, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf) && buf[0] == 2) {
        cycles += buf[1];
        instructions += buf[2];
      }
    }
#endif
  }

  std::vector<Group> groups_;
  std::chrono::steady_clock::time_point start_{};
  std::uint64_t start_cycles_ = 0, start_instructions_ = 0;
  std::uint64_t cycles_ = 0, instructions_ = 0;
};

}  // namespace accelbench
// ---- end accelbench/measure/timer/perf_counter_timer.hpp ----
// ---- begin accelbench/measure/timer/calibration.hpp ----

// What a timer can resolve and what it costs, measured at start-up.

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>


namespace accelbench {

/// A Timer's own report of whether it can run here; timers without an
/// `available()` member always can.
template <class T>
[[nodiscard]] Availability timer_availability() {
  if constexpr (ReportsAvailability<T>) {
    return T::available();
  } else {
    return Availability::yes();
  }
}

/// Measures `timer`: its resolution (the smallest non-zero interval it
/// reports between start() and a stop() called in a loop until the interval
/// is non-zero, over 200 trials) and its call cost (the steady_clock time of
/// many start()/stop() pairs divided by their number, over about 10 ms).
template <class T>
[[nodiscard]] TimerInfo measure_timer(T& timer) {
  TimerInfo info;
  info.name = std::string(T::name);
  const Availability a = timer_availability<T>();
  info.available = a.available;
  info.reason = a.reason;
  if (!a.available) return info;

  double resolution = 1e30;
  for (int trial = 0; trial < 200; ++trial) {
    timer.start();
    double d = 0;
    for (long spin = 0; spin < 100000000 && d <= 0; ++spin) d = timer.stop();
    if (d > 0) resolution = std::min(resolution, d);
  }
  info.resolution_s = resolution < 1e30 ? resolution : 0;

  using clock = std::chrono::steady_clock;
  long calls = 0;
  const auto t0 = clock::now();
  auto t1 = t0;
  double sink = 0;
  do {
    for (int i = 0; i < 64; ++i) {
      timer.start();
      sink += timer.stop();
    }
    calls += 64;
    t1 = clock::now();
  } while (t1 - t0 < std::chrono::milliseconds(10));
  info.call_cost_s = std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(calls);
  if (sink < 0) info.call_cost_s = 0;  // keeps the loop's results alive
  if constexpr (HasTicksPerSecond<T>) {
    info.properties.emplace_back("frequency_hz", std::to_string(T::ticks_per_second()));
  }
  if constexpr (CountsThreads<T>) {
    info.properties.emplace_back("threads_counted", std::to_string(timer.threads_counted()));
  }
  return info;
}

}  // namespace accelbench
// ---- end accelbench/measure/timer/calibration.hpp ----
// ---- begin accelbench/measure/stats/summary.hpp ----

// Building blocks of Stats policies.

#include <algorithm>
#include <cmath>
#include <span>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

// ---- begin accelbench/measure/stats/distributions.hpp ----

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
// ---- end accelbench/measure/stats/distributions.hpp ----

namespace accelbench {

/// Confidence level of the intervals unless a configuration says otherwise.
inline constexpr double default_confidence = 0.95;

/// The q-th percentile (0 <= q <= 100) of samples sorted in ascending order,
/// by linear interpolation between the two closest ranks: with n samples and
/// h = (n - 1) * q / 100, the result is x[floor(h)] + (h - floor(h)) *
/// (x[floor(h) + 1] - x[floor(h)]) (zero-based ranks). This is definition 7
/// of Hyndman and Fan (1996), the default of NumPy, R and Excel's PERCENTILE.INC.
/// One sample is every percentile of itself; the 50th percentile is the median.
[[nodiscard]] inline double percentile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("percentile of an empty sample");
  if (!(q >= 0.0 && q <= 100.0)) throw std::invalid_argument("percentile q must lie in [0, 100]");
  const double h = static_cast<double>(sorted.size() - 1) * q / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// Distribution-free confidence interval of the q-th percentile of sorted
/// samples: the order statistics x[lo], x[hi] of quantile_ci_ranks. Empty when
/// there are too few samples for the level (e.g. fewer than 6 for a 95%
/// interval of the median, fewer than 368 for one of p99).
[[nodiscard]] inline std::optional<Interval> percentile_ci_sorted(std::span<const double> sorted, double q,
                                                                  double confidence) {
  std::size_t lo = 0, hi = 0;
  if (!stats::quantile_ci_ranks(sorted.size(), q / 100.0, confidence, lo, hi)) return std::nullopt;
  return Interval{sorted[lo], sorted[hi]};
}

/// Count, min, max, mean, sample standard deviation and coefficient of
/// variation: the part of a summary every Stats policy shares. One pass.
[[nodiscard]] inline LatencySummary summarize_moments(std::span<const double> samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  s.min = *lo;
  s.max = *hi;
  double sum = 0;
  for (double x : samples) sum += x;
  s.mean = sum / static_cast<double>(samples.size());
  if (samples.size() > 1) {
    double ss = 0;
    for (double x : samples) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(samples.size() - 1));
  }
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0.0;
  return s;
}

/// Interval of the mean, mean ± t(1 - (1 - confidence) / 2, n - 1) · s / √n.
/// It assumes roughly normal, independent samples; empty for n < 2.
[[nodiscard]] inline std::optional<Interval> mean_ci(const LatencySummary& s, double confidence) {
  if (s.count < 2) return std::nullopt;
  const double n = static_cast<double>(s.count);
  const double t = stats::student_t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1.0);
  const double half = t * s.stddev / std::sqrt(n);
  return Interval{s.mean - half, s.mean + half};
}

/// Samples outside Tukey's fences (1.5 and 3 interquartile ranges beyond the
/// quartiles, which follow percentile_sorted's definition).
[[nodiscard]] inline OutlierCounts tukey_outliers(std::span<const double> sorted) {
  OutlierCounts o;
  if (sorted.size() < 4) return o;
  const double q1 = percentile_sorted(sorted, 25);
  const double q3 = percentile_sorted(sorted, 75);
  const double iqr = q3 - q1;
  for (double x : sorted) {
    if (x < q1 - 1.5 * iqr) ++o.low;
    if (x > q3 + 1.5 * iqr) ++o.high;
    if (x < q1 - 3.0 * iqr) ++o.extreme_low;
    if (x > q3 + 3.0 * iqr) ++o.extreme_high;
  }
  return o;
}

/// Equal-width histogram of sorted samples with the Freedman–Diaconis bin
/// width 2 · IQR · n^(-1/3), between 1 and 50 bins.
[[nodiscard]] inline Histogram histogram_of(std::span<const double> sorted) {
  Histogram h;
  if (sorted.empty()) return h;
  h.min = sorted.front();
  const double range = sorted.back() - sorted.front();
  if (range <= 0) {
    h.counts = {sorted.size()};
    return h;
  }
  const double iqr = percentile_sorted(sorted, 75) - percentile_sorted(sorted, 25);
  const double fd = 2.0 * iqr / std::cbrt(static_cast<double>(sorted.size()));
  const std::size_t bins =
      fd > 0 ? std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(range / fd)), 1, 50) : 1;
  h.bin_width = range / static_cast<double>(bins);
  h.counts.assign(bins, 0);
  for (double x : sorted) {
    const auto b = static_cast<std::size_t>((x - h.min) / h.bin_width);
    ++h.counts[std::min(b, bins - 1)];
  }
  return h;
}

}  // namespace accelbench
// ---- end accelbench/measure/stats/summary.hpp ----
// ---- begin accelbench/measure/stats/percentile_stats.hpp ----

#include <algorithm>
#include <cmath>
#include <span>
#include <string_view>
#include <vector>


namespace accelbench {

/// Stats policy: moments, the median, p90, p95, p99 and p99.9 (see
/// percentile_sorted), distribution-free intervals of the median, p90 and
/// p99, the median absolute deviation, Tukey outlier counts and a histogram.
struct PercentileStats {
  static constexpr std::string_view name = "percentile";

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples) {
    return summarize(samples, default_confidence);
  }

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples, double confidence) {
    LatencySummary s = summarize_moments(samples);
    s.confidence = confidence;
    if (samples.empty()) return s;
    std::vector<double> sorted(samples.begin(), samples.end());
    std::sort(sorted.begin(), sorted.end());
    s.median = percentile_sorted(sorted, 50);
    s.p90 = percentile_sorted(sorted, 90);
    s.p95 = percentile_sorted(sorted, 95);
    s.p99 = percentile_sorted(sorted, 99);
    s.p999 = percentile_sorted(sorted, 99.9);
    s.median_ci = percentile_ci_sorted(sorted, 50, confidence);
    s.p90_ci = percentile_ci_sorted(sorted, 90, confidence);
    s.p99_ci = percentile_ci_sorted(sorted, 99, confidence);
    std::vector<double> deviations(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) deviations[i] = std::abs(sorted[i] - *s.median);
    std::sort(deviations.begin(), deviations.end());
    s.mad = percentile_sorted(deviations, 50);
    s.outliers = tukey_outliers(sorted);
    s.histogram = histogram_of(sorted);
    return s;
  }
};

}  // namespace accelbench
// ---- end accelbench/measure/stats/percentile_stats.hpp ----
// ---- begin accelbench/measure/stats/mean_stats.hpp ----

#include <span>
#include <string_view>


namespace accelbench {

/// Stats policy that needs no sorting: moments and the interval of the mean.
struct MeanStats {
  static constexpr std::string_view name = "mean";

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples) {
    return summarize(samples, default_confidence);
  }

  [[nodiscard]] static LatencySummary summarize(std::span<const double> samples, double confidence) {
    LatencySummary s = summarize_moments(samples);
    s.confidence = confidence;
    s.mean_ci = mean_ci(s, confidence);
    return s;
  }
};

}  // namespace accelbench
// ---- end accelbench/measure/stats/mean_stats.hpp ----
// ---- begin accelbench/machine/environment.hpp ----

// The state of the machine that makes timings more or less trustworthy:
// frequency scaling, boost, virtualisation, the kernel's clock source.

#include <string>
#include <vector>


#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <cstring>
#endif

namespace accelbench {

namespace detail {

inline std::string first_line(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) return {};
  return trim(text->substr(0, text->find('\n')));
}

/// The hypervisor's name when the CPU says it runs under one, else "".
inline std::string hypervisor_name() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 31)) != 0) {
    __cpuid(0x40000000u, a, b, c, d);
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &c, 4);
    std::memcpy(vendor + 8, &d, 4);
    const std::string v = vendor;
    if (v == "KVMKVMKVM") return "KVM";
    if (v == "Microsoft Hv") return "Hyper-V";
    if (v == "VMwareVMware") return "VMware";
    if (v == "XenVMMXenVMM") return "Xen";
    if (v == "TCGTCGTCGTCG") return "QEMU (TCG)";
    if (v.rfind("VBox", 0) == 0) return "VirtualBox";
    return v.empty() ? "unknown hypervisor" : v;
  }
#endif
  const std::string sys = first_line("/sys/hypervisor/type");
  return sys;
}

}  // namespace detail

[[nodiscard]] inline EnvironmentInfo environment_info() {
  EnvironmentInfo e;
  e.governor = detail::first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  const std::string boost = detail::first_line("/sys/devices/system/cpu/cpufreq/boost");
  const std::string no_turbo = detail::first_line("/sys/devices/system/cpu/intel_pstate/no_turbo");
  if (boost == "1" || boost == "0") {
    e.boost = boost == "1";
  } else if (no_turbo == "1" || no_turbo == "0") {
    e.boost = no_turbo == "0";
  }
  e.hypervisor = detail::hypervisor_name();
  e.virtualized = !e.hypervisor.empty();
  e.clocksource = detail::first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (const auto cpuinfo = detail::read_text_file("/proc/cpuinfo")) {
    if (const auto mhz = detail::proc_field(*cpuinfo, "cpu MHz")) {
      try {
        e.cpu_mhz = std::stod(*mhz);
      } catch (...) {
      }
    }
  }
  return e;
}

/// Warnings that apply to every timing taken in this environment.
[[nodiscard]] inline std::vector<std::string> environment_warnings(const EnvironmentInfo& e) {
  std::vector<std::string> w;
  if (!e.governor.empty() && e.governor != "performance") {
    w.push_back("CPU frequency scaling: the governor is '" + e.governor +
                "'; 'performance' gives steadier timings");
  }
  if (e.boost.value_or(false)) {
    w.push_back("frequency boost is on: the clock speed depends on load and temperature");
  }
  if (e.virtualized) {
    w.push_back("virtual machine (" + e.hypervisor + "): timings include interference from the host and other guests");
  }
  return w;
}

/// A new run's results, with the start time, the machine, the build, the
/// environment and the run-wide warnings that follow from them filled in.
[[nodiscard]] inline RunResult describe_run() {
  RunResult r;
  r.started_at = utc_timestamp();
  r.system = system_info();
  r.build = build_info();
  r.environment = environment_info();
  r.warnings = build_warnings(r.build);
  for (auto& w : build_machine_warnings(r.build, r.system.cpu_features)) r.warnings.push_back(std::move(w));
  for (auto& w : environment_warnings(r.environment)) r.warnings.push_back(std::move(w));
  return r;
}

}  // namespace accelbench
// ---- end accelbench/machine/environment.hpp ----
// ---- begin accelbench/measure/memory.hpp ----

// Resident memory of the process over an interval, sampled by a background
// thread so that the timed path does no work for it.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif


namespace accelbench {

namespace detail {

/// Resident set size from /proc/self/statm (one short read), 0 where absent.
inline std::uint64_t fast_rss_bytes() {
#if defined(__linux__)
  static const long page = sysconf(_SC_PAGESIZE);
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(page) : 0;
#else
  return current_rss_bytes();
#endif
}

}  // namespace detail

struct MemorySamples {
  std::uint64_t average_bytes = 0;  ///< time-weighted mean
  std::uint64_t max_bytes = 0;      ///< largest sample (the kernel's high-water mark can only be higher)
  std::size_t count = 0;
};

/// Samples the resident set every `interval` seconds from construction until
/// finish(). The average weights each sample by the time until the next.
class MemorySampler {
 public:
  explicit MemorySampler(double interval_s) : interval_(interval_s) {
    if (interval_s <= 0) return;
    start_ = clock::now();
    record(start_);
    thread_ = std::thread([this] { loop(); });
  }

  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;
  ~MemorySampler() { (void)finish(); }

  /// Stops sampling (taking one last sample) and returns the figures.
  MemorySamples finish() {
    if (thread_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      thread_.join();
      record(clock::now());
    }
    MemorySamples out;
    out.count = count_;
    out.max_bytes = max_;
    const double span = std::chrono::duration<double>(last_time_ - start_).count();
    out.average_bytes = span > 0 ? static_cast<std::uint64_t>(weighted_ / span) : last_;
    return out;
  }

 private:
  using clock = std::chrono::steady_clock;

  void loop() {
    std::unique_lock lock(mutex_);
    const auto period = std::chrono::duration<double>(interval_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      record(clock::now());
      lock.lock();
    }
  }

  void record(clock::time_point now) {
    const std::uint64_t rss = detail::fast_rss_bytes();
    if (count_ > 0) weighted_ += static_cast<double>(last_) * std::chrono::duration<double>(now - last_time_).count();
    last_ = rss;
    last_time_ = now;
    max_ = std::max(max_, rss);
    ++count_;
  }

  double interval_;
  clock::time_point start_{}, last_time_{};
  std::uint64_t last_ = 0, max_ = 0;
  double weighted_ = 0;
  std::size_t count_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace accelbench
// ---- end accelbench/measure/memory.hpp ----
// ---- begin accelbench/measure/sampling.hpp ----

// The measuring loop shared by Benchmark and the paired comparison: warmup,
// the choice of runs per sample, and sampling under the stopping rule.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>


namespace accelbench {

/// The end of a cell's time budget (cell_timeout_s), if it has one.
class Deadline {
 public:
  Deadline() = default;
  explicit Deadline(double seconds) {
    if (seconds > 0) {
      at_ = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
      enabled_ = true;
    }
  }
  [[nodiscard]] bool passed() const { return enabled_ && clock::now() >= at_; }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point at_{};
  bool enabled_ = false;
};

/// Thrown between runs when a cell's deadline has passed.
struct CellTimeout {
  std::string phase;
};

/// Relative width of the median's confidence interval, (high - low) /
/// median, from order statistics; infinite when there are too few samples.
[[nodiscard]] inline double median_ci_relative_width(std::vector<double> samples, double confidence) {
  std::sort(samples.begin(), samples.end());
  const auto ci = percentile_ci_sorted(samples, 50, confidence);
  if (!ci) return INFINITY;
  const double median = percentile_sorted(samples, 50);
  return median > 0 ? (ci->high - ci->low) / median : INFINITY;
}

namespace detail {

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, 50);
}

}  // namespace detail

struct WarmupOutcome {
  int runs = 0;
  double typical_run_s = 0;  ///< median wall time of the warmup runs (0 when there were none)
  bool stable = true;        ///< false when until-stable warmup ran out of time
};

/// Warms up per the configuration: warmup_iterations runs, then, if asked,
/// windows of 5 runs until two consecutive window medians agree within
/// warmup_stability_tolerance or warmup_max_time_s has passed. Each run is
/// followed by sync(); runs are timed with steady_clock.
template <class Run, class Sync>
WarmupOutcome warm_up(Run&& run, Sync&& sync, const Config& config, const Deadline& deadline) {
  WarmupOutcome out;
  std::vector<double> times;
  auto timed_run = [&] {
    if (deadline.passed()) throw CellTimeout{"warmup"};
    SteadyTimer t;
    t.start();
    run();
    sync();
    times.push_back(t.stop());
    ++out.runs;
  };
  for (int i = 0; i < config.warmup_iterations; ++i) timed_run();
  if (config.warmup_until_stable) {
    constexpr int window = 5;
    SteadyTimer elapsed;
    elapsed.start();
    double previous = -1;
    out.stable = false;
    while (elapsed.stop() < config.warmup_max_time_s) {
      std::vector<double> w;
      for (int i = 0; i < window; ++i) {
        timed_run();
        w.push_back(times.back());
      }
      const double m = detail::median_of(std::move(w));
      if (previous > 0 && std::abs(m - previous) <= config.warmup_stability_tolerance * previous) {
        out.stable = true;
        break;
      }
      previous = m;
    }
  }
  out.typical_run_s = detail::median_of(times);
  return out;
}

/// Runs per sample: the configured number, or the smallest that makes a
/// sample last at least 1000 timer resolutions and 100 timer calls. When the
/// warmup's run time (`run_s`, itself timed per run) is below that, the
/// runs are timed in growing batches, since a single run of an operation
/// that short is mostly the clock's own cost.
template <class Run, class Sync>
[[nodiscard]] std::size_t choose_iterations_per_sample(double run_s, const TimerInfo& timer, int configured,
                                                       Run&& run, Sync&& sync) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  const double needed = std::max(1000.0 * timer.resolution_s, 100.0 * timer.call_cost_s);
  if (run_s >= needed) return 1;
  std::size_t k = 1;
  for (int round = 0; round < 40; ++round) {
    SteadyTimer t;
    t.start();
    for (std::size_t i = 0; i < k; ++i) run();
    sync();
    const double elapsed = t.stop();
    if (elapsed >= needed) {
      // Scale to the needed time, with a margin of 20%.
      return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(1.2 * needed / elapsed * static_cast<double>(k))));
    }
    const double grow = elapsed > 0 ? std::clamp(1.5 * needed / elapsed, 2.0, 10.0) : 10.0;
    k = static_cast<std::size_t>(std::ceil(static_cast<double>(k) * grow));
  }
  return k;
}

struct SamplingOutcome {
  std::vector<double> per_run_s;  ///< each sample divided by its runs
  double measured_s = 0;          ///< sum of the samples
  double wall_s = 0;              ///< wall time of the whole sampling loop
  std::size_t runs = 0;
  std::string stop_reason;        ///< which part of the stopping rule ended sampling
  std::vector<std::pair<std::string, double>> counter_totals;
};

/// Takes samples of `runs_per_sample` runs each (then one sync) until the
/// stopping rule holds: min_iterations runs, min_time_s of samples and the
/// median's target interval width all reached, or max_iterations runs or
/// max_time_s of wall time. Throws CellTimeout, keeping `out`, when the
/// deadline passes between samples.
template <class T, class Run, class Sync>
void take_samples(T& timer, Run&& run, Sync&& sync, std::size_t runs_per_sample, const Config& config,
                  const Deadline& deadline, SamplingOutcome& out) {
  using clock = std::chrono::steady_clock;
  const auto min_runs = static_cast<std::size_t>(config.min_iterations);
  const auto max_runs = static_cast<std::size_t>(config.max_iterations);
  const double k = static_cast<double>(runs_per_sample);
  out.per_run_s.reserve(std::min<std::size_t>(max_runs / runs_per_sample + 1, 4096));
  std::size_t next_ci_check = 1;
  // Samples shorter than a microsecond read the wall clock every 64th
  // sample only, so that the loop's own clock reads do not dominate.
  std::size_t clock_mask = 0;
  double elapsed = 0;
  const auto begin = clock::now();
  for (;;) {
    if (deadline.passed()) {
      out.stop_reason = "timeout";
      throw CellTimeout{"sampling"};
    }
    timer.start();
    for (std::size_t i = 0; i < runs_per_sample; ++i) run();
    sync();
    const double s = timer.stop();
    out.per_run_s.push_back(s / k);
    out.measured_s += s;
    out.runs += runs_per_sample;
    if constexpr (HasCounters<T>) {
      const auto counts = timer.counters();
      if (out.counter_totals.empty()) {
        out.counter_totals = counts;
      } else {
        for (std::size_t i = 0; i < counts.size() && i < out.counter_totals.size(); ++i) {
          out.counter_totals[i].second += counts[i].second;
        }
      }
    }
    if ((out.per_run_s.size() & clock_mask) == 0) {
      elapsed = std::chrono::duration<double>(clock::now() - begin).count();
      out.wall_s = elapsed;
      clock_mask = s < 1e-6 ? 63 : 0;
    }
    if (out.runs >= max_runs) {
      out.stop_reason = "max_iterations";
      break;
    }
    if (out.runs >= min_runs && elapsed >= config.min_time_s) {
      if (config.target_relative_ci_width <= 0) {
        out.stop_reason = "min_iterations and min_time_s";
        break;
      }
      if (out.per_run_s.size() >= next_ci_check) {
        // Checked at geometrically spaced sample counts: O(n) total work per doubling.
        next_ci_check = out.per_run_s.size() + std::max<std::size_t>(1, out.per_run_s.size() / 10);
        if (median_ci_relative_width(out.per_run_s, config.confidence) <= config.target_relative_ci_width) {
          out.stop_reason = "target_relative_ci_width";
          break;
        }
      }
    }
    if (elapsed >= config.max_time_s) {
      out.stop_reason = "max_time_s";
      break;
    }
  }
  out.wall_s = std::chrono::duration<double>(clock::now() - begin).count();
}

}  // namespace accelbench
// ---- end accelbench/measure/sampling.hpp ----
// ---- begin accelbench/run/resource_pool.hpp ----

// Models loaded once per (family, backend device, preset, weights) and shared
// by every cell and benchmark that asks for them, from any thread.

#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>


namespace accelbench {

/// A model with the time it took to make: its weights in host memory
/// (construct) and the model on the backend from them (upload).
template <class Model>
struct LoadedModel {
  std::shared_ptr<const Model> model;
  double construct_s = 0;
  double upload_s = 0;
  bool shared = false;  ///< from a pool that had loaded it before
};

namespace detail {

/// Loads F's model on `backend`, timing the two steps when the family offers
/// them separately (F::weights and F::load_weights), else F::load as a whole.
/// With a `checkpoint` folder the weights are read from it
/// (F::checkpoint_weights) instead of generated from `seed`.
template <class F, class B>
LoadedModel<typename F::template Model<B>> load_model(B& backend, const typename F::Preset& preset,
                                                      std::uint64_t seed, const std::string& checkpoint = {}) {
  using Model = typename F::template Model<B>;
  LoadedModel<Model> out;
  SteadyTimer t;
  if (!checkpoint.empty()) {
    if constexpr (HasCheckpoints<F> && HasWeightLoading<F, B>) {
      t.start();
      auto weights = F::checkpoint_weights(std::filesystem::path(checkpoint), preset);
      out.construct_s = t.stop();
      t.start();
      out.model = std::make_shared<const Model>(F::template load_weights<B>(backend, preset, std::move(weights)));
      backend.synchronize();
      out.upload_s = t.stop();
      return out;
    } else {
      throw ConfigError("weights", "\"" + checkpoint + "\"",
                        "family " + std::string(F::name) + " cannot read checkpoints");
    }
  }
  if constexpr (HasWeightLoading<F, B>) {
    t.start();
    auto weights = F::weights(preset, seed);
    out.construct_s = t.stop();
    t.start();
    out.model = std::make_shared<const Model>(F::template load_weights<B>(backend, preset, std::move(weights)));
    backend.synchronize();
    out.upload_s = t.stop();
  } else {
    t.start();
    out.model = std::make_shared<const Model>(F::template load<B>(backend, preset, seed));
    backend.synchronize();
    out.upload_s = t.stop();
  }
  return out;
}

/// A suite's settings for one of its models: a preset name, or a
/// checkpoint folder (an existing directory), which becomes Config::weights.
inline Config config_for_model(const Config& settings, const std::string& model) {
  Config c = settings;
  c.model = model;
  std::error_code ec;
  if (std::filesystem::is_directory(model, ec)) c.weights = model;
  return c;
}

/// The preset config.model names, or the dimensions of the checkpoint
/// folder config.weights.
template <class F>
typename F::Preset preset_for(const Config& config) {
  if (config.weights.empty()) return F::find_preset(config.model);
  if constexpr (HasCheckpoints<F>) {
    return F::checkpoint_preset(std::filesystem::path(config.weights), config.accept_config_fields);
  } else {
    throw ConfigError("weights", "\"" + config.weights + "\"",
                      "family " + std::string(F::name) + " cannot read checkpoints");
  }
}

/// The memory space a backend's tensors live in: B::device_key() where the
/// backend names it (Cpu: "host"), else this backend object alone.
template <class B>
std::string device_key(const B& backend) {
  if constexpr (HasDeviceKey<B>) {
    return std::string(B::name) + ":" + std::string(backend.device_key());
  } else {
    std::ostringstream s;
    s << B::name << "@" << static_cast<const void*>(&backend);
    return s.str();
  }
}

}  // namespace detail

/// Thread-safe cache of loaded models. The first request for a key loads the
/// model (outside the lock, so different keys load concurrently); requests
/// for the same key meanwhile wait for that load instead of loading again.
/// A failed load is not cached: its error goes to every waiter, and a later
/// request tries again. Models stay until clear() or the pool's destruction
/// (and while anyone holds them).
class ResourcePool {
 public:
  template <class F, class B>
    requires RunsOn<F, B>
  [[nodiscard]] LoadedModel<typename F::template Model<B>> acquire(B& backend, const typename F::Preset& preset,
                                                                   std::uint64_t seed,
                                                                   const std::string& checkpoint = {}) {
    using Model = typename F::template Model<B>;
    const std::string key = std::string(F::name) + "|" + detail::device_key(backend) + "|" +
                            std::string(preset.name) + "|" +
                            (checkpoint.empty() ? "seed " + std::to_string(seed) : "checkpoint " + checkpoint);
    std::promise<Entry> promise;
    std::shared_future<Entry> future;
    bool load_here = false;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        future = promise.get_future().share();
        entries_.emplace(key, future);
        load_here = true;
        ++loads_;
      } else {
        future = it->second;
        ++hits_;
      }
    }
    if (load_here) {
      try {
        auto loaded = detail::load_model<F, B>(backend, preset, seed, checkpoint);
        promise.set_value(Entry{std::shared_ptr<const void>(loaded.model), loaded.construct_s, loaded.upload_s});
      } catch (...) {
        {
          std::lock_guard lock(mutex_);
          entries_.erase(key);
        }
        promise.set_exception(std::current_exception());
      }
    }
    const Entry& e = future.get();  // rethrows a failed load
    LoadedModel<Model> out;
    out.model = std::static_pointer_cast<const Model>(e.model);
    out.construct_s = e.construct_s;
    out.upload_s = e.upload_s;
    out.shared = !load_here;
    return out;
  }

  /// Models held.
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  /// Loads started, and requests answered by an earlier load.
  [[nodiscard]] std::size_t loads() const {
    std::lock_guard lock(mutex_);
    return loads_;
  }
  [[nodiscard]] std::size_t hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  struct Entry {
    std::shared_ptr<const void> model;
    double construct_s = 0;
    double upload_s = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_future<Entry>> entries_;
  std::size_t loads_ = 0;
  std::size_t hits_ = 0;
};

}  // namespace accelbench
// ---- end accelbench/run/resource_pool.hpp ----
// ---- begin accelbench/measure/verification.hpp ----

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

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
// ---- end accelbench/measure/verification.hpp ----
// ---- begin accelbench/report/console_reporter.hpp ----

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

// ---- begin accelbench/detail/table.hpp ----

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace accelbench::detail {

/// A text table with columns sized to their widest cell.
class TextTable {
 public:
  enum class Align { left, right };

  void add_column(std::string header, Align align) { columns_.push_back({std::move(header), align}); }
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

  void print(std::ostream& out) const {
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      width[c] = columns_[c].header.size();
      for (const auto& row : rows_) {
        if (c < row.size()) width[c] = std::max(width[c], row[c].size());
      }
    }
    auto line = [&](auto&& cell_of) {
      std::string s;
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const std::string& text = cell_of(c);
        if (c > 0) s += "  ";
        s += columns_[c].align == Align::left ? fmt::format("{:<{}}", text, width[c])
                                              : fmt::format("{:>{}}", text, width[c]);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out << s << '\n';
    };
    static const std::string blank;
    line([&](std::size_t c) -> const std::string& { return columns_[c].header; });
    std::string rule;
    for (std::size_t c = 0; c < columns_.size(); ++c) rule += (c ? "  " : "") + std::string(width[c], '-');
    out << rule << '\n';
    for (const auto& row : rows_) {
      line([&](std::size_t c) -> const std::string& { return c < row.size() ? row[c] : blank; });
    }
  }

 private:
  struct Column {
    std::string header;
    Align align;
  };
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace accelbench::detail
// ---- end accelbench/detail/table.hpp ----

namespace accelbench {

namespace detail {

/// Milliseconds with three significant figures or more.
inline std::string format_ms(double seconds) {
  const double ms = seconds * 1e3;
  if (ms < 10) return fmt::format("{:.3f}", ms);
  if (ms < 100) return fmt::format("{:.2f}", ms);
  return fmt::format("{:.1f}", ms);
}

inline std::string format_ms(const std::optional<double>& seconds) {
  return seconds ? format_ms(*seconds) : std::string("-");
}

inline std::string format_rate(double per_second) {
  if (per_second >= 1000) return fmt::format("{:.0f}", per_second);
  if (per_second >= 10) return fmt::format("{:.1f}", per_second);
  return fmt::format("{:.2f}", per_second);
}

inline std::string format_rate(const std::optional<double>& per_second) {
  return per_second ? format_rate(*per_second) : std::string("-");
}

/// A short duration with its unit: ns, us, ms or s.
inline std::string format_duration(double seconds) {
  if (seconds < 1e-6) return fmt::format("{:.1f} ns", seconds * 1e9);
  if (seconds < 1e-3) return fmt::format("{:.2f} us", seconds * 1e6);
  if (seconds < 1) return fmt::format("{:.2f} ms", seconds * 1e3);
  return fmt::format("{:.2f} s", seconds);
}

inline std::string format_mib(std::uint64_t bytes) {
  return fmt::format("{:.1f}", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace detail

/// Reporter policy: an aligned table on a stream (standard output by
/// default), one table per model family, with a header describing the
/// machine and build, and notes for failed cells and warnings.
class ConsoleReporter {
 public:
  ConsoleReporter() = default;
  explicit ConsoleReporter(std::ostream& out) : out_(&out) {}

  void report(const RunResult& r) {
    std::ostream& out = *out_;
    out << fmt::format("accelbench {} | {} | {} ({} logical cores) | {} | {}", r.build.library_version, r.system.os,
                       r.system.cpu_model, r.system.logical_cores, r.build.compiler, r.build.build_type);
    if (!r.build.git_commit.empty()) out << " | commit " << r.build.git_commit;
    out << '\n';
    for (const auto& d : r.devices) {
      out << fmt::format("device {}: {}", d.backend, d.name.empty() ? std::string("(unavailable)") : d.name);
      if (d.threads > 0) out << fmt::format(", {} thread{}", d.threads, d.threads == 1 ? "" : "s");
      out << '\n';
    }
    for (const auto& t : r.timers) {
      if (t.available) {
        out << fmt::format("timer {}: resolution {}, {} per call\n", t.name, detail::format_duration(t.resolution_s),
                           detail::format_duration(t.call_cost_s));
      } else {
        out << fmt::format("timer {}: unavailable: {}\n", t.name, t.reason);
      }
    }
    for (const auto& w : r.warnings) out << "WARNING: " << w << '\n';

    std::vector<std::string> families;
    for (const auto& c : r.cells) {
      if (std::find(families.begin(), families.end(), c.family) == families.end()) families.push_back(c.family);
    }
    std::vector<std::string> notes;
    for (const auto& family : families) {
      out << '\n';
      print_family(r, family, notes);
    }
    if (!notes.empty()) {
      out << '\n';
      for (const auto& n : notes) out << n << '\n';
    }
    for (const auto& c : r.comparisons) {
      out << '\n';
      print_comparison(c);
    }
    if (!r.loading.empty()) {
      out << '\n';
      print_loading(r.loading);
    }
    if (r.build.debug()) {
      out << "\nWARNING: this was a debug or assertion-enabled build; the timings above are not representative\n";
    }
    out.flush();
  }

 private:
  void print_family(const RunResult& r, const std::string& family, std::vector<std::string>& notes) const {
    using Align = detail::TextTable::Align;
    const CellResult* first = nullptr;
    bool tokens = false, gflops = false, kv_cache = false, rtf = false, device_memory = false, verified = false;
    std::vector<std::pair<std::string, std::string>> phases;  // name, item unit
    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      if (!first) first = &c;
      tokens = tokens || c.throughput.tokens_per_second.has_value();
      gflops = gflops || c.throughput.gflops_per_second.has_value();
      rtf = rtf || c.throughput.real_time_factor.has_value();
      kv_cache = kv_cache || c.memory.kv_cache_bytes.has_value();
      device_memory = device_memory || c.memory.device_peak_bytes.has_value();
      verified = verified || c.verification.status == "ok" || c.verification.status == "mismatch";
      for (const auto& p : c.phases) {
        if (std::none_of(phases.begin(), phases.end(), [&](const auto& q) { return q.first == p.name; })) {
          phases.emplace_back(p.name, p.item_unit);
        }
      }
    }
    detail::TextTable t;
    t.add_column("model", Align::left);
    t.add_column("backend", Align::left);
    for (const auto& a : first->shape) t.add_column(a.name, Align::right);
    t.add_column("status", Align::left);
    t.add_column("median ms", Align::right);
    t.add_column("median CI ms", Align::right);
    for (const char* h : {"p90 ms", "p99 ms", "mean ms", "cv %", "outliers"}) t.add_column(h, Align::right);
    t.add_column(first->throughput.item_unit + "/s", Align::right);
    if (tokens) t.add_column("tokens/s", Align::right);
    if (gflops) t.add_column("GFLOP/s", Align::right);
    if (rtf) t.add_column("RTF", Align::right);
    for (const auto& [name, unit] : phases) {
      t.add_column(name + " ms", Align::right);
      t.add_column(name + " p99 ms", Align::right);
      t.add_column(name + " " + unit + "/s", Align::right);
    }
    if (kv_cache) t.add_column("KV cache MiB", Align::right);
    t.add_column("peak RSS MiB", Align::right);
    t.add_column("avg RSS MiB", Align::right);
    if (device_memory) {
      t.add_column("device peak MiB", Align::right);
      t.add_column("device avg MiB", Align::right);
    }
    t.add_column("first run ms", Align::right);
    t.add_column("load s", Align::right);
    if (verified) t.add_column("max abs error", Align::right);

    for (const auto& c : r.cells) {
      if (c.family != family) continue;
      std::vector<std::string> row{c.model, c.backend};
      for (const auto& a : first->shape) {
        const auto v = c.axis(a.name);
        row.push_back(v ? std::to_string(*v) : "-");
      }
      std::string status(to_string(c.status));
      const bool measured = c.latency.count > 0;
      // Run-wide warnings are printed once, above; notes carry the cell's own.
      std::vector<std::string> own;
      for (const auto& w : c.warnings) {
        if (std::find(r.warnings.begin(), r.warnings.end(), w) == r.warnings.end()) own.push_back(w);
      }
      std::string marks;
      if (!c.message.empty() || !own.empty()) {
        marks = fmt::format(" [{}]", notes.size() + 1);
        std::string shape;
        for (const auto& a : c.shape) shape += fmt::format(" {}={}", a.name, a.value);
        std::string text = fmt::format("[{}] {} on {}{}:", notes.size() + 1, c.model, c.backend, shape);
        if (!c.message.empty()) text += " " + c.message + ";";
        for (const auto& w : own) text += " " + w + ";";
        text.pop_back();
        notes.push_back(std::move(text));
      }
      row.push_back(status + marks);
      if (measured) {
        row.push_back(detail::format_ms(c.latency.median));
        row.push_back(c.latency.median_ci ? detail::format_ms(c.latency.median_ci->low) + "-" +
                                                detail::format_ms(c.latency.median_ci->high)
                                          : std::string("-"));
        row.push_back(detail::format_ms(c.latency.p90));
        row.push_back(detail::format_ms(c.latency.p99));
        row.push_back(detail::format_ms(c.latency.mean));
        row.push_back(fmt::format("{:.1f}", c.latency.cv * 100));
        row.push_back(c.latency.outliers ? std::to_string(c.latency.outliers->total()) : std::string("-"));
        row.push_back(detail::format_rate(c.throughput.items_per_second));
        if (tokens) row.push_back(detail::format_rate(c.throughput.tokens_per_second));
        if (gflops) row.push_back(detail::format_rate(c.throughput.gflops_per_second));
        if (rtf) {
          row.push_back(c.throughput.real_time_factor ? fmt::format("{:.4f}", *c.throughput.real_time_factor)
                                                      : std::string("-"));
        }
        for (const auto& phase : phases) {
          const auto p =
              std::find_if(c.phases.begin(), c.phases.end(), [&](const auto& q) { return q.name == phase.first; });
          if (p == c.phases.end() || p->latency.count == 0) {
            row.insert(row.end(), 3, "-");
            continue;
          }
          row.push_back(detail::format_ms(p->latency.median));
          row.push_back(detail::format_ms(p->latency.p99));
          row.push_back(detail::format_rate(p->items_per_second));
        }
        if (kv_cache) {
          row.push_back(c.memory.kv_cache_bytes ? detail::format_mib(*c.memory.kv_cache_bytes) : std::string("-"));
        }
        row.push_back(detail::format_mib(c.memory.peak_rss_bytes));
        row.push_back(c.memory.average_rss_bytes ? detail::format_mib(*c.memory.average_rss_bytes) : std::string("-"));
        if (device_memory) {
          row.push_back(c.memory.device_peak_bytes ? detail::format_mib(*c.memory.device_peak_bytes) : std::string("-"));
          row.push_back(c.memory.device_average_bytes ? detail::format_mib(*c.memory.device_average_bytes)
                                                      : std::string("-"));
        }
        row.push_back(fmt::format("{:.3f}", c.first_run_s * 1e3));
        row.push_back(fmt::format("{:.3f}", c.load_time_s));
        if (verified) {
          const bool compared = c.verification.status == "ok" || c.verification.status == "mismatch";
          row.push_back(compared ? fmt::format("{:.1e}", c.verification.max_abs_error) : std::string("-"));
        }
      }
      t.add_row(std::move(row));
    }
    *out_ << "family " << family << '\n';
    t.print(*out_);
  }

  void print_comparison(const ComparisonResult& c) const {
    using Align = detail::TextTable::Align;
    auto side = [](const std::string& model, const std::string& backend, const std::string& label) {
      return label.empty() ? fmt::format("{} on {}", model, backend)
                           : fmt::format("{} on {} ({})", model, backend, label);
    };
    *out_ << fmt::format("comparison ({}): a = {}, b = {}; ratio = time a / time b, {} at {:.0f}%\n", c.family,
                         side(c.model_a, c.backend_a, c.label_a), side(c.model_b, c.backend_b, c.label_b), c.test,
                         c.confidence * 100);
    if (c.cells.empty()) return;
    detail::TextTable t;
    for (const auto& a : c.cells.front().shape) t.add_column(a.name, Align::right);
    t.add_column("status", Align::left);
    for (const char* h : {"pairs", "a median ms", "b median ms", "ratio a/b", "interval", "p-value", "significant"}) {
      t.add_column(h, Align::right);
    }
    std::vector<std::string> notes;
    for (const auto& cell : c.cells) {
      std::vector<std::string> row;
      for (const auto& a : cell.shape) row.push_back(std::to_string(a.value));
      std::string status = cell.status;
      if (!cell.message.empty()) {
        notes.push_back(fmt::format("[{}] {}", notes.size() + 1, cell.message));
        status += fmt::format(" [{}]", notes.size());
      }
      row.push_back(status);
      if (cell.pairs > 0) {
        row.push_back(std::to_string(cell.pairs));
        row.push_back(detail::format_ms(cell.median_a_s));
        row.push_back(detail::format_ms(cell.median_b_s));
        row.push_back(fmt::format("{:.3f}", cell.ratio));
        row.push_back(cell.ratio_ci ? fmt::format("{:.3f}-{:.3f}", cell.ratio_ci->low, cell.ratio_ci->high)
                                    : std::string("too few pairs"));
        row.push_back(fmt::format("{:.2g}", cell.p_value));
        row.push_back(cell.significant ? "yes" : "no");
      }
      t.add_row(std::move(row));
    }
    t.print(*out_);
    for (const auto& n : notes) *out_ << n << '\n';
  }

  void print_loading(const std::vector<LoadingResult>& loading) const {
    using Align = detail::TextTable::Align;
    *out_ << "model loading: the models one after another, then all at once on one thread each\n";
    detail::TextTable t;
    t.add_column("family", Align::left);
    t.add_column("backend", Align::left);
    t.add_column("models", Align::left);
    t.add_column("status", Align::left);
    t.add_column("repetitions", Align::right);
    t.add_column("sequential s", Align::right);
    t.add_column("concurrent s", Align::right);
    t.add_column("speedup", Align::right);
    for (const auto& l : loading) {
      std::string models;
      for (const auto& m : l.models) models += (models.empty() ? "" : ", ") + m;
      std::vector<std::string> row{l.family, l.backend, models, l.status + (l.message.empty() ? "" : ": " + l.message)};
      if (l.status == "ok") {
        row.push_back(std::to_string(l.repetitions));
        row.push_back(fmt::format("{:.3f}", l.sequential_median_s));
        row.push_back(fmt::format("{:.3f}", l.concurrent_median_s));
        row.push_back(fmt::format("{:.2f}x", l.speedup));
      }
      t.add_row(std::move(row));
    }
    t.print(*out_);
  }

  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench
// ---- end accelbench/report/console_reporter.hpp ----
// ---- begin accelbench/report/json.hpp ----

// The JSON form of results, as documented in docs/result-schema.md.

#include <optional>
#include <string>
#include <utility>
#include <vector>


namespace accelbench {

namespace detail {

inline Json to_json(const std::optional<Interval>& i) {
  return i ? Json{{"low_s", i->low}, {"high_s", i->high}} : Json(nullptr);
}

template <class Pairs>
Json object_of(const Pairs& pairs) {
  Json o = Json::object();
  for (const auto& [k, v] : pairs) o[k] = v;
  return o;
}

inline Json shape_of(const std::vector<Axis>& shape) {
  Json o = Json::object();
  for (const auto& a : shape) o[a.name] = a.value;
  return o;
}

inline Json to_json(const LatencySummary& s) {
  Json outliers(nullptr);
  if (s.outliers) {
    outliers = Json{{"low", s.outliers->low},
                    {"high", s.outliers->high},
                    {"extreme_low", s.outliers->extreme_low},
                    {"extreme_high", s.outliers->extreme_high}};
  }
  Json histogram(nullptr);
  if (s.histogram) {
    histogram = Json{{"min_s", s.histogram->min},
                     {"bin_width_s", s.histogram->bin_width},
                     {"counts", s.histogram->counts}};
  }
  return Json{{"count", s.count},
              {"min_s", s.min},
              {"max_s", s.max},
              {"mean_s", s.mean},
              {"median_s", optional_value(s.median)},
              {"p90_s", optional_value(s.p90)},
              {"p95_s", optional_value(s.p95)},
              {"p99_s", optional_value(s.p99)},
              {"p999_s", optional_value(s.p999)},
              {"stddev_s", s.stddev},
              {"cv", s.cv},
              {"mad_s", optional_value(s.mad)},
              {"confidence", s.confidence},
              {"median_ci", to_json(s.median_ci)},
              {"p90_ci", to_json(s.p90_ci)},
              {"p99_ci", to_json(s.p99_ci)},
              {"mean_ci", to_json(s.mean_ci)},
              {"outliers", outliers},
              {"histogram", histogram}};
}

inline Json to_json(const DeviceInfo& d) {
  return Json{{"backend", d.backend},         {"name", d.name},        {"kind", d.kind},
              {"compute_units", d.compute_units}, {"threads", d.threads}, {"memory_bytes", d.memory_bytes},
              {"features", d.features},       {"properties", object_of(d.properties)}};
}

inline Json to_json(const TimerInfo& t) {
  return Json{{"name", t.name},
              {"available", t.available},
              {"reason", optional_text(t.reason)},
              {"resolution_s", t.resolution_s},
              {"call_cost_s", t.call_cost_s},
              {"properties", object_of(t.properties)}};
}

inline Json to_json(const PhaseResult& p) {
  return Json{{"name", p.name},
              {"item_unit", p.item_unit},
              {"items", p.items},
              {"per_run", p.per_run},
              {"latency", to_json(p.latency)},
              {"items_per_second", p.items_per_second}};
}

inline Json to_json(const CellResult& c) {
  Json phases = Json::array();
  for (const auto& p : c.phases) phases.push_back(to_json(p));
  return Json{
      {"model", c.model},
      {"family", c.family},
      {"backend", c.backend},
      {"shape", shape_of(c.shape)},
      {"status", std::string(to_string(c.status))},
      {"message", optional_text(c.message)},
      {"stats", c.stats},
      {"timer", c.timer},
      {"warmup_iterations", c.warmup_iterations},
      {"iterations", c.iterations},
      {"iterations_per_sample", c.iterations_per_sample},
      {"stop_reason", optional_text(c.stop_reason)},
      {"measured_time_s", c.measured_time_s},
      {"sampling_wall_s", c.sampling_wall_s},
      {"first_run_s", c.first_run_s},
      {"load_time_s", c.load_time_s},
      {"latency", to_json(c.latency)},
      {"phases", std::move(phases)},
      {"throughput",
       Json{{"item_unit", c.throughput.item_unit},
            {"items_per_second", c.throughput.items_per_second},
            {"tokens_per_second", optional_value(c.throughput.tokens_per_second)},
            {"gflops_per_second", optional_value(c.throughput.gflops_per_second)},
            {"real_time_factor", optional_value(c.throughput.real_time_factor)}}},
      {"memory",
       Json{{"rss_before_bytes", c.memory.rss_before_bytes},
            {"rss_after_bytes", c.memory.rss_after_bytes},
            {"peak_rss_bytes", c.memory.peak_rss_bytes},
            {"growth_bytes", c.memory.growth_bytes()},
            {"peak_is_per_cell", c.memory.peak_is_per_cell},
            {"average_rss_bytes", optional_value(c.memory.average_rss_bytes)},
            {"rss_samples", c.memory.rss_samples},
            {"activation_bytes", optional_value(c.memory.activation_bytes)},
            {"kv_cache_bytes", optional_value(c.memory.kv_cache_bytes)},
            {"device_peak_bytes", optional_value(c.memory.device_peak_bytes)},
            {"device_average_bytes", optional_value(c.memory.device_average_bytes)},
            {"device_used_bytes", optional_value(c.memory.device_used_bytes)},
            {"device_total_bytes", optional_value(c.memory.device_total_bytes)}}},
      {"counters", object_of(c.counters)},
      {"verification",
       Json{{"status", c.verification.status},
            {"reference", optional_text(c.verification.reference)},
            {"max_abs_error", c.verification.max_abs_error},
            {"max_rel_error", c.verification.max_rel_error},
            {"cosine_similarity", c.verification.cosine_similarity},
            {"token_agreement", optional_value(c.verification.token_agreement)},
            {"tolerance", c.verification.tolerance}}},
      {"warnings", c.warnings},
      {"samples_s", c.samples_s},
  };
}

inline Json to_json(const ComparisonResult& r) {
  Json cells = Json::array();
  for (const auto& c : r.cells) {
    cells.push_back(Json{{"shape", shape_of(c.shape)},
                         {"status", c.status},
                         {"message", optional_text(c.message)},
                         {"pairs", c.pairs},
                         {"median_a_s", c.median_a_s},
                         {"median_b_s", c.median_b_s},
                         {"ratio", c.ratio},
                         {"ratio_ci", c.ratio_ci ? Json{{"low", c.ratio_ci->low}, {"high", c.ratio_ci->high}}
                                                 : Json(nullptr)},
                         {"a_slower", c.a_slower},
                         {"b_slower", c.b_slower},
                         {"p_value", c.p_value},
                         {"significant", c.significant}});
  }
  return Json{{"family", r.family},   {"model_a", r.model_a},       {"model_b", r.model_b},
              {"backend_a", r.backend_a}, {"backend_b", r.backend_b}, {"label_a", r.label_a},
              {"label_b", r.label_b}, {"confidence", r.confidence}, {"test", r.test},
              {"cells", cells}};
}

inline Json to_json(const LoadingResult& l) {
  return Json{{"family", l.family},
              {"backend", l.backend},
              {"models", l.models},
              {"repetitions", l.repetitions},
              {"sequential_s", l.sequential_s},
              {"concurrent_s", l.concurrent_s},
              {"sequential_median_s", l.sequential_median_s},
              {"concurrent_median_s", l.concurrent_median_s},
              {"speedup", l.speedup},
              {"status", l.status},
              {"message", optional_text(l.message)}};
}

}  // namespace detail

/// Results as JSON (schema "accelbench.result", version RunResult::schema_version).
[[nodiscard]] inline Json to_json(const RunResult& r) {
  auto array_of = [](const auto& items) {
    Json a = Json::array();
    for (const auto& i : items) a.push_back(detail::to_json(i));
    return a;
  };
  Json models = Json::array();
  for (const auto& m : r.models) {
    models.push_back(Json{{"name", m.name},
                          {"family", m.family},
                          {"architecture", m.architecture},
                          {"backend", m.backend},
                          {"weights", m.weights},
                          {"accepted_config_fields", m.accepted_config_fields},
                          {"parameters", m.parameters},
                          {"weight_bytes", m.weight_bytes},
                          {"load_time_s", m.load_time_s},
                          {"construct_time_s", m.construct_time_s},
                          {"upload_time_s", m.upload_time_s},
                          {"shared", m.shared},
                          {"status", m.status},
                          {"message", detail::optional_text(m.message)}});
  }
  const auto& s = r.system;
  const auto& b = r.build;
  const auto& e = r.environment;
  const auto& t = r.settings;
  return Json{
      {"schema", "accelbench.result"},
      {"schema_version", RunResult::schema_version},
      {"library_version", b.library_version},
      {"started_at", r.started_at},
      {"finished_at", r.finished_at},
      {"system",
       Json{{"hostname", s.hostname},
            {"os", s.os},
            {"kernel", s.kernel},
            {"architecture", s.architecture},
            {"cpu_model", s.cpu_model},
            {"logical_cores", s.logical_cores},
            {"physical_cores", s.physical_cores},
            {"memory_bytes", s.memory_bytes},
            {"cpu_features", s.cpu_features}}},
      {"build",
       Json{{"compiler", b.compiler},
            {"flags", b.flags},
            {"build_type", b.build_type},
            {"optimized", b.optimized},
            {"assertions", b.assertions},
            {"debug", b.debug()},
            {"git_commit", detail::optional_text(b.git_commit)},
            {"eigen_version", b.eigen_version},
            {"eigen_simd", b.eigen_simd},
            {"simd", b.simd},
            {"openmp", b.openmp}}},
      {"environment",
       Json{{"governor", detail::optional_text(e.governor)},
            {"boost", detail::optional_value(e.boost)},
            {"virtualized", e.virtualized},
            {"hypervisor", detail::optional_text(e.hypervisor)},
            {"clocksource", detail::optional_text(e.clocksource)},
            {"cpu_mhz", detail::optional_value(e.cpu_mhz)}}},
      {"settings",
       Json{{"warmup_iterations", t.warmup_iterations},
            {"warmup_until_stable", t.warmup_until_stable},
            {"warmup_stability_tolerance", t.warmup_stability_tolerance},
            {"warmup_max_time_s", t.warmup_max_time_s},
            {"min_iterations", t.min_iterations},
            {"max_iterations", t.max_iterations},
            {"min_time_s", t.min_time_s},
            {"max_time_s", t.max_time_s},
            {"target_relative_ci_width", t.target_relative_ci_width},
            {"confidence", t.confidence},
            {"iterations_per_sample", t.iterations_per_sample},
            {"cell_timeout_s", t.cell_timeout_s},
            {"memory_sample_interval_s", t.memory_sample_interval_s},
            {"seed", t.seed}}},
      {"timers", array_of(r.timers)},
      {"devices", array_of(r.devices)},
      {"models", models},
      {"cells", array_of(r.cells)},
      {"comparisons", array_of(r.comparisons)},
      {"loading", array_of(r.loading)},
      {"warnings", r.warnings},
  };
}

}  // namespace accelbench
// ---- end accelbench/report/json.hpp ----
// ---- begin accelbench/report/json_reporter.hpp ----

#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <utility>


namespace accelbench {

/// Reporter policy: results as JSON (docs/result-schema.md), to a file
/// written whole (temporary file, then rename) or, by default, to standard
/// output.
class JsonReporter {
 public:
  JsonReporter() = default;
  explicit JsonReporter(std::filesystem::path path) : path_(std::move(path)) {}
  explicit JsonReporter(std::ostream& out) : out_(&out) {}

  void report(const RunResult& result) {
    const std::string text = detail::dump_json(to_json(result), 2) + "\n";
    if (path_) {
      detail::write_file_atomically(*path_, text);
    } else {
      *out_ << text;
      out_->flush();
    }
  }

  [[nodiscard]] const std::optional<std::filesystem::path>& path() const noexcept { return path_; }

 private:
  std::optional<std::filesystem::path> path_;
  std::ostream* out_ = &std::cout;
};

}  // namespace accelbench
// ---- end accelbench/report/json_reporter.hpp ----
// ---- begin accelbench/report/journal.hpp ----

// The cell journal: each result is appended to a JSON Lines file (and
// flushed to the disk) as soon as it is measured, so that a run killed at
// any point keeps every cell it completed, and `accelbench run --resume`
// continues it without measuring them again. docs/result-schema.md
// describes the format.
//
//   {"schema": "accelbench.journal", "schema_version": 1, "command": "run", ...}   header
//   {"kind": "cell", "key": "embedding/bert-tiny/cpu/batch_size=1,sequence_length=8", "cell": {...}}
//   {"kind": "part", "result": {...}}      a model's or a loading benchmark's results, less its cells
//   {"kind": "row", "key": "...", "row": {...}}   a row of the compatibility matrix
//   {"kind": "comparison_cell", "key": "...", "cell": {...}}

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif


namespace accelbench {

inline constexpr const char* journal_schema = "accelbench.journal";
inline constexpr int journal_schema_version = 1;

/// The stable identity of a cell: family, model, backend and its sweep
/// point ("embedding/bert-tiny/cpu/batch_size=1,sequence_length=8"), as
/// valid UTF-8.
[[nodiscard]] inline std::string cell_key(const std::string& family, const std::string& model,
                                          const std::string& backend, const std::vector<Axis>& shape) {
  std::string key = family + "/" + model + "/" + backend + "/";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    key += (i ? "," : "") + shape[i].name + "=" + std::to_string(shape[i].value);
  }
  return detail::valid_utf8(key);
}

[[nodiscard]] inline std::string cell_key(const CellResult& c) { return cell_key(c.family, c.model, c.backend, c.shape); }

/// What a journal file holds: its header, its complete lines after it, and
/// whether its last line was cut short (a run killed while writing it).
struct JournalContents {
  Json header;
  std::vector<Json> entries;
  std::uintmax_t complete_bytes = 0;  ///< where the last complete line ends
  bool truncated = false;             ///< the last line was incomplete and is ignored
  std::string note;                   ///< says so, naming the line
};

/// Reads a journal. An incomplete last line (no newline, or not valid JSON)
/// is left out and reported in `note`; any other bad line, or a file that is
/// not a journal, throws std::runtime_error naming the file and the line.
[[nodiscard]] inline JournalContents read_journal(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open the journal '" + path.string() + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  JournalContents out;
  std::size_t pos = 0;
  std::size_t line_number = 0;
  while (pos < text.size()) {
    ++line_number;
    const std::size_t end = text.find('\n', pos);
    const bool last = end == std::string::npos || end + 1 == text.size();
    const std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    Json j;
    bool ok = end != std::string::npos;
    if (ok) {
      try {
        j = Json::parse(line);
        ok = j.is_object();
      } catch (const Json::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      if (last && line_number > 1) {
        out.truncated = true;
        out.note = "line " + std::to_string(line_number) + " of the journal '" + path.string() +
                   "' is incomplete (the run was ended while writing it) and is ignored";
        break;
      }
      throw std::runtime_error("the journal '" + path.string() + "' has a bad line " + std::to_string(line_number) +
                               (line_number == 1 ? " (its header)" : ""));
    }
    if (line_number == 1) {
      if (!j.contains("schema") || j["schema"] != journal_schema) {
        throw std::runtime_error("'" + path.string() + "' is not an accelbench journal (its first line has no \"schema\": \"" +
                                 journal_schema + "\")");
      }
      if (!j.contains("schema_version") || j["schema_version"] != journal_schema_version) {
        throw std::runtime_error("the journal '" + path.string() + "' has schema_version " +
                                 detail::dump_json(j.value("schema_version", Json(nullptr))) + "; this build reads " +
                                 std::to_string(journal_schema_version));
      }
      out.header = std::move(j);
    } else {
      out.entries.push_back(std::move(j));
    }
    pos = end + 1;
    out.complete_bytes = pos;
  }
  if (out.header.is_null()) throw std::runtime_error("the journal '" + path.string() + "' is empty");
  return out;
}

/// A journal open for appending. Each append writes one line and flushes it
/// to the disk (fsync) before it returns; appends from several threads are
/// serialised, and lock() lets a reader see a state between two appends.
class Journal {
 public:
  Journal() = default;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal() { close(); }

  /// Starts the journal `path` (an empty file, or one created here) with `header`.
  void start(const std::filesystem::path& path, Json header) {
    Json ordered = Json::object();
    ordered["schema"] = journal_schema;
    ordered["schema_version"] = journal_schema_version;
    for (const auto& [k, v] : header.items()) ordered[k] = v;
    open(path, 0);
    header_ = std::move(ordered);
    write_line(header_);
  }

  /// Continues the journal `path` after its last complete line (an
  /// incomplete last line is cut off); returns what it held.
  JournalContents resume(const std::filesystem::path& path) {
    JournalContents contents = read_journal(path);
    open(path, contents.complete_bytes);
    header_ = contents.header;
    entries_ = contents.entries;
    return contents;
  }

  /// Appends an entry (an object with "kind").
  void append(const Json& entry) {
    const std::lock_guard lock(mutex_);
    entries_.push_back(entry);
    write_line(entry);
  }

  void append_cell(const CellResult& c) { append(Json{{"kind", "cell"}, {"key", cell_key(c)}, {"cell", detail::to_json(c)}}); }

  /// A part of the results without its cells (they are journaled one by one).
  void append_part(RunResult part) {
    part.cells.clear();
    append(Json{{"kind", "part"}, {"result", to_json(part)}});
  }

  /// Holds appends back while it lives.
  [[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }
  /// The entries so far (hold lock() while reading them from another thread).
  [[nodiscard]] const std::vector<Json>& entries() const noexcept { return entries_; }
  [[nodiscard]] const Json& header() const noexcept { return header_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// The keys of the entries of `kind`.
  [[nodiscard]] std::set<std::string> keys(const std::string& kind) const {
    std::set<std::string> out;
    for (const auto& e : entries_) {
      if (e.value("kind", "") == kind && e.contains("key")) out.insert(e["key"].get<std::string>());
    }
    return out;
  }

  void close() {
#if defined(__unix__) || defined(__APPLE__)
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
#else
    if (file_) std::fclose(file_);
    file_ = nullptr;
#endif
  }

 private:
  void open(const std::filesystem::path& path, std::uintmax_t keep_bytes) {
    close();
    path_ = path;
#if defined(__unix__) || defined(__APPLE__)
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    // One writer at a time: a second run resuming the same journal is refused.
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      close();
      throw std::runtime_error("the journal '" + path.string() + "' is in use by another run");
    }
    if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
      close();
      throw std::runtime_error("cannot open the journal '" + path.string() + "' for writing");
    }
#else
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) std::filesystem::resize_file(path, keep_bytes, ec);
    file_ = std::fopen(path.string().c_str(), "ab");
    if (!file_) throw std::runtime_error("cannot open the journal '" + path.string() + "' for writing");
#endif
  }

  void write_line(const Json& j) {
    const std::string line = detail::dump_json(j) + "\n";
#if defined(__unix__) || defined(__APPLE__)
    std::size_t done = 0;
    while (done < line.size()) {
      const ::ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("cannot write the journal '" + path_.string() + "'");
      }
      done += static_cast<std::size_t>(n);
    }
    ::fsync(fd_);
#else
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      throw std::runtime_error("cannot write the journal '" + path_.string() + "'");
    }
#endif
  }

  std::filesystem::path path_;
  Json header_;
  std::vector<Json> entries_;
  std::mutex mutex_;
#if defined(__unix__) || defined(__APPLE__)
  int fd_ = -1;
#else
  std::FILE* file_ = nullptr;
#endif
};

namespace detail {

/// Keeps the last of the items of `array` with the same key(item), at the
/// place of the first.
template <class Key>
Json last_of_each(const std::vector<Json>& items, Key key) {
  std::vector<std::string> keys;
  Json out = Json::array();
  for (const auto& item : items) {
    const std::string k = key(item);
    const auto it = std::find(keys.begin(), keys.end(), k);
    if (it == keys.end()) {
      keys.push_back(k);
      out.push_back(item);
    } else {
      out[static_cast<std::size_t>(it - keys.begin())] = item;
    }
  }
  return out;
}

}  // namespace detail

/// The results (docs/result-schema.md) of the journal's entries: `frame`'s
/// system, build, environment, settings and times, with the devices,
/// timers, models, loading benchmarks, warnings and comparisons of its parts
/// and the cells it holds, in the order they were measured (a cell, model
/// or loading benchmark journaled again replaces the earlier one).
[[nodiscard]] inline Json results_from_journal(const RunResult& frame, const std::vector<Json>& entries) {
  Json out = to_json(frame);
  std::vector<Json> cells;
  std::vector<Json> taken[6];
  const char* names[6] = {"devices", "timers", "models", "comparisons", "loading", "warnings"};
  for (const auto& item : out["devices"]) taken[0].push_back(item);
  for (const auto& item : out["timers"]) taken[1].push_back(item);
  for (const auto& e : entries) {
    const std::string kind = e.value("kind", "");
    if (kind == "cell" && e.contains("cell")) cells.push_back(e["cell"]);
    if (kind != "part" || !e.contains("result") || !e["result"].is_object()) continue;
    for (int i = 0; i < 6; ++i) {
      const Json& r = e["result"];
      if (!r.contains(names[i]) || !r[names[i]].is_array()) continue;
      for (const auto& item : r[names[i]]) taken[i].push_back(item);
    }
  }
  // What makes two items the same one, as text.
  const auto of = [](std::vector<std::string> fields) {
    return [fields = std::move(fields)](const Json& j) {
      std::string k;
      for (const auto& f : fields) k += (j.is_object() && j.contains(f) ? detail::dump_json(j[f]) : "-") + "/";
      return fields.empty() ? detail::dump_json(j) : k;
    };
  };
  out["devices"] = detail::last_of_each(taken[0], of({"backend"}));
  out["timers"] = detail::last_of_each(taken[1], of({"name"}));
  out["models"] = detail::last_of_each(taken[2], of({"family", "name", "backend"}));
  out["comparisons"] = detail::last_of_each(taken[3], of({}));
  out["loading"] = detail::last_of_each(taken[4], of({"family", "backend"}));
  out["warnings"] = detail::last_of_each(taken[5], of({}));
  out["cells"] = detail::last_of_each(cells, of({"family", "model", "backend", "shape"}));
  return out;
}

}  // namespace accelbench
// ---- end accelbench/report/journal.hpp ----
// ---- begin accelbench/run/benchmark.hpp ----

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// ---- begin accelbench/run/phase_timer.hpp ----

// The engine's side of phase timing: a workload's phased run marks the end of
// each phase, and PhaseTimer synchronises the backend there and reads the
// benchmark's Timer policy, so phases are timed like whole runs.

#include <cstddef>
#include <utility>


namespace accelbench {

template <Backend B, Timer T>
class PhaseTimer {
 public:
  PhaseTimer(B& backend, T timer, PhaseLog& log) : backend_(&backend), timer_(std::move(timer)), log_(&log) {}

  /// Starts the first phase of a run.
  void begin() { timer_.start(); }

  /// Ends phase `phase` (once the backend has finished it) and starts the next.
  void end(std::size_t phase) {
    backend_->synchronize();
    log_->record(phase, timer_.stop());
    timer_.start();
  }

 private:
  B* backend_;
  T timer_;
  PhaseLog* log_;
};

}  // namespace accelbench
// ---- end accelbench/run/phase_timer.hpp ----
// ---- begin accelbench/run/op_requirements.hpp ----

// Benchmark<B, F>'s message when backend B lacks an op that family F needs:
// in plain English, naming the op set, with the compiler's notes naming the
// op. Which op sets a family needs is read from its Model template: a probe
// backend that lacks exactly one op set (the reference backend with one op
// hidden) cannot name F::Model of a family that needs that set.

#include <type_traits>


namespace accelbench::detail {

namespace probe {
struct WithoutEncoderOps : Cpu {
  void attention() = delete;  // hides every attention overload: no op set holds
};
struct WithoutGenerationOps : Cpu {
  void rms_norm() = delete;
};
struct WithoutPerceptionOps : Cpu {
  void conv2d() = delete;
};
static_assert(Backend<WithoutEncoderOps> && !EncoderOps<WithoutEncoderOps>);
static_assert(EncoderOps<WithoutGenerationOps> && !GenerationOps<WithoutGenerationOps> &&
              PerceptionOps<WithoutGenerationOps>);
static_assert(EncoderOps<WithoutPerceptionOps> && GenerationOps<WithoutPerceptionOps> &&
              !PerceptionOps<WithoutPerceptionOps>);
}  // namespace probe

/// F's models need the op set that probe backend P lacks.
template <class F, class P>
inline constexpr bool family_needs_ops_missing_from = !requires { typename F::template Model<P>; };

template <class F, class B, bool needed>
struct require_encoder_ops : std::true_type {};
template <class F, class B>
struct require_encoder_ops<F, B, true> : std::bool_constant<EncoderOps<B>> {
  static_assert(EncoderOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set EncoderOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of EncoderOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

template <class F, class B, bool needed>
struct require_generation_ops : std::true_type {};
template <class F, class B>
struct require_generation_ops<F, B, true> : std::bool_constant<GenerationOps<B>> {
  static_assert(GenerationOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set GenerationOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of GenerationOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

template <class F, class B, bool needed>
struct require_perception_ops : std::true_type {};
template <class F, class B>
struct require_perception_ops<F, B, true> : std::bool_constant<PerceptionOps<B>> {
  static_assert(PerceptionOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set PerceptionOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of PerceptionOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

/// RunsOn<F, B>, asserted where B has the op sets that F needs (it fails
/// then for another reason, which the compiler's notes name).
template <class F, class B, bool has_ops>
struct require_runs_on : std::false_type {};
template <class F, class B>
struct require_runs_on<F, B, true> : std::bool_constant<RunsOn<F, B>> {
  static_assert(RunsOn<F, B>,
                "Benchmark<B, F>: family F cannot run on backend B (RunsOn<F, B> is false): the notes "
                "below name the requirement of RunsOn that fails.");
};

/// True where B has every op set that F needs; otherwise false, after a
/// static_assert whose message names the op set (and the compiler's notes
/// the op).
template <class F, class B>
inline constexpr bool has_ops_for =
    require_encoder_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutEncoderOps>>::value &&
    require_generation_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutGenerationOps>>::value &&
    require_perception_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutPerceptionOps>>::value;

/// Instantiating it checks RunsOn<F, B> through the static_asserts above, so
/// that each failure gets one message in plain English; `checked` is always
/// true.
template <class F, class B>
struct check_runs_on : require_runs_on<F, B, has_ops_for<F, B>> {
  static constexpr bool checked = true;
};

}  // namespace accelbench::detail
// ---- end accelbench/run/op_requirements.hpp ----

namespace accelbench {

namespace detail {
template <class B>
struct default_timer {
  using type = SteadyTimer;
};
template <class B>
  requires HasDefaultTimer<B>
struct default_timer<B> {
  using type = typename B::DefaultTimer;
};

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
}  // namespace detail

/// The Timer a backend uses unless told otherwise: B::DefaultTimer where the
/// backend names one (a device event timer), else SteadyTimer.
template <class B>
using default_timer_t = typename detail::default_timer<B>::type;

/// Coefficient of variation above which a cell is flagged as noisy.
inline constexpr double high_variance_cv = 0.10;

/// One benchmark: model family F on backend B, summarised by S, timed by T,
/// reported by R. Everything is resolved at compile time; nothing on the
/// timed path is virtual or type-erased. F must run on B (RunsOn<F, B>): a
/// backend without an op that F needs is rejected with a message that names
/// the op set, the op and where they are described.
template <Backend B, ModelFamily F, Stats S = PercentileStats, Timer T = default_timer_t<B>,
          Reporter R = ConsoleReporter>
class Benchmark {
  // Checks RunsOn<F, B>; the static_asserts it instantiates say what is missing.
  static_assert(detail::check_runs_on<F, B>::checked);

 public:
  using backend_type = B;
  using family_type = F;
  using stats_type = S;
  using timer_type = T;
  using reporter_type = R;
  using Model = typename F::template Model<B>;
  using Workload = typename F::template Workload<B>;

  /// Validates the configuration: the shared settings, F's sweep axes and
  /// the model's limits (throws ConfigError naming the bad field).
  explicit Benchmark(Config config, B backend = B{}, R reporter = R{})
      : config_(std::move(config)),
        preset_(detail::preset_for<F>(config_)),
        backend_(std::move(backend)),
        reporter_(std::move(reporter)) {
    validate<F>(config_);
    F::validate(config_, preset_);
  }

  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] B& backend() noexcept { return backend_; }
  [[nodiscard]] R& reporter() noexcept { return reporter_; }

  /// Called after each cell with its result (outside the timed path).
  void on_cell(std::function<void(const CellResult&)> callback) { on_cell_ = std::move(callback); }

  /// Called before each cell is measured with the cell as it is before it
  /// runs (model, family, backend, shape): an isolated run's parent learns
  /// which cell its child is measuring.
  void on_cell_start(std::function<void(const CellResult&)> callback) { on_start_ = std::move(callback); }

  /// Cells for which `skip` (given the cell as it is before it runs: model,
  /// family, backend, shape) says true are left out: neither run nor
  /// recorded (a resumed run's cells measured before). When every cell is
  /// left out, the model is not loaded and the result has no model.
  void skip_cells(std::function<bool(const CellResult&)> skip) { skip_ = std::move(skip); }

  /// Takes models from `pool`, loading each at most once across every
  /// benchmark that shares the pool. The pool must outlive run().
  void share_models(ResourcePool& pool) noexcept { pool_ = &pool; }

  /// Runs every cell of the sweep. A cell that fails is recorded with its
  /// message and the sweep goes on.
  [[nodiscard]] RunResult run();

  /// Hands results to this benchmark's reporter.
  void report(const RunResult& result) { reporter_.report(result); }

 private:
  static constexpr bool is_reference_backend = std::is_same_v<B, Cpu>;

  void record(RunResult& result, CellResult&& c) {
    if (on_cell_) on_cell_(c);
    result.cells.push_back(std::move(c));
  }

  CellResult blank_cell(const typename F::Cell& cell, double load_time_s) const {
    CellResult c;
    c.model = preset_.name;
    c.family = std::string(F::name);
    c.backend = std::string(B::name);
    c.shape = F::axes(cell);
    c.stats = std::string(S::name);
    c.timer = std::string(T::name);
    c.load_time_s = load_time_s;
    c.throughput.item_unit = std::string(F::item_unit);
    return c;
  }

  T make_timer() {
    if constexpr (std::is_constructible_v<T, B&>) {
      return T(backend_);
    } else {
      return T{};
    }
  }

  /// The reference backend's outputs for the same cell, from the same seed.
  std::vector<NamedOutput> reference_outputs(const typename F::Cell& cell) {
    if (!reference_model_) {
      reference_backend_.emplace();
      reference_model_ =
          pool_ ? pool_->template acquire<F>(*reference_backend_, preset_, config_.seed, config_.weights).model
                : detail::load_model<F>(*reference_backend_, preset_, config_.seed, config_.weights).model;
    }
    typename F::template Workload<Cpu> work(*reference_backend_, *reference_model_, cell, config_.seed);
    work.run();
    return work.outputs();
  }

  CellResult run_cell(const Model& model, const typename F::Cell& cell, double load_time_s,
                      const std::vector<std::string>& run_warnings) {
    CellResult c = blank_cell(cell, load_time_s);
    const Deadline deadline(config_.cell_timeout_s);
    std::optional<MemorySampler> memory;
    SamplingOutcome sampled;
    std::vector<PhaseSpec> phase_specs;
    if constexpr (HasPresetPhases<F>) {
      phase_specs = F::phases(preset_, cell);
    } else if constexpr (HasCellPhases<F>) {
      phase_specs = F::phases(cell);
    }
    PhaseLog phase_log(phase_specs.size());
    try {
      c.memory.peak_is_per_cell = detail::reset_peak_rss();
      c.memory.rss_before_bytes = detail::current_rss_bytes();
      memory.emplace(config_.memory_sample_interval_s);
      if constexpr (HasResetDeviceMemory<B>) backend_.reset_device_memory();

      Workload work(backend_, model, cell, config_.seed);
      if constexpr (HasActivationBytes<Workload>) c.memory.activation_bytes = work.activation_bytes();
      if constexpr (HasKvCacheBytes<Workload>) c.memory.kv_cache_bytes = work.kv_cache_bytes();
      if (deadline.passed()) throw CellTimeout{"preparing inputs"};

      SteadyTimer first;
      first.start();
      work.run();
      backend_.synchronize();
      c.first_run_s = first.stop();

      if constexpr (is_reference_backend) {
        c.verification.status = "reference";
        c.verification.reference = std::string(Cpu::name);
      } else if (config_.verify) {
        c.verification =
            compare_outputs(work.outputs(), reference_outputs(cell), config_.verify_tolerance, std::string(Cpu::name));
      }

      auto run = [&] { work.run(); };
      auto sync = [&] { backend_.synchronize(); };
      const WarmupOutcome warm = warm_up(run, sync, config_, deadline);
      c.warmup_iterations = warm.runs;
      if (!warm.stable) {
        c.warnings.push_back(fmt::format("warmup did not stabilise within warmup_max_time_s ({} s)",
                                         detail::format_number(config_.warmup_max_time_s)));
      }

      c.iterations_per_sample = choose_iterations_per_sample(warm.runs > 0 ? warm.typical_run_s : c.first_run_s,
                                                             timer_info_, config_.iterations_per_sample, run, sync);
      T timer = make_timer();
      if constexpr (HasPhasedRun<Workload>) {
        // A phased workload: each phase is timed with the same Timer policy,
        // the backend synchronised here at the end of each.
        PhaseTimer<B, T> phases(backend_, make_timer(), phase_log);
        auto run_phased = [&] {
          phases.begin();
          work.run(phases);
        };
        take_samples(timer, run_phased, sync, c.iterations_per_sample, config_, deadline, sampled);
      } else {
        take_samples(timer, run, sync, c.iterations_per_sample, config_, deadline, sampled);
      }

      c.status = c.verification.status == "mismatch" ? CellStatus::mismatch : CellStatus::ok;
      if (c.status == CellStatus::mismatch) {
        c.message = "output differs from the " + c.verification.reference + " reference: max abs error " +
                    detail::format_number(c.verification.max_abs_error) + " > tolerance " +
                    detail::format_number(c.verification.tolerance);
      }
    } catch (const CellTimeout& t) {
      c.status = CellStatus::timeout;
      c.message = fmt::format("cell_timeout_s ({} s) passed during {}; kept {} samples",
                              detail::format_number(config_.cell_timeout_s), t.phase, sampled.per_run_s.size());
    } catch (const std::exception& e) {
      c.status = CellStatus::failed;
      c.message = e.what();
    } catch (...) {
      c.status = CellStatus::failed;
      c.message = "unknown exception";
    }
    if (memory) {
      const MemorySamples m = memory->finish();
      if (config_.memory_sample_interval_s > 0) {
        c.memory.average_rss_bytes = m.average_bytes;
        c.memory.rss_samples = m.count;
      }
    }
    c.memory.peak_rss_bytes = detail::peak_rss_bytes();
    c.memory.rss_after_bytes = detail::current_rss_bytes();
    if constexpr (HasDeviceMemory<B>) {
      const DeviceMemory m = backend_.device_memory();
      c.memory.device_peak_bytes = m.peak_bytes;
      c.memory.device_average_bytes = m.average_bytes;
      c.memory.device_used_bytes = m.used_bytes;
      c.memory.device_total_bytes = m.total_bytes;
    }
    finish_cell(c, cell, sampled, run_warnings);
    finish_phases(c, phase_specs, phase_log);
    return c;
  }

  /// Each phase's summary and rate from the occurrences recorded while sampling.
  void finish_phases(CellResult& c, const std::vector<PhaseSpec>& specs, const PhaseLog& log) const {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      PhaseResult p;
      p.name = specs[i].name;
      p.item_unit = specs[i].item_unit;
      p.items = specs[i].items;
      p.per_run = specs[i].per_run;
      const auto& samples = log.samples(i);
      if (!samples.empty()) {
        p.latency = detail::summarize_with<S>(samples, config_.confidence);
        double total = 0;
        for (double s : samples) total += s;
        if (total > 0) p.items_per_second = p.items * static_cast<double>(samples.size()) / total;
      }
      c.phases.push_back(std::move(p));
    }
  }

  /// Summary, throughput and warnings from the samples (also of a timed-out cell).
  void finish_cell(CellResult& c, const typename F::Cell& cell, SamplingOutcome& sampled,
                   const std::vector<std::string>& run_warnings) const {
    c.samples_s = std::move(sampled.per_run_s);
    c.iterations = sampled.runs;
    c.measured_time_s = sampled.measured_s;
    c.sampling_wall_s = sampled.wall_s;
    c.stop_reason = sampled.stop_reason;
    if (c.samples_s.empty()) return;
    c.latency = detail::summarize_with<S>(c.samples_s, config_.confidence);
    c.counters = detail::per_run_counters(sampled.counter_totals, c.iterations);
    const double n = static_cast<double>(c.iterations);
    if (c.measured_time_s > 0) {
      c.throughput.items_per_second = F::items(cell) * n / c.measured_time_s;
      if constexpr (HasTokens<F>) {
        c.throughput.tokens_per_second = F::tokens(cell) * n / c.measured_time_s;
      }
      if constexpr (HasRealTimeFactor<F>) {
        c.throughput.real_time_factor = F::real_time_factor(cell, c.measured_time_s / n);
      }
      if constexpr (HasFlops<F>) {
        c.throughput.gflops_per_second = F::flops(preset_, cell) * n / c.measured_time_s / 1e9;
      }
    }
    add_warnings(c, run_warnings);
  }

  void add_warnings(CellResult& c, const std::vector<std::string>& run_warnings) const {
    if (c.stop_reason == "max_time_s" && c.iterations < static_cast<std::size_t>(config_.min_iterations)) {
      c.warnings.push_back(fmt::format("too few samples: max_time_s ({} s) ended sampling after {} of min_iterations {}",
                                       detail::format_number(config_.max_time_s), c.iterations,
                                       config_.min_iterations));
    }
    if (config_.target_relative_ci_width > 0 && c.stop_reason != "target_relative_ci_width") {
      const double width = median_ci_relative_width(c.samples_s, config_.confidence);
      c.warnings.push_back(fmt::format("target_relative_ci_width ({}) not reached: the median's interval is {}",
                                       detail::format_number(config_.target_relative_ci_width),
                                       std::isfinite(width) ? fmt::format("{:.3f} of it", width)
                                                            : std::string("not yet defined (too few samples)")));
    }
    if (c.latency.count > 1 && c.latency.cv > high_variance_cv) {
      c.warnings.push_back(fmt::format("high variance: coefficient of variation {:.1f}% exceeds {:.0f}%",
                                       c.latency.cv * 100, high_variance_cv * 100));
    }
    if (c.latency.count > 0 && c.latency.median && timer_info_.resolution_s > 0 &&
        *c.latency.median * static_cast<double>(c.iterations_per_sample) < 100 * timer_info_.resolution_s) {
      c.warnings.push_back(fmt::format("samples last under 100 timer resolutions ({:.3g} s): raise iterations_per_sample",
                                       timer_info_.resolution_s));
    }
    if (!c.memory.peak_is_per_cell) {
      c.warnings.push_back("peak RSS covers the whole process: the high-water mark could not be reset");
    }
    for (const auto& w : run_warnings) c.warnings.push_back(w);
  }

  Config config_;
  typename F::Preset preset_;
  B backend_;
  R reporter_;
  std::function<void(const CellResult&)> on_cell_;
  std::function<bool(const CellResult&)> skip_;
  std::function<void(const CellResult&)> on_start_;
  ResourcePool* pool_ = nullptr;
  TimerInfo timer_info_;
  std::optional<Cpu> reference_backend_;
  std::shared_ptr<const typename F::template Model<Cpu>> reference_model_;
};

// Defined outside the class, so that an explicit instantiation declaration
// (run/precompiled.hpp) keeps a program from compiling it again.
template <Backend B, ModelFamily F, Stats S, Timer T, Reporter R>
RunResult Benchmark<B, F, S, T, R>::run() {
  RunResult result = describe_run();
  result.settings = config_;
  std::vector<typename F::Cell> cells = detail::cells_for<F>(config_, preset_);
  if (skip_) {
    std::erase_if(cells, [&](const auto& cell) { return skip_(blank_cell(cell, 0)); });
    if (cells.empty()) {
      result.finished_at = utc_timestamp();
      return result;
    }
  }

  ModelInfo info;
  info.name = preset_.name;
  info.family = std::string(F::name);
  info.architecture = std::string(F::architecture(preset_));
  info.backend = std::string(B::name);
  info.weights = config_.weights.empty() ? "synthetic (seed " + std::to_string(config_.seed) + ")"
                                         : "checkpoint " + config_.weights;
  if (!config_.weights.empty()) info.accepted_config_fields = config_.accept_config_fields;

  const Availability backend_ok = B::available();
  Availability timer_ok = timer_availability<T>();
  if (backend_ok) {
    result.devices.push_back(backend_.describe());
    if (timer_ok) {
      T timer = make_timer();
      timer_info_ = measure_timer(timer);
    }
  } else {
    DeviceInfo device;
    device.backend = std::string(B::name);
    result.devices.push_back(device);
  }
  if (!timer_ok) {
    timer_info_.name = std::string(T::name);
    timer_info_.available = false;
    timer_info_.reason = timer_ok.reason;
  }
  result.timers.push_back(timer_info_);

  if (!backend_ok || !timer_ok) {
    const std::string why =
        !backend_ok ? backend_ok.reason : "timer " + std::string(T::name) + ": " + timer_ok.reason;
    info.status = "unavailable";
    info.message = why;
    for (const auto& cell : cells) {
      CellResult c = blank_cell(cell, 0);
      c.status = CellStatus::unavailable;
      c.message = why;
      record(result, std::move(c));
    }
    result.models.push_back(std::move(info));
    result.finished_at = utc_timestamp();
    return result;
  }

  std::shared_ptr<const Model> model;
  try {
    auto loaded = pool_ ? pool_->template acquire<F>(backend_, preset_, config_.seed, config_.weights)
                        : detail::load_model<F>(backend_, preset_, config_.seed, config_.weights);
    model = loaded.model;
    info.construct_time_s = loaded.construct_s;
    info.upload_time_s = loaded.upload_s;
    info.load_time_s = loaded.construct_s + loaded.upload_s;
    info.shared = loaded.shared;
    info.parameters = static_cast<std::int64_t>(model->parameters());
    info.weight_bytes = static_cast<std::uint64_t>(model->weight_bytes());
  } catch (const std::exception& e) {
    info.status = "failed";
    info.message = std::string("model load failed: ") + e.what();
  } catch (...) {
    info.status = "failed";
    info.message = "model load failed: unknown exception";
  }

  for (const auto& cell : cells) {
    if (!model) {
      CellResult c = blank_cell(cell, 0);
      c.status = CellStatus::failed;
      c.message = info.message;
      record(result, std::move(c));
      continue;
    }
    if (on_start_) on_start_(blank_cell(cell, info.load_time_s));
    record(result, run_cell(*model, cell, info.load_time_s, result.warnings));
  }
  result.models.push_back(std::move(info));
  result.finished_at = utc_timestamp();
  return result;
}

}  // namespace accelbench
// ---- end accelbench/run/benchmark.hpp ----
// ---- begin accelbench/run/precompiled.hpp ----

// Explicit instantiation declarations of the common benchmarks:
// Benchmark<Cpu, F> with the default Stats, Timer and Reporter, for each of
// the library's families. A program that links accelbench::precompiled
// (which defines ACCELBENCH_PRECOMPILED) takes these from that library and
// does not compile the models, the Cpu kernels and the measuring loop again;
// its edit-compile loop is then mostly parsing. Without it nothing changes:
// the header-only library instantiates what a program uses.
//
// The umbrella header includes this one; a program that includes headers one
// by one includes it after them (docs/layout.md).

#if defined(ACCELBENCH_PRECOMPILED)


namespace accelbench {

extern template class Benchmark<Cpu, Embedding>;
extern template class Benchmark<Cpu, TextGeneration>;
extern template class Benchmark<Cpu, Vision>;
extern template class Benchmark<Cpu, Audio>;
extern template class Benchmark<Cpu, Multimodal>;

}  // namespace accelbench

#endif
// ---- end accelbench/run/precompiled.hpp ----
// ---- begin accelbench/suite/compare.hpp ----

// Paired comparison: two variants of the same workload (two backends, two
// thread counts, two presets) measured in alternation, so that a drift of
// the machine affects both alike, summarised as the median of the pairwise
// time ratios with a distribution-free interval and a sign test.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>


namespace accelbench {

/// One side of a comparison: a label for reports, what to run, and where.
template <class B>
struct Variant {
  std::string label;
  Config config;
  B backend;
};

namespace detail {

/// The median of the pairwise ratios, its interval and the sign test.
inline void summarize_pairs(const std::vector<double>& a, const std::vector<double>& b, double confidence,
                            ComparisonCell& out) {
  std::vector<double> ratios(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) ratios[i] = a[i] / b[i];
  out.pairs = ratios.size();
  if (ratios.empty()) return;
  out.a_slower = static_cast<std::size_t>(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r > 1; }));
  out.b_slower = static_cast<std::size_t>(std::count_if(ratios.begin(), ratios.end(), [](double r) { return r < 1; }));
  std::sort(ratios.begin(), ratios.end());
  out.ratio = percentile_sorted(ratios, 50);
  if (const auto ci = percentile_ci_sorted(ratios, 50, confidence)) out.ratio_ci = Interval{ci->low, ci->high};
  out.p_value = stats::sign_test_p_value(out.a_slower, out.b_slower);
  out.significant = out.p_value < 1.0 - confidence;
  std::vector<double> sa = a, sb = b;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  out.median_a_s = percentile_sorted(sa, 50);
  out.median_b_s = percentile_sorted(sb, 50);
}

}  // namespace detail

/// Compares variant a with variant b on every cell of a's sweep (b's sweep
/// must give the same cells). The stopping rule is a's, counted in pairs;
/// target_relative_ci_width applies to the ratio's interval. Runs alternate
/// a-b, b-a, a-b, ... Each variant's runs per sample are chosen as in
/// Benchmark, and ratios compare time per run. Models come from `pool` when
/// given, else from a pool local to the comparison, so that two variants of
/// one preset on one device share one model. `on_cell`, when given, is
/// called after each cell with the comparison so far (its last cell the new one).
template <ModelFamily F, Backend A, Backend B, Timer T = SteadyTimer>
  requires RunsOn<F, A> && RunsOn<F, B>
[[nodiscard]] RunResult compare(Variant<A> a, Variant<B> b, ResourcePool* pool = nullptr,
                                const std::function<void(const ComparisonResult&)>& on_cell = {}) {
  validate<F>(a.config);
  validate<F>(b.config);
  const auto preset_a = detail::preset_for<F>(a.config);
  const auto preset_b = detail::preset_for<F>(b.config);
  F::validate(a.config, preset_a);
  F::validate(b.config, preset_b);
  const auto cells = detail::cells_for<F>(a.config, preset_a);
  const auto cells_b = detail::cells_for<F>(b.config, preset_b);
  bool same = cells.size() == cells_b.size();
  for (std::size_t i = 0; same && i < cells.size(); ++i) {
    const auto x = F::axes(cells[i]);
    const auto y = F::axes(cells_b[i]);
    same = x.size() == y.size();
    for (std::size_t j = 0; same && j < x.size(); ++j) same = x[j].name == y[j].name && x[j].value == y[j].value;
  }
  if (!same) throw ConfigError("b.config", "(its sweep)", "a comparison needs the same cells on both sides");

  const Config& rule = a.config;
  RunResult result = describe_run();
  result.settings = rule;

  ComparisonResult cmp;
  cmp.family = std::string(F::name);
  cmp.model_a = preset_a.name;
  cmp.model_b = preset_b.name;
  cmp.backend_a = std::string(A::name);
  cmp.backend_b = std::string(B::name);
  cmp.label_a = a.label;
  cmp.label_b = b.label;
  cmp.confidence = rule.confidence;

  const Availability avail_a = A::available(), avail_b = B::available();
  if (!avail_a || !avail_b) {
    for (const auto& cell : cells) {
      ComparisonCell c;
      c.shape = F::axes(cell);
      c.status = "failed";
      c.message = !avail_a ? std::string(A::name) + " unavailable: " + avail_a.reason
                           : std::string(B::name) + " unavailable: " + avail_b.reason;
      cmp.cells.push_back(std::move(c));
      if (on_cell) on_cell(cmp);
    }
    result.comparisons.push_back(std::move(cmp));
    result.finished_at = utc_timestamp();
    return result;
  }
  result.devices.push_back(a.backend.describe());
  result.devices.push_back(b.backend.describe());

  auto make_timer = [](auto& backend) {
    if constexpr (std::is_constructible_v<T, decltype(backend)>) {
      return T(backend);
    } else {
      return T{};
    }
  };
  {
    T probe = make_timer(a.backend);
    result.timers.push_back(measure_timer(probe));
  }
  const TimerInfo& timer_info = result.timers.front();

  ResourcePool local_pool;
  ResourcePool& models = pool ? *pool : local_pool;

  for (const auto& cell : cells) {
    ComparisonCell c;
    c.shape = F::axes(cell);
    std::vector<double> ta, tb;
    try {
      const Deadline deadline(rule.cell_timeout_s);
      const auto model_a = models.template acquire<F>(a.backend, preset_a, a.config.seed, a.config.weights).model;
      const auto model_b = models.template acquire<F>(b.backend, preset_b, b.config.seed, b.config.weights).model;
      typename F::template Workload<A> work_a(a.backend, *model_a, cell, a.config.seed);
      typename F::template Workload<B> work_b(b.backend, *model_b, cell, b.config.seed);
      auto run_a = [&] { work_a.run(); };
      auto run_b = [&] { work_b.run(); };
      auto sync_a = [&] { a.backend.synchronize(); };
      auto sync_b = [&] { b.backend.synchronize(); };
      const auto warm_a = warm_up(run_a, sync_a, rule, deadline);
      const auto warm_b = warm_up(run_b, sync_b, rule, deadline);
      const std::size_t ka =
          choose_iterations_per_sample(warm_a.typical_run_s, timer_info, rule.iterations_per_sample, run_a, sync_a);
      const std::size_t kb =
          choose_iterations_per_sample(warm_b.typical_run_s, timer_info, rule.iterations_per_sample, run_b, sync_b);
      T timer_a = make_timer(a.backend);
      T timer_b = make_timer(b.backend);
      auto sample = [](T& timer, auto& run, auto& sync, std::size_t k) {
        timer.start();
        for (std::size_t i = 0; i < k; ++i) run();
        sync();
        return timer.stop() / static_cast<double>(k);
      };
      SteadyTimer elapsed;
      elapsed.start();
      std::size_t next_check = 1;
      const auto min_pairs = static_cast<std::size_t>(rule.min_iterations);
      const auto max_pairs = static_cast<std::size_t>(rule.max_iterations);
      for (;;) {
        if (deadline.passed()) throw CellTimeout{"sampling"};
        if (ta.size() % 2 == 0) {
          ta.push_back(sample(timer_a, run_a, sync_a, ka));
          tb.push_back(sample(timer_b, run_b, sync_b, kb));
        } else {
          tb.push_back(sample(timer_b, run_b, sync_b, kb));
          ta.push_back(sample(timer_a, run_a, sync_a, ka));
        }
        const std::size_t n = ta.size();
        const double t = elapsed.stop();
        if (n >= max_pairs) break;
        if (n >= min_pairs && t >= rule.min_time_s) {
          if (rule.target_relative_ci_width <= 0) break;
          if (n >= next_check) {
            next_check = n + std::max<std::size_t>(1, n / 10);
            ComparisonCell probe;
            detail::summarize_pairs(ta, tb, rule.confidence, probe);
            if (probe.ratio_ci && (probe.ratio_ci->high - probe.ratio_ci->low) / probe.ratio <=
                                      rule.target_relative_ci_width) {
              break;
            }
          }
        }
        if (t >= rule.max_time_s) break;
      }
    } catch (const CellTimeout& t) {
      c.status = "timeout";
      c.message = fmt::format("cell_timeout_s ({} s) passed during {}; kept {} pairs",
                              detail::format_number(rule.cell_timeout_s), t.phase, std::min(ta.size(), tb.size()));
    } catch (const std::exception& e) {
      c.status = "failed";
      c.message = e.what();
    } catch (...) {
      c.status = "failed";
      c.message = "unknown exception";
    }
    const std::size_t n = std::min(ta.size(), tb.size());
    ta.resize(n);
    tb.resize(n);
    detail::summarize_pairs(ta, tb, rule.confidence, c);
    cmp.cells.push_back(std::move(c));
    if (on_cell) on_cell(cmp);
  }
  result.comparisons.push_back(std::move(cmp));
  result.finished_at = utc_timestamp();
  return result;
}

}  // namespace accelbench
// ---- end accelbench/suite/compare.hpp ----
// ---- begin accelbench/run/loading.hpp ----

// Load phases across models: K models loaded one after another, then all at
// once on K threads, each with its own backend object.

#include <algorithm>
#include <exception>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>


namespace accelbench {

/// Loads `models` (presets of F) on backends from `make_backend()`:
/// sequentially on one backend, and concurrently, one thread and backend per
/// model, started together; `repetitions` times each, alternating which
/// mode goes first. The speedup is the ratio of the two median wall times.
/// Nothing is taken from a ResourcePool: every load is a real one.
template <ModelFamily F, Backend B, class MakeBackend>
  requires RunsOn<F, B>
[[nodiscard]] LoadingResult measure_loading(const std::vector<std::string>& models, MakeBackend&& make_backend,
                                            std::uint64_t seed, int repetitions = 3) {
  if (models.empty()) throw ConfigError("models", "[]", "the loading benchmark needs at least one model");
  if (repetitions < 1) throw ConfigError("repetitions", std::to_string(repetitions), "must be at least 1");
  std::vector<typename F::Preset> presets;
  std::vector<std::string> checkpoints;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const Config config = detail::config_for_model(Config{}, models[i]);
    try {
      presets.push_back(detail::preset_for<F>(config));
    } catch (const ConfigError& e) {
      throw ConfigError("models[" + std::to_string(i) + "]", e.value(), e.what());
    }
    checkpoints.push_back(config.weights);
  }
  LoadingResult out;
  out.family = std::string(F::name);
  out.backend = std::string(B::name);
  out.models = models;
  out.repetitions = repetitions;
  using Model = typename F::template Model<B>;

  auto sequential = [&] {
    B backend = make_backend();
    std::vector<std::shared_ptr<const Model>> held;
    SteadyTimer t;
    t.start();
    for (std::size_t i = 0; i < presets.size(); ++i) {
      held.push_back(detail::load_model<F, B>(backend, presets[i], seed, checkpoints[i]).model);
    }
    return t.stop();
  };
  auto concurrent = [&] {
    const std::size_t k = presets.size();
    std::vector<std::unique_ptr<B>> backends;
    for (std::size_t i = 0; i < k; ++i) backends.push_back(std::make_unique<B>(make_backend()));
    std::vector<std::shared_ptr<const Model>> held(k);
    std::vector<std::exception_ptr> errors(k);
    std::latch ready(static_cast<std::ptrdiff_t>(k) + 1);
    std::latch go(1);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < k; ++i) {
      threads.emplace_back([&, i] {
        ready.count_down();
        go.wait();
        try {
          held[i] = detail::load_model<F, B>(*backends[i], presets[i], seed, checkpoints[i]).model;
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    ready.arrive_and_wait();
    SteadyTimer t;
    t.start();
    go.count_down();
    for (auto& th : threads) th.join();
    const double s = t.stop();
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    return s;
  };

  try {
    for (int r = 0; r < repetitions; ++r) {
      if (r % 2 == 0) {
        out.sequential_s.push_back(sequential());
        out.concurrent_s.push_back(concurrent());
      } else {
        out.concurrent_s.push_back(concurrent());
        out.sequential_s.push_back(sequential());
      }
    }
    out.sequential_median_s = detail::median_of(out.sequential_s);
    out.concurrent_median_s = detail::median_of(out.concurrent_s);
    out.speedup = out.concurrent_median_s > 0 ? out.sequential_median_s / out.concurrent_median_s : 0;
  } catch (const std::exception& e) {
    out.status = "failed";
    out.message = e.what();
  } catch (...) {
    out.status = "failed";
    out.message = "unknown exception";
  }
  return out;
}

}  // namespace accelbench
// ---- end accelbench/run/loading.hpp ----
// ---- begin accelbench/suite/suite.hpp ----

// Suites: several models of a family on several backends, described at run
// time (a JSON file, command-line flags) and mapped to Benchmark<B, F> types
// once, at the top, by walking compile-time lists of the known policies.

#include <algorithm>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// ---- begin accelbench/core/file_name.hpp ----

// Names that become file names (a suite's name, `--name`) and files that are
// created new, never over another: two runs started in the same second each
// get a file of their own.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif


namespace accelbench {

/// Checks that `value` can be a part of a file name that stays inside its
/// folder: not empty, no '/' or '\\', no "..", no control character, valid
/// UTF-8.
/// Throws ConfigError naming `field` and the value.
inline void check_file_name(const std::string& field, const std::string& value) {
  const auto fail = [&](const std::string& why) { throw ConfigError(field, "\"" + value + "\"", why); };
  if (value.empty()) fail("must not be empty: it is part of the results file name");
  if (value == "." || value == ".." || value.find("..") != std::string::npos) {
    fail("must not contain \"..\": it is part of the results file name, which stays inside the output folder");
  }
  for (const char ch : value) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == '\\') {
      fail("must not contain '/' or '\\': it is part of the results file name, which stays inside the output folder");
    }
    if (byte < 0x20 || byte == 0x7f) fail("must not contain control characters");
  }
  if (detail::valid_utf8(value) != value) fail("must be valid UTF-8");
}

namespace detail {

/// Creates `path` as a new, empty file; false when something of that name
/// exists already (O_CREAT | O_EXCL: of two processes, one wins). Throws
/// std::runtime_error when the folder cannot be written.
inline bool create_new_file(const std::filesystem::path& path) {
#if defined(__unix__) || defined(__APPLE__)
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw std::runtime_error("cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  ::close(fd);
  return true;
#else
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return false;
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create '" + path.string() + "'");
  std::fclose(f);
  return true;
#endif
}

/// Creates the folder `dir` (and its parents) if needed and checks that a
/// file can be created in it; throws std::runtime_error saying why not.
inline void prepare_output_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw std::runtime_error("cannot create the output folder '" + dir.string() + "'" +
                             (ec ? ": " + ec.message() : std::string(": not a folder")));
  }
}

/// Claims a new base name `dir/stem`, `dir/stem-2`, `dir/stem-3`, ... : the
/// first for which the file base + `claim_suffix` could be created new, and
/// no file base + each of `others` exists. Returns the base (without
/// suffix); the claim file is left in place, created empty.
inline std::filesystem::path claim_unique_name(const std::filesystem::path& dir, const std::string& stem,
                                               const std::string& claim_suffix,
                                               std::initializer_list<std::string_view> others = {}) {
  for (int n = 1; n < 100000; ++n) {
    const std::filesystem::path base = dir / (n == 1 ? stem : stem + "-" + std::to_string(n));
    bool taken = false;
    for (const auto other : others) {
      std::error_code ec;
      if (std::filesystem::exists(base.string() + std::string(other), ec)) taken = true;
    }
    if (taken) continue;
    if (create_new_file(base.string() + claim_suffix)) return base;
  }
  throw std::runtime_error("cannot find a free file name for '" + (dir / stem).string() + "'");
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/core/file_name.hpp ----
// ---- begin accelbench/suite/isolate.hpp ----

// Isolated measurement (Suite::isolate, `accelbench run --isolate`): each
// model, its load and its cells, is measured in a child process forked for
// it. The child sends each result to the parent as a JSON line on a pipe:
//
//   {"start": {cell before it runs}}   before each cell
//   {"cell": {cell result}}            after each cell
//   {"part": {the model's results, less its cells}}   at the end
//
// The parent journals what it is sent. When the child dies (a signal, an
// abnormal exit, an exception nothing caught) or its cell runs past
// cell_timeout_s plus a grace period (the parent kills it), the cell it was
// measuring is recorded as crashed, timeout or out_of_memory, and the
// model's other cells are measured in a new child. POSIX only.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

// ---- begin accelbench/report/json_read.hpp ----

// Results read back from their JSON form (report/json.hpp): a cell, a
// loading benchmark, and a part of a run without its cells. An isolated run
// (suite/isolate.hpp) measures in a child process that sends these to the
// parent as JSON lines.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>


namespace accelbench {

namespace detail {

template <class T>
T field_or(const Json& j, const char* key, T fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<T>();
}

template <class T>
std::optional<T> optional_field(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
}

inline std::optional<Interval> interval_from_json(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  return Interval{field_or(j, "low_s", 0.0), field_or(j, "high_s", 0.0)};
}

inline std::vector<std::pair<std::string, std::string>> text_pairs_from_json(const Json& j) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

inline LatencySummary latency_from_json(const Json& j) {
  LatencySummary s;
  s.count = field_or<std::size_t>(j, "count", 0);
  s.min = field_or(j, "min_s", 0.0);
  s.max = field_or(j, "max_s", 0.0);
  s.mean = field_or(j, "mean_s", 0.0);
  s.median = optional_field<double>(j, "median_s");
  s.p90 = optional_field<double>(j, "p90_s");
  s.p95 = optional_field<double>(j, "p95_s");
  s.p99 = optional_field<double>(j, "p99_s");
  s.p999 = optional_field<double>(j, "p999_s");
  s.stddev = field_or(j, "stddev_s", 0.0);
  s.cv = field_or(j, "cv", 0.0);
  s.mad = optional_field<double>(j, "mad_s");
  s.confidence = field_or(j, "confidence", 0.0);
  s.median_ci = interval_from_json(j.value("median_ci", Json(nullptr)));
  s.p90_ci = interval_from_json(j.value("p90_ci", Json(nullptr)));
  s.p99_ci = interval_from_json(j.value("p99_ci", Json(nullptr)));
  s.mean_ci = interval_from_json(j.value("mean_ci", Json(nullptr)));
  if (const Json o = j.value("outliers", Json(nullptr)); o.is_object()) {
    s.outliers = OutlierCounts{field_or<std::size_t>(o, "low", 0), field_or<std::size_t>(o, "high", 0),
                               field_or<std::size_t>(o, "extreme_low", 0), field_or<std::size_t>(o, "extreme_high", 0)};
  }
  if (const Json h = j.value("histogram", Json(nullptr)); h.is_object()) {
    s.histogram = Histogram{field_or(h, "min_s", 0.0), field_or(h, "bin_width_s", 0.0),
                            field_or(h, "counts", std::vector<std::size_t>{})};
  }
  return s;
}

}  // namespace detail

/// The CellStatus named `text`; nullopt for an unknown name.
[[nodiscard]] inline std::optional<CellStatus> cell_status_from_string(std::string_view text) {
  for (const CellStatus s : {CellStatus::ok, CellStatus::mismatch, CellStatus::failed, CellStatus::unavailable,
                             CellStatus::timeout, CellStatus::crashed, CellStatus::out_of_memory}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

/// A cell from detail::to_json(CellResult). Throws Json::exception on a
/// field of the wrong type.
[[nodiscard]] inline CellResult cell_from_json(const Json& j) {
  using detail::field_or, detail::optional_field;
  CellResult c;
  c.model = field_or<std::string>(j, "model", "");
  c.family = field_or<std::string>(j, "family", "");
  c.backend = field_or<std::string>(j, "backend", "");
  if (j.contains("shape") && j["shape"].is_object()) {
    for (const auto& [name, value] : j["shape"].items()) c.shape.push_back({name, value.get<std::int64_t>()});
  }
  c.status = cell_status_from_string(field_or<std::string>(j, "status", "")).value_or(CellStatus::failed);
  c.message = field_or<std::string>(j, "message", "");
  c.stats = field_or<std::string>(j, "stats", "");
  c.timer = field_or<std::string>(j, "timer", "");
  c.warmup_iterations = field_or(j, "warmup_iterations", 0);
  c.iterations = field_or<std::size_t>(j, "iterations", 0);
  c.iterations_per_sample = field_or<std::size_t>(j, "iterations_per_sample", 1);
  c.stop_reason = field_or<std::string>(j, "stop_reason", "");
  c.measured_time_s = field_or(j, "measured_time_s", 0.0);
  c.sampling_wall_s = field_or(j, "sampling_wall_s", 0.0);
  c.first_run_s = field_or(j, "first_run_s", 0.0);
  c.load_time_s = field_or(j, "load_time_s", 0.0);
  c.latency = detail::latency_from_json(j.value("latency", Json::object()));
  for (const auto& p : j.value("phases", Json::array())) {
    PhaseResult r;
    r.name = field_or<std::string>(p, "name", "");
    r.item_unit = field_or<std::string>(p, "item_unit", "");
    r.items = field_or(p, "items", 0.0);
    r.per_run = field_or<std::size_t>(p, "per_run", 0);
    r.latency = detail::latency_from_json(p.value("latency", Json::object()));
    r.items_per_second = field_or(p, "items_per_second", 0.0);
    c.phases.push_back(std::move(r));
  }
  const Json t = j.value("throughput", Json::object());
  c.throughput.item_unit = field_or<std::string>(t, "item_unit", "");
  c.throughput.items_per_second = field_or(t, "items_per_second", 0.0);
  c.throughput.tokens_per_second = optional_field<double>(t, "tokens_per_second");
  c.throughput.gflops_per_second = optional_field<double>(t, "gflops_per_second");
  c.throughput.real_time_factor = optional_field<double>(t, "real_time_factor");
  const Json m = j.value("memory", Json::object());
  c.memory.rss_before_bytes = field_or<std::uint64_t>(m, "rss_before_bytes", 0);
  c.memory.rss_after_bytes = field_or<std::uint64_t>(m, "rss_after_bytes", 0);
  c.memory.peak_rss_bytes = field_or<std::uint64_t>(m, "peak_rss_bytes", 0);
  c.memory.peak_is_per_cell = field_or(m, "peak_is_per_cell", false);
  c.memory.average_rss_bytes = optional_field<std::uint64_t>(m, "average_rss_bytes");
  c.memory.rss_samples = field_or<std::size_t>(m, "rss_samples", 0);
  c.memory.activation_bytes = optional_field<std::uint64_t>(m, "activation_bytes");
  c.memory.kv_cache_bytes = optional_field<std::uint64_t>(m, "kv_cache_bytes");
  c.memory.device_peak_bytes = optional_field<std::uint64_t>(m, "device_peak_bytes");
  c.memory.device_average_bytes = optional_field<std::uint64_t>(m, "device_average_bytes");
  c.memory.device_used_bytes = optional_field<std::uint64_t>(m, "device_used_bytes");
  c.memory.device_total_bytes = optional_field<std::uint64_t>(m, "device_total_bytes");
  if (j.contains("counters") && j["counters"].is_object()) {
    for (const auto& [name, value] : j["counters"].items()) c.counters.emplace_back(name, value.get<double>());
  }
  const Json v = j.value("verification", Json::object());
  c.verification.status = field_or<std::string>(v, "status", "skipped");
  c.verification.reference = field_or<std::string>(v, "reference", "");
  c.verification.max_abs_error = field_or(v, "max_abs_error", 0.0);
  c.verification.max_rel_error = field_or(v, "max_rel_error", 0.0);
  c.verification.cosine_similarity = field_or(v, "cosine_similarity", 1.0);
  c.verification.token_agreement = optional_field<double>(v, "token_agreement");
  c.verification.tolerance = field_or(v, "tolerance", 0.0);
  c.warnings = field_or(j, "warnings", std::vector<std::string>{});
  c.samples_s = field_or(j, "samples_s", std::vector<double>{});
  return c;
}

/// A loading benchmark from detail::to_json(LoadingResult).
[[nodiscard]] inline LoadingResult loading_from_json(const Json& j) {
  using detail::field_or;
  LoadingResult l;
  l.family = field_or<std::string>(j, "family", "");
  l.backend = field_or<std::string>(j, "backend", "");
  l.models = field_or(j, "models", std::vector<std::string>{});
  l.repetitions = field_or(j, "repetitions", 0);
  l.sequential_s = field_or(j, "sequential_s", std::vector<double>{});
  l.concurrent_s = field_or(j, "concurrent_s", std::vector<double>{});
  l.sequential_median_s = field_or(j, "sequential_median_s", 0.0);
  l.concurrent_median_s = field_or(j, "concurrent_median_s", 0.0);
  l.speedup = field_or(j, "speedup", 0.0);
  l.status = field_or<std::string>(j, "status", "ok");
  l.message = field_or<std::string>(j, "message", "");
  return l;
}

/// Into `into` (a run described by this process): the devices, timers,
/// models, loading benchmarks and warnings of `j` (to_json(RunResult)),
/// and its cells.
inline void read_part_from_json(const Json& j, RunResult& into) {
  using detail::field_or;
  for (const auto& d : j.value("devices", Json::array())) {
    DeviceInfo info;
    info.backend = field_or<std::string>(d, "backend", "");
    info.name = field_or<std::string>(d, "name", "");
    info.kind = field_or<std::string>(d, "kind", "");
    info.compute_units = field_or(d, "compute_units", 0);
    info.threads = field_or(d, "threads", 0);
    info.memory_bytes = field_or<std::uint64_t>(d, "memory_bytes", 0);
    info.features = field_or(d, "features", std::vector<std::string>{});
    info.properties = detail::text_pairs_from_json(d.value("properties", Json::object()));
    into.devices.push_back(std::move(info));
  }
  for (const auto& t : j.value("timers", Json::array())) {
    TimerInfo info;
    info.name = field_or<std::string>(t, "name", "");
    info.available = field_or(t, "available", true);
    info.reason = field_or<std::string>(t, "reason", "");
    info.resolution_s = field_or(t, "resolution_s", 0.0);
    info.call_cost_s = field_or(t, "call_cost_s", 0.0);
    info.properties = detail::text_pairs_from_json(t.value("properties", Json::object()));
    into.timers.push_back(std::move(info));
  }
  for (const auto& m : j.value("models", Json::array())) {
    ModelInfo info;
    info.name = field_or<std::string>(m, "name", "");
    info.family = field_or<std::string>(m, "family", "");
    info.architecture = field_or<std::string>(m, "architecture", "");
    info.backend = field_or<std::string>(m, "backend", "");
    info.weights = field_or<std::string>(m, "weights", "");
    info.accepted_config_fields = field_or(m, "accepted_config_fields", std::vector<std::string>{});
    info.parameters = field_or<std::int64_t>(m, "parameters", 0);
    info.weight_bytes = field_or<std::uint64_t>(m, "weight_bytes", 0);
    info.load_time_s = field_or(m, "load_time_s", 0.0);
    info.construct_time_s = field_or(m, "construct_time_s", 0.0);
    info.upload_time_s = field_or(m, "upload_time_s", 0.0);
    info.shared = field_or(m, "shared", false);
    info.status = field_or<std::string>(m, "status", "ok");
    info.message = field_or<std::string>(m, "message", "");
    into.models.push_back(std::move(info));
  }
  for (const auto& l : j.value("loading", Json::array())) into.loading.push_back(loading_from_json(l));
  for (const auto& w : j.value("warnings", Json::array())) {
    if (w.is_string()) into.warnings.push_back(w.get<std::string>());
  }
  for (const auto& c : j.value("cells", Json::array())) into.cells.push_back(cell_from_json(c));
}

}  // namespace accelbench
// ---- end accelbench/report/json_read.hpp ----

namespace accelbench {

/// "SIGSEGV" for SIGSEGV, ...; "signal N" for a signal without a name here.
[[nodiscard]] inline std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
#if defined(__unix__) || defined(__APPLE__)
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGALRM: return "SIGALRM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
#endif
    default: return "signal " + std::to_string(sig);
  }
}

/// A number of bytes: digits with an optional suffix K, M, G or T (powers
/// of 1024; "1G" is 1073741824), upper or lower case. Throws ConfigError
/// naming `field` and the text otherwise, or when it does not fit 64 bits.
[[nodiscard]] inline std::uint64_t parse_byte_size(const std::string& field, const std::string& text) {
  const auto bad = [&](const char* problem) { return ConfigError(field, "\"" + text + "\"", problem); };
  std::size_t i = 0;
  std::uint64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) throw bad("too large");
    value = value * 10 + digit;
  }
  if (i == 0) throw bad("expected bytes: an integer with an optional suffix K, M, G or T (powers of 1024)");
  int shift = 0;
  if (i + 1 == text.size()) {
    switch (text[i]) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      case 'T': case 't': shift = 40; break;
      default: throw bad("unknown suffix; expected K, M, G or T (powers of 1024)");
    }
  } else if (i != text.size()) {
    throw bad("expected bytes: an integer with an optional suffix K, M, G or T (powers of 1024)");
  }
  if (shift > 0 && value > (std::numeric_limits<std::uint64_t>::max() >> shift)) throw bad("too large");
  return value << shift;
}

/// Seconds the parent waits past cell_timeout_s before it kills the child
/// measuring a cell: 2 s and a quarter of the limit.
[[nodiscard]] inline double isolation_grace_s(double cell_timeout_s) { return 2.0 + 0.25 * cell_timeout_s; }

/// How a child process ended (its waitpid status, as the parent saw it).
struct ChildEnd {
  int wait_status = 0;
  bool killed_for_time = false;  ///< the parent killed it: its cell ran past the limit
  Json fatal;                    ///< what the child said before it exited on an exception, else null
  bool finished = false;         ///< it sent its part and exited with status 0
};

namespace detail {

inline std::string memory_limit_text(std::uint64_t max_memory) {
  return max_memory > 0 ? "max_memory (" + std::to_string(max_memory) + " bytes)" : "no max_memory";
}

}  // namespace detail

/// The status and message of the cell a child was measuring when it ended
/// as `end` says (not finished): timeout when the parent killed it for time
/// (`limit_s` its cell_timeout_s), out_of_memory when it ran out of memory
/// (std::bad_alloc, or killed by SIGKILL under a max_memory), crashed
/// otherwise ("killed by SIGSEGV", "exited with status 3", ...).
[[nodiscard]] inline std::pair<CellStatus, std::string> child_end_status(const ChildEnd& end, double limit_s,
                                                                         std::uint64_t max_memory) {
  if (end.killed_for_time) {
    return {CellStatus::timeout, "cell_timeout_s (" + detail::format_number(limit_s) +
                                     " s) passed; the process measuring the cell was killed after " +
                                     detail::format_number(limit_s + isolation_grace_s(limit_s)) + " s"};
  }
  if (end.fatal.is_object()) {
    const std::string what = end.fatal.value("message", "");
    if (end.fatal.value("fatal", "") == "out_of_memory") {
      return {CellStatus::out_of_memory, "out of memory under " + detail::memory_limit_text(max_memory) + ": " + what};
    }
    return {CellStatus::crashed, "the process measuring the cell ended on an uncaught exception: " + what};
  }
#if defined(__unix__) || defined(__APPLE__)
  if (WIFSIGNALED(end.wait_status)) {
    const int sig = WTERMSIG(end.wait_status);
    if (sig == SIGKILL && max_memory > 0) {
      return {CellStatus::out_of_memory,
              "killed by SIGKILL, out of memory under " + detail::memory_limit_text(max_memory)};
    }
    return {CellStatus::crashed, "killed by " + signal_name(sig)};
  }
  if (WIFEXITED(end.wait_status)) {
    return {CellStatus::crashed, "the process measuring the cell exited with status " +
                                     std::to_string(WEXITSTATUS(end.wait_status)) + " before it finished"};
  }
#endif
  return {CellStatus::crashed, "the process measuring the cell ended before it finished"};
}

/// A cell of an isolated run that failed for want of memory (std::bad_alloc,
/// caught while it was measured) becomes out_of_memory, naming the limit.
inline void mark_out_of_memory(CellResult& c, std::uint64_t max_memory) {
  if (c.status == CellStatus::failed && c.message.find("bad_alloc") != std::string::npos) {
    c.status = CellStatus::out_of_memory;
    c.message = "out of memory under " + detail::memory_limit_text(max_memory) + ": " + c.message;
  }
}

namespace detail {

/// Runs `body` in a child process (with its address space limited to
/// `max_memory` bytes, when not 0), handing it a function that sends a JSON
/// line to the parent; the parent gives each line to `on_message` and kills
/// the child (SIGKILL) when `deadline` (asked again after each line) passes.
inline ChildEnd run_in_child(const std::function<void(const std::function<void(const Json&)>& send)>& body,
                             std::uint64_t max_memory, const std::function<void(const Json&)>& on_message,
                             const std::function<std::optional<std::chrono::steady_clock::time_point>()>& deadline) {
  ChildEnd end;
#if defined(__unix__) || defined(__APPLE__)
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("isolate: cannot make a pipe");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const ::pid_t parent = ::getpid();
  const ::pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("isolate: cannot fork a process to measure in");
  }
  if (pid == 0) {
    ::close(fds[0]);
    // Interrupts are the parent's to handle; the child ends with it. A
    // crash ends the child with its signal, whatever handler it inherited.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
    for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
#if defined(__linux__)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (::getppid() != parent) ::_exit(120);
    if (max_memory > 0) {
      const ::rlimit limit{static_cast<::rlim_t>(max_memory), static_cast<::rlim_t>(max_memory)};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const int fd = fds[1];
    const auto send = [fd](const Json& j) {
      const std::string line = dump_json(j) + "\n";
      std::size_t done = 0;
      while (done < line.size()) {
        const ::ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::_exit(121);  // the parent is gone
        done += static_cast<std::size_t>(n);
      }
    };
    int code = 0;
    try {
      body(send);
    } catch (const std::bad_alloc& e) {
      code = 3;
      try {
        send(Json{{"fatal", "out_of_memory"}, {"message", e.what()}});
      } catch (...) {
      }
    } catch (const std::exception& e) {
      code = 2;
      try {
        send(Json{{"fatal", "exception"}, {"message", e.what()}});
      } catch (...) {
      }
    } catch (...) {
      code = 2;
      try {
        send(Json{{"fatal", "exception"}, {"message", "unknown exception"}});
      } catch (...) {
      }
    }
    ::_exit(code);  // no destructors or atexit handlers of the parent's state
  }
  ::close(fds[1]);
  std::string buffer;
  char chunk[65536];
  for (;;) {
    int wait_ms = 200;
    const auto due = deadline ? deadline() : std::nullopt;
    if (due) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*due - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid, SIGKILL);
        end.killed_for_time = true;
        break;
      }
      if (left.count() < wait_ms) wait_ms = static_cast<int>(left.count()) + 1;
    }
    ::pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ::ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
      Json message;
      try {
        message = Json::parse(buffer.substr(0, nl));
      } catch (const Json::exception&) {
      }
      buffer.erase(0, nl + 1);
      if (message.is_object()) {
        if (message.contains("fatal")) end.fatal = message;
        on_message(message);
      }
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  end.wait_status = status;
#else
  (void)body, (void)max_memory, (void)on_message, (void)deadline;
  throw std::runtime_error("isolate: measuring in a child process needs fork (POSIX)");
#endif
  return end;
}

/// One model of a suite (`config`) on backend B, measured in child
/// processes as described at the top of this file: the results as
/// Benchmark::run gives them, `on_cell` called in this process for each
/// cell, `skip` as Benchmark::skip_cells.
template <class B, class F, class S, class T, class MakeBackend>
RunResult run_isolated_model(const Config& config, MakeBackend make_backend, std::uint64_t max_memory,
                             const std::function<bool(const CellResult&)>& skip,
                             const std::function<void(const CellResult&)>& on_cell) {
  RunResult result = describe_run();
  result.settings = config;
  const auto preset = detail::preset_for<F>(config);
  std::vector<CellResult> cells;
  for (const auto& cell : detail::cells_for<F>(config, preset)) {
    CellResult c;
    c.model = preset.name;
    c.family = std::string(F::name);
    c.backend = std::string(B::name);
    c.shape = F::axes(cell);
    c.stats = std::string(S::name);
    c.timer = std::string(T::name);
    c.throughput.item_unit = std::string(F::item_unit);
    cells.push_back(std::move(c));
  }
  std::set<std::string> recorded;  // by this process, from any child
  const auto left_out = [&](const CellResult& c) { return recorded.count(cell_key(c)) > 0 || (skip && skip(c)); };
  const auto record = [&](CellResult&& c) {
    recorded.insert(cell_key(c));
    if (on_cell) on_cell(c);
    result.cells.push_back(std::move(c));
  };
  const double limit_s = config.cell_timeout_s;
  for (;;) {
    if (std::all_of(cells.begin(), cells.end(), left_out)) break;
    std::optional<CellResult> running;
    std::optional<std::chrono::steady_clock::time_point> due;
    RunResult part;
    bool got_part = false;
    const auto child = [&](const std::function<void(const Json&)>& send) {
      Benchmark<B, F, S, T> bench{config, make_backend()};
      bench.skip_cells(left_out);
      bench.on_cell_start([&](const CellResult& c) { send(Json{{"start", detail::to_json(c)}}); });
      bench.on_cell([&](const CellResult& c) { send(Json{{"cell", detail::to_json(c)}}); });
      RunResult done = bench.run();
      done.cells.clear();
      send(Json{{"part", to_json(done)}});
    };
    const auto on_message = [&](const Json& m) {
      if (m.contains("start")) {
        running = cell_from_json(m["start"]);
        due.reset();
        if (limit_s > 0) {
          due = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(limit_s + isolation_grace_s(limit_s)));
        }
      } else if (m.contains("cell")) {
        CellResult c = cell_from_json(m["cell"]);
        mark_out_of_memory(c, max_memory);
        running.reset();
        due.reset();
        record(std::move(c));
      } else if (m.contains("part")) {
        read_part_from_json(m["part"], part);
        got_part = true;
      }
    };
    ChildEnd end = run_in_child(child, max_memory, on_message, [&] { return due; });
#if defined(__unix__) || defined(__APPLE__)
    end.finished = got_part && !end.killed_for_time && WIFEXITED(end.wait_status) && WEXITSTATUS(end.wait_status) == 0;
#endif
    if (got_part) {
      // Not RunResult::merge: the model's cells are recorded already.
      for (auto& d : part.devices) result.devices.push_back(std::move(d));
      for (auto& t : part.timers) result.timers.push_back(std::move(t));
      for (auto& m : part.models) result.models.push_back(std::move(m));
      for (auto& w : part.warnings) result.warnings.push_back(std::move(w));
    }
    if (end.finished) break;
    // The cell it was measuring, else (it ended before a cell started,
    // loading the model) the next one.
    const auto first = std::find_if(cells.begin(), cells.end(), [&](const CellResult& c) { return !left_out(c); });
    if (!running && first == cells.end()) break;
    CellResult c = running ? std::move(*running) : *first;
    auto [status, message] = child_end_status(end, limit_s, max_memory);
    c.status = status;
    c.message = running ? std::move(message) : message + " (before the cell started: loading the model)";
    record(std::move(c));
  }
  if (result.models.empty() && !result.cells.empty()) {
    // No child finished (the last one measuring the model died): the model
    // is described here, failed, with how its last cell ended.
    ModelInfo info;
    info.name = preset.name;
    info.family = std::string(F::name);
    info.architecture = std::string(F::architecture(preset));
    info.backend = std::string(B::name);
    info.weights = config.weights.empty() ? "synthetic (seed " + std::to_string(config.seed) + ")"
                                          : "checkpoint " + config.weights;
    info.status = "failed";
    info.message = "the process measuring it ended: " + result.cells.back().message;
    result.models.push_back(std::move(info));
  }
  result.finished_at = utc_timestamp();
  return result;
}

/// One model on backend B: measured by Benchmark in this process, or
/// isolated in child processes (run_isolated_model).
template <class B, class F, class S, class T, class MakeBackend>
RunResult run_model(Config config, MakeBackend make_backend, ResourcePool& pool, bool isolate, std::uint64_t max_memory,
                    const std::function<bool(const CellResult&)>& skip,
                    const std::function<void(const CellResult&)>& on_cell) {
  if (isolate) return run_isolated_model<B, F, S, T>(config, make_backend, max_memory, skip, on_cell);
  Benchmark<B, F, S, T> bench{std::move(config), make_backend()};
  bench.share_models(pool);
  if (on_cell) bench.on_cell(on_cell);
  if (skip) bench.skip_cells(skip);
  return bench.run();
}

/// measure_loading in a child process; nullopt when the backend is not
/// available there (asked in the child: the parent initialises no device
/// before it forks). A child that ends abnormally gives a failed loading
/// benchmark that says how.
template <class F, class B, class MakeBackend>
std::optional<LoadingResult> measure_loading_isolated(const std::vector<std::string>& models, MakeBackend make_backend,
                                                      std::uint64_t seed, int repetitions, std::uint64_t max_memory) {
  std::optional<LoadingResult> got;
  bool unavailable = false;
  const ChildEnd end = run_in_child(
      [&](const std::function<void(const Json&)>& send) {
        if (!B::available()) return send(Json{{"unavailable", true}});
        send(Json{{"loading", detail::to_json(measure_loading<F, B>(models, make_backend, seed, repetitions))}});
      },
      max_memory,
      [&](const Json& m) {
        if (m.contains("loading")) got = loading_from_json(m["loading"]);
        if (m.contains("unavailable")) unavailable = true;
      },
      {});
  if (got || unavailable) return got;
  LoadingResult failed;
  failed.family = std::string(F::name);
  failed.backend = std::string(B::name);
  failed.models = models;
  failed.repetitions = repetitions;
  failed.status = "failed";
  failed.message = child_end_status(end, 0, max_memory).second;
  return failed;
}

}  // namespace detail

}  // namespace accelbench
// ---- end accelbench/suite/isolate.hpp ----
// ---- begin accelbench/suite/registry.hpp ----

// Registries: compile-time lists of the policies that a suite, the
// compatibility matrix and the `accelbench` command can name at run time
// (by each policy's `name`). They are template parameters of run_suite,
// compatibility_matrix and cli::main, with the lists below as defaults; a
// program adds its own backend or family by passing a longer list:
//
//   using MyBackends = accelbench::append_t<accelbench::KnownBackends, MyBackend>;
//   accelbench::run_suite<MyBackends>(suite);

#include <string>
#include <string_view>
#include <type_traits>

#if defined(ACCELBENCH_WITH_OPENCL)
// ---- begin accelbench/backend/opencl.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_HPP

// The OpenCL backend: any OpenCL 1.2 device (GPUs, and CPUs through PoCL).
// Kernels are compiled at run time from backend/device/gpu_kernels.hpp, once per
// device: every OpenCL object on the same device shares one context and one
// program, so a model loaded by one is usable by the others. Each object has
// its own in-order command queue, with profiling for OpenCLEventTimer.
//
// Link accelbench::opencl (CMake) or -lOpenCL.
//
// Device selection: OpenCL::Options{platform, device}, each an index or a
// case-insensitive part of the name; empty means the environment variable
// ACCELBENCH_OPENCL_DEVICE ("platform:device", e.g. "0:1" or "pocl:cpu"),
// and without it the first GPU, else the first device of any type.

// opencl/context.hpp brings the OpenCL headers (at OpenCL 1.2 unless
// CL_TARGET_OPENCL_VERSION says otherwise) and what every object shares.
// ---- begin accelbench/backend/opencl/context.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_CONTEXT_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_CONTEXT_HPP

// What the OpenCL backend builds on (backend/opencl.hpp): the kernels of
// backend/device/gpu_kernels.hpp as OpenCL C source, OpenCL's errors, the
// choice of a device, and the context, program and memory count that every
// OpenCL object on one device shares.

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#if defined(__APPLE__)
#include <OpenCL/opencl.h>
#else
#include <CL/cl.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// ---- begin accelbench/backend/device/device_memory.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP

// The device memory count of the device backends (OpenCL, Cuda): bytes held
// in the backend's buffers now, the most held and the time-weighted mean
// since the last reset. One counter per device, shared by every backend
// object on it; buffers add their size when allocated and remove it when
// freed. Thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>


namespace accelbench::detail {

class DeviceMemoryCounter {
 public:
  DeviceMemoryCounter() = default;
  DeviceMemoryCounter(const DeviceMemoryCounter&) = delete;
  DeviceMemoryCounter& operator=(const DeviceMemoryCounter&) = delete;

  void add(std::uint64_t bytes) { change(static_cast<std::int64_t>(bytes)); }
  void remove(std::uint64_t bytes) { change(-static_cast<std::int64_t>(bytes)); }

  /// Memory held now, the most and the time-weighted mean since reset();
  /// total_bytes is left to the backend.
  [[nodiscard]] DeviceMemory memory() {
    const std::lock_guard lock(mutex_);
    advance();
    const double span = std::chrono::duration<double>(last_change_ - since_).count();
    DeviceMemory m;
    m.used_bytes = allocated_;
    m.peak_bytes = peak_;
    m.average_bytes = span > 0 ? static_cast<std::uint64_t>(byte_seconds_ / span) : allocated_;
    return m;
  }

  /// Starts a new peak and mean from the memory held now.
  void reset() {
    const std::lock_guard lock(mutex_);
    advance();
    peak_ = allocated_;
    byte_seconds_ = 0;
    since_ = last_change_;
  }

 private:
  void change(std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    advance();
    allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta);
    peak_ = std::max(peak_, allocated_);
  }
  void advance() {
    const auto now = std::chrono::steady_clock::now();
    byte_seconds_ += static_cast<double>(allocated_) * std::chrono::duration<double>(now - last_change_).count();
    last_change_ = now;
  }

  std::mutex mutex_;
  std::uint64_t allocated_ = 0;
  std::uint64_t peak_ = 0;
  double byte_seconds_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_change_ = since_;
};

/// One allocation of a device backend: frees itself with Device::release
/// and keeps the device's count (Device is a DeviceMemoryCounter with a
/// `Handle` type, e.g. cl_mem or void*). Movable, not copyable.
template <class Device>
class CountedBuffer {
 public:
  using Handle = typename Device::Handle;

  CountedBuffer() = default;
  CountedBuffer(Handle handle, std::size_t bytes, std::shared_ptr<Device> device)
      : handle_(handle), bytes_(bytes), device_(std::move(device)) {
    device_->add(bytes_);
  }
  CountedBuffer(CountedBuffer&& o) noexcept
      : handle_(std::exchange(o.handle_, Handle{})), bytes_(std::exchange(o.bytes_, 0)), device_(std::move(o.device_)) {}
  CountedBuffer& operator=(CountedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = std::move(o.device_);
    }
    return *this;
  }
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { reset(); }

  [[nodiscard]] Handle get() const noexcept { return handle_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return handle_ != Handle{}; }

 private:
  void reset() noexcept {
    if (handle_ != Handle{}) {
      device_->release(handle_);
      device_->remove(bytes_);
      handle_ = Handle{};
    }
  }
  Handle handle_{};
  std::size_t bytes_ = 0;
  std::shared_ptr<Device> device_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
// ---- end accelbench/backend/device/device_memory.hpp ----
// ---- begin accelbench/backend/device/runtime.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP

// The device tier: the second way to write a backend. A backend that can
// allocate device memory, copy to and from it, and launch the kernels of
// gpu_kernels.hpp gets every op of the three op sets from GpuOps
// (gpu_ops.hpp), with the argument checks and output shapes of the other
// backends. The OpenCL and Cuda backends are written this way;
// docs/writing-a-backend.md describes it.
//
// A device runtime D with its buffer type Buffer provides (DeviceRuntime):
//
//   static name                                        the backend's name
//   Buffer allocate(std::size_t bytes)                 device memory (never 0 bytes)
//   void write(Buffer&, const void*, std::size_t)      host to device, blocking
//   void read(const Buffer&, void*, std::size_t)       device to host, waits for queued work
//   handle(const Buffer&)                              a float buffer as a kernel argument
//   index_handle(const Buffer&)                        an int32 buffer as a kernel argument
//   template <GpuKernel K, class... A> void launch(const GpuRange&, A... args)
//                                                      runs kernel K of gpu_kernels.hpp
//   void gemm_nt(const GemmArgs<Buffer>&)              y = x wᵀ on strided views
//
// Kernel arguments are passed with the exact types of the kernels'
// parameters: int, std::int64_t for `long`, float, buffer handles. A Buffer
// is movable, default-constructible (empty) and tests true when it holds
// memory.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace accelbench {

/// The kernels of gpu_kernels.hpp, in the order of gpu_kernel_names.
enum class GpuKernel : int {
  matmul_nt,
  matmul_nt_few,
  add_bias,
  add,
  activation,
  gated,
  row_norm,
  row_scale,
  argmax_rows,
  attention,
  embedding_lookup,
  masked_mean_pool,
  rotary,
  add_positions,
  cache_write,
  relative_bias,
  im2col_2d,
  im2col_1d,
  group_norm,
  prepend_row,
};

inline constexpr const char* gpu_kernel_names[] = {
    "ab_matmul_nt",     "ab_matmul_nt_few",    "ab_add_bias",         "ab_add",       "ab_activation",    "ab_gated",
    "ab_row_norm",      "ab_row_scale",        "ab_argmax_rows", "ab_attention",   "ab_embedding_lookup",
    "ab_masked_mean_pool", "ab_rotary",        "ab_add_positions", "ab_cache_write", "ab_relative_bias",
    "ab_im2col_2d",     "ab_im2col_1d",        "ab_group_norm", "ab_prepend_row"};
inline constexpr int gpu_kernel_count = static_cast<int>(sizeof(gpu_kernel_names) / sizeof(gpu_kernel_names[0]));

/// Work-group size of the row kernels (ABK_WG) and tile of the matrix
/// product (ABK_TS).
inline constexpr int gpu_row_group = 128;
inline constexpr int gpu_tile = 16;

/// A launch: global sizes (already multiples of the local sizes) and local sizes.
struct GpuRange {
  std::size_t global0 = 1, global1 = 1;
  std::size_t local0 = 1, local1 = 1;

  /// One work-item per element, in groups of 256.
  static GpuRange elements(std::int64_t count) {
    constexpr std::size_t group = 256;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 1));
    return {(n + group - 1) / group * group, 1, group, 1};
  }
  /// One group of gpu_row_group work-items per row.
  static GpuRange rows(std::int64_t rows) {
    return {static_cast<std::size_t>(rows) * gpu_row_group, 1, gpu_row_group, 1};
  }
};

/// A 2-D float tensor in device memory, row-major. Resizing keeps the
/// allocation when it is large enough.
template <class Buffer>
struct GpuTensor {
  Buffer buffer{};
  long rows_ = 0;
  long cols_ = 0;
  std::size_t capacity = 0;  ///< floats allocated

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
};

/// Token ids or positions in device memory, with the host copy when they
/// came from the host (so that ids can be checked without a transfer).
template <class Buffer>
struct GpuIndices {
  Buffer buffer{};
  std::size_t count = 0;
  std::size_t capacity = 0;
  std::vector<std::int32_t> host;
  bool host_valid = false;

  [[nodiscard]] std::size_t size() const noexcept { return count; }
};

/// The arguments of GEMM y = x wᵀ on strided views: x [n, k] (row stride
/// ldx, from element xoff), w [m, k], y [n, m].
template <class Buffer>
struct GemmArgs {
  const Buffer* x = nullptr;
  std::int64_t xoff = 0;
  int ldx = 0;
  const Buffer* w = nullptr;
  std::int64_t woff = 0;
  int ldw = 0;
  Buffer* y = nullptr;
  std::int64_t yoff = 0;
  int ldy = 0;
  int n = 0, m = 0, k = 0;
};

/// The primitives of a device runtime D over buffers of type Buffer (see
/// the top of this file). GpuOps<D, Buffer> checks it, so a runtime that
/// misses one is told which; a runtime states it with
/// static_assert(accelbench::DeviceRuntime<MyRuntime, MyBuffer>).
template <class D, class Buffer>
concept DeviceRuntime =
    std::movable<Buffer> && std::default_initializable<Buffer> &&
    requires(D& d, Buffer& b, const Buffer& cb, void* out, const void* in, std::size_t bytes,
             const GemmArgs<Buffer>& gemm, const GpuRange& range) {
      { D::name } -> std::convertible_to<std::string_view>;
      { static_cast<bool>(cb) };
      { d.allocate(bytes) } -> std::same_as<Buffer>;
      d.write(b, in, bytes);
      d.read(cb, out, bytes);
      d.handle(cb);
      d.index_handle(cb);
      d.gemm_nt(gemm);
      d.template launch<GpuKernel::add>(range, d.handle(cb), d.handle(cb), std::int64_t{0});
    };

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
// ---- end accelbench/backend/device/runtime.hpp ----

namespace accelbench {

namespace detail {

#define ACCELBENCH_GPU_KERNELS(...) inline constexpr const char opencl_kernel_body[] = #__VA_ARGS__;
// ---- begin accelbench/backend/device/gpu_kernels.hpp ----
// The device kernels of the OpenCL and Cuda backends, written once.
//
// The kernels below are in a small dialect that is both OpenCL C and CUDA
// C++: the includer defines the macros of the dialect and
// ACCELBENCH_GPU_KERNELS(...). OpenCL stringifies the code (the program is
// compiled at run time, with the dialect defined by opencl_dialect below);
// Cuda expands it as code (compiled by nvcc). Kernels verified on one
// therefore run unchanged on the other.
//
// The dialect:
//   KERNEL            a kernel entry point
//   GLOBAL            qualifier of a pointer to device memory
//   SHARED            qualifier of an array shared by a work-group (block)
//   BARRIER           work-group barrier, for shared and device memory
//   GID0 LID0 LID1 GRP0 GRP1
//                     global id, local id and group id in dimensions 0 and 1
//   ABK_WG            work-group size of the row kernels (one group per row)
//   ABK_TS            tile size of the matrix product (ABK_TS x ABK_TS groups)
//   ABK_LOWEST        the lowest float (an additive mask)
//
// Every kernel checks its own bounds: the launch rounds global sizes up to
// a multiple of the work-group size. Indices into tensors are `long` (64-bit).
// No preprocessor directive may appear inside ACCELBENCH_GPU_KERNELS, and no
// name that OpenCL C reserves (half, kernel, ...).
//
// This file has no include guard on purpose: it is included once by each
// backend with its own definition of ACCELBENCH_GPU_KERNELS.

ACCELBENCH_GPU_KERNELS(

/* y[i, o] = sum_e x[i, e] w[o, e] for i < n, o < m, e < k, with row strides
   and offsets so that one call can write a group's columns of a grouped
   convolution. A group of ABK_TS x ABK_TS work-items computes a tile of
   4 ABK_TS x 4 ABK_TS outputs, 4 x 4 per work-item, from ABK_TS-deep slices
   of x and w staged in shared memory; dimension 0 runs over outputs o,
   dimension 1 over rows i. */
KERNEL void ab_matmul_nt(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                         GLOBAL float* y, long yoff, int ldy, int n, int m, int k) {
  SHARED float xs[ABK_TS][4 * ABK_TS];
  SHARED float ws[ABK_TS][4 * ABK_TS];
  const int lx = LID0;
  const int ly = LID1;
  const int o0 = GRP0 * 4 * ABK_TS;
  const int i0 = GRP1 * 4 * ABK_TS;
  float acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = 0.0f;
  for (int t = 0; t < k; t += ABK_TS) {
    const int e = t + lx;
    for (int r = 0; r < 4; ++r) {
      const int row = ly + r * ABK_TS;
      xs[lx][row] = (i0 + row < n && e < k) ? x[xoff + (long)(i0 + row) * ldx + e] : 0.0f;
      ws[lx][row] = (o0 + row < m && e < k) ? w[woff + (long)(o0 + row) * ldw + e] : 0.0f;
    }
    BARRIER;
    for (int q = 0; q < ABK_TS; ++q) {
      float a[4];
      float b[4];
      for (int r = 0; r < 4; ++r) {
        a[r] = xs[q][ly + r * ABK_TS];
        b[r] = ws[q][lx + r * ABK_TS];
      }
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
    }
    BARRIER;
  }
  for (int r = 0; r < 4; ++r) {
    const int i = i0 + ly + r * ABK_TS;
    for (int c = 0; c < 4; ++c) {
      const int o = o0 + lx + c * ABK_TS;
      if (i < n && o < m) y[yoff + (long)i * ldy + o] = acc[r][c];
    }
  }
}

/* ab_matmul_nt for at most 8 rows (a decode step): one work-item per output
   column, reading its row of w once for every row of x. */
KERNEL void ab_matmul_nt_few(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                             GLOBAL float* y, long yoff, int ldy, int n, int m, int k) {
  const long o = GID0;
  if (o >= m) return;
  float acc[8];
  for (int r = 0; r < 8; ++r) acc[r] = 0.0f;
  GLOBAL const float* wr = w + woff + o * ldw;
  for (int e = 0; e < k; ++e) {
    const float wv = wr[e];
    for (int r = 0; r < n; ++r) acc[r] += x[xoff + (long)r * ldx + e] * wv;
  }
  for (int r = 0; r < n; ++r) y[yoff + (long)r * ldy + o] = acc[r];
}

/* y[i, o] += bias[o] for i < n, o < m (row stride ldy, offset yoff) */
KERNEL void ab_add_bias(GLOBAL float* y, long yoff, int ldy, GLOBAL const float* bias, int n, int m) {
  const long idx = GID0;
  if (idx >= (long)n * m) return;
  const long i = idx / m;
  const int o = (int)(idx % m);
  y[yoff + i * ldy + o] += bias[o];
}

/* y += x */
KERNEL void ab_add(GLOBAL const float* x, GLOBAL float* y, long count) {
  const long i = GID0;
  if (i < count) y[i] += x[i];
}

/* In place: 0 erf GELU, 1 tanh GELU, 2 ReLU, 3 SiLU, 4 quick GELU, 5 x *= s */
KERNEL void ab_activation(GLOBAL float* x, long count, int kind, float s) {
  const long i = GID0;
  if (i >= count) return;
  const float v = x[i];
  float r = v;
  if (kind == 0) {
    r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752440f));
  } else if (kind == 1) {
    r = 0.5f * v * (1.0f + tanh(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
  } else if (kind == 2) {
    r = v > 0.0f ? v : 0.0f;
  } else if (kind == 3) {
    r = v / (1.0f + exp(-v));
  } else if (kind == 4) {
    r = v / (1.0f + exp(-1.702f * v));
  } else {
    r = v * s;
  }
  x[i] = r;
}

/* y = act(x[:, :half_dim]) * x[:, half_dim:] with act SiLU (kind 0) or tanh GELU (kind 1) */
KERNEL void ab_gated(GLOBAL const float* x, GLOBAL float* y, long rows, int half_dim, int kind) {
  const long i = GID0;
  if (i >= rows * half_dim) return;
  const long r = i / half_dim;
  const int c = (int)(i % half_dim);
  const float g = x[r * 2 * half_dim + c];
  const float a = kind == 0 ? g / (1.0f + exp(-g))
                            : 0.5f * g * (1.0f + tanh(0.79788456080286535588f * (g + 0.044715f * g * g * g)));
  y[i] = a * x[r * 2 * half_dim + half_dim + c];
}

/* Per row (one group each): y = (x - mean) / sqrt(var + eps) * g + b when
   kind is 0 (layer norm); y = x / sqrt(mean(x^2) + eps) * g when kind is 1
   (RMS norm); y may be x. */
KERNEL void ab_row_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                        int cols, float eps, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float mean = 0.0f;
  if (kind == 0) {
    float sum = 0.0f;
    for (int c = lid; c < cols; c += ABK_WG) sum += x[base + c];
    red[lid] = sum;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] += red[lid + s];
      BARRIER;
    }
    mean = red[0] / (float)cols;
    BARRIER;
  }
  float sq = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float d = x[base + c] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)cols + eps);
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = (x[base + c] - mean) * inv * g[c];
    y[base + c] = kind == 0 ? v + b[c] : v;
  }
}

/* In place, per row (one group each): softmax when kind is 0; division by
   the Euclidean norm when kind is 1 (a row of zeros stays zeros). */
KERNEL void ab_row_scale(GLOBAL float* x, int cols, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float top = ABK_LOWEST;
  if (kind == 0) {
    for (int c = lid; c < cols; c += ABK_WG) top = fmax(top, x[base + c]);
    red[lid] = top;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
      BARRIER;
    }
    top = red[0];
    BARRIER;
  }
  float sum = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (kind == 0) {
      const float e = exp(v - top);
      x[base + c] = e;
      sum += e;
    } else {
      sum += v * v;
    }
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float total = red[0];
  if (kind == 1 && total == 0.0f) return;
  const float inv = kind == 0 ? 1.0f / total : 1.0f / sqrt(total);
  for (int c = lid; c < cols; c += ABK_WG) x[base + c] *= inv;
}

/* ids[r] = the column of row r's largest value, the first on ties. */
KERNEL void ab_argmax_rows(GLOBAL const float* x, GLOBAL int* ids, int cols) {
  SHARED float best_value[ABK_WG];
  SHARED int best_index[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float bv = ABK_LOWEST;
  int bi = cols;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (bi == cols || v > bv) {
      bv = v;
      bi = c;
    }
  }
  best_value[lid] = bv;
  best_index[lid] = bi;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) {
      const float ov = best_value[lid + s];
      const int oi = best_index[lid + s];
      if (oi < cols && (best_index[lid] == cols || ov > best_value[lid] ||
                        (ov == best_value[lid] && oi < best_index[lid]))) {
        best_value[lid] = ov;
        best_index[lid] = oi;
      }
    }
    BARRIER;
  }
  if (lid == 0) ids[GRP0] = best_index[0];
}

/* Scaled dot-product attention, one group per (sequence, head, query); see
   accelbench::AttentionDims. scores is scratch of [groups, key_len]. */
KERNEL void ab_attention(GLOBAL const float* q, GLOBAL const float* k, GLOBAL const float* v,
                         GLOBAL const float* mask, int has_mask, GLOBAL const float* bias, int has_bias,
                         GLOBAL float* out, GLOBAL float* scores, int query_len, int key_len, int heads,
                         int head_dim, int kv_heads, int key_stride, int causal, int window, float scale) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long group = GRP0;
  const int i = (int)(group % query_len);
  const int h = (int)((group / query_len) % heads);
  const long b = group / ((long)query_len * heads);
  const int kv = h / (heads / kv_heads);
  const long qrow = b * query_len + i;
  const int q_width = heads * head_dim;
  const int kv_width = kv_heads * head_dim;
  const int seen = causal ? key_len - query_len + i + 1 : key_len;
  const int first = (causal && window > 0 && seen > window) ? seen - window : 0; /* sliding window */
  GLOBAL const float* qp = q + qrow * q_width + (long)h * head_dim;
  GLOBAL float* sp = scores + group * key_len;
  float top = ABK_LOWEST;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    GLOBAL const float* kp = k + (b * key_stride + j) * kv_width + (long)kv * head_dim;
    float dot = 0.0f;
    for (int e = 0; e < head_dim; ++e) dot += qp[e] * kp[e];
    float s = dot * scale;
    if (has_bias) s += bias[((long)h * query_len + i) * key_len + j];
    if (has_mask && mask[b * key_len + j] == 0.0f) s += ABK_LOWEST;
    sp[j] = s;
    top = fmax(top, s);
  }
  red[lid] = top;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
    BARRIER;
  }
  top = red[0];
  BARRIER;
  float sum = 0.0f;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    const float e = exp(sp[j] - top);
    sp[j] = e;
    sum += e;
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / red[0];
  for (int e = lid; e < head_dim; e += ABK_WG) {
    GLOBAL const float* vp = v + b * key_stride * kv_width + (long)kv * head_dim + e;
    float acc = 0.0f;
    for (int j = first; j < seen; ++j) acc += sp[j] * vp[(long)j * kv_width];
    out[qrow * q_width + (long)h * head_dim + e] = acc * inv;
  }
}

/* y[i] = table[ids[i]]; an id outside the table gives a row of zeros (the
   host checks ids it knows). */
KERNEL void ab_embedding_lookup(GLOBAL const float* table, GLOBAL const int* ids, GLOBAL float* y, long count,
                                int cols, int table_rows) {
  const long idx = GID0;
  if (idx >= count) return;
  const long i = idx / cols;
  const int c = (int)(idx % cols);
  const int id = ids[i];
  y[idx] = (id >= 0 && id < table_rows) ? table[(long)id * cols + c] : 0.0f;
}

/* y[b, c] = mean over s of x[b * len + s, c] where mask[b, s] is 1. */
KERNEL void ab_masked_mean_pool(GLOBAL const float* x, GLOBAL const float* mask, GLOBAL float* y, int batch,
                                int len, int cols) {
  const long idx = GID0;
  if (idx >= (long)batch * cols) return;
  const long b = idx / cols;
  const int c = (int)(idx % cols);
  float acc = 0.0f;
  float count = 0.0f;
  for (int s = 0; s < len; ++s) {
    const float m = mask[b * len + s];
    acc += m * x[(b * len + s) * cols + c];
    count += m;
  }
  y[idx] = acc / fmax(count, 1e-9f);
}

/* Rotary embedding in place from tables of cos and sin [positions, half_dim]. */
KERNEL void ab_rotary(GLOBAL float* x, GLOBAL const float* cos_table, GLOBAL const float* sin_table, long rows,
                      int len, int heads, int head_dim, int start) {
  const int half_dim = head_dim / 2;
  const long idx = GID0;
  if (idx >= rows * heads * half_dim) return;
  const int j = (int)(idx % half_dim);
  const int h = (int)((idx / half_dim) % heads);
  const long row = idx / ((long)half_dim * heads);
  const long pos = start + row % len;
  const float c = cos_table[pos * half_dim + j];
  const float s = sin_table[pos * half_dim + j];
  GLOBAL float* p = x + row * heads * head_dim + (long)h * head_dim + j;
  const float a = p[0];
  const float bb = p[half_dim];
  p[0] = a * c - bb * s;
  p[half_dim] = bb * c + a * s;
}

/* y[b * len + i] += table[start + i] */
KERNEL void ab_add_positions(GLOBAL const float* table, GLOBAL float* y, int start, int len, long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  y[idx] += table[(long)(start + row % len) * cols + c];
}

/* cache[b * capacity + start + i] = x[b * len + i] */
KERNEL void ab_cache_write(GLOBAL const float* x, GLOBAL float* cache, int len, int capacity, int start,
                           long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  const long b = row / len;
  const long i = row % len;
  cache[(b * capacity + start + i) * cols + c] = x[idx];
}

/* T5's bias [heads * query_len, key_len]: the table's [buckets, heads] entry
   at the bucket of relative position j - (query_start + i), looked up in
   buckets[] indexed from the smallest relative position. */
KERNEL void ab_relative_bias(GLOBAL const float* table, GLOBAL const int* buckets, GLOBAL float* y, int heads,
                             int query_len, int key_len, int query_start) {
  const long idx = GID0;
  if (idx >= (long)heads * query_len * key_len) return;
  const int j = (int)(idx % key_len);
  const int i = (int)((idx / key_len) % query_len);
  const int h = (int)(idx / ((long)key_len * query_len));
  const int rel = j - (query_start + i);
  const int bucket = buckets[rel + query_start + query_len - 1];
  y[idx] = table[(long)bucket * heads + h];
}

/* im2col of a 2-D convolution: cols[(img, oy, ox), (c, ky, kx)]. */
KERNEL void ab_im2col_2d(GLOBAL const float* x, GLOBAL float* cols, int channels, int height, int width,
                         int taps, int stride, int padding, int out_h, int out_w, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = channels * taps * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / (taps * taps);
  const int ky = (qq / taps) % taps;
  const int kx = qq % taps;
  const int ox = (int)(r % out_w);
  const int oy = (int)((r / out_w) % out_h);
  const long img = r / ((long)out_w * out_h);
  const int iy = oy * stride - padding + ky;
  const int ix = ox * stride - padding + kx;
  cols[idx] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                  ? x[img * channels * height * width + ((long)c * height + iy) * width + ix]
                  : 0.0f;
}

/* im2col of group g of a 1-D convolution: cols[(s, t), (c, j)] for the
   group's group_in input channels. */
KERNEL void ab_im2col_1d(GLOBAL const float* x, GLOBAL float* cols, int length, int in_channels, int group_in,
                         int group, int taps, int stride, int padding, int out_len, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = group_in * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / taps;
  const int j = qq % taps;
  const long s = r / out_len;
  const int t = (int)(r % out_len);
  const int it = t * stride - padding + j;
  cols[idx] = (it >= 0 && it < length) ? x[(s * length + it) * in_channels + (long)group * group_in + c] : 0.0f;
}

/* Group norm, one group per (sequence, channel group), over length time
   steps and size channels. */
KERNEL void ab_group_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                          int length, int cols, int groups, float eps) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const int size = cols / groups;
  const int grp = (int)(GRP0 % groups);
  const long s = GRP0 / groups;
  const long count = (long)length * size;
  float sum = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    sum += x[(s * length + q / size) * cols + (long)grp * size + q % size];
  }
  red[lid] = sum;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float mean = red[0] / (float)count;
  BARRIER;
  float sq = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    const float d = x[(s * length + q / size) * cols + (long)grp * size + q % size] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)count + eps);
  for (long q = lid; q < count; q += ABK_WG) {
    const long c = (long)grp * size + q % size;
    const long at = (s * length + q / size) * cols + c;
    y[at] = (x[at] - mean) * inv * g[c] + b[c];
  }
}

/* y = x with row before each of the batch's sequences of n rows. */
KERNEL void ab_prepend_row(GLOBAL const float* x, GLOBAL const float* row, GLOBAL float* y, int n, long count,
                           int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long r = idx / cols;
  const int c = (int)(idx % cols);
  const long s = r / (n + 1);
  const int i = (int)(r % (n + 1));
  y[idx] = i == 0 ? row[c] : x[(s * n + i - 1) * cols + c];
}

)
// ---- end accelbench/backend/device/gpu_kernels.hpp ----
#undef ACCELBENCH_GPU_KERNELS

/// The dialect of gpu_kernels.hpp in OpenCL C.
inline constexpr const char opencl_dialect[] =
    "#define KERNEL __kernel\n"
    "#define GLOBAL __global\n"
    "#define SHARED __local\n"
    "#define BARRIER barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)\n"
    "#define GID0 ((long)get_global_id(0))\n"
    "#define LID0 ((int)get_local_id(0))\n"
    "#define LID1 ((int)get_local_id(1))\n"
    "#define GRP0 ((int)get_group_id(0))\n"
    "#define GRP1 ((int)get_group_id(1))\n"
    "#define ABK_WG 128\n"
    "#define ABK_TS 16\n"
    "#define ABK_LOWEST (-3.40282347e+38f)\n";

inline const char* opencl_error_name(cl_int e) {
  switch (e) {
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL platform installed)";
    default: return "an OpenCL error";
  }
}

inline void cl_check(cl_int e, const char* what) {
  if (e != CL_SUCCESS) {
    throw std::runtime_error(std::string("opencl: ") + what + " returned " + std::to_string(e) + " (" +
                             opencl_error_name(e) + ")");
  }
}

inline std::string cl_platform_string(cl_platform_id p, cl_platform_info what) {
  std::size_t n = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  clGetPlatformInfo(p, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

inline std::string cl_device_string(cl_device_id d, cl_device_info what) {
  std::size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

template <class T>
T cl_device_value(cl_device_id d, cl_device_info what) {
  T v{};
  clGetDeviceInfo(d, what, sizeof(T), &v, nullptr);
  return v;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Where a device is: indices of its platform and of the device in it.
struct OpenClLocation {
  int platform = 0;
  int device = 0;
  cl_platform_id platform_id = nullptr;
  cl_device_id device_id = nullptr;
};

/// Picks the device asked for (see the header comment), or says why not.
inline OpenClLocation select_opencl_device(std::string platform_spec, std::string device_spec) {
  if (platform_spec.empty() && device_spec.empty()) {
    if (const char* env = std::getenv("ACCELBENCH_OPENCL_DEVICE"); env != nullptr && *env != '\0') {
      const std::string e = env;
      const auto colon = e.find(':');
      platform_spec = e.substr(0, colon);
      device_spec = colon == std::string::npos ? std::string() : e.substr(colon + 1);
    }
  }
  cl_uint n_platforms = 0;
  const cl_int e = clGetPlatformIDs(0, nullptr, &n_platforms);
  if (e == -1001 || n_platforms == 0) {
    throw std::runtime_error("no OpenCL platform is installed (no ICD found; install pocl-opencl-icd or a GPU driver)");
  }
  cl_check(e, "clGetPlatformIDs");
  std::vector<cl_platform_id> platforms(n_platforms);
  cl_check(clGetPlatformIDs(n_platforms, platforms.data(), nullptr), "clGetPlatformIDs");

  auto matches = [](const std::string& spec, int index, const std::string& name) {
    if (spec.empty()) return true;
    if (std::all_of(spec.begin(), spec.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return std::stoi(spec) == index;
    }
    return lower(name).find(lower(spec)) != std::string::npos;
  };

  std::optional<OpenClLocation> first, first_gpu;
  std::string seen;
  for (int p = 0; p < static_cast<int>(n_platforms); ++p) {
    const std::string pname = cl_platform_string(platforms[std::size_t(p)], CL_PLATFORM_NAME);
    if (!matches(platform_spec, p, pname)) continue;
    cl_uint n_devices = 0;
    if (clGetDeviceIDs(platforms[std::size_t(p)], CL_DEVICE_TYPE_ALL, 0, nullptr, &n_devices) != CL_SUCCESS) continue;
    std::vector<cl_device_id> devices(n_devices);
    clGetDeviceIDs(platforms[std::size_t(p)], CL_DEVICE_TYPE_ALL, n_devices, devices.data(), nullptr);
    for (int d = 0; d < static_cast<int>(n_devices); ++d) {
      const std::string dname = cl_device_string(devices[std::size_t(d)], CL_DEVICE_NAME);
      const auto type = cl_device_value<cl_device_type>(devices[std::size_t(d)], CL_DEVICE_TYPE);
      const std::string kind = (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator";
      seen += (seen.empty() ? "" : ", ") + std::to_string(p) + ":" + std::to_string(d) + " " + dname;
      if (!matches(device_spec, d, dname + " " + kind)) continue;
      const OpenClLocation loc{p, d, platforms[std::size_t(p)], devices[std::size_t(d)]};
      if (!first) first = loc;
      if (!first_gpu && (type & CL_DEVICE_TYPE_GPU)) first_gpu = loc;
    }
  }
  const bool explicit_choice = !platform_spec.empty() || !device_spec.empty();
  if (explicit_choice && first) return *first;
  if (first_gpu) return *first_gpu;
  if (first) return *first;
  if (explicit_choice) {
    throw std::runtime_error("no OpenCL device matches platform \"" + platform_spec + "\" device \"" + device_spec +
                             "\"; devices: " + (seen.empty() ? "none" : seen));
  }
  throw std::runtime_error("the OpenCL platforms have no device");
}

/// One device's context and compiled program, shared by every OpenCL object
/// on that device; also counts the device memory they hold.
struct OpenClDevice : DeviceMemoryCounter {
  using Handle = cl_mem;

  OpenClLocation location;
  cl_context context = nullptr;
  cl_program program = nullptr;
  double compile_seconds = 0;

  OpenClDevice() = default;
  OpenClDevice(const OpenClDevice&) = delete;
  OpenClDevice& operator=(const OpenClDevice&) = delete;
  ~OpenClDevice() {
    if (program != nullptr) clReleaseProgram(program);
    if (context != nullptr) clReleaseContext(context);
  }

  /// Frees a buffer of this device (CountedBuffer).
  void release(cl_mem mem) const noexcept { clReleaseMemObject(mem); }

  /// The shared context of the device at `loc`, its program compiled on first use.
  static std::shared_ptr<OpenClDevice> get(const OpenClLocation& loc) {
    static std::mutex mutex;
    static std::map<std::pair<int, int>, std::shared_ptr<OpenClDevice>> devices;
    const std::lock_guard lock(mutex);
    auto& slot = devices[{loc.platform, loc.device}];
    if (!slot) {
      auto dev = std::make_shared<OpenClDevice>();
      dev->location = loc;
      cl_int e = CL_SUCCESS;
      const cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                             reinterpret_cast<cl_context_properties>(loc.platform_id), 0};
      dev->context = clCreateContext(props, 1, &loc.device_id, nullptr, nullptr, &e);
      cl_check(e, "clCreateContext");
      const std::string source = std::string(opencl_dialect) + opencl_kernel_body;
      const char* text = source.c_str();
      const std::size_t length = source.size();
      dev->program = clCreateProgramWithSource(dev->context, 1, &text, &length, &e);
      cl_check(e, "clCreateProgramWithSource");
      const auto t0 = std::chrono::steady_clock::now();
      e = clBuildProgram(dev->program, 1, &loc.device_id, "-cl-std=CL1.2", nullptr, nullptr);
      dev->compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (e != CL_SUCCESS) {
        std::size_t n = 0;
        clGetProgramBuildInfo(dev->program, loc.device_id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
        std::string log(n, '\0');
        clGetProgramBuildInfo(dev->program, loc.device_id, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
        throw std::runtime_error("opencl: the kernels do not compile on " +
                                 cl_device_string(loc.device_id, CL_DEVICE_NAME) + ": " + log);
      }
      slot = std::move(dev);
    }
    return slot;
  }
};

/// A device buffer; releases itself and updates its device's count.
using OpenClBuffer = CountedBuffer<OpenClDevice>;

}  // namespace detail

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_CONTEXT_HPP
// ---- end accelbench/backend/opencl/context.hpp ----
// ---- begin accelbench/backend/device/device_memory.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP

// The device memory count of the device backends (OpenCL, Cuda): bytes held
// in the backend's buffers now, the most held and the time-weighted mean
// since the last reset. One counter per device, shared by every backend
// object on it; buffers add their size when allocated and remove it when
// freed. Thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>


namespace accelbench::detail {

class DeviceMemoryCounter {
 public:
  DeviceMemoryCounter() = default;
  DeviceMemoryCounter(const DeviceMemoryCounter&) = delete;
  DeviceMemoryCounter& operator=(const DeviceMemoryCounter&) = delete;

  void add(std::uint64_t bytes) { change(static_cast<std::int64_t>(bytes)); }
  void remove(std::uint64_t bytes) { change(-static_cast<std::int64_t>(bytes)); }

  /// Memory held now, the most and the time-weighted mean since reset();
  /// total_bytes is left to the backend.
  [[nodiscard]] DeviceMemory memory() {
    const std::lock_guard lock(mutex_);
    advance();
    const double span = std::chrono::duration<double>(last_change_ - since_).count();
    DeviceMemory m;
    m.used_bytes = allocated_;
    m.peak_bytes = peak_;
    m.average_bytes = span > 0 ? static_cast<std::uint64_t>(byte_seconds_ / span) : allocated_;
    return m;
  }

  /// Starts a new peak and mean from the memory held now.
  void reset() {
    const std::lock_guard lock(mutex_);
    advance();
    peak_ = allocated_;
    byte_seconds_ = 0;
    since_ = last_change_;
  }

 private:
  void change(std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    advance();
    allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta);
    peak_ = std::max(peak_, allocated_);
  }
  void advance() {
    const auto now = std::chrono::steady_clock::now();
    byte_seconds_ += static_cast<double>(allocated_) * std::chrono::duration<double>(now - last_change_).count();
    last_change_ = now;
  }

  std::mutex mutex_;
  std::uint64_t allocated_ = 0;
  std::uint64_t peak_ = 0;
  double byte_seconds_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_change_ = since_;
};

/// One allocation of a device backend: frees itself with Device::release
/// and keeps the device's count (Device is a DeviceMemoryCounter with a
/// `Handle` type, e.g. cl_mem or void*). Movable, not copyable.
template <class Device>
class CountedBuffer {
 public:
  using Handle = typename Device::Handle;

  CountedBuffer() = default;
  CountedBuffer(Handle handle, std::size_t bytes, std::shared_ptr<Device> device)
      : handle_(handle), bytes_(bytes), device_(std::move(device)) {
    device_->add(bytes_);
  }
  CountedBuffer(CountedBuffer&& o) noexcept
      : handle_(std::exchange(o.handle_, Handle{})), bytes_(std::exchange(o.bytes_, 0)), device_(std::move(o.device_)) {}
  CountedBuffer& operator=(CountedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = std::move(o.device_);
    }
    return *this;
  }
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { reset(); }

  [[nodiscard]] Handle get() const noexcept { return handle_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return handle_ != Handle{}; }

 private:
  void reset() noexcept {
    if (handle_ != Handle{}) {
      device_->release(handle_);
      device_->remove(bytes_);
      handle_ = Handle{};
    }
  }
  Handle handle_{};
  std::size_t bytes_ = 0;
  std::shared_ptr<Device> device_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
// ---- end accelbench/backend/device/device_memory.hpp ----
// ---- begin accelbench/backend/device/gpu_ops.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP

// Every op of the three op sets for a device runtime (runtime.hpp): argument
// checks, output shapes and launches of the kernels of gpu_kernels.hpp. A
// device backend derives from GpuOps<Derived, Buffer>, where Derived
// provides the primitives of DeviceRuntime<Derived, Buffer>.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// ---- begin accelbench/backend/device/runtime.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP

// The device tier: the second way to write a backend. A backend that can
// allocate device memory, copy to and from it, and launch the kernels of
// gpu_kernels.hpp gets every op of the three op sets from GpuOps
// (gpu_ops.hpp), with the argument checks and output shapes of the other
// backends. The OpenCL and Cuda backends are written this way;
// docs/writing-a-backend.md describes it.
//
// A device runtime D with its buffer type Buffer provides (DeviceRuntime):
//
//   static name                                        the backend's name
//   Buffer allocate(std::size_t bytes)                 device memory (never 0 bytes)
//   void write(Buffer&, const void*, std::size_t)      host to device, blocking
//   void read(const Buffer&, void*, std::size_t)       device to host, waits for queued work
//   handle(const Buffer&)                              a float buffer as a kernel argument
//   index_handle(const Buffer&)                        an int32 buffer as a kernel argument
//   template <GpuKernel K, class... A> void launch(const GpuRange&, A... args)
//                                                      runs kernel K of gpu_kernels.hpp
//   void gemm_nt(const GemmArgs<Buffer>&)              y = x wᵀ on strided views
//
// Kernel arguments are passed with the exact types of the kernels'
// parameters: int, std::int64_t for `long`, float, buffer handles. A Buffer
// is movable, default-constructible (empty) and tests true when it holds
// memory.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace accelbench {

/// The kernels of gpu_kernels.hpp, in the order of gpu_kernel_names.
enum class GpuKernel : int {
  matmul_nt,
  matmul_nt_few,
  add_bias,
  add,
  activation,
  gated,
  row_norm,
  row_scale,
  argmax_rows,
  attention,
  embedding_lookup,
  masked_mean_pool,
  rotary,
  add_positions,
  cache_write,
  relative_bias,
  im2col_2d,
  im2col_1d,
  group_norm,
  prepend_row,
};

inline constexpr const char* gpu_kernel_names[] = {
    "ab_matmul_nt",     "ab_matmul_nt_few",    "ab_add_bias",         "ab_add",       "ab_activation",    "ab_gated",
    "ab_row_norm",      "ab_row_scale",        "ab_argmax_rows", "ab_attention",   "ab_embedding_lookup",
    "ab_masked_mean_pool", "ab_rotary",        "ab_add_positions", "ab_cache_write", "ab_relative_bias",
    "ab_im2col_2d",     "ab_im2col_1d",        "ab_group_norm", "ab_prepend_row"};
inline constexpr int gpu_kernel_count = static_cast<int>(sizeof(gpu_kernel_names) / sizeof(gpu_kernel_names[0]));

/// Work-group size of the row kernels (ABK_WG) and tile of the matrix
/// product (ABK_TS).
inline constexpr int gpu_row_group = 128;
inline constexpr int gpu_tile = 16;

/// A launch: global sizes (already multiples of the local sizes) and local sizes.
struct GpuRange {
  std::size_t global0 = 1, global1 = 1;
  std::size_t local0 = 1, local1 = 1;

  /// One work-item per element, in groups of 256.
  static GpuRange elements(std::int64_t count) {
    constexpr std::size_t group = 256;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 1));
    return {(n + group - 1) / group * group, 1, group, 1};
  }
  /// One group of gpu_row_group work-items per row.
  static GpuRange rows(std::int64_t rows) {
    return {static_cast<std::size_t>(rows) * gpu_row_group, 1, gpu_row_group, 1};
  }
};

/// A 2-D float tensor in device memory, row-major. Resizing keeps the
/// allocation when it is large enough.
template <class Buffer>
struct GpuTensor {
  Buffer buffer{};
  long rows_ = 0;
  long cols_ = 0;
  std::size_t capacity = 0;  ///< floats allocated

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
};

/// Token ids or positions in device memory, with the host copy when they
/// came from the host (so that ids can be checked without a transfer).
template <class Buffer>
struct GpuIndices {
  Buffer buffer{};
  std::size_t count = 0;
  std::size_t capacity = 0;
  std::vector<std::int32_t> host;
  bool host_valid = false;

  [[nodiscard]] std::size_t size() const noexcept { return count; }
};

/// The arguments of GEMM y = x wᵀ on strided views: x [n, k] (row stride
/// ldx, from element xoff), w [m, k], y [n, m].
template <class Buffer>
struct GemmArgs {
  const Buffer* x = nullptr;
  std::int64_t xoff = 0;
  int ldx = 0;
  const Buffer* w = nullptr;
  std::int64_t woff = 0;
  int ldw = 0;
  Buffer* y = nullptr;
  std::int64_t yoff = 0;
  int ldy = 0;
  int n = 0, m = 0, k = 0;
};

/// The primitives of a device runtime D over buffers of type Buffer (see
/// the top of this file). GpuOps<D, Buffer> checks it, so a runtime that
/// misses one is told which; a runtime states it with
/// static_assert(accelbench::DeviceRuntime<MyRuntime, MyBuffer>).
template <class D, class Buffer>
concept DeviceRuntime =
    std::movable<Buffer> && std::default_initializable<Buffer> &&
    requires(D& d, Buffer& b, const Buffer& cb, void* out, const void* in, std::size_t bytes,
             const GemmArgs<Buffer>& gemm, const GpuRange& range) {
      { D::name } -> std::convertible_to<std::string_view>;
      { static_cast<bool>(cb) };
      { d.allocate(bytes) } -> std::same_as<Buffer>;
      d.write(b, in, bytes);
      d.read(cb, out, bytes);
      d.handle(cb);
      d.index_handle(cb);
      d.gemm_nt(gemm);
      d.template launch<GpuKernel::add>(range, d.handle(cb), d.handle(cb), std::int64_t{0});
    };

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
// ---- end accelbench/backend/device/runtime.hpp ----

namespace accelbench {

/// The ops of EncoderOps, GenerationOps and PerceptionOps, and the Backend
/// concept's transfers, written once over the primitives of Derived.
template <class Derived, class Buffer>
class GpuOps {
 public:
  using Tensor = GpuTensor<Buffer>;
  using IndexTensor = GpuIndices<Buffer>;

  // ---- transfers ----

  [[nodiscard]] Tensor upload(const HostMatrix& m) {
    Tensor t;
    ensure(t, static_cast<long>(m.rows()), static_cast<long>(m.cols()));
    if (m.size() > 0) d().write(t.buffer, m.data(), bytes(t));
    return t;
  }

  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) {
    IndexTensor t;
    ensure_indices(t, ids.size());
    if (!ids.empty()) d().write(t.buffer, ids.data(), ids.size() * sizeof(std::int32_t));
    t.host.assign(ids.begin(), ids.end());
    t.host_valid = true;
    return t;
  }

  [[nodiscard]] HostMatrix download(const Tensor& t) {
    HostMatrix m(t.rows(), t.cols());
    if (t.size() > 0) d().read(t.buffer, m.data(), bytes(t));
    return m;
  }

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) {
    if (ids.host_valid) return ids.host;
    std::vector<std::int32_t> out(ids.count);
    if (!out.empty()) d().read(ids.buffer, out.data(), out.size() * sizeof(std::int32_t));
    return out;
  }

  // ---- EncoderOps ----

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.cols() != w.cols()) {
      fail("linear", "input has " + std::to_string(x.cols()) + " columns, weight expects " + std::to_string(w.cols()));
    }
    if (!b.empty() && (b.rows() != 1 || b.cols() != w.rows())) {
      fail("linear", "bias must be [1, " + std::to_string(w.rows()) + "]");
    }
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, x.rows(), w.rows());
      gemm(x, w, 0, static_cast<int>(w.rows()), out, 0, static_cast<int>(x.rows()),
           static_cast<int>(x.cols()));
      if (!b.empty()) add_bias(out, 0, b, static_cast<int>(x.rows()), static_cast<int>(w.rows()));
    });
  }

  void add(const Tensor& x, Tensor& y) {
    same_shape("add", x, y);
    d().template launch<GpuKernel::add>(GpuRange::elements(y.size()), h(x), h(y), i64(y.size()));
  }

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
    if (gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("layer_norm", "gamma and beta must have " + std::to_string(x.cols()) + " elements");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(beta), h(y),
                                             int(x.cols()), eps, 0);
  }

  void gelu(Tensor& x) { activation(x, 0, 0.0f); }

  void softmax(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 0);
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionDims& dims,
                 Tensor& y) {
    attention(q, k, v, mask, Tensor{}, dims, y);
  }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& y) {
    if (ids.host_valid) {
      for (std::size_t i = 0; i < ids.host.size(); ++i) {
        if (ids.host[i] < 0 || ids.host[i] >= table.rows()) {
          throw std::out_of_range(std::string(Derived::name) + " embedding_lookup: id " +
                                  std::to_string(ids.host[i]) + " at position " + std::to_string(i) +
                                  " is outside the table's " + std::to_string(table.rows()) + " rows");
        }
      }
    }
    ensure(y, static_cast<long>(ids.count), table.cols());
    if (y.size() == 0) return;
    d().template launch<GpuKernel::embedding_lookup>(GpuRange::elements(y.size()), h(table), h(ids), h(y),
                                                     i64(y.size()), int(table.cols()), int(table.rows()));
  }

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& y) {
    const long batch = mask.rows();
    const long len = mask.cols();
    if (batch * len != x.rows()) {
      fail("masked_mean_pool", "mask [" + std::to_string(batch) + ", " + std::to_string(len) + "] does not cover " +
                                   std::to_string(x.rows()) + " rows");
    }
    with_output(y, &x == &y || &mask == &y, [&](Tensor& out) {
      ensure(out, batch, x.cols());
      if (out.size() == 0) return;
      d().template launch<GpuKernel::masked_mean_pool>(GpuRange::elements(out.size()), h(x), h(mask), h(out),
                                                       int(batch), int(len), int(x.cols()));
    });
  }

  // ---- GenerationOps ----

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& bias,
                 const AttentionDims& dims, Tensor& y) {
    const int heads = dims.heads;
    const int kv_heads = dims.effective_kv_heads();
    const int stride = dims.effective_key_stride();
    const int hd = dims.head_dim;
    if (dims.batch <= 0 || dims.query_len <= 0 || dims.key_len <= 0 || heads <= 0 || hd <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || stride < dims.key_len || (dims.causal && dims.query_len > dims.key_len) ||
        dims.window < 0 || (dims.window > 0 && !dims.causal)) {
      fail("attention", "invalid dimensions (batch " + std::to_string(dims.batch) + ", query_len " +
                            std::to_string(dims.query_len) + ", key_len " + std::to_string(dims.key_len) +
                            ", heads " + std::to_string(heads) + ", kv_heads " + std::to_string(kv_heads) +
                            ", head_dim " + std::to_string(hd) + ", key_stride " + std::to_string(stride) +
                            ", window " + std::to_string(dims.window) + ")");
    }
    if (q.rows() != long(dims.batch) * dims.query_len || q.cols() != long(heads) * hd) {
      fail("attention", "queries must be [batch * query_len, heads * head_dim]");
    }
    if (k.rows() != long(dims.batch) * stride || v.rows() != k.rows() || k.cols() != long(kv_heads) * hd ||
        v.cols() != k.cols()) {
      fail("attention", "keys and values must be [batch * key_stride, kv_heads * head_dim]");
    }
    if (!mask.empty() && (mask.rows() != dims.batch || mask.cols() != dims.key_len)) {
      fail("attention", "mask must be [batch, key_len]");
    }
    if (!bias.empty() && (bias.rows() != long(heads) * dims.query_len || bias.cols() != dims.key_len)) {
      fail("attention", "position bias must be [heads * query_len, key_len]");
    }
    const float scale = dims.scale != 0.0f ? dims.scale : 1.0f / std::sqrt(static_cast<float>(hd));
    const long groups = long(dims.batch) * heads * dims.query_len;
    ensure(scores_, groups, dims.key_len);
    with_output(y, &y == &q || &y == &k || &y == &v, [&](Tensor& out) {
      ensure(out, q.rows(), q.cols());
      d().template launch<GpuKernel::attention>(GpuRange::rows(groups), h(q), h(k), h(v), h(mask), int(!mask.empty()),
                                                h(bias), int(!bias.empty()), h(out), h(scores_), dims.query_len,
                                                dims.key_len, heads, hd, kv_heads, stride, int(dims.causal),
                                                dims.window, scale);
    });
  }

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
    if (gamma.size() != x.cols()) fail("rms_norm", "gamma must have " + std::to_string(x.cols()) + " elements");
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(Tensor{}), h(y),
                                             int(x.cols()), eps, 1);
  }

  void gelu_tanh(Tensor& x) { activation(x, 1, 0.0f); }
  void relu(Tensor& x) { activation(x, 2, 0.0f); }
  void silu(Tensor& x) { activation(x, 3, 0.0f); }
  void quick_gelu(Tensor& x) { activation(x, 4, 0.0f); }
  void scale(Tensor& x, float s) { activation(x, 5, s); }

  void swiglu(const Tensor& x, Tensor& y) { gated("swiglu", x, y, 0); }
  void geglu_tanh(const Tensor& x, Tensor& y) { gated("geglu_tanh", x, y, 1); }

  void rotary(Tensor& x, const RotaryDims& r) {
    if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
      fail("rotary", "head_dim must be even and every dimension positive");
    }
    if (x.rows() != long(r.batch) * r.len || x.cols() != long(r.heads) * r.head_dim) {
      fail("rotary", "input must be [batch * len, heads * head_dim]");
    }
    const RotaryTable& t = rotary_table(r, long(r.start) + r.len);
    const std::int64_t count = std::int64_t{x.rows()} * r.heads * (r.head_dim / 2);
    d().template launch<GpuKernel::rotary>(GpuRange::elements(count), h(x), h(t.cos), h(t.sin), i64(x.rows()), r.len,
                                           r.heads, r.head_dim, r.start);
  }

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
    if (start < 0 || len < 0 || long(start) + len > table.rows()) {
      throw std::out_of_range(std::string(Derived::name) + " add_positions: positions " + std::to_string(start) +
                              ".." + std::to_string(start + len - 1) + " are outside the table's " +
                              std::to_string(table.rows()) + " rows");
    }
    if (y.rows() != long(batch) * len || y.cols() != table.cols()) {
      fail("add_positions", "output must be [batch * len, " + std::to_string(table.cols()) + "]");
    }
    if (y.size() == 0) return;
    d().template launch<GpuKernel::add_positions>(GpuRange::elements(y.size()), h(table), h(y), start, len,
                                                  i64(y.size()), int(y.cols()));
  }

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
    if (x.rows() != long(c.batch) * c.len || cache.rows() != long(c.batch) * c.capacity || x.cols() != cache.cols()) {
      fail("cache_write", "new rows must be [batch * len, width] and the cache [batch * capacity, width]");
    }
    if (c.start < 0 || c.start + c.len > c.capacity) {
      throw std::out_of_range(std::string(Derived::name) + " cache_write: rows " + std::to_string(c.start) + ".." +
                              std::to_string(c.start + c.len - 1) + " are outside the capacity " +
                              std::to_string(c.capacity));
    }
    if (x.size() == 0) return;
    d().template launch<GpuKernel::cache_write>(GpuRange::elements(x.size()), h(x), h(cache), c.len, c.capacity,
                                                c.start, i64(x.size()), int(x.cols()));
  }

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& y) {
    if (table.rows() != r.num_buckets || r.query_len < 0 || r.key_len < 0 || r.query_start < 0) {
      fail("relative_position_bias", "table must be [num_buckets, heads] and lengths non-negative");
    }
    const int heads = static_cast<int>(table.cols());
    ensure(y, long(heads) * r.query_len, r.key_len);
    if (y.size() == 0) return;
    // One bucket per relative position, from -(query_start + query_len - 1) to key_len - 1.
    const int lowest = -(r.query_start + r.query_len - 1);
    std::vector<std::int32_t> buckets(static_cast<std::size_t>(r.key_len - lowest));
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      buckets[i] = t5_relative_bucket(lowest + static_cast<int>(i), r.bidirectional, r.num_buckets, r.max_distance);
    }
    ensure_indices(buckets_, buckets.size());
    d().write(buckets_.buffer, buckets.data(), buckets.size() * sizeof(std::int32_t));
    d().template launch<GpuKernel::relative_bias>(GpuRange::elements(y.size()), h(table), h(buckets_), h(y), heads,
                                                  r.query_len, r.key_len, r.query_start);
  }

  void argmax_rows(const Tensor& x, IndexTensor& ids) {
    if (x.cols() <= 0) fail("argmax_rows", "input has no columns");
    ensure_indices(ids, static_cast<std::size_t>(x.rows()));
    ids.host_valid = false;
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::argmax_rows>(GpuRange::rows(x.rows()), h(x), h(ids), int(x.cols()));
  }

  // ---- PerceptionOps ----

  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.channels <= 0 || c.height <= 0 || c.width <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.height + 2 * c.padding < c.kernel || c.width + 2 * c.padding < c.kernel) {
      fail("conv2d", "invalid dimensions");
    }
    const long k = long(c.channels) * c.kernel * c.kernel;
    if (x.rows() != c.batch || x.cols() != long(c.channels) * c.height * c.width) {
      fail("conv2d", "input must be [batch, channels * height * width]");
    }
    if (w.rows() != c.out_channels || w.cols() != k) fail("conv2d", "weight must be [out, channels * kernel * kernel]");
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv2d", "bias must be [1, out]");
    const long positions = long(c.batch) * c.out_height() * c.out_width();
    ensure(columns_, positions, k);
    d().template launch<GpuKernel::im2col_2d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.channels,
                                              c.height, c.width, c.kernel, c.stride, c.padding, c.out_height(),
                                              c.out_width(), i64(columns_.size()));
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, positions, c.out_channels);
      gemm(columns_, w, 0, c.out_channels, out, 0, int(positions), int(k));
      if (!b.empty()) add_bias(out, 0, b, int(positions), c.out_channels);
    });
  }

  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.length <= 0 || c.in_channels <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.groups <= 0 || c.in_channels % c.groups != 0 ||
        c.out_channels % c.groups != 0 || c.length + 2 * c.padding < c.kernel) {
      fail("conv1d", "invalid dimensions");
    }
    const int group_in = c.in_channels / c.groups;
    const int group_out = c.out_channels / c.groups;
    if (x.rows() != long(c.batch) * c.length || x.cols() != c.in_channels) {
      fail("conv1d", "input must be [batch * length, in_channels]");
    }
    if (w.rows() != c.out_channels || w.cols() != long(group_in) * c.kernel) {
      fail("conv1d", "weight must be [out, in / groups * kernel]");
    }
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv1d", "bias must be [1, out]");
    const long rows = long(c.batch) * c.out_length();
    const long k = long(group_in) * c.kernel;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, rows, c.out_channels);
      ensure(columns_, rows, k);
      for (int g = 0; g < c.groups; ++g) {
        d().template launch<GpuKernel::im2col_1d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.length,
                                                  c.in_channels, group_in, g, c.kernel, c.stride, c.padding,
                                                  c.out_length(), i64(columns_.size()));
        gemm(columns_, w, std::int64_t{g} * group_out * k, group_out, out, std::int64_t{g} * group_out, int(rows), int(k),
             c.out_channels);
      }
      if (!b.empty()) add_bias(out, 0, b, int(rows), c.out_channels);
    });
  }

  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& g, float eps,
                  Tensor& y) {
    if (g.batch <= 0 || g.length <= 0 || g.groups <= 0 || x.rows() != long(g.batch) * g.length ||
        x.cols() % g.groups != 0 || gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("group_norm", "input must be [batch * length, channels] with channels a multiple of groups");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    d().template launch<GpuKernel::group_norm>(GpuRange::rows(std::int64_t{g.batch} * g.groups), h(x), h(gamma),
                                               h(beta), h(y), g.length, int(x.cols()), g.groups, eps);
  }

  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
    if (batch <= 0 || x.rows() % batch != 0 || row.rows() != 1 || row.cols() != x.cols()) {
      fail("prepend_row", "x must be [batch * n, width] and the row [1, width]");
    }
    const long n = x.rows() / batch;
    with_output(y, &x == &y || &row == &y, [&](Tensor& out) {
      ensure(out, long(batch) * (n + 1), x.cols());
      d().template launch<GpuKernel::prepend_row>(GpuRange::elements(out.size()), h(x), h(row), h(out), int(n),
                                                  i64(out.size()), int(x.cols()));
    });
  }

  void normalize_rows(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 1);
  }

 protected:
  /// Resizes t, reallocating only when it needs more room than it has.
  void ensure(Tensor& t, long rows, long cols) {
    const auto n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(float));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.rows_ = rows;
    t.cols_ = cols;
  }

  void ensure_indices(IndexTensor& t, std::size_t n) {
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(std::int32_t));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.count = n;
  }

 private:
  struct RotaryTable {
    RotaryDims frequencies;  // theta, head_dim and the scaling
    Tensor cos, sin;
  };

  Derived& d() {
    static_assert(DeviceRuntime<Derived, Buffer>,
                  "GpuOps<Derived, Buffer>: Derived must provide the primitives of DeviceRuntime (allocate, write, "
                  "read, handle, index_handle, launch<GpuKernel>, gemm_nt; see backend/device/runtime.hpp); the "
                  "notes below name the one that is missing");
    return static_cast<Derived&>(*this);
  }
  static std::size_t bytes(const Tensor& t) { return static_cast<std::size_t>(t.size()) * sizeof(float); }
  static std::int64_t i64(long v) { return static_cast<std::int64_t>(v); }
  auto h(const Tensor& t) { return d().handle(t.buffer); }
  auto h(const IndexTensor& t) { return d().index_handle(t.buffer); }

  [[noreturn]] static void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(Derived::name) + " " + op + ": " + what);
  }
  static void same_shape(const char* op, const Tensor& a, const Tensor& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      fail(op, "shapes differ: [" + std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + "] and [" +
                   std::to_string(b.rows()) + ", " + std::to_string(b.cols()) + "]");
    }
  }

  /// Runs f on y, or on a fresh tensor moved into y afterwards when y is
  /// also an input of the op.
  template <class F>
  void with_output(Tensor& y, bool aliased, F&& f) {
    if (!aliased) {
      f(y);
      return;
    }
    Tensor fresh;
    f(fresh);
    y = std::move(fresh);
  }

  void activation(Tensor& x, int kind, float s) {
    if (x.size() == 0) return;
    d().template launch<GpuKernel::activation>(GpuRange::elements(x.size()), h(x), i64(x.size()), kind, s);
  }

  /// y = act(x[:, :i]) * x[:, i:] for x [n, 2i]: act SiLU (kind 0) or tanh GELU (kind 1).
  void gated(const char* op, const Tensor& x, Tensor& y, int kind) {
    if (x.cols() % 2 != 0) fail(op, "input width " + std::to_string(x.cols()) + " is odd");
    const long half = x.cols() / 2;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, x.rows(), half);
      if (out.size() == 0) return;
      d().template launch<GpuKernel::gated>(GpuRange::elements(out.size()), h(x), h(out), i64(x.rows()), int(half), kind);
    });
  }

  /// y[:, yoff..] = x wᵀ with w's rows from element woff: x [n, k], m rows of w.
  void gemm(const Tensor& x, const Tensor& w, std::int64_t woff, int m, Tensor& y, std::int64_t yoff, int n, int k,
            int ldy = 0) {
    GemmArgs<Buffer> g;
    g.x = &x.buffer;
    g.xoff = 0;
    g.ldx = k;
    g.w = &w.buffer;
    g.woff = woff;
    g.ldw = k;
    g.y = &y.buffer;
    g.yoff = yoff;
    g.ldy = ldy > 0 ? ldy : m;
    g.n = n;
    g.m = m;
    g.k = k;
    if (n > 0 && m > 0) d().gemm_nt(g);
  }

  void add_bias(Tensor& y, std::int64_t yoff, const Tensor& b, int n, int m) {
    if (n <= 0 || m <= 0) return;
    d().template launch<GpuKernel::add_bias>(GpuRange::elements(std::int64_t{n} * m), h(y), yoff, m, h(b), n, m);
  }

  const RotaryTable& rotary_table(const RotaryDims& r, long positions) {
    for (const auto& t : rotary_) {
      if (same_rotary_frequencies(t.frequencies, r) && t.cos.rows() >= positions) return t;
    }
    const auto angles = detail::rotary_angles(rotary_inv_freqs(r), std::max<long>(positions, 256));
    RotaryTable t{r, upload(angles.cos), upload(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return same_rotary_frequencies(old.frequencies, r); });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  Tensor scores_;    // attention's scores, [groups, key_len]
  Tensor columns_;   // im2col of the convolutions
  IndexTensor buckets_;  // relative_position_bias's buckets
  std::vector<RotaryTable> rotary_;
};

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP
// ---- end accelbench/backend/device/gpu_ops.hpp ----
// ---- begin accelbench/backend/opencl/devices.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP

// The OpenCL platforms and devices of this machine, through the ICD loader
// (libOpenCL.so.1) opened at run time: `accelbench check`'s OpenCL section
// and the OpenCL backend's describe_devices(). It needs neither the OpenCL
// link target nor a device, only <CL/cl.h> where it is installed (without
// it, the section says so), and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/detail/dynamic_library.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP

// Opening a shared library at run time (dlopen) and finding its functions,
// so that code can use a vendor's driver where one is installed and say why
// not where it is missing, without linking against it.

#include <string>
#include <vector>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define ACCELBENCH_HAS_DLOPEN 1
#endif

namespace accelbench::detail {

/// A shared library opened with dlopen. It stays loaded for the life of the
/// process, on purpose: GPU drivers start threads and register exit handlers
/// whose code must not be unmapped while the program runs.
class DynamicLibrary {
 public:
  /// Opens the first of `names` that loads; when none does, error() says why
  /// for each of them.
  explicit DynamicLibrary(const std::vector<std::string>& names) {
#if defined(ACCELBENCH_HAS_DLOPEN)
    for (const auto& n : names) {
      handle_ = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_ != nullptr) {
        name_ = n;
        error_.clear();
        return;
      }
      const char* why = dlerror();
      error_ += (error_.empty() ? "" : "; ") + (why != nullptr ? std::string(why) : n + ": cannot be opened");
    }
    if (names.empty()) error_ = "no library name given";
#else
    (void)names;
    error_ = "loading libraries at run time is not supported on this system";
#endif
  }

  [[nodiscard]] explicit operator bool() const noexcept { return handle_ != nullptr; }
  /// The name that was opened; "" when none was.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Why no library was opened; "" when one was.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  /// The function `symbol` as a pointer of type F, or nullptr when the
  /// library does not export it.
  template <class F>
  [[nodiscard]] F function(const char* symbol) const noexcept {
#if defined(ACCELBENCH_HAS_DLOPEN)
    if (handle_ == nullptr) return nullptr;
    return reinterpret_cast<F>(dlsym(handle_, symbol));
#else
    (void)symbol;
    return nullptr;
#endif
  }

 private:
  void* handle_ = nullptr;
  std::string name_;
  std::string error_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
// ---- end accelbench/detail/dynamic_library.hpp ----

#if __has_include(<CL/cl.h>)
#if !defined(CL_TARGET_OPENCL_VERSION)
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#define ACCELBENCH_HAS_OPENCL_HEADERS 1
#endif

namespace accelbench {

struct OpenClDeviceInfo {
  std::string name;
  std::string vendor;
  std::string type;  ///< "cpu", "gpu", "accelerator", "custom", joined by '+' when several
  std::string version;
  std::string driver_version;
  std::string opencl_c_version;
  int compute_units = 0;
  int max_clock_mhz = 0;
  std::uint64_t global_memory_bytes = 0;
  std::uint64_t local_memory_bytes = 0;
  std::uint64_t max_work_group_size = 0;
  bool fp64 = false;  ///< cl_khr_fp64 among the extensions
  bool fp16 = false;  ///< cl_khr_fp16 among the extensions
  friend bool operator==(const OpenClDeviceInfo&, const OpenClDeviceInfo&) = default;
};

struct OpenClPlatformInfo {
  std::string name;
  std::string vendor;
  std::string version;
  std::vector<OpenClDeviceInfo> devices;
  std::string error;  ///< why its devices could not be listed; "" when they could
  friend bool operator==(const OpenClPlatformInfo&, const OpenClPlatformInfo&) = default;
};

struct OpenClHardware {
  bool available = false;  ///< at least one device
  std::string reason;      ///< why not, when not available
  std::string library;     ///< the ICD loader that was opened
  std::vector<OpenClPlatformInfo> platforms;
  friend bool operator==(const OpenClHardware&, const OpenClHardware&) = default;
};

namespace detail {

/// The name of an OpenCL error code, and what it means where that helps.
inline std::string opencl_error_text(int code) {
  switch (code) {
    case -1: return "CL_DEVICE_NOT_FOUND: no device of the requested type";
    case -2: return "CL_DEVICE_NOT_AVAILABLE";
    case -5: return "CL_OUT_OF_RESOURCES";
    case -6: return "CL_OUT_OF_HOST_MEMORY";
    case -30: return "CL_INVALID_VALUE";
    case -32: return "CL_INVALID_PLATFORM";
    case -33: return "CL_INVALID_DEVICE";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR: no OpenCL platform (ICD) installed";
    default: return "unknown OpenCL error";
  }
}

inline std::string opencl_call_error(std::string_view call, int code) {
  const std::string text = opencl_error_text(code);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, code, text);
  return fmt::format("{} returned {} ({}):{}", call, code, text.substr(0, colon), text.substr(colon + 1));
}

inline std::vector<std::string> opencl_library_names() {
#if defined(_WIN32)
  return {"OpenCL.dll"};
#elif defined(__APPLE__)
  return {"/System/Library/Frameworks/OpenCL.framework/OpenCL", "libOpenCL.dylib"};
#else
  return {"libOpenCL.so.1", "libOpenCL.so"};
#endif
}

#if defined(ACCELBENCH_HAS_OPENCL_HEADERS)

struct OpenClApi {
  using GetPlatformIDs = cl_int(CL_API_CALL*)(cl_uint, cl_platform_id*, cl_uint*);
  using GetPlatformInfo = cl_int(CL_API_CALL*)(cl_platform_id, cl_platform_info, std::size_t, void*, std::size_t*);
  using GetDeviceIDs = cl_int(CL_API_CALL*)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
  using GetDeviceInfo = cl_int(CL_API_CALL*)(cl_device_id, cl_device_info, std::size_t, void*, std::size_t*);
  GetPlatformIDs get_platform_ids = nullptr;
  GetPlatformInfo get_platform_info = nullptr;
  GetDeviceIDs get_device_ids = nullptr;
  GetDeviceInfo get_device_info = nullptr;

  template <class Handle, class Param, class Get>
  static std::string text(Get get, Handle h, Param p) {
    std::size_t size = 0;
    if (get(h, p, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
    std::string s(size, '\0');
    if (get(h, p, size, s.data(), nullptr) != CL_SUCCESS) return {};
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return trim(s);
  }
  template <class T>
  T device_value(cl_device_id d, cl_device_info p) const {
    T v{};
    if (get_device_info(d, p, sizeof v, &v, nullptr) != CL_SUCCESS) return T{};
    return v;
  }
};

inline std::string opencl_device_type(cl_device_type t) {
  std::string out;
  const auto add = [&](cl_device_type bit, const char* name) {
    if ((t & bit) != 0) out += (out.empty() ? "" : "+") + std::string(name);
  };
  add(CL_DEVICE_TYPE_CPU, "cpu");
  add(CL_DEVICE_TYPE_GPU, "gpu");
  add(CL_DEVICE_TYPE_ACCELERATOR, "accelerator");
#if defined(CL_DEVICE_TYPE_CUSTOM)
  add(CL_DEVICE_TYPE_CUSTOM, "custom");
#endif
  return out.empty() ? "unknown" : out;
}

inline OpenClDeviceInfo describe_opencl_device(const OpenClApi& api, cl_device_id id) {
  OpenClDeviceInfo d;
  d.name = OpenClApi::text(api.get_device_info, id, CL_DEVICE_NAME);
  d.vendor = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VENDOR);
  d.version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VERSION);
  d.driver_version = OpenClApi::text(api.get_device_info, id, CL_DRIVER_VERSION);
  d.opencl_c_version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_OPENCL_C_VERSION);
  d.type = opencl_device_type(api.device_value<cl_device_type>(id, CL_DEVICE_TYPE));
  d.compute_units = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS));
  d.max_clock_mhz = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_CLOCK_FREQUENCY));
  d.global_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  d.local_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_LOCAL_MEM_SIZE);
  d.max_work_group_size = api.device_value<std::size_t>(id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
  std::istringstream extensions(OpenClApi::text(api.get_device_info, id, CL_DEVICE_EXTENSIONS));
  std::string e;
  while (extensions >> e) {
    if (e == "cl_khr_fp64") d.fp64 = true;
    if (e == "cl_khr_fp16") d.fp16 = true;
  }
  return d;
}

#endif  // ACCELBENCH_HAS_OPENCL_HEADERS

/// detect_opencl() with the loader looked for under `libraries`, in order.
inline OpenClHardware detect_opencl_from(const std::vector<std::string>& libraries) {
  OpenClHardware cl;
#if !defined(ACCELBENCH_HAS_OPENCL_HEADERS)
  (void)libraries;
  cl.reason = "built without OpenCL headers (<CL/cl.h> was not found when this program was compiled)";
  return cl;
#else
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cl.reason = "OpenCL ICD loader not found (" + lib.error() + ")";
    return cl;
  }
  cl.library = lib.name();
  OpenClApi api;
  api.get_platform_ids = lib.function<OpenClApi::GetPlatformIDs>("clGetPlatformIDs");
  api.get_platform_info = lib.function<OpenClApi::GetPlatformInfo>("clGetPlatformInfo");
  api.get_device_ids = lib.function<OpenClApi::GetDeviceIDs>("clGetDeviceIDs");
  api.get_device_info = lib.function<OpenClApi::GetDeviceInfo>("clGetDeviceInfo");
  if (api.get_platform_ids == nullptr || api.get_platform_info == nullptr || api.get_device_ids == nullptr ||
      api.get_device_info == nullptr) {
    cl.reason = lib.name() + " lacks clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs or clGetDeviceInfo";
    return cl;
  }
  cl_uint count = 0;
  if (const cl_int rc = api.get_platform_ids(0, nullptr, &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  if (count == 0) {
    cl.reason = "no OpenCL platform (ICD) installed: clGetPlatformIDs found none";
    return cl;
  }
  std::vector<cl_platform_id> platforms(count);
  if (const cl_int rc = api.get_platform_ids(count, platforms.data(), &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  platforms.resize(count);
  std::size_t devices_found = 0;
  for (const auto p : platforms) {
    OpenClPlatformInfo platform;
    platform.name = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_NAME);
    platform.vendor = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VENDOR);
    platform.version = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VERSION);
    cl_uint n = 0;
    cl_int rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n);
    std::vector<cl_device_id> ids;
    if (rc == CL_SUCCESS && n > 0) {
      ids.resize(n);
      rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, n, ids.data(), &n);
      ids.resize(rc == CL_SUCCESS ? n : 0);
    }
    if (rc != CL_SUCCESS) {
      platform.error = opencl_call_error("clGetDeviceIDs", rc);
    } else if (ids.empty()) {
      platform.error = "the platform has no device";
    }
    for (const auto id : ids) platform.devices.push_back(describe_opencl_device(api, id));
    devices_found += platform.devices.size();
    cl.platforms.push_back(std::move(platform));
  }
  cl.available = devices_found > 0;
  if (!cl.available) {
    cl.reason = fmt::format("{} OpenCL platform{} but no device", cl.platforms.size(),
                            cl.platforms.size() == 1 ? "" : "s");
  }
  return cl;
#endif
}

}  // namespace detail

/// Every OpenCL platform and its devices, through the ICD loader
/// (libOpenCL.so.1) opened at run time; `available` is false, with the
/// reason, when there is no loader, no platform or no device.
[[nodiscard]] inline OpenClHardware detect_opencl() {
  return detail::detect_opencl_from(detail::opencl_library_names());
}

/// The OpenCL section's lines (without its "OpenCL" heading).
[[nodiscard]] inline std::string format_opencl_hardware(const OpenClHardware& cl) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cl.library.empty()) hardware_line(out, 2, "loader", cl.library);
  for (std::size_t p = 0; p < cl.platforms.size(); ++p) {
    const auto& platform = cl.platforms[p];
    hardware_line(out, 2, fmt::format("platform {}", p),
                  fmt::format("{} ({}), {}", platform.name, platform.vendor, platform.version));
    if (!platform.error.empty()) hardware_line(out, 4, "devices", "none: " + platform.error);
    for (std::size_t i = 0; i < platform.devices.size(); ++i) {
      const auto& d = platform.devices[i];
      hardware_line(out, 4, fmt::format("device {}", i), d.name);
      hardware_line(out, 6, "type", d.type);
      hardware_line(out, 6, "vendor", d.vendor);
      hardware_line(out, 6, "version", d.version);
      hardware_line(out, 6, "driver", d.driver_version);
      hardware_line(out, 6, "OpenCL C", d.opencl_c_version);
      hardware_line(out, 6, "compute units", std::to_string(d.compute_units));
      hardware_line(out, 6, "max clock", fmt::format("{} MHz", d.max_clock_mhz));
      hardware_line(out, 6, "global memory", binary_size(d.global_memory_bytes));
      hardware_line(out, 6, "local memory", binary_size(d.local_memory_bytes));
      hardware_line(out, 6, "max work-group", std::to_string(d.max_work_group_size));
      hardware_line(out, 6, "fp64, fp16", fmt::format("{}, {}", d.fp64 ? "yes" : "no", d.fp16 ? "yes" : "no"));
    }
  }
  if (!cl.available) hardware_line(out, 2, "not available", cl.reason);
  return out;
}

/// The OpenCL section as JSON; unknown values are null.
/// opencl_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const OpenClHardware& cl) {
  using detail::optional_text;
  Json platforms = Json::array();
  for (const auto& p : cl.platforms) {
    Json devices = Json::array();
    for (const auto& d : p.devices) {
      devices.push_back(Json{{"name", d.name},
                             {"vendor", d.vendor},
                             {"type", d.type},
                             {"version", d.version},
                             {"driver_version", d.driver_version},
                             {"opencl_c_version", d.opencl_c_version},
                             {"compute_units", d.compute_units},
                             {"max_clock_mhz", d.max_clock_mhz},
                             {"global_memory_bytes", d.global_memory_bytes},
                             {"local_memory_bytes", d.local_memory_bytes},
                             {"max_work_group_size", d.max_work_group_size},
                             {"fp64", d.fp64},
                             {"fp16", d.fp16}});
    }
    platforms.push_back(Json{{"name", p.name},
                             {"vendor", p.vendor},
                             {"version", p.version},
                             {"error", optional_text(p.error)},
                             {"devices", devices}});
  }
  return Json{{"available", cl.available},
              {"reason", optional_text(cl.reason)},
              {"library", optional_text(cl.library)},
              {"platforms", platforms}};
}

/// An OpenCL section from its JSON form (to_json's).
[[nodiscard]] inline OpenClHardware opencl_hardware_from_json(const Json& cl) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  OpenClHardware opencl;
  opencl.available = cl.value("available", false);
  opencl.reason = hardware_json_text(cl, "reason");
  opencl.library = hardware_json_text(cl, "library");
  for (const auto& p : cl.value("platforms", Json::array())) {
    OpenClPlatformInfo platform{.name = hardware_json_text(p, "name"),
                            .vendor = hardware_json_text(p, "vendor"),
                            .version = hardware_json_text(p, "version"),
                            .devices = {},
                            .error = hardware_json_text(p, "error")};
    for (const auto& d : p.value("devices", Json::array())) {
      platform.devices.push_back(OpenClDeviceInfo{.name = hardware_json_text(d, "name"),
                                              .vendor = hardware_json_text(d, "vendor"),
                                              .type = hardware_json_text(d, "type"),
                                              .version = hardware_json_text(d, "version"),
                                              .driver_version = hardware_json_text(d, "driver_version"),
                                              .opencl_c_version = hardware_json_text(d, "opencl_c_version"),
                                              .compute_units = hardware_json_number<int>(d, "compute_units"),
                                              .max_clock_mhz = hardware_json_number<int>(d, "max_clock_mhz"),
                                              .global_memory_bytes = hardware_json_number<std::uint64_t>(d, "global_memory_bytes"),
                                              .local_memory_bytes = hardware_json_number<std::uint64_t>(d, "local_memory_bytes"),
                                              .max_work_group_size = hardware_json_number<std::uint64_t>(d, "max_work_group_size"),
                                              .fp64 = d.value("fp64", false),
                                              .fp16 = d.value("fp16", false)});
    }
    opencl.platforms.push_back(std::move(platform));
  }
  return opencl;
}

/// The OpenCL section of `accelbench check` (the OpenCL backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_opencl_devices() {
  const OpenClHardware cl = detect_opencl();
  return DeviceReport{.title = "OpenCL",
                      .key = "opencl",
                      .available = cl.available,
                      .reason = cl.reason,
                      .text = format_opencl_hardware(cl),
                      .json = to_json(cl)};
}

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP
// ---- end accelbench/backend/opencl/devices.hpp ----

namespace accelbench {

class OpenCLEventTimer;

class OpenCL : public GpuOps<OpenCL, detail::OpenClBuffer> {
  using Base = GpuOps<OpenCL, detail::OpenClBuffer>;
  friend Base;

 public:
  using Tensor = Base::Tensor;
  using IndexTensor = Base::IndexTensor;
  using DefaultTimer = OpenCLEventTimer;

  static constexpr std::string_view name = "opencl";

  struct Options {
    std::string platform{};  ///< index or part of the name; empty: ACCELBENCH_OPENCL_DEVICE, then the default
    std::string device{};    ///< index or part of the name (or "gpu", "cpu")
  };

  /// The device of ACCELBENCH_OPENCL_DEVICE, else the default. Without one
  /// the object is made all the same (available() says why) and its
  /// operations throw that reason, so that a Benchmark can report the
  /// backend unavailable.
  OpenCL() {
    try {
      open(detail::select_opencl_device({}, {}));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  /// The device `options` names; throws when there is none.
  explicit OpenCL(const Options& options) { open(detail::select_opencl_device(options.platform, options.device)); }

  OpenCL(OpenCL&& o) noexcept
      : Base(std::move(o)),
        device_(std::move(o.device_)),
        queue_(std::exchange(o.queue_, nullptr)),
        kernels_(std::exchange(o.kernels_, {})),
        error_(std::move(o.error_)) {}
  OpenCL& operator=(OpenCL&& o) noexcept {
    if (this != &o) {
      release();
      Base::operator=(std::move(o));
      device_ = std::move(o.device_);
      queue_ = std::exchange(o.queue_, nullptr);
      kernels_ = std::exchange(o.kernels_, {});
      error_ = std::move(o.error_);
    }
    return *this;
  }
  OpenCL(const OpenCL&) = delete;
  OpenCL& operator=(const OpenCL&) = delete;
  ~OpenCL() { release(); }

  /// Whether a device can be selected (as the default constructor would).
  [[nodiscard]] static Availability available() {
    try {
      (void)detail::select_opencl_device({}, {});
      return Availability::yes();
    } catch (const std::exception& e) {
      return Availability::no(e.what());
    }
  }

  [[nodiscard]] DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    if (!device_) return d;
    const cl_device_id dev = device_->location.device_id;
    d.name = detail::cl_device_string(dev, CL_DEVICE_NAME);
    const auto type = detail::cl_device_value<cl_device_type>(dev, CL_DEVICE_TYPE);
    d.kind = (type & CL_DEVICE_TYPE_GPU) ? "gpu" : (type & CL_DEVICE_TYPE_CPU) ? "cpu" : "accelerator";
    d.compute_units = static_cast<int>(detail::cl_device_value<cl_uint>(dev, CL_DEVICE_MAX_COMPUTE_UNITS));
    d.memory_bytes = detail::cl_device_value<cl_ulong>(dev, CL_DEVICE_GLOBAL_MEM_SIZE);
    const std::string ext = detail::cl_device_string(dev, CL_DEVICE_EXTENSIONS);
    if (ext.find("cl_khr_fp64") != std::string::npos) d.features.emplace_back("fp64");
    if (ext.find("cl_khr_fp16") != std::string::npos) d.features.emplace_back("fp16");
    d.properties.emplace_back("platform", detail::cl_platform_string(device_->location.platform_id, CL_PLATFORM_NAME));
    d.properties.emplace_back("platform_version",
                              detail::cl_platform_string(device_->location.platform_id, CL_PLATFORM_VERSION));
    d.properties.emplace_back("vendor", detail::cl_device_string(dev, CL_DEVICE_VENDOR));
    d.properties.emplace_back("device_version", detail::cl_device_string(dev, CL_DEVICE_VERSION));
    d.properties.emplace_back("driver_version", detail::cl_device_string(dev, CL_DRIVER_VERSION));
    d.properties.emplace_back("location", device_key());
    d.properties.emplace_back("max_work_group_size",
                              std::to_string(detail::cl_device_value<std::size_t>(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE)));
    d.properties.emplace_back("local_memory_bytes",
                              std::to_string(detail::cl_device_value<cl_ulong>(dev, CL_DEVICE_LOCAL_MEM_SIZE)));
    d.properties.emplace_back("kernel_compile_s", std::to_string(device_->compile_seconds));
    return d;
  }

  /// The OpenCL section of `accelbench check`: every platform and device,
  /// through the ICD loader, whether or not this backend can open one.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_opencl_devices(); }

  /// The device's platform and index: objects on the same device share
  /// one context, so they may share loaded models.
  [[nodiscard]] std::string device_key() const {
    if (!device_) return "none";
    return std::to_string(device_->location.platform) + ":" + std::to_string(device_->location.device);
  }

  void synchronize() {
    (void)dev();
    detail::cl_check(clFinish(queue_), "clFinish");
  }

  /// Device memory held by every OpenCL object on this device (buffers
  /// allocated through the backend; the driver's own use is not counted).
  [[nodiscard]] DeviceMemory device_memory() const {
    if (!device_) return {};
    DeviceMemory m = device_->memory();
    m.total_bytes = detail::cl_device_value<cl_ulong>(device_->location.device_id, CL_DEVICE_GLOBAL_MEM_SIZE);
    return m;
  }
  /// Starts a new peak and mean (the Benchmark calls it at each cell's start).
  void reset_device_memory() {
    if (device_) device_->reset();
  }

  [[nodiscard]] cl_command_queue queue() const noexcept { return queue_; }

 private:
  friend class OpenCLEventTimer;

  void open(const detail::OpenClLocation& location) {
    device_ = detail::OpenClDevice::get(location);
    cl_int e = CL_SUCCESS;
    queue_ = clCreateCommandQueue(device_->context, location.device_id, CL_QUEUE_PROFILING_ENABLE, &e);
    detail::cl_check(e, "clCreateCommandQueue");
    for (int k = 0; k < gpu_kernel_count; ++k) {
      kernels_[std::size_t(k)] = clCreateKernel(device_->program, gpu_kernel_names[k], &e);
      detail::cl_check(e, gpu_kernel_names[k]);
    }
    const auto max_group = detail::cl_device_value<std::size_t>(location.device_id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    if (max_group < std::size_t(gpu_row_group) || max_group < std::size_t(gpu_tile * gpu_tile)) {
      release();
      throw std::runtime_error("opencl: the device's work-groups hold " + std::to_string(max_group) +
                               " work-items; the kernels need 256");
    }
  }

  /// The device, or the reason there is none.
  const detail::OpenClDevice& dev() const {
    if (!device_ || queue_ == nullptr) throw std::runtime_error("opencl: no device: " + error_);
    return *device_;
  }

 public:
  // ---- the device runtime (DeviceRuntime), on which GpuOps builds every op ----

  detail::OpenClBuffer allocate(std::size_t bytes) {
    cl_int e = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(dev().context, CL_MEM_READ_WRITE, bytes, nullptr, &e);
    detail::cl_check(e, ("clCreateBuffer of " + std::to_string(bytes) + " bytes").c_str());
    return detail::OpenClBuffer(mem, bytes, device_);
  }
  void write(detail::OpenClBuffer& b, const void* data, std::size_t bytes) {
    detail::cl_check(clEnqueueWriteBuffer(queue_, b.get(), CL_TRUE, 0, bytes, data, 0, nullptr, nullptr),
                     "clEnqueueWriteBuffer");
  }
  void read(const detail::OpenClBuffer& b, void* data, std::size_t bytes) {
    detail::cl_check(clEnqueueReadBuffer(queue_, b.get(), CL_TRUE, 0, bytes, data, 0, nullptr, nullptr),
                     "clEnqueueReadBuffer");
  }
  static cl_mem handle(const detail::OpenClBuffer& b) noexcept { return b.get(); }
  static cl_mem index_handle(const detail::OpenClBuffer& b) noexcept { return b.get(); }

  template <GpuKernel K, class... A>
  void launch(const GpuRange& range, A... args) {
    (void)dev();
    cl_kernel kernel = kernels_[static_cast<std::size_t>(K)];
    cl_uint index = 0;
    (set_arg(kernel, index++, args), ...);
    const std::size_t global[2] = {range.global0, range.global1};
    const std::size_t local[2] = {range.local0, range.local1};
    const cl_uint dims = (range.global1 > 1 || range.local1 > 1) ? 2 : 1;
    const cl_int e = clEnqueueNDRangeKernel(queue_, kernel, dims, nullptr, global, local, 0, nullptr, nullptr);
    if (e != CL_SUCCESS) {
      detail::cl_check(e, (std::string("clEnqueueNDRangeKernel(") + gpu_kernel_names[static_cast<int>(K)] + ")").c_str());
    }
  }

 private:
  template <class A>
  static void set_arg(cl_kernel kernel, cl_uint index, const A& value) {
    static_assert(std::is_same_v<A, cl_mem> || std::is_same_v<A, int> || std::is_same_v<A, std::int64_t> ||
                      std::is_same_v<A, float>,
                  "kernel arguments are buffers, int, std::int64_t (long) or float");
    detail::cl_check(clSetKernelArg(kernel, index, sizeof(A), &value), "clSetKernelArg");
  }

 public:
  void gemm_nt(const GemmArgs<detail::OpenClBuffer>& g) {
    if (g.n <= 8) {
      launch<GpuKernel::matmul_nt_few>(GpuRange::elements(g.m), g.x->get(), g.xoff, g.ldx, g.w->get(),
                                               g.woff, g.ldw, g.y->get(), g.yoff, g.ldy, g.n, g.m, g.k);
      return;
    }
    constexpr std::size_t ts = gpu_tile;
    constexpr std::size_t tile = 4 * ts;  // outputs per group and dimension
    const GpuRange range{(std::size_t(g.m) + tile - 1) / tile * ts, (std::size_t(g.n) + tile - 1) / tile * ts,
                                 ts, ts};
    launch<GpuKernel::matmul_nt>(range, g.x->get(), g.xoff, g.ldx, g.w->get(), g.woff, g.ldw, g.y->get(),
                                         g.yoff, g.ldy, g.n, g.m, g.k);
  }

 private:
  void release() noexcept {
    for (auto& k : kernels_) {
      if (k != nullptr) clReleaseKernel(k);
      k = nullptr;
    }
    if (queue_ != nullptr) clReleaseCommandQueue(queue_);
    queue_ = nullptr;
  }

  std::shared_ptr<detail::OpenClDevice> device_;
  cl_command_queue queue_ = nullptr;
  std::array<cl_kernel, gpu_kernel_count> kernels_{};
  std::string error_;
};

static_assert(DeviceRuntime<OpenCL, detail::OpenClBuffer>);

/// Timer policy from OpenCL profiling events: markers enqueued at start()
/// and stop() on the backend's queue; the time between their completions on
/// the device, in seconds.
class OpenCLEventTimer {
 public:
  static constexpr std::string_view name = "opencl_events";

  explicit OpenCLEventTimer(OpenCL& backend) : queue_(backend.queue()) {}
  OpenCLEventTimer(OpenCLEventTimer&& o) noexcept
      : queue_(o.queue_), start_(std::exchange(o.start_, nullptr)) {}
  OpenCLEventTimer& operator=(OpenCLEventTimer&& o) noexcept {
    if (this != &o) {
      release();
      queue_ = o.queue_;
      start_ = std::exchange(o.start_, nullptr);
    }
    return *this;
  }
  OpenCLEventTimer(const OpenCLEventTimer&) = delete;
  OpenCLEventTimer& operator=(const OpenCLEventTimer&) = delete;
  ~OpenCLEventTimer() { release(); }

  void start() {
    release();
    detail::cl_check(clEnqueueMarkerWithWaitList(queue_, 0, nullptr, &start_), "clEnqueueMarkerWithWaitList");
  }

  /// Seconds between the start marker and a marker enqueued now, waiting for it.
  [[nodiscard]] double stop() {
    cl_event end = nullptr;
    detail::cl_check(clEnqueueMarkerWithWaitList(queue_, 0, nullptr, &end), "clEnqueueMarkerWithWaitList");
    const cl_int waited = clWaitForEvents(1, &end);
    cl_ulong t0 = 0, t1 = 0;
    const cl_int e0 = clGetEventProfilingInfo(start_, CL_PROFILING_COMMAND_END, sizeof(t0), &t0, nullptr);
    const cl_int e1 = clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_END, sizeof(t1), &t1, nullptr);
    clReleaseEvent(end);
    detail::cl_check(waited, "clWaitForEvents");
    detail::cl_check(e0 != CL_SUCCESS ? e0 : e1, "clGetEventProfilingInfo");
    return t1 > t0 ? static_cast<double>(t1 - t0) * 1e-9 : 0.0;
  }

 private:
  void release() noexcept {
    if (start_ != nullptr) clReleaseEvent(start_);
    start_ = nullptr;
  }
  cl_command_queue queue_ = nullptr;
  cl_event start_ = nullptr;
};

static_assert(EncoderOps<OpenCL>, "OpenCL must provide every encoder op");
static_assert(GenerationOps<OpenCL>, "OpenCL must provide every text-generation op");
static_assert(PerceptionOps<OpenCL>, "OpenCL must provide every vision, audio and multimodal op");

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_HPP
// ---- end accelbench/backend/opencl.hpp ----
#endif
#if defined(ACCELBENCH_WITH_CUDA) && defined(__CUDACC__)
// ---- begin accelbench/backend/cuda.cuh ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CUH
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CUH

// The Cuda backend: an NVIDIA GPU through the CUDA runtime. The kernels of
// backend/device/gpu_kernels.hpp (the same source as the OpenCL backend's) are
// compiled into the program by nvcc, for the architectures of
// CMAKE_CUDA_ARCHITECTURES; matrix products are cuBLAS's cublasSgemm in
// float32. Each object has its own non-blocking stream, with a cuBLAS handle
// bound to it; every Cuda object on the same device shares that device's
// memory count, and a model loaded by one is usable by the others.
//
// Include it from a .cu file compiled by nvcc and link accelbench::cuda
// (CMake), or -lcudart -lcublas.
//
// Device selection: Cuda::Options{device}, an index among the devices the
// CUDA runtime sees (after CUDA_VISIBLE_DEVICES); -1 means the environment
// variable ACCELBENCH_CUDA_DEVICE (an index), and without it device 0.

#if !defined(__CUDACC__)
#error "accelbench/backend/cuda.cuh is CUDA C++: include it from a .cu file compiled by nvcc"
#endif

// cuda/context.cuh comes first: it sets what fmt and Eigen need under nvcc
// before anything includes them, and brings the CUDA runtime and cuBLAS.
// ---- begin accelbench/backend/cuda/context.cuh ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CONTEXT_CUH
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CONTEXT_CUH

// What the Cuda backend builds on (backend/cuda.cuh): the kernels of
// backend/device/gpu_kernels.hpp compiled as CUDA C++, CUDA's and cuBLAS's
// errors, the choice of a device, and what every Cuda object on one device
// shares.

#if !defined(__CUDACC__)
#error "accelbench/backend/cuda/context.cuh is CUDA C++: include it from a .cu file compiled by nvcc"
#endif

// What the rest of accelbench needs under nvcc; accelbench::cuda defines both
// for CUDA sources, these cover a build without it (they must come before
// the first include of fmt or Eigen). fmt 9 turns its constexpr functions
// off when __NVCC__ is defined while still calling them from constexpr and
// consteval code, which neither nvcc nor the host compiler accepts; Eigen
// compiles host code only.
#ifndef FMT_USE_CONSTEXPR
#define FMT_USE_CONSTEXPR 1
#endif
#ifndef EIGEN_NO_CUDA
#define EIGEN_NO_CUDA
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// ---- begin accelbench/backend/device/device_memory.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP

// The device memory count of the device backends (OpenCL, Cuda): bytes held
// in the backend's buffers now, the most held and the time-weighted mean
// since the last reset. One counter per device, shared by every backend
// object on it; buffers add their size when allocated and remove it when
// freed. Thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>


namespace accelbench::detail {

class DeviceMemoryCounter {
 public:
  DeviceMemoryCounter() = default;
  DeviceMemoryCounter(const DeviceMemoryCounter&) = delete;
  DeviceMemoryCounter& operator=(const DeviceMemoryCounter&) = delete;

  void add(std::uint64_t bytes) { change(static_cast<std::int64_t>(bytes)); }
  void remove(std::uint64_t bytes) { change(-static_cast<std::int64_t>(bytes)); }

  /// Memory held now, the most and the time-weighted mean since reset();
  /// total_bytes is left to the backend.
  [[nodiscard]] DeviceMemory memory() {
    const std::lock_guard lock(mutex_);
    advance();
    const double span = std::chrono::duration<double>(last_change_ - since_).count();
    DeviceMemory m;
    m.used_bytes = allocated_;
    m.peak_bytes = peak_;
    m.average_bytes = span > 0 ? static_cast<std::uint64_t>(byte_seconds_ / span) : allocated_;
    return m;
  }

  /// Starts a new peak and mean from the memory held now.
  void reset() {
    const std::lock_guard lock(mutex_);
    advance();
    peak_ = allocated_;
    byte_seconds_ = 0;
    since_ = last_change_;
  }

 private:
  void change(std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    advance();
    allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta);
    peak_ = std::max(peak_, allocated_);
  }
  void advance() {
    const auto now = std::chrono::steady_clock::now();
    byte_seconds_ += static_cast<double>(allocated_) * std::chrono::duration<double>(now - last_change_).count();
    last_change_ = now;
  }

  std::mutex mutex_;
  std::uint64_t allocated_ = 0;
  std::uint64_t peak_ = 0;
  double byte_seconds_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_change_ = since_;
};

/// One allocation of a device backend: frees itself with Device::release
/// and keeps the device's count (Device is a DeviceMemoryCounter with a
/// `Handle` type, e.g. cl_mem or void*). Movable, not copyable.
template <class Device>
class CountedBuffer {
 public:
  using Handle = typename Device::Handle;

  CountedBuffer() = default;
  CountedBuffer(Handle handle, std::size_t bytes, std::shared_ptr<Device> device)
      : handle_(handle), bytes_(bytes), device_(std::move(device)) {
    device_->add(bytes_);
  }
  CountedBuffer(CountedBuffer&& o) noexcept
      : handle_(std::exchange(o.handle_, Handle{})), bytes_(std::exchange(o.bytes_, 0)), device_(std::move(o.device_)) {}
  CountedBuffer& operator=(CountedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = std::move(o.device_);
    }
    return *this;
  }
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { reset(); }

  [[nodiscard]] Handle get() const noexcept { return handle_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return handle_ != Handle{}; }

 private:
  void reset() noexcept {
    if (handle_ != Handle{}) {
      device_->release(handle_);
      device_->remove(bytes_);
      handle_ = Handle{};
    }
  }
  Handle handle_{};
  std::size_t bytes_ = 0;
  std::shared_ptr<Device> device_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
// ---- end accelbench/backend/device/device_memory.hpp ----
// ---- begin accelbench/backend/device/runtime.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP

// The device tier: the second way to write a backend. A backend that can
// allocate device memory, copy to and from it, and launch the kernels of
// gpu_kernels.hpp gets every op of the three op sets from GpuOps
// (gpu_ops.hpp), with the argument checks and output shapes of the other
// backends. The OpenCL and Cuda backends are written this way;
// docs/writing-a-backend.md describes it.
//
// A device runtime D with its buffer type Buffer provides (DeviceRuntime):
//
//   static name                                        the backend's name
//   Buffer allocate(std::size_t bytes)                 device memory (never 0 bytes)
//   void write(Buffer&, const void*, std::size_t)      host to device, blocking
//   void read(const Buffer&, void*, std::size_t)       device to host, waits for queued work
//   handle(const Buffer&)                              a float buffer as a kernel argument
//   index_handle(const Buffer&)                        an int32 buffer as a kernel argument
//   template <GpuKernel K, class... A> void launch(const GpuRange&, A... args)
//                                                      runs kernel K of gpu_kernels.hpp
//   void gemm_nt(const GemmArgs<Buffer>&)              y = x wᵀ on strided views
//
// Kernel arguments are passed with the exact types of the kernels'
// parameters: int, std::int64_t for `long`, float, buffer handles. A Buffer
// is movable, default-constructible (empty) and tests true when it holds
// memory.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace accelbench {

/// The kernels of gpu_kernels.hpp, in the order of gpu_kernel_names.
enum class GpuKernel : int {
  matmul_nt,
  matmul_nt_few,
  add_bias,
  add,
  activation,
  gated,
  row_norm,
  row_scale,
  argmax_rows,
  attention,
  embedding_lookup,
  masked_mean_pool,
  rotary,
  add_positions,
  cache_write,
  relative_bias,
  im2col_2d,
  im2col_1d,
  group_norm,
  prepend_row,
};

inline constexpr const char* gpu_kernel_names[] = {
    "ab_matmul_nt",     "ab_matmul_nt_few",    "ab_add_bias",         "ab_add",       "ab_activation",    "ab_gated",
    "ab_row_norm",      "ab_row_scale",        "ab_argmax_rows", "ab_attention",   "ab_embedding_lookup",
    "ab_masked_mean_pool", "ab_rotary",        "ab_add_positions", "ab_cache_write", "ab_relative_bias",
    "ab_im2col_2d",     "ab_im2col_1d",        "ab_group_norm", "ab_prepend_row"};
inline constexpr int gpu_kernel_count = static_cast<int>(sizeof(gpu_kernel_names) / sizeof(gpu_kernel_names[0]));

/// Work-group size of the row kernels (ABK_WG) and tile of the matrix
/// product (ABK_TS).
inline constexpr int gpu_row_group = 128;
inline constexpr int gpu_tile = 16;

/// A launch: global sizes (already multiples of the local sizes) and local sizes.
struct GpuRange {
  std::size_t global0 = 1, global1 = 1;
  std::size_t local0 = 1, local1 = 1;

  /// One work-item per element, in groups of 256.
  static GpuRange elements(std::int64_t count) {
    constexpr std::size_t group = 256;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 1));
    return {(n + group - 1) / group * group, 1, group, 1};
  }
  /// One group of gpu_row_group work-items per row.
  static GpuRange rows(std::int64_t rows) {
    return {static_cast<std::size_t>(rows) * gpu_row_group, 1, gpu_row_group, 1};
  }
};

/// A 2-D float tensor in device memory, row-major. Resizing keeps the
/// allocation when it is large enough.
template <class Buffer>
struct GpuTensor {
  Buffer buffer{};
  long rows_ = 0;
  long cols_ = 0;
  std::size_t capacity = 0;  ///< floats allocated

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
};

/// Token ids or positions in device memory, with the host copy when they
/// came from the host (so that ids can be checked without a transfer).
template <class Buffer>
struct GpuIndices {
  Buffer buffer{};
  std::size_t count = 0;
  std::size_t capacity = 0;
  std::vector<std::int32_t> host;
  bool host_valid = false;

  [[nodiscard]] std::size_t size() const noexcept { return count; }
};

/// The arguments of GEMM y = x wᵀ on strided views: x [n, k] (row stride
/// ldx, from element xoff), w [m, k], y [n, m].
template <class Buffer>
struct GemmArgs {
  const Buffer* x = nullptr;
  std::int64_t xoff = 0;
  int ldx = 0;
  const Buffer* w = nullptr;
  std::int64_t woff = 0;
  int ldw = 0;
  Buffer* y = nullptr;
  std::int64_t yoff = 0;
  int ldy = 0;
  int n = 0, m = 0, k = 0;
};

/// The primitives of a device runtime D over buffers of type Buffer (see
/// the top of this file). GpuOps<D, Buffer> checks it, so a runtime that
/// misses one is told which; a runtime states it with
/// static_assert(accelbench::DeviceRuntime<MyRuntime, MyBuffer>).
template <class D, class Buffer>
concept DeviceRuntime =
    std::movable<Buffer> && std::default_initializable<Buffer> &&
    requires(D& d, Buffer& b, const Buffer& cb, void* out, const void* in, std::size_t bytes,
             const GemmArgs<Buffer>& gemm, const GpuRange& range) {
      { D::name } -> std::convertible_to<std::string_view>;
      { static_cast<bool>(cb) };
      { d.allocate(bytes) } -> std::same_as<Buffer>;
      d.write(b, in, bytes);
      d.read(cb, out, bytes);
      d.handle(cb);
      d.index_handle(cb);
      d.gemm_nt(gemm);
      d.template launch<GpuKernel::add>(range, d.handle(cb), d.handle(cb), std::int64_t{0});
    };

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
// ---- end accelbench/backend/device/runtime.hpp ----

namespace accelbench {

namespace detail {

// ---- the kernels: gpu_kernels.hpp expanded as CUDA C++ ----
//
// `static`: each translation unit that includes this header has its own
// copy, so a program of several .cu files links.

#define KERNEL static __global__
#define GLOBAL
#define SHARED __shared__
#define BARRIER __syncthreads()
#define GID0 ((long)blockIdx.x * blockDim.x + threadIdx.x)
#define LID0 ((int)threadIdx.x)
#define LID1 ((int)threadIdx.y)
#define GRP0 ((int)blockIdx.x)
#define GRP1 ((int)blockIdx.y)
#define ABK_WG 128
#define ABK_TS 16
#define ABK_LOWEST (-3.40282347e+38f)
#define ACCELBENCH_GPU_KERNELS(...) __VA_ARGS__
// ---- begin accelbench/backend/device/gpu_kernels.hpp ----
// The device kernels of the OpenCL and Cuda backends, written once.
//
// The kernels below are in a small dialect that is both OpenCL C and CUDA
// C++: the includer defines the macros of the dialect and
// ACCELBENCH_GPU_KERNELS(...). OpenCL stringifies the code (the program is
// compiled at run time, with the dialect defined by opencl_dialect below);
// Cuda expands it as code (compiled by nvcc). Kernels verified on one
// therefore run unchanged on the other.
//
// The dialect:
//   KERNEL            a kernel entry point
//   GLOBAL            qualifier of a pointer to device memory
//   SHARED            qualifier of an array shared by a work-group (block)
//   BARRIER           work-group barrier, for shared and device memory
//   GID0 LID0 LID1 GRP0 GRP1
//                     global id, local id and group id in dimensions 0 and 1
//   ABK_WG            work-group size of the row kernels (one group per row)
//   ABK_TS            tile size of the matrix product (ABK_TS x ABK_TS groups)
//   ABK_LOWEST        the lowest float (an additive mask)
//
// Every kernel checks its own bounds: the launch rounds global sizes up to
// a multiple of the work-group size. Indices into tensors are `long` (64-bit).
// No preprocessor directive may appear inside ACCELBENCH_GPU_KERNELS, and no
// name that OpenCL C reserves (half, kernel, ...).
//
// This file has no include guard on purpose: it is included once by each
// backend with its own definition of ACCELBENCH_GPU_KERNELS.

ACCELBENCH_GPU_KERNELS(

/* y[i, o] = sum_e x[i, e] w[o, e] for i < n, o < m, e < k, with row strides
   and offsets so that one call can write a group's columns of a grouped
   convolution. A group of ABK_TS x ABK_TS work-items computes a tile of
   4 ABK_TS x 4 ABK_TS outputs, 4 x 4 per work-item, from ABK_TS-deep slices
   of x and w staged in shared memory; dimension 0 runs over outputs o,
   dimension 1 over rows i. */
KERNEL void ab_matmul_nt(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                         GLOBAL float* y, long yoff, int ldy, int n, int m, int k) {
  SHARED float xs[ABK_TS][4 * ABK_TS];
  SHARED float ws[ABK_TS][4 * ABK_TS];
  const int lx = LID0;
  const int ly = LID1;
  const int o0 = GRP0 * 4 * ABK_TS;
  const int i0 = GRP1 * 4 * ABK_TS;
  float acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = 0.0f;
  for (int t = 0; t < k; t += ABK_TS) {
    const int e = t + lx;
    for (int r = 0; r < 4; ++r) {
      const int row = ly + r * ABK_TS;
      xs[lx][row] = (i0 + row < n && e < k) ? x[xoff + (long)(i0 + row) * ldx + e] : 0.0f;
      ws[lx][row] = (o0 + row < m && e < k) ? w[woff + (long)(o0 + row) * ldw + e] : 0.0f;
    }
    BARRIER;
    for (int q = 0; q < ABK_TS; ++q) {
      float a[4];
      float b[4];
      for (int r = 0; r < 4; ++r) {
        a[r] = xs[q][ly + r * ABK_TS];
        b[r] = ws[q][lx + r * ABK_TS];
      }
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
    }
    BARRIER;
  }
  for (int r = 0; r < 4; ++r) {
    const int i = i0 + ly + r * ABK_TS;
    for (int c = 0; c < 4; ++c) {
      const int o = o0 + lx + c * ABK_TS;
      if (i < n && o < m) y[yoff + (long)i * ldy + o] = acc[r][c];
    }
  }
}

/* ab_matmul_nt for at most 8 rows (a decode step): one work-item per output
   column, reading its row of w once for every row of x. */
KERNEL void ab_matmul_nt_few(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                             GLOBAL float* y, long yoff, int ldy, int n, int m, int k) {
  const long o = GID0;
  if (o >= m) return;
  float acc[8];
  for (int r = 0; r < 8; ++r) acc[r] = 0.0f;
  GLOBAL const float* wr = w + woff + o * ldw;
  for (int e = 0; e < k; ++e) {
    const float wv = wr[e];
    for (int r = 0; r < n; ++r) acc[r] += x[xoff + (long)r * ldx + e] * wv;
  }
  for (int r = 0; r < n; ++r) y[yoff + (long)r * ldy + o] = acc[r];
}

/* y[i, o] += bias[o] for i < n, o < m (row stride ldy, offset yoff) */
KERNEL void ab_add_bias(GLOBAL float* y, long yoff, int ldy, GLOBAL const float* bias, int n, int m) {
  const long idx = GID0;
  if (idx >= (long)n * m) return;
  const long i = idx / m;
  const int o = (int)(idx % m);
  y[yoff + i * ldy + o] += bias[o];
}

/* y += x */
KERNEL void ab_add(GLOBAL const float* x, GLOBAL float* y, long count) {
  const long i = GID0;
  if (i < count) y[i] += x[i];
}

/* In place: 0 erf GELU, 1 tanh GELU, 2 ReLU, 3 SiLU, 4 quick GELU, 5 x *= s */
KERNEL void ab_activation(GLOBAL float* x, long count, int kind, float s) {
  const long i = GID0;
  if (i >= count) return;
  const float v = x[i];
  float r = v;
  if (kind == 0) {
    r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752440f));
  } else if (kind == 1) {
    r = 0.5f * v * (1.0f + tanh(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
  } else if (kind == 2) {
    r = v > 0.0f ? v : 0.0f;
  } else if (kind == 3) {
    r = v / (1.0f + exp(-v));
  } else if (kind == 4) {
    r = v / (1.0f + exp(-1.702f * v));
  } else {
    r = v * s;
  }
  x[i] = r;
}

/* y = act(x[:, :half_dim]) * x[:, half_dim:] with act SiLU (kind 0) or tanh GELU (kind 1) */
KERNEL void ab_gated(GLOBAL const float* x, GLOBAL float* y, long rows, int half_dim, int kind) {
  const long i = GID0;
  if (i >= rows * half_dim) return;
  const long r = i / half_dim;
  const int c = (int)(i % half_dim);
  const float g = x[r * 2 * half_dim + c];
  const float a = kind == 0 ? g / (1.0f + exp(-g))
                            : 0.5f * g * (1.0f + tanh(0.79788456080286535588f * (g + 0.044715f * g * g * g)));
  y[i] = a * x[r * 2 * half_dim + half_dim + c];
}

/* Per row (one group each): y = (x - mean) / sqrt(var + eps) * g + b when
   kind is 0 (layer norm); y = x / sqrt(mean(x^2) + eps) * g when kind is 1
   (RMS norm); y may be x. */
KERNEL void ab_row_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                        int cols, float eps, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float mean = 0.0f;
  if (kind == 0) {
    float sum = 0.0f;
    for (int c = lid; c < cols; c += ABK_WG) sum += x[base + c];
    red[lid] = sum;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] += red[lid + s];
      BARRIER;
    }
    mean = red[0] / (float)cols;
    BARRIER;
  }
  float sq = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float d = x[base + c] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)cols + eps);
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = (x[base + c] - mean) * inv * g[c];
    y[base + c] = kind == 0 ? v + b[c] : v;
  }
}

/* In place, per row (one group each): softmax when kind is 0; division by
   the Euclidean norm when kind is 1 (a row of zeros stays zeros). */
KERNEL void ab_row_scale(GLOBAL float* x, int cols, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float top = ABK_LOWEST;
  if (kind == 0) {
    for (int c = lid; c < cols; c += ABK_WG) top = fmax(top, x[base + c]);
    red[lid] = top;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
      BARRIER;
    }
    top = red[0];
    BARRIER;
  }
  float sum = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (kind == 0) {
      const float e = exp(v - top);
      x[base + c] = e;
      sum += e;
    } else {
      sum += v * v;
    }
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float total = red[0];
  if (kind == 1 && total == 0.0f) return;
  const float inv = kind == 0 ? 1.0f / total : 1.0f / sqrt(total);
  for (int c = lid; c < cols; c += ABK_WG) x[base + c] *= inv;
}

/* ids[r] = the column of row r's largest value, the first on ties. */
KERNEL void ab_argmax_rows(GLOBAL const float* x, GLOBAL int* ids, int cols) {
  SHARED float best_value[ABK_WG];
  SHARED int best_index[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float bv = ABK_LOWEST;
  int bi = cols;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (bi == cols || v > bv) {
      bv = v;
      bi = c;
    }
  }
  best_value[lid] = bv;
  best_index[lid] = bi;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) {
      const float ov = best_value[lid + s];
      const int oi = best_index[lid + s];
      if (oi < cols && (best_index[lid] == cols || ov > best_value[lid] ||
                        (ov == best_value[lid] && oi < best_index[lid]))) {
        best_value[lid] = ov;
        best_index[lid] = oi;
      }
    }
    BARRIER;
  }
  if (lid == 0) ids[GRP0] = best_index[0];
}

/* Scaled dot-product attention, one group per (sequence, head, query); see
   accelbench::AttentionDims. scores is scratch of [groups, key_len]. */
KERNEL void ab_attention(GLOBAL const float* q, GLOBAL const float* k, GLOBAL const float* v,
                         GLOBAL const float* mask, int has_mask, GLOBAL const float* bias, int has_bias,
                         GLOBAL float* out, GLOBAL float* scores, int query_len, int key_len, int heads,
                         int head_dim, int kv_heads, int key_stride, int causal, int window, float scale) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long group = GRP0;
  const int i = (int)(group % query_len);
  const int h = (int)((group / query_len) % heads);
  const long b = group / ((long)query_len * heads);
  const int kv = h / (heads / kv_heads);
  const long qrow = b * query_len + i;
  const int q_width = heads * head_dim;
  const int kv_width = kv_heads * head_dim;
  const int seen = causal ? key_len - query_len + i + 1 : key_len;
  const int first = (causal && window > 0 && seen > window) ? seen - window : 0; /* sliding window */
  GLOBAL const float* qp = q + qrow * q_width + (long)h * head_dim;
  GLOBAL float* sp = scores + group * key_len;
  float top = ABK_LOWEST;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    GLOBAL const float* kp = k + (b * key_stride + j) * kv_width + (long)kv * head_dim;
    float dot = 0.0f;
    for (int e = 0; e < head_dim; ++e) dot += qp[e] * kp[e];
    float s = dot * scale;
    if (has_bias) s += bias[((long)h * query_len + i) * key_len + j];
    if (has_mask && mask[b * key_len + j] == 0.0f) s += ABK_LOWEST;
    sp[j] = s;
    top = fmax(top, s);
  }
  red[lid] = top;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
    BARRIER;
  }
  top = red[0];
  BARRIER;
  float sum = 0.0f;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    const float e = exp(sp[j] - top);
    sp[j] = e;
    sum += e;
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / red[0];
  for (int e = lid; e < head_dim; e += ABK_WG) {
    GLOBAL const float* vp = v + b * key_stride * kv_width + (long)kv * head_dim + e;
    float acc = 0.0f;
    for (int j = first; j < seen; ++j) acc += sp[j] * vp[(long)j * kv_width];
    out[qrow * q_width + (long)h * head_dim + e] = acc * inv;
  }
}

/* y[i] = table[ids[i]]; an id outside the table gives a row of zeros (the
   host checks ids it knows). */
KERNEL void ab_embedding_lookup(GLOBAL const float* table, GLOBAL const int* ids, GLOBAL float* y, long count,
                                int cols, int table_rows) {
  const long idx = GID0;
  if (idx >= count) return;
  const long i = idx / cols;
  const int c = (int)(idx % cols);
  const int id = ids[i];
  y[idx] = (id >= 0 && id < table_rows) ? table[(long)id * cols + c] : 0.0f;
}

/* y[b, c] = mean over s of x[b * len + s, c] where mask[b, s] is 1. */
KERNEL void ab_masked_mean_pool(GLOBAL const float* x, GLOBAL const float* mask, GLOBAL float* y, int batch,
                                int len, int cols) {
  const long idx = GID0;
  if (idx >= (long)batch * cols) return;
  const long b = idx / cols;
  const int c = (int)(idx % cols);
  float acc = 0.0f;
  float count = 0.0f;
  for (int s = 0; s < len; ++s) {
    const float m = mask[b * len + s];
    acc += m * x[(b * len + s) * cols + c];
    count += m;
  }
  y[idx] = acc / fmax(count, 1e-9f);
}

/* Rotary embedding in place from tables of cos and sin [positions, half_dim]. */
KERNEL void ab_rotary(GLOBAL float* x, GLOBAL const float* cos_table, GLOBAL const float* sin_table, long rows,
                      int len, int heads, int head_dim, int start) {
  const int half_dim = head_dim / 2;
  const long idx = GID0;
  if (idx >= rows * heads * half_dim) return;
  const int j = (int)(idx % half_dim);
  const int h = (int)((idx / half_dim) % heads);
  const long row = idx / ((long)half_dim * heads);
  const long pos = start + row % len;
  const float c = cos_table[pos * half_dim + j];
  const float s = sin_table[pos * half_dim + j];
  GLOBAL float* p = x + row * heads * head_dim + (long)h * head_dim + j;
  const float a = p[0];
  const float bb = p[half_dim];
  p[0] = a * c - bb * s;
  p[half_dim] = bb * c + a * s;
}

/* y[b * len + i] += table[start + i] */
KERNEL void ab_add_positions(GLOBAL const float* table, GLOBAL float* y, int start, int len, long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  y[idx] += table[(long)(start + row % len) * cols + c];
}

/* cache[b * capacity + start + i] = x[b * len + i] */
KERNEL void ab_cache_write(GLOBAL const float* x, GLOBAL float* cache, int len, int capacity, int start,
                           long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  const long b = row / len;
  const long i = row % len;
  cache[(b * capacity + start + i) * cols + c] = x[idx];
}

/* T5's bias [heads * query_len, key_len]: the table's [buckets, heads] entry
   at the bucket of relative position j - (query_start + i), looked up in
   buckets[] indexed from the smallest relative position. */
KERNEL void ab_relative_bias(GLOBAL const float* table, GLOBAL const int* buckets, GLOBAL float* y, int heads,
                             int query_len, int key_len, int query_start) {
  const long idx = GID0;
  if (idx >= (long)heads * query_len * key_len) return;
  const int j = (int)(idx % key_len);
  const int i = (int)((idx / key_len) % query_len);
  const int h = (int)(idx / ((long)key_len * query_len));
  const int rel = j - (query_start + i);
  const int bucket = buckets[rel + query_start + query_len - 1];
  y[idx] = table[(long)bucket * heads + h];
}

/* im2col of a 2-D convolution: cols[(img, oy, ox), (c, ky, kx)]. */
KERNEL void ab_im2col_2d(GLOBAL const float* x, GLOBAL float* cols, int channels, int height, int width,
                         int taps, int stride, int padding, int out_h, int out_w, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = channels * taps * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / (taps * taps);
  const int ky = (qq / taps) % taps;
  const int kx = qq % taps;
  const int ox = (int)(r % out_w);
  const int oy = (int)((r / out_w) % out_h);
  const long img = r / ((long)out_w * out_h);
  const int iy = oy * stride - padding + ky;
  const int ix = ox * stride - padding + kx;
  cols[idx] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                  ? x[img * channels * height * width + ((long)c * height + iy) * width + ix]
                  : 0.0f;
}

/* im2col of group g of a 1-D convolution: cols[(s, t), (c, j)] for the
   group's group_in input channels. */
KERNEL void ab_im2col_1d(GLOBAL const float* x, GLOBAL float* cols, int length, int in_channels, int group_in,
                         int group, int taps, int stride, int padding, int out_len, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = group_in * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / taps;
  const int j = qq % taps;
  const long s = r / out_len;
  const int t = (int)(r % out_len);
  const int it = t * stride - padding + j;
  cols[idx] = (it >= 0 && it < length) ? x[(s * length + it) * in_channels + (long)group * group_in + c] : 0.0f;
}

/* Group norm, one group per (sequence, channel group), over length time
   steps and size channels. */
KERNEL void ab_group_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                          int length, int cols, int groups, float eps) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const int size = cols / groups;
  const int grp = (int)(GRP0 % groups);
  const long s = GRP0 / groups;
  const long count = (long)length * size;
  float sum = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    sum += x[(s * length + q / size) * cols + (long)grp * size + q % size];
  }
  red[lid] = sum;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float mean = red[0] / (float)count;
  BARRIER;
  float sq = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    const float d = x[(s * length + q / size) * cols + (long)grp * size + q % size] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)count + eps);
  for (long q = lid; q < count; q += ABK_WG) {
    const long c = (long)grp * size + q % size;
    const long at = (s * length + q / size) * cols + c;
    y[at] = (x[at] - mean) * inv * g[c] + b[c];
  }
}

/* y = x with row before each of the batch's sequences of n rows. */
KERNEL void ab_prepend_row(GLOBAL const float* x, GLOBAL const float* row, GLOBAL float* y, int n, long count,
                           int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long r = idx / cols;
  const int c = (int)(idx % cols);
  const long s = r / (n + 1);
  const int i = (int)(r % (n + 1));
  y[idx] = i == 0 ? row[c] : x[(s * n + i - 1) * cols + c];
}

)
// ---- end accelbench/backend/device/gpu_kernels.hpp ----
#undef ACCELBENCH_GPU_KERNELS
#undef ABK_LOWEST
#undef ABK_TS
#undef ABK_WG
#undef GRP1
#undef GRP0
#undef LID1
#undef LID0
#undef GID0
#undef BARRIER
#undef SHARED
#undef GLOBAL
#undef KERNEL

static_assert(gpu_row_group == 128 && gpu_tile == 16, "the Cuda dialect's ABK_WG and ABK_TS must match backend/device/runtime.hpp");
static_assert(sizeof(long) == sizeof(std::int64_t), "the kernels' `long` indices must be 64-bit");

template <GpuKernel>
inline constexpr bool no_cuda_kernel = false;

/// The kernel function of K: an `if constexpr` chain over GpuKernel, each
/// entry checked against gpu_kernel_names.
template <GpuKernel K>
constexpr auto cuda_kernel() noexcept {
#define ACCELBENCH_CUDA_KERNEL(k)                                                                         \
  if constexpr (K == GpuKernel::k) {                                                                      \
    static_assert(std::string_view(gpu_kernel_names[static_cast<int>(GpuKernel::k)]) == "ab_" #k,         \
                  "gpu_kernel_names and GpuKernel disagree on ab_" #k);                                   \
    return &ab_##k;                                                                                       \
  } else
  ACCELBENCH_CUDA_KERNEL(matmul_nt)
  ACCELBENCH_CUDA_KERNEL(matmul_nt_few)
  ACCELBENCH_CUDA_KERNEL(add_bias)
  ACCELBENCH_CUDA_KERNEL(add)
  ACCELBENCH_CUDA_KERNEL(activation)
  ACCELBENCH_CUDA_KERNEL(gated)
  ACCELBENCH_CUDA_KERNEL(row_norm)
  ACCELBENCH_CUDA_KERNEL(row_scale)
  ACCELBENCH_CUDA_KERNEL(argmax_rows)
  ACCELBENCH_CUDA_KERNEL(attention)
  ACCELBENCH_CUDA_KERNEL(embedding_lookup)
  ACCELBENCH_CUDA_KERNEL(masked_mean_pool)
  ACCELBENCH_CUDA_KERNEL(rotary)
  ACCELBENCH_CUDA_KERNEL(add_positions)
  ACCELBENCH_CUDA_KERNEL(cache_write)
  ACCELBENCH_CUDA_KERNEL(relative_bias)
  ACCELBENCH_CUDA_KERNEL(im2col_2d)
  ACCELBENCH_CUDA_KERNEL(im2col_1d)
  ACCELBENCH_CUDA_KERNEL(group_norm)
  ACCELBENCH_CUDA_KERNEL(prepend_row)
  {
    static_assert(no_cuda_kernel<K>, "a GpuKernel has no Cuda kernel: add it to cuda_kernel()");
  }
#undef ACCELBENCH_CUDA_KERNEL
}

template <int... I>
constexpr bool every_cuda_kernel_mapped(std::integer_sequence<int, I...>) {
  return (std::is_pointer_v<decltype(cuda_kernel<static_cast<GpuKernel>(I)>())> && ...);
}
static_assert(every_cuda_kernel_mapped(std::make_integer_sequence<int, gpu_kernel_count>{}),
              "every GpuKernel must have a Cuda kernel");

// ---- errors ----

/// "call returned 100 (cudaErrorNoDevice): no CUDA-capable device is detected"
inline std::string cuda_error_text(cudaError_t e, std::string_view call) {
  return std::string(call) + " returned " + std::to_string(static_cast<int>(e)) + " (" + cudaGetErrorName(e) +
         "): " + cudaGetErrorString(e);
}

/// Throws "cuda: <call> returned ..." unless e is cudaSuccess. The runtime's
/// last error is cleared, so that it is not reported again by a later check.
inline void cuda_check(cudaError_t e, std::string_view call) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error("cuda: " + cuda_error_text(e, call));
  }
}

inline void cublas_check(cublasStatus_t s, std::string_view call) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error("cuda: " + std::string(call) + " returned " + std::to_string(static_cast<int>(s)) + " (" +
                             cublasGetStatusName(s) + "): " + cublasGetStatusString(s));
  }
}

/// 13000 -> "13.0", as cudaDriverGetVersion and cudaRuntimeGetVersion count.
inline std::string cuda_version_string(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

/// The architectures nvcc compiled the kernels for, e.g. "sm_80, sm_90".
inline std::string cuda_compiled_architectures() {
#if defined(__CUDA_ARCH_LIST__)
#define ACCELBENCH_STRINGIFY2(...) #__VA_ARGS__
#define ACCELBENCH_STRINGIFY(...) ACCELBENCH_STRINGIFY2(__VA_ARGS__)
  const std::string list = ACCELBENCH_STRINGIFY(__CUDA_ARCH_LIST__);
#undef ACCELBENCH_STRINGIFY
#undef ACCELBENCH_STRINGIFY2
  std::string out;
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string arch = list.substr(start, end - start);
    arch.erase(std::remove_if(arch.begin(), arch.end(), [](unsigned char c) { return std::isspace(c) != 0; }),
               arch.end());
    if (arch.size() > 1 && arch.back() == '0') arch.pop_back();  // 800 -> sm_80, 1200 -> sm_120
    out += (out.empty() ? "sm_" : ", sm_") + arch;
    start = end + 1;
  }
  return out;
#else
  return "unknown";
#endif
}

// ---- device selection ----

/// The index in ACCELBENCH_CUDA_DEVICE, else 0.
inline int cuda_device_from_environment() {
  const char* env = std::getenv("ACCELBENCH_CUDA_DEVICE");
  if (env == nullptr || *env == '\0') return 0;
  const std::string s = env;
  if (s.size() > 4 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    throw std::runtime_error("ACCELBENCH_CUDA_DEVICE is \"" + s + "\": expected a device index (0, 1, ...)");
  }
  return std::stoi(s);
}

/// Picks device `requested` (negative: ACCELBENCH_CUDA_DEVICE, else 0) and
/// checks that the kernels in the program run on it, or says why not. The
/// device becomes the calling thread's current device.
inline int select_cuda_device(int requested) {
  const int device = requested >= 0 ? requested : cuda_device_from_environment();
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    std::string why = cuda_error_text(e, "cudaGetDeviceCount");
    if (e == cudaErrorInsufficientDriver) {
      int driver = 0, runtime = 0;
      (void)cudaDriverGetVersion(&driver);
      (void)cudaRuntimeGetVersion(&runtime);
      (void)cudaGetLastError();
      why += driver == 0 ? std::string(" (no NVIDIA driver is installed: libcuda.so.1 was not found)")
                         : " (the driver supports CUDA " + cuda_version_string(driver) + ", the program's runtime is " +
                               cuda_version_string(runtime) + ")";
    }
    throw std::runtime_error(why);
  }
  if (count <= 0) throw std::runtime_error("cudaGetDeviceCount found no CUDA device");
  if (device >= count) {
    std::string seen;
    for (int d = 0; d < count; ++d) {
      cudaDeviceProp p{};
      const bool named = cudaGetDeviceProperties(&p, d) == cudaSuccess;
      seen += (seen.empty() ? "" : ", ") + std::to_string(d) + " " + (named ? std::string(p.name) : "(unnamed)");
    }
    (void)cudaGetLastError();
    throw std::runtime_error("no CUDA device " + std::to_string(device) +
                             (requested >= 0 ? std::string() : std::string(" (from ACCELBENCH_CUDA_DEVICE)")) +
                             "; devices: " + seen);
  }
  if (const cudaError_t s = cudaSetDevice(device); s != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(cuda_error_text(s, "cudaSetDevice(" + std::to_string(device) + ")"));
  }
  // A device older than every architecture compiled for (and with no PTX to
  // compile from) has no image of the kernels: say so now, not at the first op.
  cudaFuncAttributes attributes{};
  const cudaError_t k = cudaFuncGetAttributes(&attributes, ab_add);
  if (k != cudaSuccess) {
    (void)cudaGetLastError();
    cudaDeviceProp p{};
    const std::string cc = cudaGetDeviceProperties(&p, device) == cudaSuccess
                               ? "sm_" + std::to_string(p.major) + std::to_string(p.minor)
                               : std::string("unknown");
    (void)cudaGetLastError();
    throw std::runtime_error(cuda_error_text(k, "cudaFuncGetAttributes") + "; device " + std::to_string(device) +
                             " is " + cc + ", the kernels were compiled for " + cuda_compiled_architectures() +
                             " (CMAKE_CUDA_ARCHITECTURES)");
  }
  return device;
}

/// What every Cuda object on one device shares: the device's properties and
/// the count of the memory their buffers hold.
struct CudaDevice : DeviceMemoryCounter {
  using Handle = void*;

  int index = 0;
  cudaDeviceProp properties{};

  /// Frees memory of this device (CountedBuffer). cudaFree waits for the
  /// device's queued work. Its errors are ignored: at exit the runtime may
  /// already be unloaded.
  void release(void* ptr) const noexcept {
    if (cudaSetDevice(index) == cudaSuccess) (void)cudaFree(ptr);
    (void)cudaGetLastError();
  }

  /// The device of index `index` (valid: from select_cuda_device).
  static std::shared_ptr<CudaDevice> get(int index) {
    static std::mutex mutex;
    static std::map<int, std::shared_ptr<CudaDevice>> devices;
    const std::lock_guard lock(mutex);
    auto& slot = devices[index];
    if (!slot) {
      auto dev = std::make_shared<CudaDevice>();
      dev->index = index;
      cuda_check(cudaGetDeviceProperties(&dev->properties, index), "cudaGetDeviceProperties");
      slot = std::move(dev);
    }
    return slot;
  }
};

/// Device memory from cudaMalloc; frees itself and updates its device's count.
using CudaBuffer = CountedBuffer<CudaDevice>;

}  // namespace detail

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CONTEXT_CUH
// ---- end accelbench/backend/cuda/context.cuh ----
// ---- begin accelbench/backend/device/device_memory.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP

// The device memory count of the device backends (OpenCL, Cuda): bytes held
// in the backend's buffers now, the most held and the time-weighted mean
// since the last reset. One counter per device, shared by every backend
// object on it; buffers add their size when allocated and remove it when
// freed. Thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>


namespace accelbench::detail {

class DeviceMemoryCounter {
 public:
  DeviceMemoryCounter() = default;
  DeviceMemoryCounter(const DeviceMemoryCounter&) = delete;
  DeviceMemoryCounter& operator=(const DeviceMemoryCounter&) = delete;

  void add(std::uint64_t bytes) { change(static_cast<std::int64_t>(bytes)); }
  void remove(std::uint64_t bytes) { change(-static_cast<std::int64_t>(bytes)); }

  /// Memory held now, the most and the time-weighted mean since reset();
  /// total_bytes is left to the backend.
  [[nodiscard]] DeviceMemory memory() {
    const std::lock_guard lock(mutex_);
    advance();
    const double span = std::chrono::duration<double>(last_change_ - since_).count();
    DeviceMemory m;
    m.used_bytes = allocated_;
    m.peak_bytes = peak_;
    m.average_bytes = span > 0 ? static_cast<std::uint64_t>(byte_seconds_ / span) : allocated_;
    return m;
  }

  /// Starts a new peak and mean from the memory held now.
  void reset() {
    const std::lock_guard lock(mutex_);
    advance();
    peak_ = allocated_;
    byte_seconds_ = 0;
    since_ = last_change_;
  }

 private:
  void change(std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    advance();
    allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta);
    peak_ = std::max(peak_, allocated_);
  }
  void advance() {
    const auto now = std::chrono::steady_clock::now();
    byte_seconds_ += static_cast<double>(allocated_) * std::chrono::duration<double>(now - last_change_).count();
    last_change_ = now;
  }

  std::mutex mutex_;
  std::uint64_t allocated_ = 0;
  std::uint64_t peak_ = 0;
  double byte_seconds_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_change_ = since_;
};

/// One allocation of a device backend: frees itself with Device::release
/// and keeps the device's count (Device is a DeviceMemoryCounter with a
/// `Handle` type, e.g. cl_mem or void*). Movable, not copyable.
template <class Device>
class CountedBuffer {
 public:
  using Handle = typename Device::Handle;

  CountedBuffer() = default;
  CountedBuffer(Handle handle, std::size_t bytes, std::shared_ptr<Device> device)
      : handle_(handle), bytes_(bytes), device_(std::move(device)) {
    device_->add(bytes_);
  }
  CountedBuffer(CountedBuffer&& o) noexcept
      : handle_(std::exchange(o.handle_, Handle{})), bytes_(std::exchange(o.bytes_, 0)), device_(std::move(o.device_)) {}
  CountedBuffer& operator=(CountedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = std::move(o.device_);
    }
    return *this;
  }
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { reset(); }

  [[nodiscard]] Handle get() const noexcept { return handle_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return handle_ != Handle{}; }

 private:
  void reset() noexcept {
    if (handle_ != Handle{}) {
      device_->release(handle_);
      device_->remove(bytes_);
      handle_ = Handle{};
    }
  }
  Handle handle_{};
  std::size_t bytes_ = 0;
  std::shared_ptr<Device> device_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_DEVICE_MEMORY_HPP
// ---- end accelbench/backend/device/device_memory.hpp ----
// ---- begin accelbench/backend/device/gpu_ops.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP

// Every op of the three op sets for a device runtime (runtime.hpp): argument
// checks, output shapes and launches of the kernels of gpu_kernels.hpp. A
// device backend derives from GpuOps<Derived, Buffer>, where Derived
// provides the primitives of DeviceRuntime<Derived, Buffer>.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// ---- begin accelbench/backend/device/runtime.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP

// The device tier: the second way to write a backend. A backend that can
// allocate device memory, copy to and from it, and launch the kernels of
// gpu_kernels.hpp gets every op of the three op sets from GpuOps
// (gpu_ops.hpp), with the argument checks and output shapes of the other
// backends. The OpenCL and Cuda backends are written this way;
// docs/writing-a-backend.md describes it.
//
// A device runtime D with its buffer type Buffer provides (DeviceRuntime):
//
//   static name                                        the backend's name
//   Buffer allocate(std::size_t bytes)                 device memory (never 0 bytes)
//   void write(Buffer&, const void*, std::size_t)      host to device, blocking
//   void read(const Buffer&, void*, std::size_t)       device to host, waits for queued work
//   handle(const Buffer&)                              a float buffer as a kernel argument
//   index_handle(const Buffer&)                        an int32 buffer as a kernel argument
//   template <GpuKernel K, class... A> void launch(const GpuRange&, A... args)
//                                                      runs kernel K of gpu_kernels.hpp
//   void gemm_nt(const GemmArgs<Buffer>&)              y = x wᵀ on strided views
//
// Kernel arguments are passed with the exact types of the kernels'
// parameters: int, std::int64_t for `long`, float, buffer handles. A Buffer
// is movable, default-constructible (empty) and tests true when it holds
// memory.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace accelbench {

/// The kernels of gpu_kernels.hpp, in the order of gpu_kernel_names.
enum class GpuKernel : int {
  matmul_nt,
  matmul_nt_few,
  add_bias,
  add,
  activation,
  gated,
  row_norm,
  row_scale,
  argmax_rows,
  attention,
  embedding_lookup,
  masked_mean_pool,
  rotary,
  add_positions,
  cache_write,
  relative_bias,
  im2col_2d,
  im2col_1d,
  group_norm,
  prepend_row,
};

inline constexpr const char* gpu_kernel_names[] = {
    "ab_matmul_nt",     "ab_matmul_nt_few",    "ab_add_bias",         "ab_add",       "ab_activation",    "ab_gated",
    "ab_row_norm",      "ab_row_scale",        "ab_argmax_rows", "ab_attention",   "ab_embedding_lookup",
    "ab_masked_mean_pool", "ab_rotary",        "ab_add_positions", "ab_cache_write", "ab_relative_bias",
    "ab_im2col_2d",     "ab_im2col_1d",        "ab_group_norm", "ab_prepend_row"};
inline constexpr int gpu_kernel_count = static_cast<int>(sizeof(gpu_kernel_names) / sizeof(gpu_kernel_names[0]));

/// Work-group size of the row kernels (ABK_WG) and tile of the matrix
/// product (ABK_TS).
inline constexpr int gpu_row_group = 128;
inline constexpr int gpu_tile = 16;

/// A launch: global sizes (already multiples of the local sizes) and local sizes.
struct GpuRange {
  std::size_t global0 = 1, global1 = 1;
  std::size_t local0 = 1, local1 = 1;

  /// One work-item per element, in groups of 256.
  static GpuRange elements(std::int64_t count) {
    constexpr std::size_t group = 256;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 1));
    return {(n + group - 1) / group * group, 1, group, 1};
  }
  /// One group of gpu_row_group work-items per row.
  static GpuRange rows(std::int64_t rows) {
    return {static_cast<std::size_t>(rows) * gpu_row_group, 1, gpu_row_group, 1};
  }
};

/// A 2-D float tensor in device memory, row-major. Resizing keeps the
/// allocation when it is large enough.
template <class Buffer>
struct GpuTensor {
  Buffer buffer{};
  long rows_ = 0;
  long cols_ = 0;
  std::size_t capacity = 0;  ///< floats allocated

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
};

/// Token ids or positions in device memory, with the host copy when they
/// came from the host (so that ids can be checked without a transfer).
template <class Buffer>
struct GpuIndices {
  Buffer buffer{};
  std::size_t count = 0;
  std::size_t capacity = 0;
  std::vector<std::int32_t> host;
  bool host_valid = false;

  [[nodiscard]] std::size_t size() const noexcept { return count; }
};

/// The arguments of GEMM y = x wᵀ on strided views: x [n, k] (row stride
/// ldx, from element xoff), w [m, k], y [n, m].
template <class Buffer>
struct GemmArgs {
  const Buffer* x = nullptr;
  std::int64_t xoff = 0;
  int ldx = 0;
  const Buffer* w = nullptr;
  std::int64_t woff = 0;
  int ldw = 0;
  Buffer* y = nullptr;
  std::int64_t yoff = 0;
  int ldy = 0;
  int n = 0, m = 0, k = 0;
};

/// The primitives of a device runtime D over buffers of type Buffer (see
/// the top of this file). GpuOps<D, Buffer> checks it, so a runtime that
/// misses one is told which; a runtime states it with
/// static_assert(accelbench::DeviceRuntime<MyRuntime, MyBuffer>).
template <class D, class Buffer>
concept DeviceRuntime =
    std::movable<Buffer> && std::default_initializable<Buffer> &&
    requires(D& d, Buffer& b, const Buffer& cb, void* out, const void* in, std::size_t bytes,
             const GemmArgs<Buffer>& gemm, const GpuRange& range) {
      { D::name } -> std::convertible_to<std::string_view>;
      { static_cast<bool>(cb) };
      { d.allocate(bytes) } -> std::same_as<Buffer>;
      d.write(b, in, bytes);
      d.read(cb, out, bytes);
      d.handle(cb);
      d.index_handle(cb);
      d.gemm_nt(gemm);
      d.template launch<GpuKernel::add>(range, d.handle(cb), d.handle(cb), std::int64_t{0});
    };

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_RUNTIME_HPP
// ---- end accelbench/backend/device/runtime.hpp ----

namespace accelbench {

/// The ops of EncoderOps, GenerationOps and PerceptionOps, and the Backend
/// concept's transfers, written once over the primitives of Derived.
template <class Derived, class Buffer>
class GpuOps {
 public:
  using Tensor = GpuTensor<Buffer>;
  using IndexTensor = GpuIndices<Buffer>;

  // ---- transfers ----

  [[nodiscard]] Tensor upload(const HostMatrix& m) {
    Tensor t;
    ensure(t, static_cast<long>(m.rows()), static_cast<long>(m.cols()));
    if (m.size() > 0) d().write(t.buffer, m.data(), bytes(t));
    return t;
  }

  [[nodiscard]] IndexTensor upload_indices(std::span<const std::int32_t> ids) {
    IndexTensor t;
    ensure_indices(t, ids.size());
    if (!ids.empty()) d().write(t.buffer, ids.data(), ids.size() * sizeof(std::int32_t));
    t.host.assign(ids.begin(), ids.end());
    t.host_valid = true;
    return t;
  }

  [[nodiscard]] HostMatrix download(const Tensor& t) {
    HostMatrix m(t.rows(), t.cols());
    if (t.size() > 0) d().read(t.buffer, m.data(), bytes(t));
    return m;
  }

  [[nodiscard]] std::vector<std::int32_t> download_indices(const IndexTensor& ids) {
    if (ids.host_valid) return ids.host;
    std::vector<std::int32_t> out(ids.count);
    if (!out.empty()) d().read(ids.buffer, out.data(), out.size() * sizeof(std::int32_t));
    return out;
  }

  // ---- EncoderOps ----

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.cols() != w.cols()) {
      fail("linear", "input has " + std::to_string(x.cols()) + " columns, weight expects " + std::to_string(w.cols()));
    }
    if (!b.empty() && (b.rows() != 1 || b.cols() != w.rows())) {
      fail("linear", "bias must be [1, " + std::to_string(w.rows()) + "]");
    }
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, x.rows(), w.rows());
      gemm(x, w, 0, static_cast<int>(w.rows()), out, 0, static_cast<int>(x.rows()),
           static_cast<int>(x.cols()));
      if (!b.empty()) add_bias(out, 0, b, static_cast<int>(x.rows()), static_cast<int>(w.rows()));
    });
  }

  void add(const Tensor& x, Tensor& y) {
    same_shape("add", x, y);
    d().template launch<GpuKernel::add>(GpuRange::elements(y.size()), h(x), h(y), i64(y.size()));
  }

  void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
    if (gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("layer_norm", "gamma and beta must have " + std::to_string(x.cols()) + " elements");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(beta), h(y),
                                             int(x.cols()), eps, 0);
  }

  void gelu(Tensor& x) { activation(x, 0, 0.0f); }

  void softmax(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 0);
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionDims& dims,
                 Tensor& y) {
    attention(q, k, v, mask, Tensor{}, dims, y);
  }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& y) {
    if (ids.host_valid) {
      for (std::size_t i = 0; i < ids.host.size(); ++i) {
        if (ids.host[i] < 0 || ids.host[i] >= table.rows()) {
          throw std::out_of_range(std::string(Derived::name) + " embedding_lookup: id " +
                                  std::to_string(ids.host[i]) + " at position " + std::to_string(i) +
                                  " is outside the table's " + std::to_string(table.rows()) + " rows");
        }
      }
    }
    ensure(y, static_cast<long>(ids.count), table.cols());
    if (y.size() == 0) return;
    d().template launch<GpuKernel::embedding_lookup>(GpuRange::elements(y.size()), h(table), h(ids), h(y),
                                                     i64(y.size()), int(table.cols()), int(table.rows()));
  }

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& y) {
    const long batch = mask.rows();
    const long len = mask.cols();
    if (batch * len != x.rows()) {
      fail("masked_mean_pool", "mask [" + std::to_string(batch) + ", " + std::to_string(len) + "] does not cover " +
                                   std::to_string(x.rows()) + " rows");
    }
    with_output(y, &x == &y || &mask == &y, [&](Tensor& out) {
      ensure(out, batch, x.cols());
      if (out.size() == 0) return;
      d().template launch<GpuKernel::masked_mean_pool>(GpuRange::elements(out.size()), h(x), h(mask), h(out),
                                                       int(batch), int(len), int(x.cols()));
    });
  }

  // ---- GenerationOps ----

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Tensor& bias,
                 const AttentionDims& dims, Tensor& y) {
    const int heads = dims.heads;
    const int kv_heads = dims.effective_kv_heads();
    const int stride = dims.effective_key_stride();
    const int hd = dims.head_dim;
    if (dims.batch <= 0 || dims.query_len <= 0 || dims.key_len <= 0 || heads <= 0 || hd <= 0 || kv_heads <= 0 ||
        heads % kv_heads != 0 || stride < dims.key_len || (dims.causal && dims.query_len > dims.key_len) ||
        dims.window < 0 || (dims.window > 0 && !dims.causal)) {
      fail("attention", "invalid dimensions (batch " + std::to_string(dims.batch) + ", query_len " +
                            std::to_string(dims.query_len) + ", key_len " + std::to_string(dims.key_len) +
                            ", heads " + std::to_string(heads) + ", kv_heads " + std::to_string(kv_heads) +
                            ", head_dim " + std::to_string(hd) + ", key_stride " + std::to_string(stride) +
                            ", window " + std::to_string(dims.window) + ")");
    }
    if (q.rows() != long(dims.batch) * dims.query_len || q.cols() != long(heads) * hd) {
      fail("attention", "queries must be [batch * query_len, heads * head_dim]");
    }
    if (k.rows() != long(dims.batch) * stride || v.rows() != k.rows() || k.cols() != long(kv_heads) * hd ||
        v.cols() != k.cols()) {
      fail("attention", "keys and values must be [batch * key_stride, kv_heads * head_dim]");
    }
    if (!mask.empty() && (mask.rows() != dims.batch || mask.cols() != dims.key_len)) {
      fail("attention", "mask must be [batch, key_len]");
    }
    if (!bias.empty() && (bias.rows() != long(heads) * dims.query_len || bias.cols() != dims.key_len)) {
      fail("attention", "position bias must be [heads * query_len, key_len]");
    }
    const float scale = dims.scale != 0.0f ? dims.scale : 1.0f / std::sqrt(static_cast<float>(hd));
    const long groups = long(dims.batch) * heads * dims.query_len;
    ensure(scores_, groups, dims.key_len);
    with_output(y, &y == &q || &y == &k || &y == &v, [&](Tensor& out) {
      ensure(out, q.rows(), q.cols());
      d().template launch<GpuKernel::attention>(GpuRange::rows(groups), h(q), h(k), h(v), h(mask), int(!mask.empty()),
                                                h(bias), int(!bias.empty()), h(out), h(scores_), dims.query_len,
                                                dims.key_len, heads, hd, kv_heads, stride, int(dims.causal),
                                                dims.window, scale);
    });
  }

  void rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
    if (gamma.size() != x.cols()) fail("rms_norm", "gamma must have " + std::to_string(x.cols()) + " elements");
    if (&x != &y) ensure(y, x.rows(), x.cols());
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::row_norm>(GpuRange::rows(x.rows()), h(x), h(gamma), h(Tensor{}), h(y),
                                             int(x.cols()), eps, 1);
  }

  void gelu_tanh(Tensor& x) { activation(x, 1, 0.0f); }
  void relu(Tensor& x) { activation(x, 2, 0.0f); }
  void silu(Tensor& x) { activation(x, 3, 0.0f); }
  void quick_gelu(Tensor& x) { activation(x, 4, 0.0f); }
  void scale(Tensor& x, float s) { activation(x, 5, s); }

  void swiglu(const Tensor& x, Tensor& y) { gated("swiglu", x, y, 0); }
  void geglu_tanh(const Tensor& x, Tensor& y) { gated("geglu_tanh", x, y, 1); }

  void rotary(Tensor& x, const RotaryDims& r) {
    if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
      fail("rotary", "head_dim must be even and every dimension positive");
    }
    if (x.rows() != long(r.batch) * r.len || x.cols() != long(r.heads) * r.head_dim) {
      fail("rotary", "input must be [batch * len, heads * head_dim]");
    }
    const RotaryTable& t = rotary_table(r, long(r.start) + r.len);
    const std::int64_t count = std::int64_t{x.rows()} * r.heads * (r.head_dim / 2);
    d().template launch<GpuKernel::rotary>(GpuRange::elements(count), h(x), h(t.cos), h(t.sin), i64(x.rows()), r.len,
                                           r.heads, r.head_dim, r.start);
  }

  void add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
    if (start < 0 || len < 0 || long(start) + len > table.rows()) {
      throw std::out_of_range(std::string(Derived::name) + " add_positions: positions " + std::to_string(start) +
                              ".." + std::to_string(start + len - 1) + " are outside the table's " +
                              std::to_string(table.rows()) + " rows");
    }
    if (y.rows() != long(batch) * len || y.cols() != table.cols()) {
      fail("add_positions", "output must be [batch * len, " + std::to_string(table.cols()) + "]");
    }
    if (y.size() == 0) return;
    d().template launch<GpuKernel::add_positions>(GpuRange::elements(y.size()), h(table), h(y), start, len,
                                                  i64(y.size()), int(y.cols()));
  }

  void cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
    if (x.rows() != long(c.batch) * c.len || cache.rows() != long(c.batch) * c.capacity || x.cols() != cache.cols()) {
      fail("cache_write", "new rows must be [batch * len, width] and the cache [batch * capacity, width]");
    }
    if (c.start < 0 || c.start + c.len > c.capacity) {
      throw std::out_of_range(std::string(Derived::name) + " cache_write: rows " + std::to_string(c.start) + ".." +
                              std::to_string(c.start + c.len - 1) + " are outside the capacity " +
                              std::to_string(c.capacity));
    }
    if (x.size() == 0) return;
    d().template launch<GpuKernel::cache_write>(GpuRange::elements(x.size()), h(x), h(cache), c.len, c.capacity,
                                                c.start, i64(x.size()), int(x.cols()));
  }

  void relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& y) {
    if (table.rows() != r.num_buckets || r.query_len < 0 || r.key_len < 0 || r.query_start < 0) {
      fail("relative_position_bias", "table must be [num_buckets, heads] and lengths non-negative");
    }
    const int heads = static_cast<int>(table.cols());
    ensure(y, long(heads) * r.query_len, r.key_len);
    if (y.size() == 0) return;
    // One bucket per relative position, from -(query_start + query_len - 1) to key_len - 1.
    const int lowest = -(r.query_start + r.query_len - 1);
    std::vector<std::int32_t> buckets(static_cast<std::size_t>(r.key_len - lowest));
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      buckets[i] = t5_relative_bucket(lowest + static_cast<int>(i), r.bidirectional, r.num_buckets, r.max_distance);
    }
    ensure_indices(buckets_, buckets.size());
    d().write(buckets_.buffer, buckets.data(), buckets.size() * sizeof(std::int32_t));
    d().template launch<GpuKernel::relative_bias>(GpuRange::elements(y.size()), h(table), h(buckets_), h(y), heads,
                                                  r.query_len, r.key_len, r.query_start);
  }

  void argmax_rows(const Tensor& x, IndexTensor& ids) {
    if (x.cols() <= 0) fail("argmax_rows", "input has no columns");
    ensure_indices(ids, static_cast<std::size_t>(x.rows()));
    ids.host_valid = false;
    if (x.rows() == 0) return;
    d().template launch<GpuKernel::argmax_rows>(GpuRange::rows(x.rows()), h(x), h(ids), int(x.cols()));
  }

  // ---- PerceptionOps ----

  void conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.channels <= 0 || c.height <= 0 || c.width <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.height + 2 * c.padding < c.kernel || c.width + 2 * c.padding < c.kernel) {
      fail("conv2d", "invalid dimensions");
    }
    const long k = long(c.channels) * c.kernel * c.kernel;
    if (x.rows() != c.batch || x.cols() != long(c.channels) * c.height * c.width) {
      fail("conv2d", "input must be [batch, channels * height * width]");
    }
    if (w.rows() != c.out_channels || w.cols() != k) fail("conv2d", "weight must be [out, channels * kernel * kernel]");
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv2d", "bias must be [1, out]");
    const long positions = long(c.batch) * c.out_height() * c.out_width();
    ensure(columns_, positions, k);
    d().template launch<GpuKernel::im2col_2d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.channels,
                                              c.height, c.width, c.kernel, c.stride, c.padding, c.out_height(),
                                              c.out_width(), i64(columns_.size()));
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, positions, c.out_channels);
      gemm(columns_, w, 0, c.out_channels, out, 0, int(positions), int(k));
      if (!b.empty()) add_bias(out, 0, b, int(positions), c.out_channels);
    });
  }

  void conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& c, Tensor& y) {
    if (c.batch <= 0 || c.length <= 0 || c.in_channels <= 0 || c.out_channels <= 0 || c.kernel <= 0 ||
        c.stride <= 0 || c.padding < 0 || c.groups <= 0 || c.in_channels % c.groups != 0 ||
        c.out_channels % c.groups != 0 || c.length + 2 * c.padding < c.kernel) {
      fail("conv1d", "invalid dimensions");
    }
    const int group_in = c.in_channels / c.groups;
    const int group_out = c.out_channels / c.groups;
    if (x.rows() != long(c.batch) * c.length || x.cols() != c.in_channels) {
      fail("conv1d", "input must be [batch * length, in_channels]");
    }
    if (w.rows() != c.out_channels || w.cols() != long(group_in) * c.kernel) {
      fail("conv1d", "weight must be [out, in / groups * kernel]");
    }
    if (!b.empty() && (b.rows() != 1 || b.cols() != c.out_channels)) fail("conv1d", "bias must be [1, out]");
    const long rows = long(c.batch) * c.out_length();
    const long k = long(group_in) * c.kernel;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, rows, c.out_channels);
      ensure(columns_, rows, k);
      for (int g = 0; g < c.groups; ++g) {
        d().template launch<GpuKernel::im2col_1d>(GpuRange::elements(columns_.size()), h(x), h(columns_), c.length,
                                                  c.in_channels, group_in, g, c.kernel, c.stride, c.padding,
                                                  c.out_length(), i64(columns_.size()));
        gemm(columns_, w, std::int64_t{g} * group_out * k, group_out, out, std::int64_t{g} * group_out, int(rows), int(k),
             c.out_channels);
      }
      if (!b.empty()) add_bias(out, 0, b, int(rows), c.out_channels);
    });
  }

  void group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& g, float eps,
                  Tensor& y) {
    if (g.batch <= 0 || g.length <= 0 || g.groups <= 0 || x.rows() != long(g.batch) * g.length ||
        x.cols() % g.groups != 0 || gamma.size() != x.cols() || beta.size() != x.cols()) {
      fail("group_norm", "input must be [batch * length, channels] with channels a multiple of groups");
    }
    if (&x != &y) ensure(y, x.rows(), x.cols());
    d().template launch<GpuKernel::group_norm>(GpuRange::rows(std::int64_t{g.batch} * g.groups), h(x), h(gamma),
                                               h(beta), h(y), g.length, int(x.cols()), g.groups, eps);
  }

  void prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
    if (batch <= 0 || x.rows() % batch != 0 || row.rows() != 1 || row.cols() != x.cols()) {
      fail("prepend_row", "x must be [batch * n, width] and the row [1, width]");
    }
    const long n = x.rows() / batch;
    with_output(y, &x == &y || &row == &y, [&](Tensor& out) {
      ensure(out, long(batch) * (n + 1), x.cols());
      d().template launch<GpuKernel::prepend_row>(GpuRange::elements(out.size()), h(x), h(row), h(out), int(n),
                                                  i64(out.size()), int(x.cols()));
    });
  }

  void normalize_rows(Tensor& x) {
    if (x.rows() == 0 || x.cols() == 0) return;
    d().template launch<GpuKernel::row_scale>(GpuRange::rows(x.rows()), h(x), int(x.cols()), 1);
  }

 protected:
  /// Resizes t, reallocating only when it needs more room than it has.
  void ensure(Tensor& t, long rows, long cols) {
    const auto n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(float));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.rows_ = rows;
    t.cols_ = cols;
  }

  void ensure_indices(IndexTensor& t, std::size_t n) {
    if (n > t.capacity || !t.buffer) {
      t.buffer = d().allocate(std::max<std::size_t>(n, 1) * sizeof(std::int32_t));
      t.capacity = std::max<std::size_t>(n, 1);
    }
    t.count = n;
  }

 private:
  struct RotaryTable {
    RotaryDims frequencies;  // theta, head_dim and the scaling
    Tensor cos, sin;
  };

  Derived& d() {
    static_assert(DeviceRuntime<Derived, Buffer>,
                  "GpuOps<Derived, Buffer>: Derived must provide the primitives of DeviceRuntime (allocate, write, "
                  "read, handle, index_handle, launch<GpuKernel>, gemm_nt; see backend/device/runtime.hpp); the "
                  "notes below name the one that is missing");
    return static_cast<Derived&>(*this);
  }
  static std::size_t bytes(const Tensor& t) { return static_cast<std::size_t>(t.size()) * sizeof(float); }
  static std::int64_t i64(long v) { return static_cast<std::int64_t>(v); }
  auto h(const Tensor& t) { return d().handle(t.buffer); }
  auto h(const IndexTensor& t) { return d().index_handle(t.buffer); }

  [[noreturn]] static void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(Derived::name) + " " + op + ": " + what);
  }
  static void same_shape(const char* op, const Tensor& a, const Tensor& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      fail(op, "shapes differ: [" + std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + "] and [" +
                   std::to_string(b.rows()) + ", " + std::to_string(b.cols()) + "]");
    }
  }

  /// Runs f on y, or on a fresh tensor moved into y afterwards when y is
  /// also an input of the op.
  template <class F>
  void with_output(Tensor& y, bool aliased, F&& f) {
    if (!aliased) {
      f(y);
      return;
    }
    Tensor fresh;
    f(fresh);
    y = std::move(fresh);
  }

  void activation(Tensor& x, int kind, float s) {
    if (x.size() == 0) return;
    d().template launch<GpuKernel::activation>(GpuRange::elements(x.size()), h(x), i64(x.size()), kind, s);
  }

  /// y = act(x[:, :i]) * x[:, i:] for x [n, 2i]: act SiLU (kind 0) or tanh GELU (kind 1).
  void gated(const char* op, const Tensor& x, Tensor& y, int kind) {
    if (x.cols() % 2 != 0) fail(op, "input width " + std::to_string(x.cols()) + " is odd");
    const long half = x.cols() / 2;
    with_output(y, &x == &y, [&](Tensor& out) {
      ensure(out, x.rows(), half);
      if (out.size() == 0) return;
      d().template launch<GpuKernel::gated>(GpuRange::elements(out.size()), h(x), h(out), i64(x.rows()), int(half), kind);
    });
  }

  /// y[:, yoff..] = x wᵀ with w's rows from element woff: x [n, k], m rows of w.
  void gemm(const Tensor& x, const Tensor& w, std::int64_t woff, int m, Tensor& y, std::int64_t yoff, int n, int k,
            int ldy = 0) {
    GemmArgs<Buffer> g;
    g.x = &x.buffer;
    g.xoff = 0;
    g.ldx = k;
    g.w = &w.buffer;
    g.woff = woff;
    g.ldw = k;
    g.y = &y.buffer;
    g.yoff = yoff;
    g.ldy = ldy > 0 ? ldy : m;
    g.n = n;
    g.m = m;
    g.k = k;
    if (n > 0 && m > 0) d().gemm_nt(g);
  }

  void add_bias(Tensor& y, std::int64_t yoff, const Tensor& b, int n, int m) {
    if (n <= 0 || m <= 0) return;
    d().template launch<GpuKernel::add_bias>(GpuRange::elements(std::int64_t{n} * m), h(y), yoff, m, h(b), n, m);
  }

  const RotaryTable& rotary_table(const RotaryDims& r, long positions) {
    for (const auto& t : rotary_) {
      if (same_rotary_frequencies(t.frequencies, r) && t.cos.rows() >= positions) return t;
    }
    const auto angles = detail::rotary_angles(rotary_inv_freqs(r), std::max<long>(positions, 256));
    RotaryTable t{r, upload(angles.cos), upload(angles.sin)};
    std::erase_if(rotary_, [&](const RotaryTable& old) { return same_rotary_frequencies(old.frequencies, r); });
    rotary_.push_back(std::move(t));
    return rotary_.back();
  }

  Tensor scores_;    // attention's scores, [groups, key_len]
  Tensor columns_;   // im2col of the convolutions
  IndexTensor buckets_;  // relative_position_bias's buckets
  std::vector<RotaryTable> rotary_;
};

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_DEVICE_GPU_OPS_HPP
// ---- end accelbench/backend/device/gpu_ops.hpp ----
// ---- begin accelbench/backend/cuda/devices.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP

// The CUDA devices of this machine, through the driver API of libcuda.so.1
// opened at run time: `accelbench check`'s CUDA section and the Cuda
// backend's describe_devices(). It needs no CUDA header, no nvcc and no
// link to the CUDA libraries, and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/detail/dynamic_library.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP

// Opening a shared library at run time (dlopen) and finding its functions,
// so that code can use a vendor's driver where one is installed and say why
// not where it is missing, without linking against it.

#include <string>
#include <vector>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define ACCELBENCH_HAS_DLOPEN 1
#endif

namespace accelbench::detail {

/// A shared library opened with dlopen. It stays loaded for the life of the
/// process, on purpose: GPU drivers start threads and register exit handlers
/// whose code must not be unmapped while the program runs.
class DynamicLibrary {
 public:
  /// Opens the first of `names` that loads; when none does, error() says why
  /// for each of them.
  explicit DynamicLibrary(const std::vector<std::string>& names) {
#if defined(ACCELBENCH_HAS_DLOPEN)
    for (const auto& n : names) {
      handle_ = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_ != nullptr) {
        name_ = n;
        error_.clear();
        return;
      }
      const char* why = dlerror();
      error_ += (error_.empty() ? "" : "; ") + (why != nullptr ? std::string(why) : n + ": cannot be opened");
    }
    if (names.empty()) error_ = "no library name given";
#else
    (void)names;
    error_ = "loading libraries at run time is not supported on this system";
#endif
  }

  [[nodiscard]] explicit operator bool() const noexcept { return handle_ != nullptr; }
  /// The name that was opened; "" when none was.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Why no library was opened; "" when one was.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  /// The function `symbol` as a pointer of type F, or nullptr when the
  /// library does not export it.
  template <class F>
  [[nodiscard]] F function(const char* symbol) const noexcept {
#if defined(ACCELBENCH_HAS_DLOPEN)
    if (handle_ == nullptr) return nullptr;
    return reinterpret_cast<F>(dlsym(handle_, symbol));
#else
    (void)symbol;
    return nullptr;
#endif
  }

 private:
  void* handle_ = nullptr;
  std::string name_;
  std::string error_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
// ---- end accelbench/detail/dynamic_library.hpp ----

namespace accelbench {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  std::string compute_capability;  ///< "9.0"
  int multiprocessors = 0;
  std::uint64_t memory_bytes = 0;
  int clock_mhz = 0;               ///< 0 when the driver does not say
  int memory_clock_mhz = 0;
  int memory_bus_width_bits = 0;
  std::uint64_t l2_cache_bytes = 0;
  std::string pci_bus_id;
  friend bool operator==(const CudaDeviceInfo&, const CudaDeviceInfo&) = default;
};

struct CudaHardware {
  bool available = false;      ///< at least one device
  std::string reason;          ///< why not, when not available
  std::string library;         ///< the driver library that was opened
  std::string driver_version;  ///< "13.0"; "" when unknown
  std::vector<CudaDeviceInfo> devices;
  friend bool operator==(const CudaHardware&, const CudaHardware&) = default;
};

namespace detail {

/// The name of a CUresult, and what it means, for the codes met when
/// there is no usable GPU; "" for the others.
inline std::string cuda_error_text(int code) {
  switch (code) {
    case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY: libcuda is the toolkit's stub, not an NVIDIA driver";
    case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER: the NVIDIA kernel driver is older than libcuda";
    case 46: return "CUDA_ERROR_DEVICES_UNAVAILABLE: every device is busy or unavailable";
    case 100: return "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected";
    case 101: return "CUDA_ERROR_INVALID_DEVICE";
    case 304: return "CUDA_ERROR_OPERATING_SYSTEM";
    case 803: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: the kernel driver and libcuda differ in version";
    case 999: return "CUDA_ERROR_UNKNOWN";
    default: return {};
  }
}

inline std::vector<std::string> cuda_library_names() {
#if defined(_WIN32)
  return {"nvcuda.dll"};
#else
  return {"libcuda.so.1", "libcuda.so"};
#endif
}

/// "13.0" for cuDriverGetVersion's 13000, "12.4" for 12040.
inline std::string cuda_version_text(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

/// detect_cuda() with the driver looked for under `libraries`, in order.
inline CudaHardware detect_cuda_from(const std::vector<std::string>& libraries) {
  // The few driver API functions used, declared here so that no CUDA header
  // is needed: CUresult is an int, CUdevice an int.
  using Init = int (*)(unsigned);
  using DriverGetVersion = int (*)(int*);
  using DeviceGetCount = int (*)(int*);
  using DeviceGet = int (*)(int*, int);
  using DeviceGetName = int (*)(char*, int, int);
  using DeviceTotalMem = int (*)(std::size_t*, int);
  using DeviceGetAttribute = int (*)(int*, int, int);
  using DeviceGetPciBusId = int (*)(char*, int, int);
  using GetErrorText = int (*)(int, const char**);

  CudaHardware cu;
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cu.reason = "CUDA driver library not found (" + lib.error() + ")";
    return cu;
  }
  cu.library = lib.name();
  const auto init = lib.function<Init>("cuInit");
  const auto driver_version = lib.function<DriverGetVersion>("cuDriverGetVersion");
  const auto device_count = lib.function<DeviceGetCount>("cuDeviceGetCount");
  const auto device_get = lib.function<DeviceGet>("cuDeviceGet");
  const auto device_name = lib.function<DeviceGetName>("cuDeviceGetName");
  const auto total_mem = lib.function<DeviceTotalMem>("cuDeviceTotalMem_v2");
  const auto attribute = lib.function<DeviceGetAttribute>("cuDeviceGetAttribute");
  const auto pci_bus_id = lib.function<DeviceGetPciBusId>("cuDeviceGetPCIBusId");
  const auto error_name = lib.function<GetErrorText>("cuGetErrorName");
  const auto error_string = lib.function<GetErrorText>("cuGetErrorString");
  if (init == nullptr || device_count == nullptr || device_get == nullptr || device_name == nullptr ||
      attribute == nullptr) {
    cu.reason = lib.name() + " lacks cuInit, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName or cuDeviceGetAttribute";
    return cu;
  }
  const auto call_error = [&](std::string_view call, int rc) {
    std::string text = cuda_error_text(rc);
    if (text.empty()) {
      const char* name = nullptr;
      const char* what = nullptr;
      if (error_name != nullptr && error_name(rc, &name) == 0 && name != nullptr) text = name;
      if (error_string != nullptr && error_string(rc, &what) == 0 && what != nullptr) {
        text += (text.empty() ? "" : ": ") + std::string(what);
      }
      if (text.empty()) text = "unknown CUresult";
    }
    const auto colon = text.find(':');
    if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, rc, text);
    return fmt::format("{} returned {} ({}):{}", call, rc, text.substr(0, colon), text.substr(colon + 1));
  };
  int version = 0;
  if (driver_version != nullptr && driver_version(&version) == 0 && version > 0) {
    cu.driver_version = cuda_version_text(version);
  }
  if (const int rc = init(0); rc != 0) {
    cu.reason = call_error("cuInit", rc);
    return cu;
  }
  int count = 0;
  if (const int rc = device_count(&count); rc != 0) {
    cu.reason = call_error("cuDeviceGetCount", rc);
    return cu;
  }
  for (int i = 0; i < count; ++i) {
    int dev = 0;
    if (device_get(&dev, i) != 0) continue;
    CudaDeviceInfo d;
    d.index = i;
    char name[256] = {};
    if (device_name(name, static_cast<int>(sizeof name) - 1, dev) == 0) d.name = name;
    const auto attr = [&](int which) {
      int v = 0;
      return attribute(&v, which, dev) == 0 ? v : 0;
    };
    // CUdevice_attribute values of cuda.h.
    d.compute_capability = fmt::format("{}.{}", attr(75), attr(76));
    d.multiprocessors = attr(16);
    d.clock_mhz = attr(13) / 1000;         // kHz
    d.memory_clock_mhz = attr(36) / 1000;  // kHz
    d.memory_bus_width_bits = attr(37);
    d.l2_cache_bytes = static_cast<std::uint64_t>(attr(38));
    std::size_t bytes = 0;
    if (total_mem != nullptr && total_mem(&bytes, dev) == 0) d.memory_bytes = bytes;
    char bus[64] = {};
    if (pci_bus_id != nullptr && pci_bus_id(bus, static_cast<int>(sizeof bus) - 1, dev) == 0) d.pci_bus_id = bus;
    cu.devices.push_back(std::move(d));
  }
  cu.available = !cu.devices.empty();
  if (!cu.available) cu.reason = fmt::format("cuInit succeeded but cuDeviceGetCount found {} devices", count);
  return cu;
}

}  // namespace detail

/// The CUDA devices, through the driver API of libcuda.so.1 opened at run
/// time; `available` is false, with the reason, when there is no driver or
/// no device.
[[nodiscard]] inline CudaHardware detect_cuda() { return detail::detect_cuda_from(detail::cuda_library_names()); }

/// The CUDA section's lines (without its "CUDA" heading).
[[nodiscard]] inline std::string format_cuda_hardware(const CudaHardware& cu) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cu.library.empty()) hardware_line(out, 2, "driver library", cu.library);
  if (!cu.driver_version.empty()) hardware_line(out, 2, "driver version", cu.driver_version);
  for (const auto& d : cu.devices) {
    hardware_line(out, 2, fmt::format("device {}", d.index), d.name);
    hardware_line(out, 4, "compute capability", d.compute_capability);
    hardware_line(out, 4, "multiprocessors", std::to_string(d.multiprocessors));
    hardware_line(out, 4, "memory", binary_size(d.memory_bytes));
    if (d.clock_mhz > 0) hardware_line(out, 4, "clock", fmt::format("{} MHz", d.clock_mhz));
    if (d.memory_clock_mhz > 0 || d.memory_bus_width_bits > 0) {
      hardware_line(out, 4, "memory bus",
                    fmt::format("{} MHz, {} bits", d.memory_clock_mhz, d.memory_bus_width_bits));
    }
    if (d.l2_cache_bytes > 0) hardware_line(out, 4, "L2 cache", binary_size(d.l2_cache_bytes));
    if (!d.pci_bus_id.empty()) hardware_line(out, 4, "PCI bus", d.pci_bus_id);
  }
  if (!cu.available) hardware_line(out, 2, "not available", cu.reason);
  return out;
}

/// The CUDA section as JSON; unknown values are null.
/// cuda_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const CudaHardware& cu) {
  using detail::optional_text;
  Json cuda_devices = Json::array();
  for (const auto& d : cu.devices) {
    cuda_devices.push_back(Json{{"index", d.index},
                                {"name", d.name},
                                {"compute_capability", d.compute_capability},
                                {"multiprocessors", d.multiprocessors},
                                {"memory_bytes", d.memory_bytes},
                                {"clock_mhz", d.clock_mhz},
                                {"memory_clock_mhz", d.memory_clock_mhz},
                                {"memory_bus_width_bits", d.memory_bus_width_bits},
                                {"l2_cache_bytes", d.l2_cache_bytes},
                                {"pci_bus_id", optional_text(d.pci_bus_id)}});
  }
  return Json{{"available", cu.available},
              {"reason", optional_text(cu.reason)},
              {"library", optional_text(cu.library)},
              {"driver_version", optional_text(cu.driver_version)},
              {"devices", cuda_devices}};
}

/// A CUDA section from its JSON form (to_json's).
[[nodiscard]] inline CudaHardware cuda_hardware_from_json(const Json& cu) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  CudaHardware cuda;
  cuda.available = cu.value("available", false);
  cuda.reason = hardware_json_text(cu, "reason");
  cuda.library = hardware_json_text(cu, "library");
  cuda.driver_version = hardware_json_text(cu, "driver_version");
  for (const auto& d : cu.value("devices", Json::array())) {
    cuda.devices.push_back(CudaDeviceInfo{.index = hardware_json_number<int>(d, "index"),
                                        .name = hardware_json_text(d, "name"),
                                        .compute_capability = hardware_json_text(d, "compute_capability"),
                                        .multiprocessors = hardware_json_number<int>(d, "multiprocessors"),
                                        .memory_bytes = hardware_json_number<std::uint64_t>(d, "memory_bytes"),
                                        .clock_mhz = hardware_json_number<int>(d, "clock_mhz"),
                                        .memory_clock_mhz = hardware_json_number<int>(d, "memory_clock_mhz"),
                                        .memory_bus_width_bits = hardware_json_number<int>(d, "memory_bus_width_bits"),
                                        .l2_cache_bytes = hardware_json_number<std::uint64_t>(d, "l2_cache_bytes"),
                                        .pci_bus_id = hardware_json_text(d, "pci_bus_id")});
  }
  return cuda;
}

/// The CUDA section of `accelbench check` (the Cuda backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_cuda_devices() {
  const CudaHardware cu = detect_cuda();
  return DeviceReport{.title = "CUDA",
                      .key = "cuda",
                      .available = cu.available,
                      .reason = cu.reason,
                      .text = format_cuda_hardware(cu),
                      .json = to_json(cu)};
}

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP
// ---- end accelbench/backend/cuda/devices.hpp ----

namespace accelbench {

class CudaEventTimer;

class Cuda : public GpuOps<Cuda, detail::CudaBuffer> {
  using Base = GpuOps<Cuda, detail::CudaBuffer>;
  friend Base;

 public:
  using Tensor = Base::Tensor;
  using IndexTensor = Base::IndexTensor;
  using DefaultTimer = CudaEventTimer;

  static constexpr std::string_view name = "cuda";

  struct Options {
    int device = -1;  ///< index among the visible devices; -1: ACCELBENCH_CUDA_DEVICE, else 0
  };

  /// The device of ACCELBENCH_CUDA_DEVICE, else device 0. Without one the
  /// object is made all the same (available() says why) and its operations
  /// throw that reason, so that a Benchmark can report the backend
  /// unavailable.
  Cuda() {
    try {
      open(detail::select_cuda_device(-1));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }

  /// The device `options` names; throws when there is none.
  explicit Cuda(const Options& options) { open(detail::select_cuda_device(options.device)); }

  Cuda(Cuda&& o) noexcept
      : Base(std::move(o)),
        device_(std::move(o.device_)),
        stream_(std::exchange(o.stream_, nullptr)),
        blas_(std::exchange(o.blas_, nullptr)),
        error_(std::move(o.error_)) {}
  Cuda& operator=(Cuda&& o) noexcept {
    if (this != &o) {
      release();
      Base::operator=(std::move(o));
      device_ = std::move(o.device_);
      stream_ = std::exchange(o.stream_, nullptr);
      blas_ = std::exchange(o.blas_, nullptr);
      error_ = std::move(o.error_);
    }
    return *this;
  }
  Cuda(const Cuda&) = delete;
  Cuda& operator=(const Cuda&) = delete;
  ~Cuda() { release(); }

  /// Whether a device can be selected (as the default constructor would) and
  /// runs the program's kernels; otherwise the CUDA runtime's reason, e.g.
  /// "cudaGetDeviceCount returned 100 (cudaErrorNoDevice): no CUDA-capable
  /// device is detected". Never throws.
  [[nodiscard]] static Availability available() {
    try {
      (void)detail::select_cuda_device(-1);
      return Availability::yes();
    } catch (const std::exception& e) {
      return Availability::no(e.what());
    }
  }

  [[nodiscard]] DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    if (!device_) return d;
    const cudaDeviceProp& p = device_->properties;
    const int cc = p.major * 10 + p.minor;
    d.name = p.name;
    d.kind = "gpu";
    d.compute_units = p.multiProcessorCount;
    d.memory_bytes = p.totalGlobalMem;
    d.features.push_back("sm_" + std::to_string(cc));
    if (cc >= 53) d.features.emplace_back("fp16");
    if (cc >= 80) d.features.emplace_back("bf16");
    if (cc >= 80) d.features.emplace_back("tf32");
    d.properties.emplace_back("compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor));
    d.properties.emplace_back("location", device_key());
    (void)cudaSetDevice(device_->index);
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), device_->index) == cudaSuccess) {
      d.properties.emplace_back("pci_bus_id", bus);
    }
    int version = 0;
    if (cudaDriverGetVersion(&version) == cudaSuccess) {
      d.properties.emplace_back("driver_version", detail::cuda_version_string(version));
    }
    if (cudaRuntimeGetVersion(&version) == cudaSuccess) {
      d.properties.emplace_back("runtime_version", detail::cuda_version_string(version));
    }
    int major = 0, minor = 0, patch = 0;
    if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
      d.properties.emplace_back("cublas_version",
                                std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
    }
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device_->index) == cudaSuccess) {
      d.properties.emplace_back("clock_mhz", std::to_string(khz / 1000));
    }
    d.properties.emplace_back("memory_bus_width_bits", std::to_string(p.memoryBusWidth));
    d.properties.emplace_back("l2_cache_bytes", std::to_string(p.l2CacheSize));
    d.properties.emplace_back("shared_memory_per_block_bytes", std::to_string(p.sharedMemPerBlock));
    // What every process and context on the device holds (this program's
    // CUDA context, cuBLAS's workspace, other programs), unlike
    // device_memory(), which counts accelbench's buffers.
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      d.properties.emplace_back("memory_used_by_all_bytes", std::to_string(total_bytes - free_bytes));
      d.properties.emplace_back("memory_free_bytes", std::to_string(free_bytes));
    }
    (void)cudaGetLastError();
    d.properties.emplace_back("kernels_compiled_for", detail::cuda_compiled_architectures());
    d.properties.emplace_back("matmul", "cublasSgemm (float32)");
    return d;
  }

  /// The CUDA section of `accelbench check`: every device, through the
  /// driver API, whether or not this backend can open one.
  [[nodiscard]] static DeviceReport describe_devices() { return describe_cuda_devices(); }

  /// The device's index: objects on the same device may share loaded models
  /// (a ResourcePool keys them as "cuda:<index>").
  [[nodiscard]] std::string device_key() const {
    if (!device_) return "none";
    return std::to_string(device_->index);
  }

  /// Waits for the work queued on this object's stream.
  void synchronize() {
    (void)dev();
    make_current();
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  /// Device memory held by every Cuda object's buffers on this device
  /// (used, peak and time-weighted average are accelbench's buffers only;
  /// the CUDA context, cuBLAS's workspace and other programs are not
  /// counted: describe()'s memory_used_by_all_bytes has those); total_bytes
  /// is cudaMemGetInfo's total.
  [[nodiscard]] DeviceMemory device_memory() const {
    if (!device_) return {};
    DeviceMemory m = device_->memory();
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(device_->index) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      m.total_bytes = total_bytes;
    } else {
      (void)cudaGetLastError();
      m.total_bytes = device_->properties.totalGlobalMem;
    }
    return m;
  }
  /// Starts a new peak and mean (the Benchmark calls it at each cell's start).
  void reset_device_memory() {
    if (device_) device_->reset();
  }

  /// This object's stream (nullptr without a device).
  [[nodiscard]] cudaStream_t stream() const noexcept { return stream_; }
  /// The device's index (-1 without a device).
  [[nodiscard]] int device_index() const noexcept { return device_ ? device_->index : -1; }
  /// The cuBLAS handle bound to stream() (nullptr without a device).
  [[nodiscard]] cublasHandle_t cublas() const noexcept { return blas_; }

 private:
  friend class CudaEventTimer;

  void open(int index) {
    device_ = detail::CudaDevice::get(index);
    try {
      make_current();
      detail::cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
      detail::cublas_check(cublasCreate(&blas_), "cublasCreate");
      detail::cublas_check(cublasSetStream(blas_, stream_), "cublasSetStream");
      // Float32 products, as Cpu's: no TF32 unless NVIDIA_TF32_OVERRIDE asks.
      detail::cublas_check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
      release();
      device_.reset();
      throw;
    }
  }

  /// The device, or the reason there is none.
  const detail::CudaDevice& dev() const {
    if (!device_ || stream_ == nullptr) throw std::runtime_error("cuda: no device: " + error_);
    return *device_;
  }

  /// The CUDA runtime's current device is per thread: set it before each
  /// call, since a backend may be used from several threads.
  void make_current() const {
    detail::cuda_check(cudaSetDevice(device_->index), "cudaSetDevice");
  }

 public:
  // ---- the device runtime (DeviceRuntime), on which GpuOps builds every op ----

  detail::CudaBuffer allocate(std::size_t bytes) {
    (void)dev();
    make_current();
    void* ptr = nullptr;
    if (const cudaError_t e = cudaMalloc(&ptr, bytes); e != cudaSuccess) {
      detail::cuda_check(e, "cudaMalloc of " + std::to_string(bytes) + " bytes (accelbench's buffers hold " +
                                std::to_string(device_->memory().used_bytes) + " bytes on this device)");
    }
    return detail::CudaBuffer(ptr, bytes, device_);
  }
  void write(detail::CudaBuffer& b, const void* data, std::size_t bytes) {
    (void)dev();
    make_current();
    detail::cuda_check(cudaMemcpyAsync(b.get(), data, bytes, cudaMemcpyHostToDevice, stream_),
                       "cudaMemcpyAsync (host to device)");
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  void read(const detail::CudaBuffer& b, void* data, std::size_t bytes) {
    (void)dev();
    make_current();
    detail::cuda_check(cudaMemcpyAsync(data, b.get(), bytes, cudaMemcpyDeviceToHost, stream_),
                       "cudaMemcpyAsync (device to host)");
    detail::cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  static float* handle(const detail::CudaBuffer& b) noexcept { return static_cast<float*>(b.get()); }
  static std::int32_t* index_handle(const detail::CudaBuffer& b) noexcept {
    return static_cast<std::int32_t*>(b.get());
  }

  template <GpuKernel K, class... A>
  void launch(const GpuRange& range, A... args) {
    static_assert(((std::is_same_v<A, float*> || std::is_same_v<A, std::int32_t*> || std::is_same_v<A, int> ||
                    std::is_same_v<A, std::int64_t> || std::is_same_v<A, float>) && ...),
                  "kernel arguments are buffers, int, std::int64_t (long) or float");
    (void)dev();
    const char* kernel_name = gpu_kernel_names[static_cast<int>(K)];
    const std::size_t blocks0 = range.global0 / range.local0;
    const std::size_t blocks1 = range.global1 / range.local1;
    if (blocks0 == 0 || blocks0 > 0x7fffffffu || blocks1 == 0 || blocks1 > 65535u) {
      throw std::invalid_argument(std::string("cuda ") + kernel_name + ": a grid of " + std::to_string(blocks0) +
                                  " x " + std::to_string(blocks1) + " blocks is outside CUDA's limits");
    }
    make_current();
    (void)cudaGetLastError();  // so that the check below sees this launch's error only
    const dim3 grid(static_cast<unsigned>(blocks0), static_cast<unsigned>(blocks1));
    const dim3 block(static_cast<unsigned>(range.local0), static_cast<unsigned>(range.local1));
    const auto kernel = detail::cuda_kernel<K>();
    kernel<<<grid, block, 0, stream_>>>(args...);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
      detail::cuda_check(e, std::string("the launch of ") + kernel_name);
    }
  }

  /// Row-major y[n, m] = x[n, k] wᵀ (w is [m, k]) is column-major
  /// yᵀ = w xᵀ: cuBLAS's A is w's buffer read transposed, B is x's.
  void gemm_nt(const GemmArgs<detail::CudaBuffer>& g) {
    (void)dev();
    make_current();
    float* y = handle(*g.y) + g.yoff;
    if (g.k == 0) {  // an empty sum: y = 0 (cuBLAS rejects leading dimensions of 0)
      detail::cuda_check(cudaMemset2DAsync(y, std::size_t(g.ldy) * sizeof(float), 0, std::size_t(g.m) * sizeof(float),
                                           std::size_t(g.n), stream_),
                         "cudaMemset2DAsync");
      return;
    }
    const float one = 1.0f;
    const float zero = 0.0f;
    detail::cublas_check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, g.m, g.n, g.k, &one, handle(*g.w) + g.woff,
                                     g.ldw, handle(*g.x) + g.xoff, g.ldx, &zero, y, g.ldy),
                         "cublasSgemm");
  }

 private:
  void release() noexcept {
    if (device_ && (blas_ != nullptr || stream_ != nullptr)) (void)cudaSetDevice(device_->index);
    if (blas_ != nullptr) (void)cublasDestroy(blas_);
    blas_ = nullptr;
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
    stream_ = nullptr;
    (void)cudaGetLastError();
  }

  std::shared_ptr<detail::CudaDevice> device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  std::string error_;
};

static_assert(DeviceRuntime<Cuda, detail::CudaBuffer>);

/// Timer policy from CUDA events: an event recorded on the backend's stream
/// at start() and at stop(); the time between them on the device, in
/// seconds (cudaEventElapsedTime, resolution about half a microsecond).
class CudaEventTimer {
 public:
  static constexpr std::string_view name = "cuda_events";

  explicit CudaEventTimer(Cuda& backend) : stream_(backend.stream()), device_(backend.device_index()) {}
  CudaEventTimer(CudaEventTimer&& o) noexcept
      : stream_(std::exchange(o.stream_, nullptr)),
        device_(std::exchange(o.device_, -1)),
        start_(std::exchange(o.start_, nullptr)),
        stop_(std::exchange(o.stop_, nullptr)) {}
  CudaEventTimer& operator=(CudaEventTimer&& o) noexcept {
    if (this != &o) {
      release();
      stream_ = std::exchange(o.stream_, nullptr);
      device_ = std::exchange(o.device_, -1);
      start_ = std::exchange(o.start_, nullptr);
      stop_ = std::exchange(o.stop_, nullptr);
    }
    return *this;
  }
  CudaEventTimer(const CudaEventTimer&) = delete;
  CudaEventTimer& operator=(const CudaEventTimer&) = delete;
  ~CudaEventTimer() { release(); }

  void start() {
    prepare();
    detail::cuda_check(cudaEventRecord(start_, stream_), "cudaEventRecord");
  }

  /// Seconds between the start event and an event recorded now, waiting for it.
  [[nodiscard]] double stop() {
    prepare();
    detail::cuda_check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
    detail::cuda_check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    float ms = 0.0f;
    detail::cuda_check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return ms > 0.0f ? static_cast<double>(ms) * 1e-3 : 0.0;
  }

 private:
  /// Makes the device current and creates the events on first use.
  void prepare() {
    if (stream_ == nullptr || device_ < 0) throw std::runtime_error("cuda: the event timer's backend has no device");
    detail::cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    if (start_ == nullptr) detail::cuda_check(cudaEventCreate(&start_), "cudaEventCreate");
    if (stop_ == nullptr) detail::cuda_check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  void release() noexcept {
    if (start_ != nullptr || stop_ != nullptr) (void)cudaSetDevice(device_);
    if (start_ != nullptr) (void)cudaEventDestroy(start_);
    if (stop_ != nullptr) (void)cudaEventDestroy(stop_);
    start_ = stop_ = nullptr;
    (void)cudaGetLastError();
  }
  cudaStream_t stream_ = nullptr;
  int device_ = -1;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

static_assert(EncoderOps<Cuda>, "Cuda must provide every encoder op");
static_assert(GenerationOps<Cuda>, "Cuda must provide every text-generation op");
static_assert(PerceptionOps<Cuda>, "Cuda must provide every vision, audio and multimodal op");

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_CUH
// ---- end accelbench/backend/cuda.cuh ----
#endif

namespace accelbench {

/// The backends of this library. OpenCL is known where the program links
/// accelbench::opencl (ACCELBENCH_WITH_OPENCL), Cuda where it is compiled by
/// nvcc with accelbench::cuda.
using KnownBackends = TypeList<Cpu
#if defined(ACCELBENCH_WITH_OPENCL)
                               ,
                               OpenCL
#endif
#if defined(ACCELBENCH_WITH_CUDA) && defined(__CUDACC__)
                               ,
                               Cuda
#endif
                               >;
/// The model families of this library.
using KnownFamilies = TypeList<Embedding, TextGeneration, Vision, Audio, Multimodal>;
using KnownStats = TypeList<PercentileStats, MeanStats>;
using KnownTimers = TypeList<SteadyTimer, ProcessCpuTimer, ThreadCpuTimer, TscTimer, PerfCounterTimer>;

namespace detail {

/// Calls f(std::type_identity<T>{}) for the T of the list whose `name` is
/// `name`; false when there is none.
template <class... Ts, class F>
bool find_by_name(TypeList<Ts...>, std::string_view name, F&& f) {
  return ((Ts::name == name ? (f(std::type_identity<Ts>{}), true) : false) || ...);
}

/// "cpu, opencl": the names of the list, in its order.
template <class... Ts>
std::string names_of(TypeList<Ts...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(Ts::name)), ...);
  return out;
}

}  // namespace detail
}  // namespace accelbench
// ---- end accelbench/suite/registry.hpp ----

namespace accelbench {

/// One family's models in a suite: preset names, or Hugging Face checkpoint
/// folders (see Config::weights).
struct SuiteEntry {
  std::string family;
  std::vector<std::string> models;
  friend bool operator==(const SuiteEntry&, const SuiteEntry&) = default;
};

struct Suite {
  std::string name = "default";
  /// What to run: each family with its models, in this order.
  std::vector<SuiteEntry> benchmarks = {{"embedding", {"bert-tiny", "all-MiniLM-L6-v2"}},
                                        {"text-generation", {"gpt2", "llama-tiny"}}};
  std::vector<std::string> hardware = {"cpu"};
  std::string stats = "percentile";    ///< a name from KnownStats
  std::string timer = "steady_clock";  ///< a name from KnownTimers
  /// Sweep and stopping rule shared by every model; its `model` is ignored.
  /// Its sweep may name the axes of every family of the suite; each family
  /// takes its own (embedding: batch_sizes x sequence_lengths;
  /// text-generation: batch_sizes x prompt_lengths x new_tokens), and the
  /// defaults its sweep_axes() declares for the axes not given.
  Config settings{.batch_sizes = {1, 8},
                  .sweep = {{"sequence_lengths", {32, 128}}, {"prompt_lengths", {32}}, {"new_tokens", {16}}},
                  .warmup_iterations = 2,
                  .min_iterations = 10,
                  .max_iterations = 100000,
                  .min_time_s = 1.0,
                  .max_time_s = 10.0};
  /// Cpu threads; 0 means one per logical core.
  int threads = 0;
  /// After each family's sweep, time loading its models one after another
  /// and all at once (on each backend; needs two models or more).
  bool concurrent_loading = true;
  int loading_repetitions = 3;
  std::string output_dir = "results";
  /// Measure each model in a child process of its own (suite/isolate.hpp).
  bool isolate = false;
  std::uint64_t max_memory = 0;  ///< with isolate: each child's address space limit in bytes (0: none)
};

/// The suite the README's main command runs on the CPU: bert-tiny and
/// all-MiniLM-L6-v2 (batch sizes 1 and 8, sequence lengths 32 and 128), then
/// gpt2 and llama-tiny (batch sizes 1 and 8, 16 tokens after 32).
[[nodiscard]] inline Suite default_suite() { return Suite{}; }

namespace detail {

/// The family whose preset (or checkpoint folder) `model` names, or "".
template <class Families = KnownFamilies>
std::string family_of(const std::string& model) {
  std::string found;
  const Config config = config_for_model(Config{}, model);
  const auto try_family = [&](auto family) {
    using F = typename decltype(family)::type;
    if (!found.empty()) return;
    try {
      (void)preset_for<F>(config);
      found = std::string(F::name);
    } catch (const ConfigError&) {
    }
  };
  [&]<class... Fs>(TypeList<Fs...>) { (try_family(std::type_identity<Fs>{}), ...); }(Families{});
  return found;
}

/// Models grouped into suite entries by the family that knows each, in the
/// order of their first appearance.
template <class Families = KnownFamilies>
std::vector<SuiteEntry> group_by_family(const std::vector<std::string>& models, const std::string& field) {
  std::vector<SuiteEntry> out;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string family = family_of<Families>(models[i]);
    if (family.empty()) {
      std::string known;
      [&]<class... Fs>(TypeList<Fs...>) {
        ((known += (known.empty() ? "" : "; ") + std::string(Fs::name) + ": " + [] {
            std::string names;
            for (const auto& n : Fs::preset_names()) names += (names.empty() ? "" : ", ") + n;
            return names;
          }()),
         ...);
      }(Families{});
      throw ConfigError(field + "[" + std::to_string(i) + "]", "\"" + models[i] + "\"",
                        "no family has this preset, and it is not a checkpoint folder; known presets: " + known);
    }
    const auto it = std::find_if(out.begin(), out.end(), [&](const SuiteEntry& e) { return e.family == family; });
    if (it == out.end()) {
      out.push_back({family, {models[i]}});
    } else {
      it->models.push_back(models[i]);
    }
  }
  return out;
}

inline std::string json_text(const Json& j) { return j.dump(); }

[[noreturn]] inline void bad_type(const std::string& field, const Json& j, const char* expected) {
  throw ConfigError(field, json_text(j), std::string("expected ") + expected);
}

inline int json_int(const Json& j, const std::string& field) {
  if (!j.is_number_integer()) bad_type(field, j, "an integer");
  const auto v = j.get<std::int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw ConfigError(field, json_text(j), "out of range");
  }
  return static_cast<int>(v);
}

inline double json_number(const Json& j, const std::string& field) {
  if (!j.is_number()) bad_type(field, j, "a number");
  return j.get<double>();
}

inline std::string json_string(const Json& j, const std::string& field) {
  if (!j.is_string()) bad_type(field, j, "a string");
  return j.get<std::string>();
}

inline std::vector<int> json_ints(const Json& j, const std::string& field) {
  if (!j.is_array()) bad_type(field, j, "an array of integers");
  std::vector<int> out;
  for (std::size_t i = 0; i < j.size(); ++i) out.push_back(json_int(j[i], field + "[" + std::to_string(i) + "]"));
  return out;
}

inline std::vector<std::string> json_strings(const Json& j, const std::string& field) {
  if (!j.is_array()) bad_type(field, j, "an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(json_string(j[i], field + "[" + std::to_string(i) + "]"));
  }
  return out;
}

}  // namespace detail

/// Replaces what a suite runs: `models` of `family`, or, with no family,
/// each model under the family that knows it; a family alone keeps the
/// suite's models of that family.
template <class Families = KnownFamilies>
void set_models(Suite& s, const std::string& family, const std::vector<std::string>& models) {
  if (family.empty()) {
    s.benchmarks = detail::group_by_family<Families>(models, "models");
    return;
  }
  std::vector<std::string> chosen = models;
  if (chosen.empty()) {
    for (const auto& e : s.benchmarks) {
      if (e.family == family) chosen = e.models;
    }
  }
  s.benchmarks = {{family, chosen}};
}

/// Reads a suite from JSON. Fields not given keep default_suite()'s values (of
/// its sweep, the axes the families of the list declare); an unknown field
/// or a value of the wrong type is a ConfigError naming it.
/// Besides the suite's own fields, each sweep axis the families of
/// `TypeList<Fs...>` declare is a field of the same name ("sequence_lengths":
/// [32, 128]), read into settings.sweep.
template <class... Fs>
[[nodiscard]] Suite parse_suite(const Json& j, TypeList<Fs...> families) {
  using detail::json_int, detail::json_ints, detail::json_number, detail::json_string, detail::json_strings;
  if (!j.is_object()) detail::bad_type("suite", j, "a JSON object");
  Suite s = default_suite();
  Config& c = s.settings;
  auto boolean = [](const Json& v, const std::string& key) {
    if (!v.is_boolean()) detail::bad_type(key, v, "true or false");
    return v.get<bool>();
  };
  // "family" and "models" are the short form of one entry of "benchmarks";
  // "models" alone is grouped by the family that knows each model.
  std::string family;
  std::vector<std::string> models;
  bool models_given = false, benchmarks_given = false;
  using Setter = std::function<void(const Json&, const std::string&)>;
  std::vector<std::pair<std::string, Setter>> fields = {
      {"name", [&](const Json& v, const std::string& k) { s.name = json_string(v, k); }},
      {"benchmarks",
       [&](const Json& v, const std::string& k) {
         if (!v.is_array()) detail::bad_type(k, v, "an array of {\"family\": ..., \"models\": [...]}");
         s.benchmarks.clear();
         for (std::size_t i = 0; i < v.size(); ++i) {
           const std::string item = k + "[" + std::to_string(i) + "]";
           if (!v[i].is_object()) detail::bad_type(item, v[i], "an object with family and models");
           SuiteEntry e;
           for (const auto& [key, value] : v[i].items()) {
             if (key == "family") {
               e.family = json_string(value, item + ".family");
             } else if (key == "models") {
               e.models = json_strings(value, item + ".models");
             } else {
               throw ConfigError(item + "." + key, detail::json_text(value), "unknown field; known: family, models");
             }
           }
           s.benchmarks.push_back(std::move(e));
         }
         benchmarks_given = true;
       }},
      {"family", [&](const Json& v, const std::string& k) { family = json_string(v, k); }},
      {"hardware", [&](const Json& v, const std::string& k) { s.hardware = json_strings(v, k); }},
      {"stats", [&](const Json& v, const std::string& k) { s.stats = json_string(v, k); }},
      {"timer", [&](const Json& v, const std::string& k) { s.timer = json_string(v, k); }},
      {"models",
       [&](const Json& v, const std::string& k) {
         models = json_strings(v, k);
         models_given = true;
       }},
      {"batch_sizes", [&](const Json& v, const std::string& k) { c.batch_sizes = json_ints(v, k); }},
      {"warmup_iterations", [&](const Json& v, const std::string& k) { c.warmup_iterations = json_int(v, k); }},
      {"warmup_until_stable", [&](const Json& v, const std::string& k) { c.warmup_until_stable = boolean(v, k); }},
      {"warmup_stability_tolerance",
       [&](const Json& v, const std::string& k) { c.warmup_stability_tolerance = json_number(v, k); }},
      {"warmup_max_time_s", [&](const Json& v, const std::string& k) { c.warmup_max_time_s = json_number(v, k); }},
      {"min_iterations", [&](const Json& v, const std::string& k) { c.min_iterations = json_int(v, k); }},
      {"max_iterations", [&](const Json& v, const std::string& k) { c.max_iterations = json_int(v, k); }},
      {"min_time_s", [&](const Json& v, const std::string& k) { c.min_time_s = json_number(v, k); }},
      {"max_time_s", [&](const Json& v, const std::string& k) { c.max_time_s = json_number(v, k); }},
      {"target_relative_ci_width",
       [&](const Json& v, const std::string& k) { c.target_relative_ci_width = json_number(v, k); }},
      {"confidence", [&](const Json& v, const std::string& k) { c.confidence = json_number(v, k); }},
      {"iterations_per_sample", [&](const Json& v, const std::string& k) { c.iterations_per_sample = json_int(v, k); }},
      {"cell_timeout_s", [&](const Json& v, const std::string& k) { c.cell_timeout_s = json_number(v, k); }},
      {"memory_sample_interval_s",
       [&](const Json& v, const std::string& k) { c.memory_sample_interval_s = json_number(v, k); }},
      {"seed",
       [&](const Json& v, const std::string& k) {
         if (!v.is_number_unsigned()) detail::bad_type(k, v, "a non-negative integer");
         c.seed = v.get<std::uint64_t>();
       }},
      {"verify", [&](const Json& v, const std::string& k) { c.verify = boolean(v, k); }},
      {"verify_tolerance", [&](const Json& v, const std::string& k) { c.verify_tolerance = json_number(v, k); }},
      {"accept_config_fields",
       [&](const Json& v, const std::string& k) { c.accept_config_fields = json_strings(v, k); }},
      {"threads", [&](const Json& v, const std::string& k) { s.threads = json_int(v, k); }},
      {"concurrent_loading", [&](const Json& v, const std::string& k) { s.concurrent_loading = boolean(v, k); }},
      {"loading_repetitions", [&](const Json& v, const std::string& k) { s.loading_repetitions = json_int(v, k); }},
      {"output_dir", [&](const Json& v, const std::string& k) { s.output_dir = json_string(v, k); }},
      {"isolate", [&](const Json& v, const std::string& k) { s.isolate = boolean(v, k); }},
      {"max_memory",
       [&](const Json& v, const std::string& k) {
         const bool bytes = v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
         if (!v.is_string() && !bytes) detail::bad_type(k, v, "bytes: an integer or \"512M\"");
         s.max_memory = v.is_string() ? parse_byte_size(k, v.get<std::string>()) : v.get<std::uint64_t>();
       }},
  };
  // The families' sweep axes, listed after batch_sizes; the defaults keep
  // only those of the list's families.
  const auto declared = declared_sweep_axes(families);
  std::erase_if(c.sweep, [&](const auto& entry) {
    return std::none_of(declared.begin(), declared.end(), [&](const auto& d) { return d.axis.name == entry.first; });
  });
  std::vector<std::pair<std::string, Setter>> axes;
  for (const auto& d : declared) {
    if (std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.first == d.axis.name; })) {
      throw std::logic_error("sweep axis " + d.axis.name + " of family " + d.families.front() +
                             " has the name of a suite field");
    }
    axes.emplace_back(d.axis.name, [&c, name = d.axis.name](const Json& v, const std::string& k) {
      c.sweep[name] = json_ints(v, k);
    });
  }
  const auto batch = std::find_if(fields.begin(), fields.end(), [](const auto& f) { return f.first == "batch_sizes"; });
  fields.insert(batch + 1, axes.begin(), axes.end());
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const Json& v = item.value();
    const auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == key; });
    if (field == fields.end()) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.first;
      throw ConfigError(key, detail::json_text(v), "unknown suite field; known fields: " + known);
    }
    field->second(v, key);
  }
  if (benchmarks_given && (models_given || !family.empty())) {
    throw ConfigError(models_given ? "models" : "family", detail::json_text(j.at(models_given ? "models" : "family")),
                      "give either benchmarks or family and models, not both");
  }
  if (models_given || !family.empty()) set_models<TypeList<Fs...>>(s, family, models);
  return s;
}

/// parse_suite with the sweep fields of the library's families.
[[nodiscard]] inline Suite parse_suite(const Json& j) { return parse_suite(j, KnownFamilies{}); }

/// Checks a whole suite before anything runs: the family, every backend name,
/// every model and the shared settings. Throws ConfigError naming the field.
template <class Backends = KnownBackends, class Families = KnownFamilies>
void validate_suite(const Suite& s) {
  if (s.threads < 0) throw ConfigError("threads", std::to_string(s.threads), "must be 0 (all cores) or more");
  if (s.loading_repetitions < 1) {
    throw ConfigError("loading_repetitions", std::to_string(s.loading_repetitions), "must be at least 1");
  }
  check_file_name("name", s.name);
  if (s.max_memory > 0 && !s.isolate) {
    throw ConfigError("max_memory", std::to_string(s.max_memory), "applies to isolated runs only: set isolate too");
  }
  if (s.output_dir.empty()) throw ConfigError("output_dir", "\"\"", "must name a folder");
  if (s.hardware.empty()) throw ConfigError("hardware", "[]", "name at least one backend");
  if (s.benchmarks.empty()) throw ConfigError("benchmarks", "[]", "name at least one family and its models");
  validate(s.settings);
  validate_shared_sweep(s.settings, Families{});
  for (std::size_t b = 0; b < s.benchmarks.size(); ++b) {
    const SuiteEntry& entry = s.benchmarks[b];
    // The short field names when the suite has one entry, as it was written.
    const std::string prefix = s.benchmarks.size() == 1 ? "" : "benchmarks[" + std::to_string(b) + "].";
    const bool family_known = detail::find_by_name(Families{}, entry.family, [&](auto family) {
      using F = typename decltype(family)::type;
      if (entry.models.empty()) throw ConfigError(prefix + "models", "[]", "name at least one model");
      for (std::size_t i = 0; i < entry.models.size(); ++i) {
        const std::string field = prefix + "models[" + std::to_string(i) + "]";
        try {
          const Config config = detail::config_for_model(s.settings, entry.models[i]);
          F::validate(config, detail::preset_for<F>(config));
        } catch (const ConfigError& e) {
          // Name the suite's field, keep the family's explanation.
          const std::string what = e.what();
          const auto colon = what.find(": ");
          const std::string problem = colon == std::string::npos ? what : what.substr(colon + 2);
          throw ConfigError(e.field() == "model" ? field : e.field() + " (for " + entry.models[i] + ")", e.value(),
                            problem);
        }
      }
    });
    if (!family_known) {
      throw ConfigError(prefix + "family", "\"" + entry.family + "\"",
                        "unknown family; known: " + detail::names_of(Families{}));
    }
  }
  if (!detail::find_by_name(KnownStats{}, s.stats, [](auto) {})) {
    throw ConfigError("stats", "\"" + s.stats + "\"", "unknown Stats policy; known: " + detail::names_of(KnownStats{}));
  }
  if (!detail::find_by_name(KnownTimers{}, s.timer, [](auto) {})) {
    throw ConfigError("timer", "\"" + s.timer + "\"", "unknown Timer policy; known: " + detail::names_of(KnownTimers{}));
  }
  for (std::size_t i = 0; i < s.hardware.size(); ++i) {
    if (!detail::find_by_name(Backends{}, s.hardware[i], [](auto) {})) {
      throw ConfigError("hardware[" + std::to_string(i) + "]", "\"" + s.hardware[i] + "\"",
                        "unknown backend; known: " + detail::names_of(Backends{}));
    }
  }
}

namespace detail {
template <class B>
B make_backend(const Suite& s) {
  if constexpr (std::is_same_v<B, Cpu>) {
    return Cpu{Cpu::Options{.threads = s.threads}};
  } else {
    return B{};
  }
}
}  // namespace detail

/// Observers of a suite's progress, called outside the timed path.
struct SuiteObserver {
  std::function<void(const CellResult&)> on_cell;
  /// After each model on each backend, with everything measured so far.
  std::function<void(const RunResult&)> on_progress;
  /// Each part as it is done, before it is merged: one model on one backend
  /// (its cells were each given to on_cell before), or a loading benchmark.
  std::function<void(const RunResult&)> on_part;
  /// Cells (as Benchmark::skip_cells gives them) not to run: a resumed run's.
  std::function<bool(const CellResult&)> skip_cell;
  /// Loading benchmarks (family, backend) not to run: a resumed run's.
  std::function<bool(const std::string& family, const std::string& backend)> skip_loading;
};

namespace detail {

/// One entry of a suite (models of family F) on every backend of the suite
/// that `Backends` lists; results are merged into `all`. Not inline, so that
/// a program can instantiate it for each family in a translation unit of its
/// own (`extern template` elsewhere), as the `accelbench` command does.
template <class Backends, class F>
void run_suite_entry(const Suite& s, const SuiteEntry& entry, ResourcePool& pool, const SuiteObserver& observer,
                     RunResult& all) {
  for (const auto& hw : s.hardware) {
    detail::find_by_name(Backends{}, hw, [&](auto backend) {
      using B = typename decltype(backend)::type;
      if constexpr (RunsOn<F, B>) {
        for (const auto& model : entry.models) {
          Config config = restrict_sweep_to<F>(detail::config_for_model(s.settings, model));
          detail::find_by_name(KnownStats{}, s.stats, [&](auto stats) {
            detail::find_by_name(KnownTimers{}, s.timer, [&](auto timer) {
              using S = typename decltype(stats)::type;
              using T = typename decltype(timer)::type;
              RunResult part = detail::run_model<B, F, S, T>(
                  std::move(config), [&] { return detail::make_backend<B>(s); }, pool, s.isolate, s.max_memory,
                  observer.skip_cell, observer.on_cell);
              if (observer.on_part) observer.on_part(part);
              all.merge(std::move(part));
            });
          });
          if (observer.on_progress) observer.on_progress(all);
        }
        if (s.concurrent_loading && entry.models.size() > 1 && (s.isolate || B::available()) &&
            !(observer.skip_loading && observer.skip_loading(std::string(F::name), std::string(B::name)))) {
          const auto make = [&] { return detail::make_backend<B>(s); };
          const std::optional<LoadingResult> measured =
              s.isolate ? detail::measure_loading_isolated<F, B>(entry.models, make, s.settings.seed,
                                                                 s.loading_repetitions, s.max_memory)
                        : measure_loading<F, B>(entry.models, make, s.settings.seed, s.loading_repetitions);
          if (measured) {
            RunResult loading;
            loading.loading.push_back(*measured);
            if (observer.on_part) observer.on_part(loading);
            all.merge(std::move(loading));
            if (observer.on_progress) observer.on_progress(all);
          }
        }
      } else {
        RunResult unsupported;
        for (const auto& model : entry.models) {
          ModelInfo info;
          info.name = model;
          info.family = std::string(F::name);
          info.backend = std::string(B::name);
          info.status = "unsupported";
          info.message =
              "backend " + std::string(B::name) + " lacks ops that family " + std::string(F::name) + " needs";
          unsupported.models.push_back(std::move(info));
        }
        if (observer.on_part) observer.on_part(unsupported);
        all.merge(std::move(unsupported));
      }
    });
  }
}

}  // namespace detail

/// Runs every model of the suite on every backend it names, the names
/// looked up in `Backends` and `Families` (TypeLists; the library's by
/// default). Validates the whole suite first (throws ConfigError); after
/// that, failures are recorded in the results and the suite goes on.
template <class Backends = KnownBackends, class Families = KnownFamilies>
[[nodiscard]] RunResult run_suite(const Suite& s, const SuiteObserver& observer = {}) {
  validate_suite<Backends, Families>(s);
  RunResult all;
  ResourcePool pool;  // each model is loaded once per backend device for the whole suite
  for (const SuiteEntry& entry : s.benchmarks) {
    detail::find_by_name(Families{}, entry.family, [&](auto family) {
      using F = typename decltype(family)::type;
      detail::run_suite_entry<Backends, F>(s, entry, pool, observer, all);
    });
    pool.clear();  // one family's models are not needed by the next
  }
  return all;
}

}  // namespace accelbench
// ---- end accelbench/suite/suite.hpp ----
// ---- begin accelbench/suite/suite_json.hpp ----

// A suite as the JSON of a suite file (the fields parse_suite reads), so
// that a run's journal records what it runs and a resumed run can check it
// runs the same suite, or run it again from the journal alone.

#include <string>
#include <vector>


namespace accelbench {

/// The suite file that parse_suite reads back as `s` (every field given).
[[nodiscard]] inline Json suite_to_json(const Suite& s) {
  const Config& c = s.settings;
  Json benchmarks = Json::array();
  for (const auto& e : s.benchmarks) benchmarks.push_back(Json{{"family", e.family}, {"models", e.models}});
  Json j = Json::object();
  j["name"] = s.name;
  j["benchmarks"] = std::move(benchmarks);
  j["hardware"] = s.hardware;
  j["stats"] = s.stats;
  j["timer"] = s.timer;
  j["batch_sizes"] = c.batch_sizes;
  for (const auto& [axis, values] : c.sweep) j[axis] = values;
  j["warmup_iterations"] = c.warmup_iterations;
  j["warmup_until_stable"] = c.warmup_until_stable;
  j["warmup_stability_tolerance"] = c.warmup_stability_tolerance;
  j["warmup_max_time_s"] = c.warmup_max_time_s;
  j["min_iterations"] = c.min_iterations;
  j["max_iterations"] = c.max_iterations;
  j["min_time_s"] = c.min_time_s;
  j["max_time_s"] = c.max_time_s;
  j["target_relative_ci_width"] = c.target_relative_ci_width;
  j["confidence"] = c.confidence;
  j["iterations_per_sample"] = c.iterations_per_sample;
  j["cell_timeout_s"] = c.cell_timeout_s;
  j["memory_sample_interval_s"] = c.memory_sample_interval_s;
  j["seed"] = c.seed;
  j["verify"] = c.verify;
  j["verify_tolerance"] = c.verify_tolerance;
  j["accept_config_fields"] = c.accept_config_fields;
  j["threads"] = s.threads;
  j["concurrent_loading"] = s.concurrent_loading;
  j["loading_repetitions"] = s.loading_repetitions;
  j["output_dir"] = s.output_dir;
  j["isolate"] = s.isolate;
  j["max_memory"] = s.max_memory;
  return j;
}

/// The fields (of suite_to_json) in which `a` and `b` differ, leaving out
/// `ignored` ones, as "field: A here, B there" lines.
[[nodiscard]] inline std::vector<std::string> suite_differences(const Json& a, const Json& b,
                                                                const std::vector<std::string>& ignored = {}) {
  std::vector<std::string> out;
  const auto skip = [&](const std::string& k) {
    for (const auto& i : ignored) {
      if (i == k) return true;
    }
    return false;
  };
  for (const auto& [k, v] : a.items()) {
    if (skip(k)) continue;
    if (!b.contains(k)) {
      out.push_back(k + ": " + detail::dump_json(v) + " vs (not given)");
    } else if (b[k] != v) {
      out.push_back(k + ": " + detail::dump_json(v) + " vs " + detail::dump_json(b[k]));
    }
  }
  for (const auto& [k, v] : b.items()) {
    if (!skip(k) && !a.contains(k)) out.push_back(k + ": (not given) vs " + detail::dump_json(v));
  }
  return out;
}

}  // namespace accelbench
// ---- end accelbench/suite/suite_json.hpp ----
// ---- begin accelbench/backend/hardware.hpp ----

// What hardware this machine has, as the operating system and the vendors'
// drivers describe it: the CPU (machine/cpu.hpp), the OpenCL platforms and
// devices (backend/opencl/devices.hpp) and the CUDA devices
// (backend/cuda/devices.hpp). The OpenCL and CUDA libraries are opened at
// run time, so detection works in any build and says why a library or
// device is missing. `accelbench check` prints the report, with the devices
// of every further backend that describes its own (describe_machine);
// docs/hardware.md describes it.

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// ---- begin accelbench/backend/cuda/devices.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP

// The CUDA devices of this machine, through the driver API of libcuda.so.1
// opened at run time: `accelbench check`'s CUDA section and the Cuda
// backend's describe_devices(). It needs no CUDA header, no nvcc and no
// link to the CUDA libraries, and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ---- begin accelbench/detail/dynamic_library.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP

// Opening a shared library at run time (dlopen) and finding its functions,
// so that code can use a vendor's driver where one is installed and say why
// not where it is missing, without linking against it.

#include <string>
#include <vector>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define ACCELBENCH_HAS_DLOPEN 1
#endif

namespace accelbench::detail {

/// A shared library opened with dlopen. It stays loaded for the life of the
/// process, on purpose: GPU drivers start threads and register exit handlers
/// whose code must not be unmapped while the program runs.
class DynamicLibrary {
 public:
  /// Opens the first of `names` that loads; when none does, error() says why
  /// for each of them.
  explicit DynamicLibrary(const std::vector<std::string>& names) {
#if defined(ACCELBENCH_HAS_DLOPEN)
    for (const auto& n : names) {
      handle_ = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_ != nullptr) {
        name_ = n;
        error_.clear();
        return;
      }
      const char* why = dlerror();
      error_ += (error_.empty() ? "" : "; ") + (why != nullptr ? std::string(why) : n + ": cannot be opened");
    }
    if (names.empty()) error_ = "no library name given";
#else
    (void)names;
    error_ = "loading libraries at run time is not supported on this system";
#endif
  }

  [[nodiscard]] explicit operator bool() const noexcept { return handle_ != nullptr; }
  /// The name that was opened; "" when none was.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Why no library was opened; "" when one was.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  /// The function `symbol` as a pointer of type F, or nullptr when the
  /// library does not export it.
  template <class F>
  [[nodiscard]] F function(const char* symbol) const noexcept {
#if defined(ACCELBENCH_HAS_DLOPEN)
    if (handle_ == nullptr) return nullptr;
    return reinterpret_cast<F>(dlsym(handle_, symbol));
#else
    (void)symbol;
    return nullptr;
#endif
  }

 private:
  void* handle_ = nullptr;
  std::string name_;
  std::string error_;
};

}  // namespace accelbench::detail
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_DETAIL_DYNAMIC_LIBRARY_HPP
// ---- end accelbench/detail/dynamic_library.hpp ----

namespace accelbench {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  std::string compute_capability;  ///< "9.0"
  int multiprocessors = 0;
  std::uint64_t memory_bytes = 0;
  int clock_mhz = 0;               ///< 0 when the driver does not say
  int memory_clock_mhz = 0;
  int memory_bus_width_bits = 0;
  std::uint64_t l2_cache_bytes = 0;
  std::string pci_bus_id;
  friend bool operator==(const CudaDeviceInfo&, const CudaDeviceInfo&) = default;
};

struct CudaHardware {
  bool available = false;      ///< at least one device
  std::string reason;          ///< why not, when not available
  std::string library;         ///< the driver library that was opened
  std::string driver_version;  ///< "13.0"; "" when unknown
  std::vector<CudaDeviceInfo> devices;
  friend bool operator==(const CudaHardware&, const CudaHardware&) = default;
};

namespace detail {

/// The name of a CUresult, and what it means, for the codes met when
/// there is no usable GPU; "" for the others.
inline std::string cuda_error_text(int code) {
  switch (code) {
    case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY: libcuda is the toolkit's stub, not an NVIDIA driver";
    case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER: the NVIDIA kernel driver is older than libcuda";
    case 46: return "CUDA_ERROR_DEVICES_UNAVAILABLE: every device is busy or unavailable";
    case 100: return "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected";
    case 101: return "CUDA_ERROR_INVALID_DEVICE";
    case 304: return "CUDA_ERROR_OPERATING_SYSTEM";
    case 803: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: the kernel driver and libcuda differ in version";
    case 999: return "CUDA_ERROR_UNKNOWN";
    default: return {};
  }
}

inline std::vector<std::string> cuda_library_names() {
#if defined(_WIN32)
  return {"nvcuda.dll"};
#else
  return {"libcuda.so.1", "libcuda.so"};
#endif
}

/// "13.0" for cuDriverGetVersion's 13000, "12.4" for 12040.
inline std::string cuda_version_text(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

/// detect_cuda() with the driver looked for under `libraries`, in order.
inline CudaHardware detect_cuda_from(const std::vector<std::string>& libraries) {
  // The few driver API functions used, declared here so that no CUDA header
  // is needed: CUresult is an int, CUdevice an int.
  using Init = int (*)(unsigned);
  using DriverGetVersion = int (*)(int*);
  using DeviceGetCount = int (*)(int*);
  using DeviceGet = int (*)(int*, int);
  using DeviceGetName = int (*)(char*, int, int);
  using DeviceTotalMem = int (*)(std::size_t*, int);
  using DeviceGetAttribute = int (*)(int*, int, int);
  using DeviceGetPciBusId = int (*)(char*, int, int);
  using GetErrorText = int (*)(int, const char**);

  CudaHardware cu;
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cu.reason = "CUDA driver library not found (" + lib.error() + ")";
    return cu;
  }
  cu.library = lib.name();
  const auto init = lib.function<Init>("cuInit");
  const auto driver_version = lib.function<DriverGetVersion>("cuDriverGetVersion");
  const auto device_count = lib.function<DeviceGetCount>("cuDeviceGetCount");
  const auto device_get = lib.function<DeviceGet>("cuDeviceGet");
  const auto device_name = lib.function<DeviceGetName>("cuDeviceGetName");
  const auto total_mem = lib.function<DeviceTotalMem>("cuDeviceTotalMem_v2");
  const auto attribute = lib.function<DeviceGetAttribute>("cuDeviceGetAttribute");
  const auto pci_bus_id = lib.function<DeviceGetPciBusId>("cuDeviceGetPCIBusId");
  const auto error_name = lib.function<GetErrorText>("cuGetErrorName");
  const auto error_string = lib.function<GetErrorText>("cuGetErrorString");
  if (init == nullptr || device_count == nullptr || device_get == nullptr || device_name == nullptr ||
      attribute == nullptr) {
    cu.reason = lib.name() + " lacks cuInit, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName or cuDeviceGetAttribute";
    return cu;
  }
  const auto call_error = [&](std::string_view call, int rc) {
    std::string text = cuda_error_text(rc);
    if (text.empty()) {
      const char* name = nullptr;
      const char* what = nullptr;
      if (error_name != nullptr && error_name(rc, &name) == 0 && name != nullptr) text = name;
      if (error_string != nullptr && error_string(rc, &what) == 0 && what != nullptr) {
        text += (text.empty() ? "" : ": ") + std::string(what);
      }
      if (text.empty()) text = "unknown CUresult";
    }
    const auto colon = text.find(':');
    if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, rc, text);
    return fmt::format("{} returned {} ({}):{}", call, rc, text.substr(0, colon), text.substr(colon + 1));
  };
  int version = 0;
  if (driver_version != nullptr && driver_version(&version) == 0 && version > 0) {
    cu.driver_version = cuda_version_text(version);
  }
  if (const int rc = init(0); rc != 0) {
    cu.reason = call_error("cuInit", rc);
    return cu;
  }
  int count = 0;
  if (const int rc = device_count(&count); rc != 0) {
    cu.reason = call_error("cuDeviceGetCount", rc);
    return cu;
  }
  for (int i = 0; i < count; ++i) {
    int dev = 0;
    if (device_get(&dev, i) != 0) continue;
    CudaDeviceInfo d;
    d.index = i;
    char name[256] = {};
    if (device_name(name, static_cast<int>(sizeof name) - 1, dev) == 0) d.name = name;
    const auto attr = [&](int which) {
      int v = 0;
      return attribute(&v, which, dev) == 0 ? v : 0;
    };
    // CUdevice_attribute values of cuda.h.
    d.compute_capability = fmt::format("{}.{}", attr(75), attr(76));
    d.multiprocessors = attr(16);
    d.clock_mhz = attr(13) / 1000;         // kHz
    d.memory_clock_mhz = attr(36) / 1000;  // kHz
    d.memory_bus_width_bits = attr(37);
    d.l2_cache_bytes = static_cast<std::uint64_t>(attr(38));
    std::size_t bytes = 0;
    if (total_mem != nullptr && total_mem(&bytes, dev) == 0) d.memory_bytes = bytes;
    char bus[64] = {};
    if (pci_bus_id != nullptr && pci_bus_id(bus, static_cast<int>(sizeof bus) - 1, dev) == 0) d.pci_bus_id = bus;
    cu.devices.push_back(std::move(d));
  }
  cu.available = !cu.devices.empty();
  if (!cu.available) cu.reason = fmt::format("cuInit succeeded but cuDeviceGetCount found {} devices", count);
  return cu;
}

}  // namespace detail

/// The CUDA devices, through the driver API of libcuda.so.1 opened at run
/// time; `available` is false, with the reason, when there is no driver or
/// no device.
[[nodiscard]] inline CudaHardware detect_cuda() { return detail::detect_cuda_from(detail::cuda_library_names()); }

/// The CUDA section's lines (without its "CUDA" heading).
[[nodiscard]] inline std::string format_cuda_hardware(const CudaHardware& cu) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cu.library.empty()) hardware_line(out, 2, "driver library", cu.library);
  if (!cu.driver_version.empty()) hardware_line(out, 2, "driver version", cu.driver_version);
  for (const auto& d : cu.devices) {
    hardware_line(out, 2, fmt::format("device {}", d.index), d.name);
    hardware_line(out, 4, "compute capability", d.compute_capability);
    hardware_line(out, 4, "multiprocessors", std::to_string(d.multiprocessors));
    hardware_line(out, 4, "memory", binary_size(d.memory_bytes));
    if (d.clock_mhz > 0) hardware_line(out, 4, "clock", fmt::format("{} MHz", d.clock_mhz));
    if (d.memory_clock_mhz > 0 || d.memory_bus_width_bits > 0) {
      hardware_line(out, 4, "memory bus",
                    fmt::format("{} MHz, {} bits", d.memory_clock_mhz, d.memory_bus_width_bits));
    }
    if (d.l2_cache_bytes > 0) hardware_line(out, 4, "L2 cache", binary_size(d.l2_cache_bytes));
    if (!d.pci_bus_id.empty()) hardware_line(out, 4, "PCI bus", d.pci_bus_id);
  }
  if (!cu.available) hardware_line(out, 2, "not available", cu.reason);
  return out;
}

/// The CUDA section as JSON; unknown values are null.
/// cuda_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const CudaHardware& cu) {
  using detail::optional_text;
  Json cuda_devices = Json::array();
  for (const auto& d : cu.devices) {
    cuda_devices.push_back(Json{{"index", d.index},
                                {"name", d.name},
                                {"compute_capability", d.compute_capability},
                                {"multiprocessors", d.multiprocessors},
                                {"memory_bytes", d.memory_bytes},
                                {"clock_mhz", d.clock_mhz},
                                {"memory_clock_mhz", d.memory_clock_mhz},
                                {"memory_bus_width_bits", d.memory_bus_width_bits},
                                {"l2_cache_bytes", d.l2_cache_bytes},
                                {"pci_bus_id", optional_text(d.pci_bus_id)}});
  }
  return Json{{"available", cu.available},
              {"reason", optional_text(cu.reason)},
              {"library", optional_text(cu.library)},
              {"driver_version", optional_text(cu.driver_version)},
              {"devices", cuda_devices}};
}

/// A CUDA section from its JSON form (to_json's).
[[nodiscard]] inline CudaHardware cuda_hardware_from_json(const Json& cu) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  CudaHardware cuda;
  cuda.available = cu.value("available", false);
  cuda.reason = hardware_json_text(cu, "reason");
  cuda.library = hardware_json_text(cu, "library");
  cuda.driver_version = hardware_json_text(cu, "driver_version");
  for (const auto& d : cu.value("devices", Json::array())) {
    cuda.devices.push_back(CudaDeviceInfo{.index = hardware_json_number<int>(d, "index"),
                                        .name = hardware_json_text(d, "name"),
                                        .compute_capability = hardware_json_text(d, "compute_capability"),
                                        .multiprocessors = hardware_json_number<int>(d, "multiprocessors"),
                                        .memory_bytes = hardware_json_number<std::uint64_t>(d, "memory_bytes"),
                                        .clock_mhz = hardware_json_number<int>(d, "clock_mhz"),
                                        .memory_clock_mhz = hardware_json_number<int>(d, "memory_clock_mhz"),
                                        .memory_bus_width_bits = hardware_json_number<int>(d, "memory_bus_width_bits"),
                                        .l2_cache_bytes = hardware_json_number<std::uint64_t>(d, "l2_cache_bytes"),
                                        .pci_bus_id = hardware_json_text(d, "pci_bus_id")});
  }
  return cuda;
}

/// The CUDA section of `accelbench check` (the Cuda backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_cuda_devices() {
  const CudaHardware cu = detect_cuda();
  return DeviceReport{.title = "CUDA",
                      .key = "cuda",
                      .available = cu.available,
                      .reason = cu.reason,
                      .text = format_cuda_hardware(cu),
                      .json = to_json(cu)};
}

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_CUDA_DEVICES_HPP
// ---- end accelbench/backend/cuda/devices.hpp ----
// ---- begin accelbench/backend/opencl/devices.hpp ----
#ifndef ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP
#define ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP

// The OpenCL platforms and devices of this machine, through the ICD loader
// (libOpenCL.so.1) opened at run time: `accelbench check`'s OpenCL section
// and the OpenCL backend's describe_devices(). It needs neither the OpenCL
// link target nor a device, only <CL/cl.h> where it is installed (without
// it, the section says so), and works in any build.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


#if __has_include(<CL/cl.h>)
#if !defined(CL_TARGET_OPENCL_VERSION)
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#define ACCELBENCH_HAS_OPENCL_HEADERS 1
#endif

namespace accelbench {

struct OpenClDeviceInfo {
  std::string name;
  std::string vendor;
  std::string type;  ///< "cpu", "gpu", "accelerator", "custom", joined by '+' when several
  std::string version;
  std::string driver_version;
  std::string opencl_c_version;
  int compute_units = 0;
  int max_clock_mhz = 0;
  std::uint64_t global_memory_bytes = 0;
  std::uint64_t local_memory_bytes = 0;
  std::uint64_t max_work_group_size = 0;
  bool fp64 = false;  ///< cl_khr_fp64 among the extensions
  bool fp16 = false;  ///< cl_khr_fp16 among the extensions
  friend bool operator==(const OpenClDeviceInfo&, const OpenClDeviceInfo&) = default;
};

struct OpenClPlatformInfo {
  std::string name;
  std::string vendor;
  std::string version;
  std::vector<OpenClDeviceInfo> devices;
  std::string error;  ///< why its devices could not be listed; "" when they could
  friend bool operator==(const OpenClPlatformInfo&, const OpenClPlatformInfo&) = default;
};

struct OpenClHardware {
  bool available = false;  ///< at least one device
  std::string reason;      ///< why not, when not available
  std::string library;     ///< the ICD loader that was opened
  std::vector<OpenClPlatformInfo> platforms;
  friend bool operator==(const OpenClHardware&, const OpenClHardware&) = default;
};

namespace detail {

/// The name of an OpenCL error code, and what it means where that helps.
inline std::string opencl_error_text(int code) {
  switch (code) {
    case -1: return "CL_DEVICE_NOT_FOUND: no device of the requested type";
    case -2: return "CL_DEVICE_NOT_AVAILABLE";
    case -5: return "CL_OUT_OF_RESOURCES";
    case -6: return "CL_OUT_OF_HOST_MEMORY";
    case -30: return "CL_INVALID_VALUE";
    case -32: return "CL_INVALID_PLATFORM";
    case -33: return "CL_INVALID_DEVICE";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR: no OpenCL platform (ICD) installed";
    default: return "unknown OpenCL error";
  }
}

inline std::string opencl_call_error(std::string_view call, int code) {
  const std::string text = opencl_error_text(code);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return fmt::format("{} returned {} ({})", call, code, text);
  return fmt::format("{} returned {} ({}):{}", call, code, text.substr(0, colon), text.substr(colon + 1));
}

inline std::vector<std::string> opencl_library_names() {
#if defined(_WIN32)
  return {"OpenCL.dll"};
#elif defined(__APPLE__)
  return {"/System/Library/Frameworks/OpenCL.framework/OpenCL", "libOpenCL.dylib"};
#else
  return {"libOpenCL.so.1", "libOpenCL.so"};
#endif
}

#if defined(ACCELBENCH_HAS_OPENCL_HEADERS)

struct OpenClApi {
  using GetPlatformIDs = cl_int(CL_API_CALL*)(cl_uint, cl_platform_id*, cl_uint*);
  using GetPlatformInfo = cl_int(CL_API_CALL*)(cl_platform_id, cl_platform_info, std::size_t, void*, std::size_t*);
  using GetDeviceIDs = cl_int(CL_API_CALL*)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
  using GetDeviceInfo = cl_int(CL_API_CALL*)(cl_device_id, cl_device_info, std::size_t, void*, std::size_t*);
  GetPlatformIDs get_platform_ids = nullptr;
  GetPlatformInfo get_platform_info = nullptr;
  GetDeviceIDs get_device_ids = nullptr;
  GetDeviceInfo get_device_info = nullptr;

  template <class Handle, class Param, class Get>
  static std::string text(Get get, Handle h, Param p) {
    std::size_t size = 0;
    if (get(h, p, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
    std::string s(size, '\0');
    if (get(h, p, size, s.data(), nullptr) != CL_SUCCESS) return {};
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return trim(s);
  }
  template <class T>
  T device_value(cl_device_id d, cl_device_info p) const {
    T v{};
    if (get_device_info(d, p, sizeof v, &v, nullptr) != CL_SUCCESS) return T{};
    return v;
  }
};

inline std::string opencl_device_type(cl_device_type t) {
  std::string out;
  const auto add = [&](cl_device_type bit, const char* name) {
    if ((t & bit) != 0) out += (out.empty() ? "" : "+") + std::string(name);
  };
  add(CL_DEVICE_TYPE_CPU, "cpu");
  add(CL_DEVICE_TYPE_GPU, "gpu");
  add(CL_DEVICE_TYPE_ACCELERATOR, "accelerator");
#if defined(CL_DEVICE_TYPE_CUSTOM)
  add(CL_DEVICE_TYPE_CUSTOM, "custom");
#endif
  return out.empty() ? "unknown" : out;
}

inline OpenClDeviceInfo describe_opencl_device(const OpenClApi& api, cl_device_id id) {
  OpenClDeviceInfo d;
  d.name = OpenClApi::text(api.get_device_info, id, CL_DEVICE_NAME);
  d.vendor = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VENDOR);
  d.version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_VERSION);
  d.driver_version = OpenClApi::text(api.get_device_info, id, CL_DRIVER_VERSION);
  d.opencl_c_version = OpenClApi::text(api.get_device_info, id, CL_DEVICE_OPENCL_C_VERSION);
  d.type = opencl_device_type(api.device_value<cl_device_type>(id, CL_DEVICE_TYPE));
  d.compute_units = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS));
  d.max_clock_mhz = static_cast<int>(api.device_value<cl_uint>(id, CL_DEVICE_MAX_CLOCK_FREQUENCY));
  d.global_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  d.local_memory_bytes = api.device_value<cl_ulong>(id, CL_DEVICE_LOCAL_MEM_SIZE);
  d.max_work_group_size = api.device_value<std::size_t>(id, CL_DEVICE_MAX_WORK_GROUP_SIZE);
  std::istringstream extensions(OpenClApi::text(api.get_device_info, id, CL_DEVICE_EXTENSIONS));
  std::string e;
  while (extensions >> e) {
    if (e == "cl_khr_fp64") d.fp64 = true;
    if (e == "cl_khr_fp16") d.fp16 = true;
  }
  return d;
}

#endif  // ACCELBENCH_HAS_OPENCL_HEADERS

/// detect_opencl() with the loader looked for under `libraries`, in order.
inline OpenClHardware detect_opencl_from(const std::vector<std::string>& libraries) {
  OpenClHardware cl;
#if !defined(ACCELBENCH_HAS_OPENCL_HEADERS)
  (void)libraries;
  cl.reason = "built without OpenCL headers (<CL/cl.h> was not found when this program was compiled)";
  return cl;
#else
  const DynamicLibrary lib(libraries);
  if (!lib) {
    cl.reason = "OpenCL ICD loader not found (" + lib.error() + ")";
    return cl;
  }
  cl.library = lib.name();
  OpenClApi api;
  api.get_platform_ids = lib.function<OpenClApi::GetPlatformIDs>("clGetPlatformIDs");
  api.get_platform_info = lib.function<OpenClApi::GetPlatformInfo>("clGetPlatformInfo");
  api.get_device_ids = lib.function<OpenClApi::GetDeviceIDs>("clGetDeviceIDs");
  api.get_device_info = lib.function<OpenClApi::GetDeviceInfo>("clGetDeviceInfo");
  if (api.get_platform_ids == nullptr || api.get_platform_info == nullptr || api.get_device_ids == nullptr ||
      api.get_device_info == nullptr) {
    cl.reason = lib.name() + " lacks clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs or clGetDeviceInfo";
    return cl;
  }
  cl_uint count = 0;
  if (const cl_int rc = api.get_platform_ids(0, nullptr, &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  if (count == 0) {
    cl.reason = "no OpenCL platform (ICD) installed: clGetPlatformIDs found none";
    return cl;
  }
  std::vector<cl_platform_id> platforms(count);
  if (const cl_int rc = api.get_platform_ids(count, platforms.data(), &count); rc != CL_SUCCESS) {
    cl.reason = opencl_call_error("clGetPlatformIDs", rc);
    return cl;
  }
  platforms.resize(count);
  std::size_t devices_found = 0;
  for (const auto p : platforms) {
    OpenClPlatformInfo platform;
    platform.name = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_NAME);
    platform.vendor = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VENDOR);
    platform.version = OpenClApi::text(api.get_platform_info, p, CL_PLATFORM_VERSION);
    cl_uint n = 0;
    cl_int rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n);
    std::vector<cl_device_id> ids;
    if (rc == CL_SUCCESS && n > 0) {
      ids.resize(n);
      rc = api.get_device_ids(p, CL_DEVICE_TYPE_ALL, n, ids.data(), &n);
      ids.resize(rc == CL_SUCCESS ? n : 0);
    }
    if (rc != CL_SUCCESS) {
      platform.error = opencl_call_error("clGetDeviceIDs", rc);
    } else if (ids.empty()) {
      platform.error = "the platform has no device";
    }
    for (const auto id : ids) platform.devices.push_back(describe_opencl_device(api, id));
    devices_found += platform.devices.size();
    cl.platforms.push_back(std::move(platform));
  }
  cl.available = devices_found > 0;
  if (!cl.available) {
    cl.reason = fmt::format("{} OpenCL platform{} but no device", cl.platforms.size(),
                            cl.platforms.size() == 1 ? "" : "s");
  }
  return cl;
#endif
}

}  // namespace detail

/// Every OpenCL platform and its devices, through the ICD loader
/// (libOpenCL.so.1) opened at run time; `available` is false, with the
/// reason, when there is no loader, no platform or no device.
[[nodiscard]] inline OpenClHardware detect_opencl() {
  return detail::detect_opencl_from(detail::opencl_library_names());
}

/// The OpenCL section's lines (without its "OpenCL" heading).
[[nodiscard]] inline std::string format_opencl_hardware(const OpenClHardware& cl) {
  using detail::binary_size;
  using detail::hardware_line;
  std::string out;
  if (!cl.library.empty()) hardware_line(out, 2, "loader", cl.library);
  for (std::size_t p = 0; p < cl.platforms.size(); ++p) {
    const auto& platform = cl.platforms[p];
    hardware_line(out, 2, fmt::format("platform {}", p),
                  fmt::format("{} ({}), {}", platform.name, platform.vendor, platform.version));
    if (!platform.error.empty()) hardware_line(out, 4, "devices", "none: " + platform.error);
    for (std::size_t i = 0; i < platform.devices.size(); ++i) {
      const auto& d = platform.devices[i];
      hardware_line(out, 4, fmt::format("device {}", i), d.name);
      hardware_line(out, 6, "type", d.type);
      hardware_line(out, 6, "vendor", d.vendor);
      hardware_line(out, 6, "version", d.version);
      hardware_line(out, 6, "driver", d.driver_version);
      hardware_line(out, 6, "OpenCL C", d.opencl_c_version);
      hardware_line(out, 6, "compute units", std::to_string(d.compute_units));
      hardware_line(out, 6, "max clock", fmt::format("{} MHz", d.max_clock_mhz));
      hardware_line(out, 6, "global memory", binary_size(d.global_memory_bytes));
      hardware_line(out, 6, "local memory", binary_size(d.local_memory_bytes));
      hardware_line(out, 6, "max work-group", std::to_string(d.max_work_group_size));
      hardware_line(out, 6, "fp64, fp16", fmt::format("{}, {}", d.fp64 ? "yes" : "no", d.fp16 ? "yes" : "no"));
    }
  }
  if (!cl.available) hardware_line(out, 2, "not available", cl.reason);
  return out;
}

/// The OpenCL section as JSON; unknown values are null.
/// opencl_hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const OpenClHardware& cl) {
  using detail::optional_text;
  Json platforms = Json::array();
  for (const auto& p : cl.platforms) {
    Json devices = Json::array();
    for (const auto& d : p.devices) {
      devices.push_back(Json{{"name", d.name},
                             {"vendor", d.vendor},
                             {"type", d.type},
                             {"version", d.version},
                             {"driver_version", d.driver_version},
                             {"opencl_c_version", d.opencl_c_version},
                             {"compute_units", d.compute_units},
                             {"max_clock_mhz", d.max_clock_mhz},
                             {"global_memory_bytes", d.global_memory_bytes},
                             {"local_memory_bytes", d.local_memory_bytes},
                             {"max_work_group_size", d.max_work_group_size},
                             {"fp64", d.fp64},
                             {"fp16", d.fp16}});
    }
    platforms.push_back(Json{{"name", p.name},
                             {"vendor", p.vendor},
                             {"version", p.version},
                             {"error", optional_text(p.error)},
                             {"devices", devices}});
  }
  return Json{{"available", cl.available},
              {"reason", optional_text(cl.reason)},
              {"library", optional_text(cl.library)},
              {"platforms", platforms}};
}

/// An OpenCL section from its JSON form (to_json's).
[[nodiscard]] inline OpenClHardware opencl_hardware_from_json(const Json& cl) {
  using detail::hardware_json_number;
  using detail::hardware_json_text;
  OpenClHardware opencl;
  opencl.available = cl.value("available", false);
  opencl.reason = hardware_json_text(cl, "reason");
  opencl.library = hardware_json_text(cl, "library");
  for (const auto& p : cl.value("platforms", Json::array())) {
    OpenClPlatformInfo platform{.name = hardware_json_text(p, "name"),
                            .vendor = hardware_json_text(p, "vendor"),
                            .version = hardware_json_text(p, "version"),
                            .devices = {},
                            .error = hardware_json_text(p, "error")};
    for (const auto& d : p.value("devices", Json::array())) {
      platform.devices.push_back(OpenClDeviceInfo{.name = hardware_json_text(d, "name"),
                                              .vendor = hardware_json_text(d, "vendor"),
                                              .type = hardware_json_text(d, "type"),
                                              .version = hardware_json_text(d, "version"),
                                              .driver_version = hardware_json_text(d, "driver_version"),
                                              .opencl_c_version = hardware_json_text(d, "opencl_c_version"),
                                              .compute_units = hardware_json_number<int>(d, "compute_units"),
                                              .max_clock_mhz = hardware_json_number<int>(d, "max_clock_mhz"),
                                              .global_memory_bytes = hardware_json_number<std::uint64_t>(d, "global_memory_bytes"),
                                              .local_memory_bytes = hardware_json_number<std::uint64_t>(d, "local_memory_bytes"),
                                              .max_work_group_size = hardware_json_number<std::uint64_t>(d, "max_work_group_size"),
                                              .fp64 = d.value("fp64", false),
                                              .fp16 = d.value("fp16", false)});
    }
    opencl.platforms.push_back(std::move(platform));
  }
  return opencl;
}

/// The OpenCL section of `accelbench check` (the OpenCL backend's
/// describe_devices).
[[nodiscard]] inline DeviceReport describe_opencl_devices() {
  const OpenClHardware cl = detect_opencl();
  return DeviceReport{.title = "OpenCL",
                      .key = "opencl",
                      .available = cl.available,
                      .reason = cl.reason,
                      .text = format_opencl_hardware(cl),
                      .json = to_json(cl)};
}

}  // namespace accelbench
#endif  // ACCELBENCH_SINGLE_HEADER_ACCELBENCH_BACKEND_OPENCL_DEVICES_HPP
// ---- end accelbench/backend/opencl/devices.hpp ----

namespace accelbench {

struct HardwareReport {
  CpuHardware cpu;
  OpenClHardware opencl;
  CudaHardware cuda;
  friend bool operator==(const HardwareReport&, const HardwareReport&) = default;
};

/// The CPU, OpenCL and CUDA sections together.
[[nodiscard]] inline HardwareReport detect_hardware(const HardwareRoots& roots = {}) {
  return {detect_cpu(roots), detect_opencl(), detect_cuda()};
}

/// The report as text: a "CPU", an "OpenCL" and a "CUDA" section; what is
/// not available says why.
[[nodiscard]] inline std::string format_hardware(const HardwareReport& r) {
  return "CPU\n" + format_cpu_hardware(r.cpu) + "\nOpenCL\n" + format_opencl_hardware(r.opencl) + "\nCUDA\n" +
         format_cuda_hardware(r.cuda);
}

/// The report as JSON; unknown values are null. hardware_from_json reads it back.
[[nodiscard]] inline Json to_json(const HardwareReport& r) {
  return Json{{"cpu", to_json(r.cpu)}, {"opencl", to_json(r.opencl)}, {"cuda", to_json(r.cuda)}};
}

/// A report from its JSON form (to_json's); throws nlohmann::json's errors
/// when a field has the wrong type.
[[nodiscard]] inline HardwareReport hardware_from_json(const Json& j) {
  return {cpu_hardware_from_json(j.at("cpu")), opencl_hardware_from_json(j.at("opencl")),
          cuda_hardware_from_json(j.at("cuda"))};
}

/// The sections of `accelbench check` for a list of backends (the
/// registry's TypeList<Bs...>): the CPU, OpenCL and CUDA sections, which
/// need no backend compiled in, then the section of each backend of the list
/// that describes its own devices (HasDescribeDevices) under another key.
template <template <class...> class List, class... Bs>
[[nodiscard]] std::vector<DeviceReport> describe_machine(List<Bs...>) {
  std::vector<DeviceReport> out{describe_cpu_devices(), describe_opencl_devices(), describe_cuda_devices()};
  const auto add = [&]<class B>(std::type_identity<B>) {
    if constexpr (HasDescribeDevices<B>) {
      DeviceReport report = B::describe_devices();
      for (const auto& r : out) {
        if (r.key == report.key) return;
      }
      out.push_back(std::move(report));
    }
  };
  (add(std::type_identity<Bs>{}), ...);
  return out;
}

}  // namespace accelbench
// ---- end accelbench/backend/hardware.hpp ----
// ---- begin accelbench/suite/compatibility.hpp ----

// The compatibility matrix: every family's models on every backend, each run
// once on a small cell and checked against the Cpu reference. A row says
// whether the backend can run the model at all (compile time: its op sets;
// run time: its device) and, where it ran, how closely and how fast.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// ---- begin accelbench/suite/compatibility_matrix.hpp ----

// The compatibility matrix as data (a row per model and backend) and its two
// written forms, JSON and Markdown (docs/compatibility.md). Running it is
// compatibility.hpp.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace accelbench {

/// What one (model, backend) pair of the matrix came to.
enum class CompatibilityStatus {
  reference,    ///< the Cpu backend: the outputs every other row is compared with
  ok,           ///< ran; outputs within tolerance of the reference
  mismatch,     ///< ran; outputs differ from the reference beyond tolerance
  unsupported,  ///< the backend lacks an op set the family needs (known at compile time)
  unavailable,  ///< the backend cannot run on this machine (B::available() said why)
  error,        ///< the run failed: an exception, a timeout, a failed model load
};

[[nodiscard]] constexpr std::string_view to_string(CompatibilityStatus s) noexcept {
  switch (s) {
    case CompatibilityStatus::reference: return "reference";
    case CompatibilityStatus::ok: return "ok";
    case CompatibilityStatus::mismatch: return "mismatch";
    case CompatibilityStatus::unsupported: return "unsupported";
    case CompatibilityStatus::unavailable: return "unavailable";
    case CompatibilityStatus::error: return "error";
  }
  return "unknown";
}

/// One model on one backend. Figures are empty where they were not measured
/// (every figure of an unsupported, unavailable or failed row; the errors of
/// the reference row).
struct CompatibilityRow {
  std::string family;        ///< e.g. "text-generation"
  std::string architecture;  ///< e.g. "llama"
  std::string model;         ///< preset name
  std::string backend;       ///< backend policy name
  std::string device;        ///< the device's name, where the backend was run
  std::vector<Axis> shape;   ///< the cell that was run
  CompatibilityStatus status = CompatibilityStatus::error;
  std::string reason;        ///< why the row is not ok (empty for ok and reference)
  std::optional<double> max_abs_error;
  std::optional<double> max_rel_error;
  std::optional<double> cosine_similarity;
  std::optional<double> token_agreement;  ///< fraction of greedy tokens equal to the reference's
  std::optional<double> median_s;         ///< median time of one run
  std::optional<double> speedup;          ///< Cpu's median / this backend's median
};

struct CompatibilityMatrix {
  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;
  SystemInfo system;
  BuildInfo build;
  /// The stopping rule every row was run with, and the cell: batch 1 and,
  /// in its sweep, each family's small values of its axes (SweepAxis::small).
  Config settings;
  std::vector<std::string> backends;  ///< in column order, the reference (cpu) first
  std::vector<CompatibilityRow> rows; ///< by family, then model, then backend
};

namespace detail {

inline std::string matrix_cell(std::string text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') {
      out += "\\|";
    } else if (ch == '\n' || ch == '\r') {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

inline std::string format_error(const std::optional<double>& v) {
  return v ? fmt::format("{:.1e}", *v) : std::string("-");
}

inline std::string format_speedup(const std::optional<double>& v) {
  if (!v) return "-";
  return *v >= 0.1 ? fmt::format("{:.2f}x", *v) : fmt::format("{:.2g}x", *v);
}

inline Json optional_number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? Json(*v) : Json(nullptr);
}

}  // namespace detail

/// The matrix as a Markdown section: a heading, the setup, the devices and
/// one table with a row per model and backend.
[[nodiscard]] inline std::string format_compatibility_markdown(const CompatibilityMatrix& m) {
  const Config& s = m.settings;
  std::string out = "# Compatibility matrix\n\n";
  // The cell: batch_sizes and the families' small axes, as run.
  std::string cell = "batch_sizes " + detail::format_values(s.batch_sizes);
  for (const auto& [axis, values] : s.sweep) cell += "; " + axis + " " + detail::format_values(values);
  out += fmt::format(
      "accelbench {}, {}. Each model ran on each backend on one cell ({}; each family runs the axes it "
      "declares): {} warmup run{}, then {} timed runs (fewer when they take over {} s). Its outputs were compared "
      "with the {} reference's: ok when the largest absolute difference is at most {}.\n\n",
      version_string, m.started_at, detail::matrix_cell(cell), s.warmup_iterations,
      s.warmup_iterations == 1 ? "" : "s", s.min_iterations, detail::format_number(s.max_time_s), Cpu::name,
      detail::format_number(s.verify_tolerance));
  std::string devices;
  for (const auto& backend : m.backends) {
    std::string device;
    for (const auto& row : m.rows) {
      if (row.backend == backend && !row.device.empty()) {
        device = row.device;
        break;
      }
    }
    devices += fmt::format("{}`{}`: {}", devices.empty() ? "" : "; ", backend, device.empty() ? "not run" : device);
  }
  if (!devices.empty()) out += "Devices: " + detail::matrix_cell(devices) + ".\n\n";
  out += "| family | architecture | model | backend | status | max abs error | max rel error | cosine | "
         "token agreement | median ms | speed vs cpu | reason |\n";
  out += "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& r : m.rows) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", detail::matrix_cell(r.family),
                       detail::matrix_cell(r.architecture), detail::matrix_cell(r.model),
                       detail::matrix_cell(r.backend), to_string(r.status), detail::format_error(r.max_abs_error),
                       detail::format_error(r.max_rel_error),
                       r.cosine_similarity ? fmt::format("{:.6f}", *r.cosine_similarity) : std::string("-"),
                       r.token_agreement ? fmt::format("{:.2f}", *r.token_agreement) : std::string("-"),
                       detail::format_ms(r.median_s), detail::format_speedup(r.speedup),
                       detail::matrix_cell(r.reason));
  }
  return out;
}

/// The matrix as JSON ("schema": "accelbench.compatibility"), as documented in
/// docs/compatibility.md.
[[nodiscard]] inline Json to_json(const CompatibilityMatrix& m) {
  Json rows = Json::array();
  for (const auto& r : m.rows) {
    rows.push_back(Json{{"family", r.family},
                        {"architecture", r.architecture},
                        {"model", r.model},
                        {"backend", r.backend},
                        {"device", detail::optional_text(r.device)},
                        {"shape", detail::shape_of(r.shape)},
                        {"status", std::string(to_string(r.status))},
                        {"reason", detail::optional_text(r.reason)},
                        {"max_abs_error", detail::optional_number(r.max_abs_error)},
                        {"max_rel_error", detail::optional_number(r.max_rel_error)},
                        {"cosine_similarity", detail::optional_number(r.cosine_similarity)},
                        {"token_agreement", detail::optional_number(r.token_agreement)},
                        {"median_s", detail::optional_number(r.median_s)},
                        {"speedup_vs_cpu", detail::optional_number(r.speedup)}});
  }
  const Config& s = m.settings;
  return Json{{"schema", "accelbench.compatibility"},
              {"schema_version", 1},
              {"library_version", version_string},
              {"started_at", m.started_at},
              {"finished_at", m.finished_at},
              {"system",
               Json{{"hostname", m.system.hostname},
                    {"os", m.system.os},
                    {"cpu_model", m.system.cpu_model},
                    {"logical_cores", m.system.logical_cores}}},
              {"build",
               Json{{"compiler", m.build.compiler}, {"optimized", m.build.optimized}, {"debug", m.build.debug()}}},
              {"settings",
               Json{{"reference", std::string(Cpu::name)},
                    {"tolerance", s.verify_tolerance},
                    {"warmup_iterations", s.warmup_iterations},
                    {"min_iterations", s.min_iterations},
                    {"max_time_s", s.max_time_s},
                    {"cell_timeout_s", s.cell_timeout_s},
                    {"seed", s.seed}}},
              {"backends", m.backends},
              {"rows", std::move(rows)}};
}

/// Writes the matrix as JSON to `path`, whole or not at all.
inline void write_compatibility_json(const CompatibilityMatrix& m, const std::filesystem::path& path) {
  detail::write_file_atomically(path, detail::dump_json(to_json(m), 2) + "\n");
}

/// Writes format_compatibility_markdown(m) to `path`, whole or not at all.
inline void write_compatibility_markdown(const CompatibilityMatrix& m, const std::filesystem::path& path) {
  detail::write_file_atomically(path, format_compatibility_markdown(m));
}

}  // namespace accelbench
// ---- end accelbench/suite/compatibility_matrix.hpp ----

namespace accelbench {

/// What the matrix covers and how each pair is run. Names are those of the
/// policies (`B::name`, `F::name`) and presets; empty lists mean all.
struct CompatibilityOptions {
  /// Backends to run besides the reference, in this order; empty: every
  /// backend of the list. Cpu is always run, first, as the reference.
  std::vector<std::string> backends{};
  /// Families, in this order; empty: every family of the list.
  std::vector<std::string> families{};
  /// Presets (names or aliases); each runs under the selected family that
  /// knows it. Empty: for each architecture of each family, its smallest
  /// preset of at most max_default_parameters parameters.
  std::vector<std::string> models{};
  std::int64_t max_default_parameters = 200'000'000;
  /// Largest absolute difference from the reference counted as ok.
  double tolerance = 1e-3;
  /// Sampling time per pair at most (after one warmup run; at least
  /// min_iterations runs unless this ends sampling first).
  double max_time_s = 2.0;
  int min_iterations = 3;
  /// A pair still running after this many seconds is an error; 0: no limit.
  double cell_timeout_s = 0.0;
  /// Cpu threads, 0 for one per logical core.
  int threads = 0;
  std::uint64_t seed = 42;
  /// Called with each row when it is done (progress).
  std::function<void(const CompatibilityRow&)> on_row{};
};

/// How every pair is run: batch 1, one warmup run, verification on. Each
/// family adds its small cell, the `small` values of its sweep axes
/// (small_sweep<F>(): 16 tokens for embedding, 8 prompt tokens and 4 new
/// ones for text generation, ...).
[[nodiscard]] inline Config compatibility_config(const CompatibilityOptions& o) {
  Config c;
  c.batch_sizes = {1};
  c.warmup_iterations = 1;
  c.min_iterations = o.min_iterations;
  c.max_iterations = 100000;
  c.min_time_s = 0.0;
  c.max_time_s = o.max_time_s;
  c.iterations_per_sample = 1;
  c.cell_timeout_s = o.cell_timeout_s;
  c.memory_sample_interval_s = 0.0;
  c.seed = o.seed;
  c.verify = true;
  c.verify_tolerance = o.tolerance;
  return c;
}

namespace detail {

/// The op sets family F needs, read from its Model template with the probe
/// backends of run/op_requirements.hpp (GenerationOps and PerceptionOps
/// include EncoderOps, so EncoderOps is named alone only where neither is
/// needed), for the reason of an unsupported row.
template <class F>
struct family_op_sets {
  static constexpr bool generation = family_needs_ops_missing_from<F, probe::WithoutGenerationOps>;
  static constexpr bool perception = family_needs_ops_missing_from<F, probe::WithoutPerceptionOps>;
  static constexpr bool encoder =
      !generation && !perception && family_needs_ops_missing_from<F, probe::WithoutEncoderOps>;
  static constexpr bool known = encoder || generation || perception;
};

inline std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
  }
  return out;
}

/// "opencl lacks PerceptionOps, which vision needs"; "opencl lacks
/// PerceptionOps (audio needs GenerationOps and PerceptionOps)".
template <class F, class B>
std::string unsupported_reason() {
  using Ops = family_op_sets<F>;
  const std::string backend(B::name), family(F::name);
  if constexpr (!Backend<B>) {
    return backend + " does not satisfy the Backend concept";
  } else if constexpr (!Ops::known) {
    return backend + " lacks ops that family " + family + " needs";
  } else {
    std::vector<std::string> needed, missing;
    const auto need = [&](bool family_needs, bool backend_has, const char* name) {
      if (!family_needs) return;
      needed.emplace_back(name);
      if (!backend_has) missing.emplace_back(name);
    };
    need(Ops::encoder, EncoderOps<B>, "EncoderOps");
    need(Ops::generation, GenerationOps<B>, "GenerationOps");
    need(Ops::perception, PerceptionOps<B>, "PerceptionOps");
    if (missing.empty()) return backend + " lacks ops that family " + family + " needs";
    if (missing.size() == needed.size()) return backend + " lacks " + join_words(missing) + ", which " + family + " needs";
    return backend + " lacks " + join_words(missing) + " (" + family + " needs " + join_words(needed) + ")";
  }
}

/// Cpu with the matrix's thread count; any other backend default-constructed.
template <class B>
B make_matrix_backend(const CompatibilityOptions& o) {
  if constexpr (std::is_same_v<B, Cpu>) {
    return Cpu{Cpu::Options{.threads = o.threads}};
  } else {
    return B{};
  }
}

template <class... Bs>
constexpr bool backend_names_distinct(TypeList<Bs...>) {
  const std::array<std::string_view, sizeof...(Bs) + 1> names{std::string_view(Cpu::name),
                                                              (std::is_same_v<Bs, Cpu> ? std::string_view()
                                                                                        : std::string_view(Bs::name))...};
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) {
      if (!names[i].empty() && names[i] == names[j]) return false;
    }
  }
  return true;
}

/// For each architecture of F, in the order its presets are listed, the
/// smallest preset of at most `max_parameters` parameters.
template <class F>
std::vector<std::string> default_matrix_models(std::int64_t max_parameters) {
  std::vector<std::string> architectures;
  std::map<std::string, std::pair<std::string, std::int64_t>> best;
  for (const auto& name : F::preset_names()) {
    const auto& preset = F::find_preset(name);
    const std::string arch(F::architecture(preset));
    std::int64_t parameters = 0;
    if constexpr (HasParameterCount<typename F::Preset>) {
      parameters = preset.parameter_count();
    }
    if (parameters > max_parameters) continue;
    const auto it = best.find(arch);
    if (it == best.end()) {
      architectures.push_back(arch);
      best.emplace(arch, std::make_pair(preset.name, parameters));
    } else if (parameters < it->second.second) {
      it->second = {preset.name, parameters};
    }
  }
  std::vector<std::string> out;
  for (const auto& arch : architectures) out.push_back(best.at(arch).first);
  return out;
}

template <class F>
bool family_has_preset(const std::string& model) {
  try {
    (void)F::find_preset(model);
    return true;
  } catch (const ConfigError&) {
    return false;
  }
}

/// Runs F's `preset` on B once (or says why not) and fills in the row.
template <class B, class F>
void run_matrix_pair([[maybe_unused]] const CompatibilityOptions& o, [[maybe_unused]] const Config& config,
                     [[maybe_unused]] ResourcePool& pool, CompatibilityRow& row) {
  if constexpr (!RunsOn<F, B>) {
    row.status = CompatibilityStatus::unsupported;
    row.reason = unsupported_reason<F, B>();
  } else {
    const Availability available = B::available();
    if (!available) {
      row.status = CompatibilityStatus::unavailable;
      row.reason = available.reason.empty() ? std::string(B::name) + " is not available here" : available.reason;
      return;
    }
    try {
      Benchmark<B, F, PercentileStats> bench{config, make_matrix_backend<B>(o)};
      bench.share_models(pool);
      const RunResult result = bench.run();
      if (!result.devices.empty()) row.device = result.devices.front().name;
      if (result.cells.empty()) {
        row.status = CompatibilityStatus::error;
        row.reason = "no cell was run";
        return;
      }
      const CellResult& c = result.cells.front();
      row.shape = c.shape;
      row.median_s = c.latency.median;
      switch (c.status) {
        case CellStatus::ok:
        case CellStatus::mismatch:
          if constexpr (std::is_same_v<B, Cpu>) {
            row.status = CompatibilityStatus::reference;
          } else {
            const Verification& v = c.verification;
            row.status = v.status == "ok" ? CompatibilityStatus::ok : CompatibilityStatus::mismatch;
            row.max_abs_error = v.max_abs_error;
            row.max_rel_error = v.max_rel_error;
            row.cosine_similarity = v.cosine_similarity;
            row.token_agreement = v.token_agreement;
            if (row.status == CompatibilityStatus::mismatch) {
              row.reason = c.message.empty() ? "verification: " + v.status : c.message;
            }
          }
          break;
        case CellStatus::unavailable:
          row.status = CompatibilityStatus::unavailable;
          row.reason = c.message;
          row.median_s.reset();
          break;
        case CellStatus::failed:
        case CellStatus::timeout:
        case CellStatus::crashed:
        case CellStatus::out_of_memory:
          row.status = CompatibilityStatus::error;
          row.reason = std::string(to_string(c.status)) + ": " + c.message;
          row.median_s.reset();
          break;
      }
    } catch (const std::exception& e) {
      row.status = CompatibilityStatus::error;
      row.reason = e.what();
    } catch (...) {
      row.status = CompatibilityStatus::error;
      row.reason = "unknown exception";
    }
  }
}

template <class... Bs, class F>
void run_matrix_model(TypeList<Bs...> backends, const CompatibilityOptions& o, const std::vector<std::string>& names,
                      const typename F::Preset& preset, CompatibilityMatrix& m, std::type_identity<F>) {
  Config config = m.settings;
  config.model = preset.name;
  config.sweep = small_sweep<F>();
  const auto cells = cells_for<F>(config, preset);
  ResourcePool pool;  // the Cpu model is loaded once, for its row and every comparison
  const auto blank = [&](std::string_view backend) {
    CompatibilityRow row;
    row.family = std::string(F::name);
    row.architecture = std::string(F::architecture(preset));
    row.model = preset.name;
    row.backend = std::string(backend);
    if (!cells.empty()) row.shape = F::axes(cells.front());
    return row;
  };
  const auto emit = [&](CompatibilityRow&& row) {
    if (o.on_row) o.on_row(row);
    m.rows.push_back(std::move(row));
  };

  CompatibilityRow reference = blank(Cpu::name);
  run_matrix_pair<Cpu, F>(o, config, pool, reference);
  if (reference.status == CompatibilityStatus::reference && reference.median_s) reference.speedup = 1.0;
  const std::optional<double> cpu_median = reference.median_s;
  emit(std::move(reference));

  for (const auto& name : names) {
    find_by_name(backends, name, [&](auto backend) {
      using B = typename decltype(backend)::type;
      if constexpr (!std::is_same_v<B, Cpu>) {
        CompatibilityRow row = blank(B::name);
        run_matrix_pair<B, F>(o, config, pool, row);
        if (cpu_median && row.median_s && *row.median_s > 0 &&
            (row.status == CompatibilityStatus::ok || row.status == CompatibilityStatus::mismatch)) {
          row.speedup = *cpu_median / *row.median_s;
        }
        emit(std::move(row));
      }
    });
  }
}

/// The selected models of family F on the reference and on the backends
/// `names` of `Backends`, rows appended to `m`. Not inline, so that a program
/// can instantiate it for each family in a translation unit of its own.
template <class Backends, class F>
void run_matrix_family(const CompatibilityOptions& o, const std::vector<std::string>& names, CompatibilityMatrix& m) {
  std::vector<std::string> models;
  if (o.models.empty()) {
    models = default_matrix_models<F>(o.max_default_parameters);
  } else {
    for (const auto& model : o.models) {
      if (family_has_preset<F>(model)) models.push_back(model);
    }
  }
  std::vector<std::string> done;  // a preset named twice (or by an alias too) runs once
  for (const auto& model : models) {
    const typename F::Preset preset = F::find_preset(model);
    if (std::find(done.begin(), done.end(), preset.name) != done.end()) continue;
    done.push_back(preset.name);
    run_matrix_model(Backends{}, o, names, preset, m, std::type_identity<F>{});
  }
}

/// Checks the names of `o` against the lists; throws ConfigError naming the
/// field (`backends[1]`, ...) and the value.
template <class... Bs, class... Fs>
void validate_matrix_options(TypeList<Bs...> backends, TypeList<Fs...> families, const CompatibilityOptions& o) {
  for (std::size_t i = 0; i < o.backends.size(); ++i) {
    if (o.backends[i] != Cpu::name && !find_by_name(backends, o.backends[i], [](auto) {})) {
      std::string known(Cpu::name);
      ((known += std::is_same_v<Bs, Cpu> ? std::string() : ", " + std::string(Bs::name)), ...);
      throw ConfigError("backends[" + std::to_string(i) + "]", "\"" + o.backends[i] + "\"",
                        "unknown backend; known: " + known);
    }
  }
  for (std::size_t i = 0; i < o.families.size(); ++i) {
    if (!find_by_name(families, o.families[i], [](auto) {})) {
      throw ConfigError("families[" + std::to_string(i) + "]", "\"" + o.families[i] + "\"",
                        "unknown family; known: " + names_of(families));
    }
  }
  const auto selected = [&](std::string_view family) {
    if (o.families.empty()) return true;
    for (const auto& f : o.families) {
      if (f == family) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < o.models.size(); ++i) {
    const bool known = ((selected(Fs::name) && family_has_preset<Fs>(o.models[i])) || ...);
    if (!known) {
      std::string presets;
      const auto list = [&](auto family) {
        using F = typename decltype(family)::type;
        if (!selected(F::name)) return;
        presets += (presets.empty() ? "" : "; ") + std::string(F::name) + ": ";
        const auto names = F::preset_names();
        for (std::size_t n = 0; n < names.size(); ++n) presets += (n ? ", " : "") + names[n];
      };
      (list(std::type_identity<Fs>{}), ...);
      throw ConfigError("models[" + std::to_string(i) + "]", "\"" + o.models[i] + "\"",
                        "no selected family has this preset; known presets: " + presets);
    }
  }
  if (!std::isfinite(o.tolerance) || o.tolerance < 0) {
    throw ConfigError("tolerance", format_number(o.tolerance), "must be a finite number >= 0");
  }
  if (o.threads < 0) throw ConfigError("threads", std::to_string(o.threads), "must be 0 (all cores) or more");
  validate(compatibility_config(o));
}

template <class... Bs, class... Fs>
CompatibilityMatrix run_matrix(TypeList<Bs...>, TypeList<Fs...> families, const CompatibilityOptions& o) {
  static_assert(backend_names_distinct(TypeList<Bs...>{}),
                "compatibility_matrix: every backend of the list needs its own name (B::name), cpu included");
  validate_matrix_options(TypeList<Bs...>{}, families, o);

  CompatibilityMatrix m;
  m.started_at = utc_timestamp();
  m.system = system_info();
  m.build = build_info();
  m.settings = compatibility_config(o);
  m.settings.model.clear();
  const auto add_small = [&](auto family) {
    for (auto& [axis, values] : small_sweep<typename decltype(family)::type>()) m.settings.sweep.emplace(axis, values);
  };
  (add_small(std::type_identity<Fs>{}), ...);

  // Backend names in column order, the reference first, each once.
  std::vector<std::string> names;
  const auto add_name = [&](const std::string& n) {
    if (n == Cpu::name) return;
    for (const auto& seen : names) {
      if (seen == n) return;
    }
    names.push_back(n);
  };
  if (o.backends.empty()) {
    (add_name(std::string(Bs::name)), ...);
  } else {
    for (const auto& n : o.backends) add_name(n);
  }
  m.backends.push_back(std::string(Cpu::name));
  for (const auto& n : names) m.backends.push_back(n);

  std::vector<std::string> family_names = o.families;
  if (family_names.empty()) (family_names.push_back(std::string(Fs::name)), ...);
  for (const auto& family : family_names) {
    find_by_name(families, family, [&](auto tag) {
      using F = typename decltype(tag)::type;
      run_matrix_family<TypeList<Bs...>, F>(o, names, m);
    });
  }
  m.finished_at = utc_timestamp();
  return m;
}

}  // namespace detail

/// Every selected model of every family in `Families` on Cpu (the reference)
/// and on every backend in `Backends` (both `TypeList<...>`, the library's
/// registries by default): `unsupported`
/// where the backend lacks the family's op sets (decided at compile time),
/// `unavailable` where it cannot run here, otherwise one small cell run with
/// Benchmark<B, F, PercentileStats> and checked against Cpu. A pair that
/// fails is recorded as `error` and the matrix goes on. Throws ConfigError
/// for an unknown backend, family or model name, before anything runs.
template <class Backends = KnownBackends, class Families = KnownFamilies>
[[nodiscard]] CompatibilityMatrix compatibility_matrix(const CompatibilityOptions& options = {}) {
  return detail::run_matrix(Backends{}, Families{}, options);
}

}  // namespace accelbench
// ---- end accelbench/suite/compatibility.hpp ----
// ---- end accelbench/accelbench.hpp ----
