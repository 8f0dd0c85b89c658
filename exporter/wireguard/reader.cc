#include "wireguard/reader.h"

#include <fmt/format.h>
#include <linux/wireguard.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>
#include <vector>

#include "base/errno.h"
#include "wireguard/genl.h"
#include "wireguard/uapi.h"

namespace podpath::wireguard {

namespace {

using Clock = std::chrono::steady_clock;

ReadOutcome failed(Interface interface, std::string why) {
  ReadOutcome out;
  out.kind = ReadOutcome::Kind::kFailed;
  out.interface = interface;
  out.error = std::move(why);
  return out;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Milliseconds left until `deadline`, at least 0.
int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// A netlink datagram holds an NLMSG_DONE or NLMSG_ERROR: the dump is over.
bool ends_dump(const unsigned char* data, int size) {
  int offset = 0;
  while (size - offset >= static_cast<int>(sizeof(nlmsghdr))) {
    nlmsghdr header;
    std::memcpy(&header, data + offset, sizeof header);
    if (header.nlmsg_type == NLMSG_DONE || header.nlmsg_type == NLMSG_ERROR) return true;
    if (header.nlmsg_len < sizeof(nlmsghdr)) return true;  // broken: stop, the parser says so
    offset += static_cast<int>(NLMSG_ALIGN(header.nlmsg_len));
  }
  return false;
}

struct SocketDeleter {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct MessageDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};

// A generic netlink socket that knows the kernel's "wireguard" family, or an outcome: failed,
// or absent (nullopt inside) when the kernel has no such family (no module: a userspace
// implementation may serve the device).
struct GenlSocket {
  std::unique_ptr<nl_sock, SocketDeleter> sock;
  int family = -1;
};

std::variant<GenlSocket, std::optional<ReadOutcome>> open_genl(std::chrono::milliseconds timeout) {
  GenlSocket out{std::unique_ptr<nl_sock, SocketDeleter>(nl_socket_alloc()), -1};
  if (!out.sock) return failed(Interface::kNetlink, "cannot allocate a netlink socket");
  if (int err = genl_connect(out.sock.get()); err < 0)
    return failed(Interface::kNetlink,
                  fmt::format("generic netlink socket refused: {}", nl_geterror(err)));
  out.family = genl_ctrl_resolve(out.sock.get(), WG_GENL_NAME);
  if (out.family < 0) return std::optional<ReadOutcome>{};
  nl_socket_disable_auto_ack(out.sock.get());
  nl_socket_enable_msg_peek(out.sock.get());  // a dump message may be larger than a page
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(nl_socket_get_fd(out.sock.get()), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return out;
}

std::optional<ReadOutcome> send_get_device(const GenlSocket& genl, const std::string& device) {
  std::unique_ptr<nl_msg, MessageDeleter> msg(nlmsg_alloc());
  if (!msg ||
      genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, genl.family, 0, NLM_F_DUMP,
                  WG_CMD_GET_DEVICE, WG_GENL_VERSION) == nullptr ||
      nla_put_string(msg.get(), WGDEVICE_A_IFNAME, device.c_str()) < 0)
    return failed(Interface::kNetlink, "cannot build the WG_CMD_GET_DEVICE request");
  if (int err = nl_send_auto(genl.sock.get(), msg.get()); err < 0)
    return failed(Interface::kNetlink,
                  fmt::format("WG_CMD_GET_DEVICE {} not sent: {}", device, nl_geterror(err)));
  return std::nullopt;
}

// Every datagram of the dump, concatenated, until NLMSG_DONE or NLMSG_ERROR.
std::variant<std::vector<std::uint8_t>, ReadOutcome> receive_dump(
    const GenlSocket& genl, const std::string& device, std::chrono::milliseconds timeout) {
  std::vector<std::uint8_t> reply;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    sockaddr_nl peer{};
    unsigned char* buffer = nullptr;
    const int n = nl_recv(genl.sock.get(), &peer, &buffer, nullptr);
    if (n <= 0) {
      free(buffer);
      return failed(Interface::kNetlink,
                    n == 0 ? fmt::format("no WG_CMD_GET_DEVICE reply for {} within {} ms", device,
                                         timeout.count())
                           : fmt::format("reading the WG_CMD_GET_DEVICE reply for {}: {}", device,
                                         nl_geterror(n)));
    }
    reply.insert(reply.end(), buffer, buffer + n);
    const bool done = ends_dump(buffer, n);
    free(buffer);
    if (done) return reply;
    if (remaining_ms(deadline) == 0)
      return failed(Interface::kNetlink, fmt::format("WG_CMD_GET_DEVICE dump of {} took longer "
                                                     "than {} ms",
                                                     device, timeout.count()));
  }
}

// The kernel's answer for one device through generic netlink, or nullopt when the kernel has
// no "wireguard" family.
std::optional<ReadOutcome> read_genl(const std::string& device, std::chrono::milliseconds timeout) {
  auto opened = open_genl(timeout);
  if (auto* outcome = std::get_if<std::optional<ReadOutcome>>(&opened)) return std::move(*outcome);
  const GenlSocket& genl = std::get<GenlSocket>(opened);
  if (auto not_sent = send_get_device(genl, device)) return not_sent;
  auto received = receive_dump(genl, device, timeout);
  if (auto* outcome = std::get_if<ReadOutcome>(&received)) return std::move(*outcome);
  ReadOutcome out;
  out.interface = Interface::kNetlink;
  out.read = parse_genl_get_device(std::get<std::vector<std::uint8_t>>(received));
  // No such device, or a device that is not the kernel's WireGuard (a wireguard-go tun):
  // the caller asks the UAPI socket.
  if (out.read.error == ENODEV || out.read.error == EOPNOTSUPP) return ReadOutcome{};
  // The kernel lets only CAP_NET_ADMIN read a device (drivers/net/wireguard/netlink.c,
  // GENL_UNS_ADMIN_PERM), keys or not.
  if (out.read.error == EPERM)
    return failed(Interface::kNetlink,
                  fmt::format("WG_CMD_GET_DEVICE {}: EPERM (reading kernel WireGuard needs "
                              "CAP_NET_ADMIN; deploy/README.md shows how to grant it)",
                              device));
  if (out.read.error != 0)
    return failed(Interface::kNetlink, fmt::format("WG_CMD_GET_DEVICE {}: {}", device,
                                                   base::errno_name(out.read.error)));
  if (out.read.device.name.empty()) out.read.device.name = device;
  out.kind = ReadOutcome::Kind::kRead;
  return out;
}

class SystemReader final : public DeviceReader {
 public:
  SystemReader(std::string socket_dir, std::chrono::milliseconds timeout)
      : socket_dir_(std::move(socket_dir)), timeout_(timeout) {}

