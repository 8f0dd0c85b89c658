#include "prober/probe_graph.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "prober/schedule.h"

namespace podpath::prober {

namespace {

// Salts so that a node's ring position, its key as a peer and a group's key are unrelated
// numbers although all come from stable_hash.
constexpr std::uint64_t kPeerSalt = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kGroupSalt = 0xc2b2ae3d27d4eb4fULL;

// Highest score first; the lower index (the name, nodes are sorted) breaks ties, so no input
// order can change a choice.
struct HigherScore {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    if (a.score != b.score) return a.score > b.score;
    return a.target < b.target;
  }
};

struct Scored {
  std::uint64_t score;
  std::uint32_t target;
};

// Keeps the `count` highest of `items` (in no particular order).
template <typename T>
void keep_highest(std::vector<T>& items, std::size_t count) {
  if (items.size() <= count) return;
  std::nth_element(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(count), items.end(),
                   HigherScore{});
  items.resize(count);
}

}  // namespace

ProbeGraph::ProbeGraph(std::vector<GraphNode> nodes, std::size_t max_peers) {
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const GraphNode& a, const GraphNode& b) { return a.name < b.name; });
  nodes.erase(std::unique(nodes.begin(), nodes.end(),
                          [](const GraphNode& a, const GraphNode& b) { return a.name == b.name; }),
              nodes.end());
  nodes_ = std::move(nodes);
  const std::size_t n = nodes_.size();
  hash_.resize(n);
  peer_key_.resize(n);
  group_of_.resize(n);
  ring_index_.resize(n);
  std::map<std::string_view, std::uint32_t> group_index;
  for (const auto& node : nodes_) group_index.emplace(node.group, 0);
  std::uint32_t next = 0;
  for (auto& [name, index] : group_index) {
    index = next++;
    group_key_.push_back(mix64(stable_hash(name) + kGroupSalt));
  }
  groups_.resize(group_index.size());
  for (std::size_t i = 0; i < n; ++i) {
    hash_[i] = stable_hash(nodes_[i].name);
    peer_key_[i] = mix64(hash_[i] + kPeerSalt);
    group_of_[i] = group_index[nodes_[i].group];
    groups_[group_of_[i]].push_back(static_cast<std::uint32_t>(i));
  }
  for (auto& members : groups_) {
    std::sort(members.begin(), members.end(), [&](std::uint32_t a, std::uint32_t b) {
      return hash_[a] != hash_[b] ? hash_[a] < hash_[b] : a < b;
    });
    for (std::size_t k = 0; k < members.size(); ++k)
      ring_index_[members[k]] = static_cast<std::uint32_t>(k);
  }
  out_.resize(n);
  if (n == 0) return;
  if (max_peers == 0 || n - 1 <= max_peers) {
    build_full_mesh();
  } else {
    build_budgeted(max_peers);
  }
  count();
}

std::optional<std::size_t> ProbeGraph::find(std::string_view name) const {
  auto it =
      std::lower_bound(nodes_.begin(), nodes_.end(), name,
                       [](const GraphNode& node, std::string_view n) { return node.name < n; });
  if (it == nodes_.end() || it->name != name) return std::nullopt;
  return static_cast<std::size_t>(it - nodes_.begin());
}

// Rendezvous score of `to` as seen from `from`. Not symmetric: two nodes that rank each other
// first would otherwise probe each other, one round trip measured twice.
std::uint64_t ProbeGraph::score(std::size_t from, std::size_t to) const {
  return mix64(hash_[from] ^ peer_key_[to]);
}

std::uint64_t ProbeGraph::group_score(std::size_t from, std::size_t group) const {
  return mix64(hash_[from] ^ group_key_[group]);
}

void ProbeGraph::build_full_mesh() {
  const std::size_t n = nodes_.size();
  for (std::size_t i = 0; i < n; ++i) {
    out_[i].reserve(n - 1);
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) out_[i].push_back(static_cast<std::uint32_t>(j));
  }
}

