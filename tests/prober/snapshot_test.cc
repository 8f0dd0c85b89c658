#include "prober/snapshot.h"

#include <gtest/gtest.h>

#include <set>

#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "support/golden.h"

namespace podpath::prober {
namespace {

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/" + name, actual);
}

Snapshot sample() {
  Snapshot s;
  metrics::HistogramAccumulator lan(metrics::exponential_buckets(50e-6, 2, 20));
  for (double v : {0.00041, 0.00039, 0.00044}) lan.observe(v);
  metrics::HistogramAccumulator derp(metrics::exponential_buckets(50e-6, 2, 20));
  for (double v : {0.087, 0.133, 0.202}) derp.observe(v);
  PeerLabels agent2{"lima-k3s-agent-2", "lima", true};
  PeerLabels server{"ip-172-26-2-70", "lightsail", false};
  s.targets.push_back({agent2, TargetKind::kOverlay, 4, 3, 1, 0, {}, derp.snapshot()});
  s.targets.push_back({agent2, TargetKind::kUnderlay, 4, 3, 0, 1, {}, lan.snapshot()});
  s.targets.push_back({server, TargetKind::kOverlay, 4, 0, 0, 0, {{"EHOSTUNREACH", 4}}, {}});
  s.targets.back().rtt = metrics::HistogramAccumulator({0.001, 0.01}).snapshot();
  s.path_mtu.push_back({agent2, 1230});
  // agent-2 is dual-stack: its IPv6 overlay answers too, beside the IPv4 one.
  metrics::HistogramAccumulator lan6(metrics::exponential_buckets(50e-6, 2, 20));
  for (double v : {0.00043, 0.00047}) lan6.observe(v);
  s.targets_v6.push_back({agent2,
                          TargetKind::kOverlay,
                          4,
                          2,
                          0,
                          0,
                          {{"EHOSTUNREACH", 1}},
                          lan6.snapshot(),
                          model::Family::kIpv6});
  s.path_mtu_v6.push_back({agent2, 1280});
  s.exposure.push_back({server, *model::Ipv4::parse("54.250.1.10"), true});
  // The server's IPv6 road: its public IPv6 address drops VXLAN over IPv6.
  PeerLabels server6{"ip-172-26-2-70", "lightsail", false, model::Family::kIpv6};
  s.exposure.push_back({server6, *model::IpAddress::parse("2001:db8:77::2"), false});
  s.peers_total = 5;
  s.peers_probed = 2;
  s.probed_by = 4;
  s.group_pairs = 3;
  s.group_pairs_covered = 2;
  s.timestamp_fallbacks = 1;
  s.receive_drops = 2;
  s.socket_mode = "raw";
  s.kernel_timestamps = true;
  s.socket_mode_v6 = "raw";
  s.kernel_timestamps_v6 = true;
  return s;
}

TEST(Snapshot, ExpositionMatchesGolden) {
  auto text = metrics::render(metrics::normalize(to_families(sample())), metrics::Format::kText004);
  expect_golden("snapshot.prom", text);
}

// family too, on IPv4 series as on IPv6 ones (issue #15): an IPv4-only cluster sees the label
// and nothing else new.
TEST(Snapshot, EveryPerPeerSeriesCarriesTheContractLabels) {
  for (const auto& family : to_families(sample())) {
    if (!family.name.starts_with("podpath_probe_") &&
        family.name != "podpath_peer_path_mtu_bytes" && family.name != "podpath_vxlan_exposed")
      continue;
    for (const auto& metric : family.metrics) {
      std::set<std::string> keys;
      for (const auto& [k, v] : metric.labels) keys.insert(k);
      for (const char* want : {"peer", "peer_group", "same_group", "family"})
        EXPECT_TRUE(keys.count(want)) << family.name << " lacks " << want;
    }
  }
}

TEST(Snapshot, EmptySnapshotStillSaysWhatSocketItUses) {
  Snapshot empty;
  empty.socket_mode = "datagram";
  auto text = metrics::render(metrics::normalize(to_families(empty)), metrics::Format::kText004);
  EXPECT_NE(text.find("podpath_prober_socket_info{family=\"ipv4\",mode=\"datagram\",timestamps="
                      "\"user\"} 1"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("podpath_probe_requests_total{"), std::string::npos);
}

}  // namespace
}  // namespace podpath::prober
