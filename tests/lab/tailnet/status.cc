#include "status.h"

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

namespace podpath::lab {

namespace {

constexpr auto kHandshakeEvery = std::chrono::minutes(2);  // WireGuard's REKEY_AFTER_TIME
constexpr auto kActiveWindow = std::chrono::minutes(2);
constexpr uint64_t kUserID = 6100000000000001;

// usermetrics carries every path label even when its count is zero, like tailscaled does.
constexpr const char* kPathLabels[] = {"derp", "direct_ipv4", "direct_ipv6", "peer_relay_ipv4",
                                       "peer_relay_ipv6"};

nlohmann::ordered_json PrefixList(const std::vector<Prefix>& prefixes) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& p : prefixes) out.push_back(p.ToString());
  return out;
}

nlohmann::ordered_json IPList(const std::vector<Prefix>& prefixes) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& p : prefixes) out.push_back(p.AddressString());
  return out;
}

std::string StableID(const std::string& name) {
  std::string hex = NodeKeyHex(name).substr(0, 10);
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return fmt::format("n{}CNTRL", hex);
}

// Fields shared by Self and every peer, in ipnstate.PeerStatus order.
nlohmann::ordered_json PeerBase(const Config& config, size_t i, WallTime created) {
  const NodeConfig& n = config.nodes[i];
  nlohmann::ordered_json p;
  p["ID"] = StableID(n.name);
  p["PublicKey"] = "nodekey:" + NodeKeyHex(n.name);
  p["HostName"] = n.name;
  p["DNSName"] = fmt::format("{}.{}.", n.name, config.magic_dns_suffix);
  p["OS"] = "linux";
  p["UserID"] = kUserID;
  p["TailscaleIPs"] = IPList(n.ips);
  std::vector<Prefix> allowed = n.ips;
  allowed.insert(allowed.end(), n.advertise_routes.begin(), n.advertise_routes.end());
  p["AllowedIPs"] = PrefixList(allowed);
  if (!n.advertise_routes.empty()) p["PrimaryRoutes"] = PrefixList(n.advertise_routes);
  p["Addrs"] = n.endpoint.empty() ? nlohmann::ordered_json(nullptr)
                                  : nlohmann::ordered_json::array({n.endpoint});
  p["CurAddr"] = "";
  p["Relay"] = n.derp;
  p["PeerRelay"] = "";
  p["RxBytes"] = 0;
  p["TxBytes"] = 0;
  p["Created"] = FormatTime(created);
  p["LastWrite"] = FormatTime({});
  p["LastSeen"] = FormatTime({});
  p["LastHandshake"] = FormatTime({});
  p["Online"] = n.online;
  p["ExitNode"] = false;
  p["ExitNodeOption"] = false;
  p["Active"] = false;
  p["PeerAPIURL"] = nlohmann::ordered_json::array(
      {fmt::format("http://{}:{}", n.ips.front().AddressString(), 41642)});
  p["InNetworkMap"] = true;
  p["InMagicSock"] = true;
  p["InEngine"] = true;
  // omitempty, as tailscaled: Expired only when true, KeyExpiry only for a key that expires
  // (ipn/ipnlocal/local.go, peerStatusFromNode).
  if (n.expired) p["Expired"] = true;
  if (n.key_expiry) p["KeyExpiry"] = FormatTime(WallTime(std::chrono::seconds(*n.key_expiry)));
  return p;
}

}  // namespace

std::string_view PathLabel(PathMode mode) {
  return mode == PathMode::kDirect ? "direct_ipv4" : "derp";
}

void RecordSend(Traffic& traffic, const std::string& from, const std::string& to, PathMode mode,
                uint64_t bytes, WallTime now) {
  auto& node = traffic[from];
  auto& peer = node.peers[to];
  peer.tx_bytes += bytes;
  peer.last_write = now;
  if (mode != PathMode::kNoHandshake && now - peer.last_handshake >= kHandshakeEvery)
    peer.last_handshake = now;
  auto& path = node.paths[std::string(PathLabel(mode))];
  path.out_packets++;
  path.out_bytes += bytes;
}

