// Pure parsers from raw rtnetlink replies to the plain structs of netlink/kernel.h.
//
// A reply is the byte stream a request produced: every netlink message the kernel sent
// for it, each padded to NLMSG_ALIGN and concatenated (that is how NetlinkSession
// collects them and how tests/netlink/testdata stores captured replies). Parsers never
// trust lengths: a truncated or malformed message is reported as a problem and skipped,
// never read past.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "netlink/kernel.h"

namespace podpath::netlink {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

template <typename T>
struct Parsed {
  std::vector<T> items;
  std::vector<std::string> problems;  // one line per message that could not be read
};

// What the framing of a reply says, independent of its payload.
struct ReplyStatus {
  bool complete = false;     // ended with NLMSG_DONE or NLMSG_ERROR
  bool interrupted = false;  // some message carried NLM_F_DUMP_INTR: the dump is inconsistent
  int error = 0;             // positive errno from NLMSG_ERROR (or a dump's NLMSG_DONE); 0 = none
  std::string problem;       // framing broken (truncated message); empty when fine
};
ReplyStatus scan_reply(ByteView reply);

// Dumps. Device names are left empty; resolve_names() fills them from the link list.
Parsed<Link> parse_links(ByteView reply);            // RTM_NEWLINK
Parsed<Route> parse_routes(ByteView reply);          // RTM_NEWROUTE, AF_INET and AF_INET6
Parsed<Rule> parse_rules(ByteView reply);            // RTM_NEWRULE, AF_INET and AF_INET6
Parsed<Neighbour> parse_neighbours(ByteView reply);  // RTM_NEWNEIGH, AF_INET and AF_INET6
Parsed<FdbEntry> parse_fdb(ByteView reply);          // RTM_NEWNEIGH, AF_BRIDGE

// The reply to an RTM_GETROUTE request for one destination: the route, or the kernel's
// errno kept as a value. A reply without either is EBADMSG.
RouteLookup parse_route_lookup(ByteView reply, const model::IpAddress& destination);

// Fills device names (vxlan underlay, route/neighbour/FDB devices) from the links and
// sorts every list into the snapshot's canonical order.
void resolve_names(KernelSnapshot& snapshot);
void resolve_names(RouteLookup& lookup, const KernelSnapshot& snapshot);

// Names used in labels and logs.
std::string operstate_name(std::uint8_t operstate);  // IF_OPER_* -> "up", "down", ...
std::string route_type_name(std::uint8_t type);      // RTN_* -> "unicast", ...
std::string rule_action_name(std::uint8_t action);   // FR_ACT_* -> "lookup", ...
std::string mac_to_string(ByteView bytes);

// Appends one message to a reply stream, padded as the framing requires. Used by the
// socket code and by tests that build replies by hand.
void append_message(Bytes& reply, ByteView message);

}  // namespace podpath::netlink
