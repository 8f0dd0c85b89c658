// flannel's wireguard backend (k3s --flannel-backend=wireguard-native) as the analysis sees
// it: the road through flannel-wg, and the WireGuard session to each peer read from the
// device. The figures of the healthy peer are those of `wg show` on a k3s wireguard-native
// node (k3s issue #5408, tests/fixtures/wg/k3s-5408-...completed.txt): endpoint
// 192.168.68.148:51820, allowed ips 10.42.1.0/24, latest handshake 1 minute, 27 seconds ago,
// 6.72 KiB received, 6.52 KiB sent, persistent keepalive every 25 seconds.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "analysis/analyse.h"
#include "analysis/rules.h"
#include "field_report_fixtures.h"

namespace podpath::analysis {
namespace {

using fixtures::link;
using fixtures::lookup;
using std::chrono::seconds;

const std::chrono::system_clock::time_point kNow{seconds(1700000000)};

model::ClusterNode node(const std::string& name, int index, const std::string& public_ip) {
  model::ClusterNode n;
  n.name = name;
  n.backend_type = "wireguard";
  n.pod_cidr = model::Ipv4Prefix::parse(fmt::format("10.42.{}.0/24", index));
  n.public_ip = model::Ipv4::parse(public_ip);
  n.has_ipv4_lease = true;
  n.ready = true;
  return n;
}

wireguard::Peer wg_peer(const std::string& key, int index, const std::string& endpoint,
                        std::optional<seconds> handshake_ago, std::uint64_t tx, int keepalive) {
  wireguard::Peer p;
  p.public_key = key;
  p.endpoint = wireguard::parse_endpoint(endpoint);
  p.allowed_ips.push_back(*model::IpPrefix::parse(fmt::format("10.42.{}.0/24", index)));
  if (handshake_ago) p.last_handshake = kNow - *handshake_ago;
  p.rx_bytes = 6881;
  p.tx_bytes = tx;
  p.persistent_keepalive_seconds = keepalive;
  return p;
}

// server-0 and three agents on one LAN (eth0, MTU 1500); flannel-wg has MTU 1500 - 80.
struct WireguardCluster {
  Inputs in;
  std::vector<wireguard::Peer> wg_peers;

  WireguardCluster() {
    in.peers = model::merge_peers(
        "server-0",
        std::vector{node("server-0", 0, "192.168.68.147"), node("agent-1", 1, "192.168.68.148"),
                    node("agent-2", 2, "192.168.68.149"), node("agent-3", 3, "192.168.68.150")},
        {});
    in.overlay_device = "flannel-wg";
    netlink::KernelSnapshot k;
    k.links = {link(1, "lo", "device", 65536), link(2, "eth0", "device", 1500),
               link(3, "flannel-wg", "wireguard", 1420)};
    for (int i = 1; i <= 3; ++i) {
      netlink::PeerRoutes routes;
      routes.peer = fmt::format("agent-{}", i);
      routes.same_group = true;
      // flannel routes the whole cluster CIDR to flannel-wg (device.go addRoute); the
      // allowed IPs pick the peer.
      routes.overlay = lookup(fmt::format("10.42.{}.0", i), "flannel-wg", 254);
      routes.underlay = lookup(fmt::format("192.168.68.{}", 147 + i), "eth0", 254);
      k.peer_routes.push_back(routes);
    }
    in.kernel = k;
    wg_peers = {
        wg_peer("9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=", 1, "192.168.68.148:51820",
                seconds(87), 6676, 25),
        wg_peer("giyIetaruRF5oeymVa8+Pr5+ujbJo+9sOltbF+dNbVs=", 2, "192.168.68.149:51820",
                seconds(87), 5140, 25),
        wg_peer("m9IPc6mF+iEsP35VJ8mopxKhrteELusJfiu6YYTXpCI=", 3, "192.168.68.150:51820",
                seconds(87), 4920, 25),
    };
  }

