// flannel's peers as its vxlan backend programmed them into this node's kernel, read back
// from the kernel alone (no API): for every remote node M flannel adds
//   route      10.42.M.0/24 via 10.42.M.0 dev flannel.1 onlink
//   neighbour  10.42.M.0 lladdr <M's VtepMAC> dev flannel.1 nud permanent
//   fdb        <M's VtepMAC> dst <M's public-ip> dev flannel.1 self permanent
// (flannel-io/flannel pkg/backend/vxlan/vxlan_network.go).
#pragma once

#include <vector>

#include "model/peer.h"
#include "netlink/kernel.h"
#include "netlink/regex.h"

namespace podpath::netlink {

// One KernelPeer per onlink route through a vxlan device whose name matches
// `flannel_devices`, with the MAC of the gateway's permanent neighbour and the FDB
// destination of that MAC where they exist. Sorted by pod subnet.
std::vector<model::KernelPeer> kernel_peers(const KernelSnapshot& snapshot,
                                            const std::regex& flannel_devices);

}  // namespace podpath::netlink
