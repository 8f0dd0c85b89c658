// The wireguard module: flannel's wireguard backend (k3s --flannel-backend=wireguard-native)
// read from its devices, flannel-wg and flannel-wg-v6 (flannel pkg/backend/wireguard): each
// WireGuard peer's endpoint, allowed IPs, latest handshake and transfer, mapped onto the
// cluster's peers.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "module/module.h"
#include "wireguard/collector.h"
#include "wireguard/view.h"

namespace podpath::wireguard {

class WireguardModule final : public module::Module {
 public:
  std::string name() const override { return "wireguard"; }
  std::string description() const override {
    return "flannel's WireGuard devices (wireguard backend): handshakes and transfer per peer, "
           "read over generic netlink or a userspace daemon's UAPI socket";
  }
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;

  // The latest read, for the path analysis; nullptr until started (and when disabled).
  std::shared_ptr<const View> view() const { return collector_; }

 private:
  // flannel's names (pkg/backend/wireguard/wireguard.go): flannel-wg for IPv4 (and for both
  // families in its auto/ipv4/ipv6 modes), flannel-wg-v6 for IPv6 in the default separate mode.
  std::vector<std::string> devices_{"flannel-wg", "flannel-wg-v6"};
  // wireguard-go's socket directory (ipc/uapi_unix.go socketDirectory); wg(8) looks there too.
  std::string socket_dir_ = "/var/run/wireguard";
  std::chrono::nanoseconds timeout_ = std::chrono::seconds(1);
  std::shared_ptr<WireguardCollector> collector_;
};

}  // namespace podpath::wireguard
