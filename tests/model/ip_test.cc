#include "model/ip.h"

#include <gtest/gtest.h>

#include "model/peer.h"

namespace podpath::model {
namespace {

TEST(Ipv4, ParsesAndFormats) {
  EXPECT_EQ(Ipv4::parse("10.42.1.0")->value, 0x0a2a0100u);
  EXPECT_EQ(Ipv4::parse("255.255.255.255")->to_string(), "255.255.255.255");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
                          "1..2.3", "-1.2.3.4", "1.2.3.4/24"})
    EXPECT_FALSE(Ipv4::parse(bad)) << bad;
}

TEST(Ipv4Prefix, ClearsHostBitsAndContains) {
  auto p = Ipv4Prefix::parse("10.42.2.1/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.42.2.0/24");
  EXPECT_TRUE(p->contains(*Ipv4::parse("10.42.2.255")));
  EXPECT_FALSE(p->contains(*Ipv4::parse("10.42.3.0")));
  EXPECT_TRUE(Ipv4Prefix::parse("10.42.0.0/16")->contains(*p));
  EXPECT_FALSE(p->contains(*Ipv4Prefix::parse("10.42.0.0/16")));
  EXPECT_EQ(Ipv4Prefix::parse("0.0.0.0/0")->length, 0);
  EXPECT_EQ(Ipv4Prefix::parse("1.2.3.4")->length, 32);
  // The length as Go's net/netip writes it: no sign, no leading zero (fuzz/regressions/ip).
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "/8", "10.0.0.0/-0",
                          "10.0.0.0/+8", "10.0.0.0/08", "169.24.1.1/06", "10.0.0.0/00"})
    EXPECT_FALSE(Ipv4Prefix::parse(bad)) << bad;
}

TEST(Classify, NamesTheScopesTheFieldReportMeets) {
  auto scope = [](const char* ip) { return std::string(to_string(classify(*Ipv4::parse(ip)))); };
  EXPECT_EQ(scope("127.0.0.1"), "loopback");
  EXPECT_EQ(scope("172.26.2.70"), "private");    // Lightsail VPC
  EXPECT_EQ(scope("192.168.105.2"), "private");  // vmnet
  EXPECT_EQ(scope("100.84.0.1"), "cgnat");       // 100.64.0.0/10, tailscaled lists nothing
  EXPECT_EQ(scope("169.254.1.1"), "link-local");
  EXPECT_EQ(scope("203.0.113.10"), "global");  // a public address
  EXPECT_EQ(scope("100.128.0.1"), "global");   // just outside 100.64.0.0/10
  EXPECT_EQ(scope("0.0.0.0"), "unspecified");
}

// Tailscale and carrier-grade NATs share 100.64.0.0/10 (RFC 6598): an address there is a
// tailnet address only when this node's tailscaled lists it, for a peer or for itself.
TEST(Classify, SharedAddressSpaceIsTailnetOnlyWhereTailscaledListsIt) {
  const std::vector<Ipv4> tailnet{*Ipv4::parse("100.70.1.2"), *Ipv4::parse("100.84.0.1")};
  auto scope = [&](const char* ip, std::span<const Ipv4> known) {
    return std::string(to_string(classify(*Ipv4::parse(ip), known)));
  };
  // A node behind a CGNAT provider, no Tailscale on it.
  EXPECT_EQ(scope("100.70.1.2", {}), "cgnat");
  // The same address listed by tailscaled.
  EXPECT_EQ(scope("100.70.1.2", tailnet), "tailnet");
  // Another address of the range that tailscaled does not list: a provider's.
  EXPECT_EQ(scope("100.70.1.3", tailnet), "cgnat");
  EXPECT_EQ(scope("100.64.0.0", {}), "cgnat");
  EXPECT_EQ(scope("100.127.255.255", {}), "cgnat");
  EXPECT_EQ(scope("172.26.2.70", tailnet), "private");  // the list changes nothing else
  // IPv4-mapped addresses take their IPv4 scope, list included.
  EXPECT_EQ(to_string(classify(*IpAddress::parse("::ffff:100.70.1.2"), tailnet)), "tailnet");
  EXPECT_EQ(to_string(classify(*IpAddress::parse("::ffff:100.70.1.2"))), "cgnat");
}

