// Dual-stack and IPv6-only clusters, on the Node objects their operators published
// (tests/fixtures/nodes/, sources in tests/fixtures/SOURCES.md): each family's road is judged
// on its own, so a dead IPv6 overlay is found while IPv4 is healthy, and an IPv6-only node is
// no annotation error and no IPv4 drift.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "analysis/analyse.h"
#include "kubernetes/node.h"
#include "support/node_fixtures.h"

namespace podpath::analysis {
namespace {

using model::Family;

// The pasted objects omit metadata.name; each node is named by its k3s.io/hostname
// annotation, which k3s sets to the node name (pkg/agent/config).
std::vector<model::ClusterNode> nodes_from(std::initializer_list<const char*> fixtures) {
  std::vector<model::ClusterNode> out;
  for (const char* fixture : fixtures)
    for (const auto& object : node_fixtures::objects_in(fixture)) {
      out.push_back(kubernetes::parse_node(object, kubernetes::NodeParseOptions{}).node);
      if (out.back().name.empty())
        out.back().name = object["metadata"]["annotations"]["k3s.io/hostname"].get<std::string>();
    }
  return out;
}

netlink::Link link(int index, const char* name, const char* kind, std::uint32_t mtu) {
  netlink::Link l;
  l.index = index;
  l.name = name;
  l.kind = kind;
  l.operstate = "up";
  l.mtu = mtu;
  return l;
}

netlink::RouteLookup lookup(const char* destination, const char* device) {
  netlink::RouteLookup r;
  r.destination = *model::IpAddress::parse(destination);
  r.device = device;
  r.table = netlink::kTableMain;
  r.type = "unicast";
  return r;
}

const PeerVerdict* road(const NodeReport& report, const std::string& peer, Family family) {
  for (const auto& v : report.peers)
    if (v.peer == peer && v.family == family) return &v;
  return nullptr;
}

ProbeStats answered() {
  return {10, 10, 0.0004};
}
ProbeStats lost() {
  return {10, 0, std::nullopt};
}

// k3s-io/k3s#8794: two dual-stack servers, s1 and s2; pods reach each other over IPv4 and not
// over IPv6. The pasted objects omit spec and status, so the test gives them pod CIDRs in
// k3s's default cluster CIDRs (10.42.0.0/16, and the IPv6 one of its dual-stack docs,
// 2001:cafe:42::/56) and the Ready condition their running pods imply.
TEST(DualStack, K3s8794DeadIpv6OverlayIsFoundWhileIpv4WorksOnTheSameNodes) {
  auto nodes = nodes_from(
      {"k3s-8794-s1-dualstack-vxlan.completed.yaml", "k3s-8794-s2-dualstack-vxlan.completed.yaml"});
  ASSERT_EQ(nodes.size(), 2u);
  nodes[0].pod_cidr = model::Ipv4Prefix::parse("10.42.0.0/24");
  nodes[0].pod_cidr_v6 = model::IpPrefix::parse("2001:cafe:42::/64");
  nodes[1].pod_cidr = model::Ipv4Prefix::parse("10.42.1.0/24");
  nodes[1].pod_cidr_v6 = model::IpPrefix::parse("2001:cafe:42:1::/64");
  for (auto& n : nodes) n.ready = true;
  for (const auto& n : nodes) EXPECT_EQ(n.annotation_error, "") << n.name;

  // flannel programmed both roads to s2 on s1, each with the VtepMAC and VTEP its
  // annotations name (flannel.1 and flannel-v6.1 entries).
  const std::vector<model::KernelPeer> kernel_peers{
      {*model::IpPrefix::parse("10.42.1.0/24"), model::IpAddress::parse("10.42.1.0"),
       "b6:6f:32:60:13:14", model::IpAddress::parse("10.3.1.20"), "flannel.1"},
      {*model::IpPrefix::parse("2001:cafe:42:1::/64"), model::IpAddress::parse("2001:cafe:42:1::"),
       "42:3f:d7:49:d4:10", model::IpAddress::parse("fda5:8888:9999:310::20"), "flannel-v6.1"}};
  Inputs in;
  in.peers = model::merge_peers(nodes[0].name, nodes, kernel_peers);
  // s2 is two roads: its VTEPs are public-ip and public-ipv6, each with its own VtepMAC.
  ASSERT_EQ(in.peers.peers.size(), 2u);
  EXPECT_EQ(in.peers.peers[0].vtep_address->to_string(), "10.3.1.20");
  EXPECT_EQ(in.peers.peers[0].vtep_mac, "b6:6f:32:60:13:14");
  EXPECT_EQ(in.peers.peers[1].family, Family::kIpv6);
  EXPECT_EQ(in.peers.peers[1].vtep_address->to_string(), "fda5:8888:9999:310::20");
  EXPECT_EQ(in.peers.peers[1].vtep_mac, "42:3f:d7:49:d4:10");
  EXPECT_EQ(in.peers.peers[1].overlay_address->to_string(), "2001:cafe:42:1::");

  // The kernel routes both overlays through flannel's devices over eth0 (MTU 1500).
  netlink::KernelSnapshot k;
  k.links = {link(2, "eth0", "device", 1500), link(5, "flannel.1", "vxlan", 1450),
             link(6, "flannel-v6.1", "vxlan", 1430)};
  netlink::PeerRoutes v4{.peer = nodes[1].name,
                         .family = Family::kIpv4,
                         .group = "",
                         .same_group = true,
                         .overlay = lookup("10.42.1.0", "flannel.1"),
                         .underlay = lookup("10.3.1.20", "eth0")};
  netlink::PeerRoutes v6{.peer = nodes[1].name,
                         .family = Family::kIpv6,
                         .group = "",
                         .same_group = true,
                         .overlay = lookup("2001:cafe:42:1::", "flannel-v6.1"),
                         .underlay = lookup("fda5:8888:9999:310::20", "eth0")};
  k.peer_routes = {v4, v6};
  in.kernel = k;
  in.prober_enabled = true;
  // What the issue saw: IPv4 pods answer; over IPv6 the node answers and its pods do not.
  in.overlay_probes[{nodes[1].name, Family::kIpv4}] = answered();
  in.underlay_probes[{nodes[1].name, Family::kIpv4}] = answered();
  in.overlay_probes[{nodes[1].name, Family::kIpv6}] = lost();
  in.underlay_probes[{nodes[1].name, Family::kIpv6}] = answered();

  NodeReport r = analyse(in);
  const PeerVerdict* ipv4 = road(r, nodes[1].name, Family::kIpv4);
  const PeerVerdict* ipv6 = road(r, nodes[1].name, Family::kIpv6);
  ASSERT_TRUE(ipv4 && ipv6);
  EXPECT_EQ(ipv4->route_device, "flannel.1");
  EXPECT_EQ(ipv6->route_device, "flannel-v6.1");
  // Each road's MTU: VXLAN over IPv4 takes 50 bytes, over IPv6 70; flannel-v6.1 carries 1430.
  EXPECT_EQ(ipv4->computed_mtu, 1450);
  EXPECT_EQ(ipv6->computed_mtu, 1430);
  EXPECT_EQ(ipv6->mtu_chain, "eth0 1500 - 70 (VXLAN over IPv6)");
  EXPECT_EQ(ipv6->overlay_mtu, 1430);
  EXPECT_TRUE(ipv4->flannel_checked && ipv4->flannel_inconsistencies.empty());
  EXPECT_TRUE(ipv6->flannel_checked && ipv6->flannel_inconsistencies.empty());

  ASSERT_EQ(r.findings.size(), 1u);
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.code, "overlay-blocked");
  EXPECT_EQ(f.peer, nodes[1].name);
  EXPECT_EQ(f.family, Family::kIpv6);
  EXPECT_TRUE(f.message.starts_with("IPv6: ")) << f.message;
}

// k3s-io/k3s#5600: an IPv6-only cluster. flannel writes no IPv4 public-ip or backend-data
// there (pkg/subnet/kube/kube.go), so each node is one IPv6 road: no annotation error, no
// IPv4 peer, and no drift while flannel-v6.1 holds its entries.
TEST(DualStack, K3s5600Ipv6OnlyNodesAreOneIpv6RoadEachWithoutErrorOrDrift) {
  auto nodes = nodes_from({"k3s-5600-ipv6only-vxlan-list.excerpt.yaml"});
  ASSERT_FALSE(nodes.empty());
  for (const auto& n : nodes) {
    EXPECT_EQ(n.annotation_error, "") << n.name;
    EXPECT_FALSE(n.has_ipv4_lease) << n.name;
  }
  // Seen from another node of that cluster.
  model::PeerSet set = model::merge_peers("another-node", nodes, {});
  ASSERT_EQ(set.peers.size(), nodes.size());
  for (const auto& peer : set.peers) {
    EXPECT_EQ(peer.family, Family::kIpv6) << peer.name;
    EXPECT_TRUE(peer.vtep_address && peer.vtep_address->is_v6()) << peer.name;
    EXPECT_FALSE(peer.vtep_mac.empty()) << peer.name;
  }
  EXPECT_EQ(set.families(), std::vector<Family>{Family::kIpv6});
}

}  // namespace
}  // namespace podpath::analysis
