#include "prober/probe_graph.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace podpath::prober {
namespace {

// Clusters as the issue describes them (#17): one unlabelled group, sites of equal size, and
// uneven sites with single nodes and nodes that carry no group label.
std::vector<GraphNode> one_group(std::size_t n) {
  std::vector<GraphNode> nodes;
  for (std::size_t i = 0; i < n; ++i) nodes.push_back({fmt::format("node-{:05d}", i), ""});
  return nodes;
}

std::vector<GraphNode> groups_of(std::size_t n, std::size_t size) {
  std::vector<GraphNode> nodes;
  for (std::size_t i = 0; i < n; ++i)
    nodes.push_back({fmt::format("node-{:05d}", i), fmt::format("site-{:03d}", i / size)});
  return nodes;
}

// Group sizes cycle through 1, 2, 3, 7, 40 and 150; every 20th node has no label.
std::vector<GraphNode> mixed(std::size_t n) {
  const std::size_t sizes[] = {1, 2, 3, 7, 40, 150};
  std::vector<GraphNode> nodes;
  std::size_t group = 0, in_group = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 20 == 19) {
      nodes.push_back({fmt::format("node-{:05d}", i), ""});
      continue;
    }
    nodes.push_back({fmt::format("node-{:05d}", i), fmt::format("site-{:03d}", group)});
    if (++in_group == sizes[group % 6]) {
      ++group;
      in_group = 0;
    }
  }
  return nodes;
}

std::map<std::string, std::set<std::string>> peer_sets(const ProbeGraph& graph) {
  std::map<std::string, std::set<std::string>> out;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    auto& peers = out[graph.node(i).name];
    for (auto v : graph.out(i)) peers.insert(graph.node(v).name);
  }
  return out;
}

struct Churn {
  std::size_t nodes_changed = 0;
  std::size_t edges_changed = 0;
  std::size_t worst = 0;  // peers changed on one node
};

Churn churn(const ProbeGraph& before, const ProbeGraph& after) {
  auto a = peer_sets(before), b = peer_sets(after);
  Churn c;
  for (const auto& [name, peers] : a) {
    auto it = b.find(name);
    if (it == b.end()) continue;
    std::vector<std::string> diff;
    std::set_symmetric_difference(peers.begin(), peers.end(), it->second.begin(), it->second.end(),
                                  std::back_inserter(diff));
    if (!diff.empty()) ++c.nodes_changed;
    c.edges_changed += diff.size();
    c.worst = std::max(c.worst, diff.size());
  }
  return c;
}

std::size_t edges(const ProbeGraph& graph) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < graph.size(); ++i) total += graph.out(i).size();
  return total;
}

struct Layout {
  const char* name;
  std::vector<GraphNode> nodes;
};

std::vector<Layout> layouts(std::size_t n) {
  std::vector<Layout> out{{"one group", one_group(n)}, {"mixed", mixed(n)}};
  if (n >= 20) out.push_back({"groups of 10", groups_of(n, 10)});
  if (n >= 200) out.push_back({"groups of 100", groups_of(n, 100)});
  if (n <= 1000) out.push_back({"single nodes", groups_of(n, 1)});
  return out;
}

TEST(ProbeGraph, EveryNodeProbedByThreeWithinBudgetAndInDegreeTight) {
  for (std::size_t n : {10u, 50u, 150u, 1000u, 5000u}) {
    for (const auto& layout : layouts(n)) {
      SCOPED_TRACE(fmt::format("{} nodes, {}", n, layout.name));
      ProbeGraph graph(layout.nodes, 100);
      ASSERT_EQ(graph.size(), n);
      std::size_t low = n, high = 0;
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_LE(graph.out(i).size(), 100u) << graph.node(i).name;
        EXPECT_FALSE(std::binary_search(graph.out(i).begin(), graph.out(i).end(), i))
            << graph.node(i).name << " probes itself";
        low = std::min(low, graph.in_degree(i));
        high = std::max(high, graph.in_degree(i));
      }
      EXPECT_GE(low, 3u);
      if (n - 1 <= 100) {
        EXPECT_EQ(low, n - 1);  // below the budget: everyone probes everyone
        EXPECT_EQ(high, n - 1);
      } else if (std::string(layout.name) != "single nodes") {
        // Tight: within 30 % of the budget either way (measured: 67 to 147 in bench/scale;
        // thousands of single-node groups cannot be, every group must probe each).
        EXPECT_GE(low, 60u);
        EXPECT_LE(high, 160u);
      }
    }
  }
}

