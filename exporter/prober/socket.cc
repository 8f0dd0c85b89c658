#include "prober/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/errno.h"
#include "base/file.h"
#include "prober/batch.h"
#include "prober/packet.h"

namespace podpath::prober {

namespace {

// A burst of replies from a thousand peers must not overflow the queue between two reads.
constexpr int kReceiveBuffer = 1 << 20;

std::int64_t to_ns(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

sockaddr_in to_sockaddr(model::Ipv4 address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(address.value);
  return sa;
}

std::string first_line(const std::optional<std::string>& text) {
  return text ? text->substr(0, text->find('\n')) : std::string();
}

// Kernel timestamps in software: RX when the packet enters the stack, TX when it enters the
// first device and when the driver takes it (both returned on the error queue). Without them the
// prober's own scheduling delay would show up in every RTT. Falls back to SO_TIMESTAMPNS (RX only)
// on kernels without SO_TIMESTAMPING.
bool enable_timestamps(int fd) {
  // TX_SCHED as well: a packet routed into a VXLAN device is encapsulated into a new skb that
  // no longer belongs to our socket, so the driver's TX timestamp never comes back; the one
  // taken when the packet entered the first device (dev_queue_xmit) does.
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED |
              SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0) return true;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  return false;
}

// Raw ICMP sockets see every ICMP message the host receives, including other pingers'
// replies. The kernel drops all but echo replies (ICMP_FILTER) carrying our identifier (a
// classic BPF program), so the prober never wakes up for them.
void install_raw_filters(int fd, std::uint16_t identifier) {
  icmp_filter filter{};
  filter.data = ~(1u << ICMP_ECHOREPLY);
  setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
  sock_filter code[] = {
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                 // X = IP header length
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),                  // A = ICMP identifier
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, identifier, 0, 1),  // ours?
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

// An error queue message's control messages: the TX timestamp or the error the kernel
// attached (IP_RECVERR / IPV6_RECVERR), for both families.
void read_error_cmsgs(const msghdr& msg, ErrorMessage& out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
      scm_timestamping ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      out.kernel_ns = to_ns(ts.ts[0]);
    } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      sock_extended_err ee;
      memcpy(&ee, CMSG_DATA(c), sizeof ee);
      out.error = static_cast<int>(ee.ee_errno);
      out.info = ee.ee_info;
      switch (ee.ee_origin) {
        case SO_EE_ORIGIN_TIMESTAMPING:
          out.kind = ErrorMessage::Kind::kTxTimestamp;
          break;
        case SO_EE_ORIGIN_ICMP:
        case SO_EE_ORIGIN_ICMP6:
          out.kind = ErrorMessage::Kind::kIcmpError;
          break;
        case SO_EE_ORIGIN_LOCAL:
          out.kind = ErrorMessage::Kind::kLocalError;
          break;
        default:
          out.kind = ErrorMessage::Kind::kOther;
      }
    }
  }
}

// Reads SOL_SOCKET's timestamp and queue-overflow messages, as both sockets receive them.
void read_socket_cmsgs(const msghdr& msg, std::int64_t& kernel_ns, std::uint32_t& drops) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SO_TIMESTAMPING) {
      scm_timestamping ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      kernel_ns = to_ns(ts.ts[0]);
    } else if (c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      kernel_ns = to_ns(ts);
    } else if (c->cmsg_type == SO_RXQ_OVFL) {
      memcpy(&drops, CMSG_DATA(c), sizeof drops);
    }
  }
}

std::optional<model::IpAddress> address_of(const sockaddr_storage& from, socklen_t length) {
  if (from.ss_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* sa = reinterpret_cast<const sockaddr_in*>(&from);
    return model::IpAddress::v4(ntohl(sa->sin_addr.s_addr));
  }
  if (from.ss_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&from);
    return model::IpAddress::from_bytes(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(&sa->sin6_addr), sizeof sa->sin6_addr));
  }
  return std::nullopt;
}

}  // namespace

