#!/usr/bin/env bash
# Builds everything (library checks, examples, benchmarks, the suite runner,
# tests) with warnings as errors and runs the tests; then builds the unit
# tests again under AddressSanitizer and UndefinedBehaviorSanitizer and runs
# them. Each ctest prints its summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
start=$SECONDS
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build/test -j "$(nproc)"
ctest --test-dir build/test --output-on-failure --timeout 1200
echo "test build and run: $((SECONDS - start)) s"

# The sanitized unit tests: lightly optimised (-O1), with accelbench's and
# Eigen's assertions on; any report of either sanitizer fails its test.
start=$SECONDS
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE=-O1 \
  -DACCELBENCH_SANITIZE=address,undefined -DACCELBENCH_BUILD_EXAMPLES=OFF -DACCELBENCH_BUILD_BENCHMARKS=OFF \
  -DACCELBENCH_BUILD_APPS=OFF -DACCELBENCH_BUILD_PRECOMPILED=OFF -DACCELBENCH_WITH_CUDA=OFF
cmake --build build/sanitize --target accelbench_tests -j "$(nproc)"
ctest --test-dir build/sanitize -R '^sanitized: ' -j "$(nproc)" --output-on-failure --timeout 1200
echo "sanitized build and run: $((SECONDS - start)) s"
