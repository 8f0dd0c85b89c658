// The probe loop's sockets in memory: FakeIcmp records every send and hands the loop whatever
// replies and error-queue messages the test queued, FakeUdp records the exposure frames. No
// socket, no root, no packets.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "prober/channel.h"
#include "prober/packet.h"

namespace podpath::prober::testing {

struct SentPacket {
  model::Ipv4 destination;
  std::vector<std::uint8_t> icmp;
  bool dont_fragment = false;
  std::int64_t at_ns = 0;  // the fake clock when it was sent
  int result = 0;          // what send() returned

  std::uint16_t sequence() const { return static_cast<std::uint16_t>((icmp[6] << 8) | icmp[7]); }
  // The IP packet's size, as the path MTU search counts it.
  int ip_size() const { return static_cast<int>(icmp.size() + kIpv4HeaderSize); }
};

// The echo reply a peer sends back for `request`: the same message with type 0.
inline std::vector<std::uint8_t> echo_reply_to(std::vector<std::uint8_t> request) {
  request[0] = kIcmpEchoReply;
  request[2] = request[3] = 0;
  const std::uint16_t checksum = internet_checksum(request);
  request[2] = static_cast<std::uint8_t>(checksum >> 8);
  request[3] = static_cast<std::uint8_t>(checksum & 0xff);
  return request;
}

class FakeIcmp final : public IcmpChannel {
 public:
  static constexpr std::uint16_t kIdentifier = 0x5150;

  // `clock` is read to stamp each send.
  explicit FakeIcmp(const std::int64_t* clock) : clock_(clock) {}

  // Every send attempt, failed ones included.
  std::vector<SentPacket> sent;
  // The errno each send returns (default: 0, sent).
  std::function<int(const SentPacket&)> send_result;
  // The size of each batch send_batch was given, in order.
  std::vector<std::size_t> batches;
  std::uint32_t drops = 0;

  void reply(model::Ipv4 source, std::vector<std::uint8_t> icmp, std::int64_t kernel_ns = 0) {
    replies_.push_back({source, std::move(icmp), kernel_ns});
  }
  // The peer's answer to `request`, from where the request went.
  void reply_to(const SentPacket& request, std::int64_t kernel_ns = 0) {
    reply(request.destination, echo_reply_to(request.icmp), kernel_ns);
  }
  // The kernel's software TX timestamp for `request`, looped back on the error queue.
  void tx_timestamp(const SentPacket& request, std::int64_t kernel_ns) {
    ErrorMessage message;
    message.kind = ErrorMessage::Kind::kTxTimestamp;
    message.kernel_ns = kernel_ns;
    errors_.push_back({message, request.icmp});
  }
  // An ICMP error about `request` (a router's "fragmentation needed" is EMSGSIZE with the next
  // hop's MTU in `info`), quoting the request as routers do.
  void icmp_error(const SentPacket& request, int error, std::uint32_t info = 0) {
    ErrorMessage message;
    message.kind = ErrorMessage::Kind::kIcmpError;
    message.error = error;
    message.info = info;
    message.destination = request.destination;
    errors_.push_back({message, request.icmp});
  }

  int send(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
           bool dont_fragment) override {
    sent.push_back({destination, {icmp.begin(), icmp.end()}, dont_fragment, *clock_, 0});
    if (send_result) sent.back().result = send_result(sent.back());
    return sent.back().result;
  }
  // One batch per call, recorded; each message goes through send() (and send_result).
  void send_batch(std::span<const Outgoing> messages, std::span<int> errors) override {
    batches.push_back(messages.size());
    IcmpChannel::send_batch(messages, errors);
  }
  std::size_t receive(std::span<Received> out) override {
    current_replies_.clear();
    while (current_replies_.size() < out.size() && !replies_.empty()) {
      current_replies_.push_back(std::move(replies_.front()));
      replies_.pop_front();
    }
    for (std::size_t i = 0; i < current_replies_.size(); ++i) {
      const Reply& r = current_replies_[i];
      out[i] = Received{r.source, r.icmp, r.kernel_ns};
    }
    return current_replies_.size();
  }
  std::size_t receive_errors(std::span<ErrorMessage> out) override {
    current_errors_.clear();
    while (current_errors_.size() < out.size() && !errors_.empty()) {
      current_errors_.push_back(std::move(errors_.front()));
      errors_.pop_front();
    }
    for (std::size_t i = 0; i < current_errors_.size(); ++i) {
      out[i] = current_errors_[i].message;
      out[i].data = current_errors_[i].data;
    }
    return current_errors_.size();
  }
  int fd() const override { return -1; }
  std::uint16_t identifier() const override { return kIdentifier; }
  SocketMode mode() const override { return SocketMode::kRaw; }
  bool kernel_timestamps() const override { return true; }
  std::uint32_t receive_drops() const override { return drops; }

 private:
  struct Reply {
    model::Ipv4 source;
    std::vector<std::uint8_t> icmp;
    std::int64_t kernel_ns = 0;
  };
  struct Error {
    ErrorMessage message;
    std::vector<std::uint8_t> data;
  };
  const std::int64_t* clock_;
  std::deque<Reply> replies_;
  std::deque<Error> errors_;
  // What the last read's messages point into, as a socket's buffers would be.
  std::vector<Reply> current_replies_;
  std::vector<Error> current_errors_;
};

struct SentDatagram {
  model::Ipv4 destination;
  std::uint16_t port = 0;
  std::vector<std::uint8_t> payload;
  std::optional<model::IpAddress> destination6;  // sent over UDP/IPv6 (send6)
};

class FakeUdp final : public UdpChannel {
 public:
  std::vector<SentDatagram> sent;
  int result = 0;  // what every send returns

  int send(model::Ipv4 destination, std::uint16_t port,
           std::span<const std::uint8_t> payload) override {
    sent.push_back({destination, port, {payload.begin(), payload.end()}, std::nullopt});
    return result;
  }
  int send6(const model::IpAddress& destination, std::uint16_t port,
            std::span<const std::uint8_t> payload) override {
    sent.push_back({{}, port, {payload.begin(), payload.end()}, destination});
    return result;
  }
};

}  // namespace podpath::prober::testing
