// The prober's packet parsing (prober/packet.h): echo replies from datagram and raw sockets,
// packets the kernel loops back with TX timestamps, VXLAN frames. The first bytes choose the
// fields of packets built and parsed back (round trips); the rest is parsed as received.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

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
