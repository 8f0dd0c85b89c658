// The prober against the real kernel, in network namespaces each test builds for itself:
// veth pairs, a router with a 1280-byte link, a user-space delay relay, and two namespaces
// with flannel-like VXLAN devices. Needs root (CI runs as root); skips otherwise.
#include "netns.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "metrics/histogram.h"
#include "prober/batch.h"
#include "prober/packet.h"
#include "prober/prober.h"
#include "prober/schedule.h"

namespace podpath::prober {
namespace {

using namespace std::chrono_literals;
using testing::EnterNetns;
using testing::Namespaces;
using testing::own_names;
using testing::sh;
using testing::wait_until;

model::Ipv4 ip(const char* text) {
  return *model::Ipv4::parse(text);
}

model::Peer make_peer(const std::string& name, const char* overlay, const char* underlay) {
  model::Peer p;
  p.name = name;
  if (overlay) p.overlay_address = ip(overlay);
  if (underlay) p.vtep_address = ip(underlay);
  return p;
}

std::shared_ptr<model::PeerSet> peer_set(std::vector<model::Peer> peers) {
  auto set = std::make_shared<model::PeerSet>();
  set->self_name = "test-node";
  set->peers = std::move(peers);
  return set;
}

ProberConfig fast_config() {
  ProberConfig c;
  c.node_name = "test-node";
  c.interval = 100ms;
  c.timeout = 500ms;
  c.pmtu_interval = 0ns;
  c.exposure_interval = 0ns;
  c.publish_interval = 20ms;
  c.buckets = metrics::exponential_buckets(50e-6, 2, 20);
  return c;
}

constexpr std::uint64_t kRandom = 42;

struct Running {
  std::unique_ptr<Prober> prober;
  std::uint16_t identifier = 0;
};

Running start_prober(const std::string& netns, const ProberConfig& config, SocketMode mode,
                     std::shared_ptr<model::PeerSet> peers, ProberEnvironment env = {},
                     bool with_udp = false) {
  EnterNetns in(netns);
  EXPECT_TRUE(in.ok());
  auto icmp = IcmpSocket::open(mode, 0x5150);
  EXPECT_TRUE(icmp) << icmp.error();
  if (!icmp) return {};
  Running r;
  r.identifier = (*icmp)->identifier();
  std::unique_ptr<UdpSocket> udp;
  if (with_udp) {
    auto opened = UdpSocket::open();
    EXPECT_TRUE(opened) << opened.error();
    if (opened) udp = std::move(*opened);
  }
  if (!env.random) env.random = [] { return kRandom; };
  r.prober = std::make_unique<Prober>(config, env, std::move(*icmp), std::move(udp));
  r.prober->set_peers(std::move(peers));
  r.prober->start();
  return r;
}

const TargetResult* find(const Snapshot& s, const std::string& peer, TargetKind kind) {
  for (const auto& t : s.targets)
    if (t.labels.peer == peer && t.target == kind) return &t;
  return nullptr;
}

std::uint64_t errors(const TargetResult* t, const std::string& reason) {
  if (!t) return 0;
  auto it = t->send_errors.find(reason);
  return it == t->send_errors.end() ? 0 : it->second;
}

double mean_rtt(const TargetResult* t) {
  return t && t->rtt.count ? t->rtt.sum / t->rtt.count : -1;
}

// The upper bound of the bucket holding the middle observation; +Inf when it is beyond them.
double median_rtt(const metrics::Histogram& h) {
  for (size_t i = 0; i < h.upper_bounds.size(); ++i)
    if (2 * h.cumulative_counts[i] >= h.count) return h.upper_bounds[i];
  return std::numeric_limits<double>::infinity();
}

// Two namespaces joined by a veth pair: <a>:va 10.201.0.1/24 -- <b>:vb 10.201.0.2/24.
std::string veth_pair(const std::string& a, const std::string& b, int mtu = 1500) {
  return "ip link add va netns " + a + " mtu " + std::to_string(mtu) +
         " type veth peer name vb netns " + b + " mtu " + std::to_string(mtu) + "\nip -n " + a +
         " addr add 10.201.0.1/24 dev va\nip -n " + b + " addr add 10.201.0.2/24 dev vb\nip -n " +
         a + " link set va up\nip -n " + b + " link set vb up\n";
}

class ProberNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces";
  }
};

TEST_F(ProberNetns, RawSocketMatchesEveryReplyOverVeth) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b")), 0);
  auto r = start_prober("ppt-a", fast_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.201.0.2", "10.201.0.2")}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1500ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  for (auto kind : {TargetKind::kOverlay, TargetKind::kUnderlay}) {
    auto t = find(*s, "b", kind);
    ASSERT_TRUE(t);
    EXPECT_GE(t->requests, 12u);
    EXPECT_GE(t->responses + 1, t->requests);  // the last one may still be in flight
    EXPECT_EQ(t->duplicates, 0u);
    EXPECT_EQ(t->late, 0u);
    EXPECT_TRUE(t->send_errors.empty());
    // A veth pair: tens of microseconds, as fping reads; the prober's own wake-ups must not show.
    EXPECT_GT(mean_rtt(t), 0);
    EXPECT_LT(mean_rtt(t), 200e-6);
  }
  EXPECT_TRUE(s->kernel_timestamps);
  EXPECT_EQ(s->socket_mode, "raw");
  EXPECT_EQ(s->timestamp_fallbacks, 0u);
}

