#include "report/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

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

// The node key's expiry as the findings write it, against the report's own time.
std::string key_expiry_text(std::optional<double> expiry, bool expired, double now) {
  if (!expiry) return expired ? "node key expired" : "node key never expires";
  const double left = *expiry - now;
  if (expired || left <= 0)
    return fmt::format("node key expired {} ({} ago)", analysis::utc_text(*expiry),
                       analysis::span_text(-left));
  return fmt::format("node key expires {} (in {})", analysis::utc_text(*expiry),
                     analysis::span_text(left));
}

std::vector<std::string> tailscale_lines(const analysis::NodeReport& report) {
  const NodeIdentity& s = report.self;
  if (!s.tailscale) return {};
  std::vector<std::string> parts{"state " + s.tailscale_backend_state};
  parts.push_back(s.tailscale_home_derp.empty() ? "no home DERP region"
                                                : "home DERP '" + s.tailscale_home_derp + "'");
  parts.push_back(key_expiry_text(s.tailscale_key_expiry_unix_seconds, s.tailscale_key_expired,
                                  report.now_unix_seconds));
  std::vector<std::string> lines{fmt::format("{}", fmt::join(parts, ", "))};
  for (const auto& message : s.tailscale_health) lines.push_back("health: " + message);
  return lines;
}

int rank(std::string_view mark) {
  return mark == "critical" ? 2 : mark == "warning" ? 1 : 0;
}

// Raises `mark` to the finding's severity ("" < "warning" < "critical"; info marks nothing).
void worsen(std::string& mark, analysis::Severity severity) {
  const std::string_view word = to_string(severity);
  if (rank(word) > rank(mark)) mark = std::string(word);
}

// Which cell shows which finding.
std::string* cell_of(CellMarks& marks, const std::string& code) {
  if (code == "vxlan-public-exposed") return &marks.peer;
  if (code == "flannel-drift") return &marks.carrier;
  if (code == "no-route") return &marks.route;
  if (code == "double-encapsulation") return &marks.underlay;
  if (code == "route-via-derp" || code == "tailscale-no-handshake" ||
      code == "wireguard-handshake-stale" || code == "wireguard-no-handshake")
    return &marks.transport;
  if (code == "latency-high") return &marks.rtt;
  if (code == "overlay-blocked" || code == "peer-unreachable") return &marks.loss;
  if (code == "path-mtu-too-small") return &marks.mtu;
  return nullptr;
}

// Each peer's cells, in one pass over the findings (thousands of peers stay linear).
std::map<std::string, CellMarks> marks_by_peer(const std::vector<analysis::Finding>& findings) {
  std::map<std::string, CellMarks> by_peer;
  for (const auto& f : findings) {
    if (f.peer.empty()) continue;
    CellMarks& marks = by_peer[road_name(f.peer, f.family.value_or(model::Family::kIpv4))];
    worsen(marks.row, f.severity);
    if (std::string* cell = cell_of(marks, f.code)) worsen(*cell, f.severity);
  }
  return by_peer;
}

std::string transport_words(const PeerVerdict& v) {
  switch (v.transport) {
    case analysis::Transport::kLan:
      return "LAN";
    case analysis::Transport::kTailscaleDirect:
      return "Tailscale, direct";
    case analysis::Transport::kTailscaleDerp:
      return "DERP '" + v.derp_region + "'";
    case analysis::Transport::kTailscalePeerRelay:
      return "Tailscale peer relay";
    case analysis::Transport::kTailscaleNoHandshake:
      return "Tailscale, no handshake";
    case analysis::Transport::kUnknown:
      break;
  }
  return "unknown";
}

// A device as a link of the road, with its MTU when the device chain knows it.
RoadStep link_step(const std::string& device, std::string_view role,
                   const std::vector<analysis::LinkSummary>& chain, const std::string& marks) {
  std::string detail(role);
  auto it = std::find_if(chain.begin(), chain.end(),
                         [&](const analysis::LinkSummary& l) { return l.name == device; });
  if (it != chain.end() && it->mtu > 0) detail += fmt::format(" · MTU {}", it->mtu);
  return RoadStep{RoadStep::Kind::kLink, device, detail, marks};
}

