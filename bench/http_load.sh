#!/usr/bin/env bash
# Load on /metrics: wrk with 64 connections for a minute against the real exporter, plain
# HTTP and then HTTPS with basic auth (bcrypt cost 10, so the verification cache matters).
# Prints requests/s, latency percentiles, errors, and the exporter's resident memory and
# open descriptors before and after.
# Usage: bench/http_load.sh PATH/TO/podpath-exporter [SECONDS=60] [CONNECTIONS=64] [THREADS=4]
# MODES="http https slowloris" (the default: all three) picks the runs; slowloris times ten
# scrapes while 200 connections trickle their headers.
set -euo pipefail
exporter=${1:?usage: $0 PATH/TO/podpath-exporter [SECONDS] [CONNECTIONS] [THREADS]}
seconds=${2:-60}
connections=${3:-64}
threads=${4:-4}
modes=${MODES:-http https slowloris}
for tool in wrk openssl mkpasswd curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install-deps)"; exit 1; }
done
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# wrk output -> one line per figure.
summarise() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +75%/ {p75=$2} /^ +90%/ {p90=$2} /^ +99%/ {p99=$2}
    /requests in/ {total=$1}
    /Socket errors/ {sock=$0; sub(/^ +Socket errors: /, "", sock)}
    /Non-2xx or 3xx responses/ {non2xx=$NF}
    /Latency +[0-9]/ {max=$4}
    END {
      printf "  requests:      %s (%s/s)\n", total, rps
      printf "  latency:       p50 %s  p75 %s  p90 %s  p99 %s  max %s\n", p50, p75, p90, p99, max
      printf "  errors:        non-2xx %s; socket: %s\n", (non2xx == "" ? 0 : non2xx), (sock == "" ? "none" : sock)
    }' "$1"
}

run() {  # run MODE
  local mode=$1 scheme=http args=() auth=()
  if [ "$mode" = https ]; then
    scheme=https
    (cd "$work" &&
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
        -out server.crt -days 1 -subj /CN=bench -addext subjectAltName=IP:127.0.0.1 2>/dev/null)
    printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  bench: %s\n' \
      "$(mkpasswd -m bcrypt -R 10 bench-pass)" >"$work/web.yml"
    args=(--web.config.file="$work/web.yml")
    auth=(-H "Authorization: Basic $(printf bench:bench-pass | base64)")
  fi
  "$exporter" --web.listen-address=127.0.0.1:0 --node-name=bench "${args[@]}" >"$work/$mode.log" 2>&1 &
  pid=$!
  local url=""
  for _ in $(seq 1 50); do
    url=$(grep -o "metrics=$scheme://[^ ]*" "$work/$mode.log" | head -1 | cut -d= -f2 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "exporter did not start:"; cat "$work/$mode.log"; exit 1; }
  for _ in 1 2 3; do curl -fsSk "${auth[@]}" "$url" -o /dev/null; done  # warm up
  sleep 1
  local rss0 fd0
  rss0=$(rss_kib "$pid")
  fd0=$(fds "$pid")
  # RSS every tenth of the run: flat means it stops growing once every connection and
  # thread has its buffers.
  (for _ in $(seq 1 10); do sleep "$(awk "BEGIN { print $seconds / 10 }")"; rss_kib "$pid"; done) \
    >"$work/$mode.rss" 2>/dev/null &
  local sampler=$!
  wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "${auth[@]}" "$url" >"$work/$mode.wrk"
  wait "$sampler" 2>/dev/null || true
  sleep 1
  local rss1 fd1 hwm
  rss1=$(rss_kib "$pid")
  fd1=$(fds "$pid")
  hwm=$(hwm_kib "$pid")
  echo "$mode: wrk -t$threads -c$connections -d${seconds}s $url$([ "$mode" = https ] && echo ' (basic auth, bcrypt cost 10)')"
  summarise "$work/$mode.wrk"
  echo "  exporter RSS:  ${rss0} KiB before, ${rss1} KiB after (peak ${hwm} KiB)"
  echo "  RSS during:    $(tr '\n' ' ' <"$work/$mode.rss")KiB (every $((seconds / 10)) s)"
  echo "  open fds:      ${fd0} before, ${fd1} after"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

# 200 connections trickling headers a byte every 50 ms while curl times ten scrapes.
slowloris() {
  "$exporter" --web.listen-address=127.0.0.1:0 --node-name=bench >"$work/slow.log" 2>&1 &
  pid=$!
  local url=""
  for _ in $(seq 1 50); do
    url=$(grep -o 'metrics=http://[^ ]*' "$work/slow.log" | head -1 | cut -d= -f2 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  local port=${url##*:}
  port=${port%%/*}
  python3 - "$port" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(200)]
head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-a: " + b"a" * 10000
end = time.time() + 8
i = 0
while time.time() < end:
    for s in socks:
        try:
            s.send(head[i:i + 1])
        except OSError:
            pass
    i += 1
    time.sleep(0.05)
PY
  local loris=$!
  sleep 1
  local times=()
  for _ in $(seq 1 10); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$url")")
    sleep 0.3
  done
  wait "$loris" 2>/dev/null || true
  echo "slowloris: 200 connections trickling 1 byte/50 ms; 10 scrapes of $url"
  echo "  scrape seconds: ${times[*]}"
  echo "  slowest:        $(printf '%s\n' "${times[@]}" | sort -g | tail -1) s"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $modes; do
  if [ "$mode" = slowloris ]; then slowloris; else run "$mode"; fi
done
