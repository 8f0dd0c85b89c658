#include "analysis/analyse.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "analysis/families.h"
#include "analysis/probe_window.h"
#include "analysis/road.h"
#include "field_report_fixtures.h"

namespace podpath::analysis {
namespace {

using namespace fixtures;

const PeerVerdict& verdict(const NodeReport& r, const std::string& peer) {
  for (const auto& v : r.peers)
    if (v.peer == peer) return v;
  throw std::runtime_error("no verdict for " + peer);
}

std::vector<std::string> codes(const NodeReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.code + ":" + f.peer);
  return out;
}

void set_rtt(Inputs& in, const std::string& peer, double seconds, std::uint64_t sent = 30,
             std::uint64_t received = 30) {
  in.overlay_probes[peer] = ProbeStats{sent, received, seconds};
  in.underlay_probes[peer] = ProbeStats{sent, received, seconds};
}

// Before vmnet, from a home node: lima <-> lima is VXLAN inside tailscale0 relayed by DERP
// 'tok' (87-133 ms), the path MTU is 1280 - 50 = 1230 < flannel's 1450; cross-site pod
// traffic rides Tailscale subnet routes (table 52), direct.
TEST(FieldReport, BeforeVmnetFromAHomeNode) {
  Inputs in = inputs("lima-k3s-agent", kBefore);
  for (const char* home : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
    set_rtt(in, home, 0.100);
  for (const char* server : {"ip-172-26-2-70", "ip-172-26-3-146"}) set_rtt(in, server, 0.022);
  NodeReport r = analyse(in);

  const auto& lima2 = verdict(r, "lima-k3s-agent-2");
  EXPECT_EQ(lima2.carrier, Carrier::kVxlan);
  EXPECT_EQ(lima2.route_device, "flannel.1");
  EXPECT_EQ(lima2.route_table, "main");
  EXPECT_EQ(lima2.underlay_device, "tailscale0");
  EXPECT_EQ(lima2.transport, Transport::kTailscaleDerp);
  EXPECT_EQ(lima2.derp_region, "tok");
  EXPECT_TRUE(lima2.double_encapsulation);
  EXPECT_EQ(lima2.computed_mtu, 1230);
  EXPECT_EQ(lima2.overlay_mtu, 1450);
  EXPECT_TRUE(lima2.same_group);
  EXPECT_TRUE(lima2.flannel_checked);
  EXPECT_TRUE(lima2.flannel_inconsistencies.empty());

  const auto& server = verdict(r, "ip-172-26-2-70");
  EXPECT_EQ(server.carrier, Carrier::kTailscaleSubnetRoute);
  EXPECT_EQ(server.route_device, "tailscale0");
  EXPECT_EQ(server.route_table, "52");
  EXPECT_EQ(server.transport, Transport::kTailscaleDirect);
  EXPECT_FALSE(server.route_via_derp());
  EXPECT_FALSE(server.same_group);

  std::vector<std::string> expected;
  for (const char* code : {"route-via-derp"})
    for (const char* p : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
      expected.push_back(std::string(code) + ":" + p);
  for (const char* code : {"double-encapsulation", "latency-high", "path-mtu-too-small"})
    for (const char* p : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
      expected.push_back(std::string(code) + ":" + p);
  EXPECT_EQ(codes(r), expected);
  EXPECT_TRUE(r.has_critical());
  EXPECT_EQ(r.self.public_ip_scope, "tailnet");
}

// The VTEP 100.84.0.1 is tailnet because this node's tailscaled lists it (Self's
// TailscaleIPs). Without Tailscale the same address is a CGNAT provider's (RFC 6598 shares
// 100.64.0.0/10), and one tailscaled does not list is too.
TEST(FieldReport, SharedAddressSpaceIsTailnetOnlyWhereTailscaledListsIt) {
  Inputs in = inputs("lima-k3s-agent", kBefore);
  in.peers.self->public_ip = Ipv4::parse("100.70.1.2");
  EXPECT_EQ(analyse(in).self.public_ip_scope, "cgnat");
  in.tailscale->status->self->tailscale_ips.push_back(*Ipv4::parse("100.70.1.2"));
  EXPECT_EQ(analyse(in).self.public_ip_scope, "tailnet");
  in.tailscale.reset();
  EXPECT_EQ(analyse(in).self.public_ip_scope, "cgnat");
}

// After vmnet: lima0 is the default route, flannel advertises 192.168.105.x, lima <-> lima is
// VXLAN over the shared LAN at 0.5 ms; nothing is wrong.
TEST(FieldReport, AfterVmnetFromAHomeNode) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  for (const char* home : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
    set_rtt(in, home, 0.0005);
  for (const char* server : {"ip-172-26-2-70", "ip-172-26-3-146"}) set_rtt(in, server, 0.023);
  NodeReport r = analyse(in);
  const auto& lima2 = verdict(r, "lima-k3s-agent-2");
  EXPECT_EQ(lima2.carrier, Carrier::kVxlan);
  EXPECT_EQ(lima2.underlay_device, "lima0");
  EXPECT_EQ(lima2.transport, Transport::kLan);
  EXPECT_FALSE(lima2.double_encapsulation);
  EXPECT_EQ(lima2.computed_mtu, 1450);
  EXPECT_EQ(verdict(r, "ip-172-26-3-146").carrier, Carrier::kTailscaleSubnetRoute);
  EXPECT_EQ(verdict(r, "ip-172-26-3-146").computed_mtu, 1280);
  EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(codes(r));
  EXPECT_EQ(r.self.public_ip_scope, "private");
}

// A server: the other server over the VPC (VXLAN, 0.3 ms), the home nodes over subnet routes.
TEST(FieldReport, ServersOverTheVpc) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  set_rtt(in, "ip-172-26-3-146", 0.0003);
  NodeReport r = analyse(in);
  const auto& other = verdict(r, "ip-172-26-3-146");
  EXPECT_EQ(other.carrier, Carrier::kVxlan);
  EXPECT_EQ(other.underlay_device, "eth0");
  EXPECT_EQ(other.transport, Transport::kLan);
  EXPECT_TRUE(other.same_group);
  const auto& home = verdict(r, "lima-k3s-agent-4");
  EXPECT_EQ(home.carrier, Carrier::kTailscaleSubnetRoute);
  EXPECT_EQ(home.transport, Transport::kTailscaleDirect);
  EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(codes(r));
}

// Without subnet routes a server reaches the home nodes' tailnet VTEPs through tailscale0:
// double encapsulation, but direct, so no DERP finding.
TEST(FieldReport, ServerWithoutSubnetRoutesSeesDoubleEncapsulation) {
  Inputs in = inputs("ip-172-26-2-70", Scenario{false, false});
  NodeReport r = analyse(in);
  const auto& home = verdict(r, "lima-k3s-agent");
  EXPECT_EQ(home.carrier, Carrier::kVxlan);
  EXPECT_EQ(home.underlay_device, "tailscale0");
  EXPECT_EQ(home.transport, Transport::kTailscaleDirect);
  EXPECT_TRUE(home.double_encapsulation);
  for (const auto& f : r.findings) EXPECT_NE(f.code, "route-via-derp");
}

// public-8472-open: the exposure probe got an answer from a server's public address.
TEST(FieldReport, Public8472Open) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  in.exposure.push_back({"ip-172-26-2-70", *model::Ipv4::parse("203.0.113.10"), true});
  in.exposure.push_back({"ip-172-26-3-146", *model::Ipv4::parse("203.0.113.11"), false});
  NodeReport r = analyse(in);
  ASSERT_EQ(codes(r), std::vector<std::string>{"vxlan-public-exposed:ip-172-26-2-70"});
  EXPECT_EQ(r.findings[0].severity, Severity::kCritical);
  EXPECT_NE(r.findings[0].message.find("UDP 8472 answers on public address 203.0.113.10"),
            std::string::npos);
  EXPECT_EQ(verdict(r, "ip-172-26-3-146").closed_addresses,
            std::vector<std::string>{"203.0.113.11"});
}

TEST(Findings, VxlanBlockedWhileUnderlayAnswers) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{30, 0, std::nullopt};
  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{30, 30, 0.0003};
  NodeReport r = analyse(in);
  EXPECT_EQ(codes(r), std::vector<std::string>{"overlay-blocked:ip-172-26-3-146"});
}

TEST(Findings, NotReadyPeerIsNotANetworkFault) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  for (auto& p : in.peers.peers)
    if (p.name == "ip-172-26-3-146") p.ready = false;
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{30, 0, std::nullopt};
  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{30, 0, std::nullopt};
  EXPECT_TRUE(analyse(in).findings.empty());
}

