// One test per finding rule (exporter/analysis/rules.cc): the incident it names fires it,
// with the figures, and the healthy neighbour of that incident leaves it quiet.
#include "analysis/rules.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "field_report_fixtures.h"

namespace podpath::analysis {
namespace {

using namespace fixtures;

const PeerVerdict& verdict_for(const NodeReport& r, const std::string& peer) {
  for (const auto& v : r.peers)
    if (v.peer == peer) return v;
  throw std::runtime_error("no verdict for " + peer);
}

std::vector<Explanation> explain(std::string_view code, const PeerVerdict& v,
                                 const RuleContext& context = {}) {
  for (const auto& rule : peer_rules())
    if (rule.code == code) return rule.check(v, context);
  ADD_FAILURE() << "no peer rule " << code;
  return {};
}

std::optional<Explanation> explain_node(std::string_view code, const NodeIdentity& self,
                                        const RuleContext& context = {}) {
  for (const auto& rule : node_rules())
    if (rule.code == code) return rule.check(self, context);
  ADD_FAILURE() << "no node rule " << code;
  return std::nullopt;
}

void set_probes(Inputs& in, const std::string& peer, ProbeStats overlay,
                std::optional<ProbeStats> underlay) {
  in.overlay_probes[peer] = overlay;
  if (underlay) in.underlay_probes[peer] = *underlay;
}

// The codes the metrics catalogue lists for podpath_finding, in its order.
std::vector<std::string> catalogued_codes() {
  std::ifstream in(std::string(PODPATH_TESTDATA) + "/../docs/metrics/analysis.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string row;
  for (std::string line; std::getline(text, line);)
    if (line.starts_with("| `podpath_finding`")) row = line;
  const std::string codes = row.substr(0, row.find("`peer`"));
  std::vector<std::string> out;
  const std::regex code("`([a-z0-9-]+)`");
  for (auto it = std::sregex_iterator(codes.begin(), codes.end(), code);
       it != std::sregex_iterator(); ++it)
    if ((*it)[1] != "code" && (*it)[1] != "podpath_finding") out.push_back((*it)[1]);
  return out;
}

// The severity is part of the contract (podpath_finding{severity}, the alerts' routing), and
// every code in the tables is catalogued in docs/metrics/analysis.md, once.
TEST(Rules, EachFindingOnceWithItsSeverityAndCatalogued) {
  std::map<std::string, Severity> table;
  for (const auto& rule : node_rules())
    EXPECT_TRUE(table.emplace(rule.code, rule.severity).second) << rule.code;
  for (const auto& rule : peer_rules())
    EXPECT_TRUE(table.emplace(rule.code, rule.severity).second) << rule.code;
  const std::map<std::string, Severity> expected{
      {"double-encapsulation", Severity::kWarning},
      {"flannel-drift", Severity::kWarning},
      {"latency-high", Severity::kWarning},
      {"no-route", Severity::kCritical},
      {"overlay-blocked", Severity::kCritical},
      {"path-mtu-too-small", Severity::kWarning},
      {"peer-unreachable", Severity::kCritical},
      {"route-via-derp", Severity::kCritical},
      {"vtep-public-address", Severity::kCritical},
      {"vxlan-public-exposed", Severity::kCritical},
      {"tailscale-no-handshake", Severity::kCritical},
      {"pods-ride-tailscale", Severity::kInfo},
      {"wireguard-handshake-stale", Severity::kCritical},
      {"wireguard-no-handshake", Severity::kCritical},
      {"wireguard-public-endpoint", Severity::kInfo},
      {"tailscale-key-expired", Severity::kCritical},
      {"tailscale-key-expiring", Severity::kWarning},
      {"tailscale-peer-key-expired", Severity::kCritical},
      {"tailscale-peer-key-expiring", Severity::kWarning}};
  EXPECT_EQ(table, expected);
  const auto catalogue = catalogued_codes();
  EXPECT_EQ(std::set<std::string>(catalogue.begin(), catalogue.end()).size(), catalogue.size());
  std::set<std::string> in_table;
  for (const auto& [code, severity] : table) in_table.insert(code);
  EXPECT_EQ(std::set<std::string>(catalogue.begin(), catalogue.end()), in_table);
}

// public-ip on a server's internet address: every peer sends VXLAN to it over the internet.
TEST(Rules, VtepPublicAddress) {
  Inputs in = inputs("ip-172-26-2-70", kVmnet);
  in.peers.self->public_ip = model::Ipv4::parse("203.0.113.10");
  auto public_vtep = explain_node("vtep-public-address", analyse(in).self);
  ASSERT_TRUE(public_vtep);
  EXPECT_EQ(public_vtep->message,
            "this node advertises the public address 203.0.113.10 as its VTEP (flannel "
            "public-ip): peers send unauthenticated VXLAN to it over the internet");
  EXPECT_EQ(public_vtep->fix,
            "use a private or tailnet address for flannel's public-ip (--flannel-iface / "
            "--node-ip) and allow UDP 8472 on private networks only");

  // host-gw routes to the public-ip (no VTEP, no port 8472); wireguard's port is
  // authenticated: neither sends VXLAN there.
  for (const char* backend : {"host-gw", "wireguard", "extension"}) {
    NodeIdentity routed = analyse(in).self;
    routed.backend_type = backend;
    EXPECT_FALSE(explain_node("vtep-public-address", routed)) << backend;
  }

  // The VPC address after the fix, and a home node's tailnet address before vmnet.
  EXPECT_FALSE(explain_node("vtep-public-address", analyse(inputs("ip-172-26-2-70", kVmnet)).self));
  EXPECT_FALSE(
      explain_node("vtep-public-address", analyse(inputs("lima-k3s-agent", kBefore)).self));
}

// Before vmnet: VMs on one Mac reached each other's tailnet VTEPs through tailscale0, and
// Tailscale relayed them through DERP 'tok' (87-133 ms).
TEST(Rules, RouteViaDerp) {
  const NodeReport before = analyse(inputs("lima-k3s-agent", kBefore));
  auto derp = explain("route-via-derp", verdict_for(before, "lima-k3s-agent-2"));
  ASSERT_EQ(derp.size(), 1u);
  EXPECT_EQ(derp[0].message,
            "pod traffic to lima-k3s-agent-2 is VXLAN inside tailscale0 and Tailscale relays it "
            "through DERP 'tok': traffic between nodes leaves for the relay and comes back (same "
            "group: VMs on one host detour far away)");

  // A home NAT that blocks the direct connection to a server: the subnet route is relayed.
  Inputs blocked_nat = inputs("lima-k3s-agent", kVmnet);
  for (auto& p : blocked_nat.tailscale->status->peers)
    if (p.host_name == "ip-172-26-2-70") p.cur_addr.clear();
  auto subnet_route =
      explain("route-via-derp", verdict_for(analyse(blocked_nat), "ip-172-26-2-70"));
  ASSERT_EQ(subnet_route.size(), 1u);
  EXPECT_EQ(subnet_route[0].message,
            "pod traffic to ip-172-26-2-70 rides tailscale0 as a subnet route and Tailscale "
            "relays it through DERP 'tok': traffic between nodes leaves for the relay and comes "
            "back");

  // After vmnet the VMs share lima0; cross-site subnet routes were direct all along.
  const NodeReport after = analyse(inputs("lima-k3s-agent", kVmnet));
  EXPECT_TRUE(explain("route-via-derp", verdict_for(after, "lima-k3s-agent-2")).empty());
  EXPECT_TRUE(explain("route-via-derp", verdict_for(before, "ip-172-26-2-70")).empty());
}

// Without subnet routes a server reaches the home nodes' tailnet VTEPs through tailscale0.
TEST(Rules, DoubleEncapsulation) {
  const NodeReport no_routes = analyse(inputs("ip-172-26-2-70", Scenario{false, false}));
  auto doubled = explain("double-encapsulation", verdict_for(no_routes, "lima-k3s-agent"));
  ASSERT_EQ(doubled.size(), 1u);
  EXPECT_EQ(doubled[0].message,
            "pod traffic to lima-k3s-agent is VXLAN whose VTEP 100.84.0.1 is reached through "
            "tailscale0: double encapsulation (flannel inside WireGuard)");

  // The other server over the VPC, and the home nodes once subnet routes carry them.
  EXPECT_TRUE(explain("double-encapsulation", verdict_for(no_routes, "ip-172-26-3-146")).empty());
  const NodeReport routed = analyse(inputs("ip-172-26-2-70", kVmnet));
  EXPECT_TRUE(explain("double-encapsulation", verdict_for(routed, "lima-k3s-agent")).empty());
}

// flannel took 1450 from eth0, but the VTEPs sat behind tailscale0 (1280 - 50 = 1230); and
// mtu-blackhole: a hop on the VPC drops what exceeds 1400, which only probes can see.
TEST(Rules, PathMtuTooSmallComputedAndProbed) {
  const NodeReport before = analyse(inputs("lima-k3s-agent", kBefore));
  auto computed = explain("path-mtu-too-small", verdict_for(before, "lima-k3s-agent-2"));
  ASSERT_EQ(computed.size(), 1u);
  EXPECT_EQ(computed[0].message,
            "flannel.1 MTU 1450 exceeds the path MTU 1230 to lima-k3s-agent-2 (tailscale0 1280 - "
            "50 (VXLAN))");
  EXPECT_EQ(computed[0].fix, "set flannel's MTU to at most 1230 or remove the extra encapsulation");

  Inputs blackhole = inputs("ip-172-26-2-70", kVmnet);
  blackhole.probed_mtu["ip-172-26-3-146"] = 1400;
  auto probed = explain("path-mtu-too-small", verdict_for(analyse(blackhole), "ip-172-26-3-146"));
  ASSERT_EQ(probed.size(), 1u);
  EXPECT_EQ(probed[0].message,
            "flannel.1 MTU 1450 exceeds the probed path MTU 1400 to ip-172-26-3-146: larger "
            "packets are dropped (MTU black hole)");
  EXPECT_EQ(probed[0].fix,
            "find the hop with the small MTU (ping -M do -s 1422 172.26.3.146) and raise it, or "
            "lower flannel's MTU to 1400");

  // Both too small: the device chain explains it, once.
  Inputs both = inputs("lima-k3s-agent", kBefore);
  both.probed_mtu["lima-k3s-agent-2"] = 1200;
  EXPECT_EQ(explain("path-mtu-too-small", verdict_for(analyse(both), "lima-k3s-agent-2")),
            computed);

  // The probe finds the full 1450; a routed road's smaller MTU is answered, not dropped.
  Inputs fits = inputs("ip-172-26-2-70", kVmnet);
  fits.probed_mtu["ip-172-26-3-146"] = 1450;
  fits.probed_mtu["lima-k3s-agent"] = 1280;
  const NodeReport fitting = analyse(fits);
  EXPECT_TRUE(explain("path-mtu-too-small", verdict_for(fitting, "ip-172-26-3-146")).empty());
  EXPECT_TRUE(explain("path-mtu-too-small", verdict_for(fitting, "lima-k3s-agent")).empty());
}

// public-8472-open: the security group let UDP 8472 in from anywhere on both servers.
TEST(Rules, VxlanPublicExposed) {
  Inputs open = inputs("lima-k3s-agent", kVmnet);
  open.exposure.push_back({"ip-172-26-2-70", *model::Ipv4::parse("203.0.113.10"), true});
  open.exposure.push_back({"ip-172-26-2-70", *model::Ipv4::parse("203.0.113.20"), true});
  open.exposure.push_back({"ip-172-26-3-146", *model::Ipv4::parse("203.0.113.11"), false});
  const NodeReport r = analyse(open);
  auto exposed = explain("vxlan-public-exposed", verdict_for(r, "ip-172-26-2-70"));
  ASSERT_EQ(exposed.size(), 2u);
  EXPECT_EQ(exposed[0].message,
            "UDP 8472 answers on public address 203.0.113.10 (ip-172-26-2-70): VXLAN has no "
            "authentication, anyone can inject packets into the pod network");
  EXPECT_NE(exposed[1].message.find("203.0.113.20"), std::string::npos);
  EXPECT_EQ(exposed[1].fix,
            "allow UDP 8472 on private networks only (e.g. the VPC range), never 0.0.0.0/0");

  // The closed server's address is recorded, not reported.
  EXPECT_TRUE(explain("vxlan-public-exposed", verdict_for(r, "ip-172-26-3-146")).empty());
}

// A node re-registered with a new VtepMAC and public-ip, and flannel here kept the old ones.
TEST(Rules, FlannelDrift) {
  Inputs stale = inputs("ip-172-26-2-70", kVmnet);
  auto kernel = kernel_peers("ip-172-26-2-70", kVmnet);
  for (auto& k : kernel)
    if (k.pod_subnet.to_string() == "10.42.1.0/24") {
      k.vtep_mac = "0a:00:00:00:00:77";
      k.vtep_address = model::Ipv4::parse("172.26.9.9");
    }
  stale.peers = model::merge_peers("ip-172-26-2-70", cluster(kVmnet), kernel);
  auto drift = explain("flannel-drift", verdict_for(analyse(stale), "ip-172-26-3-146"));
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].message,
            "kernel and annotations disagree for ip-172-26-3-146: neighbour 10.42.1.0 has MAC "
            "0a:00:00:00:00:77 but the VtepMAC annotation says 0a:00:00:00:00:01; FDB sends "
            "0a:00:00:00:00:77 to 172.26.9.9 but the public-ip annotation says 172.26.3.146");

