// The protobuf exposition read back: with the classes generated from client_model's
// metrics.proto, and by protoc itself (--decode) against a golden text file.
#include "metrics/protobuf.h"

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <gtest/gtest.h>
#include <prometheus_client/metrics.pb.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "support/golden.h"

namespace podpath::metrics {
namespace {

namespace pb = io::prometheus::client;
using Buckets = std::vector<std::pair<std::int32_t, std::uint64_t>>;

std::vector<pb::MetricFamily> parse_all(const std::string& bytes) {
  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  std::vector<pb::MetricFamily> out;
  while (true) {
    pb::MetricFamily family;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&family, &stream, &clean_eof)) {
      EXPECT_TRUE(clean_eof) << "bytes after the last whole message";
      return out;
    }
    out.push_back(std::move(family));
  }
}

// Spans and deltas back to (index, count), as Prometheus reads them: each span's offset is
// the gap after the previous span (the first's is its start), each delta the change from the
// previous bucket's count.
template <typename Spans, typename Deltas>
Buckets expand(const Spans& spans, const Deltas& deltas) {
  Buckets out;
  std::int64_t index = 0;
  std::int64_t count = 0;
  int d = 0;
  for (const auto& span : spans) {
    index += span.offset();
    for (std::uint32_t i = 0; i < span.length(); ++i) {
      count += deltas.Get(d++);
      if (count != 0) out.emplace_back(static_cast<std::int32_t>(index), count);
      ++index;
    }
  }
  EXPECT_EQ(d, deltas.size());
  return out;
}

Histogram native_histogram(Buckets positive, std::uint64_t zero_count = 0) {
  Histogram h;
  h.native = NativeBuckets{3, kNativeZeroThreshold, zero_count, std::move(positive), {}};
  return h;
}

pb::Histogram encode_one(const Histogram& h) {
  MetricFamily family("x_seconds", "x", MetricType::kHistogram);
  family.add_histogram({}, h);
  auto parsed = parse_all(render_protobuf({family}));
  EXPECT_EQ(parsed.size(), 1u);
  return parsed.at(0).metric(0).histogram();
}

