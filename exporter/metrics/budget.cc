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

BudgetOutcome apply_series_budget(std::vector<MetricFamily>& families, const SeriesBudget& budget) {
  BudgetOutcome outcome;
  // Keyed by (is a group, name): a peer and a group may share a name.
  std::map<std::pair<bool, std::string>, Unit> units;
  auto unit_of = [&](bool is_group, std::string_view name) -> Unit& {
    Unit& unit = units[{is_group, std::string(name)}];
    unit.is_group = is_group;
    unit.name = name;
    return unit;
  };
  // The gauges that report this outcome count as kept from the start (the same series
  // whatever the outcome), so the scrape with them stays within the budget.
  std::size_t always = 0, always_bytes = 0;
  for (const auto& family : budget_families(budget, {})) {
    always_bytes += header_bytes(family);
    for (const auto& metric : family.metrics) {
      always += series_of(family, metric);
      always_bytes += text_bytes_of(family, metric);
    }
  }
  outcome.series_before = always;
  outcome.bytes_before = always_bytes;
  for (const auto& family : families) {
    const bool aggregate = group_aggregate(family.name);
    // (a family the budget empties saves its header too; it is counted as kept)
    always_bytes += header_bytes(family);
    outcome.bytes_before += header_bytes(family);
    for (const auto& metric : family.metrics) {
      const std::size_t n = series_of(family, metric);
      const std::size_t bytes = text_bytes_of(family, metric);
      outcome.series_before += n;
      outcome.bytes_before += bytes;
      const bool names_peer = names_a_peer(metric.labels);
      if (!aggregate && (!names_peer || always_kept(family.name))) {
        always += n;
        always_bytes += bytes;
      }
      if (!aggregate && !names_peer) continue;
      Unit& unit = aggregate ? unit_of(true, label(metric.labels, "peer_group"))
                             : unit_of(false, label(metric.labels, "peer"));
      if (aggregate || !always_kept(family.name)) {
        unit.series += n;
        unit.bytes += bytes;
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

  // The order within a priority: this node's group first among groups, then a score of this
  // node's name and the unit's, so each node of a large group details other peers.
  const std::uint64_t self = base::stable_hash(budget.self);
  auto score = [&](const Unit& unit) {
    if (unit.is_group && unit.own_group) return std::uint64_t{0};
    return base::mix64(self ^ base::stable_hash(unit.name));
  };
  std::vector<std::pair<std::tuple<int, std::uint64_t, std::string_view>, Unit*>> order;
  for (auto& [key, unit] : units)
    order.push_back({{unit.priority(), score(unit), unit.name}, &unit});
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t kept = always, kept_bytes = always_bytes;
  auto admit = [&] {
    for (auto& [rank, unit] : order) {
      if (unit->kept || unit->redundant) continue;
      if (budget.max_series != 0 && kept + unit->series > budget.max_series) continue;
      if (budget.max_bytes != 0 && kept_bytes + unit->bytes > budget.max_bytes) continue;
      unit->kept = true;
      kept += unit->series;
      kept_bytes += unit->bytes;
    }
  };
  admit();
  // A group's sums add nothing once every probed peer of it is kept in detail (its RTT and
  // loss are then the sum of theirs). So the sums give way where their room, with what is
  // left, keeps all of the group's probed peers in detail; what they free beyond that goes to
  // the next units in order. Each round drops at least one group's sums, so this ends.
  auto fits = [&](std::size_t series, std::size_t bytes) {
    return (budget.max_series == 0 || kept + series <= budget.max_series) &&
           (budget.max_bytes == 0 || kept_bytes + bytes <= budget.max_bytes);
  };
  // (no limit at all: every series is kept, redundant or not)
  for (bool dropped = budget.max_series != 0 || budget.max_bytes != 0; dropped;) {
    dropped = false;
    for (auto& [key, group] : units) {
      if (!group.is_group || group.redundant) continue;
      std::vector<Unit*> missing;
      std::size_t series = 0, bytes = 0;
      for (auto& [peer_key, peer] : units)
        if (!peer.is_group && peer.probed && peer.group == group.name && !peer.kept) {
          missing.push_back(&peer);
          series += peer.series;
          bytes += peer.bytes;
        }
      const std::size_t freed_series = group.kept ? group.series : 0;
      const std::size_t freed_bytes = group.kept ? group.bytes : 0;
      if (!missing.empty() &&
          !fits(series - std::min(series, freed_series), bytes - std::min(bytes, freed_bytes)))
        continue;
      group.redundant = true;
      if (group.kept) {
        group.kept = false;
        kept -= group.series;
        kept_bytes -= group.bytes;
      }
      for (Unit* peer : missing) {
        peer->kept = true;
        kept += peer->series;
        kept_bytes += peer->bytes;
      }
      dropped = true;
    }
    if (dropped) admit();
  }
  outcome.series_kept = kept;
  outcome.bytes_kept = kept_bytes;
  for (const auto& [key, unit] : units) {
    if (unit.is_group)
      ++(unit.kept        ? outcome.groups_aggregated
         : unit.redundant ? outcome.groups_redundant
                          : outcome.groups_withheld);
    else
      ++(unit.kept ? outcome.peers_detailed : outcome.peers_summarised);
  }
  if (kept == outcome.series_before) return outcome;  // nothing withheld

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
