// Module "flannel": flannel's own files on this node.
#pragma once

#include <memory>
#include <string>

#include "flannel/view.h"
#include "module/module.h"

namespace podpath::flannel {

class FlannelCollector;

class FlannelModule final : public module::Module {
 public:
  FlannelModule();
  ~FlannelModule() override;

  std::string name() const override { return "flannel"; }
  std::string description() const override { return "flannel's subnet.env (network, lease, MTU)"; }
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;

  // nullptr until started (and when the collector is disabled).
  std::shared_ptr<const SubnetView> subnet_view() const;

 private:
  std::string subnet_file_ = "/run/flannel/subnet.env";
  std::shared_ptr<FlannelCollector> collector_;
};

}  // namespace podpath::flannel
