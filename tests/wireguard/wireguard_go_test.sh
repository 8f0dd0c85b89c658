#!/bin/sh
# Reads REAL wireguard-go devices over their UAPI sockets, the way the exporter does
# (podpath_wireguard_read: generic netlink first, which finds no "wireguard" family on a kernel
# without the module, then <socket dir>/<device>.sock), and compares every peer with what
# wg(8) itself says (`wg show all dump`, parsed by our dump parser).
#
# In a network namespace of its own: wga and wgb handshake over loopback; wga also has a peer
# whose endpoint is an address nobody holds, so it never handshakes while its keepalive sends.
# wireguard-go's socket directory is fixed at /var/run/wireguard (ipc/uapi_unix.go
# socketDirectory, set at link time), so in a private mount namespace a temporary directory is
# bind-mounted there: the sockets land in it and the reader is pointed at it the way
# --wireguard.socket-dir points the exporter at a lab node's directory.
#
# Root only; exit 77 when not root or wireguard-go / wg is missing.
set -eu

if [ "${1:-}" = inner ]; then
  reader=$2
  dir=$3
  mount -t tmpfs podpath-wgtest /run
  mkdir -p /run/wireguard
  mount --bind "$dir" /run/wireguard
  ip link set lo up
  wireguard-go -f wga >"$dir/wga.log" 2>&1 &
  wireguard-go -f wgb >"$dir/wgb.log" 2>&1 &
  for _ in $(seq 50); do
    [ -S "$dir/wga.sock" ] && [ -S "$dir/wgb.sock" ] && break
    sleep 0.1
  done
  umask 077
  wg genkey >"$dir/a.key"
  wg genkey >"$dir/b.key"
  wg genkey >"$dir/c.key"
  a_pub=$(wg pubkey <"$dir/a.key")
  b_pub=$(wg pubkey <"$dir/b.key")
  c_pub=$(wg pubkey <"$dir/c.key")
  # Nobody answers on the other end of this veth: ARP for 10.99.0.2 goes unanswered.
  ip link add wgtest-void type veth peer name wgtest-void1
  ip addr add 10.99.0.1/24 dev wgtest-void
  ip link set wgtest-void up
  ip link set wgtest-void1 up
  wg set wga listen-port 51820 private-key "$dir/a.key" \
    peer "$b_pub" endpoint 127.0.0.1:51821 allowed-ips 10.42.2.0/24 persistent-keepalive 1 \
    peer "$c_pub" endpoint 10.99.0.2:51820 allowed-ips 10.42.3.0/24,fd00:42:3::/64 \
    persistent-keepalive 1
  wg set wgb listen-port 51821 private-key "$dir/b.key" \
    peer "$a_pub" endpoint 127.0.0.1:51820 allowed-ips 10.42.1.0/24 persistent-keepalive 1
  ip link set wga up
  ip link set wgb up
  for _ in $(seq 100); do
    wg show wga latest-handshakes | grep -q "^$b_pub	[1-9]" && break
    sleep 0.1
  done
  sleep 1.5  # a few keepalives towards the silent peer
  "$reader" --socket-dir "$dir" wga wgb flannel-wg >"$dir/ours.txt"
  wg show all dump >"$dir/wg-dump.txt"
  "$reader" --dump "$dir/wg-dump.txt" >"$dir/theirs.txt"
  echo "$a_pub $b_pub $c_pub" >"$dir/keys.txt"
  exit 0
fi

reader=$1
if [ "$(id -u)" != 0 ]; then
  echo "skip: needs root (network and mount namespaces)"
  exit 77
fi
for tool in wireguard-go wg; do
  if ! command -v "$tool" >/dev/null; then
    echo "skip: $tool is not installed"
    exit 77
  fi
done

