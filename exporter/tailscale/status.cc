#include "tailscale/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace podpath::tailscale {

namespace {

using nlohmann::json;

// A field of the wrong type or form; caught per peer so one bad entry costs only itself.
class FieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The field's value, or nullptr when it is absent or JSON null (Go marshals nil slices and
// maps as null, and older tailscaled versions lack newer fields).
const json* find(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void wrong_type(const char* name, const char* want, const json& value) {
  throw FieldError(fmt::format("{}: expected {}, got {}", name, want, value.type_name()));
}

std::string get_string(const json& object, const char* name) {
  const json* value = find(object, name);
  if (value == nullptr) return {};
  if (!value->is_string()) wrong_type(name, "string", *value);
  return value->get<std::string>();
}

bool get_bool(const json& object, const char* name) {
  const json* value = find(object, name);
  if (value == nullptr) return false;
  if (!value->is_boolean()) wrong_type(name, "boolean", *value);
  return value->get<bool>();
}

std::uint64_t get_count(const json& object, const char* name) {
  const json* value = find(object, name);
  if (value == nullptr) return 0;
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_number_integer() && value->get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(value->get<std::int64_t>());
  wrong_type(name, "non-negative integer", *value);
}

std::vector<std::string> get_strings(const json& object, const char* name) {
  std::vector<std::string> out;
  const json* value = find(object, name);
  if (value == nullptr) return out;
  if (!value->is_array()) wrong_type(name, "array of strings", *value);
  out.reserve(value->size());
  for (const auto& item : *value) {
    if (!item.is_string()) wrong_type(name, "array of strings", item);
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<model::IpAddress> get_addresses(const json& object, const char* name) {
  std::vector<model::IpAddress> out;
  for (const auto& text : get_strings(object, name)) {
    auto ip = model::IpAddress::parse(text);
    if (!ip) throw FieldError(fmt::format("{}: \"{}\" is not an IP address", name, text));
    out.push_back(*ip);
  }
  return out;
}

std::vector<model::IpPrefix> get_prefixes(const json& object, const char* name) {
  std::vector<model::IpPrefix> out;
  for (const auto& text : get_strings(object, name)) {
    auto prefix = model::IpPrefix::parse(text);
    if (!prefix) throw FieldError(fmt::format("{}: \"{}\" is not an IP prefix", name, text));
    out.push_back(*prefix);
  }
  return out;
}

PeerStatus parse_peer(const json& object, std::string key) {
  if (!object.is_object())
    throw FieldError(fmt::format("expected object, got {}", object.type_name()));
  PeerStatus peer;
  peer.key = std::move(key);
  peer.host_name = get_string(object, "HostName");
  peer.dns_name = get_string(object, "DNSName");
  peer.tailscale_ips = get_addresses(object, "TailscaleIPs");
  peer.allowed_ips = get_prefixes(object, "AllowedIPs");
  peer.primary_routes = get_prefixes(object, "PrimaryRoutes");
  peer.cur_addr = get_string(object, "CurAddr");
  peer.relay = get_string(object, "Relay");
  peer.peer_relay = get_string(object, "PeerRelay");
  peer.online = get_bool(object, "Online");
  peer.active = get_bool(object, "Active");
  peer.rx_bytes = get_count(object, "RxBytes");
  peer.tx_bytes = get_count(object, "TxBytes");
  const std::string handshake = get_string(object, "LastHandshake");
  if (!handshake.empty() && !parse_rfc3339(handshake, peer.last_handshake_unix_seconds))
    throw FieldError(fmt::format("LastHandshake: \"{}\" is not an RFC 3339 time", handshake));
  // A *time.Time with omitempty: absent (or null) when the key never expires.
  const std::string expiry = get_string(object, "KeyExpiry");
  if (!expiry.empty() && !parse_rfc3339(expiry, peer.key_expiry_unix_seconds))
    throw FieldError(fmt::format("KeyExpiry: \"{}\" is not an RFC 3339 time", expiry));
  peer.expired = get_bool(object, "Expired");
  return peer;
}

// Reads exactly `digits` decimal digits at `pos`; advances it.
bool read_digits(std::string_view text, size_t& pos, size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  for (size_t i = pos; i < pos + digits; ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  std::from_chars(text.data() + pos, text.data() + pos + digits, out);
  pos += digits;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

bool parse_rfc3339(std::string_view text, std::optional<double>& unix_seconds) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day))
    return false;
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) return false;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second))
    return false;
  double fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    double scale = 0.1;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  int offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hours = 0, offset_minutes = 0;
    if (!read_digits(text, pos, 2, offset_hours) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, offset_minutes) || offset_hours > 23 || offset_minutes > 59)
      return false;
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
  } else {
    return false;
  }
  if (pos != text.size()) return false;
  // <chrono>'s civil calendar checks the date (month lengths, leap years) and counts the days;
  // libstdc++ 12 has no std::chrono::parse, hence the hand-read fields above.
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return false;
  // Go's zero time.Time, which tailscaled sends for "never happened".
  if (year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 &&
      fraction == 0 && offset_seconds == 0) {
    unix_seconds.reset();
    return true;
  }
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                  std::chrono::minutes(minute) + std::chrono::seconds(second - offset_seconds);
  unix_seconds = static_cast<double>(at.time_since_epoch().count()) + fraction;
  return true;
}

