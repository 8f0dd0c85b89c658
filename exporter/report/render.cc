#include "report/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "report/model.h"

namespace podpath::report {

namespace {

using analysis::Finding;
using analysis::LinkSummary;
using analysis::NodeIdentity;
using analysis::PeerVerdict;
using analysis::ProbeStats;
using analysis::Severity;
using nlohmann::json;

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

// ANSI SGR: `code` is "1;31" (bold red), "33" (yellow), ...
std::string paint(bool color, std::string_view code, const std::string& text) {
  return color ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
}

std::string trim_right(std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string device_chain_text(const std::vector<LinkSummary>& chain) {
  std::string out = "device chain\n";
  if (chain.empty()) out += "  (no flannel device found)\n";
  for (const auto& l : chain)
    out += trim_right(fmt::format("  {:<12} {:<8} mtu {:<5} {}", l.name, l.kind, l.mtu, l.detail)) +
           "\n";
  return out;
}

// Each column as wide as its widest cell, one space between columns.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i)
      line += " " + row[i] + std::string(width[i] - row[i].size(), ' ');
    out += trim_right(line) + "\n";
  }
  return out;
}

std::string peer_table_text(const std::vector<PeerRow>& peers) {
  std::vector<std::vector<std::string>> rows{{"PEER", "GROUP", "CARRIER", "ROUTE (TABLE)",
                                              "UNDERLAY", "TRANSPORT", "RTT", "LOSS",
                                              "MTU calc/probed", "STATE"}};
  for (const auto& p : peers)
    rows.push_back({p.peer, or_dash(p.group), p.carrier, p.route, or_dash(p.underlay), p.transport,
                    p.rtt, p.loss, p.mtu, p.state});
  std::string out = "peers\n" + aligned_table(rows);
  if (peers.empty()) out += "  (no peers known)\n";
  return out;
}

// One cause: its severity, code and peers on one line, then each peer's evidence and the fix.
std::string group_text(const FindingGroup& g, bool color) {
  std::string severity(to_string(g.severity));
  std::transform(severity.begin(), severity.end(), severity.begin(), ::toupper);
  const char* sgr = g.severity == Severity::kCritical  ? "1;31"
                    : g.severity == Severity::kWarning ? "33"
                                                       : "36";
  std::string out =
      fmt::format("  {} {}{}\n", paint(color, sgr, severity), g.code,
                  g.peers.empty() ? "" : ": " + fmt::format("{}", fmt::join(g.peers, ", ")));
  for (const auto& message : g.evidence) out += "      " + message + "\n";
  for (const auto& fix : g.fixes) out += "      fix: " + fix + "\n";
  return out;
}

// The findings by cause, then what could not be seen.
std::string findings_text(const ReportModel& model, bool color) {
  std::string out = "findings\n";
  if (model.finding_groups.empty())
    out += "  " + paint(color, "32", "none: every path looks right") + "\n";
  for (const auto& g : model.finding_groups) out += group_text(g, color);
  for (const auto& note : model.notes) out += "  note: " + note + "\n";
  return out;
}

// Shown only on a node with Tailscale, so other nodes' reports stay as they were.
std::string tailscale_text(const ReportModel& model) {
  if (model.tailscale.empty()) return "";
  std::string out = "tailscale\n";
  for (const auto& line : model.tailscale) out += "  " + line + "\n";
  return out + "\n";
}

json optional_int(const std::optional<int>& value) {
  return value ? json(*value) : json(nullptr);
}

json probe_json(const std::optional<ProbeStats>& p) {
  if (!p) return nullptr;
  json j{{"sent", p->sent}, {"received", p->received}};
  j["rtt_seconds"] = p->rtt_seconds ? json(*p->rtt_seconds) : json(nullptr);
  auto loss = p->loss_ratio();
  j["loss_ratio"] = loss ? json(*loss) : json(nullptr);
  return j;
}

json self_json(const NodeIdentity& s) {
  json self = {{"node", s.node},
               {"group", s.group},
               {"backend_type", s.backend_type},
               {"public_ip", s.public_ip ? s.public_ip->to_string() : ""},
               {"public_ip_scope", s.public_ip_scope},
               {"vtep_mac", s.vtep_mac},
               {"vni", optional_int(s.vni)},
               {"flannel_network", s.flannel_network},
               {"flannel_subnet", s.flannel_subnet},
               {"flannel_mtu", optional_int(s.flannel_mtu)}};
  // The IPv6 half only where the node has one, so an IPv4-only node's report is as before.
  if (s.public_ipv6 || !s.vtep_mac_v6.empty() || !s.flannel_ipv6_subnet.empty()) {
    self["public_ipv6"] = s.public_ipv6 ? s.public_ipv6->to_string() : "";
    self["public_ipv6_scope"] = s.public_ipv6_scope;
    self["vtep_mac_v6"] = s.vtep_mac_v6;
    self["flannel_ipv6_network"] = s.flannel_ipv6_network;
    self["flannel_ipv6_subnet"] = s.flannel_ipv6_subnet;
  }
  if (s.tailscale) {
    self["tailscale"] = {
        {"backend_state", s.tailscale_backend_state},
        {"home_derp_region", s.tailscale_home_derp},
        {"health", s.tailscale_health},
        {"key_expiry_unix_seconds", s.tailscale_key_expiry_unix_seconds
                                        ? json(*s.tailscale_key_expiry_unix_seconds)
                                        : json(nullptr)},
        {"key_expired", s.tailscale_key_expired}};
  }
  return self;
}

json link_json(const LinkSummary& l) {
  return {{"name", l.name}, {"kind", l.kind}, {"mtu", l.mtu}, {"detail", l.detail}};
}

json wireguard_json(const analysis::WireguardPeerState& w) {
  return {{"device", w.device},
          {"public_key", w.public_key},
          {"endpoint", w.endpoint},
          {"handshake_age_seconds",
           w.handshake_age_seconds ? json(*w.handshake_age_seconds) : json(nullptr)},
          {"sending", w.sending},
          {"rx_bytes", w.rx_bytes},
          {"tx_bytes", w.tx_bytes},
          {"persistent_keepalive_seconds", w.persistent_keepalive_seconds}};
}

json peer_json(const PeerVerdict& v) {
  json peer = {{"peer", v.peer},
               {"family", model::to_string(v.family)},
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
               {"overlay_mtu", optional_int(v.overlay_mtu)},
               {"computed_mtu", optional_int(v.computed_mtu)},
               {"mtu_chain", v.mtu_chain},
               {"probed_mtu", optional_int(v.probed_mtu)},
               {"flannel_checked", v.flannel_checked},
               {"flannel_inconsistencies", v.flannel_inconsistencies},
               {"overlay_probe", probe_json(v.overlay_probe)},
               {"underlay_probe", probe_json(v.underlay_probe)},
               {"probes_judged", v.probes_judged},
               {"exposed_addresses", v.exposed_addresses},
               {"closed_addresses", v.closed_addresses}};
  // Only for a peer tailscaled lists, so reports without Tailscale keep their shape.
  if (!v.tailscale_peer.empty()) {
    peer["tailscale_peer"] = v.tailscale_peer;
    peer["tailscale_key_expiry_unix_seconds"] = v.tailscale_key_expiry_unix_seconds
                                                    ? json(*v.tailscale_key_expiry_unix_seconds)
                                                    : json(nullptr);
    peer["tailscale_key_expired"] = v.tailscale_key_expired;
  }
  // Only on the wireguard backend: the flannel-wg peers that map to this peer.
  if (!v.wireguard.empty()) {
    peer["wireguard"] = json::array();
    for (const auto& w : v.wireguard) peer["wireguard"].push_back(wireguard_json(w));
  }
  return peer;
}

json group_json(const FindingGroup& g) {
  return {{"severity", to_string(g.severity)},
          {"code", g.code},
          {"peers", g.peers},
          {"evidence", g.evidence},
          {"fixes", g.fixes}};
}

json finding_json(const Finding& f) {
  return {{"severity", to_string(f.severity)},
          {"code", f.code},
          {"peer", f.peer},
          {"family", f.family ? json(model::to_string(*f.family)) : json(nullptr)},
          {"message", f.message},
          {"fix", f.fix}};
}

// Every element of `items` through `to_json`, as a JSON array (empty: []).
template <typename Item>
json json_array(const std::vector<Item>& items, json (*to_json)(const Item&)) {
  json out = json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

}  // namespace

std::string render_text(const analysis::NodeReport& report, bool color) {
  const ReportModel model = make_model(report);
  return fmt::format("podpath doctor: node {}{}\n\n", model.node,
                     model.group.empty() ? "" : " (group " + model.group + ")") +
         "flannel identity\n  " + model.identity + "\n\n" + tailscale_text(model) +
         device_chain_text(model.device_chain) + "\n" + peer_table_text(model.peers) + "\n" +
         findings_text(model, color);
}

std::string render_json(const analysis::NodeReport& report) {
  json out{{"self", self_json(report.self)},
           {"device_chain", json_array(report.device_chain, link_json)},
           {"peers", json_array(report.peers, peer_json)},
           {"findings", json_array(report.findings, finding_json)},
           // The findings by cause, in the order the text and the status page show them.
           {"finding_groups", json_array(group_findings(report.findings), group_json)},
           {"notes", report.notes},
           {"critical", report.has_critical()}};
  return out.dump(2) + "\n";
}

}  // namespace podpath::report
