// Stable hashes of names: the same on every node and every run, which the probe schedule's
// phase, the probe graph and the series budget's order rely on (std::hash promises neither).
#pragma once

#include <cstdint>
#include <string_view>

namespace podpath::base {

// FNV-1a followed by a splitmix64 finalizer.
std::uint64_t stable_hash(std::string_view text);

// Mixes 64 bits (splitmix64's finalizer); used to combine hashes. Inline: the probe graph
// computes it for every pair of nodes.
inline std::uint64_t mix64(std::uint64_t value) {
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ULL;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebULL;
  value ^= value >> 31;
  return value;
}

}  // namespace podpath::base
