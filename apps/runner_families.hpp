#pragma once

// The per-family work of the runner's commands on every backend of
// KnownBackends: run (a suite entry), matrix (a family's rows) and compare.
// ACCELBENCH_RUNNER_FAMILY(extern, F) declares it instantiated elsewhere,
// ACCELBENCH_RUNNER_FAMILY(, F) instantiates it (family_*.cpp, one each).

#include <accelbench/cli/compare_family.hpp>
#include <accelbench/suite/compatibility.hpp>
#include <accelbench/suite/registry.hpp>
#include <accelbench/suite/suite.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#define ACCELBENCH_RUNNER_FAMILY(EXTERN, F)                                                                     \
  EXTERN template void accelbench::detail::run_suite_entry<accelbench::KnownBackends, F>(                      \
      const accelbench::Suite&, const accelbench::SuiteEntry&, accelbench::ResourcePool&,                      \
      const accelbench::SuiteObserver&, accelbench::RunResult&);                                                \
  EXTERN template void accelbench::detail::run_matrix_family<accelbench::KnownBackends, F>(                    \
      const accelbench::CompatibilityOptions&, const std::vector<std::string>&, accelbench::CompatibilityMatrix&); \
  EXTERN template accelbench::RunResult accelbench::cli::compare_family<accelbench::KnownBackends, F>(          \
      const accelbench::Suite&, const accelbench::Suite&, const std::string&, const std::string&,               \
      const std::function<void(const accelbench::ComparisonResult&)>&,                                       \
      const std::function<std::optional<accelbench::ComparisonCell>(const std::vector<accelbench::Axis>&)>&)

ACCELBENCH_RUNNER_FAMILY(extern, accelbench::Embedding);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::TextGeneration);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::Vision);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::Audio);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::Multimodal);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::VisionLanguage);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::VideoText);
ACCELBENCH_RUNNER_FAMILY(extern, accelbench::AudioText);
