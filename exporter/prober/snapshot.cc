#include "prober/snapshot.h"

namespace podpath::prober {

namespace {

metrics::Labels target_labels(const TargetResult& result) {
  // Every per-peer series says its family (PeerLabels), IPv4 ones too: a dual-stack peer has
  // two of each, and a query that matches or aggregates by peer keeps them apart by family.
  auto labels = result.labels.pairs();
  labels.emplace_back("target", std::string(to_string(result.target)));
  return labels;
}

using metrics::MetricFamily;
using metrics::MetricType;

// Per echo target: RTT, requests, responses, duplicates, late replies, send errors.
std::vector<MetricFamily> target_families(const std::vector<TargetResult>& targets,
                                          const std::vector<TargetResult>& targets_v6) {
  MetricFamily rtt("podpath_probe_rtt_seconds",
                   "ICMP echo round trip to the peer, from kernel timestamps where available.",
                   MetricType::kHistogram);
  MetricFamily requests("podpath_probe_requests_total",
                        "Echo requests the prober attempted to send, including failed sends.",
                        MetricType::kCounter);
  MetricFamily responses("podpath_probe_responses_total",
                         "Echo replies received before the timeout.", MetricType::kCounter);
  MetricFamily duplicates("podpath_probe_duplicate_responses_total",
                          "Further replies to an echo request already answered.",
                          MetricType::kCounter);
  MetricFamily late("podpath_probe_late_responses_total",
                    "Replies that arrived after their request had timed out.",
                    MetricType::kCounter);
  MetricFamily errors("podpath_probe_send_errors_total",
                      "Echo requests the kernel refused or reported undeliverable, by errno.",
                      MetricType::kCounter);
  auto add = [&](const TargetResult& target) {
    auto labels = target_labels(target);
    rtt.add_histogram(labels, target.rtt);
    requests.add(labels, static_cast<double>(target.requests));
    responses.add(labels, static_cast<double>(target.responses));
    duplicates.add(labels, static_cast<double>(target.duplicates));
    late.add(labels, static_cast<double>(target.late));
    for (const auto& [reason, count] : target.send_errors) {
      auto with_reason = labels;
      with_reason.emplace_back("reason", reason);
      errors.add(std::move(with_reason), static_cast<double>(count));
    }
  };
  for (const auto& target : targets) add(target);
  for (const auto& target : targets_v6) add(target);
  return {rtt, requests, responses, duplicates, late, errors};
}

MetricFamily path_mtu_family(const std::vector<PathMtuResult>& results,
                             const std::vector<PathMtuResult>& results_v6) {
  MetricFamily mtu("podpath_peer_path_mtu_bytes",
                   "The largest packet the overlay path to the peer carries.", MetricType::kGauge);
  auto add = [&](const PathMtuResult& result) {
    auto labels = result.labels.pairs();
    labels.emplace_back("source", "probed");
    mtu.add(std::move(labels), result.bytes);
  };
  for (const auto& result : results) add(result);
  for (const auto& result : results_v6) add(result);
  return mtu;
}

MetricFamily exposure_family(const std::vector<ExposureResult>& results) {
  MetricFamily exposed("podpath_vxlan_exposed",
                       "1 when the peer's VXLAN port answered an encapsulated probe sent to this "
                       "public address.",
                       MetricType::kGauge);
  for (const auto& result : results) {
    auto labels = result.labels.pairs();
    labels.emplace_back("address", result.address.to_string());
    exposed.add(std::move(labels), result.exposed ? 1 : 0);
  }
  return exposed;
}

// The prober about itself: the probe graph, timestamp fallbacks, queue drops, its socket.
std::vector<MetricFamily> self_families(const Snapshot& snapshot) {
  MetricFamily peers(
      "podpath_prober_peers",
      "Peers known, by whether this node's part of the probe graph (--prober.max-peers) "
      "includes them.",
      MetricType::kGauge);
  peers.add({{"selection", "probed"}}, static_cast<double>(snapshot.peers_probed));
  peers.add({{"selection", "skipped"}},
            static_cast<double>(snapshot.peers_total - snapshot.peers_probed));
  MetricFamily probed_by("podpath_prober_probed_by_nodes",
                         "Nodes whose probes include this node, from the probe graph every node "
                         "computes from the cluster's node list.",
                         MetricType::kGauge);
  probed_by.add({}, static_cast<double>(snapshot.probed_by));
  MetricFamily group_pairs("podpath_prober_group_pairs",
                           "Pairs of groups in the cluster, by whether the probe graph probes at "
                           "least one pair of their nodes.",
                           MetricType::kGauge);
  group_pairs.add({{"coverage", "covered"}}, static_cast<double>(snapshot.group_pairs_covered));
  group_pairs.add({{"coverage", "uncovered"}},
                  static_cast<double>(snapshot.group_pairs - snapshot.group_pairs_covered));
  MetricFamily fallbacks("podpath_prober_timestamp_fallbacks_total",
                         "Replies timed with the monotonic clock because a kernel timestamp "
                         "was missing.",
                         MetricType::kCounter);
  fallbacks.add({}, static_cast<double>(snapshot.timestamp_fallbacks));
  MetricFamily drops("podpath_prober_receive_drops_total",
                     "Packets the kernel dropped because the prober's socket queue was full "
                     "(their probes count as lost).",
                     MetricType::kCounter);
  drops.add({}, static_cast<double>(snapshot.receive_drops));
  MetricFamily socket("podpath_prober_socket_info",
                      "The ICMP socket the prober uses and where its timestamps come from.",
                      MetricType::kInfo);
  socket.add({{"mode", snapshot.socket_mode},
              {"timestamps", snapshot.kernel_timestamps ? "kernel" : "user"},
              {"family", "ipv4"}},
             1);
  if (!snapshot.socket_mode_v6.empty())
    socket.add({{"mode", snapshot.socket_mode_v6},
                {"timestamps", snapshot.kernel_timestamps_v6 ? "kernel" : "user"},
                {"family", "ipv6"}},
               1);
  return {peers, probed_by, group_pairs, fallbacks, drops, socket};
}

}  // namespace

std::vector<metrics::MetricFamily> to_families(const Snapshot& snapshot) {
  std::vector<MetricFamily> families = target_families(snapshot.targets, snapshot.targets_v6);
  families.push_back(path_mtu_family(snapshot.path_mtu, snapshot.path_mtu_v6));
  families.push_back(exposure_family(snapshot.exposure));
  for (auto& family : self_families(snapshot)) families.push_back(std::move(family));
  return families;
}

}  // namespace podpath::prober
