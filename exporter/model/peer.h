// The peer model: every other node this exporter watches the road to. The cluster view
// (Kubernetes API) and the kernel view (flannel's FDB/neighbour/route entries) each
// describe peers; merge_peers() joins them and PeerRegistry publishes the result to the
// prober, the Tailscale mapping and the analysis.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/ip.h"

namespace podpath::model {

// flannel's IPv6 lease on a dual-stack or IPv6-only node: the public-ipv6 and
// public-ipv6-overwrite annotations and backend-v6-data (flannel pkg/subnet/kube
// annotations.go). Empty on an IPv4-only node.
struct Ipv6Lease {
  std::optional<IpAddress> public_ip;  // what peers send IPv6 VXLAN to (overwrite applied)
  std::optional<IpAddress> public_ip_overwrite;
  std::optional<int> vni;
  std::string vtep_mac;  // the flannel-v6.<VNI> device's MAC, lower-case
  std::string wireguard_public_key;
  std::optional<int> wireguard_port;
  bool has_backend_data = false;  // backend-v6-data is present

  bool present() const { return public_ip.has_value() || has_backend_data; }
  bool operator==(const Ipv6Lease&) const = default;
};

// One node as the Kubernetes API describes it (only what podpath uses).
struct ClusterNode {
  std::string name;
  std::string group;  // value of --peers.group-label; empty when unset
  std::optional<Ipv4Prefix> pod_cidr;
  std::optional<IpPrefix> pod_cidr_v6;  // the IPv6 entry of spec.podCIDRs
  std::vector<std::string> pod_cidrs;   // all of spec.podCIDRs as text (dual stack)
  std::vector<Ipv4> internal_addresses;
  std::vector<Ipv4> external_addresses;  // status.addresses ExternalIP and k3s.io/external-ip
  std::vector<IpAddress> internal_ipv6_addresses;
  std::vector<IpAddress> external_ipv6_addresses;
  bool ready = false;
  bool unschedulable = false;
  // flannel's annotations; public_ip is what peers send VXLAN to (overwrite applied).
  std::string backend_type;
  std::optional<Ipv4> public_ip;
  std::optional<Ipv4> public_ip_overwrite;
  std::optional<int> vni;
  std::string vtep_mac;  // lower-case aa:bb:cc:dd:ee:ff
  std::string wireguard_public_key;
  std::optional<int> wireguard_port;  // wireguard backend-data Port
  Ipv6Lease ipv6;
  // The node has an IPv4 lease (public-ip or backend-data); an IPv6-only node has none.
  bool has_ipv4_lease = false;
  // Non-empty when the node's annotations could not be read; the node is still listed.
  std::string annotation_error;

  bool operator==(const ClusterNode&) const = default;
};

// One peer as flannel programmed it into this node's kernel.
struct KernelPeer {
  Ipv4Prefix pod_subnet;             // from the onlink route 10.42.N.0/24 via 10.42.N.0
  std::optional<Ipv4> gateway;       // 10.42.N.0 (the route's via)
  std::string vtep_mac;              // from the permanent neighbour of the gateway
  std::optional<Ipv4> vtep_address;  // from the FDB entry of that MAC
  std::string device;                // flannel.1

  bool operator==(const KernelPeer&) const = default;
};

struct Peer {
  std::string name;   // node name; the pod subnet text when only the kernel knows it
  std::string group;  // empty when unset
  std::optional<Ipv4Prefix> pod_cidr;
  // What the overlay probe pings: the peer's flannel device (10.42.N.0), or where its backend
  // has none (host-gw, ipsec, extension...) its cni0 bridge (10.42.N.1).
  std::optional<Ipv4> overlay_address;
  std::optional<Ipv4> vtep_address;  // where VXLAN for it goes (public-ip)
  // The IPv6 twins the prober pings over ICMPv6 (dual-stack and IPv6-only clusters). Only
  // --prober.static-targets sets them so far; merge_peers leaves them empty.
  std::optional<IpAddress> overlay_address_v6;
  std::optional<IpAddress> vtep_address_v6;
  std::string vtep_mac;
  std::vector<Ipv4> internal_addresses;
  std::vector<Ipv4> external_addresses;
  bool ready = true;
  bool unschedulable = false;
  bool in_cluster = false;             // known from the Kubernetes API
  bool in_kernel = false;              // flannel programmed it on this node
  std::optional<ClusterNode> cluster;  // the API's record, when there is one
  std::optional<KernelPeer> kernel;    // the kernel's record, when there is one
};

struct PeerSet {
  std::string self_name;
  std::string self_group;
  std::optional<ClusterNode> self;  // this node's own record from the API
  std::vector<Peer> peers;          // sorted by name, never containing this node
  std::uint64_t generation = 0;     // bumped on every publish
  // No node (this one included) carries the group label: the whole cluster is one group.
  // Real k3s and kubeadm nodes carry no topology label unless someone sets one, and a
  // cluster without groups must still get the same-group latency bound. Set by merge_peers.
  bool ungrouped = false;

  // The same_group label of a peer in `group`: the cluster is ungrouped, or this node and
  // the peer share a non-empty group (in a labelled cluster an unlabelled node is in none).
  bool same_group_as_self(const std::string& group) const {
    return ungrouped || (!self_group.empty() && group == self_group);
  }
};

// Joins the API's nodes with the kernel's entries. Without cluster nodes (kernel-only mode
// or API unreachable since start) the kernel entries alone make the peer set, named by
// pod subnet. A kernel entry is matched to a node by pod CIDR.
PeerSet merge_peers(const std::string& self_name,
                    const std::optional<std::vector<ClusterNode>>& cluster_nodes,
                    const std::vector<KernelPeer>& kernel_peers);

// Thread-safe holder of the latest cluster and kernel views, publishing their merge.
class PeerRegistry {
 public:
  explicit PeerRegistry(std::string self_name);

  void set_cluster_nodes(std::vector<ClusterNode> nodes);
  void clear_cluster_nodes();  // e.g. --no-collector.kubernetes
  void set_kernel_peers(std::vector<KernelPeer> peers);

  std::shared_ptr<const PeerSet> current() const;
  // The callback runs on the publishing thread after each change; keep it short.
  void subscribe(std::function<void(std::shared_ptr<const PeerSet>)> listener);

 private:
  void republish_locked(std::unique_lock<std::mutex>& lock);

  const std::string self_name_;
  mutable std::mutex mutex_;  // guards everything below
  std::optional<std::vector<ClusterNode>> cluster_nodes_;
  std::vector<KernelPeer> kernel_peers_;
  std::shared_ptr<const PeerSet> current_;
  std::uint64_t generation_ = 0;
  std::vector<std::function<void(std::shared_ptr<const PeerSet>)>> listeners_;
};

}  // namespace podpath::model
