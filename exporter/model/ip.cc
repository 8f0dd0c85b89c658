#include "model/ip.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace podpath::model {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  std::uint32_t result = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    // Leading zeros are refused, as Go's net/netip does, so "010.1.1.1" is not octal-ambiguous.
    if (p == end || (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9')) return std::nullopt;
    unsigned value = 0;
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || next == p || next - p > 3 || value > 255) return std::nullopt;
    result = (result << 8) | value;
    p = next;
  }
  if (p != end) return std::nullopt;
  return Ipv4{result};
}

std::string Ipv4::to_string() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                     value & 0xff);
}

namespace {
std::uint32_t mask_for(int length) {
  return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
}
}  // namespace

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  int length = 32;
  if (slash != std::string_view::npos) {
    std::string_view len_text = text.substr(slash + 1);
    // Decimal digits without a sign or leading zero, as Go's net/netip.ParsePrefix: from_chars
    // alone takes "-0" and "024" (found by fuzz/ip.cc).
    if (len_text.size() > 1 && len_text[0] == '0') return std::nullopt;
    if (!len_text.empty() && (len_text[0] < '0' || len_text[0] > '9')) return std::nullopt;
    auto [next, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
    if (ec != std::errc() || next != len_text.data() + len_text.size() || len_text.empty() ||
        length < 0 || length > 32)
      return std::nullopt;
    text = text.substr(0, slash);
  }
  auto ip = Ipv4::parse(text);
  if (!ip) return std::nullopt;
  return Ipv4Prefix{Ipv4{ip->value & mask_for(length)}, length};
}

std::string Ipv4Prefix::to_string() const {
  return fmt::format("{}/{}", address.to_string(), length);
}

bool Ipv4Prefix::contains(Ipv4 ip) const {
  return (ip.value & mask_for(length)) == address.value;
}

bool Ipv4Prefix::contains(const Ipv4Prefix& inner) const {
  return inner.length >= length && contains(inner.address);
}

AddressScope classify(Ipv4 ip, std::span<const Ipv4> tailnet) {
  auto in = [&](const char* prefix) { return Ipv4Prefix::parse(prefix)->contains(ip); };
  if (ip.value == 0) return AddressScope::kUnspecified;
  if (in("127.0.0.0/8")) return AddressScope::kLoopback;
  if (in("10.0.0.0/8") || in("172.16.0.0/12") || in("192.168.0.0/16"))
    return AddressScope::kPrivate;
  // RFC 6598 shared address space: Tailscale hands out its 100.x addresses from it.
  if (in("100.64.0.0/10"))
    return std::binary_search(tailnet.begin(), tailnet.end(), ip) ? AddressScope::kTailnet
                                                                  : AddressScope::kCgnat;
  if (in("169.254.0.0/16")) return AddressScope::kLinkLocal;
  return AddressScope::kGlobal;
}

std::string_view to_string(Family family) {
  return family == Family::kIpv4 ? "ipv4" : "ipv6";
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress ip;
  ip.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  ip.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  ip.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  ip.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return ip;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& network_order) {
  IpAddress ip;
  ip.family_ = Family::kIpv6;
  ip.bytes_ = network_order;
  return ip;
}

std::optional<IpAddress> IpAddress::from_bytes(std::span<const std::uint8_t> network_order) {
  if (network_order.size() == 4)
    return v4((std::uint32_t{network_order[0]} << 24) | (std::uint32_t{network_order[1]} << 16) |
              (std::uint32_t{network_order[2]} << 8) | network_order[3]);
  if (network_order.size() != 16) return std::nullopt;
  std::array<std::uint8_t, 16> bytes;
  std::copy(network_order.begin(), network_order.end(), bytes.begin());
  return v6(bytes);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    auto ip = Ipv4::parse(text);
    if (!ip) return std::nullopt;
    return v4(ip->value);
  }
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 characters.
  if (text.size() > 45) return std::nullopt;
  char buffer[46] = {};
  std::copy(text.begin(), text.end(), buffer);
  std::array<std::uint8_t, 16> bytes;
  if (inet_pton(AF_INET6, buffer, bytes.data()) != 1) return std::nullopt;
  return v6(bytes);
}

