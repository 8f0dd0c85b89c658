#include "prober/options.h"

#include <gtest/gtest.h>

namespace podpath::prober {
namespace {

TEST(Buckets, ParsesIncreasingPositive) {
  auto b = parse_buckets("0.0001, 0.001,0.01");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(*b, (std::vector<double>{0.0001, 0.001, 0.01}));
}

TEST(Buckets, ErrorsSayWhy) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{{"0.1,0.01", "bounds must increase: 0.01 after 0.1"},
                                         {"0.1,,1", "\"\" is not a positive number of seconds"},
                                         {"abc", "\"abc\" is not a positive number of seconds"},
                                         {"0,1", "\"0\" is not a positive number of seconds"}}) {
    auto b = parse_buckets(c.text);
    EXPECT_FALSE(b) << c.text;
    EXPECT_EQ(b.error(), c.error);
  }
}

}  // namespace
}  // namespace podpath::prober