MessageSlots::MessageSlots()
    : bytes_(kReceiveBatch * kSlotSize),
      control_(kReceiveBatch * kControlSize),
      sources_(std::max(kReceiveBatch, EchoBatch::kCapacity)),
      iovecs_(std::max(kReceiveBatch, EchoBatch::kCapacity)),
      headers_(std::max(kReceiveBatch, EchoBatch::kCapacity)) {}

std::size_t MessageSlots::read(int fd, std::size_t want, int flags) {
  want = std::min(want, kReceiveBatch);
  for (std::size_t i = 0; i < want; ++i) {
    iovecs_[i] = {bytes_.data() + i * kSlotSize, kSlotSize};
    msghdr& msg = headers_[i].msg_hdr;
    msg = {};
    msg.msg_name = &sources_[i];
    msg.msg_namelen = sizeof sources_[i];
    msg.msg_iov = &iovecs_[i];
    msg.msg_iovlen = 1;
    msg.msg_control = control_.data() + i * kControlSize;
    msg.msg_controllen = kControlSize;
    headers_[i].msg_len = 0;
  }
  const int n =
      recvmmsg(fd, headers_.data(), static_cast<unsigned>(want), flags | MSG_DONTWAIT, nullptr);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::span<const std::uint8_t> MessageSlots::data(std::size_t i) const {
  return {bytes_.data() + i * kSlotSize, std::min<std::size_t>(headers_[i].msg_len, kSlotSize)};
}

void MessageSlots::send(int fd, std::span<const Outgoing> messages, std::span<int> errors) {
  // The destinations live here while the batch goes out, beside the headers that point at them.
  std::vector<sockaddr_storage>& to = sources_;
  std::size_t done = 0;
  while (done < messages.size()) {
    const std::size_t count =
        std::min(messages.size() - done, std::min(to.size(), headers_.size()));
    for (std::size_t i = 0; i < count; ++i) {
      const Outgoing& m = messages[done + i];
      socklen_t length = 0;
      to[i] = {};
      if (m.destination.is_v4()) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&to[i]);
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(m.destination.v4_value());
        length = sizeof(sockaddr_in);
      } else {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&to[i]);
        sa->sin6_family = AF_INET6;
        memcpy(&sa->sin6_addr, m.destination.bytes().data(), 16);
        length = sizeof(sockaddr_in6);
      }
      iovecs_[i] = {const_cast<std::uint8_t*>(m.icmp.data()), m.icmp.size()};
      msghdr& msg = headers_[i].msg_hdr;
      msg = {};
      msg.msg_name = &to[i];
      msg.msg_namelen = length;
      msg.msg_iov = &iovecs_[i];
      msg.msg_iovlen = 1;
      headers_[i].msg_len = 0;
    }
    send_each(
        count,
        [&](std::size_t first, std::size_t remaining) {
          const int sent =
              sendmmsg(fd, headers_.data() + first, static_cast<unsigned>(remaining), 0);
          if (sent < 0) return SendResult{0, errno};
          return SendResult{static_cast<std::size_t>(sent), 0};
        },
        errors.subspan(done, count));
    done += count;
  }
}

std::string_view to_string(SocketMode mode) {
  return mode == SocketMode::kRaw ? "raw" : "datagram";
}

IcmpSocket::IcmpSocket(int fd, SocketMode mode, std::uint16_t identifier)
    : fd_(fd), mode_(mode), identifier_(identifier) {}

IcmpSocket::~IcmpSocket() {
  close(fd_);
}

base::Result<std::unique_ptr<IcmpSocket>> IcmpSocket::open(std::uint16_t random_identifier) {
  auto raw = open(SocketMode::kRaw, random_identifier);
  if (raw) return raw;
  auto datagram = open(SocketMode::kDatagram, random_identifier);
  if (datagram) return datagram;
  return base::Result<std::unique_ptr<IcmpSocket>>::failure(fmt::format(
      "cannot open an ICMP socket: {}; {}; fix: run with CAP_NET_RAW (securityContext."
      "capabilities.add: [NET_RAW]) or sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", "
      "or disable the prober with --no-collector.prober",
      raw.error(), datagram.error()));
}

