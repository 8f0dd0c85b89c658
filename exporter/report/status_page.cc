#include "report/status_page.h"

#include <fmt/format.h>

#include "http/html.h"
#include "report/model.h"

namespace podpath::report {

namespace {

using http::html_escape;

// class="..." for a cell or step with a verdict, nothing for a fine one.
std::string mark_class(const std::string& mark, std::string_view extra = {}) {
  std::string classes(extra);
  if (!mark.empty()) classes += (classes.empty() ? "" : " ") + mark;
  return classes.empty() ? "" : " class=\"" + classes + "\"";
}

// Each cell coloured by the verdict the findings give it (CellMarks).
std::string peer_table_html(const std::vector<PeerRow>& peers) {
  std::string out = "<h2>Peers</h2>\n<div class=\"scroll\"><table id=\"peers\">\n<thead><tr>";
  for (const char* h : {"Peer", "Group", "Carrier", "Route (table)", "Underlay", "Transport", "RTT",
                        "Loss", "MTU calc/probed", "State"})
    out += fmt::format("<th>{}</th>", h);
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& p : peers) {
    const CellMarks& m = p.marks;
    out += "<tr" + mark_class(m.row) + " data-peer=\"" + html_escape(p.peer) + "\">";
    const std::pair<const std::string*, const std::string*> cells[] = {
        {&p.peer, &m.peer},   {&p.group, nullptr},        {&p.carrier, &m.carrier},
        {&p.route, &m.route}, {&p.underlay, &m.underlay}, {&p.transport, &m.transport},
        {&p.rtt, &m.rtt},     {&p.loss, &m.loss},         {&p.mtu, &m.mtu},
        {&p.state, nullptr}};
    for (const auto& [text, mark] : cells)
      out += "<td" + mark_class(mark ? *mark : std::string()) + ">" + html_escape(*text) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table></div>\n";
}

const char* step_class(RoadStep::Kind kind) {
  switch (kind) {
    case RoadStep::Kind::kNode:
      return "node";
    case RoadStep::Kind::kLink:
      return "link";
    case RoadStep::Kind::kTransport:
      return "transport";
    case RoadStep::Kind::kPeer:
      return "peer";
  }
  return "";
}

// Per peer, its road as a row of boxes (places) joined by arrows (links): HTML and CSS only.
std::string roads_html(const std::vector<PeerRow>& peers) {
  std::string out = "<h2>Roads</h2>\n<div id=\"roads\">\n";
  for (const auto& p : peers) {
    out += "<div class=\"road\" data-peer=\"" + html_escape(p.peer) + "\">";
    for (std::size_t i = 0; i < p.road.size(); ++i) {
      const RoadStep& step = p.road[i];
      if (i > 0) out += "<i>&rarr;</i>";
      out += "<span" + mark_class(step.marks, step_class(step.kind)) + "><b>" +
             html_escape(step.label) + "</b>" +
             (step.detail.empty() ? "" : "<small>" + html_escape(step.detail) + "</small>") +
             "</span>";
    }
    out += "</div>\n";
  }
  return out + "</div>\n";
}

// One entry per cause: severity, code, the peers, each one's evidence, the fix once.
std::string finding_group_item(const FindingGroup& g) {
  std::string out =
      fmt::format("<li class=\"{}\" data-code=\"{}\"><b>{}</b> {}", to_string(g.severity),
                  html_escape(g.code), to_string(g.severity), html_escape(g.code));
  if (!g.peers.empty()) {
    out += ": <span class=\"peers\">";
    for (std::size_t i = 0; i < g.peers.size(); ++i)
      out += (i ? ", " : "") + html_escape(g.peers[i]);
    out += "</span>";
  }
  out += "<ul class=\"evidence\">";
  for (const auto& message : g.evidence) out += "<li>" + html_escape(message) + "</li>";
  out += "</ul>";
  for (const auto& fix : g.fixes) out += "<i>Fix:</i> " + html_escape(fix) + "<br>";
  return out + "</li>\n";
}

std::string findings_html(const std::vector<FindingGroup>& groups) {
  std::string out = "<h2>Findings</h2>\n";
  if (groups.empty()) out += "<p id=\"no-findings\">None: every path looks right.</p>\n";
  out += "<ul id=\"findings\">\n";
  for (const auto& g : groups) out += finding_group_item(g);
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
  if (!model.tailscale.empty()) {
    out += "<h2>Tailscale</h2>\n";
    for (const auto& line : model.tailscale) out += "<p>" + html_escape(line) + "</p>\n";
  }
  out += findings_html(model.finding_groups);
  out += roads_html(model.peers);
  out += peer_table_html(model.peers);
  for (const auto& note : model.notes) out += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return out;
}

// Critical red, warning amber, as the alerts' severities; the table scrolls sideways on a
// phone and the roads wrap.
constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:1em;max-width:75em}"
    ".scroll{overflow-x:auto}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;white-space:nowrap}"
    "td.warning{background:#fde8b0}td.critical{background:#f7c0c0}"
    "tr.warning td:first-child{border-left:4px solid #d80}"
    "tr.critical td:first-child{border-left:4px solid #c00}"
    "li.critical>b{color:#b00}li.warning>b{color:#a60}li.info>b{color:#06a}"
    "#findings>li{margin-bottom:.6em}ul.evidence{margin:.2em 0;font-size:.9em}"
    ".road{display:flex;flex-wrap:wrap;align-items:center;gap:.2em;margin:.4em 0}"
    ".road>span{display:inline-flex;flex-direction:column;padding:.2em .5em;"
    "border:1px solid #999;border-radius:.3em;background:#f4f4f4}"
    ".road>span small{color:#555}"
    ".road>span.link{border:none;background:none;border-bottom:2px solid #999;border-radius:0}"
    ".road>span.warning{background:#fde8b0;border-color:#d80}"
    ".road>span.critical{background:#f7c0c0;border-color:#c00}"
    ".road>span.link.warning,.road>span.link.critical{background:none}"
    ".road>span.link.warning{border-bottom-color:#d80}"
    ".road>span.link.critical{border-bottom-color:#c00}"
    "@media(max-width:40em){body{margin:.5em}h1{font-size:1.3em}}";

std::string render_status_page(const PageHeader& header, const PageStatus& status) {
  // The browser refreshes the page itself; no script and no external assets.
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"refresh\" content=\"10\">"
      "<title>podpath: {0}</title>\n<style>{4}</style></head>\n<body>\n<h1>podpath exporter</h1>\n"
      "<p>Node <b>{0}</b>, version {1}.</p>\n<ul>\n<li><a href=\"{2}\">Metrics</a></li>\n"
      "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a></li>\n"
      "</ul>\n{3}</body></html>\n",
      html_escape(header.node_name), html_escape(header.version),
      html_escape(header.telemetry_path), std::visit(StatusSection{}, status), kStyle);
}

}  // namespace podpath::report
