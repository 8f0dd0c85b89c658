#include "metrics/budget.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#include "base/hash.h"

namespace podpath::metrics {

namespace {

// Per-peer series that stay whatever the budget: what PodpathPeerUnreachable and
// PodpathNodeUnprobed read. There are two per target of each probed road, so the probe graph's
// --prober.max-peers bounds them.
bool always_kept(std::string_view family) {
  return family == "podpath_probe_requests_total" || family == "podpath_probe_responses_total";
}

bool group_aggregate(std::string_view family) {
  return family.starts_with("podpath_group_probe_");
}

std::string_view label(const Labels& labels, std::string_view name) {
  for (const auto& [key, value] : labels)
    if (key == name) return value;
  return {};
}

// A series about one peer: its `peer` label is set (this node's own findings have it empty).
bool names_a_peer(const Labels& labels) {
  return !label(labels, "peer").empty();
}

// A unit the budget admits or withholds whole: a peer's detail, or a group's aggregates.
struct Unit {
  std::string name;  // the peer, or the group
  bool is_group = false;
  bool trouble = false;    // a peer a warning or critical finding names
  bool own_group = false;  // a peer or group of this node's group (same_group="true")
  bool probed = false;     // a peer this node probes (it has probe requests)
  std::string group;       // a peer's group (peer_group)
  bool redundant = false;  // a group whose probed peers are all kept in detail
  std::size_t series = 0;
  std::size_t bytes = 0;
  bool kept = false;

