// Whether the kernel's flannel entries for a peer (route, neighbour, FDB) match what the
// peer's node annotations say flannel should have programmed. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/peer.h"

namespace podpath::analysis {

// What disagrees, one sentence each; empty when all agrees. nullopt where the check does not
// apply: a cluster peer whose flannel backend is not vxlan, or a kernel-only peer while this
// node's own cluster record (`cluster_known`) is missing, so "no node has that pod CIDR"
// cannot be told. `overlay_device` names the device of a kernel-only peer without entries.
std::optional<std::vector<std::string>> flannel_inconsistencies(const model::Peer& peer,
                                                                bool cluster_known,
                                                                const std::string& overlay_device);

}  // namespace podpath::analysis
