#!/usr/bin/env bash
# End to end: the prober's RTT histogram as a native histogram in a real Prometheus (2.42,
# --enable-feature=native-histograms), scraped over the delimited protobuf exposition.
#
# Two network namespaces of the test's own joined by a veth pair. In the far one the kernel's
# echo replies are off and a small responder answers each echo request after 1 ms +- 0.2 ms
# (normal; netem would do it, but this kernel has no sch_netem), so the median RTT lies inside
# a classic bucket (0.8-1.6 ms) rather than at the bottom of the first. In the near namespace (its own loopback): the
# exporter probing the far address, Prometheus "native" with the feature flag (asks for
# protobuf) and Prometheus "classic" without it (asks for text, keeps the _bucket series),
# both scraping every second. After ~20 s:
#   (a) native: histogram_count() of the series without _bucket returns data;
#   (b) histogram_quantile(0.5, ...) of the native series agrees with the classic one within
#       the classic buckets' resolution (the width of the classic bucket holding the classic
#       estimate, plus one native bucket: both estimates lie in a bucket that holds the true
#       median, so they can be at most that far apart);
# and reports what the native Prometheus stores of the classic series, and the bytes of a
# scrape in each format. Needs root (namespaces, raw ICMP); exit 77 when prometheus is
# missing.
# Usage: native_histograms_e2e.sh PATH/TO/podpath-exporter
set -euo pipefail
exporter=${1:?usage: $0 PATH/TO/podpath-exporter}
command -v prometheus >/dev/null || { echo "SKIP: prometheus is missing (apt-get install prometheus)"; exit 77; }
for tool in curl jq ip python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (network namespaces, raw ICMP)"; exit 1; }
# shellcheck source=harness.sh
source "$(dirname "$0")/harness.sh"

near=pnh$$n
far=pnh$$f
down() {
  ip netns del "$near" 2>/dev/null || true
  ip netns del "$far" 2>/dev/null || true
  cleanup
}
trap down EXIT
ip netns add "$near"
ip netns add "$far"
in_near() { ip netns exec "$near" "$@"; }
ip link add vnear netns "$near" type veth peer name vfar netns "$far"
in_near ip link set lo up
in_near ip addr add 10.99.0.1/30 dev vnear
in_near ip link set vnear up
ip netns exec "$far" ip link set lo up
ip netns exec "$far" ip addr add 10.99.0.2/30 dev vfar
ip netns exec "$far" ip link set vfar up
ip netns exec "$far" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
cat >"$work/responder.py" <<'PY'
"""Answers ICMP echo requests after a delay drawn from normal(1 ms, 0.2 ms), seeded."""
import random
import socket
import struct
import time

random.seed(7)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)


def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


while True:
    packet, (source, _) = s.recvfrom(65535)
    icmp = packet[(packet[0] & 0x0F) * 4:]
    if len(icmp) < 8 or icmp[0] != 8:
        continue
    reply = b"\0\0\0\0" + icmp[4:]
    reply = reply[:2] + struct.pack("!H", checksum(reply)) + reply[4:]
    time.sleep(max(0.0, random.gauss(0.001, 0.0002)))
    s.sendto(reply, (source, 0))
PY
ip netns exec "$far" python3 "$work/responder.py" &
pids+=("$!")

# The exporter: the prober alone, on the far address, ten probes a second.
echo "far overlay 10.99.0.2" >"$work/targets"
others=$("$exporter" --help | grep -o -- '--collector\.[a-z_-]*,' | tr -d , | sed 's/--collector\.//' |
  sort -u | grep -vx prober || true)
no_others=()
for c in $others; do no_others+=("--no-collector.$c"); done
# (ip netns exec, not in_near: a function in the background is a subshell, and killing its pid
# at the end would leave the exporter running)
ip netns exec "$near" "$exporter" --web.listen-address=127.0.0.1:9100 --node-name=near \
  --prober.static-targets="$work/targets" --prober.interval=100ms --prober.pmtu-interval=0 \
  --no-prober.exposure "${no_others[@]}" >"$work/exporter.log" 2>&1 &
pids+=("$!")
url=http://127.0.0.1:9100/metrics
for _ in $(seq 1 50); do in_near curl -fsS -o /dev/null "$url" 2>/dev/null && break; sleep 0.1; done

# Two Prometheus servers, the same scrape config, only the feature flag differs.
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: podpath
    static_configs:
      - targets: ['127.0.0.1:9100']
YAML
ip netns exec "$near" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/native" \
  --web.listen-address=127.0.0.1:9090 --enable-feature=native-histograms \
  >"$work/native.log" 2>&1 &
pids+=("$!")
ip netns exec "$near" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/classic" \
  --web.listen-address=127.0.0.1:9091 >"$work/classic.log" 2>&1 &
pids+=("$!")

# query PORT PROMQL TIME: the first result's value, or empty.
query() {
  in_near curl -fsS "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" \
    --data-urlencode "time=$3" 2>/dev/null | jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}
# series PORT SELECTOR: how many series match now.
series() {
  in_near curl -fsS "http://127.0.0.1:$1/api/v1/series" --data-urlencode "match[]=$2" 2>/dev/null |
    jq -r '.data | length' 2>/dev/null || echo 0
}

