#include "analysis/flannel_consistency.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace podpath::analysis {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string address_or_unknown(const std::optional<model::IpAddress>& address) {
  return address ? address->to_string() : "?";
}

// The kernel's flannel entries for a cluster peer against its annotations, in the peer's
// family: public-ip and backend-data's VtepMAC, or public-ipv6 and backend-v6-data's.
std::vector<std::string> drift_from_annotations(const model::Peer& peer) {
  std::vector<std::string> drift;
  if (!peer.cluster) return drift;
  const bool v6 = peer.family == model::Family::kIpv6;
  if (!peer.kernel) {
    drift.push_back(fmt::format(
        "flannel has programmed no route, neighbour or FDB entry for "
        "{}'s {}pod subnet {}",
        peer.name, v6 ? "IPv6 " : "", peer.pod_cidr ? peer.pod_cidr->to_string() : "?"));
    return drift;
  }
  const model::KernelPeer& k = *peer.kernel;
  if (!peer.vtep_mac.empty() && !k.vtep_mac.empty() && lower(peer.vtep_mac) != lower(k.vtep_mac))
    drift.push_back(fmt::format("neighbour {} has MAC {} but the {}VtepMAC annotation says {}",
                                address_or_unknown(k.gateway), k.vtep_mac,
                                v6 ? "backend-v6-data " : "", peer.vtep_mac));
  if (k.vtep_mac.empty())
    drift.push_back(
        fmt::format("no permanent neighbour entry for gateway {}", address_or_unknown(k.gateway)));
  if (peer.vtep_address && k.vtep_address && *peer.vtep_address != *k.vtep_address)
    drift.push_back(fmt::format("FDB sends {} to {} but the {} annotation says {}", k.vtep_mac,
                                k.vtep_address->to_string(), v6 ? "public-ipv6" : "public-ip",
                                peer.vtep_address->to_string()));
  if (!k.vtep_address && !k.vtep_mac.empty())
    drift.push_back(fmt::format("no FDB entry for VTEP MAC {}", k.vtep_mac));
  return drift;
}

}  // namespace

std::optional<std::vector<std::string>> flannel_inconsistencies(const model::Peer& peer,
                                                                bool cluster_known,
                                                                const std::string& overlay_device) {
  // flannel consistency matters where flannel's vxlan backend owns the road.
  const bool vxlan_backend = peer.cluster && peer.cluster->backend_type == "vxlan";
  if (peer.in_cluster) {
    if (!vxlan_backend) return std::nullopt;
    return drift_from_annotations(peer);
  }
  if (!cluster_known) return std::nullopt;
  return std::vector<std::string>{
      fmt::format("the kernel routes {} through {} but no node in the cluster has that pod CIDR",
                  peer.name, peer.kernel ? peer.kernel->device : overlay_device)};
}

}  // namespace podpath::analysis
