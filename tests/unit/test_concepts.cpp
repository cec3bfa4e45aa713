// Positive and negative static tests of the policy concepts. The compile-fail
// tests under tests/compile_fail check the compiler's message for Benchmark.

#include <doctest/doctest.h>

#include <accelbench/concepts.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/report/console_reporter.hpp>
#include <accelbench/report/json_reporter.hpp>
#include <accelbench/measure/stats/percentile_stats.hpp>
#include <accelbench/measure/timer/steady_timer.hpp>

#include "naive_backend.hpp"

using namespace accelbench;

namespace {

// ---- Backend ----
struct HostOnly {  // the least a Backend needs: no ops at all
  using Tensor = HostMatrix;
  using IndexTensor = std::vector<std::int32_t>;
  static constexpr std::string_view name = "host-only";
  static Availability available() { return {}; }
  DeviceInfo describe() const { return {}; }
  void synchronize() {}
  Tensor upload(const HostMatrix& m) { return m; }
  IndexTensor upload_indices(std::span<const std::int32_t> ids) { return {ids.begin(), ids.end()}; }
  HostMatrix download(const Tensor& t) { return t; }
};
struct NoTensorType {
  static constexpr std::string_view name = "x";
  static Availability available() { return {}; }
  DeviceInfo describe() const { return {}; }
  void synchronize() {}
};
struct NoName : HostOnly {
  static constexpr int name = 0;  // not a string
};
struct AvailabilityAsBool : HostOnly {
  static bool available() { return true; }
};
struct NoDownload : HostOnly {
  void download() = delete;
};

static_assert(Backend<Cpu>);
static_assert(Backend<test::NaiveBackend>);
static_assert(Backend<HostOnly>);
static_assert(!Backend<NoTensorType>);
static_assert(!Backend<NoName>);
static_assert(!Backend<AvailabilityAsBool>);
static_assert(!Backend<NoDownload>);
static_assert(!Backend<int>);

static_assert(EncoderOps<Cpu>);
static_assert(EncoderOps<test::NaiveBackend>);
static_assert(!EncoderOps<HostOnly>);

// ---- Optional backend hooks, named so that a misspelt one is caught ----
struct WithHooks : HostOnly {
  using DefaultTimer = SteadyTimer;
  std::string device_key() const { return "device 0"; }
  DeviceMemory device_memory() const { return {}; }
  void reset_device_memory() {}
  static DeviceReport describe_devices() { return {}; }
};
struct MisspeltHooks : HostOnly {
  using DefaultTimmer = SteadyTimer;
  std::string device_keys() const { return "device 0"; }
  DeviceMemory device_memroy() const { return {}; }
  void reset_device_memory(int) {}  // a hook with the wrong arguments is not the hook
  static DeviceReport describe_device() { return {}; }
};
struct HookOfWrongType : HostOnly {
  using DefaultTimer = int;                 // not a Timer
  int device_key() const { return 0; }      // not a string
  std::size_t device_memory() const { return 0; }
  static std::string describe_devices() { return {}; }
};
static_assert(HasDefaultTimer<WithHooks> && HasDeviceKey<WithHooks> && HasDeviceMemory<WithHooks> &&
              HasResetDeviceMemory<WithHooks> && HasDescribeDevices<WithHooks>);
static_assert(!HasDefaultTimer<MisspeltHooks> && !HasDeviceKey<MisspeltHooks> && !HasDeviceMemory<MisspeltHooks> &&
              !HasResetDeviceMemory<MisspeltHooks> && !HasDescribeDevices<MisspeltHooks>);
static_assert(!HasDefaultTimer<HookOfWrongType> && !HasDeviceKey<HookOfWrongType> &&
              !HasDeviceMemory<HookOfWrongType> && !HasDescribeDevices<HookOfWrongType>);
static_assert(!HasDefaultTimer<HostOnly> && !HasDeviceKey<HostOnly> && !HasDeviceMemory<HostOnly> &&
              !HasResetDeviceMemory<HostOnly> && !HasDescribeDevices<HostOnly>);
static_assert(HasDeviceKey<Cpu> && HasDescribeDevices<Cpu> && !HasDefaultTimer<Cpu>);

// ---- ModelFamily and RunsOn ----
struct NoItemUnit : Embedding {
  static constexpr int item_unit = 1;
};
struct PresetByValue : Embedding {
  static Preset find_preset(std::string_view);  // must return a const reference
};
struct NoSweepAxes : Embedding {
  static void sweep_axes() = delete;
};
struct SweepAxesByName : Embedding {
  static std::vector<std::string> sweep_axes();  // must be std::vector<SweepAxis>
};
static_assert(ModelFamily<Embedding>);
static_assert(!ModelFamily<NoItemUnit>);
static_assert(!ModelFamily<PresetByValue>);
static_assert(!ModelFamily<NoSweepAxes>);
static_assert(!ModelFamily<SweepAxesByName>);
static_assert(!ModelFamily<int>);
static_assert(RunsOn<Embedding, Cpu>);
static_assert(RunsOn<Embedding, test::NaiveBackend>);
static_assert(!RunsOn<Embedding, HostOnly>);  // no encoder ops

// ---- Stats ----
struct MinOnly {
  static constexpr std::string_view name = "min";
  static LatencySummary summarize(std::span<const double> s) { return summarize_moments(s); }
};
struct SummaryAsDouble {
  static constexpr std::string_view name = "x";
  static double summarize(std::span<const double>) { return 0; }
};
struct StatsWithoutName {
  static LatencySummary summarize(std::span<const double>) { return {}; }
};
static_assert(Stats<PercentileStats>);
static_assert(Stats<MinOnly>);
static_assert(!Stats<SummaryAsDouble>);
static_assert(!Stats<StatsWithoutName>);

// ---- Timer ----
struct CountingTimer {
  static constexpr std::string_view name = "counter";
  void start() {}
  double stop() { return 1.0; }
};
struct StopReturnsInt {
  static constexpr std::string_view name = "x";
  void start() {}
  int stop() { return 1; }
};
struct NoStart {
  static constexpr std::string_view name = "x";
  double stop() { return 0; }
};
static_assert(Timer<SteadyTimer>);
static_assert(Timer<CountingTimer>);
static_assert(!Timer<StopReturnsInt>);
static_assert(!Timer<NoStart>);

// Optional timer hooks, named so that a misspelt one is caught.
struct TimerWithHooks : CountingTimer {
  static Availability available() { return {}; }
  static double ticks_per_second() { return 1e9; }
  std::size_t threads_counted() const { return 1; }
  std::vector<std::pair<std::string, double>> counters() const { return {}; }
};
struct TimerWithMisspeltHooks : CountingTimer {
  static bool available() { return true; }  // not an Availability
  static double tick_per_second() { return 1e9; }
  std::size_t thread_counted() const { return 1; }
  std::vector<std::pair<std::string, double>> counter() const { return {}; }
};
static_assert(ReportsAvailability<TimerWithHooks> && HasTicksPerSecond<TimerWithHooks> &&
              CountsThreads<TimerWithHooks> && HasCounters<TimerWithHooks>);
static_assert(!ReportsAvailability<TimerWithMisspeltHooks> && !HasTicksPerSecond<TimerWithMisspeltHooks> &&
              !CountsThreads<TimerWithMisspeltHooks> && !HasCounters<TimerWithMisspeltHooks>);
static_assert(!ReportsAvailability<SteadyTimer> && !HasCounters<SteadyTimer>);

// ---- Reporter ----
struct Collect {
  std::vector<RunResult> seen;
  void report(const RunResult& r) { seen.push_back(r); }
};
struct ReportsNothing {
  void report() {}
};
struct WrongArgument {
  void report(const CellResult&) {}
};
static_assert(Reporter<ConsoleReporter>);
static_assert(Reporter<JsonReporter>);
static_assert(Reporter<Collect>);
static_assert(!Reporter<ReportsNothing>);
static_assert(!Reporter<WrongArgument>);

}  // namespace

TEST_CASE("policies satisfy their concepts (checked at compile time)") {
  // The static_asserts above are the test; this case records that they ran.
  CHECK(Backend<Cpu>);
  CHECK_FALSE(Backend<NoDownload>);
}
