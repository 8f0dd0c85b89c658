#!/usr/bin/env bash
# The faults the replay (scripts/demo) does not walk, end to end: the lab's exporters, its
# Prometheus loading alerts/, Alertmanager and the webhook. From field-report-after (every
# path healthy):
#   vxlan-blocked  -> PodpathPeerUnreachable for the two servers, and no other alert;
#                     every dashboard panel's query returns data meanwhile (lab_check.sh)
#   vxlan-unblocked -> it resolves
#   mtu-blackhole  -> PodpathPathMTUTooSmall for the servers, and no other alert
#   mtu-ok         -> it resolves
#   tailscale-key-expired lima-k3s-agent-2 -> PodpathTailscaleKeyExpired for that node only
#   tailscale-key-renewed -> it resolves
#   dual-stack, then vxlan6-blocked (UDP 8472 dropped over IPv6 only between the servers) ->
#                     PodpathPeerUnreachable with family="ipv6" for both directions of the
#                     servers, and nothing for ipv4 nor anything else
#   vxlan6-unblocked -> it resolves
# Prints the time from each fault (and fix) to the notification at the webhook. `for:` is
# divided by the lab's PODPATH_LAB_TIME_SCALE (30). Root (the lab); exit 77 = skipped.
# Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET (as for tests/lab/lab).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/tests/lab/lab
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }

# shellcheck source=own_lab.sh
source "$HERE/own_lab.sh"
export PODPATH_LAB_SCENARIO=field-report-after
# Path-MTU and exposure probes every 10 s instead of each minute, so the blackhole shows
# within a test and the exposure panels have data.
export PODPATH_EXPORTER_ARGS="--prober.pmtu-interval=10s --prober.exposure-interval=10s"
own_lab ppal- alerts
WEBHOOK=$PODPATH_LAB_STATE/webhook/received.jsonl

SERVERS="ip-172-26-2-70 ip-172-26-3-146"
failed=0
passed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

prom() { "$LAB" prom-query "$1"; }
# Podpath alerts firing or pending in Prometheus now, "name node peer state" per line.
alerts_now() {
  prom 'ALERTS{alertname=~"Podpath.*", alertname!="PodpathLabCanary"}' |
    jq -r '.data.result[] | "\(.metric.alertname) \(.metric.node) \(.metric.peer // "-") \(.metric.alertstate)"' | sort
}
webhook_lines() { if [[ -f $WEBHOOK ]]; then wc -l <"$WEBHOOK"; else echo 0; fi; }
# The webhook's verdict on an alert among the notifications after line MARK: Alertmanager
# notifies per group (alertname, node); firing while the latest notification of any group
# says so, resolved once the latest of every group does.
webhook_status() { # NAME MARK
  tail -n +$(($2 + 1)) "$WEBHOOK" 2>/dev/null | jq -rn --arg n "$1" '
    [inputs | select(.alerts) | select(any(.alerts[]; .labels.alertname == $n))]
    | group_by(.groupKey) | map(last | .status)
    | if length == 0 then "none" elif any(. == "firing") then "firing" else "resolved" end' || true
}
# Every (alertname node peer) notified firing after line MARK, the canary aside.
webhook_firing() { # MARK
  tail -n +$(($1 + 1)) "$WEBHOOK" 2>/dev/null | jq -r 'select(.alerts) | .alerts[] |
    select(.status == "firing" and .labels.alertname != "PodpathLabCanary") |
    "\(.labels.alertname) \(.labels.node) \(.labels.peer // "-")"' | sort -u || true
}
# Waits until NAME reaches WANT at the webhook after MARK; prints the seconds from T0.
wait_webhook() { # NAME WANT MARK T0 TIMEOUT
  local got
  while :; do
    got=$(webhook_status "$1" "$3")
    [[ $got == "$2" ]] && { echo $(($(date +%s) - $4)); return 0; }
    (($(date +%s) - $4 >= $5)) && { echo "timeout ($got)"; return 1; }
    sleep 1
  done
}

# Baseline: every exporter scraped, the probes have run long enough, and nothing fires.
t0=$(date +%s)
quiet_since=0
while :; do
  up=$(prom 'count(up{job="podpath"} == 1)' | jq -r '.data.result[0].value[1] // 0')
  now=$(alerts_now)
  if [[ $up == 6 && -z $now ]]; then
    ((quiet_since)) || quiet_since=$(date +%s)
    (($(date +%s) - quiet_since >= 20)) && break
  else
    quiet_since=0
  fi
  if (($(date +%s) - t0 > 180)); then
    fail "baseline: field-report-after never became quiet (up=$up; alerts: ${now:-none})"
    exit 1
  fi
  sleep 2
done
ok "baseline: 6 exporters up, no podpath alert for 20 s ($(($(date +%s) - t0)) s after up)"

