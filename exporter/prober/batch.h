// Echo requests sent together: the requests due at one turn of the schedule are built into one
// buffer and handed to the kernel with one sendmmsg(2), and every request keeps its own
// outcome. Pure: the system call comes in as a function, so tests play the kernel.
#pragma once

#include <errno.h>

#include <cstdint>
#include <span>
#include <vector>

#include "model/ip.h"
#include "prober/channel.h"
#include "prober/packet.h"

namespace podpath::prober {

// What one sendmmsg(2) call did with the messages from the first it was given: `sent` of them
// went, or none did and `error` is the first one's errno.
struct SendResult {
  std::size_t sent = 0;
  int error = 0;
};

// Sends `count` messages by calls of send_from(first, remaining) -> SendResult and writes each
// message's errno, or 0, into errors[i]. sendmmsg stops at the first message that fails and
// returns how many went before it, dropping that message's error (sendmmsg(2), NOTES); the
// next call, starting at that message, fails with its own errno, which is recorded before the
// rest go on in another call. So a batch of n where message k fails takes three calls and
// reports exactly message k.
template <typename SendFrom>
void send_each(std::size_t count, SendFrom&& send_from, std::span<int> errors) {
  std::size_t first = 0;
  while (first < count) {
    const SendResult result = send_from(first, count - first);
    if (result.sent == 0) {
      // A call that sends nothing must say why; EIO rather than retrying the same message
      // forever if a kernel ever did not.
      errors[first++] = result.error != 0 ? result.error : EIO;
      continue;
    }
    const std::size_t sent = result.sent < count - first ? result.sent : count - first;
    for (std::size_t i = 0; i < sent; ++i) errors[first + i] = 0;
    first += sent;
  }
}

// The echo requests of one family going out in one batch: their bytes side by side in one
// buffer that is reused from batch to batch, so a probe allocates nothing.
class EchoBatch {
 public:
  // sendmmsg takes up to UIO_MAXIOV (1,024) messages a call; 64 keeps the buffer small and is
  // more than a turn gathers at a few thousand probes a second.
  static constexpr std::size_t kCapacity = 64;

  // What the loop needs back per request: whose it is and its sequence number.
  struct Entry {
    std::uint32_t job = 0;
    std::uint16_t sequence = 0;
  };

  explicit EchoBatch(bool icmp6) : icmp6_(icmp6) {}

  bool empty() const { return entries_.empty(); }
  bool full() const { return entries_.size() >= kCapacity; }
  std::size_t size() const { return entries_.size(); }

  // Builds the request (an ICMPv6 echo request for an IPv6 batch) and appends it; the caller
  // sends the batch first when it is full.
  void add(const model::IpAddress& destination, const EchoRequest& request, std::uint32_t job) {
    const std::size_t offset = bytes_.size();
    const std::size_t size = echo_request_size(request);
    bytes_.resize(offset + size);
    std::span<std::uint8_t> into(bytes_.data() + offset, size);
    if (icmp6_) {
      write_echo6_request(request, into);
    } else {
      write_echo_request(request, into);
    }
    placed_.push_back({destination, offset, size});
    entries_.push_back({job, request.sequence});
  }

  // The messages to send, in the order they were added. Valid until the next add or clear.
  std::span<const Outgoing> messages() {
    messages_.clear();
    for (const Placed& p : placed_)
      messages_.push_back(
          {p.destination, std::span<const std::uint8_t>(bytes_.data() + p.offset, p.size)});
    return messages_;
  }
  std::span<const Entry> entries() const { return entries_; }

  // Empties the batch, keeping its buffers' capacity.
  void clear() {
    bytes_.clear();
    placed_.clear();
    entries_.clear();
    messages_.clear();
  }

 private:
  struct Placed {
    model::IpAddress destination;
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  bool icmp6_;
  std::vector<std::uint8_t> bytes_;
  std::vector<Placed> placed_;  // offsets: bytes_ may move while the batch grows
  std::vector<Entry> entries_;
  std::vector<Outgoing> messages_;
};

}  // namespace podpath::prober
