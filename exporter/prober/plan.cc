#include "prober/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

namespace podpath::prober {

std::string_view to_string(TargetKind kind) {
  return kind == TargetKind::kOverlay ? "overlay" : "underlay";
}

std::vector<model::Ipv4> public_addresses(const model::Peer& peer) {
  std::vector<model::Ipv4> out = peer.external_addresses;
  if (peer.vtep_address && model::classify(*peer.vtep_address) == model::AddressScope::kGlobal)
    out.push_back(*peer.vtep_address);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<GraphNode> graph_nodes(const model::PeerSet& peers) {
  std::vector<GraphNode> nodes;
  nodes.reserve(peers.peers.size() + 1);
  nodes.push_back({peers.self_name, peers.self_group});
  for (const auto& peer : peers.peers) nodes.push_back({peer.name, peer.group});
  return nodes;
}

Plan plan_targets(const model::PeerSet& peers, std::size_t max_peers) {
  return plan_targets(
      peers, select_probes(graph_nodes(peers), {peers.self_name, peers.self_group}, max_peers));
}

Plan plan_targets(const model::PeerSet& peers, const ProbeSelection& selection) {
  Plan plan;
  plan.peers_total = peers.peers.size();
  plan.probed_by = selection.probed_by;
  plan.group_pairs = selection.coverage;
  for (const model::Peer& peer : peers.peers) {
    if (!std::binary_search(selection.peers.begin(), selection.peers.end(), peer.name)) continue;
    PeerLabels labels{peer.name, peer.group, peers.same_group_as_self(peer.group)};
    ++plan.peers_probed;
    if (peer.overlay_address) {
      plan.echo.push_back({labels, TargetKind::kOverlay, *peer.overlay_address});
      plan.pmtu.push_back({labels, *peer.overlay_address});
    }
    if (peer.vtep_address) plan.echo.push_back({labels, TargetKind::kUnderlay, *peer.vtep_address});
    // The exposure probe sends a VXLAN frame: only to a peer that takes VXLAN. A peer whose
    // annotations name another backend (wireguard, host-gw) has no VXLAN port to expose.
    const bool takes_vxlan = !peer.cluster || peer.cluster->backend_type.empty() ||
                             peer.cluster->backend_type == "vxlan";
    if (peer.overlay_address && !peer.vtep_mac.empty() && takes_vxlan) {
      for (auto address : public_addresses(peer))
        plan.exposure.push_back({labels, address, *peer.overlay_address, peer.vtep_mac});
    }
  }
  return plan;
}

base::Result<std::vector<model::Peer>> parse_static_targets(std::string_view text) {
  std::map<std::string, model::Peer> peers;
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
      return fail("want \"<peer> <overlay|underlay> <IPv4> [group]\"");
    fields >> group;
    if (fields >> extra) return fail("too many fields");
    auto ip = model::Ipv4::parse(address);
    if (!ip) return fail(fmt::format("\"{}\" is not an IPv4 address", address));
    model::Peer& peer = peers[name];
    peer.name = name;
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
  for (auto& [name, peer] : peers) out.push_back(std::move(peer));
  return out;
}

}  // namespace podpath::prober
