#pragma once

// The data a run produces. Plain structs, no Eigen: reporters and tools that
// only read results include this header alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"

namespace accelbench {

/// Outcome of one cell of a sweep.
enum class CellStatus {
  ok,           ///< measured; output matched the reference (or is the reference)
  mismatch,     ///< measured, but the output differs from the reference beyond tolerance
  failed,       ///< an exception ended the cell; `message` says which
  unavailable,  ///< the backend or timer cannot run on this machine; `message` says why
  timeout,      ///< the cell ran past cell_timeout_s; what was measured is kept
  /// the outputs hold NaN or Inf (verification.non_finite counts them);
  /// nothing is timed. Never ok, whatever the reference says.
  invalid_output,
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
    case CellStatus::invalid_output: return "invalid_output";
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
  /// NaN or Inf values among this backend's outputs; more than 0 makes the
  /// cell invalid_output.
  std::size_t non_finite = 0;
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

/// What else the machine was doing while a cell's samples were taken, from
/// /proc/stat and /proc/loadavg read when sampling began and ended.
struct MachineLoad {
  std::optional<double> load_average_start;  ///< 1-minute load average when sampling began
  std::optional<double> load_average_end;    ///< and when it ended
  int logical_cores = 0;      ///< CPUs counted: those the process may run on (its affinity), else all
  int cell_threads = 0;       ///< cores the cell could use: the Cpu backend's threads, 1 for a device backend
  double wall_s = 0;          ///< the window the counters cover
  double own_cores = 0;       ///< this process's CPU time over the window, in cores
  double other_cores = 0;     ///< CPU time of everything else (other processes, the kernel's interrupts), in cores
  double steal_fraction = 0;  ///< share of all CPU time the hypervisor gave to other guests
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
  /// The machine's load while sampling; empty where it could not be read.
  std::optional<MachineLoad> load;
  bool busy = false;  ///< other work took CPU the cell could use (see `load`); a warning says how much
  /// Cells of other devices measured while this one was (a suite run with
  /// `parallel`), by cell key ("family/model/backend/shape"); empty when
  /// nothing else was measured at the same time.
  std::vector<std::string> concurrent_with;
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
  std::string precision = "fp32";  ///< of the linear layers' weights (Config::precision)
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

/// Where a run belongs among others measured together: a group of runs
/// (e.g. one fleet job) and the run's shard of it. Every part is optional.
struct RunGroup {
  std::string name;                 ///< empty: no group
  std::optional<int> shard_index;   ///< from 1
  std::optional<int> shard_count;
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
  RunGroup group;  ///< the runs it was measured with (a sharded suite's group), if any

  /// Appends another run's models, cells and devices (devices once per backend).
  /// An empty result takes the other's system, build and settings.
  void merge(RunResult&& other) {
    if (models.empty() && cells.empty() && comparisons.empty() && loading.empty()) {
      system = std::move(other.system);
      build = std::move(other.build);
      environment = std::move(other.environment);
      settings = other.settings;
      if (group.name.empty()) group = other.group;
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
