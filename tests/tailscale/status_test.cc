#include "tailscale/status.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

using testing::read_testdata;

std::map<std::string, PeerStatus> by_host(const Status& status) {
  std::map<std::string, PeerStatus> out;
  for (const auto& peer : status.peers) out[peer.host_name] = peer;
  return out;
}

model::IpAddress ip(const char* text) {
  return *model::IpAddress::parse(text);
}
model::IpPrefix prefix(const char* text) {
  return *model::IpPrefix::parse(text);
}

TEST(ParseRfc3339, Table) {
  struct Case {
    const char* text;
    bool ok;
    std::optional<double> seconds;
  };
  const Case cases[] = {
      {"2026-11-26T05:01:12Z", true, 1795669272},
      {"2026-11-26T05:01:12.5Z", true, 1795669272.5},
      {"2026-11-26T05:01:12.409146377Z", true, 1795669272.409146377},
      {"2026-11-26T14:02:40+09:00", true, 1795669360},  // Go keeps the writer's offset
      {"2026-11-26T00:02:40-05:00", true, 1795669360},
      {"1970-01-01T00:00:00Z", true, 0},
      {"1969-12-31T23:59:59Z", true, -1},
      {"2000-02-29T23:59:59Z", true, 951868799},
      {"0001-01-01T00:00:00Z", true, std::nullopt},  // Go's zero time: never
      {"2026-11-26t05:01:12z", true, 1795669272},    // RFC 3339 allows lower case
      {"", false, std::nullopt},
      {"yesterday", false, std::nullopt},
      {"2026-11-26", false, std::nullopt},
      {"2026-11-26 05:01:12Z", false, std::nullopt},
      {"2026-11-26T05:01:12", false, std::nullopt},  // no zone
      {"2026-11-26T05:01:12.Z", false, std::nullopt},
      {"2026-13-01T00:00:00Z", false, std::nullopt},
      {"2026-02-29T00:00:00Z", false, std::nullopt},  // not a leap year
      {"2026-11-26T24:00:00Z", false, std::nullopt},
      {"2026-11-26T05:01:12+0900", false, std::nullopt},
      {"2026-11-26T05:01:12Zjunk", false, std::nullopt},
  };
  for (const auto& c : cases) {
    std::optional<double> seconds = 12345;  // must be overwritten on success
    EXPECT_EQ(parse_rfc3339(c.text, seconds), c.ok) << c.text;
    if (!c.ok) continue;
    ASSERT_EQ(seconds.has_value(), c.seconds.has_value()) << c.text;
    if (c.seconds) {
      EXPECT_NEAR(*seconds, *c.seconds, 1e-6) << c.text;
    }
  }
}

