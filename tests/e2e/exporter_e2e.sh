#!/usr/bin/env bash
# End to end: the real binary on a free loopback port, its /metrics through Prometheus'
# own parser (promtool check metrics), and a real Prometheus scraping it until up == 1.
# Also the start-up errors a user meets first: bad flags and a taken port.
# Usage: exporter_e2e.sh PATH/TO/podpath-exporter
set -euo pipefail
exporter=${1:?usage: $0 PATH/TO/podpath-exporter}
for tool in promtool prometheus curl jq; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (apt-get install prometheus curl jq)"; exit 1; }
done
# shellcheck source=harness.sh
source "$(dirname "$0")/harness.sh"

# Start the exporter on port 0 and read the port it got from its start-up log line.
"$exporter" --web.listen-address=127.0.0.1:0 --node-name=e2e-node \
  >"$work/exporter.log" 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
url=""
for _ in $(seq 1 50); do
  url=$(grep -o 'metrics=http://[^ ]*' "$work/exporter.log" | head -1 | cut -d= -f2 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "FAIL: exporter did not start:"; cat "$work/exporter.log"; exit 1; }
port=$(echo "$url" | sed -E 's#http://[^:]+:([0-9]+)/.*#\1#')
echo "exporter at $url"

curl -fsS "$url" >"$work/metrics.txt"
check "promtool check metrics finds nothing wrong" promtool check metrics <"$work/metrics.txt"
check "build info present" grep -q '^podpath_build_info{revision=' "$work/metrics.txt"
check "node info names the node" grep -q 'podpath_node_info{group="",node="e2e-node"} 1' "$work/metrics.txt"
check "process metrics present" grep -q '^process_resident_memory_bytes ' "$work/metrics.txt"
curl -fsS -H 'Accept: application/openmetrics-text; version=1.0.0' "$url" >"$work/metrics.om"
check "OpenMetrics ends with # EOF" test "$(tail -1 "$work/metrics.om")" = "# EOF"
check "gzip served when asked" bash -c "curl -fsS -H 'Accept-Encoding: gzip' '$url' | gzip -dc | grep -q podpath_build_info"
check "/-/healthy" curl -fsS -o /dev/null "http://127.0.0.1:$port/-/healthy"
check "/-/ready" curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready"
undocumented=$(grep '^# TYPE ' "$work/metrics.txt" | awk '{print $3}' |
  while read -r family; do grep -q "\`$family\`" "$(dirname "$0")/../../docs/metrics.md" || echo "$family"; done)
check "every exported family is listed in docs/metrics.md${undocumented:+ (missing: $undocumented)}" test -z "$undocumented"
check "landing page links to metrics" bash -c "curl -fsS 'http://127.0.0.1:$port/' | grep -q 'href=\"/metrics\"'"

# A real Prometheus (loopback only, temporary data directory) scrapes it.
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: podpath
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=("$!")
up=""
for _ in $(seq 1 60); do
  up=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/query?query=up%7Bjob%3D%22podpath%22%7D" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true)
  [ "$up" = "1" ] && break
  sleep 0.5
done
check "Prometheus scrapes it: up == 1" test "$up" = "1"
samples=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/query?query=scrape_samples_scraped%7Bjob%3D%22podpath%22%7D" |
  jq -r '.data.result[0].value[1] // 0')
check "Prometheus ingested samples ($samples)" test "$samples" -gt 10
collectors=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/query?query=min(podpath_collector_success)" |
  jq -r '.data.result[0].value[1] // empty')
check "every collector succeeded as seen by Prometheus" test "$collectors" = "1"

# Start-up errors: one line naming the problem and the fix, non-zero exit.
set +e
"$exporter" --no-such-flag >"$work/bad.out" 2>&1; bad_rc=$?
"$exporter" --web.listen-address="127.0.0.1:$port" >"$work/busy.out" 2>&1; busy_rc=$?
"$exporter" --log.level=loud >"$work/level.out" 2>&1; level_rc=$?
set -e
check "unknown flag exits 2" test "$bad_rc" = 2
check "unknown flag: one line naming it" bash -c "test \$(wc -l <'$work/bad.out') = 1 && grep -q -- '--no-such-flag' '$work/bad.out'"
check "bad log level exits 2 naming the choices" bash -c "test $level_rc = 2 && grep -q 'debug,info,warn,error' '$work/level.out'"
check "busy port exits 1" test "$busy_rc" = 1
check "busy port: one line naming the port and the fix" bash -c "test \$(wc -l <'$work/busy.out') = 1 && grep -q 'already in use' '$work/busy.out' && grep -q -- '--web.listen-address' '$work/busy.out'"

kill -TERM "$exporter_pid"
set +e; wait "$exporter_pid"; term_rc=$?; set -e
check "SIGTERM shuts down cleanly (exit 0)" test "$term_rc" = 0
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
