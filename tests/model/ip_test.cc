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
  EXPECT_EQ(scope("100.84.0.1"), "tailnet");     // Tailscale CGNAT range
  EXPECT_EQ(scope("169.254.1.1"), "link-local");
  EXPECT_EQ(scope("203.0.113.10"), "global");  // a public address
  EXPECT_EQ(scope("100.128.0.1"), "global");   // just outside 100.64.0.0/10
  EXPECT_EQ(scope("0.0.0.0"), "unspecified");
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
