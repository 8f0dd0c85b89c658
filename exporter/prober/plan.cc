#include "prober/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace podpath::prober {

std::string_view to_string(TargetKind kind) {
  return kind == TargetKind::kOverlay ? "overlay" : "underlay";
}

namespace {
model::Ipv4 v4(const model::IpAddress& ip) {
  return model::Ipv4{ip.v4_value()};
}

// The echo and path MTU targets of one peer's road: IPv4 ones go out on the ICMP channel,
// IPv6 ones on the ICMPv6 channel.
EchoSpec echo_spec(const PeerLabels& labels, TargetKind target, const model::IpAddress& ip) {
  if (ip.is_v4()) return {labels, target, v4(ip), model::Family::kIpv4, model::IpAddress()};
  return {labels, target, {}, model::Family::kIpv6, ip};
}
PmtuSpec pmtu_spec(const PeerLabels& labels, const model::IpAddress& ip) {
  if (ip.is_v4()) return {labels, v4(ip), model::Family::kIpv4, model::IpAddress()};
  return {labels, {}, model::Family::kIpv6, ip};
}
}  // namespace

std::vector<model::Ipv4> public_addresses(const model::Peer& peer) {
  std::vector<model::Ipv4> out;
  for (const auto& ip : peer.external_addresses)
    if (ip.is_v4()) out.push_back(v4(ip));
  if (peer.vtep_address && peer.vtep_address->is_v4() &&
      model::classify(*peer.vtep_address) == model::AddressScope::kGlobal)
    out.push_back(v4(*peer.vtep_address));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<model::IpAddress> public_addresses6(const model::Peer& peer) {
  std::vector<model::IpAddress> out;
  auto global6 = [](const model::IpAddress& ip) {
    return ip.is_v6() && model::classify(ip) == model::AddressScope::kGlobal;
  };
  for (const auto& ip : peer.external_addresses)
    if (global6(ip)) out.push_back(ip);
  if (peer.vtep_address && global6(*peer.vtep_address)) out.push_back(*peer.vtep_address);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<GraphNode> graph_nodes(const model::PeerSet& peers) {
  std::vector<GraphNode> nodes;
  nodes.reserve(peers.peers.size() + 1);
  nodes.push_back({peers.self_name, peers.self_group});
  // The graph joins nodes, not roads: a dual-stack peer's two Peers (next to each other,
  // PeerSet is sorted by name then family) are one node, probed in both families or not at all.
  for (const auto& peer : peers.peers)
    if (nodes.size() == 1 || nodes.back().name != peer.name)
      nodes.push_back({peer.name, peer.group});
  return nodes;
}

Plan plan_targets(const model::PeerSet& peers, std::size_t max_peers) {
  return plan_targets(
      peers, select_probes(graph_nodes(peers), {peers.self_name, peers.self_group}, max_peers));
}

Plan plan_targets(const model::PeerSet& peers, const ProbeSelection& selection) {
  Plan plan;
  plan.probed_by = selection.probed_by;
  plan.group_pairs = selection.coverage;
  const std::string* previous = nullptr;
  for (const model::Peer& peer : peers.peers) {
    const bool new_node = previous == nullptr || *previous != peer.name;
    previous = &peer.name;
    if (new_node) ++plan.peers_total;
    if (!std::binary_search(selection.peers.begin(), selection.peers.end(), peer.name)) continue;
    if (new_node) ++plan.peers_probed;
    const PeerLabels labels{peer.name, peer.group, peers.same_group_as_self(peer.group),
                            peer.family};
    if (peer.overlay_address) {
      plan.echo.push_back(echo_spec(labels, TargetKind::kOverlay, *peer.overlay_address));
      plan.pmtu.push_back(pmtu_spec(labels, *peer.overlay_address));
    }
    if (peer.vtep_address)
      plan.echo.push_back(echo_spec(labels, TargetKind::kUnderlay, *peer.vtep_address));
    // The exposure probe sends a VXLAN frame: only to a peer that takes VXLAN. A peer whose
    // annotations name another backend (wireguard, host-gw) has no VXLAN port to expose. The
    // IPv4 road's frame goes to flannel.1 over UDP/IPv4, the IPv6 road's to flannel-v6.1 (its
    // own MAC, backend-v6-data's VtepMAC) over UDP/IPv6.
    const bool takes_vxlan = !peer.cluster || peer.cluster->backend_type.empty() ||
                             peer.cluster->backend_type == "vxlan";
    if (peer.overlay_address && !peer.vtep_mac.empty() && takes_vxlan) {
      if (peer.family == model::Family::kIpv4 && peer.overlay_address->is_v4()) {
        for (auto address : public_addresses(peer))
          plan.exposure.push_back(
              {labels, address, v4(*peer.overlay_address), peer.vtep_mac, {}, {}});
      } else if (peer.family == model::Family::kIpv6 && peer.overlay_address->is_v6()) {
        for (const auto& address : public_addresses6(peer))
          plan.exposure.push_back({labels, {}, {}, peer.vtep_mac, address, *peer.overlay_address});
      }
    }
  }
  return plan;
}

base::Result<std::vector<model::Peer>> parse_static_targets(std::string_view text) {
  std::map<std::pair<std::string, model::Family>, model::Peer> peers;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  auto fail = [&](std::string why) {
    return base::Result<std::vector<model::Peer>>::failure(fmt::format("line {}: {}", number, why));
  };
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name, target, address, group, extra;
    if (!(fields >> name)) continue;
    if (!(fields >> target >> address))
      return fail("want \"<peer> <overlay|underlay> <IPv4 or IPv6> [group]\"");
    fields >> group;
    if (fields >> extra) return fail("too many fields");
    const bool v6 = address.find(':') != std::string::npos;
    auto ip = model::IpAddress::parse(address);
    if (!ip || ip->is_v6() != v6)
      return fail(fmt::format("\"{}\" is not an {} address", address, v6 ? "IPv6" : "IPv4"));
    model::Peer& peer = peers[{name, ip->family()}];
    peer.name = name;
    peer.family = ip->family();
    if (!group.empty()) peer.group = group;
    if (target == "overlay") {
      peer.overlay_address = ip;
    } else if (target == "underlay") {
      peer.vtep_address = ip;
    } else {
      return fail(fmt::format("target \"{}\" is not overlay or underlay", target));
    }
  }
  std::vector<model::Peer> out;
  for (auto& [key, peer] : peers) out.push_back(std::move(peer));
  // One group per peer name, whichever line set it.
  for (auto& peer : out)
    for (const auto& other : out)
      if (other.name == peer.name && peer.group.empty()) peer.group = other.group;
  return out;
}

}  // namespace podpath::prober
