# shellcheck shell=bash
# Sourced by tests/lab/lab: IPv6 in the lab. Two shapes use it:
#   - the field report's cluster made dual-stack (`lab scenario dual-stack`, or
#     PODPATH_LAB_DUAL_STACK=1 at `lab up`): every node IPv4 + IPv6, flannel.1 and flannel-v6.1,
#     tailscale0 with its fd7a:115c:a1e0:: address, IPv6 pod CIDRs as Tailscale subnet routes
#     across the sites as the IPv4 ones are;
#   - the LAN lab's IPv6-only cluster (`lab scenario ipv6-only` in topology-lan.json).
# What flannel does in each family follows flannel-io/flannel:
#   pkg/backend/vxlan/vxlan.go     flannel-v6.<VNI> next to flannel.<VNI>, both asked for the
#                                  external interface's MTU - 50 (device.go: MTU - 50), bound to
#                                  it (VtepDevIndex); the kernel caps a bound IPv6 VXLAN device at
#                                  the lower MTU - 70 (measured here: 1450 asked, 1430 given; as
#                                  flannel-io/flannel#1781 reports, "ipv6 MTU - 70")
#   pkg/backend/vxlan/vxlan_network.go  per IPv6 peer: neighbour <v6 subnet IP> lladdr <its
#                                  v6 VtepMAC> (AddV6ARP), FDB <v6 VtepMAC> dst <its public-ipv6>
#                                  (AddV6FDB), route <v6 subnet> via <v6 subnet IP> dev
#                                  flannel-v6.1 onlink
#   pkg/backend/vxlan/device.go    ConfigureIPv6: <v6 subnet IP>/128 on flannel-v6.1, accept_ra 0
#   pkg/subnet/kube/kube.go        annotations public-ipv6 and backend-v6-data; an IPv6-only
#                                  vxlan lease has no backend-data and no public-ip (BackendData
#                                  "null" is not written)
#   pkg/subnet/subnet.go           subnet.env: FLANNEL_IPV6_NETWORK / FLANNEL_IPV6_SUBNET (the
#                                  subnet's first address), the IPv4 pair only when IPv4 is on
# and k3s-io/k3s pkg/agent/flannel/setup.go (an IPv6-only cluster: EnableIPv4 false, Network
# 0.0.0.0/0, IPv6Network the cluster CIDR). See README.md, "Dual stack".

FLANNEL6_DEV=flannel-v6.1

# The IPv6 pod CIDR of NODE: one /64 per node out of pod_network_v6 (2001:cafe:42::/56), the
# node's pod_index as the fourth group, as k3s's node IPAM hands them out (--node-cidr-mask-size-ipv6 64).
# Written as the kernel and Go print them (RFC 5952): index 0 is "2001:cafe:42::".
pod6_base() { T .pod_network_v6 | sed 's/::.*//'; }
pod6_addr() { # flannel-v6.1's address, the subnet's first
  local i
  i=$(node "$1" .pod_index)
  if ((i == 0)); then echo "$(pod6_base)::"; else printf '%s:%x::\n' "$(pod6_base)" "$i"; fi
}
pod6_cidr() { echo "$(pod6_addr "$1")/64"; }
ipv6_on() { [[ $(ip netns exec "$1" cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null) == 0 ]]; }

ns_ipv6() { # NS on|off: IPv6 on every interface of NS (off removes every IPv6 address and route)
  local v=1
  [[ $2 == on ]] && v=0
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=$v net.ipv6.conf.default.disable_ipv6=$v
  [[ $2 == on ]] && ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.forwarding=1
  return 0
}

# tailscaled's IPv6 policy rules mirror the IPv4 ones (tailscale's linux router).
tailscale6_rules() { # NS add|del
  local pref
  for pref in 5210 5230 5250 5270; do ip -n "$1" -6 rule del pref "$pref" 2>/dev/null || true; done
  [[ $2 == add ]] || return 0
  ip -n "$1" -6 rule add pref 5210 fwmark 0x80000/0xff0000 table main
  ip -n "$1" -6 rule add pref 5230 fwmark 0x80000/0xff0000 table default
  ip -n "$1" -6 rule add pref 5250 fwmark 0x80000/0xff0000 unreachable
  ip -n "$1" -6 rule add pref 5270 table 52
}

# The dual-stack underlay: ULAs on the VPC and on the vmnet bridge (where macOS's vmnet "shared"
# mode hands out an fd.. prefix), their routers as IPv6 default gateways, tailscale0's Tailscale
# IPv6 address, cni0's IPv6 gateway. Off: IPv6 disabled again everywhere (addresses, routes and
# flannel-v6.1 go with it).
# The cluster's IP families as last applied ("ipv4" until a scenario changes them): an
# IPv4 scenario switch then costs nothing here.
families_now() { cat "$S/ip-families" 2>/dev/null || echo ipv4; }

