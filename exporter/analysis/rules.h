// The findings: the named problems of the field report, one rule each. A rule is data (its
// stable code and its severity) and a small pure check that, where it sees the problem,
// explains it: what is wrong, with the figures, and what to do. The two tables in rules.cc
// are the one place a finding is added: write its check, add a row there, and give it a
// firing and a quiet test in tests/analysis/rules_test.cc.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analyse.h"
#include "analysis/verdict.h"

namespace podpath::analysis {

struct Explanation {
  std::string message;  // one line: what is wrong, with the figures
  std::string fix;      // one line: what to do

  bool operator==(const Explanation&) const = default;
};

// What a peer rule may read besides the verdict.
struct RuleContext {
  std::string overlay_device = "flannel.1";  // named in the MTU findings of IPv4 roads
  Thresholds thresholds;
  double now_unix_seconds = 0;                     // for key expiry
  std::string overlay_device_v6 = "flannel-v6.1";  // ... and of IPv6 roads

  const std::string& device_for(model::Family family) const {
    return family == model::Family::kIpv6 ? overlay_device_v6 : overlay_device;
  }
};

// A problem of this node itself (the finding's peer is empty).
struct NodeRule {
  std::string_view code;
  Severity severity;
  std::optional<Explanation> (*check)(const NodeIdentity& self, const RuleContext& context);
};

// A problem on the road to one peer. Most rules see at most one; vxlan-public-exposed sees
// one per public address that answered.
struct PeerRule {
  std::string_view code;
  Severity severity;
  std::vector<Explanation> (*check)(const PeerVerdict& peer, const RuleContext& context);
};

std::span<const NodeRule> node_rules();
std::span<const PeerRule> peer_rules();

// Every rule over this node and each peer; sorted critical first, then by code, peer and
// family. Where any road is IPv6, a peer finding's message starts with its family ("IPv6: ").
std::vector<Finding> find_problems(const NodeIdentity& self, const std::vector<PeerVerdict>& peers,
                                   const RuleContext& context);

}  // namespace podpath::analysis
