#include "kubernetes/collector.h"

#include <fmt/format.h>

namespace podpath::kubernetes {

using metrics::MetricFamily;
using metrics::MetricType;

namespace {

template <class Address>
std::string text_of(const std::optional<Address>& ip) {
  return ip ? ip->to_string() : "";
}

template <class Address>
std::string scope_of(const std::optional<Address>& ip, std::span<const model::Ipv4> tailnet) {
  return ip ? std::string(model::to_string(model::classify(*ip, tailnet))) : "";
}

// This node's flannel lease as its annotations state it, one series per address family
// the lease has (an IPv4-only node: family="ipv4" alone, as before the label existed).
MetricFamily self_annotation_family(const model::ClusterNode& self,
                                    std::span<const model::Ipv4> tailnet) {
  MetricFamily family("podpath_flannel_annotation_info",
                      "flannel's annotations on this node, per address family: public_ip is "
                      "where peers send its VXLAN (public-ip-overwrite when set); value is 1.",
                      MetricType::kInfo);
  if (self.has_ipv4_lease || !self.ipv6.present())
    family.add({{"family", "ipv4"},
                {"backend_type", self.backend_type},
                {"public_ip", text_of(self.public_ip)},
                {"public_ip_scope", scope_of(self.public_ip, tailnet)},
                {"vni", self.vni ? std::to_string(*self.vni) : ""},
                {"vtep_mac", self.vtep_mac},
                {"public_ip_overwrite", text_of(self.public_ip_overwrite)}},
               1);
  if (self.ipv6.present())
    family.add({{"family", "ipv6"},
                {"backend_type", self.backend_type},
                {"public_ip", text_of(self.ipv6.public_ip)},
                {"public_ip_scope", scope_of(self.ipv6.public_ip, tailnet)},
                {"vni", self.ipv6.vni ? std::to_string(*self.ipv6.vni) : ""},
                {"vtep_mac", self.ipv6.vtep_mac},
                {"public_ip_overwrite", text_of(self.ipv6.public_ip_overwrite)}},
               1);
  return family;
}

// The node count and the nodes whose annotations cannot be read; shown once a list has
// succeeded.
void add_node_families(const WatcherSnapshot& snapshot, std::vector<MetricFamily>& families) {
  families.push_back(MetricFamily("podpath_kubernetes_nodes",
                                  "Nodes known from the Kubernetes API (the last good list "
                                  "and watch events).",
                                  MetricType::kGauge)
                         .add({}, static_cast<double>(snapshot.node_count)));
  MetricFamily errors_count("podpath_kubernetes_node_annotation_errors",
                            "Nodes whose flannel or k3s annotations (or pod CIDR) cannot be "
                            "read; they are still watched.",
                            MetricType::kGauge);
  errors_count.add({}, static_cast<double>(snapshot.annotation_errors.size()));
  families.push_back(std::move(errors_count));
  if (snapshot.annotation_errors.empty()) return;
  MetricFamily broken("podpath_kubernetes_node_annotation_error_info",
                      "A node whose annotation cannot be read, and the first such "
                      "annotation; value is 1.",
                      MetricType::kInfo);
  for (const auto& [node, field] : snapshot.annotation_errors)
    broken.add({{"node", node}, {"annotation", field}}, 1);
  families.push_back(std::move(broken));
}

// How the watch fares: events by type, relists, failed requests by reason, the last event.
void add_watch_families(const WatcherSnapshot& snapshot, std::vector<MetricFamily>& families) {
  MetricFamily events("podpath_kubernetes_watch_events_total",
                      "Events received on the node watch, by type.", MetricType::kCounter);
  for (const auto& [type, count] : snapshot.events)
    events.add({{"type", type}}, static_cast<double>(count));
  families.push_back(std::move(events));

  families.push_back(MetricFamily("podpath_kubernetes_relists_total",
                                  "Node lists made again because the watch's resourceVersion "
                                  "expired (410 Gone).",
                                  MetricType::kCounter)
                         .add({}, static_cast<double>(snapshot.relists)));

  MetricFamily errors("podpath_kubernetes_api_errors_total",
                      "Failed requests to the Kubernetes API, by reason.", MetricType::kCounter);
  for (const auto& [reason, count] : snapshot.errors)
    errors.add({{"reason", reason}}, static_cast<double>(count));
  families.push_back(std::move(errors));

  if (snapshot.last_event_unix) {
    families.push_back(MetricFamily("podpath_kubernetes_last_event_timestamp_seconds",
                                    "Unix time of the last event on the node watch (bookmarks "
                                    "included).",
                                    MetricType::kGauge)
                           .add({}, *snapshot.last_event_unix));
  }
}

}  // namespace

std::vector<MetricFamily> build_families(const WatcherSnapshot& snapshot,
                                         std::span<const model::Ipv4> tailnet) {
  std::vector<MetricFamily> families;
  if (snapshot.self) families.push_back(self_annotation_family(*snapshot.self, tailnet));
  if (snapshot.synced) add_node_families(snapshot, families);
  add_watch_families(snapshot, families);
  families.push_back(MetricFamily("podpath_kubernetes_view_stale",
                                  "1 while the Kubernetes API cannot be reached and the nodes "
                                  "shown are the last good copy (or none yet).",
                                  MetricType::kGauge)
                         .add({}, snapshot.synced && snapshot.healthy ? 0 : 1));
  return families;
}

metrics::CollectResult KubernetesCollector::collect() {
  WatcherSnapshot snapshot = watcher_->snapshot();
  metrics::CollectResult result;
  const auto tailnet = tailnet_ ? tailnet_->latest() : nullptr;
  result.families = tailnet ? build_families(snapshot, *tailnet) : build_families(snapshot);
  result.last_success_unix_seconds = snapshot.last_success_unix;
  if (!snapshot.synced || !snapshot.healthy) {
    result.success = false;
    result.error = snapshot.last_error.empty() ? "no node list from the Kubernetes API yet"
                                               : snapshot.last_error;
  }
  return result;
}

}  // namespace podpath::kubernetes
