#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/histogram.h"
#include "support/golden.h"

namespace podpath::metrics {
namespace {

std::string golden_path(const std::string& name) {
  return std::string(PODPATH_TESTDATA) + "/metrics/golden/" + name;
}

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(golden_path(name), actual);
}

std::vector<MetricFamily> sample_families() {
  MetricFamily counter("podpath_probe_requests_total", "Echo requests sent.", MetricType::kCounter);
  counter.add({{"target", "underlay"}, {"peer", "b"}}, 3);
  counter.add({{"peer", "a"}, {"target", "overlay"}}, 7);
  MetricFamily info("podpath_build_info", "Build identity.", MetricType::kInfo);
  info.add({{"version", "0.1.0"}, {"revision", "abc"}}, 1);
  MetricFamily gauge("podpath_link_mtu_bytes", "MTU with \\ and\nnewline.", MetricType::kGauge);
  gauge.add({{"device", "we\"ird\\dev\nice"}}, 1450);
  gauge.add({{"device", "eth0"}}, 1500);
  MetricFamily special("podpath_test_special", "Special values.", MetricType::kGauge);
  special.add({{"v", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  special.add({{"v", "pinf"}}, std::numeric_limits<double>::infinity());
  special.add({{"v", "ninf"}}, -std::numeric_limits<double>::infinity());
  special.add({{"v", "small"}}, 1.5e-05);
  HistogramAccumulator acc({0.001, 0.01, 0.1, 1});
  for (double v : {0.0005, 0.001, 0.02, 0.5, 3.0}) acc.observe(v);
  MetricFamily hist("podpath_probe_rtt_seconds", "ICMP echo round trip.", MetricType::kHistogram);
  hist.add_histogram({{"peer", "a"}}, acc.snapshot());
  return {counter, info, gauge, special, hist};
}

TEST(Exposition, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(Exposition, EscapesHelpWithoutQuotesInText) {
  EXPECT_EQ(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(Exposition, FormatsSpecialValues) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(1450), "1450");
  EXPECT_EQ(format_value(0.25), "0.25");
}

TEST(Exposition, TextFormatMatchesGolden) {
  expect_golden("sample.prom", render(normalize(sample_families()), Format::kText004));
}

TEST(Exposition, OpenMetricsMatchesGoldenAndEndsWithEof) {
  std::string out = render(normalize(sample_families()), Format::kOpenMetrics100);
  expect_golden("sample.openmetrics", out);
  ASSERT_GE(out.size(), 6u);
  EXPECT_EQ(out.substr(out.size() - 6), "# EOF\n");
  EXPECT_NE(out.find("# TYPE podpath_probe_requests counter"), std::string::npos);
  EXPECT_NE(out.find("# TYPE podpath_build info"), std::string::npos);
  EXPECT_NE(out.find("le=\"1.0\""), std::string::npos);
}

TEST(Exposition, OutputDoesNotDependOnInputOrder) {
  auto forward = sample_families();
  auto backward = sample_families();
  std::reverse(backward.begin(), backward.end());
  for (auto& f : backward) std::reverse(f.metrics.begin(), f.metrics.end());
  EXPECT_EQ(render(normalize(forward), Format::kText004),
            render(normalize(backward), Format::kText004));
}

TEST(Exposition, HistogramBucketsAreCumulativeAndEndAtCount) {
  HistogramAccumulator acc(exponential_buckets(50e-6, 2, 20));
  for (int i = 0; i < 1000; ++i) acc.observe(i * 1e-4);
  Histogram h = acc.snapshot();
  ASSERT_EQ(h.upper_bounds.size(), 20u);
  EXPECT_DOUBLE_EQ(h.upper_bounds.front(), 50e-6);
  EXPECT_NEAR(h.upper_bounds.back(), 50e-6 * (1 << 19), 1e-9);  // ~26 s
  for (size_t i = 1; i < h.cumulative_counts.size(); ++i)
    EXPECT_LE(h.cumulative_counts[i - 1], h.cumulative_counts[i]);
  EXPECT_LE(h.cumulative_counts.back(), h.count);
  EXPECT_EQ(h.count, 1000u);
  EXPECT_NEAR(h.sum, 999 * 1000 / 2 * 1e-4, 1e-6);
}

TEST(Exposition, BoundaryObservationFallsInItsBucket) {
  HistogramAccumulator acc({1, 2});
  acc.observe(1);  // le="1" includes 1
  acc.observe(2.5);
  Histogram h = acc.snapshot();
  EXPECT_EQ(h.cumulative_counts[0], 1u);
  EXPECT_EQ(h.cumulative_counts[1], 1u);
  EXPECT_EQ(h.count, 2u);
}

TEST(Exposition, NormalizeMergesSameFamilyAndDropsDuplicatesAndTypeConflicts) {
  MetricFamily a("x_bytes", "x", MetricType::kGauge);
  a.add({{"k", "1"}}, 1);
  MetricFamily b("x_bytes", "x", MetricType::kGauge);
  b.add({{"k", "2"}}, 2).add({{"k", "1"}}, 9);
  MetricFamily c("x_bytes", "x", MetricType::kCounter);
  c.add({{"k", "3"}}, 3);
  std::vector<std::string> problems;
  auto out = normalize({a, b, c}, &problems);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].metrics.size(), 2u);
  EXPECT_EQ(out[0].metrics[0].value, 1);  // the first of the duplicates is kept
  EXPECT_EQ(problems.size(), 2u);
}

TEST(Negotiate, ChoosesByQuality) {
  EXPECT_EQ(negotiate(""), Format::kText004);
  EXPECT_EQ(negotiate("text/plain"), Format::kText004);
  EXPECT_EQ(negotiate("application/openmetrics-text"), Format::kOpenMetrics100);
  // What Prometheus 2.42 sends.
  EXPECT_EQ(negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                      "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            Format::kOpenMetrics100);
  EXPECT_EQ(negotiate("application/openmetrics-text;q=0.2, text/plain;q=0.9"), Format::kText004);
  EXPECT_EQ(negotiate("application/openmetrics-text;version=2.0.0"), Format::kText004);
  EXPECT_EQ(negotiate("application/openmetrics-text;q=0"), Format::kText004);
  EXPECT_EQ(negotiate("application/openmetrics-text;q=abc"), Format::kText004);
  EXPECT_EQ(negotiate(",,;;=,"), Format::kText004);
  EXPECT_EQ(negotiate("APPLICATION/OpenMetrics-Text; Version=1.0.0"), Format::kOpenMetrics100);
}

TEST(Negotiate, ProtobufOnlyForTheDelimitedMetricFamilyWithTheBestQuality) {
  constexpr auto kProto = Format::kProtobufDelimited;
  constexpr auto kOm = Format::kOpenMetrics100;
  constexpr auto kText = Format::kText004;
  const struct {
    const char* accept;
    Format want;
  } cases[] = {
      // What Prometheus 2.42 sends with --enable-feature=native-histograms
      // (scrape/scrape.go, scrapeAcceptHeaderWithProtobuf).
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
       "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;"
       "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       kProto},
      {"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
       "encoding=delimited",
       kProto},
      // Parameters in any order and case, as for the other media types.
      {"Application/Vnd.Google.Protobuf;Encoding=delimited;Proto=io.prometheus.client.MetricFamily",
       kProto},
      // Other encodings, another message, or parameters missing: not what we serve.
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
       kText},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=compact-text",
       kText},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.Metric;encoding=delimited",
       kText},
      {"application/vnd.google.protobuf;encoding=delimited", kText},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", kText},
      {"application/vnd.google.protobuf", kText},
      // Quality decides; protobuf wins a tie.
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=0.5,text/plain;q=0.9",
       kText},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=0.5,application/openmetrics-text;q=0.6",
       kOm},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=0.5,*/*;q=0.5",
       kProto},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=0",
       kText},
      {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited;q=2",
       kText},
      // Every other scraper gets what it got before.
      {"*/*", kText},
      {"", kText},
      {"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5", kOm},
  };
  for (const auto& c : cases) EXPECT_EQ(negotiate(c.accept), c.want) << c.accept;
  EXPECT_EQ(content_type(kProto),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited");
}

TEST(Exposition, TextFormatsIgnoreNativeBuckets) {
  // The accumulator keeps native buckets now; the text formats show the classic ones only.
  HistogramAccumulator acc({1});
  acc.observe(0.5);
  Histogram with = acc.snapshot();
  ASSERT_TRUE(with.native);
  Histogram without = with;
  without.native.reset();
  MetricFamily a("x_seconds", "x", MetricType::kHistogram);
  a.add_histogram({}, with);
  MetricFamily b("x_seconds", "x", MetricType::kHistogram);
  b.add_histogram({}, without);
  EXPECT_EQ(render({a}, Format::kText004), render({b}, Format::kText004));
  EXPECT_EQ(render({a}, Format::kOpenMetrics100), render({b}, Format::kOpenMetrics100));
}

}  // namespace
}  // namespace podpath::metrics
