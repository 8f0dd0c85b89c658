// The prober module (collector "prober"): flags, start-up checks, and the collector that
// copies the prober's latest snapshot.
#pragma once

#include <memory>

#include "app/module.h"

namespace podpath::prober {

std::unique_ptr<app::Module> make_prober_module();

}  // namespace podpath::prober
