// The prober's sockets: one ICMP socket for IPv4 (raw when CAP_NET_RAW allows, else an
// unprivileged datagram "ping" socket) and one UDP socket for the VXLAN exposure probe.
// IPv6 targets go out on Icmp6Socket beside it. All implement the loop's channels (channel.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/ip.h"
#include "prober/channel.h"

namespace podpath::prober {

class IcmpSocket final : public IcmpChannel {
 public:
  // Raw first, then datagram; when neither opens, why, naming the fix.
  // `random_identifier` is used by raw sockets; datagram sockets get theirs from the kernel.
  static base::Result<std::unique_ptr<IcmpSocket>> open(std::uint16_t random_identifier);
  // Only the given kind (tests use it to exercise both).
  static base::Result<std::unique_ptr<IcmpSocket>> open(SocketMode mode,
                                                        std::uint16_t random_identifier);
  ~IcmpSocket() override;
  IcmpSocket(const IcmpSocket&) = delete;
  IcmpSocket& operator=(const IcmpSocket&) = delete;

  int fd() const override { return fd_; }
  SocketMode mode() const override { return mode_; }
  // The echo identifier replies carry: ours (raw) or the socket's port (datagram), which the
  // kernel writes into every request whatever the request said.
  std::uint16_t identifier() const override { return identifier_; }
  bool kernel_timestamps() const override { return timestamping_; }
  // Packets the kernel dropped because the receive queue was full (SO_RXQ_OVFL), as of the
  // last read.
  std::uint32_t receive_drops() const override { return drops_; }

  // Sends one ICMP message; returns 0 or the errno. dont_fragment sends with DF set whatever
  // the cached path MTU says (IP_PMTUDISC_PROBE), for path MTU probes.
  int send(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
           bool dont_fragment) override;
  // Non-blocking reads; nullopt when the queue is empty. The spans point into the socket's
  // buffer and stay valid until the next call.
  std::optional<Received> receive() override;
  std::optional<ErrorMessage> receive_error() override;

 private:
  IcmpSocket(int fd, SocketMode mode, std::uint16_t identifier);
  int fd_;
  SocketMode mode_;
  std::uint16_t identifier_;
  bool timestamping_ = false;
  bool dont_fragment_ = false;  // the socket's current IP_MTU_DISCOVER setting
  std::uint32_t drops_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> control_;
};

// The ICMPv6 twin of IcmpSocket, for IPv6 targets: raw (IPPROTO_ICMPV6, filtered to echo
// replies, Packet Too Big and destination unreachable) or the unprivileged datagram socket,
// which the same net.ipv4.ping_group_range governs. Kernel timestamps as for IPv4.
class Icmp6Socket final : public Icmp6Channel {
 public:
  static base::Result<std::unique_ptr<Icmp6Socket>> open(std::uint16_t random_identifier);
  static base::Result<std::unique_ptr<Icmp6Socket>> open(SocketMode mode,
                                                         std::uint16_t random_identifier);
  ~Icmp6Socket() override;
  Icmp6Socket(const Icmp6Socket&) = delete;
  Icmp6Socket& operator=(const Icmp6Socket&) = delete;

  int fd() const override { return fd_; }
  SocketMode mode() const override { return mode_; }
  std::uint16_t identifier() const override { return identifier_; }
  bool kernel_timestamps() const override { return timestamping_; }
  std::uint32_t receive_drops() const override { return drops_; }

  int send(const model::IpAddress& destination, std::span<const std::uint8_t> icmp,
           bool dont_fragment) override;
  std::optional<Received6> receive() override;
  std::optional<ErrorMessage> receive_error() override;

 private:
  Icmp6Socket(int fd, SocketMode mode, std::uint16_t identifier);
  int fd_;
  SocketMode mode_;
  std::uint16_t identifier_;
  bool timestamping_ = false;
  bool dont_fragment_ = false;
  std::uint32_t drops_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> control_;
};

// An unconnected UDP socket for the VXLAN exposure probe.
class UdpSocket final : public UdpChannel {
 public:
  static base::Result<std::unique_ptr<UdpSocket>> open();
  ~UdpSocket() override;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int send(model::Ipv4 destination, std::uint16_t port,
           std::span<const std::uint8_t> payload) override;
  // EAFNOSUPPORT when the kernel has no IPv6 (the IPv6 socket could not be opened).
  int send6(const model::IpAddress& destination, std::uint16_t port,
            std::span<const std::uint8_t> payload) override;
  int fd() const { return fd_; }

 private:
  UdpSocket(int fd, int fd6) : fd_(fd), fd6_(fd6) {}
  int fd_;
  int fd6_;  // -1 without IPv6
};

}  // namespace podpath::prober
