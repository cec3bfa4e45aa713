#pragma once

// The compatibility matrix: every family's models on every backend, each run
// once on a small cell and checked against the Cpu reference. A row says
// whether the backend can run the model at all (compile time: its op sets;
// run time: its device) and, where it ran, how closely and how fast.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../backend/cpu.hpp"
#include "../run/benchmark.hpp"
#include "../run/op_requirements.hpp"
#include "../core/config.hpp"
#include "../detail/atomic_file.hpp"
#include "../core/error.hpp"
#include "../family/concepts.hpp"
#include "../family/hooks.hpp"
#include "../family/sweep.hpp"
#include "../report/console_reporter.hpp"
#include "../report/json.hpp"
#include "../run/resource_pool.hpp"
#include "../core/result.hpp"
#include "../measure/stats/percentile_stats.hpp"
#include "compatibility_matrix.hpp"
#include "registry.hpp"
#include "suite.hpp"
#include "../machine/system.hpp"
#include "../core/version.hpp"

namespace accelbench {

/// What the matrix covers and how each pair is run. Names are those of the
/// policies (`B::name`, `F::name`) and presets; empty lists mean all.
struct CompatibilityOptions {
  /// Backends to run besides the reference, in this order; empty: every
  /// backend of the list. Cpu is always run, first, as the reference.
  std::vector<std::string> backends{};
  /// Families, in this order; empty: every family of the list.
  std::vector<std::string> families{};
  /// Presets (names or aliases); each runs under the selected family that
  /// knows it. Empty: for each architecture of each family, its smallest
  /// preset of at most max_default_parameters parameters.
  std::vector<std::string> models{};
  /// `models` lists every model to run even when empty (no default presets).
  bool explicit_models = false;
  std::int64_t max_default_parameters = 200'000'000;
  /// Largest absolute difference from the reference counted as ok.
  double tolerance = 1e-3;
  /// Sampling time per pair at most (after one warmup run; at least
  /// min_iterations runs unless this ends sampling first).
  double max_time_s = 2.0;
  int min_iterations = 3;
  /// A pair still running after this many seconds is an error; 0: no limit.
  double cell_timeout_s = 0.0;
  /// Cpu threads, 0 for one per free logical core.
  int threads = 0;
  std::uint64_t seed = 42;
  /// Verification alone (run --verify-only): each pair runs once, untimed.
  bool verify_only = false;
  /// Models not implemented (a model set's): rows `unsupported` with the
  /// reason on every backend, after the families' rows.
  std::vector<UnsupportedModel> unsupported{};
  /// Called with each row when it is done (progress).
  std::function<void(const CompatibilityRow&)> on_row{};
  /// Rows done before (a resumed matrix): given family, model and backend
  /// names, the row if it was done; such a row is taken as it is, not run
  /// again, and not passed to on_row.
  std::function<std::optional<CompatibilityRow>(const std::string& family, const std::string& model,
                                                const std::string& backend)>
      done_row{};
};

/// How every pair is run: batch 1, one warmup run, verification on. Each
/// family adds its small cell, the `small` values of its sweep axes
/// (small_sweep<F>(): 16 tokens for embedding, 8 prompt tokens and 4 new
/// ones for text generation, ...).
[[nodiscard]] inline Config compatibility_config(const CompatibilityOptions& o) {
  Config c;
  c.batch_sizes = {1};
  c.warmup_iterations = o.verify_only ? 0 : 1;
  c.min_iterations = o.verify_only ? 1 : o.min_iterations;
  c.max_iterations = o.verify_only ? 1 : 100000;
  c.min_time_s = 0.0;
  c.max_time_s = o.max_time_s;
  c.iterations_per_sample = 1;
  c.cell_timeout_s = o.cell_timeout_s;
  c.memory_sample_interval_s = 0.0;
  c.seed = o.seed;
  c.verify = true;
  c.verify_tolerance = o.tolerance;
  return c;
}

namespace detail {

/// The op sets family F needs, read from its Model template with the probe
/// backends of run/op_requirements.hpp (GenerationOps and PerceptionOps
/// include EncoderOps, so EncoderOps is named alone only where neither is
/// needed), for the reason of an unsupported row.
template <class F>
struct family_op_sets {
  static constexpr bool generation = family_needs_ops_missing_from<F, probe::WithoutGenerationOps>;
  static constexpr bool perception = family_needs_ops_missing_from<F, probe::WithoutPerceptionOps>;
  static constexpr bool encoder =
      !generation && !perception && family_needs_ops_missing_from<F, probe::WithoutEncoderOps>;
  static constexpr bool known = encoder || generation || perception;
};

inline std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == words.size() ? " and " : ", ") + words[i];
  }
  return out;
}