// For each node, the nodes it must probe because their own group cannot give them
// kMinProbers probers: the watchers of v are the nodes (not already its ring predecessors) with
// the highest score(u, v) that still have room in their budget once their ring is counted.
// Nodes are served in rounds, each in ring-hash order, so when room runs short (a budget of a
// few peers and many single-node groups) which watcher moves on is still decided by names alone;
// with room to spare, as at the default budget, each node's watchers are its highest scores.
std::vector<std::vector<ProbeGraph::Duty>> ProbeGraph::watcher_duties(
    const std::vector<std::size_t>& ring_k, std::size_t max_peers) const {
  const std::size_t n = nodes_.size();
  const std::size_t want = std::min(kMinProbers, n - 1);
  std::vector<std::vector<Duty>> duties(n);
  std::vector<std::uint32_t> order;
  for (std::size_t v = 0; v < n; ++v)
    if (ring_k[group_of_[v]] < want) order.push_back(static_cast<std::uint32_t>(v));
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return hash_[a] != hash_[b] ? hash_[a] < hash_[b] : a < b;
  });
  // Round r gives every node that lacks more than r watchers one more, so that when room runs
  // short every node has one before any has two.
  std::vector<std::vector<std::uint32_t>> watching(n);
  for (std::size_t round = 0; round < want; ++round) {
    for (std::uint32_t v : order) {
      const std::size_t group = group_of_[v];
      const std::size_t k = ring_k[group];
      if (want - k <= round) continue;
      const std::size_t size = groups_[group].size();
      const auto& already = watching[v];
      Scored best{0, 0};
      bool found = false;
      for (std::size_t u = 0; u < n; ++u) {
        if (u == v || ring_k[group_of_[u]] + duties[u].size() >= max_peers) continue;
        if (group_of_[u] == group) {
          const std::size_t behind = (ring_index_[v] + size - ring_index_[u]) % size;
          if (behind >= 1 && behind <= k) continue;  // already probes v along the ring
        }
        Scored candidate{score(u, v), static_cast<std::uint32_t>(u)};
        if (found && !HigherScore{}(candidate, best)) continue;
        if (std::find(already.begin(), already.end(), candidate.target) != already.end()) continue;
        best = candidate;
        found = true;
      }
      if (!found) continue;
      watching[v].push_back(best.target);
      duties[best.target].push_back({best.score, v});
    }
  }
  return duties;
}

// For each ordered pair of groups (A, B): the member of A with the highest group score for B
// probes its highest-scored member of B. A node keeps at most `max_peers` such duties (the
// highest group scores); more could not fit in its budget anyway.
std::vector<std::vector<ProbeGraph::Duty>> ProbeGraph::group_pair_duties(
    std::size_t max_peers) const {
  std::vector<std::vector<Duty>> duties(nodes_.size());
  for (std::size_t a_group = 0; a_group < groups_.size(); ++a_group) {
    for (std::size_t b_group = 0; b_group < groups_.size(); ++b_group) {
      if (a_group == b_group) continue;
      Scored owner{0, 0};
      bool first = true;
      for (std::uint32_t a : groups_[a_group]) {
        Scored candidate{group_score(a, b_group), a};
        if (first || HigherScore{}(candidate, owner)) owner = candidate;
        first = false;
      }
      Scored target{0, 0};
      first = true;
      for (std::uint32_t b : groups_[b_group]) {
        Scored candidate{score(owner.target, b), b};
        if (first || HigherScore{}(candidate, target)) target = candidate;
        first = false;
      }
      // Each unordered pair has a primary direction: from the larger group, which has more
      // members to share its duties, or between groups of one size by a coin both directions
      // agree on (the hash of the pair). A node with more duties than budget keeps its
      // primary ones first, so a pair whose owners both overflow still has one direction.
      const std::size_t a_size = groups_[a_group].size(), b_size = groups_[b_group].size();
      const bool coin = mix64(group_key_[a_group] ^ group_key_[b_group]) & 1;
      const bool primary =
          a_size != b_size ? a_size > b_size : (group_key_[a_group] < group_key_[b_group]) == coin;
      auto& mine = duties[owner.target];
      mine.push_back({(primary ? std::uint64_t{1} << 63 : 0) | (owner.score >> 1), target.target});
      if (mine.size() > 2 * max_peers) keep_highest(mine, max_peers);
    }
  }
  for (auto& mine : duties) keep_highest(mine, max_peers);
  return duties;
}

