// Turns a KernelSession's raw replies into a KernelSnapshot: the dumps, then the route
// lookups towards every peer. This is the interface the analysis calls for the kernel's
// side of a path; the collector uses the same functions.
#pragma once

#include <string>
#include <vector>

#include "model/peer.h"
#include "netlink/kernel.h"
#include "netlink/session.h"

namespace podpath::netlink {

struct KernelRead {
  KernelSnapshot snapshot;
  std::string error;                  // the read failed: the snapshot is incomplete
  std::vector<std::string> problems;  // messages that were skipped as unreadable
  bool ok() const { return error.empty(); }
};

// Links, routes, rules, neighbours and FDB entries; no route lookups.
KernelRead read_state(KernelSession& session);

// "ip route get DST". A transport failure (not a kernel answer) is returned in `error`.
RouteLookup lookup_route(KernelSession& session, const model::IpAddress& destination,
                         const KernelSnapshot& names, std::string& error);

// Lookups to each peer's overlay address (target "overlay") and VTEP address ("underlay"),
// added to snapshot.peer_routes. Returns a transport error, empty on success.
std::string add_peer_routes(KernelSession& session, const model::PeerSet& peers,
                            KernelSnapshot& snapshot);

// The whole snapshot for a peer set through one session from `source`.
KernelRead read_kernel(KernelSource& source, const model::PeerSet& peers);
// The same through rtnetlink in the calling thread's network namespace.
KernelRead read_kernel(const model::PeerSet& peers);

}  // namespace podpath::netlink
