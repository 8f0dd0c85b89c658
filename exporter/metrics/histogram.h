// Accumulates observations into fixed (classic) buckets and, beside them, sparse exponential
// (native) buckets. Not thread-safe: the owner guards it and publishes snapshot() results.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

// Native buckets at schema 3: eight buckets per power of two, each 2^(1/8) (~9%) wider than
// the one below. client_golang picks this schema for its default NativeHistogramBucketFactor
// of 1.1 (the largest schema whose factor does not exceed it).
inline constexpr std::int32_t kNativeSchema = 3;
// client_golang's DefNativeHistogramZeroThreshold, 2^-128: a bucket boundary at every
// schema, far below any RTT, so only exact zeros land in the zero bucket.
inline constexpr double kNativeZeroThreshold = 2.938735877055719e-39;

// The index of the schema-3 bucket holding a positive `magnitude`: bucket i covers
// (2^((i-1)/8), 2^(i/8)]. +Inf gets the index after the one of the largest double; NaN has
// none (the caller keeps NaN out of the buckets).
std::int32_t native_bucket_index(double magnitude);
// The upper bound of schema-3 bucket `index`, 2^(index/8).
double native_bucket_upper_bound(std::int32_t index);

class HistogramAccumulator {
 public:
  explicit HistogramAccumulator(std::vector<double> upper_bounds)
      : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size(), 0) {}

  void observe(double value);

  Histogram snapshot() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  using Sparse = std::vector<std::pair<std::int32_t, std::uint64_t>>;  // sorted by index

  static void add_to(Sparse& buckets, std::int32_t index);

  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> bucket_counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
  // Sparse: RTTs of one path fill a handful of neighbouring buckets, so a sorted vector
  // (12 bytes a bucket) beats a map node per bucket.
  Sparse positive_;
  Sparse negative_;
  std::uint64_t zero_count_ = 0;
};

// What `now` gained since `before`, two snapshots of one accumulator (same bounds): every
// count, the sum and the native buckets by difference. A `now` with fewer observations than
// `before` (the accumulator was made anew) gained all of itself, as a counter reset counts.
Histogram histogram_gain(const Histogram& now, const Histogram& before);

// Adds `more` (same bounds, same native schema) into `into`; an empty `into` takes its bounds.
void add_histogram(Histogram& into, const Histogram& more);

// Bounds start, start*factor, ... for count buckets (e.g. 50us doubling, as smokeping_prober).
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace podpath::metrics
