// The collector over a fake reader: a node without WireGuard exports nothing and succeeds; a
// device that cannot be read fails the scrape and keeps the last good series.
#include "wireguard/collector.h"

#include <gtest/gtest.h>

#include <map>

namespace podpath::wireguard {
namespace {

struct FakeReader final : DeviceReader {
  std::map<std::string, ReadOutcome> outcomes;  // absent when not listed
  ReadOutcome read(const std::string& device) override {
    auto it = outcomes.find(device);
    return it == outcomes.end() ? ReadOutcome{} : it->second;
  }
};

ReadOutcome read_of(Device device, Interface interface) {
  ReadOutcome out;
  out.kind = ReadOutcome::Kind::kRead;
  out.interface = interface;
  out.read.device = std::move(device);
  out.read.complete = true;
  return out;
}

class WireguardCollectorTest : public ::testing::Test {
 protected:
  WireguardCollectorTest()
      : peers_("server-0"),
        log_(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {}) {
    model::ClusterNode node;
    node.name = "agent-1";
    node.pod_cidr = model::Ipv4Prefix::parse("10.42.1.0/24");
    peers_.set_cluster_nodes({node});
  }

  std::unique_ptr<WireguardCollector> collector(FakeReader*& fake) {
    auto reader = std::make_unique<FakeReader>();
    fake = reader.get();
    return std::make_unique<WireguardCollector>(
        std::move(reader), std::vector<std::string>{"flannel-wg", "flannel-wg-v6"}, peers_, log_,
        [this] { return now_; });
  }

  model::PeerRegistry peers_;
  base::Logger log_;
  std::chrono::system_clock::time_point now_{std::chrono::seconds(1700000000)};
};

TEST_F(WireguardCollectorTest, NoWireGuardDeviceIsNoFailureAndNoSeries) {
  FakeReader* fake = nullptr;
  auto c = collector(fake);
  auto result = c->collect();
  EXPECT_TRUE(result.success);
  EXPECT_TRUE(result.families.empty());
  ASSERT_TRUE(c->latest());
  EXPECT_TRUE(c->latest()->devices.empty());
}

TEST_F(WireguardCollectorTest, AFailedReadKeepsTheLastGoodSeries) {
  FakeReader* fake = nullptr;
  auto c = collector(fake);
  Peer p;
  p.public_key = "9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=";
  p.allowed_ips.push_back(*model::IpPrefix::parse("10.42.1.0/24"));
  p.tx_bytes = 100;
  fake->outcomes["flannel-wg"] = read_of(Device{"flannel-wg", "", 51820, 0, {p}}, Interface::kUapi);
  auto good = c->collect();
  ASSERT_TRUE(good.success);
  ASSERT_FALSE(good.families.empty());
  EXPECT_EQ(c->latest()->peers.size(), 1u);

  ReadOutcome refused;
  refused.kind = ReadOutcome::Kind::kFailed;
  refused.error = "connect /var/run/wireguard/flannel-wg.sock: ECONNREFUSED";
  fake->outcomes["flannel-wg"] = refused;
  auto bad = c->collect();
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.error, refused.error);
  EXPECT_EQ(bad.families.size(), good.families.size());
  EXPECT_EQ(bad.last_success_unix_seconds, 1700000000);
  EXPECT_EQ(c->latest()->peers.size(), 1u);  // the analysis keeps the last read too
}

TEST_F(WireguardCollectorTest, TheNextReadKnowsWhatWasSentSinceThePrevious) {
  FakeReader* fake = nullptr;
  auto c = collector(fake);
  Peer p;
  p.public_key = "9/UR4cQK2SKAnldg5d1JWfvJudSrNkobyE9lS2EcfRo=";
  p.allowed_ips.push_back(*model::IpPrefix::parse("10.42.1.0/24"));
  p.tx_bytes = 148;
  fake->outcomes["flannel-wg"] =
      read_of(Device{"flannel-wg", "", 51820, 0, {p}}, Interface::kNetlink);
  c->collect();
  p.tx_bytes = 296;
  fake->outcomes["flannel-wg"] =
      read_of(Device{"flannel-wg", "", 51820, 0, {p}}, Interface::kNetlink);
  now_ += std::chrono::seconds(15);
  c->collect();
  EXPECT_EQ(*c->latest()->peers[0].tx_since_previous, 148u);
}

}  // namespace
}  // namespace podpath::wireguard
