#include "netlink/parse.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <map>
#include <optional>
#include <tuple>

#include "base/errno.h"

namespace podpath::netlink {

namespace {

// Walks the messages of a reply. Stops (and says why) at the first message whose length
// does not fit what is left; everything before it is still delivered.
std::string for_each_message(ByteView reply, const std::function<void(nlmsghdr*)>& visit) {
  // libnl's helpers take non-const pointers but never write through them.
  auto* header = reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(reply.data()));
  int remaining = static_cast<int>(reply.size());
  while (remaining > 0) {
    if (!nlmsg_ok(header, remaining))
      return fmt::format("truncated netlink message at offset {} ({} bytes left)",
                         reply.size() - static_cast<std::size_t>(remaining), remaining);
    visit(header);
    header = nlmsg_next(header, &remaining);
  }
  return {};
}

// Attribute getters that check the length the kernel declared before reading.
std::optional<std::uint32_t> get_u32(const nlattr* attr) {
  if (attr == nullptr || nla_len(attr) < 4) return std::nullopt;
  std::uint32_t value;
  std::memcpy(&value, nla_data(attr), sizeof value);
  return value;
}

std::optional<std::uint16_t> get_u16(const nlattr* attr) {
  if (attr == nullptr || nla_len(attr) < 2) return std::nullopt;
  std::uint16_t value;
  std::memcpy(&value, nla_data(attr), sizeof value);
  return value;
}

std::optional<std::uint8_t> get_u8(const nlattr* attr) {
  if (attr == nullptr || nla_len(attr) < 1) return std::nullopt;
  return *static_cast<const std::uint8_t*>(nla_data(attr));
}

// Addresses travel in network byte order: exactly 4 bytes for AF_INET, 16 for AF_INET6.
std::optional<model::IpAddress> get_address(const nlattr* attr, int family) {
  const int size = family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
  if (attr == nullptr || nla_len(attr) != size) return std::nullopt;
  return model::IpAddress::from_bytes(
      {static_cast<const std::uint8_t*>(nla_data(attr)), static_cast<std::size_t>(size)});
}

// An address of whichever family its length says (FDB destinations and VXLAN groups carry
// no family of their own).
std::optional<model::IpAddress> get_any_address(const nlattr* attr) {
  if (attr == nullptr) return std::nullopt;
  return get_address(attr, nla_len(attr) == 16 ? AF_INET6 : AF_INET);
}

bool is_ip_family(int family) {
  return family == AF_INET || family == AF_INET6;
}
model::Family model_family(int family) {
  return family == AF_INET6 ? model::Family::kIpv6 : model::Family::kIpv4;
}

std::string get_string(const nlattr* attr) {
  if (attr == nullptr || nla_len(attr) <= 0) return {};
  const char* data = static_cast<const char*>(nla_data(attr));
  // Kernel strings are NUL-terminated; never run past the attribute if one is not.
  return std::string(data, strnlen(data, static_cast<std::size_t>(nla_len(attr))));
}

std::string get_mac(const nlattr* attr) {
  if (attr == nullptr) return {};
  return mac_to_string(ByteView(static_cast<const std::uint8_t*>(nla_data(attr)),
                                static_cast<std::size_t>(nla_len(attr))));
}

std::string address_text(const nlattr* attr, int family) {
  if (attr == nullptr) return {};
  char text[INET6_ADDRSTRLEN] = {0};
  if ((family == AF_INET && nla_len(attr) == 4) || (family == AF_INET6 && nla_len(attr) == 16))
    if (inet_ntop(family, nla_data(attr), text, sizeof text) != nullptr) return text;
  return {};
}

template <typename Header, int kMax>
struct Message {
  const Header* header = nullptr;
  std::array<nlattr*, kMax + 1> attrs{};
};

// Parses the fixed header and the attributes of one message; nullopt when the message is
// too short for its header.
template <typename Header, int kMax>
std::optional<Message<Header, kMax>> parse_message(nlmsghdr* header) {
  Message<Header, kMax> message;
  if (nlmsg_parse(header, sizeof(Header), message.attrs.data(), kMax, nullptr) < 0)
    return std::nullopt;
  message.header = static_cast<const Header*>(nlmsg_data(header));
  return message;
}

template <typename T, typename Header, int kMax, typename Build>
Parsed<T> parse_dump(ByteView reply, std::uint16_t type, const char* what, Build build) {
  Parsed<T> out;
  std::string framing = for_each_message(reply, [&](nlmsghdr* header) {
    if (header->nlmsg_type != type) return;
    auto message = parse_message<Header, kMax>(header);
    if (!message) {
      out.problems.push_back(fmt::format("{} message of {} bytes is shorter than its header", what,
                                         header->nlmsg_len));
      return;
    }
    build(*message, out);
  });
  if (!framing.empty()) out.problems.push_back(std::move(framing));
  return out;
}

std::optional<model::IpPrefix> prefix_of(const nlattr* attr, int length, int family) {
  auto address = get_address(attr, family);
  if (!address || length < 0 || length > (family == AF_INET ? 32 : 128)) return std::nullopt;
  return model::IpPrefix(*address, length);
}

std::optional<Vxlan> parse_vxlan(nlattr* data) {
  std::array<nlattr*, IFLA_VXLAN_MAX + 1> attrs{};
  if (data == nullptr || nla_parse_nested(attrs.data(), IFLA_VXLAN_MAX, data, nullptr) < 0)
    return std::nullopt;
  Vxlan vxlan;
  vxlan.vni = get_u32(attrs[IFLA_VXLAN_ID]).value_or(0);
  vxlan.local = address_text(attrs[IFLA_VXLAN_LOCAL], AF_INET);
  if (vxlan.local.empty()) vxlan.local = address_text(attrs[IFLA_VXLAN_LOCAL6], AF_INET6);
  // The port is the one big-endian u16 among the vxlan attributes.
  if (auto port = get_u16(attrs[IFLA_VXLAN_PORT])) vxlan.dstport = ntohs(*port);
  vxlan.underlay_index = static_cast<int>(get_u32(attrs[IFLA_VXLAN_LINK]).value_or(0));
  if (auto learning = get_u8(attrs[IFLA_VXLAN_LEARNING])) vxlan.learning = *learning != 0;
  vxlan.group = get_address(attrs[IFLA_VXLAN_GROUP], AF_INET);
  if (!vxlan.group) vxlan.group = get_address(attrs[IFLA_VXLAN_GROUP6], AF_INET6);
  return vxlan;
}

const char* const kOperstates[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                   "testing", "dormant",    "up"};

}  // namespace

