#!/usr/bin/env bash
# Builds everything (library checks, examples, benchmarks, the suite runner,
# tests) with warnings as errors, the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the tests (ctest prints the summary).
#
# The tests run in two passes, each printing its summary: first those labelled
# build or fuzz (projects and programs compiled inside a test, the fuzzers),
# side by side on every core, as compiles bear it; then the rest one at a time,
# since some of them time work or read how busy the machine is.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# CUDA: one GPU architecture (sm_80, the oldest of the default two): the
# programs are compiled and linked to check them; each further architecture
# compiles every CUDA file again.
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCELBENCH_SANITIZE=address,undefined \
  -DCMAKE_CUDA_ARCHITECTURES=80
cmake --build build/test -j "$(nproc)"
status=0
ctest --test-dir build/test --output-on-failure --timeout 1200 -j "$(nproc)" -L 'build|fuzz' || status=1
ctest --test-dir build/test --output-on-failure --timeout 1200 -LE 'build|fuzz' || status=1
exit "$status"
