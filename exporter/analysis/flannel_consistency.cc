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

std::string address_or_unknown(const std::optional<model::Ipv4>& address) {
  return address ? address->to_string() : "?";
}

// The kernel's flannel entries for a cluster peer against its annotations.
std::vector<std::string> drift_from_annotations(const model::Peer& peer) {
  std::vector<std::string> drift;
  if (!peer.cluster) return drift;
  const model::ClusterNode& node = *peer.cluster;
  if (!peer.kernel) {
    drift.push_back(
        fmt::format("flannel has programmed no route, neighbour or FDB entry for "
                    "{}'s pod subnet {}",
                    peer.name, node.pod_cidr ? node.pod_cidr->to_string() : "?"));
    return drift;
  }
  const model::KernelPeer& k = *peer.kernel;
  if (!node.vtep_mac.empty() && !k.vtep_mac.empty() && lower(node.vtep_mac) != lower(k.vtep_mac))
    drift.push_back(fmt::format("neighbour {} has MAC {} but the VtepMAC annotation says {}",
                                address_or_unknown(k.gateway), k.vtep_mac, node.vtep_mac));
  if (k.vtep_mac.empty())
    drift.push_back(
        fmt::format("no permanent neighbour entry for gateway {}", address_or_unknown(k.gateway)));
  if (node.public_ip && k.vtep_address && *node.public_ip != *k.vtep_address)
    drift.push_back(fmt::format("FDB sends {} to {} but the public-ip annotation says {}",
                                k.vtep_mac, k.vtep_address->to_string(),
                                node.public_ip->to_string()));
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
