// The prober's text inputs: --prober.static-targets files (parse_static_targets) and its flag
// values (parse_duration, parse_buckets).
#include <algorithm>
#include <cmath>

#include "base/duration.h"
#include "check.h"
#include "prober/options.h"
#include "prober/plan.h"

namespace pr = podpath::prober;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);

  if (auto peers = pr::parse_static_targets(text)) {
    FUZZ_CHECK(peers.error().empty(), text);
    FUZZ_CHECK(std::adjacent_find(peers->begin(), peers->end(),
                                  [](const auto& a, const auto& b) { return a.name >= b.name; }) ==
                   peers->end(),
               text);
    for (const auto& peer : *peers) {
      FUZZ_CHECK(!peer.name.empty() && peer.name.find('#') == std::string::npos, text);
      FUZZ_CHECK(peer.overlay_address || peer.vtep_address, text);
    }
  } else {
    FUZZ_CHECK(peers.error().starts_with("line "), text);
  }

  if (auto duration = podpath::base::parse_duration(text)) FUZZ_CHECK(duration->count() >= 0, text);

  if (auto buckets = pr::parse_buckets(text)) {
    FUZZ_CHECK(!buckets->empty(), text);
    for (std::size_t i = 0; i < buckets->size(); ++i) {
      FUZZ_CHECK(std::isfinite((*buckets)[i]) && (*buckets)[i] > 0, text);
      if (i > 0) FUZZ_CHECK((*buckets)[i] > (*buckets)[i - 1], text);
    }
  } else {
    FUZZ_CHECK(!buckets.error().empty(), text);
  }
  return 0;
}
