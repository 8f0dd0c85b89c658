#include "prober/packet.h"

#include <algorithm>
#include <charconv>

namespace podpath::prober {

namespace {

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 8);
  out[at + 1] = static_cast<std::uint8_t>(value & 0xff);
}

std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
  return static_cast<std::uint16_t>((in[at] << 8) | in[at + 1]);
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t value) {
  put16(out, at, static_cast<std::uint16_t>(value >> 16));
  put16(out, at + 2, static_cast<std::uint16_t>(value & 0xffff));
}

std::uint32_t get32(std::span<const std::uint8_t> in, std::size_t at) {
  return (std::uint32_t{get16(in, at)} << 16) | get16(in, at + 2);
}

constexpr std::size_t kEthernetHeaderSize = 14;
constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;
constexpr std::size_t kVxlanHeaderSize = 8;

// VXLAN header (flags, 24-bit VNI) and inner Ethernet header in front of `inner`.
std::vector<std::uint8_t> wrap_vxlan(std::uint32_t vni, const MacAddress& source,
                                     const MacAddress& destination, std::uint16_t ethertype,
                                     std::span<const std::uint8_t> inner) {
  std::vector<std::uint8_t> out(kVxlanHeaderSize + kEthernetHeaderSize + inner.size(), 0);
  out[0] = 0x08;  // "I" flag: the VNI is valid
  put32(out, 4, (vni & 0xffffff) << 8);
  std::copy(destination.begin(), destination.end(), out.begin() + kVxlanHeaderSize);
  std::copy(source.begin(), source.end(), out.begin() + kVxlanHeaderSize + 6);
  put16(out, kVxlanHeaderSize + 12, ethertype);
  std::copy(inner.begin(), inner.end(), out.begin() + kVxlanHeaderSize + kEthernetHeaderSize);
  return out;
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::size_t echo_request_size(const EchoRequest& request) {
  return kIcmpHeaderSize + std::max(request.payload_size, kProbePayloadHeader);
}

std::size_t write_echo_request(const EchoRequest& request, std::span<std::uint8_t> out) {
  const std::size_t size = echo_request_size(request);
  if (out.size() < size) return 0;
  auto put = [&](std::size_t at, std::uint16_t value) {
    out[at] = static_cast<std::uint8_t>(value >> 8);
    out[at + 1] = static_cast<std::uint8_t>(value & 0xff);
  };
  out[0] = kIcmpEcho;
  out[1] = 0;
  put(2, 0);
  put(4, request.identifier);
  put(6, request.sequence);
  std::copy(request.cookie.begin(), request.cookie.end(), out.begin() + kIcmpHeaderSize);
  put(kIcmpHeaderSize + 8, request.sequence);
  for (std::size_t i = kIcmpHeaderSize + 10; i < kIcmpHeaderSize + kProbePayloadHeader; ++i)
    out[i] = 0;
  // The rest is a fixed pattern so that a reply can be compared byte for byte if ever needed.
  for (std::size_t i = kIcmpHeaderSize + kProbePayloadHeader; i < size; ++i)
    out[i] = static_cast<std::uint8_t>(i & 0xff);
  put(2, internet_checksum(out.first(size)));
  return size;
}

std::size_t write_echo6_request(const EchoRequest& request, std::span<std::uint8_t> out) {
  const std::size_t size = write_echo_request(request, out);
  if (size == 0) return 0;
  out[0] = kIcmp6EchoRequest;
  out[2] = out[3] = 0;
  return size;
}

std::vector<std::uint8_t> build_echo_request(const EchoRequest& request) {
  std::vector<std::uint8_t> out(echo_request_size(request));
  write_echo_request(request, out);
  return out;
}

std::optional<EchoReply> parse_icmp_echo(std::span<const std::uint8_t> icmp, const Cookie& cookie) {
  if (icmp.size() < kIcmpHeaderSize) return std::nullopt;
  if (icmp[0] != kIcmpEchoReply && icmp[0] != kIcmpEcho) return std::nullopt;
  if (icmp[1] != 0) return std::nullopt;
  EchoReply reply;
  reply.type = icmp[0];
  reply.identifier = get16(icmp, 4);
  reply.sequence = get16(icmp, 6);
  if (icmp.size() >= kIcmpHeaderSize + kProbePayloadHeader) {
    auto payload = icmp.subspan(kIcmpHeaderSize);
    reply.cookie_matches = std::equal(cookie.begin(), cookie.end(), payload.begin()) &&
                           get16(payload, 8) == reply.sequence;
  }
  return reply;
}

std::optional<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> packet) {
  if (packet.size() < kIpv4HeaderSize || (packet[0] >> 4) != 4) return std::nullopt;
  std::size_t header = std::size_t{packet[0] & 0x0fu} * 4;
  std::size_t total = get16(packet, 2);
  if (header < kIpv4HeaderSize || total < header || packet.size() < header) return std::nullopt;
  // Raw sockets hand over exactly one packet; trust the smaller of the two lengths.
  total = std::min(total, packet.size());
  Ipv4Packet out;
  out.protocol = packet[9];
  out.source = model::Ipv4{get32(packet, 12)};
  out.destination = model::Ipv4{get32(packet, 16)};
  out.payload = packet.subspan(header, total - header);
  return out;
}

