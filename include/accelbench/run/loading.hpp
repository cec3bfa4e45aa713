#pragma once

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

#include "../backend/concepts.hpp"
#include "../family/concepts.hpp"
#include "../measure/stats/concept.hpp"
#include "../measure/timer/concept.hpp"
#include "../report/concept.hpp"
#include "../core/error.hpp"
#include "resource_pool.hpp"
#include "../core/result.hpp"
#include "../measure/sampling.hpp"
#include "../measure/timer/steady_timer.hpp"

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
