#include "kubernetes/collector.h"

#include <gtest/gtest.h>

#include "metrics/exposition.h"
#include "support/golden.h"

namespace podpath::kubernetes {
namespace {

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/kubernetes/testdata/" + name,
                                   actual);
}

std::string render(const WatcherSnapshot& snapshot) {
  return metrics::render(metrics::normalize(build_families(snapshot)), metrics::Format::kText004);
}

WatcherSnapshot base_snapshot() {
  WatcherSnapshot s;
  for (const char* type : {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"}) s.events[type] = 0;
  for (const char* reason :
       {"connect", "tls", "timeout", "unauthorized", "http", "decode", "other"})
    s.errors[reason] = 0;
  return s;
}

model::ClusterNode self_node() {
  model::ClusterNode self;
  self.name = "lima-k3s-agent";
  self.group = "sapporo";
  self.backend_type = "vxlan";
  self.public_ip = model::Ipv4::parse("100.84.0.1");
  self.vni = 1;
  self.vtep_mac = "b6:14:d5:9f:82:a6";
  return self;
}

TEST(KubernetesCollector, HealthyWatchMatchesGolden) {
  WatcherSnapshot s = base_snapshot();
  s.synced = s.healthy = true;
  s.node_count = 6;
  s.self = self_node();
  s.events["ADDED"] = 2;
  s.events["BOOKMARK"] = 7;
  s.relists = 1;
  s.last_event_unix = 1700000000.5;
  s.annotation_errors = {{"bad-ip", "flannel.alpha.coreos.com/public-ip"}};
  expect_golden("healthy.prom", render(s));
}

TEST(KubernetesCollector, OverwrittenGlobalAddressAndNoSelfYet) {
  WatcherSnapshot s = base_snapshot();
  s.synced = true;
  s.healthy = false;  // stale
  s.node_count = 2;
  model::ClusterNode self = self_node();
  self.public_ip = self.public_ip_overwrite = model::Ipv4::parse("203.0.113.11");
  s.self = self;
  s.errors["connect"] = 3;
  expect_golden("stale-overwrite.prom", render(s));

  WatcherSnapshot before_list = base_snapshot();
  std::string text = render(before_list);
  EXPECT_EQ(text.find("podpath_flannel_annotation_info"), std::string::npos);
  EXPECT_EQ(text.find("podpath_kubernetes_nodes "), std::string::npos);
  EXPECT_NE(text.find("podpath_kubernetes_view_stale 1"), std::string::npos);
}

TEST(KubernetesCollector, ScopeLabelFollowsClassify) {
  struct Case {
    const char* ip;
    const char* scope;
  };
  for (auto [ip, scope] : {Case{"192.168.105.2", "private"}, Case{"100.84.0.1", "cgnat"},
                           Case{"172.26.2.70", "private"}, Case{"203.0.113.10", "global"},
                           Case{"127.0.0.1", "loopback"}, Case{"169.254.1.1", "link-local"}}) {
    WatcherSnapshot s = base_snapshot();
    model::ClusterNode self = self_node();
    self.public_ip = model::Ipv4::parse(ip);
    s.self = self;
    auto families = build_families(s);
    ASSERT_EQ(families[0].name, "podpath_flannel_annotation_info");
    const auto& labels = families[0].metrics.at(0).labels;
    auto it = std::find_if(labels.begin(), labels.end(),
                           [](const auto& kv) { return kv.first == "public_ip_scope"; });
    ASSERT_NE(it, labels.end());
    EXPECT_EQ(it->second, scope) << ip;
  }
}

// 100.64.0.0/10 is tailnet only where this node's tailscaled lists the address.
TEST(KubernetesCollector, ScopeTailnetWhereTailscaledListsTheAddress) {
  WatcherSnapshot s = base_snapshot();
  model::ClusterNode self = self_node();
  self.public_ip = model::Ipv4::parse("100.70.1.2");
  s.self = self;
  auto scope = [&](std::span<const model::Ipv4> tailnet) {
    const auto families = build_families(s, tailnet);
    const auto& labels = families[0].metrics.at(0).labels;
    return std::find_if(labels.begin(), labels.end(),
                        [](const auto& kv) { return kv.first == "public_ip_scope"; })
        ->second;
  };
  const std::vector<model::Ipv4> listed{*model::Ipv4::parse("100.70.1.2")};
  EXPECT_EQ(scope({}), "cgnat");
  EXPECT_EQ(scope(listed), "tailnet");
}

// One annotation series per family the lease has: both on a dual-stack node, the IPv6 one
// alone on an IPv6-only node (flannel writes no public-ip or backend-data there).
TEST(KubernetesCollector, AnnotationSeriesPerFamilyOfTheLease) {
  auto series = [](const model::ClusterNode& self) {
    WatcherSnapshot s = base_snapshot();
    s.self = self;
    const auto families = build_families(s);
    std::vector<std::string> out;
    for (const auto& metric : families.at(0).metrics) {
      std::string line;
      for (const auto& [name, value] : metric.labels)
        if (name == "family" || name == "public_ip" || name == "vtep_mac")
          line += name + "=" + value + " ";
      out.push_back(line);
    }
    return out;
  };
  model::ClusterNode dual = self_node();
  dual.has_ipv4_lease = true;
  dual.ipv6.public_ip = model::IpAddress::parse("fda5:8888:9999:310::10");
  dual.ipv6.has_backend_data = true;
  dual.ipv6.vtep_mac = "fa:f9:a5:ac:97:47";
  EXPECT_EQ(series(dual),
            (std::vector<std::string>{
                "family=ipv4 public_ip=100.84.0.1 vtep_mac=b6:14:d5:9f:82:a6 ",
                "family=ipv6 public_ip=fda5:8888:9999:310::10 vtep_mac=fa:f9:a5:ac:97:47 "}));

  model::ClusterNode v6_only;
  v6_only.name = "v6";
  v6_only.backend_type = "vxlan";
  v6_only.ipv6 = dual.ipv6;
  EXPECT_EQ(series(v6_only),
            (std::vector<std::string>{
                "family=ipv6 public_ip=fda5:8888:9999:310::10 vtep_mac=fa:f9:a5:ac:97:47 "}));
}

}  // namespace
}  // namespace podpath::kubernetes
