// parse_node() over Node objects other people published (tests/fixtures/nodes/, sources in
// tests/fixtures/SOURCES.md): dual stack, IPv6 only, host-gw, the k3s extension backend,
// public-ip-overwrite. Each row says what flannel and k3s wrote, as the source shows it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kubernetes/node.h"

namespace podpath::kubernetes {
namespace {

using nlohmann::json;

std::string fixture_path(const std::string& name) {
  return std::string(PODPATH_TESTDATA) + "/fixtures/nodes/" + name;
}

// kubectl's YAML as the API's JSON. Every scalar stays a string: the fields parse_node()
// reads are strings in the API, and a YAML 'true' in a label must not become a boolean.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

// The Node objects in a fixture: a Node, the items of a List, or (for a fragment that
// starts at the annotations) a Node holding just those annotations.
std::vector<json> nodes_in(const std::string& name) {
  std::ifstream in(fixture_path(name));
  std::stringstream text;
  text << in.rdbuf();
  json document =
      name.ends_with(".json") ? json::parse(text.str()) : to_json(YAML::Load(text.str()));
  if (document.contains("items")) return document["items"].get<std::vector<json>>();
  if (document.contains("annotations")) return {json{{"metadata", document}}};
  if (!document.contains("metadata") && !document.contains("kind"))
    return {json{{"metadata", {{"annotations", document}}}}};
  return {document};
}

struct Row {
  const char* fixture;
  const char* error;  // annotation_error, "" for none
  const char* backend_type;
  const char* public_ip;  // "" for none
  const char* vtep_mac;
  const char* public_ipv6;
  const char* vtep_mac_v6;
  const char* pod_cidr;
  const char* pod_cidr_v6;
  std::size_t internal_v4, internal_v6;
};

std::string text(const auto& optional) {
  return optional ? optional->to_string() : "";
}

// The first node of each fixture.
const Row kRows[] = {
    // k3s#8794: dual-stack vxlan whose IPv6 overlay was dead. Both VTEPs, both k3s addresses.
    {"k3s-8794-s1-dualstack-vxlan.completed.yaml", "", "vxlan", "10.3.1.10", "6a:c6:02:92:44:1d",
     "fda5:8888:9999:310::10", "fa:f9:a5:ac:97:47", "", "", 1, 1},
    {"k3s-8794-s2-dualstack-vxlan.completed.yaml", "", "vxlan", "10.3.1.20", "b6:6f:32:60:13:14",
     "fda5:8888:9999:310::20", "42:3f:d7:49:d4:10", "", "", 1, 1},
    // k3s#5600: IPv6-only vxlan. flannel writes no backend-data and no public-ip: not an error.
    {"k3s-5600-ipv6only-vxlan-list.excerpt.yaml", "", "vxlan", "", "",
     "2600:1f1c:ab4:ee48:b0e8:6e19:17b:1cc7", "42:65:94:14:0a:65", "", "", 0, 1},
    // flannel's own dual-stack notes: the annotation block alone.
    {"flannel-dualstack-dev-notes-vxlan-annotations.fragment.yaml", "", "vxlan", "1.1.33.34",
     "12:62:b6:2a:21:cf", "2003:ac18::30a:2", "ba:5d:da:3f:78:e1", "", "", 0, 0},
    // An IPv4 flannel on a node whose k3s addresses are dual: no IPv6 lease.
    {"k3s-v1.28-api-nodelist-ipv4-flannel-with-dual-node-ips.json", "", "vxlan", "192.168.241.250",
     "02:d3:a3:f6:bb:b4", "", "", "10.42.0.0/24", "", 1, 1},
    // host-gw writes "null" as its data.
    {"deckhouse-hostgw-openstack-nodelist-4nodes.yaml", "", "host-gw", "192.168.199.224", "", "",
     "", "10.111.0.0/24", "", 1, 0},
    // public-ip-overwrite set to the public address (flannel copies it into public-ip).
    {"canal-mcks-vxlan-public-ip-overwrite-annotations.fragment.yaml", "", "vxlan",
     "34.146.206.253", "76:ca:4b:f9:0c:4e", "", "", "", "", 0, 0},
    {"kilo-mcks-vxlan-public-ip-overwrite-annotations.fragment.yaml", "", "vxlan", "13.112.188.105",
     "46:f3:bd:26:12:07", "", "", "", "", 0, 0},
    // vxlan data without a VNI (flannel then uses its configured one).
    {"flannel-dist-fake-node-vxlan-novni.yaml", "", "vxlan", "192.168.77.17", "96:59:b2:3f:04:ee",
     "", "", "10.244.7.0/24", "", 0, 0},
    {"f5-bigip-virtual-node-vxlan-vtepmac-only.yaml", "", "vxlan", "10.250.18.105",
     "fa:16:3e:d5:28:07", "", "", "10.42.20.0/24", "", 0, 0},
    // k3s' legacy WireGuard extension backend: data is a JSON string podpath does not read.
    {"k3s-v1.17-extension-wireguard-legacy-blog.completed.yaml", "", "extension", "192.168.0.11",
     "", "", "", "", "", 0, 0},
    // k3s of 2020 put k3s.io/internal-ip in the labels (redacted there by the author, as
    // "10.65.40.xx"); only the annotation is read, so no address and no error.
    {"k3s-1824-extension-wireguard-legacy-nolabels-topology.completed.yaml", "", "extension",
     "10.65.40.139", "", "", "", "", "", 0, 0},
};

TEST(NodeFixtures, EveryPublishedNodeReadsAsItsSourceShowsIt) {
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.fixture);
    auto nodes = nodes_in(row.fixture);
    ASSERT_FALSE(nodes.empty());
    const model::ClusterNode node = parse_node(nodes.front(), NodeParseOptions{}).node;
    EXPECT_EQ(node.annotation_error, row.error);
    EXPECT_EQ(node.backend_type, row.backend_type);
    EXPECT_EQ(text(node.public_ip), row.public_ip);
    EXPECT_EQ(node.vtep_mac, row.vtep_mac);
    EXPECT_EQ(text(node.ipv6.public_ip), row.public_ipv6);
    EXPECT_EQ(node.ipv6.vtep_mac, row.vtep_mac_v6);
    EXPECT_EQ(text(node.pod_cidr), row.pod_cidr);
    EXPECT_EQ(text(node.pod_cidr_v6), row.pod_cidr_v6);
    EXPECT_EQ(node.internal_addresses.size(), row.internal_v4);
    EXPECT_EQ(node.internal_ipv6_addresses.size(), row.internal_v6);
    EXPECT_EQ(node.has_ipv4_lease, row.public_ip[0] != '\0');
    EXPECT_EQ(node.ipv6.present(), row.public_ipv6[0] != '\0');
  }
}

