# shellcheck shell=bash
# Sourced by the end-to-end tests that use the lab (tests/lab/lab): a lab of the test's own,
# so that several run side by side (ctest -j) without touching each other or a developer's
# lab (prefix pp-, /run/podpath-lab).
#
#   own_lab PREFIX NAME   namespaces PREFIX*, state /run/podpath-lab-NAME, topology and
#                         scratch files in $WORK (made here); the lab is torn down and $WORK
#                         removed on exit; then `lab up` (its log shown only if it fails).
#
# Set PODPATH_LAB_SCENARIO, PODPATH_EXPORTER_ARGS, ... before; needs ROOT and LAB.
own_lab() {
  WORK=$(mktemp -d)
  export PODPATH_LAB_STATE=/run/podpath-lab-$2
  export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
  jq --arg prefix "$1" '.prefix = $prefix' "$ROOT/tests/lab/topology.json" >"$PODPATH_LAB_TOPOLOGY"
  trap own_lab_down EXIT
  "$LAB" down >/dev/null 2>&1 || true
  "$LAB" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; exit 1; }
}

own_lab_down() {
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
