// The one place that lists podpath's modules. Each source of truth adds one line here.
#include "analysis/module.h"
#include "app/modules.h"
#include "flannel/module.h"
#include "kubernetes/module.h"
#include "netlink/module.h"
#include "prober/module.h"
#include "tailscale/module.h"

namespace podpath::app {

std::vector<std::unique_ptr<module::Module>> all_modules() {
  std::vector<std::unique_ptr<module::Module>> modules;
  modules.push_back(netlink::make_module());
  modules.push_back(flannel::make_module());
  modules.push_back(std::make_unique<kubernetes::KubernetesModule>());
  modules.push_back(std::make_unique<tailscale::TailscaleModule>());
  modules.push_back(prober::make_prober_module());
  // Last: it joins what the modules above provide.
  modules.push_back(analysis::make_module());
  return modules;
}

}  // namespace podpath::app
