#include "relay.h"

#include <algorithm>

namespace podpath::lab {

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kNone:
      return "none";
    case DropReason::kNotIP:
      return "not_ip";
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kNoPeer:
      return "no_peer";
    case DropReason::kBlocked:
      return "blocked";
    case DropReason::kOffline:
      return "offline";
    case DropReason::kSourceCheck:
      return "source_check";
    case DropReason::kNoHandshake:
      return "no_handshake";
    case DropReason::kKeyExpired:
      return "key_expired";
  }
  return "?";
}

Router::Router(const Config& config) : config_(config), tables_(config.nodes.size()) {
  for (size_t self = 0; self < config.nodes.size(); ++self) {
    auto& table = tables_[self];
    for (size_t peer = 0; peer < config.nodes.size(); ++peer) {
      if (peer == self) continue;
      for (const auto& prefix : config.AllowedIPs(self, peer)) table.push_back({prefix, peer});
    }
    std::stable_sort(table.begin(), table.end(),
                     [](const Entry& x, const Entry& y) { return x.prefix.len > y.prefix.len; });
  }
}

namespace {

uint32_t ReadBE32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A packet's source or destination, either family.
struct Address {
  bool v6 = false;
  uint32_t v4 = 0;
  IPv6Address v6addr{};

  bool In(const Prefix& p) const { return v6 ? p.Contains(v6addr) : p.Contains(v4); }
};

Address ReadIPv6(const uint8_t* p) {
  Address a;
  a.v6 = true;
  std::copy(p, p + 16, a.v6addr.begin());
  return a;
}

bool AnyContains(const std::vector<Prefix>& prefixes, const Address& ip) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&ip](const Prefix& p) { return ip.In(p); });
}

}  // namespace

Verdict Router::Route(size_t from, std::span<const uint8_t> packet, std::mt19937_64& rng) const {
  Verdict v;
  int version = packet.empty() ? 0 : packet[0] >> 4;
  if (version != 4 && version != 6) {
    v.drop = DropReason::kNotIP;
    return v;
  }
  Address src, dst;
  if (version == 4) {
    if (packet.size() < 20 || size_t{(packet[0] & 0x0fu) * 4u} < 20 ||
        packet.size() < size_t{(packet[0] & 0x0fu) * 4u}) {
      v.drop = DropReason::kMalformed;
      return v;
    }
    src.v4 = ReadBE32(&packet[12]);
    dst.v4 = ReadBE32(&packet[16]);
  } else {
    // RFC 8200 section 3: a fixed 40-byte header, source at 8, destination at 24.
    if (packet.size() < 40) {
      v.drop = DropReason::kMalformed;
      return v;
    }
    src = ReadIPv6(&packet[8]);
    dst = ReadIPv6(&packet[24]);
  }
  const auto& table = tables_[from];
  auto it =
      std::find_if(table.begin(), table.end(), [&dst](const Entry& e) { return dst.In(e.prefix); });
  if (it == table.end()) {
    v.drop = DropReason::kNoPeer;
    return v;
  }
  v.to = it->peer;
  PairConfig pair = config_.Pair(from, v.to);
  v.mode = pair.mode;
  if (pair.mode == PathMode::kBlocked) {
    v.drop = DropReason::kBlocked;
    return v;
  }
  if (!config_.nodes[from].online || !config_.nodes[v.to].online) {
    v.drop = DropReason::kOffline;
    return v;
  }
  // tailscaled drops an expired peer's endpoints; an expired node blocks its own engine.
  if (config_.nodes[from].expired || config_.nodes[v.to].expired) {
    v.drop = DropReason::kKeyExpired;
    return v;
  }
  v.sent = true;
  // tailscaled queues and sends (TxBytes grows, the peer turns Active) but no session forms.
  if (pair.mode == PathMode::kNoHandshake) {
    v.drop = DropReason::kNoHandshake;
    return v;
  }
  // WireGuard on the receiving side only accepts an inner source address that lies in the
  // AllowedIPs it holds for the sender; anything else is dropped after decryption.
  if (!AnyContains(config_.AllowedIPs(v.to, from), src)) {
    v.drop = DropReason::kSourceCheck;
    return v;
  }
  v.delay_ms = pair.delay_ms;
  if (pair.jitter_ms > 0) {
    v.delay_ms += std::uniform_real_distribution<double>(0, pair.jitter_ms)(rng);
  }
  return v;
}

}  // namespace podpath::lab