/// "opencl lacks PerceptionOps, which vision needs"; "opencl lacks
/// PerceptionOps (audio needs GenerationOps and PerceptionOps)".
template <class F, class B>
std::string unsupported_reason() {
  using Ops = family_op_sets<F>;
  const std::string backend(B::name), family(F::name);
  if constexpr (!Backend<B>) {
    return backend + " does not satisfy the Backend concept";
  } else if constexpr (!Ops::known) {
    return backend + " lacks ops that family " + family + " needs";
  } else {
    std::vector<std::string> needed, missing;
    const auto need = [&](bool family_needs, bool backend_has, const char* name) {
      if (!family_needs) return;
      needed.emplace_back(name);
      if (!backend_has) missing.emplace_back(name);
    };
    need(Ops::encoder, EncoderOps<B>, "EncoderOps");
    need(Ops::generation, GenerationOps<B>, "GenerationOps");
    need(Ops::perception, PerceptionOps<B>, "PerceptionOps");
    if (missing.empty()) return backend + " lacks ops that family " + family + " needs";
    if (missing.size() == needed.size()) return backend + " lacks " + join_words(missing) + ", which " + family + " needs";
    return backend + " lacks " + join_words(missing) + " (" + family + " needs " + join_words(needed) + ")";
  }
}

/// Cpu with the matrix's thread count; any other backend default-constructed.
template <class B>
B make_matrix_backend(const CompatibilityOptions& o) {
  if constexpr (std::is_same_v<B, Cpu>) {
    return Cpu{Cpu::Options{.threads = o.threads}};
  } else {
    return B{};
  }
}

template <class... Bs>
constexpr bool backend_names_distinct(TypeList<Bs...>) {
  const std::array<std::string_view, sizeof...(Bs) + 1> names{std::string_view(Cpu::name),
                                                              (std::is_same_v<Bs, Cpu> ? std::string_view()
                                                                                        : std::string_view(Bs::name))...};
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) {
      if (!names[i].empty() && names[i] == names[j]) return false;
    }
  }
  return true;
}

/// For each architecture of F, in the order its presets are listed, the
/// smallest preset of at most `max_parameters` parameters.
template <class F>
std::vector<std::string> default_matrix_models(std::int64_t max_parameters) {
  std::vector<std::string> architectures;
  std::map<std::string, std::pair<std::string, std::int64_t>> best;
  for (const auto& name : F::preset_names()) {
    const auto& preset = F::find_preset(name);
    const std::string arch(F::architecture(preset));
    std::int64_t parameters = 0;
    if constexpr (HasParameterCount<typename F::Preset>) {
      parameters = preset.parameter_count();
    }
    if (parameters > max_parameters) continue;
    const auto it = best.find(arch);
    if (it == best.end()) {
      architectures.push_back(arch);
      best.emplace(arch, std::make_pair(preset.name, parameters));
    } else if (parameters < it->second.second) {
      it->second = {preset.name, parameters};
    }
  }
  std::vector<std::string> out;
  for (const auto& arch : architectures) out.push_back(best.at(arch).first);
  return out;
}

