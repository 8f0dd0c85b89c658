#include "netlink/kernel_peers.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

namespace podpath::netlink {

std::vector<model::KernelPeer> kernel_peers(const KernelSnapshot& snapshot,
                                            const std::regex& flannel_devices) {
  // Indexes first, then one lookup per route: flannel programs one route, neighbour and FDB
  // entry per node of the cluster, and nested scans cost 50 M comparisons a scrape at 5,000
  // nodes (bench/scale.py). The first entry in dump order wins, as the scans did.
  std::map<std::pair<int, model::IpAddress>, const std::string*> macs;  // permanent neighbours
  for (const auto& neighbour : snapshot.neighbours)
    if (neighbour.permanent() && !neighbour.mac.empty())
      macs.emplace(std::pair{neighbour.ifindex, neighbour.address}, &neighbour.mac);
  std::map<std::pair<int, std::string_view>, model::IpAddress> destinations;  // FDB with a dst
  for (const auto& entry : snapshot.fdb)
    if (entry.dst)
      destinations.emplace(std::pair{entry.ifindex, std::string_view(entry.mac)}, *entry.dst);

  std::vector<model::KernelPeer> peers;
  for (const auto& link : snapshot.links) {
    if (link.kind != "vxlan" || !std::regex_match(link.name, flannel_devices)) continue;
    for (const auto& route : snapshot.routes) {
      if (route.oif != link.index || !route.onlink || !route.gateway || !route.destination ||
          route.table != kTableMain || route.type != "unicast")
        continue;
      model::KernelPeer peer;
      peer.pod_subnet = *route.destination;
      peer.gateway = route.gateway;
      peer.device = link.name;
      if (auto mac = macs.find({link.index, *route.gateway}); mac != macs.end())
        peer.vtep_mac = *mac->second;
      if (!peer.vtep_mac.empty())
        if (auto dst = destinations.find({link.index, std::string_view(peer.vtep_mac)});
            dst != destinations.end())
          peer.vtep_address = dst->second;
      peers.push_back(std::move(peer));
    }
  }
  std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.pod_subnet, a.device) < std::tie(b.pod_subnet, b.device);
  });
  return peers;
}

}  // namespace podpath::netlink
