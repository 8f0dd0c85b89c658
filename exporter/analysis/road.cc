#include "analysis/road.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace podpath::analysis {

namespace {

// VXLAN adds outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) = 50 bytes; over an
// IPv6 underlay the outer header is 40, so 70 (the kernel's VXLAN6_HEADROOM,
// include/net/vxlan.h, which also caps flannel-v6.<VNI>'s MTU at its device's MTU - 70).
constexpr int kVxlanOverhead = 50;
constexpr int kVxlan6Overhead = 70;
// WireGuard over IPv4 adds outer IPv4 (20) + UDP (8) + its data header (type 4, receiver 4,
// counter 8) and tag (16) = 60 bytes; over IPv6, 80. flannel's wireguard backend reserves 80
// for both (pkg/backend/wireguard/wireguard_network.go, const overhead: its comment counts a
// 40-byte IPv6 header), so over IPv4 flannel-wg's MTU is 20 below what the road carries.
constexpr int kWireguardOverhead = 60;
constexpr int kWireguard6Overhead = 80;
constexpr int kFlannelWireguardReserve = 80;
// IPIP adds one IPv4 header, 20 (pkg/backend/ipip).
constexpr int kIpipOverhead = 20;
// tailscaled's routing table (tailscale/tailscale wgengine/router/router_linux.go,
// tailscaleRouteTable).
constexpr std::uint32_t kTailscaleTable = 52;

bool encapsulates(Carrier carrier) {
  return carrier == Carrier::kVxlan || carrier == Carrier::kWireguard || carrier == Carrier::kIpip;
}

// `ipv6_underlay`: the tunnel's packets go to the peer's IPv6 address (public-ipv6).
int overhead_of(Carrier carrier, bool ipv6_underlay) {
  switch (carrier) {
    case Carrier::kVxlan:
      return ipv6_underlay ? kVxlan6Overhead : kVxlanOverhead;
    case Carrier::kWireguard:
      return ipv6_underlay ? kWireguard6Overhead : kWireguardOverhead;
    case Carrier::kIpip:
      return kIpipOverhead;
    default:
      return 0;
  }
}

// The backends whose road the routing table shows: a device of their own (vxlan, wireguard,
// ipip), a route via the peer's address (host-gw, DirectRouting). The others carry pod
// packets in ways a route lookup does not see (udp's flannel0 tun for the whole network,
// ipsec's XFRM policies, extension's hooks), so a route that is no pod road is no proof
// of a missing one there.
bool road_is_traceable(std::string_view backend) {
  return backend.empty() || backend == "vxlan" || backend == "host-gw" || backend == "wireguard" ||
         backend == "ipip";
}

std::string_view backend_of(const model::Peer& peer) {
  return peer.cluster ? std::string_view(peer.cluster->backend_type) : std::string_view();
}

// How Tailscale carries a packet, as the verdict names it.
struct TailscaleTransport {
  Transport transport = Transport::kUnknown;
  std::string derp_region;  // set for kTailscaleDerp
};

// The Tailscale peer that carries traffic for `reason`, and its transport.
std::optional<tailscale::PeerPath> tailscale_path(const tailscale::Snapshot& snapshot,
                                                  const model::Peer& peer,
                                                  tailscale::MatchReason wanted) {
  const tailscale::MappedPeer* mapped = snapshot.find(peer.name, peer.family);
  if (mapped == nullptr || !snapshot.status) return std::nullopt;
  for (const auto& candidate : mapped->candidates) {
    if (candidate.match != wanted) continue;
    if (candidate.tailscale_index >= snapshot.status->peers.size()) continue;
    return tailscale::classify_transport(snapshot.status->peers[candidate.tailscale_index]);
  }
  // The kernel says Tailscale carries it, but no match of that kind: fall back to the
  // strongest match rather than guessing nothing.
  return mapped->path;
}

TailscaleTransport from_tailscale(const std::optional<tailscale::PeerPath>& path) {
  if (!path) return {};
  switch (path->transport) {
    case tailscale::Transport::kDirect:
      return {Transport::kTailscaleDirect, ""};
    case tailscale::Transport::kPeerRelay:
      return {Transport::kTailscalePeerRelay, ""};
    case tailscale::Transport::kDerp:
      return {Transport::kTailscaleDerp, path->derp_region};
    case tailscale::Transport::kNoHandshake:
      return {Transport::kTailscaleNoHandshake, path->derp_region};
    case tailscale::Transport::kIdle:
    case tailscale::Transport::kOffline:
    case tailscale::Transport::kUnknown:
      break;
  }
  return {};
}

TailscaleTransport tailscale_transport(const std::optional<tailscale::Snapshot>& tailscale,
                                       const model::Peer& peer, tailscale::MatchReason reason) {
  if (!tailscale) return {};
  return from_tailscale(tailscale_path(*tailscale, peer, reason));
}

// A binary search: peer_routes is sorted by (peer, family) (netlink::add_peer_routes), and a
// scan per peer cost 12 M string comparisons a scrape at 5,000 nodes (bench/scale.py).
const netlink::PeerRoutes* routes_for(const netlink::KernelSnapshot& kernel,
                                      const model::Peer& peer) {
  const auto& routes = kernel.peer_routes;
  auto it = std::lower_bound(routes.begin(), routes.end(), peer,
                             [](const netlink::PeerRoutes& r, const model::Peer& p) {
                               return std::tie(r.peer, r.family) < std::tie(p.name, p.family);
                             });
  if (it != routes.end() && it->peer == peer.name && it->family == peer.family) return &*it;
  return nullptr;
}

void follow_overlay_route(const netlink::RouteLookup& route, const netlink::KernelSnapshot& kernel,
                          const model::Peer& peer, PeerVerdict& verdict) {
  verdict.carrier = classify_carrier(route, kernel, peer);
  verdict.route_device = route.device;
  verdict.route_table = route.ok() ? netlink::table_name(route.table) : "";
  verdict.route_error = route.error_name;
}

// The route to the peer's VTEP, where flannel encapsulates and the kernel found one: host-gw
// and subnet routes hand the pod packet itself to the route's device.
const netlink::RouteLookup* underlay_route(const netlink::PeerRoutes* routes, Carrier carrier) {
  if (!encapsulates(carrier) || routes == nullptr || !routes->underlay) return nullptr;
  return routes->underlay->ok() ? &*routes->underlay : nullptr;
}

// How the carrier's packets travel. `under_link` is the device the VTEP route leaves by.
TailscaleTransport transport_of(Carrier carrier, const netlink::Link* under_link,
                                bool under_tailscale,
                                const std::optional<tailscale::Snapshot>& tailscale,
                                const model::Peer& peer) {
  switch (carrier) {
    case Carrier::kVxlan:
    case Carrier::kWireguard:
    case Carrier::kIpip:
      if (under_tailscale)
        return tailscale_transport(tailscale, peer, tailscale::MatchReason::kVtepAddress);
      if (under_link != nullptr) return {Transport::kLan, ""};
      return {};
    case Carrier::kTailscaleSubnetRoute:
      return tailscale_transport(tailscale, peer, tailscale::MatchReason::kPodCidrRoute);
    case Carrier::kHostGw:
    case Carrier::kDirectRouting:
      return {Transport::kLan, ""};
    case Carrier::kOther:
    case Carrier::kNone:
      break;
  }
  return {};
}

// The largest pod packet the device chain carries, and how that figure was derived.
struct ComputedMtu {
  std::optional<int> mtu;
  std::string chain;
};

ComputedMtu computed_mtu(Carrier carrier, const netlink::Link* route_link,
                         const netlink::Link* under_link, bool ipv6_underlay) {
  switch (carrier) {
    case Carrier::kVxlan:
    case Carrier::kWireguard:
    case Carrier::kIpip: {
      if (under_link == nullptr) return {};
      const int overhead = overhead_of(carrier, ipv6_underlay);
      const std::string_view over = ipv6_underlay ? "IPv6" : "IPv4";
      if (carrier == Carrier::kWireguard)
        return {static_cast<int>(under_link->mtu) - overhead,
                fmt::format("{} {} - {} (WireGuard over {}; flannel reserves {})", under_link->name,
                            under_link->mtu, overhead, over, kFlannelWireguardReserve)};
      return {static_cast<int>(under_link->mtu) - overhead,
              fmt::format("{} {} - {} ({}{})", under_link->name, under_link->mtu, overhead,
                          encapsulation_name(carrier), ipv6_underlay ? " over IPv6" : "")};
    }
    case Carrier::kTailscaleSubnetRoute:
      if (route_link == nullptr) return {};
      return {static_cast<int>(route_link->mtu),
              fmt::format("{} {} (routed, no flannel encapsulation)", route_link->name,
                          route_link->mtu)};
    case Carrier::kHostGw:
      if (route_link == nullptr) return {};
      return {static_cast<int>(route_link->mtu),
              fmt::format("{} {} (host-gw, no encapsulation)", route_link->name, route_link->mtu)};
    case Carrier::kDirectRouting:
      if (route_link == nullptr) return {};
      return {static_cast<int>(route_link->mtu),
              fmt::format("{} {} (DirectRouting, no encapsulation)", route_link->name,
                          route_link->mtu)};
    case Carrier::kOther:
    case Carrier::kNone:
      break;
  }
  return {};
}

}  // namespace