TEST(Findings, OneLostProbeIsNothing) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{30, 29, 0.0003};
  EXPECT_TRUE(analyse(in).findings.empty());
}

TEST(Findings, TooFewProbesAreNotJudged) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{2, 0, std::nullopt};
  EXPECT_TRUE(analyse(in).findings.empty());
}

// The doctor's short burst: a peer whose probes are all lost while its VTEP has not yet
// been probed five times is not judged (neither unreachable nor blocked) until it has been;
// the report says so and the doctor keeps probing (awaiting_probes).
TEST(Findings, UnderlayNotYetJudgedIsNoVerdict) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{5, 0, std::nullopt};
  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{4, 4, 0.0003};
  NodeReport r = analyse(in);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_FALSE(verdict(r, "ip-172-26-3-146").probes_judged);
  EXPECT_TRUE(r.awaiting_probes());
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("at least 5 needed) for: ip-172-26-3-146"), std::string::npos)
      << r.notes.back();

  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{5, 5, 0.0003};
  r = analyse(in);
  EXPECT_EQ(codes(r), std::vector<std::string>{"overlay-blocked:ip-172-26-3-146"});
  EXPECT_TRUE(verdict(r, "ip-172-26-3-146").probes_judged);
  EXPECT_FALSE(r.awaiting_probes());
}

