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
// Its size, and the same bytes written into `out` without allocating (the loop builds each
// batch of requests in one buffer); returns the size, or 0 when `out` is too small.
std::size_t echo_request_size(const EchoRequest& request);
std::size_t write_echo_request(const EchoRequest& request, std::span<std::uint8_t> out);

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

// ICMPv6 (RFC 4443). The kernel computes the checksum of what raw and datagram ICMPv6 sockets
// send (it covers a pseudo-header of both addresses), so requests go out with a zero checksum.
inline constexpr std::uint8_t kIcmp6DestUnreachable = 1;
inline constexpr std::uint8_t kIcmp6PacketTooBig = 2;
inline constexpr std::uint8_t kIcmp6EchoRequest = 128;
inline constexpr std::uint8_t kIcmp6EchoReply = 129;
inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::uint8_t kNextHeaderIcmp6 = 58;
// Every IPv6 link carries 1280-byte packets (RFC 8200 section 5).
inline constexpr int kIpv6MinimumMtu = 1280;

// The ICMPv6 message of an echo request (type 128), checksum left zero for the kernel.
std::vector<std::uint8_t> build_echo6_request(const EchoRequest& request);
std::size_t write_echo6_request(const EchoRequest& request, std::span<std::uint8_t> out);

// Parses an ICMPv6 echo request (128) or reply (129); the layout is ICMP's.
std::optional<EchoReply> parse_icmp6_echo(std::span<const std::uint8_t> icmp, const Cookie& cookie);

// The ICMPv6 checksum of `icmp` over the RFC 8200 section 8.1 pseudo-header; 0 when a received
// message's checksum is right, the value to write when its checksum field is zero.
std::uint16_t icmp6_checksum(const model::IpAddress& source, const model::IpAddress& destination,
                             std::span<const std::uint8_t> icmp);

struct Ipv6Packet {
  model::IpAddress source;
  model::IpAddress destination;
  std::uint8_t next_header = 0;
  std::span<const std::uint8_t> payload;  // after the fixed header, cut to the payload length
};

// Parses the fixed IPv6 header (no extension headers are walked).
std::optional<Ipv6Packet> parse_ipv6(std::span<const std::uint8_t> packet);

// A fixed IPv6 header (hop limit 64) plus `payload`.
std::vector<std::uint8_t> build_ipv6(const model::IpAddress& source,
                                     const model::IpAddress& destination, std::uint8_t next_header,
                                     std::span<const std::uint8_t> payload);

// An ICMPv6 Packet Too Big (RFC 4443 section 3.2): the next hop's MTU and as much of the
// offending packet as fit; `quoted_echo` is the echo request inside it when the quote holds
// an IPv6 header followed by ICMPv6 (the cookie may be cut off).
struct PacketTooBig {
  std::uint32_t mtu = 0;
  std::optional<Ipv6Packet> quoted;
  std::optional<EchoReply> quoted_echo;
};
std::optional<PacketTooBig> parse_packet_too_big(std::span<const std::uint8_t> icmp,
                                                 const Cookie& cookie);

// find_echo_request for ICMPv6: bare, behind an IPv6 header, or behind Ethernet and IPv6.
std::optional<EchoReply> find_echo6_request(std::span<const std::uint8_t> looped,
                                            std::uint16_t identifier, const Cookie& cookie);

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

// The IPv6 road's frame, for flannel-v6.<VNI>: its MACs, and the inner IPv6 addresses (this
// node's flannel-v6.1 address, the peer's).
struct Vxlan6Frame {
  std::uint32_t vni = 1;
  MacAddress source_mac{};       // this node's flannel-v6.<VNI> MAC
  MacAddress destination_mac{};  // the peer's v6 VtepMAC (backend-v6-data)
  model::IpAddress inner_source;
  model::IpAddress inner_destination;
};

// The UDP payload for port 8472 over IPv6: VXLAN header, inner Ethernet (EtherType 0x86dd),
// inner IPv6 header and `icmp6` with its checksum filled in. No kernel socket computes it here,
// the frame is only bytes to the UDP socket, and flannel-v6.1 drops an ICMPv6 message whose
// checksum is wrong.
std::vector<std::uint8_t> build_vxlan6_frame(const Vxlan6Frame& frame,
                                             std::span<const std::uint8_t> icmp6);

// Parses a VXLAN payload back into its header fields and inner packet (for tests and the
// relay); nullopt when it is not VXLAN carrying IPv4.
struct ParsedVxlan {
  VxlanFrame frame;
  std::vector<std::uint8_t> inner_ip;
};
std::optional<ParsedVxlan> parse_vxlan_frame(std::span<const std::uint8_t> udp_payload);

}  // namespace podpath::prober