void append_message(Bytes& reply, ByteView message) {
  reply.insert(reply.end(), message.begin(), message.end());
  reply.resize(reply.size() + (NLMSG_ALIGN(message.size()) - message.size()), 0);
}

std::string mac_to_string(ByteView bytes) {
  std::string text;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    text += fmt::format("{}{:02x}", i == 0 ? "" : ":", bytes[i]);
  return text;
}

std::string operstate_name(std::uint8_t operstate) {
  if (operstate < std::size(kOperstates)) return kOperstates[operstate];
  return fmt::format("operstate-{}", operstate);
}

std::string route_type_name(std::uint8_t type) {
  static const std::map<std::uint8_t, const char*> names = {{RTN_UNSPEC, "unspec"},
                                                            {RTN_UNICAST, "unicast"},
                                                            {RTN_LOCAL, "local"},
                                                            {RTN_BROADCAST, "broadcast"},
                                                            {RTN_ANYCAST, "anycast"},
                                                            {RTN_MULTICAST, "multicast"},
                                                            {RTN_BLACKHOLE, "blackhole"},
                                                            {RTN_UNREACHABLE, "unreachable"},
                                                            {RTN_PROHIBIT, "prohibit"},
                                                            {RTN_THROW, "throw"},
                                                            {RTN_NAT, "nat"},
                                                            {RTN_XRESOLVE, "xresolve"}};
  auto it = names.find(type);
  return it != names.end() ? it->second : fmt::format("type-{}", type);
}

std::string rule_action_name(std::uint8_t action) {
  switch (action) {
    case FR_ACT_TO_TBL:
      return "lookup";
    case FR_ACT_GOTO:
      return "goto";
    case FR_ACT_NOP:
      return "nop";
    case FR_ACT_BLACKHOLE:
      return "blackhole";
    case FR_ACT_UNREACHABLE:
      return "unreachable";
    case FR_ACT_PROHIBIT:
      return "prohibit";
    default:
      return fmt::format("action-{}", action);
  }
}

