#include "analysis/rules.h"

#include <fmt/format.h>

#include <algorithm>

namespace podpath::analysis {

namespace {

std::string vtep_text(const PeerVerdict& v) {
  return v.vtep_address ? v.vtep_address->to_string() : "?";
}

bool encapsulated(const PeerVerdict& v) {
  return !encapsulation_name(v.carrier).empty();
}

// Only where peers send VXLAN to the public-ip: host-gw routes to it (no VTEP, no port 8472)
// and wireguard's port is authenticated.
std::optional<Explanation> vtep_public_address(const NodeIdentity& self, const RuleContext&) {
  if (!self.public_ip || self.public_ip_scope != "global") return std::nullopt;
  if (!self.backend_type.empty() && self.backend_type != "vxlan") return std::nullopt;
  return Explanation{
      fmt::format("this node advertises the public address {} as its VTEP (flannel public-ip): "
                  "peers send unauthenticated VXLAN to it over the internet",
                  self.public_ip->to_string()),
      "use a private or tailnet address for flannel's public-ip (--flannel-iface / "
      "--node-ip) and allow UDP 8472 on private networks only"};
}

// Not a problem: the operator chose Tailscale as the pod network (k3s --vpn-auth). Said once,
// so that a road of tailscale-subnet-route to every peer reads as intended.
std::optional<Explanation> pods_ride_tailscale(const NodeIdentity& self, const RuleContext&) {
  if (self.pod_cidr_tailscale_route.empty()) return std::nullopt;
  return Explanation{
      fmt::format("this node's tailscaled serves its pod CIDR {} as a subnet route (k3s "
                  "--vpn-auth sets that up, as does tailscale set --advertise-routes): peers "
                  "that accept it reach its pods through Tailscale (table 52 is looked up before "
                  "flannel's routes), by design",
                  self.pod_cidr_tailscale_route),
      "nothing to fix; each road's transport (direct, peer relay, DERP) is Tailscale's"};
}

// The wireguard backend's port answers on a public address by design: WireGuard drops every
// packet that does not authenticate (and sends nothing back to it), so this is no exposure
// like VXLAN's. Said once, as information, instead of vtep-public-address's alarm.
std::optional<Explanation> wireguard_public_endpoint(const NodeIdentity& self, const RuleContext&) {
  if (self.backend_type != "wireguard") return std::nullopt;
  std::vector<std::string> global;
  if (self.public_ip && self.public_ip_scope == "global")
    global.push_back(self.public_ip->to_string());
  if (self.public_ipv6 && self.public_ipv6_scope == "global")
    global.push_back(self.public_ipv6->to_string());
  if (global.empty()) return std::nullopt;
  return Explanation{
      fmt::format("this node advertises the public address {} for flannel's WireGuard: peers "
                  "send to its WireGuard port there, which answers only packets sealed with a "
                  "peer's key, so this is not the unauthenticated VXLAN exposure",
                  fmt::join(global, " and ")),
      "nothing is needed; to keep scanners from seeing the port at all, allow flannel's "
      "WireGuard ports (UDP 51820, 51821 for IPv6) from the cluster's nodes only"};
}

std::string handshake_road(const WireguardPeerState& w) {
  return fmt::format("{} peer {}{}", w.device, w.public_key,
                     w.endpoint.empty() ? " (no endpoint)" : " at " + w.endpoint);
}

std::string sending_text(const WireguardPeerState& w) {
  if (w.persistent_keepalive_seconds > 0)
    return fmt::format("it keeps sending (persistent keepalive {} s, {} bytes sent)",
                       w.persistent_keepalive_seconds, w.tx_bytes);
  return fmt::format("it is sending ({} bytes sent, more since the last read)", w.tx_bytes);
}

std::string handshake_fix(const WireguardPeerState& w) {
  return fmt::format(
      "check that UDP reaches {} from this node and back (firewall, NAT, a changed public-ip), "
      "that flannel runs on the peer and that its key matches its backend-data annotation "
      "(wg show {} on both nodes)",
      w.endpoint.empty() ? "the peer's WireGuard port" : w.endpoint, w.device);
}

// WireGuard re-handshakes every 2 minutes while it sends; past REJECT_AFTER_TIME no key is
// left that the peer accepts. A peer nothing is sent to keeps its old handshake harmlessly.
std::vector<Explanation> wireguard_handshake_stale(const PeerVerdict& v, const RuleContext&) {
  std::vector<Explanation> out;
  for (const auto& w : v.wireguard) {
    if (!w.sending || !w.handshake_age_seconds ||
        !(*w.handshake_age_seconds > kWireguardRejectAfterSeconds))
      continue;
    out.push_back({fmt::format("the latest WireGuard handshake with {} ({}) was {:.0f} s ago, "
                               "past the {:.0f} s after which its keys are rejected, and {}: "
                               "pod traffic to {} is dropped",
                               v.peer, handshake_road(w), *w.handshake_age_seconds,
                               kWireguardRejectAfterSeconds, sending_text(w), v.peer),
                   handshake_fix(w)});
  }
  return out;
}

std::vector<Explanation> wireguard_no_handshake(const PeerVerdict& v, const RuleContext&) {
  std::vector<Explanation> out;
  for (const auto& w : v.wireguard) {
    if (!w.sending || w.handshake_age_seconds) continue;
    out.push_back({fmt::format("WireGuard has never completed a handshake with {} ({}) and {}: "
                               "no session, pod traffic to {} is dropped",
                               v.peer, handshake_road(w), sending_text(w), v.peer),
                   handshake_fix(w)});
  }
  return out;
}

// Node keys. tailscaled keeps listing a peer whose key expired but drops its endpoints
// (ipn/ipnlocal expiry handling), so nothing reaches it; an expired key of this node itself
// blocks its WireGuard engine until it is re-authenticated. KeyExpiry is absent for keys that
// never expire (tagged nodes, expiry disabled), and then nothing is said.
bool key_expired(std::optional<double> expiry, bool expired, double now) {
  return expired || (expiry && *expiry <= now);
}

bool key_expiring(std::optional<double> expiry, bool expired, const RuleContext& c) {
  return !key_expired(expiry, expired, c.now_unix_seconds) && expiry &&
         *expiry - c.now_unix_seconds < c.thresholds.key_expiry_warning_seconds;
}

std::string expiry_text(std::optional<double> expiry, double now) {
  if (!expiry) return "";
  const double left = *expiry - now;
  return fmt::format(" {} {} ({})", left > 0 ? "expires" : "expired", utc_text(*expiry),
                     left > 0 ? "in " + span_text(left) : span_text(-left) + " ago");
}

constexpr const char* kReauthFix =
    "re-authenticate the node (tailscale up --force-reauth, or extend the key in the admin "
    "console); for servers, disable key expiry or use a tagged auth key";

std::optional<Explanation> tailscale_key_expired(const NodeIdentity& self, const RuleContext& c) {
  if (!self.tailscale || !key_expired(self.tailscale_key_expiry_unix_seconds,
                                      self.tailscale_key_expired, c.now_unix_seconds))
    return std::nullopt;
  return Explanation{
      fmt::format("this node's Tailscale node key{}: tailscaled reaches no peer over the "
                  "tailnet until the node is re-authenticated",
                  self.tailscale_key_expiry_unix_seconds
                      ? expiry_text(self.tailscale_key_expiry_unix_seconds, c.now_unix_seconds)
                      : " has expired"),
      kReauthFix};
}

std::optional<Explanation> tailscale_key_expiring(const NodeIdentity& self, const RuleContext& c) {
  if (!self.tailscale ||
      !key_expiring(self.tailscale_key_expiry_unix_seconds, self.tailscale_key_expired, c))
    return std::nullopt;
  return Explanation{
      fmt::format("this node's Tailscale node key{}, within the {} warning window: then it "
                  "reaches no peer over the tailnet",
                  expiry_text(self.tailscale_key_expiry_unix_seconds, c.now_unix_seconds),
                  span_text(c.thresholds.key_expiry_warning_seconds)),
      kReauthFix};
}

std::string over_tailscale_text(const PeerVerdict& v) {
  return v.carrier == Carrier::kTailscaleSubnetRoute || v.double_encapsulation
             ? "pod traffic to it rides Tailscale"
             : "pod traffic to it does not ride Tailscale, other tailnet traffic does";
}

std::vector<Explanation> tailscale_peer_key_expired(const PeerVerdict& v, const RuleContext& c) {
  if (v.tailscale_peer.empty() || !key_expired(v.tailscale_key_expiry_unix_seconds,
                                               v.tailscale_key_expired, c.now_unix_seconds))
    return {};
  return {{fmt::format("the Tailscale node key of {} (Tailscale peer {}){}: tailscaled sends "
                       "nothing to it; {}",
                       v.peer, v.tailscale_peer,
                       v.tailscale_key_expiry_unix_seconds
                           ? expiry_text(v.tailscale_key_expiry_unix_seconds, c.now_unix_seconds)
                           : " has expired",
                       over_tailscale_text(v)),
           "re-authenticate " + v.peer +
               " (tailscale up --force-reauth on it, or extend its key "
               "in the admin console)"}};
}

std::vector<Explanation> tailscale_peer_key_expiring(const PeerVerdict& v, const RuleContext& c) {
  if (v.tailscale_peer.empty() ||
      !key_expiring(v.tailscale_key_expiry_unix_seconds, v.tailscale_key_expired, c))
    return {};
  return {{fmt::format("the Tailscale node key of {} (Tailscale peer {}){}, within the {} "
                       "warning window; {}",
                       v.peer, v.tailscale_peer,
                       expiry_text(v.tailscale_key_expiry_unix_seconds, c.now_unix_seconds),
                       span_text(c.thresholds.key_expiry_warning_seconds), over_tailscale_text(v)),
           "re-authenticate " + v.peer +
               " before then (tailscale up --force-reauth on it, or "
               "extend its key in the admin console)"}};
}

std::vector<Explanation> route_via_derp(const PeerVerdict& v, const RuleContext&) {
  if (!v.route_via_derp()) return {};
  std::string road = "rides tailscale0 as a subnet route";
  if (encapsulated(v))
    road = fmt::format("is {} inside {}", encapsulation_name(v.carrier), v.underlay_device);
  return {{fmt::format("pod traffic to {} {} and Tailscale relays it through DERP '{}': "
                       "traffic between nodes leaves for the relay and comes back{}",
                       v.peer, road, v.derp_region,
                       v.same_group ? " (same group: VMs on one host detour far away)" : ""),
           "give the nodes a direct path (a shared LAN made their default route, e.g. vmnet "
           "lima0) so flannel's public-ip moves to it, or fix the NAT that blocks a direct "
           "Tailscale connection"}};
}

// tailscale status shows such a peer as `active; relay "<region>"`: packets are queued for it
// and no session exists, so nothing arrives (UDP blocked both ways, the DERP region out of
// reach, or a wedged peer).
std::vector<Explanation> tailscale_no_handshake(const PeerVerdict& v, const RuleContext&) {
  if (v.transport != Transport::kTailscaleNoHandshake) return {};
  return {{fmt::format("pod traffic to {} rides Tailscale, which is sending to it but has never "
                       "completed a WireGuard handshake with it{}: no session, nothing arrives",
                       v.peer,
                       v.derp_region.empty() ? "" : " (its DERP region '" + v.derp_region + "')"),
           "run `tailscale ping` to the peer and `tailscale netcheck` on both nodes: UDP 41641 "
           "and the DERP region must be reachable from each, and the peer's tailscaled must be "
           "up (its node key not expired)"}};
}

std::vector<Explanation> double_encapsulation(const PeerVerdict& v, const RuleContext&) {
  if (!v.double_encapsulation) return {};
  return {{fmt::format("pod traffic to {} is {} whose VTEP {} is reached through {}: "
                       "double encapsulation (flannel inside WireGuard)",
                       v.peer, encapsulation_name(v.carrier), vtep_text(v), v.underlay_device),
           "advertise a LAN address as flannel's public-ip where nodes share a network, or "
           "carry pod CIDRs as Tailscale subnet routes instead of VXLAN over the tailnet"}};
}

std::optional<Explanation> computed_mtu_too_small(const PeerVerdict& v, const RuleContext& c) {
  if (!encapsulated(v) || !v.overlay_mtu || !v.computed_mtu || !(*v.computed_mtu < *v.overlay_mtu))
    return std::nullopt;
  return Explanation{
      fmt::format("{} MTU {} exceeds the path MTU {} to {} ({})", c.device_for(v.family),
                  *v.overlay_mtu, *v.computed_mtu, v.peer, v.mtu_chain),
      fmt::format("set flannel's MTU to at most {} or remove the extra encapsulation",
                  *v.computed_mtu)};
}

// Probed too, only where flannel encapsulates: on a routed road (subnet route, host-gw) a
// smaller device MTU makes this node answer "fragmentation needed" to its pods, so nothing
// is lost silently (the same rule as PodpathPathMTUTooSmall).
std::optional<Explanation> probed_mtu_too_small(const PeerVerdict& v, const RuleContext& c) {
  if (!encapsulated(v) || !v.overlay_mtu || !v.probed_mtu || !(*v.probed_mtu < *v.overlay_mtu))
    return std::nullopt;
  return Explanation{
      fmt::format("{} MTU {} exceeds the probed path MTU {} to {}: larger packets are "
                  "dropped (MTU black hole)",
                  c.device_for(v.family), *v.overlay_mtu, *v.probed_mtu, v.peer),
      fmt::format("find the hop with the small MTU (ping -M do -s {} {}) and raise it, or "
                  "lower flannel's MTU to {}",
                  *v.overlay_mtu - 28, vtep_text(v), *v.probed_mtu)};
}

// The device chain's figure first; the probes speak where the chain looks big enough.
std::vector<Explanation> path_mtu_too_small(const PeerVerdict& v, const RuleContext& c) {
  if (auto computed = computed_mtu_too_small(v, c)) return {*computed};
  if (auto probed = probed_mtu_too_small(v, c)) return {*probed};
  return {};
}

std::vector<Explanation> vxlan_public_exposed(const PeerVerdict& v, const RuleContext&) {
  std::vector<Explanation> exposed;
  for (const auto& address : v.exposed_addresses)
    exposed.push_back(
        {fmt::format("UDP 8472 answers on public address {} ({}): VXLAN has no "
                     "authentication, anyone can inject packets into the pod network",
                     address, v.peer),
         "allow UDP 8472 on private networks only (e.g. the VPC range), never 0.0.0.0/0"});
  return exposed;
}

std::vector<Explanation> flannel_drift(const PeerVerdict& v, const RuleContext&) {
  if (v.flannel_inconsistencies.empty()) return {};
  return {{fmt::format("kernel and annotations disagree for {}: {}", v.peer,
                       fmt::join(v.flannel_inconsistencies, "; ")),
           "restart flannel (k3s) on this node so it reprograms its FDB, neighbour and route "
           "entries from the annotations"}};
}

// The kernel was asked for a route to the peer's pod subnet and none of its answers is a
// pod road.
bool has_no_route(const PeerVerdict& v) {
  const bool route_looked_up = !v.route_device.empty() || !v.route_error.empty();
  return v.carrier == Carrier::kNone && route_looked_up;
}

std::vector<Explanation> no_route(const PeerVerdict& v, const RuleContext&) {
  if (!has_no_route(v)) return {};
  return {{fmt::format("no route carries pod traffic to {} ({}{})", v.peer,
                       v.route_error.empty() ? "route via " + v.route_device : v.route_error,
                       v.route_table.empty() ? "" : ", table " + v.route_table),
           "check flannel on both nodes (ip route get, bridge fdb show dev flannel.1)"}};
}

// Every overlay probe of a judged window was lost, on a road that exists (without one,
// no-route says it all). probes_judged: the underlay window is judged too, so a VTEP that has
// not answered yet is not taken for an unreachable peer.
bool overlay_all_lost(const PeerVerdict& v) {
  if (has_no_route(v) || !v.probes_judged || !v.overlay_probe) return false;
  const auto loss = v.overlay_probe->loss_ratio();
  return loss && *loss >= 1.0;
}

// The peer's VTEP answered ping in a window of enough probes.
bool vtep_answers(const PeerVerdict& v, const Thresholds& t) {
  if (!v.underlay_probe || v.underlay_probe->sent < t.min_probes) return false;
  const auto loss = v.underlay_probe->loss_ratio();
  return loss && *loss < 1.0;
}

// A NotReady peer's lost probes are the node's state, not a network fault.
std::vector<Explanation> overlay_blocked(const PeerVerdict& v, const RuleContext& c) {
  if (!v.ready || !overlay_all_lost(v) || !vtep_answers(v, c.thresholds)) return {};
  if (v.carrier == Carrier::kOther)
    return {{fmt::format("every overlay probe to {} is lost while the node {} answers ping: "
                         "flannel's {} backend does not carry pod traffic to it",
                         v.peer, vtep_text(v), v.backend_type),
             "check flannel's log on both nodes; podpath does not trace this backend's road"}};
  if (v.carrier == Carrier::kHostGw || v.carrier == Carrier::kDirectRouting)
    return {{fmt::format("every probe to {}'s pod gateway is lost while the node {} answers "
                         "ping: pod traffic routed through the node is dropped",
                         v.peer, vtep_text(v)),
             "let the nodes forward the pod CIDR (net.ipv4.ip_forward=1, the FORWARD chain, and "
             "the cloud's source/destination check on the instances)"}};
  if (v.carrier == Carrier::kWireguard)
    return {{fmt::format("every overlay probe to {} is lost while its endpoint {} answers ping: "
                         "the WireGuard road is blocked (UDP 51820 filtered between the nodes, "
                         "or no handshake: see wireguard-handshake-stale)",
                         v.peer, vtep_text(v)),
             "allow UDP 51820 (51821 for IPv6) between the nodes' public-ip addresses"}};
  if (v.carrier == Carrier::kIpip)
    return {{fmt::format("every overlay probe to {} is lost while the node {} answers ping: the "
                         "IPIP road is blocked (IP protocol 4 filtered between the nodes?)",
                         v.peer, vtep_text(v)),
             "allow IP protocol 4 (IPIP) between the nodes' public-ip addresses"}};
  return {{fmt::format("every overlay probe to {} is lost while its VTEP {} answers ping: the "
                       "VXLAN road is blocked (UDP 8472 filtered between the nodes?)",
                       v.peer, vtep_text(v)),
           "allow UDP 8472 between the nodes' VTEP addresses on their private network"}};
}

std::vector<Explanation> peer_unreachable(const PeerVerdict& v, const RuleContext& c) {
  if (!v.ready || !overlay_all_lost(v) || vtep_answers(v, c.thresholds)) return {};
  return {
      {fmt::format("{} answers neither on the overlay nor at its VTEP {}", v.peer, vtep_text(v)),
       "check that the node is up and its addresses are reachable from here"}};
}

std::vector<Explanation> latency_high(const PeerVerdict& v, const RuleContext& c) {
  const Thresholds& t = c.thresholds;
  if (!v.overlay_probe || v.overlay_probe->sent < t.min_probes || !v.overlay_probe->rtt_seconds)
    return {};
  const double rtt = *v.overlay_probe->rtt_seconds;
  const double bound = v.same_group ? t.same_group_rtt_seconds : t.cross_group_rtt_seconds;
  if (!(rtt > bound)) return {};
  return {{fmt::format("overlay RTT to {} is {}, above the {} bound for {} nodes{}", v.peer,
                       milliseconds_text(rtt), milliseconds_text(bound),
                       v.same_group ? "same-group" : "cross-group",
                       v.same_group ? " (Longhorn needs < 20 ms)" : ""),
           v.route_via_derp() ? "remove the DERP detour (see route-via-derp)"
                              : "keep latency-sensitive workloads within one group "
                                "(nodeSelector on the group label)"}};
}

Finding make_finding(Severity severity, std::string_view code, const std::string& peer,
                     Explanation explanation, std::optional<model::Family> family = std::nullopt) {
  return Finding{
      severity, std::string(code), peer, std::move(explanation.message), std::move(explanation.fix),
      family};
}

// "IPv6: " before a peer finding's message where the report has IPv6 roads, so that the two
// roads of a dual-stack peer read apart; an IPv4-only cluster's findings read as before.
std::string family_prefix(model::Family family) {
  return family == model::Family::kIpv6 ? "IPv6: " : "IPv4: ";
}

}  // namespace

std::span<const NodeRule> node_rules() {
  static constexpr NodeRule kRules[] = {
      {"vtep-public-address", Severity::kCritical, vtep_public_address},
      {"pods-ride-tailscale", Severity::kInfo, pods_ride_tailscale},
      {"wireguard-public-endpoint", Severity::kInfo, wireguard_public_endpoint},
      {"tailscale-key-expired", Severity::kCritical, tailscale_key_expired},
      {"tailscale-key-expiring", Severity::kWarning, tailscale_key_expiring},
  };
  return kRules;
}

std::span<const PeerRule> peer_rules() {
  static constexpr PeerRule kRules[] = {
      {"route-via-derp", Severity::kCritical, route_via_derp},
      {"tailscale-no-handshake", Severity::kCritical, tailscale_no_handshake},
      {"tailscale-peer-key-expired", Severity::kCritical, tailscale_peer_key_expired},
      {"tailscale-peer-key-expiring", Severity::kWarning, tailscale_peer_key_expiring},
      {"double-encapsulation", Severity::kWarning, double_encapsulation},
      {"path-mtu-too-small", Severity::kWarning, path_mtu_too_small},
      {"vxlan-public-exposed", Severity::kCritical, vxlan_public_exposed},
      {"flannel-drift", Severity::kWarning, flannel_drift},
      {"no-route", Severity::kCritical, no_route},
      {"overlay-blocked", Severity::kCritical, overlay_blocked},
      {"peer-unreachable", Severity::kCritical, peer_unreachable},
      {"latency-high", Severity::kWarning, latency_high},
      {"wireguard-handshake-stale", Severity::kCritical, wireguard_handshake_stale},
      {"wireguard-no-handshake", Severity::kCritical, wireguard_no_handshake},
  };
  return kRules;
}

std::vector<Finding> find_problems(const NodeIdentity& self, const std::vector<PeerVerdict>& peers,
                                   const RuleContext& context) {
  std::vector<Finding> findings;
  for (const NodeRule& rule : node_rules())
    if (auto explanation = rule.check(self, context))
      findings.push_back(make_finding(rule.severity, rule.code, "", std::move(*explanation)));
  const bool name_family = std::any_of(peers.begin(), peers.end(), [](const PeerVerdict& v) {
    return v.family == model::Family::kIpv6;
  });
  for (const PeerVerdict& peer : peers)
    for (const PeerRule& rule : peer_rules())
      for (auto& explanation : rule.check(peer, context)) {
        if (name_family) explanation.message = family_prefix(peer.family) + explanation.message;
        findings.push_back(
            make_finding(rule.severity, rule.code, peer.peer, std::move(explanation), peer.family));
      }
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.code != b.code) return a.code < b.code;
    return std::tie(a.peer, a.family) < std::tie(b.peer, b.family);
  });
  return findings;
}

}  // namespace podpath::analysis