base::Result<std::unique_ptr<IcmpSocket>> IcmpSocket::open(SocketMode mode,
                                                           std::uint16_t random_identifier) {
  using Opened = base::Result<std::unique_ptr<IcmpSocket>>;
  std::unique_ptr<IcmpSocket> sock;
  if (mode == SocketMode::kRaw) {
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
      return Opened::failure(
          fmt::format("raw ICMP needs CAP_NET_RAW ({})", base::errno_name(errno)));
    sock.reset(new IcmpSocket(fd, SocketMode::kRaw, random_identifier));
    install_raw_filters(fd, random_identifier);
  } else {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0)
      return Opened::failure(fmt::format(
          "unprivileged ICMP needs this process's group (gid {}) inside "
          "net.ipv4.ping_group_range, which is \"{}\" ({})",
          getgid(), first_line(base::read_file("/proc/sys/net/ipv4/ping_group_range").bytes),
          base::errno_name(errno)));
    // The kernel picks the identifier: the socket's local "port", known once bound.
    sockaddr_in local = to_sockaddr(model::Ipv4{0}, 0);
    socklen_t length = sizeof local;
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      const int bind_errno = errno;
      close(fd);
      return Opened::failure(
          fmt::format("cannot bind the ICMP datagram socket: {}", base::errno_name(bind_errno)));
    }
    sock.reset(new IcmpSocket(fd, SocketMode::kDatagram, ntohs(local.sin_port)));
  }
  const int fd = sock->fd_;
  sock->timestamping_ = enable_timestamps(fd);
  int on = 1;
  setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  int pmtu = IP_PMTUDISC_DONT;
  setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  int size = kReceiveBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return sock;
}

int IcmpSocket::set_dont_fragment(bool dont_fragment) {
  if (dont_fragment == dont_fragment_) return 0;
  // PROBE sets DF but ignores the cached path MTU, so each probe really tests the path.
  int value = dont_fragment ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;
  if (setsockopt(fd_, SOL_IP, IP_MTU_DISCOVER, &value, sizeof value) != 0) return errno;
  dont_fragment_ = dont_fragment;
  return 0;
}

int IcmpSocket::send(model::Ipv4 destination, std::span<const std::uint8_t> icmp,
                     bool dont_fragment) {
  if (int error = set_dont_fragment(dont_fragment); error != 0) return error;
  sockaddr_in to = to_sockaddr(destination, 0);
  ssize_t sent =
      sendto(fd_, icmp.data(), icmp.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (sent < 0) return errno;
  return 0;
}

void IcmpSocket::send_batch(std::span<const Outgoing> messages, std::span<int> errors) {
  if (int error = set_dont_fragment(false); error != 0) {
    for (std::size_t i = 0; i < messages.size(); ++i) errors[i] = error;
    return;
  }
  slots_.send(fd_, messages, errors);
}

std::size_t IcmpSocket::receive(std::span<Received> out) {
  const std::size_t n = slots_.read(fd_, out.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    Received& r = out[i];
    r = Received{};
    read_socket_cmsgs(slots_.header(i), r.kernel_ns, drops_);
    const auto* from = reinterpret_cast<const sockaddr_in*>(&slots_.source(i));
    r.source = model::Ipv4{ntohl(from->sin_addr.s_addr)};
    const auto data = slots_.data(i);
    if (mode_ == SocketMode::kRaw) {
      // The IP header comes first; an unparsable packet is handed on empty, as not ours.
      if (auto ip = parse_ipv4(data)) {
        r.source = ip->source;
        r.icmp = ip->payload;
      }
    } else {
      r.icmp = data;
    }
  }
  return n;
}

std::size_t IcmpSocket::receive_errors(std::span<ErrorMessage> out) {
  const std::size_t n = slots_.read(fd_, out.size(), MSG_ERRQUEUE);
  for (std::size_t i = 0; i < n; ++i) {
    ErrorMessage& e = out[i];
    e = ErrorMessage{};
    e.data = slots_.data(i);
    if (auto to = address_of(slots_.source(i), slots_.header(i).msg_namelen); to && to->is_v4())
      e.destination = model::Ipv4{to->v4_value()};
    read_error_cmsgs(slots_.header(i), e);
  }
  return n;
}

namespace {

sockaddr_in6 to_sockaddr6(const model::IpAddress& address) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  auto bytes = address.bytes();
  if (bytes.size() == 16) memcpy(&sa.sin6_addr, bytes.data(), 16);
  return sa;
}

// As install_raw_filters for IPv6. ICMP6_FILTER passes echo replies and the errors the loop
// reads (Packet Too Big, destination unreachable); the BPF program keeps only messages with
// our identifier (raw IPv6 sockets see the ICMPv6 header first, no IP header), so errors are
// read from the error queue (IPV6_RECVERR), which no filter touches.
void install_raw6_filters(int fd, std::uint16_t identifier) {
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),                  // A = ICMPv6 identifier
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, identifier, 0, 1),  // ours?
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

}  // namespace

