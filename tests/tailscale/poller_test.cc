// The poller end to end on this machine: the real libcurl client against the fake tailscaled,
// the peer registry, and the collector's output. The lab (tests/lab) repeats the direct/DERP
// switch against its tailnet emulator.
#include "tailscale/poller.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_localapi.h"
#include "metrics/exposition.h"
#include "tailscale/collector.h"
#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

using testing::FakeLocalApi;
using namespace std::chrono_literals;

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

std::vector<model::ClusterNode> field_report_nodes() {
  return {node("lima-k3s-agent", "lima", "100.84.12.34", "10.42.2.0/24"),
          node("ip-172-26-2-70", "lightsail", "100.99.1.2", "10.42.0.0/24"),
          node("lima-k3s-agent-2", "lima", "100.98.7.8", "10.42.3.0/24")};
}

// The field-report status with the Tokyo server's path switched: direct or DERP.
std::string status_with_tokyo(bool direct) {
  auto doc = nlohmann::json::parse(testing::read_testdata("status-field-report.json"));
  for (auto& [key, peer] : doc["Peer"].items()) {
    if (peer["HostName"] != "ip-172-26-2-70") continue;
    peer["CurAddr"] = direct ? "172.26.2.70:41641" : "";
  }
  return doc.dump();
}

std::string transport_of(const Snapshot& s, const std::string& peer) {
  const MappedPeer* m = s.find(peer, model::Family::kIpv4);
  return m == nullptr ? "unmapped" : std::string(to_string(m->path.transport));
}

// The exposition line of the Tokyo server's transport (labels in the exposition's order).
bool has_tokyo(const std::string& scrape, const std::string& transport, const std::string& region) {
  const std::string line = "podpath_tailscale_peer_transport_info{derp_region=\"" + region +
                           "\",family=\"ipv4\",match=\"pod-cidr-route\",peer=\"ip-172-26-2-70\","
                           "peer_group=\"lightsail\","
                           "same_group=\"false\",tailscale_peer=\"ip-172-26-2-70\",transport=\"" +
                           transport + "\"} 1\n";
  return scrape.find(line) != std::string::npos;
}

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir();
    peers_.set_cluster_nodes(field_report_nodes());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Poller> make_poller(std::chrono::milliseconds interval,
                                      std::chrono::milliseconds timeout = 500ms) {
    return std::make_unique<Poller>(make_curl_localapi(socket(), timeout), peers_, store_, log_,
                                    PollerOptions{socket(), interval}, [this] { return now_; });
  }
  std::string socket() const { return dir_ + "/tailscaled.sock"; }
  std::string scrape() const {
    auto result = collect_snapshot(*store_->latest());
    return metrics::render(metrics::normalize(std::move(result.families)),
                           metrics::Format::kText004);
  }
  // Waits until `done` holds for the published snapshot, up to `limit`.
  bool wait_for(const std::function<bool(const Snapshot&)>& done,
                std::chrono::milliseconds limit = 3000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(*store_->latest())) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done(*store_->latest());
  }

  std::string dir_;
  model::PeerRegistry peers_{"lima-k3s-agent"};
  std::shared_ptr<SnapshotStore> store_ = std::make_shared<SnapshotStore>();
  std::vector<std::string> log_lines_;
  std::mutex log_mutex_;
  base::Logger log_{base::LogLevel::kDebug, base::LogFormat::kLogfmt,
                    [this](std::string_view line) {
                      std::lock_guard lock(log_mutex_);
                      log_lines_.emplace_back(line);
                    },
                    [] { return std::chrono::system_clock::time_point(1795669400s); }};
  std::chrono::system_clock::time_point now_{1795669400s};
};

TEST_F(PollerTest, SwitchBetweenDirectAndDerpShowsAtTheNextPollBothWays) {
  FakeLocalApi fake(socket());
  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(true)});
  fake.set_route("/localapi/v0/usermetrics", {200, testing::read_testdata("usermetrics.txt")});
  auto poller = make_poller(1000ms);

  poller->poll_once();
  EXPECT_EQ(transport_of(*store_->latest(), "ip-172-26-2-70"), "direct");
  EXPECT_TRUE(has_tokyo(scrape(), "direct", "")) << scrape();

  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(false)});
  poller->poll_once();
  EXPECT_EQ(transport_of(*store_->latest(), "ip-172-26-2-70"), "derp");
  EXPECT_TRUE(has_tokyo(scrape(), "derp", "tok")) << scrape();

  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(true)});
  poller->poll_once();
  EXPECT_EQ(transport_of(*store_->latest(), "ip-172-26-2-70"), "direct");
  EXPECT_TRUE(has_tokyo(scrape(), "direct", "")) << scrape();
  EXPECT_FALSE(has_tokyo(scrape(), "derp", "tok")) << scrape();
}

