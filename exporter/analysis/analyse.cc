#include "analysis/analyse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "analysis/rules.h"

namespace podpath::analysis {

namespace {

// VXLAN adds outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) = 50 bytes;
// flannel's wireguard backend reserves 80 (flannel-io/flannel pkg/backend/wireguard).
constexpr int kVxlanOverhead = 50;
constexpr int kWireguardOverhead = 80;
constexpr std::uint32_t kTailscaleTable = 52;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

bool is_tailscale_device(const netlink::Link* link, std::uint32_t table) {
  // tailscaled names its tun "tailscale0" and routes through table 52 (facts.md); either
  // is enough, so a renamed device (--tun) is still recognised by its table.
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
  if (is_tailscale_device(link, route.table)) return Carrier::kTailscaleSubnetRoute;
  // host-gw routes the pod subnet via the peer's own address on the shared L2.
  if (route.gateway && peer.vtep_address && *route.gateway == *peer.vtep_address)
    return Carrier::kHostGw;
  // Anything else (the default route, a gateway that is not the peer) is not a pod road.
  return Carrier::kNone;
}

namespace {

// The Tailscale peer that carries traffic for `reason`, and its transport.
std::optional<tailscale::PeerPath> tailscale_path(const tailscale::Snapshot& snapshot,
                                                  const std::string& peer,
                                                  tailscale::MatchReason wanted) {
  const tailscale::MappedPeer* mapped = snapshot.find(peer);
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

Transport from_tailscale(const std::optional<tailscale::PeerPath>& path, std::string* region) {
  if (!path) return Transport::kUnknown;
  switch (path->transport) {
    case tailscale::Transport::kDirect:
      return Transport::kTailscaleDirect;
    case tailscale::Transport::kPeerRelay:
      return Transport::kTailscalePeerRelay;
    case tailscale::Transport::kDerp:
      *region = path->derp_region;
      return Transport::kTailscaleDerp;
    case tailscale::Transport::kIdle:
    case tailscale::Transport::kUnknown:
      break;
  }
  return Transport::kUnknown;
}

const netlink::PeerRoutes* routes_for(const netlink::KernelSnapshot& kernel,
                                      const std::string& peer) {
  for (const auto& r : kernel.peer_routes)
    if (r.peer == peer) return &r;
  return nullptr;
}

// The kernel's flannel entries for the peer against its annotations.
std::vector<std::string> flannel_drift(const model::Peer& peer) {
  std::vector<std::string> drift;
  if (!peer.cluster) return drift;
  const model::ClusterNode& node = *peer.cluster;
  if (!peer.kernel) {
    drift.push_back(
        fmt::format("flannel has programmed no route, neighbour or FDB entry for "
                    "{}'s pod subnet {}",
                    peer.name, node.pod_cidr ? node.pod_cidr->to_string() : "?"));
    return drift;
  }
  const model::KernelPeer& k = *peer.kernel;
  if (!node.vtep_mac.empty() && !k.vtep_mac.empty() && lower(node.vtep_mac) != lower(k.vtep_mac))
    drift.push_back(fmt::format("neighbour {} has MAC {} but the VtepMAC annotation says {}",
                                k.gateway ? k.gateway->to_string() : "?", k.vtep_mac,
                                node.vtep_mac));
  if (k.vtep_mac.empty())
    drift.push_back(fmt::format("no permanent neighbour entry for gateway {}",
                                k.gateway ? k.gateway->to_string() : "?"));
  if (node.public_ip && k.vtep_address && *node.public_ip != *k.vtep_address)
    drift.push_back(fmt::format("FDB sends {} to {} but the public-ip annotation says {}",
                                k.vtep_mac, k.vtep_address->to_string(),
                                node.public_ip->to_string()));
  if (!k.vtep_address && !k.vtep_mac.empty())
    drift.push_back(fmt::format("no FDB entry for VTEP MAC {}", k.vtep_mac));
  return drift;
}

}  // namespace

NodeReport analyse(const Inputs& in) {
  NodeReport report;
  const model::PeerSet& peers = in.peers;

  // This node.
  report.self.node = peers.self_name;
  report.self.group = peers.self_group;
  if (peers.self) {
    report.self.backend_type = peers.self->backend_type;
    report.self.public_ip = peers.self->public_ip;
    report.self.vtep_mac = peers.self->vtep_mac;
    report.self.vni = peers.self->vni;
  }
  if (in.subnet_env) {
    report.self.flannel_network = in.subnet_env->network;
    report.self.flannel_subnet = in.subnet_env->subnet;
    report.self.flannel_mtu = in.subnet_env->mtu;
  }
  const netlink::Link* overlay_link =
      in.kernel ? in.kernel->link_by_name(in.overlay_device) : nullptr;
  if (overlay_link != nullptr && overlay_link->vxlan) {
    if (!report.self.public_ip)
      report.self.public_ip = model::Ipv4::parse(overlay_link->vxlan->local);
    if (report.self.vtep_mac.empty()) report.self.vtep_mac = overlay_link->mac;
    if (!report.self.vni) report.self.vni = static_cast<int>(overlay_link->vxlan->vni);
  }
  if (report.self.public_ip)
    report.self.public_ip_scope =
        std::string(model::to_string(model::classify(*report.self.public_ip)));

  // The device chain: the overlay device and the device that carries it.
  if (overlay_link != nullptr) {
    LinkSummary s{overlay_link->name, overlay_link->kind, overlay_link->mtu, ""};
    if (overlay_link->vxlan)
      s.detail = fmt::format("vxlan id {} local {}{} dstport {}", overlay_link->vxlan->vni,
                             overlay_link->vxlan->local,
                             overlay_link->vxlan->underlay_device.empty()
                                 ? " (no underlay device: routed)"
                                 : " dev " + overlay_link->vxlan->underlay_device,
                             overlay_link->vxlan->dstport);
    report.device_chain.push_back(s);
    if (overlay_link->vxlan && !overlay_link->vxlan->underlay_device.empty())
      if (const auto* under = in.kernel->link_by_name(overlay_link->vxlan->underlay_device))
        report.device_chain.push_back(LinkSummary{under->name, under->kind, under->mtu, ""});
  }
  if (in.kernel)
    for (const auto& link : in.kernel->links)
      if (is_tailscale_device(&link, 0) &&
          std::none_of(report.device_chain.begin(), report.device_chain.end(),
                       [&](const LinkSummary& s) { return s.name == link.name; }))
        report.device_chain.push_back(LinkSummary{link.name, link.kind, link.mtu, ""});

  const std::optional<int> overlay_mtu =
      overlay_link != nullptr ? std::optional<int>(static_cast<int>(overlay_link->mtu))
      : in.subnet_env         ? in.subnet_env->mtu
                              : std::nullopt;

  if (!in.kernel) report.notes.push_back("netlink collector off: roads and MTUs are not known");
  if (in.tailscale && in.tailscale->stale())
    report.notes.push_back(fmt::format("Tailscale status is stale: {}", in.tailscale->error));
  if (!in.prober_enabled) report.notes.push_back("prober off: no RTT, loss or path MTU probes");

  for (const auto& peer : peers.peers) {
    PeerVerdict v;
    v.peer = peer.name;
    v.group = peer.group;
    v.same_group = model::same_group(peers.self_group, peer.group);
    v.ready = peer.ready;
    v.unschedulable = peer.unschedulable;
    v.vtep_address = peer.vtep_address;
    v.overlay_mtu = overlay_mtu;

    if (in.kernel) {
      const netlink::PeerRoutes* routes = routes_for(*in.kernel, peer.name);
      if (routes != nullptr && routes->overlay) {
        const auto& r = *routes->overlay;
        v.carrier = classify_carrier(r, *in.kernel, peer);
        v.route_device = r.device;
        v.route_table = r.ok() ? netlink::table_name(r.table) : "";
        v.route_error = r.error_name;
      }
      // The VTEP route matters only where flannel encapsulates: host-gw and subnet routes
      // hand the pod packet itself to the route's device.
      const bool encapsulated = v.carrier == Carrier::kVxlan || v.carrier == Carrier::kWireguard;
      const netlink::RouteLookup* under =
          encapsulated && routes != nullptr && routes->underlay ? &*routes->underlay : nullptr;
      if (under != nullptr && under->ok()) {
        v.underlay_device = under->device;
        v.underlay_table = netlink::table_name(under->table);
      }

      const netlink::Link* route_link = in.kernel->link_by_name(v.route_device);
      const netlink::Link* under_link =
          under != nullptr && under->ok() ? in.kernel->link_by_name(under->device) : nullptr;
      const bool under_tailscale =
          under != nullptr && under->ok() && is_tailscale_device(under_link, under->table);
      switch (v.carrier) {
        case Carrier::kVxlan:
        case Carrier::kWireguard: {
          const int overhead = v.carrier == Carrier::kVxlan ? kVxlanOverhead : kWireguardOverhead;
          const char* what = v.carrier == Carrier::kVxlan ? "VXLAN" : "WireGuard";
          if (under_tailscale) {
            v.double_encapsulation = true;
            if (in.tailscale)
              v.transport = from_tailscale(
                  tailscale_path(*in.tailscale, peer.name, tailscale::MatchReason::kVtepAddress),
                  &v.derp_region);
          } else if (under_link != nullptr) {
            v.transport = Transport::kLan;
          }
          if (under_link != nullptr) {
            v.computed_mtu = static_cast<int>(under_link->mtu) - overhead;
            v.mtu_chain =
                fmt::format("{} {} - {} ({})", under_link->name, under_link->mtu, overhead, what);
          }
          break;
        }
        case Carrier::kTailscaleSubnetRoute:
          if (in.tailscale)
            v.transport = from_tailscale(
                tailscale_path(*in.tailscale, peer.name, tailscale::MatchReason::kPodCidrRoute),
                &v.derp_region);
          if (route_link != nullptr) {
            v.computed_mtu = static_cast<int>(route_link->mtu);
            v.mtu_chain = fmt::format("{} {} (routed, no flannel encapsulation)", route_link->name,
                                      route_link->mtu);
          }
          break;
        case Carrier::kHostGw:
          v.transport = Transport::kLan;
          if (route_link != nullptr) {
            v.computed_mtu = static_cast<int>(route_link->mtu);
            v.mtu_chain =
                fmt::format("{} {} (host-gw, no encapsulation)", route_link->name, route_link->mtu);
          }
          break;
        case Carrier::kNone:
          break;
      }
    }

    if (auto it = in.probed_mtu.find(peer.name); it != in.probed_mtu.end())
      v.probed_mtu = it->second;
    v.path_mtu_pending = in.path_mtu_pending.contains(peer.name);
    if (auto it = in.overlay_probes.find(peer.name); it != in.overlay_probes.end())
      v.overlay_probe = it->second;
    if (auto it = in.underlay_probes.find(peer.name); it != in.underlay_probes.end())
      v.underlay_probe = it->second;
    if (v.overlay_probe) {
      const std::uint64_t enough = in.thresholds.min_probes;
      const bool all_lost = v.overlay_probe->received == 0;
      v.probes_judged = v.overlay_probe->sent >= enough &&
                        (!all_lost || !v.underlay_probe || v.underlay_probe->sent >= enough);
    }
    for (const auto& e : in.exposure)
      if (e.peer == peer.name)
        (e.exposed ? v.exposed_addresses : v.closed_addresses).push_back(e.address.to_string());

    // flannel consistency matters where flannel's vxlan backend owns the road.
    const bool vxlan_backend = peer.cluster && peer.cluster->backend_type == "vxlan";
    const bool cluster_known = peers.self.has_value();
    if (in.kernel && ((vxlan_backend && peer.in_cluster) || (!peer.in_cluster && cluster_known))) {
      v.flannel_checked = true;
      if (peer.in_cluster) {
        v.flannel_inconsistencies = flannel_drift(peer);
      } else {
        v.flannel_inconsistencies.push_back(fmt::format(
            "the kernel routes {} through {} but no node in the cluster has that pod CIDR",
            peer.name, peer.kernel ? peer.kernel->device : in.overlay_device));
      }
    }
    report.peers.push_back(std::move(v));
  }

  std::vector<std::string> unjudged;
  for (const auto& v : report.peers)
    if (v.overlay_probe && !v.probes_judged) unjudged.push_back(v.peer);
  if (!unjudged.empty())
    report.notes.push_back(
        fmt::format("too few probes yet to judge loss and latency (at least {} needed) for: {}",
                    in.thresholds.min_probes, fmt::join(unjudged, ", ")));
  std::vector<std::string> mtu_unknown;
  for (const auto& v : report.peers)
    if (v.path_mtu_pending) mtu_unknown.push_back(v.peer);
  if (!mtu_unknown.empty())
    report.notes.push_back(
        fmt::format("path MTU search not finished yet for: {}", fmt::join(mtu_unknown, ", ")));

  report.findings =
      find_problems(report.self, report.peers, RuleContext{in.overlay_device, in.thresholds});
  return report;
}

}  // namespace podpath::analysis