  // The device read twice, `between` apart, so tx_since_previous is known.
  NodeReport analyse_after(std::vector<wireguard::Peer> before) {
    auto device = [&](std::vector<wireguard::Peer> peers) {
      return std::vector<std::pair<wireguard::Device, wireguard::Interface>>{
          {wireguard::Device{"flannel-wg", "", 51820, 0, std::move(peers)},
           wireguard::Interface::kNetlink}};
    };
    auto first =
        wireguard::map_devices(device(std::move(before)), in.peers, nullptr, kNow - seconds(15));
    in.wireguard = wireguard::map_devices(device(wg_peers), in.peers, &first, kNow);
    return analyse(in);
  }
  NodeReport analyse_now() { return analyse_after(wg_peers); }
};

std::vector<Finding> with_code(const NodeReport& r, std::string_view code) {
  std::vector<Finding> out;
  for (const auto& f : r.findings)
    if (f.code == code) out.push_back(f);
  return out;
}

const PeerVerdict& verdict(const NodeReport& r, const std::string& peer) {
  for (const auto& v : r.peers)
    if (v.peer == peer) return v;
  throw std::runtime_error("no verdict for " + peer);
}

// The k3s-5408 node: a handshake 1 min 27 s ago and keepalives every 25 s. All is well, and
// the road through flannel-wg carries 1440-byte packets over IPv4 where flannel gives pods
// 1420: no MTU finding.
TEST(Wireguard, HealthyPeerHasItsSessionOnTheRoadAndNoFinding) {
  WireguardCluster c;
  NodeReport r = c.analyse_now();
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].code << ": " << r.findings[0].message;
  const PeerVerdict& v = verdict(r, "agent-1");
  EXPECT_EQ(v.carrier, Carrier::kWireguard);
  EXPECT_EQ(v.route_device, "flannel-wg");
  EXPECT_EQ(v.underlay_device, "eth0");
  EXPECT_EQ(v.transport, Transport::kLan);
  EXPECT_EQ(v.overlay_mtu, 1420);
  EXPECT_EQ(v.computed_mtu, 1440);
  EXPECT_EQ(v.mtu_chain, "eth0 1500 - 60 (WireGuard over IPv4; flannel reserves 80)");
  ASSERT_EQ(v.wireguard.size(), 1u);
  EXPECT_EQ(v.wireguard[0].device, "flannel-wg");
  EXPECT_EQ(v.wireguard[0].endpoint, "192.168.68.148:51820");
  EXPECT_EQ(v.wireguard[0].handshake_age_seconds, 87);
  EXPECT_TRUE(v.wireguard[0].sending);
}

// agent-2's latest handshake is 4 min 10 s old while keepalives keep going out: its keys were
// rejected 70 s ago and nothing reaches it.
TEST(Wireguard, HandshakeGoneStaleWhileSendingIsCritical) {
  WireguardCluster c;
  c.wg_peers[1].last_handshake = kNow - seconds(250);
  auto found = with_code(c.analyse_now(), "wireguard-handshake-stale");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].peer, "agent-2");
  EXPECT_EQ(found[0].severity, Severity::kCritical);
  EXPECT_EQ(found[0].message,
            "the latest WireGuard handshake with agent-2 (flannel-wg peer "
            "giyIetaruRF5oeymVa8+Pr5+ujbJo+9sOltbF+dNbVs= at 192.168.68.149:51820) was 250 s "
            "ago, past the 180 s after which its keys are rejected, and it keeps sending "
            "(persistent keepalive 25 s, 5140 bytes sent): pod traffic to agent-2 is dropped");
  EXPECT_EQ(found[0].fix,
            "check that UDP reaches 192.168.68.149:51820 from this node and back (firewall, NAT, "
            "a changed public-ip), that flannel runs on the peer and that its key matches its "
            "backend-data annotation (wg show flannel-wg on both nodes)");
}