std::optional<EchoReply> find_echo_request(std::span<const std::uint8_t> looped,
                                           std::uint16_t identifier, const Cookie& cookie) {
  auto accept = [&](std::span<const std::uint8_t> icmp) -> std::optional<EchoReply> {
    auto echo = parse_icmp_echo(icmp, cookie);
    if (echo && echo->type == kIcmpEcho && echo->identifier == identifier && echo->cookie_matches)
      return echo;
    return std::nullopt;
  };
  if (auto direct = accept(looped)) return direct;
  if (auto ip = parse_ipv4(looped); ip && ip->protocol == 1) {
    if (auto inner = accept(ip->payload)) return inner;
  }
  if (looped.size() > kEthernetHeaderSize && get16(looped, 12) == kEthertypeIpv4) {
    if (auto ip = parse_ipv4(looped.subspan(kEthernetHeaderSize)); ip && ip->protocol == 1)
      return accept(ip->payload);
  }
  return std::nullopt;
}

std::vector<std::uint8_t> build_echo6_request(const EchoRequest& request) {
  std::vector<std::uint8_t> out(echo_request_size(request));
  write_echo6_request(request, out);
  return out;
}

std::optional<EchoReply> parse_icmp6_echo(std::span<const std::uint8_t> icmp,
                                          const Cookie& cookie) {
  if (icmp.size() < kIcmpHeaderSize) return std::nullopt;
  if (icmp[0] != kIcmp6EchoReply && icmp[0] != kIcmp6EchoRequest) return std::nullopt;
  if (icmp[1] != 0) return std::nullopt;
  EchoReply reply;
  reply.type = icmp[0];
  reply.identifier = get16(icmp, 4);
  reply.sequence = get16(icmp, 6);
  if (icmp.size() >= kIcmpHeaderSize + kProbePayloadHeader) {
    auto payload = icmp.subspan(kIcmpHeaderSize);
    reply.cookie_matches = std::equal(cookie.begin(), cookie.end(), payload.begin()) &&
                           get16(payload, 8) == reply.sequence;
  }
  return reply;
}

std::uint16_t icmp6_checksum(const model::IpAddress& source, const model::IpAddress& destination,
                             std::span<const std::uint8_t> icmp) {
  // Pseudo-header: source, destination, upper-layer length (32 bits), 3 zero bytes, 58.
  std::vector<std::uint8_t> summed;
  summed.reserve(40 + icmp.size());
  auto s = source.bytes(), d = destination.bytes();
  summed.insert(summed.end(), s.begin(), s.end());
  summed.insert(summed.end(), d.begin(), d.end());
  const auto length = static_cast<std::uint32_t>(icmp.size());
  for (int shift : {24, 16, 8, 0}) summed.push_back(static_cast<std::uint8_t>(length >> shift));
  summed.insert(summed.end(), {0, 0, 0, kNextHeaderIcmp6});
  summed.insert(summed.end(), icmp.begin(), icmp.end());
  return internet_checksum(summed);
}

std::optional<Ipv6Packet> parse_ipv6(std::span<const std::uint8_t> packet) {
  if (packet.size() < kIpv6HeaderSize || (packet[0] >> 4) != 6) return std::nullopt;
  Ipv6Packet out;
  out.next_header = packet[6];
  out.source = *model::IpAddress::from_bytes(packet.subspan(8, 16));
  out.destination = *model::IpAddress::from_bytes(packet.subspan(24, 16));
  // A quoted packet (Packet Too Big) is cut short; trust the smaller length.
  const std::size_t length = std::min<std::size_t>(get16(packet, 4), packet.size() - 40);
  out.payload = packet.subspan(kIpv6HeaderSize, length);
  return out;
}

std::vector<std::uint8_t> build_ipv6(const model::IpAddress& source,
                                     const model::IpAddress& destination, std::uint8_t next_header,
                                     std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out(kIpv6HeaderSize + payload.size(), 0);
  out[0] = 0x60;
  put16(out, 4, static_cast<std::uint16_t>(payload.size()));
  out[6] = next_header;
  out[7] = 64;
  auto s = source.bytes(), d = destination.bytes();
  if (s.size() == 16) std::copy(s.begin(), s.end(), out.begin() + 8);
  if (d.size() == 16) std::copy(d.begin(), d.end(), out.begin() + 24);
  std::copy(payload.begin(), payload.end(), out.begin() + kIpv6HeaderSize);
  return out;
}

