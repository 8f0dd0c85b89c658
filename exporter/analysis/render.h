// The report as people and machines read it: text for `podpath-exporter doctor`, JSON for
// `--output json`, and an HTML section for the status page. Pure.
#pragma once

#include <string>

#include "analysis/verdict.h"

namespace podpath::analysis {

std::string render_text(const NodeReport& report, bool color);
std::string render_json(const NodeReport& report);
// A self-contained HTML fragment (no external assets): identity, peer table, findings.
std::string render_html_section(const NodeReport& report);

}  // namespace podpath::analysis
