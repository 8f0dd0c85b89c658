// A source of truth plugged into the exporter: it adds its flags, and at start-up turns
// them into collectors (and any background work). The composition root (app/modules.cc)
// builds every module the same way, hands each the narrow views of the others it reads, and
// starts them in order.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/logger.h"
#include "metrics/collector.h"
#include "model/peer.h"
#include "model/tailnet.h"

namespace CLI {
class App;
}

namespace podpath::module {

// Bad start-up configuration: the message names the flag and the fix; main exits 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModuleContext {
  std::string node_name;
  // Every line it writes carries collector=<the module's name>.
  base::Logger log;
  model::PeerRegistry& peers;
  // flannel's overlay device (--flannel.overlay-device): its MTU is what pods are told, its
  // MAC and address are this node's VTEP.
  std::string overlay_device = "flannel.1";
  // How soon the first result of slow periodic work (path MTU searches, exposure checks)
  // is wanted: the exporter spreads it over 10 s; the doctor, over its short burst.
  std::chrono::milliseconds first_results_within{10000};
  // The addresses this node's tailscaled lists (the tailscale module publishes them); never
  // null under app::Modules, null in tests that do not need it.
  model::TailnetAddresses* tailnet = nullptr;
};

class Module {
 public:
  virtual ~Module() = default;
  // The collector name: --collector.<name> / --no-collector.<name>.
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual bool enabled_by_default() const { return true; }
  // Adds module-specific flags (prefixed with the module's name, e.g. --flannel.subnet-file).
  virtual void add_flags(CLI::App& app) = 0;
  // Validates flags and starts background work; throws ConfigError on bad configuration.
  // Called only when the module is enabled. The context outlives the module.
  virtual std::vector<std::shared_ptr<metrics::Collector>> start(ModuleContext& context) = 0;
  // Stops background work and joins its threads.
  virtual void stop() {}
};

}  // namespace podpath::module