base::Result<Status> parse_status(std::string_view body) {
  using Parsed = base::Result<Status>;
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Parsed::failure("status is not valid JSON");
  }
  if (!doc.is_object()) {
    return Parsed::failure(fmt::format("status is a JSON {}, not an object", doc.type_name()));
  }
  Status status;
  try {
    status.version = get_string(doc, "Version");
    status.backend_state = get_string(doc, "BackendState");
    status.health = get_strings(doc, "Health");
  } catch (const FieldError& e) {
    return Parsed::failure(fmt::format("status field {}", e.what()));
  }
  if (const json* self = find(doc, "Self")) {
    try {
      status.self = parse_peer(*self, "");
    } catch (const FieldError& e) {
      status.peer_errors.push_back(PeerError{"Self", e.what()});
    }
  }
  if (const json* peers = find(doc, "Peer")) {
    if (!peers->is_object()) {
      return Parsed::failure(
          fmt::format("status field Peer: expected object, got {}", peers->type_name()));
    }
    status.peers.reserve(peers->size());
    for (const auto& [key, value] : peers->items()) {
      try {
        status.peers.push_back(parse_peer(value, key));
      } catch (const FieldError& e) {
        status.peer_errors.push_back(PeerError{key, e.what()});
      }
    }
  }
  // nlohmann's object is a std::map, so items() is already in key order; sorting states the
  // determinism the metrics rely on instead of leaning on the container.
  std::sort(status.peers.begin(), status.peers.end(),
            [](const PeerStatus& a, const PeerStatus& b) { return a.key < b.key; });
  std::sort(status.peer_errors.begin(), status.peer_errors.end(),
            [](const PeerError& a, const PeerError& b) { return a.key < b.key; });
  return status;
}

std::vector<model::Ipv4> tailnet_addresses(const Status& status) {
  std::vector<model::Ipv4> out;
  auto add = [&](const PeerStatus& peer) {
    for (const auto& ip : peer.tailscale_ips)
      if (ip.is_v4()) out.push_back(model::Ipv4{ip.v4_value()});
  };
  if (status.self) add(*status.self);
  for (const auto& peer : status.peers) add(peer);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string display_name(const PeerStatus& peer) {
  if (!peer.host_name.empty()) return peer.host_name;
  if (!peer.dns_name.empty()) return peer.dns_name.substr(0, peer.dns_name.find('.'));
  return peer.key;
}

}  // namespace podpath::tailscale
