// The renderers' whole output for the reports the field report never produced: an empty
// report (nothing seen yet) and one with every kind of row, finding and note.
#include "analysis/render.h"

#include <gtest/gtest.h>

#include "report_fixtures.h"
#include "support/golden.h"

namespace podpath::analysis {
namespace {

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/analysis/testdata/" + name,
                                   actual);
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
}  // namespace podpath::analysis
