#pragma once

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

#include "../backend/concepts.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../family/concepts.hpp"
#include "../family/hooks.hpp"
#include "../model/common/weights.hpp"
#include "../measure/timer/steady_timer.hpp"

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

/// The precision of a preset's linear layers' weights: its
/// weight_precision, where the family's presets have one, else fp32.
template <class P>
Precision preset_precision(const P& preset) {
  if constexpr (requires { preset.weight_precision; }) {
    return preset.weight_precision;
  } else {
    return Precision::fp32;
  }
}

/// `preset` with its weights at `precision`; a family whose presets cannot
/// say one refuses any other than fp32, naming the field.
template <class F>
typename F::Preset with_precision(typename F::Preset preset, Precision precision) {
  if constexpr (requires { preset.weight_precision; }) {
    preset.weight_precision = precision;
  } else if (precision != Precision::fp32) {
    throw ConfigError("precision", std::string(precision_name(precision)),
                      "family " + std::string(F::name) + " stores its weights as fp32 only");
  }
  return preset;
}

/// The preset config.model names, or the dimensions of the checkpoint
/// folder config.weights, with the weights at config.precision.
template <class F>
typename F::Preset preset_for(const Config& config) {
  if (config.weights.empty()) return with_precision<F>(F::find_preset(config.model), config.precision);
  if constexpr (HasCheckpoints<F>) {
    return with_precision<F>(F::checkpoint_preset(std::filesystem::path(config.weights), config.accept_config_fields),
                             config.precision);
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
                            std::string(preset.name) + "|" + std::string(precision_name(detail::preset_precision(preset))) +
                            "|" + (checkpoint.empty() ? "seed " + std::to_string(seed) : "checkpoint " + checkpoint);
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
