#pragma once

#include <vector>

#include "analysis/verdict.h"
#include "metrics/family.h"

namespace podpath::analysis {

// podpath_peer_path_info, podpath_peer_route_via_derp, podpath_peer_path_mtu_bytes
// {source="computed"}, podpath_peer_flannel_consistent and podpath_finding. Pure.
std::vector<metrics::MetricFamily> to_families(const NodeReport& report);

}  // namespace podpath::analysis
