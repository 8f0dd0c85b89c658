// The prober's logic, without a thread: which probe goes out when, which reply answers which
// probe, what timed out, how a path MTU search proceeds, and what is published. Everything it
// reads comes in: the monotonic clock and the random source through ProberEnvironment, the
// sockets as IcmpChannel and UdpChannel. Prober (prober.h) runs it on an epoll thread over
// real sockets; tests run it turn by turn with a fake clock and sockets in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/logger.h"
#include "metrics/histogram.h"
#include "model/peer.h"
#include "prober/batch.h"
#include "prober/channel.h"
#include "prober/jobs.h"
#include "prober/matcher.h"
#include "prober/packet.h"
#include "prober/plan.h"
#include "prober/pmtu.h"
#include "prober/probe_graph.h"
#include "prober/snapshot.h"

namespace podpath::prober {

struct ProberConfig {
  std::string node_name;
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  std::chrono::nanoseconds timeout = std::chrono::seconds(1);
  std::chrono::nanoseconds pmtu_interval = std::chrono::minutes(1);      // 0 disables
  std::chrono::nanoseconds exposure_interval = std::chrono::minutes(1);  // 0 disables
  // How fresh a snapshot is at most. Each publish copies every target's result and histogram:
  // at 250 ms that was most of the loop's user CPU (issue #17); scrapes come every 15 s or
  // more, and the analysis' window is a minute.
  std::chrono::nanoseconds publish_interval = std::chrono::seconds(1);
  // Probes due within this much after a turn go out in that turn, echo requests in one batch
  // (ProbeLoop::run_due_events says why that does not skew RTTs); at most a tenth of
  // `interval`. Each wakeup costs more than the sends it makes: at 200 targets a second,
  // 1 ms of slack left the prober at 0.095 CPU s per 1,000 probes, 5 ms at 0.068 and 20 ms at
  // 0.041 (bench/prober_bench.py's namespaces).
  std::chrono::nanoseconds send_slack = std::chrono::milliseconds(20);
  // The first path MTU searches and exposure checks after start-up or a new peer are spread
  // over at most this long, so their results show up soon instead of a whole interval later.
  std::chrono::nanoseconds first_run_spread = std::chrono::seconds(10);
  std::vector<double> buckets;
  std::size_t max_peers = 0;
  std::size_t payload_size = kDefaultPayloadSize;
  std::uint16_t vxlan_port = 8472;
};

// This node's VTEP, for the exposure probe's inner frame.
struct LocalVtep {
  std::uint32_t vni = 1;
  MacAddress mac{};
  model::Ipv4 flannel_address;  // 10.42.N.0
};

// This node's IPv6 VTEP (flannel-v6.<VNI>), for the IPv6 road's exposure probe.
struct LocalVtep6 {
  std::uint32_t vni = 1;
  MacAddress mac{};
  model::IpAddress flannel_address;  // its IPv6 pod subnet's network address
};

// Everything the loop reads from outside, injected so tests control it.
struct ProberEnvironment {
  base::Logger* log = nullptr;
  std::function<std::optional<int>()> overlay_mtu;       // the overlay device's MTU
  std::function<std::optional<LocalVtep>()> local_vtep;  // nullopt: exposure skipped
  // nullopt or empty: the IPv6 road's exposure is skipped
  std::function<std::optional<LocalVtep6>()> local_vtep6;
  std::function<std::uint64_t()> random;  // seeds, identifier, cookie
  std::function<double()> unix_now;       // for the snapshot's timestamp
  // CLOCK_MONOTONIC in ns: send times, deadlines, the schedule. Empty: the kernel's. Prober's
  // thread arms a CLOCK_MONOTONIC timerfd with these times, so only tests that drive the loop
  // themselves may pass another clock.
  std::function<std::int64_t()> monotonic_ns;
};

// The queues the thread saw ready when it woke up (epoll's EPOLLIN and EPOLLERR), which are
// the ones worth reading this turn: a read of an empty queue is a system call for nothing, and
// at a thousand probes a second those were most of the calls. The default reads them all.
struct Ready {
  bool replies = true;
  bool errors = true;
  bool replies6 = true;
  bool errors6 = true;
};

class ProbeLoop {
 public:
  // Receives each snapshot the loop publishes.
  using Publish = std::function<void(std::shared_ptr<const Snapshot>)>;

  // `icmp` and `udp` must outlive the loop; without `udp` no exposure checks run.
  ProbeLoop(ProberConfig config, ProberEnvironment environment, IcmpChannel& icmp, UdpChannel* udp,
            Publish publish);
  // With an ICMPv6 channel for IPv6 targets (which are skipped without one); it must outlive
  // the loop too.
  ProbeLoop(ProberConfig config, ProberEnvironment environment, IcmpChannel& icmp,
            Icmp6Channel* icmp6, UdpChannel* udp, Publish publish);
  ProbeLoop(const ProbeLoop&) = delete;
  ProbeLoop& operator=(const ProbeLoop&) = delete;

