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

namespace {
// The prober speaks IPv4 only so far: an IPv6 peer gets no target yet.
model::Ipv4 v4(const model::IpAddress& ip) {
  return model::Ipv4{ip.v4_value()};
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

Plan plan_targets(const model::PeerSet& peers, std::size_t max_peers) {
  Plan plan;
  const model::PeerSet v4_peers = peers.of_family(model::Family::kIpv4);
  plan.peers_total = v4_peers.peers.size();
  std::vector<SamplingCandidate> candidates;
  candidates.reserve(v4_peers.peers.size());
  // Only a labelled group is always probed: in an ungrouped cluster every pair is same-group
  // for the latency bound, and probing them all would make --prober.max-peers meaningless.
  for (const auto& peer : v4_peers.peers)
    candidates.push_back({peer.name, !peers.ungrouped && peers.same_group_as_self(peer.group)});
  for (std::size_t index : select_peers(peers.self_name, candidates, max_peers)) {
    const model::Peer& peer = v4_peers.peers[index];
    PeerLabels labels{peer.name, peer.group, peers.same_group_as_self(peer.group)};
    ++plan.peers_probed;
    if (peer.overlay_address) {
      plan.echo.push_back({labels, TargetKind::kOverlay, v4(*peer.overlay_address)});
      plan.pmtu.push_back({labels, v4(*peer.overlay_address)});
    }
    if (peer.vtep_address)
      plan.echo.push_back({labels, TargetKind::kUnderlay, v4(*peer.vtep_address)});
    // The exposure probe sends a VXLAN frame: only to a peer that takes VXLAN. A peer whose
    // annotations name another backend (wireguard, host-gw) has no VXLAN port to expose.
    const bool takes_vxlan = !peer.cluster || peer.cluster->backend_type.empty() ||
                             peer.cluster->backend_type == "vxlan";
    if (peer.overlay_address && !peer.vtep_mac.empty() && takes_vxlan) {
      for (auto address : public_addresses(peer))
        plan.exposure.push_back({labels, address, v4(*peer.overlay_address), peer.vtep_mac});
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
