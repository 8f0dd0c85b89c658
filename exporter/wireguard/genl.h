// Pure parser of the kernel's reply to WG_CMD_GET_DEVICE (generic netlink family
// "wireguard"): the raw bytes of every message of the dump, each padded to NLMSG_ALIGN and
// concatenated. The attribute tree is linux include/uapi/linux/wireguard.h's: device
// attributes, WGDEVICE_A_PEERS holding one nested attribute per peer, WGPEER_A_ALLOWEDIPS one
// per prefix. A device with many peers spans several messages, and a peer with many allowed
// IPs repeats in the next message with only its public key and the rest of its prefixes:
// the parser joins them, as that header asks of the receiver. Lengths are never trusted: a
// truncated message or attribute is a problem and skipped, never read past.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "wireguard/device.h"

namespace podpath::wireguard {

using ByteView = std::span<const std::uint8_t>;

DeviceRead parse_genl_get_device(ByteView reply);

}  // namespace podpath::wireguard
