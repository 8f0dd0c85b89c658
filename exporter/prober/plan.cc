#include "prober/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "prober/sampling.h"

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

Plan plan_targets(const model::PeerSet& peers, std::size_t max_peers) {
  Plan plan;
  plan.peers_total = peers.peers.size();
  std::vector<SamplingCandidate> candidates;
  candidates.reserve(peers.peers.size());
  // Only a labelled group is always probed: in an ungrouped cluster every pair is same-group
  // for the latency bound, and probing them all would make --prober.max-peers meaningless.
  for (const auto& peer : peers.peers)
    candidates.push_back({peer.name, !peers.ungrouped && peers.same_group_as_self(peer.group)});
  for (std::size_t index : select_peers(peers.self_name, candidates, max_peers)) {
    const model::Peer& peer = peers.peers[index];
    PeerLabels labels{peer.name, peer.group, peers.same_group_as_self(peer.group)};
    ++plan.peers_probed;
    if (peer.overlay_address) {
      plan.echo.push_back({labels, TargetKind::kOverlay, *peer.overlay_address,
                           model::Family::kIpv4, model::IpAddress()});
      plan.pmtu.push_back(
          {labels, *peer.overlay_address, model::Family::kIpv4, model::IpAddress()});
    }
    if (peer.overlay_address_v6 && peer.overlay_address_v6->is_v6()) {
      plan.echo.push_back(
          {labels, TargetKind::kOverlay, {}, model::Family::kIpv6, *peer.overlay_address_v6});
      plan.pmtu.push_back({labels, {}, model::Family::kIpv6, *peer.overlay_address_v6});
    }
    if (peer.vtep_address)
      plan.echo.push_back({labels, TargetKind::kUnderlay, *peer.vtep_address, model::Family::kIpv4,
                           model::IpAddress()});
    if (peer.vtep_address_v6 && peer.vtep_address_v6->is_v6())
      plan.echo.push_back(
          {labels, TargetKind::kUnderlay, {}, model::Family::kIpv6, *peer.vtep_address_v6});
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
      return fail("want \"<peer> <overlay|underlay> <IPv4 or IPv6> [group]\"");
    fields >> group;
    if (fields >> extra) return fail("too many fields");
    const bool v6 = address.find(':') != std::string::npos;
    auto ip = model::IpAddress::parse(address);
    if (!ip || ip->is_v6() != v6)
      return fail(fmt::format("\"{}\" is not an {} address", address, v6 ? "IPv6" : "IPv4"));
    model::Peer& peer = peers[name];
    peer.name = name;
    if (!group.empty()) peer.group = group;
    if (target == "overlay") {
      if (v6) {
        peer.overlay_address_v6 = ip;
      } else {
        peer.overlay_address = model::Ipv4{ip->v4_value()};
      }
    } else if (target == "underlay") {
      if (v6) {
        peer.vtep_address_v6 = ip;
      } else {
        peer.vtep_address = model::Ipv4{ip->v4_value()};
      }
    } else {
      return fail(fmt::format("target \"{}\" is not overlay or underlay", target));
    }
  }
  std::vector<model::Peer> out;
  for (auto& [name, peer] : peers) out.push_back(std::move(peer));
  return out;
}

}  // namespace podpath::prober
