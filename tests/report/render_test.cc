// The renderers' whole output: the field report before vmnet as the doctor printed it, an
// empty report (nothing seen yet) and one with every kind of row, finding and note.
#include "report/render.h"

#include <gtest/gtest.h>

#include "analysis/analyse.h"
#include "analysis/field_report_fixtures.h"
#include "report/model.h"
#include "report/status_page.h"
#include "report_fixtures.h"
#include "support/golden.h"

namespace podpath::report {
namespace {

using analysis::NodeReport;

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/report/testdata/" + name,
                                   actual);
}

void set_rtt(analysis::Inputs& in, const std::string& peer, double seconds) {
  in.overlay_probes[peer] = analysis::ProbeStats{30, 30, seconds};
  in.underlay_probes[peer] = analysis::ProbeStats{30, 30, seconds};
}

TEST(Render, DoctorReportBeforeVmnetMatchesGolden) {
  using namespace analysis::fixtures;
  analysis::Inputs in = inputs("lima-k3s-agent", kBefore);
  for (const char* home : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
    set_rtt(in, home, 0.100);
  for (const char* server : {"ip-172-26-2-70", "ip-172-26-3-146"}) set_rtt(in, server, 0.022);
  NodeReport r = analysis::analyse(in);
  expect_golden("doctor-before-vmnet.txt", render_text(r, false));
  expect_golden("doctor-before-vmnet.json", render_json(r));
  std::string html = render_html_section(r);
  expect_golden("status-before-vmnet.html", html);
  EXPECT_NE(html.find("<table id=\"peers\">"), std::string::npos);
  EXPECT_NE(html.find("route-via-derp"), std::string::npos);
  EXPECT_EQ(render_text(r, true).find("\033[1;31mCRITICAL"), render_text(r, true).find("\033["));
}

// The field report's home node before vmnet: 12 findings are 4 causes, each naming the three
// other VMs once, and each VM's road runs flannel.1 -> tailscale0 -> DERP 'tok'.
TEST(Render, BeforeVmnetTheFindingsAreFourCausesAndTheRoadsShowTheDetour) {
  using namespace analysis::fixtures;
  analysis::Inputs in = inputs("lima-k3s-agent", kBefore);
  for (const char* home : {"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"})
    set_rtt(in, home, 0.100);
  for (const char* server : {"ip-172-26-2-70", "ip-172-26-3-146"}) set_rtt(in, server, 0.022);
  const ReportModel model = make_model(analysis::analyse(in));
  ASSERT_EQ(model.findings.size(), 12u);
  ASSERT_EQ(model.finding_groups.size(), 4u);
  const std::vector<std::string> vms{"lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"};
  std::vector<std::string> codes;
  for (const auto& g : model.finding_groups) {
    codes.push_back(g.code);
    EXPECT_EQ(g.peers, vms) << g.code;
    EXPECT_EQ(g.evidence.size(), 3u) << g.code;
    EXPECT_EQ(g.fixes.size(), 1u) << g.code;
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"route-via-derp", "double-encapsulation",
                                             "latency-high", "path-mtu-too-small"}));

  const PeerRow& vm = model.peers[2];
  ASSERT_EQ(vm.peer, "lima-k3s-agent-2");
  EXPECT_EQ(vm.marks.row, "critical");
  EXPECT_EQ(vm.marks.transport, "critical");
  EXPECT_EQ(vm.marks.underlay, "warning");
  EXPECT_EQ(vm.marks.rtt, "warning");
  EXPECT_EQ(vm.marks.mtu, "warning");
  EXPECT_EQ(vm.marks.loss, "");
  std::vector<std::string> road;
  for (const auto& step : vm.road) road.push_back(step.label + " (" + step.detail + ")");
  EXPECT_EQ(road,
            (std::vector<std::string>{"lima-k3s-agent (pod)", "flannel.1 (vxlan · MTU 1450)",
                                      "tailscale0 (underlay · MTU 1280)",
                                      "DERP 'tok' (path MTU 1230)", "lima-k3s-agent-2 (sapporo)"}));

  const PeerRow& server = model.peers[0];
  ASSERT_EQ(server.peer, "ip-172-26-2-70");
  EXPECT_EQ(server.marks.row, "");
  EXPECT_EQ(server.road.size(), 4u);  // no underlay: the subnet route is the road itself
  EXPECT_EQ(server.road[2].label, "Tailscale, direct");
}

// A finding whose fix names a figure that differs per peer keeps each distinct fix.
TEST(Render, GroupKeepsEachDistinctFixAndTheWorstSeverity) {
  using analysis::Finding;
  using analysis::Severity;
  auto groups = group_findings({{Severity::kCritical, "a", "p1", "m1", "fix 1", std::nullopt},
                                {Severity::kWarning, "b", "p1", "m2", "fix x", std::nullopt},
                                {Severity::kWarning, "b", "p2", "m3", "fix y", std::nullopt},
                                {Severity::kInfo, "c", "", "m4", "fix c", std::nullopt}});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[1].code, "b");
  EXPECT_EQ(groups[1].peers, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(groups[1].fixes, (std::vector<std::string>{"fix x", "fix y"}));
  EXPECT_TRUE(groups[2].peers.empty());
}

TEST(Render, EmptyReportSaysWhatIsMissing) {
  const NodeReport empty;
  expect_golden("render-empty.txt", render_text(empty, false));
  expect_golden("render-empty.json", render_json(empty));
  expect_golden("render-empty.html", render_html_section(empty));
}

TEST(Render, EveryKindOfRowFindingAndNote) {
  const NodeReport r = fixtures::report_with_every_case();
  expect_golden("render-every-case.txt", render_text(r, false));
  expect_golden("render-every-case.color.txt", render_text(r, true));
  expect_golden("render-every-case.json", render_json(r));
  expect_golden("render-every-case.html", render_html_section(r));
}

}  // namespace
}  // namespace podpath::report