Icmp6Socket::Icmp6Socket(int fd, SocketMode mode, std::uint16_t identifier)
    : fd_(fd), mode_(mode), identifier_(identifier) {}

Icmp6Socket::~Icmp6Socket() {
  close(fd_);
}

base::Result<std::unique_ptr<Icmp6Socket>> Icmp6Socket::open(std::uint16_t random_identifier) {
  auto raw = open(SocketMode::kRaw, random_identifier);
  if (raw) return raw;
  auto datagram = open(SocketMode::kDatagram, random_identifier);
  if (datagram) return datagram;
  return base::Result<std::unique_ptr<Icmp6Socket>>::failure(fmt::format(
      "cannot open an ICMPv6 socket: {}; {}; fix: run with CAP_NET_RAW (securityContext."
      "capabilities.add: [NET_RAW]) or sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" "
      "(it governs ICMPv6 datagram sockets too), or disable the prober with "
      "--no-collector.prober",
      raw.error(), datagram.error()));
}

base::Result<std::unique_ptr<Icmp6Socket>> Icmp6Socket::open(SocketMode mode,
                                                             std::uint16_t random_identifier) {
  using Opened = base::Result<std::unique_ptr<Icmp6Socket>>;
  std::unique_ptr<Icmp6Socket> sock;
  if (mode == SocketMode::kRaw) {
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0)
      return Opened::failure(
          fmt::format("raw ICMPv6 needs CAP_NET_RAW ({})", base::errno_name(errno)));
    sock.reset(new Icmp6Socket(fd, SocketMode::kRaw, random_identifier));
    install_raw6_filters(fd, random_identifier);
  } else {
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0)
      return Opened::failure(fmt::format(
          "unprivileged ICMPv6 needs this process's group (gid {}) inside "
          "net.ipv4.ping_group_range, which is \"{}\" ({})",
          getgid(), first_line(base::read_file("/proc/sys/net/ipv4/ping_group_range").bytes),
          base::errno_name(errno)));
    sockaddr_in6 local{};
    local.sin6_family = AF_INET6;
    socklen_t length = sizeof local;
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      const int bind_errno = errno;
      close(fd);
      return Opened::failure(
          fmt::format("cannot bind the ICMPv6 datagram socket: {}", base::errno_name(bind_errno)));
    }
    sock.reset(new Icmp6Socket(fd, SocketMode::kDatagram, ntohs(local.sin6_port)));
  }
  const int fd = sock->fd_;
  sock->timestamping_ = enable_timestamps(fd);
  int on = 1;
  setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  int pmtu = IPV6_PMTUDISC_DONT;
  setsockopt(fd, SOL_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
  int size = kReceiveBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return sock;
}