void RecordReceive(Traffic& traffic, const std::string& from, const std::string& to, PathMode mode,
                   uint64_t bytes, WallTime now) {
  auto& node = traffic[to];
  auto& peer = node.peers[from];
  peer.rx_bytes += bytes;
  peer.last_rx = now;
  if (now - peer.last_handshake >= kHandshakeEvery) peer.last_handshake = now;
  auto& path = node.paths[std::string(PathLabel(mode))];
  path.in_packets++;
  path.in_bytes += bytes;
}

std::string FormatTime(WallTime t) {
  if (t == WallTime{}) return "0001-01-01T00:00:00Z";
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string NodeKeyHex(const std::string& name) {
  // FNV-1a, four differently salted rounds: stable across runs, distinct per name. Not a real
  // Curve25519 key, which nothing in the lab needs.
  std::string out;
  for (uint64_t salt = 0; salt < 4; ++salt) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (salt * 0x9e3779b97f4a7c15ULL);
    for (unsigned char c : name) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    out += fmt::format("{:016x}", h);
  }
  return out;
}

std::string BuildStatus(const Config& config, size_t self, const Traffic& traffic, bool with_peers,
                        WallTime created, WallTime now) {
  const NodeConfig& me = config.nodes[self];
  nlohmann::ordered_json st;
  st["Version"] = config.version;
  st["TUN"] = true;
  // An expired node key sends tailscaled to NeedsLogin (ipn/ipnlocal/local.go,
  // nextStateLocked: case keyExpired).
  st["BackendState"] = !me.online ? "Stopped" : me.expired ? "NeedsLogin" : "Running";
  st["HaveNodeKey"] = true;
  st["AuthURL"] = "";
  st["TailscaleIPs"] = IPList(me.ips);
  auto self_status = PeerBase(config, self, created);
  self_status["Online"] = me.online;
  self_status["Active"] = false;
  // Control's Expired flag is what peers see; the node itself knows only its KeyExpiry
  // (tailscaled compares it with its clock), so Self carries no Expired here.
  self_status.erase("Expired");
  st["Self"] = self_status;
  st["Health"] = nlohmann::ordered_json::array();
  st["MagicDNSSuffix"] = config.magic_dns_suffix;
  st["CurrentTailnet"] = {{"Name", config.tailnet_name},
                          {"MagicDNSSuffix", config.magic_dns_suffix},
                          {"MagicDNSEnabled", true}};
  st["CertDomains"] = nullptr;

  // Go marshals a nil map as null; ?peers=false leaves Peer nil.
  nlohmann::ordered_json peers = nullptr;
  if (with_peers) {
    peers = nlohmann::ordered_json::object();
    auto node_it = traffic.find(me.name);
    // Go sorts map keys when marshalling; std::map gives the same order.
    std::map<std::string, nlohmann::ordered_json> sorted;
    for (size_t i = 0; i < config.nodes.size(); ++i) {
      if (i == self) continue;
      const NodeConfig& peer = config.nodes[i];
      auto p = PeerBase(config, i, created);
      PairConfig pair = config.Pair(self, i);
      // CurAddr is set only while WireGuard talks to the peer's endpoint directly; a relayed
      // (or absent) path leaves it empty and Relay names the DERP region.
      if (pair.mode == PathMode::kDirect && peer.online && me.online) {
        p["CurAddr"] = config.EndpointSeenBy(self, i);
      }
      if (node_it != traffic.end()) {
        auto t = node_it->second.peers.find(peer.name);
        if (t != node_it->second.peers.end()) {
          const PeerTraffic& pt = t->second;
          p["RxBytes"] = pt.rx_bytes;
          p["TxBytes"] = pt.tx_bytes;
          p["LastWrite"] = FormatTime(pt.last_write);
          // A pair that never completes a handshake shows none, whatever an earlier session
          // left behind (the peer re-keyed, or tailscaled restarted).
          p["LastHandshake"] =
              FormatTime(pair.mode == PathMode::kNoHandshake ? WallTime{} : pt.last_handshake);
          WallTime last = std::max(pt.last_write, pt.last_rx);
          p["Active"] = last != WallTime{} && now - last < kActiveWindow;
        }
      }
      // An expired key on either side: tailscaled drops the peer from its WireGuard
      // configuration (no endpoint, no traffic), whatever the last two minutes carried.
      if (peer.expired || me.expired) {
        p["CurAddr"] = "";
        p["Active"] = false;
      }
      if (!peer.online) p["LastSeen"] = FormatTime(created);
      sorted["nodekey:" + NodeKeyHex(peer.name)] = std::move(p);
    }
    for (auto& [key, value] : sorted) peers[key] = std::move(value);
  }
  st["Peer"] = peers;
  st["User"] = {{std::to_string(kUserID),
                 {{"ID", kUserID},
                  {"LoginName", "lab@podpath-lab.example"},
                  {"DisplayName", "podpath lab"},
                  {"ProfilePicURL", ""}}}};
  st["ClientVersion"] = nullptr;
  // ordered_json keeps tailscaled's field order; tailscaled indents with tabs.
  return st.dump(1, '\t') + "\n";
}

