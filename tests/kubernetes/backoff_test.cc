#include "kubernetes/backoff.h"

#include <gtest/gtest.h>

namespace podpath::kubernetes {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheMaximumAndResets) {
  Backoff backoff(milliseconds(100), milliseconds(1000), 0.25);
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(backoff.next(0.5).count());  // 0.5: no jitter
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1000, 1000}));
  backoff.reset();
  EXPECT_EQ(backoff.next(0.5).count(), 100);
}

TEST(Backoff, JitterSpreadsAroundTheBase) {
  Backoff low(milliseconds(1000), milliseconds(8000), 0.25);
  Backoff high(milliseconds(1000), milliseconds(8000), 0.25);
  EXPECT_EQ(low.next(0.0).count(), 750);
  EXPECT_EQ(high.next(0.999999).count(), 1250);
  EXPECT_EQ(low.next(0.0).count(), 1500);
}

}  // namespace
}  // namespace podpath::kubernetes
