// The protobuf exposition's encoder (metrics::render_protobuf) over families built from the
// fuzz bytes: any names, help and label bytes, special values, histograms fed through
// HistogramAccumulator (zeros, negatives, NaN, infinities, denormals) and native buckets laid
// out directly with any gaps. The bytes must parse back, message by message, into exactly
// the families that went in.
#include <fuzzer/FuzzedDataProvider.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <prometheus_client/metrics.pb.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "check.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "metrics/protobuf.h"

namespace {

namespace m = podpath::metrics;
namespace pb = io::prometheus::client;
using Sparse = std::vector<std::pair<std::int32_t, std::uint64_t>>;

double value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
      return std::numeric_limits<double>::quiet_NaN();
    case 1:
      return std::numeric_limits<double>::infinity();
    case 2:
      return -std::numeric_limits<double>::infinity();
    case 3:
      return 0;
    case 4:
      return std::numeric_limits<double>::denorm_min() * in.ConsumeIntegral<std::uint16_t>();
    case 5:
      return in.ConsumeFloatingPoint<double>();
    default:  // an RTT-like value
      return in.ConsumeFloatingPointInRange<double>(0, 2);
  }
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

// Native buckets straight from the bytes: increasing indexes with gaps of any size.
Sparse sparse(FuzzedDataProvider& in) {
  Sparse out;
  std::int32_t index = in.ConsumeIntegralInRange<std::int32_t>(-9000, 9000);
  const int n = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < n && index < 9000; ++i) {
    out.emplace_back(index, in.ConsumeIntegralInRange<std::uint64_t>(0, 1ULL << 40));
    index += in.ConsumeIntegralInRange<std::int32_t>(1, 6);
  }
  return out;
}

m::Histogram histogram(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) {
    std::vector<double> bounds;
    for (double b = in.ConsumeFloatingPointInRange<double>(1e-6, 1); bounds.size() < 8; b *= 2)
      bounds.push_back(b);
    bounds.resize(in.ConsumeIntegralInRange<size_t>(0, bounds.size()));
    m::HistogramAccumulator acc(bounds);
    const int n = in.ConsumeIntegralInRange(0, 40);
    for (int i = 0; i < n; ++i) acc.observe(value(in));
    return acc.snapshot();
  }
  m::Histogram h;
  h.count = in.ConsumeIntegral<std::uint32_t>();
  h.sum = value(in);
  if (in.ConsumeBool())
    h.native = m::NativeBuckets{3, m::kNativeZeroThreshold, in.ConsumeIntegral<std::uint16_t>(),
                                sparse(in), sparse(in)};
  return h;
}

std::vector<m::MetricFamily> families(FuzzedDataProvider& in) {
  std::vector<m::MetricFamily> out;
  const int n = in.ConsumeIntegralInRange(0, 5);
  for (int f = 0; f < n; ++f) {
    const auto type = static_cast<m::MetricType>(in.ConsumeIntegralInRange(0, 3));
    m::MetricFamily family(in.ConsumeRandomLengthString(24), in.ConsumeRandomLengthString(24),
                           type);
    const int series = in.ConsumeIntegralInRange(0, 4);
    for (int s = 0; s < series; ++s) {
      m::Labels labels;
      const int count = in.ConsumeIntegralInRange(0, 3);
      for (int l = 0; l < count; ++l)
        labels.emplace_back(in.ConsumeRandomLengthString(8), in.ConsumeRandomLengthString(16));
      if (type == m::MetricType::kHistogram)
        family.add_histogram(std::move(labels), histogram(in));
      else
        family.add(std::move(labels), value(in));
    }
    out.push_back(std::move(family));
  }
  return out;
}

// Spans and deltas back to (index, count), buckets of count 0 (the gap fillers) left out.
template <typename Spans, typename Deltas>
Sparse expand(const Spans& spans, const Deltas& deltas, const std::string& what) {
  Sparse out;
  std::int64_t index = 0, count = 0;
  int d = 0;
  for (const auto& span : spans) {
    index += span.offset();
    for (std::uint32_t i = 0; i < span.length(); ++i) {
      FUZZ_CHECK(d < deltas.size(), what);
      count += deltas.Get(d++);
      FUZZ_CHECK(count >= 0, what);
      if (count != 0)
        out.emplace_back(static_cast<std::int32_t>(index), static_cast<std::uint64_t>(count));
      ++index;
    }
  }
  FUZZ_CHECK(d == deltas.size(), what);
  return out;
}

