// The prober module (collector "prober"): flags, start-up checks, and the collector that
// copies the prober's latest snapshot.
#pragma once

#include <memory>

#include "module/module.h"

namespace podpath::prober {

std::unique_ptr<module::Module> make_prober_module();

}  // namespace podpath::prober
