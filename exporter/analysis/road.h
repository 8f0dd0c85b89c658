// The road a pod packet to one peer takes, from this node's kernel and Tailscale's view:
// which device carries it (carrier, route), what carries that device's packets (underlay,
// transport) and the largest packet the chain of devices lets through (computed MTU). Pure.
#pragma once

#include <cstdint>
#include <optional>

#include "analysis/verdict.h"
#include "model/peer.h"
#include "netlink/kernel.h"
#include "tailscale/snapshot.h"

namespace podpath::analysis {

// Fills the road fields of `verdict`: carrier, route_*, underlay_*, transport, derp_region,
// double_encapsulation, computed_mtu and mtu_chain. `tailscale` is nullopt when Tailscale is
// off or absent.
void trace_road(const netlink::KernelSnapshot& kernel,
                const std::optional<tailscale::Snapshot>& tailscale, const model::Peer& peer,
                PeerVerdict& verdict);

// The smaller pieces, exposed for table tests.
Carrier classify_carrier(const netlink::RouteLookup& overlay_route,
                         const netlink::KernelSnapshot& kernel, const model::Peer& peer);
bool is_tailscale_device(const netlink::Link* link, std::uint32_t table);

}  // namespace podpath::analysis
