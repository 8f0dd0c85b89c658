// The netlink collector: reads the kernel at scrape time through one rtnetlink session,
// publishes flannel's kernel-side peers to the PeerRegistry, looks up the routes towards
// every peer of the merged set, and keeps the snapshot for other code to read.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "base/logger.h"
#include "metrics/collector.h"
#include "model/peer.h"
#include "netlink/families.h"
#include "netlink/kernel.h"
#include "netlink/regex.h"
#include "netlink/session.h"
#include "netlink/view.h"

namespace podpath::netlink {

struct CollectorOptions {
  DeviceFilter devices;
  std::regex flannel_devices{"flannel\\.[0-9]+"};
};

class NetlinkCollector final : public metrics::Collector, public KernelView {
 public:
  using UnixClock = std::function<double()>;  // seconds since the epoch

  NetlinkCollector(std::shared_ptr<KernelSource> source, CollectorOptions options,
                   model::PeerRegistry& peers, base::Logger& log, UnixClock now);

  std::string name() const override { return "netlink"; }
  metrics::CollectResult collect() override;

  std::shared_ptr<const KernelSnapshot> latest() const override;

 private:
  std::shared_ptr<KernelSource> source_;
  CollectorOptions options_;
  model::PeerRegistry& peers_;
  base::Logger& log_;
  UnixClock now_;

  mutable std::mutex mutex_;  // guards the three members below
  std::shared_ptr<const KernelSnapshot> latest_;
  std::vector<metrics::MetricFamily> last_good_;
  double last_success_ = 0;
};

}  // namespace podpath::netlink
