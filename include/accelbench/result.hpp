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

namespace accelbench {

/// Outcome of one cell of a sweep.
enum class CellStatus {
  ok,           ///< measured; output matched the reference (or is the reference)
  mismatch,     ///< measured, but the output differs from the reference beyond tolerance
  failed,       ///< an exception ended the cell; `message` says which
  unavailable,  ///< the backend cannot run on this machine; `message` says why
};

[[nodiscard]] constexpr std::string_view to_string(CellStatus s) noexcept {
  switch (s) {
    case CellStatus::ok: return "ok";
    case CellStatus::mismatch: return "mismatch";
    case CellStatus::failed: return "failed";
    case CellStatus::unavailable: return "unavailable";
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
struct LatencySummary {
  std::size_t count = 0;
  double min = 0, max = 0, mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1); 0 for one sample
  double cv = 0;      ///< coefficient of variation, stddev / mean
  std::optional<double> median, p90, p95, p99;
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
};

/// Resident memory of the process around one cell.
struct MemoryUsage {
  std::uint64_t rss_before_bytes = 0;  ///< resident set before the cell's inputs were made
  std::uint64_t rss_after_bytes = 0;   ///< resident set when the cell ended
  std::uint64_t peak_rss_bytes = 0;    ///< high-water mark of the resident set
  bool peak_is_per_cell = false;       ///< true when the high-water mark was reset at the cell's start
  /// Growth of the resident set during the cell: peak minus the value before.
  [[nodiscard]] std::uint64_t growth_bytes() const noexcept {
    return peak_rss_bytes > rss_before_bytes ? peak_rss_bytes - rss_before_bytes : 0;
  }
};

/// Comparison of a backend's output with the reference backend's.
struct Verification {
  std::string status = "skipped";  ///< "reference", "ok", "mismatch" or "skipped"
  std::string reference;           ///< backend compared against
  double max_abs_error = 0;
  double max_rel_error = 0;
  double cosine_similarity = 1;
  double tolerance = 0;            ///< max_abs_error allowed
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
  std::size_t iterations = 0;
  double measured_time_s = 0;  ///< sum of the timed samples
  double first_run_s = 0;      ///< the cell's first execution, before warmup
  double load_time_s = 0;      ///< the model's load time (repeated on each of its cells)

  LatencySummary latency;
  std::vector<double> samples_s;  ///< every timed sample, in order
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
  std::int64_t parameters = 0;
  std::uint64_t weight_bytes = 0;
  double load_time_s = 0;
  std::string status = "ok";  ///< "ok", "failed" or "unavailable"
  std::string message;
};

/// The stopping rule and other settings the cells were measured with.
struct RunSettings {
  int warmup_iterations = 0;
  int min_iterations = 0;
  int max_iterations = 0;
  double min_time_s = 0;
  double max_time_s = 0;
  std::uint64_t seed = 0;
};

struct RunResult {
  static constexpr int schema_version = 1;

  std::string started_at;   ///< ISO 8601, UTC
  std::string finished_at;  ///< ISO 8601, UTC
  SystemInfo system;
  BuildInfo build;
  RunSettings settings;
  std::vector<DeviceInfo> devices;
  std::vector<ModelInfo> models;
  std::vector<CellResult> cells;
  std::vector<std::string> warnings;  ///< run-wide warnings, e.g. a debug build

  /// Appends another run's models, cells and devices (devices once per backend).
  /// An empty result takes the other's system, build and settings.
  void merge(RunResult&& other) {
    if (models.empty() && cells.empty()) {
      system = std::move(other.system);
      build = std::move(other.build);
      settings = other.settings;
    }
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
