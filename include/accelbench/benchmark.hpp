#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu.hpp"
#include "concepts.hpp"
#include "config.hpp"
#include "detail/proc.hpp"
#include "report/console_reporter.hpp"
#include "result.hpp"
#include "stats/percentile_stats.hpp"
#include "system.hpp"
#include "timer/steady_timer.hpp"
#include "verification.hpp"

namespace accelbench {

namespace detail {
template <class B>
struct default_timer {
  using type = SteadyTimer;
};
template <class B>
  requires requires { typename B::DefaultTimer; }
struct default_timer<B> {
  using type = typename B::DefaultTimer;
};
}  // namespace detail

/// The Timer a backend uses unless told otherwise: B::DefaultTimer where the
/// backend names one (a device event timer), else SteadyTimer.
template <class B>
using default_timer_t = typename detail::default_timer<B>::type;

/// The cell-level warning thresholds.
inline constexpr double high_variance_cv = 0.10;

/// One benchmark: model family F on backend B, summarised by S, timed by T,
/// reported by R. Everything is resolved at compile time; nothing on the
/// timed path is virtual or type-erased.
template <Backend B, ModelFamily F, Stats S = PercentileStats, Timer T = default_timer_t<B>,
          Reporter R = ConsoleReporter>
  requires RunsOn<F, B>
class Benchmark {
 public:
  using backend_type = B;
  using family_type = F;
  using stats_type = S;
  using timer_type = T;
  using reporter_type = R;
  using Model = typename F::template Model<B>;
  using Workload = typename F::template Workload<B>;

  /// Validates the configuration (throws ConfigError naming the bad field).
  explicit Benchmark(Config config, B backend = B{}, R reporter = R{})
      : config_(std::move(config)),
        preset_(&F::find_preset(config_.model)),
        backend_(std::move(backend)),
        reporter_(std::move(reporter)) {
    validate(config_);
    F::validate(config_, *preset_);
  }

  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] B& backend() noexcept { return backend_; }
  [[nodiscard]] R& reporter() noexcept { return reporter_; }

  /// Called after each cell with its result (outside the timed path).
  void on_cell(std::function<void(const CellResult&)> callback) { on_cell_ = std::move(callback); }

