// The report for `podpath-exporter doctor`: text for people (colour on a terminal), JSON for
// `--output json`. The status page renders the same report (status_page.h). Pure.
#pragma once

#include <string>

#include "analysis/verdict.h"

namespace podpath::report {

std::string render_text(const analysis::NodeReport& report, bool color);
// Every field of the report, for machines.
std::string render_json(const analysis::NodeReport& report);

}  // namespace podpath::report
