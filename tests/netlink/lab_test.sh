#!/usr/bin/env bash
# The kernel view end to end in the lab (tests/lab): in every scenario that changes
# routes or devices, each node's exporter must report the same devices, MTUs, vxlan
# attributes and, for every peer, the same route (device, table, source or error) as
# iproute2 prints in that node's namespace (lab_compare.py).
#
# Root only (exit 77 = skipped otherwise). Builds its own lab under prefix ppkl- and state
# dir /run/podpath-lab-kernel, so a developer's running lab is left alone.
# Env: PODPATH_EXPORTER (required: the exporter under test), PODPATH_LAB_TAILNET.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=$HERE/../lab
SKIP=77
if [[ $(id -u) != 0 ]]; then
  echo "lab_test: SKIPPED - needs root to create network namespaces"
  exit $SKIP
fi
for tool in ip nft bridge jq socat curl fping prometheus prometheus-alertmanager promtool; do
  command -v "$tool" >/dev/null || { echo "lab_test: SKIPPED - $tool is not installed"; exit $SKIP; }
done
[[ -x ${PODPATH_EXPORTER:-} ]] || { echo "lab_test: PODPATH_EXPORTER must name the exporter binary"; exit 1; }

WORK=$(mktemp -d /tmp/podpath-lab-kernel.XXXXXX)
export PODPATH_LAB_STATE=/run/podpath-lab-kernel
export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
jq '.prefix = "ppkl-"' "$LAB_DIR/topology.json" >"$PODPATH_LAB_TOPOLOGY"
LAB=$LAB_DIR/lab
cleanup() {
  "$LAB" down >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

mapfile -t NODES < <(jq -r '.nodes[].name' "$PODPATH_LAB_TOPOLOGY")
declare -A MGMT
for n in "${NODES[@]}"; do
  MGMT[$n]=$(jq -r --arg n "$n" '.nodes[] | select(.name == $n) | .mgmt_ip' "$PODPATH_LAB_TOPOLOGY")
done

scrape() { # NODE -> metrics on stdout
  ip netns exec "ppkl-$1" curl -sf --max-time 10 "http://${MGMT[$1]}:18472/metrics"
}

FAILED=0
check_all() { # SCENARIO
  echo "== $1"
  local n
  for n in "${NODES[@]}"; do
    if ! scrape "$n" >"$WORK/$n.prom"; then
      echo "  FAIL $n: no /metrics"
      FAILED=$((FAILED + 1))
      continue
    fi
    if ! grep -q 'podpath_collector_success{collector="netlink"} 1' "$WORK/$n.prom"; then
      echo "  FAIL $n: netlink collector not successful"
      FAILED=$((FAILED + 1))
    fi
    "$HERE/lab_compare.py" "ppkl-$n" "$WORK/$n.prom" "$PODPATH_LAB_STATE/$n/subnet.env" ||
      FAILED=$((FAILED + 1))
  done
}

t0=$(date +%s)
"$LAB" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; echo "lab_test: lab up failed"; exit 1; }
for n in "${NODES[@]}"; do # exporters answer within a few seconds of start
  for _ in $(seq 50); do scrape "$n" >/dev/null 2>&1 && break; sleep 0.2; done
done
check_all "field-report-after (lab up)"
for scenario in field-report-before vmnet cross-site-subnet-routes; do
  "$LAB" scenario "$scenario" >"$WORK/scenario.log" 2>&1 ||
    { cat "$WORK/scenario.log"; echo "lab_test: scenario $scenario failed"; exit 1; }
  check_all "$scenario (on top of the previous)"
done
echo "lab_test: $((FAILED)) node checks failed, $(($(date +%s) - t0)) s"
[[ $FAILED == 0 ]]
