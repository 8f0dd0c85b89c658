#include "analysis/analyse.h"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/flannel_consistency.h"
#include "analysis/road.h"
#include "analysis/rules.h"

namespace podpath::analysis {

namespace {

// k3s --vpn-auth makes tailscaled advertise the node's pod CIDR (k3s-io/k3s
// pkg/agent/flannel/setup.go, tailscaledBackend: `tailscale set --advertise-routes=$SUBNET`):
// once the route is approved, Self.PrimaryRoutes holds it.
std::string pod_cidr_served_by_tailscale(const Inputs& in) {
  if (!in.peers.self || !in.peers.self->pod_cidr || !in.tailscale || !in.tailscale->status ||
      !in.tailscale->status->self)
    return "";
  const auto& routes = in.tailscale->status->self->primary_routes;
  const bool served =
      std::find(routes.begin(), routes.end(), *in.peers.self->pod_cidr) != routes.end();
  return served ? in.peers.self->pod_cidr->to_string() : "";
}

// This node as its annotations and subnet.env describe it; its flannel device fills in what
// the annotations leave out (the API is off or has not answered yet).
NodeIdentity describe_node(const Inputs& in, const netlink::Link* overlay_link,
                           const netlink::Link* overlay_link_v6) {
  NodeIdentity self;
  self.node = in.peers.self_name;
  self.group = in.peers.self_group;
  if (in.peers.self) {
    self.backend_type = in.peers.self->backend_type;
    self.public_ip = in.peers.self->public_ip;
    self.vtep_mac = in.peers.self->vtep_mac;
    self.vni = in.peers.self->vni;
    self.public_ipv6 = in.peers.self->ipv6.public_ip;
    self.vtep_mac_v6 = in.peers.self->ipv6.vtep_mac;
  }
  if (in.subnet_env) {
    self.flannel_network = in.subnet_env->network;
    self.flannel_subnet = in.subnet_env->subnet;
    self.flannel_mtu = in.subnet_env->mtu;
    self.flannel_ipv6_network = in.subnet_env->ipv6_network;
    self.flannel_ipv6_subnet = in.subnet_env->ipv6_subnet;
  }
  if (overlay_link != nullptr && overlay_link->vxlan) {
    if (!self.public_ip) self.public_ip = model::Ipv4::parse(overlay_link->vxlan->local);
    if (self.vtep_mac.empty()) self.vtep_mac = overlay_link->mac;
    if (!self.vni) self.vni = static_cast<int>(overlay_link->vxlan->vni);
  }
  if (overlay_link_v6 != nullptr && overlay_link_v6->vxlan) {
    if (!self.public_ipv6)
      self.public_ipv6 = model::IpAddress::parse(overlay_link_v6->vxlan->local);
    if (self.vtep_mac_v6.empty()) self.vtep_mac_v6 = overlay_link_v6->mac;
  }
  self.pod_cidr_tailscale_route = pod_cidr_served_by_tailscale(in);
  if (in.tailscale && in.tailscale->status) {
    const tailscale::Status& status = *in.tailscale->status;
    self.tailscale = true;
    self.tailscale_backend_state = status.backend_state;
    self.tailscale_health = status.health;
    if (status.self) {
      self.tailscale_home_derp = status.self->relay;
      self.tailscale_key_expiry_unix_seconds = status.self->key_expiry_unix_seconds;
      self.tailscale_key_expired = status.self->expired;
    }
  }
  // Only tailscaled can tell a tailnet address from a CGNAT provider's (both 100.64.0.0/10).
  const std::vector<model::Ipv4> tailnet = in.tailscale && in.tailscale->status
                                               ? tailscale::tailnet_addresses(*in.tailscale->status)
                                               : std::vector<model::Ipv4>{};
  if (self.public_ip)
    self.public_ip_scope = std::string(model::to_string(model::classify(*self.public_ip, tailnet)));
  if (self.public_ipv6)
    self.public_ipv6_scope =
        std::string(model::to_string(model::classify(*self.public_ipv6, tailnet)));
  return self;
}

std::string vxlan_detail(const netlink::Vxlan& vxlan) {
  return fmt::format("vxlan id {} local {}{} dstport {}", vxlan.vni, vxlan.local,
                     vxlan.underlay_device.empty() ? " (no underlay device: routed)"
                                                   : " dev " + vxlan.underlay_device,
                     vxlan.dstport);
}

bool in_chain(const std::vector<LinkSummary>& chain, const std::string& name) {
  return std::any_of(chain.begin(), chain.end(),
                     [&](const LinkSummary& s) { return s.name == name; });
}

// The overlay devices (flannel.1, then flannel-v6.1), the devices that carry them, and
// Tailscale's devices.
std::vector<LinkSummary> device_chain(const netlink::KernelSnapshot& kernel,
                                      std::initializer_list<const netlink::Link*> overlay_links) {
  std::vector<LinkSummary> chain;
  for (const netlink::Link* overlay_link : overlay_links) {
    if (overlay_link == nullptr) continue;
    const auto& vxlan = overlay_link->vxlan;
    chain.push_back({overlay_link->name, overlay_link->kind, overlay_link->mtu,
                     vxlan ? vxlan_detail(*vxlan) : ""});
    if (vxlan && !vxlan->underlay_device.empty())
      if (const auto* under = kernel.link_by_name(vxlan->underlay_device);
          under != nullptr && !in_chain(chain, under->name))
        chain.push_back({under->name, under->kind, under->mtu, ""});
  }
  for (const auto& link : kernel.links)
    if (is_tailscale_device(&link, 0) && !in_chain(chain, link.name))
      chain.push_back({link.name, link.kind, link.mtu, ""});
  return chain;
}

// What pods are told: the flannel device's MTU, else subnet.env's.
std::optional<int> pod_mtu(const Inputs& in, const netlink::Link* overlay_link) {
  if (overlay_link != nullptr) return static_cast<int>(overlay_link->mtu);
  return in.subnet_env ? in.subnet_env->mtu : std::nullopt;
}

// The sources this analysis had to do without.
std::vector<std::string> missing_source_notes(const Inputs& in) {
  std::vector<std::string> notes;
  if (!in.kernel) notes.push_back("netlink collector off: roads and MTUs are not known");
  if (in.tailscale && in.tailscale->stale())
    notes.push_back(fmt::format("Tailscale status is stale: {}", in.tailscale->error));
  if (!in.prober_enabled) notes.push_back("prober off: no RTT, loss or path MTU probes");
  if (!in.subnet_env_refused.empty())
    notes.push_back(fmt::format("flannel's subnet.env was refused ({}); {}", in.subnet_env_refused,
                                in.subnet_env ? "the flannel identity shows its last good copy"
                                              : "the flannel identity lacks its subnet and MTU"));
  if (in.peers.ungrouped && !in.peers.peers.empty())
    notes.push_back(fmt::format(
        "no node carries the group label (--peers.group-label), so the cluster is one group: "
        "every pair is held to the same-group bound of {}; label each site's nodes (kubectl "
        "label node NODE topology.kubernetes.io/zone=SITE) to hold pairs across sites to {}",
        milliseconds_text(in.thresholds.same_group_rtt_seconds),
        milliseconds_text(in.thresholds.cross_group_rtt_seconds)));
  return notes;
}

// "lima-k3s-agent", or "lima-k3s-agent (IPv6)" for an IPv6 road.
std::string road_name(const PeerVerdict& v) {
  return v.family == model::Family::kIpv6 ? v.peer + " (IPv6)" : v.peer;
}

// The peers whose probes cannot be judged yet, by name.
std::vector<std::string> unfinished_probe_notes(const std::vector<PeerVerdict>& peers,
                                                std::uint64_t min_probes) {
  std::vector<std::string> unjudged;
  std::vector<std::string> mtu_unknown;
  for (const auto& v : peers) {
    if (v.overlay_probe && !v.probes_judged) unjudged.push_back(road_name(v));
    if (v.path_mtu_pending) mtu_unknown.push_back(road_name(v));
  }
  std::vector<std::string> notes;
  if (!unjudged.empty())
    notes.push_back(
        fmt::format("too few probes yet to judge loss and latency (at least {} needed) for: {}",
                    min_probes, fmt::join(unjudged, ", ")));
  if (!mtu_unknown.empty())
    notes.push_back(
        fmt::format("path MTU search not finished yet for: {}", fmt::join(mtu_unknown, ", ")));
  return notes;
}

template <typename Value>
std::optional<Value> find_peer(const std::map<PeerKey, Value>& by_peer, const PeerKey& peer) {
  auto it = by_peer.find(peer);
  return it != by_peer.end() ? std::optional<Value>(it->second) : std::nullopt;
}

// Loss and latency are judged once the window holds enough overlay probes, plus as many
// underlay probes when every overlay probe was lost: those tell a blocked overlay from an
// unreachable peer.
bool enough_probes(const ProbeStats& overlay, const std::optional<ProbeStats>& underlay,
                   std::uint64_t min_probes) {
  const bool all_lost = overlay.received == 0;
  return overlay.sent >= min_probes && (!all_lost || !underlay || underlay->sent >= min_probes);
}

void record_probes(const Inputs& in, PeerVerdict& v) {
  const PeerKey key(v.peer, v.family);
  v.probed_mtu = find_peer(in.probed_mtu, key);
  v.path_mtu_pending = in.path_mtu_pending.contains(key);
  v.overlay_probe = find_peer(in.overlay_probes, key);
  v.underlay_probe = find_peer(in.underlay_probes, key);
  if (v.overlay_probe)
    v.probes_judged = enough_probes(*v.overlay_probe, v.underlay_probe, in.thresholds.min_probes);
}

void record_exposure(const std::vector<ExposureObservation>& exposure, PeerVerdict& v) {
  for (const auto& e : exposure)
    if (e.peer == v.peer && e.address.family() == v.family)
      (e.exposed ? v.exposed_addresses : v.closed_addresses).push_back(e.address.to_string());
}

// The WireGuard peers of this node's flannel-wg devices that map to the peer.
void record_wireguard(const wireguard::Snapshot& snapshot, PeerVerdict& v) {
  for (const wireguard::PeerState* state : snapshot.find(v.peer, v.family)) {
    const wireguard::Peer& wg = state->wireguard;
    v.wireguard.push_back(WireguardPeerState{
        state->device, wg.public_key, wg.endpoint ? wg.endpoint->to_string() : "",
        state->handshake_age_seconds(snapshot.read_at), state->sending(), wg.rx_bytes, wg.tx_bytes,
        wg.persistent_keepalive_seconds});
  }
}

void check_flannel(const Inputs& in, const model::Peer& peer, PeerVerdict& v) {
  // DirectRouting's route via the peer's public-ip is flannel's own choice for a peer on this
  // node's subnet; flannel writes no FDB or neighbour entry for it (vxlan_network.go), and
  // the route's gateway already matched the public-ip annotation to be classified so.
  if (v.carrier == Carrier::kDirectRouting) {
    v.flannel_checked = true;
    return;
  }
  auto inconsistencies = flannel_inconsistencies(
      peer, in.peers.self.has_value(),
      peer.family == model::Family::kIpv6 ? in.overlay_device_v6 : in.overlay_device);
  v.flannel_checked = inconsistencies.has_value();
  if (inconsistencies) v.flannel_inconsistencies = std::move(*inconsistencies);
}

PeerVerdict judge_peer(const Inputs& in, const model::Peer& peer, std::optional<int> overlay_mtu) {
  PeerVerdict v;
  v.peer = peer.name;
  v.family = peer.family;
  v.group = peer.group;
  v.same_group = in.peers.same_group_as_self(peer.group);
  v.ready = peer.ready;
  v.unschedulable = peer.unschedulable;
  if (peer.cluster) v.backend_type = peer.cluster->backend_type;
  v.vtep_address = peer.vtep_address;
  v.overlay_mtu = overlay_mtu;
  if (in.kernel) trace_road(*in.kernel, in.tailscale, peer, v);
  if (in.tailscale)
    if (const tailscale::MappedPeer* mapped = in.tailscale->find(peer.name, peer.family)) {
      v.tailscale_peer = tailscale::display_name(mapped->tailscale);
      v.tailscale_key_expiry_unix_seconds = mapped->tailscale.key_expiry_unix_seconds;
      v.tailscale_key_expired = mapped->tailscale.expired;
    }
  record_probes(in, v);
  record_exposure(in.exposure, v);
  if (in.wireguard) record_wireguard(*in.wireguard, v);
  if (in.kernel) check_flannel(in, peer, v);
  return v;
}

}  // namespace

NodeReport analyse(const Inputs& in) {
  auto link = [&](const std::string& name) {
    return in.kernel ? in.kernel->link_by_name(name) : nullptr;
  };
  const netlink::Link* overlay_link = link(in.overlay_device);
  const netlink::Link* overlay_link_v6 = link(in.overlay_device_v6);
  NodeReport report;
  report.self = describe_node(in, overlay_link, overlay_link_v6);
  if (in.kernel) report.device_chain = device_chain(*in.kernel, {overlay_link, overlay_link_v6});
  report.notes = missing_source_notes(in);
  // subnet.env's FLANNEL_MTU is one figure for both families (flannel pkg/subnet/subnet.go,
  // WriteSubnetFile); each family's flannel device has its own MTU.
  const std::optional<int> overlay_mtu = pod_mtu(in, overlay_link);
  const std::optional<int> overlay_mtu_v6 = pod_mtu(in, overlay_link_v6);
  for (const auto& peer : in.peers.peers)
    report.peers.push_back(
        judge_peer(in, peer, peer.family == model::Family::kIpv6 ? overlay_mtu_v6 : overlay_mtu));
  for (auto& note : unfinished_probe_notes(report.peers, in.thresholds.min_probes))
    report.notes.push_back(std::move(note));
  report.now_unix_seconds = in.now_unix_seconds;
  report.prober_enabled = in.prober_enabled;
  report.findings = find_problems(
      report.self, report.peers,
      RuleContext{in.overlay_device, in.thresholds, in.now_unix_seconds, in.overlay_device_v6});
  return report;
}

}  // namespace podpath::analysis
