#!/usr/bin/env bash
# CI fuzz smoke: builds the libFuzzer targets with clang (ASan + UBSan) in BUILD_DIR, runs
# every input in fuzz/regressions/<target>/ (each once: all must pass), then fuzzes each
# target for SMOKE_SECONDS (default 10) from its kept corpus. New inputs go to a temporary
# directory, never into the repository. Exit 77 (ctest: skipped) when clang or libFuzzer is
# missing; scripts/install-deps installs them.
#
#   fuzz/smoke.sh [BUILD_DIR]     # default: a build-fuzz-smoke dir beside the source tree
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/../build-fuzz-smoke}
seconds=${SMOKE_SECONDS:-10}
jobs=${SMOKE_JOBS:-2}

if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "fuzz smoke: skipped, clang is not installed (scripts/install-deps installs it)"
  exit 77
fi
probe=$(mktemp -d /tmp/podpath-fuzz-smoke.XXXXXX)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' \
  >"$probe/probe.cc"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/probe.cc" -o "$probe/probe" 2>/dev/null
then
  echo "fuzz smoke: skipped, clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
  exit 77
fi

started=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DPODPATH_FUZZ=ON -DPODPATH_WERROR=ON \
    -DPODPATH_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target fuzz -j"${BUILD_JOBS:-2}" >"$probe/build.log" 2>&1 ||
  { tail -40 "$probe/build.log"; exit 1; }
built=$(date +%s)
mkdir -p "$build/smoke-findings"

targets=()
for bin in "$build"/fuzz/fuzz_*; do targets+=("$(basename "$bin" | sed 's/^fuzz_//')"); done

smoke_one() {
  local t=$1 bin=$build/fuzz/fuzz_$1 log=$probe/$1.log
  if [ -d "$here/regressions/$t" ]; then
    # Given files instead of directories, libFuzzer runs each input once and stops.
    "$bin" "$here/regressions/$t"/* >"$log.regressions" 2>&1 ||
      { echo "FAIL $t: a regression input fails again"; tail -30 "$log.regressions"; return 1; }
  fi
  mkdir -p "$probe/new-$t"
  local corpus=()
  [ -d "$here/corpus/$t" ] && corpus=("$here/corpus/$t")
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=32768 \
    -print_final_stats=1 -artifact_prefix="$build/smoke-findings/$t-" "$probe/new-$t" \
    "${corpus[@]}" >"$log" 2>&1 ||
    { echo "FAIL $t (input kept in $build/smoke-findings/)"; tail -40 "$log"; return 1; }
  echo "ok   $t: $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)," \
    "$(sed -n 's/^stat::number_of_executed_units: *//p;' "$log") runs" \
    "$(find "$here/regressions/$t" -type f 2>/dev/null | wc -l) regression inputs"
}

# Two targets at a time; a slot is refilled as soon as either ends.
status=0
running=0
for t in "${targets[@]}"; do
  if [ $running -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  smoke_one "$t" &
  running=$((running + 1))
done
while [ $running -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
echo "fuzz smoke: ${#targets[@]} targets, build $((built - started)) s, runs $(($(date +%s) - built)) s"
exit $status