TEST(Findings, ProbesJudgedFromTheMinimumOn) {
  struct Case {
    ProbeStats overlay;
    std::optional<ProbeStats> underlay;
    bool judged;
  } cases[] = {
      {{4, 4, 0.0003}, ProbeStats{30, 30, 0.0003}, false},
      {{5, 5, 0.0003}, std::nullopt, true},
      {{5, 5, 0.0003}, ProbeStats{1, 1, 0.0003}, true},  // the underlay decides nothing here
      {{5, 0, std::nullopt}, std::nullopt, true},        // no VTEP to ask: unreachable
      {{5, 0, std::nullopt}, ProbeStats{4, 0, std::nullopt}, false},
      {{9, 0, std::nullopt}, ProbeStats{5, 0, std::nullopt}, true},
  };
  for (const auto& c : cases) {
    Inputs in = inputs("ip-172-26-2-70", kVmnet);
    in.overlay_probes["ip-172-26-3-146"] = c.overlay;
    if (c.underlay) in.underlay_probes["ip-172-26-3-146"] = *c.underlay;
    NodeReport r = analyse(in);
    SCOPED_TRACE(::testing::Message()
                 << "overlay " << c.overlay.sent << "/" << c.overlay.received << " underlay "
                 << (c.underlay ? std::to_string(c.underlay->sent) : "-"));
    EXPECT_EQ(verdict(r, "ip-172-26-3-146").probes_judged, c.judged);
    EXPECT_EQ(r.awaiting_probes(), !c.judged);
  }
  // With the prober off nothing is waited for.
  Inputs off = inputs("ip-172-26-2-70", kVmnet);
  off.prober_enabled = false;
  EXPECT_FALSE(analyse(off).awaiting_probes());
}

// The doctor on a node whose API answered late: the prober runs, knows its peers, and has not
// published its first round yet. Ending the report there would show every road unprobed, so
// the doctor waits for that round too (up to its longest burst).
TEST(Findings, NoProbeResultAtAllYetIsAwaited) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.prober_enabled = true;
  in.overlay_probes.clear();
  in.underlay_probes.clear();
  EXPECT_TRUE(analyse(in).awaiting_probes());
  // One peer answered, another is not probed by this node (the probe graph left it out):
  // nothing more to wait for.
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{10, 10, 0.0001};
  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{10, 10, 0.0001};
  EXPECT_FALSE(analyse(in).awaiting_probes());
}

