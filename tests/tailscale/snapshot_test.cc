#include "tailscale/snapshot.h"

#include <gtest/gtest.h>

#include "metrics/exposition.h"
#include "tailscale/collector.h"
#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

using testing::read_testdata;
using Outcome = LocalApiResponse::Outcome;

LocalApiResponse answer(long status, std::string body) {
  return {Outcome::kOk, status, std::move(body), ""};
}
LocalApiResponse failed(std::string why) {
  return {Outcome::kFailed, 0, "", std::move(why)};
}
LocalApiResponse no_socket() {
  return {Outcome::kNoSocket, 0, "", "/run/ts.sock: No such file or directory"};
}

model::ClusterNode node(std::string name, std::string group, const char* internal,
                        const char* pod_cidr) {
  model::ClusterNode n;
  n.name = std::move(name);
  n.group = std::move(group);
  n.internal_addresses = {*model::Ipv4::parse(internal)};
  n.pod_cidr = *model::Ipv4Prefix::parse(pod_cidr);
  n.ready = true;
  return n;
}

model::PeerSet field_report_peers(std::uint64_t generation) {
  auto set = model::merge_peers(
      "lima-k3s-agent",
      std::vector{node("lima-k3s-agent", "lima", "100.84.12.34", "10.42.2.0/24"),
                  node("ip-172-26-2-70", "lightsail", "100.99.1.2", "10.42.0.0/24"),
                  node("ip-172-26-3-146", "lightsail", "100.71.5.6", "10.42.1.0/24"),
                  node("lima-k3s-agent-2", "lima", "100.98.7.8", "10.42.3.0/24"),
                  node("lima-k3s-agent-3", "lima", "100.117.9.10", "10.42.4.0/24"),
                  node("lima-k3s-agent-4", "lima", "100.90.11.12", "10.42.5.0/24")},
      {});
  set.generation = generation;
  return set;
}

Snapshot good_snapshot() {
  Fetched fetched{answer(200, read_testdata("status-field-report.json")),
                  answer(200, read_testdata("usermetrics.txt"))};
  return advance(Snapshot{}, fetched, field_report_peers(1), 1795669400);
}

TEST(Advance, GoodAnswerReplacesEverything) {
  Snapshot s = good_snapshot();
  EXPECT_EQ(s.availability, Availability::kAvailable);
  EXPECT_FALSE(s.stale());
  ASSERT_TRUE(s.status);
  EXPECT_EQ(s.mapping.peers.size(), 5u);
  EXPECT_EQ(s.peer_generation, 1u);
  ASSERT_TRUE(s.path_counters);
  EXPECT_EQ(s.path_counters->size(), 10u);
  EXPECT_EQ(s.last_success_unix_seconds, 1795669400);
  const MappedPeer* tokyo = s.find("ip-172-26-2-70", model::Family::kIpv4);
  ASSERT_NE(tokyo, nullptr);
  EXPECT_EQ(tokyo->path.transport, Transport::kDerp);
  EXPECT_EQ(tokyo->path.derp_region, "tok");
  EXPECT_EQ(s.find("pixel-7", model::Family::kIpv4), nullptr) << "not a cluster peer";
  EXPECT_EQ(s.find("ip-172-26-2-7", model::Family::kIpv4), nullptr);
}

TEST(Advance, FailuresKeepTheLastGoodStateMarkedStale) {
  const Snapshot good = good_snapshot();
  struct Case {
    const char* name;
    Fetched fetched;
    std::string error;
  };
  const Case cases[] = {
      {"refused",
       {failed("GET /localapi/v0/status: Connection refused"), std::nullopt},
       "status: GET /localapi/v0/status: Connection refused"},
      {"timeout",
       {failed("GET /localapi/v0/status: Operation timed out after 200 ms"), std::nullopt},
       "status: GET /localapi/v0/status: Operation timed out after 200 ms"},
      {"forbidden",
       {answer(403, "invalid localapi request\n"), std::nullopt},
       "status: HTTP 403: invalid localapi request "},
      {"garbage",
       {answer(200,
               "\x7f"
               "ELF garbage"),
        std::nullopt},
       "status: status is not valid JSON"},
      {"usermetrics broken",
       {answer(200, read_testdata("status-field-report.json")),
        answer(200, "tailscaled_inbound_packets_total 5\n")},
       "usermetrics: line 1: tailscaled_inbound_packets_total: sample without a path label"},
      {"usermetrics 500",
       {answer(200, read_testdata("status-field-report.json")), answer(500, "boom")},
       "usermetrics: HTTP 500: boom"},
  };
  for (const auto& c : cases) {
    Snapshot s = advance(good, c.fetched, field_report_peers(2), 1795669500);
    EXPECT_EQ(s.error, c.error) << c.name;
    EXPECT_TRUE(s.stale()) << c.name;
    EXPECT_EQ(s.availability, Availability::kAvailable) << c.name;
    EXPECT_EQ(s.status, good.status) << c.name;
    EXPECT_EQ(s.mapping, good.mapping) << c.name;
    EXPECT_EQ(s.path_counters, good.path_counters) << c.name;
    EXPECT_EQ(s.last_success_unix_seconds, 1795669400) << c.name;
    auto result = collect_snapshot(s);
    EXPECT_FALSE(result.success) << c.name;
    EXPECT_EQ(result.error, c.error) << c.name;
  }
}