void ProbeGraph::build_budgeted(std::size_t max_peers) {
  const std::size_t n = nodes_.size();
  // A tenth of the budget stays for other groups when there are any.
  const std::size_t reserve = groups_.size() > 1 ? (max_peers + 9) / 10 : 0;
  std::vector<std::size_t> ring_k(groups_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g)
    ring_k[g] = std::min(groups_[g].size() - 1, max_peers - std::min(max_peers, reserve));
  auto watchers = watcher_duties(ring_k, max_peers);
  auto pairs = group_pair_duties(max_peers);

  // What each node lacks to be probed by max_peers nodes once its ring and the duties towards
  // it are counted: the weight of the fill.
  std::vector<std::size_t> probers(n, 0);
  for (std::size_t u = 0; u < n; ++u) {
    probers[u] += ring_k[group_of_[u]];
    for (const auto& duty : watchers[u]) ++probers[duty.target];
    for (const auto& duty : pairs[u]) ++probers[duty.target];
  }
  lack_.assign(n, 0);
  double total_lack = 0;
  for (std::size_t v = 0; v < n; ++v) {
    lack_[v] = static_cast<std::uint32_t>(max_peers - std::min(max_peers, probers[v]));
    total_lack += lack_[v];
  }
  // Keys below key_bound_: about 2 * max_peers + 16 candidates per node. A score at or under
  // threshold_[v] has a key of at least the bound; the thresholds are rounded down, so that
  // holds whatever the last bit of exp() is.
  key_bound_ = total_lack > 0 ? static_cast<double>(2 * max_peers + 16) / total_lack : 0;
  threshold_.assign(n, 0);
  for (std::size_t v = 0; v < n; ++v) {
    const double fraction = std::exp(-key_bound_ * lack_[v]) * (1 - 1e-9);
    // A node that lacks nothing never passes: no score is above the largest 64-bit value.
    threshold_[v] =
        lack_[v] == 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(fraction * 0x1.0p53) << 11;
  }

  std::vector<std::uint32_t> mark(n, 0);  // mark[v] == u + 1: u already probes v
  std::vector<Keyed> candidates;
  for (std::size_t u = 0; u < n; ++u) {
    const std::uint32_t stamp = static_cast<std::uint32_t>(u + 1);
    auto& chosen = out_[u];
    mark[u] = stamp;
    auto take = [&](std::uint32_t v) {
      if (chosen.size() >= max_peers || mark[v] == stamp) return;
      mark[v] = stamp;
      chosen.push_back(v);
    };
    std::sort(watchers[u].begin(), watchers[u].end(), HigherScore{});
    for (const auto& duty : watchers[u]) take(duty.target);
    const auto& ring = groups_[group_of_[u]];
    for (std::size_t step = 1; step <= ring_k[group_of_[u]]; ++step)
      take(ring[(ring_index_[u] + step) % ring.size()]);
    std::sort(pairs[u].begin(), pairs[u].end(), HigherScore{});
    for (const auto& duty : pairs[u]) take(duty.target);
    if (chosen.size() < max_peers && groups_.size() > 1)
      fill(u, max_peers - chosen.size(), chosen, mark, candidates);
    std::sort(chosen.begin(), chosen.end());
  }
}

