#include "netlink/module.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "base/clock.h"
#include "netlink/collector.h"

namespace podpath::netlink {

namespace {

class NetlinkModule final : public module::Module {
 public:
  std::string name() const override { return "netlink"; }
  std::string description() const override {
    return "links, vxlan attributes, flannel's kernel peers and route lookups via rtnetlink";
  }

  void add_flags(CLI::App& app) override {
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

  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override {
    CollectorOptions options;
    options.devices.include = compile("--netlink.device-include", include_);
    options.devices.exclude = compile("--netlink.device-exclude", exclude_);
    auto flannel = compile("--netlink.flannel-devices", flannel_devices_);
    if (!flannel)
      throw module::ConfigError(
          "--netlink.flannel-devices must not be empty; the default is flannel\\.[0-9]+");
    options.flannel_devices = *flannel;
    auto now = base::unix_now;
    auto collector = std::make_shared<NetlinkCollector>(
        std::make_shared<NetlinkSource>(), std::move(options), context.peers, context.log, now);
    context.services.provide<KernelView>(collector);
    return {collector};
  }

 private:
  static std::optional<std::regex> compile(const char* flag, const std::string& pattern) {
    if (pattern.empty()) return std::nullopt;
    try {
      return std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw module::ConfigError(fmt::format(
          "{} \"{}\" is not a valid regular expression ({}); fix the pattern or leave it empty",
          flag, pattern, e.what()));
    }
  }

  std::string include_;
  std::string exclude_ = kDefaultDeviceExclude;
  std::string flannel_devices_ = "flannel\\.[0-9]+";
};

}  // namespace

std::unique_ptr<module::Module> make_module() {
  return std::make_unique<NetlinkModule>();
}

}  // namespace podpath::netlink