template <class F>
bool family_has_preset(const std::string& model) {
  try {
    (void)F::find_preset(model);
    return true;
  } catch (const ConfigError&) {
    return false;
  }
}

/// Runs F's `preset` on B once (or says why not) and fills in the row.
template <class B, class F>
void run_matrix_pair([[maybe_unused]] const CompatibilityOptions& o, [[maybe_unused]] const Config& config,
                     [[maybe_unused]] ResourcePool& pool, CompatibilityRow& row) {
  if constexpr (!RunsOn<F, B>) {
    row.status = CompatibilityStatus::unsupported;
    row.reason = unsupported_reason<F, B>();
  } else {
    const Availability available = B::available();
    if (!available) {
      row.status = CompatibilityStatus::unavailable;
      row.reason = available.reason.empty() ? std::string(B::name) + " is not available here" : available.reason;
      return;
    }
    try {
      Benchmark<B, F, PercentileStats> bench{config, make_matrix_backend<B>(o)};
      bench.share_models(pool);
      const RunResult result = bench.run();
      if (!result.devices.empty()) row.device = result.devices.front().name;
      if (result.cells.empty()) {
        row.status = CompatibilityStatus::error;
        row.reason = "no cell was run";
        return;
      }
      const CellResult& c = result.cells.front();
      row.shape = c.shape;
      row.median_s = c.latency.median;
      switch (c.status) {
        case CellStatus::ok:
        case CellStatus::mismatch:
          if constexpr (std::is_same_v<B, Cpu>) {
            row.status = CompatibilityStatus::reference;
          } else {
            const Verification& v = c.verification;
            row.status = v.status == "ok" ? CompatibilityStatus::ok : CompatibilityStatus::mismatch;
            row.max_abs_error = v.max_abs_error;
            row.max_rel_error = v.max_rel_error;
            row.cosine_similarity = v.cosine_similarity;
            row.token_agreement = v.token_agreement;
            if (row.status == CompatibilityStatus::mismatch) {
              row.reason = c.message.empty() ? "verification: " + v.status : c.message;
            }
          }
          break;
        case CellStatus::unavailable:
          row.status = CompatibilityStatus::unavailable;
          row.reason = c.message;
          row.median_s.reset();
          break;
        case CellStatus::failed:
        case CellStatus::timeout:
        case CellStatus::invalid_output:
        case CellStatus::crashed:
        case CellStatus::out_of_memory:
          row.status = CompatibilityStatus::error;
          row.reason = std::string(to_string(c.status)) + ": " + c.message;
          row.median_s.reset();
          break;
      }
    } catch (const std::exception& e) {
      row.status = CompatibilityStatus::error;
      row.reason = e.what();
    } catch (...) {
      row.status = CompatibilityStatus::error;
      row.reason = "unknown exception";
    }
  }
}

