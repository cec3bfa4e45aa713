#pragma once

// A model family whose "model" waits: each run busy-waits a set time and each
// load sleeps a set time. Measurement tests use it for workloads of known
// duration without Eigen kernels. Its presets "segfault-run", "abort-run",
// "hang-run" and "alloc-run" crash, hang or run out of memory on the cell
// n = 2 (isolated runs; tests/cli/isolate_runner.cpp has them in a runner).

#include <accelbench/backend/concepts.hpp>
#include <accelbench/core/config.hpp>
#include <accelbench/family/sweep.hpp>
#include <accelbench/measure/do_not_optimize.hpp>
#include <accelbench/core/error.hpp>
#include <accelbench/core/result.hpp>
#include <accelbench/core/tensor.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace accelbench::test {

/// Loads of preset "flaky-load" fail while this is positive (and count it down).
inline std::atomic<int> flaky_failures_left{0};
/// Loads started, per test.
inline std::atomic<int> loads_started{0};

struct Spin {
  static constexpr std::string_view name = "spin";
  static constexpr std::string_view item_unit = "runs";

  struct Preset {
    std::string name;
    double run_s = 0;   ///< busy-wait per run; 0: one counter increment
    double load_s = 0;  ///< sleep per load
    static inline const std::vector<std::string> aliases{};
    [[nodiscard]] std::int64_t parameter_count() const { return 1; }
  };
  struct Cell {
    int n = 1;
  };

  static const std::vector<Preset>& presets() {
    static const std::vector<Preset> p = {
        {"spin-100us", 100e-6, 0},  {"spin-200us", 200e-6, 0},  {"spin-2ms", 2e-3, 0},
        {"spin-none", 0, 0},        {"load-50ms", 10e-6, 0.05}, {"flaky-load", 10e-6, 0.001},
        {"load-5ms", 10e-6, 0.005}, {"throw-int-run", 10e-6, 0}, {"throw-int-load", 10e-6, 0},
        {"segfault-run", 10e-6, 0}, {"abort-run", 10e-6, 0},      {"hang-run", 10e-6, 0},
        {"alloc-run", 10e-6, 0},
    };
    return p;
  }
  static std::vector<std::string> preset_names() {
    std::vector<std::string> out;
    for (const auto& p : presets()) out.push_back(p.name);
    return out;
  }

  static const Preset& find_preset(std::string_view model) {
    for (const auto& p : presets()) {
      if (p.name == model) return p;
    }
    throw ConfigError("model", std::string(model), "unknown spin preset");
  }
  static std::string_view architecture(const Preset&) { return "spin"; }
  static std::vector<SweepAxis> sweep_axes() { return {}; }  // batch_sizes alone
  static void validate(const Config&, const Preset&) {}
  static std::vector<Cell> cells(const Config& c) {
    std::vector<Cell> out;
    for (int b : c.batch_sizes) out.push_back({b});
    return out;
  }
  static std::vector<Axis> axes(const Cell& c) { return {{"n", c.n}}; }
  static double items(const Cell& c) { return c.n; }

  template <Backend B>
  struct Model {
    Preset preset;  // a copy: the pool shares a model between benchmarks, each with its own preset
    std::int64_t parameters() const { return 1; }
    std::uint64_t weight_bytes() const { return 4; }
  };

  template <Backend B>
  static Model<B> load(B&, const Preset& p, std::uint64_t) {
    ++loads_started;
    std::this_thread::sleep_for(std::chrono::duration<double>(p.load_s));
    if (p.name == "flaky-load" && flaky_failures_left.fetch_sub(1) > 0) throw std::runtime_error("flaky load failed");
    if (p.name == "throw-int-load") throw 7;  // not a std::exception
    return Model<B>{p};
  }

  template <Backend B>
  class Workload {
   public:
    Workload(B&, const Model<B>& m, const Cell& c, std::uint64_t) : run_s_(m.preset.run_s) {
      if (m.preset.name == "throw-int-run" && c.n == 2) throw 42;  // not a std::exception
      if (c.n != 2) return;
      if (m.preset.name == "segfault-run") std::raise(SIGSEGV);
      if (m.preset.name == "abort-run") std::abort();
      if (m.preset.name == "hang-run") {
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
      }
      if (m.preset.name == "alloc-run") {
        // 64 MiB blocks, not touched, until an allocation fails (under an
        // address space limit), or 256 GiB without one.
        std::vector<std::unique_ptr<char[]>> blocks;
        for (int i = 0; i < 4096; ++i) blocks.push_back(std::make_unique_for_overwrite<char[]>(std::size_t{64} << 20));
        throw std::runtime_error("alloc-run: 256 GiB allocated without running out of memory");
      }
    }

    void run() {
      if (run_s_ <= 0) {
        ++counter_;
        do_not_optimize(counter_);
        return;
      }
      const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(run_s_);
      while (std::chrono::steady_clock::now() < end) {
      }
    }

    std::vector<NamedOutput> outputs() { return {{"constant", HostMatrix::Constant(1, 1, 1.0f)}}; }

   private:
    double run_s_;
    std::uint64_t counter_ = 0;
  };
};

/// A quick configuration of the spin preset `model`: two timed runs at
/// least, 50 ms of sampling at most.
inline Config spin(const char* model, std::vector<int> batches) {
  return Config{.model = model,
                .batch_sizes = std::move(batches),
                .warmup_iterations = 1,
                .min_iterations = 2,
                .max_iterations = 100,
                .min_time_s = 0.0,
                .max_time_s = 0.05};
}

}  // namespace accelbench::test
