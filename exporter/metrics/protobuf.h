// The protobuf exposition: metric families as varint-length-delimited
// io.prometheus.client.MetricFamily messages (client_model's metrics.proto), the only format
// in which Prometheus 2.40+ scrapes native histograms. Pure and deterministic, like render().
#pragma once

#include <string>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

// Encodes already normalized families, one delimited message per family, in their order.
// Names are the text format's sample names (a counter keeps its _total, as client_golang
// sends it); info families go out as gauges of value 1. A histogram carries its classic
// buckets (without +Inf, which Prometheus adds from the count) and, when it has them, its
// native buckets as spans and deltas.
std::string render_protobuf(const std::vector<MetricFamily>& families);

}  // namespace podpath::metrics
