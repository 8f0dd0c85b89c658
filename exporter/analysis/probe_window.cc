#include "analysis/probe_window.h"

#include <map>

namespace podpath::analysis {

void ProbeWindow::add(Clock::time_point now, std::shared_ptr<const prober::Snapshot> snapshot) {
  if (!snapshot) return;
  if (!history_.empty() && history_.back().second == snapshot) return;  // nothing new
  history_.emplace_back(now, std::move(snapshot));
  // Keep the newest snapshot that is at least a window old as the baseline; drop older ones.
  while (history_.size() > 2 && now - history_[1].first >= window_) history_.pop_front();
}

ProbeStats difference(const prober::TargetResult& newer, const prober::TargetResult* older) {
  ProbeStats stats;
  std::uint64_t count = newer.rtt.count;
  double sum = newer.rtt.sum;
  stats.sent = newer.requests;
  stats.received = newer.responses;
  // Counters restart when a peer leaves and comes back; then the newer values stand alone.
  if (older != nullptr && older->requests <= newer.requests &&
      older->responses <= newer.responses && older->rtt.count <= newer.rtt.count) {
    stats.sent -= older->requests;
    stats.received -= older->responses;
    count -= older->rtt.count;
    sum -= older->rtt.sum;
  }
  // A probe still in flight counts as sent but not yet received: do not call it lost.
  if (stats.sent > stats.received && stats.sent > 0) stats.sent -= 1;
  if (count > 0) stats.rtt_seconds = sum / static_cast<double>(count);
  return stats;
}

void ProbeWindow::fill(Inputs& in) const {
  if (history_.empty()) return;
  const prober::Snapshot& newest = *history_.back().second;
  const prober::Snapshot* oldest = history_.size() > 1 ? history_.front().second.get() : nullptr;
  using Key = std::tuple<std::string, model::Family, prober::TargetKind>;
  std::map<Key, const prober::TargetResult*> baseline;
  if (oldest != nullptr)
    for (const auto* targets : {&oldest->targets, &oldest->targets_v6})
      for (const auto& t : *targets) baseline[{t.labels.peer, t.labels.family, t.target}] = &t;
  for (const auto* targets : {&newest.targets, &newest.targets_v6})
    for (const auto& t : *targets) {
      auto it = baseline.find({t.labels.peer, t.labels.family, t.target});
      ProbeStats stats = difference(t, it == baseline.end() ? nullptr : it->second);
      const PeerKey key(t.labels.peer, t.labels.family);
      (t.target == prober::TargetKind::kOverlay ? in.overlay_probes : in.underlay_probes)[key] =
          stats;
    }
  for (const auto* results : {&newest.path_mtu, &newest.path_mtu_v6})
    for (const auto& m : *results) in.probed_mtu[PeerKey(m.labels.peer, m.labels.family)] = m.bytes;
  for (const auto& [peer, family] : newest.path_mtu_pending)
    in.path_mtu_pending.insert(PeerKey(peer, family));
  for (const auto& e : newest.exposure)
    in.exposure.push_back({e.labels.peer, e.address, e.exposed});
}

}  // namespace podpath::analysis
