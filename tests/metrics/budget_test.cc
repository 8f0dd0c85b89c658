// The series budget on the scrapes it exists for: a node of a large cluster, whose peers would
// cost far more series than Prometheus should take from one target, and the lab's six nodes,
// where nothing may be withheld.
#include "metrics/budget.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "metrics/exposition.h"
#include "metrics/histogram.h"

namespace podpath::metrics {
namespace {

struct PeerSpec {
  PeerSpec(std::string n, std::string g, bool same = false)
      : name(std::move(n)), group(std::move(g)), same_group(same) {}
  std::string name;
  std::string group;
  bool same_group = false;
  std::string finding_severity;  // empty: no finding
  bool probed = true;            // false: only the analysis' path info and findings name it
};

Labels peer_labels(const PeerSpec& peer, std::string target = "") {
  Labels labels{{"peer", peer.name},
                {"peer_group", peer.group},
                {"same_group", peer.same_group ? "true" : "false"},
                {"family", "ipv4"}};
  if (!target.empty()) labels.emplace_back("target", target);
  return labels;
}

// A scrape shaped like the exporter's: the node's own series, and per peer the prober's
// histograms and counters, a path MTU and the analysis' path info; group aggregates per group.
std::vector<MetricFamily> scrape(const std::vector<PeerSpec>& peers) {
  const auto bounds = exponential_buckets(50e-6, 2, 20);
  MetricFamily node("podpath_node_info", "node", MetricType::kInfo);
  MetricFamily rtt("podpath_probe_rtt_seconds", "rtt", MetricType::kHistogram);
  MetricFamily requests("podpath_probe_requests_total", "requests", MetricType::kCounter);
  MetricFamily responses("podpath_probe_responses_total", "responses", MetricType::kCounter);
  MetricFamily mtu("podpath_peer_path_mtu_bytes", "mtu", MetricType::kGauge);
  MetricFamily path("podpath_peer_path_info", "path", MetricType::kInfo);
  MetricFamily finding("podpath_finding", "finding", MetricType::kGauge);
  MetricFamily group_rtt("podpath_group_probe_rtt_seconds", "group rtt", MetricType::kHistogram);
  std::set<std::pair<std::string, bool>> groups;
  node.add({{"node", "self"}}, 1);
  // This node's own finding: it names no peer, so no budget withholds it.
  finding.add({{"code", "pods-ride-tailscale"}, {"peer", ""}, {"severity", "info"}}, 1);
  for (const auto& peer : peers) {
    if (!peer.probed) {
      path.add(peer_labels(peer), 1);
      if (!peer.finding_severity.empty())
        finding.add(
            {{"code", "no-route"}, {"peer", peer.name}, {"severity", peer.finding_severity}}, 1);
      continue;
    }
    for (const char* target : {"overlay", "underlay"}) {
      rtt.add_histogram(peer_labels(peer, target), HistogramAccumulator(bounds).snapshot());
      requests.add(peer_labels(peer, target), 10);
      responses.add(peer_labels(peer, target), 10);
    }
    mtu.add(peer_labels(peer), 1450);
    path.add(peer_labels(peer), 1);
    if (!peer.finding_severity.empty())
      finding.add(
          {{"code", "overlay-blocked"}, {"peer", peer.name}, {"severity", peer.finding_severity}},
          1);
    groups.insert({peer.group, peer.same_group});
  }
  for (const auto& [group, same] : groups)
    for (const char* target : {"overlay", "underlay"})
      group_rtt.add_histogram({{"peer_group", group},
                               {"same_group", same ? "true" : "false"},
                               {"family", "ipv4"},
                               {"target", target}},
                              HistogramAccumulator(bounds).snapshot());
  return {node, rtt, requests, responses, mtu, path, group_rtt, finding};
}

std::size_t count_series(const std::vector<MetricFamily>& families) {
  std::size_t n = 0;
  for (const auto& family : families)
    for (const auto& metric : family.metrics) n += series_of(family, metric);
  return n;
}

// The scrape as served: the kept families and the gauges reporting the outcome.
std::vector<MetricFamily> served(std::vector<MetricFamily> families, const SeriesBudget& budget,
                                 const BudgetOutcome& outcome) {
  for (auto& family : budget_families(budget, outcome)) families.push_back(std::move(family));
  return normalize(std::move(families));
}

// The gauges count as kept series from the start.
const std::size_t kGaugeSeries = count_series(budget_families({}, {}));

std::set<std::string> detailed_peers(const std::vector<MetricFamily>& families) {
  std::set<std::string> out;
  for (const auto& family : families)
    if (family.name == "podpath_probe_rtt_seconds")
      for (const auto& metric : family.metrics)
        for (const auto& [key, value] : metric.labels)
          if (key == "peer") out.insert(value);
  return out;
}

std::set<std::string> named_peers(const std::vector<MetricFamily>& families,
                                  const std::string& family_name) {
  std::set<std::string> out;
  for (const auto& family : families)
    if (family.name == family_name)
      for (const auto& metric : family.metrics)
        for (const auto& [key, value] : metric.labels)
          if (key == "peer" && !value.empty()) out.insert(value);
  return out;
}

// The node of a 5,000-node cluster in 50 zones of 100: it probes 90 peers of its own zone and
// 10 of others (the probe graph's default budget of 100).
std::vector<PeerSpec> large_cluster_peers() {
  std::vector<PeerSpec> peers;
  for (int i = 0; i < 90; ++i)
    peers.push_back({fmt::format("zone-07-node-{:03d}", i), "zone-07", true});
  for (int i = 0; i < 10; ++i)
    peers.push_back(
        {fmt::format("zone-{:02d}-node-042", 10 + i), fmt::format("zone-{:02d}", 10 + i)});
  return peers;
}

// A budget of series alone, and one of series and text bytes as the exporter's defaults.
SeriesBudget series_only(std::size_t max_series, std::string self) {
  return {max_series, std::move(self), 0};
}
SeriesBudget defaults(std::string self) {
  return {1500, std::move(self), 150'000};
}

TEST(SeriesBudget, TheLabsSixNodesKeepEverySeries) {
  std::vector<PeerSpec> peers{{"ip-172-26-3-146", "tokyo", true},
                              {"lima-k3s-agent", "sapporo"},
                              {"lima-k3s-agent-2", "sapporo"},
                              {"lima-k3s-agent-3", "sapporo"},
                              {"lima-k3s-agent-4", "sapporo"}};
  auto families = scrape(peers);
  const auto before = count_series(families);
  const auto outcome = apply_series_budget(families, defaults("ip-172-26-2-70"));
  EXPECT_EQ(outcome.series_before, before + kGaugeSeries);
  EXPECT_EQ(outcome.peers_detailed, 5u);
  EXPECT_EQ(outcome.peers_summarised, 0u);
  // Every peer's series are there; the two groups' sums are left out as redundant (each is
  // the sum of peers all kept in detail), and nothing else is.
  EXPECT_EQ(outcome.groups_withheld, 0u);
  EXPECT_EQ(outcome.groups_redundant, 2u);
  std::size_t group_series = 0;
  for (const auto& family : scrape(peers))
    if (family.name.starts_with("podpath_group_probe_")) group_series += count_series({family});
  EXPECT_EQ(count_series(families), before - group_series);
  EXPECT_EQ(outcome.series_kept, before - group_series + kGaugeSeries);
}

TEST(SeriesBudget, ALargeClustersNodeStaysWithinItAndStillNamesEveryProbedPeer) {
  auto families = scrape(large_cluster_peers());
  ASSERT_GT(count_series(families), 5000u);  // what it cost without a budget
  const auto budget = series_only(1500, "zone-07-node-999");
  const auto outcome = apply_series_budget(families, budget);
  EXPECT_LE(count_series(served(families, budget, outcome)), 1500u);
  EXPECT_EQ(outcome.series_kept, count_series(families) + kGaugeSeries);
  // Every probed peer is still named by its requests and responses (PodpathPeerUnreachable).
  EXPECT_EQ(named_peers(families, "podpath_probe_requests_total").size(), 100u);
  EXPECT_EQ(named_peers(families, "podpath_probe_responses_total").size(), 100u);
  // No group's RTT is lost: each other zone (one probed peer each) has its sums or its peer
  // in detail, whichever the budget kept (a one-peer group's sums give way to the peer);
  // the node's own zone keeps its sums and details as many of its peers as fit.
  EXPECT_EQ(outcome.groups_withheld, 0u);
  const auto detailed = detailed_peers(families);
  std::set<std::string> summed;
  for (const auto& family : families) {
    if (family.name != "podpath_group_probe_rtt_seconds") continue;
    for (const auto& metric : family.metrics) summed.insert(metric.labels[0].second);
  }
  EXPECT_TRUE(summed.contains("zone-07"));
  for (int zone = 10; zone < 20; ++zone)
    EXPECT_NE(summed.contains(fmt::format("zone-{:02d}", zone)),
              detailed.contains(fmt::format("zone-{:02d}-node-042", zone)))
        << zone;
  EXPECT_EQ(detailed.size(), outcome.peers_detailed);
  std::size_t own_zone = 0;
  for (const auto& peer : detailed) own_zone += peer.starts_with("zone-07-");
  EXPECT_GT(own_zone, 5u);
  EXPECT_EQ(outcome.peers_detailed + outcome.peers_summarised, 100u);
  // A withheld peer loses every detail series, not some.
  EXPECT_EQ(named_peers(families, "podpath_peer_path_mtu_bytes"), detailed);
  EXPECT_EQ(named_peers(families, "podpath_peer_path_info"), detailed);
}

TEST(SeriesBudget, PeersInTroubleAreDetailedFirstWhateverTheirGroup) {
  auto peers = large_cluster_peers();
  peers[95].finding_severity = "critical";  // another zone's node, overlay blocked
  peers[40].finding_severity = "warning";
  peers[41].finding_severity = "info";  // information only: no trouble
  auto families = scrape(peers);
  apply_series_budget(families, defaults("zone-07-node-999"));
  const auto detailed = detailed_peers(families);
  EXPECT_TRUE(detailed.contains(peers[95].name));
  EXPECT_TRUE(detailed.contains(peers[40].name));
  // Their findings go with their detail; so does a detailed peer's information-only one.
  const auto with_findings = named_peers(families, "podpath_finding");
  EXPECT_TRUE(with_findings.contains(peers[95].name));
  EXPECT_TRUE(with_findings.contains(peers[40].name));
  EXPECT_EQ(with_findings.contains(peers[41].name), detailed.contains(peers[41].name));
}

// A node whose kernel lacks every peer's route (flannel is down here): the analysis names each
// of 4,999 peers, probed or not. The probed ones' findings and detail come first, the node's
// own finding stays, and the budget holds.
TEST(SeriesBudget, ProbedPeersComeBeforeTheRestOfALargeClusterEvenInTrouble) {
  auto peers = large_cluster_peers();
  for (auto& peer : peers) peer.finding_severity = "critical";
  for (int i = 0; i < 4899; ++i) {
    PeerSpec other(fmt::format("zone-{:02d}-node-{:03d}", 20 + i / 100, i % 100),
                   fmt::format("zone-{:02d}", 20 + i / 100));
    other.probed = false;
    other.finding_severity = "critical";
    peers.push_back(other);
  }
  auto families = scrape(peers);
  const auto outcome = apply_series_budget(families, series_only(1500, "zone-07-node-999"));
  EXPECT_LE(count_series(families), 1500u);
  const auto with_findings = named_peers(families, "podpath_finding");
  std::size_t probed_kept = 0;
  for (std::size_t i = 0; i < 100; ++i) probed_kept += with_findings.contains(peers[i].name);
  EXPECT_EQ(probed_kept, outcome.peers_detailed - (with_findings.size() - probed_kept));
  EXPECT_GT(probed_kept, 5u);
  // An unprobed peer is detailed only once every probed one that fits is.
  if (with_findings.size() > probed_kept) {
    EXPECT_EQ(detailed_peers(families).size(), probed_kept);
  }
  bool own_finding = false;
  for (const auto& family : families)
    if (family.name == "podpath_finding")
      for (const auto& metric : family.metrics)
        own_finding = own_finding || metric.labels[0].second == "pods-ride-tailscale";
  EXPECT_TRUE(own_finding);
}

TEST(SeriesBudget, NodesOfOneGroupDetailDifferentPeers) {
  const auto peers = large_cluster_peers();
  auto a = scrape(peers);
  auto b = scrape(peers);
  apply_series_budget(a, series_only(1500, "zone-07-node-100"));
  apply_series_budget(b, series_only(1500, "zone-07-node-101"));
  EXPECT_NE(detailed_peers(a), detailed_peers(b));
  // ...and one node picks the same peers every scrape.
  auto again = scrape(peers);
  apply_series_budget(again, series_only(1500, "zone-07-node-100"));
  EXPECT_EQ(detailed_peers(a), detailed_peers(again));
}

TEST(SeriesBudget, ZeroMeansNoBudget) {
  auto families = scrape(large_cluster_peers());
  const auto before = count_series(families);
  const auto outcome = apply_series_budget(families, series_only(0, "zone-07-node-999"));
  EXPECT_EQ(count_series(families), before);
  EXPECT_EQ(outcome.peers_summarised, 0u);
}

TEST(SeriesBudget, RequestsAndResponsesStayEvenOverTheBudgetAndTheOutcomeSaysSo) {
  auto families = scrape(large_cluster_peers());
  const auto outcome = apply_series_budget(families, series_only(100, "zone-07-node-999"));
  EXPECT_EQ(outcome.peers_detailed, 0u);
  EXPECT_EQ(named_peers(families, "podpath_probe_requests_total").size(), 100u);
  EXPECT_GT(outcome.series_kept, 100u);
  const auto gauges = budget_families(series_only(100, "x"), outcome);
  ASSERT_EQ(gauges.size(), 6u);
  EXPECT_EQ(gauges[0].name, "podpath_series_budget_max_series");
  EXPECT_EQ(gauges[2].name, "podpath_series_budget_series");
  EXPECT_EQ(gauges[2].metrics[0].value, static_cast<double>(outcome.series_kept));
  EXPECT_EQ(gauges[2].metrics[1].value,
            static_cast<double>(outcome.series_before - outcome.series_kept));
  EXPECT_EQ(gauges[4].name, "podpath_series_budget_peers");
  EXPECT_EQ(gauges[4].metrics[1].value, 100.0);  // every peer summarised
}

TEST(SeriesBudget, TheOwnGroupsAggregatesComeBeforeOtherGroups) {
  auto families = scrape(large_cluster_peers());
  // Room for the always-kept series and about one group's aggregates.
  std::size_t always = 0;
  for (const auto& family : families)
    if (family.name != "podpath_probe_rtt_seconds" &&
        family.name != "podpath_peer_path_mtu_bytes" && family.name != "podpath_peer_path_info" &&
        family.name != "podpath_group_probe_rtt_seconds" && family.name != "podpath_finding")
      always += family.metrics.size();
  always += 1;  // this node's own finding
  const auto outcome = apply_series_budget(
      families, series_only(always + kGaugeSeries + 2 * 23, "zone-07-node-999"));
  EXPECT_EQ(outcome.groups_aggregated, 1u);
  for (const auto& family : families) {
    if (family.name != "podpath_group_probe_rtt_seconds") continue;
    for (const auto& metric : family.metrics)
      EXPECT_EQ(metric.labels[0], (std::pair<std::string, std::string>{"peer_group", "zone-07"}));
  }
}

// The text Prometheus reads stays within the bytes the budget allows: its estimate of a line
// is never below what the exposition writes.
TEST(SeriesBudget, TheRenderedTextStaysWithinTheBytes) {
  for (std::size_t max_bytes : {60'000u, 100'000u, 150'000u}) {
    auto families = scrape(large_cluster_peers());
    const SeriesBudget budget{0, "zone-07-node-999", max_bytes};
    const auto outcome = apply_series_budget(families, budget);
    const auto text = render(served(families, budget, outcome), Format::kText004);
    EXPECT_LE(text.size(), outcome.bytes_kept) << max_bytes;
    if (outcome.peers_detailed > 0) {
      EXPECT_LE(outcome.bytes_kept, max_bytes);
    }
  }
  // ...and the defaults keep some detail and every group's aggregates.
  auto families = scrape(large_cluster_peers());
  const auto outcome = apply_series_budget(families, defaults("zone-07-node-999"));
  EXPECT_GT(outcome.peers_detailed, 0u);
  EXPECT_EQ(outcome.groups_withheld, 0u);
}

// Three peers in zone-b and room for all of them only without zone-b's sums: the sums give
// way, as they add nothing to three detailed peers, and the third peer gets their room.
TEST(SeriesBudget, AGroupsSumsGiveWayWhenTheirRoomDetailsAllOfItsPeers) {
  const std::vector<PeerSpec> peers{{"b-1", "zone-b"}, {"b-2", "zone-b"}, {"b-3", "zone-b"}};
  std::size_t detail = 0, sums = 0, always = kGaugeSeries;
  for (const auto& family : scrape(peers)) {
    const std::size_t n = count_series({family});
    if (family.name.starts_with("podpath_group_probe_"))
      sums += n;
    else if (family.name == "podpath_probe_rtt_seconds" ||
             family.name == "podpath_peer_path_mtu_bytes" ||
             family.name == "podpath_peer_path_info")
      detail += n;
    else
      always += n;
  }
  ASSERT_GT(sums, 0u);
  auto families = scrape(peers);
  auto outcome = apply_series_budget(families, series_only(always + detail, "self"));
  EXPECT_EQ(outcome.peers_detailed, 3u);
  EXPECT_EQ(outcome.groups_redundant, 1u);
  EXPECT_EQ(detailed_peers(families).size(), 3u);
  // One series less and the peers cannot all be detailed: the sums stay, two peers beside them.
  families = scrape(peers);
  outcome = apply_series_budget(families, series_only(always + detail - 1, "self"));
  EXPECT_EQ(outcome.groups_aggregated, 1u);
  EXPECT_EQ(outcome.groups_redundant, 0u);
  EXPECT_EQ(outcome.peers_detailed, 2u);
}

}  // namespace
}  // namespace podpath::metrics