apply_ipv6_underlay() {
  local dual n ns site s
  dual=$(dims '.dual_stack // false')
  [[ $dual == true || $(families_now) != ipv4 ]] || return 0
  # Leaving dual stack: the IPv6 podCIDRs leave the API before the kernel forgets the roads.
  [[ $dual == true ]] || apply_ipv6_nodes ipv4
  local gw
  for s in $(T '.sites[].name'); do
    case $(site "$s" .kind) in
      vpc) ns=${PREFIX}vpc-$s gw=$(site "$s" .vpc.gateway6) ;;
      home) ns=${PREFIX}vmnet-$s gw=$(site "$s" .vmnet.gateway6) ;;
      *) continue ;;
    esac
    if [[ $dual == true ]]; then
      ns_ipv6 "$ns" on
      ip -n "$ns" addr replace "$gw/64" dev br0 nodad
    else
      ns_ipv6 "$ns" off
    fi
  done
  for n in $(nodes); do
    ns=$(ns_of "$n")
    site=$(site_of "$n")
    if [[ $dual != true ]]; then
      if ipv6_on "$ns"; then
        ip -n "$ns" link del "$FLANNEL6_DEV" 2>/dev/null || true
        tailscale6_rules "$ns" del
        ns_ipv6 "$ns" off
      fi
      continue
    fi
    ns_ipv6 "$ns" on
    if [[ $(kind_of "$n") == vpc ]]; then
      ip -n "$ns" addr replace "$(node "$n" .vpc_ipv6)/64" dev eth0 nodad
      ip -n "$ns" -6 route replace default via "$(site "$site" .vpc.gateway6)" dev eth0
    else
      ip -n "$ns" addr replace "$(node "$n" .vmnet_ipv6)/64" dev lima0 nodad
      ip -n "$ns" -6 route replace default via "$(site "$site" .vmnet.gateway6)" dev lima0 metric 100
    fi
    ip -n "$ns" addr replace "$(node "$n" .tailscale_ipv6)/128" dev tailscale0 nodad
    tailscale6_rules "$ns" add
    ip -n "$ns" addr replace "$(pod6_addr "$n")1/64" dev cni0 nodad
  done
}

# The node objects as a dual-stack k3s registers them: spec.podCIDRs [IPv4, IPv6], a second
# InternalIP (the Tailscale IPv6 address: node-ip is the tailnet address here). Kubernetes
# never lets a node's podCIDRs change, so the lab uses the fake API server's admin hook: it
# stands for the cluster reinstalled dual-stack (and back).
api_admin() { # PATH BODY
  curl -sS --fail-with-body --unix-socket "$(api_dir)/admin.sock" -H 'Content-Type: application/json' \
    -d "$2" "http://admin$1" >/dev/null
}

apply_ipv6_nodes() { # FAMILIES: "ipv4", "dual" or "ipv6"
  local mode=$1 n obj want v4 v6 ip4 ip6
  [[ $mode != "$(families_now)" ]] || return 0
  echo "$mode" >"$S/ip-families"
  api_up || return 0
  for n in $(nodes); do
    v4=$(pod_cidr "$n")
    v6=$(pod6_cidr "$n")
    ip4=$(node "$n" .tailscale_ip)
    [[ -n $ip4 ]] || ip4=$(node "$n" .lan_ip)
    ip6=$(node "$n" .tailscale_ipv6)
    [[ -n $ip6 ]] || ip6=$(node "$n" .lan_ipv6)
    obj=$(api GET "/api/v1/nodes/$n")
    want=$(jq -c --arg m "$mode" --arg v4 "$v4" --arg v6 "$v6" --arg ip4 "$ip4" --arg ip6 "$ip6" '
      (if $m == "dual" then [$v4, $v6] elif $m == "ipv6" then [$v6] else [$v4] end) as $cidrs |
      (if $m == "dual" then [$ip4, $ip6] elif $m == "ipv6" then [$ip6] else [$ip4] end) as $ips |
      {spec: {podCIDR: $cidrs[0], podCIDRs: $cidrs},
       status: {addresses: ([$ips[] | {address: ., type: "InternalIP"}]
         + [.status.addresses[] | select(.type != "InternalIP")])},
       metadata: {annotations: {"k3s.io/internal-ip": ($ips | join(",")),
         "alpha.kubernetes.io/provided-node-ip": ($ips | join(","))}}} |
      if .spec.podCIDRs == $cur.spec.podCIDRs and .status.addresses == $cur.status.addresses
      then empty else . end' --argjson cur "$obj" <<<"$obj")
    [[ -z $want ]] || api_admin /nodes/patch "$(jq -cn --arg n "$n" --argjson p "$want" '{name: $n, patch: $p}')"
  done
}

# flannel-v6.1 of NODE from the leases (program_flannel's IPv6 twin: the same plan over the
# IPv6 fields, renamed into the IPv4 ones).
program_flannel6() { # NODE LEASES PUBLISHED
  local v6='map(select(.public_ipv6 != null and .public_ipv6 != "") |
    .public_ip = .public_ipv6 | .mac = .mac6 | .subnet = .subnet6)'
  program_flannel "$1" "$(jq -c "$v6" <<<"$2")" "$(jq -c "$v6" <<<"$3")" "$FLANNEL6_DEV" 6
}

