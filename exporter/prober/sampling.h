// Which peers this node probes when there are more than --prober.max-peers.
//
// Rendezvous (highest-random-weight) hashing: every peer gets the score
// hash(this node, peer), and the highest scores win. The choice depends only on names, so
// it is the same after a restart, and when a peer comes or goes at most one other peer
// enters or leaves the selection. Scores differ per node, so across the cluster every pair
// is still probed by some nodes. Peers of this node's own group are always kept: latency
// inside a group is what Longhorn-style workloads depend on.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace podpath::prober {

struct SamplingCandidate {
  std::string name;
  bool same_group = false;
};

// Returns the indices of the selected candidates, in the order given. max_peers == 0 keeps
// all. Same-group peers are kept even when they alone exceed max_peers.
std::vector<std::size_t> select_peers(const std::string& self_name,
                                      const std::vector<SamplingCandidate>& candidates,
                                      std::size_t max_peers);

}  // namespace podpath::prober