std::optional<PacketTooBig> parse_packet_too_big(std::span<const std::uint8_t> icmp,
                                                 const Cookie& cookie) {
  if (icmp.size() < kIcmpHeaderSize || icmp[0] != kIcmp6PacketTooBig || icmp[1] != 0)
    return std::nullopt;
  PacketTooBig out;
  out.mtu = get32(icmp, 4);
  out.quoted = parse_ipv6(icmp.subspan(kIcmpHeaderSize));
  if (out.quoted && out.quoted->next_header == kNextHeaderIcmp6)
    out.quoted_echo = parse_icmp6_echo(out.quoted->payload, cookie);
  return out;
}

std::optional<EchoReply> find_echo6_request(std::span<const std::uint8_t> looped,
                                            std::uint16_t identifier, const Cookie& cookie) {
  auto accept = [&](std::span<const std::uint8_t> icmp) -> std::optional<EchoReply> {
    auto echo = parse_icmp6_echo(icmp, cookie);
    if (echo && echo->type == kIcmp6EchoRequest && echo->identifier == identifier &&
        echo->cookie_matches)
      return echo;
    return std::nullopt;
  };
  if (auto direct = accept(looped)) return direct;
  if (auto ip = parse_ipv6(looped); ip && ip->next_header == kNextHeaderIcmp6) {
    if (auto inner = accept(ip->payload)) return inner;
  }
  if (looped.size() > kEthernetHeaderSize && get16(looped, 12) == kEthertypeIpv6) {
    if (auto ip = parse_ipv6(looped.subspan(kEthernetHeaderSize));
        ip && ip->next_header == kNextHeaderIcmp6)
      return accept(ip->payload);
  }
  return std::nullopt;
}

std::vector<std::uint8_t> build_ipv4(model::Ipv4 source, model::Ipv4 destination,
                                     std::uint8_t protocol, std::uint16_t id,
                                     std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out(kIpv4HeaderSize + payload.size(), 0);
  out[0] = 0x45;
  put16(out, 2, static_cast<std::uint16_t>(out.size()));
  put16(out, 4, id);
  out[8] = 64;  // TTL
  out[9] = protocol;
  put32(out, 12, source.value);
  put32(out, 16, destination.value);
  put16(out, 10, internet_checksum(std::span(out).first(kIpv4HeaderSize)));
  std::copy(payload.begin(), payload.end(), out.begin() + kIpv4HeaderSize);
  return out;
}

std::optional<MacAddress> parse_mac(std::string_view text) {
  MacAddress mac{};
  if (text.size() != 17) return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned value = 0;
    const char* begin = text.data() + i * 3;
    auto [next, ec] = std::from_chars(begin, begin + 2, value, 16);
    if (ec != std::errc() || next != begin + 2) return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(value);
  }
  return mac;
}

std::vector<std::uint8_t> build_vxlan_frame(const VxlanFrame& frame,
                                            std::span<const std::uint8_t> icmp) {
  auto inner = build_ipv4(frame.inner_source, frame.inner_destination, 1, 0, icmp);
  return wrap_vxlan(frame.vni, frame.source_mac, frame.destination_mac, kEthertypeIpv4, inner);
}

std::vector<std::uint8_t> build_vxlan6_frame(const Vxlan6Frame& frame,
                                             std::span<const std::uint8_t> icmp6) {
  std::vector<std::uint8_t> message(icmp6.begin(), icmp6.end());
  if (message.size() >= kIcmpHeaderSize) {
    message[2] = message[3] = 0;
    put16(message, 2, icmp6_checksum(frame.inner_source, frame.inner_destination, message));
  }
  auto inner = build_ipv6(frame.inner_source, frame.inner_destination, kNextHeaderIcmp6, message);
  return wrap_vxlan(frame.vni, frame.source_mac, frame.destination_mac, kEthertypeIpv6, inner);
}

std::optional<ParsedVxlan> parse_vxlan_frame(std::span<const std::uint8_t> udp_payload) {
  if (udp_payload.size() < kVxlanHeaderSize + kEthernetHeaderSize + kIpv4HeaderSize)
    return std::nullopt;
  if ((udp_payload[0] & 0x08) == 0) return std::nullopt;
  auto ethernet = udp_payload.subspan(kVxlanHeaderSize);
  if (get16(ethernet, 12) != kEthertypeIpv4) return std::nullopt;
  auto ip = parse_ipv4(ethernet.subspan(kEthernetHeaderSize));
  if (!ip) return std::nullopt;
  ParsedVxlan parsed;
  parsed.frame.vni = get32(udp_payload, 4) >> 8;
  std::copy(ethernet.begin(), ethernet.begin() + 6, parsed.frame.destination_mac.begin());
  std::copy(ethernet.begin() + 6, ethernet.begin() + 12, parsed.frame.source_mac.begin());
  parsed.frame.inner_source = ip->source;
  parsed.frame.inner_destination = ip->destination;
  auto whole = ethernet.subspan(kEthernetHeaderSize);
  parsed.inner_ip.assign(whole.begin(), whole.end());
  return parsed;
}

}  // namespace podpath::prober
