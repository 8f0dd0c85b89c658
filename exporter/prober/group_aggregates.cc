#include "prober/group_aggregates.h"

#include "metrics/histogram.h"

namespace podpath::prober {

void GroupAggregates::update(const std::shared_ptr<const Snapshot>& snapshot) {
  if (!snapshot || snapshot == last_snapshot_) return;
  std::map<TargetKey, Totals> seen;
  auto add = [&](const TargetResult& target) {
    const TargetKey key{target.labels.peer, target.labels.family, target.target};
    Totals now{target.requests, target.responses, target.rtt};
    Totals gain = now;
    if (auto before = last_.find(key); before != last_.end()) {
      const Totals& was = before->second;
      const bool anew = now.requests < was.requests || now.responses < was.responses;
      if (!anew) {
        gain.requests -= was.requests;
        gain.responses -= was.responses;
      }
      gain.rtt = metrics::histogram_gain(now.rtt, was.rtt);
    }
    Totals& group = groups_[{target.labels.group, target.labels.same_group, target.labels.family,
                             target.target}];
    group.requests += gain.requests;
    group.responses += gain.responses;
    metrics::add_histogram(group.rtt, gain.rtt);
    seen.emplace(key, std::move(now));
  };
  for (const auto& target : snapshot->targets) add(target);
  for (const auto& target : snapshot->targets_v6) add(target);
  last_ = std::move(seen);
  last_snapshot_ = snapshot;
}

std::vector<metrics::MetricFamily> GroupAggregates::families() const {
  using metrics::MetricFamily;
  using metrics::MetricType;
  MetricFamily rtt("podpath_group_probe_rtt_seconds",
                   "ICMP echo round trip to the peers of one group this node probes, all of them "
                   "in one histogram.",
                   MetricType::kHistogram);
  MetricFamily requests("podpath_group_probe_requests_total",
                        "Echo requests to the peers of one group, including failed sends.",
                        MetricType::kCounter);
  MetricFamily responses("podpath_group_probe_responses_total",
                         "Echo replies from the peers of one group received before the timeout.",
                         MetricType::kCounter);
  for (const auto& [key, totals] : groups_) {
    const auto& [group, same_group, family, target] = key;
    metrics::Labels labels{{"peer_group", group},
                           {"same_group", same_group ? "true" : "false"},
                           {"family", std::string(model::to_string(family))},
                           {"target", std::string(to_string(target))}};
    rtt.add_histogram(labels, totals.rtt);
    requests.add(labels, static_cast<double>(totals.requests));
    responses.add(std::move(labels), static_cast<double>(totals.responses));
  }
  return {rtt, requests, responses};
}

}  // namespace podpath::prober
