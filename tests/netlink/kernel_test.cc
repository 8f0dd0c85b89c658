// The netlink collector against the live kernel, in network namespaces built by
// topology.sh: every fact it reports must be what iproute2 prints in the same namespace,
// and its /metrics must equal the golden file the captured replies give.
//
// Needs root (it creates namespaces); skipped otherwise. The test thread enters the
// node namespace with setns(); namespaces are named ppt-kern-<pid>[-lan], removed at the
// end, and ones left by a crashed run (dead pid) are removed at the start.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "metrics/exposition.h"
#include "netlink/collector.h"
#include "netlink/reader.h"
#include "testlib.h"

namespace podpath::netlink {
namespace {

using testing::run;

int count_open_fds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  closedir(dir);
  return count;
}

// Removes namespaces of earlier runs whose process is gone.
void remove_stale_namespaces() {
  std::istringstream names(run("ip netns list | cut -d' ' -f1"));
  std::string name;
  while (std::getline(names, name)) {
    if (!name.starts_with("ppt-kern-")) continue;
    std::string rest = name.substr(9);
    pid_t pid = static_cast<pid_t>(std::atoi(rest.c_str()));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) run("ip netns del " + name);
  }
}

class KernelTest : public ::testing::Test {
 protected:
  static inline std::string node_, lan_;
  static inline int original_ns_ = -1;
  static inline int tun_ = -1;
  static inline std::string setup_error_;

  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    remove_stale_namespaces();
    node_ = "ppt-kern-" + std::to_string(getpid());
    lan_ = node_ + "-lan";
    int status = 0;
    run("ip netns add " + node_ + " && ip netns add " + lan_ + " && " PODPATH_TOPOLOGY_SCRIPT " " +
            node_ + " " + lan_ + " 2>&1",
        &status);
    if (status != 0) {
      setup_error_ = "topology.sh failed";
      return;
    }
    original_ns_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(("/run/netns/" + node_).c_str(), O_RDONLY | O_CLOEXEC);
    if (original_ns_ < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
      setup_error_ = std::string("setns: ") + std::strerror(errno);
      if (target >= 0) close(target);
      return;
    }
    close(target);
    // TUNSETIFF attaches in the caller's namespace; holding the fd gives tailscale0 carrier.
    tun_ = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq request{};
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(request.ifr_name, "tailscale0", IFNAMSIZ - 1);
    if (tun_ < 0 || ioctl(tun_, TUNSETIFF, &request) != 0) {
      setup_error_ = std::string("attach tailscale0: ") + std::strerror(errno);
      return;
    }
    // Carrier reaches operstate through linkwatch, which may wait up to a second.
    for (int i = 0; i < 50; ++i) {
      if (run("ip -j link show tailscale0").find("\"operstate\":\"UP\"") != std::string::npos)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static void TearDownTestSuite() {
    if (tun_ >= 0) close(tun_);
    if (original_ns_ >= 0) {
      setns(original_ns_, CLONE_NEWNET);
      close(original_ns_);
    }
    if (!node_.empty())
      run("ip netns del " + node_ + " 2>/dev/null; ip netns del " + lan_ + " 2>/dev/null");
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces";
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static std::string prefix() { return "ip netns exec " + node_ + " "; }
  static void sh(const std::string& command) {
    int status = 0;
    std::string out = run(command + " 2>&1", &status);
    ASSERT_EQ(status, 0) << command << ": " << out;
  }
};

TEST_F(KernelTest, EverythingReadAgreesWithIproute2) {
  model::PeerRegistry peers("lima-k3s-agent");
  KernelRead read = read_kernel(*peers.current());
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_TRUE(read.problems.empty());
  auto destinations = testing::topology_destinations();
  testing::Iproute2View view = testing::run_iproute2(prefix(), destinations);
  for (const auto& d : testing::compare(read.snapshot, view)) ADD_FAILURE() << d;

  NetlinkSource source;
  auto session = source.open();
  ASSERT_TRUE(session.ok()) << session.error();
  std::string error;
  for (auto destination : destinations) {
    RouteLookup lookup = lookup_route(**session, destination, read.snapshot, error);
    ASSERT_TRUE(error.empty()) << error;
    for (const auto& d : testing::compare(lookup, view.route_get[destination.to_string()]))
      ADD_FAILURE() << d;
  }
}

TEST_F(KernelTest, MetricsEqualTheGoldenFileOfTheCapturedTopology) {
  base::Logger log(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {});
  model::PeerRegistry peers("lima-k3s-agent");
  CollectorOptions options;
  options.devices = DeviceFilter::make("", kDefaultDeviceExclude);
  NetlinkCollector collector(std::make_shared<NetlinkSource>(), options, peers, log,
                             [] { return 0.0; });
  metrics::CollectResult result = collector.collect();
  ASSERT_TRUE(result.success) << result.error;
  std::ifstream in(std::string(PODPATH_TESTDATA) + "/topology.prom");
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(metrics::render(metrics::normalize(result.families), metrics::Format::kText004),
            golden.str());
}

TEST_F(KernelTest, ChangesShowOnTheNextScrapeAndPeersAreRepublished) {
  base::Logger log(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {});
  model::PeerRegistry peers("lima-k3s-agent");
  NetlinkCollector collector(std::make_shared<NetlinkSource>(), CollectorOptions{}, peers, log,
                             [] { return 0.0; });
  ASSERT_TRUE(collector.collect().success);
  const std::uint64_t before = peers.current()->generation;
  ASSERT_EQ(peers.current()->peers.size(), 6u);

  // flannel learns a new node, and the LAN's MTU changes.
  const std::string n = "ip -n " + node_ + " ";
  sh(n + "neigh replace 10.42.8.0 lladdr 32:f3:9e:5f:0e:08 dev flannel.1 nud permanent");
  sh("bridge -n " + node_ +
     " fdb append 32:f3:9e:5f:0e:08 dst 192.168.105.8 dev flannel.1 self permanent");
  sh(n + "route replace 10.42.8.0/24 via 10.42.8.0 dev flannel.1 onlink");
  sh(n + "link set lima0 mtu 1400");
  metrics::CollectResult result = collector.collect();
  sh(n + "route del 10.42.8.0/24");
  sh(n + "neigh del 10.42.8.0 dev flannel.1");
  sh("bridge -n " + node_ + " fdb del 32:f3:9e:5f:0e:08 dst 192.168.105.8 dev flannel.1 self");
  sh(n + "link set lima0 mtu 1500");

  ASSERT_TRUE(result.success);
  auto set = peers.current();
  EXPECT_GT(set->generation, before);
  ASSERT_EQ(set->peers.size(), 7u);
  auto snapshot = collector.latest();
  bool found = false;
  for (const auto& peer : snapshot->peer_routes) {
    if (peer.peer != "10.42.8.0/24") continue;
    found = true;
    ASSERT_TRUE(peer.overlay && peer.underlay);
    EXPECT_EQ(peer.overlay->device, "flannel.1");
    EXPECT_EQ(peer.underlay->device, "lima0");
    EXPECT_EQ(peer.underlay->destination, *model::IpAddress::parse("192.168.105.8"));
  }
  EXPECT_TRUE(found);
  std::string text =
      metrics::render(metrics::normalize(result.families), metrics::Format::kText004);
  EXPECT_NE(text.find("podpath_link_mtu_bytes{device=\"lima0\"} 1400"), std::string::npos);

  // And back: the peer disappears again.
  ASSERT_TRUE(collector.collect().success);
  EXPECT_EQ(peers.current()->peers.size(), 6u);
}

TEST_F(KernelTest, OneSocketPerRunAndNoneLeaked) {
  base::Logger log(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {});
  model::PeerRegistry peers("lima-k3s-agent");
  NetlinkCollector collector(std::make_shared<NetlinkSource>(), CollectorOptions{}, peers, log,
                             [] { return 0.0; });
  ASSERT_TRUE(collector.collect().success);
  const int fds = count_open_fds();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(collector.collect().success);
  EXPECT_EQ(count_open_fds(), fds);
}

// Devices added and removed as fast as `ip -batch` can while dumps run. The kernel flags a
// link dump interrupted (NLM_F_DUMP_INTR) when the device list changes between its
// datagrams; such dumps are retried, so every read still succeeds and is consistent.
TEST_F(KernelTest, DumpsStayConsistentUnderConcurrentChanges) {
  // Enough standing devices that a link dump spans many datagrams.
  std::ostringstream standing;
  for (int i = 0; i < 60; ++i)
    standing << "link add ppt-s" << i << " type veth peer name ppt-t" << i << "\n";
  const std::string standing_file = "/tmp/" + node_ + "-standing.batch";
  std::ofstream(standing_file) << standing.str();
  sh("ip -n " + node_ + " -batch " + standing_file);
  std::remove(standing_file.c_str());
  std::ostringstream batch;
  for (int i = 0; i < 10; ++i)
    batch << "link add ppt-c" << i << " type veth peer name ppt-d" << i << "\n";
  for (int i = 0; i < 10; ++i) batch << "link del ppt-c" << i << "\n";
  const std::string file = "/tmp/" + node_ + "-churn.batch";
  std::ofstream(file) << batch.str();
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread churn([&] {
    while (!stop) {
      run("ip -n " + node_ + " -batch " + file + " >/dev/null 2>&1");
      ++batches;
      // Bursts with gaps, as a node sees them (pods starting, a VPN reconnecting): without
      // gaps a slow (sanitized) dump collides with every retry and no bound would do.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // A session that counts how often the kernel flagged a link dump interrupted.
  NetlinkSource source;
  int reads = 0, failures = 0, retried = 0, exhausted = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((batches < 5 || reads < 40) && std::chrono::steady_clock::now() < until) {
    auto session = source.open();
    ASSERT_TRUE(session.ok()) << session.error();
    Reply links = (*session)->dump(Dump::kLinks);
    retried += links.attempts - 1;
    KernelRead read = read_state(**session);
    ++reads;
    // The property: an interrupted dump is never passed on as good data. Retries make the
    // give-up rare, but against non-stop churn never is a matter of luck, so it is bounded.
    if (links.error.empty()) {
      EXPECT_TRUE(scan_reply(links.bytes).complete);
      EXPECT_FALSE(scan_reply(links.bytes).interrupted) << "an interrupted dump passed as good";
    } else {
      ++exhausted;
      EXPECT_NE(links.error.find("NLM_F_DUMP_INTR"), std::string::npos) << links.error;
    }
    if (!read.ok()) {
      ++failures;
      EXPECT_NE(read.error.find("NLM_F_DUMP_INTR"), std::string::npos) << read.error;
    }
  }
  stop = true;
  churn.join();
  std::ostringstream cleanup;
  for (int i = 0; i < 60; ++i) cleanup << "link del ppt-s" << i << "\n";
  std::ofstream(file) << cleanup.str();
  sh("ip -n " + node_ + " -batch " + file);
  std::remove(file.c_str());
  EXPECT_GE(batches, 5) << "the churn did not run";
  EXPECT_GT(retried, 0) << "no dump was interrupted: the test did not test the retries";
  EXPECT_LE(20 * (failures + exhausted), reads) << "more than 5 % of reads gave up";
  RecordProperty("reads", reads);
  RecordProperty("link_dump_retries", retried);
  std::cout << reads << " reads during " << batches << " churn batches, " << retried
            << " link dump retries, " << exhausted + failures << " gave up after every retry\n";
}

}  // namespace
}  // namespace podpath::netlink
