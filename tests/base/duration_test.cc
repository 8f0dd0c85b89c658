#include "base/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace podpath::base {
namespace {

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

}  // namespace
}  // namespace podpath::base