  const NodeReport consistent = analyse(inputs("ip-172-26-2-70", kVmnet));
  EXPECT_TRUE(explain("flannel-drift", verdict_for(consistent, "ip-172-26-3-146")).empty());
}

// flannel lost its route to a peer's pod subnet: the kernel answers ENETUNREACH, or only the
// default route matches.
TEST(Rules, NoRoute) {
  Inputs lost = inputs("ip-172-26-2-70", kVmnet);
  for (auto& pr : lost.kernel->peer_routes) {
    if (pr.peer == "ip-172-26-3-146")
      pr.overlay = lookup("10.42.1.0", "", 0, ENETUNREACH, "ENETUNREACH");
    if (pr.peer == "lima-k3s-agent") pr.overlay = lookup("10.42.2.0", "eth0", 254);
  }
  const NodeReport r = analyse(lost);
  auto unreachable = explain("no-route", verdict_for(r, "ip-172-26-3-146"));
  ASSERT_EQ(unreachable.size(), 1u);
  EXPECT_EQ(unreachable[0].message,
            "no route carries pod traffic to ip-172-26-3-146 (ENETUNREACH)");
  auto default_route = explain("no-route", verdict_for(r, "lima-k3s-agent"));
  ASSERT_EQ(default_route.size(), 1u);
  EXPECT_EQ(default_route[0].message,
            "no route carries pod traffic to lima-k3s-agent (route via eth0, table main)");

  // flannel's route, and a peer never looked up (netlink off: nothing to say).
  EXPECT_TRUE(explain("no-route", verdict_for(r, "lima-k3s-agent-2")).empty());
  Inputs blind = inputs("ip-172-26-2-70", kVmnet);
  blind.kernel.reset();
  EXPECT_TRUE(explain("no-route", verdict_for(analyse(blind), "ip-172-26-3-146")).empty());
}

// vxlan-blocked: UDP 8472 filtered between the servers while they still ping each other.
TEST(Rules, OverlayBlocked) {
  Inputs blocked = inputs("ip-172-26-2-70", kVmnet);
  set_probes(blocked, "ip-172-26-3-146", {30, 0, std::nullopt}, ProbeStats{30, 30, 0.0003});
  auto found = explain("overlay-blocked", verdict_for(analyse(blocked), "ip-172-26-3-146"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "every overlay probe to ip-172-26-3-146 is lost while its VTEP 172.26.3.146 answers "
            "ping: the VXLAN road is blocked (UDP 8472 filtered between the nodes?)");

  // The VTEP asked too few times yet; the node is NotReady; or the peer answers neither.
  Inputs early = inputs("ip-172-26-2-70", kVmnet);
  set_probes(early, "ip-172-26-3-146", {30, 0, std::nullopt}, ProbeStats{4, 4, 0.0003});
  EXPECT_TRUE(explain("overlay-blocked", verdict_for(analyse(early), "ip-172-26-3-146")).empty());
  Inputs not_ready = blocked;
  for (auto& p : not_ready.peers.peers)
    if (p.name == "ip-172-26-3-146") p.ready = false;
  EXPECT_TRUE(
      explain("overlay-blocked", verdict_for(analyse(not_ready), "ip-172-26-3-146")).empty());
  Inputs down = inputs("ip-172-26-2-70", kVmnet);
  set_probes(down, "ip-172-26-3-146", {30, 0, std::nullopt}, ProbeStats{30, 0, std::nullopt});
  EXPECT_TRUE(explain("overlay-blocked", verdict_for(analyse(down), "ip-172-26-3-146")).empty());
}

// tailscaled queues packets for a peer it has never completed a handshake with (UDP blocked
// both ways, DERP out of reach, a wedged peer); `tailscale status` shows it as
// `active; relay "lax"`. Pod traffic over it goes nowhere: critical, and named apart from DERP.
TEST(Rules, TailscaleNoHandshake) {
  PeerVerdict v;
  v.peer = "lima-k3s-agent-2";
  v.carrier = Carrier::kTailscaleSubnetRoute;
  v.transport = Transport::kTailscaleNoHandshake;
  v.derp_region = "lax";
  auto found = explain("tailscale-no-handshake", v);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "pod traffic to lima-k3s-agent-2 rides Tailscale, which is sending to it but has never "
            "completed a WireGuard handshake with it (its DERP region 'lax'): no session, nothing "
            "arrives");
  EXPECT_TRUE(explain("route-via-derp", v).empty());
  v.transport = Transport::kTailscaleDerp;
  EXPECT_TRUE(explain("tailscale-no-handshake", v).empty());
}

// A node whose own node key expired reaches no peer over the tailnet: critical. A week
// before, a warning with the date; a key that never expires (tagged, expiry disabled) is
// never a finding.
TEST(Rules, TailscaleKeyOfThisNode) {
  Inputs in = inputs("lima-k3s-agent", kBefore);
  in.now_unix_seconds = 1800000000;  // 2027-01-15 08:00:00 UTC
  in.tailscale->status->self->key_expiry_unix_seconds = 1800000000 - 3 * 86400 - 7200;
  NodeReport report = analyse(in);
  auto expired = std::find_if(report.findings.begin(), report.findings.end(),
                              [](const Finding& f) { return f.code == "tailscale-key-expired"; });
  ASSERT_NE(expired, report.findings.end());
  EXPECT_EQ(expired->severity, Severity::kCritical);
  EXPECT_EQ(expired->peer, "");
  EXPECT_EQ(expired->message,
            "this node's Tailscale node key expired 2027-01-12 06:00:00 UTC (3d 2h ago): "
            "tailscaled reaches no peer over the tailnet until the node is re-authenticated");
  EXPECT_EQ(expired->fix,
            "re-authenticate the node (tailscale up --force-reauth, or extend the key in the "
            "admin console); for servers, disable key expiry or use a tagged auth key");

  RuleContext context{"flannel.1", {}, 1800000000};
  NodeIdentity self = report.self;
  self.tailscale_key_expiry_unix_seconds = 1800000000 + 2 * 86400 + 3600;
  EXPECT_FALSE(explain_node("tailscale-key-expired", self, context));
  auto soon = explain_node("tailscale-key-expiring", self, context);
  ASSERT_TRUE(soon);
  EXPECT_EQ(soon->message,
            "this node's Tailscale node key expires 2027-01-17 09:00:00 UTC (in 2d 1h), within "
            "the 7d warning window: then it reaches no peer over the tailnet");
  // Outside the window, or a key that never expires: quiet.
  self.tailscale_key_expiry_unix_seconds = 1800000000 + 8 * 86400;
  EXPECT_FALSE(explain_node("tailscale-key-expiring", self, context));
  context.thresholds.key_expiry_warning_seconds = 10 * 86400;
  EXPECT_TRUE(explain_node("tailscale-key-expiring", self, context));
  self.tailscale_key_expiry_unix_seconds.reset();
  EXPECT_FALSE(explain_node("tailscale-key-expiring", self, context));
  EXPECT_FALSE(explain_node("tailscale-key-expired", self, context));
  // tailscaled's own word counts even without a date.
  self.tailscale_key_expired = true;
  auto flagged = explain_node("tailscale-key-expired", self, context);
  ASSERT_TRUE(flagged);
  EXPECT_EQ(flagged->message,
            "this node's Tailscale node key has expired: tailscaled reaches no peer over the "
            "tailnet until the node is re-authenticated");
  // A node without Tailscale says nothing about keys.
  EXPECT_FALSE(explain_node("tailscale-key-expired", NodeIdentity{}, context));
}

// A peer whose node key expired: tailscaled drops its endpoints, nothing reaches it. The
// finding names the cluster peer and the Tailscale peer behind it.
TEST(Rules, TailscaleKeyOfAPeer) {
  Inputs in = inputs("lima-k3s-agent", kBefore);
  in.now_unix_seconds = 1800000000;
  for (auto* peers : {&in.tailscale->status->peers}) {
    for (auto& p : *peers)
      if (p.host_name == "ip-172-26-2-70") {
        p.expired = true;
        p.key_expiry_unix_seconds = 1800000000 - 600;
      } else if (p.host_name == "lima-k3s-agent-2") {
        p.key_expiry_unix_seconds = 1800000000 + 86400 * 6;
      } else {
        p.key_expiry_unix_seconds = 1800000000 + 86400 * 180;
      }
  }
  in.tailscale->mapping = tailscale::map_peers(in.peers, *in.tailscale->status);
  NodeReport report = analyse(in);
  std::vector<std::string> codes;
  for (const auto& f : report.findings)
    if (f.code.starts_with("tailscale-peer-key")) codes.push_back(f.code + " " + f.peer);
  EXPECT_EQ(codes, (std::vector<std::string>{"tailscale-peer-key-expired ip-172-26-2-70",
                                             "tailscale-peer-key-expiring lima-k3s-agent-2"}));
  const PeerVerdict& tokyo = verdict_for(report, "ip-172-26-2-70");
  RuleContext context{"flannel.1", {}, 1800000000};
  auto expired = explain("tailscale-peer-key-expired", tokyo, context);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].message,
            "the Tailscale node key of ip-172-26-2-70 (Tailscale peer ip-172-26-2-70) expired "
            "2027-01-15 07:50:00 UTC (10m ago): tailscaled sends nothing to it; pod traffic to "
            "it rides Tailscale");
  EXPECT_EQ(expired[0].fix,
            "re-authenticate ip-172-26-2-70 (tailscale up --force-reauth on it, or extend its "
            "key in the admin console)");
  auto soon =
      explain("tailscale-peer-key-expiring", verdict_for(report, "lima-k3s-agent-2"), context);
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].message,
            "the Tailscale node key of lima-k3s-agent-2 (Tailscale peer lima-k3s-agent-2) "
            "expires 2027-01-21 08:00:00 UTC (in 6d), within the 7d warning window; pod traffic "
            "to it rides Tailscale");
  // A peer tailscaled does not list has no key to judge.
  PeerVerdict unmapped;
  unmapped.peer = "x";
  unmapped.tailscale_key_expired = true;
  EXPECT_TRUE(explain("tailscale-peer-key-expired", unmapped, context).empty());
}