ns=ppwgtest-$$
dir=$(mktemp -d /tmp/ppwgtest.XXXXXX)
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
if ! ip netns exec "$ns" unshare -m --propagation private sh "$0" inner "$reader" "$dir"; then
  echo "FAIL: the scenario did not run"
  cat "$dir"/*.log 2>/dev/null || true
  exit 1
fi

echo "--- ours (UAPI)"; cat "$dir/ours.txt"
echo "--- wg show all dump"; cat "$dir/theirs.txt"
read -r a_pub b_pub c_pub <"$dir/keys.txt"
fail=0
expect() {  # expect DESCRIPTION COMMAND...: the command must succeed
  what=$1
  shift
  if ! "$@"; then
    echo "FAIL: $what"
    fail=1
  fi
}
field() {  # field FILE DEVICE KEY N
  awk -F'\t' -v d="$2" -v k="$3" -v n="$4" '$1 == "peer" && $2 == d && $3 == k { print $n }' "$1"
}
ours() { field "$dir/ours.txt" "$@"; }
tab=$(printf '\t')

expect "wga and wgb were read over the UAPI socket" \
  [ "$(grep -c "^device${tab}wg[ab]${tab}uapi${tab}5182[01]\$" "$dir/ours.txt")" = 2 ]
expect "flannel-wg does not exist here and is reported absent" \
  grep -q "^absent${tab}flannel-wg\$" "$dir/ours.txt"
expect "wga has two peers" [ "$(grep -c "^peer${tab}wga${tab}" "$dir/ours.txt")" = 2 ]
expect "wgb has one peer" [ "$(grep -c "^peer${tab}wgb${tab}" "$dir/ours.txt")" = 1 ]
# Fields of a peer line: 2 device, 3 key, 4 endpoint, 5 allowed IPs, 6 handshake, 7 rx, 8 tx,
# 9 keepalive.
expect "wga's peer b handshaked" [ "$(ours wga "$b_pub" 6)" -gt 0 ]
expect "wgb's peer a handshaked" [ "$(ours wgb "$a_pub" 6)" -gt 0 ]
expect "the silent peer never handshaked" [ "$(ours wga "$c_pub" 6)" = 0 ]
expect "the silent peer was sent handshake initiations" [ "$(ours wga "$c_pub" 8)" -gt 0 ]
expect "the silent peer sent nothing back" [ "$(ours wga "$c_pub" 7)" = 0 ]
expect "the silent peer's endpoint" [ "$(ours wga "$c_pub" 4)" = "10.99.0.2:51820" ]
expect "the silent peer's allowed IPs" \
  [ "$(ours wga "$c_pub" 5)" = "10.42.3.0/24,fd00:42:3::/64" ]
expect "the silent peer's keepalive" [ "$(ours wga "$c_pub" 9)" = 1 ]

# Every peer as wg(8) sees it: key, endpoint, allowed IPs and keepalive equal; the handshake
# within 2 s (a new one may complete between the two reads); counters only grow.
for device_key in "wga $b_pub" "wga $c_pub" "wgb $a_pub"; do
  device=${device_key%% *}
  key=${device_key#* }
  for n in 4 5 9; do
    mine=$(ours "$device" "$key" "$n")
    theirs=$(field "$dir/theirs.txt" "$device" "$key" "$n")
    expect "$device peer $key field $n: ours '$mine', wg '$theirs'" [ "$mine" = "$theirs" ]
  done
  mine=$(ours "$device" "$key" 6)
  theirs=$(field "$dir/theirs.txt" "$device" "$key" 6)
  expect "$device peer $key handshake: ours $mine, wg $theirs" \
    [ $((theirs - mine)) -ge 0 -a $((theirs - mine)) -le 2 ]
  for n in 7 8; do
    mine=$(ours "$device" "$key" "$n")
    theirs=$(field "$dir/theirs.txt" "$device" "$key" "$n")
    expect "$device peer $key counter $n: ours $mine <= wg $theirs" [ "$mine" -le "$theirs" ]
  done
done
[ "$fail" = 0 ] && echo "ok: wireguard-go read over UAPI matches wg show all dump"
exit "$fail"
