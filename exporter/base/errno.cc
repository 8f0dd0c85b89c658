#include "base/errno.h"

#include <fmt/format.h>
#include <string.h>

namespace podpath::base {

std::string errno_name(int error) {
  if (error == 0) return {};
  // glibc 2.32+; nullptr for numbers it has no name for.
  if (const char* name = strerrorname_np(error)) return name;
  return fmt::format("errno-{}", error);
}

}  // namespace podpath::base
