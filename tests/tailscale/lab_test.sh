#!/usr/bin/env bash
# The tailscale collector end to end in the lab (tests/lab): real exporters, one per node,
# read the tailnet emulator's LocalAPI sockets; switching a pair between direct and DERP at
# run time must change the transport the exporter reports, at its next scrape, both ways.
#
# Runs as root; otherwise prints why and exits 77 (ctest's SKIP_RETURN_CODE). Uses its own
# namespace prefix (ppts-) and state dir, so a developer's lab (pp-) is left alone.
# Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET (binaries), PODPATH_LAB_KEEP=1 keeps the lab up.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_DIR=$HERE/../lab
SKIP=77

if [[ $(id -u) != 0 ]]; then
  echo "tailscale lab test: SKIPPED - needs root to create network namespaces"
  exit $SKIP
fi
for tool in ip nft jq curl socat; do
  command -v "$tool" >/dev/null || { echo "tailscale lab test: SKIPPED - $tool missing"; exit $SKIP; }
done
[[ -x ${PODPATH_EXPORTER:-} ]] || { echo "tailscale lab test: FAIL - set PODPATH_EXPORTER"; exit 1; }

WORK=$(mktemp -d /tmp/podpath-ts-lab.XXXXXX)
export PODPATH_LAB_STATE=/run/podpath-lab-ts
export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
export PODPATH_LAB_EXPORTER_USER=nobody
# The default interval (5 s) is what runs in production; the test checks that a switch shows
# within one interval plus one scrape, so it keeps the default on purpose.
INTERVAL=5
export PODPATH_EXPORTER_ARGS="--tailscale.interval=$INTERVAL ${PODPATH_EXPORTER_ARGS:-}"
jq '.prefix = "ppts-"' "$LAB_DIR/topology.json" >"$PODPATH_LAB_TOPOLOGY"
LAB=$LAB_DIR/lab

