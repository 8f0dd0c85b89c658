#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, starting from the kept corpus
# plus fresh seeds (seeds.py), then merges what they found back into fuzz/corpus/<target>/
# with -merge=1 (only inputs that add coverage stay). Crashes, leaks, timeouts and broken
# invariants leave their input in fuzz/findings/ and make the script fail.
#
#   fuzz/run-all.sh 600                   # the 10-minute run of every target
#   JOBS=2 fuzz/run-all.sh 600 node ip    # two at a time, only these
#
# BUILD (default: build-fuzz beside the source tree) is a clang build dir configured with
# -DPODPATH_FUZZ=ON; it is (re)built first unless NO_BUILD=1. Runs under nice -n 19: the
# machine is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:?usage: run-all.sh SECONDS [target...]}
shift
build=${BUILD:-$root/../build-fuzz}
jobs=${JOBS:-1}
all=(ip listen_address accept subnet_env node node_stream kubeconfig tailscale_status
     usermetrics netlink prober_packet prober_options)
if [ "${NO_BUILD:-0}" != 1 ]; then
  cmake --build "$build" --target fuzz -j"${BUILD_JOBS:-2}" >/dev/null
fi
# Built only once exporter/http has the web config parser.
[ -x "$build/fuzz/fuzz_webconfig" ] && all+=(webconfig basic_auth)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

work=$(mktemp -d /tmp/podpath-fuzz.XXXXXX)
logs=${LOGS:-$work/logs}
mkdir -p "$logs" "$here/findings"
python3 "$here/seeds.py" "$work/seeds"

# Longest input per target: the JSON bodies need room for a whole Node or NodeList.
max_len() {
  case $1 in
    node | node_stream | tailscale_status) echo 32768 ;;
    netlink) echo 16384 ;;
    kubeconfig | usermetrics) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

run_one() {
  local t=$1 bin=$build/fuzz/fuzz_$1
  local corpus=$work/corpus-$t
  mkdir -p "$corpus" "$here/corpus/$t"
  cp -r "$here/corpus/$t/." "$corpus/" 2>/dev/null || true
  cp -r "$work/seeds/$t/." "$corpus/" 2>/dev/null || true
  local dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  local rc=0
  nice -n 19 "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$here/findings/$t-" \
    "${dict[@]}" "$corpus" >"$logs/$t.log" 2>&1 || rc=$?
  # Keep one small input per covered edge (-use_counters=0, at most 4 KiB): the kept corpus
  # stays small, fuzzing regains the hit-count features from it in seconds, and seeds.py
  # adds the large real documents again on every run.
  local merged=$work/merged-$t
  mkdir -p "$merged"
  nice -n 19 "$bin" -merge=1 -use_counters=0 -max_len=4096 "$merged" "$here/corpus/$t" \
    "$corpus" >"$logs/$t.merge.log" 2>&1
  rm -rf "${here:?}/corpus/$t" && mv "$merged" "$here/corpus/$t"
  return $rc
}

summary() {
  local t=$1 log=$logs/$1.log
  local execs rate cov ft
  # A run that stopped early has no stats: print '?' rather than stop the report.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
  printf '%-17s %12s %9s %7s %7s %7s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$(find "$here/corpus/$t" -type f | wc -l)" \
    "$(($(du -sb --apparent-size "$here/corpus/$t" | cut -f1) / 1024))K"
}

# Up to $jobs targets at a time; a slot is refilled as soon as any target ends.
failed=()
declare -A running=()
reap_one() {
  local pid=""
  local rc=0
  wait -n -p pid || rc=$?
  [ "$rc" -ne 0 ] && failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for t in "${targets[@]}"; do
  while [ ${#running[@]} -ge "$jobs" ]; do reap_one; done
  run_one "$t" &
  running[$!]=$t
done
while [ ${#running[@]} -gt 0 ]; do reap_one; done

printf '%-17s %12s %9s %7s %7s %7s %8s\n' target execs exec/s cov ft files size
for t in "${targets[@]}"; do summary "$t"; done
echo "logs: $logs"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in fuzz/findings/)" >&2
  exit 1
fi