# The probe graph below its budget (issue #17): the lab's 6 nodes keep the full mesh, so every
# exporter computes that 5 nodes probe it, and the probe series in Prometheus agree.
probed_by=$(prom 'count(podpath_prober_probed_by_nodes == 5)' | jq -r '.data.result[0].value[1] // 0')
probers=$(prom 'count(count by (peer) (podpath_probe_requests_total{target="overlay"}) == 5)' |
  jq -r '.data.result[0].value[1] // 0')
if [[ $probed_by == 6 && $probers == 6 ]]; then
  ok "probe graph: every node probed by the 5 others, by its own exporter's graph and by the probe series"
else
  fail "probe graph: $probed_by exporters say 5 nodes probe them, $probers nodes have 5 probers in Prometheus (want 6 and 6)"
fi

# switch_to SCENARIO ALERT WANT TIMEOUT WHAT: applies SCENARIO and waits until ALERT reaches
# WANT at the webhook; MARK is left at the webhook's length before the switch.
switch_to() {
  local scenario=$1 alert=$2 want=$3 timeout=$4 what=$5 t0 took
  MARK=$(webhook_lines)
  t0=$(date +%s)
  # shellcheck disable=SC2086 # a scenario may carry its arguments ("tailscale-key-expired N")
  "$LAB" scenario $scenario >"$WORK/scenario.log" 2>&1 || { cat "$WORK/scenario.log"; exit 1; }
  if took=$(wait_webhook "$alert" "$want" "$MARK" "$t0" "$timeout"); then
    ok "$scenario: $alert $want at the webhook $took s after the $what"
  else
    fail "$scenario: $alert not $want at the webhook within $timeout s of the $what: $took"
  fi
}

# expect_fixed FIX ALERT: the fix resolves ALERT at the webhook and nothing fires after it.
expect_fixed() {
  local fix=$1 alert=$2 seen
  switch_to "$fix" "$alert" resolved 240 fix
  seen=$(webhook_firing "$MARK")
  if [[ -z $seen ]]; then
    ok "$fix: nothing fired after the fix"
  else
    fail "$fix: fired after the fix: $(tr '\n' ';' <<<"$seen")"
  fi
}

# expect_fault SCENARIO FIX ALERT [A B]: the fault fires exactly ALERT, for the pair A, B only
# (default: the servers), both directions, at the webhook; the fix resolves it. Runs HOOK (if
# set) while the alert fires.
expect_fault() {
  local scenario=$1 fix=$2 alert=$3 pair seen expected
  pair=${4:+$4 $5}
  pair=${pair:-$SERVERS}
  switch_to "$scenario" "$alert" firing 180 fault
  # Let any other alert that this fault might (wrongly) cause reach the webhook too: its
  # `for:` is at most 30 s in the lab, plus Alertmanager's group_wait.
  sleep 35
  seen=$(webhook_firing "$MARK")
  expected=$(for a in $pair; do for b in $pair; do if [[ $a != "$b" ]]; then echo "$alert $a $b"; fi; done; done | sort)
  if [[ $seen == "$expected" ]]; then
    ok "$scenario: exactly $alert for both directions of $pair at the webhook"
  else
    fail "$scenario: the webhook got $(tr '\n' ';' <<<"$seen") instead of $(tr '\n' ';' <<<"$expected")"
  fi
  if [[ -n ${HOOK:-} ]]; then $HOOK; fi
  expect_fixed "$fix" "$alert"
}

