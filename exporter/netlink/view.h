// What the netlink module offers the rest of the exporter: the kernel snapshot of the latest
// successful scrape, peer route lookups included. The analysis reads this, never the
// collector.
#pragma once

#include <memory>

#include "netlink/kernel.h"

namespace podpath::netlink {

class KernelView {
 public:
  virtual ~KernelView() = default;
  // nullptr before the first successful collection.
  virtual std::shared_ptr<const KernelSnapshot> latest() const = 0;
};

}  // namespace podpath::netlink
