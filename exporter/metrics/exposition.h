// Renders metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
// Pure: the same families always give the same bytes (families sorted by name, series
// by label set), which is what makes golden files possible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

enum class Format { kText004, kOpenMetrics100 };

std::string_view content_type(Format format);

// Chooses the format from an HTTP Accept header (RFC 9110 media ranges with q-values).
// OpenMetrics only when a media range for it has the highest q among those we can
// serve; anything unknown or malformed falls back to text 0.0.4, as Prometheus' own
// client libraries do.
Format negotiate(std::string_view accept_header);

// Sorts and merges families with the same name (a later family of another type is
// dropped and reported in `problems`), and removes exact duplicate series.
std::vector<MetricFamily> normalize(std::vector<MetricFamily> families,
                                    std::vector<std::string>* problems = nullptr);

// Renders already normalized families.
std::string render(const std::vector<MetricFamily>& families, Format format);

// Helpers exposed for tests.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
std::string format_value(double value);

}  // namespace podpath::metrics
