#include "tailscale/mapping.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

namespace podpath::tailscale {

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kDirect:
      return "direct";
    case Transport::kPeerRelay:
      return "peer-relay";
    case Transport::kDerp:
      return "derp";
    case Transport::kNoHandshake:
      return "no-handshake";
    case Transport::kIdle:
      return "idle";
    case Transport::kOffline:
      return "offline";
    case Transport::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view contract_transport(Transport transport) {
  switch (transport) {
    case Transport::kDirect:
      return "tailscale-direct";
    case Transport::kPeerRelay:
      return "tailscale-peer-relay";
    case Transport::kDerp:
      return "tailscale-derp";
    case Transport::kNoHandshake:
      return "tailscale-no-handshake";
    case Transport::kIdle:
    case Transport::kOffline:
    case Transport::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view to_string(MatchReason reason) {
  switch (reason) {
    case MatchReason::kPodCidrRoute:
      return "pod-cidr-route";
    case MatchReason::kVtepAddress:
      return "vtep-address";
    case MatchReason::kInternalAddress:
      break;
  }
  return "internal-address";
}

// In the order tailscale's CLI decides (cmd/tailscale/cli/status.go, printPS): a peer that
// is not Active is idle or offline; an Active one is direct when CurAddr is set, else on its
// peer relay, else relayed by its DERP region. The CLI prints that relay even when no
// handshake was ever made; podpath names that state apart, since no session exists at all.
PeerPath classify_transport(const PeerStatus& peer) {
  if (!peer.active) return {peer.online ? Transport::kIdle : Transport::kOffline, ""};
  if (!peer.cur_addr.empty()) return {Transport::kDirect, ""};
  if (!peer.peer_relay.empty()) return {Transport::kPeerRelay, ""};
  if (!peer.last_handshake_unix_seconds) return {Transport::kNoHandshake, peer.relay};
  if (!peer.relay.empty()) return {Transport::kDerp, peer.relay};
  return {Transport::kUnknown, ""};
}

namespace {

// Lookup tables over the status, built once per mapping so 5,000 cluster peers against
// 5,000 Tailscale peers stay n log n instead of quadratic.
struct Index {
  std::map<model::IpAddress, std::size_t> by_address;  // TailscaleIPs
  struct Route {
    std::size_t index;
    bool primary;
  };
  std::map<model::IpPrefix, std::vector<Route>> by_route;  // PrimaryRoutes, AllowedIPs

  explicit Index(const Status& status) {
    for (std::size_t i = 0; i < status.peers.size(); ++i) {
      const PeerStatus& peer = status.peers[i];
      // Peers are sorted by key, so emplace keeping the first makes duplicates deterministic.
      for (const auto& ip : peer.tailscale_ips) by_address.emplace(ip, i);
      for (const auto& route : peer.primary_routes) by_route[route].push_back({i, true});
      for (const auto& route : peer.allowed_ips) {
        auto& routes = by_route[route];
        // AllowedIPs repeats the primary routes; one entry per peer and prefix is enough.
        if (std::none_of(routes.begin(), routes.end(),
                         [&](const Route& r) { return r.index == i; }))
          routes.push_back({i, false});
      }
    }
  }

  std::optional<std::size_t> address(const model::IpAddress& ip) const {
    auto it = by_address.find(ip);
    if (it == by_address.end()) return std::nullopt;
    return it->second;
  }

  // The Tailscale peer with the longest route containing `cidr` (of the same family).
  std::optional<std::size_t> route(const model::IpPrefix& cidr) const {
    for (int length = cidr.length(); length >= 0; --length) {
      auto it = by_route.find(model::IpPrefix(cidr.address(), length));
      if (it == by_route.end()) continue;
      const Route* best = nullptr;
      for (const auto& r : it->second) {
        if (best == nullptr || (r.primary && !best->primary) ||
            (r.primary == best->primary && r.index < best->index))
          best = &r;
      }
      return best->index;
    }
    return std::nullopt;
  }
};

}  // namespace

Mapping map_peers(const model::PeerSet& peers, const Status& status) {
  const Index index(status);
  Mapping mapping;
  std::vector<bool> used(status.peers.size(), false);
  for (const model::Peer& peer : peers.peers) {
    std::vector<Candidate> candidates;
    auto add = [&](MatchReason reason, std::optional<std::size_t> found) {
      if (!found) return;
      const Candidate candidate{reason, *found};
      // Two internal addresses of one node both naming the same peer count once.
      if (std::find(candidates.begin(), candidates.end(), candidate) == candidates.end())
        candidates.push_back(candidate);
    };
    if (peer.pod_cidr) add(MatchReason::kPodCidrRoute, index.route(*peer.pod_cidr));
    if (peer.vtep_address) add(MatchReason::kVtepAddress, index.address(*peer.vtep_address));
    for (const auto& ip : peer.internal_addresses)
      add(MatchReason::kInternalAddress, index.address(ip));
    if (candidates.empty()) {
      ++mapping.unmapped_cluster;
      continue;
    }
    for (const auto& c : candidates) used[c.tailscale_index] = true;
    const PeerStatus& tailscale = status.peers[candidates.front().tailscale_index];
    mapping.peers.push_back(MappedPeer{.peer = peer.name,
                                       .family = peer.family,
                                       .group = peer.group,
                                       .same_group = peers.same_group_as_self(peer.group),
                                       .candidates = std::move(candidates),
                                       .tailscale = tailscale,
                                       .path = classify_transport(tailscale)});
  }
  mapping.unmapped_tailscale =
      static_cast<std::size_t>(std::count(used.begin(), used.end(), false));
  // PeerSet is sorted already; sorting here keeps the promise without relying on it.
  std::sort(mapping.peers.begin(), mapping.peers.end(),
            [](const MappedPeer& a, const MappedPeer& b) {
              return std::tie(a.peer, a.family) < std::tie(b.peer, b.family);
            });
  return mapping;
}

}  // namespace podpath::tailscale
