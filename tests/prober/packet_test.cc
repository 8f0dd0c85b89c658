#include "prober/packet.h"

#include <gtest/gtest.h>

namespace podpath::prober {
namespace {

const Cookie kCookie{1, 2, 3, 4, 5, 6, 7, 8};

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the one's complement sum of these words is 0xddf2.
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(data), static_cast<std::uint16_t>(~0xddf2 & 0xffff));
}

TEST(Checksum, OddLengthPadsWithZero) {
  const std::uint8_t odd[] = {0x12, 0x34, 0x56};
  const std::uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd), internet_checksum(even));
}

TEST(EchoRequest, LayoutAndChecksumVerify) {
  auto icmp = build_echo_request({0xbeef, 0x0102, kCookie, 56});
  ASSERT_EQ(icmp.size(), 64u);
  EXPECT_EQ(icmp[0], kIcmpEcho);
  EXPECT_EQ(icmp[1], 0);
  EXPECT_EQ(icmp[4], 0xbe);
  EXPECT_EQ(icmp[5], 0xef);
  EXPECT_EQ(icmp[6], 0x01);
  EXPECT_EQ(icmp[7], 0x02);
  // A correct checksum makes the whole message sum to zero.
  EXPECT_EQ(internet_checksum(icmp), 0);
  EXPECT_TRUE(std::equal(kCookie.begin(), kCookie.end(), icmp.begin() + 8));
}

TEST(EchoRequest, PayloadNeverSmallerThanTheCookieHeader) {
  auto icmp = build_echo_request({1, 2, kCookie, 0});
  EXPECT_EQ(icmp.size(), kIcmpHeaderSize + kProbePayloadHeader);
}

// A reply as the kernel answers it: type 0, same identifier, sequence and payload.
std::vector<std::uint8_t> reply_for(std::vector<std::uint8_t> request) {
  request[0] = kIcmpEchoReply;
  request[2] = request[3] = 0;
  auto sum = internet_checksum(request);
  request[2] = static_cast<std::uint8_t>(sum >> 8);
  request[3] = static_cast<std::uint8_t>(sum & 0xff);
  return request;
}

TEST(ParseEcho, ReplyWithOurCookie) {
  auto reply = reply_for(build_echo_request({7, 65535, kCookie, 56}));
  auto parsed = parse_icmp_echo(reply, kCookie);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, kIcmpEchoReply);
  EXPECT_EQ(parsed->identifier, 7);
  EXPECT_EQ(parsed->sequence, 65535);
  EXPECT_TRUE(parsed->cookie_matches);
}

TEST(ParseEcho, ForeignPingerWithSameIdentifierFailsTheCookie) {
  Cookie other{9, 9, 9, 9, 9, 9, 9, 9};
  auto reply = reply_for(build_echo_request({7, 1, other, 56}));
  auto parsed = parse_icmp_echo(reply, kCookie);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->cookie_matches);
}

TEST(ParseEcho, SequenceInPayloadMustAgree) {
  auto reply = reply_for(build_echo_request({7, 1, kCookie, 56}));
  reply[7] = 2;  // header sequence changed, payload still says 1
  auto parsed = parse_icmp_echo(reply, kCookie);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->cookie_matches);
}

TEST(ParseEcho, RejectsOtherTypesAndTruncation) {
  auto reply = reply_for(build_echo_request({7, 1, kCookie, 56}));
  auto unreachable = reply;
  unreachable[0] = kIcmpDestUnreachable;
  EXPECT_FALSE(parse_icmp_echo(unreachable, kCookie));
  EXPECT_FALSE(parse_icmp_echo(std::span(reply).first(7), kCookie));
  // Eight bytes (what a router must quote) still give identifier and sequence.
  auto quoted = parse_icmp_echo(std::span(reply).first(8), kCookie);
  ASSERT_TRUE(quoted);
  EXPECT_FALSE(quoted->cookie_matches);
}

TEST(Ipv4, RoundTrip) {
  auto icmp = build_echo_request({7, 1, kCookie, 56});
  auto packet = build_ipv4(*model::Ipv4::parse("10.42.1.0"), *model::Ipv4::parse("10.42.2.0"), 1,
                           0x1234, icmp);
  EXPECT_EQ(internet_checksum(std::span(packet).first(20)), 0);
  auto parsed = parse_ipv4(packet);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->source.to_string(), "10.42.1.0");
  EXPECT_EQ(parsed->destination.to_string(), "10.42.2.0");
  EXPECT_EQ(parsed->protocol, 1);
  EXPECT_EQ(parsed->payload.size(), icmp.size());
}

