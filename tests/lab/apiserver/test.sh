#!/usr/bin/env bash
# End-to-end test of fake-apiserver with real kubectl and curl, on 127.0.0.1 only.
# Exit 0 = every check passed. Each check prints what it verifies.
# Needs: kubectl, curl, jq, openssl, python3 (PYTHON=... to pick one; default /usr/bin/python3).
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
TMP="$(mktemp -d /tmp/fake-apiserver-test.XXXXXX)"
FAILS=0
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; [ $# -gt 1 ] && printf '     %s\n' "${@:2}"; FAILS=$((FAILS + 1)); }
# check "description" command...: passes when the command exits 0.
check() { local d="$1"; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

# start NAME ARGS...: run a server with state dir $TMP/NAME, wait for server.json.
start() {
  local name="$1"; shift
  "$PYTHON" "$HERE/fake-apiserver" --state-dir "$TMP/$name" --listen 127.0.0.1:0 "$@" \
    >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
  SERVER_PID=$!
  for _ in $(seq 100); do [ -f "$TMP/$name/server.json" ] && break; sleep 0.1; done
  [ -f "$TMP/$name/server.json" ] || { fail "server $name started"; cat "$TMP/$name.log"; exit 1; }
  URL="$(jq -r .url "$TMP/$name/server.json")"
  TOKEN="$(cat "$TMP/$name/token")"
  KCFG="$TMP/$name/kubeconfig"
  ADMIN_SOCK="$TMP/$name/admin.sock"
  CA="$TMP/$name/ca.crt"
}
k() { kubectl --kubeconfig "$KCFG" --cache-dir "$TMP/kube-cache" --request-timeout=10s "$@"; }
# kubectl's --request-timeout would also end watches: none for those.
kw() { kubectl --kubeconfig "$KCFG" --cache-dir "$TMP/kube-cache" "$@"; }
api() { curl -sS --max-time 10 --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$@"; }
admin() { local p="$1"; shift; curl -sS --max-time 10 --unix-socket "$ADMIN_SOCK" "http://admin$p" "$@"; }
# wait_for FILE PATTERN: up to 5 s for a line matching PATTERN in FILE.
wait_for() { for _ in $(seq 50); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "== fixtures"
"$PYTHON" "$HERE/nodes.py" fixtures --out "$TMP/fixtures"
check "committed fixtures/*.json equal nodes.py output (regenerate: nodes.py fixtures)" \
  diff -r "$HERE/fixtures" "$TMP/fixtures"
check "fixture malformed-backend-data.json carries invalid JSON in backend-data" \
  bash -c "! jq -r '.metadata.annotations[\"flannel.alpha.coreos.com/backend-data\"]' '$HERE/fixtures/malformed-backend-data.json' | jq . >/dev/null 2>&1"

echo "== server with the field-report nodes"
start main --bookmark-interval 1 --token-file "$TMP/rotated-tokens"
check "kubeconfig has current-context, server URL, CA data and token" \
  bash -c "grep -q 'current-context: default' '$KCFG' && grep -q 'server: $URL' '$KCFG' && grep -q certificate-authority-data '$KCFG' && grep -q 'token: $TOKEN' '$KCFG'"
check "TLS 1.1 is refused" bash -c "! curl -s --cacert '$CA' --tlsv1.1 --tls-max 1.1 '$URL/version' >/dev/null"
check "certificate verifies for 127.0.0.1 and localhost" \
  bash -c "openssl verify -CAfile '$CA' '$TMP/main/server.crt' >/dev/null && openssl x509 -in '$TMP/main/server.crt' -noout -ext subjectAltName | grep -q 'DNS:localhost'"

k get nodes -o wide >"$TMP/wide.out" 2>&1
cat "$TMP/wide.out"
check "get nodes -o wide: six nodes" test "$(tail -n +2 "$TMP/wide.out" | wc -l)" -eq 6
check "get nodes -o wide: INTERNAL-IP and EXTERNAL-IP columns" grep -q 'INTERNAL-IP *EXTERNAL-IP' "$TMP/wide.out"
check "ip-172-26-2-70: control-plane,etcd 100.99.0.1 203.0.113.10" \
  grep -Eq '^ip-172-26-2-70 +Ready +control-plane,etcd +143d +v1.34.3\+k3s1 +100.99.0.1 +203.0.113.10 ' "$TMP/wide.out"
check "lima-k3s-agent-3: 100.117.0.1, no external IP" grep -Eq '^lima-k3s-agent-3 +Ready .* 100.117.0.1 +<none> ' "$TMP/wide.out"
check "flannel public-ip, podCIDR and zone label as in the field report" test \
  "$(k get node lima-k3s-agent -o jsonpath='{.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip} {.spec.podCIDR} {.metadata.labels.topology\.kubernetes\.io/zone} {.metadata.labels.node-type}')" \
  = "100.84.0.1 10.42.2.0/24 sapporo lima"

echo "== watch sees kubectl's writes"
kw get nodes -w --output-watch-events -o json >"$TMP/watch.json" 2>"$TMP/watch.err" &
WATCH_PID=$!; PIDS+=("$WATCH_PID")
kw get nodes -w >"$TMP/watch-table.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/watch.json" '"name": "lima-k3s-agent-4"'
k annotate node lima-k3s-agent flannel.alpha.coreos.com/public-ip=192.168.105.2 --overwrite >/dev/null
k label node lima-k3s-agent-2 podpath-test=yes >/dev/null
k cordon lima-k3s-agent-3 >/dev/null
k delete node lima-k3s-agent-4 >/dev/null
sleep 0.5
ev() { jq -c "select(.object.metadata.name == \"$1\") | [.type, $2]" "$TMP/watch.json"; }
check "watch: MODIFIED after kubectl annotate (public-ip 192.168.105.2)" \
  bash -c "$(declare -f ev); TMP='$TMP'; ev lima-k3s-agent '.object.metadata.annotations[\"flannel.alpha.coreos.com/public-ip\"]' | grep -qx '\[\"MODIFIED\",\"192.168.105.2\"\]'"
check "watch: MODIFIED after kubectl label" \
  bash -c "$(declare -f ev); TMP='$TMP'; ev lima-k3s-agent-2 '.object.metadata.labels[\"podpath-test\"]' | grep -qx '\[\"MODIFIED\",\"yes\"\]'"
check "watch: MODIFIED with spec.unschedulable after kubectl cordon" \
  bash -c "$(declare -f ev); TMP='$TMP'; ev lima-k3s-agent-3 '.object.spec.unschedulable' | grep -qx '\[\"MODIFIED\",true\]'"
check "watch: DELETED after kubectl delete node" \
  bash -c "$(declare -f ev); TMP='$TMP'; ev lima-k3s-agent-4 '.object.metadata.name' | grep -q DELETED"
check "watch: resourceVersions strictly increase" \
  bash -c "jq -r '.object.metadata.resourceVersion' '$TMP/watch.json' | awk 'NR>1 && \$1<=p {exit 1} {p=\$1}'"
check "table watch (kubectl get nodes -w) shows the cordon" grep -q 'lima-k3s-agent-3 .*SchedulingDisabled' "$TMP/watch-table.out"
check "get nodes: 5 left, lima-k3s-agent-3 SchedulingDisabled" \
  bash -c "[ \$(kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' get nodes --no-headers | wc -l) -eq 5 ] && kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' get node lima-k3s-agent-3 | grep -q SchedulingDisabled"
k uncordon lima-k3s-agent-3 >/dev/null
RV_BEFORE="$(api "$URL/api/v1/nodes?limit=1" | jq -r .metadata.resourceVersion)"
k annotate node lima-k3s-agent flannel.alpha.coreos.com/public-ip=192.168.105.2 --overwrite >/dev/null
check "a no-op patch does not bump the resourceVersion" \
  test "$(api "$URL/api/v1/nodes?limit=1" | jq -r .metadata.resourceVersion)" = "$RV_BEFORE"

echo "== create, update, status, patch types"
"$PYTHON" "$HERE/nodes.py" field-report | jq '.items[5] | del(.metadata.uid, .metadata.creationTimestamp, .metadata.resourceVersion)' >"$TMP/node4.json"
check "kubectl create -f node (POST) and it is back" \
  bash -c "kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' create --validate=false -f '$TMP/node4.json' >/dev/null && kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' get node lima-k3s-agent-4 >/dev/null"
check "watch: ADDED after create" bash -c "jq -c 'select(.object.metadata.name==\"lima-k3s-agent-4\") | .type' '$TMP/watch.json' | tail -1 | grep -q ADDED"
check "POST of an existing node -> 409 AlreadyExists" \
  bash -c "[ \"\$(curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' --data-binary @'$TMP/node4.json' '$URL/api/v1/nodes' | jq -r '.code,.reason' | tr '\n' ' ')\" = '409 AlreadyExists ' ]"
OBJ="$(api "$URL/api/v1/nodes/lima-k3s-agent-4")"
check "PUT with a stale resourceVersion -> 409 Conflict" bash -c \
  "[ \"\$(echo '$OBJ' | jq '.metadata.resourceVersion=\"1\"' | curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PUT --data-binary @- '$URL/api/v1/nodes/lima-k3s-agent-4' | jq -r .code)\" = 409 ]"
check "PUT with the current resourceVersion updates" bash -c \
  "echo '$OBJ' | jq '.metadata.labels.put=\"done\"' | curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PUT --data-binary @- '$URL/api/v1/nodes/lima-k3s-agent-4' | jq -e '.metadata.labels.put==\"done\"' >/dev/null"
check "JSON patch (kubectl patch --type=json)" bash -c \
  "kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' patch node lima-k3s-agent-4 --type=json -p '[{\"op\":\"add\",\"path\":\"/metadata/labels/jp\",\"value\":\"1\"}]' >/dev/null && [ \"\$(kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' get node lima-k3s-agent-4 -o jsonpath='{.metadata.labels.jp}')\" = 1 ]"
check "PATCH /status sets a condition; the main resource ignores status" bash -c "
  curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{\"status\":{\"nodeInfo\":{\"osImage\":\"changed\"}}}' '$URL/api/v1/nodes/lima-k3s-agent-4' | jq -e '.status.nodeInfo.osImage==\"Ubuntu 25.10\"' >/dev/null &&
  curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{\"status\":{\"nodeInfo\":{\"osImage\":\"changed\"}}}' '$URL/api/v1/nodes/lima-k3s-agent-4/status' | jq -e '.status.nodeInfo.osImage==\"changed\"' >/dev/null"
check "changing podCIDR -> 422 Invalid" bash -c \
  "[ \"\$(curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{\"spec\":{\"podCIDR\":\"10.42.99.0/24\"}}' '$URL/api/v1/nodes/lima-k3s-agent-4' | jq -r .code)\" = 422 ]"
check "unsupported patch type -> 415" bash -c \
  "[ \"\$(curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -X PATCH -H 'Content-Type: application/apply-patch+yaml' -d 'x' '$URL/api/v1/nodes/lima-k3s-agent-4' | jq -r .code)\" = 415 ]"

echo "== protocol details a client relies on"
api -D "$TMP/h" "$URL/api/v1/nodes?limit=2" >"$TMP/p1.json"
TOK="$(jq -r .metadata.continue "$TMP/p1.json")"
check "limit=2: two items, continue token, remainingItemCount 4" \
  test "$(jq -r '[(.items|length), (.metadata.remainingItemCount)] | @tsv' "$TMP/p1.json")" = "$(printf '2\t4')"
check "continue: next page starts after the first" \
  test "$(api "$URL/api/v1/nodes?limit=2&continue=$TOK" | jq -r '.items[0].metadata.name')" = "lima-k3s-agent"
check "labelSelector node-type=lima & fieldSelector metadata.name" \
  test "$(api "$URL/api/v1/nodes?labelSelector=node-type%3Dlima&fieldSelector=metadata.name!%3Dlima-k3s-agent" | jq -r '.items | length')" = 3
check "wrong token -> 401 Status (kubectl fails)" bash -c \
  "[ \"\$(curl -sS --cacert '$CA' -H 'Authorization: Bearer wrong' -w '%{http_code}' -o '$TMP/401.json' '$URL/api/v1/nodes')\" = 401 ] && jq -e '.kind==\"Status\" and .reason==\"Unauthorized\" and .code==401' '$TMP/401.json' >/dev/null && ! kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache2' --token wrong get nodes >/dev/null 2>&1"
echo "rotated-$RANDOM" >"$TMP/rotated-tokens"
check "token rotation: a token written to --token-file is accepted at once" bash -c \
  "[ \"\$(curl -sS --cacert '$CA' -H \"Authorization: Bearer \$(cat '$TMP/rotated-tokens')\" -o /dev/null -w '%{http_code}' '$URL/api/v1/nodes')\" = 200 ]"
OLD_ROTATED="$(cat "$TMP/rotated-tokens")"; echo "rotated-next" >"$TMP/rotated-tokens"
check "token rotation: the replaced token now gets 401" \
  test "$(curl -sS --cacert "$CA" -H "Authorization: Bearer $OLD_ROTATED" -o /dev/null -w '%{http_code}' "$URL/api/v1/nodes")" = 401

RV="$(api "$URL/api/v1/nodes" | jq -r .metadata.resourceVersion)"
api -N "$URL/api/v1/nodes?watch=true&resourceVersion=$RV&allowWatchBookmarks=true&timeoutSeconds=3" >"$TMP/bm.out" &
BM_PID=$!
sleep 0.3
admin /nodes/annotate -d '{"name":"lima-k3s-agent","annotations":{"podpath/touch":"1"}}' >/dev/null
START=$(date +%s.%N); wait $BM_PID; END=$(date +%s.%N)
check "watch from the list's rv: one MODIFIED, then BOOKMARKs (interval 1 s)" \
  bash -c "[ \$(jq -r .type '$TMP/bm.out' | grep -c MODIFIED) -eq 1 ] && [ \$(jq -r .type '$TMP/bm.out' | grep -c BOOKMARK) -ge 2 ]"
check "BOOKMARK object carries only kind/apiVersion/metadata.resourceVersion" \
  bash -c "jq -c 'select(.type==\"BOOKMARK\") | .object.metadata | keys' '$TMP/bm.out' | sort -u | grep -qx '\[\"resourceVersion\"\]'"
check "timeoutSeconds=3 ends the stream cleanly after ~3 s" \
  bash -c "awk 'BEGIN{d=$END-$START; exit !(d>2.5 && d<4.5)}'"
admin /history/expire -d '{}' >/dev/null
api -N "$URL/api/v1/nodes?watch=1&resourceVersion=$RV" -o "$TMP/410.out" -w '%{http_code}' >"$TMP/410.code"
check "watch from an expired resourceVersion: HTTP 200 + ERROR event Status 410 Expired" \
  bash -c "[ \$(cat '$TMP/410.code') = 200 ] && jq -e '.type==\"ERROR\" and .object.code==410 and .object.reason==\"Expired\"' '$TMP/410.out' >/dev/null"
check "paged list with an expired continue token -> 410" \
  test "$(api "$URL/api/v1/nodes?limit=2&continue=$TOK" | jq -r .code)" = 410
check "kubectl's two watches are still open (stats openWatches)" \
  test "$(admin /stats | jq -r '.openWatches')" -eq 2

echo "== admin interface: faults and counters"
admin /watches/drop -d '{"mode":"close"}' >/dev/null
sleep 0.5
check "drop watches: kubectl get -w ends (server closed the stream)" bash -c "! kill -0 $WATCH_PID 2>/dev/null"
api -N "$URL/api/v1/nodes?watch=1" -o /dev/null 2>"$TMP/reset.err" &
R_PID=$!; sleep 0.3
admin /watches/drop -d '{"mode":"reset"}' >/dev/null
wait $R_PID
check "drop watches mode=reset: the client sees a connection reset" grep -qi 'reset' "$TMP/reset.err"
admin /fault/down -d '{"seconds":1.5,"mode":"refuse"}' >/dev/null
sleep 0.3
check "fault/down refuse: connection refused" bash -c \
  "curl -sS --cacert '$CA' '$URL/version' 2>'$TMP/dn.err' >/dev/null; [ \$? -eq 7 ] && grep -q 'Connection refused\|Couldn.t connect' '$TMP/dn.err'"
sleep 1.5
check "fault/down: back up afterwards" test "$(api -o /dev/null -w '%{http_code}' "$URL/version")" = 200
admin /fault/down -d '{"seconds":1,"mode":"reset"}' >/dev/null
# The RST may beat curl's connect() check (then curl says "Failed to connect", 7).
check "fault/down reset: connection reset (TLS handshake fails, no refusal)" bash -c \
  "curl -sS --cacert '$CA' '$URL/version' 2>'$TMP/dr.err' >/dev/null; rc=\$?; [ \$rc -eq 35 -o \$rc -eq 56 -o \$rc -eq 7 ] && ! grep -q 'Connection refused' '$TMP/dr.err'"
sleep 1.1
admin /fault/delay -d '{"seconds":1}' >/dev/null
check "fault/delay 1 s: response takes >= 1 s" \
  bash -c "awk -v t=\$(curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' -o /dev/null -w '%{time_total}' '$URL/version') 'BEGIN{exit !(t>=1.0)}'"
admin /fault/clear -X POST >/dev/null
admin /fault/garbage -d '{"count":1,"mode":"json"}' >/dev/null
check "fault/garbage json: 200 with invalid JSON" bash -c "! curl -sS --cacert '$CA' -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/nodes' | jq . >/dev/null 2>&1"
check "fault/garbage: only the given count" test "$(api "$URL/api/v1/nodes" | jq -r .kind)" = NodeList
admin /fault/garbage -d '{"count":1,"mode":"raw"}' >/dev/null
check "fault/garbage raw: not HTTP" bash -c "! curl -sS --cacert '$CA' '$URL/version' >/dev/null 2>&1"
admin /fault/error -d '{"count":1,"code":503}' >/dev/null
check "fault/error 503: Status body with Retry-After" \
  bash -c "curl -sS -i --cacert '$CA' -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/nodes' | grep -qi '^retry-after: 1'"
admin /stats/reset -X POST >/dev/null
k get nodes -o name >/dev/null
check "counters: one list by kubectl's address and User-Agent after a reset" \
  bash -c "curl -sS --unix-socket '$ADMIN_SOCK' http://admin/stats | jq -e '.clients[\"127.0.0.1\"].list==1 and .clients[\"127.0.0.1\"].watch==0 and ([.userAgents[] | .list] | add)==1' >/dev/null"
COUNT_BEFORE="$(admin /stats | jq -r .nodes)"
admin /nodes/add -d '{"count":10}' >/dev/null
admin /nodes/churn -d '{"count":5}' >/dev/null
admin /nodes/remove -d '{"count":3}' >/dev/null
check "admin add 10 / churn 5 / remove 3 -> +7 nodes" test "$(admin /stats | jq -r .nodes)" -eq $((COUNT_BEFORE + 7))
admin /nodes/ready -d '{"name":"lima-k3s-agent","ready":false}' >/dev/null
check "admin ready=false: kubectl shows NotReady/Unknown" bash -c "kubectl --kubeconfig '$KCFG' --cache-dir '$TMP/kube-cache' get node lima-k3s-agent --no-headers | grep -q Unknown"
check "admin: bad input -> 400" test "$(curl -sS --unix-socket "$ADMIN_SOCK" -o /dev/null -w '%{http_code}' http://admin/nodes/annotate -d '{"name":"x"}')" = 400

echo "== clean shutdown"
api -N "$URL/api/v1/nodes?watch=1&resourceVersion=0" -o "$TMP/shut.out" -w '%{http_code}' >"$TMP/shut.code" 2>"$TMP/shut.err" &
S_PID=$!; sleep 0.3
kill -TERM "$SERVER_PID"
for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM: server exits within 5 s" bash -c "! kill -0 $SERVER_PID 2>/dev/null"
wait "$SERVER_PID"; RC=$?
check "SIGTERM: exit status 0" test "$RC" -eq 0
wait $S_PID; S_RC=$?
check "SIGTERM: open watch ended with the terminating chunk (curl exit 0)" test "$S_RC" -eq 0
check "SIGTERM: server.json and admin.sock removed" bash -c "[ ! -e '$TMP/main/server.json' ] && [ ! -e '$ADMIN_SOCK' ]"

echo "== 5,000 synthetic nodes"
start big --nodes field-report --synthetic 5000
T0=$(date +%s.%N)
LINES="$(k get nodes --chunk-size=500 | wc -l)"
T1=$(date +%s.%N)
check "kubectl get nodes --chunk-size=500 | wc -l = 5007 ($(awk "BEGIN{printf \"%.2f\", $T1-$T0}") s)" test "$LINES" -eq 5007
SIZE_TIME="$(api -o /dev/null -w '%{size_download} %{time_total}' "$URL/api/v1/nodes")"
echo "     full list: $(echo "$SIZE_TIME" | awk '{printf "%.1f MB in %.3f s", $1/1e6, $2}')"
check "full JSON list of 5,006 nodes in < 2 s" bash -c "awk -v t=$(echo "$SIZE_TIME" | cut -d' ' -f2) 'BEGIN{exit !(t<2)}'"
check "synthetic nodes span 10.42.0.0/16 and beyond (k3s-node-04999 10.62.141.0/24)" \
  test "$(k get node k3s-node-04999 -o jsonpath='{.spec.podCIDR}')" = 10.62.141.0/24
RV="$(api "$URL/api/v1/nodes?limit=1" | jq -r .metadata.resourceVersion)"
for i in 1 2 3 4; do
  api -N "$URL/api/v1/nodes?watch=1&resourceVersion=$RV&timeoutSeconds=4" -o "$TMP/bw$i.out" &
  PIDS+=($!)
done
sleep 0.5
admin /nodes/churn -d '{"count":500}' >/dev/null
sleep 4
check "4 concurrent watches each got 500 ADDED + 500 DELETED (+ 500 MODIFIED deletion marks)" bash -c "
  for i in 1 2 3 4; do [ \"\$(jq -r .type '$TMP/bw'\$i.out | sort | uniq -c | awk '{printf \"%s%s \", \$2, \$1}')\" = 'ADDED500 DELETED500 MODIFIED500 ' ] || exit 1; done"
RSS_KB="$(awk '/VmRSS/{print $2}' /proc/$SERVER_PID/status)"
echo "     server RSS with 5,006 nodes: $((RSS_KB / 1024)) MB"
check "server RSS < 300 MB" test "$RSS_KB" -lt 307200
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"

echo
if [ "$FAILS" -eq 0 ]; then echo "PASS: all checks"; else echo "FAIL: $FAILS check(s) failed"; fi
[ "$FAILS" -eq 0 ]
