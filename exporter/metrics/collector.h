// The one contract every source of metrics implements.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

struct CollectResult {
  std::vector<MetricFamily> families;
  bool success = true;
  std::string error;  // why success is false; logged by the scraper, rate-limited
  // Background collectors (watches, probes) say when their snapshot last succeeded;
  // exported as podpath_collector_last_success_timestamp_seconds.
  std::optional<double> last_success_unix_seconds;

  static CollectResult failure(std::string why) {
    CollectResult r;
    r.success = false;
    r.error = std::move(why);
    return r;
  }
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Stable, lower-case name used in podpath_collector_success{collector} and in
  // --[no-]collector.<name>.
  virtual std::string name() const = 0;
  // Builds fresh families, or copies the latest background snapshot. May be called from
  // several threads at once only if the implementation says so; the scraper serialises
  // calls per collector. Must not throw for environmental errors: return failure().
  virtual CollectResult collect() = 0;
  // Collectors of phase 0 run together; a later phase starts when the earlier one is done
  // (or the deadline passed), so a collector that joins others' results (the analysis)
  // sees this scrape's data rather than the previous one's.
  virtual int phase() const { return 0; }
};

}  // namespace podpath::metrics