TEST_F(ProberNetns, DatagramSocketUsesTheKernelsIdentifier) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b")), 0);
  {
    // A new namespace refuses unprivileged ICMP ("1 0"): the error names the setting.
    EnterNetns in("ppt-a");
    auto refused = IcmpSocket::open(SocketMode::kDatagram, 1);
    EXPECT_FALSE(refused);
    EXPECT_NE(refused.error().find("net.ipv4.ping_group_range"), std::string::npos)
        << refused.error();
  }
  ASSERT_EQ(sh("ip netns exec ppt-a sysctl -qw net.ipv4.ping_group_range='0 2147483647'"), 0);
  auto r = start_prober("ppt-a", fast_config(), SocketMode::kDatagram,
                        peer_set({make_peer("b", "10.201.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  EXPECT_NE(r.identifier, 0x5150);  // the kernel's port, not the random identifier we offered
  std::this_thread::sleep_for(1200ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  auto t = find(*s, "b", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 10u);
  EXPECT_GE(t->responses + 1, t->requests);
  EXPECT_LT(mean_rtt(t), 200e-6);
  EXPECT_EQ(s->socket_mode, "datagram");
}

TEST_F(ProberNetns, SendErrorsAreCountedByReason) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b") +
               "ip -n ppt-a route add unreachable 10.250.0.0/24\n"
               // Neighbour resolution gives up after 3 x 100 ms instead of 3 s.
               "ip netns exec ppt-a sysctl -qw net.ipv4.neigh.va.retrans_time_ms=100\n"),
            0);
  auto r = start_prober("ppt-a", fast_config(), SocketMode::kRaw,
                        peer_set({make_peer("unreachable", "10.250.0.1", nullptr),
                                  make_peer("noroute", "10.251.0.1", nullptr),
                                  make_peer("absent", "10.201.0.9", nullptr)}));
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = r.prober->snapshot();
        return errors(find(*s, "absent", TargetKind::kOverlay), "EHOSTUNREACH") > 0 &&
               errors(find(*s, "noroute", TargetKind::kOverlay), "ENETUNREACH") > 0 &&
               errors(find(*s, "unreachable", TargetKind::kOverlay), "EHOSTUNREACH") > 0;
      },
      3s));
  r.prober->stop();
  auto s = r.prober->snapshot();
  for (const char* peer : {"unreachable", "noroute", "absent"}) {
    auto t = find(*s, peer, TargetKind::kOverlay);
    ASSERT_TRUE(t);
    EXPECT_GT(t->requests, 0u) << peer;
    EXPECT_EQ(t->responses, 0u) << peer;
  }
  // Failed sends count as requests, so loss reads 100 % rather than "no data".
  auto unreachable = find(*s, "unreachable", TargetKind::kOverlay);
  EXPECT_EQ(errors(unreachable, "EHOSTUNREACH"), unreachable->requests);
}

TEST_F(ProberNetns, DuplicateRepliesAreCountedOnce) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  // b's egress sends every echo reply twice (the mark stops the copy being copied again).
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b") +
               "ip netns exec ppt-b nft add table netdev twice\n"
               "ip netns exec ppt-b nft add chain netdev twice out "
               "'{ type filter hook egress device vb priority 0; }'\n"
               "ip netns exec ppt-b nft add rule netdev twice out icmp type echo-reply "
               "meta mark 0 meta mark set 1 dup to vb\n"),
            0);
  auto r = start_prober("ppt-a", fast_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.201.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1200ms);
  r.prober->stop();
  auto t = find(*r.prober->snapshot(), "b", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 10u);
  EXPECT_GE(t->responses + 1, t->requests);
  EXPECT_LE(t->responses, t->requests);
  EXPECT_GE(t->duplicates + 1, t->responses);
  EXPECT_LE(t->duplicates, t->responses);
  EXPECT_EQ(t->rtt.count, t->responses);  // a duplicate never adds an RTT sample
}