TEST(ProbeGraph, IndependentOfInputOrderAndOfRepeats) {
  auto nodes = mixed(800);
  ProbeGraph sorted(nodes, 100);
  std::mt19937 shuffle(17);  // the order must not matter, whichever it is
  std::shuffle(nodes.begin(), nodes.end(), shuffle);
  nodes.push_back(nodes.front());
  ProbeGraph shuffled(nodes, 100);
  EXPECT_EQ(shuffled.size(), 800u);
  EXPECT_EQ(peer_sets(sorted), peer_sets(shuffled));
}

TEST(ProbeGraph, EveryPairOfGroupsIsProbedBothWays) {
  for (const auto& nodes :
       {groups_of(5000, 100), groups_of(1000, 10), mixed(1000), groups_of(300, 3)}) {
    ProbeGraph graph(nodes, 100);
    std::set<std::pair<std::string, std::string>> directed;
    std::set<std::string> groups;
    for (std::size_t u = 0; u < graph.size(); ++u) {
      groups.insert(graph.node(u).group);
      for (auto v : graph.out(u))
        if (graph.node(u).group != graph.node(v).group)
          directed.insert({graph.node(u).group, graph.node(v).group});
    }
    SCOPED_TRACE(fmt::format("{} nodes, {} groups", graph.size(), groups.size()));
    EXPECT_EQ(directed.size(), groups.size() * (groups.size() - 1));
    EXPECT_EQ(graph.coverage().groups, groups.size());
    EXPECT_EQ(graph.coverage().pairs, groups.size() * (groups.size() - 1) / 2);
    EXPECT_TRUE(graph.coverage().complete());
  }
}

// Coverage is counted, not assumed: with a budget of 5, 200 single-node groups (19,900 pairs)
// cannot all be probed by 1,000 probes.
TEST(ProbeGraph, CoverageCountsWhatABudgetCannotReach) {
  ProbeGraph graph(groups_of(200, 1), 5);
  EXPECT_EQ(graph.coverage().pairs, 19900u);
  EXPECT_LE(graph.coverage().covered, 200u * 5u);
  EXPECT_FALSE(graph.coverage().complete());
}

TEST(ProbeGraph, AJoinOrALeaveMovesFewPeerSets) {
  for (const auto& nodes : {groups_of(5000, 100), one_group(2000), mixed(2000)}) {
    ProbeGraph before(nodes, 100);
    auto joined = nodes;
    joined.push_back({"node-new", nodes[nodes.size() / 2].group});
    ProbeGraph after_join(joined, 100);
    auto left = nodes;
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(nodes.size() / 3));
    ProbeGraph after_leave(left, 100);
    for (const Churn& c : {churn(before, after_join), churn(before, after_leave)}) {
      SCOPED_TRACE(fmt::format("{} nodes", nodes.size()));
      // A newcomer must gain about a budget's worth of probers, so ~100 nodes must change;
      // each of them swaps one or two peers.
      EXPECT_LE(c.nodes_changed, 300u);
      EXPECT_LE(c.edges_changed, 3 * c.nodes_changed + 10);
      EXPECT_LE(c.worst, 6u);
    }
  }
}

TEST(ProbeGraph, OnePercentChurnMovesFewProbes) {
  auto nodes = groups_of(5000, 100);
  ProbeGraph before(nodes, 100);
  std::vector<GraphNode> churned;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (i % 100 != 7) churned.push_back(nodes[i]);  // 50 leave
  for (std::size_t i = 0; i < 50; ++i)              // 50 join
    churned.push_back({fmt::format("joined-{:02d}", i), fmt::format("site-{:03d}", i)});
  ProbeGraph after(churned, 100);
  Churn c = churn(before, after);
  // About 2 x 100 nodes each change per event; counted on edges, under 5 % of all probes move.
  EXPECT_LT(c.edges_changed, edges(before) / 20);
  EXPECT_LE(c.worst, 12u);
}

TEST(ProbeGraph, SmallClustersKeepTheFullMesh) {
  // The lab: 6 nodes in 3 groups of 2.
  std::vector<GraphNode> lab = {{"a1", "site-a"}, {"a2", "site-a"}, {"b1", "site-b"},
                                {"b2", "site-b"}, {"c1", "site-c"}, {"c2", "site-c"}};
  for (std::size_t max_peers : {0u, 5u, 100u}) {
    ProbeGraph graph(lab, max_peers);
    for (std::size_t i = 0; i < graph.size(); ++i) {
      EXPECT_EQ(graph.out(i).size(), 5u);
      EXPECT_EQ(graph.in_degree(i), 5u);
    }
    EXPECT_TRUE(graph.coverage().complete());
    EXPECT_EQ(graph.coverage().pairs, 3u);
  }
  // 0 = no budget, whatever the size.
  ProbeGraph unlimited(groups_of(300, 10), 0);
  EXPECT_EQ(unlimited.out(0).size(), 299u);
}

