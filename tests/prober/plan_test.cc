#include "prober/plan.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace podpath::prober {
namespace {

model::Ipv4 ip(const char* text) {
  return *model::Ipv4::parse(text);
}

model::Peer peer(const char* name, const char* group, const char* overlay, const char* vtep,
                 std::vector<model::IpAddress> external = {},
                 const char* mac = "32:f3:9e:5f:0e:68") {
  model::Peer p;
  p.name = name;
  p.group = group;
  if (overlay) p.overlay_address = ip(overlay);
  if (vtep) p.vtep_address = ip(vtep);
  p.vtep_mac = mac;
  p.external_addresses = std::move(external);
  p.in_cluster = true;
  return p;
}

// The field report's cluster seen from lima-k3s-agent, before the fix: the Tokyo servers
// advertise public VTEP addresses (ExternalIP), the home VMs tailnet ones.
model::PeerSet field_report() {
  model::PeerSet set;
  set.self_name = "lima-k3s-agent";
  set.self_group = "lima";
  set.peers = {
      peer("ip-172-26-2-70", "lightsail", "10.42.0.0", "54.250.1.10", {ip("54.250.1.10")}),
      peer("ip-172-26-3-146", "lightsail", "10.42.1.0", "172.26.3.146", {ip("13.113.2.20")}),
      peer("lima-k3s-agent-2", "lima", "10.42.3.0", "100.98.0.2"),
      peer("lima-k3s-agent-3", "lima", "10.42.4.0", nullptr),
  };
  return set;
}

TEST(Plan, TargetsPerPeer) {
  auto plan = plan_targets(field_report(), 0);
  ASSERT_EQ(plan.echo.size(), 7u);
  EXPECT_EQ(plan.echo[0].labels.peer, "ip-172-26-2-70");
  EXPECT_EQ(plan.echo[0].target, TargetKind::kOverlay);
  EXPECT_EQ(plan.echo[0].address.to_string(), "10.42.0.0");
  EXPECT_EQ(plan.echo[1].target, TargetKind::kUnderlay);
  EXPECT_EQ(plan.echo[1].address.to_string(), "54.250.1.10");
  EXPECT_FALSE(plan.echo[0].labels.same_group);
  EXPECT_TRUE(plan.echo[4].labels.same_group);                  // lima-k3s-agent-2
  EXPECT_EQ(plan.echo.back().labels.peer, "lima-k3s-agent-3");  // overlay only: no VTEP known
  EXPECT_EQ(plan.pmtu.size(), 4u);
  EXPECT_EQ(plan.peers_total, 4u);
  EXPECT_EQ(plan.peers_probed, 4u);
}

TEST(Plan, ExposureOnlyToPublicAddressesOfCluster) {
  auto plan = plan_targets(field_report(), 0);
  ASSERT_EQ(plan.exposure.size(), 2u);
  EXPECT_EQ(plan.exposure[0].labels.peer, "ip-172-26-2-70");
  EXPECT_EQ(plan.exposure[0].address.to_string(), "54.250.1.10");  // ExternalIP = public-ip, once
  EXPECT_EQ(plan.exposure[0].overlay.to_string(), "10.42.0.0");
  EXPECT_EQ(plan.exposure[1].address.to_string(), "13.113.2.20");
  // No tailnet or private VTEP address is ever sent VXLAN by the exposure probe.
}

TEST(Plan, GlobalVtepWithoutExternalIpIsChecked) {
  model::PeerSet set;
  set.self_name = "a";
  set.peers = {peer("b", "", "10.42.1.0", "203.0.113.7")};
  auto addresses = public_addresses(set.peers[0]);
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0].to_string(), "203.0.113.7");
  set.peers[0].vtep_mac.clear();  // without the VtepMAC no frame can be addressed
  EXPECT_TRUE(plan_targets(set, 0).exposure.empty());
}

