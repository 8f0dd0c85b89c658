// tailscaled's ipnstate.Status (GET /localapi/v0/status) as plain structs, and the pure parse
// that fills them. Only what podpath reads is kept. Field meanings: tailscale/tailscale
// ipn/ipnstate/ipnstate.go (the writer) and cmd/tailscale/cli/status.go (how the CLI reads
// them); tests/fixtures/SOURCES.md lists the real bodies the parser is tested on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/ip.h"

namespace podpath::tailscale {

// One ipnstate.PeerStatus. Addresses and prefixes of both families are kept: a node's
// fd7a:115c:a1e0::/48 address and IPv6 subnet routes map its IPv6 road, as the 100.x ones
// map its IPv4 road.
struct PeerStatus {
  std::string key;  // the Peer map key, "nodekey:<hex>"; empty for Self
  std::string host_name;
  std::string dns_name;  // with Go's trailing dot, as tailscaled sends it
  std::vector<model::IpAddress> tailscale_ips;
  std::vector<model::IpPrefix> allowed_ips;
  std::vector<model::IpPrefix> primary_routes;
  std::string cur_addr;    // "ip:port" while WireGuard talks to the peer directly, else empty
  std::string relay;       // home DERP region code, e.g. "tok"
  std::string peer_relay;  // "ip:port:vni" while a peer relay carries the traffic
  bool online = false;
  bool active = false;  // traffic in the last two minutes (tailscaled's own window)
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  // Unix seconds; nullopt when tailscaled reports Go's zero time ("never").
  std::optional<double> last_handshake_unix_seconds;
  // When the node key expired or will expire (KeyExpiry, Unix seconds); nullopt when the key
  // never expires: tailscaled omits the field for tagged nodes and nodes with expiry disabled
  // (ipn/ipnlocal/local.go, peerStatusFromNode), and versions before 1.36 never send it.
  std::optional<double> key_expiry_unix_seconds;
  // The control server (or tailscaled itself, once KeyExpiry has passed) holds the key
  // expired: tailscaled drops the peer's endpoints, so nothing reaches it over Tailscale.
  bool expired = false;

  bool operator==(const PeerStatus&) const = default;
};

// A peer entry that could not be read: which one, and why. The other peers still count.
struct PeerError {
  std::string key;
  std::string error;

  bool operator==(const PeerError&) const = default;
};

struct Status {
  std::string version;
  std::string backend_state;  // NoState, NeedsLogin, NeedsMachineAuth, Stopped, Starting, Running
  // tailscaled's health warnings, as `tailscale status` prints them under "# Health check:"
  // (cmd/tailscale/cli/status.go), in tailscaled's order.
  std::vector<std::string> health;
  std::optional<PeerStatus> self;  // Self.Relay is this node's home DERP region
  std::vector<PeerStatus> peers;   // sorted by key, so everything built from it is deterministic
  std::vector<PeerError> peer_errors;  // sorted by key

  bool operator==(const Status&) const = default;
};

// Parses the JSON body. Missing or null fields take their zero value (Go omits nothing, but
// older tailscaled versions lack PeerRelay and PrimaryRoutes, and nil slices arrive as null).
// A field of the wrong type makes that peer a PeerError; only a body that is not a JSON
// object, or whose top-level fields have the wrong type, fails as a whole.
base::Result<Status> parse_status(std::string_view body);

// Every IPv4 address tailscaled lists for this node (Self) and its peers (TailscaleIPs),
// sorted and unique: the addresses of 100.64.0.0/10 that are tailnet addresses here. (IPv6
// needs no such list: Tailscale's fd7a:115c:a1e0::/48 is its own.)
std::vector<model::Ipv4> tailnet_addresses(const Status& status);

// RFC 3339 (Go's time.Time JSON form, RFC3339Nano) to Unix seconds. Returns false for
// malformed text; Go's zero time 0001-01-01T00:00:00Z ("never") sets unix_seconds to nullopt.
bool parse_rfc3339(std::string_view text, std::optional<double>& unix_seconds);

// The name an operator knows the peer by: HostName, else the first label of DNSName, else
// the key.
std::string display_name(const PeerStatus& peer);

}  // namespace podpath::tailscale
