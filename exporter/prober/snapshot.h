// The prober's published results, and how they become metric families. The event loop builds
// a Snapshot from its state and publishes it; the collector copies the latest one, so a
// scrape never waits for the loop. to_families() is pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/family.h"
#include "model/ip.h"
#include "prober/plan.h"

namespace podpath::prober {

struct TargetResult {
  PeerLabels labels;
  TargetKind target = TargetKind::kOverlay;
  std::uint64_t requests = 0;  // every attempt, including those whose send failed
  std::uint64_t responses = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t late = 0;
  std::map<std::string, std::uint64_t> send_errors;  // by errno name
  metrics::Histogram rtt;
  model::Family family = model::Family::kIpv4;  // IPv6 results live in Snapshot::targets_v6
};

struct PathMtuResult {
  PeerLabels labels;
  int bytes = 0;
};

struct ExposureResult {
  PeerLabels labels;
  model::IpAddress address;  // IPv4 or, on an IPv6 road (labels.family), IPv6
  bool exposed = false;
};

struct Snapshot {
  std::vector<TargetResult> targets;
  std::vector<PathMtuResult> path_mtu;
  // IPv6 targets and searches, kept apart from the IPv4 ones; every result's labels carry its
  // family (PeerLabels::family).
  std::vector<TargetResult> targets_v6;
  std::vector<PathMtuResult> path_mtu_v6;
  // Peers (and the family of their road) whose first search has not finished.
  std::vector<std::pair<std::string, model::Family>> path_mtu_pending;
  std::vector<ExposureResult> exposure;
  std::size_t peers_total = 0;
  std::size_t peers_probed = 0;
  std::size_t probed_by = 0;              // nodes whose probes include this node (probe_graph.h)
  std::size_t group_pairs = 0;            // pairs of distinct groups in the cluster
  std::size_t group_pairs_covered = 0;    // of which the graph probes at least one node pair
  std::uint64_t timestamp_fallbacks = 0;  // replies timed with the monotonic clock
  std::uint64_t receive_drops = 0;        // replies lost to a full socket queue
  std::string socket_mode;                // raw or datagram
  bool kernel_timestamps = false;
  std::string socket_mode_v6;  // empty without an ICMPv6 socket
  bool kernel_timestamps_v6 = false;
  double published_unix_seconds = 0;  // when the loop built it
};

std::vector<metrics::MetricFamily> to_families(const Snapshot& snapshot);

}  // namespace podpath::prober
