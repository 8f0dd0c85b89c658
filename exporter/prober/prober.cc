#include "prober/prober.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <stdexcept>

#include "base/errno.h"

namespace podpath::prober {

Prober::Prober(ProberConfig config, ProberEnvironment environment,
               std::unique_ptr<IcmpChannel> icmp, std::unique_ptr<UdpChannel> udp)
    : Prober(std::move(config), std::move(environment), std::move(icmp), nullptr, std::move(udp)) {}

Prober::Prober(ProberConfig config, ProberEnvironment environment,
               std::unique_ptr<IcmpChannel> icmp, std::unique_ptr<Icmp6Channel> icmp6,
               std::unique_ptr<UdpChannel> udp)
    : log_(environment.log),
      icmp_(std::move(icmp)),
      icmp6_(std::move(icmp6)),
      udp_(std::move(udp)),
      loop_(std::move(config), std::move(environment), *icmp_, icmp6_.get(), udp_.get(),
            [this](std::shared_ptr<const Snapshot> snapshot) { store(std::move(snapshot)); }) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || wake_fd_ < 0)
    throw std::runtime_error("prober: cannot create epoll/timerfd/eventfd");
  for (int fd : {icmp_->fd(), icmp6_ ? icmp6_->fd() : -1, timer_fd_, wake_fd_}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;  // EPOLLERR (the error queue) is always reported
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  auto empty = std::make_shared<Snapshot>();
  empty->socket_mode = std::string(to_string(icmp_->mode()));
  empty->kernel_timestamps = icmp_->kernel_timestamps();
  if (icmp6_) {
    empty->socket_mode_v6 = std::string(to_string(icmp6_->mode()));
    empty->kernel_timestamps_v6 = icmp6_->kernel_timestamps();
  }
  snapshot_ = empty;
}

Prober::~Prober() {
  stop();
  close(epoll_fd_);
  close(timer_fd_);
  close(wake_fd_);
}

void Prober::start() {
  thread_ = std::thread([this] { run(); });
}

void Prober::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void Prober::set_peers(std::shared_ptr<const model::PeerSet> peers) {
  {
    std::lock_guard lock(mutex_);
    pending_peers_ = std::move(peers);
  }
  wake();
}

std::shared_ptr<const Snapshot> Prober::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void Prober::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

void Prober::store(std::shared_ptr<const Snapshot> snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
}

void Prober::run() {
  Ready ready;  // the first turn reads every queue
  while (true) {
    std::shared_ptr<const model::PeerSet> peers;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      peers = std::move(pending_peers_);
      pending_peers_.reset();
    }
    ready = wait_for(loop_.turn(peers.get(), ready));
  }
}

Ready Prober::wait_for(std::optional<std::int64_t> next_turn_ns) {
  // The timer is set only when the next turn moved or the timer fired: a turn woken by a reply
  // usually keeps the time the last one asked for. Setting it also clears a fired timer's
  // readiness (fs/timerfd.c, timerfd_setup() zeroes the expiry count), so the expiry count is
  // never read.
  if (timer_fired_ || next_turn_ns != armed_ns_) {
    itimerspec spec{};  // all zero disarms the timer
    if (next_turn_ns) {
      spec.it_value.tv_sec = *next_turn_ns / 1'000'000'000;
      spec.it_value.tv_nsec = *next_turn_ns % 1'000'000'000;
    }
    timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
    armed_ns_ = next_turn_ns;
    timer_fired_ = false;
  }

  epoll_event events[8];
  int n = epoll_wait(epoll_fd_, events, 8, -1);
  if (n < 0 && errno != EINTR && log_) {
    log_->warn_every("prober-epoll", std::chrono::seconds(60), "prober: epoll_wait failed",
                     {{"err", base::errno_name(errno)}});
  }
  Ready ready{false, false, false, false};
  if (n < 0) return Ready{};  // nothing known: read them all
  const int icmp6_fd = icmp6_ ? icmp6_->fd() : -1;
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    const std::uint32_t what = events[i].events;
    if (fd == timer_fd_) {
      timer_fired_ = true;
    } else if (fd == wake_fd_) {
      std::uint64_t count;
      [[maybe_unused]] auto r = read(fd, &count, sizeof count);
    } else if (fd == icmp_->fd()) {
      // EPOLLERR: the error queue holds something (TX timestamps, ICMP errors).
      ready.replies = (what & EPOLLIN) != 0;
      ready.errors = (what & EPOLLERR) != 0;
    } else if (fd == icmp6_fd) {
      ready.replies6 = (what & EPOLLIN) != 0;
      ready.errors6 = (what & EPOLLERR) != 0;
    }
  }
  return ready;
}

}  // namespace podpath::prober