// The doctor also waits for each peer's first path MTU search: a report made before it
// finishes cannot tell a path that drops large packets from a healthy one.
TEST(Findings, PathMtuSearchStillRunningIsAwaited) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{10, 10, 0.0001};  // the echoes are in
  in.path_mtu_pending.insert("ip-172-26-3-146");
  NodeReport r = analyse(in);
  EXPECT_TRUE(verdict(r, "ip-172-26-3-146").path_mtu_pending);
  EXPECT_TRUE(r.awaiting_probes());
  ASSERT_FALSE(r.notes.empty());
  EXPECT_EQ(r.notes.back(), "path MTU search not finished yet for: ip-172-26-3-146");

  in.path_mtu_pending.clear();
  in.probed_mtu["ip-172-26-3-146"] = 1450;
  r = analyse(in);
  EXPECT_FALSE(verdict(r, "ip-172-26-3-146").path_mtu_pending);
  EXPECT_FALSE(r.awaiting_probes());
}

TEST(Findings, LatencyBoundsDependOnGroup) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  set_rtt(in, "ip-172-26-2-70", 0.025);    // cross-group: 25 ms is fine
  set_rtt(in, "lima-k3s-agent-2", 0.025);  // same group: above Longhorn's 20 ms
  set_rtt(in, "ip-172-26-3-146", 0.150);   // cross-group: above 100 ms
  NodeReport r = analyse(in);
  EXPECT_EQ(codes(r), (std::vector<std::string>{"latency-high:ip-172-26-3-146",
                                                "latency-high:lima-k3s-agent-2"}));
}

TEST(Findings, MtuBlackHoleFromProbes) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.probed_mtu["ip-172-26-3-146"] = 1400;
  NodeReport r = analyse(in);
  ASSERT_EQ(codes(r), std::vector<std::string>{"path-mtu-too-small:ip-172-26-3-146"});
  EXPECT_NE(r.findings[0].message.find("probed path MTU 1400"), std::string::npos);
}

TEST(Findings, ProbedMtuOnARoutedRoadIsNotABlackHole) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  in.probed_mtu["ip-172-26-2-70"] = 1280;  // DF probe over the subnet route via tailscale0
  EXPECT_TRUE(analyse(in).findings.empty());
}

TEST(Findings, FlannelDriftIsNamed) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  auto kernel = kernel_peers("ip-172-26-2-70", kVmnet);
  for (auto& k : kernel)
    if (k.pod_subnet.to_string() == "10.42.1.0/24") {
      k.vtep_mac = "0a:00:00:00:00:77";
      k.vtep_address = model::Ipv4::parse("172.26.9.9");
    }
  // A stale entry for a subnet no node has any more.
  kernel.push_back({*model::Ipv4Prefix::parse("10.42.9.0/24"), model::Ipv4::parse("10.42.9.0"),
                    "0a:00:00:00:00:09", model::Ipv4::parse("172.26.9.10"), "flannel.1"});
  in.peers = model::merge_peers("ip-172-26-2-70", cluster(kVmnet), kernel);
  NodeReport r = analyse(in);
  EXPECT_EQ(codes(r), (std::vector<std::string>{"flannel-drift:10.42.9.0/24",
                                                "flannel-drift:ip-172-26-3-146"}));
  const auto& drift = verdict(r, "ip-172-26-3-146").flannel_inconsistencies;
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_NE(drift[0].find("0a:00:00:00:00:77"), std::string::npos);
  EXPECT_NE(drift[1].find("172.26.9.9"), std::string::npos);
}

TEST(Findings, NoRouteIsCritical) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  for (auto& pr : in.kernel->peer_routes)
    if (pr.peer == "ip-172-26-3-146")
      pr.overlay = lookup("10.42.1.0", "", 0, ENETUNREACH, "ENETUNREACH");
  NodeReport r = analyse(in);
  EXPECT_EQ(verdict(r, "ip-172-26-3-146").carrier, Carrier::kNone);
  EXPECT_EQ(codes(r), std::vector<std::string>{"no-route:ip-172-26-3-146"});
}

