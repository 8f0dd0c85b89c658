#include "model/peer.h"

#include <algorithm>
#include <map>

namespace podpath::model {

namespace {

bool device_holds_network_address(const std::string& backend) {
  return backend.empty() || backend == "vxlan" || backend == "wireguard" || backend == "ipip" ||
         backend == "udp";
}

std::vector<IpAddress> addresses_of(const std::vector<Ipv4>& v4) {
  return {v4.begin(), v4.end()};
}

// A node has an IPv4 road when it has an IPv4 pod CIDR or lease, and an IPv6 road when it has
// an IPv6 pod CIDR or lease. A node with neither (no podCIDR yet, no flannel annotation) is
// still listed, as an IPv4 peer, so that its missing lease is seen.
bool has_family(const ClusterNode& node, Family family) {
  const bool v6 = node.pod_cidr_v6.has_value() || node.ipv6.present();
  if (family == Family::kIpv6) return v6;
  return node.pod_cidr.has_value() || node.has_ipv4_lease || !v6;
}

Peer peer_from_node(const ClusterNode& node, Family family) {
  Peer peer;
  peer.name = node.name;
  peer.group = node.group;
  peer.family = family;
  if (family == Family::kIpv4) {
    if (node.pod_cidr) peer.pod_cidr = *node.pod_cidr;
    if (node.public_ip) peer.vtep_address = *node.public_ip;
    peer.vtep_mac = node.vtep_mac;
    peer.internal_addresses = addresses_of(node.internal_addresses);
    peer.external_addresses = addresses_of(node.external_addresses);
  } else {
    peer.pod_cidr = node.pod_cidr_v6;
    peer.vtep_address = node.ipv6.public_ip;
    peer.vtep_mac = node.ipv6.vtep_mac;
    peer.internal_addresses = node.internal_ipv6_addresses;
    peer.external_addresses = node.external_ipv6_addresses;
  }
  // The backends with a device of their own give it the subnet's network address
  // (10.42.N.0, and in IPv6 the v6 subnet's): vxlan's flannel.1 and flannel-v6.1,
  // wireguard's flannel-wg and flannel-wg-v6, ipip's flannel.ipip, udp's flannel0. host-gw
  // and the others (ipsec, extension, alloc, unknown ones) have none; the bridge cni0 holds
  // the first address (10.42.N.1, FLANNEL_SUBNET), reached over the pod route like any pod.
  if (peer.pod_cidr) {
    const IpPrefix& cidr = *peer.pod_cidr;
    peer.overlay_address =
        !device_holds_network_address(node.backend_type) && cidr.length() < cidr.max_length() - 1
            ? cidr.address().plus(1)
            : cidr.address();
  }
  peer.ready = node.ready;
  peer.unschedulable = node.unschedulable;
  peer.in_cluster = true;
  peer.cluster = node;
  return peer;
}

Peer peer_from_kernel(const KernelPeer& entry) {
  Peer peer;
  peer.name = entry.pod_subnet.to_string();
  peer.family = entry.family();
  peer.pod_cidr = entry.pod_subnet;
  peer.overlay_address = entry.gateway ? entry.gateway : std::optional(entry.pod_subnet.address());
  peer.vtep_address = entry.vtep_address;
  peer.vtep_mac = entry.vtep_mac;
  peer.in_kernel = true;
  peer.kernel = entry;
  return peer;
}

bool is_own_subnet(const std::optional<ClusterNode>& self, const IpPrefix& subnet) {
  if (!self) return false;
  return (self->pod_cidr && IpPrefix(*self->pod_cidr) == subnet) ||
         (self->pod_cidr_v6 && *self->pod_cidr_v6 == subnet);
}

}  // namespace

PeerSet merge_peers(const std::string& self_name,
                    const std::optional<std::vector<ClusterNode>>& cluster_nodes,
                    const std::vector<KernelPeer>& kernel_peers) {
  PeerSet set;
  set.self_name = self_name;
  std::map<std::pair<std::string, Family>, Peer> by_key;
  if (cluster_nodes) {
    for (const auto& node : *cluster_nodes) {
      if (node.name == self_name) {
        set.self = node;
        set.self_group = node.group;
        continue;
      }
      for (Family family : {Family::kIpv4, Family::kIpv6})
        if (has_family(node, family)) by_key[{node.name, family}] = peer_from_node(node, family);
    }
  }
  for (const auto& entry : kernel_peers) {
    auto match = std::find_if(by_key.begin(), by_key.end(), [&](const auto& kv) {
      return kv.second.pod_cidr && *kv.second.pod_cidr == entry.pod_subnet;
    });
    if (match != by_key.end()) {
      match->second.in_kernel = true;
      match->second.kernel = entry;
      continue;
    }
    // This node's own subnet never appears as an onlink route, but guard anyway.
    if (is_own_subnet(set.self, entry.pod_subnet)) continue;
    Peer peer = peer_from_kernel(entry);
    by_key[{peer.name, peer.family}] = std::move(peer);
  }
  set.peers.reserve(by_key.size());
  for (auto& [key, peer] : by_key) set.peers.push_back(std::move(peer));
  set.ungrouped =
      set.self_group.empty() && std::all_of(set.peers.begin(), set.peers.end(),
                                            [](const Peer& peer) { return peer.group.empty(); });
  return set;
}

PeerSet PeerSet::of_family(Family family) const {
  PeerSet out;
  out.self_name = self_name;
  out.self_group = self_group;
  out.self = self;
  out.generation = generation;
  out.ungrouped = ungrouped;
  for (const auto& peer : peers)
    if (peer.family == family) out.peers.push_back(peer);
  return out;
}

std::vector<Family> PeerSet::families() const {
  std::vector<Family> out;
  for (Family family : {Family::kIpv4, Family::kIpv6})
    if (std::any_of(peers.begin(), peers.end(),
                    [&](const Peer& peer) { return peer.family == family; }))
      out.push_back(family);
  return out;
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
