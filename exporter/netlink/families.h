// The kernel view as metric families: a pure function of a KernelSnapshot.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "metrics/family.h"
#include "netlink/kernel.h"
#include "netlink/regex.h"

namespace podpath::netlink {

// Which devices get podpath_link_* / podpath_vxlan_info series. Patterns are searched
// (not fully matched) in the device name, as node_exporter's device filters are.
struct DeviceFilter {
  std::optional<std::regex> include;  // unset: every device
  std::optional<std::regex> exclude;  // unset: none excluded

  // Empty text leaves a side unset; throws std::regex_error on a bad pattern.
  static DeviceFilter make(const std::string& include, const std::string& exclude);
  bool accepts(const std::string& device) const;
};

// Pod veths come and go with every pod; they would churn series without telling anything
// about the paths between nodes.
inline constexpr const char* kDefaultDeviceExclude = "^(veth|cali)";

// podpath_link_info, podpath_link_mtu_bytes, podpath_vxlan_info.
std::vector<metrics::MetricFamily> link_families(const KernelSnapshot& snapshot,
                                                 const DeviceFilter& devices);

// podpath_peer_route_info from snapshot.peer_routes.
metrics::MetricFamily peer_route_family(const KernelSnapshot& snapshot);

}  // namespace podpath::netlink
