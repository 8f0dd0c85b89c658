// Pure parser of a userspace WireGuard implementation's reply to "get=1" on its UAPI socket
// (<socket dir>/<device>.sock): key=value lines, device keys first, each public_key starting
// a peer, then errno=<n> and an empty line (https://www.wireguard.com/xplatform/; the writer
// is wireguard-go device/uapi.go IpcGetOperation, the reader wg(8)'s
// wireguard-tools src/ipc-uapi.h). Keys are lower-case hex there and base64 here.
#pragma once

#include <string_view>

#include "wireguard/device.h"

namespace podpath::wireguard {

// The device named `name` from `reply`. A line that cannot be read (no '=', a bad number,
// key or address) is a problem and skipped; a peer whose public_key is bad is skipped with
// all its lines. Unknown keys are ignored, as wg(8) does, so a newer implementation's
// additions are no problem. private_key and preshared_key are never kept.
DeviceRead parse_uapi_get(std::string_view reply, std::string_view name);

}  // namespace podpath::wireguard
