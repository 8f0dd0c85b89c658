#include "tailscale/collector.h"

#include "model/peer_labels.h"

namespace podpath::tailscale {

namespace {

using metrics::Labels;
using metrics::MetricFamily;
using metrics::MetricType;

Labels peer_labels(const MappedPeer& mapped) {
  return model::PeerLabels{mapped.peer, mapped.group, mapped.same_group, mapped.family}.pairs(
      {{"tailscale_peer", display_name(mapped.tailscale)}});
}

Labels with(Labels labels, std::initializer_list<std::pair<std::string, std::string>> more) {
  labels.insert(labels.end(), more.begin(), more.end());
  return labels;
}

// This node in tailscaled's eyes: its home DERP region and its node key's expiry.
void add_self_families(const PeerStatus& self, std::vector<MetricFamily>& families) {
  if (!self.relay.empty()) {
    MetricFamily home("podpath_tailscale_home_derp_info",
                      "This node's home DERP region (Self.Relay): where peers reach it when no "
                      "direct path exists; value is 1.",
                      MetricType::kInfo);
    home.add({{"derp_region", self.relay}}, 1);
    families.push_back(std::move(home));
  }
  // A timestamp rather than seconds left, as Prometheus' instrumentation guide asks: the
  // value stays true between polls and alerts subtract time() themselves.
  if (self.key_expiry_unix_seconds) {
    MetricFamily expiry("podpath_tailscale_self_key_expiry_timestamp_seconds",
                        "Unix time this node's Tailscale node key expires (or expired); absent "
                        "when the key never expires (tagged node, expiry disabled).",
                        MetricType::kGauge);
    expiry.add({}, *self.key_expiry_unix_seconds);
    families.push_back(std::move(expiry));
  }
  MetricFamily expired("podpath_tailscale_self_key_expired",
                       "1 when tailscaled reports this node's node key expired: it reaches no "
                       "peer until someone re-authenticates it (tailscale up --force-reauth).",
                       MetricType::kGauge);
  expired.add({}, self.expired ? 1 : 0);
  families.push_back(std::move(expired));
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
  MetricFamily health("podpath_tailscale_health_messages",
                      "Health warnings tailscaled reports (Status.Health; `tailscale status` "
                      "prints them under \"# Health check:\"); the doctor lists them.",
                      MetricType::kGauge);
  health.add({}, static_cast<double>(status.health.size()));
  families.push_back(std::move(info));
  families.push_back(std::move(peers));
  families.push_back(std::move(errors));
  families.push_back(std::move(health));
  if (status.self) add_self_families(*status.self, families);
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
  MetricFamily expiry("podpath_tailscale_peer_key_expiry_timestamp_seconds",
                      "Unix time the node key of the cluster peer's Tailscale peer expires (or "
                      "expired); absent when its key never expires.",
                      MetricType::kGauge);
  MetricFamily expired("podpath_tailscale_peer_key_expired",
                       "1 when tailscaled holds the node key of the cluster peer's Tailscale peer "
                       "expired: nothing reaches that peer over Tailscale.",
                       MetricType::kGauge);
  for (const MappedPeer& mapped : mapped_peers) {
    Labels labels = peer_labels(mapped);
    if (mapped.tailscale.key_expiry_unix_seconds)
      expiry.add(labels, *mapped.tailscale.key_expiry_unix_seconds);
    expired.add(labels, mapped.tailscale.expired ? 1 : 0);
    transport.add(with(labels, {{"transport", std::string(to_string(mapped.path.transport))},
                                {"derp_region", mapped.path.derp_region},
                                {"match", std::string(to_string(mapped.match()))}}),
                  1);
    rx.add(labels, static_cast<double>(mapped.tailscale.rx_bytes));
    tx.add(labels, static_cast<double>(mapped.tailscale.tx_bytes));
    handshake.add(labels, mapped.tailscale.last_handshake_unix_seconds.value_or(0));
    online.add(std::move(labels), mapped.tailscale.online ? 1 : 0);
  }
  for (auto* family : {&transport, &rx, &tx, &handshake, &online, &expiry, &expired})
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
