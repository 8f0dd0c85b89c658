#include "tailscale/module.h"

#include <fmt/format.h>
#include <sys/un.h>

#include <CLI/CLI.hpp>

#include "module/flags.h"
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
  module::add_duration_flag(
      app, "--tailscale.timeout", timeout_,
      "How long one LocalAPI request may take before the poll counts as failed (at most "
      "--tailscale.interval).",
      {std::chrono::milliseconds(10), std::chrono::hours(1)});
  module::add_duration_flag(app, "--tailscale.interval", interval_,
                            "Time between LocalAPI polls; keep it well under the scrape interval "
                            "so a switch between direct and DERP shows at the next scrape.",
                            {std::chrono::milliseconds(100), std::chrono::hours(1)});
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
  if (timeout_ > interval_)
    throw module::ConfigError(fmt::format(
        "--tailscale.timeout {} must not be longer than --tailscale.interval {}, e.g. 2s and 5s",
        module::format_duration(timeout_), module::format_duration(interval_)));
  auto ms = [](std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
  };
  store_->set_tailnet_sink(context.tailnet);
  poller_ = std::make_unique<Poller>(
      make_curl_localapi(socket_path_, ms(timeout_)), context.peers, store_, context.log,
      PollerOptions{socket_path_, ms(interval_)}, [] { return std::chrono::system_clock::now(); });
  poller_->start();
  return {std::make_shared<TailscaleCollector>(store_)};
}

void TailscaleModule::stop() {
  if (poller_) poller_->stop();
}

}  // namespace podpath::tailscale
