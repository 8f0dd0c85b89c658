// What each emulated tailscaled reports over its LocalAPI: ipnstate.Status (GET
// /localapi/v0/status) and the client metrics (GET /localapi/v0/usermetrics), built from the
// configuration and the traffic the relay actually forwarded.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "config.h"

namespace podpath::lab {

using WallTime = std::chrono::system_clock::time_point;

// Traffic between one node and one peer, from the node's side. Keyed by names so that counters
// survive a reload that reorders or removes nodes.
struct PeerTraffic {
  uint64_t rx_bytes = 0, tx_bytes = 0;
  WallTime last_write{}, last_rx{}, last_handshake{};
};

// tailscaled's usermetrics split by the path a packet took.
struct PathTraffic {
  uint64_t in_packets = 0, in_bytes = 0, out_packets = 0, out_bytes = 0;
};

struct NodeTraffic {
  std::map<std::string, PeerTraffic> peers;  // by peer name
  std::map<std::string, PathTraffic> paths;  // by usermetrics path label
  std::map<std::string, uint64_t> drops;     // by DropReason name
};

using Traffic = std::map<std::string, NodeTraffic>;  // by node name

// The usermetrics path label for a packet carried in `mode`.
std::string_view PathLabel(PathMode mode);

// Records one packet of `bytes` sent by `from` towards `to` at `now`; `delivered` says whether
// `to` accepted it. WireGuard hands shake again every two minutes while traffic flows.
void RecordSend(Traffic& traffic, const std::string& from, const std::string& to, PathMode mode,
                uint64_t bytes, WallTime now);
void RecordReceive(Traffic& traffic, const std::string& from, const std::string& to, PathMode mode,
                   uint64_t bytes, WallTime now);

// RFC 3339 in UTC; Go's zero time for the epoch default.
std::string FormatTime(WallTime t);

// A stable 64-hex-digit node key derived from the node's name.
std::string NodeKeyHex(const std::string& name);

// The JSON body of GET /localapi/v0/status.
std::string BuildStatus(const Config& config, size_t self, const Traffic& traffic, bool with_peers,
                        WallTime created, WallTime now);
std::string BuildUserMetrics(const Config& config, size_t self, const Traffic& traffic);

}  // namespace podpath::lab
