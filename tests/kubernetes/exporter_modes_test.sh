#!/bin/bash
# podpath-exporter's cluster view, end to end with the real binary:
#   - no --kubeconfig and not in a pod: logs "not applicable" once and runs kernel-only;
#   - a broken --kubeconfig: exits 2 naming the flag;
#   - in-cluster ($KUBERNETES_SERVICE_HOST/PORT + service-account dir) against the lab's
#     fake API server: nodes, this node's group and flannel annotations on /metrics;
#   - a kubeconfig with the wrong CA: collector fails with a clear TLS message.
# Usage: exporter_modes_test.sh PODPATH_EXPORTER. Exit 77 = skipped (reason printed).
set -u
EXPORTER=${1:?usage: $0 path/to/podpath-exporter}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APISERVER=$ROOT/tests/lab/apiserver/fake-apiserver
[ -x "$APISERVER" ] || { echo "SKIP: $APISERVER missing"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

WORK=$(mktemp -d /tmp/podpath-k8s-modes-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

OFF=(--no-collector.netlink --no-collector.flannel --no-collector.tailscale --no-collector.prober)

# Starts the exporter with the given args (env via `env` prefix), sets URL.
start_exporter() {
  local log=$1; shift
  "$@" --web.listen-address 127.0.0.1:0 "${OFF[@]}" >"$log" 2>&1 &
  PIDS+=($!)
  URL=
  for _ in $(seq 200); do
    URL=$(grep -o 'metrics=http://[^ ]*' "$log" | head -1 | cut -d= -f2)
    [ -n "$URL" ] && return 0
    sleep 0.05
  done
  fail "exporter did not start ($log)"
}

# Waits until /metrics matches the regex.
wait_metrics() {
  for _ in $(seq 100); do
    curl -sf "$URL" | grep -Eq "$1" && return 0
    sleep 0.05
  done
  curl -s "$URL" | grep -E 'podpath_(kubernetes|collector_success|node_info|flannel)' >&2
  fail "metrics never matched: $1"
}

# 1. Not applicable.
start_exporter "$WORK/none.log" env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
  "$EXPORTER" --node-name lima-k3s-agent
curl -sf "$URL" >"$WORK/none.prom" || fail "no /metrics in kernel-only mode"
grep -q 'cluster view not applicable.*--kubeconfig' "$WORK/none.log" || fail "no not-applicable log"
[ "$(grep -c 'cluster view not applicable' "$WORK/none.log")" = 1 ] || fail "logged more than once"
! grep -q 'podpath_kubernetes_\|collector="kubernetes"' "$WORK/none.prom" ||
  fail "kernel-only mode exports kubernetes series"
echo "ok - not applicable without --kubeconfig or a pod"

# 2. Broken --kubeconfig exits 2 naming the flag.
printf 'apiVersion: v1\nkind: Config\n' >"$WORK/empty.kubeconfig"
"$EXPORTER" --kubeconfig "$WORK/empty.kubeconfig" "${OFF[@]}" >"$WORK/broken.log" 2>&1
code=$?
[ $code = 2 ] || fail "broken kubeconfig exited $code, want 2"
grep -q -- '--kubeconfig: .*no current-context' "$WORK/broken.log" || fail "message does not name the flag"
"$EXPORTER" --kubeconfig "$WORK/missing.kubeconfig" "${OFF[@]}" >"$WORK/missing.log" 2>&1
code=$?
if [ $code != 2 ] || ! grep -q -- '--kubeconfig: cannot read' "$WORK/missing.log"; then
  fail "missing kubeconfig"
fi
echo "ok - broken --kubeconfig exits 2"

# 3. In-cluster against the fake API server.
"$APISERVER" --state-dir "$WORK/api" --listen 127.0.0.1:0 >"$WORK/api.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -f "$WORK/api/server.json" ] && break; sleep 0.05; done
[ -f "$WORK/api/server.json" ] || fail "fake API server did not start"
PORT=$(grep -o '"port": [0-9]*' "$WORK/api/server.json" | grep -o '[0-9]*$')
mkdir -p "$WORK/sa"
cp "$WORK/api/ca.crt" "$WORK/api/token" "$WORK/sa/"
start_exporter "$WORK/incluster.log" env KUBERNETES_SERVICE_HOST=127.0.0.1 \
  KUBERNETES_SERVICE_PORT="$PORT" "$EXPORTER" --node-name lima-k3s-agent \
  --kubernetes.service-account-dir "$WORK/sa"
wait_metrics '^podpath_kubernetes_nodes 6$'
wait_metrics '^podpath_node_info\{group="sapporo",node="lima-k3s-agent"\} 1$'
# No tailscaled runs here, so nothing lists 100.84.0.1 as a tailnet address: a 100.64.0.0/10
# address is then a CGNAT provider's (model::classify).
wait_metrics '^podpath_flannel_annotation_info\{backend_type="vxlan",family="ipv4",public_ip="100.84.0.1",public_ip_overwrite="",public_ip_scope="cgnat",vni="1",vtep_mac="[0-9a-f:]{17}"\} 1$'
wait_metrics '^podpath_collector_success\{collector="kubernetes"\} 1$'
grep -q 'source="in-cluster service account' "$WORK/incluster.log" || fail "not in-cluster"
echo "ok - in-cluster service account"

# 4. Wrong CA: a clear TLS error, collector failing, no crash.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=not-the-cluster-ca -keyout "$WORK/other.key" -out "$WORK/other.crt" 2>/dev/null ||
  fail "openssl"
sed "s|certificate-authority-data: .*|certificate-authority-data: $(base64 -w0 "$WORK/other.crt")|" \
  "$WORK/api/kubeconfig" >"$WORK/wrong-ca.kubeconfig"
start_exporter "$WORK/wrongca.log" "$EXPORTER" --node-name lima-k3s-agent \
  --kubeconfig "$WORK/wrong-ca.kubeconfig"
wait_metrics '^podpath_collector_success\{collector="kubernetes"\} 0$'
wait_metrics '^podpath_kubernetes_api_errors_total\{reason="tls"\} [1-9]'
for _ in $(seq 100); do grep -q 'TLS: the certificate of https://127.0.0.1' "$WORK/wrongca.log" && break; sleep 0.05; done
grep -q 'TLS: the certificate of https://127.0.0.1:[0-9]* is not trusted by the CA from kubeconfig' \
  "$WORK/wrongca.log" || fail "TLS error not clear"
echo "ok - wrong CA reported as TLS"
