# shellcheck shell=bash
# Sourced by tests/lab/lab: the LAN shape (topology-lan.json, `"shape": "lan"`), a small
# single-site cluster where flannel's other backends are the right choice. Nodes sit on the
# subnets of one site; a router namespace joins the subnets (so a node on another subnet is a
# routed peer); there is no Tailscale and no zone label. The flannel backend is a scenario
# dimension. What each backend programs follows flannel (flannel-io/flannel):
#   host-gw               pkg/backend/hostgw/hostgw.go, pkg/backend/route_network.go
#   vxlan (DirectRouting) pkg/backend/vxlan/vxlan_network.go, pkg/ip/iface.go (DirectRouting)
#   wireguard             pkg/backend/wireguard/{wireguard,wireguard_network,device}.go
#   extension             pkg/backend/extension/extension.go, Documentation/extension.md
#   annotations           pkg/subnet/kube/kube.go, pkg/subnet/kube/annotations.go
# and k3s' wireguard-native configuration (k3s-io/k3s pkg/agent/flannel/setup.go). See
# README.md, "The LAN lab".

# shellcheck disable=SC2034 # used by the lab (cmd_up)
LAN_BASE_DIMS='{"applied":[],"backend":"vxlan-directrouting","routes_deleted":[],"latency":[],
 "wireguard_blocked":[]}'
# ipv6-only: the vxlan backend on an IPv6-only cluster (ipv6.sh; README, "Dual stack").
LAN_BACKENDS=(host-gw vxlan vxlan-directrouting wireguard-native extension ipv6-only)
LAN_SCENARIOS=("${LAN_BACKENDS[@]}" route-deleted route-restored pair-latency pair-latency-off
  wireguard-blocked wireguard-unblocked)
WG_DEV=flannel-wg

lan_router() { echo "${PREFIX}router-$1"; }
lan_subnet_field() { # NODE FIELD: a field of the subnet NODE is on
  site "$(site_of "$1")" ".subnets.$(node "$1" .subnet).$2"
}

build_lan_site() { # SITE: the site's router, one bridge (switch) per subnet
  local site=$1 ns sub br
  ns=$(lan_router "$site")
  new_ns "$ns"
  router_sysctls "$ns"
  for sub in $(T ".sites[] | select(.name == \"$site\") | .subnets | keys[]"); do
    br=$(site "$site" ".subnets.$sub.bridge")
    ip -n "$ns" link add "$br" type bridge
    ip -n "$ns" addr add "$(site "$site" ".subnets.$sub.gateway")/$(site "$site" ".subnets.$sub.prefix_len")" dev "$br"
    ip -n "$ns" link set "$br" up
  done
}

build_lan_node() { # NAME: eth0 on its subnet's bridge, default route via the site router
  local name=$1 ns idx router
  ns=$(ns_of "$name")
  idx=$(node "$name" .pod_index)
  router=$(lan_router "$(site_of "$name")")
  veth "$router" "n$idx" "$ns" eth0
  ip -n "$router" link set "n$idx" master "$(lan_subnet_field "$name" bridge)"
  ip -n "$ns" addr add "$(node "$name" .lan_ip)/$(lan_subnet_field "$name" prefix_len)" dev eth0
  ip -n "$ns" route add default via "$(lan_subnet_field "$name" gateway)" dev eth0
}

# ---------------------------------------------------------------- wireguard-go per node

# wireguard-go's UAPI socket directory is fixed (/var/run/wireguard, wireguard-go
# ipc/uapi_linux.go): each node's wireguard-go and wg run in a mount namespace of their own
# with $S/NODE/wireguard bind-mounted over it, so the nodes' flannel-wg.sock never collide.
wg_dir() { echo "$S/$1/wireguard"; }
wg_in() { # NODE ARGS...: `wg ARGS` against NODE's wireguard-go
  mkdir -p /var/run/wireguard
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
  ip netns exec "$(ns_of "$1")" unshare -m sh -c 'mount --bind "$0" /var/run/wireguard && exec wg "$@"' \
    "$(wg_dir "$1")" "${@:2}"
}
wg_key() { # NODE: flannel keeps its private key in a file across restarts (/run/flannel/wgkey)
  local f=$S/$1/wgkey
  [[ -s $f ]] || (umask 077 && wg genkey >"$f")
  echo "$f"
}
wg_pubkey() { wg pubkey <"$(wg_key "$1")"; }