// Without keepalive (plain flannel's default) a stale handshake counts only while bytes go
// out: here 148 bytes since the last read, one handshake initiation.
TEST(Wireguard, StaleHandshakeWithoutKeepaliveCountsWhenBytesGoOut) {
  WireguardCluster c;
  for (auto& p : c.wg_peers) p.persistent_keepalive_seconds = 0;
  c.wg_peers[1].last_handshake = kNow - seconds(600);
  auto before = c.wg_peers;
  before[1].tx_bytes -= 148;
  auto found = with_code(c.analyse_after(before), "wireguard-handshake-stale");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("it is sending (5140 bytes sent, more since the last read)"),
            std::string::npos)
      << found[0].message;
}

// agent-3 joined, flannel added its peer, and no handshake ever completed (its WireGuard port
// is filtered): only handshake initiations went out.
TEST(Wireguard, PeerNeverHandshakedIsCritical) {
  WireguardCluster c;
  c.wg_peers[2].last_handshake.reset();
  c.wg_peers[2].rx_bytes = 0;
  c.wg_peers[2].tx_bytes = 148 * 12;
  NodeReport r = c.analyse_now();
  auto found = with_code(r, "wireguard-no-handshake");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].peer, "agent-3");
  EXPECT_EQ(found[0].message,
            "WireGuard has never completed a handshake with agent-3 (flannel-wg peer "
            "m9IPc6mF+iEsP35VJ8mopxKhrteELusJfiu6YYTXpCI= at 192.168.68.150:51820) and it keeps "
            "sending (persistent keepalive 25 s, 1776 bytes sent): no session, pod traffic to "
            "agent-3 is dropped");
  EXPECT_TRUE(with_code(r, "wireguard-handshake-stale").empty());
}

// A peer nothing is sent to: no keepalive, no byte since the last read, its last handshake
// 20 minutes ago. WireGuard only handshakes when it has something to send: nothing is wrong.
TEST(Wireguard, QuietPeerWithAnOldHandshakeIsFine) {
  WireguardCluster c;
  for (auto& p : c.wg_peers) p.persistent_keepalive_seconds = 0;
  c.wg_peers[0].last_handshake = kNow - seconds(1200);
  c.wg_peers[2].last_handshake.reset();  // and one never used at all
  c.wg_peers[2].tx_bytes = 0;
  NodeReport r = c.analyse_now();
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].code << ": " << r.findings[0].message;
  EXPECT_EQ(verdict(r, "agent-1").wireguard[0].handshake_age_seconds, 1200);
  EXPECT_FALSE(verdict(r, "agent-1").wireguard[0].sending);
}

// A wireguard node on a public address: its WireGuard port answers only sealed packets, so no
// vtep-public-address alarm; the doctor says so once, as information.
TEST(Wireguard, PublicAddressOfAWireguardNodeIsInformationNotAnAlarm) {
  WireguardCluster c;
  c.in.peers.self->public_ip = model::Ipv4::parse("203.0.113.10");
  NodeReport r = c.analyse_now();
  EXPECT_TRUE(with_code(r, "vtep-public-address").empty());
  auto info = with_code(r, "wireguard-public-endpoint");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].severity, Severity::kInfo);
  EXPECT_EQ(info[0].peer, "");
  EXPECT_EQ(info[0].message,
            "this node advertises the public address 203.0.113.10 for flannel's WireGuard: "
            "peers send to its WireGuard port there, which answers only packets sealed with a "
            "peer's key, so this is not the unauthenticated VXLAN exposure");
  EXPECT_FALSE(r.has_critical());

  // The same address on a vxlan node is the alarm, and no WireGuard note.
  c.in.peers.self->backend_type = "vxlan";
  NodeReport vxlan = c.analyse_now();
  EXPECT_EQ(with_code(vxlan, "vtep-public-address").size(), 1u);
  EXPECT_TRUE(with_code(vxlan, "wireguard-public-endpoint").empty());
}

}  // namespace
}  // namespace podpath::analysis
