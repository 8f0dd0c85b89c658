// Joins the kernel, cluster, Tailscale and probe views into one verdict per peer. Pure:
// every input is plain data, so the field report's states are unit-test fixtures.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/verdict.h"
#include "flannel/subnet_env.h"
#include "model/peer.h"
#include "netlink/kernel.h"
#include "tailscale/snapshot.h"
#include "wireguard/snapshot.h"

namespace podpath::analysis {

struct Thresholds {
  // Longhorn's guidance: below 20 ms between nodes that replicate synchronously.
  double same_group_rtt_seconds = 0.020;
  // Between sites distance sets the floor; only far worse than that is a finding.
  double cross_group_rtt_seconds = 0.100;
  // A recent window needs this many probes before loss or latency is judged.
  std::uint64_t min_probes = 5;
  // A node key expiring sooner than this is a finding. A week: re-authenticating needs a
  // person at a browser (tailscale up --force-reauth), so the warning must outlast a weekend
  // or a short holiday and still come well after Tailscale's own e-mail reminders.
  double key_expiry_warning_seconds = 7 * 24 * 3600.0;
};

struct ExposureObservation {
  std::string peer;
  model::IpAddress address;  // of the family of the peer's road it is about
  bool exposed = false;
};

// One road to a peer: its name and address family. A bare name is the IPv4 road, so that
// single-stack code and tests read as before.
struct PeerKey {
  std::string peer;
  model::Family family = model::Family::kIpv4;

  PeerKey(std::string name, model::Family road = model::Family::kIpv4)  // NOLINT: see above
      : peer(std::move(name)), family(road) {}
  PeerKey(const char* name) : PeerKey(std::string(name)) {}  // NOLINT: see above
  auto operator<=>(const PeerKey&) const = default;
};

struct Inputs {
  model::PeerSet peers;
  std::optional<netlink::KernelSnapshot> kernel;  // nullopt: netlink collector off
  std::optional<tailscale::Snapshot> tailscale;   // nullopt: Tailscale off or absent
  std::optional<flannel::SubnetEnv> subnet_env;   // nullopt: no subnet.env
  std::optional<wireguard::Snapshot> wireguard;   // nullopt: wireguard collector off
  std::string subnet_env_refused;                 // why the last read was refused
  std::map<PeerKey, ProbeStats> overlay_probes;
  std::map<PeerKey, ProbeStats> underlay_probes;
  std::map<PeerKey, int> probed_mtu;
  std::set<PeerKey> path_mtu_pending;  // first search still running
  std::vector<ExposureObservation> exposure;
  std::string overlay_device = "flannel.1";
  // flannel's IPv6 VXLAN device (flannel pkg/backend/vxlan/vxlan.go: flannel-v6.<VNI>).
  std::string overlay_device_v6 = "flannel-v6.1";
  bool prober_enabled = false;
  Thresholds thresholds;
  // Wall-clock time of the analysis (Unix seconds): how long until or since a key expiry.
  double now_unix_seconds = 0;
};

// Describes this node and its device chain, judges the road to each peer in each address
// family it has (road.h: carrier, route, underlay, transport, MTU; then probes, exposure and
// flannel consistency), notes what could not be seen, and applies the findings' rules
// (rules.h). A dual-stack peer gets two verdicts; an IPv6-only peer only its IPv6 one.
NodeReport analyse(const Inputs& inputs);

}  // namespace podpath::analysis
