// The netlink collector over the captured topology: the rendered /metrics (golden file,
// shared with the namespace test that renders the live kernel), the peers it publishes,
// device filters, and stale data on failure.
#include "netlink/collector.h"

#include <gtest/gtest.h>

#include "metrics/exposition.h"
#include "netlink/families.h"
#include "support/golden.h"
#include "testlib.h"

namespace podpath::netlink {
namespace {

const std::string kTopology = std::string(PODPATH_TESTDATA) + "/topology";

std::string render(const metrics::CollectResult& result) {
  return metrics::render(metrics::normalize(result.families), metrics::Format::kText004);
}

void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(std::string(PODPATH_TESTDATA) + "/" + name, actual);
}

struct Harness {
  std::vector<std::string> log_lines;
  base::Logger log{base::LogLevel::kInfo, base::LogFormat::kLogfmt,
                   [this](std::string_view line) { log_lines.emplace_back(line); }};
  model::PeerRegistry peers{"lima-k3s-agent"};
  double now = 1700000000;

  std::shared_ptr<NetlinkCollector> collector(std::shared_ptr<KernelSource> source,
                                              CollectorOptions options = default_options()) {
    return std::make_shared<NetlinkCollector>(std::move(source), std::move(options), peers, log,
                                              [this] { return now; });
  }
  static CollectorOptions default_options() {
    CollectorOptions options;
    options.devices = DeviceFilter::make("", kDefaultDeviceExclude);
    return options;
  }
};

TEST(NetlinkCollector, KernelOnlyTopologyMatchesGolden) {
  Harness h;
  auto collector = h.collector(std::make_shared<testing::FixtureSource>(kTopology));
  metrics::CollectResult result = collector->collect();
  ASSERT_TRUE(result.success) << result.error;
  EXPECT_FALSE(result.last_success_unix_seconds.has_value()) << "scrape-time collector";
  std::string text = render(result);
  expect_golden("topology.prom", text);
  // The pod veth is left out by default; the bridge it hangs off is not.
  EXPECT_EQ(text.find("vethc0ffee01"), std::string::npos);
  EXPECT_NE(text.find("podpath_link_info{device=\"cni0\",kind=\"bridge\",operstate=\"up\"} 1"),
            std::string::npos);
}

TEST(NetlinkCollector, PublishesKernelPeersAndLooksUpTheirRoutes) {
  Harness h;
  auto collector = h.collector(std::make_shared<testing::FixtureSource>(kTopology));
  ASSERT_TRUE(collector->collect().success);
  auto set = h.peers.current();
  ASSERT_EQ(set->peers.size(), 6u);
  EXPECT_EQ(set->peers[0].name, "10.42.0.0/24");
  EXPECT_TRUE(set->peers[0].in_kernel);
  std::uint64_t generation = set->generation;
  ASSERT_TRUE(collector->collect().success);
  EXPECT_EQ(h.peers.current()->generation, generation) << "unchanged kernel: no republish";

  auto snapshot = collector->latest();
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(snapshot->peer_routes.size(), 6u);
  const PeerRoutes& server = snapshot->peer_routes[0];
  EXPECT_EQ(server.peer, "10.42.0.0/24");
  ASSERT_TRUE(server.overlay && server.underlay);
  EXPECT_EQ(server.overlay->device, "tailscale0");
  EXPECT_EQ(server.overlay->table, 52u);
  EXPECT_EQ(server.underlay->device, "lima0");
  const PeerRoutes& no_fdb = snapshot->peer_routes[5];
  EXPECT_EQ(no_fdb.peer, "10.42.7.0/24");
  EXPECT_TRUE(no_fdb.overlay.has_value());
  EXPECT_FALSE(no_fdb.underlay.has_value()) << "no VTEP address known: no underlay lookup";
}

TEST(NetlinkCollector, ClusterPeersGetTheirNamesAndGroups) {
  Harness h;
  auto node = [](const char* name, const char* group, const char* cidr, const char* vtep) {
    model::ClusterNode n;
    n.name = name;
    n.group = group;
    n.pod_cidr = model::Ipv4Prefix::parse(cidr);
    n.public_ip = model::Ipv4::parse(vtep);
    return n;
  };
  h.peers.set_cluster_nodes({node("lima-k3s-agent", "lima", "10.42.2.0/24", "192.168.105.2"),
                             node("ip-172-26-2-70", "lightsail", "10.42.0.0/24", "172.26.2.70"),
                             node("lima-k3s-agent-2", "lima", "10.42.3.0/24", "192.168.105.3")});
  auto collector = h.collector(std::make_shared<testing::FixtureSource>(kTopology));
  std::string text = render(collector->collect());
  // The exposition sorts labels by name.
  EXPECT_NE(text.find("podpath_peer_route_info{destination=\"10.42.0.0\",device=\"tailscale0\","
                      "error=\"\",family=\"ipv4\",peer=\"ip-172-26-2-70\",peer_group=\"lightsail\","
                      "same_group=\"false\",source=\"100.84.0.2\",table=\"52\","
                      "target=\"overlay\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("podpath_peer_route_info{destination=\"192.168.105.3\",device=\"lima0\","
                      "error=\"\",family=\"ipv4\",peer=\"lima-k3s-agent-2\",peer_group=\"lima\","
                      "same_group=\"true\",source=\"192.168.105.2\",table=\"main\","
                      "target=\"underlay\"} 1"),
            std::string::npos)
      << text;
  // Kernel peers the API does not know stay, named by their subnet.
  EXPECT_NE(text.find("podpath_peer_route_info{destination=\"198.51.100.7\",device=\"\","
                      "error=\"ENETUNREACH\",family=\"ipv4\",peer=\"10.42.6.0/24\",peer_group=\"\","
                      "same_group=\"false\",source=\"\",table=\"\",target=\"underlay\"} 1"),
            std::string::npos)
      << text;
}

TEST(NetlinkCollector, DeviceFiltersSelectSeries) {
  Harness h;
  CollectorOptions options;
  options.devices = DeviceFilter::make("^(flannel|veth)", "");
  auto collector = h.collector(std::make_shared<testing::FixtureSource>(kTopology), options);
  std::string text = render(collector->collect());
  EXPECT_NE(text.find("podpath_link_mtu_bytes{device=\"flannel.1\"} 1450"), std::string::npos);
  EXPECT_NE(text.find("podpath_link_mtu_bytes{device=\"vethc0ffee01\"} 1450"), std::string::npos);
  EXPECT_EQ(text.find("device=\"lima0\"} 1500"), std::string::npos);
  EXPECT_EQ(text.find("vxlan-jumbo"), std::string::npos);
  // Peer routes are about peers, not devices: the filter does not hide them.
  EXPECT_NE(text.find("podpath_peer_route_info{"), std::string::npos);

  EXPECT_TRUE(DeviceFilter{}.accepts("anything"));
  EXPECT_FALSE(DeviceFilter::make("", kDefaultDeviceExclude).accepts("veth1234"));
  EXPECT_FALSE(DeviceFilter::make("", kDefaultDeviceExclude).accepts("cali0a1b2c"));
  EXPECT_TRUE(DeviceFilter::make("", kDefaultDeviceExclude).accepts("eth0"));
}

// A source that works once and then refuses, like a netlink socket hitting a limit.
class FlakySource final : public KernelSource {
 public:
  explicit FlakySource(std::string dir) : fixture_(std::move(dir)) {}
  base::Result<std::unique_ptr<KernelSession>> open() override {
    if (++opens_ > 1)
      return base::Result<std::unique_ptr<KernelSession>>::failure(
          "netlink: connect: Too many open files");
    return fixture_.open();
  }

 private:
  testing::FixtureSource fixture_;
  int opens_ = 0;
};

TEST(NetlinkCollector, FailureKeepsTheLastGoodSeriesMarkedStale) {
  Harness h;
  auto collector = h.collector(std::make_shared<FlakySource>(kTopology));
  metrics::CollectResult good = collector->collect();
  ASSERT_TRUE(good.success);
  h.now += 30;
  metrics::CollectResult stale = collector->collect();
  EXPECT_FALSE(stale.success);
  EXPECT_EQ(stale.error, "netlink: connect: Too many open files");
  EXPECT_EQ(render(stale), render(good));
  ASSERT_TRUE(stale.last_success_unix_seconds.has_value());
  EXPECT_EQ(*stale.last_success_unix_seconds, 1700000000);
}

TEST(NetlinkCollector, FailureBeforeAnySuccessHasNoSeries) {
  Harness h;
  auto collector = h.collector(std::make_shared<testing::FixtureSource>("/nonexistent"));
  metrics::CollectResult result = collector->collect();
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.error.find("no capture"), std::string::npos) << result.error;
  EXPECT_TRUE(result.families.empty());
  EXPECT_FALSE(result.last_success_unix_seconds.has_value());
  EXPECT_EQ(collector->latest(), nullptr);
}

}  // namespace
}  // namespace podpath::netlink
