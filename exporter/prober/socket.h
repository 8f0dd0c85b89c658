// The prober's sockets: one ICMP socket for IPv4 (raw when CAP_NET_RAW allows, else an
// unprivileged datagram "ping" socket) and one UDP socket for the VXLAN exposure probe.
// IPv6 targets go out on Icmp6Socket beside it. All implement the loop's channels (channel.h).
#pragma once

#include <sys/socket.h>

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

// The buffers of one batch read (recvmmsg) of up to kReceiveBatch messages and of one batch
// send (sendmmsg), kept by each socket so that no read or send allocates.
class MessageSlots {
 public:
  // A reply or a looped request is at most an MTU (an echo probe is 84 bytes); a longer message
  // (a path MTU probe on a jumbo-frame link) is cut, which keeps its headers and cookie, all
  // the loop reads.
  static constexpr std::size_t kSlotSize = 2048;
  static constexpr std::size_t kControlSize = 512;

  MessageSlots();
  // recvmmsg(fd, up to kReceiveBatch messages, flags | MSG_DONTWAIT): how many were read.
  std::size_t read(int fd, std::size_t want, int flags);
  // Message i of the last read: its bytes, its header (source address, control messages).
  std::span<const std::uint8_t> data(std::size_t i) const;
  const msghdr& header(std::size_t i) const { return headers_[i].msg_hdr; }
  const sockaddr_storage& source(std::size_t i) const { return sources_[i]; }

  // One sendmmsg of `messages` to `fd` (IPv4 or IPv6 destinations), through send_each:
  // errors[i] is message i's errno or 0.
  void send(int fd, std::span<const Outgoing> messages, std::span<int> errors);

 private:
  std::vector<std::uint8_t> bytes_;
  std::vector<std::uint8_t> control_;
  std::vector<sockaddr_storage> sources_;
  std::vector<iovec> iovecs_;
  std::vector<mmsghdr> headers_;
};

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
  // One sendmmsg for the lot (DF off).
  void send_batch(std::span<const Outgoing> messages, std::span<int> errors) override;
  // One recvmmsg each, with each message's kernel timestamp from its control messages. The
  // spans point into the socket's slots and stay valid until the next read.
  std::size_t receive(std::span<Received> out) override;
  std::size_t receive_errors(std::span<ErrorMessage> out) override;

 private:
  IcmpSocket(int fd, SocketMode mode, std::uint16_t identifier);
  int set_dont_fragment(bool dont_fragment);
  int fd_;
  SocketMode mode_;
  std::uint16_t identifier_;
  bool timestamping_ = false;
  bool dont_fragment_ = false;  // the socket's current IP_MTU_DISCOVER setting
  std::uint32_t drops_ = 0;
  MessageSlots slots_;
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
  void send_batch(std::span<const Outgoing> messages, std::span<int> errors) override;
  std::size_t receive(std::span<Received6> out) override;
  std::size_t receive_errors(std::span<ErrorMessage> out) override;

 private:
  Icmp6Socket(int fd, SocketMode mode, std::uint16_t identifier);
  int set_dont_fragment(bool dont_fragment);
  int fd_;
  SocketMode mode_;
  std::uint16_t identifier_;
  bool timestamping_ = false;
  bool dont_fragment_ = false;
  std::uint32_t drops_ = 0;
  MessageSlots slots_;
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