int Icmp6Socket::set_dont_fragment(bool dont_fragment) {
  if (dont_fragment == dont_fragment_) return 0;
  // IPv6 routers never fragment; the sender would. PROBE ignores the cached path MTU (so each
  // probe tests the path, and a router's Packet Too Big comes back) and DONTFRAG makes a probe
  // larger than the local device fail with EMSGSIZE instead of leaving in fragments.
  int value = dont_fragment ? IPV6_PMTUDISC_PROBE : IPV6_PMTUDISC_DONT;
  int dontfrag = dont_fragment ? 1 : 0;
  if (setsockopt(fd_, SOL_IPV6, IPV6_MTU_DISCOVER, &value, sizeof value) != 0 ||
      setsockopt(fd_, SOL_IPV6, IPV6_DONTFRAG, &dontfrag, sizeof dontfrag) != 0)
    return errno;
  dont_fragment_ = dont_fragment;
  return 0;
}

int Icmp6Socket::send(const model::IpAddress& destination, std::span<const std::uint8_t> icmp,
                      bool dont_fragment) {
  if (!destination.is_v6()) return EAFNOSUPPORT;
  if (int error = set_dont_fragment(dont_fragment); error != 0) return error;
  sockaddr_in6 to = to_sockaddr6(destination);
  ssize_t sent =
      sendto(fd_, icmp.data(), icmp.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (sent < 0) return errno;
  return 0;
}

void Icmp6Socket::send_batch(std::span<const Outgoing> messages, std::span<int> errors) {
  if (int error = set_dont_fragment(false); error != 0) {
    for (std::size_t i = 0; i < messages.size(); ++i) errors[i] = error;
    return;
  }
  // An IPv4 destination cannot go out here (send() fails it with EAFNOSUPPORT); the loop never
  // builds such a batch, but if one came, each message would still get its own outcome.
  if (!std::all_of(messages.begin(), messages.end(),
                   [](const Outgoing& m) { return m.destination.is_v6(); })) {
    for (std::size_t i = 0; i < messages.size(); ++i)
      errors[i] = send(messages[i].destination, messages[i].icmp, false);
    return;
  }
  slots_.send(fd_, messages, errors);
}

std::size_t Icmp6Socket::receive(std::span<Received6> out) {
  const std::size_t n = slots_.read(fd_, out.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    Received6& r = out[i];
    r = Received6{};
    read_socket_cmsgs(slots_.header(i), r.kernel_ns, drops_);
    if (auto source = address_of(slots_.source(i), slots_.header(i).msg_namelen))
      r.source = *source;
    // Raw and datagram ICMPv6 sockets alike deliver the message without the IPv6 header.
    r.icmp = slots_.data(i);
  }
  return n;
}

std::size_t Icmp6Socket::receive_errors(std::span<ErrorMessage> out) {
  const std::size_t n = slots_.read(fd_, out.size(), MSG_ERRQUEUE);
  for (std::size_t i = 0; i < n; ++i) {
    ErrorMessage& e = out[i];
    e = ErrorMessage{};
    e.data = slots_.data(i);
    if (auto to = address_of(slots_.source(i), slots_.header(i).msg_namelen); to && to->is_v6())
      e.destination6 = *to;
    read_error_cmsgs(slots_.header(i), e);
  }
  return n;
}

base::Result<std::unique_ptr<UdpSocket>> UdpSocket::open() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0)
    return base::Result<std::unique_ptr<UdpSocket>>::failure(
        fmt::format("cannot open a UDP socket: {}", base::errno_name(errno)));
  // A kernel without IPv6 (ipv6.disable=1) refuses this one; the IPv4 checks run without it.
  int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  return std::unique_ptr<UdpSocket>(new UdpSocket(fd, fd6));
}

UdpSocket::~UdpSocket() {
  close(fd_);
  if (fd6_ >= 0) close(fd6_);
}

int UdpSocket::send6(const model::IpAddress& destination, std::uint16_t port,
                     std::span<const std::uint8_t> payload) {
  if (fd6_ < 0) return EAFNOSUPPORT;
  sockaddr_in6 to = to_sockaddr6(destination);
  to.sin6_port = htons(port);
  if (sendto(fd6_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) <
      0)
    return errno;
  return 0;
}

int UdpSocket::send(model::Ipv4 destination, std::uint16_t port,
                    std::span<const std::uint8_t> payload) {
  sockaddr_in to = to_sockaddr(destination, port);
  if (sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) <
      0)
    return errno;
  return 0;
}

}  // namespace podpath::prober
