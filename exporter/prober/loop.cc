#include "prober/loop.h"

#include <errno.h>
#include <time.h>

#include <algorithm>
#include <array>
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
    : ProbeLoop(std::move(config), std::move(environment), icmp, nullptr, udp, std::move(publish)) {
}

ProbeLoop::ProbeLoop(ProberConfig config, ProberEnvironment environment, IcmpChannel& icmp,
                     Icmp6Channel* icmp6, UdpChannel* udp, Publish publish)
    : config_(std::move(config)),
      env_(std::move(environment)),
      clock_(env_.monotonic_ns ? env_.monotonic_ns : kernel_monotonic_ns),
      node_seed_(stable_hash(config_.node_name)),
      icmp_(icmp),
      icmp6_(icmp6),
      udp_(udp),
      publish_(std::move(publish)),
      rng_(node_seed_ ^ env_.random()),
      matcher_(static_cast<std::uint16_t>(rng_())) {
  for (auto& byte : cookie_) byte = static_cast<std::uint8_t>(rng_());
}

void ProbeLoop::warn(std::string_view key, std::string_view message, const base::Fields& fields) {
  if (env_.log) env_.log->warn_every(key, std::chrono::seconds(60), message, fields);
}

std::optional<std::int64_t> ProbeLoop::turn(const model::PeerSet* peers, Ready ready) {
  std::int64_t now = clock_();
  if (peers) reconcile(*peers, now);
  // Replies first: their kernel timestamps are already taken, but the TX timestamps on the
  // error queue must be read before the replies they belong to.
  const std::int64_t drained_at = clock_();
  // Only probes whose deadline passed before the queues were read can be declared lost (see
  // expire below); when one is due, every queue is read whatever the thread saw.
  if (auto deadline = matcher_.next_deadline(); deadline && *deadline <= drained_at) ready = {};
  if (ready.errors) drain_errors();
  if (ready.replies) drain_replies();
  if (icmp6_) {
    if (ready.errors6) drain_errors6();
    if (ready.replies6) drain_replies6();
  }
  now = clock_();
  sent_ = sent6_ = false;
  run_due_events(now);
  // The batch's TX timestamps are on the error queue by now (the kernel takes them on the way
  // into the device, inside sendmmsg), and replies from close peers may be queued too: read
  // them in this turn rather than wake up again for them.
  if (sent_) {
    drain_errors();
    drain_replies();
  }
  if (sent6_) {
    drain_errors6();
    drain_replies6();
  }
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
  std::span<const EchoSpec> specs(plan.echo);
  std::vector<EchoSpec> without_v6;
  if (!icmp6_) {
    // No ICMPv6 socket: IPv6 targets cannot be probed; the IPv4 ones keep their schedule.
    for (const auto& spec : plan.echo)
      if (spec.family == model::Family::kIpv4) without_v6.push_back(spec);
    if (without_v6.size() != plan.echo.size()) {
      warn("prober-no-icmp6", "prober: IPv6 targets skipped: no ICMPv6 socket",
           {{"targets", std::to_string(plan.echo.size() - without_v6.size())}});
      specs = without_v6;
    }
  }
  const std::size_t count = specs.size();
  echo_.reconcile(
      specs, next_id_,
      [](const EchoSpec& spec) {
        return std::make_tuple(spec.labels.peer, spec.target, spec.family);
      },
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
  std::span<const PmtuSpec> specs(plan.pmtu);
  std::vector<PmtuSpec> without_v6;
  if (!icmp6_) {
    for (const auto& spec : plan.pmtu)
      if (spec.family == model::Family::kIpv4) without_v6.push_back(spec);
    specs = without_v6;
  }
  pmtu_.reconcile(
      on ? specs : std::span<const PmtuSpec>(), next_id_,
      [](const PmtuSpec& spec) { return std::make_pair(spec.labels.peer, spec.family); },
      [](std::uint32_t, PmtuJob& job, const PmtuSpec& spec, std::size_t) {
        if (job.spec.overlay != spec.overlay || job.spec.overlay6 != spec.overlay6) {
          job.result.reset();
          job.searched = false;
        }
        job.spec = spec;
      },
      [&](std::uint32_t id, const PmtuSpec& spec, std::size_t i) {
        events_.push(
            {first_run_ns(i, specs.size(), config_.pmtu_interval, now), id, 1, EventKind::kPmtu});
        return PmtuJob{spec, 1, std::nullopt, std::nullopt, false};
      });
}

// A check that stays keeps its schedule and its last outcome.
void ProbeLoop::reconcile_exposure(const Plan& plan, std::int64_t now) {
  const bool on = config_.exposure_interval.count() > 0 && udp_;
  std::span<const ExposureSpec> specs(plan.exposure);
  std::vector<ExposureSpec> without_v6;
  if (!icmp6_) {
    // The IPv6 road's reply comes back on the ICMPv6 socket: without one it cannot be seen.
    for (const auto& spec : plan.exposure)
      if (spec.labels.family == model::Family::kIpv4) without_v6.push_back(spec);
    specs = without_v6;
  }
  exposure_.reconcile(
      on ? specs : std::span<const ExposureSpec>(), next_id_,
      [](const ExposureSpec& spec) {
        return std::make_pair(spec.labels.peer, spec.labels.family == model::Family::kIpv6
                                                    ? spec.address6
                                                    : model::IpAddress(spec.address));
      },
      [](std::uint32_t, ExposureJob& job, const ExposureSpec& spec, std::size_t) {
        job.spec = spec;
      },
      [&](std::uint32_t id, const ExposureSpec& spec, std::size_t i) {
        events_.push({first_run_ns(i, specs.size(), config_.exposure_interval, now), id, 1,
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

// Everything due up to `send_slack` from now runs in this turn, and the echo requests among it
// go out in one batch per family: one wakeup and one sendmmsg instead of one each. Sending a
// probe up to the slack early does not skew its RTT: the RTT runs from the kernel's TX
// timestamp of that very packet (or, without one, from the clock read as the batch was built,
// just before the sendmmsg) to its reply. Nor does the schedule drift: the next slot is the
// nominal one plus the interval, whenever this one went. What it changes is when within the
// interval a probe leaves, by at most the slack (2 % of a 1 s interval), which the schedule's
// jitter already moves by up to a tenth of the interval at small target counts; the packets
// of a batch are a few hundred bytes.
void ProbeLoop::run_due_events(std::int64_t now) {
  const std::int64_t slack = std::min(config_.send_slack.count(),
                                      std::max<std::int64_t>(0, config_.interval.count() / 10));
  const std::int64_t horizon = now + slack;
  while (!events_.empty() && events_.top().at_ns <= horizon) {
    Event event = events_.top();
    events_.pop();
    switch (event.kind) {
      case EventKind::kEcho:
        if (EchoJob* job = echo_.find(event.job, event.epoch)) queue_echo(event.job, *job, now);
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
  flush_echo(batch_, false);
  flush_echo(batch6_, true);
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

int ProbeLoop::send_icmp6(const model::IpAddress& destination, std::span<const std::uint8_t> icmp,
                          bool dont_fragment) {
  int error = icmp6_->send(destination, icmp, dont_fragment);
  if (error != 0 && error != EMSGSIZE) {
    // As send_icmp: a pending error of an earlier probe is cleared by reading the error queue.
    drain_errors6();
    error = icmp6_->send(destination, icmp, dont_fragment);
  }
  return error;
}

// Registers the probe and builds its request into this turn's batch; flush_echo sends it.
void ProbeLoop::queue_echo(std::uint32_t id, EchoJob& job, std::int64_t now) {
  const std::int64_t interval = config_.interval.count();
  const bool v6 = job.spec.family == model::Family::kIpv6;
  EchoBatch& batch = v6 ? batch6_ : batch_;
  if (batch.full()) flush_echo(batch, v6);
  ProbeRecord record;
  record.job = id;
  record.kind = ProbeKind::kEcho;
  record.destination = v6 ? destination_key(job.spec.address6) : job.spec.address;
  record.sent_ns = clock_();
  const std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
  const std::uint16_t identifier = v6 ? icmp6_->identifier() : icmp_.identifier();
  batch.add(v6 ? job.spec.address6 : model::IpAddress(job.spec.address),
            {identifier, sequence, cookie_, config_.payload_size}, id);
  ++job.requests;
  dirty_ = true;
  // Next round: the nominal slot moves by exactly one interval; jitter never accumulates.
  job.nominal_ns += interval;
  if (job.nominal_ns < now) job.nominal_ns = next_slot_ns(now, job.nominal_ns % interval, interval);
  events_.push({job.nominal_ns + jitter_ns(next_random(), echo_.size(), interval), id, job.epoch,
                EventKind::kEcho});
}

// Sends the batch and settles each request by its own outcome: a request the kernel refused
// is forgotten by the matcher and counted by its reason, the others are in flight.
void ProbeLoop::flush_echo(EchoBatch& batch, bool v6) {
  if (batch.empty()) return;
  const std::span<const Outgoing> messages = batch.messages();
  send_results_.assign(messages.size(), 0);
  if (v6) {
    icmp6_->send_batch(messages, send_results_);
  } else {
    icmp_.send_batch(messages, send_results_);
  }
  // As send_icmp: a failure may be an earlier probe's ICMP error left pending on the socket,
  // which reading the error queue clears; those requests go once more, and only a second
  // failure is theirs.
  retry_.clear();
  retry_index_.clear();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (send_results_[i] == 0 || send_results_[i] == EMSGSIZE) continue;
    retry_.push_back(messages[i]);
    retry_index_.push_back(i);
  }
  if (!retry_.empty()) {
    retry_results_.assign(retry_.size(), 0);
    if (v6) {
      drain_errors6();
      icmp6_->send_batch(retry_, retry_results_);
    } else {
      drain_errors();
      icmp_.send_batch(retry_, retry_results_);
    }
    for (std::size_t k = 0; k < retry_.size(); ++k)
      send_results_[retry_index_[k]] = retry_results_[k];
  }
  const std::span<const EchoBatch::Entry> entries = batch.entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const int error = send_results_[i];
    if (error == 0) continue;
    matcher_.cancel(entries[i].sequence);
    EchoJob* job = echo_.find(entries[i].job);
    if (!job) continue;
    ++job->send_errors[base::errno_name(error)];
    dirty_ = true;
    const std::string address = v6 ? job->spec.address6.to_string() : job->spec.address.to_string();
    warn("prober-send-" + address, "prober: cannot send echo request",
         {{"peer", job->spec.labels.peer},
          {"target", std::string(to_string(job->spec.target))},
          {"address", address},
          {"err", base::errno_name(error)}});
  }
  (v6 ? sent6_ : sent_) = true;
  batch.clear();
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
  if (job.spec.family == model::Family::kIpv6) {
    job.search.emplace(*mtu, kIpv6MinimumMtu);
  } else {
    job.search.emplace(*mtu);
  }
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
    const bool v6 = job.spec.family == model::Family::kIpv6;
    record.destination = v6 ? destination_key(job.spec.overlay6) : job.spec.overlay;
    record.sent_ns = clock_();
    std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
    int error = 0;
    if (v6) {
      const std::size_t payload =
          static_cast<std::size_t>(size) - kIpv6HeaderSize - kIcmpHeaderSize;
      auto packet = build_echo6_request({icmp6_->identifier(), sequence, cookie_, payload});
      error = send_icmp6(job.spec.overlay6, packet, true);
    } else {
      const std::size_t payload =
          static_cast<std::size_t>(size) - kIpv4HeaderSize - kIcmpHeaderSize;
      auto packet = build_echo_request({icmp_.identifier(), sequence, cookie_, payload});
      error = send_icmp(job.spec.overlay, packet, true);
    }
    if (error == 0) return;  // the reply, an ICMP error or the timeout continues the search
    matcher_.cancel(sequence);
    if (error == EMSGSIZE) {
      job.search->on_too_big(size, 0);
      continue;
    }
    warn("prober-pmtu-" + (v6 ? job.spec.overlay6.to_string() : job.spec.overlay.to_string()),
         "prober: cannot send path MTU probe",
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
  if (job.spec.labels.family == model::Family::kIpv6) {
    send_exposure6(job, id);
    return;
  }
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

// The IPv6 road's check: flannel-v6.<VNI>'s frame over UDP/IPv6, answered on the ICMPv6 socket.
void ProbeLoop::send_exposure6(ExposureJob& job, std::uint32_t id) {
  auto local = env_.local_vtep6 ? env_.local_vtep6() : std::nullopt;
  auto peer_mac = parse_mac(job.spec.vtep_mac);
  if (!local || !peer_mac) {
    warn("prober-exposure-local6",
         "prober: this node's IPv6 VTEP (flannel-v6 MAC, VNI, flannel-v6 address) or the "
         "peer's v6 VtepMAC is unknown; VXLAN exposure over IPv6 not probed",
         {{"peer", job.spec.labels.peer}});
    return;
  }
  ProbeRecord record;
  record.job = id;
  record.kind = ProbeKind::kExposure;
  record.destination = destination_key(job.spec.overlay6);
  record.sent_ns = clock_();
  std::uint16_t sequence = matcher_.add(record, record.sent_ns + config_.timeout.count());
  auto icmp = build_echo6_request({icmp6_->identifier(), sequence, cookie_, config_.payload_size});
  Vxlan6Frame frame{local->vni, local->mac, *peer_mac, local->flannel_address, job.spec.overlay6};
  auto payload = build_vxlan6_frame(frame, icmp);
  if (int error = udp_->send6(job.spec.address6, config_.vxlan_port, payload); error != 0) {
    matcher_.cancel(sequence);
    job.exposed = false;
    dirty_ = true;
    const std::string address = job.spec.address6.to_string();
    warn("prober-exposure-" + address, "prober: cannot send VXLAN exposure probe",
         {{"peer", job.spec.labels.peer}, {"address", address}, {"err", base::errno_name(error)}});
  }
}

// ICMP errors about our requests, taken out of a batch read before any is acted on: acting on
// one can send a path MTU probe, whose failure reads the error queue again into the same
// buffers.
struct ProbeLoop::QuotedError {
  EchoReply echo;
  std::uint32_t destination = 0;
  int error = 0;
  std::uint32_t info = 0;
};

void ProbeLoop::drain_errors() {
  std::array<ErrorMessage, kReceiveBatch> messages;
  std::array<QuotedError, kReceiveBatch> quoted;
  std::size_t n = messages.size();
  while (n == messages.size()) {
    n = icmp_.receive_errors(messages);
    std::size_t errors = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const ErrorMessage& message = messages[i];
      if (message.kind == ErrorMessage::Kind::kTxTimestamp) {
        if (auto echo = find_echo_request(message.data, icmp_.identifier(), cookie_))
          matcher_.set_tx_timestamp(echo->sequence, message.kernel_ns);
        continue;
      }
      if (message.kind != ErrorMessage::Kind::kIcmpError) continue;
      // The offending request: routers quote at least its first 8 bytes, which hold the
      // identifier and sequence; the cookie may be cut off.
      auto echo = parse_icmp_echo(message.data, cookie_);
      if (!echo || echo->type != kIcmpEcho || echo->identifier != icmp_.identifier()) continue;
      quoted[errors++] = {*echo, message.destination ? message.destination->value : 0,
                          message.error, message.info};
    }
    for (std::size_t i = 0; i < errors; ++i)
      on_icmp_error(quoted[i].echo, quoted[i].destination, quoted[i].error, quoted[i].info);
  }
}

void ProbeLoop::drain_errors6() {
  std::array<ErrorMessage, kReceiveBatch> messages;
  std::array<QuotedError, kReceiveBatch> quoted;
  std::size_t n = messages.size();
  while (n == messages.size()) {
    n = icmp6_->receive_errors(messages);
    std::size_t errors = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const ErrorMessage& message = messages[i];
      if (message.kind == ErrorMessage::Kind::kTxTimestamp) {
        if (auto echo = find_echo6_request(message.data, icmp6_->identifier(), cookie_))
          matcher_.set_tx_timestamp(echo->sequence, message.kernel_ns);
        continue;
      }
      if (message.kind != ErrorMessage::Kind::kIcmpError) continue;
      // IPV6_RECVERR hands over the offending ICMPv6 message (a Packet Too Big is EMSGSIZE
      // with the MTU in `info`).
      auto echo = parse_icmp6_echo(message.data, cookie_);
      if (!echo || echo->type != kIcmp6EchoRequest || echo->identifier != icmp6_->identifier())
        continue;
      quoted[errors++] = {*echo,
                          message.destination6 ? destination_key(*message.destination6).value : 0,
                          message.error, message.info};
    }
    for (std::size_t i = 0; i < errors; ++i)
      on_icmp_error(quoted[i].echo, quoted[i].destination, quoted[i].error, quoted[i].info);
  }
}

// `destination` as the matcher keeps it; 0 when the kernel did not say where the probe went.
void ProbeLoop::on_icmp_error(const EchoReply& echo, std::uint32_t destination, int error,
                              std::uint32_t info) {
  auto record = matcher_.in_flight(echo.sequence);
  if (!record || (destination != 0 && destination != record->destination.value)) return;
  switch (record->kind) {
    case ProbeKind::kEcho:
      // Left in flight: it times out and counts as lost, not as a response.
      if (EchoJob* job = echo_.find(record->job)) {
        ++job->send_errors[base::errno_name(error)];
        dirty_ = true;
      }
      break;
    case ProbeKind::kPmtu: {
      matcher_.cancel(echo.sequence);
      PmtuJob* job = pmtu_.find(record->job);
      if (!job || !job->search) break;
      if (error == EMSGSIZE) {
        job->search->on_too_big(record->size, static_cast<int>(info));
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

// Replies are parsed out of a batch read before any is acted on, as ICMP errors are (a reply
// to a path MTU probe sends the next one).
struct ProbeLoop::OurReply {
  EchoReply echo;
  std::optional<model::Ipv4> source;
  std::int64_t kernel_ns = 0;
};

void ProbeLoop::drain_replies() {
  std::array<Received, kReceiveBatch> received;
  std::array<OurReply, kReceiveBatch> ours;
  std::size_t n = received.size();
  while (n == received.size()) {
    n = icmp_.receive(received);
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto echo = parse_icmp_echo(received[i].icmp, cookie_);
      // Raw sockets see other pingers' replies; the identifier and the cookie tell ours apart.
      if (!echo || echo->type != kIcmpEchoReply || echo->identifier != icmp_.identifier() ||
          !echo->cookie_matches)
        continue;
      ours[count++] = {*echo, received[i].source, received[i].kernel_ns};
    }
    for (std::size_t i = 0; i < count; ++i)
      on_reply(ours[i].echo, ours[i].source, ours[i].kernel_ns);
  }
}

void ProbeLoop::drain_replies6() {
  std::array<Received6, kReceiveBatch> received;
  std::array<OurReply, kReceiveBatch> ours;
  std::size_t n = received.size();
  while (n == received.size()) {
    n = icmp6_->receive(received);
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto echo = parse_icmp6_echo(received[i].icmp, cookie_);
      if (!echo || echo->type != kIcmp6EchoReply || echo->identifier != icmp6_->identifier() ||
          !echo->cookie_matches)
        continue;
      // Any source: flannel gives flannel-v6.<VNI> its pod subnet's network address
      // (pkg/backend/vxlan/vxlan.go), which in IPv6 is also that subnet's Subnet-Router anycast
      // address (RFC 4291 2.6.1), and a reply to an anycast destination comes from a unicast
      // address of the receiving interface (RFC 4443 4.2): over a Tailscale subnet route, the
      // peer's tailnet address. This process's cookie, the identifier and the sequence match.
      ours[count++] = {*echo, std::nullopt, received[i].kernel_ns};
    }
    for (std::size_t i = 0; i < count; ++i)
      on_reply(ours[i].echo, ours[i].source, ours[i].kernel_ns);
  }
}

// `source` as the matcher keeps destinations; nullopt: any (see drain_replies6).
void ProbeLoop::on_reply(const EchoReply& echo, std::optional<model::Ipv4> source,
                         std::int64_t rx_kernel_ns) {
  const std::int64_t now = clock_();
  ReplyMatch match = matcher_.on_reply(echo.sequence, source);
  if (match.verdict == ReplyVerdict::kUnknown) return;
  const ProbeRecord& record = match.record;
  switch (record.kind) {
    case ProbeKind::kEcho:
      on_echo_reply(match, rx_kernel_ns, now);
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
    result.family = job.spec.family;
    result.requests = job.requests;
    result.responses = job.responses;
    result.duplicates = job.duplicates;
    result.late = job.late;
    result.send_errors = job.send_errors;
    result.rtt = job.rtt.snapshot();
    // IPv6 results apart: what reads `targets` (the analysis) keys them by (peer, target).
    auto& into = result.family == model::Family::kIpv6 ? snapshot->targets_v6 : snapshot->targets;
    into.push_back(std::move(result));
  });
  pmtu_.for_each([&](const PmtuJob& job) {
    auto& into =
        job.spec.family == model::Family::kIpv6 ? snapshot->path_mtu_v6 : snapshot->path_mtu;
    if (job.result) into.push_back({job.spec.labels, *job.result});
    if (!job.searched)
      snapshot->path_mtu_pending.emplace_back(job.spec.labels.peer, job.spec.labels.family);
  });
  exposure_.for_each([&](const ExposureJob& job) {
    if (!job.exposed) return;
    const bool v6 = job.spec.labels.family == model::Family::kIpv6;
    snapshot->exposure.push_back({job.spec.labels,
                                  v6 ? job.spec.address6 : model::IpAddress(job.spec.address),
                                  *job.exposed});
  });
  snapshot->peers_total = peers_total_;
  snapshot->peers_probed = peers_probed_;
  snapshot->probed_by = probed_by_;
  snapshot->group_pairs = group_pairs_.pairs;
  snapshot->group_pairs_covered = group_pairs_.covered;
  snapshot->timestamp_fallbacks = timestamp_fallbacks_;
  snapshot->receive_drops = icmp_.receive_drops();
  if (icmp6_) {
    snapshot->receive_drops += icmp6_->receive_drops();
    snapshot->socket_mode_v6 = std::string(to_string(icmp6_->mode()));
    snapshot->kernel_timestamps_v6 = icmp6_->kernel_timestamps();
  }
  snapshot->socket_mode = std::string(to_string(icmp_.mode()));
  snapshot->kernel_timestamps = icmp_.kernel_timestamps();
  snapshot->published_unix_seconds = env_.unix_now ? env_.unix_now() : 0;
  publish_(std::move(snapshot));
  dirty_ = false;
  last_publish_ns_ = now;
}

}  // namespace podpath::prober
