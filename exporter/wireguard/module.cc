#include "wireguard/module.h"

#include <fmt/format.h>
#include <net/if.h>
#include <sys/un.h>

#include <CLI/CLI.hpp>

#include "module/flags.h"

namespace podpath::wireguard {

void WireguardModule::add_flags(CLI::App& app) {
  app.add_option("--wireguard.devices", devices_,
                 "WireGuard devices to read, comma-separated. A device that does not exist is "
                 "skipped (a node of another backend exports nothing).")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--wireguard.socket-dir", socket_dir_,
                 "Where a userspace WireGuard daemon (wireguard-go) keeps its UAPI sockets, "
                 "<dir>/<device>.sock; read when the kernel has no WireGuard module or does not "
                 "know the device.")
      ->capture_default_str();
  module::add_duration_flag(app, "--wireguard.timeout", timeout_,
                            "How long reading one device (a netlink dump or a UAPI get) may take "
                            "before the scrape counts it as failed.",
                            {std::chrono::milliseconds(10), std::chrono::seconds(10)});
}

std::vector<std::shared_ptr<metrics::Collector>> WireguardModule::start(
    module::ModuleContext& context) {
  if (devices_.empty())
    throw module::ConfigError(
        "--wireguard.devices is empty; name flannel's devices (flannel-wg,flannel-wg-v6) or pass "
        "--no-collector.wireguard");
  for (const auto& device : devices_)
    if (device.empty() || device.size() >= IFNAMSIZ || device.find('/') != std::string::npos)
      throw module::ConfigError(fmt::format(
          "--wireguard.devices: \"{}\" is not a network device name (1 to {} characters, no "
          "'/')",
          device, IFNAMSIZ - 1));
  if (socket_dir_.empty())
    throw module::ConfigError(
        "--wireguard.socket-dir is empty; give wireguard-go's socket directory, e.g. "
        "/var/run/wireguard");
  for (const auto& device : devices_)
    if (socket_dir_.size() + device.size() + 6 >= sizeof(sockaddr_un{}.sun_path))
      throw module::ConfigError(fmt::format(
          "--wireguard.socket-dir \"{}\" is too long: {}/{}.sock must be shorter than {} bytes",
          socket_dir_, socket_dir_, device, sizeof(sockaddr_un{}.sun_path)));
  collector_ = std::make_shared<WireguardCollector>(
      make_system_reader(socket_dir_,
                         std::chrono::duration_cast<std::chrono::milliseconds>(timeout_)),
      devices_, context.peers, context.log, [] { return std::chrono::system_clock::now(); });
  return {collector_};
}

}  // namespace podpath::wireguard
