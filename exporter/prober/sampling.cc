#include "prober/sampling.h"

#include <algorithm>
#include <cstdint>

#include "prober/schedule.h"

namespace podpath::prober {

std::vector<std::size_t> select_peers(const std::string& self_name,
                                      const std::vector<SamplingCandidate>& candidates,
                                      std::size_t max_peers) {
  std::vector<std::size_t> selected;
  if (max_peers == 0 || candidates.size() <= max_peers) {
    for (std::size_t i = 0; i < candidates.size(); ++i) selected.push_back(i);
    return selected;
  }
  const std::uint64_t self_hash = stable_hash(self_name);
  std::vector<std::pair<std::uint64_t, std::size_t>> others;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].same_group) {
      selected.push_back(i);
    } else {
      others.emplace_back(mix64(self_hash ^ stable_hash(candidates[i].name)), i);
    }
  }
  std::size_t room = max_peers > selected.size() ? max_peers - selected.size() : 0;
  room = std::min(room, others.size());
  // Highest score first; the name breaks (astronomically unlikely) ties, so the input order
  // never matters.
  std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(room),
                    others.end(), [&](const auto& a, const auto& b) {
                      if (a.first != b.first) return a.first > b.first;
                      return candidates[a.second].name < candidates[b.second].name;
                    });
  for (std::size_t k = 0; k < room; ++k) selected.push_back(others[k].second);
  std::sort(selected.begin(), selected.end());
  return selected;
}

}  // namespace podpath::prober