TEST(Findings, PublicVtepAddressIsCritical) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.peers.self->public_ip = model::Ipv4::parse("203.0.113.10");
  NodeReport r = analyse(in);
  EXPECT_EQ(codes(r), std::vector<std::string>{"vtep-public-address:"});
  EXPECT_EQ(r.self.public_ip_scope, "global");
}

// A subnet.env pasted by hand without its final newline is refused: the doctor says why,
// naming the line, instead of showing an empty network.
TEST(Findings, RefusedSubnetEnvIsExplained) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  in.subnet_env.reset();
  in.subnet_env_refused =
      "/run/flannel/subnet.env: line 4: no newline at the end of the file (truncated or still "
      "being written?)";
  NodeReport r = analyse(in);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_EQ(r.notes.front(),
            "flannel's subnet.env was refused (/run/flannel/subnet.env: line 4: no newline at the "
            "end of the file (truncated or still being written?)); the flannel identity lacks "
            "its subnet and MTU");
}

// flannel's vxlan backend with DirectRouting: the two servers share the VPC subnet, so flannel
// routes each one's pods via the other's public-ip on eth0 and writes no FDB or neighbour
// entry for it (flannel pkg/backend/vxlan/vxlan_network.go). That road is right, not drift.
TEST(NetworkShapes, DirectRoutingToASameSubnetPeerIsADirectRoad) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  for (auto& pr : in.kernel->peer_routes)
    if (pr.peer == "ip-172-26-3-146") {
      pr.overlay = lookup("10.42.1.0", "eth0", 254);
      pr.overlay->gateway = model::Ipv4::parse("172.26.3.146");
    }
  // The kernel view has no flannel.1 entries for it any more.
  in.peers = model::merge_peers("ip-172-26-2-70", cluster(kVmnet), {});
  NodeReport r = analyse(in);
  const PeerVerdict& v = verdict(r, "ip-172-26-3-146");
  EXPECT_EQ(v.carrier, Carrier::kDirectRouting);
  EXPECT_EQ(v.transport, Transport::kLan);
  EXPECT_EQ(v.computed_mtu, 1500);
  EXPECT_EQ(v.mtu_chain, "eth0 1500 (DirectRouting, no encapsulation)");
  EXPECT_TRUE(v.flannel_checked);
  EXPECT_TRUE(v.flannel_inconsistencies.empty());
  for (const auto& f : r.findings) EXPECT_NE(f.peer, "ip-172-26-3-146") << f.code;
}

// flannel's udp backend sends the whole pod network to its tun flannel0, and ipsec to the
// default route under XFRM policies: a route lookup cannot show their road, so podpath names
// the backend, probes it, and raises no "no route" it cannot prove.
TEST(NetworkShapes, LegacyBackendIsNamedAndProbedWithoutAFalseFinding) {
  for (const char* backend : {"udp", "ipsec", "extension", "some-future-backend"}) {
    auto nodes = cluster(kVmnet);
    for (auto& n : nodes) n.backend_type = backend;
    Inputs in = inputs("ip-172-26-2-70", kVmnet);
    in.peers = model::merge_peers("ip-172-26-2-70", nodes, {});
    in.peers.self->backend_type = backend;
    for (auto& pr : in.kernel->peer_routes) {
      pr.overlay = lookup(pr.overlay->destination.to_string(), "eth0", 254);
      pr.overlay->gateway = model::Ipv4::parse("172.26.0.1");  // the default route
    }
    set_rtt(in, "ip-172-26-3-146", 0.0004);
    NodeReport r = analyse(in);
    EXPECT_EQ(r.self.backend_type, backend);
    const PeerVerdict& v = verdict(r, "ip-172-26-3-146");
    EXPECT_EQ(v.carrier, Carrier::kOther) << backend;
    EXPECT_EQ(v.backend_type, backend);
    EXPECT_TRUE(codes(r).empty()) << backend << ": " << codes(r).front();
    // Only udp gives its device the subnet's network address; the others are probed at cni0.
    const model::Peer& peer = in.peers.peers[0];
    ASSERT_EQ(peer.name, "ip-172-26-3-146");
    EXPECT_EQ(peer.overlay_address->to_string(),
              std::string(backend) == "udp" ? "10.42.1.0" : "10.42.1.1");
  }
}

