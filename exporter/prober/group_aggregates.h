// The probe results of every peer group this node probes, summed: one RTT histogram and one
// pair of request and response counters per (peer group, family, target). They are what the
// series budget keeps of the peers whose own series it withholds (metrics/budget.h), so a
// group's latency and loss are on /metrics at any cluster size.
//
// Sums of the per-peer counters as they are now would fall whenever a peer left the probe set
// (a counter reset to Prometheus, and a spike in every rate()). So each update adds what every
// target gained since the snapshot before, and a group's sums only grow. A target made anew
// (its peer left and came back) gained all of its counts, as a counter reset counts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "metrics/family.h"
#include "prober/snapshot.h"

namespace podpath::prober {

class GroupAggregates {
 public:
  // Adds what `snapshot` shows beyond the one seen before; the same snapshot twice adds nothing.
  void update(const std::shared_ptr<const Snapshot>& snapshot);
  // podpath_group_probe_rtt_seconds, _requests_total and _responses_total.
  std::vector<metrics::MetricFamily> families() const;

 private:
  struct Totals {
    std::uint64_t requests = 0;
    std::uint64_t responses = 0;
    metrics::Histogram rtt;
  };
  using TargetKey = std::tuple<std::string, model::Family, TargetKind>;  // peer, family, target
  using GroupKey = std::tuple<std::string, bool, model::Family, TargetKind>;  // + same_group

  std::shared_ptr<const Snapshot> last_snapshot_;
  std::map<TargetKey, Totals> last_;
  std::map<GroupKey, Totals> groups_;
};

}  // namespace podpath::prober