TEST(Ipv4, RejectsBadHeaders) {
  std::vector<std::uint8_t> v6(40, 0);
  v6[0] = 0x60;
  EXPECT_FALSE(parse_ipv4(v6));
  std::vector<std::uint8_t> short_ihl(20, 0);
  short_ihl[0] = 0x44;
  short_ihl[3] = 20;
  EXPECT_FALSE(parse_ipv4(short_ihl));
  EXPECT_FALSE(parse_ipv4(std::vector<std::uint8_t>(19, 0x45)));
}

TEST(FindEchoRequest, AtIcmpIpOrEthernetOffset) {
  auto icmp = build_echo_request({0x4242, 77, kCookie, 56});
  auto ip = build_ipv4(model::Ipv4{1}, model::Ipv4{2}, 1, 0, icmp);
  std::vector<std::uint8_t> ethernet(14, 0);
  ethernet[12] = 0x08;
  ethernet.insert(ethernet.end(), ip.begin(), ip.end());
  for (const auto& looped : {icmp, ip, ethernet}) {
    auto found = find_echo_request(looped, 0x4242, kCookie);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->sequence, 77);
  }
  EXPECT_FALSE(find_echo_request(ip, 0x4243, kCookie));
}

TEST(Mac, ParsesLowerAndUpperCase) {
  auto mac = parse_mac("32:f3:9E:5f:0e:68");
  ASSERT_TRUE(mac);
  EXPECT_EQ((*mac)[0], 0x32);
  EXPECT_EQ((*mac)[2], 0x9e);
  EXPECT_EQ((*mac)[5], 0x68);
  for (const char* bad : {"", "32:f3:9e:5f:0e", "32-f3-9e-5f-0e-68", "32:f3:9e:5f:0e:6g"})
    EXPECT_FALSE(parse_mac(bad)) << bad;
}

TEST(Vxlan, FrameLayoutFollowsRfc7348AndFlannel) {
  VxlanFrame frame{1, *parse_mac("aa:bb:cc:dd:ee:01"), *parse_mac("32:f3:9e:5f:0e:68"),
                   *model::Ipv4::parse("10.42.1.0"), *model::Ipv4::parse("10.42.2.0")};
  auto icmp = build_echo_request({5, 6, kCookie, 56});
  auto udp = build_vxlan_frame(frame, icmp);
  ASSERT_EQ(udp.size(), 8 + 14 + 20 + icmp.size());
  EXPECT_EQ(udp[0], 0x08);  // I flag
  EXPECT_EQ(udp[4], 0);     // VNI 1 in bytes 4..6
  EXPECT_EQ(udp[5], 0);
  EXPECT_EQ(udp[6], 1);
  EXPECT_EQ(udp[7], 0);      // reserved
  EXPECT_EQ(udp[8], 0x32);   // inner destination MAC first
  EXPECT_EQ(udp[14], 0xaa);  // then source MAC
  EXPECT_EQ(udp[20], 0x08);  // EtherType IPv4
  EXPECT_EQ(udp[21], 0x00);
  auto parsed = parse_vxlan_frame(udp);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->frame.vni, 1u);
  EXPECT_EQ(parsed->frame.inner_source.to_string(), "10.42.1.0");
  EXPECT_EQ(parsed->frame.inner_destination.to_string(), "10.42.2.0");
  EXPECT_EQ(parsed->frame.destination_mac, frame.destination_mac);
  auto inner = parse_ipv4(parsed->inner_ip);
  ASSERT_TRUE(inner);
  auto echo = parse_icmp_echo(inner->payload, kCookie);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->sequence, 6);
  EXPECT_TRUE(echo->cookie_matches);
}

TEST(Vxlan, LargeVniAndNonVxlan) {
  VxlanFrame frame;
  frame.vni = 0xabcdef;
  auto udp = build_vxlan_frame(frame, build_echo_request({1, 1, kCookie, 16}));
  EXPECT_EQ(parse_vxlan_frame(udp)->frame.vni, 0xabcdefu);
  udp[0] = 0;
  EXPECT_FALSE(parse_vxlan_frame(udp));
}

}  // namespace
}  // namespace podpath::prober