// Spends `room` probes on other groups' nodes by weighted rendezvous: node v's key is
// -ln(U)/w(v), U uniform from score(from, v), w(v) how many probers v still lacks to reach the
// budget's in-degree; the `room` lowest keys win. Each node is then chosen with a probability
// proportional to what it lacks, which evens the in-degrees out, and a node joining or leaving
// changes a node's choice only where its key is among the lowest, as plain rendezvous.
// Computing a logarithm for every pair would dominate the graph's cost: `threshold_[v]` keeps
// only scores whose key is below a bound (about twice the budget's worth of candidates), and a
// node whose choice that bound cannot prove falls back to every pair.
void ProbeGraph::fill(std::size_t from, std::size_t room, std::vector<std::uint32_t>& chosen,
                      std::vector<std::uint32_t>& mark, std::vector<Keyed>& candidates) const {
  const std::uint32_t stamp = static_cast<std::uint32_t>(from + 1);
  const std::uint32_t own = group_of_[from];
  auto add = [&](std::size_t v, std::uint64_t x) {
    if (group_of_[v] == own || mark[v] == stamp) return;
    // U in (0, 1): the score's top 53 bits as a fraction, never 0.
    const double u = (static_cast<double>(x >> 11) + 0.5) * 0x1.0p-53;
    candidates.push_back(
        {-std::log(u) / static_cast<double>(lack_[v]), static_cast<std::uint32_t>(v)});
  };
  auto gather = [&](bool all) {
    candidates.clear();
    const std::uint64_t h = hash_[from];
    const std::size_t n = nodes_.size();
    if (all) {
      for (std::size_t v = 0; v < n; ++v)
        if (lack_[v] > 0) add(v, mix64(h ^ peer_key_[v]));
      return;
    }
    // The hot loop of the whole graph: one score and one comparison per pair.
    for (std::size_t v = 0; v < n; ++v) {
      const std::uint64_t x = mix64(h ^ peer_key_[v]);
      if (x > threshold_[v]) add(v, x);
    }
  };
  auto lower = [](const Keyed& a, const Keyed& b) {
    return a.key != b.key ? a.key < b.key : a.target < b.target;
  };
  auto select = [&] {
    const std::size_t count = std::min(room, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
                      candidates.end(), lower);
    candidates.resize(count);
  };
  gather(false);
  select();
  // Proven when `room` candidates were found and the last of them lies clearly below the bound
  // every node left out is above.
  if (candidates.size() < room || candidates.back().key >= key_bound_ * (1 - 1e-9)) {
    gather(true);
    select();
  }
  for (const auto& c : candidates) {
    mark[c.target] = stamp;
    chosen.push_back(c.target);
  }
}

void ProbeGraph::count() {
  const std::size_t n = nodes_.size();
  in_degree_.assign(n, 0);
  const std::size_t g = groups_.size();
  std::vector<bool> linked(g * g, false);
  for (std::size_t u = 0; u < n; ++u) {
    for (std::uint32_t v : out_[u]) {
      ++in_degree_[v];
      const std::size_t a = group_of_[u], b = group_of_[v];
      if (a != b) linked[std::min(a, b) * g + std::max(a, b)] = true;
    }
  }
  coverage_.groups = g;
  coverage_.pairs = g * (g - 1) / 2;
  coverage_.covered = static_cast<std::size_t>(std::count(linked.begin(), linked.end(), true));
}

ProbeSelection select_probes(std::vector<GraphNode> nodes, const GraphNode& self,
                             std::size_t max_peers) {
  // This node is in the graph even when the list does not name it yet.
  if (std::none_of(nodes.begin(), nodes.end(),
                   [&](const GraphNode& node) { return node.name == self.name; }))
    nodes.push_back(self);
  ProbeGraph graph(std::move(nodes), max_peers);
  ProbeSelection selection;
  selection.nodes = graph.size();
  selection.coverage = graph.coverage();
  if (auto index = graph.find(self.name)) {
    for (std::uint32_t v : graph.out(*index)) selection.peers.push_back(graph.node(v).name);
    selection.probed_by = graph.in_degree(*index);
  }
  return selection;
}

const ProbeSelection& ProbeGraphCache::select(std::vector<GraphNode> nodes, const GraphNode& self,
                                              std::size_t max_peers) {
  std::sort(nodes.begin(), nodes.end(), [](const GraphNode& a, const GraphNode& b) {
    return a.name != b.name ? a.name < b.name : a.group < b.group;
  });
  auto same = [](const GraphNode& a, const GraphNode& b) {
    return a.name == b.name && a.group == b.group;
  };
  const bool unchanged = builds_ > 0 && max_peers == max_peers_ && same(self, self_) &&
                         std::equal(nodes.begin(), nodes.end(), nodes_.begin(), nodes_.end(), same);
  if (!unchanged) {
    selection_ = select_probes(nodes, self, max_peers);
    nodes_ = std::move(nodes);
    self_ = self;
    max_peers_ = max_peers;
    ++builds_;
  }
  return selection_;
}

}  // namespace podpath::prober
