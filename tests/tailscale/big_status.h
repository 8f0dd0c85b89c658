// A large tailnet for the 5,000-peer test and benchmark: every peer is a cluster node that
// advertises its pod CIDR, with transports cycling direct / DERP / peer relay / idle.
#pragma once

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/peer.h"

namespace podpath::tailscale::testing {

// Peer i: HostName node-<i>, TailscaleIP 100.64.<i/250>.<i%250+1>, pod CIDR 10.<i/256>.<i%256>.0/24
// (so 5,000 nodes need a /12-sized cluster network, as a big k3s cluster would).
inline std::string big_status_json(int peers) {
  nlohmann::json doc;
  doc["Version"] = "1.90.6-t7d1a4b2c3-g4b5e6f7a8";
  doc["BackendState"] = "Running";
  doc["Self"] = {{"HostName", "self"}, {"TailscaleIPs", {"100.127.0.1"}}};
  nlohmann::json& map = doc["Peer"];
  map = nlohmann::json::object();
  for (int i = 0; i < peers; ++i) {
    const std::string ip = fmt::format("100.64.{}.{}", i / 250, i % 250 + 1);
    const std::string cidr = fmt::format("10.{}.{}.0/24", i / 256, i % 256);
    const int kind = i % 4;
    nlohmann::json p = {
        {"ID", fmt::format("n{:010d}CNTRL", i)},
        {"PublicKey", fmt::format("nodekey:{:064x}", i)},
        {"HostName", fmt::format("node-{}", i)},
        {"DNSName", fmt::format("node-{}.tail4c9a2.ts.net.", i)},
        {"OS", "linux"},
        {"UserID", 6100000000000001},
        {"TailscaleIPs", {ip, fmt::format("fd7a:115c:a1e0::{:x}", i + 1)}},
        {"AllowedIPs", {ip + "/32", fmt::format("fd7a:115c:a1e0::{:x}/128", i + 1), cidr}},
        {"PrimaryRoutes", {cidr}},
        {"Addrs", {fmt::format("198.51.100.{}:41641", i % 250 + 1)}},
        {"CurAddr", kind == 0 ? fmt::format("198.51.100.{}:41641", i % 250 + 1) : ""},
        {"Relay", "tok"},
        {"PeerRelay", kind == 2 ? "192.0.2.1:7777:9" : ""},
        {"RxBytes", 1000 + i},
        {"TxBytes", 2000 + i},
        {"Created", "2025-07-03T02:11:09.52214418Z"},
        {"LastWrite", "2026-11-26T05:01:12.409146377Z"},
        {"LastSeen", "0001-01-01T00:00:00Z"},
        {"LastHandshake", "2026-11-26T05:01:12.409146377Z"},
        {"Online", true},
        {"ExitNode", false},
        {"ExitNodeOption", false},
        {"Active", kind != 3},
        {"PeerAPIURL", {fmt::format("http://{}:36177", ip)}},
        {"InNetworkMap", true},
        {"InMagicSock", true},
        {"InEngine", true},
        {"KeyExpiry", "2026-01-02T02:11:09Z"},
    };
    map[fmt::format("nodekey:{:064x}", i)] = std::move(p);
  }
  return doc.dump(1, '\t');
}

inline model::PeerSet big_peer_set(int peers) {
  std::vector<model::ClusterNode> nodes;
  nodes.reserve(static_cast<size_t>(peers) + 1);
  model::ClusterNode self;
  self.name = "self";
  nodes.push_back(self);
  for (int i = 0; i < peers; ++i) {
    model::ClusterNode n;
    n.name = fmt::format("node-{}", i);
    n.group = i % 2 == 0 ? "even" : "odd";
    n.internal_addresses = {*model::Ipv4::parse(fmt::format("100.64.{}.{}", i / 250, i % 250 + 1))};
    n.pod_cidr = model::Ipv4Prefix::parse(fmt::format("10.{}.{}.0/24", i / 256, i % 256));
    n.public_ip = model::Ipv4::parse(fmt::format("172.16.{}.{}", i / 250, i % 250 + 1));
    n.ready = true;
    nodes.push_back(std::move(n));
  }
  return model::merge_peers("self", nodes, {});
}

}  // namespace podpath::tailscale::testing
