#!/usr/bin/env bash
# The main job's shortened replay (scripts/demo --quick --check) in a lab of its own
# (namespace prefix pprp-, its own state directory), so it never touches a developer's lab.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PODPATH_LAB_STATE=/run/podpath-lab-replay
export PODPATH_LAB_TOPOLOGY=$WORK/topology.json
jq '.prefix = "pprp-"' "$ROOT/tests/lab/topology.json" >"$PODPATH_LAB_TOPOLOGY"
"$ROOT/scripts/demo" --no-build --check --quick
