// The active prober: one thread, one epoll loop, one ICMP socket per address family, whatever
// the number of peers. Echo probes to every target, a periodic path MTU search per peer and a
// periodic VXLAN exposure check per public address; results are published as immutable snapshots.
//
// The thread only waits: on the ICMP socket, on a CLOCK_MONOTONIC timerfd armed for the
// loop's next turn, and on an eventfd that set_peers() and stop() ring. What happens on each
// turn is ProbeLoop's (loop.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/logger.h"
#include "model/peer.h"
#include "prober/channel.h"
#include "prober/loop.h"
#include "prober/snapshot.h"
#include "prober/socket.h"  // what callers open and hand over
#include "prober/view.h"

namespace podpath::prober {

class Prober final : public ResultsView {
 public:
  // No UDP channel: no exposure probes.
  Prober(ProberConfig config, ProberEnvironment environment, std::unique_ptr<IcmpChannel> icmp,
         std::unique_ptr<UdpChannel> udp);
  // No ICMPv6 channel: IPv6 targets are skipped.
  Prober(ProberConfig config, ProberEnvironment environment, std::unique_ptr<IcmpChannel> icmp,
         std::unique_ptr<Icmp6Channel> icmp6, std::unique_ptr<UdpChannel> udp);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void start();
  void stop();  // joins the loop thread; safe to call twice

  // Thread-safe; the loop reconciles its targets on its next turn.
  void set_peers(std::shared_ptr<const model::PeerSet> peers);
  // The latest published results; never blocks on the loop.
  std::shared_ptr<const Snapshot> snapshot() const override;

 private:
  void run();
  // Sleeps until the next turn is due, a queue is readable or wake() rings; returns which of
  // the loop's queues epoll saw ready.
  Ready wait_for(std::optional<std::int64_t> next_turn_ns);
  void wake();
  void store(std::shared_ptr<const Snapshot> snapshot);

  base::Logger* const log_;
  std::unique_ptr<IcmpChannel> icmp_;
  std::unique_ptr<Icmp6Channel> icmp6_;
  std::unique_ptr<UdpChannel> udp_;
  std::thread thread_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int wake_fd_ = -1;
  // The loop thread's own: when the timer is armed for (nullopt: disarmed), and whether it
  // fired since, which disarms it.
  std::optional<std::int64_t> armed_ns_;
  bool timer_fired_ = true;

  mutable std::mutex mutex_;  // guards pending_peers_, stopping_ and snapshot_
  std::shared_ptr<const model::PeerSet> pending_peers_;
  bool stopping_ = false;
  std::shared_ptr<const Snapshot> snapshot_;

  ProbeLoop loop_;  // touched by the loop thread only, once started
};

}  // namespace podpath::prober
