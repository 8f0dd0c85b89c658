#include "prober/schedule.h"

#include <algorithm>

namespace podpath::prober {

std::int64_t spread_offset_ns(std::size_t index, std::size_t count, std::int64_t interval_ns,
                              std::uint64_t node_seed) {
  if (count == 0 || interval_ns <= 0) return 0;
  const auto interval = static_cast<unsigned __int128>(interval_ns);
  const auto phase = static_cast<std::int64_t>(node_seed % interval);
  const auto share = static_cast<std::int64_t>(interval * index / count);
  return (phase + share) % interval_ns;
}

std::int64_t jitter_ns(std::uint64_t random, std::size_t count, std::int64_t interval_ns) {
  if (count == 0 || interval_ns <= 0) return 0;
  std::int64_t width =
      std::min<std::int64_t>(interval_ns / static_cast<std::int64_t>(count), interval_ns / 10);
  if (width <= 1) return 0;
  return static_cast<std::int64_t>(random % static_cast<std::uint64_t>(width)) - width / 2;
}

std::int64_t next_slot_ns(std::int64_t now_ns, std::int64_t offset_ns, std::int64_t interval_ns) {
  if (interval_ns <= 0) return now_ns;
  std::int64_t base = now_ns - (now_ns % interval_ns);
  std::int64_t slot = base + offset_ns;
  if (slot < now_ns) slot += interval_ns;
  return slot;
}

}  // namespace podpath::prober
