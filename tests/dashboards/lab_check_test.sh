#!/bin/bash
# Proves lab_check.sh on this machine: two fake exporters (fake_exporter.py, the field
# report's nodes) scraped every second by a real Prometheus on loopback that also loads
# alerts/podpath.rules.yml; lab_check.sh must then find data for every panel query of the
# committed dashboards, and must fail, naming the panel, on a query that returns nothing.
# Exit 77 (skip) when the prometheus binary is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed"; exit 77; }

# shellcheck source=../e2e/harness.sh
source "$root/tests/e2e/harness.sh"  # $work, pids (killed on exit), free_port

targets=""
for node in lima-k3s-agent ip-172-26-2-70; do
  port=$(free_port)
  python3 "$here/fake_exporter.py" --listen "127.0.0.1:$port" --node "$node" &
  pids+=($!)
  targets+="'127.0.0.1:$port',"
done

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $root/alerts/podpath.rules.yml
scrape_configs:
  - job_name: podpath
    static_configs:
      - targets: [${targets%,}]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$prom_port"

# Ready when every counter has enough samples for rate() over the 5s interval below.
for _ in $(seq 60); do
  if curl -sf "$url/api/v1/query" --data-urlencode 'query=min(count_over_time(podpath_probe_requests_total[10s])) >= 6' |
    grep -q '"result":\[{'; then
    break
  fi
  sleep 0.5
done

echo "== every panel query of the committed dashboards has data"
"$here/lab_check.sh" --rate-interval 5s --range 1m "$url"

echo "== a panel whose query finds nothing fails the check"
python3 - "$root/dashboards/podpath-node.json" "$work/broken.json" <<'EOF'
import json, sys
dashboard = json.load(open(sys.argv[1]))
panel = next(p for p in dashboard["panels"] if p.get("title") == "Path MTU, probed vs computed")
panel["targets"][0]["expr"] = 'podpath_peer_path_mtu_bytes{source="no-such-source"}'
json.dump(dashboard, open(sys.argv[2], "w"))
EOF
if "$here/lab_check.sh" --rate-interval 5s --range 1m "$url" "$work/broken.json" >"$work/broken.out" 2>&1; then
  cat "$work/broken.out"
  echo "FAIL: lab_check.sh passed a dashboard with an empty panel query"
  exit 1
fi
grep -q "FAIL broken.json: panel 'Path MTU, probed vs computed' query A: no data" "$work/broken.out" || {
  cat "$work/broken.out"
  echo "FAIL: lab_check.sh did not name the empty panel"
  exit 1
}
echo "ok: the empty panel was reported"
