#!/usr/bin/env bash
# The LAN lab (tests/lab/topology-lan.json): flannel's other backends on a small single-site
# cluster with no zone labels and no Tailscale. Brings up a lab of its own (prefix ppsh-,
# state /run/podpath-lab-shapes) and:
#   1. pair-latency lan-1 lan-2 (30 ms RTT, vxlan): PodpathPeerLatencyHigh for exactly that
#      pair at the webhook (an unlabeled cluster is one group held to the 20 ms bound);
#   2. walks the backends (vxlan-directrouting, vxlan, host-gw, extension, wireguard-native,
#      and ipv6-only: vxlan on an IPv6-only cluster), runs the doctor on the four nodes after
#      each and compares every pair with tests/e2e/shapes_truth.py;
#   3. host-gw: `ip route del` of lan-1's route to lan-2: seconds to the finding in lan-1's
#      /metrics, PodpathPeerUnreachable for exactly that pair, resolved once the route is back;
#   4. wireguard-native, UDP 51820 dropped between lan-1 and lan-2: PodpathPeerUnreachable
#      for exactly that pair; the WireGuard handshake finding once the exporter reads
#      WireGuard (--wireguard.socket-dir), reported PENDING before.
# Root; exit 77 = skipped. Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/tests/lab/lab
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
for tool in jq python3 nft wireguard-go wg; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing"; exit 77; }
done
EXPORTER=${PODPATH_EXPORTER:-$ROOT/build/exporter/podpath-exporter}
[[ -x $EXPORTER ]] || { echo "SKIP: no exporter binary at $EXPORTER (set PODPATH_EXPORTER)"; exit 77; }
export PODPATH_EXPORTER=$EXPORTER

T0=$(date +%s.%N)
seconds_since() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }
WORK=$(mktemp -d)
export PODPATH_LAB_STATE=/run/podpath-lab-shapes
export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
jq '.prefix = "ppsh-"' "$ROOT/tests/lab/topology-lan.json" >"$PODPATH_LAB_TOPOLOGY"
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
export PODPATH_LAB_SCENARIO=vxlan
# Path MTU probes every 10 s, so a backend switch is seen within the test.
export PODPATH_EXPORTER_ARGS="--prober.pmtu-interval=10s"
"$LAB" down >/dev/null 2>&1 || true
"$LAB" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; exit 1; }
STATE=$PODPATH_LAB_STATE
WEBHOOK=$STATE/webhook/received.jsonl
NODES=$(jq -r '.nodes[].name' "$PODPATH_LAB_TOPOLOGY")
echo "lab up in $(seconds_since "$T0") s"

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
scenario() { "$LAB" scenario "$@" >"$WORK/scenario.log" 2>&1 || { cat "$WORK/scenario.log"; exit 1; }; }
webhook_lines() { if [[ -f $WEBHOOK ]]; then wc -l <"$WEBHOOK"; else echo 0; fi; }
# "alertname node peer" of every alert whose latest notification after line MARK says STATUS.
webhook_alerts() { # MARK STATUS
  tail -n +$(($1 + 1)) "$WEBHOOK" 2>/dev/null | jq -rs --arg s "$2" '
    [.[] | select(.alerts) | .alerts[] | select(.labels.alertname != "PodpathLabCanary")]
    | group_by([.labels.alertname, .labels.node, .labels.peer]) | map(last)
    | .[] | select(.status == $s) | "\(.labels.alertname) \(.labels.node) \(.labels.peer // "-")"' |
    sort -u || true
}
# Waits until every "alertname node peer" line of WANT is STATUS at the webhook after MARK;
# prints the seconds since T.
wait_webhook() { # MARK STATUS WANT T TIMEOUT
  local got
  while :; do
    got=$(webhook_alerts "$1" "$2")
    if [[ -z $(comm -23 <(sort <<<"$3") <(sort <<<"$got")) ]]; then seconds_since "$4"; return 0; fi
    (($(date +%s) - ${4%.*} >= $5)) && { echo "timeout (seen: $(tr '\n' ';' <<<"$got"))"; return 1; }
    sleep 0.5
  done
}
pair_lines() { echo "$1 $2 $3"; echo "$1 $3 $2"; } # ALERT A B: both directions

# ---------------------------------------------------------------- 1. 30 ms between two nodes
MARK=$(webhook_lines)
t=$(date +%s.%N)
scenario pair-latency lan-1 lan-2 15
echo "rtt lan-1 -> lan-2 pods: $("$LAB" rtt lan-1 10.42.2.0 5) ms, lan-1 -> lan-3: $("$LAB" rtt lan-1 10.42.3.0 5) ms"
want=$(pair_lines PodpathPeerLatencyHigh lan-1 lan-2)
if took=$(wait_webhook "$MARK" firing "$want" "$t" 240); then
  ok "pair-latency: PodpathPeerLatencyHigh firing for lan-1<->lan-2 at the webhook $took s after the delay"
