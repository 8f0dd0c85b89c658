// tailscaled's client metrics (tailscale::parse_usermetrics), Prometheus text. Besides no
// crash: accepted counters are sorted and unique, and rendering them back in the text format
// and parsing again gives the same counters (label escapes and float values round-trip).
#include "tailscale/usermetrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "check.h"

namespace ts = podpath::tailscale;

namespace {

std::string escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string render_value(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);  // shortest text that reads back to the same double
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  const auto parsed = ts::parse_usermetrics(text);
  if (!parsed.error.empty()) {
    FUZZ_CHECK(parsed.counters.empty(), text);  // half a set of counters would read as a reset
    return 0;
  }
  const auto& counters = parsed.counters;
  FUZZ_CHECK(std::adjacent_find(counters.begin(), counters.end(),
                                [](const auto& a, const auto& b) {
                                  return std::tie(a.direction, a.path) >=
                                         std::tie(b.direction, b.path);
                                }) == counters.end(),
             text);
  bool has_nan = false;
  std::string rendered;
  for (const auto& counter : counters) {
    FUZZ_CHECK(counter.direction == "inbound" || counter.direction == "outbound", text);
    FUZZ_CHECK(!counter.path.empty(), text);
    FUZZ_CHECK(counter.packets || counter.bytes, text);
    for (auto [kind, value] : {std::pair{"packets", counter.packets}, {"bytes", counter.bytes}}) {
      if (!value) continue;
      has_nan = has_nan || std::isnan(*value);
      rendered += fmt::format("tailscaled_{}_{}_total{{path=\"{}\"}} {}\n", counter.direction, kind,
                              escape(counter.path), render_value(*value));
    }
  }
  if (has_nan) return 0;  // NaN != NaN; the text form is covered by the parse above
  const auto again = ts::parse_usermetrics(rendered);
  FUZZ_CHECK(again.error.empty(), rendered);
  FUZZ_CHECK(again.counters == counters, rendered);
  return 0;
}
