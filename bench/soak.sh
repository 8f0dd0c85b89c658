#!/usr/bin/env bash
# Soak: the lab's six exporters for a long run (default one hour) with the cluster churning,
# 100 synthetic nodes added and removed per minute on top of the six real ones (10 every 6 s
# through the fake API's admin socket). Prometheus scrapes every 2 s throughout. Every
# minute it records each exporter's resident memory and open descriptors; at the end it
# prints them at start and end, checks that no exporter restarted, that every collector
# still succeeds, and that no series of a removed node is left.
#
#   bench/soak.sh [SECONDS=3600]          (root; a lab of its own: prefix ppsk-)
# Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET as for tests/lab/lab. Samples: $OUT (CSV).
# KEEP=1 leaves the lab up afterwards (tear down: PODPATH_LAB_STATE=/run/podpath-lab-soak
# tests/lab/lab down).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=$ROOT/tests/lab/lab
seconds=${1:-3600}
[[ $(id -u) == 0 ]] || { echo "bench/soak.sh needs root (network namespaces)"; exit 1; }
WORK=$(mktemp -d)
export PODPATH_LAB_STATE=/run/podpath-lab-soak
export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
export PODPATH_LAB_SCENARIO=field-report-after
OUT=${OUT:-/var/tmp/podpath-soak.csv}
jq '.prefix = "ppsk-"' "$ROOT/tests/lab/topology.json" >"$PODPATH_LAB_TOPOLOGY"
cleanup() {
  [[ -n ${KEEP:-} ]] || "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$LAB" down >/dev/null 2>&1 || true
"$LAB" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; exit 1; }
S=$PODPATH_LAB_STATE
# Retried: after an hour of churn the fake API once answered the final removal with a 503.
admin() {
  curl -sS --fail --retry 5 --retry-all-errors --retry-delay 2 -m 60 \
    --unix-socket "$S/apiserver/admin.sock" "http://admin/$1" "${@:2}"
}
mapfile -t nodes < <(jq -r '.nodes[].name' "$PODPATH_LAB_TOPOLOGY")
pid_of() { awk '{print $1}' "$S/pids/exporter-$1.pid"; }
declare -A first_pid
for n in "${nodes[@]}"; do first_pid[$n]=$(pid_of "$n"); done

echo "elapsed_s,node,rss_kib,fds,cluster_nodes" >"$OUT"
sample() {
  local elapsed=$1 count
  count=$(admin nodes | jq '.nodes | length')
  for n in "${nodes[@]}"; do
    local p=${first_pid[$n]}
    echo "$elapsed,$n,$(awk '/^VmRSS/ {print $2}' "/proc/$p/status"),$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 | wc -l),$count" >>"$OUT"
  done
}

admin nodes/add -d '{"count": 100}' >/dev/null
sleep 20 # the exporters see the 100 new peers and start probing them
start=$SECONDS
sample 0
next_sample=60
while ((SECONDS - start < seconds)); do
  admin nodes/churn -d '{"count": 10}' >/dev/null
  sleep 6
  if ((SECONDS - start >= next_sample)); then
    sample $((SECONDS - start))
    next_sample=$((next_sample + 60))
  fi
done
sample $((SECONDS - start))
admin nodes/remove -d '{"count": 100}' >/dev/null

# Let the watch deliver the removals and the next scrape show them.
sleep 15
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
for n in "${nodes[@]}"; do
  [[ $(pid_of "$n") == "${first_pid[$n]}" ]] || fail "exporter on $n restarted"
done
# Straight from each exporter (Prometheus' own query over an hour of churned series timed
# out once): every collector succeeds, and synthetic nodes, the only ones outside the
# topology, have no series left.
names=$(printf '%s|' "${nodes[@]}")
for n in "${nodes[@]}"; do
  ip=$(jq -r --arg n "$n" '.nodes | to_entries[] | select(.value.name == $n) | "192.0.2.\(10 + .key)"' "$PODPATH_LAB_TOPOLOGY")
  body=$("$LAB" exec mgmt curl -sS --fail -m 10 "http://$ip:18472/metrics") || { fail "$n: /metrics did not answer"; continue; }
  failing=$(grep -E '^podpath_collector_success\{.*\} 0$' <<<"$body" || true)
  [[ -z $failing ]] || fail "$n: collectors failing at the end: $failing"
  left=$(grep -E 'peer="[^"]+"' <<<"$body" | grep -cvE "peer=\"(${names%|})\"" || true)
  [[ $left == 0 ]] || fail "$n: $left series of removed nodes are still exported"
done

echo
echo "soak: ${seconds} s, churn 100 nodes/min, samples in $OUT"
printf '%-18s %12s %12s %8s %8s\n' node rss_start_MB rss_end_MB fds_start fds_end
for n in "${nodes[@]}"; do
  awk -F, -v n="$n" '$2 == n { if (!s) { s = $3; f = $4 } e = $3; g = $4 }
    END { printf "%-18s %12.1f %12.1f %8d %8d\n", n, s / 1024, e / 1024, f, g }' "$OUT"
done
echo "failures: $failures"
((failures == 0))
