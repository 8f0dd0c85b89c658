// Builds WG_CMD_GET_DEVICE replies by hand, attribute by attribute, in the layout of linux
// include/uapi/linux/wireguard.h: our own bytes (the kernel here has no WireGuard module), for
// the parser's tests and the fuzz seeds.
#pragma once

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace podpath::wireguard::testing {

using Bytes = std::vector<std::uint8_t>;

inline void pad(Bytes& b) {
  while (b.size() % 4 != 0) b.push_back(0);
}

// Appends by resize and memcpy: GCC 12 warns falsely (-Warray-bounds) on vector::insert of
// small vectors here.
inline void append(Bytes& out, const Bytes& in) {
  const std::size_t at = out.size();
  out.resize(at + in.size());
  if (!in.empty()) std::memcpy(out.data() + at, in.data(), in.size());
}

inline Bytes attr(std::uint16_t type, const void* data, std::size_t size) {
  Bytes b((sizeof(nlattr) + size + 3) & ~std::size_t{3}, 0);
  const nlattr header{static_cast<std::uint16_t>(sizeof(nlattr) + size), type};
  std::memcpy(b.data(), &header, sizeof header);
  if (size > 0) std::memcpy(b.data() + sizeof header, data, size);
  return b;
}

template <typename T>
Bytes attr_value(std::uint16_t type, T value) {
  return attr(type, &value, sizeof value);
}

inline Bytes nested(std::uint16_t type, const std::vector<Bytes>& children) {
  Bytes body;
  for (const auto& c : children) append(body, c);
  return attr(static_cast<std::uint16_t>(type | NLA_F_NESTED), body.data(), body.size());
}

inline Bytes key_attr(std::uint16_t type, std::uint8_t fill) {
  std::uint8_t key[WG_KEY_LEN];
  std::memset(key, fill, sizeof key);
  return attr(type, key, sizeof key);
}

inline Bytes endpoint_v4(const char* address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, address, &sa.sin_addr);
  return attr(WGPEER_A_ENDPOINT, &sa, sizeof sa);
}

inline Bytes endpoint_v6(const char* address, std::uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &sa.sin6_addr);
  return attr(WGPEER_A_ENDPOINT, &sa, sizeof sa);
}

inline Bytes handshake(std::int64_t seconds, std::int64_t nanoseconds) {
  std::int64_t ts[2] = {seconds, nanoseconds};  // struct __kernel_timespec
  return attr(WGPEER_A_LAST_HANDSHAKE_TIME, ts, sizeof ts);
}

inline Bytes allowed_ip(const char* address, std::uint8_t cidr) {
  const bool v6 = std::strchr(address, ':') != nullptr;
  std::uint8_t bytes[16];
  inet_pton(v6 ? AF_INET6 : AF_INET, address, bytes);
  return nested(0, {attr_value<std::uint16_t>(WGALLOWEDIP_A_FAMILY, v6 ? AF_INET6 : AF_INET),
                    attr(WGALLOWEDIP_A_IPADDR, bytes, v6 ? 16 : 4),
                    attr_value<std::uint8_t>(WGALLOWEDIP_A_CIDR_MASK, cidr)});
}

inline Bytes ifname(const char* name) {
  return attr(WGDEVICE_A_IFNAME, name, std::strlen(name) + 1);
}

// One message of the dump: netlink header, generic netlink header, the attributes.
inline Bytes message(std::uint16_t type, const std::vector<Bytes>& attributes,
                     std::uint16_t flags = NLM_F_MULTI) {
  Bytes body(sizeof(genlmsghdr));
  const genlmsghdr genl{WG_CMD_GET_DEVICE, WG_GENL_VERSION, 0};
  std::memcpy(body.data(), &genl, sizeof genl);
  for (const auto& a : attributes) append(body, a);
  Bytes m(sizeof(nlmsghdr));
  const nlmsghdr header{static_cast<std::uint32_t>(sizeof(nlmsghdr) + body.size()), type, flags, 1,
                        0};
  std::memcpy(m.data(), &header, sizeof header);
  append(m, body);
  pad(m);
  return m;
}

// NLMSG_DONE (or NLMSG_ERROR) carrying `code`: 0 or a negative errno.
inline Bytes done(int code, std::uint16_t type = NLMSG_DONE) {
  Bytes m(sizeof(nlmsghdr) + sizeof(int));
  const nlmsghdr header{static_cast<std::uint32_t>(m.size()), type, NLM_F_MULTI, 1, 0};
  std::memcpy(m.data(), &header, sizeof header);
  std::memcpy(m.data() + sizeof header, &code, sizeof code);
  return m;
}

inline Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const auto& p : parts) append(out, p);
  return out;
}

// The family id the kernel gave "wireguard" differs per boot; any id >= NLMSG_MIN_TYPE.
inline constexpr std::uint16_t kFamily = 0x1c;

// A flannel-wg device as flannel's wireguard backend programs it (wireguard.go, device.go):
// port 51820, one peer per node with its pod subnet and public-ip:51820, keepalive 25 (k3s).
inline Bytes flannel_wg_reply() {
  return concat(
      {message(kFamily,
               {attr_value<std::uint32_t>(WGDEVICE_A_IFINDEX, 7), ifname("flannel-wg"),
                key_attr(WGDEVICE_A_PRIVATE_KEY, 0x11), key_attr(WGDEVICE_A_PUBLIC_KEY, 0x22),
                attr_value<std::uint16_t>(WGDEVICE_A_LISTEN_PORT, 51820),
                attr_value<std::uint32_t>(WGDEVICE_A_FWMARK, 0),
                nested(WGDEVICE_A_PEERS,
                       {nested(0, {key_attr(WGPEER_A_PUBLIC_KEY, 0x33),
                                   key_attr(WGPEER_A_PRESHARED_KEY, 0x44),
                                   endpoint_v4("192.168.68.148", 51820),
                                   attr_value<std::uint16_t>(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
                                                             25),
                                   handshake(1700000000, 5),
                                   attr_value<std::uint64_t>(WGPEER_A_RX_BYTES, 6881),
                                   attr_value<std::uint64_t>(WGPEER_A_TX_BYTES, 6676),
                                   nested(WGPEER_A_ALLOWEDIPS, {allowed_ip("10.42.1.0", 24)}),
                                   attr_value<std::uint32_t>(WGPEER_A_PROTOCOL_VERSION, 1)})})}),
       done(0)});
}

}  // namespace podpath::wireguard::testing
