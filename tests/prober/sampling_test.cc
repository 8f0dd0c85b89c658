#include "prober/sampling.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace podpath::prober {
namespace {

std::vector<SamplingCandidate> cluster(int n, int same_group_every = 0) {
  std::vector<SamplingCandidate> c;
  for (int i = 0; i < n; ++i)
    c.push_back({fmt::format("node-{:05d}", i), same_group_every > 0 && i % same_group_every == 0});
  return c;
}

std::set<std::string> names(const std::vector<SamplingCandidate>& c,
                            const std::vector<std::size_t>& picked) {
  std::set<std::string> out;
  for (auto i : picked) out.insert(c[i].name);
  return out;
}

TEST(Sampling, KeepsAllWhenUnderBudgetOrUnlimited) {
  auto c = cluster(10);
  EXPECT_EQ(select_peers("me", c, 10).size(), 10u);
  EXPECT_EQ(select_peers("me", c, 0).size(), 10u);
}

TEST(Sampling, StaysWithinBudgetAndKeepsSameGroup) {
  auto c = cluster(5000, 100);  // 50 same-group peers
  auto picked = select_peers("node-self", c, 100);
  EXPECT_EQ(picked.size(), 100u);
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c[i].same_group) {
      EXPECT_TRUE(std::binary_search(picked.begin(), picked.end(), i)) << c[i].name;
    }
}

TEST(Sampling, SameGroupKeptEvenBeyondBudget) {
  auto c = cluster(300, 2);  // 150 same-group peers
  EXPECT_EQ(select_peers("me", c, 100).size(), 150u);
}

TEST(Sampling, IndependentOfInputOrder) {
  auto c = cluster(2000);
  auto reversed = c;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(names(c, select_peers("me", c, 100)),
            names(reversed, select_peers("me", reversed, 100)));
}

TEST(Sampling, StableAsPeersComeAndGo) {
  auto c = cluster(2000);
  auto before = names(c, select_peers("me", c, 100));
  // A peer that was not selected leaves: nothing changes.
  auto without_unselected = c;
  auto unselected = std::find_if(without_unselected.begin(), without_unselected.end(),
                                 [&](const auto& p) { return !before.count(p.name); });
  without_unselected.erase(unselected);
  EXPECT_EQ(names(without_unselected, select_peers("me", without_unselected, 100)), before);
  // A selected peer leaves: exactly one other takes its place.
  auto without_selected = c;
  auto selected = std::find_if(without_selected.begin(), without_selected.end(),
                               [&](const auto& p) { return before.count(p.name); });
  std::string gone = selected->name;
  without_selected.erase(selected);
  auto after = names(without_selected, select_peers("me", without_selected, 100));
  std::vector<std::string> added, removed;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(removed));
  EXPECT_EQ(removed, std::vector<std::string>{gone});
  EXPECT_EQ(added.size(), 1u);
  // 100 new peers join: at most 100 of the old selection are displaced, and the selection
  // is still the 100 highest scores (some old ones survive).
  auto grown = cluster(2100);
  auto after_growth = names(grown, select_peers("me", grown, 100));
  std::vector<std::string> kept;
  std::set_intersection(after_growth.begin(), after_growth.end(), before.begin(), before.end(),
                        std::back_inserter(kept));
  EXPECT_GT(kept.size(), 80u);
}

TEST(Sampling, DifferentNodesPickDifferentPeers) {
  auto c = cluster(2000);
  auto a = names(c, select_peers("node-a", c, 100));
  auto b = names(c, select_peers("node-b", c, 100));
  std::vector<std::string> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  EXPECT_LT(common.size(), 30u) << "every node would probe the same peers";
}

}  // namespace
}  // namespace podpath::prober
