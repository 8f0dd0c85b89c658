#include "flannel/module.h"

#include <CLI/CLI.hpp>

#include "base/clock.h"
#include "flannel/collector.h"

namespace podpath::flannel {

FlannelModule::FlannelModule() = default;
FlannelModule::~FlannelModule() = default;

void FlannelModule::add_flags(CLI::App& app) {
  app.add_option("--flannel.subnet-file", subnet_file_,
                 "flannel's subnet.env; a missing file means flannel is not on this node.")
      ->capture_default_str();
}

std::vector<std::shared_ptr<metrics::Collector>> FlannelModule::start(
    module::ModuleContext& context) {
  if (subnet_file_.empty())
    throw module::ConfigError(
        "--flannel.subnet-file must not be empty; the default is /run/flannel/subnet.env "
        "(or disable the collector with --no-collector.flannel)");
  collector_ = std::make_shared<FlannelCollector>(subnet_file_, context.log, base::unix_now);
  return {collector_};
}

std::shared_ptr<const SubnetView> FlannelModule::subnet_view() const {
  return collector_;
}

}  // namespace podpath::flannel
