#include "prober/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace podpath::prober {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(StableHash, KnownValuesDoNotChange) {
  // Phases and samples must be the same on every build and every node: pin the function.
  EXPECT_EQ(stable_hash(""), mix64(0xcbf29ce484222325ULL));
  EXPECT_EQ(stable_hash("lima-k3s-agent"), stable_hash("lima-k3s-agent"));
  EXPECT_NE(stable_hash("lima-k3s-agent"), stable_hash("lima-k3s-agent-2"));
}

TEST(Spread, EvenlyCoversTheInterval) {
  for (std::size_t n : {1u, 2u, 3u, 7u, 1000u}) {
    std::vector<std::int64_t> offsets;
    for (std::size_t i = 0; i < n; ++i) offsets.push_back(spread_offset_ns(i, n, kSecond, 0));
    std::sort(offsets.begin(), offsets.end());
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_GE(offsets[i], 0);
      EXPECT_LT(offsets[i], kSecond);
      if (i > 0) {
        EXPECT_NEAR(offsets[i] - offsets[i - 1], kSecond / static_cast<std::int64_t>(n), 1);
      }
    }
  }
}

TEST(Spread, NodeSeedShiftsThePhase) {
  std::set<std::int64_t> first_offsets;
  for (const char* node : {"ip-172-26-2-70", "ip-172-26-3-146", "lima-k3s-agent",
                           "lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
    first_offsets.insert(spread_offset_ns(0, 10, kSecond, stable_hash(node)));
  EXPECT_EQ(first_offsets.size(), 6u) << "two nodes would start their rounds together";
}

TEST(Jitter, BoundedByShareAndTenthOfInterval) {
  for (std::uint64_t r : {0ULL, 1ULL, 12345678901ULL, ~0ULL}) {
    auto few = jitter_ns(r, 2, kSecond);  // share 0.5 s, capped at 0.1 s
    EXPECT_GE(few, -kSecond / 20);
    EXPECT_LT(few, kSecond / 20);
    auto many = jitter_ns(r, 1000, kSecond);  // share 1 ms
    EXPECT_GE(many, -500'000);
    EXPECT_LT(many, 500'000);
  }
  EXPECT_NE(jitter_ns(1, 10, kSecond), jitter_ns(2, 10, kSecond));
  EXPECT_EQ(jitter_ns(5, 0, kSecond), 0);
}

TEST(NextSlot, FirstMatchingTimeAtOrAfterNow) {
  EXPECT_EQ(next_slot_ns(10 * kSecond, 0, kSecond), 10 * kSecond);
  EXPECT_EQ(next_slot_ns(10 * kSecond + 1, 0, kSecond), 11 * kSecond);
  EXPECT_EQ(next_slot_ns(10 * kSecond + 5, 300, kSecond), 10 * kSecond + 300);
  EXPECT_EQ(next_slot_ns(10 * kSecond + 500, 300, kSecond), 11 * kSecond + 300);
}

}  // namespace
}  // namespace podpath::prober
