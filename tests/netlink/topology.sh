#!/bin/bash
# Builds the fixed kernel topology the netlink tests read, in network namespace NODE (the
# node under test, shaped like lima-k3s-agent of the field report) with the far ends of
# its veths in LAN. Both namespaces must exist. Every MAC is fixed so that captures and
# golden files do not change between runs.
#
#   lima0      veth, MTU 1500, 192.168.105.2/24, default route via 192.168.105.1
#   ens5       veth, MTU 9001, 192.0.2.10/24 (a jumbo-frame LAN)
#   flannel.1  vxlan 1, local 192.168.105.2 dev lima0, dstport 8472, MTU 1450, 10.42.2.0/32
#   vxlan-jumbo vxlan 42, local 192.0.2.10 dev ens5, dstport 4789, MTU 8951
#   cni0       bridge, MTU 1450, 10.42.2.1/24, port vethc0ffee01 (a pod veth)
#   tailscale0 tun, MTU 1280, 100.84.0.2/32 (the caller attaches a process for carrier)
#   tun-idle   persistent tun, MTU 1280, nobody attached: no carrier
# flannel's per-peer entries on flannel.1 (route onlink + permanent neighbour + FDB):
#   10.42.0.0/24 -> 172.26.2.70, 10.42.1.0/24 -> 172.26.3.146 (Tokyo servers, but table
#   52 routes send their pod ranges through tailscale0 first), 10.42.3.0/24 ->
#   192.168.105.3 (a lima neighbour), 10.42.5.0/24 -> 203.0.113.9 (an unreachable route:
#   EHOSTUNREACH), 10.42.6.0/24 -> 198.51.100.7 (an "unreachable" policy rule:
#   ENETUNREACH), 10.42.7.0/24 (neighbour but no FDB entry).
# Tailscale's policy rules 5210/5230/5250/5270 and table 52 as tailscaled installs them.
set -euo pipefail
NODE=$1
LAN=$2
n() { ip -n "$NODE" "$@"; }

# No IPv6: its addresses, multicast memberships and neighbour entries appear
# asynchronously after links come up and would make dumps differ from one read to the next.
for ns in "$NODE" "$LAN"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

n link set lo up
n link add lima0 address 52:55:55:00:00:02 mtu 1500 type veth peer name lima0-far \
  address 52:55:55:00:01:02 netns "$LAN"
n link add ens5 address 06:00:00:00:00:10 mtu 9001 type veth peer name ens5-far \
  address 06:00:00:00:01:10 mtu 9001 netns "$LAN"
n link add cni0 address 0a:58:0a:2a:02:01 mtu 1450 type bridge
n link add vethc0ffee01 address 6e:00:00:00:00:01 mtu 1450 master cni0 type veth peer \
  name eth0 address 0a:58:0a:2a:02:05 mtu 1450 netns "$LAN"
for dev in lima0 ens5 cni0 vethc0ffee01; do n link set "$dev" up; done
for dev in lima0-far ens5-far eth0 lo; do ip -n "$LAN" link set "$dev" up; done
n addr add 192.168.105.2/24 dev lima0
n addr add 192.0.2.10/24 dev ens5
n addr add 10.42.2.1/24 dev cni0
n route add default via 192.168.105.1 dev lima0

n link add flannel.1 address 32:f3:9e:5f:0e:68 mtu 1450 type vxlan id 1 local 192.168.105.2 \
  dev lima0 dstport 8472 nolearning
n link add vxlan-jumbo address 32:f3:9e:5f:00:42 mtu 8951 type vxlan id 42 local 192.0.2.10 \
  dev ens5 dstport 4789
n link set flannel.1 up
n link set vxlan-jumbo up
n addr add 10.42.2.0/32 dev flannel.1

n tuntap add tailscale0 mode tun
n link set tailscale0 mtu 1280 up
n addr add 100.84.0.2/32 dev tailscale0
n tuntap add tun-idle mode tun
n link set tun-idle mtu 1280 up

peer() {  # subnet-number vtep-mac vtep-address|-
  n neigh replace "10.42.$1.0" lladdr "$2" dev flannel.1 nud permanent
  if [ "$3" != - ]; then
    bridge -n "$NODE" fdb append "$2" dst "$3" dev flannel.1 self permanent
  fi
  n route replace "10.42.$1.0/24" via "10.42.$1.0" dev flannel.1 onlink
}
peer 0 32:f3:9e:5f:0e:00 172.26.2.70
peer 1 32:f3:9e:5f:0e:01 172.26.3.146
peer 3 32:f3:9e:5f:0e:03 192.168.105.3
peer 5 32:f3:9e:5f:0e:05 203.0.113.9
peer 6 32:f3:9e:5f:0e:06 198.51.100.7
peer 7 32:f3:9e:5f:0e:07 -
n route add unreachable 203.0.113.0/24

n route add 10.42.0.0/24 dev tailscale0 table 52
n route add 10.42.1.0/24 dev tailscale0 table 52
n route add 100.99.0.1 dev tailscale0 table 52
n rule add priority 5210 fwmark 0x80000/0xff0000 lookup main
n rule add priority 5230 fwmark 0x80000/0xff0000 lookup default
n rule add priority 5250 fwmark 0x80000/0xff0000 unreachable
n rule add priority 5260 to 198.51.100.0/24 unreachable
n rule add priority 5270 lookup 52
