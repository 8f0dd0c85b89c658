#!/usr/bin/env bash
# The fault matrix, in the lab: the API server down, slow, resetting watches,
# answering 410 and garbage; tailscaled's socket gone, answering garbage, hanging; flannel.1
# and cni0 deleted and recreated mid-scrape; subnet.env rewritten mid-read; 100 nodes added
# and removed per minute. One node's exporter is the subject (the other five keep running).
# For each fault: inject it, scrape the subject's /metrics over and over while it lasts
# (every scrape must answer 200 within the 5 s scrape timeout, from the same pid), see the
# affected collector's podpath_collector_success go to 0 (or, where the exporter absorbs
# the fault by design, the documented sign of it), clear it, and time the way back to 1.
# Root (the lab); exit 77 = skipped. Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/tests/lab/lab
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
for tool in jq curl socat python3 ip; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing"; exit 77; }
done
EXPORTER=${PODPATH_EXPORTER:-$HERE/../../build/exporter/podpath-exporter}
[[ -x $EXPORTER ]] || { echo "SKIP: no exporter binary at $EXPORTER (set PODPATH_EXPORTER)"; exit 77; }
export PODPATH_EXPORTER=$EXPORTER

T0=$(date +%s.%N)
# own_lab reads ROOT and LAB.
# shellcheck source=own_lab.sh
source "$HERE/own_lab.sh"
export PODPATH_LAB_SCENARIO=field-report-after
# The "slow" API holds every answer 12 s. With the default 30 s request timeout the
# exporter would notice only after 30 s; 5 s (the scrape timeout) keeps the run short and
# tests the same path. Retries back off up to 4 s instead of 30 s, so that the exporter
# asks again within 4 s of a fault being cleared rather than up to 30 s later.
export PODPATH_EXPORTER_ARGS="--kubernetes.request-timeout=5 --kubernetes.backoff-max=4"
NODE=lima-k3s-agent
NS=ppfm-$NODE
NS_MGMT=ppfm-mgmt
SCRAPE_TIMEOUT=5
HELPERS=() # process groups this script started (proxy, fake tailscaleds, loops)

forget_group() { # PGID: no longer ours to stop (ended), so a recycled pid is never signalled
  local keep=() p
  for p in "${HELPERS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  HELPERS=("${keep[@]}")
}
stop_group() { # PGID: end a process group this script started, and reap it
  kill -TERM -- "-$1" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_group "$1"
}
cleanup() {
  local pid
  for pid in "${HELPERS[@]}"; do stop_group "$pid"; done
  own_lab_down
}
# start_group CMD...: runs CMD in a session of its own (setsid execs in place: $! is both
# its pid and its process group), remembered for cleanup.
start_group() {
  setsid "$@" </dev/null >>"$WORK/helpers.log" 2>&1 &
  LAST_GROUP=$!
  HELPERS+=("$LAST_GROUP")
}
since() { awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'; }

passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # OK_TEXT FAIL_TEXT CMD...
  local good=$1 bad=$2
  shift 2
  if "$@"; then ok "$good"; else fail "$bad"; fi
}

own_lab ppfm- faults
trap cleanup EXIT
S=$PODPATH_LAB_STATE
ADDR=$(jq -r --arg n "$NODE" '.nodes[] | select(.name == $n) | .mgmt_ip' "$PODPATH_LAB_TOPOLOGY")
URL=http://$ADDR:18472/metrics
ADMIN=$(jq -r .admin_socket "$S/apiserver/server.json")
SOCK=$S/$NODE/tailscaled.sock
SUBNET_ENV=$S/$NODE/subnet.env
cp "$SUBNET_ENV" "$WORK/subnet.env.good"

