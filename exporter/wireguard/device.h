// A WireGuard device as its configuration interface describes it: what the kernel's generic
// netlink family (linux include/uapi/linux/wireguard.h), the userspace implementations' UAPI
// socket (https://www.wireguard.com/xplatform/, wireguard-go device/uapi.go) and
// `wg show all dump` (wireguard-tools src/show.c) all carry. Plain data; the three parsers
// fill it. Private and preshared keys are never kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ip.h"

namespace podpath::wireguard {

struct Endpoint {
  model::IpAddress address;  // an IPv6 zone (%2) is dropped
  std::uint16_t port = 0;

  // "192.168.68.148:51820", "[2600::1]:51821"
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

struct Peer {
  std::string public_key;  // standard base64, as `wg` and flannel's backend-data write it
  std::optional<Endpoint> endpoint;
  std::vector<model::IpPrefix> allowed_ips;
  // nullopt: no handshake since the peer was added (the interfaces report 0).
  std::optional<std::chrono::system_clock::time_point> last_handshake;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  int persistent_keepalive_seconds = 0;  // 0 = off

  bool operator==(const Peer&) const = default;
};

struct Device {
  std::string name;        // "flannel-wg"
  std::string public_key;  // base64; empty where the interface does not say (UAPI)
  int listen_port = 0;
  std::uint32_t fwmark = 0;
  std::vector<Peer> peers;

  bool operator==(const Device&) const = default;
};

// One device read by a parser: what it could read, one problem line per part it skipped
// (a bad value, a truncated attribute), and the interface's own error.
struct DeviceRead {
  Device device;
  std::vector<std::string> problems;
  int error = 0;          // positive errno the interface reported (UAPI errno=, netlink DONE)
  bool complete = false;  // the reply's end was seen (UAPI empty line, netlink DONE)
};

// 32 raw key bytes as base64; 64 hex digits (the UAPI's form) as base64, or nullopt.
std::string key_to_base64(const std::uint8_t* bytes);
std::optional<std::string> hex_key_to_base64(std::string_view hex);

// Unix seconds and nanoseconds as a time point; nullopt for 0/0 (never) and for values
// outside what a time point holds.
std::optional<std::chrono::system_clock::time_point> handshake_time(std::uint64_t seconds,
                                                                    std::uint64_t nanoseconds);

// "ip:port" or "[ip%zone]:port" as the UAPI and `wg show` write an endpoint.
std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace podpath::wireguard
