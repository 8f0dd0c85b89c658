// Stable hashes of names: the same on every node and every run, which the probe schedule's
// phase, the probe graph and the series budget's order rely on (std::hash promises neither).
#pragma once

#include <cstdint>
#include <string_view>

namespace podpath::base {

// FNV-1a followed by a splitmix64 finalizer.
std::uint64_t stable_hash(std::string_view text);

// Mixes 64 bits (splitmix64's finalizer); used to combine hashes.
std::uint64_t mix64(std::uint64_t value);

}  // namespace podpath::base
