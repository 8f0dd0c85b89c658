#include "report/status_page.h"

#include <fmt/format.h>

#include "http/html.h"
#include "report/model.h"

namespace podpath::report {

namespace {

using analysis::Finding;
using http::html_escape;

std::string peer_table_html(const std::vector<PeerRow>& peers) {
  std::string out = "<h2>Peers</h2>\n<table id=\"peers\">\n<thead><tr>";
  for (const char* h : {"Peer", "Group", "Carrier", "Route (table)", "Underlay", "Transport", "RTT",
                        "Loss", "MTU calc/probed", "State"})
    out += fmt::format("<th>{}</th>", h);
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& p : peers) {
    out += "<tr>";
    for (const auto* cell : {&p.peer, &p.group, &p.carrier, &p.route, &p.underlay, &p.transport,
                             &p.rtt, &p.loss, &p.mtu, &p.state})
      out += "<td>" + html_escape(*cell) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

// The severity is the item's class, which the page's style colours.
std::string finding_item(const Finding& f) {
  return fmt::format("<li class=\"{}\"><b>{}</b> {}{}: {}<br><i>Fix:</i> {}</li>\n",
                     to_string(f.severity), to_string(f.severity), html_escape(f.code),
                     f.peer.empty() ? "" : " (" + html_escape(f.peer) + ")", html_escape(f.message),
                     html_escape(f.fix));
}

std::string findings_html(const std::vector<Finding>& findings) {
  std::string out = "<h2>Findings</h2>\n";
  if (findings.empty()) out += "<p id=\"no-findings\">None: every path looks right.</p>\n";
  out += "<ul id=\"findings\">\n";
  for (const auto& f : findings) out += finding_item(f);
  return out + "</ul>\n";
}

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

std::string render_html_section(const analysis::NodeReport& report) {
  const ReportModel model = make_model(report);
  std::string out = "<h2>Flannel identity</h2>\n<p>" + html_escape(model.identity) + "</p>\n";
  out += peer_table_html(model.peers);
  out += findings_html(model.findings);
  for (const auto& note : model.notes) out += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return out;
}

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
