#pragma once

// Suites: several models of a family on several backends, described at run
// time (a JSON file, command-line flags) and mapped to Benchmark<B, F> types
// once, at the top, by walking compile-time lists of the known policies.

#include <algorithm>
#include <thread>
#include <cstdint>
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

#include "../run/benchmark.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/file_name.hpp"
#include "../core/json_fields.hpp"
#include "../family/sweep.hpp"
#include "../run/loading.hpp"
#include "../report/json.hpp"
#include "../run/resource_pool.hpp"
#include "../core/result.hpp"
#include "isolate.hpp"
#include "parallel.hpp"
#include "registry.hpp"
#include "suite_types.hpp"

namespace accelbench {

namespace detail {

/// The family whose preset (or checkpoint folder) `model` names, or "";
/// `refusals` (when given) receives each family's reason for refusing it.
template <class Families = KnownFamilies>
std::string family_of(const std::string& model, std::vector<ConfigError>* refusals = nullptr) {
  std::string found;
  const Config config = config_for_model(Config{}, model);
  const auto try_family = [&](auto family) {
    using F = typename decltype(family)::type;
    if (!found.empty()) return;
    try {
      (void)preset_for<F>(config);
      found = std::string(F::name);
    } catch (const ConfigError& e) {
      if (refusals) refusals->push_back(e);
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
    std::vector<ConfigError> refusals;
    const std::string family = family_of<Families>(models[i], &refusals);
    const std::string field_i = field + "[" + std::to_string(i) + "]";
    if (family.empty() && !config_for_model(Config{}, models[i]).weights.empty()) {
      throw_checkpoint_refusal(field_i, models[i], refusals);
    }
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
  Suite s = default_suite(families);
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
      {"precision", [&](const Json& v, const std::string& k) { c.precision = parse_precision(json_string(v, k), k); }},
      {"threads", [&](const Json& v, const std::string& k) { s.threads = json_int(v, k); }},
      {"concurrent_loading", [&](const Json& v, const std::string& k) { s.concurrent_loading = boolean(v, k); }},
      {"loading_repetitions", [&](const Json& v, const std::string& k) { s.loading_repetitions = json_int(v, k); }},
      {"output_dir", [&](const Json& v, const std::string& k) { s.output_dir = json_string(v, k); }},
      {"fail_on_busy", [&](const Json& v, const std::string& k) { s.fail_on_busy = boolean(v, k); }},
      {"isolate", [&](const Json& v, const std::string& k) { s.isolate = boolean(v, k); }},
      {"parallel", [&](const Json& v, const std::string& k) { s.parallel = boolean(v, k); }},
      {"max_memory",
       [&](const Json& v, const std::string& k) {
         const bool bytes = v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
         if (!v.is_string() && !bytes) detail::bad_type(k, v, "bytes: an integer or \"512M\"");
         s.max_memory = v.is_string() ? parse_byte_size(k, v.get<std::string>()) : v.get<std::uint64_t>();
       }},
  };  // After the fields above, so that messages list them as before.
  fields.push_back({"unsupported",
       [&](const Json& v, const std::string& k) {
         if (!v.is_array()) detail::bad_type(k, v, "an array of {\"model\": ..., \"reason\": ...}");
         s.unsupported.clear();
         for (std::size_t i = 0; i < v.size(); ++i) {
           const std::string item = k + "[" + std::to_string(i) + "]";
           if (!v[i].is_object()) detail::bad_type(item, v[i], "an object with model and reason");
           UnsupportedModel u;
           for (const auto& [key, value] : v[i].items()) {
             if (key == "model") {
               u.model = json_string(value, item + ".model");
             } else if (key == "reason") {
               u.reason = json_string(value, item + ".reason");
             } else {
               throw ConfigError(item + "." + key, detail::json_text(value), "unknown field; known: model, reason");
             }
           }
           s.unsupported.push_back(std::move(u));
         }
       }});

  // The families' sweep axes, listed after batch_sizes.
  const auto declared = declared_sweep_axes(families);
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
  detail::check_count("threads", s.threads, 0, config_limits::threads, "must be 0 (all cores) or a thread count");
  detail::check_count("loading_repetitions", s.loading_repetitions, 1, config_limits::loading_repetitions,
                      "must be a count of repetitions");
  if (s.parallel && s.isolate) {
    throw ConfigError("parallel", "true",
                      "isolated runs fork a process per model, one at a time: set parallel or isolate, not both");
  }
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
                  observer.skip_cell, observer.on_cell, observer.on_cell_start);
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

namespace detail {

/// The suite's backends in lanes, one per device (suite/parallel.hpp),
/// the CPU's first, each in the order the suite names them; a backend that
/// is not available here joins the CPU's lane (its cells are only recorded
/// unavailable).
template <class Backends>
std::vector<DeviceLane> device_lanes(const Suite& s) {
  std::vector<DeviceLane> lanes{{"cpu", {}}};
  for (const auto& hw : s.hardware) {
    std::string device = "cpu";
    find_by_name(Backends{}, hw, [&](auto backend) {
      using B = typename decltype(backend)::type;
      if (B::available()) device = device_lane(make_backend<B>(s).describe());
    });
    const auto at = std::find_if(lanes.begin(), lanes.end(), [&](const DeviceLane& l) { return l.device == device; });
    if (at == lanes.end()) {
      lanes.push_back({device, {hw}});
    } else {
      at->backends.push_back(hw);
    }
  }
  if (lanes.front().backends.empty()) lanes.erase(lanes.begin());
  return lanes;
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
  if (!s.unsupported.empty()) {
    RunResult part;
    for (const auto& u : s.unsupported) {
      ModelInfo info;
      info.name = u.model;
      info.status = "unsupported";
      info.message = u.reason;
      part.models.push_back(std::move(info));
    }
    if (observer.on_part) observer.on_part(part);
    all.merge(std::move(part));
  }
  ResourcePool pool;  // each model is loaded once per backend device for the whole suite
  const std::vector<DeviceLane> lanes =
      s.parallel ? detail::device_lanes<Backends>(s) : std::vector<DeviceLane>{{"", s.hardware}};
  if (lanes.size() > 1) {
    std::string names;
    for (const auto& lane : lanes) {
      std::string one;
      for (const auto& hw : lane.backends) one += (one.empty() ? "" : " then ") + hw;
      names += (names.empty() ? "" : ", ") + one;
    }
    all.warnings.push_back("devices measured at the same time (parallel): " + names +
                           "; each cell names the cells of other devices that ran with it (concurrent_with)");
  }
  for (const SuiteEntry& entry : s.benchmarks) {
    detail::find_by_name(Families{}, entry.family, [&](auto family) {
      using F = typename decltype(family)::type;
      if (lanes.size() <= 1) {
        detail::run_suite_entry<Backends, F>(s, entry, pool, observer, all);
        return;
      }
      detail::run_lanes(lanes.size(), observer, all, [&](std::size_t i, const SuiteObserver& o, RunResult& out) {
        Suite lane = s;
        lane.hardware = lanes[i].backends;
        if (lanes[i].device == "cpu") {
          // The CPU's lane leaves a core to each other lane's host thread.
          const int cores = s.threads > 0 ? s.threads : static_cast<int>(std::thread::hardware_concurrency());
          lane.threads = std::max(1, cores - static_cast<int>(lanes.size() - 1));
        }
        ResourcePool lane_pool;  // each lane loads its own models
        detail::run_suite_entry<Backends, F>(lane, entry, lane_pool, o, out);
      });
    });
    pool.clear();  // one family's models are not needed by the next
  }
  return all;
}

}  // namespace accelbench
