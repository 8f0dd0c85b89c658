// The parsers over replies captured from a real kernel (tests/netlink/testdata/topology,
// made by capture.sh from topology.sh), checked against what iproute2 printed for the
// same state at the same moment, plus hand-built messages for the framing rules.
#include "netlink/parse.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <random>

#include "base/errno.h"
#include "netlink/kernel_peers.h"
#include "netlink/reader.h"
#include "testlib.h"

namespace podpath::netlink {
namespace {

const std::string kTopology = std::string(PODPATH_TESTDATA) + "/topology";

model::Ipv4 ip(const char* text) {
  return *model::Ipv4::parse(text);
}

KernelRead read_fixture() {
  testing::FixtureSource source(kTopology);
  return read_state(*source.open().value());
}

TEST(CapturedTopology, EveryDumpAgreesWithIproute2) {
  KernelRead read = read_fixture();
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_TRUE(read.problems.empty()) << read.problems.front();
  auto differences = testing::compare(read.snapshot, testing::load_iproute2(kTopology));
  for (const auto& d : differences) ADD_FAILURE() << d;
  EXPECT_GT(read.snapshot.routes.size(), 10u);
  EXPECT_GT(read.snapshot.fdb.size(), 5u);
}

TEST(CapturedTopology, LinksCarryKindStateMtuAndVxlanAttributes) {
  KernelRead read = read_fixture();
  ASSERT_TRUE(read.ok()) << read.error;
  const KernelSnapshot& s = read.snapshot;
  struct Want {
    const char* name;
    const char* kind;
    const char* operstate;
    std::uint32_t mtu;
  };
  for (const Want& want :
       {Want{"lo", "device", "unknown", 65536}, Want{"lima0", "veth", "up", 1500},
        Want{"ens5", "veth", "up", 9001}, Want{"cni0", "bridge", "up", 1450},
        Want{"flannel.1", "vxlan", "unknown", 1450}, Want{"vxlan-jumbo", "vxlan", "unknown", 8951},
        Want{"tailscale0", "tun", "up", 1280}, Want{"tun-idle", "tun", "down", 1280}}) {
    const Link* link = s.link_by_name(want.name);
    ASSERT_NE(link, nullptr) << want.name;
    EXPECT_EQ(link->kind, want.kind) << want.name;
    EXPECT_EQ(link->operstate, want.operstate) << want.name;
    EXPECT_EQ(link->mtu, want.mtu) << want.name;
  }
  const Link* flannel = s.link_by_name("flannel.1");
  ASSERT_TRUE(flannel->vxlan.has_value());
  EXPECT_EQ(flannel->vxlan->vni, 1u);
  EXPECT_EQ(flannel->vxlan->local, "192.168.105.2");
  EXPECT_EQ(flannel->vxlan->dstport, 8472);  // host order, unlike rtnl_link_vxlan_get_port
  EXPECT_EQ(flannel->vxlan->underlay_device, "lima0");
  EXPECT_EQ(flannel->vxlan->learning, false);
  EXPECT_EQ(flannel->mac, "32:f3:9e:5f:0e:68");
  const Link* jumbo = s.link_by_name("vxlan-jumbo");
  EXPECT_EQ(jumbo->vxlan->vni, 42u);
  EXPECT_EQ(jumbo->vxlan->dstport, 4789);
  EXPECT_EQ(jumbo->vxlan->underlay_device, "ens5");
  EXPECT_EQ(s.link_by_name("vethc0ffee01")->master_index, s.link_by_name("cni0")->index);
}

TEST(CapturedTopology, RouteLookupsMatchIproute2AndKeepTheTableAndErrno) {
  KernelRead read = read_fixture();
  ASSERT_TRUE(read.ok());
  testing::FixtureSource source(kTopology);
  auto session = source.open();
  ASSERT_TRUE(session.ok()) << session.error();
  auto expected = testing::load_iproute2(kTopology).route_get;
  std::map<std::string, RouteLookup> lookups;
  std::string error;
  for (auto destination : testing::topology_destinations()) {
    RouteLookup lookup = lookup_route(**session, destination, read.snapshot, error);
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_TRUE(expected.contains(destination.to_string()));
    for (const auto& d : testing::compare(lookup, expected[destination.to_string()]))
      ADD_FAILURE() << d;
    lookups[destination.to_string()] = lookup;
  }
  // The field report's "dev tailscale0 table 52": the servers' pod ranges ride the tailnet.
  EXPECT_EQ(lookups["10.42.0.0"].table, 52u);
  EXPECT_EQ(lookups["10.42.0.0"].device, "tailscale0");
  EXPECT_EQ(lookups["10.42.0.0"].prefsrc, ip("100.84.0.2"));
  EXPECT_EQ(lookups["10.42.3.0"].device, "flannel.1");
  EXPECT_EQ(lookups["10.42.3.0"].table, kTableMain);
  EXPECT_EQ(lookups["10.42.3.0"].gateway, ip("10.42.3.0"));
  EXPECT_EQ(lookups["172.26.2.70"].device, "lima0");
  EXPECT_EQ(lookups["203.0.113.9"].error, EHOSTUNREACH);  // an unreachable route
  EXPECT_EQ(lookups["203.0.113.9"].error_name, "EHOSTUNREACH");
  EXPECT_EQ(lookups["198.51.100.7"].error, ENETUNREACH);  // an unreachable policy rule
  EXPECT_EQ(lookups["198.51.100.7"].error_name, "ENETUNREACH");
  EXPECT_EQ(lookups["10.42.2.0"].table, kTableLocal);
  EXPECT_EQ(lookups["10.42.2.0"].type, "local");
}

TEST(CapturedTopology, TailscaleRulesAreReadWithMarksAndActions) {
  KernelRead read = read_fixture();
  ASSERT_TRUE(read.ok());
  std::map<std::uint32_t, Rule> rules;
  for (const auto& rule : read.snapshot.rules) rules[rule.priority] = rule;
  ASSERT_TRUE(rules.contains(5210) && rules.contains(5250) && rules.contains(5270));
  EXPECT_EQ(rules[5210].action, "lookup");
  EXPECT_EQ(rules[5210].table, kTableMain);
  EXPECT_EQ(rules[5210].fwmark, 0x80000u);
  EXPECT_EQ(rules[5210].fwmask, 0xff0000u);
  EXPECT_EQ(rules[5250].action, "unreachable");
  EXPECT_EQ(rules[5260].destination, model::Ipv4Prefix::parse("198.51.100.0/24"));
  EXPECT_EQ(rules[5270].table, 52u);
  EXPECT_FALSE(rules[5270].fwmark.has_value());
  EXPECT_EQ(rules[32766].table, kTableMain);
}

TEST(CapturedTopology, FlannelPeersComeFromRoutesNeighboursAndFdbAlone) {
  KernelRead read = read_fixture();
  ASSERT_TRUE(read.ok());
  auto peers = kernel_peers(read.snapshot, std::regex("flannel\\.[0-9]+"));
  ASSERT_EQ(peers.size(), 6u);
  struct Want {
    const char* subnet;
    const char* mac;
    const char* vtep;
  };
  const Want wants[] = {{"10.42.0.0/24", "32:f3:9e:5f:0e:00", "172.26.2.70"},
                        {"10.42.1.0/24", "32:f3:9e:5f:0e:01", "172.26.3.146"},
                        {"10.42.3.0/24", "32:f3:9e:5f:0e:03", "192.168.105.3"},
                        {"10.42.5.0/24", "32:f3:9e:5f:0e:05", "203.0.113.9"},
                        {"10.42.6.0/24", "32:f3:9e:5f:0e:06", "198.51.100.7"},
                        {"10.42.7.0/24", "32:f3:9e:5f:0e:07", nullptr}};
  for (std::size_t i = 0; i < peers.size(); ++i) {
    EXPECT_EQ(peers[i].pod_subnet.to_string(), wants[i].subnet);
    EXPECT_EQ(peers[i].gateway, peers[i].pod_subnet.address());
    EXPECT_EQ(peers[i].vtep_mac, wants[i].mac);
    EXPECT_EQ(peers[i].device, "flannel.1");
    if (wants[i].vtep != nullptr)
      EXPECT_EQ(peers[i].vtep_address, ip(wants[i].vtep));
    else
      EXPECT_FALSE(peers[i].vtep_address.has_value()) << "no FDB entry for 10.42.7.0's MAC";
  }
  // Another device pattern sees none of them.
  EXPECT_TRUE(kernel_peers(read.snapshot, std::regex("flannel\\.2")).empty());
}

TEST(CapturedTopology, SnapshotsOfTheSameStateCompareEqual) {
  EXPECT_EQ(read_fixture().snapshot, read_fixture().snapshot);
}

// Every prefix of every captured reply: parsing stops at the cut and says so, never
// reads past it (ASan would tell) and never invents entries.
TEST(Robustness, TruncatedRepliesAreReportedNotMisread) {
  for (const char* name : {"links", "routes", "rules", "neighbours", "fdb"}) {
    Bytes whole = testing::read_bytes(kTopology + "/" + name + ".bin");
    ASSERT_FALSE(whole.empty()) << name;
    std::size_t full_links = parse_links(whole).items.size();
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
      Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
      ReplyStatus status = scan_reply(part);
      EXPECT_FALSE(status.complete) << name << " cut at " << cut;
      auto links = parse_links(part);
      EXPECT_LE(links.items.size(), full_links);
      parse_routes(part);
      parse_rules(part);
      parse_neighbours(part);
      parse_fdb(part);
    }
  }
}

TEST(Robustness, CorruptedBytesNeverCrashTheParsers) {
  std::mt19937 random(4);  // fixed seed: the same corruptions every run
  for (const char* name :
       {"links", "routes", "rules", "neighbours", "fdb", "route-get-10.42.0.0"}) {
    Bytes whole = testing::read_bytes(kTopology + "/" + name + ".bin");
    for (int round = 0; round < 300; ++round) {
      Bytes bytes = whole;
      for (int flips = 0; flips < 4; ++flips)
        bytes[random() % bytes.size()] = static_cast<std::uint8_t>(random());
      scan_reply(bytes);
      parse_links(bytes);
      parse_routes(bytes);
      parse_rules(bytes);
      parse_neighbours(bytes);
      parse_fdb(bytes);
      parse_route_lookup(bytes, ip("10.42.0.0"));
    }
  }
}

// Hand-built framing messages.
Bytes message(std::uint16_t type, std::uint16_t flags, const void* payload, std::size_t length) {
  Bytes bytes(NLMSG_HDRLEN + length, 0);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_HDRLEN + length);
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  std::memcpy(bytes.data(), &header, sizeof header);
  if (length > 0) std::memcpy(bytes.data() + NLMSG_HDRLEN, payload, length);
  Bytes reply;
  append_message(reply, bytes);
  return reply;
}

