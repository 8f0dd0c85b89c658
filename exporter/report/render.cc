#include "report/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "http/html.h"

namespace podpath::report {

using analysis::NodeIdentity;
using analysis::NodeReport;
using analysis::PeerVerdict;
using analysis::ProbeStats;
using analysis::Severity;
using http::html_escape;

namespace {

std::string rtt_text(const std::optional<ProbeStats>& p) {
  if (!p || !p->rtt_seconds) return "-";
  double s = *p->rtt_seconds;
  if (s < 0.001) return fmt::format("{:.2f} ms", s * 1000);
  if (s < 0.010) return fmt::format("{:.1f} ms", s * 1000);
  return fmt::format("{:.0f} ms", s * 1000);
}

std::string loss_text(const std::optional<ProbeStats>& p) {
  if (!p) return "-";
  auto loss = p->loss_ratio();
  return loss ? fmt::format("{:.0f}%", *loss * 100) : "-";
}

std::string mtu_text(const PeerVerdict& v) {
  auto n = [](const std::optional<int>& x) { return x ? std::to_string(*x) : std::string("-"); };
  return n(v.computed_mtu) + "/" + n(v.probed_mtu);
}

std::string route_text(const PeerVerdict& v) {
  if (!v.route_error.empty()) return v.route_error;
  if (v.route_device.empty()) return "-";
  return v.route_table.empty() ? v.route_device : v.route_device + " (" + v.route_table + ")";
}

std::string transport_text(const PeerVerdict& v) {
  std::string t(to_string(v.transport));
  if (!v.derp_region.empty()) t += " " + v.derp_region;
  return t;
}

std::string state_text(const PeerVerdict& v) {
  if (!v.ready) return "NotReady";
  if (v.unschedulable) return "cordoned";
  return "";
}

std::string identity_line(const NodeIdentity& s) {
  std::vector<std::string> parts;
  if (!s.backend_type.empty()) parts.push_back("backend " + s.backend_type);
  if (s.vni) parts.push_back(fmt::format("VNI {}", *s.vni));
  if (s.public_ip)
    parts.push_back(fmt::format("VTEP {} ({})", s.public_ip->to_string(), s.public_ip_scope));
  if (!s.vtep_mac.empty()) parts.push_back("VtepMAC " + s.vtep_mac);
  if (!s.flannel_subnet.empty())
    parts.push_back(fmt::format("subnet {} in {}", s.flannel_subnet, s.flannel_network));
  if (s.flannel_mtu) parts.push_back(fmt::format("MTU {}", *s.flannel_mtu));
  return parts.empty() ? "unknown (no annotations, subnet.env or flannel device seen)"
                       : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::string render_text(const NodeReport& r, bool color) {
  auto paint = [&](std::string_view code, const std::string& text) {
    return color ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
  };
  std::string out;
  out += fmt::format("podpath doctor: node {}{}\n\n", r.self.node,
                     r.self.group.empty() ? "" : " (group " + r.self.group + ")");
  out += "flannel identity\n  " + identity_line(r.self) + "\n\n";
  out += "device chain\n";
  if (r.device_chain.empty()) out += "  (no flannel device found)\n";
  for (const auto& l : r.device_chain) {
    std::string line = fmt::format("  {:<12} {:<8} mtu {:<5} {}", l.name, l.kind, l.mtu, l.detail);
    while (line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += "\npeers\n";
  std::vector<std::vector<std::string>> rows{{"PEER", "GROUP", "CARRIER", "ROUTE (TABLE)",
                                              "UNDERLAY", "TRANSPORT", "RTT", "LOSS",
                                              "MTU calc/probed", "STATE"}};
  for (const auto& v : r.peers)
    rows.push_back({v.peer, v.group.empty() ? "-" : v.group, std::string(to_string(v.carrier)),
                    route_text(v), v.underlay_device.empty() ? "-" : v.underlay_device,
                    transport_text(v), rtt_text(v.overlay_probe), loss_text(v.overlay_probe),
                    mtu_text(v), state_text(v)});
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i)
      line += " " + row[i] + std::string(width[i] - row[i].size(), ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (r.peers.empty()) out += "  (no peers known)\n";
  out += "\nfindings\n";
  if (r.findings.empty()) out += "  " + paint("32", "none: every path looks right") + "\n";
  for (const auto& f : r.findings) {
    std::string sev(to_string(f.severity));
    std::transform(sev.begin(), sev.end(), sev.begin(), ::toupper);
    const char* code = f.severity == Severity::kCritical  ? "1;31"
                       : f.severity == Severity::kWarning ? "33"
                                                          : "36";
    out += fmt::format("  {} {}{}\n      {}\n      fix: {}\n", paint(code, sev), f.code,
                       f.peer.empty() ? "" : " (" + f.peer + ")", f.message, f.fix);
  }
  for (const auto& note : r.notes) out += "  note: " + note + "\n";
  return out;
}

std::string render_json(const NodeReport& r) {
  using nlohmann::json;
  auto probe = [](const std::optional<ProbeStats>& p) -> json {
    if (!p) return nullptr;
    json j{{"sent", p->sent}, {"received", p->received}};
    j["rtt_seconds"] = p->rtt_seconds ? json(*p->rtt_seconds) : json(nullptr);
    auto loss = p->loss_ratio();
    j["loss_ratio"] = loss ? json(*loss) : json(nullptr);
    return j;
  };
  auto opt_int = [](const std::optional<int>& v) -> json { return v ? json(*v) : json(nullptr); };
  json self{{"node", r.self.node},
            {"group", r.self.group},
            {"backend_type", r.self.backend_type},
            {"public_ip", r.self.public_ip ? r.self.public_ip->to_string() : ""},
            {"public_ip_scope", r.self.public_ip_scope},
            {"vtep_mac", r.self.vtep_mac},
            {"vni", opt_int(r.self.vni)},
            {"flannel_network", r.self.flannel_network},
            {"flannel_subnet", r.self.flannel_subnet},
            {"flannel_mtu", opt_int(r.self.flannel_mtu)}};
  json chain = json::array();
  for (const auto& l : r.device_chain)
    chain.push_back({{"name", l.name}, {"kind", l.kind}, {"mtu", l.mtu}, {"detail", l.detail}});
  json peers = json::array();
  for (const auto& v : r.peers)
    peers.push_back({{"peer", v.peer},
                     {"group", v.group},
                     {"same_group", v.same_group},
                     {"ready", v.ready},
                     {"unschedulable", v.unschedulable},
                     {"carrier", to_string(v.carrier)},
                     {"route_device", v.route_device},
                     {"route_table", v.route_table},
                     {"route_error", v.route_error},
                     {"vtep_address", v.vtep_address ? v.vtep_address->to_string() : ""},
                     {"underlay_device", v.underlay_device},
                     {"underlay_table", v.underlay_table},
                     {"transport", to_string(v.transport)},
                     {"derp_region", v.derp_region},
                     {"double_encapsulation", v.double_encapsulation},
                     {"overlay_mtu", opt_int(v.overlay_mtu)},
                     {"computed_mtu", opt_int(v.computed_mtu)},
                     {"mtu_chain", v.mtu_chain},
                     {"probed_mtu", opt_int(v.probed_mtu)},
                     {"flannel_checked", v.flannel_checked},
                     {"flannel_inconsistencies", v.flannel_inconsistencies},
                     {"overlay_probe", probe(v.overlay_probe)},
                     {"underlay_probe", probe(v.underlay_probe)},
                     {"probes_judged", v.probes_judged},
                     {"exposed_addresses", v.exposed_addresses},
                     {"closed_addresses", v.closed_addresses}});
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"severity", to_string(f.severity)},
                        {"code", f.code},
                        {"peer", f.peer},
                        {"message", f.message},
                        {"fix", f.fix}});
  json out{{"self", self},         {"device_chain", chain}, {"peers", peers},
           {"findings", findings}, {"notes", r.notes},      {"critical", r.has_critical()}};
  return out.dump(2) + "\n";
}

std::string render_html_section(const NodeReport& r) {
  std::string out;
  out += "<h2>Flannel identity</h2>\n<p>" + html_escape(identity_line(r.self)) + "</p>\n";
  out += "<h2>Peers</h2>\n<table id=\"peers\">\n<thead><tr>";
  for (const char* h : {"Peer", "Group", "Carrier", "Route (table)", "Underlay", "Transport", "RTT",
                        "Loss", "MTU calc/probed", "State"})
    out += fmt::format("<th>{}</th>", h);
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& v : r.peers) {
    out += "<tr>";
    for (const auto& cell : {v.peer, v.group, std::string(to_string(v.carrier)), route_text(v),
                             v.underlay_device, transport_text(v), rtt_text(v.overlay_probe),
                             loss_text(v.overlay_probe), mtu_text(v), state_text(v)})
      out += "<td>" + html_escape(cell) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n<h2>Findings</h2>\n";
  if (r.findings.empty()) out += "<p id=\"no-findings\">None: every path looks right.</p>\n";
  out += "<ul id=\"findings\">\n";
  for (const auto& f : r.findings)
    out += fmt::format("<li class=\"{}\"><b>{}</b> {}{}: {}<br><i>Fix:</i> {}</li>\n",
                       to_string(f.severity), to_string(f.severity), html_escape(f.code),
                       f.peer.empty() ? "" : " (" + html_escape(f.peer) + ")",
                       html_escape(f.message), html_escape(f.fix));
  out += "</ul>\n";
  for (const auto& note : r.notes) out += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return out;
}

}  // namespace podpath::report
