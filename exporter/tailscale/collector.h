// The tailscale collector: turns the latest snapshot into metric families at scrape time.
#pragma once

#include <memory>
#include <string>

#include "metrics/collector.h"
#include "tailscale/snapshot.h"

namespace podpath::tailscale {

// Pure: the families and the collector outcome for one snapshot. Not applicable (no socket)
// and not yet polled give success and no families.
metrics::CollectResult collect_snapshot(const Snapshot& snapshot);

class TailscaleCollector final : public metrics::Collector {
 public:
  explicit TailscaleCollector(std::shared_ptr<const View> view) : view_(std::move(view)) {}
  std::string name() const override { return "tailscale"; }
  metrics::CollectResult collect() override { return collect_snapshot(*view_->latest()); }

 private:
  std::shared_ptr<const View> view_;
};

}  // namespace podpath::tailscale