TEST_F(ProberNetns, AnotherPingerWithOurIdentifierIsIgnored) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b")), 0);
  auto r = start_prober("ppt-a", fast_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.201.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  // The prober's first sequence follows from its seed, so the intruder can hit exactly the
  // sequences the prober uses, with the same identifier, to the same address.
  std::mt19937_64 rng(stable_hash("test-node") ^ kRandom);
  const auto first = static_cast<std::uint16_t>(rng());
  {
    EnterNetns in("ppt-a");
    auto intruder = IcmpSocket::open(SocketMode::kRaw, 0x9999);
    ASSERT_TRUE(intruder) << intruder.error();
    Cookie foreign{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0};
    for (int round = 0; round < 12; ++round) {
      for (int k = 0; k < 20; ++k) {
        auto request =
            build_echo_request({r.identifier, static_cast<std::uint16_t>(first + k), foreign, 56});
        (*intruder)->send(ip("10.201.0.2"), request, false);
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  // And an ordinary ping alongside.
  EXPECT_EQ(sh("ip netns exec ppt-a ping -q -c 5 -i 0.05 10.201.0.2"), 0);
  r.prober->stop();
  auto t = find(*r.prober->snapshot(), "b", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 10u);
  EXPECT_LE(t->responses, t->requests);
  EXPECT_GE(t->responses + 1, t->requests);
  EXPECT_EQ(t->duplicates, 0u);
  EXPECT_EQ(t->late, 0u);
}

// A 30 ms path: a tun device in each namespace and the relay holding packets 15 ms each way.
class DelayedPath {
 public:
  explicit DelayedPath(double one_way_ms) {
    ok_ = sh("ip -n ppt-a tuntap add dev ta mode tun\nip -n ppt-b tuntap add dev tb mode tun") == 0;
    if (!ok_) return;
    // The names are this process's (own_names reads getpid()), so made before the fork.
    const std::string a = own_names("ppt-a:ta"), b = own_names("ppt-b:tb");
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      // Real-time priority: the emulated delay is the truth the test compares against, and
      // must not stretch when the machine is loaded (CI runs several builds at once).
      const std::string delay = std::to_string(one_way_ms);
      execlp("chrt", "chrt", "-f", "20", PODPATH_DELAY_RELAY, "--delay-ms", delay.c_str(),
             a.c_str(), b.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    char line[16] = {0};
    ok_ = read(out[0], line, sizeof line - 1) > 0 && std::string(line).starts_with("ready");
    close(out[0]);
    ok_ = ok_ && sh("ip -n ppt-a addr add 10.203.0.1/24 dev ta\nip -n ppt-b addr add "
                    "10.203.0.2/24 dev tb\nip -n ppt-a link set ta up\nip -n ppt-b link set "
                    "tb up") == 0;
  }
  ~DelayedPath() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

TEST_F(ProberNetns, ThirtyMillisecondPathReadsThirtyMilliseconds) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  DelayedPath path(15);
  ASSERT_TRUE(path.ok());
  // Buckets 0.1 ms wide around 30 ms, so the median is read to 0.1 ms. The median, not the
  // mean: one probe that the loaded CI machine schedules late must not move the verdict,
  // exactly as the issue judges the prober ("median RTT within 2 % of the emulated delay").
  auto config = fast_config();
  config.buckets.clear();
  for (int tenths = 280; tenths <= 340; ++tenths) config.buckets.push_back(tenths * 1e-4);
  auto r = start_prober("ppt-a", config, SocketMode::kRaw,
                        peer_set({make_peer("far", "10.203.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(3000ms);
  r.prober->stop();
  auto t = find(*r.prober->snapshot(), "far", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->responses, 20u);
  EXPECT_GE(t->rtt.sum / t->rtt.count, 0.030);  // nothing is faster than the emulated delay
  EXPECT_NEAR(median_rtt(t->rtt), 0.030, 0.030 * 0.02);
}

TEST_F(ProberNetns, RepliesAfterTheTimeoutAreLate) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  DelayedPath path(15);
  ASSERT_TRUE(path.ok());
  auto config = fast_config();
  config.timeout = 10ms;
  auto r = start_prober("ppt-a", config, SocketMode::kRaw,
                        peer_set({make_peer("far", "10.203.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1200ms);
  r.prober->stop();
  auto t = find(*r.prober->snapshot(), "far", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 10u);
  EXPECT_EQ(t->responses, 0u);
  EXPECT_GE(t->late + 1, t->requests);
  EXPECT_EQ(t->duplicates, 0u);
  EXPECT_EQ(t->rtt.count, 0u);
}

// a -- r -- b, where the r--b link carries only 1280 bytes.
std::string router_1280() {
  return "ip link add va netns ppt-a type veth peer name ra netns ppt-r\n"
         "ip link add rb netns ppt-r mtu 1280 type veth peer name vb netns ppt-b mtu 1280\n"
         "ip -n ppt-a addr add 10.204.1.1/24 dev va\nip -n ppt-r addr add 10.204.1.2/24 dev ra\n"
         "ip -n ppt-r addr add 10.204.2.1/24 dev rb\nip -n ppt-b addr add 10.204.2.2/24 dev vb\n"
         "for l in ppt-a:va ppt-r:ra ppt-r:rb ppt-b:vb; do ip -n ${l%:*} link set ${l#*:} up; "
         "done\n"
         "ip -n ppt-a route add 10.204.2.0/24 via 10.204.1.2\n"
         "ip -n ppt-b route add 10.204.1.0/24 via 10.204.2.1\n"
         "ip netns exec ppt-r sysctl -qw net.ipv4.ip_forward=1\n"
         "ip -n ppt-a route flush cache\n";
}

std::optional<int> probed_mtu(const Snapshot& s, const std::string& peer) {
  for (const auto& m : s.path_mtu)
    if (m.labels.peer == peer) return m.bytes;
  return std::nullopt;
}

ProberConfig pmtu_config() {
  auto config = fast_config();
  config.interval = 1s;
  config.timeout = 150ms;
  config.pmtu_interval = 60s;
  return config;
}

TEST_F(ProberNetns, PathMtuFollowsFragNeededToTheRouter) {
  Namespaces ns({"ppt-a", "ppt-r", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(router_1280()), 0);
  ProberEnvironment env;
  env.overlay_mtu = [] { return 1500; };
  auto r = start_prober("ppt-a", pmtu_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.204.2.2", nullptr)}), env);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(wait_until([&] { return probed_mtu(*r.prober->snapshot(), "b").has_value(); }, 12s));
  r.prober->stop();
  EXPECT_EQ(probed_mtu(*r.prober->snapshot(), "b"), 1280);
}

TEST_F(ProberNetns, PathMtuBisectsABlackHole) {
  Namespaces ns({"ppt-a", "ppt-r", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  // The router sends no "fragmentation needed": the too-big probes just vanish.
  ASSERT_EQ(sh(router_1280() +
               "ip netns exec ppt-r nft add table inet f\n"
               "ip netns exec ppt-r nft add chain inet f out '{ type filter hook output priority "
               "0; }'\n"
               "ip netns exec ppt-r nft add rule inet f out icmp type destination-unreachable "
               "drop\n"),
            0);
  ProberEnvironment env;
  env.overlay_mtu = [] { return 1450; };
  auto r = start_prober("ppt-a", pmtu_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.204.2.2", nullptr)}), env);
  ASSERT_TRUE(r.prober);
  // While the search waits out its timeouts the snapshot says it is still running (the
  // doctor waits on that), and stops saying so once the answer is there.
  auto pending = [&] { return r.prober->snapshot()->path_mtu_pending; };
  const std::vector<std::pair<std::string, model::Family>> just_b{{"b", model::Family::kIpv4}};
  EXPECT_TRUE(wait_until([&] { return pending() == just_b; }, 5s));
  EXPECT_FALSE(probed_mtu(*r.prober->snapshot(), "b").has_value());
  EXPECT_TRUE(wait_until([&] { return probed_mtu(*r.prober->snapshot(), "b").has_value(); }, 20s));
  r.prober->stop();
  EXPECT_EQ(probed_mtu(*r.prober->snapshot(), "b"), 1280);
  EXPECT_TRUE(pending().empty());
}

TEST_F(ProberNetns, PathMtuAboveTheLocalDeviceGetsEmsgsize) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b", 1400)), 0);
  ProberEnvironment env;
  env.overlay_mtu = [] { return 9000; };  // the device claims more than the veth carries
  auto r = start_prober("ppt-a", pmtu_config(), SocketMode::kRaw,
                        peer_set({make_peer("b", "10.201.0.2", nullptr)}), env);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(wait_until([&] { return probed_mtu(*r.prober->snapshot(), "b").has_value(); }, 12s));
  r.prober->stop();
  EXPECT_EQ(probed_mtu(*r.prober->snapshot(), "b"), 1400);
}

// Two nodes programmed as flannel's VXLAN backend does (pkg/backend/vxlan in flannel): underlay
// 192.168.77.0/24, a public address 203.0.113.N on the same link, flannel.1 with 10.42.N.0/32, and
// for the other node an FDB entry, a permanent neighbour and an onlink route.
constexpr const char* kMac1 = "0a:00:00:00:00:01";
constexpr const char* kMac2 = "0a:00:00:00:00:02";

std::string flannel_pair() {
  std::string s =
      "ip link add u1 netns ppt-n1 type veth peer name u2 netns ppt-n2\n"
      "ip -n ppt-n1 addr add 192.168.77.1/24 dev u1\nip -n ppt-n2 addr add 192.168.77.2/24 dev u2\n"
      "ip -n ppt-n1 addr add 203.0.113.1/24 dev u1\nip -n ppt-n2 addr add 203.0.113.2/24 dev u2\n"
      "ip -n ppt-n1 link set u1 up\nip -n ppt-n2 link set u2 up\n";
  auto node = [](int me, int other, const char* my_mac, const char* other_mac) {
    std::string n = "ppt-n" + std::to_string(me);
    std::string o = std::to_string(other);
    return "ip -n " + n + " link add flannel.1 type vxlan id 1 local 192.168.77." +
           std::to_string(me) + " dev u" + std::to_string(me) + " dstport 8472 nolearning\n" +
           "ip -n " + n + " link set flannel.1 address " + my_mac + " mtu 1450 up\n" + "ip -n " +
           n + " addr add 10.42." + std::to_string(me) + ".0/32 dev flannel.1\n" +
           "ip netns exec " + n + " bridge fdb append " + other_mac +
           " dev flannel.1 dst 192.168.77." + o + "\n" + "ip -n " + n + " neigh replace 10.42." +
           o + ".0 lladdr " + other_mac + " dev flannel.1 nud permanent\n" + "ip -n " + n +
           " route replace 10.42." + o + ".0/24 via 10.42." + o + ".0 dev flannel.1 onlink\n";
  };
  return s + node(1, 2, kMac1, kMac2) + node(2, 1, kMac2, kMac1);
}

std::shared_ptr<model::PeerSet> flannel_peers() {
  auto n2 = make_peer("n2", "10.42.2.0", "192.168.77.2");
  n2.vtep_mac = kMac2;
  n2.external_addresses = {ip("203.0.113.2")};
  n2.in_cluster = true;
  return peer_set({n2});
}

ProberEnvironment flannel_env() {
  ProberEnvironment env;
  env.local_vtep = [] { return LocalVtep{1, *parse_mac(kMac1), ip("10.42.1.0")}; };
  return env;
}

std::optional<bool> exposed(const Snapshot& s, const char* address) {
  for (const auto& e : s.exposure)
    if (e.address.to_string() == address) return e.exposed;
  return std::nullopt;
}

TEST_F(ProberNetns, ExposureProbeSeesAnOpenThenFirewalledVxlanPort) {
  Namespaces ns({"ppt-n1", "ppt-n2"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(flannel_pair()), 0);
  auto config = fast_config();
  config.timeout = 200ms;
  config.exposure_interval = 300ms;
  auto r = start_prober("ppt-n1", config, SocketMode::kRaw, flannel_peers(), flannel_env(), true);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(
      wait_until([&] { return exposed(*r.prober->snapshot(), "203.0.113.2") == true; }, 3s));
  // Close 8472 on the public address only: the overlay keeps working over 192.168.77.0/24.
  ASSERT_EQ(sh("ip netns exec ppt-n2 nft add table inet f\n"
               "ip netns exec ppt-n2 nft add chain inet f in '{ type filter hook input priority "
               "0; }'\n"
               "ip netns exec ppt-n2 nft add rule inet f in ip daddr 203.0.113.2 udp dport 8472 "
               "drop\n"),
            0);
  EXPECT_TRUE(
      wait_until([&] { return exposed(*r.prober->snapshot(), "203.0.113.2") == false; }, 3s));
  auto before = *find(*r.prober->snapshot(), "n2", TargetKind::kOverlay);
  std::this_thread::sleep_for(500ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  auto overlay = find(*s, "n2", TargetKind::kOverlay);
  ASSERT_TRUE(overlay);
  EXPECT_GT(overlay->responses, before.responses) << "the overlay itself must still answer";
  EXPECT_EQ(exposed(*s, "203.0.113.2"), false);
}

TEST_F(ProberNetns, VxlanBlockedLosesTheOverlayWhileTheUnderlayAnswers) {
  Namespaces ns({"ppt-n1", "ppt-n2"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(flannel_pair() +
               "ip netns exec ppt-n2 nft add table inet f\n"
               "ip netns exec ppt-n2 nft add chain inet f in '{ type filter hook input priority "
               "0; }'\n"
               "ip netns exec ppt-n2 nft add rule inet f in udp dport 8472 drop\n"),
            0);
  auto r = start_prober("ppt-n1", fast_config(), SocketMode::kRaw, flannel_peers());
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1500ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  auto overlay = find(*s, "n2", TargetKind::kOverlay);
  auto underlay = find(*s, "n2", TargetKind::kUnderlay);
  ASSERT_TRUE(overlay && underlay);
  EXPECT_GE(overlay->requests, 10u);
  EXPECT_EQ(overlay->responses, 0u);
  EXPECT_GE(underlay->requests, 10u);
  EXPECT_GE(underlay->responses + 1, underlay->requests);
}

TEST_F(ProberNetns, RemovedPeersSeriesGoAtOnce) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b")), 0);
  auto r = start_prober(
      "ppt-a", fast_config(), SocketMode::kRaw,
      peer_set({make_peer("b", "10.201.0.2", nullptr), make_peer("c", "10.201.0.2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(400ms);
  r.prober->set_peers(peer_set({make_peer("b", "10.201.0.2", nullptr)}));
  EXPECT_TRUE(
      wait_until([&] { return !find(*r.prober->snapshot(), "c", TargetKind::kOverlay); }, 200ms));
  auto b = find(*r.prober->snapshot(), "b", TargetKind::kOverlay);
  ASSERT_TRUE(b);
  EXPECT_GE(b->requests, 3u) << "b's counters survive the reconcile";
  r.prober->stop();
}

// --- IPv6: the same probes over ICMPv6 ---

model::Peer make_peer6(const std::string& name, const char* overlay, const char* underlay) {
  model::Peer p;
  p.name = name;
  p.family = model::Family::kIpv6;
  if (overlay) p.overlay_address = model::IpAddress::parse(overlay);
  if (underlay) p.vtep_address = model::IpAddress::parse(underlay);
  return p;
}

// Both sockets, as the module opens them; IPv6 targets take the ICMPv6 one.
Running start_prober6(const std::string& netns, const ProberConfig& config, SocketMode mode,
                      std::shared_ptr<model::PeerSet> peers, ProberEnvironment env = {},
                      bool with_udp = false) {
  EnterNetns in(netns);
  EXPECT_TRUE(in.ok());
  auto icmp = IcmpSocket::open(mode, 0x5150);
  auto icmp6 = Icmp6Socket::open(mode, 0x6150);
  EXPECT_TRUE(icmp) << icmp.error();
  EXPECT_TRUE(icmp6) << icmp6.error();
  if (!icmp || !icmp6) return {};
  Running r;
  r.identifier = (*icmp6)->identifier();
  std::unique_ptr<UdpSocket> udp;
  if (with_udp) {
    auto opened = UdpSocket::open();
    EXPECT_TRUE(opened) << opened.error();
    if (opened) udp = std::move(*opened);
  }
  if (!env.random) env.random = [] { return kRandom; };
  r.prober =
      std::make_unique<Prober>(config, env, std::move(*icmp), std::move(*icmp6), std::move(udp));
  r.prober->set_peers(std::move(peers));
  r.prober->start();
  return r;
}

const TargetResult* find6(const Snapshot& s, const std::string& peer, TargetKind kind) {
  for (const auto& t : s.targets_v6)
    if (t.labels.peer == peer && t.target == kind) return &t;
  return nullptr;
}

// Waits until `address` on `dev` takes IPv6 traffic. `ip addr add ... nodad` and `ip link set
// up` return before the kernel installs the address's local route (and, on a link with
// neighbours, the multicast route): addrconf does that from its work queue once the link is up
// (linux net/ipv6/addrconf.c, addrconf_dad_work -> addrconf_dad_completed -> ipv6_ifa_notify).
// A Neighbour Solicitation that lands before is dropped (Ip6InNoRoutes) and the sender asks
// again only after RetransTimer, 1 s, holding the echo requests meanwhile: the first second of
// replies came back after the 500 ms timeout and counted as late. A node's links have been up
// for long; a namespace's fresh ones have not. Point-to-point tun devices have no multicast.
std::string ipv6_ready(const std::string& ns, const std::string& dev, const std::string& address,
                       bool multicast = true) {
  const std::string routes = "ip -n " + ns + " -6 route show table local dev " + dev;
  std::string ready = routes + " | grep -q '^local " + address + " '";
  if (multicast) ready += " && " + routes + " | grep -q '^multicast ff00::/8'";
  return "for i in $(seq 300); do if " + ready + "; then break; fi; sleep 0.01; done\n" + ready +
         "\n";
}

// No duplicate address detection in these namespaces (set before their links exist, which copy
// `default`): a link-local address stays tentative for a second or more after the link comes
// up, and a router solicits the next hop of a packet it forwards from its link-local address
// only, so it asks nothing until DAD ends (ndisc_send_ns gives up without a usable one) and the
// forwarded probes wait meanwhile. No address here can be a duplicate.
std::string no_dad(const std::vector<std::string>& namespaces) {
  std::string script;
  for (const auto& ns : namespaces)
    script += "ip netns exec " + ns + " sysctl -qw net.ipv6.conf.default.accept_dad=0\n";
  return script;
}

// <a>:va fd00:201::1/64 -- <b>:vb fd00:201::2/64 (no duplicate address detection to wait for).
std::string veth_pair6(const std::string& a, const std::string& b) {
  return no_dad({a, b}) + "ip link add va netns " + a + " type veth peer name vb netns " + b +
         "\nip -n " + a + " addr add fd00:201::1/64 dev va nodad\nip -n " + b +
         " addr add fd00:201::2/64 dev vb nodad\nip -n " + a + " link set va up\nip -n " + b +
         " link set vb up\n" + ipv6_ready(a, "va", "fd00:201::1") +
         ipv6_ready(b, "vb", "fd00:201::2");
}

// <a> with `count` addresses on <b>'s side of the veth pair: 10.201.0.10... and fd00:201::10...
std::string many_targets(const std::string& b, int count) {
  std::string script;
  for (int i = 0; i < count; ++i) {
    script += "ip -n " + b + " addr add 10.201.0." + std::to_string(10 + i) + "/24 dev vb\n";
    script += "ip -n " + b + " addr add fd00:201::" + std::to_string(10 + i) + "/64 dev vb nodad\n";
  }
  return script;
}

// Reads the socket until `want` replies came or three seconds passed; returns the sequences
// whose reply carried our cookie and a kernel RX timestamp, and the sequences whose TX
// timestamp came back on the error queue. (Three: the requests wait in the kernel for ARP or
// neighbour discovery to their fresh addresses, and a first solicitation lost while the veth
// pair comes up is retried after a second, retrans_time_ms; one second read "no reply" then.)
template <typename Socket, typename Received>
std::pair<std::set<std::uint16_t>, std::set<std::uint16_t>> collect(Socket& socket, bool v6,
                                                                    const Cookie& cookie,
                                                                    std::size_t want) {
  std::set<std::uint16_t> replies, stamped;
  wait_until(
      [&] {
        std::array<ErrorMessage, kReceiveBatch> errors;
        std::size_t n = 0;
        while ((n = socket.receive_errors(errors)) > 0) {
          for (std::size_t i = 0; i < n; ++i) {
            auto echo = v6 ? find_echo6_request(errors[i].data, socket.identifier(), cookie)
                           : find_echo_request(errors[i].data, socket.identifier(), cookie);
            if (errors[i].kind == ErrorMessage::Kind::kTxTimestamp && echo && errors[i].kernel_ns)
              stamped.insert(echo->sequence);
          }
        }
        std::array<Received, kReceiveBatch> received;
        while ((n = socket.receive(received)) > 0) {
          for (std::size_t i = 0; i < n; ++i) {
            auto echo = v6 ? parse_icmp6_echo(received[i].icmp, cookie)
                           : parse_icmp_echo(received[i].icmp, cookie);
            if (echo && echo->cookie_matches && echo->identifier == socket.identifier() &&
                received[i].kernel_ns != 0)
              replies.insert(echo->sequence);
          }
        }
        return replies.size() >= want;
      },
      3s);
  return {replies, stamped};
}

// One sendmmsg of 40 requests to 40 addresses, on each kind of socket and family: every
// request goes, every reply comes back matched by its sequence with its kernel timestamps, and
// the read takes more than one recvmmsg (40 > kReceiveBatch).
TEST_F(ProberNetns, ABatchOfProbesGetsEveryReplyMatched) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  constexpr int kCount = 40;
  ASSERT_EQ(sh(veth_pair6("ppt-a", "ppt-b") + "ip -n ppt-a addr add 10.201.0.1/24 dev va\n" +
               many_targets("ppt-b", kCount) +
               "ip netns exec ppt-a sysctl -qw net.ipv4.ping_group_range='0 2147483647'\n" +
               ipv6_ready("ppt-b", "vb", "fd00:201::" + std::to_string(10 + kCount - 1))),
            0);
  // The IPv4 addresses resolved first (as AFailedRequestInABatchFailsAloneAndTheRestGo does):
  // what is tested is the batch, not ARP on a veth pair that has just come up.
  ASSERT_EQ(sh("ip netns exec ppt-a sh -c 'for i in $(seq 10 " + std::to_string(10 + kCount - 1) +
               "); do ping -q -c1 -W3 10.201.0.$i >/dev/null || exit 1; done'\n"),
            0);
  const Cookie cookie{1, 2, 3, 4, 5, 6, 7, 8};
  EnterNetns in("ppt-a");
  ASSERT_TRUE(in.ok());
  for (SocketMode mode : {SocketMode::kRaw, SocketMode::kDatagram}) {
    for (bool v6 : {false, true}) {
      SCOPED_TRACE(std::string(to_string(mode)) + (v6 ? " ipv6" : " ipv4"));
      EchoBatch batch(v6);
      std::set<std::uint16_t> sent;
      auto run = [&](auto& socket) {
        for (int i = 0; i < kCount; ++i) {
          const std::string address =
              v6 ? "fd00:201::" + std::to_string(10 + i) : "10.201.0." + std::to_string(10 + i);
          const auto sequence = static_cast<std::uint16_t>(1000 + i);
          batch.add(*model::IpAddress::parse(address), {socket.identifier(), sequence, cookie, 56},
                    static_cast<std::uint32_t>(i));
          sent.insert(sequence);
        }
        std::vector<int> errors(kCount, -1);
        socket.send_batch(batch.messages(), errors);
        EXPECT_EQ(errors, std::vector<int>(kCount, 0));
        return errors;
      };
      if (v6) {
        auto socket = Icmp6Socket::open(mode, 0x6150);
        ASSERT_TRUE(socket) << socket.error();
        run(**socket);
        auto [replies, stamped] = collect<Icmp6Socket, Received6>(**socket, true, cookie, kCount);
        EXPECT_EQ(replies, sent);
        EXPECT_EQ(stamped, sent);
      } else {
        auto socket = IcmpSocket::open(mode, 0x5150);
        ASSERT_TRUE(socket) << socket.error();
        run(**socket);
        auto [replies, stamped] = collect<IcmpSocket, Received>(**socket, false, cookie, kCount);
        EXPECT_EQ(replies, sent);
        EXPECT_EQ(stamped, sent);
      }
    }
  }
}

// A batch whose middle request has no route: sendmmsg stops there, that request alone gets
// its errno, and the requests after it still go and are answered.
TEST_F(ProberNetns, AFailedRequestInABatchFailsAloneAndTheRestGo) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair("ppt-a", "ppt-b") + many_targets("ppt-b", 4) +
               "ip -n ppt-a route add unreachable 10.250.0.0/24\n"),
            0);
  // The answering addresses resolved first: what is tested is the batch, not the neighbour
  // discovery of a veth pair that has just come up (its replies came late or not at all).
  for (int i = 10; i < 14; ++i)
    ASSERT_EQ(
        sh("ip netns exec ppt-a ping -q -c1 -W3 10.201.0." + std::to_string(i) + " >/dev/null\n"),
        0)
        << i;
  const Cookie cookie{8, 7, 6, 5, 4, 3, 2, 1};
  EnterNetns in("ppt-a");
  ASSERT_TRUE(in.ok());
  auto socket = IcmpSocket::open(SocketMode::kRaw, 0x5150);
  ASSERT_TRUE(socket) << socket.error();
  EchoBatch batch(false);
  const char* addresses[] = {"10.201.0.10", "10.201.0.11", "10.250.0.1",
                             "10.201.0.12", "10.251.0.1",  "10.201.0.13"};
  for (std::uint16_t i = 0; i < 6; ++i)
    batch.add(*model::IpAddress::parse(addresses[i]), {(*socket)->identifier(), i, cookie, 56}, i);
  std::vector<int> errors(6, -1);
  (*socket)->send_batch(batch.messages(), errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0, EHOSTUNREACH, 0, ENETUNREACH, 0}));
  auto [replies, stamped] = collect<IcmpSocket, Received>(**socket, false, cookie, 4);
  EXPECT_EQ(replies, (std::set<std::uint16_t>{0, 1, 3, 5}));
}

// A dual-stack peer: its IPv4 and IPv6 addresses are probed side by side, each on its socket.
TEST_F(ProberNetns, Ipv6RawSocketMatchesEveryReplyOverVethBesideIpv4) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair6("ppt-a", "ppt-b") + "ip -n ppt-a addr add 10.201.0.1/24 dev va\n" +
               "ip -n ppt-b addr add 10.201.0.2/24 dev vb\n"),
            0);
  auto r = start_prober6("ppt-a", fast_config(), SocketMode::kRaw,
                         peer_set({make_peer("b", "10.201.0.2", nullptr),
                                   make_peer6("b", "fd00:201::2", "fd00:201::2")}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1500ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  ASSERT_TRUE(find(*s, "b", TargetKind::kOverlay));
  EXPECT_GE(find(*s, "b", TargetKind::kOverlay)->responses, 12u);
  EXPECT_EQ(s->targets.size(), 1u);  // the IPv6 targets stay out of the IPv4 list
  for (auto kind : {TargetKind::kOverlay, TargetKind::kUnderlay}) {
    auto t = find6(*s, "b", kind);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->family, model::Family::kIpv6);
    EXPECT_GE(t->requests, 12u);
    EXPECT_GE(t->responses + 1, t->requests);
    EXPECT_EQ(t->duplicates, 0u);
    EXPECT_EQ(t->late, 0u);
    EXPECT_TRUE(t->send_errors.empty());
    EXPECT_GT(mean_rtt(t), 0);
    EXPECT_LT(mean_rtt(t), 200e-6);
  }
  EXPECT_EQ(s->socket_mode_v6, "raw");
  EXPECT_TRUE(s->kernel_timestamps_v6);
  EXPECT_EQ(s->timestamp_fallbacks, 0u);
}

// The unprivileged socket: the kernel writes the socket's port into every request as the
// identifier and hands back only replies carrying it, so the loop must match on that one.
TEST_F(ProberNetns, Ipv6DatagramSocketUsesTheKernelsIdentifier) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair6("ppt-a", "ppt-b")), 0);
  // The IPv4 sysctl governs ICMPv6 datagram sockets too.
  ASSERT_EQ(sh("ip netns exec ppt-a sysctl -qw net.ipv4.ping_group_range='0 2147483647'"), 0);
  auto r = start_prober6("ppt-a", fast_config(), SocketMode::kDatagram,
                         peer_set({make_peer6("b", "fd00:201::2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1200ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  EXPECT_NE(r.identifier, 0x6150);  // the kernel's port, not the random identifier we offered
  EXPECT_EQ(s->socket_mode_v6, "datagram");
  auto t = find6(*s, "b", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 10u);
  EXPECT_GE(t->responses + 1, t->requests);
  EXPECT_LT(mean_rtt(t), 200e-6);
}

TEST_F(ProberNetns, Ipv6UnreachableIsCountedByReason) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(
      sh(veth_pair6("ppt-a", "ppt-b") + "ip -n ppt-a -6 route add unreachable fd00:250::/64\n"), 0);
  auto r = start_prober6("ppt-a", fast_config(), SocketMode::kRaw,
                         peer_set({make_peer6("gone", "fd00:250::9", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(1000ms);
  r.prober->stop();
  auto t = find6(*r.prober->snapshot(), "gone", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->requests, 5u);
  EXPECT_EQ(t->responses, 0u);
  EXPECT_GE(errors(t, "EHOSTUNREACH") + errors(t, "ENETUNREACH"), t->requests - 1);
}

TEST_F(ProberNetns, Ipv6ThirtyMillisecondPathReadsThirtyMilliseconds) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  DelayedPath path(15);
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(sh("ip -n ppt-a addr add fd00:203::1/64 dev ta nodad\n"
               "ip -n ppt-b addr add fd00:203::2/64 dev tb nodad\n" +
               ipv6_ready("ppt-a", "ta", "fd00:203::1", false) +
               ipv6_ready("ppt-b", "tb", "fd00:203::2", false)),
            0);
  auto config = fast_config();
  config.buckets.clear();
  for (int tenths = 280; tenths <= 340; ++tenths) config.buckets.push_back(tenths * 1e-4);
  auto r = start_prober6("ppt-a", config, SocketMode::kRaw,
                         peer_set({make_peer6("far", "fd00:203::2", nullptr)}));
  ASSERT_TRUE(r.prober);
  std::this_thread::sleep_for(3000ms);
  r.prober->stop();
  auto t = find6(*r.prober->snapshot(), "far", TargetKind::kOverlay);
  ASSERT_TRUE(t);
  EXPECT_GE(t->responses, 20u);
  EXPECT_GE(t->rtt.sum / t->rtt.count, 0.030);
  EXPECT_NEAR(median_rtt(t->rtt), 0.030, 0.030 * 0.02);
  EXPECT_EQ(r.prober->snapshot()->timestamp_fallbacks, 0u);
}

// a -- r -- b over IPv6, where the r--b link carries only 1400 bytes: r answers a's larger
// probes with ICMPv6 Packet Too Big naming 1400.
std::string router6_1400() {
  return no_dad({"ppt-a", "ppt-r", "ppt-b"}) +
         "ip link add va netns ppt-a type veth peer name ra netns ppt-r\n"
         "ip link add rb netns ppt-r mtu 1400 type veth peer name vb netns ppt-b mtu 1400\n"
         "ip netns exec ppt-r sysctl -qw net.ipv6.conf.all.forwarding=1\n"
         "ip -n ppt-a addr add fd00:204:1::1/64 dev va nodad\n"
         "ip -n ppt-r addr add fd00:204:1::2/64 dev ra nodad\n"
         "ip -n ppt-r addr add fd00:204:2::1/64 dev rb nodad\n"
         "ip -n ppt-b addr add fd00:204:2::2/64 dev vb nodad\n"
         "for l in ppt-a:va ppt-r:ra ppt-r:rb ppt-b:vb; do ip -n ${l%:*} link set ${l#*:} up; "
         "done\n" +
         ipv6_ready("ppt-a", "va", "fd00:204:1::1") + ipv6_ready("ppt-r", "ra", "fd00:204:1::2") +
         ipv6_ready("ppt-r", "rb", "fd00:204:2::1") + ipv6_ready("ppt-b", "vb", "fd00:204:2::2") +
         "ip -n ppt-a -6 route add fd00:204:2::/64 via fd00:204:1::2\n"
         "ip -n ppt-b -6 route add fd00:204:1::/64 via fd00:204:2::1\n";
}

std::optional<int> probed_mtu6(const Snapshot& s, const std::string& peer) {
  for (const auto& m : s.path_mtu_v6)
    if (m.labels.peer == peer) return m.bytes;
  return std::nullopt;
}

// The router's Packet Too Big reaches the socket's error queue (IPV6_RECVERR, EMSGSIZE with
// the MTU in ee_info) and the search jumps to it.
TEST_F(ProberNetns, Ipv6PathMtuFollowsPacketTooBigFromTheRouter) {
  Namespaces ns({"ppt-a", "ppt-r", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(router6_1400()), 0);
  ProberEnvironment env;
  env.overlay_mtu = [] { return 1500; };
  auto r = start_prober6("ppt-a", pmtu_config(), SocketMode::kRaw,
                         peer_set({make_peer6("b", "fd00:204:2::2", nullptr)}), env);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(wait_until([&] { return probed_mtu6(*r.prober->snapshot(), "b").has_value(); }, 12s));
  r.prober->stop();
  EXPECT_EQ(probed_mtu6(*r.prober->snapshot(), "b"), 1400);
  EXPECT_TRUE(r.prober->snapshot()->path_mtu.empty());  // nothing lands in the IPv4 results
}

TEST_F(ProberNetns, Ipv6PathMtuAboveTheLocalDeviceGetsEmsgsize) {
  Namespaces ns({"ppt-a", "ppt-b"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(veth_pair6("ppt-a", "ppt-b") + "ip -n ppt-a link set va mtu 1300\n" +
               "ip -n ppt-b link set vb mtu 1300\n"),
            0);
  ProberEnvironment env;
  env.overlay_mtu = [] { return 1500; };  // larger than the device: sendto refuses
  auto r = start_prober6("ppt-a", pmtu_config(), SocketMode::kRaw,
                         peer_set({make_peer6("b", "fd00:201::2", nullptr)}), env);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(wait_until([&] { return probed_mtu6(*r.prober->snapshot(), "b").has_value(); }, 12s));
  r.prober->stop();
  EXPECT_EQ(probed_mtu6(*r.prober->snapshot(), "b"), 1300);
}

// The IPv6 road as flannel's VXLAN backend programs it (pkg/backend/vxlan in flannel, its v6
// half): underlay fd00:77::N/64, a public address 2001:db8:77::N on the same link,
// flannel-v6.1 with fd00:42:N::/128, and for the other node an FDB entry to its underlay, a
// permanent neighbour and an onlink route to its IPv6 pod subnet.
constexpr const char* kMac6_1 = "0a:00:00:00:06:01";
constexpr const char* kMac6_2 = "0a:00:00:00:06:02";

std::string flannel_pair6() {
  std::string s =
      no_dad({"ppt-n1", "ppt-n2"}) +
      "ip link add u1 netns ppt-n1 type veth peer name u2 netns ppt-n2\n"
      "ip -n ppt-n1 addr add fd00:77::1/64 dev u1 nodad\n"
      "ip -n ppt-n2 addr add fd00:77::2/64 dev u2 nodad\n"
      "ip -n ppt-n1 addr add 2001:db8:77::1/64 dev u1 nodad\n"
      "ip -n ppt-n2 addr add 2001:db8:77::2/64 dev u2 nodad\n"
      "ip -n ppt-n1 link set u1 up\nip -n ppt-n2 link set u2 up\n" +
      ipv6_ready("ppt-n1", "u1", "fd00:77::1") + ipv6_ready("ppt-n1", "u1", "2001:db8:77::1") +
      ipv6_ready("ppt-n2", "u2", "fd00:77::2") + ipv6_ready("ppt-n2", "u2", "2001:db8:77::2");
  auto node = [](int me, int other, const char* my_mac, const char* other_mac) {
    const std::string n = "ppt-n" + std::to_string(me);
    const std::string m = std::to_string(me), o = std::to_string(other);
    return "ip -n " + n + " link add flannel-v6.1 type vxlan id 1 local fd00:77::" + m + " dev u" +
           m + " dstport 8472 nolearning\n" + "ip -n " + n + " link set flannel-v6.1 address " +
           my_mac + " mtu 1430 up\n" + "ip -n " + n + " addr add fd00:42:" + m +
           "::/128 dev flannel-v6.1 nodad\n" + "ip netns exec " + n + " bridge fdb append " +
           other_mac + " dev flannel-v6.1 dst fd00:77::" + o + "\n" + "ip -n " + n +
           " -6 neigh replace fd00:42:" + o + ":: lladdr " + other_mac +
           " dev flannel-v6.1 nud permanent\n" +
           ipv6_ready(n, "flannel-v6.1", "fd00:42:" + m + "::", false) + "ip -n " + n +
           " -6 route replace fd00:42:" + o + "::/64 via fd00:42:" + o +
           ":: dev flannel-v6.1 onlink\n";
  };
  return s + node(1, 2, kMac6_1, kMac6_2) + node(2, 1, kMac6_2, kMac6_1);
}

// n2's IPv6 road: the VTEP on the private underlay, its public address an IPv6 ExternalIP.
std::shared_ptr<model::PeerSet> flannel_peers6() {
  auto n2 = make_peer6("n2", "fd00:42:2::", "fd00:77::2");
  n2.vtep_mac = kMac6_2;
  n2.external_addresses = {*model::IpAddress::parse("2001:db8:77::2")};
  n2.in_cluster = true;
  return peer_set({n2});
}

ProberEnvironment flannel_env6() {
  ProberEnvironment env;
  env.local_vtep6 = [] {
    return LocalVtep6{1, *parse_mac(kMac6_1), *model::IpAddress::parse("fd00:42:1::")};
  };
  return env;
}

std::optional<bool> exposed6(const Snapshot& s, const char* address) {
  for (const auto& e : s.exposure)
    if (e.address.to_string() == address && e.labels.family == model::Family::kIpv6)
      return e.exposed;
  return std::nullopt;
}

// The frame over UDP/IPv6 to the public address reaches flannel-v6.1, whose ICMPv6 echo reply
// comes back over the overlay to the ICMPv6 socket; then 8472 over IPv6 is closed on the public
// address and the check turns to 0 while the overlay keeps answering over the private underlay.
TEST_F(ProberNetns, Ipv6ExposureProbeSeesAnOpenThenFirewalledVxlanPort) {
  Namespaces ns({"ppt-n1", "ppt-n2"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(sh(flannel_pair6()), 0);
  auto config = fast_config();
  config.timeout = 200ms;
  config.exposure_interval = 300ms;
  auto r =
      start_prober6("ppt-n1", config, SocketMode::kRaw, flannel_peers6(), flannel_env6(), true);
  ASSERT_TRUE(r.prober);
  EXPECT_TRUE(
      wait_until([&] { return exposed6(*r.prober->snapshot(), "2001:db8:77::2") == true; }, 3s));
  {
    auto s = r.prober->snapshot();
    ASSERT_EQ(s->exposure.size(), 1u) << "the private VTEP fd00:77::2 is never checked";
    EXPECT_EQ(s->exposure[0].labels.family, model::Family::kIpv6);
  }
  ASSERT_EQ(sh("ip netns exec ppt-n2 nft add table inet f\n"
               "ip netns exec ppt-n2 nft add chain inet f in '{ type filter hook input priority "
               "0; }'\n"
               "ip netns exec ppt-n2 nft add rule inet f in ip6 daddr 2001:db8:77::2 udp dport "
               "8472 drop\n"),
            0);
  EXPECT_TRUE(
      wait_until([&] { return exposed6(*r.prober->snapshot(), "2001:db8:77::2") == false; }, 3s));
  auto before = *find6(*r.prober->snapshot(), "n2", TargetKind::kOverlay);
  std::this_thread::sleep_for(500ms);
  r.prober->stop();
  auto s = r.prober->snapshot();
  auto overlay = find6(*s, "n2", TargetKind::kOverlay);
  ASSERT_TRUE(overlay);
  EXPECT_GT(overlay->responses, before.responses) << "the overlay itself must still answer";
  EXPECT_EQ(exposed6(*s, "2001:db8:77::2"), false);
}

}  // namespace
}  // namespace podpath::prober
