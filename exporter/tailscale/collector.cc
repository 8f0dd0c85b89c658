#include "tailscale/collector.h"

#include "model/peer_labels.h"

namespace podpath::tailscale {

namespace {

using metrics::Labels;
using metrics::MetricFamily;
using metrics::MetricType;

Labels peer_labels(const MappedPeer& mapped) {
  return model::PeerLabels{mapped.peer, mapped.group, mapped.same_group}.pairs(
      {{"tailscale_peer", display_name(mapped.tailscale)}});
}

Labels with(Labels labels, std::initializer_list<std::pair<std::string, std::string>> more) {
  labels.insert(labels.end(), more.begin(), more.end());
  return labels;
}

// tailscaled itself: version and backend state, peers mapped or not, unreadable entries.
void add_status_families(const Status& status, const Mapping& mapping,
                         std::vector<MetricFamily>& families) {
  MetricFamily info("podpath_tailscale_info", "tailscaled's version and backend state.",
                    MetricType::kInfo);
  info.add({{"backend_state", status.backend_state}, {"version", status.version}}, 1);
  MetricFamily peers("podpath_tailscale_peers",
                     "Tailscale peers, by whether a cluster peer maps to them.",
                     MetricType::kGauge);
  peers.add({{"mapped", "true"}},
            static_cast<double>(status.peers.size() - mapping.unmapped_tailscale));
  peers.add({{"mapped", "false"}}, static_cast<double>(mapping.unmapped_tailscale));
  MetricFamily errors(
      "podpath_tailscale_peer_read_errors",
      "Peer entries of the LocalAPI status that could not be read and are left out.",
      MetricType::kGauge);
  errors.add({}, static_cast<double>(status.peer_errors.size()));
  families.push_back(std::move(info));
  families.push_back(std::move(peers));
  families.push_back(std::move(errors));
}

// Per cluster peer with a Tailscale peer: transport, traffic, last handshake, online.
void add_peer_families(const std::vector<MappedPeer>& mapped_peers,
                       std::vector<MetricFamily>& families) {
  MetricFamily transport(
      "podpath_tailscale_peer_transport_info",
      "How Tailscale carries traffic to the cluster peer: direct, peer-relay, derp (derp_region "
      "names the relay), no-handshake (sending, no WireGuard session), idle (no traffic in two "
      "minutes), offline or unknown; match says why the Tailscale peer belongs to the cluster "
      "peer.",
      MetricType::kInfo);
  MetricFamily rx(
      "podpath_tailscale_peer_rx_bytes_total",
      "Bytes received from the cluster peer's Tailscale peer, as tailscaled counts them.",
      MetricType::kCounter);
  MetricFamily tx("podpath_tailscale_peer_tx_bytes_total",
                  "Bytes sent to the cluster peer's Tailscale peer, as tailscaled counts them.",
                  MetricType::kCounter);
  MetricFamily handshake("podpath_tailscale_peer_last_handshake_timestamp_seconds",
                         "Unix time of the last WireGuard handshake with the cluster peer's "
                         "Tailscale peer; 0 when there has never been one.",
                         MetricType::kGauge);
  MetricFamily online(
      "podpath_tailscale_peer_online",
      "1 when the coordination server sees the cluster peer's Tailscale peer online.",
      MetricType::kGauge);
  for (const MappedPeer& mapped : mapped_peers) {
    Labels labels = peer_labels(mapped);
    transport.add(with(labels, {{"transport", std::string(to_string(mapped.path.transport))},
                                {"derp_region", mapped.path.derp_region},
                                {"match", std::string(to_string(mapped.match()))}}),
                  1);
    rx.add(labels, static_cast<double>(mapped.tailscale.rx_bytes));
    tx.add(labels, static_cast<double>(mapped.tailscale.tx_bytes));
    handshake.add(labels, mapped.tailscale.last_handshake_unix_seconds.value_or(0));
    online.add(std::move(labels), mapped.tailscale.online ? 1 : 0);
  }
  for (auto* family : {&transport, &rx, &tx, &handshake, &online})
    if (!family->metrics.empty()) families.push_back(std::move(*family));
}

// This node's packets and bytes by direction and path, from tailscaled's client metrics.
void add_path_families(const std::vector<PathCounter>& counters,
                       std::vector<MetricFamily>& families) {
  MetricFamily packets("podpath_tailscale_packets_total",
                       "This node's Tailscale packets by direction and path (derp, direct_ipv4, "
                       "peer_relay_ipv4, ...), from tailscaled's client metrics.",
                       MetricType::kCounter);
  MetricFamily bytes("podpath_tailscale_bytes_total",
                     "This node's Tailscale bytes by direction and path, from tailscaled's "
                     "client metrics.",
                     MetricType::kCounter);
  for (const PathCounter& c : counters) {
    if (c.packets) packets.add({{"direction", c.direction}, {"path", c.path}}, *c.packets);
    if (c.bytes) bytes.add({{"direction", c.direction}, {"path", c.path}}, *c.bytes);
  }
  if (!packets.metrics.empty()) families.push_back(std::move(packets));
  if (!bytes.metrics.empty()) families.push_back(std::move(bytes));
}

}  // namespace

metrics::CollectResult collect_snapshot(const Snapshot& snapshot) {
  metrics::CollectResult result;
  if (snapshot.availability != Availability::kAvailable) return result;
  result.success = !snapshot.stale();
  result.error = snapshot.error;
  result.last_success_unix_seconds = snapshot.last_success_unix_seconds;

  MetricFamily stale("podpath_tailscale_status_stale",
                     "1 when the last LocalAPI poll failed and the tailscale metrics are the last "
                     "good ones (see podpath_collector_last_success_timestamp_seconds).",
                     MetricType::kGauge);
  stale.add({}, snapshot.stale() ? 1 : 0);
  result.families.push_back(std::move(stale));
  if (!snapshot.status) return result;
  add_status_families(*snapshot.status, snapshot.mapping, result.families);
  add_peer_families(snapshot.mapping.peers, result.families);
  if (snapshot.path_counters) add_path_families(*snapshot.path_counters, result.families);
  return result;
}

}  // namespace podpath::tailscale
