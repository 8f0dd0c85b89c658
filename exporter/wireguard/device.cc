#include "wireguard/device.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "encoding/base64.h"

namespace podpath::wireguard {

namespace {

constexpr std::size_t kKeyLength = 32;  // WG_KEY_LEN

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), port);
  return fmt::format("{}:{}", address.to_string(), port);
}

std::string key_to_base64(const std::uint8_t* bytes) {
  return encoding::encode_base64(
      std::string_view(reinterpret_cast<const char*>(bytes), kKeyLength));
}

std::optional<std::string> hex_key_to_base64(std::string_view hex) {
  if (hex.size() != 2 * kKeyLength) return std::nullopt;
  std::uint8_t bytes[kKeyLength];
  for (std::size_t i = 0; i < kKeyLength; ++i) {
    const int high = hex_digit(hex[2 * i]);
    const int low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return key_to_base64(bytes);
}

std::optional<std::chrono::system_clock::time_point> handshake_time(std::uint64_t seconds,
                                                                    std::uint64_t nanoseconds) {
  if (seconds == 0 && nanoseconds == 0) return std::nullopt;
  using std::chrono::system_clock;
  // A time point counts nanoseconds in 64 bits: beyond ~292 years from 1970 it overflows.
  constexpr std::uint64_t kMaxSeconds = 1ULL << 33;
  if (seconds > kMaxSeconds || nanoseconds >= 1'000'000'000ULL) return std::nullopt;
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanoseconds)));
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (auto zone = host.find('%'); zone != std::string_view::npos) host = host.substr(0, zone);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address without brackets
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > std::numeric_limits<std::uint16_t>::max())
    return std::nullopt;
  auto address = model::IpAddress::parse(host);
  if (!address) return std::nullopt;
  return Endpoint{*address, static_cast<std::uint16_t>(port)};
}

}  // namespace podpath::wireguard