Bytes error_message(int error) {
  nlmsgerr payload{};
  payload.error = -error;
  return message(NLMSG_ERROR, 0, &payload, sizeof payload);
}

TEST(Framing, ErrorsAreKeptAsErrnoValues) {
  RouteLookup lookup = parse_route_lookup(error_message(ENETUNREACH), ip("10.0.0.1"));
  EXPECT_EQ(lookup.error, ENETUNREACH);
  EXPECT_EQ(lookup.error_name, "ENETUNREACH");
  EXPECT_EQ(lookup.destination, ip("10.0.0.1"));
  EXPECT_FALSE(lookup.ok());
  // A bare acknowledgement without a route is not an answer.
  EXPECT_EQ(parse_route_lookup(error_message(0), ip("10.0.0.1")).error_name, "EBADMSG");
  EXPECT_EQ(parse_route_lookup({}, ip("10.0.0.1")).error_name, "EBADMSG");
  // The kernel sends -errno; a positive value or INT_MIN is a malformed reply, not a negative
  // errno or an overflow (fuzz/regressions/netlink).
  for (int malformed : {EINVAL, std::numeric_limits<int>::min(), -100000}) {
    nlmsgerr payload{};
    payload.error = malformed;
    Bytes reply = message(NLMSG_ERROR, 0, &payload, sizeof payload);
    EXPECT_EQ(scan_reply(reply).error, EBADMSG) << malformed;
    EXPECT_EQ(parse_route_lookup(reply, ip("10.0.0.1")).error_name, "EBADMSG") << malformed;
  }
}

