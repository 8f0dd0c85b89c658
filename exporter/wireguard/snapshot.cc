#include "wireguard/snapshot.h"

#include <algorithm>
#include <tuple>

namespace podpath::wireguard {

namespace {

// The length of the longest allowed IP holding the peer's pod CIDR (of the peer's family);
// -1 when none does.
int allowed_ip_match(const Peer& wg, const model::Peer& peer) {
  int best = -1;
  if (!peer.pod_cidr) return best;
  for (const auto& allowed : wg.allowed_ips)
    if (allowed.contains(*peer.pod_cidr)) best = std::max(best, allowed.length());
  return best;
}

bool endpoint_match(const Peer& wg, const model::Peer& peer) {
  return wg.endpoint && peer.vtep_address && *peer.vtep_address == wg.endpoint->address;
}

struct Match {
  const model::Peer* peer = nullptr;
  MatchReason reason = MatchReason::kAllowedIp;
};

Match match(const Peer& wg, const model::PeerSet& peers) {
  Match best;
  int best_length = -1;
  for (const auto& peer : peers.peers) {
    const int length = allowed_ip_match(wg, peer);
    if (length > best_length) {
      best = {&peer, MatchReason::kAllowedIp};
      best_length = length;
    }
  }
  if (best.peer != nullptr) return best;
  for (const auto& peer : peers.peers)
    if (endpoint_match(wg, peer)) return {&peer, MatchReason::kEndpoint};
  return {};
}

std::optional<std::uint64_t> tx_since(const Snapshot* previous, const std::string& device,
                                      const Peer& wg) {
  if (previous == nullptr) return std::nullopt;
  for (const auto& state : previous->devices) {
    if (state.device.name != device) continue;
    for (const auto& before : state.device.peers)
      if (before.public_key == wg.public_key && before.tx_bytes <= wg.tx_bytes)
        return wg.tx_bytes - before.tx_bytes;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Interface interface) {
  return interface == Interface::kNetlink ? "netlink" : "uapi";
}

std::string_view to_string(MatchReason reason) {
  return reason == MatchReason::kAllowedIp ? "allowed-ip" : "endpoint";
}

std::optional<double> PeerState::handshake_age_seconds(
    std::chrono::system_clock::time_point now) const {
  if (!wireguard.last_handshake) return std::nullopt;
  // A clock that stepped back since the handshake reads as a handshake just now.
  return std::max(0.0, std::chrono::duration<double>(now - *wireguard.last_handshake).count());
}

std::vector<const PeerState*> Snapshot::find(std::string_view peer, model::Family family) const {
  std::vector<const PeerState*> out;
  for (const auto& state : peers)
    if (state.peer == peer && state.family == family) out.push_back(&state);
  return out;
}

Snapshot map_devices(std::vector<std::pair<Device, Interface>> devices, const model::PeerSet& peers,
                     const Snapshot* previous, std::chrono::system_clock::time_point read_at) {
  Snapshot snapshot;
  snapshot.read_at = read_at;
  snapshot.peer_generation = peers.generation;
  for (auto& [device, interface] : devices) {
    DeviceState state{std::move(device), interface, 0};
    for (const auto& wg : state.device.peers) {
      const Match m = match(wg, peers);
      if (m.peer == nullptr) {
        ++state.unmapped_peers;
        continue;
      }
      snapshot.peers.push_back(PeerState{
          m.peer->name, m.peer->family, m.peer->group, peers.same_group_as_self(m.peer->group),
          m.reason, state.device.name, wg, tx_since(previous, state.device.name, wg)});
    }
    snapshot.devices.push_back(std::move(state));
  }
  std::stable_sort(
      snapshot.peers.begin(), snapshot.peers.end(), [](const PeerState& a, const PeerState& b) {
        return std::tie(a.peer, a.family, a.device) < std::tie(b.peer, b.family, b.device);
      });
  return snapshot;
}

}  // namespace podpath::wireguard