template <class... Bs, class F>
void run_matrix_model(TypeList<Bs...> backends, const CompatibilityOptions& o, const std::vector<std::string>& names,
                      const typename F::Preset& preset, CompatibilityMatrix& m, std::type_identity<F>) {
  Config config = m.settings;
  config.model = preset.name;
  config.sweep = small_sweep<F>();
  const auto cells = cells_for<F>(config, preset);
  ResourcePool pool;  // the Cpu model is loaded once, for its row and every comparison
  const auto blank = [&](std::string_view backend) {
    CompatibilityRow row;
    row.family = std::string(F::name);
    row.architecture = std::string(F::architecture(preset));
    row.model = preset.name;
    row.backend = std::string(backend);
    if (!cells.empty()) row.shape = F::axes(cells.front());
    return row;
  };
  const auto emit = [&](CompatibilityRow&& row) {
    if (o.verify_only) {
      row.median_s.reset();
      row.speedup.reset();
    }
    if (o.on_row) o.on_row(row);
    m.rows.push_back(std::move(row));
  };

  const auto done = [&](std::string_view backend) -> std::optional<CompatibilityRow> {
    if (!o.done_row) return std::nullopt;
    return o.done_row(std::string(F::name), preset.name, std::string(backend));
  };

  std::optional<CompatibilityRow> reference = done(Cpu::name);
  if (reference) {
    m.rows.push_back(*reference);
  } else {
    reference = blank(Cpu::name);
    run_matrix_pair<Cpu, F>(o, config, pool, *reference);
    if (reference->status == CompatibilityStatus::reference && reference->median_s) reference->speedup = 1.0;
    emit(CompatibilityRow(*reference));
  }
  const std::optional<double> cpu_median = reference->median_s;

  for (const auto& name : names) {
    find_by_name(backends, name, [&](auto backend) {
      using B = typename decltype(backend)::type;
      if constexpr (!std::is_same_v<B, Cpu>) {
        if (auto before = done(B::name)) {
          m.rows.push_back(std::move(*before));
          return;
        }
        CompatibilityRow row = blank(B::name);
        run_matrix_pair<B, F>(o, config, pool, row);
        if (cpu_median && row.median_s && *row.median_s > 0 &&
            (row.status == CompatibilityStatus::ok || row.status == CompatibilityStatus::mismatch)) {
          row.speedup = *cpu_median / *row.median_s;
        }
        emit(std::move(row));
      }
    });
  }
}

/// The selected models of family F on the reference and on the backends
/// `names` of `Backends`, rows appended to `m`. Not inline, so that a program
/// can instantiate it for each family in a translation unit of its own.
template <class Backends, class F>
void run_matrix_family(const CompatibilityOptions& o, const std::vector<std::string>& names, CompatibilityMatrix& m) {
  std::vector<std::string> models;
  if (o.models.empty() && !o.explicit_models) {
    models = default_matrix_models<F>(o.max_default_parameters);
  } else {
    for (const auto& model : o.models) {
      if (family_has_preset<F>(model)) models.push_back(model);
    }
  }
  std::vector<std::string> done;  // a preset named twice (or by an alias too) runs once
  for (const auto& model : models) {
    const typename F::Preset preset = F::find_preset(model);
    if (std::find(done.begin(), done.end(), preset.name) != done.end()) continue;
    done.push_back(preset.name);
    run_matrix_model(Backends{}, o, names, preset, m, std::type_identity<F>{});
  }
}

