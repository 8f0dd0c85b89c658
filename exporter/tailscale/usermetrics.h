// tailscaled's client metrics (GET /localapi/v0/usermetrics, Prometheus text, v1.78+):
// this node's packets and bytes split by the path they took (direct_ipv4, derp, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podpath::tailscale {

struct PathCounter {
  std::string direction;  // "inbound" or "outbound"
  std::string path;       // tailscaled's path label: derp, direct_ipv4, peer_relay_ipv4, ...
  std::optional<double> packets;  // absent when tailscaled sent only the other family
  std::optional<double> bytes;

  bool operator==(const PathCounter&) const = default;
};

struct UserMetricsParse {
  std::vector<PathCounter> counters;  // sorted by (direction, path)
  std::string error;                  // non-empty when a line of those families is malformed
};

// Reads tailscaled_{inbound,outbound}_{packets,bytes}_total{path="..."} and ignores every
// other family. A sample of those families without a path label, or a line that does not
// parse, fails the whole answer: half a set of counters would read as a reset.
UserMetricsParse parse_usermetrics(std::string_view text);

}  // namespace podpath::tailscale
