// The request headers every scrape sends: Accept (metrics::negotiate) and Accept-Encoding
// (http::accepts_gzip).
#include <algorithm>
#include <cctype>
#include <string>

#include "check.h"
#include "http/gzip.h"
#include "metrics/exposition.h"

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using podpath::metrics::Format;
  const std::string_view text = podpath::fuzz::as_text(data, size);
  const std::string folded = lower(text);

  const Format format = podpath::metrics::negotiate(text);
  // Media types and parameter names are case-insensitive (RFC 9110 8.3.1, 12.5.1), and the
  // values that matter (q, version) have no letters: case never changes the answer.
  FUZZ_CHECK(podpath::metrics::negotiate(folded) == format, text);
  if (folded.find("application/openmetrics-text") == std::string::npos)
    FUZZ_CHECK(format != Format::kOpenMetrics100, text);
  // Protobuf only for the delimited MetricFamily stream, asked for by name.
  if (format == Format::kProtobufDelimited)
    FUZZ_CHECK(folded.find("application/vnd.google.protobuf") != std::string::npos &&
                   folded.find("io.prometheus.client.metricfamily") != std::string::npos &&
                   folded.find("delimited") != std::string::npos,
               text);
  (void)podpath::metrics::content_type(format);

  const bool gzip = podpath::http::accepts_gzip(text);
  // Content codings are case-insensitive too (RFC 9110 8.4.1).
  FUZZ_CHECK(podpath::http::accepts_gzip(folded) == gzip, text);
  if (folded.find("gzip") == std::string::npos && folded.find('*') == std::string::npos)
    FUZZ_CHECK(!gzip, text);
  return 0;
}
