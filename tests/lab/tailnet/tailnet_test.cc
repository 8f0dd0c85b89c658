// Unit tests of the tailnet emulator's pure parts: configuration, WireGuard-style routing,
// the LocalAPI's HTTP rules and the Status it reports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config.h"
#include "localapi.h"
#include "relay.h"
#include "status.h"

namespace podpath::lab {
namespace {

// Two sites as in the field report: a server, two home agents; the agents accept the
// server's pod route, the server accepts theirs.
Config FieldReport(bool subnet_routes) {
  nlohmann::json doc = {{"default_pair", {{"mode", "derp"}, {"delay_ms", 50}}},
                        {"nodes",
                         {{{"name", "server"},
                           {"netns", "/run/netns/s"},
                           {"ips", {"100.99.0.1"}},
                           {"endpoint", "203.0.113.10:41641"},
                           {"advertise_routes", subnet_routes ? nlohmann::json{"10.42.0.0/24"}
                                                              : nlohmann::json::array()},
                           {"accept_routes_from", subnet_routes ? nlohmann::json{"home1", "home2"}
                                                                : nlohmann::json::array()}},
                          {{"name", "home1"},
                           {"netns", "/run/netns/h1"},
                           {"ips", {"100.84.0.1"}},
                           {"endpoint", "198.51.100.12:41641"},
                           {"advertise_routes", subnet_routes ? nlohmann::json{"10.42.2.0/24"}
                                                              : nlohmann::json::array()},
                           {"accept_routes_from",
                            subnet_routes ? nlohmann::json{"server"} : nlohmann::json::array()}},
                          {{"name", "home2"},
                           {"netns", "/run/netns/h2"},
                           {"ips", {"100.98.0.1"}},
                           {"endpoint", "198.51.100.13:41641"}}}},
                        {"pairs",
                         {{{"a", "server"}, {"b", "home1"}, {"mode", "direct"}, {"delay_ms", 11.5}},
                          {{"a", "server"}, {"b", "home2"}, {"mode", "blocked"}}}}};
  return ParseConfig(doc);
}

std::vector<uint8_t> IPv4Packet(const char* src, const char* dst) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  uint32_t s = *ParseIPv4(src), d = *ParseIPv4(dst);
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
    p[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
  }
  return p;
}

TEST(Prefix, ParsesAndNormalises) {
  EXPECT_EQ(ParsePrefix("10.42.3.7/24").ToString(), "10.42.3.0/24");
  EXPECT_EQ(ParsePrefix("100.84.0.1").ToString(), "100.84.0.1/32");
  EXPECT_TRUE(ParsePrefix("0.0.0.0/0").Contains(*ParseIPv4("8.8.8.8")));
  EXPECT_THROW(ParsePrefix("10.42.0.0/33"), std::invalid_argument);
  EXPECT_THROW(ParsePrefix("10.42.0/24"), std::invalid_argument);
}

std::vector<uint8_t> IPv6Packet(const char* src, const char* dst) {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60;
  auto s = *ParseIPv6(src), d = *ParseIPv6(dst);
  std::copy(s.begin(), s.end(), p.begin() + 8);
  std::copy(d.begin(), d.end(), p.begin() + 24);
  return p;
}

TEST(Prefix, ParsesAndNormalisesIPv6) {
  EXPECT_EQ(ParsePrefix("2001:cafe:42:3::7/64").ToString(), "2001:cafe:42:3::/64");
  EXPECT_EQ(ParsePrefix("fd7a:115c:a1e0::5401").ToString(), "fd7a:115c:a1e0::5401/128");
  EXPECT_EQ(ParsePrefix("fd7a:115c:a1e0::5401").AddressString(), "fd7a:115c:a1e0::5401");
  EXPECT_EQ(ParsePrefix("2001:cafe:42::/57").ToString(), "2001:cafe:42::/57");
  EXPECT_TRUE(ParsePrefix("2001:cafe:42:2::/64").Contains(*ParseIPv6("2001:cafe:42:2::9")));
  EXPECT_FALSE(ParsePrefix("2001:cafe:42:2::/64").Contains(*ParseIPv6("2001:cafe:42:3::9")));
  EXPECT_TRUE(ParsePrefix("2001:cafe:42::/56").Contains(*ParseIPv6("2001:cafe:42:ff::1")));
  EXPECT_FALSE(ParsePrefix("2001:cafe:42::/57").Contains(*ParseIPv6("2001:cafe:42:80::1")));
  // The families never match each other, whatever the bits.
  EXPECT_FALSE(ParsePrefix("::/0").Contains(*ParseIPv4("10.42.0.5")));
  EXPECT_FALSE(ParsePrefix("0.0.0.0/0").Contains(*ParseIPv6("::a2a:5")));
  EXPECT_THROW(ParsePrefix("2001:cafe:42::/129"), std::invalid_argument);
  EXPECT_THROW(ParsePrefix("2001:cafe:42:::/64"), std::invalid_argument);
}

TEST(Router, CarriesIPv6LikeIPv4) {
  // A dual-stack tailnet: each node holds a 100.x and an fd7a:115c:a1e0:: address, the
  // server advertises both of its pod CIDRs and home1 accepts them.
  nlohmann::json doc = {
      {"default_pair", {{"mode", "direct"}, {"delay_ms", 11.5}}},
      {"nodes",
       {{{"name", "server"},
         {"netns", "/s"},
         {"ips", {"100.99.0.1", "fd7a:115c:a1e0::6301"}},
         {"advertise_routes", {"10.42.0.0/24", "2001:cafe:42::/64"}}},
        {{"name", "home1"},
         {"netns", "/h1"},
         {"ips", {"100.84.0.1", "fd7a:115c:a1e0::5401"}},
         {"accept_routes_from", {"server"}}},
        {{"name", "home2"}, {"netns", "/h2"}, {"ips", {"100.98.0.1", "fd7a:115c:a1e0::6201"}}}}}};
  Config c = ParseConfig(doc);
  Router r(c);
  std::mt19937_64 rng(1);
  Verdict v = r.Route(1, IPv6Packet("fd7a:115c:a1e0::5401", "2001:cafe:42::"), rng);
  EXPECT_EQ(v.drop, DropReason::kNone);
  EXPECT_EQ(v.to, 0u);
  EXPECT_DOUBLE_EQ(v.delay_ms, 11.5);
  v = r.Route(0, IPv6Packet("fd7a:115c:a1e0::6301", "fd7a:115c:a1e0::6201"), rng);
  EXPECT_EQ(v.drop, DropReason::kNone);
  EXPECT_EQ(v.to, 2u);
  // home2 accepts no routes: the server's IPv6 pod CIDR is not routable from it.
  EXPECT_EQ(r.Route(2, IPv6Packet("fd7a:115c:a1e0::6201", "2001:cafe:42::"), rng).drop,
            DropReason::kNoPeer);
  // The server's reply from a pod address home1's AllowedIPs for it hold: accepted. From a
  // pod address of another /64: cryptokey routing drops it.
  EXPECT_EQ(r.Route(0, IPv6Packet("2001:cafe:42::", "fd7a:115c:a1e0::5401"), rng).drop,
            DropReason::kNone);
  EXPECT_EQ(r.Route(0, IPv6Packet("2001:cafe:42:9::", "fd7a:115c:a1e0::5401"), rng).drop,
            DropReason::kSourceCheck);
  // LocalAPI: both addresses, IPv4 first, as tailscaled lists them.
  Traffic t;
  WallTime now{};
  auto st = nlohmann::json::parse(BuildStatus(c, 1, t, true, now, now));
  EXPECT_EQ(st["TailscaleIPs"], nlohmann::json({"100.84.0.1", "fd7a:115c:a1e0::5401"}));
  EXPECT_EQ(st["Self"]["TailscaleIPs"], st["TailscaleIPs"]);
}

TEST(Config, RejectsUnknownNodesAndModes) {
  nlohmann::json doc = {{"nodes", {{{"name", "a"}, {"netns", "x"}, {"ips", {"100.64.0.1"}}}}},
                        {"pairs", {{{"a", "a"}, {"b", "ghost"}}}}};
  EXPECT_THROW(ParseConfig(doc), std::runtime_error);
  doc["pairs"] = nlohmann::json::array();
  doc["default_pair"] = {{"mode", "teleport"}};
  EXPECT_THROW(ParseConfig(doc), std::runtime_error);
}

TEST(Router, RoutesByAllowedIPsWithPairModes) {
  Config c = FieldReport(/*subnet_routes=*/true);
  Router r(c);
  std::mt19937_64 rng(1);
  // home1 -> server's pod CIDR: accepted route, direct 11.5 ms.
  auto p = IPv4Packet("100.84.0.1", "10.42.0.5");
  Verdict v = r.Route(1, p, rng);
  EXPECT_EQ(v.drop, DropReason::kNone);
  EXPECT_EQ(v.to, 0u);
  EXPECT_EQ(v.mode, PathMode::kDirect);
  EXPECT_DOUBLE_EQ(v.delay_ms, 11.5);
  // home1 -> home2: unlisted pair, the default (DERP, 50 ms).
  p = IPv4Packet("100.84.0.1", "100.98.0.1");
  v = r.Route(1, p, rng);
  EXPECT_EQ(v.mode, PathMode::kDerp);
  EXPECT_DOUBLE_EQ(v.delay_ms, 50);
  // server -> home2 is blocked.
  p = IPv4Packet("100.99.0.1", "100.98.0.1");
  EXPECT_EQ(r.Route(0, p, rng).drop, DropReason::kBlocked);
  // home2 accepts no routes: a pod CIDR is not routable from it.
  p = IPv4Packet("100.98.0.1", "10.42.0.5");
  EXPECT_EQ(r.Route(2, p, rng).drop, DropReason::kNoPeer);
}

TEST(Router, ReceiverChecksTheSourceLikeWireGuard) {
  Config c = FieldReport(/*subnet_routes=*/false);
  Router r(c);
  std::mt19937_64 rng(1);
  // A VXLAN capsule from the server's VPC address to a home VTEP on the tailnet: sent, then
  // dropped by home1 because 172.26.2.70 is not in the server's AllowedIPs (report §1).
  auto p = IPv4Packet("172.26.2.70", "100.84.0.1");
  Verdict v = r.Route(0, p, rng);
  EXPECT_TRUE(v.sent);
  EXPECT_EQ(v.drop, DropReason::kSourceCheck);
  std::vector<uint8_t> other(40, 0);
  other[0] = 0x50;  // neither version 4 nor 6
  EXPECT_EQ(r.Route(0, other, rng).drop, DropReason::kNotIP);
  std::vector<uint8_t> short_v6(39, 0);
  short_v6[0] = 0x60;
  EXPECT_EQ(r.Route(0, short_v6, rng).drop, DropReason::kMalformed);
}

HttpRequest Parse(const std::string& text) {
  HttpRequest req;
  size_t used = 0;
  EXPECT_EQ(ParseRequest(text, req, used), ParseStatus::kComplete) << text;
  return req;
}

TEST(LocalAPI, EnforcesTailscaledsRequestRules) {
  LocalAPIHandlers h{[](bool peers) { return peers ? std::string("peers") : std::string("self"); },
                     [] { return std::string("metrics"); }};
  auto status = [&](const std::string& headers, const std::string& target = "/localapi/v0/status") {
    return HandleLocalAPI(Parse("GET " + target + " HTTP/1.1\r\n" + headers + "\r\n"), h);
  };
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\n").status, 200);
  EXPECT_EQ(status("Host:\r\n").status, 200);
  EXPECT_EQ(status("").status, 400);  // Go: HTTP/1.1 without Host
  auto forbidden = status("Host: example.com\r\n");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.body, "invalid localapi request\n");
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\nOrigin: http://x\r\n").status, 403);
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\nReferer: http://x/\r\n").status, 403);
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\n", "/localapi/v0/status?peers=false").body,
            "self");
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\n", "/localapi/v0/usermetrics").body, "metrics");
  EXPECT_EQ(status("Host: local-tailscaled.sock\r\n", "/localapi/v0/nope").status, 404);
}

