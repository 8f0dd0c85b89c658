// podpath-delay-relay: an emulated long path for the prober's benchmark and tests. The kernel
// here has no netem, so delay is made in user space: two tun devices, possibly in different
// network namespaces, and every packet read from one is written to the other after a fixed
// one-way delay.
//
//   podpath-delay-relay --delay-ms 15 [--spin-us 500] NETNS_A:TUN_A NETNS_B:TUN_B
//
// The tun devices must exist (ip tuntap add dev X mode tun); TUNSETIFF attaches in the
// caller's namespace, so the relay enters each namespace before opening its device. It prints
// "ready" once both are attached. NETNS "-" means the current namespace.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

namespace {

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int open_tun(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos) return -1;
  std::string netns = spec.substr(0, colon), name = spec.substr(colon + 1);
  if (netns != "-") {
    int ns = open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
      perror(("setns " + netns).c_str());
      return -1;
    }
    close(ns);
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  ifreq request{};
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &request) != 0) {
    perror(("TUNSETIFF " + name).c_str());
    return -1;
  }
  return fd;
}

struct Held {
  std::int64_t release_ns;
  std::vector<std::uint8_t> packet;
};

}  // namespace

int main(int argc, char** argv) {
  double delay_ms = 15;
  double spin_us = 500;
  std::vector<std::string> ends;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--delay-ms" && i + 1 < argc) {
      delay_ms = std::atof(argv[++i]);
    } else if (arg == "--spin-us" && i + 1 < argc) {
      spin_us = std::atof(argv[++i]);
    } else {
      ends.push_back(arg);
    }
  }
  if (ends.size() != 2) {
    std::fprintf(stderr, "usage: %s --delay-ms MS [--spin-us US] NETNS_A:TUN_A NETNS_B:TUN_B\n",
                 argv[0]);
    return 2;
  }
  // The default 50 us timer slack would add up to 50 us to every release.
  prctl(PR_SET_TIMERSLACK, 1UL);
  int fds[2] = {open_tun(ends[0]), open_tun(ends[1])};
  if (fds[0] < 0 || fds[1] < 0) return 1;
  std::printf("ready\n");
  std::fflush(stdout);
  const auto delay = static_cast<std::int64_t>(delay_ms * 1e6);
  const auto spin = static_cast<std::int64_t>(spin_us * 1e3);
  std::deque<Held> queues[2];  // queues[i]: read from fds[i], to be written to fds[1 - i]
  std::vector<std::uint8_t> buffer(65536);
  while (true) {
    std::int64_t now = now_ns();
    for (auto& q : queues) {
      while (!q.empty() && q.front().release_ns <= now) {
        int to = &q == &queues[0] ? fds[1] : fds[0];
        [[maybe_unused]] auto n = write(to, q.front().packet.data(), q.front().packet.size());
        q.pop_front();
      }
    }
    std::int64_t next = -1;
    for (auto& q : queues)
      if (!q.empty() && (next < 0 || q.front().release_ns < next)) next = q.front().release_ns;
    timespec wait{};
    timespec* timeout = nullptr;
    if (next >= 0) {
      // Sleep until shortly before the release and spin the rest: waking a vCPU from idle
      // costs this VM about 0.25 ms, which a 30 ms path would otherwise read as 30.5 ms.
      std::int64_t left = std::max<std::int64_t>(next - now - spin, 0);
      wait.tv_sec = left / 1'000'000'000;
      wait.tv_nsec = left % 1'000'000'000;
      timeout = &wait;
    }
    pollfd pfds[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    // ppoll takes nanoseconds (an hrtimer); with the slack at 1 ns releases are on time.
    ppoll(pfds, 2, timeout, nullptr);
    for (int i = 0; i < 2; ++i) {
      if (!(pfds[i].revents & POLLIN)) continue;
      while (true) {
        ssize_t n = read(fds[i], buffer.data(), buffer.size());
        if (n <= 0) break;
        queues[i].push_back({now_ns() + delay, {buffer.begin(), buffer.begin() + n}});
      }
    }
  }
}
