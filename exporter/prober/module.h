// The prober module (collector "prober"): flags, start-up checks, and the collector that
// copies the prober's latest snapshot.
#pragma once

#include <memory>

#include "module/module.h"
#include "prober/view.h"

namespace podpath::prober {

class ProberModule : public module::Module {
 public:
  // nullptr until started (and when the collector is disabled).
  virtual std::shared_ptr<const ResultsView> results() const = 0;
};

std::unique_ptr<ProberModule> make_prober_module();

}  // namespace podpath::prober
