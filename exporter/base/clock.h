// The wall clock as the metrics want it (Unix seconds), passed in wherever a timestamp is
// taken so that tests control it.
#pragma once

#include <functional>

namespace podpath::base {

using UnixClock = std::function<double()>;

// Seconds since the epoch, from the system clock.
double unix_now();

}  // namespace podpath::base
