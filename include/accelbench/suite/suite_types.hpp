#pragma once

// What a suite is: several models of each family on several backends, with
// the sweep and stopping rule they share (suite/suite.hpp runs it).

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/config.hpp"
#include "../core/type_list.hpp"
#include "../family/sweep.hpp"

namespace accelbench {

/// One family's models in a suite: preset names, or Hugging Face checkpoint
/// folders (see Config::weights).
struct SuiteEntry {
  std::string family;
  std::vector<std::string> models;
  friend bool operator==(const SuiteEntry&, const SuiteEntry&) = default;
};

/// A model a suite names that the library cannot run (a member of a model
/// set not implemented yet): reported as unsupported with the reason.
struct UnsupportedModel {
  std::string model;
  std::string reason;
  friend bool operator==(const UnsupportedModel&, const UnsupportedModel&) = default;
};

struct Suite {
  std::string name = "default";
  /// What to run: each family with its models, in this order.
  std::vector<SuiteEntry> benchmarks = {{"embedding", {"bert-tiny", "all-MiniLM-L6-v2"}},
                                        {"text-generation", {"gpt2", "llama-tiny"}}};
  /// Models named but not run, each reported `unsupported` with its reason.
  std::vector<UnsupportedModel> unsupported;
  std::vector<std::string> hardware = {"cpu"};
  std::string stats = "percentile";    ///< a name from KnownStats
  std::string timer = "steady_clock";  ///< a name from KnownTimers
  /// Sweep and stopping rule shared by every model; its `model` is ignored.
  /// Its sweep may name the axes of every family of the suite; each family
  /// takes its own (embedding: batch_sizes x sequence_lengths;
  /// text-generation: batch_sizes x prompt_lengths x new_tokens), and the
  /// defaults its sweep_axes() declares for the axes not given.
  Config settings{.batch_sizes = {1, 8},
                  .sweep = {{"sequence_lengths", {32, 128}}, {"prompt_lengths", {32}}, {"new_tokens", {16}}},
                  .warmup_iterations = 2,
                  .min_iterations = 10,
                  .max_iterations = 100000,
                  .min_time_s = 1.0,
                  .max_time_s = 10.0};
  /// Cpu threads; 0 means one per free logical core.
  int threads = 0;
  /// After each family's sweep, time loading its models one after another
  /// and all at once (on each backend; needs two models or more).
  bool concurrent_loading = true;
  int loading_repetitions = 3;
  std::string output_dir = "results";
  /// `accelbench run` exits with 4 when a cell was measured on a busy
  /// machine (CellResult::busy), even if every cell is ok.
  bool fail_on_busy = false;
  /// Measure each model in a child process of its own (suite/isolate.hpp).
  bool isolate = false;
  std::uint64_t max_memory = 0;  ///< with isolate: each child's address space limit in bytes (0: none)
  /// Measure on different devices at once (suite/parallel.hpp): one lane
  /// per device, the backends that share a device (the CPU) one after
  /// another in one lane; each cell names the cells it ran with.
  bool parallel = false;
};

/// The suite the README's main command runs on the CPU: bert-tiny and
/// all-MiniLM-L6-v2 (batch sizes 1 and 8, sequence lengths 32 and 128), then
/// gpt2 and llama-tiny (batch sizes 1 and 8, 16 tokens after 32).
[[nodiscard]] inline Suite default_suite() { return Suite{}; }

/// default_suite() for a program that knows the families of the list: its
/// sweep keeps the axes they declare and its benchmarks the entries of those
/// families (a runner over some of the library's families runs its defaults
/// without naming an axis or a family it lacks).
template <class... Fs>
[[nodiscard]] Suite default_suite(TypeList<Fs...> families) {
  Suite s = default_suite();
  const auto declared = declared_sweep_axes(families);
  std::erase_if(s.settings.sweep, [&](const auto& entry) {
    return std::none_of(declared.begin(), declared.end(), [&](const auto& d) { return d.axis.name == entry.first; });
  });
  std::erase_if(s.benchmarks, [](const SuiteEntry& e) { return ((e.family != Fs::name) && ...); });
  return s;
}

}  // namespace accelbench
