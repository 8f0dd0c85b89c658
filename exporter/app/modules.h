// The composition root: builds every module the one way (a value of its class), hands each
// the narrow views of the others it reads, registers their flags, starts the enabled ones in
// order and stops them in reverse. Nothing else in the exporter knows the whole set.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/module.h"
#include "base/logger.h"
#include "flannel/module.h"
#include "kubernetes/module.h"
#include "metrics/scraper.h"
#include "model/peer.h"
#include "module/module.h"
#include "netlink/module.h"
#include "prober/module.h"
#include "tailscale/module.h"
#include "wireguard/module.h"

namespace CLI {
class App;
}

namespace podpath::app {

struct StartOptions {
  std::string node_name;
  std::string overlay_device;
  std::chrono::milliseconds first_results_within{10000};
};

class Modules {
 public:
  Modules();
  ~Modules();  // stops what was started
  Modules(const Modules&) = delete;
  Modules& operator=(const Modules&) = delete;

  // --[no-]collector.<name> for every module, then each module's own flags.
  void add_flags(CLI::App& app);
  // Starts the enabled modules in order and adds their collectors to the scraper. Throws
  // module::ConfigError (after stopping what had started) on bad configuration.
  void start(const StartOptions& options, base::Logger& log, model::PeerRegistry& peers,
             metrics::Scraper& scraper);
  void stop();

  // The analysis' report for the doctor and the status page; nullptr when it is off.
  std::shared_ptr<const analysis::Reporter> reporter() const { return analysis_.reporter(); }

 private:
  netlink::NetlinkModule netlink_;
  flannel::FlannelModule flannel_;
  kubernetes::KubernetesModule kubernetes_;
  tailscale::TailscaleModule tailscale_;
  wireguard::WireguardModule wireguard_;
  prober::ProberModule prober_;
  analysis::AnalysisModule analysis_;  // last: it joins what the modules above offer

  std::vector<module::Module*> order_;
  std::map<std::string, bool> enabled_;
  // What tailscaled lists as tailnet addresses: written by the tailscale module, read by the
  // kubernetes collector (public_ip_scope); outlives every module.
  model::TailnetAddresses tailnet_;
  std::deque<module::ModuleContext> contexts_;  // one per started module, outliving it
  std::vector<module::Module*> started_;
};

}  // namespace podpath::app
