// A source of truth plugged into the exporter: it adds its flags, and at start-up turns
// them into collectors (and any background work). main() only wires modules together.
#pragma once

#include <any>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include "base/logger.h"
#include "metrics/collector.h"
#include "model/peer.h"

namespace CLI {
class App;
}

namespace podpath::module {

// Bad start-up configuration: the message names the flag and the fix; main exits 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What modules offer each other, by type: a source publishes the small interface others
// read (the kernel snapshot, the Tailscale view, the probe results), and the analysis,
// started last, finds them. A module that is disabled provides nothing, and find()
// returns nullptr, which its readers treat as "not applicable".
class Services {
 public:
  template <class T>
  void provide(std::shared_ptr<T> service) {
    services_[std::type_index(typeid(T))] = std::move(service);
  }
  template <class T>
  std::shared_ptr<T> find() const {
    auto it = services_.find(std::type_index(typeid(T)));
    if (it == services_.end()) return nullptr;
    return std::any_cast<std::shared_ptr<T>>(it->second);
  }

 private:
  std::map<std::type_index, std::any> services_;
};

struct ModuleContext {
  std::string node_name;
  base::Logger& log;
  model::PeerRegistry& peers;
  Services services;
  // How soon the first result of slow periodic work (path MTU searches, exposure checks)
  // is wanted: the exporter spreads it over 10 s; the doctor, over its short burst.
  std::chrono::milliseconds first_results_within{10000};
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
  // Called only when the module is enabled.
  virtual std::vector<std::shared_ptr<metrics::Collector>> start(ModuleContext& context) = 0;
  // Stops background work and joins its threads.
  virtual void stop() {}
};

}  // namespace podpath::module