bool is_tailscale_device(const netlink::Link* link, std::uint32_t table) {
  // tailscaled names its tun "tailscale0" and routes through table 52; either is enough,
  // so a renamed device (--tun) is still recognised by its table.
  if (table == kTailscaleTable) return true;
  return link != nullptr && link->name.rfind("tailscale", 0) == 0;
}

Carrier classify_carrier(const netlink::RouteLookup& route, const netlink::KernelSnapshot& kernel,
                         const model::Peer& peer) {
  if (!route.ok() || route.type == "unreachable" || route.type == "blackhole" ||
      route.type == "prohibit")
    return Carrier::kNone;
  const netlink::Link* link = kernel.link_by_name(route.device);
  if (link != nullptr && link->kind == "vxlan") return Carrier::kVxlan;
  if (link != nullptr && (link->kind == "wireguard" || link->name.rfind("flannel-wg", 0) == 0))
    return Carrier::kWireguard;
  if (link != nullptr && link->kind == "ipip") return Carrier::kIpip;
  if (is_tailscale_device(link, route.table)) return Carrier::kTailscaleSubnetRoute;
  const std::string_view backend = backend_of(peer);
  // host-gw routes the pod subnet via the peer's own address on the shared L2; so does
  // DirectRouting for a peer on this node's subnet, where the backend is a tunnel.
  if (route.gateway && peer.vtep_address && *route.gateway == *peer.vtep_address)
    return backend == "vxlan" || backend == "ipip" ? Carrier::kDirectRouting : Carrier::kHostGw;
  if (!road_is_traceable(backend)) return Carrier::kOther;
  // Anything else (the default route, a gateway that is not the peer) is not a pod road.
  return Carrier::kNone;
}

