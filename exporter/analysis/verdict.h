// One verdict per peer and address family: the road a pod packet to it takes, how it performs, and
// the named problems (findings) in the field report's terms. Plain data; analyse() builds it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ip.h"

namespace podpath::analysis {

// How a pod packet to the peer is carried (metrics contract: podpath_peer_path_info carrier).
enum class Carrier {
  kVxlan,
  kHostGw,
  // flannel's vxlan (or ipip) backend with DirectRouting: a peer on this node's own subnet
  // gets a plain route via its public-ip instead of the tunnel (flannel-io/flannel
  // pkg/backend/vxlan/vxlan_network.go, pkg/ip/iface.go DirectRouting).
  kDirectRouting,
  kWireguard,
  kIpip,  // flannel's ipip backend: device flannel.ipip, IPv4 in IPv4 (20 bytes)
  kTailscaleSubnetRoute,
  // A backend whose road podpath does not trace from the routing table (udp, ipsec,
  // extension, alloc, a cloud's, an unknown one): named, probed, and judged by probes only.
  kOther,
  kNone,
};
std::string_view to_string(Carrier carrier);
// The tunnel a carrier wraps pod packets in, as people write it ("VXLAN", "WireGuard",
// "IPIP"); empty for the routed carriers.
std::string_view encapsulation_name(Carrier carrier);

// How the carrier's packets travel (contract: transport).
enum class Transport {
  kLan,
  kTailscaleDirect,
  kTailscaleDerp,
  kTailscalePeerRelay,
  kTailscaleNoHandshake,  // tailscaled sends to the peer and no WireGuard session exists
  kUnknown,
};
std::string_view to_string(Transport transport);

enum class Severity { kInfo, kWarning, kCritical };
std::string_view to_string(Severity severity);

// A duration as findings and reports write it: "0.40 ms", "5.5 ms", "100 ms".
std::string milliseconds_text(double seconds);
// A wall-clock time as reports write it: "2025-07-09 17:58:36 UTC".
std::string utc_text(double unix_seconds);
// A span in its two largest units: "6d 23h", "5h 2m", "12m", "30s".
std::string span_text(double seconds);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string code;     // stable, kebab-case: route-via-derp, path-mtu-too-small, ...
  std::string peer;     // empty for findings about this node itself
  std::string message;  // one line: what is wrong, with the figures
  std::string fix;      // one line: what to do
  // The peer's road the finding is about (a dual-stack peer has one per family); nullopt for
  // findings about this node itself.
  std::optional<model::Family> family;

  bool operator==(const Finding&) const = default;
};

// Recent probe results towards one address of a peer.
struct ProbeStats {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  // Mean round trip over the window (exact: the change of the RTT sum over the change of
  // the count), not a bucket estimate.
  std::optional<double> rtt_seconds;

  // The window counts replies as they arrive, so replies to requests sent just before it can
  // outnumber its requests: that is no loss, never a negative one.
  std::optional<double> loss_ratio() const {
    if (sent == 0) return std::nullopt;
    return std::max(0.0, 1.0 - static_cast<double>(received) / static_cast<double>(sent));
  }
  bool operator==(const ProbeStats&) const = default;
};

// One WireGuard peer of this node's flannel-wg devices that maps to the cluster peer (flannel's
// wireguard backend; wireguard/snapshot.h).
struct WireguardPeerState {
  std::string device;      // flannel-wg, flannel-wg-v6
  std::string public_key;  // base64
  std::string endpoint;    // "192.168.68.148:51820"; empty when WireGuard has none
  std::optional<double> handshake_age_seconds;  // nullopt: no handshake ever completed
  // WireGuard sends to the peer: bytes went out since the previous read, or a persistent
  // keepalive makes it send (k3s wireguard-native: every 25 s).
  bool sending = false;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  int persistent_keepalive_seconds = 0;

  bool operator==(const WireguardPeerState&) const = default;
};

// WireGuard rejects a session's keys REJECT_AFTER_TIME after its handshake (the protocol's
// timers, wireguard-go device/constants.go RejectAfterTime): with no newer handshake nothing
// sent to the peer is accepted any more.
inline constexpr double kWireguardRejectAfterSeconds = 180;

struct PeerVerdict {
  std::string peer;
  model::Family family = model::Family::kIpv4;  // which of the peer's roads this is
  std::string group;
  bool same_group = false;
  bool ready = true;
  bool unschedulable = false;
  std::string backend_type;  // the peer's flannel backend-type annotation; empty when unknown

