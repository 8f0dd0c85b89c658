// parse_node() over the dual-stack and IPv6-only Node payloads other people published
// (tests/fixtures/nodes/, sources in tests/fixtures/SOURCES.md), field by field: the IPv6
// VTEP (public-ipv6 and the flannel-v6.<VNI> MAC of backend-v6-data), the IPv6 pod CIDR and
// the IPv6 internal/external addresses, and no false error on a node whose lease is IPv6
// only. What flannel writes per family is in flannel-io/flannel pkg/subnet/kube/kube.go
// (AcquireLease) and pkg/backend/{vxlan,hostgw,wireguard}.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kubernetes/node.h"
#include "support/node_fixtures.h"

namespace podpath::kubernetes {
namespace {

using node_fixtures::objects_in;

using nlohmann::json;

std::string joined(const auto& addresses) {
  std::string out;
  for (const auto& address : addresses) out += (out.empty() ? "" : ",") + address.to_string();
  return out;
}

std::string text(const auto& optional) {
  return optional ? optional->to_string() : "";
}

struct Payload {
  const char* fixture;
  const char* error;  // annotation_error, "" for none
  const char* backend_type;
  bool ipv4_lease;
  const char* public_ip;
  const char* vtep_mac;
  const char* public_ipv6;
  const char* vtep_mac_v6;
  int vni_v6;  // -1: none
  bool v6_backend_data;
  const char* pod_cidr_v6;
  const char* internal_v4;
  const char* internal_v6;
  const char* external_v4;
  const char* external_v6;
};

const Payload kPayloads[] = {
    // k3s#8794 node s1: dual-stack vxlan, --node-ip and --node-external-ip with IPv6 first.
    {"k3s-8794-s1-dualstack-vxlan.completed.yaml", "", "vxlan", true, "10.3.1.10",
     "6a:c6:02:92:44:1d", "fda5:8888:9999:310::10", "fa:f9:a5:ac:97:47", 1, true, "", "10.3.1.10",
     "fda5:8888:9999:310::10", "50.100.200.228", "2603:1111:2222:2e:10::10"},
    {"k3s-8794-s2-dualstack-vxlan.completed.yaml", "", "vxlan", true, "10.3.1.20",
     "b6:6f:32:60:13:14", "fda5:8888:9999:310::20", "42:3f:d7:49:d4:10", 1, true, "", "10.3.1.20",
     "fda5:8888:9999:310::20", "50.100.200.229", "2603:1111:2222:2e:10::20"},
    // k3s#5600: IPv6-only vxlan. No backend-data, no public-ip, and that is no error.
    {"k3s-5600-ipv6only-vxlan-list.excerpt.yaml", "", "vxlan", false, "", "",
     "2600:1f1c:ab4:ee48:b0e8:6e19:17b:1cc7", "42:65:94:14:0a:65", 1, true, "", "",
     "2600:1f1c:ab4:ee48:b0e8:6e19:17b:1cc7", "", "2600:1f1c:ab4:ee48:b0e8:6e19:17b:1cc7"},
    // OrbStack's k3s, dual-stack host-gw, as kubectl -v9 received it (a Table of
    // PartialObjectMetadata: annotations without spec). host-gw writes "null" for both halves.
    {"orbstack-k3s-v1.33-dualstack-hostgw-kubectl-v9-table.json", "", "host-gw", true,
     "192.168.139.2", "", "fd07:b51a:cc66::2", "", -1, true, "", "192.168.139.2",
     "fd07:b51a:cc66::2", "", ""},
    // k3s#9435: an IPv6-only host-gw node. flannel stores the IPv4 public IP as a number and
    // writes its zero, "0.0.0.0", when the lease has no IPv4: no IPv4 lease, no VTEP 0.0.0.0.
    // The author's redaction of k3s.io/internal-ip is the only error.
    {"k3s-9435-ipv6only-hostgw-annotations.fragment.yaml",
     "k3s.io/internal-ip: \"10.x.x.x\" is not an IP address", "", false, "", "", "", "", -1, false,
     "", "", "", "", ""},
};

TEST(DualStackPayloads, EachPublishedNodeReadsBothFamilies) {
  for (const Payload& row : kPayloads) {
    SCOPED_TRACE(row.fixture);
    auto objects = objects_in(row.fixture);
    ASSERT_FALSE(objects.empty());
    const model::ClusterNode node = parse_node(objects.front(), NodeParseOptions{}).node;
    EXPECT_EQ(node.annotation_error, row.error);
    EXPECT_EQ(node.backend_type, row.backend_type);
    EXPECT_EQ(node.has_ipv4_lease, row.ipv4_lease);
    EXPECT_EQ(text(node.public_ip), row.public_ip);
    EXPECT_EQ(node.vtep_mac, row.vtep_mac);
    EXPECT_EQ(text(node.ipv6.public_ip), row.public_ipv6);
    EXPECT_EQ(node.ipv6.vtep_mac, row.vtep_mac_v6);
    EXPECT_EQ(node.ipv6.vni.value_or(-1), row.vni_v6);
    EXPECT_EQ(node.ipv6.has_backend_data, row.v6_backend_data);
    EXPECT_EQ(text(node.pod_cidr_v6), row.pod_cidr_v6);
    EXPECT_EQ(joined(node.internal_addresses), row.internal_v4);
    EXPECT_EQ(joined(node.internal_ipv6_addresses), row.internal_v6);
    EXPECT_EQ(joined(node.external_addresses), row.external_v4);
    EXPECT_EQ(joined(node.external_ipv6_addresses), row.external_v6);
  }
}

// The Table's managedFields name the pod CIDRs k3s set ("192.168.194.0/25" and
// "fd07:b51a:cc66:a::/72"), but a PartialObjectMetadata has no spec: nothing is invented.
TEST(DualStackPayloads, MetadataOnlyObjectHasNoPodCidr) {
  const auto node =
      parse_node(objects_in("orbstack-k3s-v1.33-dualstack-hostgw-kubectl-v9-table.json").front(),
                 NodeParseOptions{})
          .node;
  EXPECT_EQ(node.name, "orbstack");
  EXPECT_FALSE(node.pod_cidr);
  EXPECT_FALSE(node.pod_cidr_v6);
}

// The IPv6-only lease of flannel's host-gw and wireguard backends, as AcquireLease writes it:
// public-ip "0.0.0.0" and backend-data "null" (a nil IPv4 half marshalled), beside the IPv6
// half. Same shape as k3s#9435, with the IPv6 annotations a wireguard node would carry.
TEST(DualStackPayloads, Ipv6OnlyWireguardLeaseWithNullIpv4HalfIsNoError) {
  json node = {
      {"metadata",
       {{"annotations",
         {{"flannel.alpha.coreos.com/backend-type", "wireguard"},
          {"flannel.alpha.coreos.com/backend-data", "null"},
          {"flannel.alpha.coreos.com/public-ip", "0.0.0.0"},
          {"flannel.alpha.coreos.com/backend-v6-data",
           R"({"PublicKey":"NID4J7J+QpLo9It/Hx8NJaag5/uN1OGmfEjuw75NjEk=","Port":51821})"},
          {"flannel.alpha.coreos.com/public-ipv6", "2600:1f1c:ab4:ee20:39a2:9095:f508:782d"}}}}},
      {"spec", {{"podCIDRs", {"2001:cafe:42:1::/64"}}}}};
  const model::ClusterNode parsed = parse_node(node, NodeParseOptions{}).node;
  EXPECT_EQ(parsed.annotation_error, "");
  EXPECT_FALSE(parsed.has_ipv4_lease);
  EXPECT_FALSE(parsed.public_ip);
  EXPECT_EQ(parsed.ipv6.wireguard_port, 51821);
  EXPECT_EQ(parsed.ipv6.wireguard_public_key, "NID4J7J+QpLo9It/Hx8NJaag5/uN1OGmfEjuw75NjEk=");
  EXPECT_EQ(text(parsed.pod_cidr_v6), "2001:cafe:42:1::/64");

  // The same "null" on a node that does claim an IPv4 lease is still a broken wireguard half.
  node["metadata"]["annotations"]["flannel.alpha.coreos.com/public-ip"] = "192.0.2.7";
  EXPECT_EQ(
      parse_node(node, NodeParseOptions{}).node.annotation_error,
      "flannel.alpha.coreos.com/backend-data: wireguard backend data must be an object: null");
}

}  // namespace
}  // namespace podpath::kubernetes
