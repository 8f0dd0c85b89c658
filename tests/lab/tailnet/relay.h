// How one IP packet read from a node's tailscale0 travels: to which peer, on which path, after
// how long, or why it is dropped. Pure: the event loop does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "config.h"

namespace podpath::lab {

enum class DropReason {
  kNone,
  kNotIP,        // neither an IPv4 nor an IPv6 packet
  kMalformed,    // shorter than its IPv4 header says, or than an IPv6 header
  kNoPeer,       // no peer's AllowedIPs holds the destination (WireGuard: no route)
  kBlocked,      // the pair's mode is blocked
  kOffline,      // either side is offline
  kSourceCheck,  // the receiver's AllowedIPs for the sender lack the source (cryptokey routing)
  kNoHandshake,  // sent, but the pair never completes a WireGuard handshake
  kKeyExpired,   // either side's node key has expired
};
std::string_view DropReasonName(DropReason reason);

struct Verdict {
  DropReason drop = DropReason::kNone;
  size_t to = 0;  // peer index, set when the packet is sent (even if the receiver then drops it)
  bool sent = false;
  PathMode mode = PathMode::kDerp;
  double delay_ms = 0;
};

// Per node, the routing table WireGuard builds from its peers' AllowedIPs, longest prefix first.
class Router {
 public:
  explicit Router(const Config& config);
  // Decides the fate of `packet`, read from node `from`'s tun. `rng` draws the jitter.
  Verdict Route(size_t from, std::span<const uint8_t> packet, std::mt19937_64& rng) const;

 private:
  struct Entry {
    Prefix prefix;
    size_t peer;
  };
  const Config& config_;
  std::vector<std::vector<Entry>> tables_;  // indexed by node
};

}  // namespace podpath::lab
