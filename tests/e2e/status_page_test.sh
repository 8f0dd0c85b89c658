#!/usr/bin/env bash
# The status page as a person sees it: a headless Chromium (Debian's) loads a home node's
# exporter page in the lab's field-report-before state and the test reads the peer table and
# the findings out of the DOM Chromium rendered. Root (the lab); exit 77 = skipped.
# Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET (as for tests/lab/lab).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/tests/lab/lab
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v chromium >/dev/null || { echo "SKIP: chromium is missing (apt-get install chromium)"; exit 77; }

# own_lab reads ROOT and LAB.
# shellcheck source=own_lab.sh
source "$HERE/own_lab.sh"
export PODPATH_LAB_SCENARIO=field-report-before
own_lab ppsp- statuspage

NODE=lima-k3s-agent
ADDR=$(jq -r --arg n "$NODE" '.nodes | to_entries[] | select(.value.name == $n) |
  "192.0.2.\(10 + .key)"' "$PODPATH_LAB_TOPOLOGY")
passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

# Enough probes for the verdict's 30 s window to judge RTT (at least five per target).
sleep 12
dump() {
  # As root Chromium needs --no-sandbox; the flags keep it from calling out to the network.
  "$LAB" exec "$NODE" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/chromium" --dump-dom "http://$ADDR:18472/" 2>/dev/null
}
dump >"$WORK/page.html" || true
# One line per table row: the cells of <tbody> rows, separated by '|'.
rows=$(python3 - "$WORK/page.html" <<'EOF'
import sys
from html.parser import HTMLParser

class Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_peers = self.in_body = self.in_cell = False
        self.rows, self.row, self.cell = [], [], ""
        self.findings, self.in_li, self.li = [], False, ""
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "peers": self.in_peers = True
        elif tag == "tbody" and self.in_peers: self.in_body = True
        elif tag == "tr" and self.in_body: self.row = []
        elif tag == "td" and self.in_body: self.in_cell, self.cell = True, ""
        elif tag == "li" and attrs.get("class") in ("critical", "warning", "info"):
            self.in_li, self.li = True, attrs["class"] + " "
    def handle_endtag(self, tag):
        if tag == "td" and self.in_cell: self.in_cell = False; self.row.append(self.cell.strip())
        elif tag == "tr" and self.in_body: self.rows.append(self.row)
        elif tag == "tbody": self.in_body = False
        elif tag == "table": self.in_peers = False
        elif tag == "li" and self.in_li: self.in_li = False; self.findings.append(self.li)
    def handle_data(self, data):
        if self.in_cell: self.cell += data
        if self.in_li: self.li += data

p = Rows()
p.feed(open(sys.argv[1]).read())
for r in p.rows: print("row|" + "|".join(r))
for f in p.findings: print("finding|" + " ".join(f.split()))
EOF
)
echo "  ${rows//$'\n'/$'\n'  }" # every line indented
check "Chromium rendered the status page" grep -q '<table id="peers">' "$WORK/page.html"
check "the peer table has the five peers" test "$(grep -c '^row|' <<<"$rows")" = 5
check "lima-k3s-agent-2: vxlan over tailscale0, relayed by DERP 'tok'" \
  grep -q '^row|lima-k3s-agent-2|sapporo|vxlan|flannel.1 (main)|tailscale0|tailscale-derp tok|' <<<"$rows"
check "ip-172-26-2-70: Tailscale subnet route in table 52, direct" \
  grep -q '^row|ip-172-26-2-70|tokyo|tailscale-subnet-route|tailscale0 (52)||tailscale-direct|' <<<"$rows"
check "lima-k3s-agent-2's RTT reads ~100 ms" \
  grep -Eq '^row\|lima-k3s-agent-2\|([^|]*\|){5}(9[0-9]|10[0-9]|110) ms\|' <<<"$rows"
check "findings: route via DERP is critical" grep -q '^finding|critical critical route-via-derp (lima-k3s-agent-2)' <<<"$rows"
check "findings: path MTU 1230 < 1450" grep -q 'flannel.1 MTU 1450 exceeds the path MTU 1230' <<<"$rows"
echo "status page: $passed passed, $failed failed"
[[ $failed == 0 ]]
