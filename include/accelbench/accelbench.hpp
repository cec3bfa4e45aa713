#pragma once

// accelbench: benchmarks of ML model architectures across hardware backends.
// This umbrella header brings in the whole public API.

#include "version.hpp"
#include "error.hpp"
#include "config.hpp"
#include "result.hpp"
#include "tensor.hpp"
#include "system.hpp"
#include "concepts.hpp"
#include "backend/concepts.hpp"
#include "backend/cpu.hpp"
#include "model/weights.hpp"
#include "model/bert.hpp"
#include "family/concepts.hpp"
#include "family/embedding.hpp"
#include "timer/steady_timer.hpp"
#include "stats/percentile_stats.hpp"
#include "verification.hpp"
#include "report/console_reporter.hpp"
#include "report/json.hpp"
#include "report/json_reporter.hpp"
#include "benchmark.hpp"
#include "suite.hpp"
