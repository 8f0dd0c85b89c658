// What the prober module offers the rest of the exporter: its latest published results.
// The analysis reads this, never the Prober.
#pragma once

#include <memory>

#include "prober/snapshot.h"

namespace podpath::prober {

class ResultsView {
 public:
  virtual ~ResultsView() = default;
  // The latest published results; never blocks on the probe loop.
  virtual std::shared_ptr<const Snapshot> snapshot() const = 0;
};

}  // namespace podpath::prober
