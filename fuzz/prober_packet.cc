// The prober's packet parsing (prober/packet.h): echo replies from datagram and raw sockets,
// packets the kernel loops back with TX timestamps, VXLAN frames. The first bytes choose the
// fields of packets built and parsed back (round trips); the rest is parsed as received.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>

#include "check.h"
#include "prober/packet.h"

namespace pr = podpath::prober;
using Span = std::span<const std::uint8_t>;

namespace {

void round_trips(FuzzedDataProvider& in) {
  pr::EchoRequest request;
  request.identifier = in.ConsumeIntegral<std::uint16_t>();
  request.sequence = in.ConsumeIntegral<std::uint16_t>();
  for (auto& byte : request.cookie) byte = in.ConsumeIntegral<std::uint8_t>();
  request.payload_size = in.ConsumeIntegralInRange<std::size_t>(0, 1500);
  const auto echo = pr::build_echo_request(request);
  FUZZ_CHECK(pr::internet_checksum(echo) == 0, "echo request checksum");
  const auto parsed = pr::parse_icmp_echo(echo, request.cookie);
  FUZZ_CHECK(parsed && parsed->type == pr::kIcmpEcho && parsed->cookie_matches, "echo");
  FUZZ_CHECK(parsed->identifier == request.identifier && parsed->sequence == request.sequence,
             "echo fields");
  // Looped back bare, behind an IP header, or behind an Ethernet header too.
  pr::VxlanFrame frame;
  frame.vni = in.ConsumeIntegral<std::uint32_t>() & 0xffffff;
  for (auto& byte : frame.source_mac) byte = in.ConsumeIntegral<std::uint8_t>();
  for (auto& byte : frame.destination_mac) byte = in.ConsumeIntegral<std::uint8_t>();
  frame.inner_source.value = in.ConsumeIntegral<std::uint32_t>();
  frame.inner_destination.value = in.ConsumeIntegral<std::uint32_t>();
  const auto ip = pr::build_ipv4(frame.inner_source, frame.inner_destination, 1, 7, echo);
  FUZZ_CHECK(pr::internet_checksum(Span(ip).first(pr::kIpv4HeaderSize)) == 0, "ip checksum");
  const auto vxlan = pr::build_vxlan_frame(frame, echo);
  const Span ethernet = Span(vxlan).subspan(8);
  for (Span looped : {Span(echo), Span(ip), ethernet}) {
    auto found = pr::find_echo_request(looped, request.identifier, request.cookie);
    FUZZ_CHECK(found && found->sequence == request.sequence, "find_echo_request");
  }
  // ICMPv6: the request parses back, bare and behind an IPv6 header.
  const auto echo6 = pr::build_echo6_request(request);
  const auto parsed6 = pr::parse_icmp6_echo(echo6, request.cookie);
  FUZZ_CHECK(parsed6 && parsed6->type == pr::kIcmp6EchoRequest && parsed6->cookie_matches &&
                 parsed6->sequence == request.sequence,
             "echo6");
  std::array<std::uint8_t, 16> a{}, b{};
  for (auto& byte : a) byte = in.ConsumeIntegral<std::uint8_t>();
  for (auto& byte : b) byte = in.ConsumeIntegral<std::uint8_t>();
  const auto ip6 = pr::build_ipv6(podpath::model::IpAddress::v6(a),
                                  podpath::model::IpAddress::v6(b), pr::kNextHeaderIcmp6, echo6);
  for (Span looped : {Span(echo6), Span(ip6)}) {
    auto found = pr::find_echo6_request(looped, request.identifier, request.cookie);
    FUZZ_CHECK(found && found->sequence == request.sequence, "find_echo6_request");
  }
  // A checksum filled in makes the message verify over the same pseudo-header.
  auto summed = echo6;
  const auto sum = pr::icmp6_checksum(podpath::model::IpAddress::v6(a),
                                      podpath::model::IpAddress::v6(b), summed);
  summed[2] = static_cast<std::uint8_t>(sum >> 8);
  summed[3] = static_cast<std::uint8_t>(sum & 0xff);
  FUZZ_CHECK(pr::icmp6_checksum(podpath::model::IpAddress::v6(a), podpath::model::IpAddress::v6(b),
                                summed) == 0,
             "icmp6 checksum");
  const auto back = pr::parse_vxlan_frame(vxlan);
  FUZZ_CHECK(back, "vxlan frame");
  FUZZ_CHECK(back->frame.vni == frame.vni && back->frame.source_mac == frame.source_mac &&
                 back->frame.destination_mac == frame.destination_mac &&
                 back->frame.inner_source == frame.inner_source &&
                 back->frame.inner_destination == frame.inner_destination,
             "vxlan fields");
  const auto inner = pr::parse_ipv4(back->inner_ip);
  FUZZ_CHECK(
      inner && std::equal(inner->payload.begin(), inner->payload.end(), echo.begin(), echo.end()),
      "vxlan inner packet");
}

void received(Span bytes, std::uint16_t identifier, const pr::Cookie& cookie) {
  if (auto echo = pr::parse_icmp_echo(bytes, cookie))
    FUZZ_CHECK(echo->type == pr::kIcmpEcho || echo->type == pr::kIcmpEchoReply, "echo type");
  if (auto ip = pr::parse_ipv4(bytes)) {
    // The payload lies inside the packet, after a header of at least 20 bytes.
    FUZZ_CHECK(ip->payload.data() >= bytes.data() + pr::kIpv4HeaderSize &&
                   ip->payload.data() + ip->payload.size() <= bytes.data() + bytes.size(),
               "ipv4 payload outside the packet");
  }
  if (auto found = pr::find_echo_request(bytes, identifier, cookie))
    FUZZ_CHECK(found->identifier == identifier && found->cookie_matches, "find_echo_request");
  // ICMPv6: echo, Packet Too Big (with its quoted packet), IPv6 headers, looped requests.
  if (auto echo = pr::parse_icmp6_echo(bytes, cookie))
    FUZZ_CHECK(echo->type == pr::kIcmp6EchoRequest || echo->type == pr::kIcmp6EchoReply,
               "echo6 type");
  if (auto ptb = pr::parse_packet_too_big(bytes, cookie)) {
    FUZZ_CHECK(bytes.size() >= pr::kIcmpHeaderSize && bytes[0] == pr::kIcmp6PacketTooBig, "ptb");
    if (ptb->quoted)
      FUZZ_CHECK(
          ptb->quoted->payload.data() + ptb->quoted->payload.size() <= bytes.data() + bytes.size(),
          "ptb quote outside the message");
    FUZZ_CHECK(!ptb->quoted_echo || ptb->quoted, "quoted echo without a quoted header");
  }
  if (auto ip6 = pr::parse_ipv6(bytes))
    FUZZ_CHECK(ip6->payload.data() == bytes.data() + pr::kIpv6HeaderSize &&
                   ip6->payload.size() + pr::kIpv6HeaderSize <= bytes.size() &&
                   ip6->source.is_v6() && ip6->destination.is_v6(),
               "ipv6 payload outside the packet");
  if (auto found = pr::find_echo6_request(bytes, identifier, cookie))
    FUZZ_CHECK(found->identifier == identifier && found->cookie_matches, "find_echo6_request");
  if (auto vxlan = pr::parse_vxlan_frame(bytes)) {
    FUZZ_CHECK(vxlan->frame.vni <= 0xffffff, "vni");
    FUZZ_CHECK(vxlan->inner_ip.size() + 22 <= bytes.size(), "vxlan inner packet too long");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (auto mac = pr::parse_mac(text)) {
    char formatted[18];
    std::snprintf(formatted, sizeof formatted, "%02x:%02x:%02x:%02x:%02x:%02x", (*mac)[0],
                  (*mac)[1], (*mac)[2], (*mac)[3], (*mac)[4], (*mac)[5]);
    FUZZ_CHECK(pr::parse_mac(formatted) == mac, text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The parsers first, on all the bytes, so that seeds of real packets parse as they are.
  pr::Cookie cookie{};
  std::copy_n(data, std::min(size, cookie.size()), cookie.begin());
  received(Span(data, size), size >= 2 ? static_cast<std::uint16_t>(data[0] << 8 | data[1]) : 0,
           cookie);
  if (size >= 14) received(Span(data, size).subspan(14), 0, cookie);
  FuzzedDataProvider in(data, size);
  round_trips(in);
  return 0;
}
