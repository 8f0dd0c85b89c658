// The prober's sockets: one ICMP socket for IPv4 (raw when CAP_NET_RAW allows, else an
// unprivileged datagram "ping" socket) and one UDP socket for the VXLAN exposure probe.
// IPv4 only: flannel's VXLAN overlay and the field report's cluster are IPv4; an IPv6 twin
// would be a second IcmpSocket beside this one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
  std::span<const std::uint8_t> data;      // the looped or offending packet
};

class IcmpSocket {
 public:
  // Raw first, then datagram; nullptr and `error` naming the fix when neither opens.
  // `random_identifier` is used by raw sockets; datagram sockets get theirs from the kernel.
  static std::unique_ptr<IcmpSocket> open(std::uint16_t random_identifier, std::string* error);
  // Only the given kind (tests use it to exercise both).
  static std::unique_ptr<IcmpSocket> open(SocketMode mode, std::uint16_t random_identifier,
                                          std::string* error);
  ~IcmpSocket();
  IcmpSocket(const IcmpSocket&) = delete;
  IcmpSocket& operator=(const IcmpSocket&) = delete;

  int fd() const { return fd_; }
  SocketMode mode() const { return mode_; }
  // The echo identifier replies carry: ours (raw) or the socket's port (datagram), which the
  // kernel writes into every request whatever the request said.
  std::uint16_t identifier() const { return identifier_; }
  bool kernel_timestamps() const { return timestamping_; }
  // Packets the kernel dropped because the receive queue was full (SO_RXQ_OVFL), as of the
  // last read.
  std::uint32_t receive_drops() const { return drops_; }

  // Sends one ICMP message; returns 0 or the errno. dont_fragment sends with DF set whatever
  // the cached path MTU says (IP_PMTUDISC_PROBE), for path MTU probes.
  int send(model::Ipv4 destination, std::span<const std::uint8_t> icmp, bool dont_fragment);
  // Non-blocking reads; nullopt when the queue is empty. The spans point into the socket's
  // buffer and stay valid until the next call.
  std::optional<Received> receive();
  std::optional<ErrorMessage> receive_error();

 private:
  IcmpSocket(int fd, SocketMode mode, std::uint16_t identifier);
  int fd_;
  SocketMode mode_;
  std::uint16_t identifier_;
  bool timestamping_ = false;
  bool dont_fragment_ = false;
  std::uint32_t drops_ = 0;  // the socket's current IP_MTU_DISCOVER setting
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> control_;
};

// An unconnected UDP socket for the VXLAN exposure probe.
class UdpSocket {
 public:
  static std::unique_ptr<UdpSocket> open(std::string* error);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int send(model::Ipv4 destination, std::uint16_t port, std::span<const std::uint8_t> payload);
  int fd() const { return fd_; }

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace podpath::prober
