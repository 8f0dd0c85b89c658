// The plain data a collector hands to the exposition: metric families built fresh at
// scrape time. Nothing here is shared or mutated after it is built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace podpath::metrics {

enum class MetricType {
  kCounter,  // name ends in _total; OpenMetrics names the family without it
  kGauge,
  kHistogram,  // cumulative buckets plus _sum and _count
  kInfo,       // value 1, name ends in _info; text 0.0.4 shows it as a gauge
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// The sparse exponential ("native") buckets of a histogram, as Prometheus >= 2.40 stores them
// (one series instead of one per bucket). Bucket i of schema s covers (base^(i-1), base^i]
// with base = 2^(2^-s); observations within [-zero_threshold, zero_threshold] count in the
// zero bucket. Only the protobuf exposition carries them (metrics/protobuf.h).
struct NativeBuckets {
  std::int32_t schema = 0;
  double zero_threshold = 0;
  std::uint64_t zero_count = 0;
  // (index, count) of every populated bucket, sorted by index; empty buckets are absent.
  std::vector<std::pair<std::int32_t, std::uint64_t>> positive;
  std::vector<std::pair<std::int32_t, std::uint64_t>> negative;  // indexes of |value|
};

struct Histogram {
  // Upper bounds in increasing order, without +Inf (the exposition adds it from count).
  std::vector<double> upper_bounds;
  // cumulative_counts[i] = observations <= upper_bounds[i].
  std::vector<std::uint64_t> cumulative_counts;
  double sum = 0;
  std::uint64_t count = 0;
  // Present when the histogram also keeps native buckets (HistogramAccumulator does).
  std::optional<NativeBuckets> native;
};

struct Metric {
  Labels labels;
  double value = 0;     // counter, gauge, info (info is always 1)
  Histogram histogram;  // used only when the family's type is kHistogram
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Metric> metrics;

  MetricFamily() = default;
  MetricFamily(std::string family_name, std::string family_help, MetricType family_type)
      : name(std::move(family_name)), help(std::move(family_help)), type(family_type) {}

  // Convenience builders; they return *this so a family reads as one expression.
  MetricFamily& add(Labels labels, double value) {
    metrics.push_back(Metric{std::move(labels), value, {}});
    return *this;
  }
  MetricFamily& add_histogram(Labels labels, Histogram histogram) {
    metrics.push_back(Metric{std::move(labels), 0, std::move(histogram)});
    return *this;
  }
};

}  // namespace podpath::metrics
