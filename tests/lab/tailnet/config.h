// The tailnet emulator's configuration: which nodes exist, which addresses each one owns and
// advertises, and how every pair of nodes is connected (direct, through DERP, or not at all).
// The lab script renders it from tests/lab/topology.json and the current scenario.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podpath::lab {

using IPv6Address = std::array<uint8_t, 16>;  // network byte order

// An IPv4 prefix (addr, host byte order) or an IPv6 one (v6 set, addr6). Tailscale gives
// every node an IPv4 address in 100.64.0.0/10 and an IPv6 one in fd7a:115c:a1e0::/48, and
// carries both families; so does the emulator (a dual-stack lab puts both on tailscale0).
struct Prefix {
  bool v6 = false;
  uint32_t addr = 0;
  IPv6Address addr6{};
  int len = 32;

  bool Contains(uint32_t ip) const {
    return !v6 && (len == 0 || (ip >> (32 - len)) == (addr >> (32 - len)));
  }
  bool Contains(const IPv6Address& ip) const;
  std::string ToString() const;
  // The address alone, without the length ("100.84.0.1", "fd7a:115c:a1e0::5401").
  std::string AddressString() const;
  bool operator==(const Prefix&) const = default;
};

// Parses "a.b.c.d/n", "a.b.c.d" (a /32), "x:y::z/n" or "x:y::z" (a /128). Throws
// std::invalid_argument with the text.
Prefix ParsePrefix(std::string_view text);
std::optional<IPv6Address> ParseIPv6(std::string_view text);
std::string FormatIPv6(const IPv6Address& ip);
std::optional<uint32_t> ParseIPv4(std::string_view text);
std::string FormatIPv4(uint32_t ip);

// kNoHandshake: the sender's tailscaled keeps sending (tx grows, the peer is Active) but no
// WireGuard handshake ever completes, so nothing arrives: `tailscale status` shows the peer
// as `active; relay "<region>"` with LastHandshake at Go's zero time.
enum class PathMode { kDirect, kDerp, kBlocked, kNoHandshake };
std::string_view PathModeName(PathMode mode);

struct NodeConfig {
  std::string name;         // HostName in the LocalAPI and the key of every per-pair setting
  std::string netns;        // path of the network namespace file, e.g. /run/netns/pp-lima-k3s-agent
  std::string tun;          // device name inside that namespace, normally tailscale0
  std::string socket;       // LocalAPI Unix socket path
  std::vector<Prefix> ips;  // TailscaleIPs (each a /32)
  std::string endpoint;     // "ip:port" peers use when they reach it directly
  std::string derp;         // home DERP region code, e.g. "tok"
  int derp_region_id = 0;   // e.g. 7 for tok
  std::vector<Prefix> advertise_routes;         // subnet routes it advertises (approved)
  std::vector<std::string> accept_routes_from;  // peers whose advertised routes it installs
  bool online = true;
  // The node key: when it expires (Unix seconds; nullopt: never, as for tagged nodes) and
  // whether it has expired. An expired node's tailscaled is in NeedsLogin and its peers drop
  // its endpoints, so no packet reaches it or leaves it.
  std::optional<int64_t> key_expiry;
  bool expired = false;
};

struct PairConfig {
  std::string a, b;
  PathMode mode = PathMode::kDerp;
  double delay_ms = 0;   // one way
  double jitter_ms = 0;  // added uniformly in [0, jitter_ms] per packet
  // Endpoint of each side as the other side sees it, when it differs from the node's default
  // (two home nodes on one LAN reach each other on LAN addresses).
  std::string endpoint_a, endpoint_b;
};

struct Config {
  std::string version;
  std::string magic_dns_suffix;
  std::string tailnet_name;
  uint64_t seed = 1;
  PairConfig default_pair;
  std::vector<NodeConfig> nodes;
  std::vector<PairConfig> pairs;

  // Index of the node named `name`, if any.
  std::optional<size_t> Find(std::string_view name) const;
  // The connection between nodes i and j (order does not matter); the default when unlisted.
  PairConfig Pair(size_t i, size_t j) const;
  // The endpoint node `peer` shows to node `self` (used for CurAddr when direct).
  std::string EndpointSeenBy(size_t self, size_t peer) const;
  // WireGuard's AllowedIPs for `peer` as configured on `self`: its addresses, plus the routes it
  // advertises when `self` accepts routes from it.
  std::vector<Prefix> AllowedIPs(size_t self, size_t peer) const;
};

// Throws std::runtime_error naming the offending field.
Config ParseConfig(const nlohmann::json& doc);
Config LoadConfigFile(const std::string& path);

}  // namespace podpath::lab