# While an alert fires, so that "Firing podpath alerts" has rows too.
dashboards_have_data() {
  local out
  if out=$("$LAB" exec mgmt "$ROOT/tests/dashboards/lab_check.sh" --rate-interval 10s --range 10m \
    http://127.0.0.1:9090 2>&1); then
    ok "dashboards: every panel query returns data from the lab's Prometheus ($(grep -c . <<<"$out") lines of report)"
  else
    fail "dashboards: $out"
  fi
}

# expect_node_alert SCENARIO FIX ALERT NODE: the fault fires exactly ALERT for NODE (an alert
# about the node itself, no peer) at the webhook; the fix resolves it.
expect_node_alert() {
  local scenario=$1 fix=$2 alert=$3 node=$4 seen
  switch_to "$scenario" "$alert" firing 180 fault
  sleep 35
  seen=$(webhook_firing "$MARK")
  if [[ $seen == "$alert $node -" ]]; then
    ok "$scenario: exactly $alert for $node at the webhook"
  else
    fail "$scenario: the webhook got $(tr '\n' ';' <<<"$seen") instead of $alert $node"
  fi
  expect_fixed "$fix" "$alert"
}

HOOK=dashboards_have_data expect_fault vxlan-blocked vxlan-unblocked PodpathPeerUnreachable
HOOK='' expect_fault mtu-blackhole mtu-ok PodpathPathMTUTooSmall
# A cross-site pair whose Tailscale peers stop completing handshakes: tailscaled keeps sending
# (`active; relay "tok"`), nothing arrives, and the pod road between them (a subnet route) is
# dead both ways; nothing else is touched. (PodpathPeerUnreachable stays quiet: the peer's node
# address is lost too, through the same tunnel.)
HOOK='' expect_fault "tailscale-no-handshake ip-172-26-2-70 lima-k3s-agent" tailscale-handshake-ok \
  PodpathTailscaleNoHandshake ip-172-26-2-70 lima-k3s-agent
# A node key that expired an hour ago: the node's own exporter reports it; its peers' pod
# paths over the tailnet die too, but their underlay is lost as well, so no other alert.
expect_node_alert "tailscale-key-expired lima-k3s-agent-2" tailscale-key-renewed \
  PodpathTailscaleKeyExpired lima-k3s-agent-2

# Dual stack (issue #15): the report's cluster with IPv6 beside IPv4 (README, "Dual stack"),
# quiet first; then IPv6 VXLAN blocked between the servers, k3s-io/k3s#8794's symptom (pods
# reach each other over IPv4, not over IPv6): the alert names the ipv6 family of exactly that
# pair, both directions, and the IPv4 family stays quiet.
# Every (alertname node peer family) notified firing after line MARK, the canary aside.
webhook_firing_family() { # MARK
  tail -n +$(($1 + 1)) "$WEBHOOK" 2>/dev/null | jq -r 'select(.alerts) | .alerts[] |
    select(.status == "firing" and .labels.alertname != "PodpathLabCanary") |
    "\(.labels.alertname) \(.labels.node) \(.labels.peer // "-") \(.labels.family // "-")"' | sort -u || true
}
MARK=$(webhook_lines)
t0=$(date +%s)
"$LAB" scenario dual-stack >"$WORK/scenario.log" 2>&1 || { cat "$WORK/scenario.log"; exit 1; }
# Both families probed long enough (path MTU and exposure every 10 s here) to judge quiet.
sleep 25
seen=$(webhook_firing_family "$MARK")
if [[ -z $seen ]]; then
  ok "dual-stack: nothing fired in $(($(date +%s) - t0)) s with every pair in both families"
else
  fail "dual-stack: fired without a fault: $(tr '\n' ';' <<<"$seen")"
fi
# The series budget (issue #17) keeps every pair's full detail on six nodes in two families
# (the lab's largest scrapes); the groups' sums are left out as redundant, nothing else.
summarised=$(prom 'max(podpath_series_budget_peers{detail="summary"})' | jq -r '.data.result[0].value[1] // "none"')
withheld=$(prom 'max(podpath_series_budget_groups{state="withheld"})' | jq -r '.data.result[0].value[1] // "none"')
exporters=$(prom 'count(podpath_series_budget_peers{detail="full"} == 5)' | jq -r '.data.result[0].value[1] // "0"')
if [[ $summarised == 0 && $withheld == 0 && $exporters == 6 ]]; then
  ok "dual-stack: the series budget kept every peer's full detail on the 6 exporters"
else
  fail "dual-stack: series budget: peers summarised up to $summarised, groups withheld up to $withheld, exporters detailing all 5 peers: $exporters"
fi
switch_to "vxlan6-blocked ip-172-26-2-70 ip-172-26-3-146" PodpathPeerUnreachable firing 180 fault
sleep 35
seen=$(webhook_firing_family "$MARK")
expected=$(printf 'PodpathPeerUnreachable %s ipv6\n' "ip-172-26-2-70 ip-172-26-3-146" \
  "ip-172-26-3-146 ip-172-26-2-70" | sort)
if [[ $seen == "$expected" ]]; then
  ok "vxlan6-blocked: exactly PodpathPeerUnreachable{family=\"ipv6\"} for both directions of the servers, nothing for ipv4"
else
  fail "vxlan6-blocked: the webhook got ${seen:+$(tr '\n' ';' <<<"$seen")}${seen:-nothing} instead of $(tr '\n' ';' <<<"$expected")"
fi
if [[ $(webhook_status PodpathPeerUnreachable "$MARK") == firing ]]; then
  expect_fixed vxlan6-unblocked PodpathPeerUnreachable
else
  # Nothing to resolve: say so rather than wait 240 s for it.
  "$LAB" scenario vxlan6-unblocked >"$WORK/scenario.log" 2>&1 || { cat "$WORK/scenario.log"; exit 1; }
  fail "vxlan6-unblocked: not judged, the fault's alert never fired"
fi

echo "alerts_lab: $passed passed, $failed failed"
((failed == 0))
