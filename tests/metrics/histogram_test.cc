// The native buckets' index rule, as Prometheus defines it: at schema 3, bucket i covers
// (2^((i-1)/8), 2^(i/8)]; client_golang computes it from math.Frexp (prometheus/histogram.go).
#include "metrics/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace podpath::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double up(double v) {
  return std::nextafter(v, kInf);
}
double down(double v) {
  return std::nextafter(v, -kInf);
}

TEST(NativeIndex, PowersOfTwoEndTheirBucket) {
  // 2^k is the upper bound of bucket 8k, so it belongs to it, and the next double does not.
  for (int k = -20; k <= 20; ++k) {
    const double v = std::ldexp(1.0, k);
    EXPECT_EQ(native_bucket_index(v), 8 * k) << v;
    EXPECT_EQ(native_bucket_index(up(v)), 8 * k + 1) << v;
    EXPECT_EQ(native_bucket_index(down(v)), 8 * k) << v;
  }
  EXPECT_EQ(native_bucket_index(1.0), 0);
  EXPECT_EQ(native_bucket_index(0.5), -8);
  EXPECT_EQ(native_bucket_index(1024), 80);
}

TEST(NativeIndex, EveryBoundaryIsInclusiveAbove) {
  for (std::int32_t i = -200; i <= 200; ++i) {
    const double bound = native_bucket_upper_bound(i);
    EXPECT_NEAR(bound, std::exp2(i / 8.0), std::exp2(i / 8.0) * 1e-15) << i;
    EXPECT_EQ(native_bucket_index(bound), i) << i;
    EXPECT_EQ(native_bucket_index(up(bound)), i + 1) << i;
    EXPECT_EQ(native_bucket_index(down(bound)), i) << i;
    EXPECT_LT(native_bucket_upper_bound(i - 1), bound) << i;
  }
  // 2^(1/8) written out: the upper bound of bucket 1.
  EXPECT_EQ(native_bucket_index(1.0905077326652577), 1);
  EXPECT_EQ(native_bucket_index(1.0905077326652579), 2);
}

TEST(NativeIndex, RttRangeLandsBetweenItsBounds) {
  // 1 us to 30 s in small steps: every value v sits in (bound(i-1), bound(i)].
  for (double v = 1e-6; v < 30; v *= 1.013) {
    const std::int32_t i = native_bucket_index(v);
    EXPECT_LT(native_bucket_upper_bound(i - 1), v) << v;
    EXPECT_LE(v, native_bucket_upper_bound(i)) << v;
  }
  // 1 ms: 2^-10 = 0.0009765625 ends bucket -80, 2^(-79/8) = 0.001064... ends bucket -79.
  EXPECT_EQ(native_bucket_index(0.001), -79);
}

TEST(NativeIndex, ExtremesAsClientGolang) {
  // The largest double: fraction just under 1 (past every start), exponent 1024.
  EXPECT_EQ(native_bucket_index(std::numeric_limits<double>::max()), 8 * 1024);
  // +Inf: one bucket above the largest double.
  EXPECT_EQ(native_bucket_index(kInf), 8 * 1024 + 1);
  // The smallest normal double 2^-1022 ends bucket -8176; denormals go further down.
  EXPECT_EQ(native_bucket_index(std::numeric_limits<double>::min()), -8176);
  EXPECT_EQ(native_bucket_index(std::numeric_limits<double>::denorm_min()), -8 * 1074);
}

TEST(NativeAccumulator, ZeroNegativeNanAndTheZeroThreshold) {
  HistogramAccumulator acc({1});
  acc.observe(0);
  acc.observe(-0.0);
  acc.observe(kNativeZeroThreshold);      // within the zero bucket's width
  acc.observe(up(kNativeZeroThreshold));  // just outside: bucket -1023
  acc.observe(-1);                        // negative bucket 0
  acc.observe(std::nan(""));              // counted, in no bucket
  const Histogram h = acc.snapshot();
  ASSERT_TRUE(h.native);
  EXPECT_EQ(h.native->schema, 3);
  EXPECT_EQ(h.native->zero_threshold, std::ldexp(1.0, -128));
  EXPECT_EQ(h.native->zero_count, 3u);
  using Buckets = std::vector<std::pair<std::int32_t, std::uint64_t>>;
  EXPECT_EQ(h.native->positive, (Buckets{{-1023, 1}}));
  EXPECT_EQ(h.native->negative, (Buckets{{0, 1}}));
  EXPECT_EQ(h.count, 6u);
}

