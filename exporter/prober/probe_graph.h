// The probe graph: which nodes each node probes. Pure, and deterministic: every node computes
// it from the same input (the cluster's node names and groups, and --prober.max-peers), so each
// one knows the whole graph, not only its own probes: how many nodes probe it, and whether every
// pair of groups is covered (docs/decisions/0008-probe-graph.md).
//
// Below the budget (N - 1 <= max_peers, e.g. the lab's 6 nodes) every node probes every other.
// Above it, node u's probes, in priority order, capped at max_peers:
//   1. watcher duties: every node v whose own group gives it fewer than 3 probers (a group of 1
//      to 3 nodes) is probed by its "watchers", the nodes u with the highest score(u, v);
//   2. its own group: the next k nodes after u on the group's ring (members sorted by the hash
//      of their name), k = min(group size - 1, max_peers - reserve), so every member is probed
//      by exactly k others of its group;
//   3. group-pair duties: for every ordered pair of groups (A, B), the member a of A with the
//      highest score(a, B) probes its highest-scored member of B, so every pair of groups is
//      probed both ways by at least one pair of nodes;
//   4. the rest of the budget (the reserve, a tenth of it, when there are other groups): other
//      groups' members spread evenly across groups (one per group, then two...), each group's
//      members by rendezvous score.
// Scores come from the hashes of names only (schedule.h's stable_hash), so a node that joins or
// leaves moves few edges: the k ring predecessors of the node, and the few nodes whose top
// choice in its group it becomes or was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podpath::prober {

struct GraphNode {
  std::string name;
  // The --peers.group-label value. Empty: no label; the unlabelled nodes are one more group
  // here (and the only one in a cluster where no node carries the label).
  std::string group;
};

// Unordered pairs of distinct groups, and how many have at least one probe between them.
struct GroupCoverage {
  std::size_t groups = 0;
  std::size_t pairs = 0;
  std::size_t covered = 0;
  bool complete() const { return covered == pairs; }
};

class ProbeGraph {
 public:
  // Each node should be probed by at least this many others (fewer only in a cluster of fewer
  // than 4 nodes, or a budget below 3).
  static constexpr std::size_t kMinProbers = 3;

  // `nodes`: every node of the cluster, this one included, in any order; a repeated name counts
  // once (the first). `max_peers`: the most nodes one node probes; 0 means all.
  ProbeGraph(std::vector<GraphNode> nodes, std::size_t max_peers);

  std::size_t size() const { return nodes_.size(); }
  const GraphNode& node(std::size_t index) const { return nodes_[index]; }  // sorted by name
  std::optional<std::size_t> find(std::string_view name) const;
  // The nodes `index` probes, ascending.
  const std::vector<std::uint32_t>& out(std::size_t index) const { return out_[index]; }
  // How many nodes probe `index`.
  std::size_t in_degree(std::size_t index) const { return in_degree_[index]; }
  const GroupCoverage& coverage() const { return coverage_; }

 private:
  struct Duty {
    std::uint64_t score;
    std::uint32_t target;
  };
  struct Keyed {
    double key;
    std::uint32_t target;
  };
  std::uint64_t score(std::size_t from, std::size_t to) const;
  std::uint64_t group_score(std::size_t from, std::size_t group) const;
  void build_full_mesh();
  void build_budgeted(std::size_t max_peers);
  std::vector<std::vector<Duty>> watcher_duties(const std::vector<std::size_t>& ring_k,
                                                std::size_t max_peers) const;
  std::vector<std::vector<Duty>> group_pair_duties(std::size_t max_peers) const;
  void fill(std::size_t from, std::size_t room, std::vector<std::uint32_t>& chosen,
            std::vector<std::uint32_t>& mark, std::vector<Keyed>& candidates) const;
  void count();

  std::vector<GraphNode> nodes_;
  std::vector<std::uint64_t> hash_;                 // stable_hash(name): the ring position
  std::vector<std::uint64_t> peer_key_;             // the node's half of score(from, node)
  std::vector<std::uint32_t> group_of_;             // index into groups_
  std::vector<std::uint32_t> ring_index_;           // position in its group's ring
  std::vector<std::vector<std::uint32_t>> groups_;  // members in ring order, groups by name
  std::vector<std::uint64_t> group_key_;
  std::vector<std::uint32_t> lack_;       // the fill's weight per node
  std::vector<std::uint64_t> threshold_;  // the fill's candidate bound per node
  double key_bound_ = 0;
  std::vector<std::vector<std::uint32_t>> out_;
  std::vector<std::size_t> in_degree_;
  GroupCoverage coverage_;
};

// What one node takes from the graph.
struct ProbeSelection {
  std::vector<std::string> peers;  // the nodes this node probes, sorted
  std::size_t nodes = 0;           // in the graph, this one included
  std::size_t probed_by = 0;       // nodes whose probes include this node
  GroupCoverage coverage;
};

ProbeSelection select_probes(std::vector<GraphNode> nodes, const GraphNode& self,
                             std::size_t max_peers);

// select_probes() behind a memo: the graph is rebuilt only when the node list (names and
// groups), this node or the budget changed, not on every update of a node's addresses or
// conditions. Not thread-safe; the probe loop owns one.
class ProbeGraphCache {
 public:
  const ProbeSelection& select(std::vector<GraphNode> nodes, const GraphNode& self,
                               std::size_t max_peers);
  std::size_t builds() const { return builds_; }

 private:
  std::vector<GraphNode> nodes_;  // sorted by name, as last given
  GraphNode self_;
  std::size_t max_peers_ = 0;
  std::size_t builds_ = 0;
  ProbeSelection selection_;
};

}  // namespace podpath::prober
