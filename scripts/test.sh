#!/usr/bin/env bash
# Builds everything (library checks, examples, benchmarks, the suite runner,
# tests) with warnings as errors, the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the tests (ctest prints the summary).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCELBENCH_SANITIZE=address,undefined
cmake --build build/test -j "$(nproc)"
ctest --test-dir build/test --output-on-failure --timeout 1200

