// Reading one WireGuard device: the I/O half, behind a small interface the collector's tests
// replace. The system reader asks the kernel's generic netlink family "wireguard" first
// (libnl-genl-3 resolves it and carries the dump; genl.h parses the bytes); where that family
// does not exist (no kernel module) or does not know the device, it asks a userspace
// implementation on its UAPI socket <socket dir>/<device>.sock (uapi.h parses the reply).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "wireguard/device.h"
#include "wireguard/snapshot.h"

namespace podpath::wireguard {

struct ReadOutcome {
  enum class Kind : std::uint8_t {
    kAbsent,  // no such WireGuard device here (neither interface knows it)
    kRead,
    kFailed,  // an interface knows it and could not be read: `error` says why
  };
  Kind kind = Kind::kAbsent;
  Interface interface = Interface::kNetlink;
  DeviceRead read;
  std::string error;
};

class DeviceReader {
 public:
  virtual ~DeviceReader() = default;
  virtual ReadOutcome read(const std::string& device) = 0;
};

// `socket_dir` is wireguard-go's /var/run/wireguard unless it was built otherwise (its
// ipc/uapi_unix.go socketDirectory); `timeout` bounds each exchange.
std::unique_ptr<DeviceReader> make_system_reader(std::string socket_dir,
                                                 std::chrono::milliseconds timeout);

// The UAPI exchange alone, for tests against a real wireguard-go: the reply's text to
// "get=1", or why not. Absent socket: kind kAbsent.
ReadOutcome read_uapi(const std::string& socket_path, const std::string& device,
                      std::chrono::milliseconds timeout);

}  // namespace podpath::wireguard
