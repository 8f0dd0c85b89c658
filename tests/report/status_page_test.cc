// The whole landing page, byte for byte, in each state the analysis can be in; a headless
// browser reads it in the lab (tests/e2e/status_page_test.sh).
#include "report/status_page.h"

#include <gtest/gtest.h>

#include "report_fixtures.h"
#include "support/golden.h"

namespace podpath::report {
namespace {

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/report/testdata/" + name,
                                   actual);
}

// Every text of the frame needs escaping here, so the golden files show it is escaped.
const PageHeader kHeader{"node-<a>", "0.1.0 \"rc\"", "/metrics?a=1&b='2'"};

TEST(StatusPage, AnalysisOffShowsTheLinksOnly) {
  expect_golden("status-page-analysis-off.html", render_status_page(kHeader, AnalysisOff{}));
}

TEST(StatusPage, BeforeTheFirstAnalysis) {
  expect_golden("status-page-no-report-yet.html",
                render_status_page(kHeader, std::shared_ptr<const analysis::NodeReport>()));
}

TEST(StatusPage, TheReportUnderTheLinks) {
  auto report = std::make_shared<const analysis::NodeReport>(fixtures::report_with_every_case());
  expect_golden("status-page-report.html", render_status_page(kHeader, report));
}

TEST(StatusPage, AReportThatCouldNotBeRead) {
  expect_golden("status-page-status-unavailable.html",
                render_status_page(kHeader, ReportUnavailable{"report <locked> & gone"}));
}

}  // namespace
}  // namespace podpath::report
