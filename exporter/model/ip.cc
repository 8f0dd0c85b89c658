#include "model/ip.h"

#include <fmt/format.h>

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

AddressScope classify(Ipv4 ip) {
  auto in = [&](const char* prefix) { return Ipv4Prefix::parse(prefix)->contains(ip); };
  if (ip.value == 0) return AddressScope::kUnspecified;
  if (in("127.0.0.0/8")) return AddressScope::kLoopback;
  if (in("10.0.0.0/8") || in("172.16.0.0/12") || in("192.168.0.0/16"))
    return AddressScope::kPrivate;
  // RFC 6598 shared address space: Tailscale hands out its 100.x addresses from it.
  if (in("100.64.0.0/10")) return AddressScope::kTailnet;
  if (in("169.254.0.0/16")) return AddressScope::kLinkLocal;
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
