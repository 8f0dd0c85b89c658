// Test tool: prints WireGuard devices in one normalised line per peer, either read live the
// way the exporter reads them (generic netlink, else the UAPI socket in --socket-dir) or
// parsed from a `wg show all dump` file, so wireguard_go_test.sh can compare the two:
//   podpath_wireguard_read --socket-dir DIR DEVICE...
//   podpath_wireguard_read --dump FILE
// Line: device, interface (netlink, uapi, dump), listen port; then per peer: device, public
// key, endpoint, allowed IPs, latest handshake (Unix seconds, 0 = never), rx, tx, keepalive.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "wireguard/dump.h"
#include "wireguard/reader.h"

namespace {

using namespace podpath::wireguard;

void print(const Device& d, std::string_view interface) {
  fmt::print("device\t{}\t{}\t{}\n", d.name, interface, d.listen_port);
  for (const auto& p : d.peers) {
    std::vector<std::string> allowed;
    for (const auto& a : p.allowed_ips) allowed.push_back(a.to_string());
    const long long handshake =
        p.last_handshake
            ? std::chrono::duration_cast<std::chrono::seconds>(p.last_handshake->time_since_epoch())
                  .count()
            : 0;
    fmt::print("peer\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", d.name, p.public_key,
               p.endpoint ? p.endpoint->to_string() : "(none)",
               allowed.empty() ? "(none)" : fmt::format("{}", fmt::join(allowed, ",")), handshake,
               p.rx_bytes, p.tx_bytes, p.persistent_keepalive_seconds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--dump") {
    std::ifstream in(args[1]);
    std::stringstream text;
    text << in.rdbuf();
    DumpRead read = parse_show_dump(text.str());
    for (const auto& p : read.problems) std::cerr << "problem: " << p << "\n";
    for (const auto& d : read.devices) print(d, "dump");
    return read.problems.empty() ? 0 : 1;
  }
  if (args.size() < 3 || args[0] != "--socket-dir") {
    std::cerr << "usage: podpath_wireguard_read --socket-dir DIR DEVICE... | --dump FILE\n";
    return 2;
  }
  auto reader = make_system_reader(args[1], std::chrono::milliseconds(2000));
  int status = 0;
  for (std::size_t i = 2; i < args.size(); ++i) {
    ReadOutcome out = reader->read(args[i]);
    if (out.kind == ReadOutcome::Kind::kAbsent) {
      fmt::print("absent\t{}\n", args[i]);
      continue;
    }
    if (out.kind == ReadOutcome::Kind::kFailed) {
      std::cerr << args[i] << ": " << out.error << "\n";
      status = 1;
      continue;
    }
    for (const auto& p : out.read.problems) std::cerr << args[i] << ": problem: " << p << "\n";
    if (!out.read.problems.empty()) status = 1;
    print(out.read.device, to_string(out.interface));
  }
  return status;
}
