#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace podpath::metrics {

namespace {

// The fractions 2^(j/8 - 1), j = 0..7: where schema 3's buckets start within [0.5, 1), the
// range of std::frexp's mantissa. The literal values of client_golang's
// nativeHistogramBounds[3] (prometheus/client_golang prometheus/histogram.go), so an
// observation lands in the same bucket as in a Go exporter, to the last bit.
constexpr double kSchema3Bounds[8] = {
    0.5,
    0.5452538663326288,
    0.5946035575013605,
    0.6484197773255048,
    0.7071067811865475,
    0.7711054127039704,
    0.8408964152537144,
    0.9170040432046711,
};

}  // namespace

std::int32_t native_bucket_index(double magnitude) {
  // As client_golang's histogramCounts.observe: +Inf counts as the largest double, one
  // bucket further up.
  const bool infinite = std::isinf(magnitude);
  if (infinite) magnitude = std::numeric_limits<double>::max();
  int exponent = 0;
  const double fraction = std::frexp(magnitude, &exponent);  // magnitude = fraction * 2^exp
  // The first start >= fraction (Go's sort.SearchFloat64s): a fraction exactly on a start
  // is that bucket's upper bound, so it belongs to the bucket ending there.
  const auto position =
      std::lower_bound(std::begin(kSchema3Bounds), std::end(kSchema3Bounds), fraction) -
      std::begin(kSchema3Bounds);
  std::int32_t index = static_cast<std::int32_t>(position) + (exponent - 1) * 8;
  if (infinite) ++index;
  return index;
}

double native_bucket_upper_bound(std::int32_t index) {
  // 2^(index/8) = kSchema3Bounds[index mod 8] * 2^(floor(index/8) + 1).
  return std::ldexp(kSchema3Bounds[index & 7], (index >> 3) + 1);
}

void HistogramAccumulator::add_to(Sparse& buckets, std::int32_t index) {
  auto it = std::lower_bound(buckets.begin(), buckets.end(), index,
                             [](const auto& bucket, std::int32_t i) { return bucket.first < i; });
  if (it != buckets.end() && it->first == index)
    ++it->second;
  else
    buckets.insert(it, {index, 1});
}

void HistogramAccumulator::observe(double value) {
  // Buckets are "less or equal", so the first bound >= value takes the observation.
  auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  if (it != upper_bounds_.end()) ++bucket_counts_[it - upper_bounds_.begin()];
  sum_ += value;
  ++count_;
  // NaN has no native bucket (client_golang skips it too); it still counts in count and sum.
  if (std::isnan(value)) return;
  if (value > kNativeZeroThreshold)
    add_to(positive_, native_bucket_index(value));
  else if (value < -kNativeZeroThreshold)
    add_to(negative_, native_bucket_index(-value));
  else
    ++zero_count_;
}

Histogram HistogramAccumulator::snapshot() const {
  Histogram h;
  h.upper_bounds = upper_bounds_;
  h.cumulative_counts.resize(bucket_counts_.size());
  std::uint64_t running = 0;
  for (size_t i = 0; i < bucket_counts_.size(); ++i) {
    running += bucket_counts_[i];
    h.cumulative_counts[i] = running;
  }
  h.sum = sum_;
  h.count = count_;
  h.native = NativeBuckets{kNativeSchema, kNativeZeroThreshold, zero_count_, positive_, negative_};
  return h;
}

namespace {

using Sparse = std::vector<std::pair<std::int32_t, std::uint64_t>>;

// Sparse buckets merged by index: `sign` +1 adds b to a, -1 takes b from a (b's counts never
// exceed a's there: b is an earlier snapshot of the same accumulator).
Sparse merge_sparse(const Sparse& a, const Sparse& b, int sign) {
  Sparse out;
  out.reserve(a.size() + b.size());
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].first < a[i].first) {
      if (sign > 0) out.push_back(b[j]);
      ++j;
    } else {
      const std::uint64_t n = sign > 0 ? a[i].second + b[j].second : a[i].second - b[j].second;
      if (n != 0) out.emplace_back(a[i].first, n);
      ++i, ++j;
    }
  }
  return out;
}

}  // namespace

Histogram histogram_gain(const Histogram& now, const Histogram& before) {
  if (now.count < before.count || now.upper_bounds != before.upper_bounds) return now;
  Histogram gain = now;
  for (std::size_t i = 0; i < gain.cumulative_counts.size(); ++i)
    gain.cumulative_counts[i] -= std::min(gain.cumulative_counts[i], before.cumulative_counts[i]);
  gain.sum -= before.sum;
  gain.count -= before.count;
  if (now.native && before.native) {
    gain.native->zero_count -= std::min(gain.native->zero_count, before.native->zero_count);
    gain.native->positive = merge_sparse(now.native->positive, before.native->positive, -1);
    gain.native->negative = merge_sparse(now.native->negative, before.native->negative, -1);
  }
  return gain;
}

void add_histogram(Histogram& into, const Histogram& more) {
  if (into.upper_bounds.empty() && into.count == 0) {
    into = more;
    return;
  }
  for (std::size_t i = 0; i < into.cumulative_counts.size() && i < more.cumulative_counts.size();
       ++i)
    into.cumulative_counts[i] += more.cumulative_counts[i];
  into.sum += more.sum;
  into.count += more.count;
  if (into.native && more.native) {
    into.native->zero_count += more.native->zero_count;
    into.native->positive = merge_sparse(into.native->positive, more.native->positive, +1);
    into.native->negative = merge_sparse(into.native->negative, more.native->negative, +1);
  }
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> bounds;
  bounds.reserve(count > 0 ? count : 0);
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

}  // namespace podpath::metrics
