// The kernel view of this node as plain data: links, vxlan attributes, routes, policy
// rules, neighbours, FDB entries and route lookups, exactly as rtnetlink reported them.
// Everything here is filled by the parsers in netlink/parse.h and read by the collector
// and the analysis; nothing refers back to a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/ip.h"

namespace podpath::netlink {

struct Vxlan {
  std::uint32_t vni = 0;
  std::string local;                      // IFLA_VXLAN_LOCAL or LOCAL6 as text; empty when unset
  std::uint16_t dstport = 0;              // host byte order (the kernel sends it big-endian)
  int underlay_index = 0;                 // IFLA_VXLAN_LINK; 0 when unset
  std::string underlay_device;            // resolved from the link dump; empty when not found
  std::optional<bool> learning;           // flannel turns learning off
  std::optional<model::IpAddress> group;  // remote/group address when set

  bool operator==(const Vxlan&) const = default;
};

struct Link {
  int index = 0;
  std::string name;
  // IFLA_INFO_KIND (vxlan, tun, bridge, veth, wireguard, ...); "device" when the kernel
  // reports none, which is what physical NICs and the loopback look like.
  std::string kind;
  std::string operstate;  // RFC 2863 words as in /sys/class/net/*/operstate: up, down, ...
  std::uint32_t mtu = 0;
  std::string mac;             // lower-case aa:bb:.., empty for devices without one
  std::uint32_t flags = 0;     // IFF_* from ifinfomsg
  int parent_index = 0;        // IFLA_LINK (e.g. a veth's peer), 0 when unset
  int master_index = 0;        // IFLA_MASTER (the bridge a port belongs to), 0 when unset
  std::optional<Vxlan> vxlan;  // for kind vxlan

  bool operator==(const Link&) const = default;
};

// Route tables with names in iproute2 (rt_tables); all others are shown as numbers.
inline constexpr std::uint32_t kTableLocal = 255;
inline constexpr std::uint32_t kTableMain = 254;
inline constexpr std::uint32_t kTableDefault = 253;

struct Route {
  model::Family family = model::Family::kIpv4;
  std::uint32_t table = 0;  // RTA_TABLE when present, else rtm_table
  std::string type;         // unicast, local, broadcast, unreachable, blackhole, ...
  std::optional<model::IpPrefix> destination;  // absent for the default route
  std::optional<model::IpAddress> gateway;
  int oif = 0;
  std::string device;  // name of oif, empty when none
  std::optional<model::IpAddress> prefsrc;
  std::optional<std::uint32_t> metric;  // RTA_PRIORITY
  std::uint8_t protocol = 0;
  std::uint8_t scope = 0;
  bool onlink = false;     // RTNH_F_ONLINK, as flannel sets on its peer routes
  bool multipath = false;  // RTA_MULTIPATH present; nexthops are not decoded

  bool operator==(const Route&) const = default;
};

// The answer to "ip route get DST": either a route (with the table that held it) or the
// kernel's error, kept as a value because "unreachable" is a fact worth reporting.
struct RouteLookup {
  model::IpAddress destination;
  int error = 0;           // positive errno (ENETUNREACH, EHOSTUNREACH, ...); 0 on success
  std::string error_name;  // "ENETUNREACH"; empty on success
  std::uint32_t table = 0;
  std::string type;
  int oif = 0;
  std::string device;
  std::optional<model::IpAddress> gateway;
  std::optional<model::IpAddress> prefsrc;

  bool ok() const { return error == 0; }
  bool operator==(const RouteLookup&) const = default;
};

struct Rule {
  model::Family family = model::Family::kIpv4;
  std::uint32_t priority = 0;
  std::uint32_t table = 0;  // FRA_TABLE when present, else the header's table
  // lookup (FR_ACT_TO_TBL), goto, nop, blackhole, unreachable, prohibit, or "action-N".
  std::string action;
  std::optional<std::uint32_t> fwmark;
  std::optional<std::uint32_t> fwmask;
  std::optional<model::IpPrefix> source;
  std::optional<model::IpPrefix> destination;
  std::string iif;  // FRA_IIFNAME
  std::string oif;  // FRA_OIFNAME
  bool invert = false;
  std::optional<std::uint32_t> suppress_prefixlength;
  std::optional<std::uint32_t> goto_target;

  bool operator==(const Rule&) const = default;
};

// A neighbour entry: ARP for IPv4, neighbour discovery for IPv6.
struct Neighbour {
  model::IpAddress address;
  std::string mac;  // empty when the entry has no link-layer address (incomplete, failed)
  int ifindex = 0;
  std::string device;
  std::uint16_t state = 0;  // NUD_* bits
  std::uint8_t flags = 0;   // NTF_* bits

  bool permanent() const;
  bool operator==(const Neighbour&) const = default;
};

// A bridge forwarding-database entry (family AF_BRIDGE); on a vxlan device "dst" is the
// remote VTEP a MAC is tunnelled to.
struct FdbEntry {
  std::string mac;
  std::optional<model::IpAddress> dst;
  std::optional<std::uint32_t> vni;
  int ifindex = 0;
  std::string device;
  int master_index = 0;  // NDA_MASTER: the bridge, for entries learnt on bridge ports
  std::uint16_t state = 0;
  std::uint8_t flags = 0;

  bool permanent() const;
  bool operator==(const FdbEntry&) const = default;
};

// Route lookups towards one peer in one family: to its overlay gateway (10.42.N.0, what pods
// send to) and to its VTEP address (where VXLAN for it goes).
struct PeerRoutes {
  std::string peer;
  model::Family family = model::Family::kIpv4;
  std::string group;
  bool same_group = false;  // PeerSet::same_group_as_self
  std::optional<RouteLookup> overlay;
  std::optional<RouteLookup> underlay;

  bool operator==(const PeerRoutes&) const = default;
};

// Everything podpath reads from rtnetlink in one run. Lists are sorted (links by index,
// routes by table/destination, rules by priority, entries by device/address) so that two
// snapshots of the same kernel state compare equal.
struct KernelSnapshot {
  std::vector<Link> links;
  std::vector<Route> routes;  // IPv4 then IPv6, all tables
  std::vector<Rule> rules;    // both families
  std::vector<Neighbour> neighbours;
  std::vector<FdbEntry> fdb;
  std::vector<PeerRoutes> peer_routes;  // sorted by peer name and family

  const Link* link_by_index(int index) const;
  const Link* link_by_name(const std::string& name) const;
  bool operator==(const KernelSnapshot&) const = default;
};

// "main", "local", "default" or the number, as iproute2 prints tables.
std::string table_name(std::uint32_t table);

}  // namespace podpath::netlink
