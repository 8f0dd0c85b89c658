// The report model: the words the doctor and the status page both show for a report.
#include "report/model.h"

#include <gtest/gtest.h>

#include "report/render.h"
#include "report_fixtures.h"

namespace podpath::report {
namespace {

TEST(ReportModel, PeerRowsInTheTablesWords) {
  const ReportModel model = make_model(fixtures::report_with_every_case());
  ASSERT_EQ(model.peers.size(), 4u);
  const PeerRow& unreachable = model.peers[0];
  EXPECT_EQ(unreachable.route, "ENETUNREACH");
  EXPECT_EQ(unreachable.group, "");
  EXPECT_EQ(unreachable.underlay, "");
  EXPECT_EQ(unreachable.rtt, "-");
  EXPECT_EQ(unreachable.loss, "100%");
  EXPECT_EQ(unreachable.mtu, "-/-");
  EXPECT_EQ(unreachable.state, "NotReady");

  const PeerRow& derp = model.peers[1];
  EXPECT_EQ(derp.carrier, "vxlan");
  EXPECT_EQ(derp.route, "flannel.1 (main)");
  EXPECT_EQ(derp.underlay, "tailscale0");
  EXPECT_EQ(derp.transport, "tailscale-derp tok");
  EXPECT_EQ(derp.rtt, "0.40 ms");
  EXPECT_EQ(derp.loss, "10%");
  EXPECT_EQ(derp.mtu, "1230/1200");
  EXPECT_EQ(derp.state, "cordoned");

  const PeerRow& relay = model.peers[2];
  EXPECT_EQ(relay.route, "tailscale0");  // a route without a table name
  EXPECT_EQ(relay.transport, "tailscale-peer-relay");
  EXPECT_EQ(relay.rtt, "5.5 ms");
  EXPECT_EQ(relay.mtu, "-/1280");
  EXPECT_EQ(relay.state, "");

  EXPECT_EQ(model.peers[3].loss, "-");  // never probed
}

TEST(ReportModel, IdentityInOneLine) {
  const ReportModel model = make_model(fixtures::report_with_every_case());
  EXPECT_EQ(model.identity,
            "backend vxlan, VNI 1, VTEP 203.0.113.10 (global), VtepMAC 0a:00:00:00:00:01, subnet "
            "10.42.0.1/24 in 10.42.0.0/16, MTU 1450");
  EXPECT_EQ(make_model(analysis::NodeReport{}).identity,
            "unknown (no annotations, subnet.env or flannel device seen)");
}

// Just after a switch the window can hold more replies than requests (replies to requests
// sent before it): the page says 0% loss, not -3%.
TEST(ReportModel, MoreRepliesThanRequestsInTheWindowIsNoLoss) {
  analysis::ProbeStats stats{30, 31, 0.0065};
  EXPECT_EQ(stats.loss_ratio(), 0.0);
  analysis::NodeReport report;
  analysis::PeerVerdict v;
  v.peer = "lima-k3s-agent-2";
  v.overlay_probe = stats;
  report.peers.push_back(v);
  EXPECT_EQ(make_model(report).peers.at(0).loss, "0%");
}

// A dual-stack node (k3s#8794's s1): both VTEPs and both subnets in the one line, and the
// IPv6 half in the JSON; an IPv6-only node shows its IPv6 half alone.
TEST(ReportModel, DualStackIdentityShowsBothFamilies) {
  analysis::NodeReport report;
  report.self.backend_type = "vxlan";
  report.self.vni = 1;
  report.self.public_ip = model::Ipv4::parse("10.3.1.10");
  report.self.public_ip_scope = "private";
  report.self.vtep_mac = "6a:c6:02:92:44:1d";
  report.self.public_ipv6 = model::IpAddress::parse("fda5:8888:9999:310::10");
  report.self.public_ipv6_scope = "private";
  report.self.vtep_mac_v6 = "fa:f9:a5:ac:97:47";
  report.self.flannel_network = "10.42.0.0/16";
  report.self.flannel_subnet = "10.42.0.1/24";
  report.self.flannel_ipv6_network = "2001:cafe:42::/56";
  report.self.flannel_ipv6_subnet = "2001:cafe:42::1/64";
  report.self.flannel_mtu = 1450;
  EXPECT_EQ(make_model(report).identity,
            "backend vxlan, VNI 1, VTEP 10.3.1.10 (private), VtepMAC 6a:c6:02:92:44:1d, IPv6 VTEP "
            "fda5:8888:9999:310::10 (private), IPv6 VtepMAC fa:f9:a5:ac:97:47, subnet 10.42.0.1/24 "
            "in 10.42.0.0/16, IPv6 subnet 2001:cafe:42::1/64 in 2001:cafe:42::/56, MTU 1450");
  const std::string json = render_json(report);
  EXPECT_NE(json.find("\"flannel_ipv6_subnet\": \"2001:cafe:42::1/64\""), std::string::npos);
  EXPECT_NE(json.find("\"vtep_mac_v6\": \"fa:f9:a5:ac:97:47\""), std::string::npos);

  // IPv6 only: the doctor no longer shows an empty network.
  analysis::NodeReport v6_only;
  v6_only.self.flannel_ipv6_network = "fc00::/48";
  v6_only.self.flannel_ipv6_subnet = "fc00::1/64";
  v6_only.self.flannel_mtu = 1450;
  EXPECT_EQ(make_model(v6_only).identity, "IPv6 subnet fc00::1/64 in fc00::/48, MTU 1450");
}

// The findings keep the analysis' order (critical first, then code, then peer); the notes
// theirs.
TEST(ReportModel, FindingsAndNotesAsTheAnalysisOrderedThem) {
  const auto report = fixtures::report_with_every_case();
  const ReportModel model = make_model(report);
  EXPECT_EQ(model.findings, report.findings);
  EXPECT_EQ(model.notes, report.notes);
  EXPECT_EQ(model.node, "node-a");
  EXPECT_EQ(model.group, "home & away");
}

}  // namespace
}  // namespace podpath::report