wg_start() { # NODE: wireguard-go creates the tun flannel-wg (flannel: ensureLink + wgctrl)
  local n=$1 d
  d=$(wg_dir "$n")
  daemon_alive "wireguard-$n" && return 0
  mkdir -p "$d" /var/run/wireguard
  # shellcheck disable=SC2016 # $0 and $1 belong to the inner sh
  start_daemon "wireguard-$n" "$(ns_of "$n")" unshare -m sh -c \
    'mount --bind "$0" /var/run/wireguard && exec wireguard-go -f "$1"' "$d" "$WG_DEV"
  wait_for 10 "wireguard-go on $n" test -S "$d/$WG_DEV.sock"
  # The socket is root's, 0700 (wireguard-go binds it under umask 077), and must be left
  # alone: wireguard-go watches it with inotify (IN_ATTRIB) and shuts the device down when
  # anything changes it, a chmod included. Hence "exporter_user": "root" in topology-lan.json.
  chmod 0755 "$d"
}

wg_stop() { # NODE
  stop_daemon "wireguard-$1"
  ip -n "$(ns_of "$1")" link del "$WG_DEV" 2>/dev/null || true
}

# ---------------------------------------------------------------- flannel, per backend

lan_flannel_log() { echo "$(date -u +%FT%TZ) $2" >>"$S/$1/flannel.log"; }

# The pod routes flannel of the previous backend left: gone before another backend starts
# (a node switching backend is restarted clean).
lan_clean_backend() { # NODE
  local n=$1 ns p
  ns=$(ns_of "$n")
  ip -n "$ns" link del flannel.1 2>/dev/null || true
  ip -n "$ns" link del "$FLANNEL6_DEV" 2>/dev/null || true
  wg_stop "$n"
  for p in $(nodes); do
    [[ $p == "$n" ]] && continue
    while ip -n "$ns" route del "$(pod_cidr "$p")" 2>/dev/null; do :; done
  done
}

# Pass 1 (each node's flannel start-up): public-ip, subnet.env, the lease as annotations.
# Pass 2 (each node's watch): what the backend programs for every peer's lease.
apply_flannel_lan() {
  local backend prev n ns pub mtu type data idx leases="" sep="" eth_mtu
  backend=$(dims .backend)
  mkdir -p "$S/flannel"
  prev=$(cat "$S/flannel/backend" 2>/dev/null || true)
  if [[ $prev != "$backend" ]]; then
    for n in $(nodes); do lan_clean_backend "$n"; done
  fi
  if [[ $backend == ipv6-only ]]; then
    apply_lan_ipv6 on
    apply_ipv6_nodes ipv6
    apply_flannel_lan6
    echo "$backend" >"$S/flannel/backend"
    return 0
  fi
  apply_lan_ipv6 off
  apply_ipv6_nodes ipv4
  for n in $(nodes); do
    ns=$(ns_of "$n")
    idx=$(node "$n" .pod_index)
    # flannel's default interface: the default route's (eth0, the only one here).
    pub=$(ip -n "$ns" -4 -o addr show dev eth0 | awk 'NR == 1 { sub("/.*", "", $4); print $4 }')
    eth_mtu=$(ip -n "$ns" -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
    case $backend in
      vxlan | vxlan-directrouting)
        type=vxlan mtu=$((eth_mtu - $(T .vxlan.overhead)))
        data=$(jq -cn --argjson vni "$(T .vxlan.vni)" --arg mac "$(vtep_mac "$n")" '{VNI: $vni, VtepMAC: $mac}') ;;
      host-gw)
        # RouteNetwork.MTU = the interface's; LeaseAttrs has no BackendData: JSON null.
        type=host-gw mtu=$eth_mtu data=null ;;
      wireguard-native)
        # wireguardLeaseAttrs {PublicKey, Port}; network MTU = interface MTU - 80.
        wg_start "$n"
        type=wireguard mtu=$((eth_mtu - $(T .wireguard.overhead)))
        data=$(jq -cn --arg k "$(wg_pubkey "$n")" --argjson p "$(T .wireguard.port)" '{PublicKey: $k, Port: $p}') ;;
      extension)
        # No PreStartupCommand: BackendData is empty and kube.go writes it as is ("");
        # extension_network.go MTU() = the interface's.
        type=extension mtu=$eth_mtu data="" ;;
      *) die "unknown backend $backend" ;;
    esac
    printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=%s\nFLANNEL_MTU=%s\nFLANNEL_IPMASQ=true\n' \
      "$(T .pod_network)" "$(pod_base).$idx.1/24" "$mtu" >"$S/$n/subnet.env"
    chmod 0644 "$S/$n/subnet.env"
    leases+=$sep$(jq -cn --arg n "$n" --arg p "$pub" --arg b "$backend" --argjson m "$mtu" \
      --arg s "$(pod_cidr "$n")" '{name: $n, public_ip: $p, backend: $b, mtu: $m, subnet: $s}')
    sep=,
    if api_up; then
      api PATCH "/api/v1/nodes/$n" "$(jq -cn --arg t "$type" --arg d "$data" --arg p "$pub" \
        '{metadata: {annotations: {"flannel.alpha.coreos.com/backend-type": $t,
          "flannel.alpha.coreos.com/backend-data": $d, "flannel.alpha.coreos.com/public-ip": $p,
          "flannel.alpha.coreos.com/kube-subnet-manager": "true", "k3s.io/internal-ip": $p,
          "flannel.alpha.coreos.com/public-ipv6": null, "flannel.alpha.coreos.com/backend-v6-data": null}}}')" >/dev/null
    fi
  done
  printf '[%s]\n' "$leases" >"$S/flannel/leases.json"
  for n in $(nodes); do program_lan "$n" "$backend"; done
  echo "$backend" >"$S/flannel/backend"
  # The route-deleted fault: after flannel programmed the route, someone deletes it (flannel's
  # routeCheck would put a host-gw route back within 10 s; this lab's flannel does not run
  # between scenarios, so it stays gone until route-restored).
  local a b
  while read -r a b; do
    [[ -n $a ]] || continue
    ip -n "$(ns_of "$a")" route del "$(pod_cidr "$b")" 2>/dev/null || true
  done < <(dims '.routes_deleted[] | "\(.[0]) \(.[1])"')
}

