#include "tailscale/usermetrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

TEST(ParseUserMetrics, RealisticExposition) {
  auto parsed = parse_usermetrics(testing::read_testdata("usermetrics.txt"));
  ASSERT_EQ(parsed.error, "");
  const std::vector<PathCounter> expected{
      {"inbound", "derp", 5912, 812734},       {"inbound", "direct_ipv4", 61, 5523},
      {"inbound", "direct_ipv6", 0, 0},        {"inbound", "peer_relay_ipv4", 2, 120},
      {"inbound", "peer_relay_ipv6", 0, 0},    {"outbound", "derp", 7304, 1093442},
      {"outbound", "direct_ipv4", 88, 9071},   {"outbound", "direct_ipv6", 0, 0},
      {"outbound", "peer_relay_ipv4", 4, 240}, {"outbound", "peer_relay_ipv6", 0, 0},
  };
  EXPECT_EQ(parsed.counters, expected);
}

TEST(ParseUserMetrics, TextFormatDetails) {
  struct Case {
    const char* name;
    std::string text;
    std::vector<PathCounter> counters;
  };
  const Case cases[] = {
      {"empty", "", {}},
      {"only other families", "tailscaled_home_derp_region_id 7\n", {}},
      {"extra labels, spaces, timestamp, CRLF",
       "tailscaled_outbound_packets_total{ path = \"derp\" , x=\"a,b\"} 12 1732600000000\r\n",
       {{"outbound", "derp", 12, std::nullopt}}},
      {"escaped quote in another label",
       "tailscaled_inbound_packets_total{reason=\"say \\\"hi\\\"\",path=\"direct_ipv4\"} 3\n",
       {{"inbound", "direct_ipv4", 3, std::nullopt}}},
      {"float and exponent",
       "tailscaled_inbound_bytes_total{path=\"derp\"} 1.5e3\n",
       {{"inbound", "derp", std::nullopt, 1500}}},
      {"no trailing newline",
       "tailscaled_inbound_packets_total{path=\"derp\"} 9",
       {{"inbound", "derp", 9, std::nullopt}}},
      {"a family name that only starts the same",
       "tailscaled_inbound_packets_total_extra{path=\"derp\"} 9\n",
       {}},
  };
  for (const auto& c : cases) {
    auto parsed = parse_usermetrics(c.text);
    EXPECT_EQ(parsed.error, "") << c.name;
    EXPECT_EQ(parsed.counters, c.counters) << c.name;
  }
}

TEST(ParseUserMetrics, SpecialValues) {
  auto parsed = parse_usermetrics(
      "tailscaled_inbound_packets_total{path=\"derp\"} NaN\n"
      "tailscaled_outbound_packets_total{path=\"derp\"} +Inf\n");
  ASSERT_EQ(parsed.error, "");
  ASSERT_EQ(parsed.counters.size(), 2u);
  EXPECT_TRUE(std::isnan(*parsed.counters[0].packets));
  EXPECT_TRUE(std::isinf(*parsed.counters[1].packets));
}

TEST(ParseUserMetrics, MalformedLinesOfOurFamiliesFail) {
  struct Case {
    const char* name;
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"no path label", "tailscaled_inbound_packets_total 5\n",
       "line 1: tailscaled_inbound_packets_total: sample without a path label"},
      {"bad value", "# c\ntailscaled_inbound_packets_total{path=\"derp\"} lots\n",
       "line 2: tailscaled_inbound_packets_total: malformed value"},
      {"unterminated label", "tailscaled_outbound_bytes_total{path=\"derp} 5\n",
       "line 1: tailscaled_outbound_bytes_total: unterminated label value"},
      {"unquoted label", "tailscaled_outbound_bytes_total{path=derp} 5\n",
       "line 1: tailscaled_outbound_bytes_total: label value not quoted"},
      {"bad escape", "tailscaled_outbound_bytes_total{path=\"a\\tb\"} 5\n",
       "line 1: tailscaled_outbound_bytes_total: bad escape in label value"},
      {"trailing garbage", "tailscaled_outbound_bytes_total{path=\"derp\"} 5 soon\n",
       "line 1: tailscaled_outbound_bytes_total: trailing garbage"},
      {"duplicate",
       "tailscaled_outbound_bytes_total{path=\"derp\"} 5\n"
       "tailscaled_outbound_bytes_total{path=\"derp\"} 6\n",
       "line 2: tailscaled_outbound_bytes_total: duplicate sample"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_usermetrics(c.text);
    EXPECT_EQ(parsed.error, c.error) << c.name;
    EXPECT_TRUE(parsed.counters.empty()) << c.name;
  }
}

}  // namespace
}  // namespace podpath::tailscale