TEST(Framing, DoneCarriesADumpError) {
  int error = -EINVAL;
  ReplyStatus status = scan_reply(message(NLMSG_DONE, NLM_F_MULTI, &error, sizeof error));
  EXPECT_TRUE(status.complete);
  EXPECT_EQ(status.error, EINVAL);
  int overflow = std::numeric_limits<int>::min();
  EXPECT_EQ(scan_reply(message(NLMSG_DONE, NLM_F_MULTI, &overflow, sizeof overflow)).error,
            EBADMSG);
  int ok = 0;
  status = scan_reply(message(NLMSG_DONE, NLM_F_MULTI, &ok, sizeof ok));
  EXPECT_TRUE(status.complete);
  EXPECT_EQ(status.error, 0);
  EXPECT_FALSE(status.interrupted);
}

TEST(Framing, InterruptedDumpsAreRetriedABoundedNumberOfTimes) {
  int zero = 0;
  Bytes interrupted = message(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, &zero, sizeof zero);
  Bytes clean = message(NLMSG_DONE, NLM_F_MULTI, &zero, sizeof zero);
  EXPECT_TRUE(scan_reply(interrupted).interrupted);

  int calls = 0;
  Reply reply = dump_with_retry([&] { return Reply{++calls < 3 ? interrupted : clean, {}}; });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(reply.attempts, 3);
  EXPECT_TRUE(reply.error.empty());
  EXPECT_FALSE(scan_reply(reply.bytes).interrupted);

  calls = 0;
  reply = dump_with_retry([&] { return Reply{(++calls, interrupted), {}}; });
  EXPECT_EQ(calls, kDumpAttempts);
  EXPECT_NE(reply.error.find("NLM_F_DUMP_INTR"), std::string::npos) << reply.error;

  calls = 0;  // a transport error is not retried
  reply = dump_with_retry([&] { return Reply{{}, (++calls, "receive: timeout")}; });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reply.error, "receive: timeout");
}

