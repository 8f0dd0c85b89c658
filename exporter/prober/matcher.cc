#include "prober/matcher.h"

#include <algorithm>

namespace podpath::prober {

ProbeRecord Matcher::Slot::record() const {
  ProbeRecord r;
  r.job = job;
  r.kind = kind;
  r.size = size;
  r.destination = model::Ipv4{destination};
  r.sent_ns = sent_ns;
  r.tx_kernel_ns = tx_kernel_ns;
  return r;
}

void Matcher::Slot::store(const ProbeRecord& r) {
  job = r.job;
  kind = r.kind;
  size = r.size;
  destination = r.destination.value;
  sent_ns = r.sent_ns;
  tx_kernel_ns = 0;
}

Matcher::Matcher(std::uint16_t first_sequence) : slots_(65536), next_(first_sequence) {}

std::uint16_t Matcher::add(const ProbeRecord& record, std::int64_t deadline_ns,
                           std::optional<Expired>* displaced) {
  const std::uint16_t sequence = next_++;
  Slot& slot = slots_[sequence];
  if (slot.state == State::kInFlight) {
    if (displaced) *displaced = Expired{sequence, slot.record()};
    --in_flight_;
  }
  slot.store(record);
  slot.state = State::kInFlight;
  ++slot.use;
  ++in_flight_;
  pending_.push_back(Deadline{deadline_ns, sequence, slot.use});
  return sequence;
}

void Matcher::cancel(std::uint16_t sequence) {
  Slot& slot = slots_[sequence];
  if (slot.state != State::kInFlight) return;
  slot.state = State::kFree;
  --in_flight_;
}

void Matcher::set_tx_timestamp(std::uint16_t sequence, std::int64_t tx_kernel_ns) {
  Slot& slot = slots_[sequence];
  // Up to two TX timestamps arrive per probe (entering the first device, leaving the driver);
  // the later one is closer to the wire.
  if (slot.state == State::kInFlight) slot.tx_kernel_ns = std::max(slot.tx_kernel_ns, tx_kernel_ns);
}

std::optional<ProbeRecord> Matcher::in_flight(std::uint16_t sequence) const {
  const Slot& slot = slots_[sequence];
  if (slot.state != State::kInFlight) return std::nullopt;
  return slot.record();
}

ReplyMatch Matcher::on_reply(std::uint16_t sequence, std::optional<model::Ipv4> source) {
  Slot& slot = slots_[sequence];
  if (slot.state == State::kFree || (source && slot.destination != source->value)) return {};
  ReplyMatch match;
  match.record = slot.record();
  switch (slot.state) {
    case State::kInFlight:
      match.verdict = ReplyVerdict::kMatched;
      slot.state = State::kAnswered;
      --in_flight_;
      break;
    case State::kTimedOut:
      match.verdict = ReplyVerdict::kLate;
      slot.state = State::kLateAnswered;
      break;
    case State::kAnswered:
    case State::kLateAnswered:
      match.verdict = ReplyVerdict::kDuplicate;
      break;
    case State::kFree:
      break;
  }
  return match;
}

std::vector<Expired> Matcher::expire(std::int64_t now_ns) {
  std::vector<Expired> expired;
  while (!pending_.empty() && pending_.front().at_ns <= now_ns) {
    Deadline d = pending_.front();
    pending_.pop_front();
    Slot& slot = slots_[d.sequence];
    if (slot.use != d.use || slot.state != State::kInFlight) continue;
    slot.state = State::kTimedOut;
    --in_flight_;
    expired.push_back(Expired{d.sequence, slot.record()});
  }
  return expired;
}

std::optional<std::int64_t> Matcher::next_deadline() {
  // Answered or cancelled probes leave their entry behind; drop those from the front so the
  // caller's timer is set for a probe that can still time out.
  while (!pending_.empty()) {
    const Deadline& d = pending_.front();
    const Slot& slot = slots_[d.sequence];
    if (slot.use == d.use && slot.state == State::kInFlight) return d.at_ns;
    pending_.pop_front();
  }
  return std::nullopt;
}

}  // namespace podpath::prober
