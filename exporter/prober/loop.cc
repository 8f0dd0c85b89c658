#include "prober/loop.h"

#include <errno.h>
#include <time.h>

#include <algorithm>
#include <limits>

#include "base/errno.h"
#include "prober/schedule.h"

namespace podpath::prober {

namespace {

std::int64_t kernel_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

ProbeLoop::ProbeLoop(ProberConfig config, ProberEnvironment environment, IcmpChannel& icmp,
                     UdpChannel* udp, Publish publish)
    : config_(std::move(config)),
      env_(std::move(environment)),
      clock_(env_.monotonic_ns ? env_.monotonic_ns : kernel_monotonic_ns),
      node_seed_(stable_hash(config_.node_name)),
      icmp_(icmp),
      udp_(udp),
      publish_(std::move(publish)),
      rng_(node_seed_ ^ env_.random()),
      matcher_(static_cast<std::uint16_t>(rng_())) {
  for (auto& byte : cookie_) byte = static_cast<std::uint8_t>(rng_());
}

void ProbeLoop::warn(std::string_view key, std::string_view message, const base::Fields& fields) {
  if (env_.log) env_.log->warn_every(key, std::chrono::seconds(60), message, fields);
}

std::optional<std::int64_t> ProbeLoop::turn(const model::PeerSet* peers) {
  std::int64_t now = clock_();
  if (peers) reconcile(*peers, now);
  // Replies first: their kernel timestamps are already taken, but the TX timestamps on the
  // error queue must be read before the replies they belong to.
  const std::int64_t drained_at = clock_();
  drain_errors();
  drain_replies();
  now = clock_();
  run_due_events(now);
  // Only probes whose deadline passed before the queue was read can be declared lost: a
  // reply that arrived since then is still unread, e.g. when the thread was not scheduled
  // for a while.
  expire(drained_at);
  if (dirty_ && now - last_publish_ns_ >= config_.publish_interval.count()) publish(now);
  return next_turn_ns(now);
}

std::optional<std::int64_t> ProbeLoop::next_turn_ns(std::int64_t now) {
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  if (!events_.empty()) next = events_.top().at_ns;
  if (auto deadline = matcher_.next_deadline()) next = std::min(next, *deadline);
  if (dirty_) next = std::min(next, last_publish_ns_ + config_.publish_interval.count());
  if (next == std::numeric_limits<std::int64_t>::max()) return std::nullopt;
  return std::max(next, now + 1);
}

void ProbeLoop::reconcile(const model::PeerSet& peers, std::int64_t now) {
  Plan plan = plan_targets(
      peers,
      graph_.select(graph_nodes(peers), {peers.self_name, peers.self_group}, config_.max_peers));
  peers_total_ = plan.peers_total;
  peers_probed_ = plan.peers_probed;
  probed_by_ = plan.probed_by;
  group_pairs_ = plan.group_pairs;
  reconcile_echo(plan, now);
  reconcile_pmtu(plan, now);
  reconcile_exposure(plan, now);
  // A removed peer's series must go before the next scrape, not a publish interval later.
  publish(now);
}

// Echo targets that stay keep their counters; every target gets a new slot in the spread.
void ProbeLoop::reconcile_echo(const Plan& plan, std::int64_t now) {
  const std::size_t count = plan.echo.size();
  echo_.reconcile(
      std::span<const EchoSpec>(plan.echo), next_id_,
      [](const EchoSpec& spec) { return std::make_pair(spec.labels.peer, spec.target); },
      [&](std::uint32_t id, EchoJob& job, const EchoSpec& spec, std::size_t i) {
        job.spec = spec;
        schedule_echo(id, job, i, count, now);
      },
      [&](std::uint32_t id, const EchoSpec& spec, std::size_t i) {
        EchoJob job(spec, config_.buckets);
        schedule_echo(id, job, i, count, now);
        return job;
      });
}

// A search that stays keeps its schedule; its result is void once the overlay address moved.
void ProbeLoop::reconcile_pmtu(const Plan& plan, std::int64_t now) {
  const bool on = config_.pmtu_interval.count() > 0;
  pmtu_.reconcile(
      on ? std::span<const PmtuSpec>(plan.pmtu) : std::span<const PmtuSpec>(), next_id_,
      [](const PmtuSpec& spec) { return spec.labels.peer; },
      [](std::uint32_t, PmtuJob& job, const PmtuSpec& spec, std::size_t) {
        if (job.spec.overlay != spec.overlay) {
          job.result.reset();
          job.searched = false;
        }
        job.spec = spec;
      },
      [&](std::uint32_t id, const PmtuSpec& spec, std::size_t i) {
        events_.push({first_run_ns(i, plan.pmtu.size(), config_.pmtu_interval, now), id, 1,
                      EventKind::kPmtu});
        return PmtuJob{spec, 1, std::nullopt, std::nullopt, false};
      });
}

// A check that stays keeps its schedule and its last outcome.
void ProbeLoop::reconcile_exposure(const Plan& plan, std::int64_t now) {
  const bool on = config_.exposure_interval.count() > 0 && udp_;
  exposure_.reconcile(
      on ? std::span<const ExposureSpec>(plan.exposure) : std::span<const ExposureSpec>(), next_id_,
      [](const ExposureSpec& spec) { return std::make_pair(spec.labels.peer, spec.address.value); },
      [](std::uint32_t, ExposureJob& job, const ExposureSpec& spec, std::size_t) {
        job.spec = spec;
      },
      [&](std::uint32_t id, const ExposureSpec& spec, std::size_t i) {
        events_.push({first_run_ns(i, plan.exposure.size(), config_.exposure_interval, now), id, 1,
                      EventKind::kExposure});
        return ExposureJob{spec, 1, std::nullopt};
      });
}

// The first path MTU search or exposure check of a new peer: soon, spread out.
std::int64_t ProbeLoop::first_run_ns(std::size_t index, std::size_t count,
                                     std::chrono::nanoseconds every, std::int64_t now) const {
  std::int64_t spread = std::min<std::int64_t>(every.count(), config_.first_run_spread.count());
  return now + spread_offset_ns(index, count, spread, 0);
}

void ProbeLoop::schedule_echo(std::uint32_t id, EchoJob& job, std::size_t index, std::size_t count,
                              std::int64_t now) {
  const std::int64_t interval = config_.interval.count();
  ++job.epoch;  // the events of its old slot are stale
  job.nominal_ns =
      next_slot_ns(now, spread_offset_ns(index, count, interval, node_seed_), interval);
  events_.push({job.nominal_ns + jitter_ns(next_random(), count, interval), id, job.epoch,
                EventKind::kEcho});
}

void ProbeLoop::run_due_events(std::int64_t now) {
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

int ProbeLoop::send_icmp(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
                         bool dont_fragment) {
  int error = icmp_.send(destination, icmp, dont_fragment);
  if (error != 0 && error != EMSGSIZE) {
    // With IP_RECVERR an ICMP error for an earlier probe is also left in the socket's pending
    // error, which the next sendto returns instead of sending. Reading the error queue clears
    // it; only a second failure belongs to this probe.
    drain_errors();
    error = icmp_.send(destination, icmp, dont_fragment);
  }
  return error;
}

void ProbeLoop::send_echo(std::uint32_t id, EchoJob& job, std::int64_t now) {
  const std::int64_t interval = config_.interval.count();
  ProbeRecord record;
  record.job = id;
  record.kind = ProbeKind::kEcho;
  record.destination = job.spec.address;
  record.sent_ns = clock_();
  std::optional<Expired> displaced;
  std::uint16_t sequence =
      matcher_.add(record, record.sent_ns + config_.timeout.count(), &displaced);
  auto packet = build_echo_request({icmp_.identifier(), sequence, cookie_, config_.payload_size});
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

void ProbeLoop::start_pmtu(std::uint32_t id, PmtuJob& job, std::int64_t now) {
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

void ProbeLoop::send_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now) {
  // EMSGSIZE at sendto settles a step at once, so a few steps may run in this loop.
  while (job.search && !job.search->done()) {
    const int size = *job.search->next_size();
    ProbeRecord record;
    record.job = id;
    record.kind = ProbeKind::kPmtu;
    record.size = static_cast<std::uint16_t>(size);
    record.destination = job.spec.overlay;
    record.sent_ns = clock_();
    std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
    const std::size_t payload = static_cast<std::size_t>(size) - kIpv4HeaderSize - kIcmpHeaderSize;
    auto packet = build_echo_request({icmp_.identifier(), sequence, cookie_, payload});
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

void ProbeLoop::finish_pmtu_step(std::uint32_t id, PmtuJob& job, std::int64_t now) {
  if (job.search && !job.search->done()) return;
  // Finished, or abandoned because the probe could not be sent: either way this round is over.
  if (job.search) job.result = job.search->result();
  job.searched = true;
  dirty_ = true;
  job.search.reset();
  events_.push({now + config_.pmtu_interval.count(), id, job.epoch, EventKind::kPmtu});
}

void ProbeLoop::send_exposure(std::uint32_t id, ExposureJob& job, std::int64_t now) {
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
  record.sent_ns = clock_();
  std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
  auto icmp = build_echo_request({icmp_.identifier(), sequence, cookie_, config_.payload_size});
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

void ProbeLoop::drain_errors() {
  while (auto message = icmp_.receive_error()) {
    if (message->kind == ErrorMessage::Kind::kTxTimestamp) {
      if (auto echo = find_echo_request(message->data, icmp_.identifier(), cookie_))
        matcher_.set_tx_timestamp(echo->sequence, message->kernel_ns);
      continue;
    }
    if (message->kind == ErrorMessage::Kind::kIcmpError) on_icmp_error(*message);
  }
}

void ProbeLoop::on_icmp_error(const ErrorMessage& message) {
  // The offending request: routers quote at least its first 8 bytes, which hold the
  // identifier and sequence; the cookie may be cut off.
  auto echo = parse_icmp_echo(message.data, cookie_);
  if (!echo || echo->type != kIcmpEcho || echo->identifier != icmp_.identifier()) return;
  auto record = matcher_.in_flight(echo->sequence);
  if (!record || (message.destination && *message.destination != record->destination)) return;
  switch (record->kind) {
    case ProbeKind::kEcho:
      // Left in flight: it times out and counts as lost, not as a response.
      if (EchoJob* job = echo_.find(record->job)) {
        ++job->send_errors[base::errno_name(message.error)];
        dirty_ = true;
      }
      break;
    case ProbeKind::kPmtu: {
      matcher_.cancel(echo->sequence);
      PmtuJob* job = pmtu_.find(record->job);
      if (!job || !job->search) break;
      if (message.error == EMSGSIZE) {
        job->search->on_too_big(record->size, static_cast<int>(message.info));
      } else {
        job->search->on_timeout(record->size);
      }
      send_pmtu_step(record->job, *job, clock_());
      break;
    }
    case ProbeKind::kExposure:
      break;  // the overlay answers or the probe times out
  }
}

void ProbeLoop::drain_replies() {
  while (auto received = icmp_.receive()) {
    auto echo = parse_icmp_echo(received->icmp, cookie_);
    // Raw sockets see other pingers' replies; the identifier and the cookie tell ours apart.
    if (!echo || echo->type != kIcmpEchoReply || echo->identifier != icmp_.identifier() ||
        !echo->cookie_matches)
      continue;
    const std::int64_t now = clock_();
    ReplyMatch match = matcher_.on_reply(echo->sequence, received->source);
    if (match.verdict == ReplyVerdict::kUnknown) continue;
    const ProbeRecord& record = match.record;
    switch (record.kind) {
      case ProbeKind::kEcho:
        on_echo_reply(match, received->kernel_ns, now);
        break;
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

void ProbeLoop::on_echo_reply(const ReplyMatch& match, std::int64_t rx_kernel_ns,
                              std::int64_t now) {
  const ProbeRecord& record = match.record;
  EchoJob* job = echo_.find(record.job);
  if (!job) return;  // the peer went while the probe was in flight
  dirty_ = true;
  if (match.verdict == ReplyVerdict::kDuplicate) {
    ++job->duplicates;
  } else if (match.verdict == ReplyVerdict::kLate) {
    ++job->late;
  } else {
    ++job->responses;
    std::int64_t rtt = rx_kernel_ns - record.tx_kernel_ns;
    // Either kernel timestamp can be missing (seen once on these kernels); then the
    // monotonic clock around sendto and the read is the best there is.
    if (record.tx_kernel_ns == 0 || rx_kernel_ns == 0 || rtt < 0 || rtt > config_.timeout.count()) {
      rtt = now - record.sent_ns;
      ++timestamp_fallbacks_;
    }
    job->rtt.observe(static_cast<double>(rtt) / 1e9);
  }
}

void ProbeLoop::expire(std::int64_t now) {
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

void ProbeLoop::publish(std::int64_t now) {
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
  snapshot->probed_by = probed_by_;
  snapshot->group_pairs = group_pairs_.pairs;
  snapshot->group_pairs_covered = group_pairs_.covered;
  snapshot->timestamp_fallbacks = timestamp_fallbacks_;
  snapshot->receive_drops = icmp_.receive_drops();
  snapshot->socket_mode = std::string(to_string(icmp_.mode()));
  snapshot->kernel_timestamps = icmp_.kernel_timestamps();
  snapshot->published_unix_seconds = env_.unix_now ? env_.unix_now() : 0;
  publish_(std::move(snapshot));
  dirty_ = false;
  last_publish_ns_ = now;
}

}  // namespace podpath::prober
