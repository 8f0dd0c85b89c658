// What the probe loop needs from its sockets, as two small interfaces: IcmpSocket and
// UdpSocket (socket.h) implement them over the kernel, and tests implement them in memory to
// drive the loop without root, network namespaces or packets on a wire.
//
// One virtual call per packet: the loop sends about a thousand probes per second at scale,
// where a call through a vtable is lost in the sendto it wraps.
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

// The ICMP socket every probe goes out on and every reply comes back on.
class IcmpChannel {
 public:
  virtual ~IcmpChannel() = default;

  // Sends one ICMP message; returns 0 or the errno. dont_fragment sends with DF set whatever
  // the cached path MTU says, for path MTU probes.
  virtual int send(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
                   bool dont_fragment) = 0;
  // Non-blocking reads; nullopt when the queue is empty. The spans stay valid until the next
  // call.
  virtual std::optional<Received> receive() = 0;
  virtual std::optional<ErrorMessage> receive_error() = 0;

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
  virtual std::optional<Received6> receive() = 0;
  // destination6 is set instead of destination.
  virtual std::optional<ErrorMessage> receive_error() = 0;

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
