#include "analysis/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace podpath::analysis {

std::string_view to_string(Carrier carrier) {
  switch (carrier) {
    case Carrier::kVxlan:
      return "vxlan";
    case Carrier::kHostGw:
      return "host-gw";
    case Carrier::kDirectRouting:
      return "direct-routing";
    case Carrier::kWireguard:
      return "wireguard";
    case Carrier::kIpip:
      return "ipip";
    case Carrier::kOther:
      return "other";
    case Carrier::kTailscaleSubnetRoute:
      return "tailscale-subnet-route";
    case Carrier::kNone:
      return "none";
  }
  return "none";
}

std::string_view encapsulation_name(Carrier carrier) {
  switch (carrier) {
    case Carrier::kVxlan:
      return "VXLAN";
    case Carrier::kWireguard:
      return "WireGuard";
    case Carrier::kIpip:
      return "IPIP";
    default:
      return "";
  }
}

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kLan:
      return "lan";
    case Transport::kTailscaleDirect:
      return "tailscale-direct";
    case Transport::kTailscaleDerp:
      return "tailscale-derp";
    case Transport::kTailscalePeerRelay:
      return "tailscale-peer-relay";
    case Transport::kTailscaleNoHandshake:
      return "tailscale-no-handshake";
    case Transport::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

std::string milliseconds_text(double seconds) {
  if (seconds < 0.001) return fmt::format("{:.2f} ms", seconds * 1000);
  if (seconds < 0.010) return fmt::format("{:.1f} ms", seconds * 1000);
  return fmt::format("{:.0f} ms", seconds * 1000);
}

std::string utc_text(double unix_seconds) {
  const auto at = std::chrono::sys_seconds(
      std::chrono::seconds(static_cast<std::int64_t>(std::floor(unix_seconds))));
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss time(at - day);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

std::string span_text(double seconds) {
  auto whole = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  const std::int64_t days = whole / 86400, hours = whole % 86400 / 3600,
                     minutes = whole % 3600 / 60, rest = whole % 60;
  if (days > 0) return hours > 0 ? fmt::format("{}d {}h", days, hours) : fmt::format("{}d", days);
  if (hours > 0)
    return minutes > 0 ? fmt::format("{}h {}m", hours, minutes) : fmt::format("{}h", hours);
  if (minutes > 0) return fmt::format("{}m", minutes);
  return fmt::format("{}s", rest);
}

bool NodeReport::has_critical() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kCritical; });
}

bool NodeReport::awaiting_probes() const {
  // The prober is on and has peers, yet no result at all: it has not published its first
  // round (the peer set came late, a slow API server). The probe graph gives every node at
  // least one peer to probe, so this ends with the first round.
  const bool no_result_yet = prober_enabled && !peers.empty() &&
                             std::none_of(peers.begin(), peers.end(), [](const PeerVerdict& v) {
                               return v.overlay_probe.has_value() || v.underlay_probe.has_value();
                             });
  return no_result_yet || std::any_of(peers.begin(), peers.end(), [](const PeerVerdict& v) {
           return (v.overlay_probe && !v.probes_judged) || v.path_mtu_pending;
         });
}

}  // namespace podpath::analysis
