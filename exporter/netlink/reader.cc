#include "netlink/reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/errno.h"

namespace podpath::netlink {

namespace {

template <typename T>
bool take(const Reply& reply, Dump what, Parsed<T> (*parse)(ByteView), std::vector<T>& into,
          KernelRead& read) {
  if (!reply.error.empty()) {
    read.error = reply.error;
    return false;
  }
  ReplyStatus status = scan_reply(reply.bytes);
  if (status.error != 0) {
    read.error =
        fmt::format("{} dump: kernel answered {}", to_string(what), base::errno_name(status.error));
    return false;
  }
  if (!status.complete) {
    read.error = fmt::format("{} dump: reply ended before NLMSG_DONE{}", to_string(what),
                             status.problem.empty() ? "" : ": " + status.problem);
    return false;
  }
  Parsed<T> parsed = parse(reply.bytes);
  into.insert(into.end(), std::make_move_iterator(parsed.items.begin()),
              std::make_move_iterator(parsed.items.end()));
  for (auto& problem : parsed.problems)
    read.problems.push_back(fmt::format("{} dump: {}", to_string(what), problem));
  return true;
}

}  // namespace

KernelRead read_state(KernelSession& session) {
  KernelRead read;
  KernelSnapshot& s = read.snapshot;
  // Stops at the first failed dump: a snapshot missing, say, its routes would make
  // every peer look unrouted.
  auto dump = [&](Dump what, auto parse, auto& into) {
    return take(session.dump(what), what, parse, into, read);
  };
  if (dump(Dump::kLinks, &parse_links, s.links) && dump(Dump::kRoutes, &parse_routes, s.routes) &&
      dump(Dump::kRoutes6, &parse_routes, s.routes) && dump(Dump::kRules, &parse_rules, s.rules) &&
      dump(Dump::kRules6, &parse_rules, s.rules) &&
      dump(Dump::kNeighbours, &parse_neighbours, s.neighbours) &&
      dump(Dump::kNeighbours6, &parse_neighbours, s.neighbours))
    dump(Dump::kFdb, &parse_fdb, s.fdb);
  resolve_names(s);
  return read;
}

RouteLookup lookup_route(KernelSession& session, const model::IpAddress& destination,
                         const KernelSnapshot& names, std::string& error) {
  Reply reply = session.route_get(destination);
  if (!reply.error.empty()) error = reply.error;
  RouteLookup lookup = parse_route_lookup(reply.bytes, destination);
  resolve_names(lookup, names);
  return lookup;
}

std::string add_peer_routes(KernelSession& session, const model::PeerSet& peers,
                            KernelSnapshot& snapshot) {
  std::string error;
  snapshot.peer_routes.clear();
  for (const auto& peer : peers.peers) {
    PeerRoutes routes{.peer = peer.name,
                      .family = peer.family,
                      .group = peer.group,
                      .same_group = peers.same_group_as_self(peer.group),
                      .overlay = std::nullopt,
                      .underlay = std::nullopt};
    if (peer.overlay_address)
      routes.overlay = lookup_route(session, *peer.overlay_address, snapshot, error);
    if (peer.vtep_address)
      routes.underlay = lookup_route(session, *peer.vtep_address, snapshot, error);
    if (!error.empty()) return error;
    snapshot.peer_routes.push_back(std::move(routes));
  }
  std::sort(snapshot.peer_routes.begin(), snapshot.peer_routes.end(),
            [](const PeerRoutes& a, const PeerRoutes& b) {
              return std::tie(a.peer, a.family) < std::tie(b.peer, b.family);
            });
  return {};
}

KernelRead read_kernel(KernelSource& source, const model::PeerSet& peers) {
  KernelRead read;
  auto opened = source.open();
  if (!opened) {
    read.error = opened.error();
    return read;
  }
  KernelSession& session = **opened;
  read = read_state(session);
  if (!read.ok()) return read;
  read.error = add_peer_routes(session, peers, read.snapshot);
  return read;
}

KernelRead read_kernel(const model::PeerSet& peers) {
  NetlinkSource source;
  return read_kernel(source, peers);
}

}  // namespace podpath::netlink
