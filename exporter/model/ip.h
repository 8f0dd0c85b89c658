// Small value types for IPv4 addresses and prefixes, so the pure parts of podpath
// compare addresses instead of strings. IPv6 is carried as text where it appears.
#pragma once

#include <cstdint>
#include <optional>
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

// How an address is reachable, in the words podpath_flannel_annotation_info uses.
enum class AddressScope { kLoopback, kPrivate, kTailnet, kLinkLocal, kGlobal, kUnspecified };
AddressScope classify(Ipv4 ip);
std::string_view to_string(AddressScope scope);

}  // namespace podpath::model