else
  fail "pair-latency: PodpathPeerLatencyHigh not firing for lan-1<->lan-2: $took"
  "$LAB" prom-query 'podpath:probe_rtt_seconds:median5m{target="overlay"}' |
    jq -c '.data.result[] | {instance: .metric.instance, peer: .metric.peer, same_group: .metric.same_group, v: .value[1]}' || true
fi
sleep 5
seen=$(webhook_alerts "$MARK" firing)
if [[ $seen == "$(sort <<<"$want")" ]]; then ok "pair-latency: exactly that pair fired"; else
  fail "pair-latency: the webhook got $(tr '\n' ';' <<<"$seen") instead of $(tr '\n' ';' <<<"$want")"
fi
scenario pair-latency-off

# ---------------------------------------------------------------- 2. the doctor per backend
doctor_all() { # DIR
  local n pids=()
  mkdir -p "$1"
  for n in $NODES; do
    (
      rc=0
      "$LAB" exec "$n" "$EXPORTER" doctor --output json --duration 6 --node-name "$n" \
        --kubeconfig "$STATE/kubeconfig" --flannel.subnet-file "$STATE/$n/subnet.env" \
        --tailscale.socket "$STATE/$n/tailscaled.sock" --wireguard.socket-dir "$STATE/$n/wireguard" \
        --log.level error \
        >"$1/$n.json" 2>"$1/$n.err" || rc=$?
      echo "$rc" >"$1/$n.rc"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
}
SUMMARY=()
pairs_total=0
# ipv6-only: an IPv6-only cluster (flannel-v6.1 alone, no IPv4 pod CIDR or annotation): every
# pair probed and classified in family ipv6 only, no annotation error, no flannel drift.
for backend in vxlan-directrouting vxlan host-gw extension wireguard-native ipv6-only; do
  t=$(date +%s.%N)
  scenario "$backend"
  dir=$WORK/doctor-$backend
  doctor_all "$dir"
  out=$(python3 "$HERE/shapes_truth.py" "$dir" "$backend") && rc=0 || rc=$?
  grep -v '^SUMMARY ' <<<"$out" || true
  summary=$(grep '^SUMMARY ' <<<"$out" || echo "SUMMARY pairs=0 failed=? findings=")
  pairs=$(sed -n 's/.* pairs=\([0-9]*\).*/\1/p' <<<"$summary")
  pairs_total=$((pairs_total + ${pairs:-0}))
  bad=$(sed -n 's/.* failed=\([0-9?]*\).*/\1/p' <<<"$summary")
  if ((rc == 0)); then ok "doctor $backend: $pairs pairs match the truth"; else
    fail "doctor $backend: $bad mismatches over $pairs pairs"
    for n in $NODES; do # what the doctor itself said: its notes and its log
      echo "  $n: rc $(cat "$dir/$n.rc"), notes: $(jq -c '.notes' "$dir/$n.json" 2>/dev/null)"
      sed 's/^/    /' "$dir/$n.err"
    done
  fi
  SUMMARY+=("$(printf '%-20s %2s pairs  %-4s %s (%s s)' "$backend" "${pairs:-0}" \
    "$( ((rc == 0)) && echo ok || echo FAIL)" "$(sed -n 's/.* findings=\(.*\)/\1/p' <<<"$summary")" \
    "$(seconds_since "$t")")")
done

# ---------------------------------------------------------------- 3. host-gw, a route deleted
scenario host-gw
sleep 10 # the baseline: annex-4's pairs have no route (flannel cannot add one)
BASE=$(webhook_lines)
URL=http://$(jq -r '.nodes[] | select(.name == "lan-1") | .mgmt_ip' "$PODPATH_LAB_TOPOLOGY"):18472/metrics
finding_for() { "$LAB" exec mgmt curl -s -m 3 "$URL" | grep '^podpath_finding{' | grep -F 'peer="lan-2"' || true; }
[[ -z $(finding_for) ]] || fail "host-gw: lan-1 has a finding for lan-2 before the fault: $(finding_for)"
t=$(date +%s.%N)
"$LAB" exec lan-1 ip route del 10.42.2.0/24
until [[ -n $(finding_for) ]]; do
  (($(date +%s) - ${t%.*} < 60)) || break
  sleep 0.2
done
if [[ -n $(finding_for) ]]; then
  ok "host-gw route deleted: lan-1's /metrics names lan-2 $(seconds_since "$t") s after the delete: $(finding_for | tr '\n' ' ')"
else
  fail "host-gw route deleted: no finding for lan-2 in lan-1's /metrics within 60 s"
fi
want="PodpathPeerUnreachable lan-1 lan-2"
if took=$(wait_webhook "$BASE" firing "$want" "$t" 120); then
  ok "host-gw route deleted: $want firing at the webhook $took s after the delete"
else
  fail "host-gw route deleted: $want not at the webhook: $took"
fi
sleep 10
# Alertmanager re-sends a node's group when it changes: alerts firing before the fault may
# show again; only lan-1 -> lan-2 is new.
new=$(comm -13 <(webhook_alerts 0 firing | grep -v ' lan-1 lan-2$' | sort) <(webhook_alerts "$BASE" firing))
if [[ $new == "$want" ]]; then ok "host-gw route deleted: exactly lan-1 -> lan-2 is new at the webhook"; else
  fail "host-gw route deleted: new at the webhook: $(tr '\n' ';' <<<"$new") instead of $want"
fi
MARK=$(webhook_lines)
t=$(date +%s.%N)
scenario route-restored # flannel's routeCheck puts it back (route_network.go)
if took=$(wait_webhook "$MARK" resolved "$want" "$t" 180); then
  ok "host-gw route restored: $want resolved at the webhook $took s after the restore"
else
  fail "host-gw route restored: $want not resolved: $took"
fi

# ---------------------------------------------------------------- 4. WireGuard handshake stops
scenario wireguard-native
sleep 15 # peers handshake; host-gw's alerts for annex-4 resolve
MARK=$(webhook_lines)
t=$(date +%s.%N)
scenario wireguard-blocked lan-1 lan-2
want=$(pair_lines PodpathPeerUnreachable lan-1 lan-2)
if took=$(wait_webhook "$MARK" firing "$want" "$t" 120); then
  ok "wireguard-blocked: PodpathPeerUnreachable for lan-1<->lan-2 at the webhook $took s after the block"
else
  fail "wireguard-blocked: PodpathPeerUnreachable not at the webhook: $took"
fi
sleep 5
seen=$(webhook_alerts "$MARK" firing)
if [[ $seen == "$(sort <<<"$want")" ]]; then ok "wireguard-blocked: exactly that pair fired"; else
  fail "wireguard-blocked: the webhook got $(tr '\n' ';' <<<"$seen") instead of $(tr '\n' ';' <<<"$want")"
fi
# WireGuard keeps sending (keepalive 25 s) and re-handshakes every 2 minutes; 180 s after the
# last handshake its keys are rejected (REJECT_AFTER_TIME). From then on both ends name the
# other's stale handshake, and PodpathWireGuardHandshakeStale pages for exactly that pair.
want_stale=$(pair_lines PodpathWireGuardHandshakeStale lan-1 lan-2)
if took=$(wait_webhook "$MARK" firing "$want_stale" "$t" 300); then
  ok "wireguard-blocked: PodpathWireGuardHandshakeStale for lan-1<->lan-2 at the webhook $took s after the block"
else
  fail "wireguard-blocked: PodpathWireGuardHandshakeStale not at the webhook: $took"
fi
seen=$(webhook_alerts "$MARK" firing)
if [[ $seen == "$(sort <<<"$want"$'\n'"$want_stale")" ]]; then
  ok "wireguard-blocked: exactly PeerUnreachable and HandshakeStale for that pair"
else
  fail "wireguard-blocked: the webhook got $(tr '\n' ';' <<<"$seen")"
fi
dir=$WORK/doctor-wireguard-blocked
doctor_all "$dir"
if jq -e '[.findings[] | select(.peer == "lan-2" and .code == "wireguard-handshake-stale")]
  | length == 1' "$dir/lan-1.json" >/dev/null; then
  ok "wireguard-blocked: the doctor on lan-1 names lan-2's stale WireGuard handshake"
else
  fail "wireguard-blocked: no handshake finding for lan-2 on lan-1: $(jq -c '.findings' "$dir/lan-1.json")"
fi
MARK=$(webhook_lines)
t=$(date +%s.%N)
scenario wireguard-unblocked
if took=$(wait_webhook "$MARK" resolved "$want"$'\n'"$want_stale" "$t" 180); then
  ok "wireguard-unblocked: both alerts for lan-1<->lan-2 resolved at the webhook $took s after"
else
  fail "wireguard-unblocked: not resolved at the webhook: $took"
fi

echo
echo "doctor per backend (findings per node: lan-1, lan-2, lan-3, annex-4):"
printf '  %s\n' "${SUMMARY[@]}"
echo "shapes_lab: $pairs_total pairs checked, $passed passed, $failed failed, $(seconds_since "$T0") s in all"
((failed == 0))
