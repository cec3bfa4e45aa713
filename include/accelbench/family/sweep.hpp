#pragma once

// Sweep axes: each family declares the axes of its sweep once, in
// F::sweep_axes(). The values a benchmark runs (Config::sweep or the
// declared defaults), their validation and its messages, the suite-file
// fields, the command-line flags and their help, and the compatibility
// matrix's small cell are all derived from that declaration.

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"

namespace accelbench {

/// One axis of a family's sweep (besides batch_sizes, which every family
/// has). A plain aggregate:
///
///     SweepAxis{.name = "sequence_lengths", .item = "sequence length",
///               .help = "sequence lengths in tokens", .defaults = {128}, .small = {16}}
struct SweepAxis {
  /// The Config::sweep key and the suite-file field, e.g. "sequence_lengths";
  /// the command-line flag is derived from it (sweep_flag: --sequence-lengths).
  std::string name;
  /// One value in words, for messages: "sequence length".
  std::string item;
  /// One line for --help.
  std::string help;
  /// The values when Config::sweep does not give the axis.
  std::vector<int> defaults;
  /// Bounds of every value.
  int min = 1;
  int max = std::numeric_limits<int>::max();
  /// The compatibility matrix's cell: small and quick; empty: the defaults.
  std::vector<int> small{};
};

/// The command-line flag of an axis: "--" and its name with '_' as '-'
/// ("--sequence-lengths").
[[nodiscard]] inline std::string sweep_flag(const SweepAxis& axis) {
  std::string flag = "--" + axis.name;
  for (char& ch : flag) {
    if (ch == '_') ch = '-';
  }
  return flag;
}

/// The values of `axis` in `config`: config.sweep's entry, or the axis's defaults.
[[nodiscard]] inline std::vector<int> sweep_values(const Config& config, const SweepAxis& axis) {
  const auto it = config.sweep.find(axis.name);
  return it != config.sweep.end() ? it->second : axis.defaults;
}

/// Checks the values of one axis: at least one, each within [axis.min,
/// axis.max], none twice. Throws ConfigError naming the field
/// ("sequence_lengths[1]") and the value.
inline void validate_axis(const SweepAxis& axis, const std::vector<int>& values) {
  detail::validate_sweep_values(axis.name, values, axis.item, axis.min, axis.max);
}

namespace detail {

/// F::sweep_axes(), built once.
template <class F>
const std::vector<SweepAxis>& sweep_axes_of() {
  static const std::vector<SweepAxis> axes = F::sweep_axes();
  return axes;
}

/// F's axis named `name`, or nullptr.
template <class F>
const SweepAxis* find_sweep_axis(std::string_view name) {
  for (const auto& axis : sweep_axes_of<F>()) {
    if (axis.name == name) return &axis;
  }
  return nullptr;
}

inline std::string format_values(const std::vector<int>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

template <class F>
std::string axis_names_of() {
  std::string out;
  for (const auto& axis : sweep_axes_of<F>()) out += (out.empty() ? "" : ", ") + axis.name;
  return out.empty() ? "none (its sweep is batch_sizes alone)" : out;
}

}  // namespace detail

/// The values of F's axis `name` in `config`: config.sweep's entry, or the
/// declared defaults. Throws std::logic_error where F declares no such axis
/// (a mistake in the family, not in the configuration).
template <class F>
[[nodiscard]] std::vector<int> sweep_of(const Config& config, std::string_view name) {
  const SweepAxis* axis = detail::find_sweep_axis<F>(name);
  if (!axis) {
    throw std::logic_error("family " + std::string(F::name) + " declares no sweep axis " + std::string(name));
  }
  return sweep_values(config, *axis);
}

/// Checks `config.sweep` against F's declaration: every key is one of F's
/// axes (else a ConfigError naming `sweep.<key>` and listing F's axes), and
/// every axis's values, given or default, pass validate_axis.
template <class F>
void validate_sweep(const Config& config) {
  for (const auto& [key, values] : config.sweep) {
    if (!detail::find_sweep_axis<F>(key)) {
      throw ConfigError("sweep." + key, detail::format_values(values),
                        "not a sweep axis of " + std::string(F::name) + "; its axes: " + detail::axis_names_of<F>());
    }
  }
  for (const auto& axis : detail::sweep_axes_of<F>()) validate_axis(axis, sweep_values(config, axis));
}

/// What Benchmark<B, F> checks before it runs: the shared settings
/// (validate(config)) and F's sweep axes (validate_sweep<F>(config)).
template <class F>
void validate(const Config& config) {
  validate(config);
  validate_sweep<F>(config);
}

/// `config` with only F's axes kept in its sweep: the shared settings of a
/// suite, whose sweep names the axes of several families, for one family.
template <class F>
[[nodiscard]] Config restrict_sweep_to(Config config) {
  std::erase_if(config.sweep, [](const auto& entry) { return detail::find_sweep_axis<F>(entry.first) == nullptr; });
  return config;
}

/// F's small cell: each axis's `small` values (its defaults where it gives none).
template <class F>
[[nodiscard]] std::map<std::string, std::vector<int>> small_sweep() {
  std::map<std::string, std::vector<int>> out;
  for (const auto& axis : detail::sweep_axes_of<F>()) out[axis.name] = axis.small.empty() ? axis.defaults : axis.small;
  return out;
}

/// One sweep axis of a list of families, with the families that declare it.
struct DeclaredSweepAxis {
  SweepAxis axis;                     ///< as the first family of the list that declares it
  std::vector<std::string> families;  ///< every family of the list that declares it, in order
};

/// The sweep axes of the families of a list (`TypeList<Fs...>`), each name
/// once, in the order of the list and of each family's declaration: the
/// suite file's sweep fields and the command line's sweep flags.
template <template <class...> class List, class... Fs>
[[nodiscard]] std::vector<DeclaredSweepAxis> declared_sweep_axes(List<Fs...>) {
  std::vector<DeclaredSweepAxis> out;
  const auto add = [&](auto family) {
    using F = typename decltype(family)::type;
    for (const auto& axis : detail::sweep_axes_of<F>()) {
      const auto it = std::find_if(out.begin(), out.end(), [&](const auto& d) { return d.axis.name == axis.name; });
      if (it == out.end()) {
        out.push_back({axis, {std::string(F::name)}});
      } else {
        it->families.emplace_back(F::name);
      }
    }
  };
  (add(std::type_identity<Fs>{}), ...);
  return out;
}

/// Checks a sweep shared by the families of a list (a suite's settings):
/// every key is an axis of at least one of them (else a ConfigError naming
/// `sweep.<key>` and listing the axes), and its values pass validate_axis
/// for every family that declares it.
template <template <class...> class List, class... Fs>
void validate_shared_sweep(const Config& settings, List<Fs...> families) {
  const auto declared = declared_sweep_axes(families);
  for (const auto& given : settings.sweep) {
    const std::string& key = given.first;
    const std::vector<int>& values = given.second;
    const bool known =
        std::any_of(declared.begin(), declared.end(), [&](const auto& d) { return d.axis.name == key; });
    if (!known) {
      std::string names;
      for (const auto& d : declared) names += (names.empty() ? "" : ", ") + d.axis.name;
      throw ConfigError("sweep." + key, detail::format_values(values),
                        "no family of the suite declares this sweep axis; known axes: " +
                            (names.empty() ? "none" : names));
    }
  }
  const auto check = [&](auto family) {
    using F = typename decltype(family)::type;
    for (const auto& axis : detail::sweep_axes_of<F>()) {
      if (const auto it = settings.sweep.find(axis.name); it != settings.sweep.end()) validate_axis(axis, it->second);
    }
  };
  (check(std::type_identity<Fs>{}), ...);
}

}  // namespace accelbench
