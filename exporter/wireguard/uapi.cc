#include "wireguard/uapi.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace podpath::wireguard {

namespace {

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Reads one peer's keys; the handshake's two halves arrive on separate lines.
struct PeerBuilder {
  Peer peer;
  std::uint64_t handshake_seconds = 0;
  std::uint64_t handshake_nanoseconds = 0;

  Peer finish() {
    peer.last_handshake = handshake_time(handshake_seconds, handshake_nanoseconds);
    return std::move(peer);
  }
};

class Reader {
 public:
  explicit Reader(std::string_view name) { read_.device.name = std::string(name); }

  void line(std::size_t number, std::string_view text) {
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) {
      problem(number, fmt::format("no '=' in \"{}\"", clip(text)));
      return;
    }
    const std::string_view key = text.substr(0, equals);
    const std::string_view value = text.substr(equals + 1);
    if (key == "errno") {
      if (auto n = parse_number<int>(value); n && *n >= 0)
        read_.error = *n;
      else
        problem(number, fmt::format("errno \"{}\" is not a number", clip(value)));
      return;
    }
    if (key == "public_key") {
      start_peer(number, value);
      return;
    }
    if (!peer_) {
      device_key(number, key, value);
    } else if (!skipping_peer_) {
      peer_key(number, key, value);
    }
  }

  DeviceRead finish(bool complete) {
    end_peer();
    read_.complete = complete;
    return std::move(read_);
  }

 private:
  static std::string_view clip(std::string_view text) { return text.substr(0, 80); }

  void problem(std::size_t number, std::string what) {
    read_.problems.push_back(fmt::format("line {}: {}", number, what));
  }

  void start_peer(std::size_t number, std::string_view value) {
    end_peer();
    peer_.emplace();
    skipping_peer_ = false;
    if (auto key = hex_key_to_base64(value)) {
      peer_->peer.public_key = std::move(*key);
    } else {
      problem(number, "public_key is not 64 hex digits; the peer is skipped");
      skipping_peer_ = true;
    }
  }

  void end_peer() {
    if (peer_ && !skipping_peer_) read_.device.peers.push_back(peer_->finish());
    peer_.reset();
  }

  void device_key(std::size_t number, std::string_view key, std::string_view value) {
    if (key == "listen_port") {
      if (auto port = parse_number<std::uint16_t>(value))
        read_.device.listen_port = *port;
      else
        problem(number, fmt::format("listen_port \"{}\" is not a port", clip(value)));
    } else if (key == "fwmark") {
      if (auto mark = parse_number<std::uint32_t>(value))
        read_.device.fwmark = *mark;
      else
        problem(number, fmt::format("fwmark \"{}\" is not a number", clip(value)));
    }
    // private_key: never read. Anything else: unknown, ignored as wg(8) ignores it.
  }

  void peer_key(std::size_t number, std::string_view key, std::string_view value) {
    Peer& peer = peer_->peer;
    auto counter = [&](std::uint64_t& into) {
      if (auto n = parse_number<std::uint64_t>(value))
        into = *n;
      else
        problem(number, fmt::format("{} \"{}\" is not a number", key, clip(value)));
    };
    if (key == "endpoint") {
      if (auto endpoint = parse_endpoint(value))
        peer.endpoint = *endpoint;
      else
        problem(number, fmt::format("endpoint \"{}\" is not ip:port", clip(value)));
    } else if (key == "allowed_ip") {
      if (auto prefix = model::IpPrefix::parse(value))
        peer.allowed_ips.push_back(*prefix);
      else
        problem(number, fmt::format("allowed_ip \"{}\" is not a prefix", clip(value)));
    } else if (key == "last_handshake_time_sec") {
      counter(peer_->handshake_seconds);
    } else if (key == "last_handshake_time_nsec") {
      counter(peer_->handshake_nanoseconds);
    } else if (key == "rx_bytes") {
      counter(peer.rx_bytes);
    } else if (key == "tx_bytes") {
      counter(peer.tx_bytes);
    } else if (key == "persistent_keepalive_interval") {
      if (auto seconds = parse_number<std::uint16_t>(value))
        peer.persistent_keepalive_seconds = *seconds;
      else
        problem(number,
                fmt::format("persistent_keepalive_interval \"{}\" is not a number", clip(value)));
    }
    // preshared_key: never read; protocol_version and unknown keys: nothing podpath uses.
  }

  DeviceRead read_;
  std::optional<PeerBuilder> peer_;
  bool skipping_peer_ = false;
};

}  // namespace

DeviceRead parse_uapi_get(std::string_view reply, std::string_view name) {
  Reader reader(name);
  std::size_t number = 0;
  while (!reply.empty()) {
    ++number;
    const auto newline = reply.find('\n');
    std::string_view line = reply.substr(0, newline);
    reply = newline == std::string_view::npos ? std::string_view{} : reply.substr(newline + 1);
    if (line.empty()) return reader.finish(true);  // the empty line ends the reply
    reader.line(number, line);
  }
  return reader.finish(false);
}

}  // namespace podpath::wireguard
