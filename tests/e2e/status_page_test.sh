#!/usr/bin/env bash
# The status page as a person sees it: a headless Chromium (Debian's) loads a home node's
# exporter page in three lab scenarios (field-report-before, public-8472-open, vmnet). The
# test reads the grouped findings, the peer table's colours and the road pictures out of the
# DOM Chromium rendered, and keeps a screenshot of each scenario at desktop and phone widths
# (the whole page, 1280 and 390 pixels wide) in $PODPATH_ARTIFACT_DIR (default
# build/test-artifacts/status-page). Root (the lab); exit 77 = skipped. Env: PODPATH_EXPORTER, PODPATH_LAB_TAILNET (as for tests/lab/lab).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$ROOT/tests/lab/lab
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v chromium >/dev/null || { echo "SKIP: chromium is missing (apt-get install chromium)"; exit 77; }
ARTIFACTS=${PODPATH_ARTIFACT_DIR:-$ROOT/build/test-artifacts/status-page}
mkdir -p "$ARTIFACTS"

# own_lab reads ROOT and LAB.
# shellcheck source=own_lab.sh
source "$HERE/own_lab.sh"
export PODPATH_LAB_SCENARIO=field-report-before
# Exposure checks every 5 s, so public-8472-open shows on the page within the test's wait.
export PODPATH_EXPORTER_ARGS="--prober.exposure-interval=5s"
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

chromium_in_lab() {
  # As root Chromium needs --no-sandbox; the flags keep it from calling out to the network.
  "$LAB" exec "$NODE" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$WORK/chromium" "$@" "http://$ADDR:18472/" 2>/dev/null
}

# The page's DOM as lines: "group|SEVERITY|CODE|PEER, PEER", "row|PEER|ROWCLASS|CELL=CLASS ...",
# "road|PEER|STEP / STEP / ..." (each step "label (detail)[class]").
read_dom() {
  python3 - "$1" <<'EOF'
import sys
from html.parser import HTMLParser

HEAD = ["peer", "group", "carrier", "route", "underlay", "transport", "rtt", "loss", "mtu", "state"]

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.stack = [], []
        self.group = self.row = self.road = self.step = None
        self.text = ""
        self.depth_findings = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "ul" and a.get("id") == "findings": self.depth_findings = 1
        elif tag == "li" and "data-code" in a:
            self.group = [a.get("class", ""), a["data-code"], ""]
        elif tag == "span" and a.get("class") == "peers" and self.group: self.text = ""; self.stack.append("peers")
        elif tag == "tr" and "data-peer" in a: self.row = [a["data-peer"], a.get("class", "-"), []]
        elif tag == "td" and self.row is not None: self.row[2].append(a.get("class", "")); self.stack.append("td")
        elif tag == "div" and a.get("class") == "road": self.road = [a["data-peer"], []]
        elif tag == "span" and self.road is not None and self.step is None:
            self.step = [a.get("class", ""), "", ""]; self.text = ""
        elif tag == "small" and self.step is not None: self.step[1] = self.text; self.text = ""
    def handle_endtag(self, tag):
        if tag == "span" and self.stack and self.stack[-1] == "peers":
            self.stack.pop(); self.group[2] = self.text.strip()
        elif tag == "li" and self.group is not None and not self.stack:
            self.out.append("group|%s|%s|%s" % tuple(self.group)); self.group = None
        elif tag == "td" and self.stack and self.stack[-1] == "td": self.stack.pop()
        elif tag == "tr" and self.row is not None:
            cells = " ".join("%s=%s" % (h, c) for h, c in zip(HEAD, self.row[2]) if c)
            self.out.append("row|%s|%s|%s" % (self.row[0], self.row[1], cells)); self.row = None
        elif tag == "span" and self.step is not None:
            label = self.step[1] if self.step[1] else self.text
            detail = self.text if self.step[1] else ""
            kind = self.step[0]
            self.road[1].append("%s (%s)[%s]" % (label.strip(), detail.strip(), kind)); self.step = None
        elif tag == "div" and self.road is not None:
            self.out.append("road|%s|%s" % (self.road[0], " / ".join(self.road[1]))); self.road = None
    def handle_data(self, data):
        self.text += data

p = Page()
p.feed(open(sys.argv[1]).read())
print("\n".join(p.out))
EOF
}

