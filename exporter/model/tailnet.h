// The addresses this node's tailscaled lists for itself and its peers (TailscaleIPs): what
// makes an address of 100.64.0.0/10 a tailnet address here rather than a CGNAT provider's.
// The tailscale module publishes them after every poll; sources that classify addresses
// without reading Tailscale (the kubernetes collector's public_ip_scope) read them.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "model/ip.h"

namespace podpath::model {

class TailnetAddresses {
 public:
  // Sorted and unique, as classify() wants them; empty without Tailscale.
  std::shared_ptr<const std::vector<Ipv4>> latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }
  void publish(std::vector<Ipv4> addresses) {
    auto next = std::make_shared<const std::vector<Ipv4>>(std::move(addresses));
    std::lock_guard lock(mutex_);
    latest_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;  // guards latest_
  std::shared_ptr<const std::vector<Ipv4>> latest_ = std::make_shared<const std::vector<Ipv4>>();
};

}  // namespace podpath::model
