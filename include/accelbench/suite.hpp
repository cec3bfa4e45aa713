#pragma once

// Suites: several models of a family on several backends, described at run
// time (a JSON file, command-line flags) and mapped to Benchmark<B, F> types
// once, at the top, by walking compile-time lists of the known policies.

#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu.hpp"
#include "benchmark.hpp"
#include "config.hpp"
#include "error.hpp"
#include "family/embedding.hpp"
#include "report/json.hpp"
#include "result.hpp"

namespace accelbench {

template <class... Ts>
struct TypeList {};

/// The backends and families a suite can name, by their `name`.
using KnownBackends = TypeList<Cpu>;
using KnownFamilies = TypeList<Embedding>;

struct Suite {
  std::string name = "default";
  std::string family = "embedding";
  std::vector<std::string> hardware = {"cpu"};
  std::vector<std::string> models = {"bert-tiny", "all-MiniLM-L6-v2"};
  /// Sweep and stopping rule shared by every model; its `model` is ignored.
  Config settings{.batch_sizes = {1, 8},
                  .sequence_lengths = {32, 128},
                  .warmup_iterations = 2,
                  .min_iterations = 10,
                  .max_iterations = 100000,
                  .min_time_s = 1.0,
                  .max_time_s = 10.0};
  /// Cpu threads; 0 means one per logical core.
  int threads = 0;
  std::string output_dir = "results";
};

/// The suite the README's main command runs: bert-tiny and all-MiniLM-L6-v2
/// on the CPU, batch sizes 1 and 8, sequence lengths 32 and 128.
[[nodiscard]] inline Suite default_suite() { return Suite{}; }

namespace detail {

template <class... Ts, class F>
bool find_by_name(TypeList<Ts...>, std::string_view name, F&& f) {
  return ((Ts::name == name ? (f(std::type_identity<Ts>{}), true) : false) || ...);
}

template <class... Ts>
std::string names_of(TypeList<Ts...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(Ts::name)), ...);
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

/// Reads a suite from JSON. Fields not given keep default_suite()'s values;
/// an unknown field or a value of the wrong type is a ConfigError naming it.
[[nodiscard]] inline Suite parse_suite(const Json& j) {
  if (!j.is_object()) detail::bad_type("suite", j, "a JSON object");
  Suite s = default_suite();
  Config& c = s.settings;
  for (const auto& [key, v] : j.items()) {
    if (key == "name") s.name = detail::json_string(v, key);
    else if (key == "family") s.family = detail::json_string(v, key);
    else if (key == "hardware") s.hardware = detail::json_strings(v, key);
    else if (key == "models") s.models = detail::json_strings(v, key);
    else if (key == "batch_sizes") c.batch_sizes = detail::json_ints(v, key);
    else if (key == "sequence_lengths") c.sequence_lengths = detail::json_ints(v, key);
    else if (key == "warmup_iterations") c.warmup_iterations = detail::json_int(v, key);
    else if (key == "min_iterations") c.min_iterations = detail::json_int(v, key);
    else if (key == "max_iterations") c.max_iterations = detail::json_int(v, key);
    else if (key == "min_time_s") c.min_time_s = detail::json_number(v, key);
    else if (key == "max_time_s") c.max_time_s = detail::json_number(v, key);
    else if (key == "seed") {
      if (!v.is_number_unsigned()) detail::bad_type(key, v, "a non-negative integer");
      c.seed = v.get<std::uint64_t>();
    } else if (key == "verify") {
      if (!v.is_boolean()) detail::bad_type(key, v, "true or false");
      c.verify = v.get<bool>();
    } else if (key == "verify_tolerance") c.verify_tolerance = detail::json_number(v, key);
    else if (key == "threads") s.threads = detail::json_int(v, key);
    else if (key == "output_dir") s.output_dir = detail::json_string(v, key);
    else {
      throw ConfigError(key, detail::json_text(v),
                        "unknown suite field; known fields: name, family, hardware, models, batch_sizes, "
                        "sequence_lengths, warmup_iterations, min_iterations, max_iterations, min_time_s, "
                        "max_time_s, seed, verify, verify_tolerance, threads, output_dir");
    }
  }
  return s;
}

/// Checks a whole suite before anything runs: the family, every backend name,
/// every model and the shared settings. Throws ConfigError naming the field.
inline void validate_suite(const Suite& s) {
  if (s.threads < 0) throw ConfigError("threads", std::to_string(s.threads), "must be 0 (all cores) or more");
  if (s.output_dir.empty()) throw ConfigError("output_dir", "\"\"", "must name a folder");
  if (s.hardware.empty()) throw ConfigError("hardware", "[]", "name at least one backend");
  if (s.models.empty()) throw ConfigError("models", "[]", "name at least one model");
  validate(s.settings);
  const bool family_known = detail::find_by_name(KnownFamilies{}, s.family, [&](auto family) {
    using F = typename decltype(family)::type;
    for (std::size_t i = 0; i < s.models.size(); ++i) {
      const std::string field = "models[" + std::to_string(i) + "]";
      try {
        F::validate(s.settings, F::find_preset(s.models[i]));
      } catch (const ConfigError& e) {
        // Name the suite's field, keep the family's explanation.
        const std::string what = e.what();
        const auto colon = what.find(": ");
        const std::string problem = colon == std::string::npos ? what : what.substr(colon + 2);
        throw ConfigError(e.field() == "model" ? field : e.field() + " (for " + s.models[i] + ")", e.value(), problem);
      }
    }
  });
  if (!family_known) {
    throw ConfigError("family", "\"" + s.family + "\"", "unknown family; known: " + detail::names_of(KnownFamilies{}));
  }
  for (std::size_t i = 0; i < s.hardware.size(); ++i) {
    if (!detail::find_by_name(KnownBackends{}, s.hardware[i], [](auto) {})) {
      throw ConfigError("hardware[" + std::to_string(i) + "]", "\"" + s.hardware[i] + "\"",
                        "unknown backend; known: " + detail::names_of(KnownBackends{}));
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
};

/// Runs every model of the suite on every backend it names. Validates the
/// whole suite first (throws ConfigError); after that, failures are recorded
/// in the results and the suite goes on.
[[nodiscard]] inline RunResult run_suite(const Suite& s, const SuiteObserver& observer = {}) {
  validate_suite(s);
  RunResult all;
  detail::find_by_name(KnownFamilies{}, s.family, [&](auto family) {
    using F = typename decltype(family)::type;
    for (const auto& hw : s.hardware) {
      detail::find_by_name(KnownBackends{}, hw, [&](auto backend) {
        using B = typename decltype(backend)::type;
        if constexpr (RunsOn<F, B>) {
          for (const auto& model : s.models) {
            Config config = s.settings;
            config.model = model;
            Benchmark<B, F> bench{std::move(config), detail::make_backend<B>(s)};
            if (observer.on_cell) bench.on_cell(observer.on_cell);
            all.merge(bench.run());
            if (observer.on_progress) observer.on_progress(all);
          }
        } else {
          RunResult unsupported;
          for (const auto& model : s.models) {
            ModelInfo info;
            info.name = model;
            info.family = std::string(F::name);
            info.backend = std::string(B::name);
            info.status = "unsupported";
            info.message = "backend " + std::string(B::name) + " lacks ops that family " + std::string(F::name) +
                           " needs";
            unsupported.models.push_back(std::move(info));
          }
          all.merge(std::move(unsupported));
        }
      });
    }
  });
  return all;
}

}  // namespace accelbench
