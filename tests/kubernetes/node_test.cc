#include "kubernetes/node.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace podpath::kubernetes {
namespace {

using nlohmann::json;

json load_fixture(const std::string& name) {
  std::ifstream in(std::string(PODPATH_LAB_FIXTURES) + "/" + name);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::string ip_text(const std::optional<model::Ipv4>& ip) {
  return ip ? ip->to_string() : "";
}

struct FixtureCase {
  std::string file;
  std::string name;
  std::string group;
  std::string pod_cidr;
  std::string backend_type;
  std::string public_ip;
  std::string public_ip_overwrite;
  std::optional<int> vni;
  std::string vtep_mac;
  std::string wireguard_key;
  std::optional<int> wireguard_port;
  bool ready;
  bool unschedulable;
  std::string error_field;  // empty: the node is valid
};

class FixtureTest : public testing::TestWithParam<FixtureCase> {};

TEST_P(FixtureTest, ParsesWhatPodpathUses) {
  const FixtureCase& c = GetParam();
  ParsedNode parsed = parse_node(load_fixture(c.file), NodeParseOptions{});
  const model::ClusterNode& node = parsed.node;
  EXPECT_EQ(node.name, c.name);
  EXPECT_EQ(node.group, c.group);
  EXPECT_EQ(node.pod_cidr ? node.pod_cidr->to_string() : "", c.pod_cidr);
  EXPECT_EQ(node.backend_type, c.backend_type);
  EXPECT_EQ(ip_text(node.public_ip), c.public_ip);
  EXPECT_EQ(ip_text(node.public_ip_overwrite), c.public_ip_overwrite);
  EXPECT_EQ(node.vni, c.vni);
  EXPECT_EQ(node.vtep_mac, c.vtep_mac);
  EXPECT_EQ(node.wireguard_public_key, c.wireguard_key);
  EXPECT_EQ(node.wireguard_port, c.wireguard_port);
  EXPECT_EQ(node.ready, c.ready);
  EXPECT_EQ(node.unschedulable, c.unschedulable);
  EXPECT_EQ(parsed.error_field, c.error_field) << node.annotation_error;
  EXPECT_EQ(node.annotation_error.empty(), c.error_field.empty()) << node.annotation_error;
  EXPECT_FALSE(parsed.resource_version.empty());
}

const std::string kFlannel = "flannel.alpha.coreos.com/";

INSTANTIATE_TEST_SUITE_P(
    LabFixtures, FixtureTest,
    testing::Values(
        FixtureCase{"vxlan-agent.json", "lima-k3s-agent", "sapporo", "10.42.2.0/24", "vxlan",
                    "100.84.0.1", "", 1, "b6:14:d5:9f:82:a6", "", std::nullopt, true, false, ""},
        FixtureCase{"vxlan-server.json", "ip-172-26-2-70", "tokyo", "10.42.0.0/24", "vxlan",
                    "172.26.2.70", "", 1, "92:9f:8b:fc:23:8e", "", std::nullopt, true, false, ""},
        // The overwrite is what flannel publishes as the lease address.
        FixtureCase{"vxlan-public-ip-overwrite.json", "ip-172-26-3-146", "tokyo", "10.42.1.0/24",
                    "vxlan", "203.0.113.11", "203.0.113.11", 1, "ce:7e:16:e1:f2:41", "",
                    std::nullopt, true, false, ""},
        // Older flannel wrote only the MAC: the VNI is unknown, not guessed.
        FixtureCase{"vxlan-legacy-backend-data.json", "old-vxlan", "", "10.42.7.0/24", "vxlan",
                    "100.70.0.1", "", std::nullopt, "e2:db:c2:2f:23:6a", "", std::nullopt, true,
                    false, ""},
        FixtureCase{"wireguard-native.json", "wg-node", "", "10.42.8.0/24", "wireguard",
                    "192.168.1.20", "", std::nullopt, "",
                    "AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54k=", 51820, true, false, ""},
        FixtureCase{"host-gw.json", "hostgw-node", "", "10.42.9.0/24", "host-gw", "192.168.1.21",
                    "", std::nullopt, "", "", std::nullopt, true, false, ""},
        FixtureCase{"tailscale-extension.json", "ts-node", "", "10.42.10.0/24", "extension",
                    "100.73.0.1", "", std::nullopt, "", "", std::nullopt, true, false, ""},
        FixtureCase{"dual-stack.json", "dual-node", "", "10.42.11.0/24", "vxlan", "192.168.1.22",
                    "", 1, "2e:db:71:e8:7e:aa", "", std::nullopt, true, false, ""},
        FixtureCase{"not-ready.json", "down-node", "", "10.42.12.0/24", "vxlan", "100.75.0.1", "",
                    1, "7e:ec:81:dc:f5:0f", "", std::nullopt, false, false, ""},
        FixtureCase{"cordoned.json", "cordoned-node", "", "10.42.13.0/24", "vxlan", "100.76.0.1",
                    "", 1, "9e:97:5f:63:d1:37", "", std::nullopt, true, true, ""},
        // A node flannel has not annotated yet is not an error.
        FixtureCase{"no-flannel-annotations.json", "new-node", "", "10.42.14.0/24", "", "", "",
                    std::nullopt, "", "", std::nullopt, true, false, ""},
        FixtureCase{"no-pod-cidr.json", "nocidr-node", "", "", "vxlan", "100.78.0.1", "", 1,
                    "72:57:de:43:26:3e", "", std::nullopt, true, false, ""},
        FixtureCase{"malformed-backend-data.json", "bad-json", "", "10.42.15.0/24", "vxlan",
                    "100.79.0.1", "", std::nullopt, "", "", std::nullopt, true, false,
                    kFlannel + "backend-data"},
        FixtureCase{"malformed-pod-cidr.json", "bad-cidr", "", "", "vxlan", "100.82.0.1", "", 1,
                    "ca:6a:2b:bc:1d:43", "", std::nullopt, true, false, "spec.podCIDR"},
        FixtureCase{"malformed-public-ip.json", "bad-ip", "", "10.42.16.0/24", "vxlan", "", "", 1,
                    "7a:0a:f3:11:45:d5", "", std::nullopt, true, false, kFlannel + "public-ip"},
        FixtureCase{"malformed-vtep-mac.json", "bad-mac", "", "10.42.17.0/24", "vxlan",
                    "100.81.0.1", "", 1, "", "", std::nullopt, true, false,
                    kFlannel + "backend-data"},
        FixtureCase{"malformed-wireguard-key.json", "bad-wg", "", "10.42.18.0/24", "wireguard",
                    "100.83.0.1", "", std::nullopt, "", "", std::nullopt, true, false,
                    kFlannel + "backend-data"}),
    [](const testing::TestParamInfo<FixtureCase>& info) {
      std::string name = info.param.file.substr(0, info.param.file.find('.'));
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

TEST(ParseNode, AddressesFromStatusAndK3sAnnotationsDeduplicated) {
  ParsedNode parsed = parse_node(load_fixture("vxlan-server.json"), NodeParseOptions{});
  ASSERT_EQ(parsed.node.internal_addresses.size(), 1u);
  EXPECT_EQ(parsed.node.internal_addresses[0].to_string(), "100.99.0.1");
  ASSERT_EQ(parsed.node.external_addresses.size(), 1u);
  EXPECT_EQ(parsed.node.external_addresses[0].to_string(), "203.0.113.10");
}

TEST(ParseNode, DualStackKeepsBothCidrsAndBothFamiliesAddresses) {
  ParsedNode parsed = parse_node(load_fixture("dual-stack.json"), NodeParseOptions{});
  EXPECT_EQ(parsed.node.pod_cidrs,
            (std::vector<std::string>{"10.42.11.0/24", "2001:cafe:42::/64"}));
  EXPECT_EQ(parsed.node.pod_cidr->to_string(), "10.42.11.0/24");
  EXPECT_EQ(parsed.node.pod_cidr_v6->to_string(), "2001:cafe:42::/64");
  ASSERT_EQ(parsed.node.internal_addresses.size(), 1u);
  EXPECT_EQ(parsed.node.internal_addresses[0].to_string(), "100.74.0.1");
  ASSERT_EQ(parsed.node.internal_ipv6_addresses.size(), 1u);
  EXPECT_TRUE(parsed.node.annotation_error.empty()) << parsed.node.annotation_error;
}

// flannel's own examples (pkg/subnet/kube/annotations_test.go).
TEST(AnnotationKeyPrefix, CompletedAsFlannelDoes) {
  EXPECT_EQ(annotation_key_prefix("flannel.alpha.coreos.com"), "flannel.alpha.coreos.com/");
  EXPECT_EQ(annotation_key_prefix("flannel.alpha.coreos.com/"), "flannel.alpha.coreos.com/");
  EXPECT_EQ(annotation_key_prefix("flannel.alpha.coreos.com/prefix"),
            "flannel.alpha.coreos.com/prefix-");
  EXPECT_EQ(annotation_key_prefix("flannel.alpha.coreos.com/prefix-"),
            "flannel.alpha.coreos.com/prefix-");
  EXPECT_EQ(annotation_key_prefix("org.com"), "org.com/");
  EXPECT_EQ(annotation_key_prefix("org.com/9"), "org.com/9-");
  EXPECT_EQ(AnnotationKeys("example.com/x").backend_type, "example.com/x-backend-type");
  EXPECT_EQ(AnnotationKeys("custom.io").backend_v6_data, "custom.io/backend-v6-data");
}

// An IPv6-only node (flannel writes no backend-data and no public-ip there) is valid; the
// same node without its IPv6 lease still needs its VTEP's MAC.
TEST(ParseNode, Ipv6OnlyNodeHasNoIpv4LeaseAndNoError) {
  json node = {{"metadata",
                {{"name", "v6"},
                 {"annotations",
                  {{"flannel.alpha.coreos.com/backend-type", "vxlan"},
                   {"flannel.alpha.coreos.com/backend-v6-data",
                    R"({"VNI":1,"VtepMAC":"42:65:94:14:0A:65"})"},
                   {"flannel.alpha.coreos.com/public-ipv6", "2001:db8::1"}}}}},
               {"spec", {{"podCIDRs", {"2001:db8:42::/64"}}}}};
  ParsedNode parsed = parse_node(node, NodeParseOptions{});
  EXPECT_EQ(parsed.node.annotation_error, "");
  EXPECT_FALSE(parsed.node.has_ipv4_lease);
  EXPECT_FALSE(parsed.node.pod_cidr);
  EXPECT_EQ(parsed.node.pod_cidr_v6->to_string(), "2001:db8:42::/64");
  EXPECT_EQ(parsed.node.ipv6.vtep_mac, "42:65:94:14:0a:65");
  EXPECT_EQ(parsed.node.ipv6.vni, 1);

  node["metadata"]["annotations"].erase("flannel.alpha.coreos.com/backend-v6-data");
  node["metadata"]["annotations"].erase("flannel.alpha.coreos.com/public-ipv6");
  EXPECT_EQ(parse_node(node, NodeParseOptions{}).node.annotation_error,
            "flannel.alpha.coreos.com/backend-data: missing (vxlan needs the VTEP's MAC)");
}

TEST(ParseNode, AnIpv4AddressInPublicIpv6IsAnError) {
  json node = {{"metadata",
                {{"annotations",
                  {{"flannel.alpha.coreos.com/backend-type", "host-gw"},
                   {"flannel.alpha.coreos.com/backend-data", "null"},
                   {"flannel.alpha.coreos.com/public-ipv6", "10.0.0.1"}}}}}};
  EXPECT_EQ(parse_node(node, NodeParseOptions{}).node.annotation_error,
            "flannel.alpha.coreos.com/public-ipv6: \"10.0.0.1\" is not an IPv6 address");
}

TEST(ParseNode, MalformedAnnotationKeepsTheRestOfTheNode) {
  ParsedNode parsed = parse_node(load_fixture("malformed-public-ip.json"), NodeParseOptions{});
  EXPECT_EQ(parsed.node.annotation_error,
            "flannel.alpha.coreos.com/public-ip: \"172.26.2.700\" is not an IPv4 address");
  EXPECT_EQ(parsed.node.vtep_mac, "7a:0a:f3:11:45:d5");
  ASSERT_EQ(parsed.node.internal_addresses.size(), 1u);
}

TEST(ParseNode, WireguardPortAsStringIsAnError) {
  ParsedNode parsed = parse_node(load_fixture("malformed-wireguard-key.json"), NodeParseOptions{});
  EXPECT_NE(parsed.node.annotation_error.find("PublicKey \"not-base64!\""), std::string::npos)
      << parsed.node.annotation_error;
}

TEST(ParseNode, GroupLabelAndAnnotationPrefixAreConfigurable) {
  json node = load_fixture("vxlan-agent.json");
  auto& annotations = node["metadata"]["annotations"];
  json moved = json::object();
  for (auto it = annotations.begin(); it != annotations.end(); ++it) {
    if (it.key().starts_with("flannel.alpha.coreos.com/")) {
      moved["example.com/" + it.key().substr(std::string("flannel.alpha.coreos.com/").size())] =
          it.value();
    } else {
      moved[it.key()] = it.value();
    }
  }
  annotations = moved;
  NodeParseOptions options;
  options.group_label = "node-type";
  options.annotation_prefix = "example.com/";  // ends in '/': used as given
  ParsedNode parsed = parse_node(node, options);
  EXPECT_EQ(parsed.node.group, "lima");
  EXPECT_EQ(parsed.node.backend_type, "vxlan");
  EXPECT_EQ(parsed.node.vtep_mac, "b6:14:d5:9f:82:a6");
  // With the default prefix the moved annotations are not flannel's.
  EXPECT_EQ(parse_node(node, NodeParseOptions{}).node.backend_type, "");
}

TEST(ParseNode, WrongTypesCountAsAbsentNeverThrow) {
  const char* cases[] = {
      R"({})",
      R"([])",
      R"(null)",
      R"({"metadata": [], "spec": "x", "status": 3})",
      R"({"metadata": {"name": 7, "labels": [1], "annotations": {"flannel.alpha.coreos.com/public-ip": 5}},
          "spec": {"podCIDRs": "10.42.0.0/24", "unschedulable": "yes"},
          "status": {"addresses": {"type": "InternalIP"}, "conditions": [{"type": "Ready", "status": true}, 4]}})",
  };
  for (const char* text : cases) {
    ParsedNode parsed;
    ASSERT_NO_THROW(parsed = parse_node(json::parse(text), NodeParseOptions{})) << text;
    EXPECT_EQ(parsed.node.name, "") << text;
    EXPECT_FALSE(parsed.node.ready) << text;
    EXPECT_FALSE(parsed.node.unschedulable) << text;
  }
}

TEST(ParseNode, K3sExternalIpGarbageIsAnError) {
  json node = load_fixture("vxlan-server.json");
  node["metadata"]["annotations"]["k3s.io/external-ip"] = "203.0.113.10,not-an-ip";
  ParsedNode parsed = parse_node(node, NodeParseOptions{});
  EXPECT_EQ(parsed.error_field, "k3s.io/external-ip");
  EXPECT_EQ(parsed.node.vtep_mac, "92:9f:8b:fc:23:8e");
}

struct BackendCase {
  std::string type;
  std::string text;
  std::string error_substring;  // empty: valid
  std::optional<int> vni;
  std::string mac;
  std::optional<int> port;
};

TEST(ParseBackendData, Table) {
  const BackendCase cases[] = {
      {"vxlan", R"({"VNI":1,"VtepMAC":"32:f3:9e:5f:0e:68"})", "", 1, "32:f3:9e:5f:0e:68", {}},
      {"vxlan", R"({"VNI":4096,"VtepMAC":"32:F3:9E:5F:0E:68"})", "", 4096, "32:f3:9e:5f:0e:68", {}},
      {"vxlan", R"({"VtepMAC":"32:f3:9e:5f:0e:68"})", "", {}, "32:f3:9e:5f:0e:68", {}},
      {"vxlan", R"({"VNI":1})", "VtepMAC missing", {}, "", {}},
      {"vxlan", R"({"VNI":16777216,"VtepMAC":"32:f3:9e:5f:0e:68"})", "24-bit", {}, "", {}},
      {"vxlan", R"({"VNI":"1","VtepMAC":"32:f3:9e:5f:0e:68"})", "24-bit", {}, "", {}},
      {"vxlan", R"({"VNI":1,"VtepMAC":"32-f3-9e-5f-0e-68"})", "not a MAC", {}, "", {}},
      {"vxlan", R"({"VNI":1,"VtepMAC":"32:f3:9e:5f:0e:6g"})", "not a MAC", {}, "", {}},
      {"vxlan", R"(null)", "must be an object", {}, "", {}},
      {"vxlan", "", "missing", {}, "", {}},
      {"vxlan", R"({"VNI":1,)", "not valid JSON", {}, "", {}},
      {"wireguard",
       R"({"PublicKey":"AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54k=","Port":51820})",
       "",
       {},
       "",
       51820},
      {"wireguard",
       R"({"PublicKey":"AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54k=","Port":0})",
       "not a UDP port",
       {},
       "",
       {}},
      {"wireguard",
       R"({"PublicKey":"AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54l=","Port":1})",
       "not a WireGuard key",
       {},
       "",
       {}},
      {"wireguard", R"({"PublicKey":"short=","Port":1})", "not a WireGuard key", {}, "", {}},
      {"host-gw", "null", "", {}, "", {}},
      {"host-gw", "", "", {}, "", {}},
      {"extension", "null", "", {}, "", {}},
      {"extension", R"({"anything": [1, 2]})", "", {}, "", {}},
      {"extension", "{", "not valid JSON", {}, "", {}},
      // Backends podpath does not read data from, a future one included: any JSON is taken,
      // the type is still named (docs/decisions/0006-roads-of-every-backend.md).
      {"ipip", "null", "", {}, "", {}},
      {"udp", "null", "", {}, "", {}},
      {"some-future-backend", R"({"Version":2,"Keys":["a"],"Nested":{"x":null}})", "", {}, "", {}},
  };
  for (const auto& c : cases) {
    BackendData data = parse_backend_data(c.type, c.text);
    if (c.error_substring.empty()) {
      EXPECT_EQ(data.error, "") << c.type << " " << c.text;
    } else {
      EXPECT_NE(data.error.find(c.error_substring), std::string::npos)
          << c.type << " " << c.text << " -> " << data.error;
      continue;
    }
    EXPECT_EQ(data.vni, c.vni) << c.text;
    EXPECT_EQ(data.vtep_mac, c.mac) << c.text;
    EXPECT_EQ(data.wireguard_port, c.port) << c.text;
  }
}

TEST(ParseMac, NormalisesCaseAndRejectsOtherShapes) {
  EXPECT_EQ(parse_mac("AA:bb:0C:dd:ee:FF"), "aa:bb:0c:dd:ee:ff");
  EXPECT_EQ(parse_mac("aa:bb:cc:dd:ee"), std::nullopt);
  EXPECT_EQ(parse_mac("aa:bb:cc:dd:ee:ff:00"), std::nullopt);
  EXPECT_EQ(parse_mac("aabb.ccdd.eeff...."), std::nullopt);
  EXPECT_EQ(parse_mac(""), std::nullopt);
}

TEST(WireGuardKey, OnlyTheCanonical44CharacterFormOf32Bytes) {
  const std::string key = "AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54k=";
  EXPECT_TRUE(is_wireguard_key(key));
  EXPECT_FALSE(is_wireguard_key("AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54l="));    // bits set
  EXPECT_FALSE(is_wireguard_key(key.substr(0, 43)));                                 // unpadded
  EXPECT_FALSE(is_wireguard_key("AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt5\n4k="));  // wrapped
  EXPECT_FALSE(is_wireguard_key("AAvf+ioYyIdRQ/lz6CFOpO+jjG/P+GUUZShh7Yxt54kA"));    // 33 bytes
  EXPECT_FALSE(is_wireguard_key(""));
}

}  // namespace
}  // namespace podpath::kubernetes
