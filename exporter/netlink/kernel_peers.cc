#include "netlink/kernel_peers.h"

#include <algorithm>

namespace podpath::netlink {

std::vector<model::KernelPeer> kernel_peers(const KernelSnapshot& snapshot,
                                            const std::regex& flannel_devices) {
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
      for (const auto& neighbour : snapshot.neighbours) {
        if (neighbour.ifindex == link.index && neighbour.address == *route.gateway &&
            neighbour.permanent() && !neighbour.mac.empty()) {
          peer.vtep_mac = neighbour.mac;
          break;
        }
      }
      if (!peer.vtep_mac.empty()) {
        for (const auto& entry : snapshot.fdb) {
          if (entry.ifindex == link.index && entry.mac == peer.vtep_mac && entry.dst) {
            peer.vtep_address = entry.dst;
            break;
          }
        }
      }
      peers.push_back(std::move(peer));
    }
  }
  std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.pod_subnet, a.device) < std::tie(b.pod_subnet, b.device);
  });
  return peers;
}

}  // namespace podpath::netlink
