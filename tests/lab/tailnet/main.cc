// podpath-lab-tailnet: the lab's stand-in for Tailscale. One process, one epoll thread:
//  - owns every node's tailscale0 tun (opened inside the node's namespace with setns, since
//    TUNSETIFF attaches in the caller's namespace) and forwards IP packets between them by
//    WireGuard-style AllowedIPs;
//  - holds each packet for its pair's one-way delay (direct, DERP) or drops it (blocked), since
//    the lab kernel has no netem;
//  - serves each node's LocalAPI socket (status, usermetrics) from the same state;
//  - reloads its JSON configuration on SIGHUP or on "reload" over the control socket, so
//    scenarios switch paths without a restart and without losing counters.
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "localapi.h"
#include "relay.h"
#include "status.h"

namespace podpath::lab {
namespace {

using Mono = std::chrono::steady_clock;

constexpr size_t kMaxHeldPackets = 200000;  // about 256 MB at MTU 1280: beyond it, drop
constexpr size_t kMaxConnBuffer = 1 << 20;

template <typename... Args>
void Log(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S} tailnet: {}\n", fmt::localtime(std::time(nullptr)),
             fmt::format(f, std::forward<Args>(args)...));
}

std::runtime_error SysError(const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Opens (attaches to) tun device `name` inside the namespace at `netns_path`, then returns to
// the namespace we came from. Only safe because this process has a single thread: setns
// switches the calling thread.
Fd OpenTunIn(const std::string& netns_path, const std::string& name) {
  Fd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (home.get() < 0) throw SysError("open /proc/self/ns/net");
  Fd target(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (target.get() < 0) throw SysError("open " + netns_path);
  if (::setns(target.get(), CLONE_NEWNET) < 0) throw SysError("setns " + netns_path);
  Fd tun(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  int saved_errno = errno;
  bool ok = false;
  if (tun.get() >= 0) {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ok = ::ioctl(tun.get(), TUNSETIFF, &ifr) == 0;
    saved_errno = errno;
  }
  if (::setns(home.get(), CLONE_NEWNET) < 0) {
    // Staying in a node's namespace would silently mis-attach every later tun.
    Log("cannot return to own network namespace: {}", std::strerror(errno));
    std::abort();
  }
  if (!ok) {
    errno = saved_errno;
    throw SysError(fmt::format("attach tun {} in {}", name, netns_path));
  }
  return tun;
}

Fd ListenUnix(const std::string& path, mode_t mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("socket path too long: " + path);
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw SysError("socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    throw SysError("bind " + path);
  }
  // tailscaled's socket is world-writable so unprivileged readers (the exporter) can use it.
  ::chmod(path.c_str(), mode);
  if (::listen(fd.get(), 64) < 0) throw SysError("listen " + path);
  return fd;
}

struct HeldPacket {
  Mono::time_point due;
  uint64_t seq;  // keeps FIFO order among packets due at the same instant
  std::string from, to;
  PathMode mode;
  std::vector<uint8_t> bytes;
};

struct LaterFirst {
  bool operator()(const std::unique_ptr<HeldPacket>& a,
                  const std::unique_ptr<HeldPacket>& b) const {
    return a->due != b->due ? a->due > b->due : a->seq > b->seq;
  }
};

enum class Kind { kSignal, kTimer, kControlListen, kControlConn, kTun, kApiListen, kApiConn };

struct Watched {
  Kind kind;
  std::string node;  // for tuns, API listeners and API connections
};

struct Conn {
  Fd fd;
  std::string node;
  std::string in, out;
  bool close_after_write = false;
};

struct Attached {
  Fd fd;
  std::string netns, tun;
};

struct Listening {
  Fd fd;
  std::string path;
};

class Emulator {
 public:
  Emulator(std::string config_path, std::string control_path)
      : config_path_(std::move(config_path)), control_path_(std::move(control_path)) {}

  void Run() {
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) throw SysError("epoll_create1");

    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signal_ = Fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
    if (signal_.get() < 0) throw SysError("signalfd");
    Watch(signal_.get(), EPOLLIN, {Kind::kSignal, ""});

    timer_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (timer_.get() < 0) throw SysError("timerfd_create");
    Watch(timer_.get(), EPOLLIN, {Kind::kTimer, ""});

    control_ = ListenUnix(control_path_, 0600);
    Watch(control_.get(), EPOLLIN, {Kind::kControlListen, ""});

    created_ = std::chrono::system_clock::now();
    std::string err = Reload();
    if (!err.empty()) throw std::runtime_error(err);
    Log("running: {} nodes, {} pair overrides", config_->nodes.size(), config_->pairs.size());

    epoll_event events[64];
    while (running_) {
      int n = ::epoll_wait(epoll_.get(), events, 64, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw SysError("epoll_wait");
      }
      for (int i = 0; i < n; ++i) Dispatch(events[i].data.fd, events[i].events);
      DeliverDue();
    }
    for (auto& [name, l] : apis_) ::unlink(l.path.c_str());
    ::unlink(control_path_.c_str());
    Log("stopped");
  }

 private:
  void Watch(int fd, uint32_t events, Watched what) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw SysError("epoll_ctl");
    watched_[fd] = std::move(what);
  }

  void Unwatch(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    watched_.erase(fd);
  }

  // Loads the configuration file and reconciles tuns and LocalAPI sockets with it. Returns an
  // error text, leaving the previous configuration in force, when the file is unusable.
  std::string Reload() {
    std::unique_ptr<Config> next;
    try {
      next = std::make_unique<Config>(LoadConfigFile(config_path_));
    } catch (const std::exception& e) {
      Log("reload refused: {}", e.what());
      return e.what();
    }
    std::string problems;
    // Tuns: keep the attachments that did not change, so traffic in flight is undisturbed.
    std::map<std::string, Attached> tuns;
    for (const auto& n : next->nodes) {
      auto it = tuns_.find(n.name);
      if (it != tuns_.end() && it->second.netns == n.netns && it->second.tun == n.tun) {
        tuns[n.name] = std::move(it->second);
        tuns_.erase(it);
        watched_[tuns[n.name].fd.get()].node = n.name;
        continue;
      }
      try {
        Attached a{OpenTunIn(n.netns, n.tun), n.netns, n.tun};
        Watch(a.fd.get(), EPOLLIN, {Kind::kTun, n.name});
        tuns[n.name] = std::move(a);
      } catch (const std::exception& e) {
        problems += fmt::format("{}: {}; ", n.name, e.what());
      }
    }
    for (auto& [name, a] : tuns_) Unwatch(a.fd.get());
    tuns_ = std::move(tuns);

    std::map<std::string, Listening> apis;
    for (const auto& n : next->nodes) {
      if (n.socket.empty()) continue;
      auto it = apis_.find(n.name);
      if (it != apis_.end() && it->second.path == n.socket) {
        apis[n.name] = std::move(it->second);
        apis_.erase(it);
        continue;
      }
      try {
        Listening l{ListenUnix(n.socket, 0666), n.socket};
        Watch(l.fd.get(), EPOLLIN, {Kind::kApiListen, n.name});
        apis[n.name] = std::move(l);
      } catch (const std::exception& e) {
        problems += fmt::format("{}: {}; ", n.name, e.what());
      }
    }
    for (auto& [name, l] : apis_) {
      Unwatch(l.fd.get());
      ::unlink(l.path.c_str());
    }
    apis_ = std::move(apis);

    config_ = std::move(next);
    router_ = std::make_unique<Router>(*config_);
    rng_.seed(config_->seed);
    if (!problems.empty()) Log("reload: {}", problems);
    Log("configuration loaded from {}", config_path_);
    return problems;
  }

  void Dispatch(int fd, uint32_t events) {
    auto it = watched_.find(fd);
    if (it == watched_.end()) return;
    Watched what = it->second;
    switch (what.kind) {
      case Kind::kSignal:
        OnSignal();
        break;
      case Kind::kTimer: {
        uint64_t expirations;
        while (::read(fd, &expirations, sizeof expirations) > 0) {
        }
        break;
      }
      case Kind::kTun:
        OnTun(fd, what.node);
        break;
      case Kind::kControlListen:
      case Kind::kApiListen:
        Accept(fd, what);
        break;
      case Kind::kControlConn:
      case Kind::kApiConn:
        OnConn(fd, what, events);
        break;
    }
  }

  void OnSignal() {
    signalfd_siginfo info;
    while (::read(signal_.get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGHUP) {
        Reload();
      } else {
        running_ = false;
      }
    }
  }

  void OnTun(int fd, const std::string& node) {
    auto self = config_->Find(node);
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) Log("{}: read tun: {}", node, std::strerror(errno));
        return;
      }
      if (!self) continue;
      std::span<const uint8_t> pkt(buf, static_cast<size_t>(n));
      Verdict v = router_->Route(*self, pkt, rng_);
      auto now = std::chrono::system_clock::now();
      if (v.sent) {
        RecordSend(traffic_, node, config_->nodes[v.to].name, v.mode, pkt.size(), now);
      }
      if (v.drop != DropReason::kNone) {
        traffic_[node].drops[std::string(DropReasonName(v.drop))]++;
        continue;
      }
      if (held_.size() >= kMaxHeldPackets) {
        traffic_[node].drops["queue_full"]++;
        continue;
      }
      auto delay = std::chrono::duration_cast<Mono::duration>(
          std::chrono::duration<double, std::milli>(v.delay_ms));
      held_.push(std::make_unique<HeldPacket>(HeldPacket{Mono::now() + delay,
                                                         seq_++,
                                                         node,
                                                         config_->nodes[v.to].name,
                                                         v.mode,
                                                         {pkt.begin(), pkt.end()}}));
    }
  }

  void DeliverDue() {
    auto now = Mono::now();
    while (!held_.empty() && held_.top()->due <= now) {
      const HeldPacket& p = *held_.top();
      auto it = tuns_.find(p.to);
      if (it != tuns_.end()) {
        if (::write(it->second.fd.get(), p.bytes.data(), p.bytes.size()) >= 0) {
          RecordReceive(traffic_, p.from, p.to, p.mode, p.bytes.size(),
                        std::chrono::system_clock::now());
        } else {
          traffic_[p.to].drops["write_error"]++;
        }
      }
      held_.pop();
    }
    itimerspec spec{};
    if (!held_.empty()) {
      auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(held_.top()->due.time_since_epoch())
              .count();
      spec.it_value.tv_sec = ns / 1000000000;
      spec.it_value.tv_nsec = ns % 1000000000;
    }
    // steady_clock is CLOCK_MONOTONIC on Linux, so its epoch matches the timerfd's.
    ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void Accept(int fd, const Watched& what) {
    for (;;) {
      int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;
      Kind kind = what.kind == Kind::kControlListen ? Kind::kControlConn : Kind::kApiConn;
      conns_[c] = Conn{Fd(c), what.node, {}, {}, false};
      Watch(c, EPOLLIN | EPOLLRDHUP, {kind, what.node});
    }
  }

  void CloseConn(int fd) {
    Unwatch(fd);
    conns_.erase(fd);
  }

  void OnConn(int fd, const Watched& what, uint32_t events) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    bool eof = false;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > kMaxConnBuffer) eof = true;
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
    if (what.kind == Kind::kControlConn) {
      size_t nl;
      while ((nl = c.in.find('\n')) != std::string::npos) {
        c.out += Control(c.in.substr(0, nl));
        c.in.erase(0, nl + 1);
      }
    } else {
      ServeApi(c);
    }
    if (!Flush(c) || ((eof || c.close_after_write) && c.out.empty()) || (events & EPOLLERR)) {
      CloseConn(fd);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    ev.data.fd = fd;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
  }

  // Writes what it can; false when the peer is gone.
  static bool Flush(Conn& c) {
    while (!c.out.empty()) {
      ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      c.out.erase(0, static_cast<size_t>(n));
    }
    return true;
  }

  void ServeApi(Conn& c) {
    while (!c.close_after_write) {
      HttpRequest req;
      size_t used = 0;
      ParseStatus st = ParseRequest(c.in, req, used);
      if (st == ParseStatus::kIncomplete) return;
      if (st == ParseStatus::kBad) {
        c.out +=
            SerializeResponse({400, "text/plain; charset=utf-8", "400 Bad Request\n"}, false, "");
        c.close_after_write = true;
        return;
      }
      c.in.erase(0, used);
      auto self = config_->Find(c.node);
      if (!self) {
        c.out += SerializeResponse({503, "text/plain; charset=utf-8", "node removed\n"}, false, "");
        c.close_after_write = true;
        return;
      }
      LocalAPIHandlers handlers{[&](bool peers) {
                                  return BuildStatus(*config_, *self, traffic_, peers, created_,
                                                     std::chrono::system_clock::now());
                                },
                                [&] { return BuildUserMetrics(*config_, *self, traffic_); }};
      HttpResponse resp = HandleLocalAPI(req, handlers);
      c.out += SerializeResponse(resp, req.keep_alive, config_->version);
      if (!req.keep_alive) c.close_after_write = true;
    }
  }

  // One command per line: "reload" re-reads the configuration, "dump" prints counters.
  std::string Control(const std::string& line) {
    if (line == "reload") {
      std::string err = Reload();
      return err.empty() ? "ok\n" : fmt::format("error: {}\n", err);
    }
    if (line == "dump") {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [node, t] : traffic_) {
        auto& n = out[node];
        for (const auto& [peer, pt] : t.peers) {
          n["peers"][peer] = {{"rx_bytes", pt.rx_bytes}, {"tx_bytes", pt.tx_bytes}};
        }
        for (const auto& [reason, count] : t.drops) n["drops"][reason] = count;
      }
      return out.dump() + "\n";
    }
    return fmt::format("error: unknown command '{}' (reload, dump)\n", line);
  }

  std::string config_path_, control_path_;
  Fd epoll_, signal_, timer_, control_;
  std::map<int, Watched> watched_;
  std::map<int, Conn> conns_;
  std::map<std::string, Attached> tuns_;   // by node name
  std::map<std::string, Listening> apis_;  // by node name
  std::unique_ptr<Config> config_;
  std::unique_ptr<Router> router_;
  std::mt19937_64 rng_;
  std::priority_queue<std::unique_ptr<HeldPacket>, std::vector<std::unique_ptr<HeldPacket>>,
                      LaterFirst>
      held_;
  uint64_t seq_ = 0;
  Traffic traffic_;
  std::chrono::system_clock::time_point created_;
  bool running_ = true;
};

constexpr const char* kUsage =
    "usage: podpath-lab-tailnet --config FILE --control SOCKET\n"
    "  FILE    JSON rendered by tests/lab/lab (see tests/lab/README.md)\n"
    "  SOCKET  Unix socket taking 'reload' and 'dump' commands, one per line\n";

}  // namespace
}  // namespace podpath::lab

int main(int argc, char** argv) {
  std::string config, control;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--config" || arg == "--control") && i + 1 < argc) {
      (arg == "--config" ? config : control) = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      fmt::print("{}", podpath::lab::kUsage);
      return 0;
    } else {
      fmt::print(stderr, "unknown argument '{}'\n{}", arg, podpath::lab::kUsage);
      return 2;
    }
  }
  if (config.empty() || control.empty()) {
    fmt::print(stderr, "--config and --control are required\n{}", podpath::lab::kUsage);
    return 2;
  }
  try {
    podpath::lab::Emulator(config, control).Run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "podpath-lab-tailnet: {}\n", e.what());
    return 1;
  }
  return 0;
}
