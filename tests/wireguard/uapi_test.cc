// The UAPI "get=1" reply parser over the cross-platform page's example (as quoted in
// netbird's tests, tests/fixtures/SOURCES.md) and over the lines wireguard-go writes.
#include "wireguard/uapi.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace podpath::wireguard {
namespace {

using testing::read_fixture;

model::IpPrefix prefix(const char* text) {
  return *model::IpPrefix::parse(text);
}

TEST(UapiGet, ReadsTheCrossPlatformExampleWithKeysInBase64AndNoSecrets) {
  const std::string reply = read_fixture("xplatform-uapi-get-reply.netbird-usp-test.txt");
  DeviceRead read = parse_uapi_get(reply, "wg0");
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, 0);
  EXPECT_TRUE(read.problems.empty()) << read.problems[0];
  EXPECT_EQ(read.device.name, "wg0");
  EXPECT_EQ(read.device.listen_port, 12912);
  EXPECT_EQ(read.device.public_key, "");  // the UAPI does not say it
  ASSERT_EQ(read.device.peers.size(), 3u);

  const Peer& first = read.device.peers[0];
  EXPECT_EQ(first.public_key, "uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=");
  ASSERT_TRUE(first.endpoint);
  EXPECT_EQ(first.endpoint->to_string(), "[abcd:23::33]:51820");  // the zone %2 is dropped
  EXPECT_EQ(first.allowed_ips, std::vector{prefix("192.168.4.4/32")});
  EXPECT_FALSE(first.last_handshake);
  EXPECT_EQ(first.tx_bytes, 0u);

  const Peer& second = read.device.peers[1];
  EXPECT_EQ(second.public_key, "WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=");
  EXPECT_EQ(second.endpoint->to_string(), "182.122.22.19:3233");
  EXPECT_EQ(second.tx_bytes, 38333u);
  EXPECT_EQ(second.rx_bytes, 2224u);
  EXPECT_EQ(second.persistent_keepalive_seconds, 111);

  const Peer& third = read.device.peers[2];
  EXPECT_EQ(third.public_key, "Zi4U/VlFVvUiYEcDNANRJYkDtk81VTdj8ZQmqypRXFg=");
  EXPECT_EQ(third.allowed_ips, (std::vector{prefix("192.168.4.10/32"), prefix("192.168.4.11/32")}));
  EXPECT_EQ(third.rx_bytes, 1929999999u);

  // Neither the private key nor the preshared key survives anywhere in the result.
  for (const char* secret : {"e84b5a6d", "6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=",
                             "188515093e", "GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I="}) {
    EXPECT_EQ(read.device.public_key.find(secret), std::string::npos);
    for (const auto& peer : read.device.peers)
      EXPECT_EQ(peer.public_key.find(secret), std::string::npos);
  }
}

TEST(UapiGet, HandshakeTimeJoinsSecondsAndNanoseconds) {
  // The order wireguard-go writes a peer in (device/uapi.go IpcGetOperation).
  const std::string reply =
      "listen_port=51820\n"
      "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
      "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
      "protocol_version=1\n"
      "endpoint=192.168.68.148:51820\n"
      "last_handshake_time_sec=1700000000\n"
      "last_handshake_time_nsec=250000000\n"
      "tx_bytes=6676\n"
      "rx_bytes=6881\n"
      "persistent_keepalive_interval=25\n"
      "allowed_ip=10.42.1.0/24\n"
      "errno=0\n"
      "\n";
  DeviceRead read = parse_uapi_get(reply, "flannel-wg");
  ASSERT_EQ(read.device.peers.size(), 1u);
  const Peer& peer = read.device.peers[0];
  ASSERT_TRUE(peer.last_handshake);
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::milliseconds>(peer.last_handshake->time_since_epoch())
          .count(),
      1700000000250);
  EXPECT_EQ(peer.persistent_keepalive_seconds, 25);
  EXPECT_EQ(peer.allowed_ips, std::vector{prefix("10.42.1.0/24")});
}

struct BrokenCase {
  const char* name;
  const char* reply;
  std::size_t peers;
  std::size_t problems;
  bool complete;
  int error;
};

class UapiGetBroken : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(UapiGetBroken, KeepsWhatItCanRead) {
  const BrokenCase& c = GetParam();
  DeviceRead read = parse_uapi_get(c.reply, "wg0");
  EXPECT_EQ(read.device.peers.size(), c.peers);
  EXPECT_EQ(read.problems.size(), c.problems);
  EXPECT_EQ(read.complete, c.complete);
  EXPECT_EQ(read.error, c.error);
}

constexpr const char* kKey = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";

INSTANTIATE_TEST_SUITE_P(
    Cases, UapiGetBroken,
    ::testing::Values(
        BrokenCase{"empty_reply_ends_at_once", "\n", 0, 0, true, 0},
        BrokenCase{"error_reply", "errno=19\n\n", 0, 0, true, 19},
        BrokenCase{"cut_before_the_empty_line", "listen_port=1\nerrno=0\n", 0, 0, false, 0},
        BrokenCase{"line_without_equals", "listen_port\nerrno=0\n\n", 0, 1, true, 0},
        BrokenCase{"bad_port", "listen_port=70000\nerrno=0\n\n", 0, 1, true, 0},
        BrokenCase{"short_key_skips_the_peer", "public_key=abcd\ntx_bytes=1\nerrno=0\n\n", 0, 1,
                   true, 0},
        BrokenCase{"bad_counter_keeps_the_peer",
                   "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
                   "tx_bytes=-1\nendpoint=nohost\nallowed_ip=10.0.0.0/33\nerrno=0\n\n",
                   1, 3, true, 0},
        BrokenCase{"unknown_keys_are_ignored",
                   "future_key=1\n"
                   "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
                   "another_future_key=x\nerrno=0\n\n",
                   1, 0, true, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(UapiGet, LinesAfterTheEmptyLineAreNotRead) {
  std::string reply = std::string("public_key=") + kKey + "\nerrno=0\n\npublic_key=" + kKey + "\n";
  EXPECT_EQ(parse_uapi_get(reply, "wg0").device.peers.size(), 1u);
}

}  // namespace
}  // namespace podpath::wireguard
