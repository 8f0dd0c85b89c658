// Matches echo replies to the probes in flight. Pure: the caller passes in times and sources.
//
// Every probe of this process takes the next 16-bit sequence number, whatever its target, so
// the sequence alone finds the probe. The slot then remembers the probe after it was answered
// or timed out, until the sequence space wraps (65,536 probes later: half a minute at 2,000
// probes per second), which is how duplicates and late replies are told apart from replies
// that were never ours. A reply must also come from the address the probe went to.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "model/ip.h"

namespace podpath::prober {

enum class ProbeKind : std::uint8_t { kEcho, kPmtu, kExposure };

// What a slot keeps of a probe's destination, so that a slot stays 32 bytes: an IPv4 address
// itself, an IPv6 one folded to 32 bits (the XOR of its four words). ICMPv6 echo replies are
// matched by this process's 8-byte cookie, the identifier and the sequence, from any source
// (an anycast destination answers from a unicast address); ICMPv6 errors by their folded
// destination. IPv4 matching is exact as before.
inline model::Ipv4 destination_key(const model::IpAddress& address) {
  if (address.is_v4()) return model::Ipv4{address.v4_value()};
  std::uint32_t folded = 0;
  auto bytes = address.bytes();
  for (std::size_t i = 0; i < bytes.size(); i += 4)
    folded ^= (std::uint32_t{bytes[i]} << 24) | (std::uint32_t{bytes[i + 1]} << 16) |
              (std::uint32_t{bytes[i + 2]} << 8) | bytes[i + 3];
  return model::Ipv4{folded};
}

struct ProbeRecord {
  std::uint32_t job = 0;  // the caller's id for what this probe measures
  ProbeKind kind = ProbeKind::kEcho;
  std::uint16_t size = 0;    // IP packet size (path MTU probes)
  model::Ipv4 destination;   // the reply must come from here (destination_key for IPv6)
  std::int64_t sent_ns = 0;  // monotonic clock, taken just before sendto
  // Kernel software TX timestamp (CLOCK_REALTIME ns), 0 until the error queue delivers it.
  std::int64_t tx_kernel_ns = 0;
};

enum class ReplyVerdict {
  kMatched,    // first reply to a probe in flight
  kDuplicate,  // another reply to a probe already answered (or already counted late)
  kLate,       // first reply to a probe that had timed out
  kUnknown,    // not ours: no such probe, or from another address
};

struct ReplyMatch {
  ReplyVerdict verdict = ReplyVerdict::kUnknown;
  ProbeRecord record;  // valid unless kUnknown
};

struct Expired {
  std::uint16_t sequence = 0;
  ProbeRecord record;
};

class Matcher {
 public:
  // first_sequence comes from the injected random source, so restarts do not reuse numbers.
  explicit Matcher(std::uint16_t first_sequence);

  // Registers a probe about to be sent and returns its sequence number. If the sequence space
  // wrapped onto a probe still in flight, that probe is returned in `displaced` as timed out.
  std::uint16_t add(const ProbeRecord& record, std::int64_t deadline_ns,
                    std::optional<Expired>* displaced = nullptr);
  // The probe could not be sent (sendto failed): forget it without a timeout.
  void cancel(std::uint16_t sequence);
  void set_tx_timestamp(std::uint16_t sequence, std::int64_t tx_kernel_ns);
  // The probe with this sequence, while it is in flight.
  std::optional<ProbeRecord> in_flight(std::uint16_t sequence) const;
  // Records a reply with this sequence from `source`; nullopt accepts a reply from any address
  // (ICMPv6 to an anycast address, see ProbeLoop::drain_replies6).
  ReplyMatch on_reply(std::uint16_t sequence, std::optional<model::Ipv4> source);
  // Times out the probes whose deadline is at or before now, in send order.
  std::vector<Expired> expire(std::int64_t now_ns);
  // When the oldest probe in flight times out.
  std::optional<std::int64_t> next_deadline();
  std::size_t in_flight() const { return in_flight_; }

 private:
  enum class State : std::uint8_t { kFree, kInFlight, kAnswered, kTimedOut, kLateAnswered };
  // ProbeRecord's fields laid out flat: 32 bytes, so the 65,536 slots take 2 MiB.
  struct Slot {
    std::int64_t sent_ns = 0;
    std::int64_t tx_kernel_ns = 0;
    std::uint32_t job = 0;
    std::uint32_t destination = 0;
    std::uint32_t use = 0;  // bumped on each add, so stale deadline entries are skipped
    std::uint16_t size = 0;
    ProbeKind kind = ProbeKind::kEcho;
    State state = State::kFree;

    ProbeRecord record() const;
    void store(const ProbeRecord& record);
  };
  static_assert(sizeof(Slot) == 32);
  struct Deadline {
    std::int64_t at_ns;
    std::uint16_t sequence;
    std::uint32_t use;
  };

  std::vector<Slot> slots_;       // indexed by sequence
  std::deque<Deadline> pending_;  // in send order; deadlines rise with it (one timeout)
  std::uint16_t next_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace podpath::prober
