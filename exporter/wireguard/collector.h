// The wireguard collector: reads this node's WireGuard devices at scrape time (a local
// netlink dump or UAPI exchange, bounded by --wireguard.timeout), maps their peers onto the
// cluster's, exports the per-peer handshake and transfer series and keeps the snapshot for
// the analysis (wireguard/view.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/logger.h"
#include "metrics/collector.h"
#include "model/peer.h"
#include "wireguard/reader.h"
#include "wireguard/snapshot.h"
#include "wireguard/view.h"

namespace podpath::wireguard {

class WireguardCollector final : public metrics::Collector, public View {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  WireguardCollector(std::unique_ptr<DeviceReader> reader, std::vector<std::string> devices,
                     model::PeerRegistry& peers, base::Logger& log, Clock now);

  std::string name() const override { return "wireguard"; }
  metrics::CollectResult collect() override;
  std::shared_ptr<const Snapshot> latest() const override;

 private:
  std::unique_ptr<DeviceReader> reader_;
  const std::vector<std::string> devices_;
  model::PeerRegistry& peers_;
  base::Logger& log_;
  Clock now_;
  bool said_absent_ = false;  // collect() is serialised by the scraper

  mutable std::mutex mutex_;  // guards the three members below
  std::shared_ptr<const Snapshot> latest_;
  std::vector<metrics::MetricFamily> last_good_;
  double last_success_ = 0;
};

// The families of one snapshot (pure, for tests).
std::vector<metrics::MetricFamily> to_families(const Snapshot& snapshot);

}  // namespace podpath::wireguard