// A peer whose every overlay probe is lost while its node answers ping.
PeerVerdict overlay_lost(std::string peer, Carrier carrier, std::string route_device,
                         std::string_view node_address) {
  PeerVerdict v;
  v.peer = std::move(peer);
  v.carrier = carrier;
  v.route_device = std::move(route_device);
  v.vtep_address = model::Ipv4::parse(node_address);
  v.probes_judged = true;
  v.overlay_probe = ProbeStats{30, 0, std::nullopt};
  v.underlay_probe = ProbeStats{30, 30, 0.0004};
  return v;
}

// host-gw: the probe rides the pod route to the peer's cni0; when only the node answers,
// forwarding is what is broken, not UDP 8472.
TEST(Rules, OverlayBlockedOnHostGwNamesForwarding) {
  auto found = explain("overlay-blocked",
                       overlay_lost("test-master-1", Carrier::kHostGw, "eth0", "192.168.199.94"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "every probe to test-master-1's pod gateway is lost while the node 192.168.199.94 "
            "answers ping: pod traffic routed through the node is dropped");
  EXPECT_NE(found[0].fix.find("net.ipv4.ip_forward=1"), std::string::npos);
}

// A blocked WireGuard road names WireGuard's port, not VXLAN's (shapes_lab: UDP 51820 dropped).
TEST(Rules, OverlayBlockedOnWireguardNamesItsPort) {
  auto found = explain("overlay-blocked",
                       overlay_lost("lan-2", Carrier::kWireguard, "flannel-wg", "192.168.10.12"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "every overlay probe to lan-2 is lost while its endpoint 192.168.10.12 answers ping: "
            "the WireGuard road is blocked (UDP 51820 filtered between the nodes, or no "
            "handshake: see wireguard-handshake-stale)");
  EXPECT_EQ(found[0].fix,
            "allow UDP 51820 (51821 for IPv6) between the nodes' public-ip addresses");
}

// A server powered off: neither its pods nor its VTEP answer.
TEST(Rules, PeerUnreachable) {
  Inputs down = inputs("ip-172-26-2-70", kVmnet);
  set_probes(down, "ip-172-26-3-146", {30, 0, std::nullopt}, ProbeStats{30, 0, std::nullopt});
  auto found = explain("peer-unreachable", verdict_for(analyse(down), "ip-172-26-3-146"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "ip-172-26-3-146 answers neither on the overlay nor at its VTEP 172.26.3.146");
  EXPECT_EQ(found[0].fix, "check that the node is up and its addresses are reachable from here");

  // Kubernetes already knows (NotReady); one answer in 30 is a live peer; no route says more.
  Inputs not_ready = down;
  for (auto& p : not_ready.peers.peers)
    if (p.name == "ip-172-26-3-146") p.ready = false;
  EXPECT_TRUE(
      explain("peer-unreachable", verdict_for(analyse(not_ready), "ip-172-26-3-146")).empty());
  Inputs lossy = inputs("ip-172-26-2-70", kVmnet);
  set_probes(lossy, "ip-172-26-3-146", {30, 1, 0.0003}, ProbeStats{30, 0, std::nullopt});
  EXPECT_TRUE(explain("peer-unreachable", verdict_for(analyse(lossy), "ip-172-26-3-146")).empty());
  Inputs no_route = down;
  for (auto& pr : no_route.kernel->peer_routes)
    if (pr.peer == "ip-172-26-3-146")
      pr.overlay = lookup("10.42.1.0", "", 0, ENETUNREACH, "ENETUNREACH");
  EXPECT_TRUE(
      explain("peer-unreachable", verdict_for(analyse(no_route), "ip-172-26-3-146")).empty());
}

// Longhorn between the VMs at 100 ms (DERP); a cross-site peer at 150 ms.
TEST(Rules, LatencyHigh) {
  Inputs slow = inputs("lima-k3s-agent", kBefore);
  set_probes(slow, "lima-k3s-agent-2", {30, 30, 0.100}, std::nullopt);
  set_probes(slow, "ip-172-26-2-70", {30, 30, 0.150}, std::nullopt);
  set_probes(slow, "ip-172-26-3-146", {30, 30, 0.025}, std::nullopt);
  const NodeReport r = analyse(slow);
  auto same_group = explain("latency-high", verdict_for(r, "lima-k3s-agent-2"));
  ASSERT_EQ(same_group.size(), 1u);
  EXPECT_EQ(same_group[0].message,
            "overlay RTT to lima-k3s-agent-2 is 100 ms, above the 20 ms bound for same-group "
            "nodes (Longhorn needs < 20 ms)");
  EXPECT_EQ(same_group[0].fix, "remove the DERP detour (see route-via-derp)");
  auto cross_group = explain("latency-high", verdict_for(r, "ip-172-26-2-70"));
  ASSERT_EQ(cross_group.size(), 1u);
  EXPECT_EQ(cross_group[0].message,
            "overlay RTT to ip-172-26-2-70 is 150 ms, above the 100 ms bound for cross-group "
            "nodes");
  EXPECT_EQ(cross_group[0].fix,
            "keep latency-sensitive workloads within one group (nodeSelector on the group label)");

  // 25 ms across sites is distance, not a fault; four probes are too few to judge.
  EXPECT_TRUE(explain("latency-high", verdict_for(r, "ip-172-26-3-146")).empty());
  Inputs early = inputs("lima-k3s-agent", kBefore);
  set_probes(early, "lima-k3s-agent-2", {4, 4, 0.100}, std::nullopt);
  EXPECT_TRUE(explain("latency-high", verdict_for(analyse(early), "lima-k3s-agent-2")).empty());
}

// The thresholds come from the context the analysis passes, not from the defaults.
TEST(Rules, LatencyHighFollowsTheConfiguredBound) {
  Inputs in = inputs("lima-k3s-agent", kVmnet);
  set_probes(in, "lima-k3s-agent-2", {30, 30, 0.0005}, std::nullopt);
  const NodeReport report = analyse(in);
  const PeerVerdict& lan = verdict_for(report, "lima-k3s-agent-2");
  EXPECT_TRUE(explain("latency-high", lan).empty());
  RuleContext strict;
  strict.thresholds.same_group_rtt_seconds = 0.0001;
  auto found = explain("latency-high", lan, strict);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("is 0.50 ms, above the 0.10 ms bound"), std::string::npos);
}

}  // namespace
}  // namespace podpath::analysis
