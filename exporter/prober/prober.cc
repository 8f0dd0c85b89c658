#include "prober/prober.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "base/errno.h"
#include "prober/schedule.h"

namespace podpath::prober {

namespace {

std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

Prober::Prober(ProberConfig config, ProberEnvironment environment,
               std::unique_ptr<IcmpChannel> icmp, std::unique_ptr<UdpChannel> udp)
    : config_(std::move(config)),
      env_(std::move(environment)),
      clock_(env_.monotonic_ns ? env_.monotonic_ns : monotonic_ns),
      icmp_(std::move(icmp)),
      udp_(std::move(udp)),
      rng_(stable_hash(config_.node_name) ^ env_.random()),
      matcher_(static_cast<std::uint16_t>(rng_())) {
  for (auto& byte : cookie_) byte = static_cast<std::uint8_t>(rng_());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0 || wake_fd_ < 0)
    throw std::runtime_error("prober: cannot create epoll/timerfd/eventfd");
  for (int fd : {icmp_->fd(), timer_fd_, wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;  // EPOLLERR (the error queue) is always reported
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  auto empty = std::make_shared<Snapshot>();
  empty->socket_mode = std::string(to_string(icmp_->mode()));
  empty->kernel_timestamps = icmp_->kernel_timestamps();
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
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void Prober::set_peers(std::shared_ptr<const model::PeerSet> peers) {
  {
    std::lock_guard lock(mutex_);
    pending_peers_ = std::move(peers);
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

std::shared_ptr<const Snapshot> Prober::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void Prober::warn(std::string_view key, std::string_view message, const base::Fields& fields) {
  if (env_.log) env_.log->warn_every(key, std::chrono::seconds(60), message, fields);
}

void Prober::run() {
  epoll_event events[8];
  while (true) {
    std::shared_ptr<const model::PeerSet> peers;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      peers = std::move(pending_peers_);
      pending_peers_.reset();
    }
    std::int64_t now = now_ns();
    if (peers) reconcile(*peers, now);
    // Replies first: their kernel timestamps are already taken, but the TX timestamps on the
    // error queue must be read before the replies they belong to.
    const std::int64_t drained_at = now_ns();
    drain_errors();
    drain_replies();
    now = now_ns();
    run_due_events(now);
    // Only probes whose deadline passed before the queue was read can be declared lost: a
    // reply that arrived since then is still unread, e.g. when the thread was not scheduled
    // for a while.
    expire(drained_at);
    if (dirty_ && now - last_publish_ns_ >= config_.publish_interval.count()) publish(now);

    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    if (!events_.empty()) next = events_.top().at_ns;
    if (auto deadline = matcher_.next_deadline()) next = std::min(next, *deadline);
    if (dirty_) next = std::min(next, last_publish_ns_ + config_.publish_interval.count());
    itimerspec spec{};
    if (next != std::numeric_limits<std::int64_t>::max()) {
      next = std::max(next, now + 1);
      spec.it_value.tv_sec = next / 1'000'000'000;
      spec.it_value.tv_nsec = next % 1'000'000'000;
    }
    timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);

    int n = epoll_wait(epoll_fd_, events, 8, -1);
    if (n < 0 && errno != EINTR) {
      warn("prober-epoll", "prober: epoll_wait failed", {{"err", base::errno_name(errno)}});
    }
    for (int i = 0; i < n; ++i) {
      std::uint64_t count;
      if (events[i].data.fd == timer_fd_ || events[i].data.fd == wake_fd_) {
        [[maybe_unused]] auto r = read(events[i].data.fd, &count, sizeof count);
      }
    }
  }
}

void Prober::reconcile(const model::PeerSet& peers, std::int64_t now) {
  Plan plan = plan_targets(peers, config_.max_peers);
  peers_total_ = plan.peers_total;
  peers_probed_ = plan.peers_probed;
  // The first path MTU search and exposure check of a new peer: soon, spread out.
  auto first_run = [&](std::size_t i, std::size_t n, std::chrono::nanoseconds every) {
    std::int64_t spread = std::min<std::int64_t>(every.count(), config_.first_run_spread.count());
    return now + spread_offset_ns(i, n, spread, 0);
  };

  // Echo targets that stay keep their counters; every target gets a new slot in the spread.
  const std::size_t echo_count = plan.echo.size();
  echo_.reconcile(
      std::span<const EchoSpec>(plan.echo), next_id_,
      [](const EchoSpec& spec) { return std::make_pair(spec.labels.peer, spec.target); },
      [&](std::uint32_t id, EchoJob& job, const EchoSpec& spec, std::size_t i) {
        job.spec = spec;
        schedule_echo(id, job, i, echo_count, now);
      },
      [&](std::uint32_t id, const EchoSpec& spec, std::size_t i) {
        EchoJob job(spec, config_.buckets);
        schedule_echo(id, job, i, echo_count, now);
        return job;
      });

  // A search that stays keeps its schedule; its result is void once the overlay address moved.
  const bool pmtu_on = config_.pmtu_interval.count() > 0;
  pmtu_.reconcile(
      pmtu_on ? std::span<const PmtuSpec>(plan.pmtu) : std::span<const PmtuSpec>(), next_id_,
      [](const PmtuSpec& spec) { return spec.labels.peer; },
      [](std::uint32_t, PmtuJob& job, const PmtuSpec& spec, std::size_t) {
        if (job.spec.overlay != spec.overlay) {
          job.result.reset();
          job.searched = false;
        }
        job.spec = spec;
      },
      [&](std::uint32_t id, const PmtuSpec& spec, std::size_t i) {
        events_.push(
            {first_run(i, plan.pmtu.size(), config_.pmtu_interval), id, 1, EventKind::kPmtu});
        return PmtuJob{spec, 1, std::nullopt, std::nullopt, false};
      });

  const bool exposure_on = config_.exposure_interval.count() > 0 && udp_;
  exposure_.reconcile(
      exposure_on ? std::span<const ExposureSpec>(plan.exposure) : std::span<const ExposureSpec>(),
      next_id_,
      [](const ExposureSpec& spec) { return std::make_pair(spec.labels.peer, spec.address.value); },
      [](std::uint32_t, ExposureJob& job, const ExposureSpec& spec, std::size_t) {
        job.spec = spec;
      },
      [&](std::uint32_t id, const ExposureSpec& spec, std::size_t i) {
        events_.push({first_run(i, plan.exposure.size(), config_.exposure_interval), id, 1,
                      EventKind::kExposure});
        return ExposureJob{spec, 1, std::nullopt};
      });

  // A removed peer's series must go before the next scrape, not a publish interval later.
  publish(now);
}

void Prober::schedule_echo(std::uint32_t id, EchoJob& job, std::size_t index, std::size_t count,
                           std::int64_t now) {
  const std::int64_t interval = config_.interval.count();
  ++job.epoch;  // the events of its old slot are stale
  job.nominal_ns = next_slot_ns(
      now, spread_offset_ns(index, count, interval, stable_hash(config_.node_name)), interval);
  events_.push({job.nominal_ns + jitter_ns(next_random(), count, interval), id, job.epoch,
                EventKind::kEcho});
}

void Prober::run_due_events(std::int64_t now) {
  while (!events_.empty() && events_.top().at_ns <= now) {
    Event event = events_.top();
    events_.pop();
    switch (event.kind) {
      case EventKind::kEcho:
        if (EchoJob* job = echo_.find(event.job, event.epoch)) send_echo(event.job, *job, now);
        break;
      case EventKind::kPmtu:
        if (PmtuJob* job = pmtu_.find(event.job, event.epoch)) start_pmtu(event.job, *job, now);
        break;
      case EventKind::kExposure:
        if (ExposureJob* job = exposure_.find(event.job, event.epoch))
          send_exposure(event.job, *job, now);
        break;
    }
  }
}

int Prober::send_icmp(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
                      bool dont_fragment) {
  int error = icmp_->send(destination, icmp, dont_fragment);
  if (error != 0 && error != EMSGSIZE) {
    // With IP_RECVERR an ICMP error for an earlier probe is also left in the socket's pending
    // error, which the next sendto returns instead of sending. Reading the error queue clears
    // it; only a second failure belongs to this probe.
    drain_errors();
    error = icmp_->send(destination, icmp, dont_fragment);
  }
  return error;
}

void Prober::send_echo(std::uint32_t id, EchoJob& job, std::int64_t now) {
  const std::int64_t interval = config_.interval.count();
  ProbeRecord record;
  record.job = id;
  record.kind = ProbeKind::kEcho;
  record.destination = job.spec.address;
  record.sent_ns = now_ns();
  std::optional<Expired> displaced;
  std::uint16_t sequence =
      matcher_.add(record, record.sent_ns + config_.timeout.count(), &displaced);
  auto packet = build_echo_request({icmp_->identifier(), sequence, cookie_, config_.payload_size});
  ++job.requests;
  if (int error = send_icmp(job.spec.address, packet, false); error != 0) {
    matcher_.cancel(sequence);
    ++job.send_errors[base::errno_name(error)];
    warn("prober-send-" + job.spec.address.to_string(), "prober: cannot send echo request",
         {{"peer", job.spec.labels.peer},
          {"target", std::string(to_string(job.spec.target))},
          {"address", job.spec.address.to_string()},
          {"err", base::errno_name(error)}});
  }
  dirty_ = true;
  // Next round: the nominal slot moves by exactly one interval; jitter never accumulates.
  job.nominal_ns += interval;
  if (job.nominal_ns < now) job.nominal_ns = next_slot_ns(now, job.nominal_ns % interval, interval);
  events_.push({job.nominal_ns + jitter_ns(next_random(), echo_.size(), interval), id, job.epoch,
                EventKind::kEcho});
}

void Prober::start_pmtu(std::uint32_t id, PmtuJob& job, std::int64_t now) {
  auto mtu = env_.overlay_mtu ? env_.overlay_mtu() : std::nullopt;
  if (!mtu) {
    warn("prober-overlay-mtu", "prober: overlay device MTU unknown; path MTU not probed", {});
    job.searched = true;  // nothing to wait for until the next interval
    dirty_ = true;
    events_.push({now + config_.pmtu_interval.count(), id, job.epoch, EventKind::kPmtu});
    return;
  }
  job.search.emplace(*mtu);
  send_pmtu_step(id, job, now);
}

void Prober::send_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now) {
  // EMSGSIZE at sendto settles a step at once, so a few steps may run in this loop.
  while (job.search && !job.search->done()) {
    const int size = *job.search->next_size();
    ProbeRecord record;
    record.job = id;
    record.kind = ProbeKind::kPmtu;
    record.size = static_cast<std::uint16_t>(size);
    record.destination = job.spec.overlay;
    record.sent_ns = now_ns();
    std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
    const std::size_t payload = static_cast<std::size_t>(size) - kIpv4HeaderSize - kIcmpHeaderSize;
    auto packet = build_echo_request({icmp_->identifier(), sequence, cookie_, payload});
    int error = send_icmp(job.spec.overlay, packet, true);
    if (error == 0) return;  // the reply, an ICMP error or the timeout continues the search
    matcher_.cancel(sequence);
    if (error == EMSGSIZE) {
      job.search->on_too_big(size, 0);
      continue;
    }
    warn("prober-pmtu-" + job.spec.overlay.to_string(), "prober: cannot send path MTU probe",
         {{"peer", job.spec.labels.peer}, {"err", base::errno_name(error)}});
    job.search.reset();
    break;
  }
  finish_pmtu_step(id, job, now);
}

void Prober::finish_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now) {
  if (job.search && !job.search->done()) return;
  // Finished, or abandoned because the probe could not be sent: either way this round is over.
  if (job.search) job.result = job.search->result();
  job.searched = true;
  dirty_ = true;
  job.search.reset();
  events_.push({now + config_.pmtu_interval.count(), id, job.epoch, EventKind::kPmtu});
}

void Prober::send_exposure(std::uint32_t id, ExposureJob& job, std::int64_t now) {
  events_.push({now + config_.exposure_interval.count(), id, job.epoch, EventKind::kExposure});
  auto local = env_.local_vtep ? env_.local_vtep() : std::nullopt;
  auto peer_mac = parse_mac(job.spec.vtep_mac);
  if (!local || !peer_mac) {
    warn("prober-exposure-local",
         "prober: this node's VTEP (MAC, VNI, flannel address) or the "
         "peer's VtepMAC is unknown; VXLAN exposure not probed",
         {{"peer", job.spec.labels.peer}});
    return;
  }
  ProbeRecord record;
  record.job = id;
  record.kind = ProbeKind::kExposure;
  record.destination = job.spec.overlay;
  record.sent_ns = now_ns();
  std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
  auto icmp = build_echo_request({icmp_->identifier(), sequence, cookie_, config_.payload_size});
  VxlanFrame frame{local->vni, local->mac, *peer_mac, local->flannel_address, job.spec.overlay};
  auto payload = build_vxlan_frame(frame, icmp);
  if (int error = udp_->send(job.spec.address, config_.vxlan_port, payload); error != 0) {
    matcher_.cancel(sequence);
    job.exposed = false;
    dirty_ = true;
    warn("prober-exposure-" + job.spec.address.to_string(),
         "prober: cannot send VXLAN exposure probe",
         {{"peer", job.spec.labels.peer},
          {"address", job.spec.address.to_string()},
          {"err", base::errno_name(error)}});
  }
}

void Prober::drain_errors() {
  while (auto message = icmp_->receive_error()) {
    if (message->kind == ErrorMessage::Kind::kTxTimestamp) {
      if (auto echo = find_echo_request(message->data, icmp_->identifier(), cookie_))
        matcher_.set_tx_timestamp(echo->sequence, message->kernel_ns);
      continue;
    }
    if (message->kind != ErrorMessage::Kind::kIcmpError) continue;
    // The offending request: routers quote at least its first 8 bytes, which hold the
    // identifier and sequence; the cookie may be cut off.
    auto echo = parse_icmp_echo(message->data, cookie_);
    if (!echo || echo->type != kIcmpEcho || echo->identifier != icmp_->identifier()) continue;
    auto record = matcher_.in_flight(echo->sequence);
    if (!record || (message->destination && *message->destination != record->destination)) continue;
    switch (record->kind) {
      case ProbeKind::kEcho:
        // Left in flight: it times out and counts as lost, not as a response.
        if (EchoJob* job = echo_.find(record->job)) {
          ++job->send_errors[base::errno_name(message->error)];
          dirty_ = true;
        }
        break;
      case ProbeKind::kPmtu: {
        matcher_.cancel(echo->sequence);
        PmtuJob* job = pmtu_.find(record->job);
        if (!job || !job->search) break;
        if (message->error == EMSGSIZE) {
          job->search->on_too_big(record->size, static_cast<int>(message->info));
        } else {
          job->search->on_timeout(record->size);
        }
        send_pmtu_step(record->job, *job, now_ns());
        break;
      }
      case ProbeKind::kExposure:
        break;  // the overlay answers or the probe times out
    }
  }
}

void Prober::drain_replies() {
  while (auto received = icmp_->receive()) {
    auto echo = parse_icmp_echo(received->icmp, cookie_);
    // Raw sockets see other pingers' replies; the identifier and the cookie tell ours apart.
    if (!echo || echo->type != kIcmpEchoReply || echo->identifier != icmp_->identifier() ||
        !echo->cookie_matches)
      continue;
    const std::int64_t now = now_ns();
    ReplyMatch match = matcher_.on_reply(echo->sequence, received->source);
    if (match.verdict == ReplyVerdict::kUnknown) continue;
    const ProbeRecord& record = match.record;
    switch (record.kind) {
      case ProbeKind::kEcho: {
        EchoJob* found = echo_.find(record.job);
        if (!found) break;
        EchoJob& job = *found;
        dirty_ = true;
        if (match.verdict == ReplyVerdict::kDuplicate) {
          ++job.duplicates;
        } else if (match.verdict == ReplyVerdict::kLate) {
          ++job.late;
        } else {
          ++job.responses;
          std::int64_t rtt = received->kernel_ns - record.tx_kernel_ns;
          // Either kernel timestamp can be missing (seen once on these kernels); then the
          // monotonic clock around sendto and the read is the best there is.
          if (record.tx_kernel_ns == 0 || received->kernel_ns == 0 || rtt < 0 ||
              rtt > config_.timeout.count()) {
            rtt = now - record.sent_ns;
            ++timestamp_fallbacks_;
          }
          job.rtt.observe(static_cast<double>(rtt) / 1e9);
        }
        break;
      }
      case ProbeKind::kPmtu: {
        if (match.verdict != ReplyVerdict::kMatched) break;
        PmtuJob* job = pmtu_.find(record.job);
        if (!job || !job->search) break;
        job->search->on_reply(record.size);
        send_pmtu_step(record.job, *job, now);
        break;
      }
      case ProbeKind::kExposure: {
        if (match.verdict != ReplyVerdict::kMatched) break;
        ExposureJob* job = exposure_.find(record.job);
        if (!job) break;
        job->exposed = true;
        dirty_ = true;
        break;
      }
    }
  }
}

void Prober::expire(std::int64_t now) {
  for (const Expired& expired : matcher_.expire(now)) {
    const ProbeRecord& record = expired.record;
    switch (record.kind) {
      case ProbeKind::kEcho:
        break;  // a lost probe is requests - responses; nothing else to count
      case ProbeKind::kPmtu: {
        PmtuJob* job = pmtu_.find(record.job);
        if (!job || !job->search) break;
        job->search->on_timeout(record.size);
        send_pmtu_step(record.job, *job, now);
        break;
      }
      case ProbeKind::kExposure: {
        ExposureJob* job = exposure_.find(record.job);
        if (!job) break;
        job->exposed = false;
        dirty_ = true;
        break;
      }
    }
  }
}

void Prober::publish(std::int64_t now) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->targets.reserve(echo_.size());
  echo_.for_each([&](const EchoJob& job) {
    TargetResult result;
    result.labels = job.spec.labels;
    result.target = job.spec.target;
    result.requests = job.requests;
    result.responses = job.responses;
    result.duplicates = job.duplicates;
    result.late = job.late;
    result.send_errors = job.send_errors;
    result.rtt = job.rtt.snapshot();
    snapshot->targets.push_back(std::move(result));
  });
  pmtu_.for_each([&](const PmtuJob& job) {
    if (job.result) snapshot->path_mtu.push_back({job.spec.labels, *job.result});
    if (!job.searched) snapshot->path_mtu_pending.push_back(job.spec.labels.peer);
  });
  exposure_.for_each([&](const ExposureJob& job) {
    if (job.exposed)
      snapshot->exposure.push_back({job.spec.labels, job.spec.address, *job.exposed});
  });
  snapshot->peers_total = peers_total_;
  snapshot->peers_probed = peers_probed_;
  snapshot->timestamp_fallbacks = timestamp_fallbacks_;
  snapshot->receive_drops = icmp_->receive_drops();
  snapshot->socket_mode = std::string(to_string(icmp_->mode()));
  snapshot->kernel_timestamps = icmp_->kernel_timestamps();
  snapshot->published_unix_seconds = env_.unix_now ? env_.unix_now() : 0;
  {
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(snapshot);
  }
  dirty_ = false;
  last_publish_ns_ = now;
}

}  // namespace podpath::prober
