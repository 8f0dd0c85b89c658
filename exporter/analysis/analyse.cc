#include "analysis/analyse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace podpath::analysis {

std::string_view to_string(Carrier carrier) {
  switch (carrier) {
    case Carrier::kVxlan:
      return "vxlan";
    case Carrier::kHostGw:
      return "host-gw";
    case Carrier::kWireguard:
      return "wireguard";
    case Carrier::kTailscaleSubnetRoute:
      return "tailscale-subnet-route";
    case Carrier::kNone:
      return "none";
  }
  return "none";
}

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kLan:
      return "lan";
    case Transport::kTailscaleDirect:
      return "tailscale-direct";
    case Transport::kTailscaleDerp:
      return "tailscale-derp";
    case Transport::kTailscalePeerRelay:
      return "tailscale-peer-relay";
    case Transport::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

bool NodeReport::has_critical() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kCritical; });
}

bool NodeReport::awaiting_probes() const {
  return std::any_of(peers.begin(), peers.end(), [](const PeerVerdict& v) {
    return (v.overlay_probe && !v.probes_judged) || v.path_mtu_pending;
  });
}

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

std::string ms(double seconds) {
  if (seconds < 0.001) return fmt::format("{:.2f} ms", seconds * 1000);
  if (seconds < 0.010) return fmt::format("{:.1f} ms", seconds * 1000);
  return fmt::format("{:.0f} ms", seconds * 1000);
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

void add(std::vector<Finding>& findings, Severity severity, std::string code, std::string peer,
         std::string message, std::string fix) {
  findings.push_back(
      Finding{severity, std::move(code), std::move(peer), std::move(message), std::move(fix)});
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

  // Findings, in the field report's terms.
  auto& findings = report.findings;
  const auto& t = in.thresholds;
  if (report.self.public_ip && report.self.public_ip_scope == "global")
    add(findings, Severity::kCritical, "vtep-public-address", "",
        fmt::format("this node advertises the public address {} as its VTEP (flannel public-ip): "
                    "peers send unauthenticated VXLAN to it over the internet",
                    report.self.public_ip->to_string()),
        "use a private or tailnet address for flannel's public-ip (--flannel-iface / "
        "--node-ip) and allow UDP 8472 on private networks only");
  for (const auto& v : report.peers) {
    const std::string vtep = v.vtep_address ? v.vtep_address->to_string() : "?";
    if (v.route_via_derp()) {
      std::string road = "rides tailscale0 as a subnet route";
      if (v.carrier == Carrier::kVxlan) road = "is VXLAN inside " + v.underlay_device;
      if (v.carrier == Carrier::kWireguard) road = "is WireGuard inside " + v.underlay_device;
      add(findings, Severity::kCritical, "route-via-derp", v.peer,
          fmt::format("pod traffic to {} {} and Tailscale relays it through DERP '{}': "
                      "traffic between nodes leaves for the relay and comes back{}",
                      v.peer, road, v.derp_region,
                      v.same_group ? " (same group: VMs on one host detour far away)" : ""),
          "give the nodes a direct path (a shared LAN made their default route, e.g. vmnet "
          "lima0) so flannel's public-ip moves to it, or fix the NAT that blocks a direct "
          "Tailscale connection");
    }
    if (v.double_encapsulation)
      add(findings, Severity::kWarning, "double-encapsulation", v.peer,
          fmt::format("pod traffic to {} is {} whose VTEP {} is reached through {}: "
                      "double encapsulation (flannel inside WireGuard)",
                      v.peer, v.carrier == Carrier::kVxlan ? "VXLAN" : "WireGuard", vtep,
                      v.underlay_device),
          "advertise a LAN address as flannel's public-ip where nodes share a network, or "
          "carry pod CIDRs as Tailscale subnet routes instead of VXLAN over the tailnet");
    const bool encapsulated = v.carrier == Carrier::kVxlan || v.carrier == Carrier::kWireguard;
    if (encapsulated && v.overlay_mtu && v.computed_mtu && *v.computed_mtu < *v.overlay_mtu)
      add(findings, Severity::kWarning, "path-mtu-too-small", v.peer,
          fmt::format("{} MTU {} exceeds the path MTU {} to {} ({})", in.overlay_device,
                      *v.overlay_mtu, *v.computed_mtu, v.peer, v.mtu_chain),
          fmt::format("set flannel's MTU to at most {} or remove the extra encapsulation",
                      *v.computed_mtu));
    // Probed too, only where flannel encapsulates: on a routed road (subnet route, host-gw)
    // a smaller device MTU makes this node answer "fragmentation needed" to its pods, so
    // nothing is lost silently (the same rule as PodpathPathMTUTooSmall).
    else if (encapsulated && v.overlay_mtu && v.probed_mtu && *v.probed_mtu < *v.overlay_mtu)
      add(findings, Severity::kWarning, "path-mtu-too-small", v.peer,
          fmt::format("{} MTU {} exceeds the probed path MTU {} to {}: larger packets are "
                      "dropped (MTU black hole)",
                      in.overlay_device, *v.overlay_mtu, *v.probed_mtu, v.peer),
          fmt::format("find the hop with the small MTU (ping -M do -s {} {}) and raise it, or "
                      "lower flannel's MTU to {}",
                      *v.overlay_mtu - 28, vtep, *v.probed_mtu));
    for (const auto& address : v.exposed_addresses)
      add(findings, Severity::kCritical, "vxlan-public-exposed", v.peer,
          fmt::format("UDP 8472 answers on public address {} ({}): VXLAN has no "
                      "authentication, anyone can inject packets into the pod network",
                      address, v.peer),
          "allow UDP 8472 on private networks only (e.g. the VPC range), never 0.0.0.0/0");
    if (!v.flannel_inconsistencies.empty())
      add(findings, Severity::kWarning, "flannel-drift", v.peer,
          fmt::format("kernel and annotations disagree for {}: {}", v.peer,
                      fmt::join(v.flannel_inconsistencies, "; ")),
          "restart flannel (k3s) on this node so it reprograms its FDB, neighbour and route "
          "entries from the annotations");
    const auto overlay_loss = v.overlay_probe ? v.overlay_probe->loss_ratio() : std::nullopt;
    const auto underlay_loss = v.underlay_probe ? v.underlay_probe->loss_ratio() : std::nullopt;
    const bool overlay_judged = v.overlay_probe && v.overlay_probe->sent >= t.min_probes;
    const bool underlay_judged = v.underlay_probe && v.underlay_probe->sent >= t.min_probes;
    const bool route_looked_up = !v.route_device.empty() || !v.route_error.empty();
    if (v.carrier == Carrier::kNone && route_looked_up) {
      add(findings, Severity::kCritical, "no-route", v.peer,
          fmt::format("no route carries pod traffic to {} ({}{})", v.peer,
                      v.route_error.empty() ? "route via " + v.route_device : v.route_error,
                      v.route_table.empty() ? "" : ", table " + v.route_table),
          "check flannel on both nodes (ip route get, bridge fdb show dev flannel.1)");
    } else if (v.probes_judged && overlay_loss && *overlay_loss >= 1.0) {
      // probes_judged: the underlay window is judged too, so a VTEP that has not answered
      // yet is not taken for an unreachable peer.
      if (v.ready && underlay_judged && underlay_loss && *underlay_loss < 1.0)
        add(findings, Severity::kCritical, "overlay-blocked", v.peer,
            fmt::format("every overlay probe to {} is lost while its VTEP {} answers ping: the "
                        "VXLAN road is blocked (UDP 8472 filtered between the nodes?)",
                        v.peer, vtep),
            "allow UDP 8472 between the nodes' VTEP addresses on their private network");
      else if (v.ready)
        add(findings, Severity::kCritical, "peer-unreachable", v.peer,
            fmt::format("{} answers neither on the overlay nor at its VTEP {}", v.peer, vtep),
            "check that the node is up and its addresses are reachable from here");
    }
    if (overlay_judged && v.overlay_probe->rtt_seconds) {
      const double rtt = *v.overlay_probe->rtt_seconds;
      const double bound = v.same_group ? t.same_group_rtt_seconds : t.cross_group_rtt_seconds;
      if (rtt > bound)
        add(findings, Severity::kWarning, "latency-high", v.peer,
            fmt::format("overlay RTT to {} is {}, above the {} bound for {} nodes{}", v.peer,
                        ms(rtt), ms(bound), v.same_group ? "same-group" : "cross-group",
                        v.same_group ? " (Longhorn needs < 20 ms)" : ""),
            v.route_via_derp() ? "remove the DERP detour (see route-via-derp)"
                               : "keep latency-sensitive workloads within one group "
                                 "(nodeSelector on the group label)");
    }
  }
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.code != b.code) return a.code < b.code;
    return a.peer < b.peer;
  });
  return report;
}

}  // namespace podpath::analysis
