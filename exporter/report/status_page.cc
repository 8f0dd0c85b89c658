#include "report/status_page.h"

#include <fmt/format.h>

#include "http/html.h"
#include "report/render.h"

namespace podpath::report {

namespace {

using http::html_escape;

struct StatusSection {
  std::string operator()(const AnalysisOff&) const { return ""; }
  std::string operator()(const ReportUnavailable& unavailable) const {
    return "<p>status unavailable: " + html_escape(unavailable.reason) + "</p>\n";
  }
  std::string operator()(const std::shared_ptr<const analysis::NodeReport>& report) const {
    if (!report) return "<p>No analysis yet.</p>\n";
    return render_html_section(*report);
  }
};

}  // namespace

std::string render_status_page(const PageHeader& header, const PageStatus& status) {
  // The browser refreshes the page itself; no script and no external assets.
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"10\">"
      "<title>podpath: {0}</title>\n<style>"
      "body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}"
      "li.critical b{{color:#b00}}li.warning b{{color:#a60}}li.info b{{color:#06a}}"
      "</style></head>\n<body>\n<h1>podpath exporter</h1>\n"
      "<p>Node <b>{0}</b>, version {1}.</p>\n<ul>\n<li><a href=\"{2}\">Metrics</a></li>\n"
      "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a></li>\n"
      "</ul>\n{3}</body></html>\n",
      html_escape(header.node_name), html_escape(header.version),
      html_escape(header.telemetry_path), std::visit(StatusSection{}, status));
}

}  // namespace podpath::report
