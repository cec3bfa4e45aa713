#pragma once

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

#include "../backend/cpu.hpp"
#include "../backend/concepts.hpp"
#include "../family/concepts.hpp"
#include "../family/hooks.hpp"
#include "../measure/stats/concept.hpp"
#include "../measure/timer/concept.hpp"
#include "../report/concept.hpp"
#include "../core/config.hpp"
#include "../detail/checked_math.hpp"
#include "../detail/proc.hpp"
#include "../core/error.hpp"
#include "../machine/environment.hpp"
#include "../machine/load.hpp"
#include "../measure/memory.hpp"
#include "../core/phases.hpp"
#include "../report/console_reporter.hpp"
#include "cell_helpers.hpp"
#include "phase_timer.hpp"
#include "op_requirements.hpp"
#include "resource_pool.hpp"
#include "../core/result.hpp"
#include "../measure/sampling.hpp"
#include "../measure/stats/percentile_stats.hpp"
#include "../machine/system.hpp"
#include "../measure/timer/calibration.hpp"
#include "../measure/timer/steady_timer.hpp"
#include "../measure/verification.hpp"

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
      // The reference stores its weights at the same precision: the same
      // rounded weights, so that the comparison checks this backend's
      // arithmetic (the precision's own error against fp32 is bounded by
      // the tests, docs/models.md).
      reference_model_ = pool_ ? pool_->template acquire<F>(*reference_backend_, preset_, config_.seed, config_.weights).model
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
    std::optional<LoadSnapshot> load_start, load_end;  // the machine's load over the sampling phase
    try {
      if constexpr (HasCellBytes<F>) {
        detail::refuse_oversized_cell(F::cell_bytes(preset_, cell), c.shape, machine_memory_);
      }
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

      // NaN or Inf in the outputs (a broken checkpoint, random bytes as
      // weights) makes the cell invalid_output: nothing is timed.
      std::vector<NamedOutput> outputs = work.outputs();
      const NonFiniteValues non_finite = count_non_finite(outputs);
      if constexpr (is_reference_backend) {
        c.verification.status = "reference";
        c.verification.reference = std::string(Cpu::name);
      } else if (config_.verify) {
        c.verification =
            compare_outputs(outputs, reference_outputs(cell), config_.verify_tolerance, std::string(Cpu::name));
      }
      c.verification.non_finite = non_finite.count;
      if (non_finite.count > 0) throw detail::InvalidOutput{non_finite.describe()};

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
      load_start = take_load_snapshot();
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
      load_end = take_load_snapshot();

      c.status = c.verification.status == "mismatch" ? CellStatus::mismatch : CellStatus::ok;
      if (c.status == CellStatus::mismatch) {
        c.message = "output differs from the " + c.verification.reference + " reference: max abs error " +
                    detail::format_number(c.verification.max_abs_error) + " > tolerance " +
                    detail::format_number(c.verification.tolerance);
      }
    } catch (const detail::InvalidOutput& bad) {
      c.status = CellStatus::invalid_output;
      c.message = bad.what;
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
    if (load_start) {
      c.load = machine_load_between(*load_start, load_end ? *load_end : take_load_snapshot(), cell_threads_);
      if (c.load) {
        if (std::string busy = busy_warning(*c.load); !busy.empty()) {
          c.busy = true;
          c.warnings.push_back(std::move(busy));
        }
      }
    }
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
  std::uint64_t machine_memory_ = detail::total_memory_bytes();
  int cell_threads_ = 1;  ///< cores a cell can use, for MachineLoad
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
  info.precision = std::string(precision_name(detail::preset_precision(preset_)));

  const Availability backend_ok = B::available();
  Availability timer_ok = timer_availability<T>();
  if (backend_ok) {
    result.devices.push_back(backend_.describe());
    const DeviceInfo& d = result.devices.back();
    // A CPU device without a thread count (OpenCL on the CPU) may use all its compute units.
    cell_threads_ = d.threads > 0 ? d.threads : d.kind == "cpu" && d.compute_units > 0 ? d.compute_units : 1;
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
    if constexpr (HasParameterCount<typename F::Preset>) {
      // Refused before anything is allocated for the weights.
      const std::uint64_t bytes = detail::saturating_product(preset_.parameter_count(), sizeof(float));
      if (bytes == detail::saturated_size || (machine_memory_ > 0 && bytes > machine_memory_)) {
        throw ConfigError("model", preset_.name,
                          fmt::format("its {} parameters need {} bytes as floats, more than this machine's {} bytes "
                                      "of memory; refused before loading",
                                      preset_.parameter_count(), bytes, machine_memory_));
      }
    }
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
