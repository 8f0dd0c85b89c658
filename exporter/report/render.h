// The report as people and machines read it: text for `podpath-exporter doctor`, JSON for
// `--output json`, and the report's section of the status page (status_page.h). Pure.
#pragma once

#include <string>

#include "analysis/verdict.h"

namespace podpath::report {

std::string render_text(const analysis::NodeReport& report, bool color);
std::string render_json(const analysis::NodeReport& report);
// A self-contained HTML fragment (no external assets): identity, peer table, findings.
std::string render_html_section(const analysis::NodeReport& report);

}  // namespace podpath::report

// The doctor in exporter/main.cc calls these by the names they had in analysis/.
namespace podpath::analysis {
using report::render_json;
using report::render_text;
}  // namespace podpath::analysis