TEST(Framing, ReadStateFailsOnAnIncompleteDump) {
  class Truncating final : public KernelSession {
   public:
    Reply dump(Dump what) override {
      Bytes bytes = testing::read_bytes(kTopology + "/" + std::string(to_string(what)) + ".bin");
      if (what == Dump::kRoutes) bytes.resize(bytes.size() / 2);
      return {bytes, {}};
    }
    Reply route_get(const model::IpAddress&) override { return {{}, "unused"}; }
  } session;
  KernelRead read = read_state(session);
  EXPECT_FALSE(read.ok());
  EXPECT_NE(read.error.find("routes dump"), std::string::npos) << read.error;
}

TEST(Names, AreTheOnesOperatorsKnow) {
  EXPECT_EQ(table_name(254), "main");
  EXPECT_EQ(table_name(255), "local");
  EXPECT_EQ(table_name(253), "default");
  EXPECT_EQ(table_name(52), "52");
  EXPECT_EQ(operstate_name(6), "up");
  EXPECT_EQ(operstate_name(2), "down");
  EXPECT_EQ(operstate_name(200), "operstate-200");
  EXPECT_EQ(base::errno_name(EHOSTUNREACH), "EHOSTUNREACH");
  EXPECT_EQ(base::errno_name(0), "");
  EXPECT_EQ(rule_action_name(1), "lookup");
  EXPECT_EQ(route_type_name(RTN_UNREACHABLE), "unreachable");
  const std::uint8_t mac[] = {0x32, 0xf3, 0x9e, 0x5f, 0x0e, 0x68};
  EXPECT_EQ(mac_to_string(mac), "32:f3:9e:5f:0e:68");
}

}  // namespace
}  // namespace podpath::netlink