# tailscaled keeps LocalAPI connections open and the exporter reuses its connection, so a
# process put at the socket path would never be asked while the emulator's connection
# lives. A proxy between them stands for tailscaled: stopping it closes the exporter's
# connection, as a tailscaled restart does, and the next poll meets whatever listens then.
mv "$SOCK" "$SOCK.emulator"
start_proxy() {
  start_group socat "UNIX-LISTEN:$SOCK,fork,perm=0666,unlink-early" "UNIX-CONNECT:$SOCK.emulator"
  PROXY=$LAST_GROUP
  local i
  for ((i = 0; i < 50; i++)); do [[ -S $SOCK ]] && return 0; sleep 0.1; done
  echo "the LocalAPI proxy did not start" >&2
  return 1
}
start_proxy
"$LAB" restart-exporters >>"$WORK/up.log" 2>&1
read -r PID START <"$S/pids/exporter-$NODE.pid"
[[ $(readlink "/proc/$PID/exe") == "$(readlink -f "$EXPORTER")" ]] ||
  { echo "pid $PID is not the exporter ($(readlink "/proc/$PID/exe"))"; exit 1; }
echo "subject: $NODE exporter pid $PID at $URL; lab up in $(since "$T0") s"

# ---------------------------------------------------------------- scraping

BODY=$WORK/body # the latest scrape
admin() { # PATH [JSON]: the fake API server's admin interface (POST when a body is given)
  if [[ $# -ge 2 ]]; then
    curl -sS --fail-with-body --unix-socket "$ADMIN" -H 'Content-Type: application/json' \
      -d "$2" "http://admin$1"
  else
    curl -sS --fail-with-body --unix-socket "$ADMIN" "http://admin$1"
  fi
}
client_stat() { admin /stats | jq -r --arg ip "$ADDR" --arg k "$1" '.clients[$ip][$k] // 0'; }
val() { awk -v s="$1" '$1 == s { print $2; exit }' "$BODY"; } # value of one exact series
num() { local v; v=$(val "$1"); echo "${v:--1}"; }               # the same, -1 when absent
succ() { val "podpath_collector_success{collector=\"$1\"}"; }
has() { grep -q -F -- "$1" "$BODY"; }
same_pid() { [[ -e /proc/$PID && $(awk '{print $22}' "/proc/$PID/stat" 2>/dev/null) == "$START" ]]; }

# One scrape as Prometheus makes it, from the mgmt namespace, recorded for the current fault:
# scrapes, the slowest, answers that were not 200 in time, pid changes, and whether the
# fault's collector reported 0.
scrape() {
  local out code secs
  out=$(ip netns exec "$NS_MGMT" curl -sS -m 10 -o "$BODY" -w '%{http_code} %{time_total}' \
    -H "X-Prometheus-Scrape-Timeout-Seconds: $SCRAPE_TIMEOUT" "$URL" 2>>"$WORK/curl.log") || true
  read -r code secs <<<"${out:-000 10}"
  [[ $code == 200 ]] || : >"$BODY"
  F_SCRAPES=$((F_SCRAPES + 1))
  F_MAX=$(awk -v a="$F_MAX" -v b="$secs" 'BEGIN { print (b > a) ? b : a }')
  if [[ $code != 200 ]] || awk -v s="$secs" -v t="$SCRAPE_TIMEOUT" 'BEGIN { exit !(s >= t) }'; then
    F_BAD+=" $code/${secs}s"
  fi
  same_pid || F_PID_CHANGED=1
  [[ $(succ "$F_COLLECTOR") != 0 ]] || F_ZERO=y
  echo "$F_NAME $(date +%s.%N) $code $secs $(grep '^podpath_collector_success' "$BODY" |
    sed 's/.*collector="\([a-z]*\)"} /\1=/' | paste -sd, -)" >>"$WORK/scrapes.log"
}

# observe PRED DEADLINE_S [PID]: scrape every 0.2 s until PRED (a command judging $BODY) has
# held once and, when PID is given, that background process has ended. OBSERVED_S is how
# long it took. Fails at the deadline.
observe() {
  local pred=$1 deadline=$2 bg=${3:-} t0 seen=""
  t0=$(date +%s.%N)
  while :; do
    scrape
    if [[ -z $seen ]] && $pred; then seen=1; fi
    if [[ -n $seen ]] && { [[ -z $bg ]] || ! kill -0 "$bg" 2>/dev/null; }; then break; fi
    if awk -v t0="$t0" -v t1="$(date +%s.%N)" -v d="$deadline" 'BEGIN { exit !(t1 - t0 > d) }'; then
      OBSERVED_S=$(since "$t0")
      return 1
    fi
    sleep 0.2
  done
  OBSERVED_S=$(since "$t0")
}
hold() { # SECONDS: keep scraping while the fault lasts
  local end
  end=$(awk -v t="$(date +%s.%N)" -v d="$1" 'BEGIN { printf "%.3f", t + d }')
  while awk -v e="$end" -v t="$(date +%s.%N)" 'BEGIN { exit !(t < e) }'; do
    scrape
    sleep 0.2
  done
}

begin() { # NAME COLLECTOR: start counting scrapes for a fault (or a phase)
  F_NAME=$1 F_COLLECTOR=$2 F_SCRAPES=0 F_MAX=0 F_BAD="" F_PID_CHANGED="" F_ZERO=n
}
ROWS=()
# run_fault NAME COLLECTOR KIND INJECT SHOWN WHAT_SHOWN CLEAR RECOVERED [BG_VAR]
#   KIND: visible (success must reach 0) or by-design (SHOWN is the documented sign instead).
#   INJECT, CLEAR: commands; SHOWN, RECOVERED: predicates on the latest scrape. When INJECT
#   starts a background process it names it in FAULT_BG; SHOWN must then hold while it runs.
run_fault() {
  local name=$1 collector=$2 kind=$3 inject=$4 shown=$5 what=$6 clear=$7 recovered=$8
  begin "$name" "$collector"
  FAULT_BG=""
  echo "-- $name"
  $inject
  local shown_ok=1 recovery="-" limit=30
  [[ -z $FAULT_BG ]] || limit=120 # it must also have ended
  if observe "$shown" "$limit" "$FAULT_BG"; then
    ok "$name: $what (after ${OBSERVED_S} s)"
  else
    fail "$name: expected $what within 30 s; last scrape: $(grep -E "^podpath_collector_success\{collector=\"$collector\"\}" "$BODY" || echo 'no answer')"
    shown_ok=""
  fi
  if [[ -n $FAULT_BG ]]; then
    stop_group "$FAULT_BG" # normally over already; stopped at the deadline otherwise
  else
    hold 2
  fi
  local scrapes_during=$F_SCRAPES
  $clear
  if observe "$recovered" 45; then
    recovery=$OBSERVED_S
    ok "$name: $collector recovered ${recovery} s after the fault was cleared"
  else
    fail "$name: $collector did not recover within 45 s of clearing the fault (success $(succ "$collector"))"
  fi
  if [[ -z $F_BAD ]]; then
    ok "$name: all $F_SCRAPES scrapes answered 200 within ${SCRAPE_TIMEOUT} s (slowest ${F_MAX} s)"
  else
    fail "$name: scrapes not answered 200 within ${SCRAPE_TIMEOUT} s:$F_BAD"
  fi
  if [[ -z $F_PID_CHANGED ]]; then ok "$name: exporter still pid $PID"; else fail "$name: exporter pid $PID is gone (crashed or restarted)"; fi
  local zero=$F_ZERO
  if [[ $kind == visible ]]; then
    [[ $F_ZERO == y ]] || { [[ -z $shown_ok ]] || fail "$name: $collector success never went to 0"; }
  else
    [[ $F_ZERO == y ]] && zero="y (by-design)" || zero=by-design
  fi
  ROWS+=("$name|$collector|$scrapes_during|$F_MAX|$zero|$recovery")
}

# ---------------------------------------------------------------- faults: the API server

down() { [[ $(succ kubernetes) == 0 && $(val podpath_kubernetes_view_stale) == 1 ]]; }
k8s_up() { [[ $(succ kubernetes) == 1 && $(val podpath_kubernetes_view_stale) == 0 ]]; }
k8s_err() { num "podpath_kubernetes_api_errors_total{reason=\"$1\"}"; }
clear_api() { admin /fault/clear '{}' >/dev/null; }
# Faults only meet requests made after them: the subject must be watching when they start.
# Its own word for it: the last-success time is "now" only while the watch is open (the
# server's open_watches also counts requests it still holds for a client that gave up).
watching() {
  scrape
  awk -v ts="$(val 'podpath_collector_last_success_timestamp_seconds{collector="kubernetes"}')" \
    -v now="$(date +%s.%N)" 'BEGIN { exit !(ts != "" && now - ts < 1.5) }'
}
wait_watching() {
  local i
  for ((i = 0; i < 50; i++)); do watching && return 0; sleep 0.2; done
  echo "the subject's watch is not open" >&2
}

begin setup kubernetes
observe k8s_up 30 || { fail "the subject's cluster view is not up: $(succ kubernetes)"; exit 1; }

inject_refuse() { wait_watching; admin /fault/down '{"seconds": 120, "mode": "refuse"}' >/dev/null; }
run_fault api-down-refuse kubernetes visible inject_refuse down \
  "success 0 and view_stale 1 (connection refused)" clear_api k8s_up

inject_reset() { wait_watching; admin /fault/down '{"seconds": 120, "mode": "reset"}' >/dev/null; }
run_fault api-down-reset kubernetes visible inject_reset down \
  "success 0 and view_stale 1 (connections reset)" clear_api k8s_up

inject_slow() {
  wait_watching
  scrape
  BEFORE=$(k8s_err timeout)
  # Every answer waits 12 s, longer than the scrape timeout and the request timeout; the
  # open watch is cut so that the exporter has to ask again.
  admin /fault/delay '{"seconds": 12}' >/dev/null
  admin /watches/drop '{"mode": "reset"}' >/dev/null
}
slow_shown() { down && (($(k8s_err timeout) > BEFORE)); }
run_fault api-slow kubernetes visible inject_slow slow_shown \
  "success 0 with a timeout error (no answer within --kubernetes.request-timeout)" clear_api k8s_up

inject_watch_reset() {
  wait_watching
  scrape
  BEFORE=$(k8s_err connect) W_BEFORE=$(client_stat watch) L_BEFORE=$(client_stat list)
  admin /watches/drop '{"mode": "reset"}' >/dev/null
}
rewatched() { (($(k8s_err connect) > BEFORE)) && (($(client_stat watch) > W_BEFORE)) && watching; }
run_fault api-watch-reset kubernetes by-design inject_watch_reset rewatched \
  "the reset counted (api_errors_total{reason=connect}) and the watch resumed" true k8s_up
lists=$(client_stat list)
check "api-watch-reset: resumed from its resourceVersion, no re-list" \
  "api-watch-reset: re-listed after a reset watch (lists $L_BEFORE -> $lists)" test "$lists" = "$L_BEFORE"

inject_410() {
  wait_watching
  scrape
  BEFORE=$(num podpath_kubernetes_relists_total) L_BEFORE=$(client_stat list)
  # An etcd compaction: the server forgets its history (its resourceVersion moves on) and
  # cuts the watches; the version the exporter resumes from is gone: 410.
  admin /history/expire '{"drop_watches": true}' >/dev/null
}
relisted() { (($(num podpath_kubernetes_relists_total) > BEFORE)) && (($(client_stat list) > L_BEFORE)); }
run_fault api-410-gone kubernetes by-design inject_410 relisted \
  "relists_total went up: the 410 was answered by a new list" true k8s_up

# Count-based faults hit whichever client asks next. Every exporter's watch is cut, all six
# ask again within ~1.25 s and keep retrying with backoff, so 60 bad answers keep each one
# failing for several scrapes (with 12, in one CI run under load the subject's failure fell
# between two scrapes, or the other five took them all).
count_fault() { # MODE-PATH BODY
  wait_watching
  scrape
  BEFORE=$(k8s_err "$ERR") I_BEFORE=$(client_stat injected)
  admin "$1" "$2" >/dev/null
  admin /watches/drop '{"mode": "close"}' >/dev/null
}
injected_shown() { down && (($(k8s_err "$ERR") > BEFORE)) && (($(client_stat injected) > I_BEFORE)); }
inject_garbage_json() { ERR=decode; count_fault /fault/garbage '{"count": 60, "mode": "json"}'; }
run_fault api-garbage-json kubernetes visible inject_garbage_json injected_shown \
  "success 0 with a decode error (a watch stream of invalid JSON)" clear_api k8s_up
inject_garbage_raw() { ERR=other; count_fault /fault/garbage '{"count": 60, "mode": "raw"}'; }
run_fault api-garbage-raw kubernetes visible inject_garbage_raw injected_shown \
  "success 0 (non-HTTP bytes instead of an answer)" clear_api k8s_up
inject_500() { ERR=http; count_fault /fault/error '{"count": 60, "code": 500}'; }
run_fault api-error-500 kubernetes visible inject_500 injected_shown \
  "success 0 with an http error (500)" clear_api k8s_up

# ---------------------------------------------------------------- faults: tailscaled

ts_stale() { [[ $(succ tailscale) == 0 && $(val podpath_tailscale_status_stale) == 1 ]]; }
ts_up() { [[ $(succ tailscale) == 1 && $(val podpath_tailscale_status_stale) == 0 ]] && has podpath_tailscale_info; }

inject_ts_gone() { mv "$SOCK" "$SOCK.away"; } # the proxy keeps listening on the moved file
clear_ts_gone() { mv "$SOCK.away" "$SOCK"; }
run_fault tailscaled-gone tailscale visible inject_ts_gone ts_stale \
  "success 0 and the last state served stale (a socket that answered and went is a fault)" \
  clear_ts_gone ts_up

cat >"$WORK/fake-tailscaled.py" <<'EOF'
# A broken tailscaled on the LocalAPI socket: raw (not HTTP), json (HTTP 200, invalid JSON)
# or hang (reads the request and never answers).
import os, socket, sys, threading
mode, path = sys.argv[1], sys.argv[2]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
os.chmod(path, 0o666)
listener.listen(16)
held = []
def serve(conn):
    try:
        conn.recv(65536)
        if mode == "raw":
            conn.sendall(b"\x00\xff\xfeSSH-2.0-not-http\r\n\r\n{{{{\n")
        elif mode == "json":
            body = b'{"Version": "1.82.5", "BackendState": "Running", "Peer": {"nodekey:ab'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
        else:
            held.append(conn)
            return
        conn.close()
    except OSError:
        pass
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
fake_ts() { # MODE: tailscaled replaced by a broken one
  stop_group "$PROXY"
  rm -f "$SOCK"
  start_group python3 "$WORK/fake-tailscaled.py" "$1" "$SOCK"
  FAKE=$LAST_GROUP
  local i
  for ((i = 0; i < 50; i++)); do [[ -S $SOCK ]] && return 0; sleep 0.1; done
}
restore_ts() { stop_group "$FAKE"; rm -f "$SOCK"; start_proxy; }
inject_ts_raw() { fake_ts raw; }
run_fault tailscaled-garbage-raw tailscale visible inject_ts_raw ts_stale \
  "success 0 and status_stale 1 (non-HTTP bytes)" restore_ts ts_up
inject_ts_json() { fake_ts json; }
run_fault tailscaled-garbage-json tailscale visible inject_ts_json ts_stale \
  "success 0 and status_stale 1 (invalid JSON)" restore_ts ts_up
inject_ts_hang() { fake_ts hang; }
run_fault tailscaled-hanging tailscale visible inject_ts_hang ts_stale \
  "success 0 and status_stale 1 (no answer within --tailscale.timeout)" restore_ts ts_up

# ---------------------------------------------------------------- faults: interfaces

# flannel.1 and cni0 deleted and recreated, three times, while scrapes run: cni0 as the lab
# builds it, flannel.1 by the lab's flannel emulation (as a flannel restart does). The
# tailscale0 tun belongs to the emulator and stays.
flap_interfaces() {
  local i idx
  idx=$(jq -r --arg n "$NODE" '.nodes[] | select(.name == $n) | .pod_index' "$PODPATH_LAB_TOPOLOGY")
  for ((i = 0; i < 3; i++)); do
    ip -n "$NS" link del flannel.1
    ip -n "$NS" link del cni0
    sleep 0.5
    ip -n "$NS" link add cni0 type bridge
    ip -n "$NS" link set cni0-port master cni0
    ip -n "$NS" addr add "10.42.$idx.1/24" dev cni0
    ip -n "$NS" link set cni0 up
    "$LAB" flannel >/dev/null 2>&1
  done
}
inject_interfaces() {
  start_group bash -c "$(declare -f flap_interfaces); LAB=$LAB NS=$NS NODE=$NODE PODPATH_LAB_TOPOLOGY=$PODPATH_LAB_TOPOLOGY flap_interfaces"
  FAULT_BG=$LAST_GROUP
}
flannel1_gone() { [[ $(succ netlink) == 1 ]] && ! has 'podpath_link_info{device="flannel.1"'; }
links_back() {
  [[ $(succ netlink) == 1 ]] && has 'podpath_link_info{device="flannel.1"' &&
    has 'podpath_link_info{device="cni0"' && has 'podpath_vxlan_info{device="flannel.1"'
}
run_fault interfaces-flap netlink by-design inject_interfaces flannel1_gone \
  "success 1 while flannel.1 is missing (the kernel's state, read correctly)" true links_back
# The deleted devices come back with the same routes: a same-site peer is again on flannel.1.
check "interfaces-flap: lima-k3s-agent-2 routed over flannel.1 again" \
  "interfaces-flap: no route to lima-k3s-agent-2 over flannel.1 after recreation: $(grep 'podpath_peer_route_info.*lima-k3s-agent-2' "$BODY" | head -2)" \
  has 'device="flannel.1",error="",family="ipv4",peer="lima-k3s-agent-2"'

# ---------------------------------------------------------------- faults: subnet.env

# Rewritten in place (truncate, then write: what a reader racing an editor sees) through
# empty, garbage, a cut-off line and the good content, for 6 s.
rewrite_subnet_env() { # FILE GOOD_COPY
  local file=$1 good=$2 end=$((SECONDS + 6))
  while ((SECONDS < end)); do
    : >"$file"
    sleep 0.15
    printf 'FLANNEL_NETWORK=10.42.0.0/16\n\x00\xff garbage ===\n' >"$file"
    sleep 0.15
    printf 'FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUB' >"$file"
    sleep 0.15
    cat "$good" >"$file"
    sleep 0.15
  done
}
inject_subnet_env() {
  start_group bash -c "$(declare -f rewrite_subnet_env); rewrite_subnet_env $(printf '%q %q' "$SUBNET_ENV" "$WORK/subnet.env.good")"
  FAULT_BG=$LAST_GROUP
}
flannel_failed() { [[ $(succ flannel) == 0 ]]; }
restore_subnet_env() { cp "$WORK/subnet.env.good" "$SUBNET_ENV.tmp" && mv "$SUBNET_ENV.tmp" "$SUBNET_ENV"; }
flannel_up() { [[ $(succ flannel) == 1 ]] && has 'podpath_flannel_subnet_info{family="ipv4",network="10.42.0.0/16",subnet="10.42.'; }
run_fault subnet-env-rewrite flannel visible inject_subnet_env flannel_failed \
  "success 0 while subnet.env is unreadable" restore_subnet_env flannel_up

# ---------------------------------------------------------------- faults: peer churn

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
synthetic() { admin /nodes | jq -r '.nodes[].name | select(startswith("k3s-node-"))'; }
RSS_BEFORE=$(rss_kb)
churn() { # 100 nodes, then 10 removed and 10 added every 6 s for a minute: 100 per minute
  local i
  admin /nodes/add '{"count": 100}' >/dev/null
  synthetic >>"$WORK/synthetic.names"
  for ((i = 0; i < 10; i++)); do
    sleep 6
    admin /nodes/churn '{"count": 10}' >/dev/null
    synthetic >>"$WORK/synthetic.names"
  done
}
inject_churn() {
  : >"$WORK/synthetic.names"
  start_group bash -c "$(declare -f churn synthetic admin); ADMIN=$ADMIN WORK=$WORK churn"
  FAULT_BG=$LAST_GROUP
}
synthetic_seen() { grep -q 'peer="k3s-node-' "$BODY" && (($(num podpath_kubernetes_nodes) > 100)); }
remove_synthetic() {
  local names
  names=$(synthetic | jq -R . | jq -sc .)
  admin /nodes/remove "{\"names\": $names}" >/dev/null
  sort -u "$WORK/synthetic.names" | sed 's/.*/="&"/' >"$WORK/synthetic.patterns"
}
no_departed() {
  [[ $(val podpath_kubernetes_nodes) == 6 && $(succ kubernetes) == 1 ]] &&
    ! grep -q -F -f "$WORK/synthetic.patterns" "$BODY"
}
run_fault peer-churn kubernetes by-design inject_churn synthetic_seen \
  "synthetic peers' series appear while 100 nodes/min come and go" remove_synthetic no_departed
RSS_AFTER=$(rss_kb)
N_SYNTH=$(wc -l <"$WORK/synthetic.patterns")
echo "     churn: $N_SYNTH synthetic nodes came and went; RSS ${RSS_BEFORE} kB before, ${RSS_AFTER} kB after"
check "peer-churn: $N_SYNTH synthetic node names checked" \
  "peer-churn: expected at least 200 synthetic names, got $N_SYNTH" test "$N_SYNTH" -ge 200
# "Did not explode": a leak of per-peer state at 200 departed peers would show as tens of MB.
check "peer-churn: RSS grew by $(((RSS_AFTER - RSS_BEFORE) / 1024)) MB (< 32 MB)" \
  "peer-churn: RSS grew from ${RSS_BEFORE} kB to ${RSS_AFTER} kB" test "$RSS_AFTER" -lt $((RSS_BEFORE + 32768))

# ---------------------------------------------------------------- the end state

begin final none
all_up() { [[ $(grep -c '^podpath_collector_success{.*} 1$' "$BODY") -ge 8 ]] && ! grep -q '^podpath_collector_success{.*} 0$' "$BODY"; }
if observe all_up 30; then
  ok "end: every collector's success is 1 ($(grep -c '^podpath_collector_success{.*} 1$' "$BODY") collectors)"
else
  fail "end: collectors not all successful: $(grep '^podpath_collector_success' "$BODY" | paste -sd' ' -)"
fi
check "end: the exporter is still pid $PID" "end: the exporter is no longer pid $PID" same_pid
# The garbage it read went into warnings; its log must still be text (UTF-8, one line each).
log_is_text() { python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$1" 2>/dev/null; }
check "end: the exporter's log is valid UTF-8 after the garbage ($(grep -c . "$S/logs/exporter-$NODE.log") lines)" \
  "end: the exporter's log holds bytes that are not UTF-8" log_is_text "$S/logs/exporter-$NODE.log"

echo
printf '%-24s %-10s %8s %11s %-14s %s\n' fault collector scrapes "max scrape" "success->0" "recovery"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name collector n max zero rec <<<"$row"
  printf '%-24s %-10s %8s %10.3fs %-14s %s\n' "$name" "$collector" "$n" "$max" "$zero" \
    "$([[ $rec == - ]] && echo - || echo "$rec s")"
done
echo "(scrapes: during the fault, before it was cleared; recovery: from clearing to success 1)"
echo "fault matrix: $passed passed, $failed failed in $(since "$T0") s"
[[ $failed == 0 ]]
