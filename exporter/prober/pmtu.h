// The path MTU search: which don't-fragment probe size to send next, given what the earlier
// ones did. Pure state machine; the event loop sends the probes and feeds the outcomes back.
//
// It first tries the overlay device's MTU (the common case: the path carries it). When that
// fails it checks that a minimal probe passes (otherwise the path is down, not narrow, and
// there is no MTU to report), then bisects between the largest size that passed and the
// smallest that failed. A "fragmentation needed" from a router names the next hop's MTU,
// which becomes the next size to try; EMSGSIZE at sendto means a local device is smaller. A
// lost probe is retried once before its size counts as failed, so a single drop does not
// shrink the answer.
#pragma once

#include <optional>

namespace podpath::prober {

class PmtuSearch {
 public:
  // IPv4 requires every link to carry 68-byte packets (RFC 791).
  static constexpr int kMinimumSize = 68;
  static constexpr int kAttemptsPerSize = 2;

  // IPv6 requires 1280 (RFC 8200), so an IPv6 search passes kIpv6MinimumMtu as minimum_size:
  // its first check is a 1280-byte probe and no answer goes below it.
  explicit PmtuSearch(int device_mtu, int minimum_size = kMinimumSize);

  // The IP packet size of the next probe, or nullopt when the search is over.
  std::optional<int> next_size() const;
  bool done() const { return done_; }
  // The path MTU once done(); nullopt when even the minimal probe failed.
  std::optional<int> result() const;

  void on_reply(int size);
  void on_timeout(int size);
  // A router said "fragmentation needed" or, over IPv6, "Packet Too Big" (mtu > 0 when it
  // said which MTU), or sendto
  // returned EMSGSIZE (mtu == 0).
  void on_too_big(int size, int mtu);

 private:
  void fail(int size);
  void settle();

  int minimum_;                // the smallest packet every link must carry
  int upper_;                  // largest size not known to fail
  std::optional<int> passed_;  // largest size known to pass
  std::optional<int> hint_;    // a router's reported MTU, tried next
  int current_ = 0;
  int attempts_ = 0;
  bool done_ = false;
};

}  // namespace podpath::prober
