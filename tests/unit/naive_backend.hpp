#pragma once

// The plain-loop backend of examples/plain_backend.hpp (plain loops, double
// accumulation, independent of Eigen's kernels) under the names the tests
// use: the naive implementation the Cpu ops are checked against, and a
// second backend for the Benchmark's verification path.

#include "../../examples/plain_backend.hpp"

namespace accelbench::test {

using NaiveBackend = plain::PlainBackend;
using NaiveTensor = plain::PlainTensor;

}  // namespace accelbench::test
