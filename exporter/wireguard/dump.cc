#include "wireguard/dump.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "encoding/base64.h"

namespace podpath::wireguard {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text = text.substr(at + 1);
  }
}

template <typename Number>
std::optional<Number> number(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// A base64 WireGuard key: 44 characters that decode to 32 bytes.
bool is_key(std::string_view text) {
  if (text.size() != 44) return false;
  auto bytes = encoding::decode_base64(text);
  return bytes && bytes->size() == 32;
}

Device& device_named(DumpRead& read, std::string_view name) {
  auto it = std::find_if(read.devices.begin(), read.devices.end(),
                         [&](const Device& d) { return d.name == name; });
  if (it != read.devices.end()) return *it;
  read.devices.push_back(Device{std::string(name), "", 0, 0, {}});
  return read.devices.back();
}

// Why the interface line is refused; empty when it was read.
std::string interface_line(const std::vector<std::string_view>& f, DumpRead& read) {
  if (!is_key(f[2])) return "public key is not a base64 key";
  auto port = number<std::uint16_t>(f[3]);
  if (!port) return fmt::format("listen port \"{}\" is not a port", f[3]);
  std::uint32_t fwmark = 0;
  if (f[4] != "off") {
    // show.c prints the fwmark as 0x%x.
    std::string_view hex = f[4];
    if (hex.starts_with("0x")) hex.remove_prefix(2);
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ec != std::errc() || end != hex.data() + hex.size() || hex.empty())
      return fmt::format("fwmark \"{}\" is neither off nor a number", f[4]);
    fwmark = value;
  }
  Device& device = device_named(read, f[0]);
  device.public_key = std::string(f[2]);  // f[1], the private key, is never kept
  device.listen_port = *port;
  device.fwmark = fwmark;
  return "";
}

std::string peer_line(const std::vector<std::string_view>& f, DumpRead& read) {
  Peer peer;
  if (!is_key(f[1])) return "public key is not a base64 key";
  peer.public_key = std::string(f[1]);
  if (f[3] != "(none)") {
    peer.endpoint = parse_endpoint(f[3]);
    if (!peer.endpoint) return fmt::format("endpoint \"{}\" is not ip:port", f[3]);
  }
  if (f[4] != "(none)")
    for (auto text : split(f[4], ',')) {
      auto prefix = model::IpPrefix::parse(text);
      if (!prefix) return fmt::format("allowed ip \"{}\" is not a prefix", text);
      peer.allowed_ips.push_back(*prefix);
    }
  auto handshake = number<std::uint64_t>(f[5]);
  auto rx = number<std::uint64_t>(f[6]);
  auto tx = number<std::uint64_t>(f[7]);
  if (!handshake || !rx || !tx) return "handshake or transfer is not a number";
  peer.last_handshake = handshake_time(*handshake, 0);
  peer.rx_bytes = *rx;
  peer.tx_bytes = *tx;
  if (f[8] != "off") {
    auto keepalive = number<std::uint16_t>(f[8]);
    if (!keepalive) return fmt::format("keepalive \"{}\" is neither off nor seconds", f[8]);
    peer.persistent_keepalive_seconds = *keepalive;
  }
  device_named(read, f[0]).peers.push_back(std::move(peer));
  return "";
}

}  // namespace

DumpRead parse_show_dump(std::string_view text) {
  DumpRead read;
  int number = 0;
  for (auto line : split(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const auto fields = split(line, '\t');
    std::string why;
    if (fields[0].empty())
      why = "no interface name";
    else if (fields.size() == 5)
      why = interface_line(fields, read);
    else if (fields.size() == 9)
      why = peer_line(fields, read);
    else
      why = fmt::format("{} fields; an interface line has 5 and a peer line 9", fields.size());
    if (!why.empty()) read.problems.push_back(fmt::format("line {}: {}", number, why));
  }
  return read;
}

}  // namespace podpath::wireguard