  ReadOutcome read(const std::string& device) override {
    if (auto genl = read_genl(device, timeout_); genl && genl->kind != ReadOutcome::Kind::kAbsent)
      return std::move(*genl);
    return read_uapi(fmt::format("{}/{}.sock", socket_dir_, device), device, timeout_);
  }

 private:
  const std::string socket_dir_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace

namespace {

// A connected (non-blocking) socket to wireguard-go's UAPI, or the outcome: absent when the
// socket file does not exist, failed otherwise.
std::variant<std::unique_ptr<Fd>, ReadOutcome> connect_uapi(const std::string& socket_path,
                                                            const std::string& device) {
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0 && errno == ENOENT) return ReadOutcome{};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path)
    return failed(Interface::kUapi, fmt::format("UAPI socket path {} is too long", socket_path));
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  auto fd = std::make_unique<Fd>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd->get() < 0)
    return failed(Interface::kUapi, fmt::format("socket: {}", base::errno_name(errno)));
  if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
      errno != EINPROGRESS)
    return failed(Interface::kUapi,
                  errno == EACCES
                      ? fmt::format("connect {}: EACCES (wireguard-go makes its socket root's "
                                    "alone, mode 0700: only a root exporter reads userspace "
                                    "WireGuard)",
                                    socket_path)
                      : fmt::format("connect {}: {} (is the WireGuard daemon for {} running?)",
                                    socket_path, base::errno_name(errno), device));
  return fd;
}

// Sends get=1 and reads until the reply's empty line (or the peer closes).
std::variant<std::string, ReadOutcome> exchange_get(const Fd& fd, const std::string& socket_path,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string_view request = "get=1\n\n";
  std::size_t sent = 0;
  std::string reply;
  while (true) {
    const bool writing = sent < request.size();
    pollfd p{fd.get(), static_cast<short>(writing ? POLLOUT : POLLIN), 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0)
      return failed(Interface::kUapi, fmt::format("{}: no complete reply to get=1 within {} ms",
                                                  socket_path, timeout.count()));
    if (writing) {
      const ssize_t n =
          ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return failed(Interface::kUapi,
                      fmt::format("send to {}: {}", socket_path, base::errno_name(errno)));
      if (n > 0) sent += static_cast<std::size_t>(n);
      continue;
    }
    char buffer[4096];
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0)
      return failed(Interface::kUapi,
                    fmt::format("recv from {}: {}", socket_path, base::errno_name(errno)));
    if (n == 0) break;  // closed: the parser says whether the reply was complete
    reply.append(buffer, static_cast<std::size_t>(n));
    // The reply ends with an empty line; wireguard-go then waits for the next command.
    if (reply.starts_with("\n") || reply.find("\n\n") != std::string::npos) break;
    if (reply.size() > (64U << 20))
      return failed(Interface::kUapi, fmt::format("{}: reply larger than 64 MiB", socket_path));
  }
  return reply;
}

}  // namespace

ReadOutcome read_uapi(const std::string& socket_path, const std::string& device,
                      std::chrono::milliseconds timeout) {
  auto connected = connect_uapi(socket_path, device);
  if (auto* outcome = std::get_if<ReadOutcome>(&connected)) return std::move(*outcome);
  auto exchanged = exchange_get(*std::get<std::unique_ptr<Fd>>(connected), socket_path, timeout);
  if (auto* outcome = std::get_if<ReadOutcome>(&exchanged)) return std::move(*outcome);
  const std::string& reply = std::get<std::string>(exchanged);
  ReadOutcome out;
  out.interface = Interface::kUapi;
  out.read = parse_uapi_get(reply, device);
  if (!out.read.complete)
    return failed(Interface::kUapi,
                  fmt::format("{} closed before the end of the get=1 reply", socket_path));
  if (out.read.error != 0)
    return failed(Interface::kUapi,
                  fmt::format("{} answered get=1 with errno={}", socket_path, out.read.error));
  out.kind = ReadOutcome::Kind::kRead;
  return out;
}

std::unique_ptr<DeviceReader> make_system_reader(std::string socket_dir,
                                                 std::chrono::milliseconds timeout) {
  return std::make_unique<SystemReader>(std::move(socket_dir), timeout);
}

}  // namespace podpath::wireguard