void trace_road(const netlink::KernelSnapshot& kernel,
                const std::optional<tailscale::Snapshot>& tailscale, const model::Peer& peer,
                PeerVerdict& verdict) {
  const netlink::PeerRoutes* routes = routes_for(kernel, peer);
  if (routes != nullptr && routes->overlay)
    follow_overlay_route(*routes->overlay, kernel, peer, verdict);
  const netlink::RouteLookup* under = underlay_route(routes, verdict.carrier);
  const netlink::Link* under_link = under ? kernel.link_by_name(under->device) : nullptr;
  if (under != nullptr) {
    verdict.underlay_device = under->device;
    verdict.underlay_table = netlink::table_name(under->table);
    // flannel's packets inside Tailscale's WireGuard.
    verdict.double_encapsulation = is_tailscale_device(under_link, under->table);
  }
  auto transport =
      transport_of(verdict.carrier, under_link, verdict.double_encapsulation, tailscale, peer);
  verdict.transport = transport.transport;
  verdict.derp_region = std::move(transport.derp_region);
  const bool ipv6_underlay = peer.vtep_address && peer.vtep_address->is_v6();
  auto mtu = computed_mtu(verdict.carrier, kernel.link_by_name(verdict.route_device), under_link,
                          ipv6_underlay);
  verdict.computed_mtu = mtu.mtu;
  verdict.mtu_chain = std::move(mtu.chain);
}

}  // namespace podpath::analysis
