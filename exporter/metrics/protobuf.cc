#include "metrics/protobuf.h"

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
// Generated at build time from client_model's metrics.proto (exporter/CMakeLists.txt).
#include <prometheus_client/metrics.pb.h>

namespace podpath::metrics {

namespace {

namespace pb = io::prometheus::client;

using Sparse = std::vector<std::pair<std::int32_t, std::uint64_t>>;

// Sorted (index, count) buckets as spans and deltas, the way client_golang's makeBuckets
// lays them out (prometheus/client_golang prometheus/histogram.go): a span's offset is the
// gap from the previous span's end (from index 0 for the first); a gap of one or two buckets
// is filled with empty buckets rather than opening a new span; each delta is the count minus
// the previous bucket's count.
template <typename AddSpan, typename AddDelta>
void encode_buckets(const Sparse& buckets, AddSpan add_span, AddDelta add_delta) {
  pb::BucketSpan* span = nullptr;
  std::int64_t next_index = 0;
  std::int64_t previous_count = 0;
  auto append = [&](std::int64_t count) {
    add_delta(count - previous_count);
    previous_count = count;
    span->set_length(span->length() + 1);
  };
  for (const auto& [index, count] : buckets) {
    const std::int64_t gap = index - next_index;
    if (span == nullptr || gap > 2) {
      span = add_span();
      span->set_offset(static_cast<std::int32_t>(gap));
      span->set_length(0);
    } else {
      for (std::int64_t i = 0; i < gap; ++i) append(0);
    }
    append(static_cast<std::int64_t>(count));
    next_index = static_cast<std::int64_t>(index) + 1;
  }
}

void encode_histogram(const Histogram& h, pb::Histogram& out) {
  out.set_sample_count(h.count);
  out.set_sample_sum(h.sum);
  const size_t buckets = std::min(h.upper_bounds.size(), h.cumulative_counts.size());
  for (size_t i = 0; i < buckets; ++i) {
    pb::Bucket* bucket = out.add_bucket();
    bucket->set_cumulative_count(h.cumulative_counts[i]);
    bucket->set_upper_bound(h.upper_bounds[i]);
  }
  if (!h.native) return;
  const NativeBuckets& native = *h.native;
  out.set_schema(native.schema);
  out.set_zero_threshold(native.zero_threshold);
  out.set_zero_count(native.zero_count);
  encode_buckets(
      native.negative, [&] { return out.add_negative_span(); },
      [&](std::int64_t delta) { out.add_negative_delta(delta); });
  encode_buckets(
      native.positive, [&] { return out.add_positive_span(); },
      [&](std::int64_t delta) { out.add_positive_delta(delta); });
  // A native histogram without observations still says it is one: client_golang sends an
  // empty span then, so the scraper does not take it for a classic histogram.
  if (native.zero_count == 0 && out.positive_span_size() == 0 && out.negative_span_size() == 0) {
    pb::BucketSpan* span = out.add_positive_span();
    span->set_offset(0);
    span->set_length(0);
  }
}

void encode_family(const MetricFamily& family, pb::MetricFamily& out) {
  out.set_name(family.name);
  out.set_help(family.help);
  switch (family.type) {
    case MetricType::kCounter:
      out.set_type(pb::COUNTER);
      break;
    case MetricType::kGauge:
    case MetricType::kInfo:  // as the text format 0.0.4 shows it: a gauge of value 1
      out.set_type(pb::GAUGE);
      break;
    case MetricType::kHistogram:
      out.set_type(pb::HISTOGRAM);
      break;
  }
  for (const auto& metric : family.metrics) {
    pb::Metric* m = out.add_metric();
    for (const auto& [name, value] : metric.labels) {
      pb::LabelPair* label = m->add_label();
      label->set_name(name);
      label->set_value(value);
    }
    switch (family.type) {
      case MetricType::kCounter:
        m->mutable_counter()->set_value(metric.value);
        break;
      case MetricType::kGauge:
        m->mutable_gauge()->set_value(metric.value);
        break;
      case MetricType::kInfo:
        m->mutable_gauge()->set_value(1);
        break;
      case MetricType::kHistogram:
        encode_histogram(metric.histogram, *m->mutable_histogram());
        break;
    }
  }
}

}  // namespace

std::string render_protobuf(const std::vector<MetricFamily>& families) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  // One message, cleared between families, so its allocations are reused.
  pb::MetricFamily message;
  for (const auto& family : families) {
    message.Clear();
    encode_family(family, message);
    // Writes the size as a varint, then the message. Each call's coded stream gives back what
    // it did not fill when it ends, so `out` holds exactly the bytes written. It fails only
    // when the stream does, and a string stream does not.
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(message, &stream);
  }
  return out;
}

}  // namespace podpath::metrics