std::string table_name(std::uint32_t table) {
  switch (table) {
    case kTableLocal:
      return "local";
    case kTableMain:
      return "main";
    case kTableDefault:
      return "default";
    default:
      return std::to_string(table);
  }
}

bool Neighbour::permanent() const {
  return (state & NUD_PERMANENT) != 0;
}
bool FdbEntry::permanent() const {
  return (state & NUD_PERMANENT) != 0;
}

const Link* KernelSnapshot::link_by_index(int index) const {
  for (const auto& link : links)
    if (link.index == index) return &link;
  return nullptr;
}

const Link* KernelSnapshot::link_by_name(const std::string& name) const {
  for (const auto& link : links)
    if (link.name == name) return &link;
  return nullptr;
}

namespace {

// NLMSG_ERROR and NLMSG_DONE carry -errno, within the kernel's range (MAX_ERRNO is 4095).
// Anything else is a malformed reply: kept as EBADMSG, never negated into a negative errno
// or, for INT_MIN, an overflow (found by fuzz/netlink.cc).
int errno_from(int negative) {
  return negative < 0 && negative >= -4095 ? -negative : EBADMSG;
}

}  // namespace

ReplyStatus scan_reply(ByteView reply) {
  ReplyStatus status;
  status.problem = for_each_message(reply, [&](nlmsghdr* header) {
    if ((header->nlmsg_flags & NLM_F_DUMP_INTR) != 0) status.interrupted = true;
    if (header->nlmsg_type == NLMSG_ERROR) {
      status.complete = true;
      if (nlmsg_datalen(header) >= static_cast<int>(sizeof(int))) {
        int error;
        std::memcpy(&error, nlmsg_data(header), sizeof error);
        if (error != 0) status.error = errno_from(error);
      } else {
        status.error = EBADMSG;
      }
    } else if (header->nlmsg_type == NLMSG_DONE) {
      status.complete = true;
      // Since Linux 4.x a dump that fails part-way reports the error in NLMSG_DONE.
      if (nlmsg_datalen(header) >= static_cast<int>(sizeof(int))) {
        int error;
        std::memcpy(&error, nlmsg_data(header), sizeof error);
        if (error < 0) status.error = errno_from(error);
      }
    }
  });
  return status;
}

Parsed<Link> parse_links(ByteView reply) {
  using M = Message<ifinfomsg, IFLA_MAX>;
  return parse_dump<Link, ifinfomsg, IFLA_MAX>(
      reply, RTM_NEWLINK, "link", [](const M& m, auto& out) {
        Link link;
        link.index = m.header->ifi_index;
        link.flags = m.header->ifi_flags;
        link.name = get_string(m.attrs[IFLA_IFNAME]);
        if (link.name.empty()) {
          out.problems.push_back(fmt::format("link {} has no name", link.index));
          return;
        }
        link.mtu = get_u32(m.attrs[IFLA_MTU]).value_or(0);
        link.operstate = operstate_name(get_u8(m.attrs[IFLA_OPERSTATE]).value_or(IF_OPER_UNKNOWN));
        link.mac = get_mac(m.attrs[IFLA_ADDRESS]);
        link.parent_index = static_cast<int>(get_u32(m.attrs[IFLA_LINK]).value_or(0));
        link.master_index = static_cast<int>(get_u32(m.attrs[IFLA_MASTER]).value_or(0));
        link.kind = "device";
        if (m.attrs[IFLA_LINKINFO] != nullptr) {
          std::array<nlattr*, IFLA_INFO_MAX + 1> info{};
          if (nla_parse_nested(info.data(), IFLA_INFO_MAX, m.attrs[IFLA_LINKINFO], nullptr) == 0) {
            if (std::string kind = get_string(info[IFLA_INFO_KIND]); !kind.empty())
              link.kind = kind;
            if (link.kind == "vxlan") {
              link.vxlan = parse_vxlan(info[IFLA_INFO_DATA]);
              if (!link.vxlan)
                out.problems.push_back(
                    fmt::format("vxlan link {} has unreadable attributes", link.name));
            }
          } else {
            out.problems.push_back(fmt::format("link {} has malformed IFLA_LINKINFO", link.name));
          }
        }
        out.items.push_back(std::move(link));
      });
}

