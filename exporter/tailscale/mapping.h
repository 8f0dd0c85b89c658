// Which road Tailscale gives each peer (direct, peer relay, DERP, idle), and which Tailscale
// peer carries each cluster peer's traffic. Pure functions over the parsed status and the
// peer model.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/peer.h"
#include "tailscale/status.h"

namespace podpath::tailscale {

enum class Transport {
  kDirect,       // CurAddr set: WireGuard talks to the peer's endpoint itself
  kPeerRelay,    // PeerRelay set: another tailnet node relays (UDP relay, tailscale 1.86+)
  kDerp,         // neither, and Relay names the DERP region carrying the traffic
  kNoHandshake,  // active (tailscaled is sending) but no WireGuard session was ever made
  kIdle,         // online, no traffic in tailscaled's two-minute window
  kOffline,      // not active and not online
  kUnknown,      // active, but tailscaled names no endpoint, peer relay or DERP region
};
std::string_view to_string(Transport transport);
// The value podpath_peer_path_info{transport} takes when pod traffic to the peer rides the
// tailnet (metrics contract): tailscale-direct, tailscale-derp, tailscale-peer-relay,
// tailscale-no-handshake; idle, offline and unknown give "unknown", since tailscaled cannot
// say which road the next packet takes.
std::string_view contract_transport(Transport transport);

struct PeerPath {
  Transport transport = Transport::kUnknown;
  std::string derp_region;  // the relaying region; set only for kDerp

  bool operator==(const PeerPath&) const = default;
};

// The same precedence as `tailscale status` (cmd/tailscale/cli/status.go): an inactive peer
// is "idle" whatever stale CurAddr or Relay it still shows, because those say how the last
// traffic went, not how the next packet will.
PeerPath classify_transport(const PeerStatus& peer);

// Why a Tailscale peer was matched to a cluster peer, strongest first.
enum class MatchReason {
  // The peer's pod CIDR lies inside one of the Tailscale peer's PrimaryRoutes/AllowedIPs:
  // with --accept-routes the kernel sends pod traffic through table 52 (policy rule 5270
  // comes before the main table, where flannel's route lives), so this peer carries it.
  kPodCidrRoute,
  // The peer's VTEP (flannel public-ip) is one of its TailscaleIPs: VXLAN rides the tailnet.
  kVtepAddress,
  // The peer's internal address is one of its TailscaleIPs: the same machine, but pod
  // traffic may take another road (e.g. VXLAN over a LAN).
  kInternalAddress,
};
std::string_view to_string(MatchReason reason);

struct Candidate {
  MatchReason match = MatchReason::kInternalAddress;
  std::size_t tailscale_index = 0;  // into Status::peers

  bool operator==(const Candidate&) const = default;
};

struct MappedPeer {
  std::string peer;                             // the cluster peer's name (model::Peer::name)
  model::Family family = model::Family::kIpv4;  // which of its roads (model::Peer::family)
  std::string group;
  bool same_group = false;
  // Every match, strongest reason first: the same Tailscale peer appears once per reason
  // (a node advertising its pod CIDR is usually also its VTEP's and internal address's
  // peer). candidates[0] is the one the metrics report; the analysis picks the one of the
  // reason the kernel's route lookup confirms (table 52 -> pod-cidr-route, flannel.1 ->
  // vtep-address).
  std::vector<Candidate> candidates;
  PeerStatus tailscale;  // the Tailscale peer of candidates[0]
  PeerPath path;         // its transport

  MatchReason match() const { return candidates.front().match; }
  bool operator==(const MappedPeer&) const = default;
};

struct Mapping {
  std::vector<MappedPeer> peers;       // cluster peers with a Tailscale match, by name and family
  std::size_t unmapped_tailscale = 0;  // Tailscale peers no cluster peer maps to
  std::size_t unmapped_cluster = 0;    // cluster peers with no Tailscale match

  bool operator==(const Mapping&) const = default;
};

// Matches every cluster peer against the Tailscale peers. Within pod-CIDR routes the longest
// prefix wins, as in the kernel; ties prefer PrimaryRoutes, then the lower node key.
Mapping map_peers(const model::PeerSet& peers, const Status& status);

}  // namespace podpath::tailscale
