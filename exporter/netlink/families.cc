#include "netlink/families.h"

#include "model/peer_labels.h"

namespace podpath::netlink {

DeviceFilter DeviceFilter::make(const std::string& include, const std::string& exclude) {
  DeviceFilter filter;
  if (!include.empty()) filter.include.emplace(include, std::regex::ECMAScript);
  if (!exclude.empty()) filter.exclude.emplace(exclude, std::regex::ECMAScript);
  return filter;
}

bool DeviceFilter::accepts(const std::string& device) const {
  if (include && !std::regex_search(device, *include)) return false;
  if (exclude && std::regex_search(device, *exclude)) return false;
  return true;
}

std::vector<metrics::MetricFamily> link_families(const KernelSnapshot& snapshot,
                                                 const DeviceFilter& devices) {
  using metrics::MetricFamily;
  using metrics::MetricType;
  MetricFamily info("podpath_link_info",
                    "Network device of this node: kind (vxlan, tun, bridge, veth, device, ...) "
                    "and operational state.",
                    MetricType::kInfo);
  MetricFamily mtu("podpath_link_mtu_bytes", "MTU of the network device.", MetricType::kGauge);
  MetricFamily vxlan("podpath_vxlan_info",
                     "VXLAN device attributes: VNI, local VTEP address, UDP destination port and "
                     "underlay device.",
                     MetricType::kInfo);
  for (const auto& link : snapshot.links) {
    if (!devices.accepts(link.name)) continue;
    info.add({{"device", link.name}, {"kind", link.kind}, {"operstate", link.operstate}}, 1);
    mtu.add({{"device", link.name}}, link.mtu);
    if (link.vxlan) {
      vxlan.add({{"device", link.name},
                 {"vni", std::to_string(link.vxlan->vni)},
                 {"local", link.vxlan->local},
                 {"dstport", std::to_string(link.vxlan->dstport)},
                 {"underlay_device", link.vxlan->underlay_device}},
                1);
    }
  }
  return {info, mtu, vxlan};
}

metrics::MetricFamily peer_route_family(const KernelSnapshot& snapshot) {
  metrics::MetricFamily family(
      "podpath_peer_route_info",
      "The kernel's route lookup (ip route get) towards the peer's overlay gateway (target "
      "overlay) and its VXLAN endpoint (target underlay): device, table and source, or the "
      "kernel's error (e.g. ENETUNREACH).",
      metrics::MetricType::kInfo);
  auto add = [&](const PeerRoutes& peer, const char* target, const RouteLookup& lookup) {
    family.add(model::PeerLabels{peer.peer, peer.group, peer.same_group}.pairs(
                   {{"target", target},
                    {"destination", lookup.destination.to_string()},
                    {"device", lookup.ok() ? lookup.device : ""},
                    {"table", lookup.ok() ? table_name(lookup.table) : ""},
                    {"source", lookup.ok() && lookup.prefsrc ? lookup.prefsrc->to_string() : ""},
                    {"error", lookup.error_name}}),
               1);
  };
  for (const auto& peer : snapshot.peer_routes) {
    if (peer.overlay) add(peer, "overlay", *peer.overlay);
    if (peer.underlay) add(peer, "underlay", *peer.underlay);
  }
  return family;
}

}  // namespace podpath::netlink