FAILED=0
pass() { echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
cleanup() {
  kill "${TRAFFIC_PID:-}" 2>/dev/null
  if [[ ${PODPATH_LAB_KEEP:-0} == 1 ]]; then
    echo "lab kept up: PODPATH_LAB_STATE=$PODPATH_LAB_STATE PODPATH_LAB_TOPOLOGY=$PODPATH_LAB_TOPOLOGY"
  else
    "$LAB" down >/dev/null 2>&1
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

SELF=lima-k3s-agent
PEER=ip-172-26-2-70
mgmt_ip() { jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .mgmt_ip' "$PODPATH_LAB_TOPOLOGY"; }
SELF_MGMT=$(mgmt_ip "$SELF")
scrape() { "$LAB" exec mgmt curl -s --max-time 5 "http://$SELF_MGMT:18472/metrics"; }
# The transport line for PEER in one scrape, e.g. transport="derp" derp_region="tok".
transport_of() {
  scrape | grep '^podpath_tailscale_peer_transport_info{' | grep "peer=\"$PEER\"" |
    sed -E 's/.*derp_region="([^"]*)".*transport="([^"]*)".*/transport=\2 derp_region=\1/'
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Waits until the exporter reports WANT for PEER; prints the seconds it took.
wait_transport() { # WANT LIMIT_SECONDS
  local want=$1 limit=$2 start got
  start=$(now)
  while :; do
    got=$(transport_of)
    if [[ $got == "$want" ]]; then
      since "$start"
      return 0
    fi
    if awk -v a="$start" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
      echo "timeout (last: ${got:-none})"
      return 1
    fi
    sleep 0.2
  done
}

echo "== lab up (prefix ppts-, exporter $PODPATH_EXPORTER)"
if ! "$LAB" up >"$WORK/up.log" 2>&1; then
  tail -20 "$WORK/up.log"
  fail "lab up"
  exit 1
fi
if grep -q -- "--tailscale.socket" "$PODPATH_LAB_STATE/$SELF/exporter.cmd"; then
  pass "exporter runs with --tailscale.socket"
else
  fail "exporter.cmd lacks --tailscale.socket"
fi

# Pod traffic from SELF to PEER's pod network: with the field report's final state it leaves
# by tailscale0 (a subnet route in table 52), which keeps the pair Active in tailscaled's
# two-minute window. Without traffic the honest answer is "idle".
"$LAB" exec "$SELF" ping -q -i 0.2 -w 600 10.42.0.1 >/dev/null 2>&1 &
TRAFFIC_PID=$!

echo "== cross-site pair $SELF -> $PEER"
if t=$(wait_transport 'transport=direct derp_region=' 30); then
  pass "direct at start (${t}s after traffic began)"
else
  fail "direct at start: $t"
fi
scrape | grep -E '^podpath_tailscale_(info|status_stale|packets_total\{direction="outbound",path="direct_ipv4"\})' |
  sed 's/^/       /'
# A here-string, not a pipe: with pipefail, grep -q leaving early makes curl fail on SIGPIPE.
if grep -q "^podpath_collector_success{collector=\"tailscale\"} 1" <<<"$(scrape)"; then
  pass "collector success 1"
else
  fail "collector success"
fi

# Next scrape after a switch: at most one poll interval plus the scrape itself; 2 s slack for
# two shared cores.
LIMIT=$((INTERVAL + 2))
"$LAB" tailnet-mode "$SELF" "$PEER" derp >/dev/null
if t=$(wait_transport 'transport=derp derp_region=tok' "$LIMIT"); then
  pass "direct -> derp shown after ${t}s (limit ${LIMIT}s)"
else
  fail "direct -> derp: $t"
fi
"$LAB" tailnet-mode "$SELF" "$PEER" default >/dev/null
if t=$(wait_transport 'transport=direct derp_region=' "$LIMIT"); then
  pass "derp -> direct shown after ${t}s (limit ${LIMIT}s)"
else
  fail "derp -> direct: $t"
fi
"$LAB" tailnet-mode "$SELF" "$PEER" derp >/dev/null
if t=$(wait_transport 'transport=derp derp_region=tok' "$LIMIT"); then
  pass "direct -> derp again after ${t}s"
else
  fail "direct -> derp again: $t"
fi
if grep -qE '^podpath_tailscale_packets_total\{direction="outbound",path="derp"\} [1-9]' <<<"$(scrape)"; then
  pass "usermetrics count outbound packets by DERP"
else
  fail "no outbound DERP packets in podpath_tailscale_packets_total"
fi
"$LAB" tailnet-mode "$SELF" "$PEER" default >/dev/null

echo "== field-report-before: home pairs relayed by DERP"
"$LAB" scenario field-report-before >/dev/null 2>&1
# VXLAN inside the tailnet: the overlay ping to lima-k3s-agent-2's flannel.1 rides DERP.
kill "$TRAFFIC_PID" 2>/dev/null
"$LAB" exec "$SELF" ping -q -i 0.2 -w 600 10.42.3.0 >/dev/null 2>&1 &
TRAFFIC_PID=$!
PEER=lima-k3s-agent-2
if t=$(wait_transport 'transport=derp derp_region=tok' 30); then
  pass "$SELF -> $PEER derp (${t}s)"
else
  fail "$SELF -> $PEER derp: $t"
fi
# Every node advertises its pod CIDR here, so the strongest match is the route, although
# this node does not accept same-site routes and the pod packets go by VXLAN to the VTEP:
# the analysis picks the candidate by the kernel's route. Without routes only the VTEP
# (flannel's public-ip is the peer's tailnet address) ties the pair, as in the report's §1.
"$LAB" scenario no-subnet-routes >/dev/null 2>&1
match_of() {
  scrape | grep '^podpath_tailscale_peer_transport_info{' | grep "peer=\"$PEER\"" |
    sed -E 's/.*match="([^"]*)".*transport="([^"]*)".*/match=\1 transport=\2/'
}
start=$(now)
while [[ $(match_of) != "match=vtep-address transport=derp" ]] &&
  awk -v a="$start" -v b="$(now)" -v l="$LIMIT" 'BEGIN { exit !(b - a <= l) }'; do
  sleep 0.2
done
if [[ $(match_of) == "match=vtep-address transport=derp" ]]; then
  pass "no-subnet-routes: $PEER still derp, matched by its VTEP after $(since "$start")s"
else
  fail "no-subnet-routes: $(scrape | grep '^podpath_tailscale_peer_transport_info' | grep "peer=\"$PEER\"")"
fi

echo "== tailscaled gone: socket removed after it answered"
SOCK=$PODPATH_LAB_STATE/$SELF/tailscaled.sock
mv "$SOCK" "$SOCK.away"
sleep $((INTERVAL + 1))
out=$(scrape)
if grep -q '^podpath_tailscale_status_stale 1' <<<"$out" &&
  grep -q '^podpath_collector_success{collector="tailscale"} 0' <<<"$out"; then
  pass "socket gone: a failure serving the last state stale (success 0, stale 1)"
else
  fail "no socket: $(grep -E '^podpath_(tailscale_status_stale|collector_success\{collector="tailscale")' <<<"$out")"
fi
mv "$SOCK.away" "$SOCK"

echo "tailscale lab test: $FAILED failed"
[[ $FAILED == 0 ]]
