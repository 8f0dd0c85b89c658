#include "flannel/module.h"

#include <CLI/CLI.hpp>
#include <chrono>

#include "base/clock.h"
#include "flannel/collector.h"

namespace podpath::flannel {

namespace {

class FlannelModule final : public module::Module {
 public:
  std::string name() const override { return "flannel"; }
  std::string description() const override { return "flannel's subnet.env (network, lease, MTU)"; }

  void add_flags(CLI::App& app) override {
    app.add_option("--flannel.subnet-file", subnet_file_,
                   "flannel's subnet.env; a missing file means flannel is not on this node.")
        ->capture_default_str();
  }

  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override {
    if (subnet_file_.empty())
      throw module::ConfigError(
          "--flannel.subnet-file must not be empty; the default is /run/flannel/subnet.env "
          "(or disable the collector with --no-collector.flannel)");
    auto now = base::unix_now;
    auto collector = std::make_shared<FlannelCollector>(subnet_file_, context.log, now);
    context.services.provide<SubnetView>(collector);
    return {collector};
  }

 private:
  std::string subnet_file_ = "/run/flannel/subnet.env";
};

}  // namespace

std::unique_ptr<module::Module> make_module() {
  return std::make_unique<FlannelModule>();
}

}  // namespace podpath::flannel