  // One turn, as the thread runs it each time it wakes up: reconciles the targets with `peers`
  // when given, reads the error queue and the replies, sends what is due, times out what is
  // overdue and publishes when a publish is due. Returns when the next turn is due (monotonic
  // ns, after now), or nullopt when nothing is scheduled. Only the queues `ready` names are
  // read first, unless a probe is about to time out (then all are, so that no reply still
  // queued is counted lost).
  std::optional<std::int64_t> turn(const model::PeerSet* peers, Ready ready = {});

 private:
  enum class EventKind : std::uint8_t { kEcho, kPmtu, kExposure };
  struct Event {
    std::int64_t at_ns;
    std::uint32_t job;
    std::uint32_t epoch;
    EventKind kind;
    bool operator>(const Event& other) const { return at_ns > other.at_ns; }
  };
  struct EchoJob {
    EchoJob(EchoSpec s, const std::vector<double>& buckets) : spec(std::move(s)), rtt(buckets) {}
    EchoSpec spec;
    std::uint32_t epoch = 0;
    std::int64_t nominal_ns = 0;
    metrics::HistogramAccumulator rtt;
    std::uint64_t requests = 0, responses = 0, duplicates = 0, late = 0;
    std::map<std::string, std::uint64_t> send_errors;
  };
  struct PmtuJob {
    PmtuSpec spec;
    std::uint32_t epoch = 0;
    std::optional<PmtuSearch> search;
    std::optional<int> result;
    bool searched = false;  // a search has finished (result stays empty on a dead path)
  };
  struct ExposureJob {
    ExposureSpec spec;
    std::uint32_t epoch = 0;
    std::optional<bool> exposed;
  };

  void reconcile(const model::PeerSet& peers, std::int64_t now_ns);
  void reconcile_echo(const Plan& plan, std::int64_t now_ns);
  void reconcile_pmtu(const Plan& plan, std::int64_t now_ns);
  void reconcile_exposure(const Plan& plan, std::int64_t now_ns);
  std::int64_t first_run_ns(std::size_t index, std::size_t count, std::chrono::nanoseconds every,
                            std::int64_t now_ns) const;
  void schedule_echo(std::uint32_t id, EchoJob& job, std::size_t index, std::size_t count,
                     std::int64_t now_ns);
  void run_due_events(std::int64_t now_ns);
  void queue_echo(std::uint32_t id, EchoJob& job, std::int64_t now_ns);
  void flush_echo(EchoBatch& batch, bool v6);
  void start_pmtu(std::uint32_t id, PmtuJob& job, std::int64_t now_ns);
  void send_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now_ns);
  void finish_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now_ns);
  void send_exposure(std::uint32_t id, ExposureJob& job, std::int64_t now_ns);
  void send_exposure6(ExposureJob& job, std::uint32_t id);
  int send_icmp(model::Ipv4 destination, std::span<const std::uint8_t> icmp, bool dont_fragment);
  int send_icmp6(const model::IpAddress& destination, std::span<const std::uint8_t> icmp,
                 bool dont_fragment);
  struct QuotedError;
  struct OurReply;
  void drain_errors();
  void drain_errors6();
  void on_icmp_error(const EchoReply& echo, std::uint32_t destination, int error,
                     std::uint32_t info);
  void drain_replies();
  void drain_replies6();
  void on_reply(const EchoReply& echo, std::optional<model::Ipv4> source,
                std::int64_t rx_kernel_ns);
  void on_echo_reply(const ReplyMatch& match, std::int64_t rx_kernel_ns, std::int64_t now_ns);
  void expire(std::int64_t now_ns);
  std::optional<std::int64_t> next_turn_ns(std::int64_t now_ns);
  void publish(std::int64_t now_ns);
  std::uint64_t next_random() { return rng_(); }
  void warn(std::string_view key, std::string_view message, const base::Fields& fields);

  const ProberConfig config_;
  const ProberEnvironment env_;
  const std::function<std::int64_t()> clock_;
  const std::uint64_t node_seed_;  // the phase of this node's echo schedule
  IcmpChannel& icmp_;
  Icmp6Channel* const icmp6_;
  UdpChannel* const udp_;
  const Publish publish_;

  std::mt19937_64 rng_;
  Cookie cookie_{};
  Matcher matcher_;
  // The echo requests of this turn, per family, and scratch space for their outcomes.
  EchoBatch batch_{false};
  EchoBatch batch6_{true};
  std::vector<int> send_results_, retry_results_;
  std::vector<Outgoing> retry_;
  std::vector<std::size_t> retry_index_;
  bool sent_ = false, sent6_ = false;  // this turn sent echo requests
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint32_t next_id_ = 1;
  // by (peer, target, family)
  JobTable<std::tuple<std::string, TargetKind, model::Family>, EchoJob> echo_;
  JobTable<std::pair<std::string, model::Family>, PmtuJob> pmtu_;             // by (peer, family)
  JobTable<std::pair<std::string, model::IpAddress>, ExposureJob> exposure_;  // (peer, address)
  ProbeGraphCache graph_;  // rebuilt only when names, groups or the budget change
  std::size_t peers_total_ = 0, peers_probed_ = 0, probed_by_ = 0;
  GroupCoverage group_pairs_;
  std::uint64_t timestamp_fallbacks_ = 0;
  bool dirty_ = true;
  std::int64_t last_publish_ns_ = 0;
};

}  // namespace podpath::prober
