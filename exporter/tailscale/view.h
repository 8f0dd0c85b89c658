// What the tailscale module offers the rest of the exporter: the latest snapshot of
// tailscaled's view, mapped onto the cluster's peers (tailscale/snapshot.h).
#pragma once

#include <memory>

namespace podpath::tailscale {

struct Snapshot;

class View {
 public:
  virtual ~View() = default;
  virtual std::shared_ptr<const Snapshot> latest() const = 0;
};

}  // namespace podpath::tailscale