TEST(LocalAPI, ParsesPipelinedRequestsAndRejectsGarbage) {
  std::string two =
      "GET /a HTTP/1.1\r\nHost:\r\n\r\nGET /b HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n";
  HttpRequest req;
  size_t used = 0;
  ASSERT_EQ(ParseRequest(two, req, used), ParseStatus::kComplete);
  EXPECT_EQ(req.path, "/a");
  EXPECT_TRUE(req.keep_alive);
  ASSERT_EQ(ParseRequest(std::string_view(two).substr(used), req, used), ParseStatus::kComplete);
  EXPECT_EQ(req.path, "/b");
  EXPECT_FALSE(req.keep_alive);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nHost:", req, used), ParseStatus::kIncomplete);
  EXPECT_EQ(ParseRequest("NONSENSE\r\n\r\n", req, used), ParseStatus::kBad);
}

TEST(Status, ReportsPathsAndCountersPerPeer) {
  Config c = FieldReport(/*subnet_routes=*/true);
  Traffic t;
  WallTime now = std::chrono::system_clock::now();
  RecordSend(t, "home1", "server", PathMode::kDirect, 100, now);
  RecordReceive(t, "home1", "server", PathMode::kDirect, 100, now);
  auto st = nlohmann::json::parse(BuildStatus(c, 1, t, true, now, now));
  EXPECT_EQ(st["BackendState"], "Running");
  EXPECT_EQ(st["Self"]["PrimaryRoutes"], nlohmann::json({"10.42.2.0/24"}));
  std::map<std::string, nlohmann::json> by_host;
  for (auto& [key, peer] : st["Peer"].items()) {
    EXPECT_EQ(key, peer["PublicKey"]);
    EXPECT_EQ(key.rfind("nodekey:", 0), 0u);
    by_host[peer["HostName"]] = peer;
  }
  EXPECT_EQ(by_host["server"]["CurAddr"], "203.0.113.10:41641");
  EXPECT_EQ(by_host["server"]["TxBytes"], 100);
  EXPECT_EQ(by_host["server"]["Active"], true);
  EXPECT_EQ(by_host["server"]["DNSName"], "server.tail0000.ts.net.");
  EXPECT_EQ(by_host["home2"]["CurAddr"], "");  // relayed
  EXPECT_EQ(by_host["home2"]["Relay"], "tok");
  EXPECT_EQ(by_host["home2"]["LastHandshake"], "0001-01-01T00:00:00Z");
  EXPECT_TRUE(nlohmann::json::parse(BuildStatus(c, 1, t, false, now, now))["Peer"].is_null());

  std::string m = BuildUserMetrics(c, 1, t);
  EXPECT_NE(m.find("tailscaled_outbound_packets_total{path=\"direct_ipv4\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("tailscaled_inbound_packets_total{path=\"derp\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("tailscaled_advertised_routes 1\n"), std::string::npos);
}

// A pair that never completes a handshake: the sender's tailscaled keeps sending (TxBytes
// grows, the peer is Active) but nothing arrives, CurAddr stays empty and LastHandshake stays
// at Go's zero time, so `tailscale status` shows `active; relay "tok"`.
TEST(Status, NoHandshakePairSendsAndNothingArrives) {
  nlohmann::json doc = {{"default_pair", {{"mode", "derp"}, {"delay_ms", 50}}},
                        {"nodes",
                         {{{"name", "server"}, {"netns", "/s"}, {"ips", {"100.99.0.1"}}},
                          {{"name", "home1"}, {"netns", "/h1"}, {"ips", {"100.84.0.1"}}}}},
                        {"pairs", {{{"a", "server"}, {"b", "home1"}, {"mode", "no-handshake"}}}}};
  Config c = ParseConfig(doc);
  Router r(c);
  std::mt19937_64 rng(1);
  Verdict v = r.Route(0, IPv4Packet("100.99.0.1", "100.84.0.1"), rng);
  EXPECT_TRUE(v.sent);
  EXPECT_EQ(v.drop, DropReason::kNoHandshake);
  Traffic t;
  WallTime now = std::chrono::system_clock::now();
  // Even a handshake from before the pair broke is not shown.
  RecordSend(t, "server", "home1", PathMode::kDirect, 10, now - std::chrono::minutes(5));
  RecordSend(t, "server", "home1", v.mode, 100, now);
  auto st = nlohmann::json::parse(BuildStatus(c, 0, t, true, now, now));
  auto peer = st["Peer"].begin().value();
  EXPECT_EQ(peer["HostName"], "home1");
  EXPECT_EQ(peer["TxBytes"], 110);
  EXPECT_EQ(peer["Active"], true);
  EXPECT_EQ(peer["CurAddr"], "");
  EXPECT_EQ(peer["Relay"], "tok");
  EXPECT_EQ(peer["LastHandshake"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(t["server"].peers["home1"].rx_bytes, 0u);
}

// Node keys: KeyExpiry on every node that has one, Expired on the expired node as its peers
// see it, NeedsLogin on the expired node itself, and no traffic either way.
TEST(Status, ExpiredNodeKey) {
  nlohmann::json doc = {
      {"nodes",
       {{{"name", "server"}, {"netns", "/s"}, {"ips", {"100.99.0.1"}}, {"key_expiry", 1767716024}},
        {{"name", "home1"},
         {"netns", "/h1"},
         {"ips", {"100.84.0.1"}},
         {"key_expiry", 1752083916},
         {"expired", true}},
        {{"name", "tagged"}, {"netns", "/t"}, {"ips", {"100.64.0.9"}}}}},
      {"pairs", {{{"a", "server"}, {"b", "home1"}, {"mode", "direct"}}}}};
  Config c = ParseConfig(doc);
  Router r(c);
  std::mt19937_64 rng(1);
  Verdict v = r.Route(0, IPv4Packet("100.99.0.1", "100.84.0.1"), rng);
  EXPECT_FALSE(v.sent);
  EXPECT_EQ(v.drop, DropReason::kKeyExpired);
  EXPECT_EQ(r.Route(1, IPv4Packet("100.84.0.1", "100.99.0.1"), rng).drop, DropReason::kKeyExpired);
  EXPECT_EQ(r.Route(0, IPv4Packet("100.99.0.1", "100.64.0.9"), rng).drop, DropReason::kNone);

  Traffic t;
  WallTime now = std::chrono::system_clock::now();
  RecordSend(t, "server", "home1", PathMode::kDirect, 100, now);  // before it expired
  auto st = nlohmann::json::parse(BuildStatus(c, 0, t, true, now, now));
  EXPECT_EQ(st["BackendState"], "Running");
  EXPECT_EQ(st["Self"]["KeyExpiry"], "2026-01-06T16:13:44Z");
  EXPECT_FALSE(st["Self"].contains("Expired"));
  std::map<std::string, nlohmann::json> by_host;
  for (auto& [key, peer] : st["Peer"].items()) by_host[peer["HostName"]] = peer;
  EXPECT_EQ(by_host["home1"]["Expired"], true);
  EXPECT_EQ(by_host["home1"]["KeyExpiry"], "2025-07-09T17:58:36Z");
  EXPECT_EQ(by_host["home1"]["CurAddr"], "");
  EXPECT_EQ(by_host["home1"]["Active"], false);
  EXPECT_FALSE(by_host["tagged"].contains("KeyExpiry"));  // omitempty: never expires
  EXPECT_FALSE(by_host["tagged"].contains("Expired"));

  auto home = nlohmann::json::parse(BuildStatus(c, 1, t, true, now, now));
  EXPECT_EQ(home["BackendState"], "NeedsLogin");
  EXPECT_EQ(home["Self"]["KeyExpiry"], "2025-07-09T17:58:36Z");
}

}  // namespace
}  // namespace podpath::lab
