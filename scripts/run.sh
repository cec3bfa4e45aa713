#!/usr/bin/env bash
# The main job: installs what is needed, builds the suite runner (Release) and
# runs the default suite. It prints the table and writes results/<suite>-<time>.json
# with its reports beside it: <suite>-<time>.md (Markdown) and .html (charts).
# Arguments are passed to `accelbench run` (see `accelbench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DACCELBENCH_BUILD_TESTS=OFF -DACCELBENCH_BUILD_EXAMPLES=OFF -DACCELBENCH_BUILD_BENCHMARKS=OFF
cmake --build build/main --target accelbench_cli
./build/main/apps/accelbench run --report md,html "$@"