# The bytes of one scrape in each format, plain and gzip, while Prometheus warms up.
accept_pb='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited'
sleep 3
bytes() { in_near curl -fsS "$@" -o /dev/null -w '%{size_download}' "$url"; }
text_plain=$(bytes)
text_gzip=$(bytes -H 'Accept-Encoding: gzip')
pb_plain=$(bytes -H "Accept: $accept_pb")
pb_gzip=$(bytes -H "Accept: $accept_pb" -H 'Accept-Encoding: gzip')
pb_type=$(in_near curl -fsS -H "Accept: $accept_pb" -o /dev/null -w '%{content_type}' "$url")
echo "scrape bytes: text $text_plain (gzip $text_gzip), protobuf $pb_plain (gzip $pb_gzip)"
check "protobuf served to the native-histogram Accept ($pb_type)" \
  test "$pb_type" = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

sleep 18
now=$(date +%s)
up_native=$(query 9090 'up{job="podpath"}' "$now")
up_classic=$(query 9091 'up{job="podpath"}' "$now")
check "both Prometheus servers scrape the exporter (up: native $up_native, classic $up_classic)" \
  test "$up_native" = 1 -a "$up_classic" = 1
check "the prober got replies (responses: $(query 9091 'sum(podpath_probe_responses_total)' "$now"))" \
  test "$(query 9091 'sum(podpath_probe_responses_total) > 50' "$now")" != ""

# (a) The native histogram is stored as one: histogram_count() works on the bare name.
native_count=$(query 9090 'sum(histogram_count(podpath_probe_rtt_seconds))' "$now")
check "(a) native: histogram_count(podpath_probe_rtt_seconds) = ${native_count:-nothing}" \
  python3 -c "import sys; sys.exit(0 if float('${native_count:-0}') > 0 else 1)"
classic_count=$(query 9091 'sum(podpath_probe_rtt_seconds_count)' "$now")
echo "classic Prometheus: podpath_probe_rtt_seconds_count = ${classic_count:-nothing}"

# What the native Prometheus keeps of the classic series.
echo "native Prometheus stores: $(series 9090 'podpath_probe_rtt_seconds') series podpath_probe_rtt_seconds," \
  "$(series 9090 'podpath_probe_rtt_seconds_bucket') _bucket, $(series 9090 'podpath_probe_rtt_seconds_count') _count," \
  "$(series 9090 'podpath_probe_rtt_seconds_sum') _sum"
echo "classic Prometheus stores: $(series 9091 'podpath_probe_rtt_seconds_bucket') _bucket series"

# (b) The medians over the last 15 s agree within the classic resolution.
native_q=$(query 9090 'histogram_quantile(0.5, sum(rate(podpath_probe_rtt_seconds[15s])))' "$now")
classic_q=$(query 9091 'histogram_quantile(0.5, sum by (le) (rate(podpath_probe_rtt_seconds_bucket[15s])))' "$now")
bounds=$(in_near curl -fsS "$url" | grep '^podpath_probe_rtt_seconds_bucket' | sed -E 's/.*le="([^"]+)".*/\1/' | sort -gu | tr '\n' ' ')
verdict=$(python3 - "$native_q" "$classic_q" "$bounds" <<'PY'
import sys
native, classic = float(sys.argv[1] or "nan"), float(sys.argv[2] or "nan")
bounds = [float(b) for b in sys.argv[3].split() if b != "+Inf"]
upper = min(b for b in bounds if b >= classic)
lower = max([0.0] + [b for b in bounds if b < classic])
# Both estimates lie in a bucket holding the true median: the classic one in (lower, upper],
# the native one in a schema-3 bucket, 2^(1/8) - 1 = 9.05 % of its upper bound wide.
tolerance = (upper - lower) + native * (2 ** 0.125 - 1)
ok = abs(native - classic) <= tolerance
print(f"{'ok' if ok else 'bad'} native {native * 1e3:.4f} ms, classic {classic * 1e3:.4f} ms,"
      f" |diff| {abs(native - classic) * 1e3:.4f} ms <= tolerance {tolerance * 1e3:.4f} ms"
      f" (classic bucket ({lower * 1e3:g}, {upper * 1e3:g}] ms + one native bucket)")
PY
) || verdict="bad: no numbers (native '$native_q', classic '$classic_q')"
echo "$verdict"
check "(b) medians agree within the classic resolution" test "${verdict%% *}" = ok

# (c) A recording rule that takes either form records the median on both kinds of server.
either='histogram_quantile(0.5, rate(podpath_probe_rtt_seconds_bucket[15s])) or histogram_quantile(0.5, rate(podpath_probe_rtt_seconds[15s]))'
either_native=$(query 9090 "$either" "$now")
either_classic=$(query 9091 "$either" "$now")
check "(c) the _bucket-or-native median answers on both (native ${either_native:-nothing}, classic ${either_classic:-nothing})" \
  test -n "$either_native" -a -n "$either_classic"

echo "passed $passed, failed $failed"
[ "$failed" = 0 ] || { tail -5 "$work/exporter.log" "$work/native.log"; exit 1; }