// A wireguard-native peer on a public address takes no VXLAN: no exposure probe (its WireGuard
// port authenticates every packet), even where a stale VtepMAC is known. It is still pinged.
TEST(Plan, NoVxlanExposureProbeToAWireguardPeer) {
  model::PeerSet set;
  set.self_name = "a";
  set.peers = {peer("b", "", "10.42.1.0", "203.0.113.7")};
  model::ClusterNode node;
  node.name = "b";
  node.backend_type = "wireguard";
  set.peers[0].cluster = node;
  auto plan = plan_targets(set, 0);
  EXPECT_TRUE(plan.exposure.empty());
  EXPECT_EQ(plan.echo.size(), 2u);
  set.peers[0].cluster->backend_type = "vxlan";
  EXPECT_EQ(plan_targets(set, 0).exposure.size(), 1u);
}

model::Peer peer6(const char* name, const char* overlay, const char* vtep,
                  std::vector<const char*> external, const char* mac = "32:3f:9e:5f:0e:69") {
  model::Peer p;
  p.name = name;
  p.family = model::Family::kIpv6;
  p.overlay_address = model::IpAddress::parse(overlay);
  if (vtep) p.vtep_address = model::IpAddress::parse(vtep);
  for (const char* e : external) p.external_addresses.push_back(*model::IpAddress::parse(e));
  p.vtep_mac = mac;
  p.in_cluster = true;
  return p;
}

// A dual-stack peer: its IPv4 road checked as before, its IPv6 road (flannel-v6.1, the v6
// VtepMAC) at each globally routable IPv6 address: the public-ipv6 and the IPv6 ExternalIPs,
// never a unique local or link-local one.
TEST(Plan, Ipv6ExposureOnlyToGlobalAddresses) {
  model::PeerSet set;
  set.self_name = "a";
  set.peers = {peer("b", "", "10.42.1.0", "203.0.113.7"),
               peer6("b", "fd00:42:1::", "2001:db8:77::2",
                     {"2001:db8:99::2", "fd00:77::2", "fe80::1", "2001:db8:77::2"})};
  auto addresses = public_addresses6(set.peers[1]);
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(addresses[0].to_string(), "2001:db8:77::2");  // the public-ipv6 and ExternalIP, once
  EXPECT_EQ(addresses[1].to_string(), "2001:db8:99::2");
  EXPECT_TRUE(public_addresses(set.peers[1]).empty());  // no IPv4 address in an IPv6 road
  auto plan = plan_targets(set, 0);
  ASSERT_EQ(plan.exposure.size(), 3u);
  EXPECT_EQ(plan.exposure[0].labels.family, model::Family::kIpv4);
  EXPECT_EQ(plan.exposure[0].address.to_string(), "203.0.113.7");
  for (std::size_t i : {1u, 2u}) {
    const auto& spec = plan.exposure[i];
    EXPECT_EQ(spec.labels.peer, "b");
    EXPECT_EQ(spec.labels.family, model::Family::kIpv6);
    EXPECT_EQ(spec.overlay6.to_string(), "fd00:42:1::");
    EXPECT_EQ(spec.vtep_mac, "32:3f:9e:5f:0e:69");
  }
  EXPECT_EQ(plan.exposure[1].address6.to_string(), "2001:db8:77::2");
  EXPECT_EQ(plan.exposure[2].address6.to_string(), "2001:db8:99::2");

  // A road whose addresses are all unique local (a private IPv6 underlay) is not checked.
  set.peers[1] = peer6("b", "fd00:42:1::", "fd00:77::2", {"fd00:77::3"});
  plan = plan_targets(set, 0);
  ASSERT_EQ(plan.exposure.size(), 1u);
  EXPECT_EQ(plan.exposure[0].labels.family, model::Family::kIpv4);
}