/// Checks the names of `o` against the lists; throws ConfigError naming the
/// field (`backends[1]`, ...) and the value.
template <class... Bs, class... Fs>
void validate_matrix_options(TypeList<Bs...> backends, TypeList<Fs...> families, const CompatibilityOptions& o) {
  for (std::size_t i = 0; i < o.backends.size(); ++i) {
    if (o.backends[i] != Cpu::name && !find_by_name(backends, o.backends[i], [](auto) {})) {
      std::string known(Cpu::name);
      ((known += std::is_same_v<Bs, Cpu> ? std::string() : ", " + std::string(Bs::name)), ...);
      throw ConfigError("backends[" + std::to_string(i) + "]", "\"" + o.backends[i] + "\"",
                        "unknown backend; known: " + known);
    }
  }
  for (std::size_t i = 0; i < o.families.size(); ++i) {
    if (!find_by_name(families, o.families[i], [](auto) {})) {
      throw ConfigError("families[" + std::to_string(i) + "]", "\"" + o.families[i] + "\"",
                        "unknown family; known: " + names_of(families));
    }
  }
  const auto selected = [&](std::string_view family) {
    if (o.families.empty()) return true;
    for (const auto& f : o.families) {
      if (f == family) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < o.models.size(); ++i) {
    const bool known = ((selected(Fs::name) && family_has_preset<Fs>(o.models[i])) || ...);
    if (!known) {
      std::string presets;
      const auto list = [&](auto family) {
        using F = typename decltype(family)::type;
        if (!selected(F::name)) return;
        presets += (presets.empty() ? "" : "; ") + std::string(F::name) + ": ";
        const auto names = F::preset_names();
        for (std::size_t n = 0; n < names.size(); ++n) presets += (n ? ", " : "") + names[n];
      };
      (list(std::type_identity<Fs>{}), ...);
      throw ConfigError("models[" + std::to_string(i) + "]", "\"" + o.models[i] + "\"",
                        "no selected family has this preset; known presets: " + presets);
    }
  }
  if (!std::isfinite(o.tolerance) || o.tolerance < 0) {
    throw ConfigError("tolerance", format_number(o.tolerance), "must be a finite number >= 0");
  }
  if (o.threads < 0) throw ConfigError("threads", std::to_string(o.threads), "must be 0 (all cores) or more");
  validate(compatibility_config(o));
}

template <class... Bs, class... Fs>
CompatibilityMatrix run_matrix(TypeList<Bs...>, TypeList<Fs...> families, const CompatibilityOptions& o) {
  static_assert(backend_names_distinct(TypeList<Bs...>{}),
                "compatibility_matrix: every backend of the list needs its own name (B::name), cpu included");
  validate_matrix_options(TypeList<Bs...>{}, families, o);

  CompatibilityMatrix m;
  m.started_at = utc_timestamp();
  m.system = system_info();
  m.build = build_info();
  m.settings = compatibility_config(o);
  m.settings.model.clear();
  const auto add_small = [&](auto family) {
    for (auto& [axis, values] : small_sweep<typename decltype(family)::type>()) m.settings.sweep.emplace(axis, values);
  };
  (add_small(std::type_identity<Fs>{}), ...);

  // Backend names in column order, the reference first, each once.
  std::vector<std::string> names;
  const auto add_name = [&](const std::string& n) {
    if (n == Cpu::name) return;
    for (const auto& seen : names) {
      if (seen == n) return;
    }
    names.push_back(n);
  };
  if (o.backends.empty()) {
    (add_name(std::string(Bs::name)), ...);
  } else {
    for (const auto& n : o.backends) add_name(n);
  }
  m.backends.push_back(std::string(Cpu::name));
  for (const auto& n : names) m.backends.push_back(n);

  std::vector<std::string> family_names = o.families;
  if (family_names.empty()) (family_names.push_back(std::string(Fs::name)), ...);
  for (const auto& family : family_names) {
    find_by_name(families, family, [&](auto tag) {
      using F = typename decltype(tag)::type;
      run_matrix_family<TypeList<Bs...>, F>(o, names, m);
    });
  }
  for (const UnsupportedModel& u : o.unsupported) {
    for (const auto& backend : m.backends) {
      if (auto before = o.done_row ? o.done_row("", u.model, backend) : std::nullopt) {
        m.rows.push_back(std::move(*before));
        continue;
      }
      CompatibilityRow row;
      row.model = u.model;
      row.backend = backend;
      row.status = CompatibilityStatus::unsupported;
      row.reason = u.reason;
      if (o.on_row) o.on_row(row);
      m.rows.push_back(std::move(row));
    }
  }
  m.finished_at = utc_timestamp();
  return m;
}

}  // namespace detail

/// Every selected model of every family in `Families` on Cpu (the reference)
/// and on every backend in `Backends` (both `TypeList<...>`, the library's
/// registries by default): `unsupported`
/// where the backend lacks the family's op sets (decided at compile time),
/// `unavailable` where it cannot run here, otherwise one small cell run with
/// Benchmark<B, F, PercentileStats> and checked against Cpu. A pair that
/// fails is recorded as `error` and the matrix goes on. Throws ConfigError
/// for an unknown backend, family or model name, before anything runs.
template <class Backends = KnownBackends, class Families = KnownFamilies>
[[nodiscard]] CompatibilityMatrix compatibility_matrix(const CompatibilityOptions& options = {}) {
  return detail::run_matrix(Backends{}, Families{}, options);
}

}  // namespace accelbench
