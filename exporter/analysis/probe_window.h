// Turns the prober's cumulative counters into what the verdict judges: the last N seconds
// of probes per peer. Keeps a few timestamped snapshots and diffs the newest against the
// oldest one still inside the window.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include "analysis/analyse.h"
#include "prober/snapshot.h"

namespace podpath::analysis {

class ProbeWindow {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ProbeWindow(std::chrono::duration<double> window) : window_(window) {}

  void add(Clock::time_point now, std::shared_ptr<const prober::Snapshot> snapshot);
  // Fills overlay/underlay probe stats, probed MTU and exposure from the newest snapshot.
  void fill(Inputs& inputs) const;

 private:
  std::chrono::duration<double> window_;
  std::deque<std::pair<Clock::time_point, std::shared_ptr<const prober::Snapshot>>> history_;
};

// The window between two cumulative results of one target (pure, for tests).
ProbeStats difference(const prober::TargetResult& newer, const prober::TargetResult* older);

}  // namespace podpath::analysis
