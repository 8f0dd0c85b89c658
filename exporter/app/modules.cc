#include "app/modules.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

namespace podpath::app {

Modules::Modules()
    : analysis_(analysis::Sources{
          [this] { return netlink_.kernel_view(); },
          [this] { return flannel_.subnet_view(); },
          [this] { return tailscale_.view(); },
          [this] { return wireguard_.view(); },
          [this] { return prober_.results(); },
      }),
      order_{&netlink_, &flannel_, &kubernetes_, &tailscale_, &wireguard_, &prober_, &analysis_} {}

Modules::~Modules() {
  stop();
}

void Modules::add_flags(CLI::App& app) {
  for (module::Module* module : order_) {
    bool& on = enabled_[module->name()] = module->enabled_by_default();
    app.add_flag(fmt::format("--collector.{0},!--no-collector.{0}", module->name()), on,
                 fmt::format("Enable the {} collector: {} (default: {}).", module->name(),
                             module->description(), on ? "on" : "off"));
    module->add_flags(app);
  }
}

void Modules::start(const StartOptions& options, base::Logger& log, model::PeerRegistry& peers,
                    metrics::Scraper& scraper) {
  for (module::Module* module : order_) {
    if (!enabled_[module->name()]) {
      log.info("collector disabled", {{"collector", module->name()}});
      continue;
    }
    module::ModuleContext& context = contexts_.emplace_back(
        module::ModuleContext{options.node_name, log.with({{"collector", module->name()}}), peers,
                              options.overlay_device, options.first_results_within, &tailnet_});
    try {
      for (auto& collector : module->start(context)) scraper.add(std::move(collector));
    } catch (const module::ConfigError&) {
      stop();
      throw;
    }
    started_.push_back(module);
  }
}

void Modules::stop() {
  for (auto it = started_.rbegin(); it != started_.rend(); ++it) (*it)->stop();
  started_.clear();
}

}  // namespace podpath::app
