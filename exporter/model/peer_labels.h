// The labels every per-peer series carries (the metrics contract): `peer` (the node name, or
// the pod subnet when only the kernel knows the peer), `peer_group` (its group, empty when
// unset), `same_group` ("true" when this node and the peer share a group; a cluster without
// group labels is one) and `family` ("ipv4" or "ipv6": a dual-stack peer has a road in each).
// Built here only, so every collector spells them the same way.
#pragma once

#include <compare>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "model/ip.h"

namespace podpath::model {

// The same type as metrics::Labels; model/ does not depend on metrics/.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

struct PeerLabels {
  std::string peer;
  std::string group;
  bool same_group = false;
  Family family = Family::kIpv4;

  // peer, peer_group, same_group, family, then `extra` in the order given.
  LabelPairs pairs(std::initializer_list<std::pair<std::string, std::string>> extra = {}) const {
    LabelPairs labels{{"peer", peer},
                      {"peer_group", group},
                      {"same_group", same_group ? "true" : "false"},
                      {"family", std::string(to_string(family))}};
    labels.insert(labels.end(), extra.begin(), extra.end());
    return labels;
  }
  auto operator<=>(const PeerLabels&) const = default;
};

}  // namespace podpath::model