program_lan() { # NODE BACKEND
  local n=$1 backend=$2 ns p pcidr ppub idx want have
  ns=$(ns_of "$n")
  idx=$(node "$n" .pod_index)
  case $backend in
    vxlan | vxlan-directrouting)
      if ! ip -n "$ns" link show flannel.1 >/dev/null 2>&1; then
        ip -n "$ns" link add flannel.1 address "$(vtep_mac "$n")" type vxlan id "$(T .vxlan.vni)" \
          local "$(lease_of "$n" public_ip)" dev eth0 dstport "$(T .vxlan.port)" nolearning
        ip -n "$ns" addr add "$(pod_base).$idx.0/32" dev flannel.1
      fi
      ip -n "$ns" link set flannel.1 mtu "$(lease_of "$n" mtu)" up ;;
    wireguard-native)
      # device.go: private key and listen port; Configure: <subnet IP>/32 on the device and
      # a link-scope route for the whole cluster network (Separate mode, IPv4).
      wg_in "$n" set "$WG_DEV" private-key "$(wg_key "$n")" listen-port "$(T .wireguard.port)"
      ip -n "$ns" link set "$WG_DEV" mtu "$(lease_of "$n" mtu)"
      ip -n "$ns" addr replace "$(pod_base).$idx.0/32" dev "$WG_DEV"
      ip -n "$ns" link set "$WG_DEV" up
      ip -n "$ns" route replace "$(T .pod_network)" dev "$WG_DEV" scope link ;;
  esac
  for p in $(nodes); do
    [[ $p == "$n" ]] && continue
    pcidr=$(pod_cidr "$p")
    ppub=$(lease_of "$p" public_ip)
    case $backend in
      host-gw | extension)
        # host-gw: route {Dst: subnet, Gw: public-ip, LinkIndex: ext iface}, RouteAdd after
        # removing a different route to the same Dst; a gateway that is not on-link fails
        # ("Error adding route to ...") and the peer has no route. extension (Documentation/
        # extension.md's host-gw example): SubnetAddCommand `ip route add $SUBNET via
        # $PUBLIC_IP`, which fails the same way.
        if [[ $backend == host-gw ]]; then want=(via "$ppub" dev eth0); else want=(via "$ppub"); fi
        have=$(ip -n "$ns" route show "$pcidr")
        [[ -n $have && $have == "$pcidr via $ppub dev eth0"* ]] && continue
        [[ -z $have ]] || ip -n "$ns" route del "$pcidr"
        ip -n "$ns" route add "$pcidr" "${want[@]}" 2>"$S/$n/route.err" ||
          lan_flannel_log "$n" "Error adding route to $pcidr ${want[*]}: $(cat "$S/$n/route.err")" ;;
      vxlan | vxlan-directrouting)
        # DirectRouting: RouteGet(public-ip) is one route without a gateway (same subnet):
        # `ip route replace SUBNET via PUBLIC-IP`, no neighbour, no FDB. Otherwise VXLAN.
        if [[ $backend == vxlan-directrouting ]] &&
          ! ip -n "$ns" route get "$ppub" | grep -q ' via '; then
          ip -n "$ns" route replace "$pcidr" via "$ppub"
        else
          local gw=${pcidr%/*} mac
          mac=$(vtep_mac "$p")
          ip -n "$ns" neigh replace "$gw" lladdr "$mac" dev flannel.1 nud permanent
          bridge -n "$ns" fdb show dev flannel.1 | grep -q "^$mac dst $ppub " ||
            bridge -n "$ns" fdb append "$mac" dev flannel.1 dst "$ppub" self permanent
          ip -n "$ns" route replace "$pcidr" via "$gw" dev flannel.1 onlink
        fi ;;
      wireguard-native)
        # handleSubnetEvents (Separate mode): one peer per lease, endpoint public-ip:Port,
        # allowed IPs = its subnet; k3s' wireguard-native sets PersistentKeepaliveInterval 25.
        wg_in "$n" set "$WG_DEV" peer "$(wg_pubkey "$p")" endpoint "$ppub:$(T .wireguard.port)" \
          allowed-ips "$pcidr" persistent-keepalive "$(T .wireguard.keepalive)" ;;
    esac
  done
}

lease_of() { # NODE FIELD: from the leases pass 1 wrote
  jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f]' "$S/flannel/leases.json"
}

# ---------------------------------------------------------------- faults

# wireguard-blocked: nftables in both nodes drop UDP 51820 from the other's public-ip.
apply_firewall_lan() {
  local n ns saddrs port
  port=$(T .wireguard.port)
  for n in $(nodes); do
    ns=$(ns_of "$n")
    # shellcheck disable=SC2016 # $n is jq's variable (--arg), not the shell's
    saddrs=$(dims --arg n "$n" '.wireguard_blocked[] | select(index($n)) | .[] | select(. != $n)' |
      while read -r p; do lease_of "$p" public_ip; done | paste -sd, -)
    local rules=""
    [[ -z $saddrs ]] || rules="    ip saddr { $saddrs } udp dport $port counter name wireguard_blocked drop"$'\n'
    ip netns exec "$ns" nft -f - <<EOF
table inet podpath_lab
delete table inet podpath_lab
table inet podpath_lab {
  counter wireguard_blocked {}
  chain input {
    type filter hook input priority filter; policy accept;
$rules  }
}
EOF
  done
}

# pair-latency A B MS: the pair's underlay goes through the tailnet emulator (tailnet/), which
# delays each packet MS one way, so the pair's RTT grows by 2 x MS and no other pair changes.
# (This kernel has neither netem nor NFQUEUE.) Each node of the pair gets a tun `lat0` and a
# /32 route to the other's public-ip through it: VXLAN and WireGuard capsules take it; pod
# packets routed straight to the peer (host-gw, DirectRouting, extension) do not, so use it
# with the vxlan or wireguard-native backend. The emulator serves no LocalAPI here.
# shellcheck disable=SC2016 # $n is jq's variable (--arg), not the shell's
apply_latency_lan() {
  local n ns peer ms cfg=$S/latency/config.json
  stop_daemon latency
  for n in $(nodes); do ip -n "$(ns_of "$n")" link del lat0 2>/dev/null || true; done
  [[ $(dims '.latency | length') != 0 ]] || return 0
  mkdir -p "$S/latency"
  jq -n --slurpfile d "$DIMS" --slurpfile l "$S/flannel/leases.json" --arg prefix "$PREFIX" '
    ($l[0] | map({key: .name, value: .public_ip}) | from_entries) as $pub |
    ([$d[0].latency[] | .a, .b] | unique) as $members |
    {default_pair: {mode: "blocked"},
     nodes: [$members[] | {name: ., netns: ("/run/netns/" + $prefix + .), tun: "lat0",
       socket: "", ips: [$pub[.]], endpoint: ($pub[.] + ":0"), advertise_routes: [],
       accept_routes_from: []}],
     pairs: [$d[0].latency[] | {a: .a, b: .b, mode: "direct", delay_ms: .ms}]}' >"$cfg"
  for n in $(jq -r '.nodes[].name' "$cfg"); do
    ns=$(ns_of "$n")
    ip -n "$ns" tuntap add dev lat0 mode tun
    ip -n "$ns" link set lat0 mtu "$(ip -n "$ns" -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" up
    while read -r peer ms; do
      ip -n "$ns" route replace "$(lease_of "$peer" public_ip)/32" dev lat0
    done < <(dims --arg n "$n" '.latency[] | select(.a == $n or .b == $n) |
      "\(if .a == $n then .b else .a end) \(.ms)"')
  done
  start_daemon latency "$NS_MGMT" "${RT[@]}" "$(tailnet_bin)" --config "$cfg" \
    --control "$S/latency/control.sock"
  wait_for 10 "the latency relay" test -S "$S/latency/control.sock"
}

apply_all_lan() {
  apply_flannel_lan
  apply_firewall_lan
  apply_latency_lan
  local n
  for n in $(nodes); do ip -n "$(ns_of "$n")" route flush cache 2>/dev/null || true; done
}

scenario_lan() {
  local name=$1 a b
  shift
  local label=$name${1:+ $*}
  lan_pair() { # the pair a scenario names, by default the first two nodes
    a=${1:-$(node_at 0)} b=${2:-$(node_at 1)}
    [[ -n $(node "$a" .name) && -n $(node "$b" .name) && $a != "$b" ]] || die "unknown pair $a $b"
  }
  # shellcheck disable=SC2016 # $a, $b, $ms, $n are jq's variables (--arg), not the shell's
  case $name in
    host-gw | vxlan | vxlan-directrouting | wireguard-native | extension | ipv6-only)
      set_dims '.backend = $n | .applied = ([$n] + (.applied | map(select(
        . as $s | $backends | index($s) | not))))' --arg n "$name" \
        --argjson backends "$(printf '%s\n' "${LAN_BACKENDS[@]}" | jq -R . | jq -sc .)" ;;
    route-deleted | pair-latency | wireguard-blocked)
      [[ $(dims .backend) != ipv6-only ]] || die "$name: not modelled on the IPv6-only cluster"
      ;;&
    route-deleted)
      lan_pair "$@"
      set_dims '.routes_deleted = (.routes_deleted + [[$a, $b]] | unique) | .applied = (.applied - [$l]) + [$l]' \
        --arg a "$a" --arg b "$b" --arg l "$label" ;;
    route-restored)
      set_dims '.routes_deleted = [] | .applied |= map(select(startswith("route-deleted") | not))' ;;
    pair-latency)
      lan_pair "$@"
      set_dims '.latency = ([.latency[] | select([.a, .b] | sort != ([$a, $b] | sort))] + [{a: $a, b: $b, ms: ($ms | tonumber)}]) | .applied = (.applied - [$l]) + [$l]' \
        --arg a "$a" --arg b "$b" --arg ms "${3:-15}" --arg l "$label" ;;
    pair-latency-off)
      set_dims '.latency = [] | .applied |= map(select(startswith("pair-latency") | not))' ;;
    wireguard-blocked)
      lan_pair "$@"
      set_dims '.wireguard_blocked = (.wireguard_blocked + [[$a, $b]] | unique) | .applied = (.applied - [$l]) + [$l]' \
        --arg a "$a" --arg b "$b" --arg l "$label" ;;
    wireguard-unblocked)
      set_dims '.wireguard_blocked = [] | .applied |= map(select(startswith("wireguard-blocked") | not))' ;;
    *) die "unknown scenario '$name' for this topology (one of: ${LAN_SCENARIOS[*]})" ;;
  esac
  apply_all_lan
  log "scenario $label applied ($(dims '.applied | join(" + ")'))"
}
