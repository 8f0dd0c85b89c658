// The kubernetes collector: copies the watcher's latest snapshot into metric families.
// build_families() is pure, so the exposition of any state is a golden-file test.
#pragma once

#include <memory>
#include <vector>

#include "kubernetes/watcher.h"
#include "metrics/collector.h"

namespace podpath::kubernetes {

std::vector<metrics::MetricFamily> build_families(const WatcherSnapshot& snapshot);

class KubernetesCollector final : public metrics::Collector {
 public:
  explicit KubernetesCollector(std::shared_ptr<const Watcher> watcher)
      : watcher_(std::move(watcher)) {}
  std::string name() const override { return "kubernetes"; }
  metrics::CollectResult collect() override;

 private:
  std::shared_ptr<const Watcher> watcher_;
};

}  // namespace podpath::kubernetes
