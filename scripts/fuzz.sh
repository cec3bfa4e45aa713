#!/usr/bin/env bash
# Fuzzes accelbench's input readers: builds the libFuzzer targets of fuzz/
# with clang++ (build/fuzz) and runs each for SECONDS (default 60), one
# after another, niced, over its seed corpus and regression inputs. New
# inputs are kept in build/fuzz/found/TARGET; a failing input is written as
# build/fuzz/crash-* (add it to fuzz/regressions/TARGET once fixed). Prints
# the executions of each target; exits 1 when a target failed.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]    targets: safetensors checkpoint suite proc cli
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(safetensors checkpoint suite proc cli)
fi
cxx=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$cxx" ]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-dev)" >&2
  exit 2
fi

build=build/fuzz
cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" > /dev/null
nice cmake --build "$build" --target "${targets[@]/#/fuzz_}"

status=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$build/found/$t"
  log="$build/fuzz_$t.log"
  echo "fuzz.sh: $t for ${seconds} s (log: $log)"
  dict=()
  if [ -f "fuzz/$t.dict" ]; then
    dict=(-dict="$root/fuzz/$t.dict")
  fi
  rc=0
  (cd "$build" && nice ./fuzz_"$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix=./ "${dict[@]}" "found/$t" "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t") > "$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf '%-12s %12s executions, no failure' "$t" "${runs:-?}")")
  else
    status=1
    summary+=("$(printf '%-12s %12s executions, FAILED (exit %d): see %s' "$t" "${runs:-?}" "$rc" "$log")")
  fi
done
printf '%s\n' "${summary[@]}"
exit "$status"
