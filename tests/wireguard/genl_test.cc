// The WG_CMD_GET_DEVICE reply parser over hand-built dumps (genl_builder.h).
#include "wireguard/genl.h"

#include <gtest/gtest.h>

#include "encoding/base64.h"
#include "genl_builder.h"

namespace podpath::wireguard {
namespace {

using namespace testing;

std::string key_of(std::uint8_t fill) {
  return encoding::encode_base64(std::string(WG_KEY_LEN, static_cast<char>(fill)));
}

TEST(GenlGetDevice, ReadsFlannelsDeviceAndKeepsNoSecret) {
  const Bytes reply = flannel_wg_reply();
  DeviceRead read = parse_genl_get_device(reply);
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, 0);
  EXPECT_TRUE(read.problems.empty()) << read.problems[0];
  EXPECT_EQ(read.device.name, "flannel-wg");
  EXPECT_EQ(read.device.public_key, key_of(0x22));
  EXPECT_EQ(read.device.listen_port, 51820);
  ASSERT_EQ(read.device.peers.size(), 1u);
  const Peer& peer = read.device.peers[0];
  EXPECT_EQ(peer.public_key, key_of(0x33));
  EXPECT_EQ(peer.endpoint->to_string(), "192.168.68.148:51820");
  EXPECT_EQ(peer.persistent_keepalive_seconds, 25);
  ASSERT_TRUE(peer.last_handshake);
  EXPECT_EQ(peer.last_handshake->time_since_epoch(),
            std::chrono::seconds(1700000000) + std::chrono::nanoseconds(5));
  EXPECT_EQ(peer.rx_bytes, 6881u);
  EXPECT_EQ(peer.tx_bytes, 6676u);
  EXPECT_EQ(peer.allowed_ips, std::vector{*model::IpPrefix::parse("10.42.1.0/24")});
  for (std::uint8_t secret : {0x11, 0x44}) {
    EXPECT_NE(read.device.public_key, key_of(secret));
    EXPECT_NE(peer.public_key, key_of(secret));
  }
}

TEST(GenlGetDevice, JoinsAPeerSplitAcrossMessagesAndTheMessagesPeers) {
  // The second message repeats the device name, then the first peer with only its key and the
  // rest of its allowed IPs, then a peer that never handshaked (timespec 0/0).
  const Bytes reply = concat(
      {message(kFamily,
               {ifname("flannel-wg-v6"), attr_value<std::uint16_t>(WGDEVICE_A_LISTEN_PORT, 51821),
                nested(WGDEVICE_A_PEERS,
                       {nested(0, {key_attr(WGPEER_A_PUBLIC_KEY, 0x33),
                                   endpoint_v6("2600::10", 51821), handshake(1700000000, 0),
                                   nested(WGPEER_A_ALLOWEDIPS,
                                          {allowed_ip("2001:cafe:42:1::", 64)})})})}),
       message(
           kFamily,
           {ifname("flannel-wg-v6"),
            nested(WGDEVICE_A_PEERS,
                   {nested(0, {key_attr(WGPEER_A_PUBLIC_KEY, 0x33),
                               nested(WGPEER_A_ALLOWEDIPS, {allowed_ip("2001:cafe:42:9::", 64)})}),
                    nested(0, {key_attr(WGPEER_A_PUBLIC_KEY, 0x55), handshake(0, 0),
                               attr_value<std::uint64_t>(WGPEER_A_TX_BYTES, 148)})})}),
       done(0)});
  DeviceRead read = parse_genl_get_device(reply);
  EXPECT_TRUE(read.problems.empty()) << read.problems[0];
  EXPECT_EQ(read.device.listen_port, 51821);
  ASSERT_EQ(read.device.peers.size(), 2u);
  EXPECT_EQ(read.device.peers[0].endpoint->to_string(), "[2600::10]:51821");
  EXPECT_EQ(read.device.peers[0].allowed_ips,
            (std::vector{*model::IpPrefix::parse("2001:cafe:42:1::/64"),
                         *model::IpPrefix::parse("2001:cafe:42:9::/64")}));
  EXPECT_TRUE(read.device.peers[0].last_handshake);
  EXPECT_FALSE(read.device.peers[1].last_handshake);
  EXPECT_EQ(read.device.peers[1].tx_bytes, 148u);
}

TEST(GenlGetDevice, NoSuchDeviceIsTheKernelsErrno) {
  DeviceRead read = parse_genl_get_device(done(-ENODEV, NLMSG_ERROR));
  EXPECT_TRUE(read.complete);
  EXPECT_EQ(read.error, ENODEV);
  EXPECT_TRUE(read.device.peers.empty());
}

TEST(GenlGetDevice, AnErrorInTheDumpsDoneIsKept) {
  DeviceRead read = parse_genl_get_device(concat({flannel_wg_reply(), done(-EINTR)}));
  EXPECT_EQ(read.error, 0);  // the first DONE ends the reply
  read = parse_genl_get_device(done(-EMSGSIZE));
  EXPECT_EQ(read.error, EMSGSIZE);
}

TEST(GenlGetDevice, ATruncatedReplyIsAProblemNeverAnOverRead) {
  const Bytes reply = flannel_wg_reply();
  const std::size_t device_message = reply.size() - done(0).size();
  for (std::size_t length = 0; length < reply.size(); ++length) {
    // A copy of exactly `length` bytes, so ASan sees any read past it.
    const Bytes cut(reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(length));
    DeviceRead read = parse_genl_get_device(cut);
    EXPECT_FALSE(read.complete) << length;
    // Cut between two messages, the reply is merely incomplete; anywhere else, broken.
    if (length != 0 && length != device_message) {
      EXPECT_FALSE(read.problems.empty()) << length;
    }
  }
}

TEST(GenlGetDevice, APeerWithoutAKeyIsSkipped) {
  const Bytes reply = concat(
      {message(kFamily,
               {ifname("flannel-wg"),
                nested(WGDEVICE_A_PEERS,
                       {nested(0, {endpoint_v4("192.0.2.1", 51820)}),
                        nested(0, {key_attr(WGPEER_A_PUBLIC_KEY, 0x66),
                                   nested(WGPEER_A_ALLOWEDIPS, {allowed_ip("10.42.0.0", 33)})})})}),
       done(0)});
  DeviceRead read = parse_genl_get_device(reply);
  ASSERT_EQ(read.device.peers.size(), 1u);
  EXPECT_TRUE(read.device.peers[0].allowed_ips.empty());  // /33 is refused
  EXPECT_EQ(read.problems.size(), 2u);
}

}  // namespace
}  // namespace podpath::wireguard