// The WireGuard session on the route's device (wireguard backend): "handshake 87 s ago",
// "no handshake yet"; nullopt when the device is not one of flannel's WireGuard devices.
std::optional<std::string> wireguard_handshake(const PeerVerdict& v) {
  for (const auto& w : v.wireguard) {
    if (w.device != v.route_device) continue;
    if (!w.handshake_age_seconds) return std::string("no handshake yet");
    return fmt::format("handshake {:.0f} s ago", *w.handshake_age_seconds);
  }
  return std::nullopt;
}

// Raises `mark` to `other` when that is worse.
void worsen_text(std::string& mark, const std::string& other) {
  if (rank(other) > rank(mark)) mark = other;
}

// This node, the device the route picks, the device under the encapsulation, how the
// packets travel, the peer.
std::vector<RoadStep> road_of(const PeerVerdict& v, const analysis::NodeReport& report,
                              const CellMarks& marks) {
  std::vector<RoadStep> road{{RoadStep::Kind::kNode, report.self.node, "pod", ""}};
  if (!v.route_error.empty()) {
    road.push_back({RoadStep::Kind::kLink, "no route", v.route_error, marks.route});
  } else if (!v.route_device.empty()) {
    road.push_back(
        link_step(v.route_device, to_string(v.carrier), report.device_chain, marks.route));
    if (auto handshake = wireguard_handshake(v)) {
      road.back().detail += " · " + *handshake;
      worsen_text(road.back().marks, marks.transport);
    }
  }
  if (!v.underlay_device.empty())
    road.push_back(link_step(v.underlay_device, "underlay", report.device_chain, marks.underlay));
  road.push_back({RoadStep::Kind::kTransport, transport_words(v),
                  v.computed_mtu ? fmt::format("path MTU {}", *v.computed_mtu) : "",
                  marks.transport.empty() ? marks.mtu : marks.transport});
  road.push_back({RoadStep::Kind::kPeer, v.peer, v.group, marks.row});
  return road;
}

PeerRow peer_row(const PeerVerdict& v, const analysis::NodeReport& report, CellMarks marks) {
  PeerRow row{road_name(v.peer, v.family),
              v.group,
              std::string(to_string(v.carrier)),
              route_text(v),
              v.underlay_device,
              transport_text(v),
              rtt_text(v.overlay_probe),
              loss_text(v.overlay_probe),
              mtu_text(v),
              state_text(v),
              std::move(marks),
              {}};
  row.road = road_of(v, report, row.marks);
  return row;
}

}  // namespace

ReportModel make_model(const analysis::NodeReport& report) {
  ReportModel model;
  model.node = report.self.node;
  model.group = report.self.group;
  model.identity = identity_line(report.self);
  model.tailscale = tailscale_lines(report);
  model.device_chain = report.device_chain;
  auto marks = marks_by_peer(report.findings);
  for (const auto& v : report.peers)
    model.peers.push_back(peer_row(v, report, marks[road_name(v.peer, v.family)]));
  model.findings = report.findings;
  model.finding_groups = group_findings(report.findings);
  model.notes = report.notes;
  return model;
}

std::vector<FindingGroup> group_findings(const std::vector<analysis::Finding>& findings) {
  std::vector<FindingGroup> groups;
  std::map<std::string, std::size_t> index;  // code -> position in groups
  for (const auto& f : findings) {
    auto [it, added] = index.try_emplace(f.code, groups.size());
    if (added) groups.push_back(FindingGroup{f.severity, f.code, {}, {}, {}});
    FindingGroup& group = groups[it->second];
    group.severity = std::max(group.severity, f.severity);
    if (!f.peer.empty())
      group.peers.push_back(road_name(f.peer, f.family.value_or(model::Family::kIpv4)));
    group.evidence.push_back(f.message);
    if (std::find(group.fixes.begin(), group.fixes.end(), f.fix) == group.fixes.end())
      group.fixes.push_back(f.fix);
  }
  return groups;
}

std::string road_name(const std::string& peer, model::Family family) {
  return family == model::Family::kIpv6 ? peer + " (IPv6)" : peer;
}

}  // namespace podpath::report