Sparse nonzero(Sparse buckets) {
  std::erase_if(buckets, [](const auto& b) { return b.second == 0; });
  return buckets;
}

void check_histogram(const m::Histogram& h, const pb::Histogram& out, const std::string& what) {
  FUZZ_CHECK(out.sample_count() == h.count && same(out.sample_sum(), h.sum), what);
  const size_t buckets = std::min(h.upper_bounds.size(), h.cumulative_counts.size());
  FUZZ_CHECK(static_cast<size_t>(out.bucket_size()) == buckets, what);
  for (size_t i = 0; i < buckets; ++i)
    FUZZ_CHECK(out.bucket(i).upper_bound() == h.upper_bounds[i] &&
                   out.bucket(i).cumulative_count() == h.cumulative_counts[i],
               what);
  FUZZ_CHECK(out.has_schema() == h.native.has_value(), what);
  if (!h.native) return;
  FUZZ_CHECK(out.schema() == 3 && out.zero_threshold() == h.native->zero_threshold &&
                 out.zero_count() == h.native->zero_count,
             what);
  FUZZ_CHECK(expand(out.positive_span(), out.positive_delta(), what) == nonzero(h.native->positive),
             what);
  FUZZ_CHECK(expand(out.negative_span(), out.negative_delta(), what) == nonzero(h.native->negative),
             what);
  // An empty native histogram still announces itself with one empty span.
  FUZZ_CHECK(out.positive_span_size() + out.negative_span_size() > 0 || out.zero_count() > 0, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto normalized = m::normalize(families(in));
  const std::string bytes = m::render_protobuf(normalized);
  const std::string what = std::to_string(bytes.size()) + " bytes";
  FUZZ_CHECK(m::render_protobuf(normalized) == bytes, what);  // deterministic

  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  size_t f = 0;
  pb::MetricFamily family;
  bool clean_eof = false;
  while (google::protobuf::util::ParseDelimitedFromZeroCopyStream(&family, &stream, &clean_eof)) {
    FUZZ_CHECK(f < normalized.size(), what);
    const m::MetricFamily& in_family = normalized[f++];
    FUZZ_CHECK(family.name() == in_family.name && family.help() == in_family.help, what);
    const pb::MetricType want = in_family.type == m::MetricType::kCounter     ? pb::COUNTER
                                : in_family.type == m::MetricType::kHistogram ? pb::HISTOGRAM
                                                                              : pb::GAUGE;
    FUZZ_CHECK(family.type() == want, what);
    FUZZ_CHECK(static_cast<size_t>(family.metric_size()) == in_family.metrics.size(), what);
    for (int i = 0; i < family.metric_size(); ++i) {
      const pb::Metric& out = family.metric(i);
      const m::Metric& metric = in_family.metrics[i];
      FUZZ_CHECK(static_cast<size_t>(out.label_size()) == metric.labels.size(), what);
      for (int l = 0; l < out.label_size(); ++l)
        FUZZ_CHECK(out.label(l).name() == metric.labels[l].first &&
                       out.label(l).value() == metric.labels[l].second,
                   what);
      switch (in_family.type) {
        case m::MetricType::kCounter:
          FUZZ_CHECK(out.has_counter() && same(out.counter().value(), metric.value), what);
          break;
        case m::MetricType::kGauge:
          FUZZ_CHECK(out.has_gauge() && same(out.gauge().value(), metric.value), what);
          break;
        case m::MetricType::kInfo:
          FUZZ_CHECK(out.has_gauge() && out.gauge().value() == 1, what);
          break;
        case m::MetricType::kHistogram:
          FUZZ_CHECK(out.has_histogram(), what);
          check_histogram(metric.histogram, out.histogram(), what);
          break;
      }
    }
    family.Clear();
  }
  FUZZ_CHECK(clean_eof && f == normalized.size(), what);
  return 0;
}
