#include "prober/pmtu.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "prober/packet.h"

namespace podpath::prober {
namespace {

// A path for the search to run against: what happens to a probe of a given size.
enum class Outcome { kReply, kTimeout, kTooBig, kTooBigLocal };
struct Path {
  int mtu = 1500;           // largest size that passes
  bool frag_needed = true;  // the narrow hop answers with its MTU (else a black hole)
  int local_mtu = 100000;   // sendto fails with EMSGSIZE above this
  int drop_first_n = 0;     // lose this many probes first
};

struct Run {
  std::optional<int> result;
  std::vector<int> sizes;
};

Run search(int device_mtu, Path path, int minimum = PmtuSearch::kMinimumSize) {
  PmtuSearch s(device_mtu, minimum);
  Run run;
  for (int guard = 0; guard < 100 && !s.done(); ++guard) {
    int size = *s.next_size();
    run.sizes.push_back(size);
    if (size > path.local_mtu) {
      s.on_too_big(size, 0);
    } else if (path.drop_first_n > 0) {
      --path.drop_first_n;
      s.on_timeout(size);
    } else if (size <= path.mtu) {
      s.on_reply(size);
    } else if (path.frag_needed) {
      s.on_too_big(size, path.mtu);
    } else {
      s.on_timeout(size);
    }
  }
  EXPECT_TRUE(s.done());
  run.result = s.result();
  return run;
}

TEST(PmtuSearch, FullMtuPassesInOneProbe) {
  auto run = search(1450, {.mtu = 1500});
  EXPECT_EQ(run.result, 1450);
  EXPECT_EQ(run.sizes, std::vector<int>{1450});
}

TEST(PmtuSearch, FragNeededJumpsToTheReportedMtu) {
  auto run = search(1450, {.mtu = 1280});
  EXPECT_EQ(run.result, 1280);
  EXPECT_EQ(run.sizes, (std::vector<int>{1450, 1280}));
}

TEST(PmtuSearch, BlackHoleIsBisectedExactly) {
  for (int mtu : {68, 576, 1230, 1279, 1280, 1281, 1449}) {
    auto run = search(1450, {.mtu = mtu, .frag_needed = false});
    EXPECT_EQ(run.result, mtu) << "path mtu " << mtu;
    EXPECT_LE(run.sizes.size(), 2u * 12 + 2) << "path mtu " << mtu;
  }
}

TEST(PmtuSearch, LocalEmsgsizeShrinksWithoutWaiting) {
  auto run = search(9000, {.mtu = 9000, .local_mtu = 1500});
  EXPECT_EQ(run.result, 1500);
}

TEST(PmtuSearch, OneLostProbeIsRetriedNotCountedAsTooBig) {
  auto run = search(1450, {.mtu = 1500, .drop_first_n = 1});
  EXPECT_EQ(run.result, 1450);
  EXPECT_EQ(run.sizes, (std::vector<int>{1450, 1450}));
}

TEST(PmtuSearch, DeadPathHasNoResult) {
  auto run = search(1450, {.mtu = 0, .frag_needed = false});
  EXPECT_EQ(run.result, std::nullopt);
  // Full size twice, then the minimum twice: four probes to say "down".
  EXPECT_EQ(run.sizes, (std::vector<int>{1450, 1450, 68, 68}));
}

TEST(PmtuSearch, IgnoresOutcomesForOtherSizes) {
  PmtuSearch s(1450);
  s.on_reply(1000);  // a stale reply of an earlier search step
  EXPECT_EQ(s.next_size(), 1450);
  EXPECT_FALSE(s.done());
}

TEST(PmtuSearch, BogusReportedMtuIsIgnored) {
  PmtuSearch s(1450);
  s.on_too_big(1450, 20);  // below the IPv4 minimum: not a usable hint
  EXPECT_EQ(s.next_size(), PmtuSearch::kMinimumSize);
}

// --- IPv6: routers never fragment, they answer with ICMPv6 Packet Too Big; 1280 is the floor ---

TEST(PmtuSearchIpv6, PacketTooBigNamesTheRoutersMtu) {
  auto run = search(1450, {.mtu = 1300, .frag_needed = true}, kIpv6MinimumMtu);
  EXPECT_EQ(run.result, 1300);
  EXPECT_EQ(run.sizes, (std::vector<int>{1450, 1300}));
}

TEST(PmtuSearchIpv6, TheMinimumLinkPassesInOneStep) {
  // A 1280-byte hop (the IPv6 minimum, as a tunnel over a tunnel may be).
  auto run = search(1500, {.mtu = 1280, .frag_needed = true}, kIpv6MinimumMtu);
  EXPECT_EQ(run.result, 1280);
  EXPECT_EQ(run.sizes, (std::vector<int>{1500, 1280}));
}

TEST(PmtuSearchIpv6, ABlackHoleBisectsNoLowerThan1280) {
  auto run = search(1500, {.mtu = 1400, .frag_needed = false}, kIpv6MinimumMtu);
  EXPECT_EQ(run.result, 1400);
  ASSERT_GE(run.sizes.size(), 4u);
  EXPECT_EQ(run.sizes[2], 1280);  // after the full size twice: does the path work at all?
  for (int size : run.sizes) EXPECT_GE(size, kIpv6MinimumMtu);
}

TEST(PmtuSearchIpv6, DeadPathProbes1280TwiceThenGivesUp) {
  auto run = search(1450, {.mtu = 0, .frag_needed = false}, kIpv6MinimumMtu);
  EXPECT_EQ(run.result, std::nullopt);
  EXPECT_EQ(run.sizes, (std::vector<int>{1450, 1450, 1280, 1280}));
}

TEST(PmtuSearchIpv6, AReportedMtuBelow1280IsNoHint) {
  // RFC 8201 section 4: a Packet Too Big below 1280 must not shrink the path MTU below it.
  PmtuSearch s(1450, kIpv6MinimumMtu);
  s.on_too_big(1450, 1200);
  EXPECT_EQ(s.next_size(), kIpv6MinimumMtu);
}

TEST(PmtuSearchIpv6, ADeviceSmallerThan1280StillStartsAt1280) {
  PmtuSearch s(1000, kIpv6MinimumMtu);
  EXPECT_EQ(s.next_size(), kIpv6MinimumMtu);
}

}  // namespace
}  // namespace podpath::prober
