#include "analysis/verdict.h"

#include <fmt/format.h>

#include <algorithm>

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

bool NodeReport::has_critical() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kCritical; });
}

bool NodeReport::awaiting_probes() const {
  return std::any_of(peers.begin(), peers.end(), [](const PeerVerdict& v) {
    return (v.overlay_probe && !v.probes_judged) || v.path_mtu_pending;
  });
}

}  // namespace podpath::analysis
