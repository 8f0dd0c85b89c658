#include "tailscale/module.h"

#include <fmt/format.h>
#include <sys/un.h>

#include <CLI/CLI.hpp>

#include "tailscale/collector.h"
#include "tailscale/localapi.h"

namespace podpath::tailscale {

TailscaleModule::TailscaleModule() : store_(std::make_shared<SnapshotStore>()) {}

TailscaleModule::~TailscaleModule() {
  stop();
}

void TailscaleModule::add_flags(CLI::App& app) {
  app.add_option("--tailscale.socket", socket_path_,
                 "tailscaled's LocalAPI Unix socket. When it does not exist the collector "
                 "reports nothing (Tailscale not on this node) and keeps checking.")
      ->capture_default_str();
  app.add_option("--tailscale.timeout", timeout_seconds_,
                 "Seconds one LocalAPI request may take before the poll counts as failed.")
      ->capture_default_str();
  app.add_option("--tailscale.interval", interval_seconds_,
                 "Seconds between LocalAPI polls; keep it well under the scrape interval so a "
                 "switch between direct and DERP shows at the next scrape.")
      ->capture_default_str();
}

std::vector<std::shared_ptr<metrics::Collector>> TailscaleModule::start(
    module::ModuleContext& context) {
  if (socket_path_.empty())
    throw module::ConfigError(
        "--tailscale.socket is empty; give tailscaled's socket, e.g. "
        "/var/run/tailscale/tailscaled.sock, or pass --no-collector.tailscale");
  if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path))
    throw module::ConfigError(fmt::format(
        "--tailscale.socket \"{}\" is {} bytes; a Unix socket path must be shorter than {}",
        socket_path_, socket_path_.size(), sizeof(sockaddr_un{}.sun_path)));
  if (!(interval_seconds_ >= 0.1 && interval_seconds_ <= 3600))
    throw module::ConfigError(fmt::format(
        "--tailscale.interval {} is out of range; give seconds between 0.1 and 3600, e.g. 5",
        interval_seconds_));
  if (!(timeout_seconds_ >= 0.01 && timeout_seconds_ <= interval_seconds_))
    throw module::ConfigError(
        fmt::format("--tailscale.timeout {} must be between 0.01 and --tailscale.interval ({}) "
                    "seconds, e.g. 2",
                    timeout_seconds_, interval_seconds_));
  auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  };
  poller_ = std::make_unique<Poller>(make_curl_localapi(socket_path_, ms(timeout_seconds_)),
                                     context.peers, store_, context.log,
                                     PollerOptions{socket_path_, ms(interval_seconds_)},
                                     [] { return std::chrono::system_clock::now(); });
  poller_->start();
  context.services.provide<View>(store_);
  return {std::make_shared<TailscaleCollector>(store_)};
}

void TailscaleModule::stop() {
  if (poller_) poller_->stop();
}

}  // namespace podpath::tailscale