  Carrier carrier = Carrier::kNone;
  std::string route_device;  // device of `ip route get <peer's 10.42.N.0>`
  std::string route_table;   // "main", "52", ...
  std::string route_error;   // "ENETUNREACH" when the kernel has no route
  std::optional<model::IpAddress> vtep_address;
  std::string underlay_device;  // device of `ip route get <VTEP>` (vxlan, wireguard)
  std::string underlay_table;
  Transport transport = Transport::kUnknown;
  std::string derp_region;  // set when transport is tailscale-derp (or no-handshake: its home)
  bool double_encapsulation = false;          // VXLAN (or flannel-wg) inside Tailscale's WireGuard
  std::vector<WireguardPeerState> wireguard;  // wireguard backend: one per flannel-wg device
  // The peer's Tailscale node (its strongest match), when tailscaled lists one: its name and
  // its node key's expiry (nullopt: the key never expires).
  std::string tailscale_peer;
  std::optional<double> tailscale_key_expiry_unix_seconds;
  bool tailscale_key_expired = false;

  std::optional<int> overlay_mtu;   // what pods are told (flannel device MTU)
  std::optional<int> computed_mtu;  // what the device chain carries
  std::string mtu_chain;  // how computed_mtu was derived, e.g. "tailscale0 1280 - 50 (VXLAN)"
  std::optional<int> probed_mtu;
  bool path_mtu_pending = false;  // the prober's first search for this peer is still running

  // flannel consistency: empty = consistent; nullopt-like "not applicable" when unknown.
  bool flannel_checked = false;
  std::vector<std::string> flannel_inconsistencies;

  std::optional<ProbeStats> overlay_probe;
  std::optional<ProbeStats> underlay_probe;
  // The window held enough probes (Thresholds::min_probes) for loss and latency to be
  // judged: overlay probes, plus underlay probes when every overlay probe was lost (they tell
  // a blocked overlay from an unreachable peer). Until then no loss or latency finding.
  bool probes_judged = false;
  // Public addresses of the peer where its VXLAN port answered (exposure probe), and
  // where it did not.
  std::vector<std::string> exposed_addresses;
  std::vector<std::string> closed_addresses;

  bool route_via_derp() const { return transport == Transport::kTailscaleDerp; }
};

struct LinkSummary {
  std::string name;
  std::string kind;
  std::uint32_t mtu = 0;
  std::string detail;  // "vxlan id 1 local 100.84.0.1 dev tailscale0 dstport 8472"
};

// This node as flannel and the kernel describe it.
struct NodeIdentity {
  std::string node;
  std::string group;
  std::string backend_type;
  std::optional<model::Ipv4> public_ip;  // the VTEP address this node advertises
  std::string public_ip_scope;           // loopback, private, tailnet, link-local, global
  std::string vtep_mac;
  std::optional<int> vni;
  std::string flannel_network;
  std::string flannel_subnet;
  std::optional<int> flannel_mtu;
  // The IPv6 half on a dual-stack or IPv6-only node (annotations and subnet.env).
  std::optional<model::IpAddress> public_ipv6;  // the IPv6 VTEP address (public-ipv6)
  std::string public_ipv6_scope;
  std::string vtep_mac_v6;
  std::string flannel_ipv6_network;
  std::string flannel_ipv6_subnet;
  // This node's pod CIDR when its tailscaled serves it as a subnet route (Self.PrimaryRoutes),
  // as k3s --vpn-auth sets up: pod traffic then rides Tailscale by design.
  std::string pod_cidr_tailscale_route;
  // This node in tailscaled's eyes; all empty without a Tailscale status.
  bool tailscale = false;
  std::string tailscale_backend_state;
  std::string tailscale_home_derp;                          // Self.Relay
  std::vector<std::string> tailscale_health;                // Status.Health, in tailscaled's order
  std::optional<double> tailscale_key_expiry_unix_seconds;  // nullopt: never expires
  bool tailscale_key_expired = false;
};

struct NodeReport {
  NodeIdentity self;
  std::vector<LinkSummary> device_chain;  // the overlay device and what carries it
  std::vector<PeerVerdict> peers;         // sorted by peer name, then family (IPv4 first)
  std::vector<Finding> findings;          // sorted: critical first, then by code and peer
  std::vector<std::string> notes;         // what could not be seen (collector off, stale)
  double now_unix_seconds = 0;            // when it was made (key expiry is told against it)
  bool prober_enabled = false;            // the prober runs (its results may not be in yet)

  bool has_critical() const;
  // A peer has probe results, but too few to judge yet, or its first path MTU search is
  // still running, or the prober runs and has no result for any peer yet: the doctor keeps
  // probing for them.
  bool awaiting_probes() const;
};

}  // namespace podpath::analysis
