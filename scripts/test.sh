#!/usr/bin/env bash
# Builds everything (library checks, examples, benchmarks, the suite runner,
# tests) with warnings as errors and runs the tests (ctest prints the
# summary); then builds the unit tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer and runs them (a second summary). Exits
# non-zero when either run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
start=$(date +%s)
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build/test -j "$(nproc)"
status=0
ctest --test-dir build/test --output-on-failure --timeout 1200 || status=1
echo "test.sh: build and tests took $(( $(date +%s) - start )) s"

# The unit tests under ASan and UBSan: lightly optimised, assertions on,
# every report fatal (tests/CMakeLists.txt, ACCELBENCH_SANITIZE); warnings
# are shown, not fatal, there (the Release build above is their gate).
start=$(date +%s)
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE=-O1 \
  -DACCELBENCH_SANITIZE=address,undefined -DACCELBENCH_BUILD_EXAMPLES=OFF -DACCELBENCH_BUILD_BENCHMARKS=OFF \
  -DACCELBENCH_BUILD_APPS=OFF -DACCELBENCH_BUILD_PRECOMPILED=OFF -DACCELBENCH_WITH_CUDA=OFF \
  -DACCELBENCH_WARNINGS_AS_ERRORS=OFF > /dev/null
cmake --build build/sanitize -j "$(nproc)" --target accelbench_tests
ctest --test-dir build/sanitize -R '^sanitized: ' -j "$(nproc)" --output-on-failure --timeout 1200 || status=1
echo "test.sh: the sanitized unit tests took $(( $(date +%s) - start )) s"
exit $status