  /// Runs every cell of the sweep. A cell that fails is recorded with its
  /// message and the sweep goes on.
  [[nodiscard]] RunResult run() {
    RunResult result;
    result.started_at = utc_timestamp();
    result.system = system_info();
    result.build = build_info();
    result.warnings = build_warnings(result.build);
    result.settings = RunSettings{config_.warmup_iterations, config_.min_iterations, config_.max_iterations,
                                  config_.min_time_s,        config_.max_time_s,     config_.seed};

    ModelInfo info;
    info.name = preset_->name;
    info.family = std::string(F::name);
    info.architecture = std::string(F::architecture(*preset_));
    info.backend = std::string(B::name);
    info.weights = "synthetic (seed " + std::to_string(config_.seed) + ")";

    const Availability availability = B::available();
    if (!availability) {
      DeviceInfo device;
      device.backend = std::string(B::name);
      result.devices.push_back(device);
      info.status = "unavailable";
      info.message = availability.reason;
      for (const auto& cell : F::cells(config_)) {
        CellResult c = blank_cell(cell, 0);
        c.status = CellStatus::unavailable;
        c.message = availability.reason;
        record(result, std::move(c));
      }
      result.models.push_back(std::move(info));
      result.finished_at = utc_timestamp();
      return result;
    }
    result.devices.push_back(backend_.describe());

    std::optional<Model> model;
    try {
      SteadyTimer load;
      load.start();
      model.emplace(F::template load<B>(backend_, *preset_, config_.seed));
      backend_.synchronize();
      info.load_time_s = load.stop();
      info.parameters = static_cast<std::int64_t>(model->parameters());
      info.weight_bytes = static_cast<std::uint64_t>(model->weight_bytes());
    } catch (const std::exception& e) {
      info.status = "failed";
      info.message = std::string("model load failed: ") + e.what();
    }

    for (const auto& cell : F::cells(config_)) {
      if (!model) {
        CellResult c = blank_cell(cell, 0);
        c.status = CellStatus::failed;
        c.message = info.message;
        record(result, std::move(c));
        continue;
      }
      record(result, run_cell(*model, cell, info.load_time_s));
    }
    result.models.push_back(std::move(info));
    result.finished_at = utc_timestamp();
    return result;
  }

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
    c.model = preset_->name;
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
      reference_model_.emplace(F::template load<Cpu>(*reference_backend_, *preset_, config_.seed));
    }
    typename F::template Workload<Cpu> work(*reference_backend_, *reference_model_, cell, config_.seed);
    work.run();
    return work.outputs();
  }

  CellResult run_cell(const Model& model, const typename F::Cell& cell, double load_time_s) {
    CellResult c = blank_cell(cell, load_time_s);
    try {
      c.memory.peak_is_per_cell = detail::reset_peak_rss();
      c.memory.rss_before_bytes = detail::current_rss_bytes();

      Workload work(backend_, model, cell, config_.seed);

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

      for (int i = 0; i < config_.warmup_iterations; ++i) {
        work.run();
        backend_.synchronize();
      }
      c.warmup_iterations = config_.warmup_iterations;

      sample(work, c);

      c.latency = S::summarize(c.samples_s);
      const double n = static_cast<double>(c.iterations);
      if (c.measured_time_s > 0) {
        c.throughput.items_per_second = F::items(cell) * n / c.measured_time_s;
        if constexpr (requires { F::tokens(cell); }) {
          c.throughput.tokens_per_second = F::tokens(cell) * n / c.measured_time_s;
        }
        if constexpr (requires { F::flops(*preset_, cell); }) {
          c.throughput.gflops_per_second = F::flops(*preset_, cell) * n / c.measured_time_s / 1e9;
        }
      }
      c.memory.peak_rss_bytes = detail::peak_rss_bytes();
      c.memory.rss_after_bytes = detail::current_rss_bytes();
      c.status = c.verification.status == "mismatch" ? CellStatus::mismatch : CellStatus::ok;
      if (c.status == CellStatus::mismatch) {
        c.message = "output differs from the " + c.verification.reference + " reference: max abs error " +
                    detail::format_number(c.verification.max_abs_error) + " > tolerance " +
                    detail::format_number(c.verification.tolerance);
      }
      add_warnings(c);
    } catch (const std::exception& e) {
      c.status = CellStatus::failed;
      c.message = e.what();
    }
    return c;
  }

  /// Takes samples until the stopping rule holds.
  void sample(Workload& work, CellResult& c) {
    T timer = make_timer();
    const auto min_n = static_cast<std::size_t>(config_.min_iterations);
    const auto max_n = static_cast<std::size_t>(config_.max_iterations);
    c.samples_s.clear();
    c.samples_s.reserve(std::min<std::size_t>(max_n, 4096));
    const auto begin = std::chrono::steady_clock::now();
    double total = 0;
    for (;;) {
      timer.start();
      work.run();
      backend_.synchronize();
      const double s = timer.stop();
      c.samples_s.push_back(s);
      total += s;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      const std::size_t n = c.samples_s.size();
      if (n >= max_n) break;
      if (n >= min_n && elapsed >= config_.min_time_s) break;
      if (elapsed >= config_.max_time_s) break;
    }
    c.iterations = c.samples_s.size();
    c.measured_time_s = total;
  }

  void add_warnings(CellResult& c) const {
    if (c.iterations < static_cast<std::size_t>(config_.min_iterations)) {
      c.warnings.push_back("too few samples: max_time_s (" + detail::format_number(config_.max_time_s) +
                           " s) ended sampling after " + std::to_string(c.iterations) + " of min_iterations " +
                           std::to_string(config_.min_iterations));
    }
    if (c.latency.count > 1 && c.latency.cv > high_variance_cv) {
      c.warnings.push_back(fmt::format("high variance: coefficient of variation {:.1f}% exceeds {:.0f}%", c.latency.cv * 100,
                                       high_variance_cv * 100));
    }
    if (!c.memory.peak_is_per_cell) {
      c.warnings.push_back("peak RSS covers the whole process: the high-water mark could not be reset");
    }
  }

  Config config_;
  const typename F::Preset* preset_;
  B backend_;
  R reporter_;
  std::function<void(const CellResult&)> on_cell_;
  std::optional<Cpu> reference_backend_;
  std::optional<typename F::template Model<Cpu>> reference_model_;
};

}  // namespace accelbench