  // Lower first: this node's group's aggregates; probed peers in trouble; other groups'
  // aggregates; probed peers of this node's group; other probed peers; peers in trouble that
  // this node does not probe (their findings); the rest (what the kernel and the API say of
  // peers this node does not probe).
  int priority() const {
    if (is_group) return own_group ? 0 : 2;
    if (probed) return trouble ? 1 : own_group ? 3 : 4;
    return trouble ? 5 : 6;
  }
};

// The bytes a metric's lines take in text format 0.0.4, estimated without rendering: names,
// labels (escaping aside), a value of kValueBytes, and per bucket its `le`.
constexpr std::size_t kValueBytes = 12;
constexpr std::size_t kBucketLabelBytes = 16;  // ,le="0.0016384"

std::size_t labels_bytes(const Labels& labels) {
  std::size_t n = 2;                                                           // {}
  for (const auto& [key, value] : labels) n += key.size() + value.size() + 4;  // k="v",
  return n;
}

std::size_t text_bytes_of(const MetricFamily& family, const Metric& metric) {
  const std::size_t labels = labels_bytes(metric.labels);
  const std::size_t line = labels + kValueBytes + 2;  // the space and the newline
  if (family.type != MetricType::kHistogram) return family.name.size() + line;
  const std::size_t buckets = metric.histogram.upper_bounds.size() + 1;  // and +Inf
  return buckets * (family.name.size() + 7 + line + kBucketLabelBytes) +
         (family.name.size() + 4 + line) + (family.name.size() + 6 + line);
}

// # HELP and # TYPE of a family.
std::size_t header_bytes(const MetricFamily& family) {
  return 2 * family.name.size() + family.help.size() + 30;
}

}  // namespace

std::size_t series_of(const MetricFamily& family, const Metric& metric) {
  if (family.type == MetricType::kHistogram) return metric.histogram.upper_bounds.size() + 3;
  return 1;
}

namespace {

// Keyed by (is a group, name): a peer and a group may share a name.
using Units = std::map<std::pair<bool, std::string>, Unit>;

// Series and estimated text bytes.
struct Size {
  std::size_t series = 0;
  std::size_t bytes = 0;
};

// Reads a scrape into its units; `always` gets what is kept whatever the budget (the gauges
// reporting the outcome included: the same series whatever it is), `before` the whole.
Units read_units(const std::vector<MetricFamily>& families, const SeriesBudget& budget,
                 Size& always, Size& before) {
  Units units;
  auto unit_of = [&](bool is_group, std::string_view name) -> Unit& {
    Unit& unit = units[{is_group, std::string(name)}];
    unit.is_group = is_group;
    unit.name = name;
    return unit;
  };
  for (const auto& family : budget_families(budget, {})) {
    always.bytes += header_bytes(family);
    for (const auto& metric : family.metrics) {
      always.series += series_of(family, metric);
      always.bytes += text_bytes_of(family, metric);
    }
  }
  before = always;
  for (const auto& family : families) {
    const bool aggregate = group_aggregate(family.name);
    // (a family the budget empties saves its header too; it is counted as kept)
    always.bytes += header_bytes(family);
    before.bytes += header_bytes(family);
    for (const auto& metric : family.metrics) {
      const Size size{series_of(family, metric), text_bytes_of(family, metric)};
      before.series += size.series;
      before.bytes += size.bytes;
      const bool names_peer = names_a_peer(metric.labels);
      if (!aggregate && (!names_peer || always_kept(family.name))) {
        always.series += size.series;
        always.bytes += size.bytes;
      }
      if (!aggregate && !names_peer) continue;
      Unit& unit = aggregate ? unit_of(true, label(metric.labels, "peer_group"))
                             : unit_of(false, label(metric.labels, "peer"));
      if (aggregate || !always_kept(family.name)) {
        unit.series += size.series;
        unit.bytes += size.bytes;
      }
      if (family.name == "podpath_probe_requests_total") unit.probed = true;
      if (!aggregate) unit.group = label(metric.labels, "peer_group");
      if (label(metric.labels, "same_group") == "true") unit.own_group = true;
      if (family.name == "podpath_finding") {
        const auto severity = label(metric.labels, "severity");
        unit.trouble = unit.trouble || severity == "warning" || severity == "critical";
      }
    }
  }
  return units;
}

// Which units a budget keeps, starting from what is kept always.
class Admission {
 public:
  Admission(Units& units, const SeriesBudget& budget, Size always)
      : units_(units), budget_(budget), kept_(always) {
    // The order within a priority: this node's group first among groups, then a score of
    // this node's name and the unit's, so each node of a large group details other peers.
    const std::uint64_t self = base::stable_hash(budget.self);
    for (auto& [key, unit] : units) {
      const std::uint64_t score =
          unit.is_group && unit.own_group ? 0 : base::mix64(self ^ base::stable_hash(unit.name));
      order_.push_back({{unit.priority(), score, unit.name}, &unit});
    }
    std::sort(order_.begin(), order_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  // Every unit not yet kept that fits, in order.
  void admit() {
    for (auto& [rank, unit] : order_)
      if (!unit->kept && !unit->redundant && fits(unit->series, unit->bytes)) keep(*unit);
  }

  // A group's sums add nothing once every probed peer of it is kept in detail (its RTT and
  // loss are then the sum of theirs). So the sums give way where their room, with what is
  // left, keeps all of the group's probed peers in detail; what they free beyond that goes
  // to the next units in order. Each round drops at least one group's sums, so this ends.
  // Without any limit every series is kept, redundant or not.
  void drop_redundant_sums() {
    for (bool dropped = budget_.max_series != 0 || budget_.max_bytes != 0; dropped;) {
      dropped = false;
      for (auto& [key, group] : units_)
        if (group.is_group && !group.redundant) dropped = give_way(group) || dropped;
      if (dropped) admit();
    }
  }

  Size kept() const { return kept_; }

 private:
  bool fits(std::size_t series, std::size_t bytes) const {
    return (budget_.max_series == 0 || kept_.series + series <= budget_.max_series) &&
           (budget_.max_bytes == 0 || kept_.bytes + bytes <= budget_.max_bytes);
  }
  void keep(Unit& unit) {
    unit.kept = true;
    kept_.series += unit.series;
    kept_.bytes += unit.bytes;
  }

  // Drops the group's sums if that keeps every probed peer of the group in detail.
  bool give_way(Unit& group) {
    std::vector<Unit*> missing;
    Size need;
    for (auto& [key, peer] : units_)
      if (!peer.is_group && peer.probed && peer.group == group.name && !peer.kept) {
        missing.push_back(&peer);
        need.series += peer.series;
        need.bytes += peer.bytes;
      }
    const Size freed = group.kept ? Size{group.series, group.bytes} : Size{};
    if (!missing.empty() && !fits(need.series - std::min(need.series, freed.series),
                                  need.bytes - std::min(need.bytes, freed.bytes)))
      return false;
    group.redundant = true;
    if (group.kept) {
      group.kept = false;
      kept_.series -= group.series;
      kept_.bytes -= group.bytes;
    }
    for (Unit* peer : missing) keep(*peer);
    return true;
  }

  Units& units_;
  const SeriesBudget& budget_;
  Size kept_;
  std::vector<std::pair<std::tuple<int, std::uint64_t, std::string_view>, Unit*>> order_;
};

// Removes the series of the units not kept, and the families they leave empty.
void erase_withheld(std::vector<MetricFamily>& families, const Units& units) {
  for (auto& family : families) {
    const bool aggregate = group_aggregate(family.name);
    if (!aggregate && always_kept(family.name)) continue;
    std::erase_if(family.metrics, [&](const Metric& metric) {
      if (aggregate) return !units.at({true, std::string(label(metric.labels, "peer_group"))}).kept;
      if (!names_a_peer(metric.labels)) return false;
      return !units.at({false, std::string(label(metric.labels, "peer"))}).kept;
    });
  }
  std::erase_if(families, [](const MetricFamily& family) { return family.metrics.empty(); });
}

}  // namespace

BudgetOutcome apply_series_budget(std::vector<MetricFamily>& families, const SeriesBudget& budget) {
  Size always, before;
  Units units = read_units(families, budget, always, before);
  Admission admission(units, budget, always);
  admission.admit();
  admission.drop_redundant_sums();

  BudgetOutcome outcome;
  outcome.series_before = before.series;
  outcome.bytes_before = before.bytes;
  outcome.series_kept = admission.kept().series;
  outcome.bytes_kept = admission.kept().bytes;
  for (const auto& [key, unit] : units) {
    if (unit.is_group)
      ++(unit.kept        ? outcome.groups_aggregated
         : unit.redundant ? outcome.groups_redundant
                          : outcome.groups_withheld);
    else
      ++(unit.kept ? outcome.peers_detailed : outcome.peers_summarised);
  }
  if (outcome.series_kept != outcome.series_before) erase_withheld(families, units);
  return outcome;
}

std::vector<MetricFamily> budget_families(const SeriesBudget& budget,
                                          const BudgetOutcome& outcome) {
  MetricFamily max("podpath_series_budget_max_series",
                   "The most series a scrape keeps (--metrics.max-series; 0: no limit).",
                   MetricType::kGauge);
  max.add({}, static_cast<double>(budget.max_series));
  MetricFamily max_bytes("podpath_series_budget_max_bytes",
                         "The most bytes of text exposition a scrape keeps "
                         "(--metrics.max-bytes; 0: no limit).",
                         MetricType::kGauge);
  max_bytes.add({}, static_cast<double>(budget.max_bytes));
  MetricFamily bytes("podpath_series_budget_bytes",
                     "Bytes of the last scrape in text format as the budget estimates them, by "
                     "whether it kept or withheld them.",
                     MetricType::kGauge);
  bytes.add({{"state", "kept"}}, static_cast<double>(outcome.bytes_kept));
  bytes.add({{"state", "withheld"}},
            static_cast<double>(outcome.bytes_before - outcome.bytes_kept));
  MetricFamily series("podpath_series_budget_series",
                      "Series of the last scrape, by whether the budget kept them or withheld "
                      "them (peers' detail and groups' aggregates that did not fit).",
                      MetricType::kGauge);
  series.add({{"state", "kept"}}, static_cast<double>(outcome.series_kept));
  series.add({{"state", "withheld"}},
             static_cast<double>(outcome.series_before - outcome.series_kept));
  MetricFamily peers("podpath_series_budget_peers",
                     "Peers of the last scrape by detail: full (every series naming them) or "
                     "summary (the probe requests and responses of a probed peer, else nothing).",
                     MetricType::kGauge);
  peers.add({{"detail", "full"}}, static_cast<double>(outcome.peers_detailed));
  peers.add({{"detail", "summary"}}, static_cast<double>(outcome.peers_summarised));
  MetricFamily groups("podpath_series_budget_groups",
                      "Peer groups of the last scrape by whether their probe sums "
                      "(podpath_group_probe_*) were kept, withheld, or left out as redundant "
                      "(every probed peer of the group kept in detail).",
                      MetricType::kGauge);
  groups.add({{"state", "kept"}}, static_cast<double>(outcome.groups_aggregated));
  groups.add({{"state", "withheld"}}, static_cast<double>(outcome.groups_withheld));
  groups.add({{"state", "redundant"}}, static_cast<double>(outcome.groups_redundant));
  return {max, max_bytes, series, bytes, peers, groups};
}

}  // namespace podpath::metrics
