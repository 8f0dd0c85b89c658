// The series budget of one scrape: which per-peer series a node exports when its peers would
// cost more than the budget (docs/decisions/0010-a-series-budget-per-node.md).
//
// A scrape's series fall into units, and the budget admits whole units in priority order:
//  1. always: every series without a `peer` label (the node's own state; the per-group
//     aggregates are units of their own, below), every probed peer's probe requests and
//     responses (PodpathPeerUnreachable and PodpathNodeUnprobed name each probed pair from
//     them), and the podpath_series_budget_* gauges that report the outcome;
//  2. this node's group's aggregates (podpath_group_probe_*), while some probed peer of the
//     group is not kept in detail (a group whose peers all are needs no sums: they are the
//     sum of its peers' series, and their room goes to other peers);
//  3. the detail (every other series naming it, its findings too) of each probed peer in
//     trouble: a warning or critical finding names it, so each alert's own series are there;
//  4. the other groups' aggregates;
//  5. the detail of the probed peers of this node's group, then of the other probed peers;
//  6. what the kernel and the API say of the peers this node does not probe, those with
//     findings first.
// Within each the order is a score of this node's and the peer's (or group's) name, so the
// nodes of a large group do not all detail the same few peers. A unit that does not fit is
// skipped whole: a peer's series are all there or its detail is all withheld. podpath_findings
// (the analysis') still counts every finding by code.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "metrics/family.h"

namespace podpath::metrics {

struct SeriesBudget {
  std::size_t max_series = 1500;  // 0: no limit on series
  std::string self;               // this node's name, for the order within a priority
  // The text exposition's size at most (uncompressed, estimated: metrics/budget.cc); 0: none.
  std::size_t max_bytes = 150'000;
};

struct BudgetOutcome {
  std::size_t series_before = 0;
  std::size_t series_kept = 0;   // may exceed the budget when the always-kept units do
  std::size_t bytes_before = 0;  // estimated text bytes
  std::size_t bytes_kept = 0;
  std::size_t peers_detailed = 0;
  std::size_t peers_summarised = 0;  // probe requests and responses only, or nothing
  std::size_t groups_aggregated = 0;
  std::size_t groups_withheld = 0;
  std::size_t groups_redundant = 0;  // every probed peer of the group kept in detail
};

// The series a metric shows in the text formats: one per sample, and for a histogram one per
// bucket, +Inf, _sum and _count.
std::size_t series_of(const MetricFamily& family, const Metric& metric);

// Drops the units that do not fit from `families` (a family left empty goes too).
BudgetOutcome apply_series_budget(std::vector<MetricFamily>& families, const SeriesBudget& budget);

// podpath_series_budget_*: the budget and what it kept, from an outcome.
std::vector<MetricFamily> budget_families(const SeriesBudget& budget, const BudgetOutcome& outcome);

}  // namespace podpath::metrics
