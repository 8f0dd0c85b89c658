// What to probe, derived from the peer set: echo targets (overlay and underlay per peer), path
// MTU searches (overlay) and VXLAN exposure checks (each public address). Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/ip.h"
#include "model/peer.h"
#include "model/peer_labels.h"
#include "prober/probe_graph.h"

namespace podpath::prober {

enum class TargetKind { kOverlay, kUnderlay };
std::string_view to_string(TargetKind kind);

using model::PeerLabels;

// An IPv6 target (family kIpv6) goes out on the ICMPv6 channel to address6; an IPv4 one to
// address, as before IPv6 came.
struct EchoSpec {
  PeerLabels labels;
  TargetKind target = TargetKind::kOverlay;
  model::Ipv4 address;
  model::Family family = model::Family::kIpv4;
  model::IpAddress address6;  // kIpv6 only
};

struct PmtuSpec {
  PeerLabels labels;
  model::Ipv4 overlay;
  model::Family family = model::Family::kIpv4;
  model::IpAddress overlay6;  // kIpv6 only
};

// An IPv4 check (family kIpv4) sends UDP/IPv4 to address and asks overlay (flannel.1); an IPv6
// one (labels.family kIpv6) sends UDP/IPv6 to address6 and asks overlay6 (flannel-v6.1).
struct ExposureSpec {
  PeerLabels labels;
  model::Ipv4 address;  // the peer's public address, where the VXLAN frame goes
  model::Ipv4 overlay;  // the peer's flannel address, which must answer
  std::string vtep_mac;
  model::IpAddress address6;  // kIpv6 only
  model::IpAddress overlay6;  // kIpv6 only: the peer's flannel-v6.1 address
};

struct Plan {
  std::vector<EchoSpec> echo;  // sorted by (peer, target, family)
  std::vector<PmtuSpec> pmtu;
  std::vector<ExposureSpec> exposure;
  std::size_t peers_total = 0;
  std::size_t peers_probed = 0;
  std::size_t probed_by = 0;  // nodes whose probes include this node, by the same graph
  GroupCoverage group_pairs;  // of the whole graph
};

// The probe graph's input from a peer set: this node and every peer, with their groups.
std::vector<GraphNode> graph_nodes(const model::PeerSet& peers);

// Probes the peers `selection` names (probe_graph.h).
Plan plan_targets(const model::PeerSet& peers, const ProbeSelection& selection);

// The same, computing the probe graph: max_peers == 0 probes every peer.
Plan plan_targets(const model::PeerSet& peers, std::size_t max_peers);

// The public addresses of a peer the exposure probe may send to: its ExternalIPs and a
// globally routable flannel public-ip. Never anything that is not a cluster node's address.
std::vector<model::Ipv4> public_addresses(const model::Peer& peer);

// The same for an IPv6 road: its IPv6 ExternalIPs and a globally routable public-ipv6, each
// only when globally routable (a unique local or link-local address is no public exposure).
std::vector<model::IpAddress> public_addresses6(const model::Peer& peer);

// --prober.static-targets (benchmarks and tests only): one target per line,
// "<peer> <overlay|underlay> <IPv4 or IPv6> [group]"; '#' starts a comment. A peer may have
// an address of each family per target. Returns peers sorted by
// name, or why not, naming the line.
base::Result<std::vector<model::Peer>> parse_static_targets(std::string_view text);

}  // namespace podpath::prober
