#include "analysis/families.h"

#include <map>
#include <tuple>

#include "model/peer_labels.h"

namespace podpath::analysis {

namespace {

// podpath_finding, one per finding, and podpath_findings, their count by code, family and
// severity: the count stays whole when the series budget (metrics/budget.h) withholds the
// podpath_finding series of peers beyond it.
std::vector<metrics::MetricFamily> finding_families(const NodeReport& report) {
  using metrics::MetricFamily;
  using metrics::MetricType;
  MetricFamily finding("podpath_finding",
                       "A named problem the analysis found (see the doctor command and the "
                       "status page for the explanation and the fix); value is 1.",
                       MetricType::kGauge);
  MetricFamily findings("podpath_findings",
                        "Findings of the analysis by code, family and severity: this node's own "
                        "and one per peer named.",
                        MetricType::kGauge);
  std::map<std::tuple<std::string, std::string, std::string>, int> counts;
  for (const auto& f : report.findings) {
    const std::string family = f.family ? std::string(model::to_string(*f.family)) : "";
    const std::string severity(to_string(f.severity));
    finding.add({{"code", f.code}, {"peer", f.peer}, {"family", family}, {"severity", severity}},
                1);
    ++counts[{f.code, family, severity}];
  }
  for (const auto& [key, count] : counts) {
    const auto& [code, family, severity] = key;
    findings.add({{"code", code}, {"family", family}, {"severity", severity}}, count);
  }
  return {finding, findings};
}

}  // namespace

std::vector<metrics::MetricFamily> to_families(const NodeReport& report) {
  using metrics::Labels;
  using metrics::MetricFamily;
  using metrics::MetricType;
  MetricFamily path("podpath_peer_path_info",
                    "The road a pod packet to the peer takes: carrier (vxlan, host-gw, "
                    "direct-routing, wireguard, ipip, tailscale-subnet-route, other, none), the "
                    "route's device and table, the device carrying the encapsulated packets and "
                    "how (lan, tailscale-direct, tailscale-derp, tailscale-peer-relay, "
                    "tailscale-no-handshake, unknown); value is 1.",
                    MetricType::kInfo);
  MetricFamily derp("podpath_peer_route_via_derp",
                    "1 when pod traffic to the peer is carried by a Tailscale DERP relay.",
                    MetricType::kGauge);
  MetricFamily mtu("podpath_peer_path_mtu_bytes",
                   "The largest packet the overlay path to the peer carries: computed from the "
                   "device chain, or measured with don't-fragment probes.",
                   MetricType::kGauge);
  MetricFamily consistent("podpath_peer_flannel_consistent",
                          "1 when the kernel's flannel FDB, neighbour and route entries for the "
                          "peer match its node annotations.",
                          MetricType::kGauge);
  for (const auto& v : report.peers) {
    const Labels base = model::PeerLabels{v.peer, v.group, v.same_group, v.family}.pairs();
    auto with = [&](std::initializer_list<std::pair<std::string, std::string>> extra) {
      Labels l = base;
      l.insert(l.end(), extra.begin(), extra.end());
      return l;
    };
    path.add(with({{"carrier", std::string(to_string(v.carrier))},
                   {"device", v.route_device},
                   {"table", v.route_table},
                   {"underlay_device", v.underlay_device},
                   {"transport", std::string(to_string(v.transport))},
                   {"derp_region", v.derp_region}}),
             1);
    derp.add(with({{"derp_region", v.derp_region}}), v.route_via_derp() ? 1 : 0);
    if (v.computed_mtu) mtu.add(with({{"source", "computed"}}), *v.computed_mtu);
    if (v.flannel_checked) consistent.add(base, v.flannel_inconsistencies.empty() ? 1 : 0);
  }
  std::vector<MetricFamily> out;
  for (auto* family : {&path, &derp, &mtu, &consistent})
    if (!family->metrics.empty()) out.push_back(std::move(*family));
  for (auto& family : finding_families(report))
    if (!family.metrics.empty()) out.push_back(std::move(family));
  return out;
}

}  // namespace podpath::analysis
