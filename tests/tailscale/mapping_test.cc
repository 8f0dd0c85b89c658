#include "tailscale/mapping.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "big_status.h"
#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

using testing::read_testdata;

model::Ipv4 ip(const char* text) {
  return *model::Ipv4::parse(text);
}
model::Ipv4Prefix prefix(const char* text) {
  return *model::Ipv4Prefix::parse(text);
}

TEST(ContractTransport, NamesOfPeerPathInfo) {
  EXPECT_EQ(contract_transport(Transport::kDirect), "tailscale-direct");
  EXPECT_EQ(contract_transport(Transport::kPeerRelay), "tailscale-peer-relay");
  EXPECT_EQ(contract_transport(Transport::kDerp), "tailscale-derp");
  EXPECT_EQ(contract_transport(Transport::kIdle), "unknown");
  EXPECT_EQ(contract_transport(Transport::kUnknown), "unknown");
}

TEST(ClassifyTransport, Table) {
  struct Case {
    const char* name;
    PeerStatus peer;
    Transport transport;
    std::string region;
  };
  auto peer = [](std::string cur, std::string peer_relay, std::string relay, bool active,
                 std::optional<double> handshake, bool online = true) {
    PeerStatus p;
    p.online = online;
    p.cur_addr = std::move(cur);
    p.peer_relay = std::move(peer_relay);
    p.relay = std::move(relay);
    p.active = active;
    p.last_handshake_unix_seconds = handshake;
    return p;
  };
  const Case cases[] = {
      {"direct", peer("203.0.113.10:41641", "", "tok", true, 1e9), Transport::kDirect, ""},
      {"direct wins over a peer relay",
       peer("203.0.113.10:41641", "10.0.0.1:7777:3", "tok", true, 1e9), Transport::kDirect, ""},
      {"peer relay", peer("", "192.168.105.5:7777:31", "tok", true, 1e9), Transport::kPeerRelay,
       ""},
      {"derp names its region", peer("", "", "tok", true, 1e9), Transport::kDerp, "tok"},
      {"derp elsewhere", peer("", "", "fra", true, 1e9), Transport::kDerp, "fra"},
      {"inactive with a stale endpoint is idle", peer("192.168.105.4:41641", "", "tok", false, 1e9),
       Transport::kIdle, ""},
      {"inactive relayed is idle, not derp", peer("", "", "tok", false, 1e9), Transport::kIdle, ""},
      // tailscale status prints `active; relay "lax"` for it; no session exists.
      {"sending but never handshaked", peer("", "", "lax", true, std::nullopt),
       Transport::kNoHandshake, "lax"},
      {"inactive and offline", peer("", "", "tok", false, std::nullopt, false), Transport::kOffline,
       ""},
      {"active but nothing named", peer("", "", "", true, 1e9), Transport::kUnknown, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PeerPath path = classify_transport(c.peer);
    EXPECT_EQ(to_string(path.transport), to_string(c.transport)) << c.name;
    EXPECT_EQ(path.derp_region, c.region) << c.name;
  }
}

// Status bodies other people published (tests/fixtures/tailscale-status/, sources in
// tests/fixtures/SOURCES.md), each peer in the state `tailscale status` gives it.
TEST(ClassifyTransport, PublishedStatusBodies) {
  struct Row {
    const char* file;
    std::vector<std::string> states;  // by peer key order
  };
  const Row rows[] = {
      // An iOS client on headscale: two peers offline, one direct.
      {"v1.48.1-ios-headscale-direct-active-and-offline-peers.json",
       {"offline", "offline", "direct"}},
      // Online but no traffic for two minutes: idle, even with a home DERP region.
      {"v1.76.1-running-linux-peer-online-idle-derp-lax.json", {"idle"}},
      // Expired node keys: offline, as the CLI shows them.
      {"v1.84.0-running-linux-two-expired-offline-peers.completed.json", {"offline", "offline"}},
      // Before 1.0 there was no Active or Online field: offline.
      {"v0.x-2020-legacy-tailaddr-keepalive-redacted.json", {"offline", "offline"}},
  };
  for (const Row& row : rows) {
    std::ifstream in(std::string(PODPATH_TESTDATA) + "/fixtures/tailscale-status/" + row.file);
    std::stringstream body;
    body << in.rdbuf();
    auto status = parse_status(body.str());
    ASSERT_TRUE(status) << row.file << ": " << status.error();
    std::vector<std::string> states;
    for (const auto& peer : status->peers)
      states.emplace_back(to_string(classify_transport(peer).transport));
    EXPECT_EQ(states, row.states) << row.file;
  }
}

model::ClusterNode node(std::string name, std::string group, const char* internal,
                        const char* public_ip, const char* pod_cidr) {
  model::ClusterNode n;
  n.name = std::move(name);
  n.group = std::move(group);
  if (internal) n.internal_addresses = {ip(internal)};
  if (public_ip) n.public_ip = ip(public_ip);
  if (pod_cidr) n.pod_cidr = prefix(pod_cidr);
  n.ready = true;
  return n;
}

PeerStatus ts_peer(std::string key, std::string host, std::vector<const char*> ips,
                   std::vector<const char*> primary, std::vector<const char*> allowed = {}) {
  PeerStatus p;
  p.key = std::move(key);
  p.host_name = std::move(host);
  for (auto* text : ips) {
    p.tailscale_ips.push_back(ip(text));
    p.allowed_ips.push_back(prefix(text));
  }
  for (auto* text : primary) {
    p.primary_routes.push_back(prefix(text));
    p.allowed_ips.push_back(prefix(text));
  }
  for (auto* text : allowed) p.allowed_ips.push_back(prefix(text));
  p.active = true;
  p.last_handshake_unix_seconds = 1e9;
  p.relay = "tok";
  return p;
}

struct Expect {
  std::string peer;
  std::string tailscale;  // display name of candidates[0]
  MatchReason match;
  std::vector<std::string> all;  // "<display name> <reason>" of every candidate, in order
};

void check(const char* name, const model::PeerSet& peers, const Status& status,
           const std::vector<Expect>& expected, size_t unmapped_tailscale,
           size_t unmapped_cluster) {
  SCOPED_TRACE(name);
  Mapping m = map_peers(peers, status);
  ASSERT_EQ(m.peers.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(m.peers[i].peer, expected[i].peer);
    EXPECT_EQ(display_name(m.peers[i].tailscale), expected[i].tailscale) << expected[i].peer;
    EXPECT_EQ(to_string(m.peers[i].match()), to_string(expected[i].match)) << expected[i].peer;
    std::vector<std::string> all;
    for (const auto& c : m.peers[i].candidates)
      all.push_back(display_name(status.peers[c.tailscale_index]) + " " +
                    std::string(to_string(c.match)));
    EXPECT_EQ(all, expected[i].all) << expected[i].peer;
  }
  EXPECT_EQ(m.unmapped_tailscale, unmapped_tailscale);
  EXPECT_EQ(m.unmapped_cluster, unmapped_cluster);
}

Status sorted_status(std::vector<PeerStatus> peers) {
  Status s;
  s.backend_state = "Running";
  std::sort(peers.begin(), peers.end(),
            [](const PeerStatus& a, const PeerStatus& b) { return a.key < b.key; });
  s.peers = std::move(peers);
  return s;
}

TEST(MapPeers, Table) {
  using M = MatchReason;
  // Cross-site after the field report's fix: internal IP is the 100.x address, VTEP the VPC
  // or vmnet address, and each node advertises its pod CIDR as a subnet route.
  {
    auto peers = model::merge_peers(
        "lima-k3s-agent",
        std::vector{
            node("lima-k3s-agent", "lima", "100.84.12.34", "192.168.105.2", "10.42.2.0/24"),
            node("ip-172-26-2-70", "lightsail", "100.99.1.2", "172.26.2.70", "10.42.0.0/24"),
            node("lima-k3s-agent-2", "lima", "100.98.7.8", "192.168.105.3", "10.42.3.0/24")},
        {});
    auto status =
        sorted_status({ts_peer("nodekey:01", "ip-172-26-2-70", {"100.99.1.2"}, {"10.42.0.0/24"}),
                       ts_peer("nodekey:02", "lima-k3s-agent-2", {"100.98.7.8"}, {"10.42.3.0/24"}),
                       ts_peer("nodekey:03", "pixel-7", {"100.101.1.1"}, {})});
    check("pod cidr routes", peers, status,
          {{"ip-172-26-2-70",
            "ip-172-26-2-70",
            M::kPodCidrRoute,
            {"ip-172-26-2-70 pod-cidr-route", "ip-172-26-2-70 internal-address"}},
           {"lima-k3s-agent-2",
            "lima-k3s-agent-2",
            M::kPodCidrRoute,
            {"lima-k3s-agent-2 pod-cidr-route", "lima-k3s-agent-2 internal-address"}}},
          1, 0);
  }
  // Before the fix (field report section 5): flannel's VXLAN rides the tailnet (public-ip is
  // the 100.x address) and no routes are advertised.
  {
    auto peers = model::merge_peers(
        "lima-k3s-agent",
        std::vector{node("lima-k3s-agent-2", "lima", "100.98.7.8", "100.98.7.8", "10.42.3.0/24")},
        {});
    auto status = sorted_status({ts_peer("nodekey:02", "lima-k3s-agent-2", {"100.98.7.8"}, {})});
    check("vxlan over the tailnet", peers, status,
          {{"lima-k3s-agent-2",
            "lima-k3s-agent-2",
            M::kVtepAddress,
            {"lima-k3s-agent-2 vtep-address", "lima-k3s-agent-2 internal-address"}}},
          0, 0);
  }
  // Only the node identity matches: VXLAN goes over a LAN, Tailscale is the control plane.
  {
    auto peers = model::merge_peers(
        "a", std::vector{node("b", "", "100.98.7.8", "192.168.105.3", "10.42.3.0/24")}, {});
    auto status = sorted_status({ts_peer("nodekey:02", "b-host", {"100.98.7.8"}, {})});
    check("internal address", peers, status,
          {{"b", "b-host", M::kInternalAddress, {"b-host internal-address"}}}, 0, 0);
  }
  // Nothing matches: a cluster peer outside the tailnet.
  {
    auto peers = model::merge_peers(
        "a", std::vector{node("b", "", "192.168.1.5", "192.168.1.5", "10.42.3.0/24")}, {});
    auto status = sorted_status({ts_peer("nodekey:02", "b", {"100.98.7.8"}, {"10.42.4.0/24"})});
    check("no match", peers, status, {}, 1, 1);
  }
  // A subnet router advertising the whole cluster network loses to the node's own /24 (the
  // kernel's longest-prefix rule), but still carries the node whose /24 nobody advertises.
  {
    auto peers =
        model::merge_peers("a",
                           std::vector{node("b", "", "100.98.7.8", "192.168.105.3", "10.42.3.0/24"),
                                       node("c", "", "192.168.5.9", "192.168.5.9", "10.42.4.0/24")},
                           {});
    auto status = sorted_status({ts_peer("nodekey:01", "router", {"100.64.0.1"}, {"10.42.0.0/16"}),
                                 ts_peer("nodekey:02", "b", {"100.98.7.8"}, {"10.42.3.0/24"})});
    check("longest prefix", peers, status,
          {{"b", "b", M::kPodCidrRoute, {"b pod-cidr-route", "b internal-address"}},
           {"c", "router", M::kPodCidrRoute, {"router pod-cidr-route"}}},
          0, 0);
  }
  // The route comes from a router while VXLAN would go to the node itself: both are kept, the
  // route first (table 52 is consulted before the main table).
  {
    auto peers = model::merge_peers(
        "a", std::vector{node("b", "", "100.98.7.8", "100.98.7.8", "10.42.3.0/24")}, {});
    auto status = sorted_status({ts_peer("nodekey:01", "router", {"100.64.0.1"}, {"10.42.0.0/16"}),
                                 ts_peer("nodekey:02", "b", {"100.98.7.8"}, {})});
    check("route and vtep differ", peers, status,
          {{"b",
            "router",
            M::kPodCidrRoute,
            {"router pod-cidr-route", "b vtep-address", "b internal-address"}}},
          0, 0);
  }
  // Two peers hold the same prefix; the primary one wins even with the larger key.
  {
    auto peers =
        model::merge_peers("a", std::vector{node("b", "", nullptr, nullptr, "10.42.3.0/24")}, {});
    auto status =
        sorted_status({ts_peer("nodekey:01", "standby", {"100.64.0.1"}, {}, {"10.42.3.0/24"}),
                       ts_peer("nodekey:02", "primary", {"100.64.0.2"}, {"10.42.3.0/24"})});
    check("primary route wins", peers, status,
          {{"b", "primary", M::kPodCidrRoute, {"primary pod-cidr-route"}}}, 1, 0);
  }
  // Kernel-only mode (no API): the peer is named by its pod subnet and found by route.
  {
    model::KernelPeer kp;
    kp.pod_subnet = prefix("10.42.3.0/24");
    kp.gateway = ip("10.42.3.0");
    kp.vtep_address = ip("192.168.105.3");
    kp.device = "flannel.1";
    auto peers = model::merge_peers("a", std::nullopt, {kp});
    auto status = sorted_status({ts_peer("nodekey:02", "b", {"100.98.7.8"}, {"10.42.3.0/24"})});
    check("kernel only", peers, status,
          {{"10.42.3.0/24", "b", M::kPodCidrRoute, {"b pod-cidr-route"}}}, 0, 0);
  }
}

TEST(MapPeers, SameGroupAndTransportFollowThePeers) {
  auto peers = model::merge_peers(
      "lima-k3s-agent",
      std::vector{
          node("lima-k3s-agent", "lima", "100.84.12.34", "192.168.105.2", "10.42.2.0/24"),
          node("ip-172-26-2-70", "lightsail", "100.99.1.2", "172.26.2.70", "10.42.0.0/24"),
          node("ip-172-26-3-146", "lightsail", "100.71.5.6", "172.26.3.146", "10.42.1.0/24"),
          node("lima-k3s-agent-2", "lima", "100.98.7.8", "192.168.105.3", "10.42.3.0/24"),
          node("lima-k3s-agent-3", "lima", "100.117.9.10", "192.168.105.4", "10.42.4.0/24"),
          node("lima-k3s-agent-4", "lima", "100.90.11.12", "192.168.105.5", "10.42.5.0/24")},
      {});
  auto parsed = parse_status(read_testdata("status-field-report.json"));
  ASSERT_TRUE(parsed);
  Mapping m = map_peers(peers, *parsed);
  ASSERT_EQ(m.peers.size(), 5u);
  EXPECT_EQ(m.unmapped_tailscale, 1u) << "pixel-7";
  struct Row {
    std::string peer, same_group, transport, region;
  };
  const std::vector<Row> expected{
      {"ip-172-26-2-70", "false", "derp", "tok"},     {"ip-172-26-3-146", "false", "direct", ""},
      {"lima-k3s-agent-2", "true", "peer-relay", ""}, {"lima-k3s-agent-3", "true", "idle", ""},
      {"lima-k3s-agent-4", "true", "offline", ""},  // Online false, as the CLI says
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    const MappedPeer& p = m.peers[i];
    EXPECT_EQ(p.peer, expected[i].peer);
    EXPECT_EQ(p.same_group ? "true" : "false", expected[i].same_group) << p.peer;
    EXPECT_EQ(to_string(p.path.transport), expected[i].transport) << p.peer;
    EXPECT_EQ(p.path.derp_region, expected[i].region) << p.peer;
    EXPECT_EQ(p.tailscale.host_name, p.peer);
  }
}

TEST(MapPeers, FiveThousandPeers) {
  constexpr int kPeers = 5000;
  auto parsed = parse_status(testing::big_status_json(kPeers));
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->peers.size(), static_cast<size_t>(kPeers));
  EXPECT_TRUE(parsed->peer_errors.empty());
  Mapping m = map_peers(testing::big_peer_set(kPeers), *parsed);
  ASSERT_EQ(m.peers.size(), static_cast<size_t>(kPeers));
  EXPECT_EQ(m.unmapped_tailscale, 0u);
  EXPECT_EQ(m.unmapped_cluster, 0u);
  std::map<std::string, int> transports;
  for (const auto& p : m.peers) {
    // node-<i> must map to its own Tailscale peer, by its pod CIDR route.
    ASSERT_EQ(p.tailscale.host_name, p.peer);
    ASSERT_EQ(p.match(), MatchReason::kPodCidrRoute) << p.peer;
    ASSERT_EQ(p.candidates.size(), 2u) << "route and internal address: " << p.peer;
    ASSERT_EQ(p.candidates[1].match, MatchReason::kInternalAddress) << p.peer;
    ASSERT_EQ(p.candidates[1].tailscale_index, p.candidates[0].tailscale_index) << p.peer;
    ++transports[std::string(to_string(p.path.transport))];
  }
  EXPECT_EQ(transports,
            (std::map<std::string, int>{
                {"direct", 1250}, {"derp", 1250}, {"peer-relay", 1250}, {"idle", 1250}}));
}

}  // namespace
}  // namespace podpath::tailscale