# ---------------------------------------------------------------- the LAN lab, IPv6 only

# IPv6 on the LAN lab's router and nodes (ULAs per subnet, the router forwarding between them),
# or off again.
apply_lan_ipv6() { # on|off
  local n ns router site sub
  [[ $1 == on || $(families_now) != ipv4 ]] || return 0
  for site in $(T '.sites[].name'); do
    router=$(lan_router "$site")
    ns_ipv6 "$router" "$1"
    [[ $1 == on ]] || continue
    for sub in $(T ".sites[] | select(.name == \"$site\") | .subnets | keys[]"); do
      ip -n "$router" addr replace "$(site "$site" ".subnets.$sub.gateway6")/64" \
        dev "$(site "$site" ".subnets.$sub.bridge")" nodad
    done
  done
  for n in $(nodes); do
    ns=$(ns_of "$n")
    if [[ $1 == off ]]; then
      ipv6_on "$ns" && ns_ipv6 "$ns" off
      continue
    fi
    ns_ipv6 "$ns" on
    ip -n "$ns" addr replace "$(node "$n" .lan_ipv6)/64" dev eth0 nodad
    ip -n "$ns" -6 route replace default via "$(lan_subnet_field "$n" gateway6)" dev eth0
    ip -n "$ns" addr replace "$(pod6_addr "$n")1/64" dev cni0 nodad
  done
}

# flannel's vxlan backend on an IPv6-only node: flannel-v6.1 alone, a lease with public-ipv6
# and backend-v6-data and neither public-ip nor backend-data (kube.go writes BackendData only
# when it is not "null"), subnet.env with the IPv6 pair alone (k3s: EnableIPv4 false).
apply_flannel_lan6() {
  local n ns pub6 mtu eth_mtu mac6 leases="" sep="" published
  for n in $(nodes); do
    ns=$(ns_of "$n")
    pub6=$(ip -n "$ns" -6 -o addr show dev eth0 scope global | awk 'NR == 1 { sub("/.*", "", $4); print $4 }')
    [[ -n $pub6 ]] || die "$n: no global IPv6 address on eth0 for flannel's public-ipv6"
    eth_mtu=$(ip -n "$ns" -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
    mtu=$((eth_mtu - $(T .vxlan.overhead)))
    mac6=$(vtep_mac "$n/v6")
    printf 'FLANNEL_IPV6_NETWORK=%s\nFLANNEL_IPV6_SUBNET=%s1/64\nFLANNEL_MTU=%s\nFLANNEL_IPMASQ=true\n' \
      "$(T .pod_network_v6)" "$(pod6_addr "$n")" "$mtu" >"$S/$n/subnet.env"
    chmod 0644 "$S/$n/subnet.env"
    leases+=$sep$(jq -cn --arg n "$n" --arg p "$pub6" --arg m6 "$mac6" --argjson m "$mtu" \
      --arg s6 "$(pod6_cidr "$n")" '{name: $n, public_ip: "", backend: "ipv6-only", mtu: $m,
        bind: "eth0", public_ipv6: $p, mac6: $m6, subnet6: $s6}')
    sep=,
    if api_up; then
      api PATCH "/api/v1/nodes/$n" "$(jq -cn --arg p "$pub6" --arg d "$(jq -cn --argjson vni "$(T .vxlan.vni)" \
        --arg mac "$mac6" '{VNI: $vni, VtepMAC: $mac}')" '{metadata: {annotations: {
          "flannel.alpha.coreos.com/backend-type": "vxlan",
          "flannel.alpha.coreos.com/backend-v6-data": $d, "flannel.alpha.coreos.com/public-ipv6": $p,
          "flannel.alpha.coreos.com/backend-data": null, "flannel.alpha.coreos.com/public-ip": null,
          "flannel.alpha.coreos.com/kube-subnet-manager": "true"}}}')" >/dev/null
    fi
  done
  leases="[$leases]"
  printf '%s\n' "$leases" >"$S/flannel/leases.json"
  published=$leases
  if api_up; then
    published=$(api GET /api/v1/nodes | jq -c '[.items[] | .metadata.annotations as $a | {name: .metadata.name,
      public_ipv6: $a["flannel.alpha.coreos.com/public-ipv6"],
      mac6: (($a["flannel.alpha.coreos.com/backend-v6-data"] | fromjson? | .VtepMAC?) // ""),
      subnet6: [.spec.podCIDRs[]? | select(contains(":"))][0]}]')
  fi
  for n in $(nodes); do program_flannel6 "$n" "$leases" "$published"; done
}
