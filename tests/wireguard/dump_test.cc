// `wg show all dump` over the published dumps of tests/fixtures/wg (SOURCES.md).
#include "wireguard/dump.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace podpath::wireguard {
namespace {

using testing::read_fixture;

TEST(ShowDump, ReadsTheIssue19ServerWithNeverAndRecentHandshakes) {
  DumpRead read =
      parse_show_dump(read_fixture("prometheus-wireguard-exporter-issue19-wg-show-all-dump.txt"));
  EXPECT_TRUE(read.problems.empty()) << read.problems[0];
  ASSERT_EQ(read.devices.size(), 1u);
  const Device& wg0 = read.devices[0];
  EXPECT_EQ(wg0.name, "wg0");
  EXPECT_EQ(wg0.public_key, "VfjHGauX8OxotDMm2vi3JdwOUTDsFbxCnyInJ/wAXlk=");
  EXPECT_EQ(wg0.listen_port, 51820);
  ASSERT_EQ(wg0.peers.size(), 17u);

  const Peer& never = wg0.peers[0];
  EXPECT_EQ(never.public_key, "923V/iAdcz8BcqB0Xo6pDJzARGBJCQ6fWe+peixQyB4=");
  EXPECT_EQ(never.endpoint->to_string(), "10.211.123.112:51820");
  EXPECT_EQ(never.allowed_ips, (std::vector{*model::IpPrefix::parse("10.90.0.10/32"),
                                            *model::IpPrefix::parse("10.0.1.0/24")}));
  EXPECT_FALSE(never.last_handshake);                // 0 = never
  EXPECT_EQ(never.persistent_keepalive_seconds, 0);  // off

  const Peer& busy = wg0.peers[15];
  EXPECT_EQ(busy.public_key, "HtOSi37ALMnSkeAFqeWYZqlBnZqAJERhb5o/i3ZPEFI=");
  EXPECT_EQ(busy.last_handshake->time_since_epoch(), std::chrono::seconds(1574770783));
  EXPECT_EQ(busy.rx_bytes, 62592693520u);
  EXPECT_EQ(busy.tx_bytes, 1439257868u);

  int handshaked = 0;
  for (const auto& peer : wg0.peers) handshaked += peer.last_handshake ? 1 : 0;
  EXPECT_EQ(handshaked, 4);
  // The interface's private key (second field of its line) is not kept anywhere.
  EXPECT_NE(wg0.public_key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
}

TEST(ShowDump, RefusesTheHandMadeLinesOfTheOlderDumpAndKeepsTheRest) {
  DumpRead read =
      parse_show_dump(read_fixture("prometheus-wireguard-exporter-test-wg-show-all-dump.txt"));
  // The interface line's zero-padded keys are 43 characters and "pollo"'s peer key 42: not
  // WireGuard keys, so those two lines are problems.
  ASSERT_EQ(read.problems.size(), 2u);
  EXPECT_EQ(read.problems[0], "line 1: public key is not a base64 key");
  EXPECT_EQ(read.problems[1], "line 7: public key is not a base64 key");
  ASSERT_EQ(read.devices.size(), 2u);
  EXPECT_EQ(read.devices[0].name, "wg0");
  EXPECT_EQ(read.devices[0].listen_port, 0);  // its own line was refused
  ASSERT_EQ(read.devices[0].peers.size(), 5u);
  EXPECT_FALSE(read.devices[0].peers[1].endpoint);  // (none)
  EXPECT_EQ(read.devices[0].peers[4].endpoint->to_string(), "5.90.62.106:21741");
  EXPECT_EQ(read.devices[1].name, "wg2");
  EXPECT_EQ(read.devices[1].peers.size(), 1u);
}

struct LineCase {
  const char* name;
  const char* text;
  std::size_t peers;
  std::size_t problems;
};

class ShowDumpLines : public ::testing::TestWithParam<LineCase> {};

TEST_P(ShowDumpLines, OneProblemPerBadLine) {
  DumpRead read = parse_show_dump(GetParam().text);
  std::size_t peers = 0;
  for (const auto& d : read.devices) peers += d.peers.size();
  EXPECT_EQ(peers, GetParam().peers);
  EXPECT_EQ(read.problems.size(), GetParam().problems);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ShowDumpLines,
    ::testing::Values(
        LineCase{"empty", "", 0, 0}, LineCase{"wrong_field_count", "wg0\ta\tb\n", 0, 1},
        LineCase{"keepalive_in_seconds",
                 "flannel-wg\t9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=\t(none)\t"
                 "192.168.68.148:51820\t10.42.1.0/24\t1700000000\t6881\t6676\t25\r\n",
                 1, 0},
        LineCase{"bad_allowed_ip",
                 "flannel-wg\t9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=\t(none)\t(none)\t"
                 "10.42.1.0/99\t0\t0\t0\toff\n",
                 0, 1},
        LineCase{"bad_fwmark",
                 "flannel-wg\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t"
                 "tY4r5p9NWjAMe7r0BRcpBYKyg60+jdROV/iZhANzrwA=\t51820\t0xzz\n",
                 0, 1}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace podpath::wireguard
