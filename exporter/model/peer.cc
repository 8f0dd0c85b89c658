#include "model/peer.h"

#include <algorithm>
#include <map>

namespace podpath::model {

namespace {

bool device_holds_network_address(const std::string& backend) {
  return backend.empty() || backend == "vxlan" || backend == "wireguard" || backend == "ipip" ||
         backend == "udp";
}

Peer peer_from_node(const ClusterNode& node) {
  Peer peer;
  peer.name = node.name;
  peer.group = node.group;
  peer.pod_cidr = node.pod_cidr;
  // The backends with a device of their own give it the subnet's network address
  // (10.42.N.0): vxlan's flannel.1, wireguard's flannel-wg, ipip's flannel.ipip, udp's flannel0.
  // host-gw and the others (ipsec, extension, alloc, unknown ones) have none; the bridge cni0
  // holds the first address (10.42.N.1, FLANNEL_SUBNET), reached over the pod route like any
  // pod.
  if (node.pod_cidr)
    peer.overlay_address =
        !device_holds_network_address(node.backend_type) && node.pod_cidr->length < 31
            ? Ipv4{node.pod_cidr->address.value + 1}
            : node.pod_cidr->address;
  peer.vtep_address = node.public_ip;
  peer.vtep_mac = node.vtep_mac;
  peer.internal_addresses = node.internal_addresses;
  peer.external_addresses = node.external_addresses;
  peer.ready = node.ready;
  peer.unschedulable = node.unschedulable;
  peer.in_cluster = true;
  peer.cluster = node;
  return peer;
}

Peer peer_from_kernel(const KernelPeer& entry) {
  Peer peer;
  peer.name = entry.pod_subnet.to_string();
  peer.pod_cidr = entry.pod_subnet;
  peer.overlay_address = entry.gateway ? entry.gateway : std::optional(entry.pod_subnet.address);
  peer.vtep_address = entry.vtep_address;
  peer.vtep_mac = entry.vtep_mac;
  peer.in_kernel = true;
  peer.kernel = entry;
  return peer;
}

}  // namespace

PeerSet merge_peers(const std::string& self_name,
                    const std::optional<std::vector<ClusterNode>>& cluster_nodes,
                    const std::vector<KernelPeer>& kernel_peers) {
  PeerSet set;
  set.self_name = self_name;
  std::map<std::string, Peer> by_name;
  if (cluster_nodes) {
    for (const auto& node : *cluster_nodes) {
      if (node.name == self_name) {
        set.self = node;
        set.self_group = node.group;
        continue;
      }
      by_name[node.name] = peer_from_node(node);
    }
  }
  for (const auto& entry : kernel_peers) {
    auto match = std::find_if(by_name.begin(), by_name.end(), [&](const auto& kv) {
      return kv.second.pod_cidr && *kv.second.pod_cidr == entry.pod_subnet;
    });
    if (match != by_name.end()) {
      match->second.in_kernel = true;
      match->second.kernel = entry;
      continue;
    }
    // This node's own subnet never appears as an onlink route, but guard anyway.
    if (set.self && set.self->pod_cidr && *set.self->pod_cidr == entry.pod_subnet) continue;
    Peer peer = peer_from_kernel(entry);
    by_name[peer.name] = std::move(peer);
  }
  set.peers.reserve(by_name.size());
  for (auto& [name, peer] : by_name) set.peers.push_back(std::move(peer));
  set.ungrouped =
      set.self_group.empty() && std::all_of(set.peers.begin(), set.peers.end(),
                                            [](const Peer& peer) { return peer.group.empty(); });
  return set;
}

PeerRegistry::PeerRegistry(std::string self_name)
    : self_name_(std::move(self_name)),
      current_(std::make_shared<PeerSet>(merge_peers(self_name_, std::nullopt, {}))) {}

void PeerRegistry::set_cluster_nodes(std::vector<ClusterNode> nodes) {
  std::unique_lock lock(mutex_);
  if (cluster_nodes_ && *cluster_nodes_ == nodes) return;  // nothing changed: no republish
  cluster_nodes_ = std::move(nodes);
  republish_locked(lock);
}

void PeerRegistry::clear_cluster_nodes() {
  std::unique_lock lock(mutex_);
  if (!cluster_nodes_) return;
  cluster_nodes_.reset();
  republish_locked(lock);
}

void PeerRegistry::set_kernel_peers(std::vector<KernelPeer> peers) {
  std::unique_lock lock(mutex_);
  if (kernel_peers_ == peers) return;  // read on every scrape; publish only changes
  kernel_peers_ = std::move(peers);
  republish_locked(lock);
}

std::shared_ptr<const PeerSet> PeerRegistry::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void PeerRegistry::subscribe(std::function<void(std::shared_ptr<const PeerSet>)> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void PeerRegistry::republish_locked(std::unique_lock<std::mutex>& lock) {
  auto next = std::make_shared<PeerSet>(merge_peers(self_name_, cluster_nodes_, kernel_peers_));
  next->generation = ++generation_;
  current_ = next;
  auto listeners = listeners_;
  // Listeners run without the lock so they may call current() or publish again.
  lock.unlock();
  for (const auto& listener : listeners) listener(next);
}

}  // namespace podpath::model
