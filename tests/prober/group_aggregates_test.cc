// A group's probe sums across the changes a large cluster brings: peers leaving and joining the
// probe set, a peer relabelled into another zone, a scraper asking twice for one snapshot.
#include "prober/group_aggregates.h"

#include <gtest/gtest.h>

#include "metrics/histogram.h"

namespace podpath::prober {
namespace {

const std::vector<double> kBounds = metrics::exponential_buckets(50e-6, 2, 20);

TargetResult target(const std::string& peer, const std::string& group, bool same_group,
                    std::uint64_t requests, std::uint64_t responses,
                    std::initializer_list<double> rtts, TargetKind kind = TargetKind::kOverlay) {
  metrics::HistogramAccumulator acc(kBounds);
  for (double v : rtts) acc.observe(v);
  TargetResult t;
  t.labels = PeerLabels{peer, group, same_group};
  t.target = kind;
  t.requests = requests;
  t.responses = responses;
  t.rtt = acc.snapshot();
  return t;
}

std::shared_ptr<const Snapshot> snapshot_of(std::vector<TargetResult> targets) {
  auto s = std::make_shared<Snapshot>();
  s->targets = std::move(targets);
  return s;
}

// (requests, responses, rtt count) of one group's overlay aggregate.
struct Sums {
  double requests = -1, responses = -1;
  std::uint64_t rtt_count = 0;
  bool operator==(const Sums&) const = default;
};

Sums sums(const GroupAggregates& aggregates, const std::string& group) {
  Sums out;
  for (const auto& family : aggregates.families())
    for (const auto& metric : family.metrics) {
      if (metric.labels[0].second != group || metric.labels[3].second != "overlay") continue;
      if (family.name == "podpath_group_probe_requests_total") out.requests = metric.value;
      if (family.name == "podpath_group_probe_responses_total") out.responses = metric.value;
      if (family.name == "podpath_group_probe_rtt_seconds") out.rtt_count = metric.histogram.count;
    }
  return out;
}

TEST(GroupAggregates, SumTheGroupsPeersPerTarget) {
  GroupAggregates aggregates;
  aggregates.update(
      snapshot_of({target("osaka-1", "osaka", false, 10, 9, {0.012, 0.013}),
                   target("osaka-2", "osaka", false, 10, 10, {0.011}),
                   target("tokyo-1", "tokyo", true, 10, 10, {0.0004}),
                   target("osaka-1", "osaka", false, 10, 10, {0.0003}, TargetKind::kUnderlay)}));
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{20, 19, 3}));
  EXPECT_EQ(sums(aggregates, "tokyo"), (Sums{10, 10, 1}));
  const auto families = aggregates.families();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "podpath_group_probe_rtt_seconds");
  // osaka overlay, osaka underlay, tokyo overlay; the labels say group, same_group, family, target.
  ASSERT_EQ(families[0].metrics.size(), 3u);
  EXPECT_EQ(families[0].metrics[2].labels, (metrics::Labels{{"peer_group", "tokyo"},
                                                            {"same_group", "true"},
                                                            {"family", "ipv4"},
                                                            {"target", "overlay"}}));
}

TEST(GroupAggregates, APeerLeavingTheProbeSetTakesNothingAway) {
  GroupAggregates aggregates;
  aggregates.update(snapshot_of({target("osaka-1", "osaka", false, 10, 10, {0.012}),
                                 target("osaka-2", "osaka", false, 10, 10, {0.011})}));
  // Churn: the graph swaps osaka-2 for osaka-3.
  aggregates.update(snapshot_of({target("osaka-1", "osaka", false, 15, 15, {0.012, 0.012}),
                                 target("osaka-3", "osaka", false, 2, 1, {0.013})}));
  // 20 before, then osaka-1 gained 5 and osaka-3 brought 2: a counter that only grows.
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{27, 26, 4}));
}

TEST(GroupAggregates, APeerThatCameBackStartsAgainFromItsNewCounts) {
  GroupAggregates aggregates;
  aggregates.update(snapshot_of({target("osaka-1", "osaka", false, 100, 100, {0.012})}));
  aggregates.update(snapshot_of({}));
  aggregates.update(snapshot_of({target("osaka-1", "osaka", false, 3, 3, {0.012})}));
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{103, 103, 2}));
  // Made anew while still listed (its job restarted between two snapshots): a reset too.
  aggregates.update(snapshot_of({target("osaka-1", "osaka", false, 1, 0, {})}));
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{104, 103, 2}));
}

TEST(GroupAggregates, TheSameSnapshotTwiceCountsOnce) {
  GroupAggregates aggregates;
  auto s = snapshot_of({target("osaka-1", "osaka", false, 10, 10, {0.012})});
  aggregates.update(s);
  aggregates.update(s);  // a second scraper (an HA Prometheus pair) asking for the same round
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{10, 10, 1}));
}

TEST(GroupAggregates, ARelabelledPeerAddsToItsNewGroupFromThenOn) {
  GroupAggregates aggregates;
  aggregates.update(snapshot_of({target("n-1", "osaka", false, 10, 10, {0.012})}));
  aggregates.update(snapshot_of({target("n-1", "kyoto", false, 14, 14, {0.012, 0.02})}));
  EXPECT_EQ(sums(aggregates, "osaka"), (Sums{10, 10, 1}));
  EXPECT_EQ(sums(aggregates, "kyoto"), (Sums{4, 4, 1}));
}

}  // namespace
}  // namespace podpath::prober
