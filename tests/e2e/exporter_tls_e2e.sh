#!/usr/bin/env bash
# End to end over TLS: the real binary with --web.config.file (a CA and certificates made
# here with openssl, a bcrypt password made with mkpasswd), checked with curl (HTTPS, TLS
# versions, client certificates, right/wrong/missing passwords, headers), then a real
# Prometheus scraping it over HTTPS with basic auth and a client certificate, across a live
# reload to mutual TLS with TLS 1.3 only, and a broken reload that must change nothing.
# Usage: exporter_tls_e2e.sh PATH/TO/podpath-exporter
set -euo pipefail
exporter=${1:?usage: $0 PATH/TO/podpath-exporter}
for tool in openssl mkpasswd prometheus promtool curl jq; do
  command -v "$tool" >/dev/null || {
    echo "FAIL: $tool is missing (scripts/install-deps: openssl whois prometheus curl jq)"
    exit 1
  }
done
# shellcheck source=harness.sh
source "$(dirname "$0")/harness.sh"

# --- a CA, a server certificate for 127.0.0.1, a client certificate, a stranger ---------
cd "$work"
key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
key -x509 -keyout ca.key -out ca.crt -days 2 -subj "/CN=e2e CA"
sign() {  # sign NAME SUBJECT EXTENSIONS
  key -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%b' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
    -days 2 -extfile "$1.ext" 2>/dev/null
}
sign server /CN=podpath 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
sign client /CN=prometheus 'subjectAltName=DNS:prometheus\nextendedKeyUsage=clientAuth\n'
key -x509 -keyout stranger.key -out stranger.crt -days 2 -subj /CN=stranger
password='e2e-scrape-pass'
hash=$(mkpasswd -m bcrypt -R 10 "$password")
cat >web.yml <<YAML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
basic_auth_users:
  prometheus: $hash
YAML

# --- start-up: a broken config is one line naming the flag, exit 2 ---------------------
printf 'tls_server_config:\n  cert_file: server.crt\n' >broken.yml
set +e
"$exporter" --web.listen-address=127.0.0.1:0 --web.config.file="$work/broken.yml" >bad.out 2>&1
bad_rc=$?
set -e
check "broken web config exits 2" test "$bad_rc" = 2
check "broken web config: one line naming the flag and the field" bash -c \
  "test \$(wc -l <bad.out) = 1 && grep -q -- '--web.config.file .*broken.yml: tls_server_config: missing one of key or key_file' bad.out"

"$exporter" --web.listen-address=127.0.0.1:0 --node-name=e2e-tls \
  --web.config.file="$work/web.yml" --web.config.reload-interval=0.5 >exporter.log 2>&1 &
exporter_pid=$!
pids+=("$exporter_pid")
url=""
for _ in $(seq 1 50); do
  url=$(grep -o 'metrics=https://[^ ]*' exporter.log | head -1 | cut -d= -f2 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "FAIL: exporter did not start with https:"; cat exporter.log; exit 1; }
port=$(echo "$url" | sed -E 's#https://[^:]+:([0-9]+)/.*#\1#')
base="https://127.0.0.1:$port"
echo "exporter at $url"

status() {  # status CURL-ARGS... -> HTTP status, 000 when TLS/connection failed
  curl -s -o /dev/null -w '%{http_code}' --cacert ca.crt --max-time 5 "$@" || true
}
check "right password: 200" test "$(status -u "prometheus:$password" "$url")" = 200
check "wrong password: 401" test "$(status -u prometheus:wrong "$url")" = 401
check "no password: 401" test "$(status "$url")" = 401
check "unknown user: 401" test "$(status -u "mallory:$password" "$url")" = 401
check "/-/healthy is protected too (as in exporter-toolkit)" test "$(status "$base/-/healthy")" = 401
check "401 carries WWW-Authenticate: Basic" bash -c \
  "curl -s -D - -o /dev/null --cacert ca.crt '$url' | tr -d '\r' | grep -qx 'WWW-Authenticate: Basic'"
check "configured header on every response" bash -c \
  "curl -s -D - -o /dev/null --cacert ca.crt -u 'prometheus:$password' '$base/-/ready' | tr -d '\r' | grep -qx 'X-Content-Type-Options: nosniff'"
