// When each probe goes out. Pure arithmetic on nanoseconds of the monotonic clock.
//
// n targets probed every `interval` are spread evenly: target i goes at phase + i*interval/n
// within each interval. The phase comes from a hash of the node name, so two exporters with
// the same target list do not start their rounds together, and each send is moved by a small
// jitter from the injected random source so that they never fall into lockstep either.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/hash.h"

namespace podpath::prober {

using base::mix64;
using base::stable_hash;

// Offset of target `index` of `count` inside an interval, in [0, interval).
std::int64_t spread_offset_ns(std::size_t index, std::size_t count, std::int64_t interval_ns,
                              std::uint64_t node_seed);

// The jitter added to one send: uniform in [-width/2, width/2) where width is the smaller of
// one target's share of the interval and a tenth of the interval, so the order of targets and
// the average interval are kept.
std::int64_t jitter_ns(std::uint64_t random, std::size_t count, std::int64_t interval_ns);

// The first time at or after `now` that is `offset` past a multiple of `interval`.
std::int64_t next_slot_ns(std::int64_t now_ns, std::int64_t offset_ns, std::int64_t interval_ns);

}  // namespace podpath::prober