TEST(IpAddress, BothFamiliesParseAndPrintCanonically) {
  auto v4 = IpAddress::parse("10.42.1.0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family(), Family::kIpv4);
  EXPECT_EQ(v4->v4_value(), 0x0a2a0100u);
  EXPECT_EQ(v4->bytes().size(), 4u);
  EXPECT_EQ(v4->to_string(), "10.42.1.0");
  // RFC 5952: lower case, the longest run of zero groups as "::".
  auto v6 = IpAddress::parse("FD00:0042:0001:0000:0000:0000:0000:0000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family(), Family::kIpv6);
  EXPECT_EQ(v6->bytes().size(), 16u);
  EXPECT_EQ(v6->to_string(), "fd00:42:1::");
  EXPECT_EQ(IpAddress::parse("2001:db8::1")->to_string(), "2001:db8::1");
  // An IPv4-mapped address stays IPv6, as in Go's net/netip.
  EXPECT_EQ(IpAddress::parse("::ffff:10.42.1.0")->family(), Family::kIpv6);
  EXPECT_NE(*IpAddress::parse("::ffff:10.42.1.0"), *v4);
  for (const char* bad : {"", "fd00::1%eth0", "[fd00::1]", "fd00:::1", "1:2:3:4:5:6:7:8:9", "g::1",
                          "01.2.3.4", "fd00::1/64", " fd00::1"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  // IPv4 sorts before IPv6, so per-family lists come out in a stable order.
  EXPECT_LT(*v4, *v6);
}

TEST(IpAddress, FromTheBytesNetlinkAndSocketsHandOver) {
  const std::uint8_t four[] = {172, 26, 2, 70};
  EXPECT_EQ(IpAddress::from_bytes(four)->to_string(), "172.26.2.70");
  std::array<std::uint8_t, 16> sixteen{0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0};
  sixteen[15] = 1;
  EXPECT_EQ(IpAddress::from_bytes(sixteen)->to_string(), "fd7a:115c:a1e0::1");
  const std::uint8_t five[] = {1, 2, 3, 4, 5};
  EXPECT_FALSE(IpAddress::from_bytes(five));
}

TEST(IpPrefix, BothFamiliesClearHostBitsAndContain) {
  auto v4 = IpPrefix::parse("10.42.2.1/24");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "10.42.2.0/24");
  EXPECT_TRUE(v4->contains(*IpAddress::parse("10.42.2.255")));
  EXPECT_FALSE(v4->contains(*IpAddress::parse("10.42.3.0")));
  auto v6 = IpPrefix::parse("fd00:42:1::1/64");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "fd00:42:1::/64");
  EXPECT_EQ(v6->family(), Family::kIpv6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("fd00:42:1::ffff")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("fd00:42:2::")));
  EXPECT_TRUE(IpPrefix::parse("fd00:42::/32")->contains(*v6));
  EXPECT_FALSE(v6->contains(*IpPrefix::parse("fd00:42::/32")));
  // A /12 boundary inside a byte, and /0 holding a whole family but not the other.
  EXPECT_EQ(IpPrefix::parse("fd7f:ffff::/12")->to_string(), "fd70::/12");
  EXPECT_TRUE(IpPrefix::parse("::/0")->contains(*IpAddress::parse("2001:db8::1")));
  EXPECT_FALSE(IpPrefix::parse("::/0")->contains(*IpAddress::parse("10.0.0.1")));
  EXPECT_FALSE(IpPrefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("::ffff:10.0.0.1")));
  EXPECT_EQ(IpPrefix::parse("fd00::1")->length(), 128);
  EXPECT_EQ(IpPrefix::parse("10.0.0.1")->length(), 32);
  for (const char* bad :
       {"fd00::/129", "10.0.0.0/33", "fd00::/", "fd00::/064", "fd00::/-1", "/64", "fd00::/+8"})
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
}

TEST(Classify, IpV6ScopesAndTailscalesRange) {
  auto scope = [](const char* ip) {
    return std::string(to_string(classify(*IpAddress::parse(ip))));
  };
  EXPECT_EQ(scope("::1"), "loopback");
  EXPECT_EQ(scope("::"), "unspecified");
  EXPECT_EQ(scope("fe80::1"), "link-local");
  EXPECT_EQ(scope("fd00:42::1"), "private");         // unique local
  EXPECT_EQ(scope("fd7a:115c:a1e0::1"), "tailnet");  // Tailscale's IPv6 range
  EXPECT_EQ(scope("2001:db8::1"), "global");
  EXPECT_EQ(scope("::ffff:192.168.105.2"), "private");  // IPv4-mapped: its IPv4 scope
  EXPECT_EQ(scope("172.26.2.70"), "private");           // IPv4 through the same function
}

ClusterNode node(const std::string& name, const std::string& cidr, const std::string& group) {
  ClusterNode n;
  n.name = name;
  n.group = group;
  n.pod_cidr = Ipv4Prefix::parse(cidr);
  n.public_ip = Ipv4::parse("172.26.2.70");
  n.ready = true;
  return n;
}

