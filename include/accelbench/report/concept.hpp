#pragma once

// The Reporter policy: where results go. docs/concepts.md shows a minimal type.

#include "../core/result.hpp"

namespace accelbench {

/// Writes a run's results somewhere.
template <class R>
concept Reporter = requires(R& r, const RunResult& result) { r.report(result); };

}  // namespace accelbench
