// flannel's IPv6 road read from the live kernel, in a namespace of its own: flannel-v6.1 and
// one peer programmed exactly as flannel's vxlan backend does for IPv6
// (flannel-io/flannel pkg/backend/vxlan/vxlan_network.go handleSubnetEvents and device.go
// AddV6ARP/AddV6FDB: a permanent neighbour of the peer subnet's network address with its
// backend-v6-data VtepMAC, an FDB entry of that MAC to its public-ipv6, and an onlink route
// via that network address). The kernel-only peer set, the peer's route lookups and the
// IPv6 routes and rules must come out of one read.
//
// Needs root (it creates a namespace); skipped otherwise. The namespace is ppt-v6-<pid>.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "netlink/kernel_peers.h"
#include "netlink/reader.h"
#include "testlib.h"

namespace podpath::netlink {
namespace {

using testing::run;

class Ipv6KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: creates a network namespace";
    ns_ = "ppt-v6-" + std::to_string(getpid());
    const std::string n = "ip -n " + ns_ + " ";
    // No automatic link-local addresses and no duplicate address detection: the dump then
    // holds exactly what is added here, at once.
    const std::string script =
        "set -e\nip netns add " + ns_ + "\n" + "ip netns exec " + ns_ +
        " sysctl -qw net.ipv6.conf.all.addr_gen_mode=1 net.ipv6.conf.default.addr_gen_mode=1"
        " net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0\n" +
        n + "link set lo up\n" + n + "link add eth0 mtu 1500 type veth peer name eth0-far\n" + n +
        "link set eth0-far up\n" + n + "link set eth0 up\n" + n +
        "addr add fdac:1a26::2/64 dev eth0 nodad\n" + n +
        "link add flannel-v6.1 address 36:7e:0c:1f:90:2a type vxlan id 1 local fdac:1a26::2 "
        "dev eth0 dstport 8472 nolearning\n" +
        n + "link set flannel-v6.1 up\n" + n +
        "addr add 2001:cafe:42:2::/128 dev flannel-v6.1 nodad\n" + n +
        "neigh replace 2001:cafe:42:1:: lladdr 36:7e:0c:1f:90:01 dev flannel-v6.1 nud permanent\n" +
        "bridge -n " + ns_ +
        " fdb append 36:7e:0c:1f:90:01 dst fdac:1a26::3 dev flannel-v6.1 self permanent\n" + n +
        "-6 route replace 2001:cafe:42:1::/64 via 2001:cafe:42:1:: dev flannel-v6.1 onlink\n" + n +
        "-6 rule add priority 5270 lookup 52\n";
    int status = 0;
    std::string out = run("bash -c '" + script + "' 2>&1", &status);
    ASSERT_EQ(status, 0) << out;
    original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_TRUE(original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0)
        << std::strerror(errno);
    close(target);
  }

  void TearDown() override {
    if (original_ >= 0) {
      setns(original_, CLONE_NEWNET);
      close(original_);
    }
    if (!ns_.empty()) run("ip netns del " + ns_ + " 2>/dev/null");
  }

  std::string ns_;
  int original_ = -1;
};

TEST_F(Ipv6KernelTest, FlannelsIpv6PeerIsReadFromTheKernelAloneAndItsRoadLookedUp) {
  NetlinkSource source;
  KernelRead read = read_kernel(source, model::PeerSet{});
  ASSERT_TRUE(read.ok()) << read.error;
  const KernelSnapshot& s = read.snapshot;

  auto peers = kernel_peers(s, std::regex("flannel(-v6)?\\.[0-9]+"));
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].pod_subnet.to_string(), "2001:cafe:42:1::/64");
  EXPECT_EQ(peers[0].family(), model::Family::kIpv6);
  EXPECT_EQ(peers[0].gateway->to_string(), "2001:cafe:42:1::");
  EXPECT_EQ(peers[0].vtep_mac, "36:7e:0c:1f:90:01");
  ASSERT_TRUE(peers[0].vtep_address);
  EXPECT_EQ(peers[0].vtep_address->to_string(), "fdac:1a26::3");
  EXPECT_EQ(peers[0].device, "flannel-v6.1");

  const Link* v6 = s.link_by_name("flannel-v6.1");
  ASSERT_NE(v6, nullptr);
  ASSERT_TRUE(v6->vxlan);
  EXPECT_EQ(v6->vxlan->local, "fdac:1a26::2");
  EXPECT_EQ(v6->vxlan->underlay_device, "eth0");
  // The kernel caps an IPv6 VXLAN device at its underlay's MTU minus 70 (VXLAN6_HEADROOM).
  EXPECT_EQ(v6->mtu, 1430u);
  EXPECT_TRUE(std::any_of(s.rules.begin(), s.rules.end(), [](const Rule& r) {
    return r.family == model::Family::kIpv6 && r.priority == 5270 && r.table == 52;
  }));

  // Kernel-only mode: the peer is named by its subnet, an IPv6 road, and looked up as such.
  model::PeerSet set = model::merge_peers("self", std::nullopt, peers);
  ASSERT_EQ(set.peers.size(), 1u);
  EXPECT_EQ(set.peers[0].family, model::Family::kIpv6);
  read = read_kernel(source, set);
  ASSERT_TRUE(read.ok()) << read.error;
  ASSERT_EQ(read.snapshot.peer_routes.size(), 1u);
  const PeerRoutes& routes = read.snapshot.peer_routes[0];
  EXPECT_EQ(routes.family, model::Family::kIpv6);
  ASSERT_TRUE(routes.overlay && routes.overlay->ok()) << routes.overlay->error_name;
  EXPECT_EQ(routes.overlay->device, "flannel-v6.1");
  EXPECT_EQ(table_name(routes.overlay->table), "main");
  ASSERT_TRUE(routes.underlay && routes.underlay->ok());
  EXPECT_EQ(routes.underlay->device, "eth0");
  EXPECT_EQ(routes.underlay->destination.to_string(), "fdac:1a26::3");
}

}  // namespace
}  // namespace podpath::netlink
