// What one read of this node's WireGuard devices saw, mapped onto the cluster's peers: the
// wireguard module's view (wireguard/view.h), read by the analysis. Plain data.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/peer.h"
#include "wireguard/device.h"

namespace podpath::wireguard {

// Which configuration interface answered for a device.
enum class Interface : std::uint8_t {
  kNetlink,  // the kernel module's generic netlink family "wireguard"
  kUapi,     // a userspace implementation's <socket dir>/<device>.sock (wireguard-go)
};
std::string_view to_string(Interface interface);

struct DeviceState {
  Device device;
  Interface interface = Interface::kNetlink;
  std::size_t unmapped_peers = 0;  // WireGuard peers no cluster peer maps to
};

// Why a WireGuard peer belongs to a cluster peer (the metrics' `match` label).
enum class MatchReason : std::uint8_t {
  kAllowedIp,  // one of its allowed IPs holds the cluster peer's pod CIDR (flannel's rule)
  kEndpoint,   // its endpoint address is the cluster peer's public-ip (or public-ipv6)
};
std::string_view to_string(MatchReason reason);

// One WireGuard peer of one device that maps to a cluster peer.
struct PeerState {
  std::string peer;                             // the cluster peer's name
  model::Family family = model::Family::kIpv4;  // the peer's road it maps to (flannel-wg-v6: IPv6)
  std::string group;
  bool same_group = false;
  MatchReason match = MatchReason::kAllowedIp;
  std::string device;  // flannel-wg, flannel-wg-v6
  Peer wireguard;
  // Bytes sent to it since the previous read of the same device and key; nullopt on the first
  // read (or after the counter went back: the peer was re-added).
  std::optional<std::uint64_t> tx_since_previous;

  // Seconds from the latest handshake to `now`; nullopt when there was none.
  std::optional<double> handshake_age_seconds(std::chrono::system_clock::time_point now) const;
  // WireGuard sends to it: bytes went out since the previous read, or a persistent keepalive
  // makes the device send every few seconds (k3s wireguard-native sets 25 s).
  bool sending() const {
    return wireguard.persistent_keepalive_seconds > 0 ||
           (tx_since_previous && *tx_since_previous > 0);
  }
};

struct Snapshot {
  std::chrono::system_clock::time_point read_at;
  std::vector<DeviceState> devices;  // the devices that exist, in --wireguard.devices order
  std::vector<PeerState> peers;      // sorted by (peer, family, device)
  std::uint64_t peer_generation = 0;

  // The mapped WireGuard peers of one cluster peer (one per device it is on).
  std::vector<const PeerState*> find(std::string_view peer, model::Family family) const;
};

// Maps every peer of `devices` onto `peers`: the cluster peer whose pod CIDR (IPv4 or IPv6)
// lies inside one of its allowed IPs (the longest such allowed IP wins, so a catch-all
// 0.0.0.0/0 does not shadow flannel's exact subnet), else the cluster peer whose public-ip or
// public-ipv6 is the endpoint's address. Fills DeviceState::unmapped_peers. `previous` (the
// last snapshot, or nullptr) gives tx_since_previous.
Snapshot map_devices(std::vector<std::pair<Device, Interface>> devices, const model::PeerSet& peers,
                     const Snapshot* previous, std::chrono::system_clock::time_point read_at);

}  // namespace podpath::wireguard
