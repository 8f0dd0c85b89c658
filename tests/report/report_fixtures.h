// A report no cluster produced but every renderer branch needs: a finding of each severity
// and one about the node itself, text that HTML must escape, a peer without a group, one
// NotReady and one cordoned, a route error, a DERP region and a peer relay, probes with and
// without an RTT, MTUs known and unknown, and notes. Shared by the renderer and page tests.
#pragma once

#include "analysis/verdict.h"

namespace podpath::report::fixtures {

using analysis::Carrier;
using analysis::NodeReport;
using analysis::PeerVerdict;
using analysis::ProbeStats;
using analysis::Severity;
using analysis::Transport;

inline PeerVerdict unreachable_peer() {
  PeerVerdict v;
  v.peer = "node-b";
  v.ready = false;
  v.route_error = "ENETUNREACH";
  v.overlay_probe = ProbeStats{10, 0, std::nullopt};
  v.underlay_probe = ProbeStats{10, 0, std::nullopt};
  v.probes_judged = true;
  return v;
}

inline PeerVerdict cordoned_peer_via_derp() {
  PeerVerdict v;
  v.peer = "node-<c>";
  v.group = "home & away";
  v.same_group = true;
  v.unschedulable = true;
  v.carrier = Carrier::kVxlan;
  v.route_device = "flannel.1";
  v.route_table = "main";
  v.vtep_address = model::Ipv4::parse("100.98.0.1");
  v.underlay_device = "tailscale0";
  v.underlay_table = "52";
  v.transport = Transport::kTailscaleDerp;
  v.derp_region = "tok";
  v.double_encapsulation = true;
  v.overlay_mtu = 1450;
  v.computed_mtu = 1230;
  v.mtu_chain = "tailscale0 1280 - 50 (VXLAN)";
  v.probed_mtu = 1200;
  v.flannel_checked = true;
  v.flannel_inconsistencies = {"neighbour 10.42.3.0 has MAC \"0a:77\" but the VtepMAC says 'x'"};
  v.overlay_probe = ProbeStats{10, 9, 0.0004};
  v.underlay_probe = ProbeStats{10, 10, 0.0003};
  v.probes_judged = true;
  v.exposed_addresses = {"203.0.113.11"};
  v.closed_addresses = {"198.51.100.1"};
  return v;
}

inline PeerVerdict peer_over_a_peer_relay() {
  PeerVerdict v;
  v.peer = "node-d";
  v.group = "far";
  v.carrier = Carrier::kTailscaleSubnetRoute;
  v.route_device = "tailscale0";
  v.transport = Transport::kTailscalePeerRelay;
  v.overlay_mtu = 1450;
  v.probed_mtu = 1280;
  v.overlay_probe = ProbeStats{10, 10, 0.0055};
  v.probes_judged = true;
  return v;
}

inline PeerVerdict unprobed_host_gw_peer() {
  PeerVerdict v;
  v.peer = "node-e";
  v.group = "far";
  v.carrier = Carrier::kHostGw;
  v.route_device = "eth0";
  v.route_table = "main";
  v.transport = Transport::kLan;
  v.computed_mtu = 1500;
  v.mtu_chain = "eth0 1500 (host-gw, no encapsulation)";
  v.path_mtu_pending = true;
  return v;
}

inline NodeReport report_with_every_case() {
  NodeReport r;
  r.self.node = "node-a";
  r.self.group = "home & away";
  r.self.backend_type = "vxlan";
  r.self.public_ip = model::Ipv4::parse("203.0.113.10");
  r.self.public_ip_scope = "global";
  r.self.vtep_mac = "0a:00:00:00:00:01";
  r.self.vni = 1;
  r.self.flannel_network = "10.42.0.0/16";
  r.self.flannel_subnet = "10.42.0.1/24";
  r.self.flannel_mtu = 1450;
  r.device_chain = {
      {"flannel.1", "vxlan", 1450, "vxlan id 1 local 203.0.113.10 dev eth0 dstport 8472"},
      {"eth0", "device", 1500, ""}};
  r.peers = {unreachable_peer(), cordoned_peer_via_derp(), peer_over_a_peer_relay(),
             unprobed_host_gw_peer()};
  r.findings = {{Severity::kCritical, "vtep-public-address", "", "advertises <203.0.113.10> & more",
                 "use a private address", std::nullopt},
                {Severity::kWarning, "latency-high", "node-<c>", "RTT \"0.40 ms\" > 'bound'",
                 "keep it", std::nullopt},
                {Severity::kInfo, "informational", "node-d", "a plain message", "nothing to do",
                 std::nullopt}};
  r.notes = {"prober off: <no> probes", "Tailscale status is stale: refused"};
  return r;
}

}  // namespace podpath::report::fixtures
