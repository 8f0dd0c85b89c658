// Pure parser of `wg show all dump` (wireguard-tools src/show.c dump_print; wg(8) "dump"):
// tab-separated lines, each starting with the interface name. An interface's own line has 5
// fields — name, private key, public key, listen port, fwmark ("off") — and each peer's 9 —
// name, public key, preshared key ("(none)"), endpoint ("(none)"), allowed IPs
// (comma-separated, "(none)"), latest handshake (Unix seconds, 0 = never), rx bytes, tx bytes,
// persistent keepalive (seconds or "off"). The same data the UAPI and netlink carry, as an
// operator pastes it; the private key is never kept.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wireguard/device.h"

namespace podpath::wireguard {

struct DumpRead {
  std::vector<Device> devices;  // in order of first appearance
  std::vector<std::string> problems;
};

// A line of the wrong shape or with a bad field is a problem and skipped. A peer line of an
// interface without its own line still makes the device (a dump cut at the top).
DumpRead parse_show_dump(std::string_view text);

}  // namespace podpath::wireguard