TEST(NetworkShapes, LegacyBackendWithEveryProbeLostNamesTheBackend) {
  auto nodes = cluster(kVmnet);
  for (auto& n : nodes) n.backend_type = "udp";
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.peers = model::merge_peers("ip-172-26-2-70", nodes, {});
  for (auto& pr : in.kernel->peer_routes)
    pr.overlay = lookup(pr.overlay->destination.to_string(), "flannel0", 254);
  in.kernel->links.push_back(link(9, "flannel0", "tun", 1472));
  in.overlay_probes["ip-172-26-3-146"] = ProbeStats{30, 0, std::nullopt};
  in.underlay_probes["ip-172-26-3-146"] = ProbeStats{30, 30, 0.0004};
  NodeReport r = analyse(in);
  ASSERT_EQ(codes(r), std::vector<std::string>{"overlay-blocked:ip-172-26-3-146"});
  EXPECT_EQ(r.findings[0].message,
            "every overlay probe to ip-172-26-3-146 is lost while the node 172.26.3.146 answers "
            "ping: flannel's udp backend does not carry pod traffic to it");
}

// k3s --vpn-auth: tailscaled advertises the node's pod CIDR and every node accepts the
// others', so each road is a Tailscale subnet route by design; the doctor says so once.
TEST(NetworkShapes, PodCidrServedByTailscaleIsSaidOnceAsInformation) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  in.tailscale->status->self->primary_routes = {*model::Ipv4Prefix::parse("10.42.2.0/24")};
  NodeReport r = analyse(in);
  EXPECT_EQ(r.self.pod_cidr_tailscale_route, "10.42.2.0/24");
  ASSERT_EQ(codes(r), std::vector<std::string>{"pods-ride-tailscale:"});
  EXPECT_EQ(r.findings[0].severity, Severity::kInfo);
  EXPECT_FALSE(r.has_critical());

  // A route it advertises for something else is not its pods.
  in.tailscale->status->self->primary_routes = {*model::Ipv4Prefix::parse("192.168.5.0/24")};
  EXPECT_TRUE(codes(analyse(in)).empty());
}

TEST(Carrier, ClassifiesEveryRoad) {
  netlink::KernelSnapshot k;
  k.links = {link(1, "eth0", "device", 1500), link(2, "flannel.1", "vxlan", 1450),
             link(3, "flannel-wg", "wireguard", 1420), link(4, "tailscale0", "tun", 1280)};
  model::Peer peer;
  peer.vtep_address = model::Ipv4::parse("192.168.1.20");
  EXPECT_EQ(classify_carrier(lookup("10.42.1.0", "flannel.1", 254), k, peer), Carrier::kVxlan);
  EXPECT_EQ(classify_carrier(lookup("10.42.1.0", "flannel-wg", 254), k, peer), Carrier::kWireguard);
  EXPECT_EQ(classify_carrier(lookup("10.42.1.0", "tailscale0", 52), k, peer),
            Carrier::kTailscaleSubnetRoute);
  auto host_gw = lookup("10.42.1.0", "eth0", 254);
  host_gw.gateway = model::Ipv4::parse("192.168.1.20");
  EXPECT_EQ(classify_carrier(host_gw, k, peer), Carrier::kHostGw);
  // The same route where the backend is a tunnel is DirectRouting to a same-subnet peer.
  model::ClusterNode vxlan_node;
  vxlan_node.backend_type = "vxlan";
  model::Peer vxlan_peer = peer;
  vxlan_peer.cluster = vxlan_node;
  EXPECT_EQ(classify_carrier(host_gw, k, vxlan_peer), Carrier::kDirectRouting);
  k.links.push_back(link(5, "flannel.ipip", "ipip", 1480));
  EXPECT_EQ(classify_carrier(lookup("10.42.1.0", "flannel.ipip", 254), k, peer), Carrier::kIpip);
  auto default_route = lookup("10.42.1.0", "eth0", 254);
  default_route.gateway = model::Ipv4::parse("192.168.1.1");
  EXPECT_EQ(classify_carrier(default_route, k, peer), Carrier::kNone);
  EXPECT_EQ(classify_carrier(lookup("10.42.1.0", "", 0, EHOSTUNREACH, "EHOSTUNREACH"), k, peer),
            Carrier::kNone);
}

