#include "wireguard/genl.h"

#include <fmt/format.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace podpath::wireguard {

namespace {

constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

struct Attribute {
  std::uint16_t type = 0;  // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
  ByteView payload;
};

// The attributes of `data`, stopping (with a problem) at the first that does not fit.
std::vector<Attribute> attributes(ByteView data, std::vector<std::string>& problems,
                                  std::string_view where) {
  std::vector<Attribute> out;
  std::size_t offset = 0;
  while (offset + sizeof(nlattr) <= data.size()) {
    const auto length = load<std::uint16_t>(data.data() + offset);
    const auto type = load<std::uint16_t>(data.data() + offset + 2);
    if (length < sizeof(nlattr) || length > data.size() - offset) {
      problems.push_back(
          fmt::format("{}: attribute of length {} at offset {} does not fit in {} "
                      "bytes; the rest is skipped",
                      where, length, offset, data.size()));
      return out;
    }
    out.push_back({static_cast<std::uint16_t>(type & NLA_TYPE_MASK),
                   data.subspan(offset + sizeof(nlattr), length - sizeof(nlattr))});
    offset += align4(length);
  }
  return out;
}

template <typename T>
std::optional<T> fixed(const Attribute& a) {
  if (a.payload.size() < sizeof(T)) return std::nullopt;
  return load<T>(a.payload.data());
}

std::optional<Endpoint> endpoint_of(ByteView sa) {
  if (sa.size() < sizeof(sa_family_t)) return std::nullopt;
  const auto family = load<sa_family_t>(sa.data());
  if (family == AF_INET && sa.size() >= sizeof(sockaddr_in)) {
    const auto in = load<sockaddr_in>(sa.data());
    auto address = model::IpAddress::from_bytes(
        {reinterpret_cast<const std::uint8_t*>(&in.sin_addr), sizeof in.sin_addr});
    return Endpoint{*address, ntohs(in.sin_port)};
  }
  if (family == AF_INET6 && sa.size() >= sizeof(sockaddr_in6)) {
    const auto in6 = load<sockaddr_in6>(sa.data());
    auto address = model::IpAddress::from_bytes(
        {reinterpret_cast<const std::uint8_t*>(&in6.sin6_addr), sizeof in6.sin6_addr});
    return Endpoint{*address, ntohs(in6.sin6_port)};
  }
  return std::nullopt;
}

std::optional<model::IpPrefix> allowed_ip(ByteView nested, std::vector<std::string>& problems) {
  std::optional<std::uint16_t> family;
  std::optional<model::IpAddress> address;
  std::optional<std::uint8_t> cidr;
  for (const auto& a : attributes(nested, problems, "allowed ip")) {
    if (a.type == WGALLOWEDIP_A_FAMILY) family = fixed<std::uint16_t>(a);
    if (a.type == WGALLOWEDIP_A_IPADDR) address = model::IpAddress::from_bytes(a.payload);
    if (a.type == WGALLOWEDIP_A_CIDR_MASK) cidr = fixed<std::uint8_t>(a);
  }
  if (!family || !address || !cidr) {
    problems.push_back("allowed ip without family, address or mask; skipped");
    return std::nullopt;
  }
  const bool v4 = *family == AF_INET;
  if ((v4 && !address->is_v4()) || (*family == AF_INET6 && !address->is_v6()) ||
      (!v4 && *family != AF_INET6) || *cidr > (v4 ? 32 : 128)) {
    problems.push_back(fmt::format("allowed ip {}/{} of family {} is inconsistent; skipped",
                                   address->to_string(), *cidr, *family));
    return std::nullopt;
  }
  return model::IpPrefix(*address, *cidr);
}

// One peer; a public key is required (the header: WGPEER_A_PUBLIC_KEY always comes).
std::optional<Peer> peer_of(ByteView nested, std::vector<std::string>& problems) {
  Peer peer;
  bool keyed = false;
  for (const auto& a : attributes(nested, problems, "peer")) {
    switch (a.type) {
      case WGPEER_A_PUBLIC_KEY:
        if (a.payload.size() == WG_KEY_LEN) {
          peer.public_key = key_to_base64(a.payload.data());
          keyed = true;
        }
        break;
      case WGPEER_A_ENDPOINT:
        if (auto endpoint = endpoint_of(a.payload))
          peer.endpoint = endpoint;
        else
          problems.push_back("peer endpoint is neither sockaddr_in nor sockaddr_in6; ignored");
        break;
      case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
        if (auto seconds = fixed<std::uint16_t>(a)) peer.persistent_keepalive_seconds = *seconds;
        break;
      case WGPEER_A_LAST_HANDSHAKE_TIME:
        // struct __kernel_timespec: two signed 64-bit fields.
        if (a.payload.size() == 16) {
          const auto seconds = load<std::int64_t>(a.payload.data());
          const auto nanoseconds = load<std::int64_t>(a.payload.data() + 8);
          if (seconds >= 0 && nanoseconds >= 0)
            peer.last_handshake = handshake_time(static_cast<std::uint64_t>(seconds),
                                                 static_cast<std::uint64_t>(nanoseconds));
        } else {
          problems.push_back(
              fmt::format("peer handshake time of {} bytes is not a __kernel_timespec; ignored",
                          a.payload.size()));
        }
        break;
      case WGPEER_A_RX_BYTES:
        if (auto n = fixed<std::uint64_t>(a)) peer.rx_bytes = *n;
        break;
      case WGPEER_A_TX_BYTES:
        if (auto n = fixed<std::uint64_t>(a)) peer.tx_bytes = *n;
        break;
      case WGPEER_A_ALLOWEDIPS:
        for (const auto& ip : attributes(a.payload, problems, "allowed ips"))
          if (auto prefix = allowed_ip(ip.payload, problems)) peer.allowed_ips.push_back(*prefix);
        break;
      default:
        break;  // preshared key, flags, protocol version: nothing podpath uses
    }
  }
  if (!keyed) {
    problems.push_back("peer without a 32-byte public key; skipped");
    return std::nullopt;
  }
  return peer;
}

void read_device_attributes(ByteView payload, DeviceRead& read) {
  for (const auto& a : attributes(payload, read.problems, "device")) {
    switch (a.type) {
      case WGDEVICE_A_IFNAME: {
        const auto* text = reinterpret_cast<const char*>(a.payload.data());
        read.device.name.assign(text, strnlen(text, a.payload.size()));
        break;
      }
      case WGDEVICE_A_PUBLIC_KEY:
        if (a.payload.size() == WG_KEY_LEN)
          read.device.public_key = key_to_base64(a.payload.data());
        break;
      case WGDEVICE_A_LISTEN_PORT:
        if (auto port = fixed<std::uint16_t>(a)) read.device.listen_port = *port;
        break;
      case WGDEVICE_A_FWMARK:
        if (auto mark = fixed<std::uint32_t>(a)) read.device.fwmark = *mark;
        break;
      case WGDEVICE_A_PEERS:
        for (const auto& nested : attributes(a.payload, read.problems, "peers")) {
          auto peer = peer_of(nested.payload, read.problems);
          if (!peer) continue;
          auto& peers = read.device.peers;
          // The rest of the previous peer's allowed IPs, carried over into this message.
          if (!peers.empty() && peers.back().public_key == peer->public_key) {
            peers.back().allowed_ips.insert(peers.back().allowed_ips.end(),
                                            peer->allowed_ips.begin(), peer->allowed_ips.end());
            continue;
          }
          peers.push_back(std::move(*peer));
        }
        break;
      default:
        break;  // WGDEVICE_A_PRIVATE_KEY is never read; ifindex and flags are not used
    }
  }
}

}  // namespace

