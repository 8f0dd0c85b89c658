#include "report/model.h"

#include <fmt/format.h>

namespace podpath::report {

namespace {

using analysis::NodeIdentity;
using analysis::PeerVerdict;
using analysis::ProbeStats;

std::string rtt_text(const std::optional<ProbeStats>& p) {
  if (!p || !p->rtt_seconds) return "-";
  return analysis::milliseconds_text(*p->rtt_seconds);
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
  if (s.public_ipv6)
    parts.push_back(
        fmt::format("IPv6 VTEP {} ({})", s.public_ipv6->to_string(), s.public_ipv6_scope));
  if (!s.vtep_mac_v6.empty()) parts.push_back("IPv6 VtepMAC " + s.vtep_mac_v6);
  if (!s.flannel_subnet.empty())
    parts.push_back(fmt::format("subnet {} in {}", s.flannel_subnet, s.flannel_network));
  if (!s.flannel_ipv6_subnet.empty())
    parts.push_back(
        fmt::format("IPv6 subnet {} in {}", s.flannel_ipv6_subnet, s.flannel_ipv6_network));
  if (s.flannel_mtu) parts.push_back(fmt::format("MTU {}", *s.flannel_mtu));
  return parts.empty() ? "unknown (no annotations, subnet.env or flannel device seen)"
                       : fmt::format("{}", fmt::join(parts, ", "));
}

PeerRow peer_row(const PeerVerdict& v) {
  return PeerRow{v.peer,
                 v.group,
                 std::string(to_string(v.carrier)),
                 route_text(v),
                 v.underlay_device,
                 transport_text(v),
                 rtt_text(v.overlay_probe),
                 loss_text(v.overlay_probe),
                 mtu_text(v),
                 state_text(v)};
}

}  // namespace

ReportModel make_model(const analysis::NodeReport& report) {
  ReportModel model;
  model.node = report.self.node;
  model.group = report.self.group;
  model.identity = identity_line(report.self);
  model.device_chain = report.device_chain;
  for (const auto& v : report.peers) model.peers.push_back(peer_row(v));
  model.findings = report.findings;
  model.notes = report.notes;
  return model;
}

}  // namespace podpath::report