TEST(Families, PathInfoAndDerpPerPeer) {
  Inputs in = inputs("lima-k3s-agent", kBefore);
  auto families = to_families(analyse(in));
  const metrics::MetricFamily* path = nullptr;
  const metrics::MetricFamily* derp = nullptr;
  for (const auto& f : families) {
    if (f.name == "podpath_peer_path_info") path = &f;
    if (f.name == "podpath_peer_route_via_derp") derp = &f;
  }
  ASSERT_NE(path, nullptr);
  ASSERT_NE(derp, nullptr);
  ASSERT_EQ(path->metrics.size(), 5u);
  metrics::Labels expected{{"peer", "lima-k3s-agent-2"},
                           {"peer_group", "sapporo"},
                           {"same_group", "true"},
                           {"family", "ipv4"},
                           {"carrier", "vxlan"},
                           {"device", "flannel.1"},
                           {"table", "main"},
                           {"underlay_device", "tailscale0"},
                           {"transport", "tailscale-derp"},
                           {"derp_region", "tok"}};
  bool found = false;
  for (const auto& m : path->metrics) found = found || m.labels == expected;
  EXPECT_TRUE(found);
  int via_derp = 0;
  for (const auto& m : derp->metrics) via_derp += static_cast<int>(m.value);
  EXPECT_EQ(via_derp, 3);
}

}  // namespace
}  // namespace podpath::analysis

namespace podpath::analysis {
namespace {

prober::TargetResult target(std::uint64_t requests, std::uint64_t responses, double sum) {
  prober::TargetResult t;
  t.labels.peer = "p";
  t.requests = requests;
  t.responses = responses;
  t.rtt.count = responses;
  t.rtt.sum = sum;
  return t;
}

TEST(ProbeWindow, DiffsCumulativeCountersOverTheWindow) {
  auto older = target(100, 100, 10.0);
  auto newer = target(131, 101, 10.1);  // 30 probes sent since, 1 answered, 1 in flight
  ProbeStats s = difference(newer, &older);
  EXPECT_EQ(s.sent, 30u);
  EXPECT_EQ(s.received, 1u);
  ASSERT_TRUE(s.rtt_seconds);
  EXPECT_NEAR(*s.rtt_seconds, 0.1, 1e-9);
}

TEST(ProbeWindow, RestartedCountersStandAlone) {
  auto older = target(500, 500, 50);
  auto newer = target(10, 10, 0.005);
  ProbeStats s = difference(newer, &older);
  EXPECT_EQ(s.sent, 10u);
  EXPECT_NEAR(*s.rtt_seconds, 0.0005, 1e-12);
}

TEST(ProbeWindow, KeepsABaselineAWindowOld) {
  using namespace std::chrono_literals;
  ProbeWindow window(30s);
  auto t0 = ProbeWindow::Clock::time_point{} + 1000s;
  auto snap = [](std::uint64_t n) {
    auto s = std::make_shared<prober::Snapshot>();
    s->targets.push_back(target(n, n, n * 0.001));
    return std::shared_ptr<const prober::Snapshot>(s);
  };
  for (int i = 0; i <= 60; i += 15) window.add(t0 + std::chrono::seconds(i), snap(i));
  Inputs in;
  window.fill(in);
  // Newest at 60 s; the baseline is the newest snapshot at least 30 s older: 30 s.
  EXPECT_EQ(in.overlay_probes["p"].sent, 30u);
}

}  // namespace
}  // namespace podpath::analysis