DeviceRead parse_genl_get_device(ByteView reply) {
  DeviceRead read;
  std::size_t offset = 0;
  int number = 0;
  while (offset < reply.size()) {
    ++number;
    if (reply.size() - offset < sizeof(nlmsghdr)) {
      read.problems.push_back(fmt::format("message {}: {} bytes left, shorter than a header",
                                          number, reply.size() - offset));
      break;
    }
    const auto header = load<nlmsghdr>(reply.data() + offset);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > reply.size() - offset) {
      read.problems.push_back(fmt::format("message {}: length {} does not fit in the {} bytes left",
                                          number, header.nlmsg_len, reply.size() - offset));
      break;
    }
    const ByteView payload =
        reply.subspan(offset + sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
    offset += std::min<std::size_t>(align4(header.nlmsg_len), reply.size() - offset);
    if (header.nlmsg_type == NLMSG_DONE || header.nlmsg_type == NLMSG_ERROR) {
      // Both carry an int: 0, or the negative errno (a dump's DONE too, says the header).
      const int code = payload.size() >= sizeof(int) ? load<int>(payload.data()) : 0;
      if (code < 0) read.error = code == std::numeric_limits<int>::min() ? EINVAL : -code;
      read.complete = true;
      break;
    }
    if (header.nlmsg_type < NLMSG_MIN_TYPE) continue;  // NOOP
    if (payload.size() < GENL_HDRLEN) {
      read.problems.push_back(fmt::format("message {}: no generic netlink header", number));
      continue;
    }
    read_device_attributes(payload.subspan(GENL_HDRLEN), read);
  }
  return read;
}

}  // namespace podpath::wireguard
