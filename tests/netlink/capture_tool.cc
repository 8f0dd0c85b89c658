// podpath_netlink_capture: records this network namespace's rtnetlink replies (the raw
// bytes podpath parses) and iproute2's JSON for the same state into a directory, for the
// unit tests to parse back. Used by tests/netlink/capture.sh.
//
//   podpath_netlink_capture DIR [--attach-tun NAME]
//
// --attach-tun holds the named tun device open while capturing, since a tun has no
// carrier until a process attaches.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>

#include "testlib.h"

int main(int argc, char** argv) {
  using namespace podpath::netlink;
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: podpath_netlink_capture DIR [--attach-tun NAME]\n";
    return 2;
  }
  const std::string dir = argv[1];
  int tun = -1;
  if (argc == 4) {
    tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq request{};
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(request.ifr_name, argv[3], IFNAMSIZ - 1);
    if (tun < 0 || ioctl(tun, TUNSETIFF, &request) != 0) {
      std::cerr << "cannot attach to tun " << argv[3] << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    // Carrier changes reach operstate through the kernel's linkwatch, up to a second later.
    sleep(2);
  }
  NetlinkSource source;
  auto session = source.open();
  if (!session) {
    std::cerr << session.error() << "\n";
    return 1;
  }
  auto destinations = testing::topology_destinations();
  std::string error = testing::save_capture(**session, destinations, dir);
  if (!error.empty()) {
    std::cerr << error << "\n";
    return 1;
  }
  testing::save_iproute2(testing::run_iproute2("", destinations), dir);
  if (tun >= 0) close(tun);
  std::cout << "captured into " << dir << "\n";
  return 0;
}