std::uint32_t IpAddress::v4_value() const {
  if (!is_v4()) return 0;
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | bytes_[3];
}

IpAddress IpAddress::plus(std::uint32_t n) const {
  IpAddress out = *this;
  std::uint64_t carry = n;
  for (std::size_t i = bytes().size(); i-- > 0 && carry != 0;) {
    carry += out.bytes_[i];
    out.bytes_[i] = static_cast<std::uint8_t>(carry);
    carry >>= 8;
  }
  return out;
}

bool IpAddress::is_unspecified() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

std::string IpAddress::to_string() const {
  if (is_v4()) return Ipv4{v4_value()}.to_string();
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  return buffer;
}

namespace {

// Clears every bit past `length`.
std::array<std::uint8_t, 16> masked(std::span<const std::uint8_t> bytes, int length) {
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int keep = std::clamp(length - static_cast<int>(i) * 8, 0, 8);
    out[i] = static_cast<std::uint8_t>(bytes[i] & (keep == 0 ? 0 : 0xff << (8 - keep)));
  }
  return out;
}

int family_bits(Family family) {
  return family == Family::kIpv4 ? 32 : 128;
}

}  // namespace

IpPrefix::IpPrefix(IpAddress address, int length) : length_(length) {
  auto bytes = masked(address.bytes(), length);
  address_ = *IpAddress::from_bytes({bytes.data(), address.bytes().size()});
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int length = family_bits(address->family());
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits[0] < '0' || digits[0] > '9' ||
        (digits.size() > 1 && digits[0] == '0'))
      return std::nullopt;
    auto [next, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || next != digits.data() + digits.size() ||
        length > family_bits(address->family()))
      return std::nullopt;
  }
  return IpPrefix(*address, length);
}

std::string IpPrefix::to_string() const {
  return fmt::format("{}/{}", address_.to_string(), length_);
}

bool IpPrefix::contains(const IpAddress& ip) const {
  if (ip.family() != family()) return false;
  return IpPrefix(ip, length_).address_ == address_;
}

bool IpPrefix::contains(const IpPrefix& inner) const {
  return inner.length_ >= length_ && contains(inner.address_);
}

AddressScope classify(const IpAddress& ip, std::span<const Ipv4> tailnet) {
  if (ip.is_v4()) return classify(Ipv4{ip.v4_value()}, tailnet);
  auto in = [&](const char* prefix) { return IpPrefix::parse(prefix)->contains(ip); };
  if (ip.is_unspecified()) return AddressScope::kUnspecified;
  if (in("::1/128")) return AddressScope::kLoopback;
  if (in("::ffff:0:0/96")) {
    auto bytes = ip.bytes();
    return classify(*IpAddress::from_bytes(bytes.subspan(12)), tailnet);
  }
  if (in("fe80::/10")) return AddressScope::kLinkLocal;
  // Tailscale's IPv6 range (tailscale/tailscale net/tsaddr: TailscaleULARange).
  if (in("fd7a:115c:a1e0::/48")) return AddressScope::kTailnet;
  if (in("fc00::/7")) return AddressScope::kPrivate;
  return AddressScope::kGlobal;
}

std::string_view to_string(AddressScope scope) {
  switch (scope) {
    case AddressScope::kLoopback:
      return "loopback";
    case AddressScope::kPrivate:
      return "private";
    case AddressScope::kTailnet:
      return "tailnet";
    case AddressScope::kCgnat:
      return "cgnat";
    case AddressScope::kLinkLocal:
      return "link-local";
    case AddressScope::kGlobal:
      return "global";
    case AddressScope::kUnspecified:
      return "unspecified";
  }
  return "unspecified";
}

}  // namespace podpath::model
