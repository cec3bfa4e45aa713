#pragma once

// The optional hooks of a model family and of its workload, each a named
// concept. The Benchmark calls a hook only where the family satisfies its
// concept; a family that means to provide one states it with a
// static_assert, so a misspelt or mistyped hook fails to compile instead of
// being skipped:
//
//   static_assert(accelbench::HasTokens<MyFamily>);
//
// docs/concepts.md lists them with what each adds to a result.

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/phases.hpp"
#include "../model/common/weights.hpp"

namespace accelbench {

/// `F::phases(cell)`: the phases one run goes through (prefill and decode,
/// encode and decode), each timed and reported on its own.
template <class F>
concept HasCellPhases = requires(const typename F::Cell& cell) {
  { F::phases(cell) } -> std::same_as<std::vector<PhaseSpec>>;
};

/// `F::phases(preset, cell)`: phases that depend on the model (an
/// encoder-only audio model has no decode phase).
template <class F>
concept HasPresetPhases = requires(const typename F::Preset& preset, const typename F::Cell& cell) {
  { F::phases(preset, cell) } -> std::same_as<std::vector<PhaseSpec>>;
};

/// `F::tokens(cell)`: tokens one run produces, for tokens per second.
template <class F>
concept HasTokens = requires(const typename F::Cell& cell) {
  { F::tokens(cell) } -> std::convertible_to<double>;
};

/// `F::real_time_factor(cell, seconds)`: seconds of one run per second of
/// input audio.
template <class F>
concept HasRealTimeFactor = requires(const typename F::Cell& cell, double seconds) {
  { F::real_time_factor(cell, seconds) } -> std::convertible_to<double>;
};

/// `F::flops(preset, cell)`: floating-point operations of one run, for
/// GFLOP/s.
template <class F>
concept HasFlops = requires(const typename F::Preset& preset, const typename F::Cell& cell) {
  { F::flops(preset, cell) } -> std::convertible_to<double>;
};

/// `F::weights(preset, seed)` and `F::load_weights<B>(backend, preset,
/// weights)`: the family builds its models from a WeightMap, so that the
/// time to make the weights and the time to upload them are told apart.
template <class F, class B>
concept HasWeightLoading = requires(B& backend, const typename F::Preset& preset, std::uint64_t seed, WeightMap w) {
  { F::weights(preset, seed) } -> std::same_as<WeightMap>;
  { F::template load_weights<B>(backend, preset, std::move(w)) } -> std::same_as<typename F::template Model<B>>;
};

/// `F::checkpoint_preset(folder, accepted)` and
/// `F::checkpoint_weights(folder, preset)`: the family reads Hugging Face
/// checkpoint folders, holding config.json to each architecture's list of
/// fields (`accepted`: unknown fields the user lets pass, by name).
template <class F>
concept HasCheckpoints = requires(const std::filesystem::path& dir, const typename F::Preset& preset,
                                  const std::vector<std::string>& accepted) {
  { F::checkpoint_preset(dir, accepted) } -> std::same_as<typename F::Preset>;
  { F::checkpoint_weights(dir, preset) } -> std::same_as<WeightMap>;
};

/// `work.run(marks)`: a workload that marks the end of each phase (see
/// PhaseMarks); the Benchmark times each phase through the Timer policy.
template <class W>
concept HasPhasedRun = requires(W& work, NoPhaseMarks& marks) { work.run(marks); };

/// `work.activation_bytes()`: bytes of the activations one run keeps.
template <class W>
concept HasActivationBytes = requires(const W& work) {
  { work.activation_bytes() } -> std::convertible_to<std::uint64_t>;
};

/// `work.kv_cache_bytes()`: bytes of the key-value cache one run fills.
template <class W>
concept HasKvCacheBytes = requires(const W& work) {
  { work.kv_cache_bytes() } -> std::convertible_to<std::uint64_t>;
};

/// `F::cell_bytes(preset, cell)`: bytes one cell needs besides the weights
/// (activations, key-value cache, inputs), known before its workload is
/// made, from the same figures as activation_bytes() and kv_cache_bytes().
/// The Benchmark refuses a cell that needs more memory than the machine
/// has before allocating anything for it. An estimate that overflows
/// saturates at the largest std::uint64_t.
template <class F>
concept HasCellBytes = requires(const typename F::Preset& preset, const typename F::Cell& cell) {
  { F::cell_bytes(preset, cell) } -> std::convertible_to<std::uint64_t>;
};

/// `preset.parameter_count()`: parameters of a preset without loading it
/// (the compatibility matrix and `accelbench presets`).
template <class P>
concept HasParameterCount = requires(const P& preset) {
  { preset.parameter_count() } -> std::convertible_to<std::int64_t>;
};

}  // namespace accelbench
