#include "base/hash.h"

namespace podpath::base {

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return mix64(hash);
}

}  // namespace podpath::base
