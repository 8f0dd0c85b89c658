// Small value types for IP addresses and prefixes of both families, so the pure parts of
// podpath compare addresses instead of strings. (Ipv4 and Ipv4Prefix are the IPv4-only
// predecessors of IpAddress and IpPrefix, left until every user has moved.)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace podpath::model {

struct Ipv4 {
  std::uint32_t value = 0;  // host byte order: 10.42.1.0 is 0x0a2a0100

  static std::optional<Ipv4> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const Ipv4&) const = default;
};

struct Ipv4Prefix {
  Ipv4 address;  // network address (host bits cleared by parse)
  int length = 0;

  // "10.42.1.0/24"; a bare address is a /32. Host bits are cleared: 10.42.2.1/24 -> 10.42.2.0/24.
  static std::optional<Ipv4Prefix> parse(std::string_view text);
  std::string to_string() const;
  bool contains(Ipv4 ip) const;
  bool contains(const Ipv4Prefix& inner) const;
  auto operator<=>(const Ipv4Prefix&) const = default;
};

// The address family: the `family` label of per-peer series ("ipv4", "ipv6").
enum class Family { kIpv4, kIpv6 };
std::string_view to_string(Family family);

// An IPv4 or IPv6 address. IPv4 addresses are kept apart from IPv4-mapped IPv6 ones
// (::ffff:1.2.3.4 is an IPv6 address here), as Go's net/netip does.
class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  // The IPv4-only type converts without ceremony while its last users move over.
  IpAddress(Ipv4 ip) : IpAddress(v4(ip.value)) {}  // NOLINT(google-explicit-constructor)
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v6(const std::array<std::uint8_t, 16>& network_order);
  // From 4 or 16 bytes in network order (what netlink and sockets hand over); nullopt for
  // any other length.
  static std::optional<IpAddress> from_bytes(std::span<const std::uint8_t> network_order);
  // "10.42.1.0" or "fd00:42::1" (no zone, no brackets). IPv4 refuses leading zeros, as Go's
  // net/netip does, so "010.1.1.1" is not octal-ambiguous.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kIpv4; }
  bool is_v6() const { return family_ == Family::kIpv6; }
  // The IPv4 address in host byte order (10.42.1.0 is 0x0a2a0100); 0 for IPv6.
  std::uint32_t v4_value() const;
  // 4 or 16 bytes in network order.
  std::span<const std::uint8_t> bytes() const {
    return {bytes_.data(), is_v4() ? std::size_t{4} : std::size_t{16}};
  }
  bool is_unspecified() const;
  // The address `n` further on, wrapping within the family: the first host address of a
  // subnet is its network address plus one (10.42.2.0 -> 10.42.2.1, fd00:42:2:: -> ::1).
  IpAddress plus(std::uint32_t n) const;
  // Dotted quad, or RFC 5952's canonical IPv6 text (lower case, longest zero run as ::).
  std::string to_string() const;
  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::kIpv4;
  std::array<std::uint8_t, 16> bytes_{};  // network order; IPv4 in the first four
};

class IpPrefix {
 public:
  IpPrefix() = default;
  // The address with its host bits cleared: (10.42.2.1, 24) -> 10.42.2.0/24.
  IpPrefix(IpAddress address, int length);
  IpPrefix(Ipv4Prefix prefix)  // NOLINT(google-explicit-constructor): see IpAddress(Ipv4)
      : IpPrefix(IpAddress(prefix.address), prefix.length) {}
  // "10.42.1.0/24", "fd00:42:1::/64"; a bare address is a /32 or /128. Host bits are
  // cleared. The length is decimal without sign or leading zero, as Go's net/netip.ParsePrefix.
  static std::optional<IpPrefix> parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  // The family's full length: 32 or 128.
  int max_length() const { return address_.is_v4() ? 32 : 128; }
  Family family() const { return address_.family(); }
  std::string to_string() const;
  bool contains(const IpAddress& ip) const;
  bool contains(const IpPrefix& inner) const;
  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

// How an address is reachable, in the words podpath_flannel_annotation_info uses.
enum class AddressScope {
  kLoopback,
  kPrivate,
  kTailnet,  // in 100.64.0.0/10 and listed by this node's tailscaled
  kCgnat,    // in 100.64.0.0/10 (RFC 6598 shared address space) and not a known tailnet address
  kLinkLocal,
  kGlobal,
  kUnspecified
};
// `tailnet` holds the addresses this node's tailscaled lists (sorted; see
// tailscale::tailnet_addresses): Tailscale hands out 100.64.0.0/10, and so do carrier-grade
// NATs, so only tailscaled can tell which it is.
AddressScope classify(Ipv4 ip, std::span<const Ipv4> tailnet = {});
// IPv6: ::1 loopback, fc00::/7 (unique local) private, fe80::/10 link-local, :: unspecified,
// Tailscale's fd7a:115c:a1e0::/48 tailnet, everything else global; IPv4-mapped addresses
// take their IPv4 address' scope.
AddressScope classify(const IpAddress& ip, std::span<const Ipv4> tailnet = {});
std::string_view to_string(AddressScope scope);

}  // namespace podpath::model
