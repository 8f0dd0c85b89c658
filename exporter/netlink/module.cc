#include "netlink/module.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "base/clock.h"
#include "netlink/collector.h"

namespace podpath::netlink {

namespace {

std::optional<std::regex> compile(const char* flag, const std::string& pattern) {
  if (pattern.empty()) return std::nullopt;
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw module::ConfigError(fmt::format(
        "{} \"{}\" is not a valid regular expression ({}); fix the pattern or leave it empty", flag,
        pattern, e.what()));
  }
}

}  // namespace

NetlinkModule::NetlinkModule() : exclude_(kDefaultDeviceExclude) {}
NetlinkModule::~NetlinkModule() = default;

std::string NetlinkModule::description() const {
  return "links, vxlan attributes, flannel's kernel peers and route lookups via rtnetlink";
}

std::shared_ptr<const KernelView> NetlinkModule::kernel_view() const {
  return collector_;
}

void NetlinkModule::add_flags(CLI::App& app) {
  app.add_option("--netlink.device-include", include_,
                 "Regex of devices to report (searched in the name; empty: all).")
      ->capture_default_str();
  app.add_option("--netlink.device-exclude", exclude_,
                 "Regex of devices not to report (searched in the name; empty: none).")
      ->capture_default_str();
  app.add_option("--netlink.flannel-devices", flannel_devices_,
                 "Regex (whole name) of the vxlan devices whose onlink routes, permanent "
                 "neighbours and FDB entries make flannel's peers.")
      ->capture_default_str();
}

std::vector<std::shared_ptr<metrics::Collector>> NetlinkModule::start(
    module::ModuleContext& context) {
  CollectorOptions options;
  options.devices.include = compile("--netlink.device-include", include_);
  options.devices.exclude = compile("--netlink.device-exclude", exclude_);
  auto flannel = compile("--netlink.flannel-devices", flannel_devices_);
  if (!flannel)
    throw module::ConfigError(
        "--netlink.flannel-devices must not be empty; the default is flannel(-v6)?\\.[0-9]+");
  options.flannel_devices = *flannel;
  collector_ =
      std::make_shared<NetlinkCollector>(std::make_shared<NetlinkSource>(), std::move(options),
                                         context.peers, context.log, base::unix_now);
  return {collector_};
}

}  // namespace podpath::netlink