std::string BuildUserMetrics(const Config& config, size_t self, const Traffic& traffic) {
  const NodeConfig& me = config.nodes[self];
  const NodeTraffic* nt = nullptr;
  if (auto it = traffic.find(me.name); it != traffic.end()) nt = &it->second;
  std::string out;
  struct Family {
    const char* name;
    const char* help;
    uint64_t PathTraffic::*field;
  };
  const Family families[] = {
      {"tailscaled_inbound_bytes_total", "Counts the number of bytes received from other peers",
       &PathTraffic::in_bytes},
      {"tailscaled_inbound_packets_total", "Counts the number of packets received from other peers",
       &PathTraffic::in_packets},
      {"tailscaled_outbound_bytes_total", "Counts the number of bytes sent to other peers",
       &PathTraffic::out_bytes},
      {"tailscaled_outbound_packets_total", "Counts the number of packets sent to other peers",
       &PathTraffic::out_packets},
  };
  for (const auto& f : families) {
    out += fmt::format("# TYPE {} counter\n# HELP {} {}\n", f.name, f.name, f.help);
    for (const char* path : kPathLabels) {
      uint64_t v = 0;
      if (nt) {
        if (auto it = nt->paths.find(path); it != nt->paths.end()) v = it->second.*(f.field);
      }
      out += fmt::format("{}{{path=\"{}\"}} {}\n", f.name, path, v);
    }
  }
  out += "# TYPE tailscaled_outbound_dropped_packets_total counter\n";
  out +=
      "# HELP tailscaled_outbound_dropped_packets_total Counts the number of dropped packets "
      "outbound\n";
  uint64_t dropped = 0;
  if (nt) {
    for (const auto& [reason, n] : nt->drops) dropped += n;
  }
  out += fmt::format("tailscaled_outbound_dropped_packets_total{{reason=\"error\"}} {}\n", dropped);
  out += "# TYPE tailscaled_advertised_routes gauge\n";
  out +=
      "# HELP tailscaled_advertised_routes Number of advertised network routes (e.g. by a "
      "subnet router)\n";
  out += fmt::format("tailscaled_advertised_routes {}\n", me.advertise_routes.size());
  out += "# TYPE tailscaled_approved_routes gauge\n";
  out +=
      "# HELP tailscaled_approved_routes Number of approved routes (e.g. by a subnet "
      "router)\n";
  out += fmt::format("tailscaled_approved_routes {}\n", me.advertise_routes.size());
  out += "# TYPE tailscaled_health_messages gauge\n";
  out += "# HELP tailscaled_health_messages Number of health messages broken down by type.\n";
  out += "tailscaled_health_messages{type=\"warning\"} 0\n";
  out += "# TYPE tailscaled_home_derp_region_id gauge\n";
  out +=
      "# HELP tailscaled_home_derp_region_id DERP region ID of this node's home relay "
      "server.\n";
  out += fmt::format("tailscaled_home_derp_region_id {}\n", me.derp_region_id);
  return out;
}

}  // namespace podpath::lab
