// The field report's cluster as analysis inputs: six nodes, two sites, and the kernel and
// Tailscale state each scenario gives a home node or a server. Shared by the analysis tests.
#pragma once

#include <string>
#include <vector>

#include "analysis/analyse.h"
#include "tailscale/mapping.h"

namespace podpath::analysis::fixtures {

using model::Ipv4;
using model::Ipv4Prefix;

struct NodeSpec {
  std::string name, zone, tailnet_ip, vpc_or_lan_ip, pod_cidr, mac, external_ip;
};

inline const std::vector<NodeSpec>& nodes() {
  static const std::vector<NodeSpec> all{
      {"ip-172-26-2-70", "tokyo", "100.99.0.1", "172.26.2.70", "10.42.0.0/24", "0a:00:00:00:00:00",
       "203.0.113.10"},
      {"ip-172-26-3-146", "tokyo", "100.71.0.1", "172.26.3.146", "10.42.1.0/24",
       "0a:00:00:00:00:01", "203.0.113.11"},
      {"lima-k3s-agent", "sapporo", "100.84.0.1", "192.168.105.2", "10.42.2.0/24",
       "0a:00:00:00:00:02", ""},
      {"lima-k3s-agent-2", "sapporo", "100.98.0.1", "192.168.105.3", "10.42.3.0/24",
       "0a:00:00:00:00:03", ""},
      {"lima-k3s-agent-3", "sapporo", "100.117.0.1", "192.168.105.4", "10.42.4.0/24",
       "0a:00:00:00:00:04", ""},
      {"lima-k3s-agent-4", "sapporo", "100.90.0.1", "192.168.105.5", "10.42.5.0/24",
       "0a:00:00:00:00:05", ""},
  };
  return all;
}

// The states of the field report. Cross-site pod traffic rode Tailscale subnet routes
// all along (§8: "20~26 ms (Tailscale, unchanged)"), so subnet_routes is on in both the
// before and after states unless a test turns it off.
struct Scenario {
  bool vmnet = false;
  bool subnet_routes = true;
};
inline constexpr Scenario kBefore{false, true};
inline constexpr Scenario kVmnet{true, true};

inline bool is_home(const std::string& name) {
  return name.rfind("lima", 0) == 0;
}

// flannel's public-ip for a node: servers their VPC address; home nodes their tailnet address
// before vmnet, their vmnet address after.
inline std::string public_ip(const NodeSpec& n, Scenario s) {
  if (!is_home(n.name)) return n.vpc_or_lan_ip;
  return s.vmnet ? n.vpc_or_lan_ip : n.tailnet_ip;
}

inline std::vector<model::ClusterNode> cluster(Scenario s) {
  std::vector<model::ClusterNode> out;
  for (const auto& n : nodes()) {
    model::ClusterNode c;
    c.name = n.name;
    c.group = n.zone;
    c.pod_cidr = Ipv4Prefix::parse(n.pod_cidr);
    c.internal_addresses = {*Ipv4::parse(n.tailnet_ip)};
    if (!n.external_ip.empty()) c.external_addresses = {*Ipv4::parse(n.external_ip)};
    c.ready = true;
    c.backend_type = "vxlan";
    c.public_ip = Ipv4::parse(public_ip(n, s));
    c.vni = 1;
    c.vtep_mac = n.mac;
    out.push_back(c);
  }
  return out;
}

inline std::vector<model::KernelPeer> kernel_peers(const std::string& self, Scenario s) {
  std::vector<model::KernelPeer> out;
  for (const auto& n : nodes()) {
    if (n.name == self) continue;
    auto cidr = *Ipv4Prefix::parse(n.pod_cidr);
    out.push_back({cidr, cidr.address, n.mac, Ipv4::parse(public_ip(n, s)), "flannel.1"});
  }
  return out;
}

inline netlink::Link link(int index, std::string name, std::string kind, std::uint32_t mtu) {
  netlink::Link l;
  l.index = index;
  l.name = std::move(name);
  l.kind = std::move(kind);
  l.operstate = "up";
  l.mtu = mtu;
  return l;
}

inline netlink::RouteLookup lookup(const std::string& dst, const std::string& device,
                                   std::uint32_t table, int error = 0,
                                   std::string error_name = "") {
  netlink::RouteLookup r;
  r.destination = *Ipv4::parse(dst);
  r.error = error;
  r.error_name = std::move(error_name);
  if (error == 0) {
    r.device = device;
    r.table = table;
    r.type = "unicast";
  }
  return r;
}

// The kernel of `self` in scenario `s`, as flannel and tailscaled program it.
inline netlink::KernelSnapshot kernel(const std::string& self, Scenario s) {
  const bool home = is_home(self);
  netlink::KernelSnapshot k;
  k.links.push_back(link(1, "lo", "device", 65536));
  k.links.push_back(link(2, "eth0", "veth", 1500));
  k.links.push_back(link(3, "tailscale0", "tun", 1280));
  std::string underlay = "eth0";
  if (home && s.vmnet) {
    k.links.push_back(link(4, "lima0", "veth", 1500));
    underlay = "lima0";
  }
  // Before vmnet the home VTEPs are tailnet addresses, but flannel took its MTU from the
  // default-route interface (eth0, 1500): 1450, the mismatch the report describes.
  auto flannel = link(5, "flannel.1", "vxlan", 1450);
  flannel.mac = "0a:00:00:00:00:99";
  netlink::Vxlan vx;
  vx.vni = 1;
  vx.dstport = 8472;
  for (const auto& n : nodes())
    if (n.name == self) vx.local = public_ip(n, s);
  vx.underlay_device = underlay;
  flannel.vxlan = vx;
  k.links.push_back(flannel);

  for (const auto& n : nodes()) {
    if (n.name == self) continue;
    netlink::PeerRoutes pr;
    pr.peer = n.name;
    auto overlay = n.pod_cidr.substr(0, n.pod_cidr.find('/'));
    const bool cross = is_home(n.name) != home;
    if (s.subnet_routes && cross) {
      // Accepted subnet routes in table 52 win over flannel's route in main (rule 5270).
      pr.overlay = lookup(overlay, "tailscale0", 52);
    } else {
      pr.overlay = lookup(overlay, "flannel.1", 254);
    }
    const std::string vtep = public_ip(n, s);
    // Every tailnet address of the fixture lies in Tailscale's 100.64.0.0/10.
    if (Ipv4Prefix::parse("100.64.0.0/10")->contains(*Ipv4::parse(vtep))) {
      pr.underlay = lookup(vtep, "tailscale0", 52);
    } else if (!home || (!cross && s.vmnet)) {
      pr.underlay = lookup(vtep, underlay, 254);
    } else {
      // A home node has no route to the cloud's private VPC addresses: the default route
      // sends them to the home NAT, which drops them.
      pr.underlay = lookup(vtep, "eth0", 254);
    }
    k.peer_routes.push_back(pr);
  }
  return k;
}

// Tailscale's view from `self`: same-site home peers relayed by DERP 'tok' before vmnet,
// cross-site peers direct; subnet routes advertised in the cross-site scenario.
inline tailscale::Snapshot tailscale_view(const std::string& self, Scenario s,
                                          const model::PeerSet& peers) {
  tailscale::Status status;
  status.version = "1.90.0";
  status.backend_state = "Running";
  int key = 0;
  for (const auto& n : nodes()) {
    tailscale::PeerStatus p;
    p.key = "nodekey:" + std::to_string(key++);
    p.host_name = n.name;
    p.dns_name = n.name + ".tailnet.ts.net.";
    p.tailscale_ips = {*Ipv4::parse(n.tailnet_ip)};
    p.allowed_ips = {*Ipv4Prefix::parse(n.tailnet_ip + "/32")};
    if (s.subnet_routes && is_home(n.name) != is_home(self)) {
      p.primary_routes = {*Ipv4Prefix::parse(n.pod_cidr)};
      p.allowed_ips.push_back(*Ipv4Prefix::parse(n.pod_cidr));
    }
    p.online = true;
    p.active = true;
    p.last_handshake_unix_seconds = 1795600000;
    p.relay = "tok";
    const bool same_host = is_home(n.name) && is_home(self);
    if (!same_host) p.cur_addr = "198.51.100.7:41641";
    if (n.name == self) {
      status.self = p;
      continue;
    }
    status.peers.push_back(p);
  }
  tailscale::Snapshot snap;
  snap.availability = tailscale::Availability::kAvailable;
  snap.mapping = tailscale::map_peers(peers, status);
  snap.status = status;
  return snap;
}

inline Inputs inputs(const std::string& self, Scenario s) {
  Inputs in;
  in.peers = model::merge_peers(self, cluster(s), kernel_peers(self, s));
  in.kernel = kernel(self, s);
  in.tailscale = tailscale_view(self, s, in.peers);
  flannel::SubnetEnv env;
  env.network = "10.42.0.0/16";
  env.mtu = 1450;
  in.subnet_env = env;
  in.prober_enabled = true;
  return in;
}

}  // namespace podpath::analysis::fixtures