TEST(ParseStatus, FieldReportNode) {
  auto parsed = parse_status(read_testdata("status-field-report.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  const Status& status = *parsed;
  EXPECT_EQ(status.version, "1.90.6-t7d1a4b2c3-g4b5e6f7a8");
  EXPECT_EQ(status.backend_state, "Running");
  ASSERT_TRUE(status.self);
  EXPECT_EQ(status.self->host_name, "lima-k3s-agent");
  EXPECT_EQ(status.self->tailscale_ips,
            (std::vector{ip("100.84.12.34"), ip("fd7a:115c:a1e0::5e01:c22")}));
  EXPECT_TRUE(status.peer_errors.empty());
  ASSERT_EQ(status.peers.size(), 6u);
  for (size_t i = 1; i < status.peers.size(); ++i)
    EXPECT_LT(status.peers[i - 1].key, status.peers[i].key) << "peers sorted by key";

  auto peers = by_host(status);
  const PeerStatus& tokyo = peers.at("ip-172-26-2-70");
  EXPECT_EQ(tokyo.key.substr(0, 8), "nodekey:");
  EXPECT_EQ(tokyo.dns_name, "ip-172-26-2-70.tail4c9a2.ts.net.");
  // IPv6 entries are kept: they map a node's IPv6 road.
  EXPECT_EQ(tokyo.tailscale_ips, (std::vector{ip("100.99.1.2"), ip("fd7a:115c:a1e0::c901:102")}));
  EXPECT_EQ(tokyo.allowed_ips,
            (std::vector{prefix("100.99.1.2/32"), prefix("fd7a:115c:a1e0::c901:102/128"),
                         prefix("10.42.0.0/24")}));
  EXPECT_EQ(tokyo.primary_routes, std::vector{prefix("10.42.0.0/24")});
  EXPECT_EQ(tokyo.cur_addr, "");
  EXPECT_EQ(tokyo.relay, "tok");
  EXPECT_EQ(tokyo.peer_relay, "");
  EXPECT_TRUE(tokyo.online);
  EXPECT_TRUE(tokyo.active);
  EXPECT_EQ(tokyo.rx_bytes, 812734u);
  EXPECT_EQ(tokyo.tx_bytes, 1093442u);
  ASSERT_TRUE(tokyo.last_handshake_unix_seconds);
  EXPECT_NEAR(*tokyo.last_handshake_unix_seconds, 1795669272.409146377, 1e-6);

  EXPECT_EQ(peers.at("ip-172-26-3-146").cur_addr, "203.0.113.10:41641");
  EXPECT_NEAR(*peers.at("ip-172-26-3-146").last_handshake_unix_seconds, 1795669360, 1e-9);
  EXPECT_EQ(peers.at("lima-k3s-agent-2").peer_relay, "192.168.105.5:7777:31");
  EXPECT_FALSE(peers.at("lima-k3s-agent-3").active);
  const PeerStatus& offline = peers.at("lima-k3s-agent-4");
  EXPECT_FALSE(offline.online);
  EXPECT_FALSE(offline.last_handshake_unix_seconds) << "0001-01-01T00:00:00Z means never";
  EXPECT_TRUE(peers.at("pixel-7").primary_routes.empty());
}

TEST(ParseStatus, OlderTailscaledWithMissingAndNullFields) {
  auto parsed = parse_status(read_testdata("status-old-missing-fields.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->peer_errors.empty());
  auto peers = by_host(*parsed);
  ASSERT_EQ(parsed->peers.size(), 3u);
  const PeerStatus& tokyo = peers.at("ip-172-26-2-70");
  EXPECT_TRUE(tokyo.primary_routes.empty()) << "no PrimaryRoutes before it existed";
  EXPECT_EQ(tokyo.allowed_ips, (std::vector{prefix("100.99.1.2/32"), prefix("10.42.0.0/24")}));
  EXPECT_EQ(tokyo.peer_relay, "");

  const PeerStatus& bare = peers.at("bare");
  PeerStatus expected_bare;
  expected_bare.key = bare.key;
  expected_bare.host_name = "bare";
  EXPECT_EQ(bare, expected_bare) << "absent fields take their zero value";

  const PeerStatus& nulls = peers.at("");
  EXPECT_TRUE(nulls.tailscale_ips.empty());
  EXPECT_FALSE(nulls.last_handshake_unix_seconds);
  EXPECT_EQ(display_name(nulls), "nulls") << "falls back to the DNS name's first label";
}

TEST(ParseStatus, WrongTypesCostOnlyThatPeer) {
  auto parsed = parse_status(read_testdata("status-wrong-types.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->peers.size(), 1u);
  EXPECT_EQ(parsed->peers[0].host_name, "good");
  EXPECT_FALSE(parsed->self) << "Self has TailscaleIPs as a string";
  std::map<std::string, std::string> errors;
  for (const auto& e : parsed->peer_errors) errors[e.key] = e.error;
  ASSERT_EQ(errors.size(), 9u);
  EXPECT_EQ(errors.at("Self"), "TailscaleIPs: expected array of strings, got string");
  // The other keys are sha256 node keys; match the errors by content.
  std::multiset<std::string> messages;
  for (const auto& [key, error] : errors)
    if (key != "Self") messages.insert(error);
  const std::multiset<std::string> expected{
      "RxBytes: expected non-negative integer, got string",
      "TxBytes: expected non-negative integer, got number",
      "TailscaleIPs: expected array of strings, got string",
      "TailscaleIPs: \"100.99.1.300\" is not an IP address",
      "PrimaryRoutes: \"10.42.0.0/33\" is not an IP prefix",
      "LastHandshake: \"yesterday\" is not an RFC 3339 time",
      "Online: expected boolean, got number",
      "expected object, got array",
  };
  EXPECT_EQ(messages, expected);
}

TEST(ParseStatus, LoggedOutNodeHasNoPeers) {
  auto parsed = parse_status(read_testdata("status-needs-login.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->backend_state, "NeedsLogin");
  EXPECT_TRUE(parsed->peers.empty());
  EXPECT_TRUE(parsed->peer_errors.empty());
}

TEST(ParseStatus, GarbageFailsAsAWhole) {
  struct Case {
    const char* name;
    std::string body;
    std::string error;
  };
  const std::string full = read_testdata("status-field-report.json");
  const Case cases[] = {
      {"empty", "", "status is not valid JSON"},
      {"truncated", full.substr(0, full.size() / 2), "status is not valid JSON"},
      {"html", "<html><body>502 Bad Gateway</body></html>", "status is not valid JSON"},
      {"text error", "invalid localapi request\n", "status is not valid JSON"},
      {"array", "[1,2,3]", "status is a JSON array, not an object"},
      {"string", "\"Running\"", "status is a JSON string, not an object"},
      {"null", "null", "status is a JSON null, not an object"},
      {"version not a string", R"({"Version": 190, "BackendState": "Running"})",
       "status field Version: expected string, got number"},
      {"peer map is a list", R"({"Version": "1.90.6", "Peer": []})",
       "status field Peer: expected object, got array"},
      {"binary", std::string("\x00\xff\xfe{", 4), "status is not valid JSON"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_status(c.body);
    EXPECT_FALSE(parsed) << c.name;
    EXPECT_EQ(parsed.error(), c.error) << c.name;
  }
}

std::string read_fixture(const std::string& file) {
  std::ifstream in(std::string(PODPATH_TESTDATA) + "/fixtures/tailscale-status/" + file);
  std::stringstream body;
  body << in.rdbuf();
  return body.str();
}

// tailscale 1.84.0 with two peers whose node keys expired (tests/fixtures/SOURCES.md): each
// has Expired true and its KeyExpiry in the past; this node's own key expires later and is
// not expired (Expired is omitempty, so it is absent). Self.Relay is the home DERP region.
TEST(ParseStatus, PublishedBodyWithExpiredPeers) {
  auto parsed =
      parse_status(read_fixture("v1.84.0-running-linux-two-expired-offline-peers.completed.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->peer_errors.empty());
  EXPECT_TRUE(parsed->health.empty());
  ASSERT_TRUE(parsed->self);
  EXPECT_EQ(parsed->self->relay, "hel");
  EXPECT_FALSE(parsed->self->expired);
  ASSERT_TRUE(parsed->self->key_expiry_unix_seconds);
  EXPECT_EQ(*parsed->self->key_expiry_unix_seconds, 1767716024);  // 2026-01-06T16:13:44Z
  auto peers = by_host(*parsed);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_TRUE(peers.at("localhost").expired);
  EXPECT_EQ(*peers.at("localhost").key_expiry_unix_seconds, 1752083916);  // 2025-07-09T17:58:36Z
  EXPECT_TRUE(peers.at("pgshospital").expired);
  EXPECT_EQ(*peers.at("pgshospital").key_expiry_unix_seconds, 1752077873);  // 2025-07-09T16:17:53Z
  EXPECT_EQ(tailnet_addresses(*parsed).size(), 3u) << "Self's and both peers' IPv4 addresses";
}

// KeyExpiry is absent for keys that never expire; Health carries tailscaled's warnings.
TEST(ParseStatus, KeyWithoutExpiryAndHealthMessages) {
  auto parsed = parse_status(read_fixture("v1.98.8-needslogin-linux-swift-test.json"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->health, std::vector<std::string>{"Tailscale is stopped."});
  ASSERT_TRUE(parsed->self);
  EXPECT_FALSE(parsed->self->key_expiry_unix_seconds);
  EXPECT_FALSE(parsed->self->expired);
  auto iphone =
      parse_status(read_fixture("v1.48.1-ios-headscale-direct-active-and-offline-peers.json"));
  ASSERT_TRUE(iphone) << iphone.error();
  for (const auto& peer : iphone->peers) EXPECT_FALSE(peer.key_expiry_unix_seconds) << peer.key;
}

// Newer tailscaled versions add fields and may add backend states: the parser reads what it
// knows and says nothing about the rest. Every published body (from 2020's pre-1.0 shape to
// 1.98.8, with fields such as CapMap, Tags, Location, ClientVersion, CertDomains that podpath
// does not read) parses without an error, and so does one whose state and fields no
// tailscaled has sent yet (a published body with three additions, made below).
TEST(ParseStatus, UnknownFieldsAndStatesAreNoError) {
  for (const char* file : {"v1.98.8-needslogin-linux-swift-test.json",
                           "v1.84.0-running-linux-two-expired-offline-peers.completed.json",
                           "v1.76.1-running-linux-peer-online-idle-derp-lax.json",
                           "v1.48.1-ios-headscale-direct-active-and-offline-peers.json",
                           "rockstor-v1.50.0-stopped.completed.json",
                           "v0.x-2020-legacy-tailaddr-keepalive-redacted.json"}) {
    auto parsed = parse_status(read_fixture(file));
    ASSERT_TRUE(parsed) << file << ": " << parsed.error();
    // The 2020 body's redacted addresses (100.94.00.000) are the only unreadable entries.
    if (std::string(file).starts_with("v0.x")) continue;
    EXPECT_TRUE(parsed->peer_errors.empty()) << file << ": " << parsed->peer_errors[0].error;
  }
  auto doc = nlohmann::json::parse(
      read_fixture("v1.84.0-running-linux-two-expired-offline-peers.completed.json"));
  doc["BackendState"] = "NoSuchStateYet";
  doc["SomeFutureField"] = {{"Nested", {1, 2, 3}}};
  for (auto& [key, peer] : doc["Peer"].items()) peer["FuturePeerField"] = "x";
  auto parsed = parse_status(doc.dump());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->backend_state, "NoSuchStateYet");
  EXPECT_EQ(parsed->peers.size(), 2u);
  EXPECT_TRUE(parsed->peer_errors.empty());
}

TEST(ParseStatus, BadKeyExpiryCostsOnlyThatPeer) {
  auto parsed = parse_status(R"({"Peer": {"nodekey:a": {"HostName": "a", "KeyExpiry": "soon"},
                                          "nodekey:b": {"HostName": "b", "Expired": true}}})");
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->peer_errors.size(), 1u);
  EXPECT_EQ(parsed->peer_errors[0].error, "KeyExpiry: \"soon\" is not an RFC 3339 time");
  ASSERT_EQ(parsed->peers.size(), 1u);
  EXPECT_TRUE(parsed->peers[0].expired);
}

TEST(DisplayName, PrefersHostNameThenDnsLabelThenKey) {
  PeerStatus peer;
  peer.key = "nodekey:ab";
  EXPECT_EQ(display_name(peer), "nodekey:ab");
  peer.dns_name = "lima-k3s-agent-2.tail4c9a2.ts.net.";
  EXPECT_EQ(display_name(peer), "lima-k3s-agent-2");
  peer.host_name = "lima-k3s-agent-2-host";
  EXPECT_EQ(display_name(peer), "lima-k3s-agent-2-host");
}

}  // namespace
}  // namespace podpath::tailscale
