// What the wireguard module offers the rest of the exporter: the latest read of this node's
// WireGuard devices (flannel-wg, flannel-wg-v6), mapped onto the cluster's peers
// (wireguard/snapshot.h).
#pragma once

#include <memory>

namespace podpath::wireguard {

struct Snapshot;

class View {
 public:
  virtual ~View() = default;
  // nullptr before the first read that found a device.
  virtual std::shared_ptr<const Snapshot> latest() const = 0;
};

}  // namespace podpath::wireguard