# load SCENARIO TIMEOUT CONDITION...: polls the page until the DOM lines satisfy CONDITION
# (a command reading them on stdin) or TIMEOUT seconds pass; keeps the last lines in $DOM
# and the screenshots of that state.
load() {
  local scenario=$1 timeout=$2 start
  shift 2
  start=$(date +%s)
  while :; do
    chromium_in_lab --dump-dom >"$WORK/$scenario.html" || true
    DOM=$(read_dom "$WORK/$scenario.html")
    if "$@" <<<"$DOM" || (($(date +%s) - start > timeout)); then break; fi
    sleep 3
  done
  echo "== $scenario"
  echo "  ${DOM//$'\n'/$'\n'  }"
  chromium_in_lab --screenshot="$WORK/desktop.png" --window-size=1280,2000 >/dev/null || true
  chromium_in_lab --screenshot="$WORK/phone.png" --window-size=390,3600 >/dev/null || true
  for width in desktop phone; do
    check "$scenario: $width screenshot kept" test -s "$WORK/$width.png"
    cp "$WORK/$width.png" "$ARTIFACTS/$scenario-$width.png" 2>/dev/null || true
  done
}

count() { grep -c "^$1" <<<"$DOM" || true; }
has() { grep -Eq "$1" <<<"$DOM"; }
lima_peers='lima-k3s-agent-2, lima-k3s-agent-3, lima-k3s-agent-4'

# field-report-before: the 4 causes, once the verdict's window has enough probes to judge
# every peer's RTT.
# (Each peer's RTT is judged once its own probes fill the window: wait for all three.)
four_groups() { [[ $(grep -c "^group|[a-z]*|[a-z-]*|$lima_peers\$" || true) == 4 ]]; }
load field-report-before 40 four_groups
check "4 grouped problems, not 12" test "$(count 'group|[wc]')" = 4
# The cross-site subnet routes this node serves are information, listed once with no peer.
check "pods-ride-tailscale is the one information" has '^group\|info\|pods-ride-tailscale\|$'
check "5 groups in all" test "$(count 'group|')" = 5
for code in route-via-derp double-encapsulation latency-high path-mtu-too-small; do
  check "$code lists the three lima peers once" has "^group\|[a-z]+\|$code\|$lima_peers$"
done
check "route-via-derp is critical" has '^group\|critical\|route-via-derp\|'
check "a road picture for each of the 5 peers" test "$(count 'road|')" = 5
for peer in lima-k3s-agent-2 lima-k3s-agent-3 lima-k3s-agent-4; do
  check "$peer's road: flannel.1, tailscale0, DERP 'tok'" \
    has "^road\|$peer\|lima-k3s-agent \(pod\)\[node\] / flannel.1 \(vxlan · MTU 1450\)\[link\] / tailscale0 \(underlay · MTU 1280\)\[link[^]]*\] / DERP 'tok' \(path MTU 1230\)\[transport critical\] / $peer \(sapporo\)\[peer critical\]$"
  check "$peer's row: critical, DERP cell red, RTT and MTU amber" \
    has "^row\|$peer\|critical\|.*transport=critical rtt=warning .*mtu=warning"
done
check "ip-172-26-2-70's road: tailscale0 in table 52, direct, no colour" \
  has "^road\|ip-172-26-2-70\|lima-k3s-agent \(pod\)\[node\] / tailscale0 \(tailscale-subnet-route · MTU 1280\)\[link\] / Tailscale, direct \(path MTU 1280\)\[transport\] / ip-172-26-2-70 \(tokyo\)\[peer\]$"
check "ip-172-26-2-70's row: nothing marked" has '^row\|ip-172-26-2-70\|-\|$'

# public-8472-open: one cause, the two servers whose VXLAN port answers on a public address.
"$LAB" scenario public-8472-open >/dev/null
exposed() { grep -q '^group|critical|vxlan-public-exposed|ip-172-26-2-70, ip-172-26-3-146$'; }
load public-8472-open 60 exposed
check "vxlan-public-exposed is one entry naming both servers" \
  has '^group\|critical\|vxlan-public-exposed\|ip-172-26-2-70, ip-172-26-3-146$'
check "the servers' peer cells are red" has '^row\|ip-172-26-3-146\|critical\|peer=critical'
"$LAB" scenario public-8472-closed >/dev/null

# vmnet: the VMs' road moves to lima0 and nothing is wrong any more (the verdict's window
# forgets the DERP RTTs within 30 s).
"$LAB" scenario vmnet >/dev/null
# (pods-ride-tailscale stays: information, the cross-site subnet routes, not a problem.)
no_findings() { ! grep -q '^group|[wc]'; }
load vmnet 90 no_findings
check "no problems" test "$(count 'group|[wc]')" = 0
check "lima-k3s-agent-2's road: flannel.1 over lima0, on the LAN" \
  has "^road\|lima-k3s-agent-2\|lima-k3s-agent \(pod\)\[node\] / flannel.1 \(vxlan · MTU 1450\)\[link\] / lima0 \(underlay[^)]*\)\[link\] / LAN \(path MTU [0-9]+\)\[transport\] / lima-k3s-agent-2 \(sapporo\)\[peer\]$"
check "no row marked" test "$(grep -c '^row|[^|]*|\(warning\|critical\)|' <<<"$DOM" || true)" = 0

echo "screenshots: $ARTIFACTS"
echo "status page: $passed passed, $failed failed"
[[ $failed == 0 ]]
