// ICMP echo and VXLAN frames as bytes: building requests, parsing replies and the packets the
// kernel hands back (echoed TX timestamps, ICMP errors). Pure: no sockets, no clock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "model/ip.h"

namespace podpath::prober {

inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestUnreachable = 3;
inline constexpr std::uint8_t kIcmpEcho = 8;
inline constexpr std::size_t kIcmpHeaderSize = 8;
inline constexpr std::size_t kIpv4HeaderSize = 20;
// The payload every probe carries first: a per-process cookie and the probe's sequence number
// again. A reply whose payload lacks the cookie was not ours, even when another pinger on the
// host picked the same identifier.
inline constexpr std::size_t kProbePayloadHeader = 16;
// 56 payload bytes, as ping and fping send by default: an 84-byte IP packet.
inline constexpr std::size_t kDefaultPayloadSize = 56;

using Cookie = std::array<std::uint8_t, 8>;

// The Internet checksum (RFC 1071) of `data`.
std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

struct EchoRequest {
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  Cookie cookie{};
  std::size_t payload_size = kDefaultPayloadSize;  // at least kProbePayloadHeader
};

// The ICMP message (header + payload) of an echo request, checksummed.
std::vector<std::uint8_t> build_echo_request(const EchoRequest& request);

struct EchoReply {
  std::uint8_t type = 0;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  bool cookie_matches = false;  // the payload starts with our cookie and repeats the sequence
};

// Parses an ICMP echo or echo reply message (no IP header, as datagram ICMP sockets deliver).
std::optional<EchoReply> parse_icmp_echo(std::span<const std::uint8_t> icmp, const Cookie& cookie);

struct Ipv4Packet {
  model::Ipv4 source;
  model::Ipv4 destination;
  std::uint8_t protocol = 0;
  std::span<const std::uint8_t> payload;  // after the header, cut to the total length
};

// Parses an IPv4 header (raw sockets deliver it in front of the ICMP message).
std::optional<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> packet);

// Finds our echo request in a packet the kernel returned with a TX timestamp. Depending on the
// socket type and where the timestamp was taken the bytes start at the ICMP header, the IP
// header or the Ethernet header, so each is tried.
std::optional<EchoReply> find_echo_request(std::span<const std::uint8_t> looped,
                                           std::uint16_t identifier, const Cookie& cookie);

// An IPv4 header plus `payload`, with the checksum filled in.
std::vector<std::uint8_t> build_ipv4(model::Ipv4 source, model::Ipv4 destination,
                                     std::uint8_t protocol, std::uint16_t id,
                                     std::span<const std::uint8_t> payload);

using MacAddress = std::array<std::uint8_t, 6>;
std::optional<MacAddress> parse_mac(std::string_view text);

struct VxlanFrame {
  std::uint32_t vni = 1;
  MacAddress source_mac{};        // this node's VTEP MAC (flannel.1)
  MacAddress destination_mac{};   // the peer's VtepMAC
  model::Ipv4 inner_source;       // this node's flannel address, 10.42.N.0
  model::Ipv4 inner_destination;  // the peer's flannel address, 10.42.M.0
};

// The UDP payload for port 8472: VXLAN header (RFC 7348: flags 0x08, 24-bit VNI), inner
// Ethernet frame, inner IPv4 header and the ICMP message.
std::vector<std::uint8_t> build_vxlan_frame(const VxlanFrame& frame,
                                            std::span<const std::uint8_t> icmp);

// Parses a VXLAN payload back into its header fields and inner packet (for tests and the
// relay); nullopt when it is not VXLAN carrying IPv4.
struct ParsedVxlan {
  VxlanFrame frame;
  std::vector<std::uint8_t> inner_ip;
};
std::optional<ParsedVxlan> parse_vxlan_frame(std::span<const std::uint8_t> udp_payload);

}  // namespace podpath::prober
