// Mapping WireGuard peers onto cluster peers, and the collector's series, over the k3s
// wireguard-native dual-stack node of k3s issue #5408 (tests/fixtures/wg, SOURCES.md): one
// peer on flannel-wg (192.168.68.148:51820, 10.42.1.0/24) and the same key on flannel-wg-v6
// (2001:cafe:42:1::/64).
#include "wireguard/snapshot.h"

#include <gtest/gtest.h>

#include "wireguard/collector.h"

namespace podpath::wireguard {
namespace {

using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;

constexpr const char* kPeerKey = "9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=";
const Time kNow{seconds(1700000000)};

model::IpPrefix prefix(const char* text) {
  return *model::IpPrefix::parse(text);
}

model::PeerSet cluster() {
  model::ClusterNode node;
  node.name = "agent-1";
  node.backend_type = "wireguard";
  node.pod_cidr = model::Ipv4Prefix::parse("10.42.1.0/24");
  node.pod_cidr_v6 = prefix("2001:cafe:42:1::/64");
  node.public_ip = model::Ipv4::parse("192.168.68.148");
  node.wireguard_public_key = kPeerKey;
  model::ClusterNode other;
  other.name = "agent-2";
  other.pod_cidr = model::Ipv4Prefix::parse("10.42.2.0/24");
  other.public_ip = model::Ipv4::parse("192.168.68.149");
  return model::merge_peers("server-0", std::vector{node, other}, {});
}

Peer wg_peer(const char* allowed, std::optional<Endpoint> endpoint, std::optional<Time> handshake,
             std::uint64_t tx, int keepalive = 25) {
  Peer p;
  p.public_key = kPeerKey;
  p.endpoint = endpoint;
  if (allowed) p.allowed_ips.push_back(prefix(allowed));
  p.last_handshake = handshake;
  p.rx_bytes = 6881;
  p.tx_bytes = tx;
  p.persistent_keepalive_seconds = keepalive;
  return p;
}

std::vector<std::pair<Device, Interface>> dual_stack(std::uint64_t tx) {
  Device v4{
      "flannel-wg",
      "",
      51820,
      0,
      {wg_peer("10.42.1.0/24", parse_endpoint("192.168.68.148:51820"), kNow - seconds(87), tx)}};
  Device v6{"flannel-wg-v6",
            "",
            51821,
            0,
            {wg_peer("2001:cafe:42:1::/64", parse_endpoint("[2600::10]:51821"), kNow - seconds(50),
                     2816)}};
  return {{v4, Interface::kNetlink}, {v6, Interface::kNetlink}};
}

TEST(MapDevices, EachFamilysDeviceMapsToThePeerByItsPodSubnet) {
  Snapshot s = map_devices(dual_stack(6676), cluster(), nullptr, kNow);
  ASSERT_EQ(s.peers.size(), 2u);
  EXPECT_EQ(s.peers[0].peer, "agent-1");
  EXPECT_EQ(s.peers[0].device, "flannel-wg");
  EXPECT_EQ(s.peers[1].device, "flannel-wg-v6");
  EXPECT_EQ(s.peers[1].match, MatchReason::kAllowedIp);
  EXPECT_EQ(*s.peers[0].handshake_age_seconds(s.read_at), 87);
  EXPECT_FALSE(s.peers[0].tx_since_previous);  // the first read
  EXPECT_EQ(s.find("agent-1", model::Family::kIpv4).size(), 1u);
  EXPECT_EQ(s.find("agent-1", model::Family::kIpv6).size(), 1u);
  EXPECT_EQ(s.peers[1].family, model::Family::kIpv6);
  EXPECT_TRUE(s.find("agent-2", model::Family::kIpv4).empty());
  EXPECT_EQ(s.devices[0].unmapped_peers, 0u);
}

TEST(MapDevices, EndpointMatchesWhenNoAllowedIpHoldsAPodCidr) {
  std::vector<std::pair<Device, Interface>> devices{
      {Device{"flannel-wg",
              "",
              51820,
              0,
              {wg_peer("10.99.0.0/16", parse_endpoint("192.168.68.149:51820"), std::nullopt, 0, 0),
               wg_peer(nullptr, parse_endpoint("203.0.113.9:51820"), std::nullopt, 0, 0)}},
       Interface::kUapi}};
  Snapshot s = map_devices(devices, cluster(), nullptr, kNow);
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers[0].peer, "agent-2");
  EXPECT_EQ(s.peers[0].match, MatchReason::kEndpoint);
  EXPECT_EQ(s.devices[0].unmapped_peers, 1u);
  EXPECT_FALSE(s.peers[0].handshake_age_seconds(kNow));
}

TEST(MapDevices, ACatchAllGoesToTheFirstPeerAndAnExactSubnetToItsOwn) {
  std::vector<std::pair<Device, Interface>> devices{
      {Device{"flannel-wg",
              "",
              51820,
              0,
              {wg_peer("0.0.0.0/0", std::nullopt, std::nullopt, 0),
               wg_peer("10.42.2.0/24", std::nullopt, std::nullopt, 0)}},
       Interface::kNetlink}};
  Snapshot s = map_devices(devices, cluster(), nullptr, kNow);
  ASSERT_EQ(s.peers.size(), 2u);
  // 0.0.0.0/0 holds both pod CIDRs equally; the first cluster peer takes it. agent-2 is
  // also reached through its exact /24.
  EXPECT_EQ(s.peers[0].peer, "agent-1");
  EXPECT_EQ(s.peers[1].peer, "agent-2");
  EXPECT_EQ(s.peers[1].wireguard.allowed_ips[0].length(), 24);
}

TEST(MapDevices, BytesSentSinceThePreviousReadSayWhetherWireGuardSends) {
  Snapshot first = map_devices(dual_stack(6676), cluster(), nullptr, kNow);
  Snapshot second = map_devices(dual_stack(6824), cluster(), &first, kNow + seconds(15));
  EXPECT_EQ(*second.peers[0].tx_since_previous, 148u);
  EXPECT_TRUE(second.peers[0].sending());
  Snapshot quiet = map_devices(dual_stack(6824), cluster(), &second, kNow + seconds(30));
  EXPECT_EQ(*quiet.peers[0].tx_since_previous, 0u);
  EXPECT_TRUE(quiet.peers[0].sending());  // keepalive 25 s still sends
  auto no_keepalive = dual_stack(6824);
  no_keepalive[0].first.peers[0].persistent_keepalive_seconds = 0;
  Snapshot idle = map_devices(no_keepalive, cluster(), &second, kNow + seconds(30));
  EXPECT_FALSE(idle.peers[0].sending());
  // A counter that went back (the peer re-added) starts over.
  Snapshot reset = map_devices(dual_stack(10), cluster(), &second, kNow + seconds(45));
  EXPECT_FALSE(reset.peers[0].tx_since_previous);
}

std::string labels_text(const metrics::Metric& m) {
  std::string out;
  for (const auto& [k, v] : m.labels) out += k + "=" + v + ",";
  return out;
}

TEST(WireguardFamilies, PerPeerSeriesCarryThePeerLabelsAndTheDevice) {
  auto devices = dual_stack(6676);
  devices[1].first.peers[0].last_handshake.reset();
  Snapshot s = map_devices(devices, cluster(), nullptr, kNow);
  auto families = to_families(s);
  std::map<std::string, const metrics::MetricFamily*> by_name;
  for (const auto& f : families) by_name[f.name] = &f;
  ASSERT_TRUE(by_name.count("podpath_wireguard_peer_last_handshake_age_seconds"));
  const auto& age = *by_name["podpath_wireguard_peer_last_handshake_age_seconds"];
  ASSERT_EQ(age.metrics.size(), 1u);  // the IPv6 device never handshaked: no age
  EXPECT_EQ(
      labels_text(age.metrics[0]),
      "peer=agent-1,peer_group=,same_group=true,family=ipv4,device=flannel-wg,match=allowed-ip,");
  EXPECT_EQ(age.metrics[0].value, 87);
  const auto& never = *by_name["podpath_wireguard_peer_never_handshaked"];
  ASSERT_EQ(never.metrics.size(), 2u);
  EXPECT_EQ(never.metrics[0].value, 0);
  EXPECT_EQ(never.metrics[1].value, 1);
  EXPECT_EQ(by_name["podpath_wireguard_peer_tx_bytes_total"]->metrics[0].value, 6676);
  EXPECT_EQ(by_name["podpath_wireguard_device_peers"]->metrics.size(), 4u);
  EXPECT_EQ(by_name["podpath_wireguard_device_info"]->metrics[0].labels[1].second, "netlink");
}

TEST(WireguardFamilies, NoDeviceNoSeries) {
  EXPECT_TRUE(to_families(map_devices({}, cluster(), nullptr, kNow)).empty());
}

}  // namespace
}  // namespace podpath::wireguard