namespace podpath::report {
namespace {

// flannel's wireguard backend: the road's flannel-wg step says how old the WireGuard session
// to the peer is, and a stale one marks it like the transport cell.
TEST(ReportModel, WireguardRoadStepShowsTheLatestHandshake) {
  analysis::NodeReport report;
  report.self.node = "server-0";
  report.device_chain = {{"flannel-wg", "wireguard", 1420, ""}, {"eth0", "device", 1500, ""}};
  analysis::PeerVerdict v;
  v.peer = "agent-1";
  v.carrier = analysis::Carrier::kWireguard;
  v.route_device = "flannel-wg";
  v.route_table = "main";
  v.underlay_device = "eth0";
  v.transport = analysis::Transport::kLan;
  analysis::WireguardPeerState w;
  w.device = "flannel-wg";
  w.endpoint = "192.168.68.148:51820";
  w.handshake_age_seconds = 87;
  v.wireguard.push_back(w);
  analysis::PeerVerdict never = v;
  never.peer = "agent-3";
  never.wireguard[0].handshake_age_seconds.reset();
  report.peers = {v, never};
  report.findings = {
      {analysis::Severity::kCritical, "wireguard-no-handshake", "agent-3", "m", "f", std::nullopt}};

  const ReportModel model = make_model(report);
  ASSERT_EQ(model.peers.size(), 2u);
  const RoadStep& healthy = model.peers[0].road[1];
  EXPECT_EQ(healthy.label, "flannel-wg");
  EXPECT_EQ(healthy.detail, "wireguard · MTU 1420 · handshake 87 s ago");
  EXPECT_EQ(healthy.marks, "");
  const RoadStep& silent = model.peers[1].road[1];
  EXPECT_EQ(silent.detail, "wireguard · MTU 1420 · no handshake yet");
  EXPECT_EQ(silent.marks, "critical");
  EXPECT_EQ(model.peers[1].marks.transport, "critical");
}

}  // namespace
}  // namespace podpath::report
