#!/bin/bash
# Rebuilds tests/netlink/testdata/topology from the live kernel: creates throw-away
# namespaces, builds topology.sh in them, and runs the capture tool inside.
#   tests/netlink/capture.sh BUILD_DIR [OUT_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1
OUT=${2:-$HERE/testdata/topology}
NODE=ppt-kern-cap-$$
LAN=$NODE-lan
cleanup() { ip netns del "$NODE" 2>/dev/null || true; ip netns del "$LAN" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NODE"
ip netns add "$LAN"
"$HERE/topology.sh" "$NODE" "$LAN"
mkdir -p "$OUT"
rm -f "$OUT"/*.bin "$OUT"/*.json
ip netns exec "$NODE" "$BUILD/tests/netlink/podpath_netlink_capture" "$OUT" --attach-tun tailscale0