TEST(NativeAccumulator, BucketsSortedAndSparse) {
  HistogramAccumulator acc(exponential_buckets(50e-6, 2, 20));
  // 10,000 RTTs between 0.2 ms and 2 ms, out of order: one decade is log2(10) * 8 = 26.6
  // buckets, so at most 28 are populated whatever the order.
  for (int i = 0; i < 10000; ++i) acc.observe(0.0002 + ((i * 7919) % 10000) * 0.00000018);
  const Histogram h = acc.snapshot();
  ASSERT_TRUE(h.native);
  EXPECT_LE(h.native->positive.size(), 28u);
  EXPECT_GE(h.native->positive.size(), 26u);
  std::uint64_t total = 0;
  for (size_t i = 0; i < h.native->positive.size(); ++i) {
    total += h.native->positive[i].second;
    if (i > 0) {
      EXPECT_LT(h.native->positive[i - 1].first, h.native->positive[i].first);
    }
  }
  EXPECT_EQ(total, 10000u);
  // The classic buckets are what they were.
  EXPECT_EQ(h.cumulative_counts.back(), 10000u);
  EXPECT_EQ(h.count, 10000u);
}

TEST(NativeAccumulator, EmptyHasNoBuckets) {
  const Histogram h = HistogramAccumulator({1, 2}).snapshot();
  ASSERT_TRUE(h.native);
  EXPECT_TRUE(h.native->positive.empty());
  EXPECT_TRUE(h.native->negative.empty());
  EXPECT_EQ(h.native->zero_count, 0u);
}

// The group aggregates (prober/group_aggregates.h) add what each peer's histogram gained.
TEST(HistogramGain, WhatASnapshotGainedAddsUpToTheWhole) {
  HistogramAccumulator acc(exponential_buckets(50e-6, 2, 20));
  for (double v : {0.0004, 0.0005}) acc.observe(v);
  const Histogram before = acc.snapshot();
  for (double v : {0.0004, 0.087, 0.133}) acc.observe(v);
  const Histogram now = acc.snapshot();
  const Histogram gain = histogram_gain(now, before);
  EXPECT_EQ(gain.count, 3u);
  EXPECT_NEAR(gain.sum, 0.0004 + 0.087 + 0.133, 1e-12);
  Histogram total = before;
  add_histogram(total, gain);
  EXPECT_EQ(total.cumulative_counts, now.cumulative_counts);
  EXPECT_EQ(total.count, now.count);
  EXPECT_NEAR(total.sum, now.sum, 1e-12);
  ASSERT_TRUE(total.native && now.native);
  EXPECT_EQ(total.native->positive, now.native->positive);
  // 0.0004 twice before, once more after: its native bucket gained one, not three.
  const auto index = native_bucket_index(0.0004);
  for (const auto& [i, n] : gain.native->positive) {
    if (i == index) {
      EXPECT_EQ(n, 1u);
    }
  }
}

TEST(HistogramGain, AnAccumulatorMadeAnewGainedAllOfItself) {
  HistogramAccumulator old(exponential_buckets(50e-6, 2, 20));
  for (double v : {0.001, 0.002, 0.003}) old.observe(v);
  HistogramAccumulator fresh(exponential_buckets(50e-6, 2, 20));
  fresh.observe(0.004);
  const Histogram gain = histogram_gain(fresh.snapshot(), old.snapshot());
  EXPECT_EQ(gain.count, 1u);
  EXPECT_EQ(gain.cumulative_counts, fresh.snapshot().cumulative_counts);
}

TEST(HistogramGain, AddingIntoAnEmptyHistogramTakesTheBounds) {
  HistogramAccumulator acc({0.001, 0.01});
  acc.observe(0.005);
  Histogram into;
  add_histogram(into, acc.snapshot());
  EXPECT_EQ(into.upper_bounds, (std::vector<double>{0.001, 0.01}));
  EXPECT_EQ(into.cumulative_counts, (std::vector<std::uint64_t>{0, 1}));
  add_histogram(into, acc.snapshot());
  EXPECT_EQ(into.cumulative_counts, (std::vector<std::uint64_t>{0, 2}));
  EXPECT_EQ(into.native->positive.size(), 1u);
  EXPECT_EQ(into.native->positive[0].second, 2u);
}

}  // namespace
}  // namespace podpath::metrics
