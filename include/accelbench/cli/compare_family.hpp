#pragma once

// The comparison of two variants of one family, each on a backend of a
// registry, named at run time: what `accelbench compare` runs once its
// options are read. Apart from the command line (no CLI11), so that a
// program can instantiate it for each family in a translation unit of its own.

#include <functional>
#include <optional>
#include <vector>
#include <string>
#include <type_traits>

#include "../core/config.hpp"
#include "../core/result.hpp"
#include "../suite/compare.hpp"
#include "../suite/registry.hpp"
#include "../suite/suite.hpp"

namespace accelbench::cli {

/// The comparison of `a` and `b` (one model of family F each, one backend of
/// `Backends` each, as validated by validate_suite). Empty when F does not
/// run on one of the backends. Not inline (see above).
/// `on_cell` is called after each compared cell with the comparison so far;
/// `done` names the cells compared before (compare's `done`).
template <class Backends, class F>
RunResult compare_family(const Suite& a, const Suite& b, const std::string& label_a, const std::string& label_b,
                         const std::function<void(const ComparisonResult&)>& on_cell,
                         const std::function<std::optional<ComparisonCell>(const std::vector<Axis>&)>& done = {}) {
  // Each variant takes, of the suite's shared sweep, the axes F declares.
  const Config config_a = restrict_sweep_to<F>(detail::config_for_model(a.settings, a.benchmarks.front().models.front()));
  const Config config_b = restrict_sweep_to<F>(detail::config_for_model(b.settings, b.benchmarks.front().models.front()));
  RunResult result;
  detail::find_by_name(Backends{}, a.hardware.front(), [&](auto backend_a) {
    using A = typename std::remove_cvref_t<decltype(backend_a)>::type;
    detail::find_by_name(Backends{}, b.hardware.front(), [&](auto backend_b) {
      using B = typename std::remove_cvref_t<decltype(backend_b)>::type;
      if constexpr (RunsOn<F, A> && RunsOn<F, B>) {
        result = compare<F>(Variant<A>{label_a, config_a, detail::make_backend<A>(a)},
                            Variant<B>{label_b, config_b, detail::make_backend<B>(b)}, nullptr, on_cell, done);
      }
    });
  });
  return result;
}

}  // namespace accelbench::cli
