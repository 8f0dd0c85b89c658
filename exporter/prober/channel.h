// What the probe loop needs from its sockets, as two small interfaces: IcmpSocket and
// UdpSocket (socket.h) implement them over the kernel, and tests implement them in memory to
// drive the loop without root, network namespaces or packets on a wire.
//
// Echo requests go out in batches and the queues are read in batches (sendmmsg and recvmmsg
// in the sockets): at a thousand probes a second the system calls, not the packets, were most
// of the prober's CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "model/ip.h"

namespace podpath::prober {

enum class SocketMode { kRaw, kDatagram };
std::string_view to_string(SocketMode mode);

// One message from the receive queue.
struct Received {
  model::Ipv4 source;
  std::span<const std::uint8_t> icmp;  // the ICMP message (the IP header is stripped)
  std::int64_t kernel_ns = 0;          // software RX timestamp (CLOCK_REALTIME), 0 if missing
};

// One message from the error queue (IP_RECVERR / SO_TIMESTAMPING).
struct ErrorMessage {
  enum class Kind { kTxTimestamp, kIcmpError, kLocalError, kOther } kind = Kind::kOther;
  std::int64_t kernel_ns = 0;  // kTxTimestamp
  int error = 0;               // errno the kernel attached (EHOSTUNREACH, EMSGSIZE, ...)
  std::uint32_t info = 0;      // for "fragmentation needed": the next hop's MTU
  std::optional<model::Ipv4> destination;  // the probe's destination
  // The probe's destination on the ICMPv6 socket (IPV6_RECVERR); `info` is then a Packet Too
  // Big's MTU.
  std::optional<model::IpAddress> destination6;
  std::span<const std::uint8_t> data;  // the looped or offending packet
};

// One message of a batch send: where it goes (an IPv4 address on IcmpChannel, IPv6 on
// Icmp6Channel) and the ICMP message.
struct Outgoing {
  model::IpAddress destination;
  std::span<const std::uint8_t> icmp;
};

// How many messages a batch read returns at most: a read that returns fewer found the queue
// empty, so a queue is drained without the read that finds nothing.
inline constexpr std::size_t kReceiveBatch = 32;

// The ICMP socket every probe goes out on and every reply comes back on.
class IcmpChannel {
 public:
  virtual ~IcmpChannel() = default;

  // Sends one ICMP message; returns 0 or the errno. dont_fragment sends with DF set whatever
  // the cached path MTU says, for path MTU probes.
  virtual int send(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
                   bool dont_fragment) = 0;
  // Sends each message (DF off, as echo requests go) and writes its errno, or 0, into
  // errors[i], which is at least as long. The sockets make one sendmmsg(2) of it; this
  // default sends them one by one.
  virtual void send_batch(std::span<const Outgoing> messages, std::span<int> errors) {
    for (std::size_t i = 0; i < messages.size(); ++i)
      errors[i] = send(model::Ipv4{messages[i].destination.v4_value()}, messages[i].icmp, false);
  }
  // Non-blocking batch reads of the receive queue and of the error queue: fill `out` from the
  // front and return how many; fewer than out.size() means the queue was empty. The spans stay
  // valid until the next read of either queue.
  virtual std::size_t receive(std::span<Received> out) = 0;
  virtual std::size_t receive_errors(std::span<ErrorMessage> out) = 0;

  // What the loop's owner waits on for replies and errors.
  virtual int fd() const = 0;
  // The echo identifier our requests carry and replies come back with.
  virtual std::uint16_t identifier() const = 0;
  virtual SocketMode mode() const = 0;
  virtual bool kernel_timestamps() const = 0;
  // Packets the kernel dropped because the receive queue was full, as of the last read.
  virtual std::uint32_t receive_drops() const = 0;
};

// One message from the ICMPv6 socket's receive queue.
struct Received6 {
  model::IpAddress source;
  std::span<const std::uint8_t> icmp;  // the ICMPv6 message (sockets never pass the IPv6 header)
  std::int64_t kernel_ns = 0;          // software RX timestamp (CLOCK_REALTIME), 0 if missing
};

// The ICMPv6 socket: IcmpChannel's twin for IPv6 targets. A separate interface so the IPv4
// channel (and every fake of it) stays as it was.
class Icmp6Channel {
 public:
  virtual ~Icmp6Channel() = default;

  // Sends one ICMPv6 message (the kernel fills in the checksum); returns 0 or the errno.
  // dont_fragment: IPV6_DONTFRAG with IPV6_PMTUDISC_PROBE, for path MTU probes.
  virtual int send(const model::IpAddress& destination, std::span<const std::uint8_t> icmp,
                   bool dont_fragment) = 0;
  // As IcmpChannel's.
  virtual void send_batch(std::span<const Outgoing> messages, std::span<int> errors) {
    for (std::size_t i = 0; i < messages.size(); ++i)
      errors[i] = send(messages[i].destination, messages[i].icmp, false);
  }
  virtual std::size_t receive(std::span<Received6> out) = 0;
  // destination6 is set instead of destination.
  virtual std::size_t receive_errors(std::span<ErrorMessage> out) = 0;

  virtual int fd() const = 0;
  virtual std::uint16_t identifier() const = 0;
  virtual SocketMode mode() const = 0;
  virtual bool kernel_timestamps() const = 0;
  virtual std::uint32_t receive_drops() const = 0;
};

// The UDP sockets the VXLAN exposure probe's frames go out on (replies come back as ICMP).
class UdpChannel {
 public:
  virtual ~UdpChannel() = default;
  // Returns 0 or the errno.
  virtual int send(model::Ipv4 destination, std::uint16_t port,
                   std::span<const std::uint8_t> payload) = 0;
  // Over UDP/IPv6, for an IPv6 road's public addresses (the reply comes back as ICMPv6).
  virtual int send6(const model::IpAddress& destination, std::uint16_t port,
                    std::span<const std::uint8_t> payload) = 0;
};

}  // namespace podpath::prober
