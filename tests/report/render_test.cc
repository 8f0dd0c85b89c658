// The renderers' whole output: the field report before vmnet as the doctor printed it, an
// empty report (nothing seen yet) and one with every kind of row, finding and note.
#include "report/render.h"

#include <gtest/gtest.h>

#include "analysis/analyse.h"
#include "analysis/field_report_fixtures.h"
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
  EXPECT_NE(html.find("<table id=\"peers\">"), std::string::npos);
  EXPECT_NE(html.find("route-via-derp"), std::string::npos);
  EXPECT_EQ(render_text(r, true).find("\033[1;31mCRITICAL"), render_text(r, true).find("\033["));
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
