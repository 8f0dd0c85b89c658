// Renders metric families in the Prometheus text format 0.0.4, OpenMetrics 1.0.0 or the
// delimited protobuf format (metrics/protobuf.h).
// Pure: the same families always give the same bytes (families sorted by name, series
// by label set), which is what makes golden files possible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

enum class Format {
  kText004,
  kOpenMetrics100,
  // Delimited io.prometheus.client.MetricFamily messages: what Prometheus asks for first
  // with --enable-feature=native-histograms, and the only format carrying native buckets.
  kProtobufDelimited,
};

std::string_view content_type(Format format);

// Chooses the format from an HTTP Accept header (RFC 9110 media ranges with q-values).
// Protobuf only for application/vnd.google.protobuf with
// proto=io.prometheus.client.MetricFamily and encoding=delimited, OpenMetrics only for its
// media type, each only when that range has the highest q among those we can serve
// (protobuf first on a tie); anything unknown or malformed falls back to text 0.0.4, as
// Prometheus' own client libraries do.
Format negotiate(std::string_view accept_header);

// Sorts and merges families with the same name (a later family of another type is
// dropped and reported in `problems`), and removes exact duplicate series.
std::vector<MetricFamily> normalize(std::vector<MetricFamily> families,
                                    std::vector<std::string>* problems = nullptr);

// Renders already normalized families (the protobuf format as render_protobuf()).
std::string render(const std::vector<MetricFamily>& families, Format format);

// Helpers exposed for tests.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
std::string format_value(double value);

}  // namespace podpath::metrics