check "plain HTTP to the HTTPS port fails" test "$(status "http://127.0.0.1:$port/metrics")" = 000
check "TLS 1.2 accepted by default (min_version TLS12)" test "$(status --tls-max 1.2 -u "prometheus:$password" "$url")" = 200
curl -fsS --cacert ca.crt -u "prometheus:$password" "$url" >metrics.txt
check "promtool check metrics over HTTPS" promtool check metrics <metrics.txt
check "reload metric says the config is in force" grep -q '^podpath_web_config_last_reload_successful 1' metrics.txt

# --- a real Prometheus over HTTPS with basic auth (and a client certificate ready) -------
prom_port=$(free_port)
cat >prometheus.yml <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: podpath
    scheme: https
    tls_config:
      ca_file: $work/ca.crt
      cert_file: $work/client.crt
      key_file: $work/client.key
    basic_auth:
      username: prometheus
      password: $password
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
  --web.listen-address="127.0.0.1:$prom_port" >prometheus.log 2>&1 &
pids+=("$!")
query() {
  curl -fsS "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}
wait_for() {  # wait_for QUERY VALUE SECONDS
  local v=""
  for _ in $(seq 1 $(($3 * 2))); do
    v=$(query "$1")
    [ "$v" = "$2" ] && return 0
    sleep 0.5
  done
  echo "  ($1 = '$v', wanted $2)"
  return 1
}
check "Prometheus scrapes over HTTPS with basic auth: up == 1" wait_for 'up{job="podpath"}' 1 30
samples=$(query 'scrape_samples_scraped{job="podpath"}')
check "Prometheus ingested samples (${samples:-0})" test "${samples:-0}" -gt 10

# --- live reload to mutual TLS, TLS 1.3 only --------------------------------------------
cat >web.yml.new <<YAML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
basic_auth_users:
  prometheus: $hash
YAML
mv web.yml.new web.yml
reloaded=""
for _ in $(seq 1 40); do
  grep -q 'web config reloaded' exporter.log && { reloaded=yes; break; }
  sleep 0.25
done
check "reload logged" test -n "$reloaded"
mtls=(--cert client.crt --key client.key -u "prometheus:$password")
check "after reload: no client certificate is refused" test "$(status -u "prometheus:$password" "$url")" = 000
check "after reload: a stranger's certificate is refused" test "$(status --cert stranger.crt --key stranger.key -u "prometheus:$password" "$url")" = 000
check "after reload: TLS 1.2 is refused" test "$(status --tls-max 1.2 "${mtls[@]}" "$url")" = 000
check "after reload: the CA's client certificate + password: 200" test "$(status "${mtls[@]}" "$url")" = 200
check "after reload: the CA's client certificate, wrong password: 401" test "$(status --cert client.crt --key client.key -u prometheus:nope "$url")" = 401
# Prometheus keeps its open connection (TLS settings apply at the handshake, as in
# exporter-toolkit), so two new jobs prove the new rules on fresh connections: with the
# client certificate it scrapes, without it is refused.
prom_pid=${pids[-1]}
sed -n '/^  - job_name: podpath$/,$p' prometheus.yml | sed 's/job_name: podpath/job_name: podpath_mtls/' >job.mtls
sed -e 's/job_name: podpath_mtls/job_name: podpath_no_cert/' -e '/cert_file:/d' -e '/key_file:/d' job.mtls >job.nocert
cat job.mtls job.nocert >>prometheus.yml
kill -HUP "$prom_pid"
check "Prometheus keeps scraping through the reload: up == 1" wait_for 'up{job="podpath"}' 1 10
check "Prometheus on a fresh connection with the client certificate: up == 1" wait_for 'up{job="podpath_mtls"}' 1 20
check "Prometheus without a client certificate is refused: up == 0" wait_for 'up{job="podpath_no_cert"}' 0 20
check "Prometheus sees the reload as successful" wait_for 'podpath_web_config_last_reload_successful' 1 10

# --- a broken file is refused and changes nothing ---------------------------------------
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [X]\n' >web.yml
check "broken reload: the metric drops to 0" wait_for 'podpath_web_config_last_reload_successful' 0 15
check "broken reload: logged as an error" grep -q 'level=error msg="web config reload refused".*cipher_suites is not supported' exporter.log
check "broken reload: the previous config (mTLS) stays in force" test "$(status -u "prometheus:$password" "$url")" = 000
check "broken reload: Prometheus still scrapes: up == 1" wait_for 'up{job="podpath"}' 1 10

kill -TERM "$exporter_pid"
set +e; wait "$exporter_pid"; term_rc=$?; set -e
check "SIGTERM shuts down cleanly (exit 0)" test "$term_rc" = 0
echo "tls e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
