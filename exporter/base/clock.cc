#include "base/clock.h"

#include <chrono>

namespace podpath::base {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace podpath::base
