#include "prober/options.h"

#include <gtest/gtest.h>

namespace podpath::prober {
namespace {

using std::chrono::nanoseconds;

TEST(Duration, PrometheusStyle) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> ns;
  };
  for (const Case& c : std::vector<Case>{{"1s", 1'000'000'000},
                                         {"250ms", 250'000'000},
                                         {"1m", 60'000'000'000},
                                         {"1m30s", 90'000'000'000},
                                         {"1h", 3'600'000'000'000},
                                         {"100us", 100'000},
                                         {"0", 0},
                                         {"0.5", 500'000'000},
                                         {"", std::nullopt},
                                         {"1", 1'000'000'000},
                                         {"1x", std::nullopt},
                                         {"-1s", std::nullopt},
                                         {"s", std::nullopt},
                                         {"1sm", std::nullopt}}) {
    auto got = parse_duration(c.text);
    if (c.ns) {
      ASSERT_TRUE(got) << c.text;
      EXPECT_EQ(got->count(), *c.ns) << c.text;
    } else {
      EXPECT_FALSE(got) << c.text;
    }
  }
}

TEST(Buckets, ParsesIncreasingPositive) {
  std::string error;
  auto b = parse_buckets("0.0001, 0.001,0.01", &error);
  ASSERT_TRUE(b) << error;
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
    std::string error;
    EXPECT_FALSE(parse_buckets(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.error);
  }
}

}  // namespace
}  // namespace podpath::prober
