#pragma once

// The five policy concepts of Benchmark<B, F, S, T, R>, each declared beside
// its entity: Backend (and the op sets) in backend/concepts.hpp, ModelFamily
// in family/concepts.hpp, Stats in measure/stats/concept.hpp, Timer in
// measure/timer/concept.hpp, Reporter in report/concept.hpp.
// docs/concepts.md shows a minimal type for each.

#include "backend/concepts.hpp"
#include "family/concepts.hpp"
#include "measure/stats/concept.hpp"
#include "measure/timer/concept.hpp"
#include "report/concept.hpp"
