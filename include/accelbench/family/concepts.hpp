#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/concepts.hpp"
#include "../backend/cpu.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "sweep.hpp"

namespace accelbench {

/// Family F can run on backend B: F::Model<B> names a model whose weights
/// live on B, F::load builds one, and F::Workload<B> is one cell's prepared
/// inputs, whose run() is the timed operation.
template <class F, class B>
concept RunsOn =
    Backend<B> &&
    requires {
      typename F::template Model<B>;
      typename F::template Workload<B>;
    } &&
    requires(B& b, const typename F::Preset& preset, std::uint64_t seed, const typename F::template Model<B>& model,
             typename F::template Workload<B>& work) {
      { F::template load<B>(b, preset, seed) } -> std::same_as<typename F::template Model<B>>;
      { model.parameters() } -> std::convertible_to<std::int64_t>;
      { model.weight_bytes() } -> std::convertible_to<std::uint64_t>;
      { work.run() };
      { work.outputs() } -> std::same_as<std::vector<NamedOutput>>;
    } &&
    std::constructible_from<typename F::template Workload<B>, B&, const typename F::template Model<B>&,
                            const typename F::Cell&, std::uint64_t>;

/// A workload: its presets (real models' dimensions), the axes of its sweep
/// (declared once, in sweep_axes()) and the cells they make, what one item
/// is, and how to load a model and run it. Every family runs on
/// the reference backend, Cpu. See docs/concepts.md.
template <class F>
concept ModelFamily =
    requires(std::string_view text, const Config& config, const typename F::Preset& preset,
             const typename F::Cell& cell) {
      typename F::Preset;
      typename F::Cell;
      { F::name } -> std::convertible_to<std::string_view>;
      { F::item_unit } -> std::convertible_to<std::string_view>;
      { F::find_preset(text) } -> std::same_as<const typename F::Preset&>;
      { F::architecture(preset) } -> std::convertible_to<std::string_view>;
      { F::sweep_axes() } -> std::same_as<std::vector<SweepAxis>>;
      { F::validate(config, preset) };
      requires(requires {
        { F::cells(config) } -> std::same_as<std::vector<typename F::Cell>>;
      } || requires {
        { F::cells(config, preset) } -> std::same_as<std::vector<typename F::Cell>>;
      });
      { F::axes(cell) } -> std::same_as<std::vector<Axis>>;
      { F::items(cell) } -> std::convertible_to<double>;
    } &&
    RunsOn<F, Cpu>;

namespace detail {
/// The preset of `presets` named `model` (by name or alias); a ConfigError
/// naming `model` and listing the family's presets otherwise.
template <class Preset>
const Preset& find_preset_in(const std::vector<Preset>& presets, std::string_view model, std::string_view family) {
  for (const auto& p : presets) {
    if (p.name == model) return p;
    for (const auto& alias : p.aliases) {
      if (alias == model) return p;
    }
  }
  std::string known;
  for (const auto& p : presets) known += (known.empty() ? "" : ", ") + p.name;
  throw ConfigError("model", "\"" + std::string(model) + "\"",
                    "unknown " + std::string(family) + " preset; known presets: " + known);
}

template <class Preset>
std::vector<std::string> preset_names_of(const std::vector<Preset>& presets) {
  std::vector<std::string> out;
  for (const auto& p : presets) out.push_back(p.name);
  return out;
}

/// The cells of `config`'s sweep for `preset`: F::cells(config, preset) where
/// the sweep depends on the model (an image size of 0 meaning the preset's),
/// else F::cells(config).
template <class F>
std::vector<typename F::Cell> cells_for(const Config& config, const typename F::Preset& preset) {
  if constexpr (requires { F::cells(config, preset); }) {
    return F::cells(config, preset);
  } else {
    return F::cells(config);
  }
}
}  // namespace detail

}  // namespace accelbench