// The IPv6 road takes VXLAN only on the vxlan backend, and needs the v6 VtepMAC to address it.
TEST(Plan, Ipv6ExposureOnlyForVxlanPeers) {
  model::PeerSet set;
  set.self_name = "a";
  set.peers = {peer6("b", "fd00:42:1::", "2001:db8:77::2", {})};
  model::ClusterNode node;
  node.name = "b";
  node.backend_type = "wireguard";
  set.peers[0].cluster = node;
  auto plan = plan_targets(set, 0);
  EXPECT_TRUE(plan.exposure.empty());
  EXPECT_EQ(plan.echo.size(), 2u);  // still pinged over ICMPv6
  set.peers[0].cluster->backend_type = "host-gw";
  EXPECT_TRUE(plan_targets(set, 0).exposure.empty());
  set.peers[0].cluster->backend_type = "vxlan";
  EXPECT_EQ(plan_targets(set, 0).exposure.size(), 1u);
  set.peers[0].vtep_mac.clear();
  EXPECT_TRUE(plan_targets(set, 0).exposure.empty());
}

// Five nodes fit any budget of 4 or more: every peer is probed, and probes this node.
TEST(Plan, BelowTheBudgetEveryPeerIsProbed) {
  auto plan = plan_targets(field_report(), 4);
  EXPECT_EQ(plan.peers_probed, 4u);
  EXPECT_EQ(plan.probed_by, 4u);
}

// Over the budget the probe graph decides: at most max_peers peers, and the plan follows the
// graph's choice for this node, whatever its labels.
TEST(Plan, TheProbeGraphLimitsPeers) {
  model::PeerSet set;
  set.self_name = "node-000";
  set.self_group = "site-0";
  for (int i = 1; i < 60; ++i) {
    auto p = peer("", "", "10.42.1.0", "192.168.1.1");
    p.name = fmt::format("node-{:03d}", i);
    p.group = fmt::format("site-{}", i % 6);
    set.peers.push_back(p);
  }
  auto plan = plan_targets(set, 10);
  EXPECT_EQ(plan.peers_total, 59u);
  EXPECT_EQ(plan.peers_probed, 10u);
  auto selection = select_probes(graph_nodes(set), {"node-000", "site-0"}, 10);
  EXPECT_EQ(plan.probed_by, selection.probed_by);
  EXPECT_GE(plan.probed_by, 3u);
  std::vector<std::string> probed;
  for (const auto& e : plan.echo)
    if (e.target == TargetKind::kOverlay) probed.push_back(e.labels.peer);
  EXPECT_EQ(probed, selection.peers);
  std::size_t same_group = 0;
  for (const auto& e : plan.echo)
    if (e.target == TargetKind::kOverlay && e.labels.same_group) ++same_group;
  EXPECT_EQ(same_group, 9u);  // the whole of site-0 (9 more nodes) fits in the 10
}

// An unlabelled cluster is one group for the latency bound (every pair same_group), and one
// ring in the probe graph.
TEST(Plan, AnUngroupedClusterIsOneGroupAndEveryPairIsSameGroup) {
  model::PeerSet set = field_report();
  set.self_group.clear();
  for (auto& p : set.peers) p.group.clear();
  set.ungrouped = true;
  auto plan = plan_targets(set, 3);
  EXPECT_EQ(plan.peers_probed, 3u);
  EXPECT_EQ(plan.probed_by, 3u);
  for (const auto& e : plan.echo) EXPECT_TRUE(e.labels.same_group) << e.labels.peer;
}

TEST(StaticTargets, ParsesAndMergesByPeer) {
  auto peers = parse_static_targets(
      "# benchmark targets\n"
      "b overlay 10.200.0.2 zone-1\n"
      "\n"
      "a underlay 10.200.1.2   # comment\n"
      "b underlay 10.200.0.3\n");
  ASSERT_TRUE(peers) << peers.error();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].name, "a");
  EXPECT_FALSE((*peers)[0].overlay_address);
  EXPECT_EQ((*peers)[1].group, "zone-1");
  EXPECT_EQ((*peers)[1].overlay_address->to_string(), "10.200.0.2");
  EXPECT_EQ((*peers)[1].vtep_address->to_string(), "10.200.0.3");
}

