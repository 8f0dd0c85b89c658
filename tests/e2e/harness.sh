# shellcheck shell=bash
# Sourced by the loopback end-to-end tests (exporter_e2e.sh, exporter_tls_e2e.sh and
# dashboards/lab_check_test.sh): a scratch directory ($work), background processes killed
# on exit (append their pids to pids), and check NAME COMMAND... counting what passed and
# failed.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