TEST(Advance, RecoversAfterAFailure) {
  Snapshot stale = advance(good_snapshot(), {failed("refused"), std::nullopt},
                           field_report_peers(1), 1795669500);
  ASSERT_TRUE(stale.stale());
  Fetched fetched{answer(200, read_testdata("status-field-report.json")), answer(404, "")};
  Snapshot s = advance(stale, fetched, field_report_peers(1), 1795669600);
  EXPECT_FALSE(s.stale());
  EXPECT_EQ(s.last_success_unix_seconds, 1795669600);
  EXPECT_FALSE(s.path_counters) << "404: tailscaled without usermetrics";
  EXPECT_TRUE(collect_snapshot(s).success);
}

TEST(Advance, MissingSocketNeverSeenIsNotApplicable) {
  Snapshot s = advance(Snapshot{}, {no_socket(), std::nullopt}, field_report_peers(1), 1);
  EXPECT_EQ(s.availability, Availability::kNotApplicable);
  EXPECT_FALSE(s.status);
  EXPECT_TRUE(s.mapping.peers.empty());
  EXPECT_FALSE(s.stale());
  auto result = collect_snapshot(s);
  EXPECT_TRUE(result.success);
  EXPECT_TRUE(result.families.empty());
  EXPECT_FALSE(result.last_success_unix_seconds);
}

TEST(Advance, SocketGoneAfterItAnsweredIsAFailureKeepingTheLastState) {
  const Snapshot good = good_snapshot();
  Snapshot s = advance(good, {no_socket(), std::nullopt}, field_report_peers(1), 1795669600);
  EXPECT_EQ(s.availability, Availability::kAvailable);
  ASSERT_TRUE(s.stale());
  EXPECT_NE(s.error.find("is tailscaled running?"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("/run/ts.sock"), std::string::npos) << s.error;
  EXPECT_EQ(s.status, good.status);
  EXPECT_EQ(s.last_success_unix_seconds, good.last_success_unix_seconds);
  EXPECT_FALSE(collect_snapshot(s).success);
  // Still gone on the next poll: still a failure, not "not applicable".
  EXPECT_TRUE(advance(s, {no_socket(), std::nullopt}, field_report_peers(1), 1795669700).stale());
}

TEST(Advance, FailureBeforeAnySuccessHasNoData) {
  Snapshot s = advance(Snapshot{}, {failed("refused"), std::nullopt}, field_report_peers(1), 1);
  EXPECT_EQ(s.availability, Availability::kAvailable);
  EXPECT_TRUE(s.stale());
  EXPECT_FALSE(s.status);
  auto result = collect_snapshot(s);
  EXPECT_FALSE(result.success);
  ASSERT_EQ(result.families.size(), 1u);
  EXPECT_EQ(result.families[0].name, "podpath_tailscale_status_stale");
  EXPECT_EQ(result.families[0].metrics[0].value, 1);
  EXPECT_FALSE(result.last_success_unix_seconds);
}

TEST(Remap, FollowsANewPeerSetWithoutAskingAgain) {
  const Snapshot good = good_snapshot();
  auto fewer = model::merge_peers(
      "lima-k3s-agent",
      std::vector{node("lima-k3s-agent", "lima", "100.84.12.34", "10.42.2.0/24"),
                  node("ip-172-26-2-70", "lightsail", "100.99.1.2", "10.42.0.0/24")},
      {});
  fewer.generation = 7;
  Snapshot s = remap(good, fewer);
  EXPECT_EQ(s.peer_generation, 7u);
  ASSERT_EQ(s.mapping.peers.size(), 1u);
  EXPECT_EQ(s.mapping.peers[0].peer, "ip-172-26-2-70");
  EXPECT_EQ(s.mapping.unmapped_tailscale, 5u);
  EXPECT_EQ(s.last_success_unix_seconds, good.last_success_unix_seconds);
}

TEST(CollectSnapshot, ExpositionMatchesGolden) {
  auto result = collect_snapshot(good_snapshot());
  ASSERT_TRUE(result.success) << result.error;
  EXPECT_EQ(result.last_success_unix_seconds, 1795669400);
  testing::expect_golden(
      "field-report.prom",
      metrics::render(metrics::normalize(std::move(result.families)), metrics::Format::kText004));
}

TEST(CollectSnapshot, NotYetPolledReportsNothing) {
  auto result = collect_snapshot(Snapshot{});
  EXPECT_TRUE(result.success);
  EXPECT_TRUE(result.families.empty());
}

}  // namespace
}  // namespace podpath::tailscale
