// The landing page: its frame (title, style, refresh, links) and, under the links, the
// analysis' report. Self-contained HTML: no script and no external assets. Pure.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "analysis/verdict.h"

namespace podpath::report {

// What the page says about the exporter serving it.
struct PageHeader {
  std::string node_name;
  std::string version;
  std::string telemetry_path;  // the Metrics link
};

// The analysis module does not run: the page has its links only.
struct AnalysisOff {};
// The report could not be read; the page says why.
struct ReportUnavailable {
  std::string reason;
};
// What the page shows under its links: nothing, why there is no report, or the analysis'
// latest report (nullptr before its first run).
using PageStatus =
    std::variant<AnalysisOff, ReportUnavailable, std::shared_ptr<const analysis::NodeReport>>;

std::string render_status_page(const PageHeader& header, const PageStatus& status);

// The report's part of the page: identity, peer table, findings, notes.
std::string render_html_section(const analysis::NodeReport& report);

}  // namespace podpath::report
