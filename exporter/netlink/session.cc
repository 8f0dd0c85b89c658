#include "netlink/session.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace podpath::netlink {

std::string_view to_string(Dump dump) {
  switch (dump) {
    case Dump::kLinks:
      return "links";
    case Dump::kRoutes:
      return "routes";
    case Dump::kRules:
      return "rules";
    case Dump::kNeighbours:
      return "neighbours";
    case Dump::kFdb:
      return "fdb";
    case Dump::kRoutes6:
      return "routes6";
    case Dump::kRules6:
      return "rules6";
    case Dump::kNeighbours6:
      return "neighbours6";
  }
  return "unknown";
}

Reply dump_with_retry(const std::function<Reply()>& attempt, int attempts) {
  Reply reply;
  for (int i = 1; i <= attempts; ++i) {
    reply = attempt();
    reply.attempts = i;
    if (!reply.error.empty() || !scan_reply(reply.bytes).interrupted) return reply;
  }
  reply.error = fmt::format(
      "dump still interrupted by concurrent changes (NLM_F_DUMP_INTR) after {} attempts", attempts);
  return reply;
}

namespace {

// A receive that never comes back would hold the collector past every scrape deadline;
// the kernel answers rtnetlink requests synchronously, so 5 s means something is wrong.
constexpr int kReceiveTimeoutSeconds = 5;

struct SocketDeleter {
  void operator()(nl_sock* socket) const { nl_socket_free(socket); }
};
struct MsgDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using SocketPtr = std::unique_ptr<nl_sock, SocketDeleter>;
using MsgPtr = std::unique_ptr<nl_msg, MsgDeleter>;

class NetlinkSession final : public KernelSession {
 public:
  explicit NetlinkSession(SocketPtr socket) : socket_(std::move(socket)) {}

  Reply dump(Dump what) override {
    return dump_with_retry([&] { return dump_once(what); });
  }

  Reply route_get(const model::IpAddress& destination) override {
    // Built by hand rather than with rtnl_route_lookup(): libnl's helper reports every
    // answer as table 254 and folds the kernel's errno into a generic error, and the
    // table (52 for Tailscale) and the errno (ENETUNREACH) are what podpath reports.
    MsgPtr msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK));
    if (!msg) return {{}, "out of memory"};
    rtmsg header{};
    header.rtm_family = destination.is_v4() ? AF_INET : AF_INET6;
    header.rtm_dst_len = static_cast<unsigned char>(destination.bytes().size() * 8);
    header.rtm_flags = RTM_F_LOOKUP_TABLE;  // fill rtm_table/RTA_TABLE with the real table
    auto bytes = destination.bytes();
    if (nlmsg_append(msg.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg.get(), RTA_DST, static_cast<int>(bytes.size()), bytes.data()) < 0)
      return {{}, "cannot build RTM_GETROUTE"};
    return exchange(msg.get(), fmt::format("route get {}", destination.to_string()));
  }

 private:
  Reply dump_once(Dump what) {
    MsgPtr msg;
    auto request = [&](int message_type, const auto& header) {
      msg.reset(nlmsg_alloc_simple(message_type, NLM_F_REQUEST | NLM_F_DUMP));
      return msg && nlmsg_append(msg.get(), const_cast<void*>(static_cast<const void*>(&header)),
                                 sizeof header, NLMSG_ALIGNTO) == 0;
    };
    bool built = false;
    switch (what) {
      case Dump::kLinks: {
        ifinfomsg header{};
        header.ifi_family = AF_UNSPEC;
        built = request(RTM_GETLINK, header);
        break;
      }
      case Dump::kRoutes:
      case Dump::kRoutes6: {
        rtmsg header{};
        header.rtm_family = what == Dump::kRoutes ? AF_INET : AF_INET6;  // table 0: every table
        built = request(RTM_GETROUTE, header);
        break;
      }
      case Dump::kRules:
      case Dump::kRules6: {
        fib_rule_hdr header{};
        header.family = what == Dump::kRules ? AF_INET : AF_INET6;
        built = request(RTM_GETRULE, header);
        break;
      }
      case Dump::kNeighbours:
      case Dump::kNeighbours6: {
        ndmsg header{};
        header.ndm_family = what == Dump::kNeighbours ? AF_INET : AF_INET6;
        built = request(RTM_GETNEIGH, header);
        break;
      }
      case Dump::kFdb: {
        ndmsg header{};
        header.ndm_family = AF_BRIDGE;
        built = request(RTM_GETNEIGH, header);
        break;
      }
    }
    if (!built) return {{}, fmt::format("cannot build {} dump request", to_string(what))};
    return exchange(msg.get(), fmt::format("{} dump", to_string(what)));
  }

  // Sends one request and collects every message answering it, up to NLMSG_DONE (dumps)
  // or NLMSG_ERROR (the acknowledgement or error of a plain request).
  Reply exchange(nl_msg* msg, const std::string& what) {
    Reply reply;
    if (int rc = nl_send_auto(socket_.get(), msg); rc < 0) {
      reply.error = fmt::format("{}: send: {}", what, nl_geterror(rc));
      return reply;
    }
    const std::uint32_t seq = nlmsg_hdr(msg)->nlmsg_seq;
    const std::uint32_t port = nl_socket_get_local_port(socket_.get());
    for (;;) {
      sockaddr_nl from{};
      unsigned char* buffer = nullptr;
      int received = nl_recv(socket_.get(), &from, &buffer, nullptr);
      std::unique_ptr<unsigned char, decltype(&::free)> owned(buffer, &::free);
      if (received <= 0) {
        reply.error = fmt::format("{}: receive: {}", what,
                                  received == 0 ? "connection closed" : nl_geterror(received));
        return reply;
      }
      bool finished = false;
      auto* header = reinterpret_cast<nlmsghdr*>(buffer);
      int remaining = received;
      for (; nlmsg_ok(header, remaining); header = nlmsg_next(header, &remaining)) {
        // Replies to an earlier request that timed out are not ours to read.
        if (header->nlmsg_seq != seq || (header->nlmsg_pid != 0 && header->nlmsg_pid != port))
          continue;
        append_message(reply.bytes,
                       ByteView(reinterpret_cast<const std::uint8_t*>(header), header->nlmsg_len));
        if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR) finished = true;
      }
      if (finished) return reply;
    }
  }

  SocketPtr socket_;
};

}  // namespace

base::Result<std::unique_ptr<KernelSession>> NetlinkSource::open() {
  using Opened = base::Result<std::unique_ptr<KernelSession>>;
  SocketPtr socket(nl_socket_alloc());
  if (!socket) return Opened::failure("netlink: cannot allocate a socket");
  // Flags and sequence checks are ours: no automatic ACK on dumps, and peeking lets
  // nl_recv size its buffer for large dump datagrams.
  nl_socket_disable_auto_ack(socket.get());
  nl_socket_enable_msg_peek(socket.get());
  if (int rc = nl_connect(socket.get(), NETLINK_ROUTE); rc < 0)
    return Opened::failure(fmt::format("netlink: connect: {}", nl_geterror(rc)));
  timeval timeout{kReceiveTimeoutSeconds, 0};
  if (setsockopt(nl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                 sizeof timeout) != 0)
    return Opened::failure("netlink: cannot set a receive timeout");
  return std::unique_ptr<KernelSession>(std::make_unique<NetlinkSession>(std::move(socket)));
}

}  // namespace podpath::netlink