Parsed<Route> parse_routes(ByteView reply) {
  using M = Message<rtmsg, RTA_MAX>;
  return parse_dump<Route, rtmsg, RTA_MAX>(reply, RTM_NEWROUTE, "route", [](const M& m, auto& out) {
    const int family = m.header->rtm_family;
    if (!is_ip_family(family)) return;
    Route route;
    route.family = model_family(family);
    route.table = get_u32(m.attrs[RTA_TABLE]).value_or(m.header->rtm_table);
    route.type = route_type_name(m.header->rtm_type);
    if (m.attrs[RTA_DST] != nullptr) {
      route.destination = prefix_of(m.attrs[RTA_DST], m.header->rtm_dst_len, family);
      if (!route.destination) {
        out.problems.push_back("route with a malformed RTA_DST");
        return;
      }
    } else if (m.header->rtm_dst_len != 0) {
      out.problems.push_back("route with a prefix length but no RTA_DST");
      return;
    }
    route.gateway = get_address(m.attrs[RTA_GATEWAY], family);
    route.oif = static_cast<int>(get_u32(m.attrs[RTA_OIF]).value_or(0));
    route.prefsrc = get_address(m.attrs[RTA_PREFSRC], family);
    route.metric = get_u32(m.attrs[RTA_PRIORITY]);
    route.protocol = m.header->rtm_protocol;
    route.scope = m.header->rtm_scope;
    route.onlink = (m.header->rtm_flags & RTNH_F_ONLINK) != 0;
    route.multipath = m.attrs[RTA_MULTIPATH] != nullptr;
    out.items.push_back(std::move(route));
  });
}

Parsed<Rule> parse_rules(ByteView reply) {
  using M = Message<fib_rule_hdr, FRA_MAX>;
  return parse_dump<Rule, fib_rule_hdr, FRA_MAX>(
      reply, RTM_NEWRULE, "rule", [](const M& m, auto& out) {
        const int family = m.header->family;
        if (!is_ip_family(family)) return;
        Rule rule;
        rule.family = model_family(family);
        rule.priority = get_u32(m.attrs[FRA_PRIORITY]).value_or(0);
        rule.table = get_u32(m.attrs[FRA_TABLE]).value_or(m.header->table);
        rule.action = rule_action_name(m.header->action);
        rule.fwmark = get_u32(m.attrs[FRA_FWMARK]);
        rule.fwmask = get_u32(m.attrs[FRA_FWMASK]);
        if (m.attrs[FRA_SRC] != nullptr)
          rule.source = prefix_of(m.attrs[FRA_SRC], m.header->src_len, family);
        if (m.attrs[FRA_DST] != nullptr)
          rule.destination = prefix_of(m.attrs[FRA_DST], m.header->dst_len, family);
        rule.iif = get_string(m.attrs[FRA_IIFNAME]);
        rule.oif = get_string(m.attrs[FRA_OIFNAME]);
        rule.invert = (m.header->flags & FIB_RULE_INVERT) != 0;
        rule.suppress_prefixlength = get_u32(m.attrs[FRA_SUPPRESS_PREFIXLEN]);
        // The kernel reports "no suppression" as -1.
        if (rule.suppress_prefixlength == 0xffffffffu) rule.suppress_prefixlength.reset();
        rule.goto_target = get_u32(m.attrs[FRA_GOTO]);
        out.items.push_back(std::move(rule));
      });
}

Parsed<Neighbour> parse_neighbours(ByteView reply) {
  using M = Message<ndmsg, NDA_MAX>;
  return parse_dump<Neighbour, ndmsg, NDA_MAX>(
      reply, RTM_NEWNEIGH, "neighbour", [](const M& m, auto& out) {
        const int family = m.header->ndm_family;
        if (!is_ip_family(family)) return;
        auto address = get_address(m.attrs[NDA_DST], family);
        if (!address) {
          out.problems.push_back(family == AF_INET ? "neighbour without an IPv4 NDA_DST"
                                                   : "neighbour without an IPv6 NDA_DST");
          return;
        }
        Neighbour entry;
        entry.address = *address;
        entry.mac = get_mac(m.attrs[NDA_LLADDR]);
        entry.ifindex = m.header->ndm_ifindex;
        entry.state = m.header->ndm_state;
        entry.flags = m.header->ndm_flags;
        out.items.push_back(std::move(entry));
      });
}

