// One spelling of an errno for labels and logs: glibc's own name ("ENETUNREACH"), or
// "errno-N" for a number glibc has no name for.
#pragma once

#include <string>

namespace podpath::base {

// "" for 0.
std::string errno_name(int error);

}  // namespace podpath::base
