// Accumulates observations into fixed buckets. Not thread-safe: the owner guards it and
// publishes snapshot() results.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

class HistogramAccumulator {
 public:
  explicit HistogramAccumulator(std::vector<double> upper_bounds)
      : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size(), 0) {}

  void observe(double value) {
    // Buckets are "less or equal", so the first bound >= value takes the observation.
    auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
    if (it != upper_bounds_.end()) ++bucket_counts_[it - upper_bounds_.begin()];
    sum_ += value;
    ++count_;
  }

  Histogram snapshot() const {
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
    return h;
  }

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> bucket_counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Bounds start, start*factor, ... for count buckets (e.g. 50us doubling, as smokeping_prober).
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace podpath::metrics