TEST_F(PollerTest, BackgroundThreadPicksUpASwitchWithinOneInterval) {
  FakeLocalApi fake(socket());
  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(true)});
  auto poller = make_poller(200ms);
  poller->start();
  ASSERT_TRUE(
      wait_for([](const Snapshot& s) { return transport_of(s, "ip-172-26-2-70") == "direct"; }));
  for (bool direct : {false, true}) {
    fake.set_route("/localapi/v0/status", {200, status_with_tokyo(direct)});
    auto switched = std::chrono::steady_clock::now();
    const std::string want = direct ? "direct" : "derp";
    ASSERT_TRUE(wait_for([&](const Snapshot& s) {
      return transport_of(s, "ip-172-26-2-70") == want;
    })) << want;
    // One interval plus the request itself; generous for a loaded 2-core machine.
    EXPECT_LT(std::chrono::steady_clock::now() - switched, 1200ms) << want;
  }
  poller->stop();
}

TEST_F(PollerTest, HangKeepsTheLastGoodStateMarkedStaleThenRecovers) {
  FakeLocalApi fake(socket());
  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(false)});
  fake.set_route("/localapi/v0/usermetrics", {200, testing::read_testdata("usermetrics.txt")});
  auto poller = make_poller(1000ms, 200ms);
  poller->poll_once();
  const std::string good = scrape();
  ASSERT_NE(good.find("podpath_tailscale_status_stale 0"), std::string::npos) << good;

  fake.set_mode(FakeLocalApi::Mode::kHang);
  now_ += 10s;
  auto start = std::chrono::steady_clock::now();
  poller->poll_once();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms) << "bounded by --tailscale.timeout";
  auto stale = store_->latest();
  EXPECT_TRUE(stale->stale());
  EXPECT_NE(stale->error.find("timed out"), std::string::npos) << stale->error;
  EXPECT_EQ(stale->last_success_unix_seconds, 1795669400);
  auto result = collect_snapshot(*stale);
  EXPECT_FALSE(result.success);
  std::string stale_scrape = scrape();
  EXPECT_NE(stale_scrape.find("podpath_tailscale_status_stale 1"), std::string::npos);
  EXPECT_TRUE(has_tokyo(stale_scrape, "derp", "tok")) << "last good data kept";
  {
    std::lock_guard lock(log_mutex_);
    ASSERT_FALSE(log_lines_.empty());
    EXPECT_NE(log_lines_.back().find("level=warn"), std::string::npos) << log_lines_.back();
  }

  fake.set_mode(FakeLocalApi::Mode::kServe);
  now_ += 10s;
  poller->poll_once();
  EXPECT_FALSE(store_->latest()->stale());
  EXPECT_EQ(store_->latest()->last_success_unix_seconds, 1795669420);
  std::lock_guard lock(log_mutex_);
  EXPECT_NE(log_lines_.back().find("answering again"), std::string::npos) << log_lines_.back();
}

TEST_F(PollerTest, SocketAppearingIsApplicabilityAndGoingIsFailure) {
  auto poller = make_poller(1000ms);
  poller->poll_once();
  poller->poll_once();
  EXPECT_EQ(store_->latest()->availability, Availability::kNotApplicable);
  EXPECT_TRUE(collect_snapshot(*store_->latest()).success);
  EXPECT_EQ(scrape(), "");
  {
    std::lock_guard lock(log_mutex_);
    ASSERT_EQ(log_lines_.size(), 1u) << "logged once, not per poll";
    EXPECT_NE(log_lines_[0].find("socket not found"), std::string::npos) << log_lines_[0];
  }
  {
    FakeLocalApi fake(socket());
    fake.set_route("/localapi/v0/status", {200, status_with_tokyo(true)});
    poller->poll_once();
    EXPECT_EQ(store_->latest()->availability, Availability::kAvailable);
    EXPECT_EQ(transport_of(*store_->latest(), "ip-172-26-2-70"), "direct");
    EXPECT_FALSE(store_->latest()->path_counters) << "the fake has no usermetrics: 404";
  }
  // The fake removed its socket: tailscaled stopped. Once seen, that is a failure that
  // keeps the last state, stale, rather than "Tailscale is not here".
  poller->poll_once();
  EXPECT_EQ(store_->latest()->availability, Availability::kAvailable);
  EXPECT_TRUE(store_->latest()->stale());
  EXPECT_FALSE(collect_snapshot(*store_->latest()).success);
  EXPECT_NE(scrape().find("podpath_tailscale_status_stale 1"), std::string::npos) << scrape();
}

TEST_F(PollerTest, PeerSetChangeRemapsWithoutWaitingForThePoll) {
  FakeLocalApi fake(socket());
  fake.set_route("/localapi/v0/status", {200, status_with_tokyo(true)});
  auto poller = make_poller(60000ms);
  poller->start();
  ASSERT_TRUE(wait_for([](const Snapshot& s) { return s.mapping.peers.size() == 2; }));
  const size_t requests = fake.requests().size();
  auto nodes = field_report_nodes();
  nodes.push_back(node("ip-172-26-3-146", "lightsail", "100.71.5.6", "10.42.1.0/24"));
  peers_.set_cluster_nodes(nodes);
  ASSERT_TRUE(wait_for([](const Snapshot& s) { return s.mapping.peers.size() == 3; }, 2000ms));
  EXPECT_EQ(transport_of(*store_->latest(), "ip-172-26-3-146"), "direct");
  EXPECT_EQ(fake.requests().size(), requests) << "remapped from the last status";
  auto stop_started = std::chrono::steady_clock::now();
  poller->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 500ms)
      << "stop does not wait out the interval";
}

}  // namespace
}  // namespace podpath::tailscale