TEST(MergePeers, ClusterNodesAreMatchedWithKernelEntriesByPodCidr) {
  std::vector<ClusterNode> nodes{node("self", "10.42.0.0/24", "tokyo"),
                                 node("b", "10.42.1.0/24", "tokyo"),
                                 node("c", "10.42.2.0/24", "sapporo")};
  KernelPeer kb{*Ipv4Prefix::parse("10.42.1.0/24"), Ipv4::parse("10.42.1.0"), "aa:bb:cc:dd:ee:01",
                Ipv4::parse("172.26.3.146"), "flannel.1"};
  KernelPeer orphan{*Ipv4Prefix::parse("10.42.9.0/24"), Ipv4::parse("10.42.9.0"),
                    "aa:bb:cc:dd:ee:09", Ipv4::parse("100.90.0.1"), "flannel.1"};
  PeerSet set = merge_peers("self", nodes, {kb, orphan});
  EXPECT_EQ(set.self_group, "tokyo");
  ASSERT_EQ(set.peers.size(), 3u);
  EXPECT_EQ(set.peers[0].name, "10.42.9.0/24");  // known only to the kernel: named by subnet
  EXPECT_TRUE(set.peers[0].in_kernel);
  EXPECT_FALSE(set.peers[0].in_cluster);
  EXPECT_EQ(set.peers[1].name, "b");
  EXPECT_TRUE(set.peers[1].in_cluster && set.peers[1].in_kernel);
  EXPECT_EQ(set.peers[1].overlay_address, Ipv4::parse("10.42.1.0"));
  EXPECT_EQ(set.peers[2].name, "c");
  EXPECT_FALSE(set.peers[2].in_kernel);
}

// Real k3s and kubeadm nodes carry no topology label: such a cluster is one group, so the
// 20 ms bound applies out of the box. Once any node is labelled, an unlabelled node is in
// no group.
TEST(MergePeers, AClusterWithoutGroupLabelsIsOneGroup) {
  PeerSet unlabelled = merge_peers(
      "self",
      std::vector<ClusterNode>{node("self", "10.42.0.0/24", ""), node("b", "10.42.1.0/24", "")},
      {});
  EXPECT_TRUE(unlabelled.ungrouped);
  EXPECT_TRUE(unlabelled.same_group_as_self(""));

  PeerSet labelled = merge_peers(
      "self",
      std::vector<ClusterNode>{node("self", "10.42.0.0/24", "tokyo"),
                               node("b", "10.42.1.0/24", "tokyo"), node("c", "10.42.2.0/24", "")},
      {});
  EXPECT_FALSE(labelled.ungrouped);
  EXPECT_TRUE(labelled.same_group_as_self("tokyo"));
  EXPECT_FALSE(labelled.same_group_as_self(""));

  // Kernel-only mode knows no labels either: one group.
  KernelPeer kb{*Ipv4Prefix::parse("10.42.1.0/24"), Ipv4::parse("10.42.1.0"), "aa:bb:cc:dd:ee:01",
                Ipv4::parse("172.26.3.146"), "flannel.1"};
  EXPECT_TRUE(merge_peers("self", std::nullopt, {kb}).ungrouped);
}

// host-gw has no flannel.1: the overlay probe goes to the peer's cni0 (10.42.N.1), which the
// pod route reaches; VXLAN keeps 10.42.N.0.
TEST(MergePeers, HostGwPeersAreProbedAtTheirBridge) {
  ClusterNode hostgw = node("b", "10.111.2.0/24", "");
  hostgw.backend_type = "host-gw";
  ClusterNode vxlan = node("c", "10.42.2.0/24", "");
  vxlan.backend_type = "vxlan";
  PeerSet set = merge_peers("self", std::vector<ClusterNode>{hostgw, vxlan}, {});
  ASSERT_EQ(set.peers.size(), 2u);
  EXPECT_EQ(set.peers[0].overlay_address, Ipv4::parse("10.111.2.1"));
  EXPECT_EQ(set.peers[1].overlay_address, Ipv4::parse("10.42.2.0"));
}

TEST(PeerRegistry, PublishesOnlyChanges) {
  PeerRegistry registry("self");
  int published = 0;
  registry.subscribe([&](std::shared_ptr<const PeerSet>) { ++published; });
  std::vector<ClusterNode> nodes{node("self", "10.42.0.0/24", "a"), node("b", "10.42.1.0/24", "a")};
  registry.set_cluster_nodes(nodes);
  registry.set_cluster_nodes(nodes);
  EXPECT_EQ(published, 1);
  EXPECT_EQ(registry.current()->peers.size(), 1u);
  nodes.pop_back();
  registry.set_cluster_nodes(nodes);
  EXPECT_EQ(published, 2);
  EXPECT_TRUE(registry.current()->peers.empty());  // a departed peer is gone at once
  EXPECT_EQ(registry.current()->generation, 2u);
}

}  // namespace
}  // namespace podpath::model