Parsed<FdbEntry> parse_fdb(ByteView reply) {
  using M = Message<ndmsg, NDA_MAX>;
  return parse_dump<FdbEntry, ndmsg, NDA_MAX>(
      reply, RTM_NEWNEIGH, "fdb", [](const M& m, auto& out) {
        if (m.header->ndm_family != AF_BRIDGE) return;
        FdbEntry entry;
        entry.mac = get_mac(m.attrs[NDA_LLADDR]);
        if (entry.mac.empty()) {
          out.problems.push_back("fdb entry without NDA_LLADDR");
          return;
        }
        entry.dst = get_any_address(m.attrs[NDA_DST]);
        entry.vni = get_u32(m.attrs[NDA_VNI]);
        entry.ifindex = m.header->ndm_ifindex;
        entry.master_index = static_cast<int>(get_u32(m.attrs[NDA_MASTER]).value_or(0));
        entry.state = m.header->ndm_state;
        entry.flags = m.header->ndm_flags;
        out.items.push_back(std::move(entry));
      });
}

RouteLookup parse_route_lookup(ByteView reply, const model::IpAddress& destination) {
  RouteLookup lookup;
  lookup.destination = destination;
  ReplyStatus status = scan_reply(reply);
  if (status.error != 0) {
    lookup.error = status.error;
  } else {
    Parsed<Route> routes = parse_routes(reply);
    if (routes.items.empty()) {
      lookup.error = EBADMSG;  // neither a route nor an error: not something the kernel does
    } else {
      const Route& route = routes.items.front();
      lookup.table = route.table;
      lookup.type = route.type;
      lookup.oif = route.oif;
      lookup.gateway = route.gateway;
      lookup.prefsrc = route.prefsrc;
    }
  }
  lookup.error_name = base::errno_name(lookup.error);
  return lookup;
}

namespace {
std::string name_of(const KernelSnapshot& snapshot, int index) {
  const Link* link = index == 0 ? nullptr : snapshot.link_by_index(index);
  return link != nullptr ? link->name : std::string();
}

// Optional values sort before present ones, as std::optional's operator< does.
auto route_key(const Route& r) {
  return std::tuple(r.family, r.table, r.destination, r.metric.value_or(0), r.type, r.oif,
                    r.gateway);
}
}  // namespace

void resolve_names(KernelSnapshot& snapshot) {
  std::sort(snapshot.links.begin(), snapshot.links.end(),
            [](const Link& a, const Link& b) { return a.index < b.index; });
  for (auto& link : snapshot.links)
    if (link.vxlan) link.vxlan->underlay_device = name_of(snapshot, link.vxlan->underlay_index);
  for (auto& route : snapshot.routes) route.device = name_of(snapshot, route.oif);
  for (auto& entry : snapshot.neighbours) entry.device = name_of(snapshot, entry.ifindex);
  for (auto& entry : snapshot.fdb) entry.device = name_of(snapshot, entry.ifindex);
  std::stable_sort(snapshot.routes.begin(), snapshot.routes.end(),
                   [](const Route& a, const Route& b) { return route_key(a) < route_key(b); });
  std::stable_sort(snapshot.rules.begin(), snapshot.rules.end(), [](const Rule& a, const Rule& b) {
    return std::tie(a.family, a.priority) < std::tie(b.family, b.priority);
  });
  std::stable_sort(snapshot.neighbours.begin(), snapshot.neighbours.end(),
                   [](const Neighbour& a, const Neighbour& b) {
                     return std::tie(a.ifindex, a.address) < std::tie(b.ifindex, b.address);
                   });
  std::stable_sort(snapshot.fdb.begin(), snapshot.fdb.end(),
                   [](const FdbEntry& a, const FdbEntry& b) {
                     return std::tie(a.ifindex, a.mac, a.dst) < std::tie(b.ifindex, b.mac, b.dst);
                   });
}

void resolve_names(RouteLookup& lookup, const KernelSnapshot& snapshot) {
  lookup.device = name_of(snapshot, lookup.oif);
}

}  // namespace podpath::netlink