TEST(Protobuf, CountersGaugesAndInfoReadBack) {
  MetricFamily counter("podpath_probe_requests_total", "Echo requests sent.", MetricType::kCounter);
  counter.add({{"peer", "a"}, {"target", "overlay"}}, 7).add({{"peer", "b"}, {"target", "x"}}, 3);
  MetricFamily info("podpath_build_info", "Build identity.", MetricType::kInfo);
  info.add({{"revision", "abc"}, {"version", "0.1.0"}}, 0);
  MetricFamily gauge("podpath_test_special", "Special \"values\"\nhere.", MetricType::kGauge);
  gauge.add({{"v", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  gauge.add({{"v", "pinf"}}, std::numeric_limits<double>::infinity());
  gauge.add({{"v", "we\"ird\\dev\nice"}}, 1450);
  const auto families = normalize({counter, info, gauge});
  const auto parsed = parse_all(render_protobuf(families));
  ASSERT_EQ(parsed.size(), 3u);
  // Sorted by name as normalize() left them; the counter keeps _total, as client_golang sends.
  EXPECT_EQ(parsed[0].name(), "podpath_build_info");
  EXPECT_EQ(parsed[0].type(), pb::GAUGE);
  EXPECT_EQ(parsed[0].metric(0).gauge().value(), 1);
  ASSERT_EQ(parsed[0].metric(0).label_size(), 2);
  EXPECT_EQ(parsed[0].metric(0).label(0).name(), "revision");
  EXPECT_EQ(parsed[0].metric(0).label(1).value(), "0.1.0");
  EXPECT_EQ(parsed[1].name(), "podpath_probe_requests_total");
  EXPECT_EQ(parsed[1].help(), "Echo requests sent.");
  EXPECT_EQ(parsed[1].type(), pb::COUNTER);
  ASSERT_EQ(parsed[1].metric_size(), 2);
  EXPECT_EQ(parsed[1].metric(0).counter().value(), 7);
  EXPECT_EQ(parsed[1].metric(1).counter().value(), 3);
  EXPECT_FALSE(parsed[1].metric(0).has_gauge());
  // No escaping in protobuf: label values and help go as they are.
  EXPECT_EQ(parsed[2].help(), "Special \"values\"\nhere.");
  EXPECT_TRUE(std::isnan(parsed[2].metric(0).gauge().value()));
  EXPECT_TRUE(std::isinf(parsed[2].metric(1).gauge().value()));
  EXPECT_EQ(parsed[2].metric(2).label(0).value(), "we\"ird\\dev\nice");
}

TEST(Protobuf, HistogramCarriesClassicAndNativeBuckets) {
  HistogramAccumulator acc({0.001, 0.01, 0.1, 1});
  for (double v : {0.0005, 0.001, 0.0011, 0.02, 0.5, 3.0}) acc.observe(v);
  const Histogram h = acc.snapshot();
  const pb::Histogram out = encode_one(h);
  EXPECT_EQ(out.sample_count(), 6u);
  EXPECT_DOUBLE_EQ(out.sample_sum(), h.sum);
  // Classic buckets without +Inf (Prometheus adds it from sample_count).
  ASSERT_EQ(out.bucket_size(), 4);
  const std::uint64_t cumulative[] = {2, 3, 4, 5};
  const double bounds[] = {0.001, 0.01, 0.1, 1};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out.bucket(i).upper_bound(), bounds[i]);
    EXPECT_EQ(out.bucket(i).cumulative_count(), cumulative[i]);
  }
  EXPECT_EQ(out.schema(), 3);
  EXPECT_EQ(out.zero_threshold(), std::ldexp(1.0, -128));
  EXPECT_EQ(out.zero_count(), 0u);
  EXPECT_EQ(expand(out.positive_span(), out.positive_delta()), h.native->positive);
  EXPECT_EQ(out.negative_span_size(), 0);
  // 0.001 and 0.0011 are one bucket apart (-79, -78): one span holds them.
  EXPECT_EQ(native_bucket_index(0.001), -79);
  EXPECT_EQ(native_bucket_index(0.0011), -78);
}

TEST(Protobuf, SpansAsClientGolangLaysThemOut) {
  // Gaps of one or two buckets are filled with empty ones; a gap of three opens a span.
  const pb::Histogram out =
      encode_one(native_histogram({{-3, 1}, {-2, 2}, {0, 3}, {5, 4}, {6, 5}, {20, 6}, {23, 1}}));
  ASSERT_EQ(out.positive_span_size(), 3);
  EXPECT_EQ(out.positive_span(0).offset(), -3);
  EXPECT_EQ(out.positive_span(0).length(), 4u);  // -3, -2, -1 (empty), 0
  EXPECT_EQ(out.positive_span(1).offset(), 4);   // 1..4 skipped
  EXPECT_EQ(out.positive_span(1).length(), 2u);  // 5, 6
  EXPECT_EQ(out.positive_span(2).offset(), 13);  // 7..19 skipped
  EXPECT_EQ(out.positive_span(2).length(), 4u);  // 20, 21, 22 (empty), 23
  const std::vector<std::int64_t> deltas(out.positive_delta().begin(), out.positive_delta().end());
  EXPECT_EQ(deltas, (std::vector<std::int64_t>{1, 1, -2, 3, 1, 1, 1, -6, 0, 1}));
  EXPECT_EQ(expand(out.positive_span(), out.positive_delta()),
            (Buckets{{-3, 1}, {-2, 2}, {0, 3}, {5, 4}, {6, 5}, {20, 6}, {23, 1}}));
}

TEST(Protobuf, EmptyNativeHistogramSaysItIsOne) {
  const pb::Histogram out = encode_one(HistogramAccumulator({1}).snapshot());
  EXPECT_EQ(out.sample_count(), 0u);
  EXPECT_TRUE(out.has_schema());
  EXPECT_EQ(out.zero_threshold(), std::ldexp(1.0, -128));
  ASSERT_EQ(out.positive_span_size(), 1);
  EXPECT_EQ(out.positive_span(0).offset(), 0);
  EXPECT_EQ(out.positive_span(0).length(), 0u);
  EXPECT_EQ(out.positive_delta_size(), 0);
  // Only zeros observed: the zero bucket already makes it native, no empty span needed.
  HistogramAccumulator zeros({1});
  zeros.observe(0);
  const pb::Histogram z = encode_one(zeros.snapshot());
  EXPECT_EQ(z.zero_count(), 1u);
  EXPECT_EQ(z.positive_span_size(), 0);
}

TEST(Protobuf, ClassicOnlyHistogramHasNoNativeFields) {
  Histogram h;
  h.upper_bounds = {1};
  h.cumulative_counts = {1};
  h.count = 1;
  h.sum = 0.5;
  const pb::Histogram out = encode_one(h);
  EXPECT_FALSE(out.has_schema());
  EXPECT_FALSE(out.has_zero_threshold());
  EXPECT_EQ(out.positive_span_size(), 0);
  EXPECT_EQ(out.bucket_size(), 1);
}

TEST(Protobuf, SameFamiliesSameBytes) {
  auto build = [] {
    HistogramAccumulator acc(exponential_buckets(50e-6, 2, 20));
    for (int i = 1; i < 500; ++i) acc.observe(i * 7e-6);
    MetricFamily hist("podpath_probe_rtt_seconds", "RTT.", MetricType::kHistogram);
    hist.add_histogram({{"peer", "b"}}, acc.snapshot())
        .add_histogram({{"peer", "a"}}, acc.snapshot());
    MetricFamily counter("a_total", "a", MetricType::kCounter);
    counter.add({}, 1);
    return std::vector<MetricFamily>{hist, counter};
  };
  const std::string once = render_protobuf(normalize(build()));
  EXPECT_EQ(once, render_protobuf(normalize(build())));
  EXPECT_EQ(render(normalize(build()), Format::kProtobufDelimited), once);
  EXPECT_EQ(parse_all(once).size(), 2u);
  EXPECT_TRUE(render_protobuf({}).empty());
}

// The RTT family as the prober exports it, one encoded message (without its length prefix),
// decoded by protoc against client_model's own metrics.proto.
TEST(Protobuf, ProtocDecodesTheRttFamilyAsGolden) {
  HistogramAccumulator acc(exponential_buckets(50e-6, 2, 20));
  for (double v : {0.000231, 0.000244, 0.000250, 0.000262, 0.000301, 0.0011, 0.0}) acc.observe(v);
  MetricFamily rtt("podpath_probe_rtt_seconds",
                   "Round-trip time of the echo replies, by path and target.",
                   MetricType::kHistogram);
  rtt.add_histogram({{"peer", "node-b"}, {"target", "overlay"}}, acc.snapshot());
  const std::string framed = render_protobuf(normalize({rtt}));
  google::protobuf::io::ArrayInputStream stream(framed.data(), static_cast<int>(framed.size()));
  pb::MetricFamily message;
  ASSERT_TRUE(google::protobuf::util::ParseDelimitedFromZeroCopyStream(&message, &stream, nullptr));

  char path[] = "/tmp/podpath-protobuf-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path, std::ios::binary) << message.SerializeAsString();
  const std::string command = std::string(PODPATH_PROTOC) +
                              " --decode=io.prometheus.client.MetricFamily -I" +
                              PODPATH_METRICS_PROTO_DIR + " -I" + PODPATH_PROTOBUF_INCLUDE +
                              " metrics.proto <" + path + " 2>&1";
  std::string decoded;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) decoded.append(buffer, n);
  const int status = pclose(pipe);
  std::remove(path);
  ASSERT_EQ(status, 0) << decoded;
  test_support::expect_golden_file(
      std::string(PODPATH_TESTDATA) + "/metrics/testdata/rtt_family.protoc.txt", decoded);
}

}  // namespace
}  // namespace podpath::metrics
