// The kubernetes collector: copies the watcher's latest snapshot into metric families.
// build_families() is pure, so the exposition of any state is a golden-file test.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "kubernetes/watcher.h"
#include "metrics/collector.h"
#include "model/tailnet.h"

namespace podpath::kubernetes {

// `tailnet`: the addresses this node's tailscaled lists (sorted), which make a VTEP address
// of 100.64.0.0/10 public_ip_scope="tailnet" rather than "cgnat".
std::vector<metrics::MetricFamily> build_families(const WatcherSnapshot& snapshot,
                                                  std::span<const model::Ipv4> tailnet = {});

class KubernetesCollector final : public metrics::Collector {
 public:
  explicit KubernetesCollector(std::shared_ptr<const Watcher> watcher,
                               const model::TailnetAddresses* tailnet = nullptr)
      : watcher_(std::move(watcher)), tailnet_(tailnet) {}
  std::string name() const override { return "kubernetes"; }
  metrics::CollectResult collect() override;

 private:
  std::shared_ptr<const Watcher> watcher_;
  const model::TailnetAddresses* tailnet_;  // outlives the collector (ModuleContext)
};

}  // namespace podpath::kubernetes