// A dual-stack peer: one address of each family per target, each its own echo target on the
// family's socket; the IPv6 overlay gets its own path MTU search.
TEST(StaticTargets, IPv6AddressesBecomeIPv6Targets) {
  auto peers = parse_static_targets(
      "b overlay 10.42.1.0\n"
      "b overlay fd00:42:1::\n"
      "b underlay FD00:77::2 zone-b  # upper case is fine\n"
      "a underlay 2001:db8::7\n");
  ASSERT_TRUE(peers) << peers.error();
  // One road per name and family: a's IPv6 one, b's IPv4 and IPv6 ones.
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ((*peers)[0].family, model::Family::kIpv6);
  EXPECT_EQ((*peers)[0].vtep_address->to_string(), "2001:db8::7");
  EXPECT_FALSE((*peers)[0].overlay_address);
  EXPECT_EQ((*peers)[1].family, model::Family::kIpv4);
  EXPECT_EQ((*peers)[1].overlay_address->to_string(), "10.42.1.0");
  EXPECT_FALSE((*peers)[1].vtep_address);
  EXPECT_EQ((*peers)[2].family, model::Family::kIpv6);
  EXPECT_EQ((*peers)[2].overlay_address->to_string(), "fd00:42:1::");
  EXPECT_EQ((*peers)[2].vtep_address->to_string(), "fd00:77::2");
  EXPECT_EQ((*peers)[1].group, "zone-b") << "a group set on one road names the peer's";
  EXPECT_EQ((*peers)[2].group, "zone-b");

  model::PeerSet set;
  set.self_name = "self";
  set.peers = *peers;
  Plan plan = plan_targets(set, 0);
  ASSERT_EQ(plan.echo.size(), 4u);
  EXPECT_EQ(plan.echo[0].labels.peer, "a");
  EXPECT_EQ(plan.echo[0].family, model::Family::kIpv6);
  EXPECT_EQ(plan.echo[0].target, TargetKind::kUnderlay);
  EXPECT_EQ(plan.echo[0].address6.to_string(), "2001:db8::7");
  EXPECT_EQ(plan.echo[1].family, model::Family::kIpv4);
  EXPECT_EQ(plan.echo[1].address.to_string(), "10.42.1.0");
  EXPECT_EQ(plan.echo[2].family, model::Family::kIpv6);
  EXPECT_EQ(plan.echo[2].target, TargetKind::kOverlay);
  EXPECT_EQ(plan.echo[3].family, model::Family::kIpv6);
  EXPECT_EQ(plan.echo[3].target, TargetKind::kUnderlay);
  ASSERT_EQ(plan.pmtu.size(), 2u);
  EXPECT_EQ(plan.pmtu[0].family, model::Family::kIpv4);
  EXPECT_EQ(plan.pmtu[1].family, model::Family::kIpv6);
  EXPECT_EQ(plan.pmtu[1].overlay6.to_string(), "fd00:42:1::");
}

TEST(StaticTargets, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {"a overlay\n", "line 1: want \"<peer> <overlay|underlay> <IPv4 or IPv6> [group]\""},
           {"\na sideways 10.0.0.1\n", "line 2: target \"sideways\" is not overlay or underlay"},
           {"a overlay 10.0.0.300\n", "line 1: \"10.0.0.300\" is not an IPv4 address"},
           {"a overlay 10.0.0.1 g extra\n", "line 1: too many fields"},
           {"a overlay fd00::1::2\n", "line 1: \"fd00::1::2\" is not an IPv6 address"},
       }) {
    auto peers = parse_static_targets(c.text);
    EXPECT_FALSE(peers);
    EXPECT_EQ(peers.error(), c.error);
  }
}

}  // namespace
}  // namespace podpath::prober