TEST(ProbeGraph, TheBudgetHoldsAtEverySize) {
  for (std::size_t max_peers : {5u, 10u, 20u, 50u}) {
    for (const auto& layout : layouts(1000)) {
      SCOPED_TRACE(fmt::format("max {} peers, {}", max_peers, layout.name));
      ProbeGraph graph(layout.nodes, max_peers);
      std::size_t low = graph.size();
      for (std::size_t i = 0; i < graph.size(); ++i) {
        EXPECT_LE(graph.out(i).size(), max_peers);
        low = std::min(low, graph.in_degree(i));
      }
      EXPECT_GE(low, ProbeGraph::kMinProbers);
    }
  }
}

// Below a budget of 3 every node is still probed: every node gets one watcher before any gets
// a second (measured: the budget's worth on all but 2 of 300 mixed nodes at 2 peers).
TEST(ProbeGraph, ABudgetBelowThreeStillProbesEveryNode) {
  for (std::size_t max_peers : {1u, 2u}) {
    for (const auto& layout : layouts(300)) {
      SCOPED_TRACE(fmt::format("max {} peers, {}", max_peers, layout.name));
      ProbeGraph graph(layout.nodes, max_peers);
      std::size_t short_of_budget = 0;
      for (std::size_t i = 0; i < graph.size(); ++i) {
        EXPECT_LE(graph.out(i).size(), max_peers);
        EXPECT_GE(graph.in_degree(i), 1u) << graph.node(i).name;
        if (graph.in_degree(i) < max_peers) ++short_of_budget;
      }
      EXPECT_LE(short_of_budget, 3u);
    }
  }
}

TEST(ProbeGraph, TinyClusters) {
  EXPECT_EQ(ProbeGraph({}, 100).size(), 0u);
  ProbeGraph one({{"only", ""}}, 100);
  EXPECT_TRUE(one.out(0).empty());
  EXPECT_EQ(one.in_degree(0), 0u);
  ProbeGraph two({{"a", "x"}, {"b", "y"}}, 1);
  EXPECT_EQ(two.in_degree(0), 1u);
  EXPECT_EQ(two.in_degree(1), 1u);
}

TEST(SelectProbes, ThisNodesPeersAndProbers) {
  auto nodes = groups_of(1000, 100);
  ProbeGraph graph(nodes, 100);
  auto index = graph.find("node-00123");
  ASSERT_TRUE(index);
  auto selection = select_probes(nodes, {"node-00123", "site-001"}, 100);
  EXPECT_EQ(selection.nodes, 1000u);
  EXPECT_EQ(selection.probed_by, graph.in_degree(*index));
  ASSERT_EQ(selection.peers.size(), graph.out(*index).size());
  for (std::size_t k = 0; k < selection.peers.size(); ++k)
    EXPECT_EQ(selection.peers[k], graph.node(graph.out(*index)[k]).name);
  EXPECT_TRUE(std::is_sorted(selection.peers.begin(), selection.peers.end()));
  EXPECT_TRUE(selection.coverage.complete());
  // Most of its own group, one or two members of some other groups.
  std::size_t same =
      std::count_if(selection.peers.begin(), selection.peers.end(),
                    [](const std::string& p) { return p < "node-00200" && p >= "node-00100"; });
  EXPECT_EQ(same, 90u);
}

TEST(SelectProbes, ThisNodeIsInTheGraphBeforeTheListNamesIt) {
  auto selection = select_probes(one_group(200), {"newcomer", ""}, 100);
  EXPECT_EQ(selection.nodes, 201u);
  EXPECT_EQ(selection.peers.size(), 100u);
  EXPECT_GE(selection.probed_by, 3u);
}

TEST(ProbeGraphCache, RebuildsOnlyWhenNamesGroupsOrBudgetChange) {
  ProbeGraphCache cache;
  auto nodes = groups_of(500, 50);
  const GraphNode self{"node-00007", "site-000"};
  auto first = cache.select(nodes, self, 100);
  EXPECT_EQ(cache.builds(), 1u);
  auto reversed = nodes;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(cache.select(reversed, self, 100).peers, first.peers);
  EXPECT_EQ(cache.builds(), 1u);
  nodes[42].group = "site-009";
  cache.select(nodes, self, 100);
  EXPECT_EQ(cache.builds(), 2u);
  cache.select(nodes, self, 50);
  EXPECT_EQ(cache.builds(), 3u);
  EXPECT_EQ(cache.select(nodes, self, 50).peers, select_probes(nodes, self, 50).peers);
  EXPECT_EQ(cache.builds(), 3u);
}

}  // namespace
}  // namespace podpath::prober