TEST(NodeFixtures, EveryNodeOfAListIsRead) {
  auto nodes = nodes_in("deckhouse-hostgw-openstack-nodelist-4nodes.yaml");
  ASSERT_EQ(nodes.size(), 4u);
  for (const auto& object : nodes) {
    auto parsed = parse_node(object, NodeParseOptions{});
    EXPECT_EQ(parsed.node.annotation_error, "") << parsed.node.name;
    EXPECT_TRUE(parsed.node.pod_cidr) << parsed.node.name;
  }
}

// k3s#9435 quoted three annotation lines of an IPv6-only host-gw node, redacted by its author
// ("10.x.x.x,fdX:XX:XX::XX"): the redaction is the only error, and public-ip 0.0.0.0 (the zero
// flannel writes when the lease has no IPv4 half) is no public IP and no IPv4 lease.
TEST(NodeFixtures, RedactedAddressesAreTheOnlyError) {
  auto parsed = parse_node(nodes_in("k3s-9435-ipv6only-hostgw-annotations.fragment.yaml").front(),
                           NodeParseOptions{});
  EXPECT_EQ(parsed.node.annotation_error, "k3s.io/internal-ip: \"10.x.x.x\" is not an IP address");
  EXPECT_FALSE(parsed.node.public_ip);
  EXPECT_FALSE(parsed.node.has_ipv4_lease);
}

}  // namespace
}  // namespace podpath::kubernetes
